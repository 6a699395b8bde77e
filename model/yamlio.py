"""Strict YAML reading: safe loading, duplicate keys refused, `extends` resolved, errors that name file and place."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml


class ScenarioError(ValueError):
    """Bad input. `str(err)` is the one line a user sees: `FILE: key.path: reason`."""

    def __init__(self, file: str | Path | None, path: str, reason: str) -> None:
        self.file, self.path, self.reason = str(file) if file else "<dict>", path, reason
        where = f"{self.file}: {path}: " if path else f"{self.file}: "
        super().__init__(where + reason)


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice in one mapping."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: dict[Any, yaml.Node] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            mark = key_node.start_mark
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key '{key}' (first given on line {seen[key].start_mark.line + 1})", mark)
        seen[key] = key_node
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_yaml(path: str | Path) -> dict:
    """Parse one YAML file into a mapping; every failure is a ScenarioError naming the file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(path, "", "file not found") from None
    except OSError as exc:
        raise ScenarioError(path, "", f"cannot read file ({exc.strerror})") from None
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "?"
        problem = exc.problem or exc.context or "invalid YAML"
        raise ScenarioError(path, where, f"YAML syntax error: {problem}") from None
    except yaml.YAMLError as exc:
        raise ScenarioError(path, "", f"YAML error: {exc}") from None
    if data is None:
        raise ScenarioError(path, "", "the file is empty: a scenario is a mapping of keys such as name, start, steps")
    if not isinstance(data, dict):
        raise ScenarioError(path, "", f"the top level must be a mapping (key: value), not a {type(data).__name__}")
    return data


def deep_merge(base: dict, over: dict) -> dict:
    """Mapping merge: keys of `over` replace those of `base`; nested mappings merge; lists replace whole, except
    that a key `events_add` appends to the base's `events`."""
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _anchor_files(data: dict, path: Path) -> None:
    """A file named inside a scenario (`uncertainty.behaviour.file`) is relative to that scenario's folder: make it
    absolute before merging, so it survives `extends` from other folders."""
    unc = data.get("uncertainty")
    if isinstance(unc, dict) and isinstance(unc.get("behaviour"), dict) and isinstance(unc["behaviour"].get("file"), str):
        target = Path(unc["behaviour"]["file"])
        if not target.is_absolute():
            unc["behaviour"]["file"] = str((path.parent / target).resolve())


def resolve_extends(path: str | Path, _chain: tuple[Path, ...] = ()) -> dict:
    """Read a scenario file and merge it over the file it `extends` (a path relative to the file), recursively."""
    path = Path(path).resolve()
    if path in _chain:
        cycle = " -> ".join(p.name for p in (*_chain, path))
        raise ScenarioError(_chain[0], "extends", f"extends forms a cycle ({cycle})")
    data = read_yaml(path)
    _anchor_files(data, path)
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str):
        raise ScenarioError(path, "extends", "must be a file path (a string)")
    parent_path = (path.parent / parent).resolve()
    if not parent_path.exists():
        raise ScenarioError(path, "extends", f"file '{parent}' not found (looked in {parent_path.parent})")
    base = resolve_extends(parent_path, (*_chain, path))
    added = data.pop("events_add", None)
    merged = deep_merge(base, data)
    if added is not None:
        if not isinstance(added, list):
            raise ScenarioError(path, "events_add", "must be a list of events")
        merged["events"] = list(merged.get("events") or []) + added
    return merged
