"""Long fuzzing campaign through the command line: mutated scenario and experiment files (tests/fuzzcases.py) run
as `python3 run.py check FILE`, `run.py run FILE --steps 2 --runs 2 --out DIR` and `run.py batch FILE --out DIR`
(small experiments), each in its own process, in parallel over the cores.

    python3 benchmarks/fuzz_inputs.py                      # 10,000 cases
    python3 benchmarks/fuzz_inputs.py --cases 2000 --seed 1 --jobs 2 --timeout 120
    python3 benchmarks/fuzz_inputs.py --warm               # 10,000 cases, each in a process forked from a warm one

`--warm` runs each case in a child process forked from a parent that has imported the command line once, calling
`run.main(argv)`, the function `python3 run.py` calls, with the case's folder as working directory, stdin closed,
stdout and stderr in files, and the same memory cap and timeout; it saves the interpreter's start-up and imports
(about 1 s a case here), so a 10,000-case campaign fits in well under an hour on 2 cores.

A case passes when it exits 0 with complete outputs, or exits 2 with one line `error: FILE: key: reason` and no
output folder. A traceback (exit 1, or any `Traceback` on stderr) or a bad refusal (several lines, a partial
output folder) counts as a traceback; a case still running after --timeout seconds counts as a hang. Failing cases
are kept under --keep (default results/fuzz_failures) with their command. The last line is
`fuzz: N cases, T tracebacks, H hangs`.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fuzzcases import CLI_TIMEOUT, any_case, check_cli, cli_argv, limit_memory, run_cli  # noqa: E402

MODES = ("check", "run", "batch")
MEMORY = 8 * 2**30  # address space per case: a runaway case fails (and is reported) instead of exhausting the machine


def one_case(i: int, seed: int, work: Path, keep: Path, timeout: float) -> tuple[int, str, str, float]:
    """Build case i from its own seed, run it through the command line, keep it if it failed."""
    rnd = random.Random(f"{seed}-{i}")
    case = any_case(rnd)
    mode = "batch" if case.kind == "experiment" else MODES[i % 2]
    folder = work / f"case{i:06d}"
    try:
        outcome = run_cli(case, folder, mode, timeout=timeout, memory=MEMORY)
        if outcome.verdict in ("traceback", "bad", "hang"):
            _keep_failure(i, seed, mode, outcome, case, folder, keep)
        return i, outcome.verdict, outcome.detail, outcome.seconds
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _keep_failure(i: int, seed: int, mode: str, outcome, case, folder: Path, keep: Path) -> None:
    dest = keep / f"case{i:06d}"
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(folder, dest, ignore=shutil.ignore_patterns("out"), symlinks=True)
    (dest / "what.json").write_text(json.dumps({"case": i, "seed": seed, "mode": mode, "verdict": outcome.verdict,
                                                "detail": outcome.detail, "case_description": case.describe()},
                                               indent=2))


def _read(path: Path) -> str:
    return path.read_bytes().decode("utf-8", "replace") if path.exists() else ""


def _child(argv: list[str], folder: Path) -> None:
    """In the forked child: run the command line's main on argv in `folder`, streams to files; never returns."""
    code = 1
    try:
        os.chdir(folder)
        limit_memory(MEMORY)
        for fd, name in ((1, ".stdout"), (2, ".stderr")):
            os.dup2(os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644), fd)
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        from greatgame import cli as run

        code = run.main(list(argv))
    except SystemExit as exc:  # argparse's own errors
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # noqa: BLE001 - a traceback on stderr is what the judge looks for
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code if isinstance(code, int) else 1)


def warm_campaign(args: argparse.Namespace, keep: Path, counts: dict[str, int]) -> None:
    """Run the cases in children forked from this (warm, single-threaded) process, `args.jobs` at a time."""
    import signal

    from greatgame.experiments.batch import runner  # noqa: F401

    import run  # noqa: F401 - imported once here, inherited by every child

    t0 = time.perf_counter()
    todo = iter(range(args.start, args.start + args.cases))
    active: dict[int, tuple] = {}
    done = 0
    with tempfile.TemporaryDirectory(prefix="greatgame-fuzz-") as work:
        while True:
            while len(active) < args.jobs:
                i = next(todo, None)
                if i is None:
                    break
                case = any_case(random.Random(f"{args.seed}-{i}"))
                mode = "batch" if case.kind == "experiment" else MODES[i % 2]
                folder = Path(work) / f"case{i:06d}"
                path = case.write(folder)
                out = folder / "out"
                sys.stdout.flush()
                sys.stderr.flush()
                pid = os.fork()
                if pid == 0:
                    _child(cli_argv(case, path, mode, out), folder)
                active[pid] = (i, case, folder, mode, out, time.perf_counter())
            if not active:
                break
            time.sleep(0.005)
            for pid, (i, case, folder, mode, out, start) in list(active.items()):
                wpid, status = os.waitpid(pid, os.WNOHANG)
                seconds = time.perf_counter() - start
                if not wpid and seconds < args.timeout:
                    continue
                if not wpid:
                    os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
                    rc = None
                else:
                    rc = os.waitstatus_to_exitcode(status)
                outcome = check_cli(rc, _read(folder / ".stdout"), _read(folder / ".stderr"), mode, out, seconds)
                del active[pid]
                counts[outcome.verdict] += 1
                if outcome.verdict in ("traceback", "bad", "hang"):
                    _keep_failure(i, args.seed, mode, outcome, case, folder, keep)
                    print(f"case {i}: {outcome.verdict}: {outcome.detail[:400]}", flush=True)
                shutil.rmtree(folder, ignore_errors=True)
                done += 1
                if done % 500 == 0:
                    print(f"{done}/{args.cases} cases ({done / (time.perf_counter() - t0):.2f}/s): {counts}",
                          flush=True)


def main(argv: list[str] | None = None) -> int:
    """The command line: run --cases generated cases, keep the failing ones; returns the exit status (1 if any failed)."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", type=int, default=10000, help="number of cases (default 10000)")
    ap.add_argument("--seed", type=int, default=1, help="campaign seed: case i uses Random(f'{seed}-{i}')")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="cases run at once (default: the cores)")
    ap.add_argument("--timeout", type=float, default=CLI_TIMEOUT, help="seconds before a case counts as a hang")
    ap.add_argument("--keep", default=str(ROOT / "results" / "fuzz_failures"), help="folder for failing cases")
    ap.add_argument("--start", type=int, default=0, help="first case number (to continue a campaign)")
    ap.add_argument("--warm", action="store_true", help="fork each case from a warm process that imported the "
                    "command line once (run.main(argv), the function `python3 run.py` calls) instead of starting "
                    "a new interpreter")
    args = ap.parse_args(argv)
    keep = Path(args.keep)
    keep.mkdir(parents=True, exist_ok=True)
    counts = {"ok": 0, "refused": 0, "traceback": 0, "bad": 0, "hang": 0}
    t0 = time.perf_counter()
    if args.warm:
        warm_campaign(args, keep, counts)
    else:
        _subprocess_campaign(args, keep, counts, t0)
    wall = time.perf_counter() - t0
    print(f"{counts['ok']} valid, {counts['refused']} refused with one line, {counts['bad']} bad refusals; "
          f"{wall:.0f} s with {args.jobs} jobs{' (warm forks)' if args.warm else ''}; failing cases in {keep}")
    print(f"fuzz: {args.cases} cases, {counts['traceback'] + counts['bad']} tracebacks, {counts['hang']} hangs")
    return 0 if counts["traceback"] + counts["bad"] + counts["hang"] == 0 else 1


def _subprocess_campaign(args: argparse.Namespace, keep: Path, counts: dict[str, int], t0: float) -> None:
    with tempfile.TemporaryDirectory(prefix="greatgame-fuzz-") as work, ThreadPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(one_case, i, args.seed, Path(work), keep, args.timeout)
                   for i in range(args.start, args.start + args.cases)]
        for n, fut in enumerate(as_completed(futures), 1):
            i, verdict, detail, seconds = fut.result()
            counts[verdict] += 1
            if verdict not in ("ok", "refused"):
                print(f"case {i}: {verdict}: {detail[:400]}", flush=True)
            if n % 100 == 0:
                rate = n / (time.perf_counter() - t0)
                print(f"{n}/{args.cases} cases ({rate:.2f}/s): {counts}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
