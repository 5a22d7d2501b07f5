// The Lambda Runtime API client `asyncapi-rs local` runs Node.js functions with: what AWS's
// `aws-lambda-ric` does for `nodejs20.x` and later, in one file with no dependencies (the npm
// package builds a native library at install). It loads `_HANDLER` from `LAMBDA_TASK_ROOT` as
// Lambda does (CommonJS or an ES module: `.js`, `.mjs`, `.cjs`; `async (event, context)` or
// `(event, context, callback)`), then asks for events over the Runtime API and posts each
// outcome: the response as JSON, or the error as Lambda reports one. A handler that cannot be
// loaded is reported as an init error, and the process exits.
//
// Lambda's runtime bundles the AWS SDK for JavaScript v3: the folders of `NODE_PATH` stand for
// it, for CommonJS (`require`) and ES modules (`import`) alike.

import http from "node:http";
import fs from "node:fs";
import path from "node:path";
import { register } from "node:module";
import { pathToFileURL } from "node:url";

const api = process.env.AWS_LAMBDA_RUNTIME_API;
const root = process.env.LAMBDA_TASK_ROOT ?? process.cwd();
const handlerName = process.env._HANDLER ?? "";

// Bare imports an ES module cannot find from its own folder are looked up in `NODE_PATH`, as
// `require` does.
const searchPath = (process.env.NODE_PATH ?? "").split(path.delimiter).filter(Boolean);
if (searchPath.length > 0) {
  const hooks = `
    import path from "node:path";
    import { pathToFileURL } from "node:url";
    const dirs = ${JSON.stringify(searchPath)};
    export async function resolve(specifier, context, next) {
      try {
        return await next(specifier, context);
      } catch (error) {
        const bare = !/^(\\.|\\/|[a-z]+:)/i.test(specifier);
        if (!bare || error?.code !== "ERR_MODULE_NOT_FOUND") throw error;
        for (const dir of dirs) {
          const parentURL = pathToFileURL(path.join(dir, "__lambda_runtime__.mjs")).href;
          try {
            return await next(specifier, { ...context, parentURL });
          } catch {}
        }
        throw error;
      }
    }`;
  register(`data:text/javascript,${encodeURIComponent(hooks)}`);
}

// One connection to the Runtime API, kept open between requests.
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function call(method, route, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const request = http.request(
      `http://${api}/2018-06-01/runtime/${route}`,
      { method, agent, headers: { "content-type": "application/json", ...headers } },
      (response) => {
        const chunks = [];
        response.on("data", (chunk) => chunks.push(chunk));
        response.on("end", () =>
          resolve({ status: response.statusCode, headers: response.headers, body: Buffer.concat(chunks).toString() }),
        );
        response.on("error", reject);
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}

function errorOf(error) {
  const value = error instanceof Error ? error : new Error(String(error));
  return JSON.stringify({
    errorType: value.name ?? "Error",
    errorMessage: value.message ?? String(error),
    trace: (value.stack ?? "").split("\n"),
  });
}

async function loadHandler() {
  const dot = handlerName.lastIndexOf(".");
  if (dot <= 0) throw Object.assign(new Error(`Bad handler ${handlerName}`), { name: "Runtime.MalformedHandlerName" });
  const modulePath = path.resolve(root, handlerName.slice(0, dot));
  const name = handlerName.slice(dot + 1);
  const file = ["", ".js", ".mjs", ".cjs"].map((ext) => modulePath + ext).find((f) => fs.existsSync(f) && fs.statSync(f).isFile());
  if (!file) throw Object.assign(new Error(`Cannot find module '${modulePath}'`), { name: "Runtime.ImportModuleError" });
  const loaded = await import(pathToFileURL(file).href);
  const handler = loaded[name] ?? loaded.default?.[name];
  if (typeof handler !== "function") {
    throw Object.assign(new Error(`${handlerName} is undefined or not exported`), { name: "Runtime.HandlerNotFound" });
  }
  return handler;
}

function context(headers) {
  const deadline = Number(headers["lambda-runtime-deadline-ms"]);
  return {
    awsRequestId: headers["lambda-runtime-aws-request-id"],
    invokedFunctionArn: headers["lambda-runtime-invoked-function-arn"],
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
}

function invoke(handler, event, ctx) {
  return new Promise((resolve, reject) => {
    const callback = (error, result) => (error ? reject(error) : resolve(result));
    Object.assign(ctx, { done: callback, succeed: (r) => resolve(r), fail: (e) => reject(e) });
    try {
      const returned = handler(event, ctx, callback);
      if (returned && typeof returned.then === "function") returned.then(resolve, reject);
      else if (handler.length < 3) resolve(returned);
    } catch (error) {
      reject(error);
    }
  });
}

let handler;
try {
  handler = await loadHandler();
} catch (error) {
  await call("POST", "init/error", errorOf(error), { "lambda-runtime-function-error-type": error.name ?? "Runtime.Unknown" });
  process.exit(1);
}

for (;;) {
  const next = await call("GET", "invocation/next");
  const id = next.headers["lambda-runtime-aws-request-id"];
  try {
    const result = await invoke(handler, JSON.parse(next.body), context(next.headers));
    await call("POST", `invocation/${id}/response`, JSON.stringify(result ?? null));
  } catch (error) {
    await call("POST", `invocation/${id}/error`, errorOf(error), { "lambda-runtime-function-error-type": "Unhandled" });
  }
}
