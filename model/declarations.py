"""The parameter table of docs/ODD.md section 6, generated from the declarations in model/schema.py.

`greatgame params --odd` (or `python3 -m greatgame.model.declarations`) rewrites the table between the two marker
comments of docs/ODD.md and leaves the prose around it alone; `--check` only says whether the committed table is
the one the declarations give (tests/test_declarations.py does the same). Defaults are the baseline's values
(`scenarios/baseline.yaml`, see model/schema.py for why they live there), so the table shows them from that file.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

from . import keypaths
from .files import BASELINE, checkout_root
from .schema import ESTIMATED, JOINT, Choice, Num, parameter_specs

BEGIN = ("<!-- BEGIN parameter table: generated from the declarations in model/schema.py by "
         "`greatgame params --odd`; edit the declarations, not this table -->")
END = "<!-- END parameter table -->"
PER_CODE_ELSEWHERE = {"format": "per format (3.2)"}  # codes whose values another table of the ODD shows


def _number(value: float) -> str:
    return format(value, ".10g")


def _values(raw: dict, pattern: str) -> str:
    """The baseline's value(s) at a key pattern: `powers.<power>.sanctions` lists every power's."""
    if "<" not in pattern:
        value = keypaths.get(raw, pattern)
        return _number(value) if keypaths.is_number(value) else str(value)
    head, rest = pattern.split(".<", 1)
    kind, tail = rest.split(">", 1)
    if kind in PER_CODE_ELSEWHERE:
        return PER_CODE_ELSEWHERE[kind]
    if keypaths.get(raw, head, None) is None:  # an optional group the baseline leaves out
        return "not set (optional)"
    return ", ".join(f"{code} {_values(raw, f'{head}.{code}{tail}')}" for code in keypaths.get(raw, head))


def _range(spec: Num | Choice) -> str:
    if isinstance(spec, Choice):
        return " / ".join(spec.options)
    return f"{'whole number in ' if spec.integer else ''}[{spec.lo:g}, {spec.hi:g}]"


def _drawn(key: str, spec: Num | Choice) -> str:
    """How the parameter's uncertainty is drawn (docs/ODD.md 5)."""
    pattern = re.compile(re.sub(r"<[^>]+>", "[^.]+", re.escape(key)) + "$")  # a <code> stands for any code
    blocks = [b.name for b in JOINT if any(pattern.match(k) for k in b.keys)]
    if blocks:
        return f"jointly: `{blocks[0]}` vector"
    if isinstance(spec, Num) and spec.spread is not None:
        return spec.spread.describe()
    if isinstance(spec, Num) and spec.undrawable:  # an estimate outside the calibration is set as run values
        return "not as a range: run values from the estimate" if spec.origin == ESTIMATED else "never drawn (a lever)"
    return ""


def odd_table(raw: dict[str, Any]) -> str:
    """The markdown between the markers: one row per declared parameter, then the joint blocks."""
    lines = ["| key | unit | range | meaning | origin | baseline value | source | fit bounds | uncertainty |",
             "|---|---|---|---|---|---|---|---|---|"]
    for key, spec in parameter_specs():
        fit = spec.fit if isinstance(spec, Num) else None
        cells = [f"`{key}`", getattr(spec, "unit", "") or "-", _range(spec), spec.doc, spec.origin, _values(raw, key),
                 spec.source, f"[{fit.lo:g}, {fit.hi:g}] ({fit.stage})" if fit else "", _drawn(key, spec)]
        lines.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
    lines.append("")
    for block in JOINT:
        lines.append(f"Joint block `{block.name}` (file named by `{block.file}`): {block.doc}; {block.source}. "
                     f"Columns, in order: {', '.join(f'`{k}`' for k in block.keys)}.")
    return "\n".join(lines)


def splice(text: str, table: str, where: str = "docs/ODD.md") -> str:
    """`text` with the part between the markers replaced by `table`; ValueError when the markers are missing."""
    if text.count(BEGIN) != 1 or text.count(END) != 1 or text.index(BEGIN) > text.index(END):
        raise ValueError(f"{where}: needs one pair of marker lines {BEGIN!r} ... {END!r} in section 6")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{table}\n{END}{tail}"


def baseline_raw() -> dict[str, Any]:
    """The validated baseline scenario's values (the declared defaults)."""
    from .scenario import load_scenario

    return load_scenario(BASELINE).raw


def main(argv: list[str] | None = None) -> int:
    """Rewrite (or with --check, compare) the ODD parameter table; exit status 0, or 1 when --check differs."""
    parser = argparse.ArgumentParser(prog="greatgame params", description=__doc__.splitlines()[0])
    parser.add_argument("--odd", action="store_true", help="rewrite the parameter table in docs/ODD.md section 6")
    parser.add_argument("--check", action="store_true", help="only report whether the table is up to date")
    parser.add_argument("--file", help="the ODD file (default: docs/ODD.md of this checkout)")
    args = parser.parse_args(argv)
    return odd_command(args.file, args.check)


def odd_command(file: str | None, check: bool) -> int:
    """`greatgame params --odd [--check] [--file F]`: 0 written or up to date, 1 out of date (with --check)."""
    from .yamlio import ScenarioError

    root = checkout_root()
    path = Path(file) if file else (root / "docs" / "ODD.md" if root else None)
    if path is None or not path.is_file():
        raise ScenarioError("params", "--file", f"no ODD file {'at ' + str(path) if path else 'outside a checkout'}; "
                            "give --file docs/ODD.md")
    text = path.read_text(encoding="utf-8")
    try:
        new = splice(text, odd_table(baseline_raw()), str(path))
    except ValueError as exc:
        raise ScenarioError(str(path), "section 6", str(exc).split(": ", 1)[1]) from None
    if check:
        print(f"{path}: parameter table {'up to date' if new == text else 'differs from the declarations'}")
        return 0 if new == text else 1
    if new != text:
        path.write_text(new, encoding="utf-8")
    print(f"{path}: parameter table {'rewritten' if new != text else 'already up to date'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
