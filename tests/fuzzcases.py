"""Fuzzed input files, shared by tests/test_fuzz.py (Hypothesis) and benchmarks/fuzz_inputs.py (the long campaign).

A case starts from a shipped scenario (scenarios/*.yaml) or experiment (experiments/*.yaml) and applies a few
mutations drawn from a `random.Random`: Hypothesis' `st.randoms()` in the tests, a seeded one in the campaign.
Mutations: wrong types, out-of-range, huge and tiny numbers, NaN/inf spelled in YAML, unicode and control
characters, unknown and duplicate keys, deep nesting, long lists, long names and paths, events outside the horizon,
`extends` chains (cycles, missing, long, binary or special files), YAML tags and aliases, truncated and non-UTF-8
files, bad `--set` overrides, and for experiments bad designs, outcomes, design tables and fuzzed scenarios.

The contract every case is checked against (`check_error`, `check_cli`): a valid result, or a `ScenarioError`
whose message is one line naming the file (and the key path, or the place in the file); exit status 2 with that
one line on the command line. Never a traceback (exit 1), a hang or a partial output folder.
"""

from __future__ import annotations

import datetime as dt
import random
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
SCENARIO_FILES = sorted((ROOT / "scenarios").glob("*.yaml"))
EXPERIMENT_FILES = sorted((ROOT / "experiments").glob("*.yaml"))

NUMBERS: list[Any] = [0, -0.0, -1, 1, 0.5, 2, 3, 2.5, 1e-300, 5e-324, -1e-300, 1e308, -1e308, 10**30, 2**63, 2**64,
                      -(2**63), 10**400, float("nan"), float("inf"), float("-inf"), 10**7, 10**7 + 1, 10**6, 10**5,
                      10001, 64, 1000, 1e3, 100000.5]
STRINGS: list[str] = ["", " ", "all", "2024Q1", "2099-13", "x" * 5000, "\x00", "a\x00b", "\x1b[31mred", "ü∂ßΩ",
                      "😀" * 20, "\u202egnp.", "\ufeff", "a\nb", "line\r\nbreak", "../../etc", "/", ".", "~", "CON",
                      "null", "NaN", "-1", "{", "*", "&a", "RUS", "KAZ", "EAEU", "compact", "full", "lhs", "sobol",
                      "grid", "table", "2022Q4", "2032Q4", "0000-01", "9999Q4", "2024-00", "\udcff".encode(
                          "utf-8", "surrogateescape").decode("utf-8", "replace"), "\t", "\u2028", "\x85"]
DATES: list[Any] = ["2024Q1", "2022Q4", "2032Q3", "2032Q4", "2033Q1", "2040-01", "2017Q1", "1999-12", "2024Q5",
                    "2024Q0", "2024-13", "2024-1", "2024-01-01", "0000-01", "9999-12", "99999-01", "Q1", "", 2024,
                    dt.date(2025, 1, 1), dt.date(1, 1, 1), 2025.5, None, [2024, 1], "2024 Q2", "２０２４Q1"]
EVENT_TYPES = ["sanctions", "budget", "threat", "secondary_sanctions", "energy_price", "corridor", "trade_shock",
               "format_open", "format_close", "status", "parameter", "doctrine", "unknown_type", "", None, 3]
EVENT_FIELDS = {"power": ["RUS", "CHN", "USA", "TUR", "XXX", "all", ["RUS", "CHN"], [], 1],
                "state": ["KAZ", "UZB", "AFG", ["KAZ"], "all", None],
                "states": ["all", ["KAZ", "KGZ"], [], ["AFG"], "KAZ", [1]],
                "format": ["EAEU", "CSTO", "CA-Russia", "OTS", "XXX", ["EAEU"], 0],
                "level": NUMBERS, "scale": NUMBERS, "index": NUMBERS, "strength": NUMBERS, "value": NUMBERS,
                "status": ["none", "partial", "member", "observer", 1],
                "doctrine": ["none", "non_bloc", "permanent_neutrality", "isolationist"],
                "key": ["rationality", "weights.trade", "weights", "threat_level", "nope", "trade.noise_sd", "", "."],
                "note": ["x", "x" * 10000, "\x00"], "step": [0, 1, 39, 40, 41, -1, 10**6, 10**6 + 1, 2.5, "1"]}
CONTROL = ["\x00", "\x01", "\x07", "\x08", "\x0b", "\x1b", "\x7f", "\x85", "\u2028", "\ufeff", "\ufffe", "\t", "\r"]
YAML_SPECIALS = ["!!python/object/apply:os.system ['true']", "!!python/name:os.system", "!!binary aGVsbG8=",
                 "&a [*a]", "*undefined", "!!set {a, b}", "!!timestamp 2024-01-01", "1.0e400", "-1.0e400",
                 "0x1F", "0o17", "1_000", ".NaN", "-.Inf", ".inf", "~", "!!str 3", "!!float 'x'",
                 "!!int '99999999999999999999999999999999'", "!!int 0b101", "!!float .nan", "{? [a, b]: 1}",
                 "[a, {b: c}, [d]]", "!!omap [a: 1, a: 2]", "!!pairs [a: 1]", "!unknown_tag 1", "2024-01-01 10:00:00",
                 "'unterminated", "\"\\x00\"", "\"\\ud800\"", "{a: 1, a: 2}", "- a\n- b", "|\n  text", ">-\n",
                 "!!null ''", "!!bool yes", "yes", "off", "0777", "+12", "1e3", "12e03", "0.", "-.5"]
SET_KEYS = ["parameters.rationality", "parameters.weights.trade", "steps", "runs", "name", "name.a", "start",
            "parameters", "powers.RUS", "powers.RUS.sanctions", "powers.XXX.sanctions", "", ".", "a..b", "events",
            "uncertainty", "uncertainty.ranges", "influence.channel_weights.trade", "parameters.weights.trade.x",
            "description", "events_add", "extends", "seed", "formats.EAEU.depth", "formats.EAEU.eligible"]
SET_VALUES = ["1", "0.5", "-1", ".nan", ".inf", "1e400", "1.0e400", "[", "{a: 1", "'x", "", "null", "[1, 2]",
              "{a: 1}", "fixed", "x" * 3000, "!!python/name:os.system", "&a [*a]", "10000000", "2**63", "\x00",
              "0x10", "true", "2024Q1", "9999Q4", "0000Q1"]
SPECIAL_PATHS = ["/dev/null", "/dev/zero", "/proc/self/status", "/", "/nonexistent/dir/x.yaml", "\x00.yaml",
                 "a\x00b.yaml", "", ".", "..", "~/x.yaml", "x" * 5000 + ".yaml", "/".join(["d" * 200] * 30) + ".yaml",
                 "ü/😀.yaml", "baseline.yaml ", "BASELINE.YAML", "nul\n.yaml", "binary.bin", "folder"]
LIMITS = {"replicates": 4, "steps": 4, "points": 8, "chunk": 1000}  # batch cases that run stay small
CLI_TIMEOUT = 120.0  # seconds a CLI case may take before it counts as a hang


@dataclass
class Case:
    """Files of one fuzz case (name -> bytes, relative to the case folder), the main file, `--set` overrides."""

    kind: str  # "scenario" or "experiment"
    files: dict[str, bytes] = field(default_factory=dict)
    main: str = "main.yaml"
    overrides: list[str] = field(default_factory=list)
    ops: list[str] = field(default_factory=list)  # names of the mutations, for the report

    def write(self, folder: Path) -> Path:
        """Write the files into `folder` (subfolders created; a folder named 'folder' is made for path cases)."""
        (folder / "folder").mkdir(parents=True, exist_ok=True)
        (folder / "binary.bin").write_bytes(bytes(range(256)) * 8)
        for name, data in self.files.items():
            p = folder / name
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)
        return folder / self.main

    def describe(self) -> str:
        return f"{self.kind} case, mutations {self.ops}, --set {self.overrides}"


# ------------------------------------------------------------------ helpers
def _load(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _anchor_scenario(data: dict, folder: Path) -> dict:
    """Make the relative paths of a shipped scenario absolute, so that its copy elsewhere means the same."""
    if isinstance(data.get("extends"), str):
        data["extends"] = str(folder / data["extends"])
    beh = (data.get("uncertainty") or {}).get("behaviour") if isinstance(data.get("uncertainty"), dict) else None
    if isinstance(beh, dict) and isinstance(beh.get("file"), str):
        beh["file"] = str(folder / beh["file"])
    return data


def _anchor_experiment(data: dict, folder: Path) -> dict:
    data["scenarios"] = [str((folder / s).resolve()) for s in data.get("scenarios", [])]
    if isinstance(data.get("design"), dict) and isinstance(data["design"].get("file"), str):
        data["design"]["file"] = str((folder / data["design"]["file"]).resolve())
    return data


def _nodes(data: Any, path: tuple = ()) -> list[tuple[tuple, Any]]:
    """Every (path, value) below `data` (dict keys and list indexes)."""
    out = [(path, data)]
    if isinstance(data, dict):
        for k, v in data.items():
            out += _nodes(v, (*path, k))
    elif isinstance(data, list):
        for i, v in enumerate(data[:50]):
            out += _nodes(v, (*path, i))
    return out


def _get(data: Any, path: tuple) -> Any:
    for k in path:
        data = data[k]
    return data


def _set(data: Any, path: tuple, value: Any) -> None:
    _get(data, path[:-1])[path[-1]] = value


def _delete(data: Any, path: tuple) -> None:
    del _get(data, path[:-1])[path[-1]]


def value(rnd: random.Random, depth: int = 0) -> Any:
    """A value of any kind, often wrong for where it lands."""
    k = rnd.randrange(10 if depth < 2 else 6)
    if k <= 1:
        return rnd.choice(NUMBERS)
    if k == 2:
        return rnd.choice(STRINGS)
    if k == 3:
        return rnd.choice([True, False, None, dt.date(2024, 1, 1), -7, 0.1])
    if k in (4, 5):
        return rnd.uniform(-2, 2) * 10 ** rnd.randint(-3, 3)
    if k in (6, 7):
        return [value(rnd, depth + 1) for _ in range(rnd.randrange(4))]
    return {rnd.choice(["low", "high", "values", "type", "file", "x", 1, "power", "RUS"]): value(rnd, depth + 1)
            for _ in range(rnd.randrange(4))}


# ------------------------------------------------------------------ structural mutations (on the mapping)
def m_set_any(data: dict, rnd: random.Random, case: Case) -> None:
    path, _ = rnd.choice(_nodes(data)[1:] or [((), None)])
    if path:
        _set(data, path, value(rnd))


def m_set_number(data: dict, rnd: random.Random, case: Case) -> None:
    leaves = [p for p, v in _nodes(data) if p and isinstance(v, (int, float)) and not isinstance(v, bool)]
    if leaves:
        _set(data, rnd.choice(leaves), rnd.choice(NUMBERS) if rnd.random() < 0.8 else rnd.choice(STRINGS))


def m_set_string(data: dict, rnd: random.Random, case: Case) -> None:
    leaves = [p for p, v in _nodes(data) if p and isinstance(v, str)]
    if leaves:
        _set(data, rnd.choice(leaves), rnd.choice(STRINGS) if rnd.random() < 0.8 else rnd.choice(NUMBERS))


def m_delete(data: dict, rnd: random.Random, case: Case) -> None:
    paths = [p for p, _ in _nodes(data) if p]
    if paths:
        _delete(data, rnd.choice(paths))


def m_unknown_key(data: dict, rnd: random.Random, case: Case) -> None:
    maps = [p for p, v in _nodes(data) if isinstance(v, dict)]
    key = rnd.choice([*STRINGS, "rationalty", "Name", "steps ", 1, 2.5, True, None, "events_add", "extends"])
    _get(data, rnd.choice(maps))[key] = value(rnd)


def m_container(data: dict, rnd: random.Random, case: Case) -> None:
    paths = [(p, v) for p, v in _nodes(data) if p and isinstance(v, (dict, list))]
    if paths:
        p, v = rnd.choice(paths)
        _set(data, p, list(v.items()) if isinstance(v, dict) else {i: x for i, x in enumerate(v)})


def m_long_list(data: dict, rnd: random.Random, case: Case) -> None:
    n = rnd.choice([100, 1000, 5000, 20000])
    paths = [p for p, _ in _nodes(data) if p]
    if paths:
        p = rnd.choice(paths)
        _set(data, p, [_get(data, p)] * n if rnd.random() < 0.5 else list(range(n)))


def m_long_name(data: dict, rnd: random.Random, case: Case) -> None:
    data["name"] = rnd.choice(["x" * rnd.choice([255, 256, 5000, 100000]), "a/b", "../up", "\x00", "", " ",
                               "ü😀", "a\nb", ".", "..", "-rf", "name with spaces", "x" * 300 + "/y"])


def m_events(data: dict, rnd: random.Random, case: Case) -> None:
    key = "events_add" if "extends" in data else "events"
    events = data.get(key) if isinstance(data.get(key), list) else []
    for _ in range(rnd.choice([1, 1, 2, 3, 100])):
        kind = rnd.choice(EVENT_TYPES)
        ev: dict[Any, Any] = {"type": kind}
        if rnd.random() < 0.85:
            ev["at"] = rnd.choice(DATES)
        if rnd.random() < 0.25:
            ev["step"] = rnd.choice(EVENT_FIELDS["step"])
        for f in ("power", "state", "states", "format", "level", "scale", "index", "strength", "value", "status",
                  "doctrine", "key", "note"):
            if rnd.random() < 0.35:
                ev[f] = rnd.choice(EVENT_FIELDS[f])
        events.append(ev)
    data[key] = events


def m_numeric_override(data: dict, rnd: random.Random, case: Case) -> None:
    for _ in range(rnd.randrange(1, 3)):
        case.overrides.append(f"{rnd.choice(SET_KEYS)}={rnd.choice(SET_VALUES)}" if rnd.random() < 0.9
                              else rnd.choice(["novalue", "=1", "==", "a=b=c"]))


def m_extends(data: dict, rnd: random.Random, case: Case) -> None:
    """An `extends` chain of 1-5 files in the case folder ending at the shipped parent, with a twist."""
    parent = data.get("extends", str(ROOT / "scenarios" / "baseline.yaml"))
    n = rnd.randrange(1, 6)
    names = [f"chain{i}.yaml" for i in range(n)]
    twist = rnd.choice(["none", "none", "cycle", "self", "missing", "special", "nonstring", "empty", "nested"])
    for i, name in enumerate(names):
        target = names[i + 1] if i + 1 < n else parent
        if i + 1 == n and twist == "cycle":
            target = "../main.yaml" if "/" in name else "main.yaml"
        if i + 1 == n and twist == "missing":
            target = "gone.yaml"
        if i + 1 == n and twist == "special":
            target = rnd.choice(SPECIAL_PATHS)
        if i + 1 == n and twist == "nonstring":
            target = rnd.choice([1, None, ["baseline.yaml"], {"a": 1}, True, 2.5])
        body: dict[str, Any] = {"extends": target, "description": f"link {i}"}
        if rnd.random() < 0.3:
            body["parameters"] = {"threat_level": rnd.choice([0.1, 0.9, 1.5, "x"])}
        text = yaml.safe_dump(body, allow_unicode=True) if twist != "empty" or i + 1 < n else ""
        case.files[name] = text.encode("utf-8", "surrogatepass")
    first = names[0] if twist != "self" else "main.yaml"
    data["extends"] = first if twist != "nested" else "sub/../" + first
    if twist == "special" and rnd.random() < 0.5:
        data["extends"] = rnd.choice(SPECIAL_PATHS)


def m_uncertainty(data: dict, rnd: random.Random, case: Case) -> None:
    choice = rnd.randrange(5)
    if choice == 0:
        data["uncertainty"] = rnd.choice(["fixed", "random", None, 1, [], {}])
    elif choice == 1:
        data["uncertainty"] = {"behaviour": {"file": rnd.choice(SPECIAL_PATHS + ["beh.csv"])}}
        case.files["beh.csv"] = rnd.choice([b"", b"parameters.rationality\n", b"parameters.rationality\nx\n",
                                            b"parameters.rationality\n1e400\n", b"nope\n1\n", b"\xff\xfe\x00",
                                            b"parameters.rationality,parameters.weights.trade\n20,3\n20\n",
                                            b"parameters.rationality\n" + b"20\n" * 100000])
    else:
        key = rnd.choice(["parameters.rationality", "parameters.threat_level", "influence.channel_weights.trade",
                          "powers.RUS.instrument_shares.security", "nope", "parameters.weights", 1])
        data["uncertainty"] = {"ranges": {key: rnd.choice([{"low": 0, "high": 100}, {"low": 1, "high": 0},
                                                           {"low": float("nan"), "high": 1}, {"low": 0},
                                                           {"low": -1e308, "high": 1e308}, [0, 1], 5,
                                                           {"low": 0, "high": 1, "source": "x", "extra": 1}])}}


# experiment-specific
def m_design(data: dict, rnd: random.Random, case: Case) -> None:
    method = rnd.choice(["grid", "lhs", "sobol", "table", "random", None, 1])
    design: dict[str, Any] = {"method": method}
    if rnd.random() < 0.8:
        design["points"] = rnd.choice([1, 2, 3, 4, 8, 0, -1, 10**6, 10**6 + 1, 2**20, 100001, 65536, 2.5, "4",
                                       float("nan")])
    if rnd.random() < 0.3:
        design["seed"] = rnd.choice(NUMBERS)
    params: dict[Any, Any] = {}
    for _ in range(rnd.randrange(0, 4)):
        key = rnd.choice(["parameters.rationality", "parameters.weights.trade", "steps", "start", "runs", "name",
                          "parameters.threat_level", "powers.RUS.budget_usd_bn_per_year", "nope", "parameters",
                          "formats.EAEU.depth", "influence.channel_weights.trade", "uncertainty", 1, ""])
        params[key] = rnd.choice([{"low": 0.1, "high": 0.9}, {"low": 1, "high": 0}, {"low": 0, "high": 1,
                                  "scale": "log"}, {"values": [0.2, 0.4]}, {"values": []},
                                  {"values": list(range(rnd.choice([3, 50, 400])))}, {"low": "a", "high": 1},
                                  {"low": 0, "high": float("inf")}, [0, 1], 0.5, {"values": [float("nan")]},
                                  {"low": 1e-300, "high": 1e308, "scale": "log"}, {"values": ["2024Q1", "2026Q1"]},
                                  {"values": [10, 2000]}])
    if params or rnd.random() < 0.5:
        design["parameters"] = params
    if method == "table" or rnd.random() < 0.1:
        design["file"] = rnd.choice(["table.csv", "table.csv", "binary.bin", "folder", "missing.csv"]
                                    + SPECIAL_PATHS[:6])
        case.files["table.csv"] = rnd.choice([
            b"", b"parameters.rationality\n", b"parameters.rationality\n20\n24\n", b"parameters.rationality\nx\n",
            b"parameters.rationality\nnan\n", b"parameters.rationality\ninf\n", b"nope\n1\n", b"steps\n3\n",
            b"parameters.rationality,parameters.weights.trade\n20,3\n21\n", b"\xff\xfe\x00\x01",
            b"a,a\n1,2\n", b"parameters.rationality\n" + b"20\n" * 200000, b'"unterminated\n1\n',
            b"parameters.rationality\n1e400\n", b"parameters.rationality\n-5\n"])
    data["design"] = design


def m_outcomes(data: dict, rnd: random.Random, case: Case) -> None:
    outs = data.get("outcomes") if isinstance(data.get("outcomes"), list) else []
    for _ in range(rnd.randrange(1, 4)):
        t = rnd.choice(["regional_influence", "influence", "first_lead", "status", "turnover", "nope", None, 1])
        o: dict[Any, Any] = {"type": t}
        for f in ("power", "state", "leader", "follower", "format", "partner", "name", "extra"):
            if rnd.random() < 0.4:
                o[f] = rnd.choice(["RUS", "CHN", "KAZ", "REGION", "EAEU", "XXX", 1, None, "", "dup", ["RUS"]])
        outs.append(o if rnd.random() < 0.9 else rnd.choice(["regional_influence", 3, None, []]))
    data["outcomes"] = outs


def m_scenarios(data: dict, rnd: random.Random, case: Case) -> None:
    if not isinstance(data.get("scenarios"), list):
        data["scenarios"] = [str(ROOT / "scenarios" / "baseline.yaml")]
    kind = rnd.randrange(4)
    if kind == 0:  # a fuzzed scenario file
        sub = scenario_case(rnd, max_ops=2)
        for name, body in sub.files.items():
            case.files[f"sc/{name}"] = body
        data["scenarios"] = [*data.get("scenarios", [])[:1], "sc/main.yaml"]
    elif kind == 1:
        data["scenarios"] = [rnd.choice(SPECIAL_PATHS + ["missing.yaml", "binary.bin"])]
    elif kind == 2:
        data["scenarios"] = list(data["scenarios"]) * rnd.choice([2, 3])
    else:
        data["scenarios"] = rnd.choice([[], "x", None, [1], [str(ROOT / "scenarios" / "baseline.yaml")] * 1,
                                        [str(p) for p in SCENARIO_FILES[:3]]])


# benign mutations: most of their cases are valid, so that valid files are exercised end to end too
def m_scale_number(data: dict, rnd: random.Random, case: Case) -> None:
    leaves = [(p, v) for p, v in _nodes(data) if p and isinstance(v, (int, float)) and not isinstance(v, bool)
              and p[0] in ("parameters", "powers", "influence") and "instrument_shares" not in p
              and "channel_weights" not in p]
    if leaves:
        p, v = rnd.choice(leaves)
        _set(data, p, type(v)(v * rnd.choice([0, 0.5, 0.9, 1]) if isinstance(v, float) else v))


def m_valid_event(data: dict, rnd: random.Random, case: Case) -> None:
    key = "events_add" if "extends" in data else "events"
    events = data.get(key) if isinstance(data.get(key), list) else []
    at = rnd.choice(["2023Q1", "2024-01", "2025Q3", "2028-06", "2032Q3"])
    events.append(rnd.choice([{"at": at, "type": "threat", "level": rnd.choice([0.0, 0.5, 1.0])},
                              {"at": at, "type": "sanctions", "power": "RUS", "level": 0.2, "note": "ü😀"},
                              {"step": rnd.choice([0, 1, 2]), "type": "energy_price", "index": 1.5},
                              {"at": at, "type": "budget", "power": "CHN", "scale": 2.0},
                              {"at": at, "type": "parameter", "key": "rationality", "value": 10}]))
    data[key] = events


def m_unicode_text(data: dict, rnd: random.Random, case: Case) -> None:
    data[rnd.choice(["name", "description"])] = rnd.choice(["Сценарий ü😀", "a b", "x" * 200, "名前", "tab\there"])


def m_plain_chain(data: dict, rnd: random.Random, case: Case) -> None:
    parent = data.get("extends", str(ROOT / "scenarios" / "baseline.yaml"))
    case.files["link.yaml"] = yaml.safe_dump({"extends": parent, "description": "a link"}).encode()
    data["extends"] = "link.yaml"


BENIGN_SCENARIO_OPS = [m_scale_number, m_valid_event, m_unicode_text, m_plain_chain]


COMMON = [m_set_any, m_set_number, m_set_number, m_set_string, m_delete, m_unknown_key, m_container, m_long_list,
          m_numeric_override]
SCENARIO_OPS = [*COMMON, m_long_name, m_events, m_events, m_extends, m_extends, m_uncertainty]
EXPERIMENT_OPS = [*COMMON, m_design, m_design, m_outcomes, m_scenarios, m_scenarios]


# ------------------------------------------------------------------ text mutations (on the YAML text)
def _deep(rnd: random.Random) -> str:
    n = rnd.choice([50, 500, 990, 1100, 3000, 20000])
    style = rnd.randrange(3)
    if style == 0:
        return "[" * n + "]" * n
    if style == 1:
        return "{a: " * n + "1" + "}" * n
    return "\n" + "".join(" " * i + "a:\n" for i in range(min(n, 3000))) + " " * min(n, 3000) + "1"


def _laughs() -> str:
    text = "lol0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    for i in range(1, 10):
        refs = ", ".join([f"*l{i - 1}"] * 9)
        text += f"lol{i}: &l{i} [{refs}]\n"
    return text


def text_mutation(text: str, rnd: random.Random, case: Case) -> str:
    """One mutation of the YAML text (what a structure cannot express)."""
    lines = text.split("\n")
    top = [ln.split(":")[0] for ln in lines if ln and not ln[0].isspace() and ":" in ln and not ln.startswith("#")]
    kind = rnd.randrange(9)
    case.ops.append(f"text{kind}")
    if kind == 0 and top:  # duplicate key (top level, or nested by repeating an indented line)
        i = rnd.randrange(len(lines))
        return "\n".join([*lines[: i + 1], lines[i], *lines[i + 1:]]) if lines[i].strip() else text + f"\n{top[0]}: x\n"
    if kind == 1:  # a control or odd character somewhere
        i = rnd.randrange(len(text) + 1)
        return text[:i] + rnd.choice(CONTROL) + text[i:]
    if kind == 2:  # truncated
        return text[: rnd.randrange(len(text) + 1)]
    if kind == 3:  # deep nesting under a key
        key = rnd.choice([*top, "description", "zzz"]) if top else "zzz"
        return text + f"\n{key}: {_deep(rnd)}\n"
    if kind == 4 and top:  # a YAML special as the value of a key
        key = rnd.choice(top)
        return "\n".join(ln for ln in lines if not ln.startswith(f"{key}:")) + f"\n{key}: {rnd.choice(YAML_SPECIALS)}\n"
    if kind == 5:  # billion laughs
        return text + "\n" + _laughs() + f"{rnd.choice(['description', 'outcomes', 'events', 'uncertainty'])}: *l9\n"
    if kind == 6:  # tabs, CRLF, BOM
        return rnd.choice(["\ufeff" + text, text.replace("\n", "\r\n"), text.replace("  ", "\t", 1), text + "\t"])
    if kind == 7:  # a top-level document marker or a second document
        return rnd.choice(["---\n" + text + "\n...\n", text + "\n---\nname: second\n", "%YAML 1.1\n---\n" + text])
    return text + f"\n{rnd.choice(YAML_SPECIALS)}\n"  # stray content at the end


def _encode(text: str, rnd: random.Random, case: Case) -> bytes:
    data = text.encode("utf-8", "surrogatepass")
    if rnd.random() < 0.04:
        case.ops.append("bytes")
        i = rnd.randrange(len(data) + 1)
        data = data[:i] + rnd.choice([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\x00\x00\xfe\xff", b"\x80"]) + data[i:]
    return data


_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def _dump(data: dict, rnd: random.Random) -> str:
    return yaml.dump(data, Dumper=_DUMPER, allow_unicode=rnd.random() < 0.7, sort_keys=False,
                     width=rnd.choice([80, 10**6]), default_flow_style=rnd.choice([False, None]))


def _mutate(kind: str, data: dict, rnd: random.Random, case: Case, ops: list, max_ops: int) -> None:
    for _ in range(rnd.randrange(1, max_ops + 1)):
        op = rnd.choice(ops)
        case.ops.append(op.__name__[2:])
        op(data, rnd, case)
    text = _dump(data, rnd)
    if rnd.random() < 0.3:
        text = text_mutation(text, rnd, case)
    case.files[case.main] = _encode(text, rnd, case)


def scenario_case(rnd: random.Random, max_ops: int = 3) -> Case:
    """A fuzzed scenario file (plus the files it names) from one of the shipped scenarios."""
    src = rnd.choice(SCENARIO_FILES)
    case = Case("scenario")
    case.ops.append(src.stem)
    data = _anchor_scenario(_load(src), src.parent)
    if rnd.random() < 0.35:
        case.ops.append("benign")
        for _ in range(rnd.randrange(1, 3)):
            op = rnd.choice(BENIGN_SCENARIO_OPS)
            case.ops.append(op.__name__[2:])
            op(data, rnd, case)
        case.files[case.main] = _dump(data, rnd).encode("utf-8")
        return case
    _mutate("scenario", data, rnd, case, SCENARIO_OPS, max_ops)
    return case


def experiment_case(rnd: random.Random, max_ops: int = 3, small: bool = True) -> Case:
    """A fuzzed experiment file from one of the shipped experiments; `small` first shrinks it (2 scenarios, 2
    replicates, 2 steps, few design points) so that a valid case runs in seconds."""
    src = rnd.choice(EXPERIMENT_FILES)
    case = Case("experiment")
    case.ops.append(src.stem)
    data = _anchor_experiment(_load(src), src.parent)
    if small:
        data.update({"replicates": 2, "steps": 2, "chunk": 4})
        data["scenarios"] = data["scenarios"][:2]
        if isinstance(data.get("design"), dict):
            design = data["design"]
            if design.get("method") == "sobol":
                design["points"] = 2
                design["parameters"] = dict(list(design["parameters"].items())[:2])
            elif "points" in design:
                design["points"] = 4
            if design.get("method") == "table":  # a small copy of the table
                rows = Path(design["file"]).read_text(encoding="utf-8").splitlines()[:3]
                case.files["small_table.csv"] = ("\n".join(rows) + "\n").encode()
                design["file"] = "small_table.csv"
    if rnd.random() < 0.3:  # benign: a seed, a name, a chunk or the record mode
        case.ops.append("benign")
        key, val = rnd.choice([("seed", rnd.choice([0, 1, 2**63 - 1])), ("name", "ü😀 e"), ("chunk", 1),
                               ("record", "full"), ("description", "x" * 300), ("steps", 1), ("replicates", 1)])
        data[key] = val
        case.files[case.main] = _dump(data, rnd).encode("utf-8")
        return case
    _mutate("experiment", data, rnd, case, EXPERIMENT_OPS, max_ops)
    if small:
        _keep_small(case, rnd)
    return case


def _keep_small(case: Case, rnd: random.Random) -> None:
    """Valid-but-large sizes (many replicates, steps or points) would make a batch case run for minutes: bring
    them back to small values. Values the schema or the size caps refuse are kept (their refusal is tested)."""
    try:
        data = yaml.safe_load(case.files[case.main])
    except (yaml.YAMLError, UnicodeDecodeError, RecursionError, ValueError):
        return
    if not isinstance(data, dict):
        return
    changed = False

    def clamp(node: dict, key: str, limit: int, refused_above: float) -> None:
        nonlocal changed
        v = node.get(key)
        if isinstance(v, (int, float)) and not isinstance(v, bool) and limit < v <= refused_above:
            node[key] = limit
            changed = True

    clamp(data, "replicates", LIMITS["replicates"], 10**7)
    clamp(data, "steps", LIMITS["steps"], 10000)
    if isinstance(data.get("design"), dict):
        clamp(data["design"], "points", LIMITS["points"], 100000)
        for spec in (data["design"].get("parameters") or {}).values() if isinstance(
                data["design"].get("parameters"), dict) else []:
            if isinstance(spec, dict) and isinstance(spec.get("values"), list) and len(spec["values"]) > 8:
                spec["values"] = spec["values"][:8]
                changed = True
    if changed:
        try:
            case.files[case.main] = _dump(data, rnd).encode("utf-8", "surrogatepass")
        except RecursionError:  # a deeply nested file (its load is what is tested): keep it as it is
            pass


def any_case(rnd: random.Random, small: bool = True) -> Case:
    return scenario_case(rnd) if rnd.random() < 0.65 else experiment_case(rnd, small=small)


# ------------------------------------------------------------------ the contract
FILE_LEVEL = ("file not found", "cannot read", "YAML", "the file is empty", "the top level", "not UTF-8 text",
              "not a regular file", "is too large", "nesting")


def check_error(exc: BaseException, folder: Path) -> str | None:
    """None when `exc` is the promised input error: a ScenarioError on one line that names a file and a key path
    (or the file as a whole for file-level problems); otherwise what is wrong with it."""
    from greatgame.model.yamlio import ScenarioError

    if not isinstance(exc, ScenarioError):
        return f"not a ScenarioError: {type(exc).__name__}: {str(exc)[:300]}"
    msg = str(exc)
    if "\n" in msg or "\r" in msg:
        return f"message is not one line: {msg[:300]!r}"
    if not exc.file or exc.file == "<dict>":
        return f"names no file: {msg[:300]!r}"
    if not exc.path and not exc.reason.startswith(FILE_LEVEL):
        return f"names no key: {msg[:300]!r}"
    if len(msg) > 2000:
        return f"message of {len(msg)} characters"
    return None


@dataclass
class Outcome:
    """What one CLI case did: 'ok', 'refused', 'traceback' (exit 1 or a Python traceback), 'hang', 'bad' (exit 2
    but not the promised one line, or a partial output folder)."""

    verdict: str
    detail: str = ""
    seconds: float = 0.0


def cli_argv(case: Case, path: Path, mode: str, out: Path) -> list[str]:
    sets = [a for s in case.overrides for a in ("--set", s.replace("\x00", "0"))]  # argv cannot hold NUL
    if mode == "check":
        return ["check", str(path), *sets]
    if mode == "run":
        return ["run", str(path), "--steps", "2", "--runs", "2", "--out", str(out), "--quiet", *sets]
    return ["batch", str(path), "--out", str(out), "--quiet", "--no-compare"]


def check_cli(rc: int | None, stdout: str, stderr: str, mode: str, out: Path, seconds: float = 0.0) -> Outcome:
    """Judge one command-line case by its exit status, its output and the output folder."""
    if rc is None:
        return Outcome("hang", f"no exit after {CLI_TIMEOUT:.0f} s", seconds)
    if rc == 1 or "Traceback" in stderr or rc not in (0, 2):
        return Outcome("traceback", f"exit {rc}: {stderr.strip()[-1500:]}", seconds)
    if rc == 2:
        lines = stderr.strip("\n").split("\n")
        if len(lines) != 1 or not lines[0].startswith("error: "):
            return Outcome("bad", f"exit 2 but not one line: {stderr[:500]!r}", seconds)
        if mode != "check" and out.exists():
            return Outcome("bad", f"exit 2 left an output folder {out}: {stderr[:300]}", seconds)
        return Outcome("refused", lines[0][:300], seconds)
    if mode == "run":
        missing = [f for f in ("manifest.json", "influence.parquet", "status.parquet", "trade.parquet",
                               "parameters.parquet", "influence.png") if not (out / f).exists()]
        if missing:
            return Outcome("bad", f"exit 0 but {missing} missing in {out}", seconds)
    if mode == "batch" and not (out / "manifest.json").exists():
        return Outcome("bad", f"exit 0 but no manifest.json in {out}", seconds)
    return Outcome("ok", "", seconds)


def limit_memory(limit: int) -> None:
    """Cap this process's address space at `limit` bytes (a subprocess's preexec_fn)."""
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def run_cli(case: Case, folder: Path, mode: str, timeout: float = CLI_TIMEOUT, memory: int | None = None) -> Outcome:
    """Write the case into `folder` and run it through `python3 run.py` in a subprocess (with at most `memory`
    bytes of address space, if given: a runaway case then fails instead of exhausting the machine)."""
    import functools
    import time

    path = case.write(folder)
    out = folder / "out"
    argv = [sys.executable, str(ROOT / "run.py"), *cli_argv(case, path, mode, out)]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(argv, cwd=folder, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL,
                              preexec_fn=functools.partial(limit_memory, memory) if memory else None)
    except subprocess.TimeoutExpired:
        return check_cli(None, "", "", mode, out, time.perf_counter() - t0)
    return check_cli(proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace"),
                     mode, out, time.perf_counter() - t0)
