"""greatgame command line: run scenarios of great-power competition in Central Asia.

`greatgame COMMAND ...` once installed; `python3 run.py COMMAND ...` in a checkout does the same. A scenario or
experiment named by a bare file name that is not in the working folder (`greatgame run sanctions_tighten.yaml`,
`greatgame batch compare_scenarios.yaml`) is the shipped one.

  greatgame                                   # the 2022 baseline, its default runs, into results/baseline
  greatgame run us_reengages.yaml --runs 500 --seed 7 --out results/us
  greatgame check china_deepens.yaml
  greatgame batch compare_scenarios.yaml --jobs 2
  greatgame compare results/compare_scenarios --reference baseline
  greatgame validate --out results/validation
  greatgame calibrate
  greatgame responsiveness --out docs/validation
  greatgame levers baseline.yaml --runs 100 --out docs/levers
  greatgame influence --levers docs/levers/levers.csv --out docs/validation
  greatgame sensitivity results/sobol_all --out docs/sensitivity
  greatgame discover results/discovery_lhs --outcome first_lead_CHN_RUS --where "value < 2031"
  greatgame params --odd                      # regenerate the parameter table of docs/ODD.md section 6

Bad input (scenario files, options, output folder) ends with one line `FILE: key.path: reason` and exit status 2.
Anything else is a bug: exit status 1, a short message and the traceback in a log file (or on stderr with --debug).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

RESULTS = Path("results")  # outputs go under the working folder, never into the installed package


def _given_or_shipped(name: str, folder: Path) -> str:
    """A file argument: the file itself, or the shipped file of that bare name in the package folder `folder` when
    there is no such file here."""
    from greatgame.model.files import shipped_file

    shipped = shipped_file(name, folder)
    return str(shipped) if shipped is not None and not Path(name).exists() else name


def _scenario(name: str | None, default: str = "baseline.yaml") -> str:
    """A scenario argument (see `_given_or_shipped`); None is the shipped `default`."""
    from greatgame.model.files import SCENARIOS

    return str(SCENARIOS / default) if name is None else _given_or_shipped(name, SCENARIOS)


def _experiment(name: str) -> str:
    """An experiment argument (see `_given_or_shipped`): 'compare_scenarios.yaml' is the shipped one."""
    import greatgame.experiments

    return _given_or_shipped(name, Path(greatgame.experiments.__file__).resolve().parent)


def _note_if_written(folder: str | Path) -> None:
    """Readers of a batch folder hold no lock; they say so on stderr when another process is writing it now."""
    from greatgame.model.lock import writer_of

    holder = writer_of(folder)
    if holder:
        print(f"note: {folder} is still being written ({holder}); reading what it holds now", file=sys.stderr)


def _sign_options(args: argparse.Namespace) -> tuple[tuple[str, ...], float]:
    """`--trade-bases a,b` and `--sign-share x` checked: (bases, share); ScenarioError names a bad value."""
    from greatgame.experiments.analysis.statistics import SIGN_SHARE, check_sign_share
    from greatgame.model.fundamentals import TRADE_BASES
    from greatgame.model.yamlio import ScenarioError

    bases = tuple(b.strip() for b in args.trade_bases.split(","))
    bad = [b for b in bases if b not in TRADE_BASES]
    if bad or len(set(bases)) != len(bases):
        raise ScenarioError("run.py", "--trade-bases", f"{args.trade_bases!r}: give distinct bases from "
                            f"{', '.join(TRADE_BASES)}, separated by commas")
    try:
        return bases, check_sign_share(SIGN_SHARE if args.sign_share is None else args.sign_share)
    except ValueError as exc:
        raise ScenarioError("run.py", "--sign-share", str(exc)) from None


def _add_sign_options(parser: argparse.ArgumentParser) -> None:
    """The trade bases to run and the sign share of "robust in sign" (docs/OUTPUT.md)."""
    parser.add_argument("--trade-bases", default="state,partner", help="trade bases to run, comma-separated (default "
                        "state,partner; an effect is robust in sign only with both)")
    parser.add_argument("--sign-share", type=float, help="least share of pairs with one sign under each "
                        "trade basis for 'robust in sign' (default 0.95, docs/OUTPUT.md)")


def parse_set(items: list[str]) -> dict:
    """`--set KEY=VALUE` items as {dotted key: YAML-parsed value}; ScenarioError names a malformed item."""
    from greatgame.model.yamlio import ScenarioError, parse_value

    out = {}
    for item in items or []:
        if "=" not in item:
            raise ScenarioError("run.py", "--set", f"{item!r}: expected KEY=VALUE, e.g. parameters.rationality=8")
        key, value = item.split("=", 1)
        out[key.strip()] = parse_value(value, "run.py", f"--set {key.strip()}")
    return out


def cmd_run(args: argparse.Namespace) -> int:
    """`run`: simulate a scenario, write its tables, manifest and plots, print a summary."""
    from greatgame.model.api import default_folder, run_to_folder
    from greatgame.model.budget import check_run_size
    from greatgame.model.scenario import load_scenario
    from greatgame.model.yamlio import ScenarioError

    sc = load_scenario(_scenario(args.scenario), overrides=parse_set(args.set))
    if args.steps is not None and args.steps < 1:
        raise ScenarioError("run.py", "--steps", "must be at least 1")
    if args.runs is not None and args.runs < 1:
        raise ScenarioError("run.py", "--runs", "must be at least 1")
    check_run_size(sc, args.runs, args.steps, where=("run.py", "--runs") if args.runs else None)
    out = Path(args.out) if args.out else default_folder(RESULTS, sc.name, sc.source)
    res, folder = run_to_folder(sc, out, runs=args.runs, seed=args.seed, steps=args.steps, force=args.force,
                                progress=not args.quiet)
    summary = res.summary()
    print(f"\nScenario '{sc.name}': {len(res.runs)} runs, {res.steps} steps ({res.dates[0]} to {res.dates[-1]})")
    print("Regional influence (GDP-weighted, 0-1): median at start and at horizon, 5-95% range over runs")
    print(f"  {'power':6s} {'start':>7s} {'horizon':>8s}  {'5%':>6s} {'95%':>6s}")
    for p, row in summary.iterrows():
        print(f"  {p:6s} {row.start:7.3f} {row.horizon_median:8.3f}  {row.horizon_p05:6.3f} {row.horizon_p95:6.3f}")
    if "CHN" in res.powers and "RUS" in res.powers:
        print(f"  P(China ahead of Russia at the horizon) = {res.probability_leads('CHN', 'RUS'):.2f}")
    for code, (share, median) in res.convened().items():
        when = f", median date {median}" if median else ""
        print(f"  {code} was convened in {share:.0%} of runs{when}")
    for f in res.failures:
        print(f"  run {f.run} FAILED: {f.describe()}")
    print(f"Wrote {folder}/ (influence.parquet, status.parquet, trade.parquet, parameters.parquet, manifest.json, "
          "influence.png, influence_states.png, status.png)")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """`check`: validate a scenario and print it resolved."""
    import yaml

    from greatgame.model.scenario import load_scenario

    sc = load_scenario(_scenario(args.scenario), overrides=parse_set(args.set))
    print(f"# {args.scenario}: valid. Resolved scenario (after extends), {sc.steps} steps from "
          f"{sc.date_of(0):%Y-%m} to {sc.date_of(sc.steps):%Y-%m}; events at steps "
          f"{[e['step'] for e in sc.events]}")
    print(yaml.safe_dump(sc.raw, sort_keys=False, allow_unicode=True, width=120))
    return 0


def cmd_batch(args: argparse.Namespace) -> int:
    """`batch`: run an experiment into a Parquet store, then compare its scenarios."""
    from greatgame.experiments.batch.runner import run_experiment
    from greatgame.experiments.batch.spec import load_experiment
    from greatgame.model.api import default_folder
    from greatgame.model.yamlio import ScenarioError

    if args.jobs < 1:
        raise ScenarioError("run.py", "--jobs", "must be at least 1")
    if args.scheduler and args.engine != "dask":
        raise ScenarioError("run.py", "--scheduler", "goes with --engine dask")
    exp = load_experiment(_experiment(args.experiment))
    out = Path(args.out) if args.out else default_folder(RESULTS, exp.name, exp.source)
    man = run_experiment(exp, out, jobs=args.jobs, engine=args.engine, scheduler=args.scheduler,
                         resume=args.resume, force=args.force, progress=not args.quiet,
                         executor=getattr(args, "pool", None))
    print(f"\nExperiment '{exp.name}': {man.design_points} design points x {man.replicates} replicates "
          f"= {man.runs_total} runs")
    print(f"  this session: {man.runs_run} runs in {man.wall_time_s:.1f} s "
          f"({man.runs_per_s or 0:.1f} runs/s, engine {args.engine}, {args.jobs} worker(s))")
    print(f"  done {man.runs_done}, failed {man.runs_failed}" + (" (tracebacks in parts/runs: column error)"
                                                                if man.runs_failed else ""))
    if not args.no_compare:
        from greatgame.experiments.analysis.compare import compare

        files = compare(out)
        print(f"  comparison: {files.report} and {out / 'compare'}/")
    print(f"Wrote {out}/")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    """`compare`: the comparison report of a finished batch."""
    from greatgame.experiments.analysis.compare import compare
    from greatgame.model.yamlio import ScenarioError

    out = Path(args.outdir)
    if not (out / "manifest.json").exists():
        raise ScenarioError(out, "", f"no manifest.json here; run `greatgame batch EXPERIMENT.yaml --out {out}` first")
    _note_if_written(out)
    files = compare(out, reference=args.reference)
    print(f"Wrote {files.report} and {out / 'compare'}/ ({', '.join(sorted(p.name for p in files.paths()))})")
    return 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    """`calibrate`: the 2022 and 2017 fits, written as scenario files."""
    from greatgame.experiments.fit.calibration import calibrate
    from greatgame.model.scenario import load_scenario

    base = load_scenario(_scenario(args.scenario))
    bc = load_scenario(_scenario(args.backcast, "backcast_2017.yaml"))
    from greatgame.model.files import home

    out = Path(args.out) if args.out else home() / "scenarios" / "calibrated.yaml"
    res = calibrate(base, bc, out, seed=args.seed, maxiter=args.maxiter, progress=not args.quiet)
    print("Fitted values:")
    for k, v in res.values.items():
        print(f"  {k} = {v}")
    print("Fit: " + ", ".join(f"{k} {v}" for k, v in res.stats.items()))
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    """`validate`: every check, validation.json and validation.md."""
    from greatgame.experiments.fit.validation import validate

    res = validate(args.out, _scenario(args.scenario), _scenario(args.backcast, "backcast_2017.yaml"), quick=args.quick,
                   progress=not args.quiet)
    print(f"blank-slate cells matched: {res.blank_slate_cells_matched}/25 (null rule "
          f"{res.null_rule_cells_matched}, target 24)")
    print(f"leave-one-out cells matched: {res.leave_one_out_cells_matched}/25 (target 21)")
    print(f"backcast errors 2022: Russia {res.backcast_error_rus:+.3f} (naive {res.backcast_naive_error_rus:+.3f}),"
          f" China {res.backcast_error_chn:+.3f} (naive {res.backcast_naive_error_chn:+.3f}); target within 0.10")
    print(f"backcast status changes reached: {res.backcast_changes_reached}/{res.backcast_changes_total}, "
          f"cells kept: {res.backcast_cells_kept}/{res.backcast_cells_unchanged_total}")
    print(f"Wrote {args.out}/validation.json and validation.md")
    return 0


def cmd_responsiveness(args: argparse.Namespace) -> int:
    """`responsiveness`: what every shipped scenario changes against the baseline."""
    from greatgame.experiments.analysis.responsiveness import responsiveness

    bases, share = _sign_options(args)
    files = responsiveness(args.out, runs=args.runs, seed=args.seed, progress=not args.quiet, bases=bases,
                           sign_share=share)
    print(f"Wrote {files.report} and {files.table}")
    return 0


def cmd_estimate(args: argparse.Namespace) -> int:
    """`estimate`: the in-sample penalised ML fit of the decision rule on the dated record."""
    from greatgame.experiments.fit.estimate import estimate
    from greatgame.model.yamlio import ScenarioError

    if not 1993.0 < args.upto <= 2023.0:
        raise ScenarioError("run.py", "--upto", f"{args.upto} is outside the record (1993-2023)")
    if args.record and not Path(args.record).is_file():
        raise ScenarioError("run.py", "--record", f"'{args.record}' is not a file (a record.csv like the shipped one)")
    if not 1 <= args.starts <= 3:
        raise ScenarioError("run.py", "--starts", "must be 1, 2 or 3 (zero, restricted, v2)")
    if args.panel:
        from greatgame.model.panel import use_panel

        if not Path(args.panel).is_dir():
            raise ScenarioError("run.py", "--panel", f"'{args.panel}' is not a folder (one like model/data/panel/)")
        use_panel(args.panel)  # checks every table now: a bad row stops here with its file, row and column
    cmd = f"python3 run.py estimate --upto {args.upto}" + (f" --record {args.record}" if args.record else "") \
        + (f" --panel {args.panel}" if args.panel else "") + ("" if args.profile else " --no-profile") \
        + f" --out {args.out}"
    files = estimate(args.out, upto=args.upto, record_path=args.record, profile=args.profile, starts=args.starts,
                     progress=not args.quiet, command=cmd, panel_path=args.panel)
    print(f"Wrote {files.report} and {files.table}")
    return 0


def cmd_influence(args: argparse.Namespace) -> int:
    """`influence`: the influence report (per channel and in total, and why)."""
    from greatgame.experiments.analysis.influence_report import influence_report
    from greatgame.model.yamlio import ScenarioError

    if args.runs < 2:
        raise ScenarioError("run.py", "--runs", "must be at least 2")
    if args.levers and not Path(args.levers).is_file():
        raise ScenarioError("run.py", "--levers", f"'{args.levers}' is not a file (a levers.csv written by `levers`)")
    cmd = f"python3 run.py influence --runs {args.runs}" + (f" --seed {args.seed}" if args.seed is not None else "") \
        + (f" --levers {args.levers}" if args.levers else "") + f" --out {args.out}"
    files = influence_report(args.out, runs=args.runs, seed=args.seed, levers=args.levers, progress=not args.quiet,
                             command=cmd)
    print(f"Wrote {files.report}, {files.table} and {files.figure}")
    return 0


def cmd_levers(args: argparse.Namespace) -> int:
    """`levers`: the lever audit of a scenario."""
    from greatgame.experiments.analysis.levers import levers_report
    from greatgame.model.scenario import load_scenario
    from greatgame.model.yamlio import ScenarioError

    if args.runs < 2:
        raise ScenarioError("run.py", "--runs", "must be at least 2 (intervals need pairs)")
    bases, share = _sign_options(args)
    sc = load_scenario(_scenario(args.scenario), overrides=parse_set(args.set))
    cmd = (f"python3 run.py levers {args.scenario or 'baseline.yaml'} --runs {args.runs}"
           + (f" --seed {args.seed}" if args.seed is not None else "")
           + (f" --trade-bases {args.trade_bases}" if bases != ("state", "partner") else "")
           + (f" --sign-share {share:g}" if args.sign_share is not None else "") + f" --out {args.out}")
    files = levers_report(sc, args.out, runs=args.runs, seed=args.seed, command=cmd, progress=not args.quiet,
                          bases=bases, sign_share=share)
    print(f"Wrote {files.report}, {files.table} and {files.figure}")
    return 0


def cmd_discover(args: argparse.Namespace) -> int:
    """`discover`: PRIM on a finished LHS or Sobol batch."""
    from greatgame.experiments.analysis.discover import discover
    from greatgame.model.yamlio import ScenarioError

    if not 0 < args.min_coverage <= 1:
        raise ScenarioError("run.py", "--min-coverage", "must be in (0, 1]")
    if args.check < 0:
        raise ScenarioError("run.py", "--check", "must be 0 (no fresh sample) or a number of points")
    _note_if_written(args.store)
    where = f' --where "{args.where}"' if args.where else ""
    cmd = f"python3 run.py discover {args.store} --outcome {args.outcome}{where}" + (
        f" --check {args.check}" if args.check else "") + (f" --out {args.out}" if args.out else "") + (
        " --null-ok" if args.null_ok else "")
    s = discover(args.store, args.outcome, args.where, out_dir=args.out, scenario=args.scenario,
                 min_coverage=args.min_coverage, check_points=args.check, check_seed=args.check_seed, jobs=args.jobs,
                 command=cmd, progress=not args.quiet, null_ok=args.null_ok)
    if s.null:
        print(f"null result: no box, the cases are {s.cases} of {s.runs} runs. Wrote {s.report}")
        return 0
    print(f"cases: {s.cases} of {s.runs} runs ({s.failed_dropped} failed runs dropped); box: coverage "
          f"{s.coverage:.2f}, density {s.density:.2f}, restricted: {', '.join(s.restricted or []) or 'nothing'}")
    if s.fresh:
        lo, hi = s.fresh.interval
        print(f"fresh sample: density {s.fresh.density:.2f} ({lo:.2f}-{hi:.2f}) in {s.fresh.runs} runs")
    print(f"Wrote {s.report}, {s.box_scenario} and {s.box_experiment}")
    return 0


def cmd_sensitivity(args: argparse.Namespace) -> int:
    """`sensitivity`: the Sobol report of a finished Sobol batch."""
    from greatgame.experiments.analysis.sensitivity import sensitivity_report

    _note_if_written(args.store)
    cmd = f"python3 run.py sensitivity {args.store} --out {args.out}"
    files = sensitivity_report(args.store, args.out, command=cmd)
    print(f"Wrote {files.report}, {files.table} and {files.figure} ({files.failed} failed runs dropped)")
    return 0


def cmd_params(args: argparse.Namespace) -> int:
    """`params`: rewrite (or check) the parameter table of docs/ODD.md section 6."""
    from greatgame.model.declarations import odd_command
    from greatgame.model.yamlio import ScenarioError

    if not args.odd:
        raise ScenarioError("params", "--odd", "say what to do: --odd rewrites the parameter table of docs/ODD.md")
    return odd_command(args.file, args.check)


def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    """The command line's parser; `prog` is the name shown in --help (default: how this process was started)."""
    parser = argparse.ArgumentParser(
        prog=prog, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--debug", action="store_true", help="on an internal error, print the traceback (may be given "
                        "anywhere on the line)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    run = sub.add_parser("run", help="run a scenario and write tables, manifest and plots",
                         description="Run SCENARIO.yaml for --runs replicates (advanced in lockstep) and write "
                         "influence.parquet, status.parquet, trade.parquet, parameters.parquet (what each run drew), "
                         "manifest.json and three PNG plots into --out (docs/OUTPUT.md describes every column).")
    run.add_argument("scenario", nargs="?", help="scenario YAML (default: the shipped baseline)")
    run.add_argument("--runs", type=int, help="number of runs (default: the scenario's `runs`)")
    run.add_argument("--seed", type=int, help="root seed (default: the scenario's `seed`); run k uses "
                     "SeedSequence(seed, spawn_key=(k,))")
    run.add_argument("--steps", type=int, help="steps to simulate (default: the scenario's `steps`); later "
                     "events are simply not reached")
    run.add_argument("--out", help="output folder (default: results/<scenario name>)")
    run.add_argument("--force", action="store_true", help="replace a non-empty output folder")
    run.add_argument("--set", action="append", metavar="KEY=VALUE",
                     help="override a scenario value, e.g. --set parameters.rationality=8 (repeatable)")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.set_defaults(func=cmd_run)
    check = sub.add_parser("check", help="validate a scenario and print it resolved",
                           description="Validate SCENARIO.yaml (after `extends`) and print the resolved scenario. "
                           "Exit 0 when valid, 2 with a one-line error otherwise.")
    check.add_argument("scenario", help="scenario YAML")
    check.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a value before checking")
    check.set_defaults(func=cmd_check)
    batch = sub.add_parser("batch", help="run an experiment (scenarios x design x replicates) into a Parquet store",
                           description="Run EXPERIMENT.yaml: every design point x replicate, in lockstep chunks, on "
                           "local processes or Dask; results stream to OUT/parts/ as Parquet, failed runs are "
                           "recorded with their traceback, --resume continues an interrupted batch. Then writes "
                           "the comparison (OUT/report.md, OUT/compare/).")
    batch.add_argument("experiment", help="experiment YAML (see experiments/*.yaml)")
    batch.add_argument("--jobs", type=int, default=1, help="worker processes (default 1: in this process)")
    batch.add_argument("--engine", choices=("local", "dask"), default="local",
                       help="local process pool, or Dask (needs the [dask] extra)")
    batch.add_argument("--scheduler", help="Dask scheduler address (default: a LocalCluster with --jobs workers)")
    batch.add_argument("--out", help="output folder (default: results/<experiment name>)")
    batch.add_argument("--resume", action="store_true", help="continue an interrupted batch in --out")
    batch.add_argument("--force", action="store_true", help="delete a non-empty --out and start over")
    batch.add_argument("--no-compare", action="store_true", help="skip the comparison step")
    batch.add_argument("--quiet", action="store_true", help="no progress bar")
    batch.set_defaults(func=cmd_batch)
    comp = sub.add_parser("compare", help="fan charts, statistics and report.md for a finished batch",
                          description="Compare the scenarios of a batch folder: fan charts, outcome distributions, "
                          "paired differences from the reference with 95%% intervals and t-tests, "
                          "probabilities, Sobol indices or LHS rankings, and OUT/report.md.")
    comp.add_argument("outdir", help="a folder written by `run.py batch`")
    comp.add_argument("--reference", help="reference scenario name (default: the experiment's)")
    comp.set_defaults(func=cmd_compare)
    cal = sub.add_parser("calibrate", help="fit the global parameters to the observed patterns",
                         description="Two separate fits. 2017: the choice parameters on the 2017 alignment pattern "
                         "and the record of status changes to mid-2017 (for the out-of-sample backcast). 2022: the "
                         "same on the 2022 pattern and the record to 2022, plus the trade elasticity on 2017-2022 "
                         "trade (for projections). Each: differential evolution on a fast stand-in, refined by "
                         "differential evolution on the simulated model, candidates checked by simulation. Writes "
                         "calibrated.yaml, calibrated_2017.yaml and the near-best vectors. The stand-in fit no "
                         "longer sets the baseline, whose decision rule is the estimate of `estimate`.")
    cal.add_argument("--scenario", help="scenario to calibrate (default: the shipped baseline)")
    cal.add_argument("--backcast", help="backcast scenario (default: the shipped backcast_2017.yaml)")
    cal.add_argument("--out", help="scenario file to write (default: scenarios/calibrated.yaml in the checkout, "
                     "else in the working folder)")
    cal.add_argument("--seed", type=int, default=1, help="optimiser seed")
    cal.add_argument("--maxiter", type=int, default=40, help="differential-evolution generations")
    cal.add_argument("--quiet", action="store_true")
    cal.set_defaults(func=cmd_calibrate)
    val = sub.add_parser("validate", help="score the model against the observed patterns and write a report",
                         description="The decision rule's out-of-sample scores at the rolling origins 2005-2017 "
                         "against persistence with base rates (docs/validation/PROTOCOL.md), churn by kind against "
                         "the record; then the secondary readings: blank-slate alignment (25 cells), leave-one-state-"
                         "out prediction, the 2017-2022 backcast, robustness to +-20% parameter changes and Morris "
                         "screening; writes validation.json, validation.md and oos_*.csv into --out.")
    val.add_argument("--out", default=str(RESULTS / "validation"), help="output folder")
    val.add_argument("--scenario", help="scenario to validate (default: the shipped baseline)")
    val.add_argument("--backcast", help="backcast scenario (default: the shipped backcast_2017.yaml)")
    val.add_argument("--quick", action="store_true", help="fewer runs and smaller fits (a smoke test)")
    val.add_argument("--quiet", action="store_true")
    val.set_defaults(func=cmd_validate)
    resp = sub.add_parser("responsiveness", help="what every shipped scenario changes against the baseline",
                          description="Run the baseline and every shipped scenario with common random numbers and "
                          "write, for the horizon, the paired change in each status probability (and in the "
                          "probability of a downgrade) and in each power's regional influence, with 95%% intervals, "
                          "under both trade bases, and whether each is robust in sign (docs/OUTPUT.md): "
                          "responsiveness.md and responsiveness.csv in --out.")
    resp.add_argument("--out", default=str(RESULTS / "responsiveness"), help="output folder")
    resp.add_argument("--runs", type=int, default=100, help="runs per scenario under each trade basis (default 100)")
    resp.add_argument("--seed", type=int, help="root seed (default: the baseline's)")
    _add_sign_options(resp)
    resp.add_argument("--quiet", action="store_true")
    resp.set_defaults(func=cmd_responsiveness)
    est = sub.add_parser("estimate", help="fit the states' decision rule to the dated record (in sample)",
                         description="Penalised maximum likelihood of the dated record of alignment changes (11 "
                         "post-Soviet states, 1992 to --upto) under the model's own choice rule, with the panel's "
                         "covariates (docs/validation/PROTOCOL.md section 4, docs/ODD.md 7.11): the full model and the "
                         "restricted model (persistence with base rates), profile intervals of every parameter, the "
                         "bootstrap's ranges. Writes estimate.md and estimate.csv in --out. In sample: the "
                         "out-of-sample scores are `validate`'s.")
    est.add_argument("--out", default=str(RESULTS / "estimate"), help="output folder")
    est.add_argument("--upto", type=float, default=2022.83, help="origin: the record and data seen (decimal year)")
    est.add_argument("--record", help="a record file to use instead of the shipped model/data/panel/record.csv")
    est.add_argument("--panel", help="a folder with the panel's tables (trade_gdp.csv, security_migration.csv, "
                     "routes.csv, same columns) to use instead of the shipped model/data/panel/ (add years or states, "
                     "correct a row, refit)")
    est.add_argument("--starts", type=int, default=3, help="optimiser starts of the full model (1-3, default 3)")
    est.add_argument("--no-profile", dest="profile", action="store_false", help="skip the profile intervals")
    est.add_argument("--quiet", action="store_true")
    est.set_defaults(func=cmd_estimate)
    inf = sub.add_parser("influence", help="influence report: per channel and in total, and why",
                         description="Run the baseline on both trade bases and every shipped scenario with their "
                         "uncertainty draws and write influence.md, influence.csv and influence_channels.png: regional "
                         "influence by channel at the start and the horizon, the channel decomposition of every gap "
                         "between two powers, the share of uniformly drawn channel weightings under which each power "
                         "leads each state, how far each channel moves in each scenario, the largest levers (from "
                         "--levers) and what changed from model v2.")
    inf.add_argument("--out", default=str(RESULTS / "influence"), help="output folder (shipped: docs/validation)")
    inf.add_argument("--runs", type=int, default=200, help="runs per scenario (default 200)")
    inf.add_argument("--seed", type=int, help="root seed (default: the baseline's)")
    inf.add_argument("--levers", help="a levers.csv written by `levers` (e.g. docs/levers/levers.csv)")
    inf.add_argument("--quiet", action="store_true")
    inf.set_defaults(func=cmd_influence)
    lev = sub.add_parser("levers", help="lever audit: what each policy lever changes at the horizon",
                         description="For each lever (each power's budget x2 and x0.5, its instrument mix, sanctions "
                         "on Russia up and down, secondary sanctions, the accession-package cap, the Afghan threat, "
                         "energy prices, each format's depth and binding obligations) the paired change it causes in "
                         "every status probability and in regional and per-state influence per power at the horizon, "
                         "with 95%% intervals (common random numbers: lever run k shares seeds and uncertainty draws "
                         "with reference run k; a lever scales each run's own value), under both trade bases, and "
                         "whether each effect is robust in sign (docs/OUTPUT.md). Writes levers.md, levers.csv "
                         "and tornado.png into --out.")
    lev.add_argument("scenario", nargs="?", help="reference scenario (default: the shipped baseline)")
    lev.add_argument("--runs", type=int, default=100, help="runs per lever under each trade basis (default 100)")
    lev.add_argument("--seed", type=int, help="root seed (default: the scenario's)")
    lev.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a reference value (repeatable)")
    lev.add_argument("--out", default=str(RESULTS / "levers"), help="output folder (default results/levers)")
    _add_sign_options(lev)
    lev.add_argument("--quiet", action="store_true")
    lev.set_defaults(func=cmd_levers)
    sen = sub.add_parser("sensitivity", help="global-sensitivity report of a finished Sobol batch",
                         description="Sobol first- and total-order indices (bootstrap 95%% intervals) of every "
                         "continuous outcome and of the least certain status cells, from a batch with a Sobol design "
                         "(experiments/sobol_all.yaml varies every uncertain assumption); writes sensitivity.md, "
                         "sobol.csv, sobol.png and status_uncertainty.csv. Failed runs are dropped and counted.")
    sen.add_argument("store", help="a batch folder with a Sobol design")
    sen.add_argument("--out", default=str(RESULTS / "sensitivity"), help="output folder")
    sen.set_defaults(func=cmd_sensitivity)
    dis = sub.add_parser("discover", help="scenario discovery (PRIM) on a finished LHS or Sobol batch",
                         description="Which region of the design space makes an outcome happen? The cases are the "
                         "runs where --where is true; PRIM (EMA Workbench, extra [discovery]) finds a box of high "
                         "density and coverage. Writes discovery.md, peeling.png (coverage against density), "
                         "box.csv (limits with quasi-p-values), feature_scores.csv/.png, and the box as runnable "
                         "input: box_scenario.yaml and box_experiment.yaml. Failed runs are dropped and counted.")
    dis.add_argument("store", help="a batch folder written by `run.py batch` with an LHS or Sobol design")
    dis.add_argument("--outcome", required=True, help="outcome column (e.g. first_lead_CHN_RUS: a decimal year, NaN "
                     "if never; regional_influence_CHN)")
    dis.add_argument("--where", help="pandas expression over the outcome columns that marks a case; `value` is "
                     "--outcome (default: \"value > 0\"); e.g. \"value < 2031\" = China ahead of Russia by 2030")
    dis.add_argument("--scenario", help="which scenario of the batch (default: the reference)")
    dis.add_argument("--min-coverage", type=float, default=0.8, help="the chosen box is the densest with at least "
                     "this coverage (default 0.8)")
    dis.add_argument("--check", type=int, default=0, metavar="N", help="run the exported experiment with N fresh "
                     "points and report the box's density there (default 0: skip)")
    dis.add_argument("--check-seed", type=int, help="seed of the fresh sample (default: the batch's seed + 1)")
    dis.add_argument("--jobs", type=int, default=1, help="workers for the fresh sample")
    dis.add_argument("--null-ok", action="store_true", help="when no run (or every run) is a case, write a report "
                     "of that null result instead of stopping with an error")
    dis.add_argument("--out", help="output folder (default STORE/discovery/OUTCOME)")
    dis.add_argument("--quiet", action="store_true")
    dis.set_defaults(func=cmd_discover)
    par = sub.add_parser("params", help="the parameter table of docs/ODD.md, generated from the declarations",
                         description="Rewrite the table between the marker comments of docs/ODD.md section 6 from "
                         "the parameter declarations (model/schema.py) and the baseline's values.")
    par.add_argument("--odd", action="store_true", help="rewrite the parameter table in docs/ODD.md section 6")
    par.add_argument("--check", action="store_true", help="with --odd: only say whether it is up to date (exit 1 if not)")
    par.add_argument("--file", help="the ODD file (default: docs/ODD.md of this checkout)")
    par.set_defaults(func=cmd_params)
    return parser


def _warm_worker() -> int:
    """Import the model in a pool worker while the parent process loads the experiment."""
    import greatgame.experiments.batch.runner  # noqa: F401

    return os.getpid()


def _early_pool(args: argparse.Namespace) -> None:
    """For `batch --jobs N` on local processes: fork the workers now, while this process is still
    single-threaded (before numpy, pandas and pyarrow start their thread pools), and let them import the model
    in parallel with this process."""
    args.pool = None
    if getattr(args, "command", None) == "batch" and args.engine == "local" and args.jobs > 1:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        args.pool = ProcessPoolExecutor(max_workers=args.jobs, mp_context=mp.get_context("fork"))
        for _ in range(args.jobs):
            args.pool.submit(_warm_worker)


def main(argv: list[str] | None = None, *, early_pool: bool = False) -> int:
    """Run one command line; the exit status: 0 done, 2 bad input (one line on stderr), 1 a bug in greatgame.
    `early_pool` forks `batch --jobs N`'s workers before the heavy imports (the command's own process only: not
    when called from a test or a notebook)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv  # accepted anywhere on the line
    argv = [a for a in argv if a != "--debug"]
    if not argv or argv[0].startswith("--") and argv[0] not in ("-h", "--help"):
        argv = ["run", *argv]
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 0
    if early_pool:
        _early_pool(args)
    from greatgame.model.lock import until_exit
    from greatgame.model.yamlio import ScenarioError

    try:
        with until_exit():  # a folder's writer lock, once taken, is held until the command ends (model/lock.py)
            return args.func(args)
    except ScenarioError as exc:  # bad input: one line, exit 2
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader went away (`run.py check X | head`): not a bug; stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as exc:  # noqa: BLE001 - anything else is a bug: say so, keep the traceback
        return _report_bug(exc, debug=debug)


def _report_bug(exc: BaseException, debug: bool) -> int:
    """A programming error, not the user's input: exit 1, a short message, the traceback in a log file (or on
    stderr with --debug)."""
    import tempfile
    import traceback

    text = "".join(traceback.format_exception(exc))
    if debug:
        print(text, file=sys.stderr, end="")
        print(f"internal error (a bug in greatgame, not in your input): {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    fd, log = tempfile.mkstemp(prefix="greatgame-error-", suffix=".log")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    print(f"internal error (a bug in greatgame, not in your input): {type(exc).__name__}: {exc}. "
          f"Traceback in {log} (or rerun with --debug); please report it.", file=sys.stderr)
    return 1


def console() -> None:
    """The `greatgame` command (and `python3 run.py`)."""
    sys.exit(main(early_pool=True))


if __name__ == "__main__":
    console()
