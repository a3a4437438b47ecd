"""The error contract of experiment configs: `ConfigError`, the problem collector, and the small texts
(numbers, TOML values, type names, "did you mean") every message is built from.

Every problem is one line, ``FILE: KEY: what is wrong (allowed: ...)``; FILE is ``--set`` for a key that came
from an override, KEY is dotted (``riders[1].mass_kg``) or ``-`` for the file as a whole.
"""
from __future__ import annotations

import difflib
import math
from typing import Any, Iterable

from ...model.ranges import num_text


class ConfigError(ValueError):
    """An experiment config that cannot be used. `.problems`: one line per problem,
    ``FILE: KEY: what is wrong (allowed: ...)``; `.warnings`: lines of the same form for suspicious
    but usable settings."""

    def __init__(self, problems: list[str], warnings: Iterable[str] = ()) -> None:
        self.problems = list(problems)
        self.warnings = list(warnings)
        super().__init__("\n".join(self.problems))


class Report:
    """Collects problems and warnings; knows which keys came from --set overrides."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.overridden: set[str] = set()
        self.problems: list[str] = []
        self.warnings: list[str] = []

    def origin(self, key: str) -> str:
        for p in self.overridden:
            if key == p or key.startswith(p + ".") or key.startswith(p + "["):
                return "--set"
        return self.file

    @staticmethod
    def _line(origin: str, key: str, what: str, allowed: str | None) -> str:
        return f"{origin}: {key}: {what}" + (f" (allowed: {allowed})" if allowed else "")

    def error(self, key: str, what: str, allowed: str | None = None, origin: str | None = None) -> None:
        line = self._line(origin or self.origin(key), key, what, allowed)
        if line not in self.problems:
            self.problems.append(line)

    def warn(self, key: str, what: str, allowed: str | None = None) -> None:
        line = self._line(self.origin(key), key, "warning: " + what, allowed)
        if line not in self.warnings:
            self.warnings.append(line)


def _num_text(x: Any) -> str:
    return num_text(x) if isinstance(x, (int, float)) and not isinstance(x, bool) else str(x)


def _toml_text(v: Any) -> str:
    if v is None:
        return "unset"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return _num_text(v)
    if isinstance(v, str):
        return f'"{v}"'
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_text(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k} = {_toml_text(x)}" for k, x in v.items()) + "}" if v else "{}"
    return str(v)


def _typename(v: Any) -> str:
    """How a TOML value is named in messages: 'boolean true', 'string \"90\"', 'an array', ..."""
    if isinstance(v, bool):
        return "boolean " + ("true" if v else "false")
    if isinstance(v, int):
        return f"integer {v}"
    if isinstance(v, float):
        return f"float {_num_text(v) if math.isfinite(v) else str(v)}"
    if isinstance(v, str):
        s = v if len(v) <= 40 else v[:37] + "..."
        return f"string {s!r}"
    if isinstance(v, (list, tuple)):
        return "an array"
    if isinstance(v, dict):
        return "a table"
    return f"{type(v).__name__} {v}"


def _suggest(word: str, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(str(word), [str(o) for o in options], n=3, cutoff=0.6)
    if not close:
        return ""
    return "; did you mean " + " or ".join(repr(c) for c in close) + "?"


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _as_list(v: Any) -> list:
    return v if isinstance(v, list) else [v]
