"""Reading a config file and applying `--set KEY=VALUE` overrides (dotted keys, TOML values) before
validation; an override of a key the schema does not know is reported as ``--set: KEY: ...``."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any, Iterable

from ...model.muscles import MUSCLE_NAMES
from ..checks import read_config_bytes, toml_loads
from .errors import Report, _suggest, _typename
from .schema import SCHEMA
from .validation import suggest_key as _suggest_key


def _read_toml(path: Path, rep: Report) -> dict[str, Any] | None:
    allowed = "a readable UTF-8 TOML file"
    data, why = read_config_bytes(path)  # never blocks on a FIFO; directories, devices refused
    if why:
        rep.error("-", why, allowed)
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        col = e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1
        rep.error("-", f"not valid UTF-8: byte 0x{data[e.start]:02x} at line {line}, column {col}", allowed)
        return None
    text = text.removeprefix("\ufeff")
    try:
        return toml_loads(text)
    except tomllib.TOMLDecodeError as e:
        rep.error("-", f"TOML syntax error: {e}", "TOML 1.0 syntax, https://toml.io")
        return None


_PATH_PART = re.compile(r"([A-Za-z_][A-Za-z0-9_-]*)(?:\[(\d+)\])?\Z")


def parse_override(text: str) -> tuple[list[tuple[str, int | None]], Any]:
    """Split 'key.sub[1].x=value' into ([(part, index|None), ...], value). The value is read as a TOML value
    (numbers, booleans, arrays, inline tables, quoted strings), else taken as a bare string.
    Raises ValueError for text that is not KEY=VALUE or a malformed KEY."""
    if "=" not in text:
        raise ValueError("expected KEY=VALUE")
    key, value = text.split("=", 1)
    key = key.strip()
    parts = []
    for p in key.split("."):
        m = _PATH_PART.match(p.strip())
        if not m:
            raise ValueError(f"malformed key {key!r}")
        parts.append((m.group(1), int(m.group(2)) if m.group(2) is not None else None))
    return parts, _parse_value(value)


def _parse_value(text: str) -> Any:
    s = text.strip()
    try:
        doc = toml_loads(f"v = {s}")
        if set(doc) == {"v"}:
            return doc["v"]
    except tomllib.TOMLDecodeError:
        pass
    return s


def _path_text(parts: list[tuple[str, int | None]]) -> str:
    return ".".join(n + (f"[{i}]" if i is not None else "") for n, i in parts)


def _apply_overrides(raw: dict[str, Any], overrides: Iterable[str], rep: Report) -> set[str]:
    """Apply --set KEY=VALUE overrides to the parsed dict in place; returns the overridden key paths."""
    done: set[str] = set()
    for text in overrides or ():
        key_text = text.split("=", 1)[0].strip() or text
        try:
            parts, value = parse_override(text)
        except ValueError as e:
            rep.error(key_text, str(e), "KEY=VALUE with KEY like intensity.values or riders[1].mass_kg",
                      origin="--set")
            continue
        err = _check_override_path(parts, raw)
        if err:
            rep.error(key_text, err[0], err[1], origin="--set")
            continue
        node: Any = raw
        ok = True
        for depth, (name, idx) in enumerate(parts):
            last = depth == len(parts) - 1
            if idx is not None:
                node = node[name][idx]  # existence checked
                if last:
                    ok = False  # a whole [[riders]] entry: not supported (checked above)
                continue
            if last:
                node[name] = value
            else:
                nxt = node.setdefault(name, {})
                if not isinstance(nxt, dict):
                    rep.error(key_text, f"cannot set a sub-key: {_path_text(parts[:depth + 1])} is "
                              f"{_typename(nxt)}, not a table", None, origin="--set")
                    ok = False
                    break
                node = nxt
        if ok:
            done.add(_path_text(parts))
    return done


def _check_override_path(parts: list[tuple[str, int | None]], raw: dict[str, Any]) -> tuple[str, str] | None:
    """(what is wrong, allowed) for an override key that the schema does not know, else None."""
    sec_name, idx = parts[0]
    section = SCHEMA.get(sec_name)
    if section is None:
        return f"unknown section{_suggest(sec_name, SCHEMA)}{_suggest_key(sec_name, None)}", ", ".join(SCHEMA)
    if section.array:
        if idx is None:
            return (f"[[{sec_name}]] is a list: give an index", f"{sec_name}[0].KEY, {sec_name}[1].KEY, ...")
        entries = raw.get(sec_name)
        n = len(entries) if isinstance(entries, list) else 0
        if idx >= n or not isinstance(entries[idx], dict):
            return f"no entry {idx} in [[{sec_name}]] (the file has {n})", f"indices 0 to {n - 1}" if n else \
                f"add [[{sec_name}]] tables in the file"
    elif idx is not None:
        return f"[{sec_name}] is a table, not a list", f"{sec_name}.KEY"
    if len(parts) == 1:
        return "give a key inside the section", ", ".join(f"{sec_name}.{k}" for k in section.key_names)
    name, kidx = parts[1]
    key = section.key(name)
    if key is None:
        return f"unknown key{_suggest_key(name, section)}", ", ".join(section.key_names)
    if kidx is not None:
        return "indexing into a value is not supported; give the whole array", f"{sec_name}.{name}=[...]"
    if len(parts) == 3:
        if key.kind != "muscles":
            return f"{sec_name}.{name} has no sub-keys", f"{sec_name}.{name}=VALUE"
        m, midx = parts[2]
        if midx is not None or m not in MUSCLE_NAMES:
            return f"unknown muscle{_suggest(m, MUSCLE_NAMES)}", ", ".join(MUSCLE_NAMES)
    elif len(parts) > 3:
        return "key too deep", "SECTION.KEY or SECTION.KEY.MUSCLE"
    return None

