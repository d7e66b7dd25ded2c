"""How long a fresh process takes to `import arb_pipeline.definitions` (a script, not a timed test).

    uv run --frozen python benchmarks/bench_import.py [--runs 7] [--module arb_pipeline.definitions]

Every Dagster run, `dagster dev` code-server reload and sensor tick of a fresh process pays this import
before any work. Each run is a new interpreter (`sys.executable -c "import ..."`), after one untimed
warm-up run so the bytecode caches (`__pycache__`) are written and the files are in the page cache
(`PYTHONDONTWRITEBYTECODE` is removed from the children's environment for that).
Reported: best and median wall time and CPU time (user + system of the child, from `os.wait4`),
the interpreter's own start-up (`-c pass`) for comparison, `import dagster` alone (the floor every
code location pays), the machine's load average, and the target (1.5 s). Then the modules the import
pulls in that a definitions load should not need (pandas, pandera, numpy, ...), and the heaviest
top-level imports by cumulative time from one `python -X importtime` run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

TARGET_S = 1.5
HEAVY = ("pandas", "pandera", "numpy", "sqlalchemy", "httpx", "fastapi", "great_expectations", "alembic",
         "cryptography", "websockets", "uvicorn", "dagster_pandera", "pydantic", "yaml")


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


# The children may write bytecode caches even where the caller's environment forbids it (this machine's
# sessions set PYTHONDONTWRITEBYTECODE=1, which makes every import compile from source: +~1 s here).
CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def one_run(code: str) -> tuple[float, float]:
    """(wall, cpu) of one fresh interpreter running `code`; cpu = the child's user + system time."""
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env=CHILD_ENV)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode:
        raise SystemExit(f"`python -c {code!r}` failed ({proc.returncode}):\n{err}")
    return wall, usage.ru_utime + usage.ru_stime


def measure(code: str, runs: int) -> tuple[list[float], list[float]]:
    one_run(code)  # warm-up: bytecode caches written, files in the page cache
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = one_run(code)
        walls.append(wall)
        cpus.append(cpu)
    return walls, cpus


def report(name: str, walls: list[float], cpus: list[float]) -> None:
    print(f"{name:34} wall best {min(walls):6.3f} s  median {statistics.median(walls):6.3f} s   "
          f"cpu best {min(cpus):6.3f} s  median {statistics.median(cpus):6.3f} s")


def heavy_modules(module: str) -> list[str]:
    code = f"import sys, {module}; print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=CHILD_ENV)
    return out.stdout.split()


def importtime_top(module: str, n: int) -> list[tuple[int, str]]:
    """The `n` heaviest imports by cumulative microseconds, from one `-X importtime` run (inflated by the
    tracing itself; read it for the ranking, not the absolute figures)."""
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", f"import {module}"], capture_output=True,
                         text=True, check=True, env=CHILD_ENV).stderr
    rows = []
    for line in out.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = line[len("import time:"):].split("|")
        rows.append((int(cumulative), name[1:].rstrip()))  # keep the nesting indentation
    rows.sort(key=lambda r: -r[0])
    return rows[:n]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--module", default="arb_pipeline.definitions")
    parser.add_argument("--top", type=int, default=25, help="heaviest imports to list (0: skip -X importtime)")
    args = parser.parse_args()
    print(f"bench_import: {args.runs} fresh interpreters each, after a warm-up that writes the bytecode caches "
          f"(PYTHONDONTWRITEBYTECODE unset for the children: it was {os.environ.get('PYTHONDONTWRITEBYTECODE')!r}); "
          f"{sys.executable}; {load()}")
    report("python -c pass", *measure("pass", args.runs))
    report("import dagster", *measure("import dagster", args.runs))
    walls, cpus = measure(f"import {args.module}", args.runs)
    report(f"import {args.module}", walls, cpus)
    best = min(walls)
    print(f"RESULT  import {args.module}: best {best:.3f} s wall, {min(cpus):.3f} s cpu (median "
          f"{statistics.median(walls):.3f} s); target <= {TARGET_S} s: {'MET' if best <= TARGET_S else 'NOT MET'}; "
          f"{load()}")
    print(f"heavy modules loaded by it: {' '.join(heavy_modules(args.module)) or 'none'}")
    if args.top:
        print("heaviest imports by cumulative time (one -X importtime run, traced so inflated; "
              "indentation = nesting):")
        for cumulative, name in importtime_top(args.module, args.top):
            print(f"  {cumulative / 1e6:7.3f} s  {name}")


if __name__ == "__main__":
    main()
