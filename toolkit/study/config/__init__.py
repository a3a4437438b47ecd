"""Experiment configs (TOML): schema, loading, validation, and the sweep's points.

An experiment file names a rider (or several), a bike fit (or several), ankle conditions, intensity levels
and cadences, the cost and solver settings and the outputs. `load_experiment` parses it, applies `--set`
overrides, validates every section with its pydantic model (schema.py; the numeric ranges come from the one
table in toolkit/model/ranges.py that the dataclasses' own checks also read), checks the rules between keys,
and either returns an `Experiment` or raises `ConfigError` listing *every* problem, one line each, as
``FILE: KEY: what is wrong (allowed: ...)``. Nothing is created or solved while validating.
`Experiment.points()` expands the sweep into `Point`s (one `ProblemSpec` each).

Modules: errors (the message contract), schema (pydantic models; `SCHEMA` is their read-only view),
validation (pydantic errors -> contract lines), profiles (riders.toml), overrides (reading, --set),
experiment (Experiment, Point), build (load_experiment, rules between keys, validate_main), docs
(docs/config.md). Regenerate the key reference after changing the schema:
``PYTHONPATH=. python -m toolkit.study.config > docs/config.md`` (a test checks it is up to date).
"""
from __future__ import annotations

from .build import load_experiment, validate_main
from .docs import config_reference_markdown
from .errors import ConfigError
from .experiment import ConditionsSpec, Experiment, IntensitySpec, OutputSpec, Point
from .overrides import parse_override
from .profiles import PROFILES_FILE, PROFILES_PACKAGE, profile_descriptions, rider_profile, rider_profiles
from .profiles import load_profiles as _load_profiles  # noqa: F401  (tests and older callers)
from .schema import (MAX_NAME_LEN, MAX_POINTS, MAX_POWER_W, MODELS, NAME_PATTERN, RULES, SCHEMA, Key, Section,
                     Spec)

__all__ = [
    "MAX_POINTS", "SCHEMA", "ConfigError", "Key", "Section", "ConditionsSpec", "IntensitySpec", "OutputSpec",
    "Experiment", "Point", "load_experiment", "validate_main", "parse_override", "rider_profiles",
    "config_reference_markdown", "PROFILES_FILE", "rider_profile", "profile_descriptions", "MODELS", "RULES",
    "Spec", "MAX_POWER_W", "MAX_NAME_LEN", "NAME_PATTERN", "PROFILES_PACKAGE",
]
