"""Dotted key paths into nested mappings: `parameters.trade.noise_sd` names `tree["parameters"]["trade"]["noise_sd"]`.

One home for reading (`get`, `number`), writing (`put`), flattening (`flatten`) and nesting (`nest`) key paths.
A path that leads nowhere raises `KeyPathError` (a KeyError) naming the whole path and the first part that is
missing, so each caller can word its own one-line error (`FILE: key.path: reason`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_MISSING = object()


class KeyPathError(KeyError):
    """`path` does not lead to a value: `part` is the first part that is missing (or empty), `reason` says so."""

    def __init__(self, path: str, part: str, reason: str) -> None:
        super().__init__(path)
        self.path, self.part, self.reason = path, part, reason

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


def parts(path: str) -> list[str]:
    """The parts of `path` split at dots; KeyPathError when a part is empty (`a..b`, `.a`, ``)."""
    out = str(path).split(".")
    if not all(out):
        raise KeyPathError(str(path), "", "not a key path such as parameters.rationality")
    return out


def get(tree: Any, path: str, default: Any = _MISSING) -> Any:
    """tree[p0][p1]...: the value at `path`; `default` (when given) or KeyPathError when a part is missing."""
    node = tree
    for part in parts(path):
        if not isinstance(node, Mapping) or part not in node:
            if default is not _MISSING:
                return default
            raise KeyPathError(str(path), part, f"unknown key '{part}'")
        node = node[part]
    return node


def is_number(value: Any) -> bool:
    """An int or a float that is not a bool: a numeric leaf."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def number(tree: Any, path: str) -> float | None:
    """The numeric leaf at `path` as a float, or None when the path is missing or not a number."""
    try:
        value = get(tree, path, None)
    except KeyPathError:  # an empty part: no such key
        return None
    return float(value) if is_number(value) else None


def put(tree: dict, path: str, value: Any, *, create: bool = True, new: bool = True) -> None:
    """tree[p0]...[pn] = value. `create`: make missing mappings on the way (else KeyPathError at the first one);
    `new`: the last part may be a new key (else it must exist already)."""
    keys = parts(path)
    node: Any = tree
    for k in keys[:-1]:
        if create and isinstance(node, dict) and k not in node:
            node[k] = {}
        if not isinstance(node, dict) or k not in node:
            raise KeyPathError(str(path), k, f"unknown key '{k}'")
        node = node[k]
    if not isinstance(node, dict) or not new and keys[-1] not in node:
        raise KeyPathError(str(path), keys[-1], f"unknown key '{keys[-1]}'")
    node[keys[-1]] = value


def flatten(tree: Any, prefix: str = "") -> dict[str, float]:
    """Key path -> value (as a float) of every numeric leaf below `tree`, depth first in mapping order (booleans
    and text are not numeric leaves); `prefix` is put before every path."""
    out: dict[str, float] = {}
    if isinstance(tree, Mapping):
        for k, v in tree.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
    elif is_number(tree):
        out[prefix] = float(tree)
    return out


def nest(flat: Mapping[str, Any]) -> dict[str, Any]:
    """The nested mapping of {key path: value}, in the order the paths are given (the inverse of `flatten`)."""
    out: dict[str, Any] = {}
    for path, value in flat.items():
        put(out, path, value)
    return out
