"""`powers_remove`: a scenario that `extends` another drops some of its powers (ODD 6.4; README "Scenarios").

Contract, applied to the extended scenario before the file's own keys are merged over it:
* each listed power leaves `powers`, every format's `convenors` and `powers`, and the `uncertainty` section
  (ranges and `fixed` keys under `powers.<code>.`);
* a format all of whose powers are removed is dropped if it is a `dialogue_platform` (a C5+X format such as
  EU-Central Asia exists only as meetings with that power), and is kept without a convenor otherwise (an
  organisation of the states themselves, such as the OTS, goes on: its regional channel stays, as in model v2);
  a dropped format's keys leave the `uncertainty` section too;
* events naming a removed power or a dropped format are dropped with them.
Bad input (not a list, an unknown or repeated code, every power removed) is a `ScenarioError` on `powers_remove`.
"""

from __future__ import annotations

import copy
from pathlib import Path

from .yamlio import ScenarioError

KEY = "powers_remove"
DROPPED_WHEN_ORPHANED = "dialogue_platform"  # format kind that ends with its last power


def _names(value: object) -> set[str]:
    """Codes an event field names: a code, a list of codes or 'all' (nothing)."""
    if isinstance(value, str):
        return set() if value == "all" else {value}
    return {v for v in value if isinstance(v, str)} if isinstance(value, list) else set()


def remove_powers(base: dict, codes: object, file: str | Path) -> dict:
    """A copy of the resolved scenario `base` without the powers `codes` (the contract in the module docstring)."""
    powers = base.get("powers") if isinstance(base.get("powers"), dict) else {}
    if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
        raise ScenarioError(file, KEY, "must be a list of power codes, e.g. [EU, TUR]")
    for c in codes:
        if c not in powers:
            raise ScenarioError(file, KEY, f"unknown power code '{c}' (the extended scenario has {', '.join(powers)})")
    if len(set(codes)) != len(codes):
        raise ScenarioError(file, KEY, "a power is listed twice")
    if set(codes) == set(powers):
        raise ScenarioError(file, KEY, "would remove every power")
    gone = set(codes)
    out = copy.deepcopy(base)
    out["powers"] = {k: v for k, v in powers.items() if k not in gone}
    dropped: set[str] = set()
    formats = out.get("formats") if isinstance(out.get("formats"), dict) else {}
    for code, fm in list(formats.items()):
        if not isinstance(fm, dict):
            continue
        had = set(fm.get("powers") or [])
        for key in ("convenors", "powers"):
            if isinstance(fm.get(key), list):
                fm[key] = [p for p in fm[key] if p not in gone]
        if had and had <= gone and fm.get("kind") == DROPPED_WHEN_ORPHANED:
            dropped.add(code)
            del formats[code]
    prefixes = tuple(f"powers.{c}." for c in gone) + tuple(f"formats.{f}." for f in dropped)
    unc = out.get("uncertainty")
    if isinstance(unc, dict):
        if isinstance(unc.get("ranges"), dict):
            unc["ranges"] = {k: v for k, v in unc["ranges"].items() if not str(k).startswith(prefixes)}
        if isinstance(unc.get("fixed"), list):
            unc["fixed"] = [k for k in unc["fixed"] if not str(k).startswith(prefixes)]
    if isinstance(out.get("events"), list):
        out["events"] = [ev for ev in out["events"] if not (isinstance(ev, dict) and (
            _names(ev.get("power")) & gone or _names(ev.get("format")) & dropped))]
    return out
