// ajv's side of the validation benchmark: JSON.parse + validate per message, for the same
// schemas and messages as the Rust side (bench/data). Prints `NAME ns-per-message` lines
// (median of ROUNDS rounds).
"use strict";
const fs = require("fs");
const path = require("path");
const Ajv = require("ajv");

const data = path.join(__dirname, "..", "data");
const rounds = Number(process.env.ROUNDS || 7);
for (const name of ["small", "medium", "large"]) {
  const schema = JSON.parse(fs.readFileSync(path.join(data, `${name}.schema.json`), "utf8"));
  const text = fs.readFileSync(path.join(data, `${name}.message.json`), "utf8");
  const validate = new Ajv({ allErrors: false }).compile(schema);
  if (!validate(JSON.parse(text))) throw new Error(`${name}: ${JSON.stringify(validate.errors)}`);
  // About 50 ms of work per round.
  let iterations = 1;
  for (;;) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) if (!validate(JSON.parse(text))) throw new Error("invalid");
    const elapsed = Number(process.hrtime.bigint() - start);
    if (elapsed > 50e6) break;
    iterations *= 2;
  }
  const samples = [];
  for (let r = 0; r < rounds; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) if (!validate(JSON.parse(text))) throw new Error("invalid");
    samples.push(Number(process.hrtime.bigint() - start) / iterations);
  }
  samples.sort((a, b) => a - b);
  console.log(`${name} ${samples[Math.floor(samples.length / 2)].toFixed(1)}`);
}
