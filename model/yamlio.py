"""Strict YAML reading: safe loading, duplicate keys refused, `extends` resolved, errors that name file and place."""

from __future__ import annotations

import copy
import os
from collections.abc import Hashable
from pathlib import Path
from typing import Any

import yaml

from .files import shipped_scenario

MAX_FILE_BYTES = 50 * 2**20  # a scenario or experiment file larger than this is refused (they are a few KB)
_LIMITS = {"file": 300, "path": 200, "reason": 600}  # characters of each part of the message a user sees


def one_line(text: str, limit: int) -> str:
    """`text` on one printable line: line breaks and control characters escaped, cut to `limit` characters."""
    out = "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text))
    return out if len(out) <= limit else out[: limit - 1] + "…"


class ScenarioError(ValueError):
    """Bad input. `str(err)` is the one line a user sees: `FILE: key.path: reason` (each part on one line and cut
    to a readable length, whatever the input held)."""

    def __init__(self, file: str | Path | None, path: str, reason: str) -> None:
        self.file = one_line(str(file), _LIMITS["file"]) if file else "<dict>"
        self.path, self.reason = one_line(path, _LIMITS["path"]), one_line(reason, _LIMITS["reason"])
        where = f"{self.file}: {self.path}: " if self.path else f"{self.file}: "
        super().__init__(where + self.reason)


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice in one mapping."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: dict[Any, yaml.Node] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if not isinstance(key, Hashable):
            raise yaml.constructor.ConstructorError(None, None, f"a {type(key).__name__} cannot be a key",
                                                    key_node.start_mark)
        if key in seen:
            mark = key_node.start_mark
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key '{key}' (first given on line {seen[key].start_mark.line + 1})", mark)
        seen[key] = key_node
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def input_file(name: str, base: Path, file: str | Path, key: str, what: str = "file") -> Path:
    """Resolve a file that an input file names (`name`, relative to folder `base`) and check that it can be read:
    it exists, is a regular file (not a folder or a device) and is at most MAX_FILE_BYTES. Raises ScenarioError
    (file, key) otherwise, also for names the system refuses (too long, a NUL character)."""
    short = one_line(name, 80)
    try:
        target = (base / name).resolve()
        if not target.exists():
            raise ScenarioError(file, key, f"{what} '{short}' not found (looked in {target.parent})")
        if not target.is_file():
            raise ScenarioError(file, key, f"'{short}' is not a regular file")
        size = target.stat().st_size
    except OSError as exc:
        raise ScenarioError(file, key, f"cannot use '{short}' as a {what} ({exc.strerror or exc})") from None
    except ValueError as exc:  # a NUL character in the name
        raise ScenarioError(file, key, f"cannot use '{short}' as a {what} ({exc})") from None
    if size > MAX_FILE_BYTES:
        raise ScenarioError(file, key, f"'{short}' is too large ({size / 2**20:.0f} MiB; at most "
                            f"{MAX_FILE_BYTES // 2**20} MiB)")
    return target


def read_text(path: Path, file: str | Path, key: str) -> str:
    """The UTF-8 text of a file checked by `input_file`; ScenarioError (file, key) if it cannot be read."""
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(file, key, f"cannot read '{one_line(str(path), 80)}' ({exc.strerror or exc})") from None
    except UnicodeDecodeError as exc:
        raise ScenarioError(file, key, f"'{one_line(str(path), 80)}' is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at "
                            f"offset {exc.start})") from None


def read_yaml(path: str | Path) -> dict:
    """Parse one YAML file into a mapping; every failure is a ScenarioError naming the file: not found, not a
    regular file, unreadable, too large, not UTF-8, YAML syntax, nesting too deep, not a mapping."""
    path = Path(path)
    try:
        if not path.is_file():
            reason = "not a regular file" if path.exists() else "file not found"
            raise ScenarioError(path, "", reason + (" (a folder)" if path.is_dir() else ""))
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ScenarioError(path, "", f"the file is too large ({path.stat().st_size / 2**20:.0f} MiB; "
                                f"at most {MAX_FILE_BYTES // 2**20} MiB)")
        text = path.read_text(encoding="utf-8")
    except OSError as exc:  # a name too long, a permission, an I/O error
        raise ScenarioError(path, "", f"cannot read file ({exc.strerror or exc})") from None
    except UnicodeDecodeError as exc:
        raise ScenarioError(path, "", f"not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start})") from None
    except ValueError as exc:  # a NUL character in the name
        raise ScenarioError(path, "", f"cannot read file ({exc})") from None
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "?"
        problem = exc.problem or exc.context or "invalid YAML"
        raise ScenarioError(path, where, f"YAML syntax error: {problem}") from None
    except yaml.reader.ReaderError as exc:
        raise ScenarioError(path, "", f"YAML error: unacceptable character #x{exc.character:04x} at offset "
                            f"{exc.position}: {exc.reason}") from None
    except yaml.YAMLError as exc:
        raise ScenarioError(path, "", f"YAML error: {exc}") from None
    except RecursionError:
        raise ScenarioError(path, "", "nesting too deep: lists and mappings may nest a few levels, not hundreds") from None
    except ValueError as exc:  # a tagged scalar PyYAML cannot convert, e.g. `!!float x` or `!!timestamp 2024-13-01`
        raise ScenarioError(path, "", f"YAML value error: {exc}") from None
    if data is None:
        raise ScenarioError(path, "", "the file is empty: a scenario is a mapping of keys such as name, start, steps")
    if not isinstance(data, dict):
        raise ScenarioError(path, "", f"the top level must be a mapping (key: value), not a {type(data).__name__}")
    return data


def parse_value(text: str, file: str | Path, key: str) -> Any:
    """A value written in YAML on the command line (`--set KEY=VALUE`); ScenarioError (file, key) if it is not."""
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        raise ScenarioError(file, key, f"{text!r} is not a YAML value ({exc.problem or exc.context})") from None
    except yaml.YAMLError as exc:
        raise ScenarioError(file, key, f"{text!r} is not a YAML value ({getattr(exc, 'reason', None) or exc})") from None
    except RecursionError:
        raise ScenarioError(file, key, "nesting too deep") from None
    except ValueError as exc:  # a tagged scalar PyYAML cannot convert
        raise ScenarioError(file, key, f"{text!r} is not a YAML value ({exc})") from None


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
        target = unc["behaviour"]["file"]
        if not os.path.isabs(target):  # a string operation: the file itself is checked when the section is read
            unc["behaviour"]["file"] = os.path.normpath(os.path.join(path.parent, target))


def resolve_extends(path: str | Path, _chain: tuple[Path, ...] = ()) -> dict:
    """Read a scenario file and merge it over the file it `extends` (a path relative to the file, or the name of a
    shipped scenario when no such file is beside it), recursively."""
    path = Path(path).resolve()
    if path in _chain:
        cycle = " -> ".join(p.name for p in (*_chain, path))
        raise ScenarioError(_chain[0], "extends", f"extends forms a cycle ({cycle})")
    data = read_yaml(path)
    _anchor_files(data, path)
    parent = data.pop("extends", None)
    if parent is None:
        if "powers_remove" in data:
            raise ScenarioError(path, "powers_remove", "only a scenario that extends another can remove its powers")
        return data
    if not isinstance(parent, str):
        raise ScenarioError(path, "extends", "must be a file path (a string)")
    shipped = shipped_scenario(parent)
    if shipped is not None and not (path.parent / parent).exists():
        parent_path = shipped  # `extends: baseline.yaml` with no such file beside it: the shipped one
    else:
        parent_path = input_file(parent, path.parent, path, "extends")
    base = resolve_extends(parent_path, (*_chain, path))
    if "powers_remove" in data:  # applied to the extended scenario before this file's keys (model/powerset.py)
        from .powerset import remove_powers
        base = remove_powers(base, data.pop("powers_remove"), path)
    added = data.pop("events_add", None)
    merged = deep_merge(base, data)
    if added is not None:
        if not isinstance(added, list):
            raise ScenarioError(path, "events_add", "must be a list of events")
        merged["events"] = list(merged.get("events") or []) + added
    return merged
