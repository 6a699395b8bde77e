"""What the dashboard does, without solara: settings -> validated scenario -> model, safe file names, saving a
scenario as YAML, comparing two settings with common seeds, reading a finished batch folder.

Every error a user can cause raises `DashboardError` (a ValueError) whose text is shown in the page.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from greatgame.experiments.analysis.statistics import SIGN_SHARE, draws_uncertainty, paired_difference, sign_robustness, sign_text
from greatgame.model import keypaths
from greatgame.model.core import GreatGameModel
from greatgame.model.ensemble import RunSet
from greatgame.model.files import SCENARIOS as SHIPPED
from greatgame.model.files import checkout_root, home
from greatgame.model.fundamentals import TRADE_BASES
from greatgame.model.lock import claim, writer_of
from greatgame.model.results import Results
from greatgame.model.scenario import Scenario, load_scenario
from greatgame.model.schema import Num, spec_at
from greatgame.model.uncertainty import CHANNEL_WEIGHTS
from greatgame.model.yamlio import ScenarioError

ENV_SCENARIOS, ENV_RESULTS = "GREATGAME_SCENARIOS", "GREATGAME_RESULTS"  # folders named when starting the page
DEFAULT_SCENARIO = "baseline.yaml"
DEFAULT_RUNS = 100  # runs advanced together in the page
MAX_RUNS = 2000  # more makes a step too slow for a page
# the main behavioural parameters the page offers (each power's budget and sanctions come on top)
BEHAVIOUR_KEYS = ("parameters.rationality", "parameters.revision_rate", "parameters.switching_cost_join",
                  "parameters.switching_cost_exit", "parameters.weights.trade", "parameters.weights.security",
                  "parameters.weights.hedging", "parameters.threat_level", "parameters.secondary_sanctions")
POWER_FIELDS = ("budget_usd_bn_per_year", "sanctions")
_PLAIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


class DashboardError(ValueError):
    """Bad input in the page: the text is what the page shows."""


# ---------------------------------------------------------------------------------------------- folders
@dataclass(frozen=True)
class Folders:
    """The only folders the page reads and writes: scenarios (Save, the scenario list) and results (batches)."""

    scenarios: Path
    results: Path

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Folders:
        """$GREATGAME_SCENARIOS and $GREATGAME_RESULTS when set; else, in a git checkout, the checkout's scenarios/
        and results/; else scenarios/ and results/ in the working folder (never the installed package: the shipped
        scenarios are listed and extended from there, but nothing is saved into it)."""
        env = os.environ if environ is None else environ
        return cls(Path(env.get(ENV_SCENARIOS) or home() / "scenarios").resolve(),
                   Path(env.get(ENV_RESULTS) or home() / "results").resolve())


def safe_path(folder: Path, name: str, what: str, suffix: str | None = None) -> Path:
    """The path of `name` directly inside `folder`, or DashboardError. Refused: an empty name, `..`, an absolute
    path outside `folder`, a name that is not a plain file name (letters, digits, `_ . -`, no leading dot, no
    slash), and a symbolic link that leads out of `folder`. `suffix` is appended when missing."""
    root = Path(folder).resolve()
    text = (name or "").strip()
    if not text:
        raise DashboardError(f"{what}: give a name")
    given = Path(text)
    if ".." in given.parts:
        raise DashboardError(f"{what}: '..' is not allowed; give a plain name inside {root}")
    if given.is_absolute():
        if given.resolve().parent != root and given.parent != root:
            raise DashboardError(f"{what}: {text} is outside {root}; the page only uses that folder")
        text = given.name
    if not _PLAIN.match(text):
        raise DashboardError(f"{what}: '{text}' is not a plain file name (letters, digits, _ . -; no slash, "
                             "no leading dot)")
    if suffix and not text.endswith((suffix, ".yml")):
        text += suffix
    path = root / text
    if path.is_symlink() or path.exists():
        target = path.resolve()
        if target.parent != root and root not in target.parents:
            raise DashboardError(f"{what}: {text} is a symbolic link leading out of {root}")
    return path


# ---------------------------------------------------------------------------------------------- controls
def list_scenarios(folders: Folders) -> list[str]:
    """The YAML file names in the scenarios folder and the shipped scenarios (a file of the folder hides a shipped
    one of the same name), baseline first."""
    names = set()
    for folder in (folders.scenarios, SHIPPED):
        if folder.is_dir():
            names |= {p.name for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and _PLAIN.match(p.name)}
    return sorted(sorted(names), key=lambda n: n != DEFAULT_SCENARIO)


def control_keys(sc: Scenario) -> list[str]:
    """The keys the page has a control for: the main behavioural parameters, then each power's budget and
    sanctions level."""
    keys = [k for k in BEHAVIOUR_KEYS if value_of(sc, k) is not None]
    return keys + [f"powers.{p}.{f}" for p in sc.powers for f in POWER_FIELDS]


def value_of(sc: Scenario, key: str) -> float | None:
    """The scenario's value at a dotted key (None when it has none)."""
    return keypaths.number(sc.raw, key)


def label_of(key: str) -> str:
    """A short label with the unit, e.g. 'RUS budget_usd_bn_per_year (US$ bn/year)'."""
    parts = key.split(".")
    name = f"{parts[1]} {parts[2]}" if parts[0] == "powers" else ".".join(parts[1:])
    spec = spec_at(key)
    return f"{name} ({spec.unit})" if isinstance(spec, Num) and spec.unit else name


def drawn_keys(sc: Scenario) -> list[str]:
    """The keys every run draws from the scenario's `uncertainty:` section, given what is fixed."""
    if sc.uncertainty is None:
        return []
    fixed = set(sc.fixed_keys)
    if fixed & set(CHANNEL_WEIGHTS):
        fixed |= set(CHANNEL_WEIGHTS)  # channel weights are a group: one fixed, none drawn
    return [k for k in sc.uncertainty.keys if k not in fixed]


def draw_note(sc: Scenario, key: str) -> str:
    """What a run uses for `key` when its control is left empty."""
    value = value_of(sc, key)
    if sc.uncertainty is not None and key in sc.uncertainty.behaviour_keys and key not in sc.fixed_keys:
        return f"empty: drawn per run with the calibration's near-best vectors (scenario {value:g})"
    for k, lo, hi in sc.uncertainty.ranges if sc.uncertainty is not None else ():
        if k == key and key not in sc.fixed_keys:
            return f"empty: drawn per run from [{lo:g}, {hi:g}] (scenario {value:g})"
    return f"empty: the scenario's {value:g} in every run (not drawn)"


# ---------------------------------------------------------------------------------------------- settings
@dataclass(frozen=True)
class Settings:
    """What the controls say. `values` fixes a key for every run (it is not drawn then); `draws=False` turns every
    draw off (`uncertainty: fixed`). runs/seed/steps of None: runs DEFAULT_RUNS, the scenario's seed and horizon."""

    scenario: str = DEFAULT_SCENARIO
    runs: int | None = DEFAULT_RUNS
    seed: int | None = None
    steps: int | None = None
    values: tuple[tuple[str, float], ...] = ()
    draws: bool = True

    def with_value(self, key: str, value: float | None) -> Settings:
        """A copy with `key` fixed at `value` (None: back to the scenario's value or its draw)."""
        kept = tuple((k, v) for k, v in self.values if k != key)
        return replace(self, values=kept if value is None else (*kept, (key, float(value))))

    def value(self, key: str) -> float | None:
        """The setting's value for a dotted key, or None when the settings leave it at the scenario's."""
        return dict(self.values).get(key)


@dataclass(frozen=True)
class Resolved:
    """Settings checked against their scenario: the scenario with the fixed values, and the numbers to run."""

    settings: Settings
    base_path: Path
    base: Scenario
    scenario: Scenario
    runs: int
    seed: int
    steps: int
    overrides: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """The scenario's name, marked '(tweaked)' when the settings change it."""
        return self.base.name + (" (tweaked)" if self.overrides else "")


def load_base(folders: Folders, name: str) -> tuple[Path, Scenario]:
    """Load a scenario file of the scenarios folder with the command line's loader."""
    path = safe_path(folders.scenarios, name, "scenario", ".yaml")
    if not path.is_file() and (SHIPPED / path.name).is_file():
        path = SHIPPED / path.name  # a shipped scenario the folder does not hide
    if not path.is_file():
        raise DashboardError(f"scenario: {path.name} not found in {folders.scenarios}")
    try:
        return path, load_scenario(path)
    except ScenarioError as exc:
        raise DashboardError(str(exc)) from None


def resolve(settings: Settings, folders: Folders) -> Resolved:
    """Check the settings (runs 1..MAX_RUNS, seed >= 0, steps 1..the scenario's horizon, every value by the
    scenario loader) and build the scenario they describe; DashboardError names the first bad value."""
    path, base = load_base(folders, settings.scenario)
    if settings.runs is None or not 1 <= settings.runs <= MAX_RUNS:
        raise DashboardError(f"runs: give a whole number from 1 to {MAX_RUNS} (got {settings.runs})")
    seed = int(base.raw["seed"]) if settings.seed is None else settings.seed
    if seed < 0:
        raise DashboardError(f"seed: must be 0 or more (got {seed})")
    steps = base.steps if settings.steps is None else settings.steps
    if not 1 <= steps <= base.steps:
        raise DashboardError(f"steps: give a whole number from 1 to {base.steps}, the scenario's horizon (got {steps})")
    overrides: dict[str, Any] = {k: v for k, v in settings.values}
    if not settings.draws:
        overrides["uncertainty"] = "fixed"
    try:
        sc = base.with_overrides(overrides) if overrides else base
    except ScenarioError as exc:
        raise DashboardError(f"{exc.path}: {exc.reason}") from None
    return Resolved(settings, path, base, sc, int(settings.runs), seed, int(steps), overrides)


def make_model(r: Resolved) -> GreatGameModel:
    """The model the page steps: all runs in lockstep, run k seeded by SeedSequence(seed, spawn_key=(k,))."""
    return GreatGameModel(r.scenario, runs=r.runs, rng=r.seed, steps=r.steps)


# ---------------------------------------------------------------------------------------------- save
def scenario_document(r: Resolved, name: str) -> dict[str, Any]:
    """The YAML mapping that `extends` the selected scenario with only what the settings change: the fixed values
    (listed under `uncertainty.fixed`, so no run draws them), and runs, seed and steps when they differ."""
    doc: dict[str, Any] = {"extends": r.base_path.name, "name": name,
                           "description": f"{r.base.name} with {len(r.settings.values)} value(s) fixed in the "
                                          f"dashboard ({dt.date.today().isoformat()})"}
    if r.runs != int(r.base.raw["runs"]):
        doc["runs"] = r.runs
    if r.seed != int(r.base.raw["seed"]):
        doc["seed"] = r.seed
    if r.steps != r.base.steps and _horizon_fits(r):
        doc["steps"] = r.steps  # else the scenario keeps its horizon and the header says --steps
    doc.update(keypaths.nest(dict(r.settings.values)))
    if not r.settings.draws:
        doc["uncertainty"] = "fixed"
    elif r.settings.values:
        doc["uncertainty"] = {"fixed": sorted(k for k, _ in r.settings.values)}
    return doc


def _horizon_fits(r: Resolved) -> bool:
    """Whether the scenario can take the shorter horizon as its own `steps` (no event after it)."""
    try:
        r.base.with_overrides({"steps": r.steps})
    except ScenarioError:
        return False
    return True


def run_command(r: Resolved, path: Path) -> str:
    """The command line that gives the page's numbers from the saved file."""
    shown = path.relative_to(home()) if path.is_relative_to(home()) else path
    steps = f" --steps {r.steps}" if r.steps != r.base.steps and not _horizon_fits(r) else ""
    command = "python3 run.py" if checkout_root() else "greatgame"
    return f"{command} run {shown} --runs {r.runs} --seed {r.seed}{steps}"


def save_scenario(r: Resolved, folders: Folders, name: str) -> Path:
    """Write the settings as NAME.yaml in the scenarios folder (beside the scenario it extends), validated by the
    command line's loader first; an existing file is never replaced. Returns the path."""
    path = safe_path(folders.scenarios, name, "save as", ".yaml")
    shipped_base = r.base_path.parent == SHIPPED and not (path.parent / r.base_path.name).exists()
    if path.parent != r.base_path.parent and not shipped_base:
        raise DashboardError(f"save as: the saved file must sit beside {r.base_path.name} (in {r.base_path.parent})")
    if path.exists() or path.is_symlink():
        raise DashboardError(f"save as: {path.name} exists; choose another name (files are never replaced)")
    doc = scenario_document(r, path.stem)
    text = (f"# Saved from the greatgame dashboard. The page's numbers: {run_command(r, path)}\n"
            + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
    try:  # one writer of the folder at a time (greatgame.model.lock); another session's save is waited for
        hold = claim(path.parent, what="greatgame dashboard (Save as scenario)", wait=5.0)
    except ScenarioError as exc:
        raise DashboardError(f"save as: {exc.reason}") from None
    with hold:
        return _write_scenario(path, text, r)


def _write_scenario(path: Path, text: str, r: Resolved) -> Path:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)  # an installed package's user: ./scenarios on first save
        fd, tmp_name = tempfile.mkstemp(prefix=".dashboard-", suffix=".yaml", dir=path.parent)
        tmp = Path(tmp_name)
    except OSError as exc:
        raise DashboardError(f"save as: cannot write in {path.parent} ({exc.strerror})") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        try:
            check = load_scenario(tmp)  # the command line's loader, before the file gets its name
        except ScenarioError as exc:
            raise DashboardError(f"save as: the file would not load: {exc.path}: {exc.reason}") from None
        for key, value in r.settings.values:
            if value_of(check, key) != value:
                raise DashboardError(f"save as: {key} did not survive the round trip")
        try:
            os.link(tmp, path)  # fails if the name exists: never replaces a file
        except FileExistsError:
            raise DashboardError(f"save as: {path.name} exists; choose another name") from None
        except OSError as exc:
            raise DashboardError(f"save as: cannot write {path} ({exc.strerror})") from None
    except OSError as exc:
        raise DashboardError(f"save as: cannot write in {path.parent} ({exc.strerror})") from None
    finally:
        tmp.unlink(missing_ok=True)
    return path


# ---------------------------------------------------------------------------------------------- compare
@dataclass
class Comparison:
    """Two settings run with common seeds: the same runs, root seed and horizon, so run k of each shares its
    random streams and its parameter draws. `a` and `b` use each scenario's own trade basis; `by_basis` holds both
    sides run under each trade basis (for the sign robustness: docs/OUTPUT.md "Robust in sign"), `drawn` whether
    both sides draw their uncertainty section."""

    a: Results
    b: Results
    a_label: str
    b_label: str
    by_basis: dict[str, tuple[Results, Results]] = field(default_factory=dict)
    drawn: bool = False
    sign_share: float = SIGN_SHARE

    @property
    def powers(self) -> list[str]:
        """The powers both sides model, in A's order."""
        return [p for p in self.a.powers if p in self.b.powers]

    def regional(self, which: str, power: str) -> np.ndarray:
        """Regional influence (T, R) of `power` on side 'a' or 'b'."""
        res = self.a if which == "a" else self.b
        return res.regional_total[:, :, res.powers.index(power)]  # (T, R)

    def difference(self, power: str) -> np.ndarray:
        """B minus A, run by run, (T, R)."""
        return self.regional("b", power) - self.regional("a", power)

    def lead_probabilities(self, leader: str = "CHN", other: str = "RUS") -> tuple[float, float] | None:
        """P(`leader` ahead of `other` regionally at the horizon) on A and on B; None when either power is not modelled."""
        if not {leader, other} <= set(self.powers):
            return None
        return self.a.probability_leads(leader, other), self.b.probability_leads(leader, other)

    def sign(self, measure: Callable[[Results], np.ndarray]) -> str:
        """'robust in sign' or 'sign not robust (x% up, y% down)' for B minus A in `measure(results) -> (R,)`,
        paired within each trade basis (statistics.sign_robustness)."""
        diffs = {basis: measure(rb).astype(float) - measure(ra).astype(float) for basis, (ra, rb) in self.by_basis.items()}
        if not diffs:
            return "sign not robust (no trade basis run)"
        return sign_text(sign_robustness(diffs, self.sign_share, self.drawn).at())

    def horizon_effects(self) -> pd.DataFrame:
        """B minus A in each power's regional influence at the horizon, paired run by run
        (statistics.paired_difference, Student t): A and B medians, the mean difference, its 95% interval, the
        share of runs in which B is above and below A, and whether the sign is robust over both trade bases."""
        rows = []
        for p in self.powers:
            a, b = self.regional("a", p)[-1], self.regional("b", p)[-1]
            e = paired_difference(b, a).at()
            rows.append({"power": p, "A median": float(np.nanmedian(a)), "B median": float(np.nanmedian(b)),
                         "B - A mean": e["change"], "95% CI low": e["ci_low"], "95% CI high": e["ci_high"],
                         "runs B > A": e["share_positive"], "runs B < A": e["share_negative"],
                         "sign": self.sign(lambda r, p=p: r.regional_total[-1, :, r.powers.index(p)])})
        return pd.DataFrame(rows)

    def lead_difference(self, leader: str = "CHN", other: str = "RUS") -> dict[str, Any] | None:
        """B minus A in P(`leader` ahead of `other` regionally at the horizon), paired run by run: Tango's score
        interval (statistics.paired_difference with binary indicators) and its sign robustness (`sign`); None when
        either power is not modelled."""
        if not {leader, other} <= set(self.powers):
            return None

        def ahead(res: Results) -> np.ndarray:
            reg = res.regional_total[-1]
            return reg[:, res.powers.index(leader)] > reg[:, res.powers.index(other)]

        return {**paired_difference(ahead(self.b), ahead(self.a), binary=True).at(), "sign": self.sign(ahead)}


def compare(a: Resolved, b: Resolved, bases: tuple[str, ...] = TRADE_BASES) -> Comparison:
    """Run A and B in full with A's runs, seed and horizon (common seeds), and both again under each trade basis of
    `bases` that is not their own (the sign robustness needs both bases)."""
    steps = min(a.steps, b.scenario.steps)

    def run(sc: Scenario) -> Results:
        return Results.from_model(RunSet.replicates(sc, a.runs, a.seed, steps=steps).model().run())

    own = run(a.scenario), run(b.scenario)
    by_basis = {}
    for basis in bases:
        by_basis[basis] = tuple(res if r.scenario.raw["trade_basis"] == basis else
                                run(r.scenario.with_overrides({"trade_basis": basis}))
                                for r, res in zip((a, b), own, strict=True))
    la, lb = a.label, b.label
    if la == lb:
        la, lb = f"A: {la}", f"B: {lb}"
    return Comparison(own[0], own[1], la, lb, by_basis, draws_uncertainty(a.scenario) and draws_uncertainty(b.scenario))


# ---------------------------------------------------------------------------------------------- batches
@dataclass
class Batch:
    """A finished batch folder, read from its Parquet dataset: regional influence per scenario and power, (T, R)."""

    name: str
    manifest: dict[str, Any]
    scenarios: list[str]
    powers: list[str]
    dates: list[str]
    regional: dict[str, dict[str, np.ndarray]]
    differences: pd.DataFrame
    probabilities: pd.DataFrame
    writer: str | None = None  # who is still writing the folder (greatgame.model.lock), when someone is


def list_batches(folders: Folders) -> list[str]:
    """Folders of the results folder that hold a finished batch (manifest.json and design.parquet)."""
    if not folders.results.is_dir():
        return []
    return sorted(p.name for p in folders.results.iterdir()
                  if p.is_dir() and (p / "manifest.json").is_file() and (p / "design.parquet").is_file())


def open_batch(folders: Folders, name: str) -> Batch:
    """Read a batch folder written by `run.py batch`: no run is repeated. The differences and probabilities come
    from its compare/ folder, or are computed from its outcomes table when that folder is missing."""
    from greatgame.experiments.batch.store import Store

    path = safe_path(folders.results, name, "batch folder")
    if not path.is_dir():
        raise DashboardError(f"batch folder: {path.name} not found in {folders.results}")
    if not (path / "manifest.json").is_file() or not (path / "design.parquet").is_file():
        raise DashboardError(f"batch folder: {path.name} is not a finished batch (no manifest.json and "
                             "design.parquet); run `python3 run.py batch EXPERIMENT.yaml` first")
    store = Store(path)  # read only: the browser never takes the folder's writer lock
    writer = writer_of(path)
    try:
        manifest = store.read_json("manifest.json")
        design = pd.read_parquet(path / "design.parquet")
        import pyarrow.dataset as ds

        infl = store.read("influence", ["design", "replicate", "step", "date", "power", "influence"],
                          ds.field("state") == "REGION")
    except (OSError, ValueError) as exc:
        raise DashboardError(f"batch folder: cannot read {path.name} ({exc})") from None
    if infl.empty:
        raise DashboardError(f"batch folder: {path.name} has no influence rows")
    infl = infl.merge(design[["design", "scenario"]], on="design")
    infl["power"] = infl["power"].astype(str)
    dates = sorted(infl["date"].astype(str).unique())
    scenarios = list(dict.fromkeys(design["scenario"]))
    order = ["RUS", "CHN", "USA", "EU", "TUR"]
    powers = sorted(infl["power"].unique(), key=lambda p: order.index(p) if p in order else 9)
    regional: dict[str, dict[str, np.ndarray]] = {}
    for sc, part in infl.groupby("scenario", sort=False, observed=True):
        wide = part.pivot_table(index="step", columns=["power", "design", "replicate"], values="influence")
        regional[str(sc)] = {str(p): wide[p].to_numpy() for p in powers if p in wide.columns.get_level_values(0)}
    diff, probs = _batch_tables(store, path, manifest, design)
    if "robust_in_sign" in diff.columns:  # a comparison written before the rule has no sign columns
        diff = diff.assign(sign=[sign_text(r) for _, r in diff.iterrows()])
    return Batch(path.name, manifest, scenarios, powers, dates, regional, diff, probs, writer)


def _batch_tables(store: Any, path: Path, manifest: dict, design: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    cmp = path / "compare"
    if (cmp / "differences.csv").is_file():
        diff = pd.read_csv(cmp / "differences.csv")
        probs = pd.read_csv(cmp / "probabilities.csv") if (cmp / "probabilities.csv").is_file() else pd.DataFrame()
        return diff, probs
    from greatgame.experiments.analysis.compare import differences, probabilities

    oc = store.read("outcomes")
    if oc.empty:
        return pd.DataFrame(), pd.DataFrame()
    names = [o["name"] for o in manifest.get("outcomes", [])]
    oc = oc.merge(design[["design", "scenario", "point", *(c for c in ("trade_basis", "uncertainty_drawn")
                                                            if c in design.columns)]], on="design")
    reference = manifest.get("reference") or design["scenario"].iloc[0]
    diff = differences(oc, names, reference, within_basis=manifest.get("trade_bases") is not None,
                       threshold=float(manifest.get("sign_share", SIGN_SHARE)))
    return diff, probabilities(oc, names)
