"""Runs the peer benchmarks side by side and prints one Markdown table (see bench/run)."""

import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE = ROOT / "bench" / "node"
ROUNDS = int(os.environ.get("ROUNDS", "5"))
CORPUS = ROOT / "tests" / "corpus"


def target_dir():
    """Where cargo puts its builds, as cargo itself says (CARGO_TARGET_DIR, `build.target-dir`
    in a config file, or `target/`)."""
    done = subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--no-deps", "--locked"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )
    return Path(json.loads(done.stdout)["target_directory"])


TARGET = target_dir()
DOCUMENTS = [
    ("small", ROOT / "examples/chat/asyncapi.yaml"),
    ("medium", CORPUS / "real-world/printnanny/printnanny-os.yml"),
    ("large (ZBOS)", CORPUS / "parser-js/v1/test/good/zbos_mqtt-all-asyncapi.json"),
]


def timed(command, cwd=ROOT):
    """Wall seconds (perf_counter around the process; GNU time's 10 ms ticks are too coarse),
    peak RSS in MiB (GNU time's %M) and exit status of one whole process."""
    with tempfile.NamedTemporaryFile("r") as out:
        started = time.perf_counter()
        done = subprocess.run(
            ["/usr/bin/time", "-o", out.name, "-f", "%M"] + command,
            cwd=cwd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        wall = time.perf_counter() - started
        kib = out.read().split()[-1]
    return wall, int(kib) / 1024, done.returncode, done.stderr.strip().splitlines()


def generation(language):
    """Both generators, whole process, on each document: `rust` (the module tree; Modelina's Rust
    models) or `typescript` (the client; Modelina's TypeScript models)."""
    rows = []
    ours = TARGET / "release/asyncapi-rs"
    if not ours.is_file():
        sys.exit(f"bench/run.py: {ours} is missing; build it with `cargo build --release -p asyncapi-cli`")
    modelina = NODE / "node_modules/.bin/modelina"
    flag = {"rust": "-o", "typescript": "--typescript"}[language]
    for name, doc in DOCUMENTS:
        samples = {"asyncapi-rs": [], "modelina": []}
        status = {}
        with tempfile.TemporaryDirectory() as tmp:
            for _ in range(ROUNDS):
                for tool, command in [
                    ("asyncapi-rs", [str(ours), "generate", str(doc), flag, f"{tmp}/ours", "--force"]),
                    ("modelina", [str(modelina), "generate", language, str(doc), "-o", f"{tmp}/modelina"]),
                ]:
                    wall, mib, code, err = timed(command)
                    samples[tool].append((wall, mib))
                    status[tool] = "ok" if code == 0 else f"exit {code}: {err[-1] if err else ''}"
        med = {t: (statistics.median(w for w, _ in s), statistics.median(m for _, m in s)) for t, s in samples.items()}
        rows.append((name, doc.stat().st_size, med, status))
    return rows


def generation_table(rows):
    print("| document | size | asyncapi-rs | Modelina | ratio (Modelina / asyncapi-rs) | peak memory asyncapi-rs / Modelina |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, size, med, status in rows:
        (ow, om), (mw, mm) = med["asyncapi-rs"], med["modelina"]
        ours_note = "" if status["asyncapi-rs"] == "ok" else f" ({status['asyncapi-rs']})"
        note = "" if status["modelina"] == "ok" else f" ({status['modelina']})"
        # A run that failed is not a time to compare: no ratio for it.
        both_ok = status["asyncapi-rs"] == "ok" and status["modelina"] == "ok"
        ratio = f"{mw/ow:.1f}×" if both_ok else "–"
        print(f"| {name} | {size/1024:.0f} KiB | {ow*1000:.0f} ms{ours_note} | {mw*1000:.0f} ms{note} | {ratio} | {om:.0f} / {mm:.0f} MiB |")


def cargo_bench(bench, *args):
    done = subprocess.run(
        ["cargo", "bench", "--locked", "-q", "-p", "ws-runtime", "--bench", bench, "--", *args],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )
    return done.stdout


def runtime(workers=1):
    out = {}
    for connections, messages in [(100, 200), (1000, 50)]:
        # Compression is measured once, on one worker at 100 connections.
        extra = ["--compression"] if workers == 1 and connections == 100 else []
        text = cargo_bench("throughput", "--node", str(NODE), "--idle", "0", "--rounds", str(min(ROUNDS, 3)),
                           "--connections", str(connections), "--messages", str(messages),
                           "--workers", str(workers), *extra)
        out[connections] = parse_throughput(text)
        if extra:
            COMPRESSION.extend(parse_compression(text))
    if workers > 1:
        return out, {}
    idle = cargo_bench("throughput", "--node", str(NODE), "--idle", "10000", "--rounds", "1",
                       "--connections", "10", "--messages", "10")
    memory = {m.group(1): float(m.group(2)) for m in re.finditer(r"^(\S+)\s+resident memory per idle connection: ([\d.]+) KiB", idle, re.M)}
    return out, memory


def scale():
    """Idle memory and one broadcast at 100,000 connections, or as many as this process's open
    files limit allows (the server needs one per connection; `ulimit -n` raises it)."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    connections = min(100_000, (soft - 64) // 100 * 100)
    text = cargo_bench("scale", "--connections", str(connections))
    print(f"Connections: {connections:,} (open files limit {soft:,}).\n")
    for line in text.splitlines()[1:]:
        print(f"- {line}")


COMPRESSION = []


def parse_compression(text):
    rows = []
    for line in text.splitlines():
        m = re.match(r"^(ws-runtime, deflate \w+)\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)$", line)
        if m:
            rows.append((m.group(1), int(m.group(2)), float(m.group(3)), float(m.group(4)), float(m.group(5))))
    return rows


def compression_table():
    print("| ws-runtime, 100 connections, a client offering permessage-deflate | messages/s | server CPU per message | bytes per reply on the wire | memory per connection after its messages |")
    print("|---|---:|---:|---:|---:|")
    for name, rate, cpu, size, kib in COMPRESSION:
        print(f"| {name} | {rate:,} | {cpu:.2f} µs | {size:.1f} | {kib:.1f} KiB |")
    if len(COMPRESSION) == 2:
        (_, r0, c0, b0, _), (_, r1, c1, b1, _) = COMPRESSION
        print(f"| **deflate / none** | **{r0/r1:.2f}×** | **{c0/c1:.2f}×** | **{b1/b0:.2f}× fewer** | |")


def parse_throughput(text):
    rows = {}
    for line in text.splitlines():
        m = re.match(r"^\((\w)\) .*?\s+(\d+)\s+([\d.]+)ms\s+([\d.]+)ms$", line)
        if m:
            rows[m.group(1)] = (int(m.group(2)), float(m.group(3)), float(m.group(4)))
    return rows


def validation():
    ours = dict(line.split() for line in cargo_bench("validate").split("\n") if line.strip())
    theirs = dict(
        line.split()
        for line in subprocess.run(["node", str(NODE / "validate.js")], capture_output=True, text=True, check=True).stdout.split("\n")
        if line.strip()
    )
    names = ["small", "medium", "large"]
    sizes = {n: (ROOT / f"bench/data/{n}.message.json").stat().st_size for n in names}
    return [(n, sizes[n], float(ours[n]), float(ours[f"{n}/compiled"]), float(theirs[n])) for n in names]


def validation_table(rows=None):
    print("| payload | size | ws-runtime, jsonschema (handwritten and derived types) | ws-runtime, compiled check (generated types) | ajv (JSON.parse + validate) | ratio (ajv time / compiled) |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, size, ours, compiled, theirs in rows if rows is not None else validation():
        print(f"| {name} | {size:,} B | {ours/1000:.2f} µs | {compiled/1000:.2f} µs | {theirs/1000:.2f} µs | {theirs/compiled:.2f}× |")


def versions():
    lock = json.loads((NODE / "package-lock.json").read_text())["packages"]
    pick = lambda p: lock.get(f"node_modules/{p}", {}).get("version", "?")
    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
    return f"{rustc}; Node.js {node}; @asyncapi/modelina-cli {pick('@asyncapi/modelina-cli')}, ws {pick('ws')}, ajv {pick('ajv')}"


def runtime_table(run):
    print("| connections | server | messages/s | p50 | p99 |")
    print("|---:|---|---:|---:|---:|")
    names = {"a": "bare echo, axum ws (tungstenite)", "b": "ws-runtime routed + validated + typed", "c": "bare echo, tokio-websockets",
             "d": "Node.js ws + ajv, routed", "f": "bare echo, yawc (ws-runtime's socket)", "g": "bare echo, fastwebsockets"}
    for connections, rows in run.items():
        for key in "bdfacg":
            if key in rows:
                rate, p50, p99 = rows[key]
                print(f"| {connections} | {names[key]} | {rate:,} | {p50:.2f} ms | {p99:.2f} ms |")
        # A server that failed has no row, and no ratio.
        if "b" in rows and "d" in rows:
            print(f"| {connections} | **ws-runtime / Node** | **{rows['b'][0]/rows['d'][0]:.2f}×** | | |")
        if "b" in rows and "f" in rows:
            print(f"| {connections} | **ws-runtime / bare yawc echo** | **{rows['b'][0]/rows['f'][0]:.2f}** | | |")
        if "b" in rows and fastest_bare(rows):
            print(f"| {connections} | **ws-runtime / fastest bare echo** | **{rows['b'][0]/fastest_bare(rows):.2f}** | | |")


def fastest_bare(rows):
    bare = [rows[k][0] for k in "acfg" if k in rows]
    return max(bare) if bare else None


def targets_table(rust_generation, one, two, memory, validation_rows):
    """Every target of issue 42 with its figure, from this run."""
    def row(what, figure, target, met):
        print(f"| {what} | {figure} | {target} | {'yes' if met else '**no**'} |")

    print("| target | this run | wanted | met |")
    print("|---|---:|---:|---|")
    for workers, run in [(1, one), (2, two)]:
        for connections, rows in run.items():
            fastest = fastest_bare(rows)
            if "b" in rows and fastest:
                ratio = rows["b"][0] / fastest
                row(f"ws-runtime / fastest bare echo, {connections} connections, {workers} worker(s)", f"{ratio:.2f}", "≥ 0.9", ratio >= 0.9)
            if "b" in rows and "d" in rows:
                ratio = rows["b"][0] / rows["d"][0]
                wanted = 3.0 if connections == 100 else 2.5
                lower_p99 = rows["b"][2] < rows["d"][2]
                row(f"ws-runtime / Node `ws` + `ajv`, {connections} connections, {workers} worker(s); p99 {rows['b'][2]:.2f} against {rows['d'][2]:.2f} ms",
                    f"{ratio:.2f}×", f"≥ {wanted}×, lower p99", ratio >= wanted and lower_p99)
    for name, size, ours, compiled, theirs in validation_rows:
        wanted = {"small": 3.0, "medium": 1.5, "large": 1.2}[name]
        row(f"validation, {name} ({size:,} B): ajv time / compiled check", f"{theirs/compiled:.2f}×", f"≥ {wanted}×", theirs / compiled >= wanted)
    if "runtime" in memory:
        row("resident memory per idle connection, compression off (10,000 open)", f"{memory['runtime']:.1f} KiB", "≤ 5 KiB", memory["runtime"] <= 5.0)
    for name, _, _, _, kib in COMPRESSION:
        if name.endswith("kept"):
            print(f"| memory per connection with permessage-deflate, after its messages (100 open) | {kib:.1f} KiB | measured | – |")
    for name, _, med, status in rust_generation:
        if name == "medium" and status["asyncapi-rs"] == "ok" and status["modelina"] == "ok":
            ratio = med["modelina"][0] / med["asyncapi-rs"][0]
            row("`generate` on the medium document: Modelina's time / ours", f"{ratio:.0f}×", "≥ 100×", ratio >= 100)


def main():
    print(f"rounds: {ROUNDS} (medians); {versions()}", file=sys.stderr)
    if os.environ.get("ONLY") == "generation":
        for language in ["rust", "typescript"]:
            print(f"## Generation (whole process, {language} output)\n")
            generation_table(generation(language))
            print()
        return
    if os.environ.get("ONLY") == "validation":
        print("## Validation (parse + validate + deserialize per message)\n")
        validation_table()
        return
    if os.environ.get("ONLY") == "scale":
        print("## One node, many connections (ws-runtime alone)\n")
        scale()
        return
    print("## Generation (whole process, Rust output)\n")
    rust_generation = generation("rust")
    generation_table(rust_generation)
    print("\n## Generation (whole process, TypeScript output: asyncapi-rs's client, Modelina's models)\n")
    generation_table(generation("typescript"))
    one, memory = runtime()
    print("\n## Runtime (same load client, same message mix: routed `echo` with a reply)\n")
    runtime_table(one)
    two, _ = runtime(workers=2)
    print("\n## Runtime on two workers (ws-runtime: two tokio workers; Node: `cluster` with two workers)\n")
    runtime_table(two)
    print("\n## Compression (permessage-deflate)\n")
    compression_table()
    print("\n| idle connections (10,000) | resident memory per connection |")
    print("|---|---:|")
    for kind, kib in memory.items():
        print(f"| {kind} | {kib:.1f} KiB |")
    print("\n## Validation (parse + validate + deserialize per message)\n")
    validation_rows = validation()
    validation_table(validation_rows)
    print("\n## One node, many connections (ws-runtime alone)\n")
    scale()
    print("\n## Targets (issue 42), all from this run\n")
    targets_table(rust_generation, one, two, memory, validation_rows)


if __name__ == "__main__":
    main()
