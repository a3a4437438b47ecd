"""Rider profiles: the packaged toolkit/study/data/riders.toml, validated with the same rider model as
experiment files (its problems are reported with the packaged file's path as FILE)."""
from __future__ import annotations

from typing import Any

from ...model.anthropometry import Rider
from .errors import ConfigError, Report, _typename

from .profile_file import PROFILES_FILE, PROFILES_PACKAGE, _profiles_file_label, _profiles_raw, profile_names  # noqa: F401


def load_profiles(rep_problems: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """Validated profile values {name: {key: value}} (description/source dropped). Problems of the packaged
    file are appended to rep_problems (with the packaged file's path as FILE)."""
    from .schema import NAME_PATTERN, PROFILE_SECTION
    from .validation import check_table
    import re
    rep = Report(_profiles_file_label())
    raw, err = _profiles_raw()
    out: dict[str, dict[str, Any]] = {}
    if raw is None:
        rep.error("-", f"cannot read the rider profiles: {err}")
    else:
        for name, table in raw.items():
            if not isinstance(table, dict):
                rep.error(name, f"expected a table [{name}], got {_typename(table)}")
                continue
            if not re.fullmatch(NAME_PATTERN, name):
                rep.error(name, "is not a valid profile name", NAME_PATTERN)
            vals = check_table(table, PROFILE_SECTION, name, rep) or {}
            vals.pop("description", None)
            vals.pop("source", None)
            try:
                Rider(name=name, **vals)
            except (TypeError, ValueError) as e:
                rep.error(name, f"rejected by the model: {e}")
            out[name] = vals
    if rep_problems is not None:
        rep_problems.extend(rep.problems)
    return out


def rider_profile(name: str) -> Rider:
    """The packaged rider profile `name` (toolkit/study/data/riders.toml) as a Rider."""
    problems: list[str] = []
    profiles = load_profiles(problems)
    if problems:
        raise ValueError("; ".join(problems))
    if name not in profiles:
        raise ValueError(f"rider: unknown profile {name!r} (allowed: {', '.join(profiles)})")
    return Rider(name=name, **profiles[name])


def rider_profiles() -> dict[str, Rider]:
    """The shipped rider profiles as Riders (name = profile name). Raises ConfigError if the file is bad."""
    problems: list[str] = []
    vals = load_profiles(problems)
    if problems:
        raise ConfigError(problems)
    return {name: Rider(name=name, **v) for name, v in vals.items()}


def profile_descriptions() -> dict[str, tuple[str, str]]:
    """{profile: (description, source)} of the shipped profiles."""
    raw, _ = _profiles_raw()
    return {k: (str(v.get("description", "")), str(v.get("source", "")))
            for k, v in (raw or {}).items() if isinstance(v, dict)}
