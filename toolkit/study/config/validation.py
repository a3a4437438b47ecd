"""One TOML table through its pydantic model, and pydantic's errors as contract lines.

`check_table` validates a table with its section's model and reports every error pydantic found, one line each
(``FILE: KEY: what is wrong (allowed: ...)``, KEY the dotted path such as ``riders[1].mass_kg`` or
``cost.weights.VASTI``), with "did you mean" hints for unknown keys, muscle names and choices. It returns the
cleaned values of the keys that are valid, so the rules between keys can still run beside the errors.
"""
from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from ...model.muscles import MUSCLE_NAMES
from .errors import Report, _num_text, _suggest, _toml_text, _typename
from .schema import SCHEMA, Section

_NUMBER_TYPES = {"float_type": "a number", "int_type": "an integer", "string_type": "a string",
                 "bool_type": "true or false"}
_RANGE_TYPES = {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}
_SHAPE_TYPES = {"tuple_type", "list_type", "missing", "too_long", "too_short"}


def suggest_key(name: str, section: Section | None) -> str:
    """'; did you mean ...?' among the section's keys, else "; 'KEY' belongs in [SECTION]", else ''."""
    hint = _suggest(name, section.key_names) if section is not None else ""
    if hint:
        return hint
    homes = [s.name for s in SCHEMA.values() if s.key(name) is not None and (section is None or s is not section)
             and not s.array]
    if homes:
        return f"; '{name}' belongs in [{homes[0]}]"
    return ""


def _at(raw: Any, part: Any) -> Any:
    try:
        return raw[part]
    except (KeyError, IndexError, TypeError):
        return None


def _path(where: str, loc: tuple, raw: dict[str, Any]) -> tuple[str, Any]:
    """(dotted key, raw value there) for a pydantic error location inside the table `raw` at `where`.
    An index into a scalar that stood for a one-element array (cadence_rpm = 90) is left out."""
    text, node = where, raw
    for part in loc:
        if part == "[key]":
            break
        if isinstance(part, int):
            if not isinstance(node, list):
                continue
            text += f"[{part}]"
        else:
            text += f".{part}"
        node = _at(node, part)
    return text, node


def _explain(err: dict[str, Any], section: Section, where: str, raw: dict[str, Any]) -> tuple[str, str, str | None]:
    """(key, what is wrong, allowed) of one pydantic error."""
    loc, etype, value = err["loc"], err["type"], err.get("input")
    name = str(loc[0])
    key = section.key(name)
    if key is None or etype == "extra_forbidden":
        return f"{where}.{name}", f"unknown key{suggest_key(name, section)}", ", ".join(section.key_names)
    allowed = key.allowed()
    path, _ = _path(where, loc, raw)
    kind = key.kind
    if etype == "config":  # our own validators: ctx carries the message and the sub-path
        ctx = err.get("ctx") or {}
        for part in ctx.get("sub", ()):
            path += f"[{part}]" if isinstance(part, int) else f".{part}"
        return path, ctx["what"], ctx.get("allowed", allowed)
    if "[key]" in loc:  # a muscle name that is not one
        return path, f"unknown muscle{_suggest(value, MUSCLE_NAMES)}", \
            ", ".join(MUSCLE_NAMES)
    if kind == "pair" and (etype in _SHAPE_TYPES):
        raw_v = raw.get(name)
        return f"{where}.{name}", f"expected an array of 2 numbers, got {_typename(raw_v)}" + (
            f" of length {len(raw_v)}" if isinstance(raw_v, list) else ""), allowed
    if kind == "pairs" and etype in _SHAPE_TYPES:
        if len(loc) == 1:
            return path, f"expected an array of [crank_angle_deg, sole_angle_deg] pairs, got {_typename(value)}", \
                allowed
        p, v = _path(where, loc[:2], raw)
        return p, f"expected [crank_angle_deg, sole_angle_deg], got {_typename(v)}", allowed
    if etype == "too_short" and len(loc) == 1:
        return path, "is empty", allowed
    if etype == "dict_type":
        return path, f"expected a table {{MUSCLE = number}}, got {_typename(value)}", allowed
    if etype in _NUMBER_TYPES:
        return path, f"expected {_NUMBER_TYPES[etype]}, got {_typename(value)}", allowed
    if etype == "finite_number":
        return path, f"{value} is not a finite number", allowed
    if etype in _RANGE_TYPES:
        return path, f"{_num_text(value)} is out of range", allowed
    if etype == "multiple_of":
        return path, f"{value} is odd", allowed
    if etype == "literal_error":
        choices = key.choices or ()
        shown = repr(value) if isinstance(value, str) else _num_text(value)
        return path, f"{shown} is not allowed{_suggest(value, choices) if isinstance(value, str) else ''}", \
            ", ".join(map(str, choices))
    if etype == "string_pattern_mismatch":
        return path, f"{value!r} is not a valid name", allowed
    if etype == "string_too_long":
        return path, f"a name of {len(value)} characters", allowed
    return path, err.get("msg", etype), allowed


def check_table(table: Any, section: Section, where: str, rep: Report) -> dict[str, Any] | None:
    """Validate one table with its section's model; report every problem; return {key: cleaned value} of the
    valid keys present (None when `table` is not a table)."""
    if not isinstance(table, dict):
        return None
    model = section.model
    try:
        return _given(model.model_validate(table), table)
    except ValidationError as e:
        errors = e.errors()
    bad = set()
    for err in errors:
        bad.add(err["loc"][0] if err["loc"] else None)
        rep.error(*_explain(err, section, where, table))
    for name in bad:
        _duplicates_beside_errors(name, errors, section, where, table, rep)
    good = {k: v for k, v in table.items() if k not in bad}
    try:
        return _given(model.model_validate(good), good)
    except ValidationError:  # pragma: no cover - keys validate independently
        return {}


def _given(obj: Any, table: dict[str, Any]) -> dict[str, Any]:
    return {k: getattr(obj, k) for k in table}


def _duplicates_beside_errors(name: Any, errors: list[dict[str, Any]], section: Section, where: str,
                              table: dict[str, Any], rep: Report) -> None:
    """A list key with bad elements never reaches its duplicate check (pydantic stops at the element errors):
    report the repeats among its valid elements too, so every problem is listed at once."""
    k = section.key(str(name))
    items = table.get(name)
    if k is None or k.kind not in ("floats", "strs") or not isinstance(items, list):
        return
    failed = {e["loc"][1] for e in errors if e["loc"][:1] == (name,) and len(e["loc"]) > 1}
    seen: list[Any] = []
    for i, v in enumerate(items):
        if i in failed:
            continue
        if v in seen:
            rep.error(f"{where}.{name}[{i}]", f"duplicate value {_toml_text(v)}", "distinct values")
        else:
            seen.append(v)
