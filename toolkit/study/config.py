"""Experiment configs (TOML): schema, loading, validation, and the sweep's points.

An experiment file names a rider (or several), a bike fit (or several), ankle conditions, intensity levels
and cadences, the cost and solver settings and the outputs. `load_experiment` parses it, applies `--set`
overrides, checks every key against one schema table (`SCHEMA`, which also generates docs/config.md) and
the rules between keys, and either returns an `Experiment` or raises `ConfigError` listing *every* problem,
one line each, as ``FILE: KEY: what is wrong (allowed: ...)``. Nothing is created or solved while
validating. `Experiment.points()` expands the sweep into `Point`s (one `ProblemSpec` each).

Regenerate the key reference after changing the schema:
``PYTHONPATH=. python -m toolkit.study.config > docs/config.md`` (a test checks it is up to date).
"""
from __future__ import annotations

import dataclasses
import difflib
import math
import os
import re
import sys
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Iterable

from ..model.anthropometry import ARCHITECTURES, FORCE_SETS, PASSIVE_CURVES, SEXES, STRENGTH_SCALINGS, Rider
from ..model.bikefit import SADDLE_RULES, BikeFit
from ..model.muscles import MUSCLE_NAMES
from ..model.parameters import model_parameters
from ..ocp.heel_drop import HEEL_DROP_MODES
from ..ocp.problem import (CONDITIONS, COST_KINDS, LOADS, METABOLIC_MODELS, TENDONS, CostSpec, ProblemSpec,
                           SolverSpec)
from ..io.paths import directory_problem, shown
from . import intensity as inten
from .checks import check_requests, read_config_bytes, toml_loads

__all__ = [
    "MAX_POINTS", "SCHEMA", "ConfigError", "Key", "Section", "ConditionsSpec", "IntensitySpec", "OutputSpec",
    "Experiment", "Point", "load_experiment", "validate_main", "parse_override", "rider_profiles",
    "config_reference_markdown", "PROFILES_FILE",
]

#: Largest sweep one experiment may hold (riders x fits x conditions x intensities x cadences).
MAX_POINTS = 2000
#: Largest crank power (W) an intensity may convert to (ProblemSpec accepts 0 < P <= 1500 W).
MAX_POWER_W = 1500.0
NAME_PATTERN = r"[A-Za-z0-9_-]+"
MAX_NAME_LEN = 64  # names become file names (NAME.h5, point keys in .sto and figure names)
_NAME_RE = re.compile(NAME_PATTERN + r"\Z")
PROFILES_PACKAGE = "toolkit.study.data"
PROFILES_FILE = "riders.toml"


# ----------------------------------------------------------------------------------------------------------
# Errors
# ----------------------------------------------------------------------------------------------------------

class ConfigError(ValueError):
    """An experiment config that cannot be used. `.problems`: one line per problem,
    ``FILE: KEY: what is wrong (allowed: ...)``; `.warnings`: lines of the same form for suspicious
    but usable settings."""

    def __init__(self, problems: list[str], warnings: Iterable[str] = ()) -> None:
        self.problems = list(problems)
        self.warnings = list(warnings)
        super().__init__("\n".join(self.problems))


class _Report:
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


# ----------------------------------------------------------------------------------------------------------
# The schema table (single source of truth for validation and docs/config.md)
# ----------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Key:
    """One config key.

    kind: 'str', 'bool', 'int', 'float', 'floats' (a number or an array of numbers), 'strs' (a string or an
    array of strings), 'pair' (array of two increasing numbers), 'pairs' (array of [x, y] arrays),
    'muscles' (a table muscle name -> number).
    lo/hi bound numbers (each element for arrays, each value for 'muscles'); lo_open/hi_open make the bound
    strict. choices: the allowed values (strings, or ints for 'int'). even: ints must be even.
    """

    name: str
    kind: str
    default: Any
    doc: str
    unit: str = ""
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    hi_open: bool = False
    choices: tuple | None = None
    even: bool = False
    pattern: bool = False
    allowed_text: str | None = None
    default_text: str | None = None

    def allowed(self) -> str:
        """The 'allowed' text of error messages and of docs/config.md."""
        if self.allowed_text:
            return self.allowed_text
        parts = []
        if self.choices is not None:
            parts.append(", ".join(str(c) for c in self.choices))
        if self.pattern:
            parts.append(f"letters, digits, '_' and '-', at most {MAX_NAME_LEN} ({NAME_PATTERN})")
        rng = _range_text(self.lo, self.hi, self.lo_open, self.hi_open, self.unit)
        if rng:
            parts.append(("an even integer " if self.even else "") + rng)
        if self.kind == "muscles":
            parts.insert(0, "keys " + ", ".join(MUSCLE_NAMES))
        if not parts:
            parts.append({"bool": "true, false", "str": "any text"}.get(self.kind, self.kind))
        return "; ".join(parts)

    def type_text(self) -> str:
        return {
            "str": "string", "bool": "boolean", "int": "integer", "float": "number",
            "floats": "number or array of numbers", "strs": "string or array of strings",
            "pair": "array of 2 numbers", "pairs": "array of [number, number]",
            "muscles": "table {MUSCLE = number}",
        }[self.kind]

    def default_doc(self) -> str:
        if self.default_text is not None:
            return self.default_text
        return _toml_text(self.default)


@dataclass(frozen=True)
class Section:
    """A config section: a table `[name]`, or an array of tables `[[name]]` when `array`."""

    name: str
    doc: str
    keys: tuple[Key, ...]
    array: bool = False

    def key(self, name: str) -> Key | None:
        for k in self.keys:
            if k.name == name:
                return k
        return None

    @property
    def key_names(self) -> list[str]:
        return [k.name for k in self.keys]


def _num_text(x: float) -> str:
    return inten._num(x) if isinstance(x, (int, float)) and not isinstance(x, bool) else str(x)


def _range_text(lo, hi, lo_open, hi_open, unit) -> str:
    u = f" {unit}" if unit and unit not in ("-", "") else ""
    if lo is None and hi is None:
        return ""
    if lo is not None and hi is not None and not lo_open and not hi_open:
        return f"{_num_text(lo)} to {_num_text(hi)}{u}"
    parts = []
    if lo is not None:
        parts.append(f"{'>' if lo_open else '>='} {_num_text(lo)}")
    if hi is not None:
        parts.append(f"{'<' if hi_open else '<='} {_num_text(hi)}")
    return " and ".join(parts) + u


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


def _default(cls, name):
    return getattr(cls(), name)


@lru_cache(maxsize=1)
def _profiles_raw() -> tuple[dict[str, Any] | None, str]:
    """(parsed riders.toml or None, error text)."""
    try:
        text = resources.files(PROFILES_PACKAGE).joinpath(PROFILES_FILE).read_text(encoding="utf-8")
        return tomllib.loads(text), ""
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        return None, str(e)


def _profile_names() -> tuple[str, ...]:
    raw, _ = _profiles_raw()
    return tuple(k for k, v in (raw or {}).items() if isinstance(v, dict))


_RIDER = Rider()
_PS = ProblemSpec()
_MP = model_parameters()
_FITD = BikeFit().with_defaults()

_RIDER_KEYS: tuple[Key, ...] = (
    Key("height_m", "float", _RIDER.height_m, "Stature; scales segment lengths, masses, inertias (de Leva 1996) "
        "and muscle geometry.", "m", 1.2, 2.3),
    Key("mass_kg", "float", _RIDER.mass_kg, "Body mass; scales segment masses and inertias.", "kg", 30.0, 150.0),
    Key("sex", "str", _RIDER.sex, "Selects the de Leva (1996) segment table.", choices=SEXES),
    Key("vo2max_L_min", "float", _RIDER.vo2max_L_min, "Maximal oxygen uptake; converts pct_vo2max and pct_lt "
        "intensities.", "L/min", 1.0, 8.0),
    Key("gross_efficiency", "float", _RIDER.gross_efficiency, "Crank power / metabolic power; converts "
        "pct_vo2max and pct_lt intensities.", "-", 0.10, 0.30),
    Key("lactate_threshold_pct_vo2max", "float", _RIDER.lactate_threshold_pct_vo2max, "Lactate threshold as a "
        "percentage of VO2max; converts pct_lt intensities.", "% VO2max", 40.0, 95.0),
    Key("map_W", "float", _RIDER.map_W, "Maximal aerobic power (e.g. ramp-test peak); converts pct_map "
        "intensities.", "W", 50.0, 800.0),
    Key("max_force_set", "str", _RIDER.max_force_set, "Maximal isometric forces: 'complete_groups' (whole "
        "functional groups by joint moment, GMAX with adductor magnus, SOL with the deep plantarflexors; Rajagopal "
        "2016), 'group_totals' (Rajagopal 2016 sums of same-name members) or 'pedaling_model' (one head per group, "
        "Park et al. 2022). Moves the joint shares.", choices=FORCE_SETS),
    Key("strength_scaling", "str", _RIDER.strength_scaling, "'body_mass': forces scale with body mass relative "
        "to the force set's reference subject (Handsfield et al. 2014); 'none': the force set as tabulated.",
        choices=STRENGTH_SCALINGS),
    Key("muscle_architecture", "str", _RIDER.muscle_architecture, "Optimal fibre and tendon slack lengths: "
        "'lai2017' (Lai et al. 2017) or 'pedaling_model' (Park et al. 2022).", choices=ARCHITECTURES),
    Key("passive_curves", "str", _RIDER.passive_curves, "Passive fibre strains: 'uhlrich2022' (calibrated to "
        "passive joint moments, Uhlrich et al. 2022) or 'pedaling_model' (Park et al. 2022).", choices=PASSIVE_CURVES),
    Key("strength_scale", "float", _RIDER.strength_scale, "Multiplies every muscle's max isometric force.", "-",
        0.0, 5.0, lo_open=True),
    Key("passive_strain_scale", "float", _RIDER.passive_strain_scale, "Multiplies every muscle's passive "
        "strain e0 (larger = slacker passive fibres).", "-", 0.2, 5.0),
    Key("muscle_force_scale", "muscles", {}, "Per-muscle multipliers of the max isometric force (after "
        "strength_scale); muscles not listed keep 1.", "-", 0.0, 5.0, lo_open=True),
    Key("type1_pct_vastus_lateralis", "float", _RIDER.type1_pct_vastus_lateralis, "Measured type I fibre "
        "percentage of vastus lateralis; shifts every unit's slow-twitch fraction by the difference to the "
        "reference (45.5 %, clipped to 5-95 %), which changes metabolic power and efficiency (docs/energetics.md); "
        "unset: the reference composition.", "%", 5.0, 95.0, default_text="unset"),
)

_PROFILE_KEY = Key("profile", "str", None, "A rider profile from toolkit/study/data/riders.toml; keys given "
                   "next to it override the profile's values. Without a profile, unset keys take the defaults "
                   "below (and pct_* intensities need the rider's figures given explicitly).",
                   choices=_profile_names(), default_text="unset (no [rider] at all: \"reference\")")

_FIT_KEYS: tuple[Key, ...] = (
    Key("saddle_rule", "str", BikeFit().saddle_rule, "How the saddle height is set: 'knee_bdc' (knee flexion "
        "at BDC), 'absolute' (saddle_height_m) or 'inseam_fraction' (inseam_fraction x inseam_m).",
        choices=SADDLE_RULES),
    Key("saddle_height_m", "float", None, "Bottom-bracket centre to saddle top, along the seat tube or the "
        "setback line. Required with, and only used by, saddle_rule = 'absolute'.", "m", 0.4, 1.3),
    Key("knee_flexion_at_bdc_deg", "float", None, "Knee flexion at bottom dead centre that sets the saddle "
        "(saddle_rule = 'knee_bdc' only; Holmes et al. 1994: 25-35 deg).", "deg", 10.0, 60.0,
        default_text=_num_text(_FITD.knee_flexion_at_bdc_deg)),
    Key("ankle_at_bdc_deg", "float", None, "Ankle angle at BDC assumed by the knee_bdc rule (dorsiflexion +; "
        "saddle_rule = 'knee_bdc' only).", "deg", -40.0, 30.0, default_text=_num_text(_FITD.ankle_at_bdc_deg)),
    Key("inseam_fraction", "float", None, "Saddle height / inseam (saddle_rule = 'inseam_fraction' only; "
        "LeMond 0.883).", "-", 0.7, 1.1, default_text=_num_text(_FITD.inseam_fraction)),
    Key("inseam_m", "float", None, "Inseam length (saddle_rule = 'inseam_fraction' only).", "m", 0.55, 1.1,
        default_text=f"{_num_text(_MP['saddle']['inseam_frac_height'])} x height_m"),
    Key("seat_tube_angle_deg", "float", None, "Seat-tube angle above horizontal; places the saddle behind the "
        "bottom bracket (ignored when setback_m is given, so give only one).", "deg", 10.0, 90.0,
        default_text=_num_text(_FITD.seat_tube_angle_deg)),
    Key("setback_m", "float", None, "Horizontal distance of the saddle top behind the bottom bracket (negative "
        "= in front); replaces seat_tube_angle_deg; must be smaller than the saddle height.", "m", -0.2, 1.0),
    Key("crank_length_m", "float", None, "Crank length.", "m", 0.10, 0.22,
        default_text=_num_text(_FITD.crank_length_m)),
    Key("trunk_angle_deg", "float", None, "Trunk above horizontal (45 = hoods, 90 = upright, > 90 = reclined); "
        "tilts the pelvis and so changes hip angles.", "deg", 0.0, 150.0,
        default_text=_num_text(_FITD.trunk_angle_deg)),
    Key("cleat_offset_m", "float", BikeFit().cleat_offset_m, "Pedal spindle forward (+) of the first metatarsal "
        "head along the sole.", "m", -0.15, 0.10),
)

_NAME_DOC = "Name of this {what} in point keys and tables."

SCHEMA: dict[str, Section] = {s.name: s for s in (
    Section("experiment", "What the experiment is called.", (
        Key("name", "str", None, "Experiment name; the output file is OUTPUT_DIR/NAME.h5.", pattern=True,
            default_text="the config file's stem"),
        Key("description", "str", "", "Free text, stored with the results."),
    )),
    Section("rider", "The rider (one). Use either [rider] or [[riders]], not both; with neither, the "
            "'reference' profile is used.", (
        Key("name", "str", None, _NAME_DOC.format(what="rider"), pattern=True,
            default_text="the profile name, else \"custom\""),
        _PROFILE_KEY,
    ) + _RIDER_KEYS),
    Section("riders", "A list of riders for a sweep, each a table like [rider]. `name` is required unless "
            "`profile` is given (then it defaults to the profile name); names must be unique.", (
        Key("name", "str", None, _NAME_DOC.format(what="rider"), pattern=True,
            default_text="the profile name (required without a profile)"),
        _PROFILE_KEY,
    ) + _RIDER_KEYS, array=True),
    Section("fit", "The bike fit (one). Use either [fit] or [[fits]]. Unset lengths and angles come from "
            "toolkit/model/data/model_parameters.toml (defaults shown).", (
        Key("name", "str", "default", _NAME_DOC.format(what="fit"), pattern=True),
    ) + _FIT_KEYS),
    Section("fits", "A list of bike fits for a sweep, each a table like [fit] with a required unique `name`.", (
        Key("name", "str", None, _NAME_DOC.format(what="fit"), pattern=True, default_text="required"),
    ) + _FIT_KEYS, array=True),
    Section("conditions", "Ankle conditions. Each listed condition is one point of the sweep; heel_drop makes "
            "one point per heel_drop_deg value.", (
        Key("ankle", "strs", ["free"], "Ankle conditions: 'free' (within its range), 'fixed' (immobilized at "
            "fixed_ankle_deg), 'heel_drop' (sole angle <= -heel_drop_deg over heel_drop_window_deg), "
            "'prescribed' (sole angle follows prescribed_sole_deg), 'range_limited' (orthosis stops at "
            "ankle_range_deg, or per ankle_range_width_deg around the free mean), 'braced' (orthosis spring "
            "brace_stiffness_Nm_per_rad about brace_neutral_deg).", choices=CONDITIONS,
            allowed_text="a non-empty list of distinct values from " + ", ".join(CONDITIONS)),
        Key("fixed_ankle_deg", "float", _PS.fixed_ankle_deg, "Ankle angle (dorsiflexion +) of the 'fixed' "
            "condition.", "deg", -40.0, 30.0),
        Key("heel_drop_deg", "floats", [_PS.heel_drop_deg], "Heel drop(s) d of the 'heel_drop' condition "
            "(see heel_drop_mode).", "deg", 0.0, 45.0),
        Key("heel_drop_mode", "strs", [_PS.heel_drop_mode], "How the heel is held down (one point per mode and "
            "drop): 'relative' (sole angle <= the rider's free-ankle sole angle - d over the window, smooth ramps), "
            "'shift' (the whole free profile lowered by d, the dorsiflexed technique) or 'absolute' (sole angle <= "
            "-d to the horizontal inside the window).", choices=HEEL_DROP_MODES,
            allowed_text="a non-empty list of distinct values from " + ", ".join(HEEL_DROP_MODES)),
        Key("heel_drop_window_deg", "pair", list(_PS.heel_drop_window_deg), "Crank-angle window [start, end] "
            "of the heel drop (0 = TDC; default: the downstroke and across the bottom).", "deg", 0.0, 360.0,
            allowed_text="[start, end] with 0 <= start < end <= 360 deg"),
        Key("heel_drop_ramp_deg", "float", _PS.heel_drop_ramp_deg, "Width of the half-cosine ramps in and out of "
            "the window (relative mode).", "deg", 0.0, 90.0),
        Key("ankle_range_deg", "pair", list(_PS.ankle_range_deg), "Ankle range [low, high] of the "
            "'range_limited' condition (dorsiflexion +; used when ankle_range_width_deg is not given).", "deg",
            -40.0, 30.0, allowed_text="[low, high] with -40 <= low <= high <= 30 deg"),
        Key("ankle_range_width_deg", "floats", [], "Range width(s) of the 'range_limited' condition, centred "
            "on the rider's free-ankle mean angle (one point per width; empty: use ankle_range_deg).", "deg",
            0.0, 70.0),
        Key("ankle_stop_stiffness_Nm_per_rad", "float", _PS.ankle_stop_stiffness_Nm_per_rad, "Stiffness of the "
            "range-limited orthosis's stops.", "N m/rad", 1e2, 1e6),
        Key("brace_stiffness_Nm_per_rad", "floats", [_PS.brace_stiffness_Nm_per_rad], "Orthosis spring "
            "stiffness(es) of the 'braced' condition (one point per value).", "N m/rad", 0.0, 1e5),
        Key("brace_neutral_deg", "float", _PS.brace_neutral_deg, "Neutral ankle angle q0 of the brace spring.",
            "deg", -40.0, 30.0),
        Key("brace_damping_Nms_per_rad", "float", _PS.brace_damping_Nms_per_rad, "Brace damping.", "N m s/rad",
            0.0, 100.0),
        Key("prescribed_sole_deg", "pairs", [], "Sole-angle profile of the 'prescribed' condition: "
            "[crank_angle_deg, sole_angle_deg] samples (toe-down +), periodic over the cycle.", "deg",
            allowed_text="at least 4 [crank, sole] pairs, crank angles strictly increasing within 0-360 deg, "
                         "sole angles -60 to 60 deg; required iff 'prescribed' is in ankle"),
    )),
    Section("intensity", "Work rates. Every value is one point (per cadence, condition, fit and rider); "
            "points are solved in ascending intensity.", (
        Key("unit", "str", "W", "Unit of `values`: 'W' (crank power), 'pct_vo2max', 'pct_lt' (percent of the "
            "power at the lactate threshold), 'pct_map' (percent of map_W); see 'Intensity rule' below.",
            choices=tuple(inten.INTENSITY_UNITS)),
        Key("values", "floats", [_PS.power_W], "Intensity levels, in `unit`. Mean crank power of both legs "
            "after conversion.", "unit", 0.0, None, lo_open=True,
            allowed_text="distinct numbers > 0; W: <= 1500; pct_*: <= 200; each must convert to "
                         "0 < power <= 1500 W for every rider"),
        Key("cadence_rpm", "floats", [_PS.cadence_rpm], "Cadence(s).", "rpm", 20.0, 200.0),
    )),
    Section("cost", "The optimal-control cost (toolkit.ocp.problem.CostSpec).", (
        Key("kind", "str", _default(CostSpec, "kind"), "'activation': sum w_i v_i a_i^exponent; 'stress': "
            "sum w_i v_i (F_i/Fmax_i)^2; 'metabolic': sum w_i Edot_i / body mass (W/kg, metabolic_model).",
            choices=COST_KINDS),
        Key("metabolic_model", "str", _default(CostSpec, "metabolic_model"), "Muscle energetics model of the "
            "metabolic cost and of the reported metabolic power and efficiency (docs/energetics.md).",
            choices=METABOLIC_MODELS),
        Key("metabolic_weight", "float", _default(CostSpec, "metabolic_weight"), "Mixed cost: with kind "
            "'activation' or 'stress', adds this x sum w_i Edot_i / body mass (W/kg) to the effort.", "-", 0.0,
            1000.0),
        Key("exponent", "int", _default(CostSpec, "exponent"), "Activation exponent.", choices=(2, 3)),
        Key("volume_weighted", "bool", _default(CostSpec, "volume_weighted"), "Weight each muscle by its volume "
            "over the mean volume."),
        Key("weights", "muscles", {}, "Per-muscle cost weights (muscles not listed: 1).", "-", 0.0, 1000.0),
        Key("excitation_rate_weight", "float", _default(CostSpec, "excitation_rate_weight"), "Regularization "
            "weight of mean (e - a)^2.", "-", 0.0, 1000.0),
        Key("sole_accel_weight", "float", _default(CostSpec, "sole_accel_weight"), "Regularization weight of "
            "the sole angle's second derivative.", "-", 0.0, 1000.0),
    )),
    Section("problem", "Crank load and tendon model (toolkit.ocp.problem.ProblemSpec).", (
        Key("load", "str", _PS.load, "'isokinetic': constant crank speed (ergometer in isokinetic mode); "
            "'inertial': the legs drive an equivalent flywheel against a constant resistance torque (cadence is "
            "then the cycle mean).", choices=LOADS),
        Key("flywheel_inertia_kgm2", "float", _PS.flywheel_inertia_kgm2, "Equivalent crank inertia of the "
            "inertial load (road riding ~90: m (r G)^2 for 80 kg, wheel radius 0.34 m, gear 53/17).", "kg m^2",
            0.01, 1000.0),
        Key("tendon", "str", _PS.tendon, "'rigid' tendons, or 'compliant' (tendon force states, De Groote "
            "2016).", choices=TENDONS),
        Key("activation_floor", "float", _PS.activation_floor, "Lower bound of excitation and activation (a "
            "numerical floor; it also sets a minimum tonic force in every muscle).", "-", 0.0, 0.1),
    )),
    Section("solver", "Mesh and IPOPT settings (toolkit.ocp.problem.SolverSpec).", (
        Key("nodes", "int", _default(SolverSpec, "nodes"), "Collocation intervals over one crank cycle.", "",
            8, 400, even=True),
        Key("tol", "float", _default(SolverSpec, "tol"), "IPOPT tol.", "-", 0.0, 1e-2, lo_open=True),
        Key("constr_viol_tol", "float", _default(SolverSpec, "constr_viol_tol"), "IPOPT constr_viol_tol.", "-",
            0.0, 1e-2, lo_open=True),
        Key("max_iter", "int", _default(SolverSpec, "max_iter"), "IPOPT max_iter.", "", 1, 100000),
        Key("max_cpu_time_s", "float", _default(SolverSpec, "max_cpu_time_s"), "IPOPT max_cpu_time per solve.",
            "s", 0.0, 86400.0, lo_open=True),
        Key("print_level", "int", _default(SolverSpec, "print_level"), "IPOPT print_level.", "", 0, 12),
        Key("multistart", "int", _default(SolverSpec, "multistart"), "Number of initial guesses tried per "
            "point.", "", 1, 100),
    )),
    Section("output", "Where and what to write.", (
        Key("dir", "str", "out", "Output directory, relative to the config file's directory unless absolute "
            "(`run --out` overrides it). Must be creatable/writable.",
            allowed_text="a path whose first existing parent is a writable directory"),
        Key("figures", "bool", True, "Write figures."),
        Key("sto", "bool", False, "Also export every solution as OpenSim .sto tables."),
    )),
)}

#: Cross-key rules checked by `load_experiment` (listed in docs/config.md).
RULES: tuple[str, ...] = (
    "Use [rider] or [[riders]], not both; [fit] or [[fits]], not both. Rider and fit names must be unique.",
    "In [[riders]], `name` is required unless `profile` is given; in [[fits]], `name` is always required.",
    "saddle_rule = \"absolute\" requires saddle_height_m. A saddle key that the chosen saddle_rule does not use "
    "(saddle_height_m, knee_flexion_at_bdc_deg, ankle_at_bdc_deg, inseam_fraction, inseam_m) is an error, as is "
    "giving both seat_tube_angle_deg and setback_m; setback_m must be smaller than saddle_height_m.",
    "\"prescribed\" in conditions.ankle requires conditions.prescribed_sole_deg. Settings of a condition that is "
    "not listed (fixed_ankle_deg, heel_drop_deg, heel_drop_window_deg, prescribed_sole_deg) give a warning.",
    "intensity.unit = \"pct_vo2max\" needs every rider's vo2max_L_min and gross_efficiency, \"pct_lt\" also "
    "lactate_threshold_pct_vo2max, \"pct_map\" needs map_W, each given in the rider table or by its profile "
    "(defaults are not used for conversions).",
    "Every intensity value must convert to 0 < power <= 1500 W for every rider.",
    "Two riders that pose the same problem at every point (same body size, sex and strength settings, same "
    "converted power) give a warning: their solutions would be identical, whatever their other figures.",
    f"The sweep (riders x fits x conditions, heel_drop counted once per heel_drop_deg, x intensity.values x "
    f"intensity.cadence_rpm) may hold at most {MAX_POINTS} points.",
    "The output directory is not created while validating: its first existing parent must be a writable "
    "directory (tested by making and removing an empty directory), without NUL bytes or names over 255 bytes.",
    "`validate` also places every rider on every fit (saddle rule, reach of the pedal over the whole cycle) "
    "without solving, and checks that a 'fixed' ankle angle and a 'prescribed' sole profile keep the pedal in "
    "reach and every joint in range over the whole cycle (the error gives the fixed angles that work).",
)


# ----------------------------------------------------------------------------------------------------------
# Value checks
# ----------------------------------------------------------------------------------------------------------

_MISSING = object()


def _typename(v: Any) -> str:
    if isinstance(v, bool):
        return "boolean " + ("true" if v else "false")
    if isinstance(v, int):
        return f"integer {v}"
    if isinstance(v, float):
        return f"float {_num_text(v) if math.isfinite(v) else str(v)}"
    if isinstance(v, str):
        s = v if len(v) <= 40 else v[:37] + "..."
        return f"string {s!r}"
    if isinstance(v, list):
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


def _check_range(key: Key, x: float, where: str, rep: _Report, lo=None, hi=None) -> bool:
    lo = key.lo if lo is None else lo
    hi = key.hi if hi is None else hi
    bad = (lo is not None and (x <= lo if key.lo_open else x < lo)) or \
          (hi is not None and (x >= hi if key.hi_open else x > hi))
    if bad:
        rep.error(where, f"{_num_text(x)} is out of range", key.allowed())
    return not bad


def _check_float(key: Key, v: Any, where: str, rep: _Report) -> Any:
    if not _is_number(v):
        rep.error(where, f"expected a number, got {_typename(v)}", key.allowed())
        return _MISSING
    x = float(v)
    if not math.isfinite(x):
        rep.error(where, f"{x} is not a finite number", key.allowed())
        return _MISSING
    return x if _check_range(key, x, where, rep) else _MISSING


def _check_int(key: Key, v: Any, where: str, rep: _Report) -> Any:
    if not isinstance(v, int) or isinstance(v, bool):
        rep.error(where, f"expected an integer, got {_typename(v)}", key.allowed())
        return _MISSING
    if key.choices is not None and v not in key.choices:
        rep.error(where, f"{v} is not allowed", key.allowed())
        return _MISSING
    if not _check_range(key, v, where, rep):
        return _MISSING
    if key.even and v % 2:
        rep.error(where, f"{v} is odd", key.allowed())
        return _MISSING
    return v


def _check_str(key: Key, v: Any, where: str, rep: _Report, choices=None) -> Any:
    choices = key.choices if choices is None else choices
    if not isinstance(v, str):
        rep.error(where, f"expected a string, got {_typename(v)}", key.allowed())
        return _MISSING
    if choices is not None and v not in choices:
        rep.error(where, f"{v!r} is not allowed{_suggest(v, choices)}", ", ".join(map(str, choices)))
        return _MISSING
    if key.pattern and (not _NAME_RE.match(v) or len(v) > MAX_NAME_LEN):
        rep.error(where, f"{v!r} is not a valid name" if len(v) <= MAX_NAME_LEN else f"a name of {len(v)} characters",
                  key.allowed())
        return _MISSING
    return v


def _as_list(v: Any) -> list:
    return v if isinstance(v, list) else [v]


def _check_value(key: Key, v: Any, where: str, rep: _Report) -> Any:
    """Check one value against its Key; return the cleaned value or _MISSING (after reporting)."""
    k = key.kind
    if k == "str":
        return _check_str(key, v, where, rep)
    if k == "bool":
        if not isinstance(v, bool):
            rep.error(where, f"expected true or false, got {_typename(v)}", key.allowed())
            return _MISSING
        return v
    if k == "int":
        return _check_int(key, v, where, rep)
    if k == "float":
        return _check_float(key, v, where, rep)
    if k in ("floats", "strs"):
        items = _as_list(v)
        if not items:
            rep.error(where, "is empty", key.allowed())
            return _MISSING
        out, ok = [], True
        for i, x in enumerate(items):
            w = f"{where}[{i}]" if isinstance(v, list) else where
            c = _check_float(key, x, w, rep) if k == "floats" else _check_str(key, x, w, rep)
            if c is _MISSING:
                ok = False
                continue
            if c in out:
                rep.error(w, f"duplicate value {_toml_text(c)}", "distinct values")
                ok = False
                continue
            out.append(c)
        return tuple(out) if ok else _MISSING
    if k == "pair":
        if not isinstance(v, list) or len(v) != 2:
            rep.error(where, f"expected an array of 2 numbers, got {_typename(v)}"
                      + (f" of length {len(v)}" if isinstance(v, list) else ""), key.allowed())
            return _MISSING
        a = _check_float(key, v[0], f"{where}[0]", rep)
        b = _check_float(key, v[1], f"{where}[1]", rep)
        if a is _MISSING or b is _MISSING:
            return _MISSING
        if not a < b:
            rep.error(where, f"start {_num_text(a)} is not before end {_num_text(b)}", key.allowed())
            return _MISSING
        return (a, b)
    if k == "pairs":
        return _check_profile_pairs(key, v, where, rep)
    if k == "muscles":
        if not isinstance(v, dict):
            rep.error(where, f"expected a table {{MUSCLE = number}}, got {_typename(v)}", key.allowed())
            return _MISSING
        out, ok = {}, True
        for name, x in v.items():
            w = f"{where}.{name}"
            if name not in MUSCLE_NAMES:
                rep.error(w, f"unknown muscle{_suggest(name, MUSCLE_NAMES)}", ", ".join(MUSCLE_NAMES))
                ok = False
                continue
            c = _check_float(key, x, w, rep)
            if c is _MISSING:
                ok = False
            else:
                out[name] = c
        return out if ok else _MISSING
    raise AssertionError(k)


def _check_profile_pairs(key: Key, v: Any, where: str, rep: _Report) -> Any:
    allowed = key.allowed()
    if not isinstance(v, list):
        rep.error(where, f"expected an array of [crank_angle_deg, sole_angle_deg] pairs, got {_typename(v)}",
                  allowed)
        return _MISSING
    out, ok = [], True
    crank_key = dataclasses.replace(key, lo=0.0, hi=360.0)
    sole_key = dataclasses.replace(key, lo=-60.0, hi=60.0)
    for i, pair in enumerate(v):
        w = f"{where}[{i}]"
        if not isinstance(pair, list) or len(pair) != 2:
            rep.error(w, f"expected [crank_angle_deg, sole_angle_deg], got {_typename(pair)}", allowed)
            ok = False
            continue
        c = _check_float(crank_key, pair[0], f"{w}[0]", rep)
        s = _check_float(sole_key, pair[1], f"{w}[1]", rep)
        if c is _MISSING or s is _MISSING:
            ok = False
            continue
        if out and c <= out[-1][0]:
            rep.error(f"{w}[0]", f"crank angle {_num_text(c)} is not after the previous one "
                      f"({_num_text(out[-1][0])})", allowed)
            ok = False
            continue
        out.append((c, s))
    if not ok:
        return _MISSING
    if v and len(out) < 4:
        rep.error(where, f"only {len(out)} samples", allowed)
        return _MISSING
    if out and out[0][0] == 0.0 and out[-1][0] == 360.0 and out[0][1] != out[-1][1]:
        rep.error(where, f"the samples at 0 and 360 deg differ ({_num_text(out[0][1])} vs "
                  f"{_num_text(out[-1][1])}) but the profile is periodic", allowed)
        return _MISSING
    return tuple(out)


def _check_table(table: Any, section: Section, where: str, rep: _Report) -> dict[str, Any] | None:
    """Check a table's keys and values; returns {key: cleaned value} of the valid keys present."""
    if not isinstance(table, dict):
        return None
    out: dict[str, Any] = {}
    for name, v in table.items():
        key = section.key(name)
        w = f"{where}.{name}"
        if key is None:
            rep.error(w, f"unknown key{_suggest_key(name, section)}", ", ".join(section.key_names))
            continue
        c = _check_value(key, v, w, rep)
        if c is not _MISSING:
            out[name] = c
    return out


def _suggest_key(name: str, section: Section | None) -> str:
    hint = _suggest(name, section.key_names) if section is not None else ""
    if hint:
        return hint
    homes = [s.name for s in SCHEMA.values() if s.key(name) is not None and (section is None or s is not section)
             and not s.array]
    if homes:
        return f"; '{name}' belongs in [{homes[0]}]"
    return ""


# ----------------------------------------------------------------------------------------------------------
# Rider profiles
# ----------------------------------------------------------------------------------------------------------

_PROFILE_SECTION = Section("profile", "a rider profile", tuple(
    k for k in SCHEMA["rider"].keys if k.name not in ("name", "profile")) + (
    Key("description", "str", "", "What the profile stands for."),
    Key("source", "str", "", "Where its numbers come from."),
))


def _profiles_file_label() -> str:
    try:
        return str(resources.files(PROFILES_PACKAGE).joinpath(PROFILES_FILE))
    except Exception:  # pragma: no cover - packaging problem
        return f"{PROFILES_PACKAGE}/{PROFILES_FILE}"


def rider_profile(name: str) -> Rider:
    """The packaged rider profile `name` (toolkit/study/data/riders.toml) as a Rider."""
    problems: list[str] = []
    profiles = _load_profiles(problems)
    if problems:
        raise ValueError("; ".join(problems))
    if name not in profiles:
        raise ValueError(f"rider: unknown profile {name!r} (allowed: {', '.join(profiles)})")
    return Rider(name=name, **profiles[name])


def _load_profiles(rep_problems: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """Validated profile values {name: {key: value}} (description/source dropped). Problems of the packaged
    file are appended to rep_problems (with the packaged file's path as FILE)."""
    rep = _Report(_profiles_file_label())
    raw, err = _profiles_raw()
    out: dict[str, dict[str, Any]] = {}
    if raw is None:
        rep.error("-", f"cannot read the rider profiles: {err}")
    else:
        for name, table in raw.items():
            if not isinstance(table, dict):
                rep.error(name, f"expected a table [{name}], got {_typename(table)}")
                continue
            if not _NAME_RE.match(name):
                rep.error(name, "is not a valid profile name", NAME_PATTERN)
            vals = _check_table(table, _PROFILE_SECTION, name, rep) or {}
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


def rider_profiles() -> dict[str, Rider]:
    """The shipped rider profiles as Riders (name = profile name). Raises ConfigError if the file is bad."""
    problems: list[str] = []
    vals = _load_profiles(problems)
    if problems:
        raise ConfigError(problems)
    return {name: Rider(name=name, **v) for name, v in vals.items()}


def profile_descriptions() -> dict[str, tuple[str, str]]:
    """{profile: (description, source)} of the shipped profiles."""
    raw, _ = _profiles_raw()
    return {k: (str(v.get("description", "")), str(v.get("source", "")))
            for k, v in (raw or {}).items() if isinstance(v, dict)}


# ----------------------------------------------------------------------------------------------------------
# The experiment
# ----------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ConditionsSpec:
    """[conditions]: which ankle conditions to solve and their settings (degrees)."""

    ankle: tuple[str, ...] = ("free",)
    fixed_ankle_deg: float = _PS.fixed_ankle_deg
    heel_drop_deg: tuple[float, ...] = (_PS.heel_drop_deg,)
    heel_drop_window_deg: tuple[float, float] = _PS.heel_drop_window_deg
    heel_drop_mode: tuple[str, ...] = (_PS.heel_drop_mode,)
    heel_drop_ramp_deg: float = _PS.heel_drop_ramp_deg
    prescribed_sole_deg: tuple[tuple[float, float], ...] = ()
    ankle_range_deg: tuple[float, float] = _PS.ankle_range_deg
    ankle_range_width_deg: tuple[float, ...] = ()
    ankle_stop_stiffness_Nm_per_rad: float = _PS.ankle_stop_stiffness_Nm_per_rad
    brace_stiffness_Nm_per_rad: tuple[float, ...] = (_PS.brace_stiffness_Nm_per_rad,)
    brace_neutral_deg: float = _PS.brace_neutral_deg
    brace_damping_Nms_per_rad: float = _PS.brace_damping_Nms_per_rad

    def expanded(self) -> list[tuple[str, dict[str, Any]]]:
        """[(condition label, ProblemSpec keyword arguments)], one per point; heel_drop once per drop."""
        out: list[tuple[str, dict[str, Any]]] = []
        for c in self.ankle:
            if c == "heel_drop":
                for mode in self.heel_drop_mode:
                    tag = "heel_drop" if mode == "relative" else f"heel_drop_{mode}"
                    for d in self.heel_drop_deg:
                        out.append((f"{tag}{inten._num(d)}", dict(
                            condition=c, heel_drop_deg=d, heel_drop_mode=mode,
                            heel_drop_window_deg=self.heel_drop_window_deg, heel_drop_ramp_deg=self.heel_drop_ramp_deg)))
            elif c == "fixed":
                out.append((c, dict(condition=c, fixed_ankle_deg=self.fixed_ankle_deg)))
            elif c == "prescribed":
                out.append((c, dict(condition=c, prescribed_sole_deg=self.prescribed_sole_deg)))
            elif c == "range_limited":
                stop = dict(condition=c, ankle_stop_stiffness_Nm_per_rad=self.ankle_stop_stiffness_Nm_per_rad)
                if self.ankle_range_width_deg:
                    out += [(f"range_limited_w{inten._num(w)}", stop | dict(ankle_range_width_deg=w))
                            for w in self.ankle_range_width_deg]
                else:
                    out.append((c, stop | dict(ankle_range_deg=self.ankle_range_deg)))
            elif c == "braced":
                out += [(f"braced_k{inten._num(k)}", dict(condition=c, brace_stiffness_Nm_per_rad=k,
                                                          brace_neutral_deg=self.brace_neutral_deg,
                                                          brace_damping_Nms_per_rad=self.brace_damping_Nms_per_rad))
                        for k in self.brace_stiffness_Nm_per_rad]
            else:
                out.append((c, dict(condition=c)))
        return out


@dataclass(frozen=True)
class IntensitySpec:
    """[intensity]: levels in `unit` and cadences."""

    unit: str = "W"
    values: tuple[float, ...] = (_PS.power_W,)
    cadence_rpm: tuple[float, ...] = (_PS.cadence_rpm,)


@dataclass(frozen=True)
class OutputSpec:
    """[output]: dir is absolute (resolved against the config file's directory)."""

    dir: Path = Path("out")
    figures: bool = True
    sto: bool = False


@dataclass(frozen=True)
class Point:
    """One solve of a sweep. key: stable, unique, path-like ("rider=R/fit=F/cond=C/P=200W/cad=90")."""

    key: str
    rider: Rider
    fit_name: str
    fit: BikeFit
    spec: ProblemSpec
    intensity_label: str
    labels: dict[str, str | float] = field(default_factory=dict)

    @property
    def condition_label(self) -> str:
        return str(self.labels.get("condition_label", self.spec.condition))


@dataclass(frozen=True)
class Experiment:
    """A validated experiment. `config` is the parsed TOML after --set overrides (for provenance);
    `warnings` lists suspicious but usable settings (FILE: KEY: warning: ...)."""

    name: str
    description: str
    source: Path | None
    riders: tuple[Rider, ...]
    fits: tuple[tuple[str, BikeFit], ...]
    conditions: ConditionsSpec = ConditionsSpec()
    intensity: IntensitySpec = IntensitySpec()
    cost: CostSpec = field(default_factory=CostSpec)
    solver: SolverSpec = field(default_factory=SolverSpec)
    output: OutputSpec = OutputSpec()
    problem: dict = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    config: dict = field(default_factory=dict)
    overrides: tuple[str, ...] = ()

    @property
    def result_file(self) -> Path:
        """OUTPUT_DIR/NAME.h5."""
        return self.output.dir / f"{self.name}.h5"

    @property
    def fit_names(self) -> tuple[str, ...]:
        return tuple(n for n, _ in self.fits)

    def n_points(self) -> int:
        return (len(self.riders) * len(self.fits) * len(self.conditions.expanded())
                * len(self.intensity.values) * len(self.intensity.cadence_rpm))

    def points(self) -> list[Point]:
        """The sweep: riders x fits x conditions x cadences x intensities, intensities innermost and
        ascending, so consecutive points differ in intensity only (warm-start chains)."""
        unit = self.intensity.unit
        values = sorted(self.intensity.values)
        out: list[Point] = []
        for rider in self.riders:
            for fit_name, fit in self.fits:
                for cond_label, cond_kw in self.conditions.expanded():
                    for cad in self.intensity.cadence_rpm:
                        for v in values:
                            power = inten.power_from_intensity(rider, unit, v)
                            spec = ProblemSpec(power_W=power, cadence_rpm=cad, cost=self.cost, solver=self.solver,
                                               **self.problem, **cond_kw)
                            label = inten.intensity_label(unit, v)
                            key = (f"rider={rider.name}/fit={fit_name}/cond={cond_label}/"
                                   f"{inten.intensity_key(unit, v)}/cad={inten._num(cad)}")
                            labels: dict[str, str | float] = {
                                "rider": rider.name, "fit": fit_name, "condition": spec.condition,
                                "condition_label": cond_label, "intensity": label, "intensity_unit": unit,
                                "intensity_value": float(v), "power_W": float(power), "cadence_rpm": float(cad),
                            }
                            out.append(Point(key, rider, fit_name, fit, spec, label, labels))
        return out

    def to_dict(self) -> dict[str, Any]:
        """Everything resolved (defaults filled in), JSON-serialisable; for storing with results."""
        def plain(x):
            if dataclasses.is_dataclass(x):
                return {f.name: plain(getattr(x, f.name)) for f in dataclasses.fields(x)}
            if isinstance(x, (list, tuple)):
                return [plain(y) for y in x]
            if isinstance(x, dict):
                return {str(k): plain(y) for k, y in x.items()}
            if isinstance(x, Path):
                return str(x)
            return x
        return {
            "experiment": {"name": self.name, "description": self.description,
                           "source": str(self.source) if self.source else None},
            "riders": [plain(r) for r in self.riders],
            "fits": [dict(name=n, **plain(f)) for n, f in self.fits],
            "conditions": plain(self.conditions), "intensity": plain(self.intensity),
            "cost": plain(self.cost), "solver": plain(self.solver), "output": plain(self.output),
            "problem": dict(self.problem),
            "overrides": list(self.overrides),
        }


# ----------------------------------------------------------------------------------------------------------
# Reading and overrides
# ----------------------------------------------------------------------------------------------------------

def _read_toml(path: Path, rep: _Report) -> dict[str, Any] | None:
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


def _apply_overrides(raw: dict[str, Any], overrides: Iterable[str], rep: _Report) -> set[str]:
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


# ----------------------------------------------------------------------------------------------------------
# Building the experiment
# ----------------------------------------------------------------------------------------------------------

def _section_table(raw: dict[str, Any], name: str, rep: _Report) -> dict[str, Any] | None:
    """The raw [name] table, {} if absent, None (reported) if it is not a table."""
    v = raw.get(name, {})
    if isinstance(v, dict):
        return v
    if isinstance(v, list) and f"{name}s" in SCHEMA:
        rep.error(name, f"expected a table [{name}], got an array of tables",
                  f"one [{name}] table; for several use [[{name}s]]")
    else:
        rep.error(name, f"expected a table [{name}], got {_typename(v)}", f"the [{name}] table")
    return None


def _section_array(raw: dict[str, Any], name: str, rep: _Report) -> list[Any] | None:
    v = raw.get(name)
    if isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
        return v
    single = name[:-1]
    if isinstance(v, dict):
        rep.error(name, f"expected an array of tables [[{name}]], got a single table [{name}]",
                  f"[[{name}]] tables; for one use [{single}]")
    elif isinstance(v, list) and not v:
        rep.error(name, "is empty", f"at least one [[{name}]] table")
    elif isinstance(v, list):
        bad = next(i for i, x in enumerate(v) if not isinstance(x, dict))
        rep.error(f"{name}[{bad}]", f"expected a table, got {_typename(v[bad])}", f"[[{name}]] tables")
    else:
        rep.error(name, f"expected an array of tables [[{name}]], got {_typename(v)}", f"[[{name}]] tables")
    return None


def _make_rider(vals: dict[str, Any], where: str, profiles: dict[str, dict[str, Any]], rep: _Report,
                in_array: bool) -> tuple[Rider, set[str]] | None:
    """Rider from a checked [rider] table (profile + inline values); also returns the keys it was given."""
    profile = vals.get("profile")
    base: dict[str, Any] = {}
    if profile is not None:
        if profile not in profiles:
            rep.error(f"{where}.profile", f"unknown profile {profile!r}{_suggest(profile, profiles)}",
                      ", ".join(profiles) or "none (riders.toml unreadable)")
            return None
        base = dict(profiles[profile])
    inline = {k: v for k, v in vals.items() if k not in ("name", "profile")}
    merged = {**base, **inline}
    name = vals.get("name") or profile
    if name is None:
        if in_array:
            rep.error(f"{where}.name", "missing (required when no profile is given)", SCHEMA["riders"].key("name")
                      .allowed())
            return None
        name = "custom"
    try:
        return Rider(name=name, **merged), set(merged)
    except (TypeError, ValueError) as e:
        rep.error(where, f"rejected by the model: {e}")
        return None


def _riders(raw: dict[str, Any], rep: _Report) -> list[tuple[str, Rider, set[str]]] | None:
    """[(key prefix, rider, given keys)] or None when any rider is invalid."""
    profile_problems: list[str] = []
    profiles = _load_profiles(profile_problems)
    for p in profile_problems:
        if p not in rep.problems:
            rep.problems.append(p)
    has_one, has_many = "rider" in raw, "riders" in raw
    if has_one and has_many:
        rep.error("riders", "both [rider] and [[riders]] are given", "either one [rider] or a list of [[riders]]")
    tables: list[tuple[str, dict[str, Any]]] = []
    if has_many:
        arr = _section_array(raw, "riders", rep)
        if arr is None:
            return None
        tables = [(f"riders[{i}]", t) for i, t in enumerate(arr)]
        section = SCHEMA["riders"]
    elif has_one:
        t = _section_table(raw, "rider", rep)
        if t is None:
            return None
        tables = [("rider", t)]
        section = SCHEMA["rider"]
    else:
        if "reference" not in profiles:
            rep.error("rider", "no [rider] given and the 'reference' profile is missing", "a [rider] table")
            return None
        tables = [("rider", {"profile": "reference"})]
        section = SCHEMA["rider"]
    out, ok, seen = [], True, {}
    for where, t in tables:
        n_before = len(rep.problems)
        vals = _check_table(t, section, where, rep) or {}
        if len(rep.problems) > n_before:
            ok = False
            if "profile" in t and "profile" not in vals:
                continue  # a bad profile is reported already; building without it would add noise
            # otherwise build with what is valid, to report missing-name/model problems too
        r = _make_rider(vals, where, profiles, rep, section.array)
        if r is None:
            ok = False
            continue
        rider, given = r
        if rider.name in seen:
            rep.error(f"{where}.name", f"duplicate rider name {rider.name!r} (also {seen[rider.name]})",
                      "unique rider names")
            ok = False
        seen.setdefault(rider.name, where)
        out.append((where, rider, given))
    return out if ok and not (has_one and has_many) else None


_RULE_KEYS = {
    "saddle_height_m": ("absolute",),
    "knee_flexion_at_bdc_deg": ("knee_bdc",),
    "ankle_at_bdc_deg": ("knee_bdc",),
    "inseam_fraction": ("inseam_fraction",),
    "inseam_m": ("inseam_fraction",),
}


def _make_fit(vals: dict[str, Any], where: str, rep: _Report) -> BikeFit | None:
    rule = vals.get("saddle_rule", BikeFit().saddle_rule)
    ok = True
    if rule == "absolute" and "saddle_height_m" not in vals:
        rep.error(f"{where}.saddle_height_m", "required when saddle_rule = 'absolute'",
                  SCHEMA["fit"].key("saddle_height_m").allowed())
        ok = False
    for k, rules in _RULE_KEYS.items():
        if k in vals and rule not in rules:
            rep.error(f"{where}.{k}", f"has no effect with saddle_rule = {rule!r}",
                      f"remove it, or set saddle_rule = {rules[0]!r}")
            ok = False
    if "setback_m" in vals and "seat_tube_angle_deg" in vals:
        rep.error(f"{where}.setback_m", "both setback_m and seat_tube_angle_deg are given (setback_m would "
                  "override the angle)", "one of them")
        ok = False
    if "setback_m" in vals and "saddle_height_m" in vals and vals["setback_m"] >= vals["saddle_height_m"]:
        rep.error(f"{where}.setback_m", f"{_num_text(vals['setback_m'])} m is not smaller than saddle_height_m "
                  f"{_num_text(vals['saddle_height_m'])} m", "setback_m < saddle_height_m")
        ok = False
    if not ok:
        return None
    try:
        return BikeFit(**{k: v for k, v in vals.items() if k != "name"})
    except (TypeError, ValueError) as e:
        rep.error(where, f"rejected by the model: {e}")
        return None


def _fits(raw: dict[str, Any], rep: _Report) -> list[tuple[str, str, BikeFit]] | None:
    has_one, has_many = "fit" in raw, "fits" in raw
    if has_one and has_many:
        rep.error("fits", "both [fit] and [[fits]] are given", "either one [fit] or a list of [[fits]]")
    if has_many:
        arr = _section_array(raw, "fits", rep)
        if arr is None:
            return None
        tables, section = [(f"fits[{i}]", t) for i, t in enumerate(arr)], SCHEMA["fits"]
    else:
        t = _section_table(raw, "fit", rep) if has_one else {}
        if t is None:
            return None
        tables, section = [("fit", t)], SCHEMA["fit"]
    out, ok, seen = [], True, {}
    for where, t in tables:
        n_before = len(rep.problems)
        vals = _check_table(t, section, where, rep) or {}
        if len(rep.problems) > n_before:
            ok = False
        name = vals.get("name", "default" if not section.array else None)
        if name is None:
            if "name" not in t:
                rep.error(f"{where}.name", "missing", section.key("name").allowed())
            ok = False
        fit = _make_fit(vals, where, rep)
        if fit is None or name is None:
            ok = False
            continue
        if name in seen:
            rep.error(f"{where}.name", f"duplicate fit name {name!r} (also {seen[name]})", "unique fit names")
            ok = False
        seen.setdefault(name, where)
        out.append((where, name, fit))
    return out if ok and not (has_one and has_many) else None


def _conditions(raw: dict[str, Any], rep: _Report) -> ConditionsSpec | None:
    t = _section_table(raw, "conditions", rep)
    if t is None:
        return None
    n_before = len(rep.problems)
    vals = _check_table(t, SCHEMA["conditions"], "conditions", rep)
    ok = len(rep.problems) == n_before
    ankle = vals.get("ankle", ("free",)) if "ankle" in t else ("free",)
    if "ankle" in t and "ankle" not in vals:
        return None
    if "prescribed" in ankle and not vals.get("prescribed_sole_deg") and "prescribed_sole_deg" not in \
            (set(t) - set(vals)):
        rep.error("conditions.prescribed_sole_deg", "required when 'prescribed' is in conditions.ankle",
                  SCHEMA["conditions"].key("prescribed_sole_deg").allowed())
        ok = False
    unused = {"fixed_ankle_deg": "fixed", "heel_drop_deg": "heel_drop", "heel_drop_window_deg": "heel_drop",
              "heel_drop_mode": "heel_drop", "heel_drop_ramp_deg": "heel_drop", "prescribed_sole_deg": "prescribed",
              "ankle_range_deg": "range_limited", "ankle_range_width_deg": "range_limited",
              "ankle_stop_stiffness_Nm_per_rad": "range_limited", "brace_stiffness_Nm_per_rad": "braced",
              "brace_neutral_deg": "braced", "brace_damping_Nms_per_rad": "braced"}
    for k, cond in unused.items():
        if k in t and cond not in ankle:
            rep.warn(f"conditions.{k}", f"ignored: {cond!r} is not in conditions.ankle")
    if not ok:
        return None
    d = ConditionsSpec()
    return ConditionsSpec(
        ankle=tuple(ankle),
        fixed_ankle_deg=vals.get("fixed_ankle_deg", d.fixed_ankle_deg),
        heel_drop_deg=tuple(vals.get("heel_drop_deg", d.heel_drop_deg)),
        heel_drop_window_deg=tuple(vals.get("heel_drop_window_deg", d.heel_drop_window_deg)),
        heel_drop_mode=tuple(vals.get("heel_drop_mode", d.heel_drop_mode)),
        heel_drop_ramp_deg=vals.get("heel_drop_ramp_deg", d.heel_drop_ramp_deg),
        prescribed_sole_deg=tuple(vals.get("prescribed_sole_deg", ())) if "prescribed" in ankle else (),
        ankle_range_deg=tuple(vals.get("ankle_range_deg", d.ankle_range_deg)),
        ankle_range_width_deg=tuple(vals.get("ankle_range_width_deg", d.ankle_range_width_deg)),
        ankle_stop_stiffness_Nm_per_rad=vals.get("ankle_stop_stiffness_Nm_per_rad", d.ankle_stop_stiffness_Nm_per_rad),
        brace_stiffness_Nm_per_rad=tuple(vals.get("brace_stiffness_Nm_per_rad", d.brace_stiffness_Nm_per_rad)),
        brace_neutral_deg=vals.get("brace_neutral_deg", d.brace_neutral_deg),
        brace_damping_Nms_per_rad=vals.get("brace_damping_Nms_per_rad", d.brace_damping_Nms_per_rad),
    )


def _intensity(raw: dict[str, Any], rep: _Report) -> IntensitySpec | None:
    t = _section_table(raw, "intensity", rep)
    if t is None:
        return None
    n_before = len(rep.problems)
    vals = _check_table(t, SCHEMA["intensity"], "intensity", rep)
    d = IntensitySpec()
    unit = vals.get("unit", d.unit if "unit" not in t else None)
    if unit is not None and "values" in t:  # the unit's upper bound, also beside other problems in the list
        hi = MAX_POWER_W if unit == "W" else 200.0
        raw_values = t["values"]
        for i, v in enumerate(_as_list(raw_values)):
            if _is_number(v) and math.isfinite(v) and v > hi:
                w = f"intensity.values[{i}]" if isinstance(raw_values, list) else "intensity.values"
                rep.error(w, f"{_num_text(v)} is out of range for unit {unit!r}", f"> 0 and <= {_num_text(hi)} {unit}")
    if len(rep.problems) > n_before:
        return None
    return IntensitySpec(unit=vals.get("unit", d.unit), values=tuple(vals.get("values", d.values)),
                         cadence_rpm=tuple(vals.get("cadence_rpm", d.cadence_rpm)))


def _intensity_vs_riders(spec: IntensitySpec, riders: list[tuple[str, Rider, set[str]]], raw_values: Any,
                         rep: _Report) -> bool:
    ok = True
    needs = inten.UNIT_REQUIRES[spec.unit]
    for where, rider, given in riders:
        missing = [k for k in needs if k not in given or getattr(rider, k) is None]
        for k in missing:
            rep.error(f"{where}.{k}", f"not given, but intensity.unit = {spec.unit!r} needs it for rider "
                      f"{rider.name!r}", f"{SCHEMA['rider'].key(k).allowed()}, in the rider table or its profile")
            ok = False
        if missing:
            continue
        for i, v in enumerate(spec.values):
            p = inten.power_from_intensity(rider, spec.unit, v)
            if not (0.0 < p <= MAX_POWER_W):
                w = f"intensity.values[{i}]" if isinstance(raw_values, list) else "intensity.values"
                rep.error(w, f"{inten.intensity_label(spec.unit, v)} is {p:.0f} W for rider {rider.name!r}",
                          f"0 < power <= {_num_text(MAX_POWER_W)} W")
                ok = False
    return ok


_MODEL_RIDER_FIELDS = ("height_m", "mass_kg", "sex", "max_force_set", "strength_scaling", "muscle_architecture", "passive_curves",
                       "strength_scale", "passive_strain_scale",
                       "muscle_force_scale")


def _warn_identical_riders(spec: IntensitySpec, riders: list[tuple[str, Rider, set[str]]], rep: _Report,
                           metabolic_cost: bool = False) -> None:
    """Warn when two riders pose the same problems at every point: the model sees body size, strength and the
    converted power only (and fibre type when the cost is metabolic), so riders that differ in nothing else
    give identical solutions (fibre type still changes the reported metabolic power and efficiency)."""
    fields = _MODEL_RIDER_FIELDS + (("type1_pct_vastus_lateralis",) if metabolic_cost else ())
    for j, (wj, rj, _) in enumerate(riders):
        for wi, ri, _ in riders[:j]:
            if any(getattr(ri, f) != getattr(rj, f) for f in fields):
                continue
            if all(math.isclose(inten.power_from_intensity(ri, spec.unit, v),
                                inten.power_from_intensity(rj, spec.unit, v), rel_tol=1e-12) for v in spec.values):
                differ = [f.name for f in dataclasses.fields(Rider) if f.name != "name"
                          and getattr(ri, f.name) != getattr(rj, f.name)]
                fibre = "type1_pct_vastus_lateralis" in differ
                differ = [f for f in differ if f != "type1_pct_vastus_lateralis"]
                rep.warn(wj, f"rider {rj.name!r} poses the same problem as {ri.name!r} ({wi}) at every point, so "
                         "their solutions will be identical: the model sees body size, strength and crank power "
                         f"only" + (f", and {', '.join(differ)} does not change the power in unit {spec.unit!r}"
                                    if differ else "")
                         + ("; their fibre types (type1_pct_vastus_lateralis) change only the reported metabolic "
                            "power and efficiency, as the cost is not metabolic" if fibre else ""))
                break


def _simple_section(raw: dict[str, Any], name: str, rep: _Report) -> dict[str, Any] | None:
    t = _section_table(raw, name, rep)
    if t is None:
        return None
    n_before = len(rep.problems)
    vals = _check_table(t, SCHEMA[name], name, rep)
    return vals if len(rep.problems) == n_before else None


def _output(vals: dict[str, Any], base_dir: Path, rep: _Report) -> OutputSpec | None:
    text = vals.get("dir", SCHEMA["output"].key("dir").default)
    if not text.strip():
        rep.error("output.dir", "is empty", SCHEMA["output"].key("dir").allowed())
        return None
    d = Path(os.path.expanduser(text))
    out = Path(os.path.abspath(d if d.is_absolute() else base_dir / d))
    why = directory_problem(out)  # NUL byte, name too long, a file in the way, not writable (toolkit.io.paths)
    if why:
        rep.error("output.dir", f"{shown(out)}: {why}", SCHEMA["output"].key("dir").allowed())
        return None
    return OutputSpec(dir=out, figures=vals.get("figures", True), sto=vals.get("sto", False))


@lru_cache(maxsize=1)
def _leg_model():
    from ..model.leg import LegModel
    return LegModel()


def _check_placement(riders, fits, rep: _Report) -> None:
    """Place every rider on every fit (saddle rule + reach over the cycle); reported at the fit's key."""
    from ..model.leg import make_setup
    model = _leg_model()
    for fwhere, fname, fit in fits:
        for rwhere, rider, _ in riders:
            try:
                make_setup(model, rider, fit)
            except ValueError as e:  # FitError and the bike-fit checks
                msg = str(e)
                m = re.match(r"fit(\.\w+)?: (.*)", msg, re.S)
                key, what = (fwhere + (m.group(1) or ""), m.group(2)) if m else (fwhere, msg)
                allowed = None
                am = re.match(r"(.*) \(allowed: (.*)\)\s*$", what, re.S)
                if am:
                    what, allowed = am.group(1), am.group(2)
                rep.error(key, f"{what} (rider {rider.name!r}, fit {fname!r})", allowed)


def load_experiment(path: str | os.PathLike, overrides: Iterable[str] = (), *, check_fit: bool = False,
                    data: dict | None = None) -> Experiment:
    """Read, override, validate and build an experiment; raise ConfigError with every problem found.

    overrides: 'KEY=VALUE' strings (--set), KEY dotted (intensity.values, riders[1].mass_kg,
    cost.weights.VAS), VALUE a TOML value or a bare string. check_fit: also place every rider on every fit
    (builds the leg model, ~1 s) so an unreachable saddle is reported before solving. data: the parsed TOML
    content instead of reading `path` (which then only names the source in messages and anchors relative paths).
    """
    path = Path(path)
    rep = _Report(str(path))
    # `data`: an already parsed config (the Python API's load_experiment(dict)); `path` then only names it.
    raw = _read_toml(path, rep) if data is None else __import__("copy").deepcopy(data)
    if raw is None:
        raise ConfigError(rep.problems)
    overrides = tuple(overrides or ())
    rep.overridden = _apply_overrides(raw, overrides, rep)

    for k, v in raw.items():
        if k not in SCHEMA:
            rep.error(k, f"unknown top-level {'section' if isinstance(v, dict) else 'key'}"
                      f"{_suggest(k, SCHEMA)}{_suggest_key(k, None)}", ", ".join(SCHEMA))

    exp_vals = _simple_section(raw, "experiment", rep)
    name = description = None
    if exp_vals is not None:
        name = exp_vals.get("name")
        if name is None and "name" not in (raw.get("experiment") or {}):
            name = path.stem
            if not _NAME_RE.match(name) or len(name) > MAX_NAME_LEN:
                rep.error("experiment.name", f"missing, and the file stem {name[:80]!r} is not a valid name",
                          SCHEMA["experiment"].key("name").allowed())
                name = None
        description = exp_vals.get("description", "")

    riders = _riders(raw, rep)
    fits = _fits(raw, rep)
    conditions = _conditions(raw, rep)
    intensity = _intensity(raw, rep)
    if intensity is not None and riders is not None:
        if not _intensity_vs_riders(intensity, riders, (raw.get("intensity") or {}).get("values"), rep):
            intensity = None

    cost = solver = output = None
    cost_vals = _simple_section(raw, "cost", rep)
    if cost_vals is not None:
        try:
            cost = CostSpec(**cost_vals)
        except (TypeError, ValueError) as e:
            rep.error("cost", f"rejected by the model: {e}")
    if intensity is not None and riders is not None:
        _warn_identical_riders(intensity, riders, rep, cost is not None and cost.metabolic_in_cost)
    solver_vals = _simple_section(raw, "solver", rep)
    if solver_vals is not None:
        try:
            solver = SolverSpec(**solver_vals)
        except (TypeError, ValueError) as e:
            rep.error("solver", f"rejected by the model: {e}")
    problem_vals = _simple_section(raw, "problem", rep) or {}
    out_vals = _simple_section(raw, "output", rep)
    if out_vals is not None:
        output = _output(out_vals, path.parent, rep)

    # sweep size: counted from whatever parsed, so a huge sweep is reported even beside other problems
    factors = _sweep_factors(raw, riders, fits, conditions, intensity)
    n = math.prod(c for _, c in factors)
    if n > MAX_POINTS:
        biggest = max(factors, key=lambda f: f[1])[0]
        rep.error(biggest, f"the sweep has {n} points = " + " x ".join(f"{c} ({k})" for k, c in factors),
                  f"at most {MAX_POINTS} points per experiment; split it into several files")

    if rep.problems:
        raise ConfigError(rep.problems, rep.warnings)

    if check_fit:
        _check_placement(riders, fits, rep)
        if rep.problems:
            raise ConfigError(rep.problems, rep.warnings)

    exp = Experiment(
        name=name, description=description, source=path.resolve(),
        riders=tuple(r for _, r, _ in riders), fits=tuple((n_, f) for _, n_, f in fits),
        conditions=conditions, intensity=intensity, cost=cost, solver=solver, output=output,
        warnings=tuple(rep.warnings), config=raw, overrides=overrides, problem=dict(problem_vals),
    )
    try:  # last line of defence: the model's own checks
        exp.points()
    except (TypeError, ValueError) as e:
        rep.error("-", f"a point was rejected by the problem spec: {e}")
        raise ConfigError(rep.problems, rep.warnings) from None
    if check_fit and (check_requests(exp, _leg_model(), rep) or rep.problems):
        raise ConfigError(rep.problems, rep.warnings)
    return exp


def _sweep_factors(raw, riders, fits, conditions, intensity) -> list[tuple[str, int]]:
    """[(key, count)] of the sweep's factors; uses the raw values where a section failed validation."""
    def n_list(v):
        return len(v) if isinstance(v, list) else 1

    rc = len(riders) if riders is not None else (n_list(raw.get("riders")) if "riders" in raw else 1)
    fc = len(fits) if fits is not None else (n_list(raw.get("fits")) if "fits" in raw else 1)
    if conditions is not None:
        cc = len(conditions.expanded())
    else:
        c = raw.get("conditions") if isinstance(raw.get("conditions"), dict) else {}
        ankle = _as_list(c.get("ankle", ["free"]))
        per = {"heel_drop": n_list(c.get("heel_drop_deg", [1])) * n_list(c.get("heel_drop_mode", [1])),
               "range_limited": max(1, n_list(c.get("ankle_range_width_deg", []))),
               "braced": n_list(c.get("brace_stiffness_Nm_per_rad", [1]))}
        cc = sum(per.get(a, 1) for a in ankle)
    it = raw.get("intensity") if isinstance(raw.get("intensity"), dict) else {}
    vc = len(intensity.values) if intensity is not None else n_list(it.get("values", [1]))
    kc = len(intensity.cadence_rpm) if intensity is not None else n_list(it.get("cadence_rpm", [1]))
    return [("conditions.ankle", cc), ("intensity.values", vc), ("intensity.cadence_rpm", kc),
            ("fits", fc), ("riders", rc)]


def validate_main(path: str, overrides: Iterable[str] = ()) -> int:
    """`python -m toolkit validate CONFIG`: problems to stderr (one per line) and 2, or an OK line and 0."""
    try:
        exp = load_experiment(path, overrides, check_fit=True)
    except ConfigError as e:
        for line in e.warnings:
            print(line, file=sys.stderr)
        for line in e.problems:
            print(line, file=sys.stderr)
        return 2
    for line in exp.warnings:
        print(line, file=sys.stderr)
    n = exp.n_points()
    nc = len(exp.conditions.expanded())
    def count(k: int, word: str) -> str:
        if k == 1:
            return f"1 {word}"
        return f"{k} {word[:-1]}ies" if word.endswith("y") else f"{k} {word}s"

    print(f"OK {path}: experiment {exp.name!r}, {count(n, 'point')} ({count(len(exp.riders), 'rider')} x "
          f"{count(len(exp.fits), 'fit')} x {count(nc, 'condition')} x {count(len(exp.intensity.values), 'intensity')}"
          f" x {count(len(exp.intensity.cadence_rpm), 'cadence')}) -> {exp.result_file}")
    return 0


# ----------------------------------------------------------------------------------------------------------
# docs/config.md
# ----------------------------------------------------------------------------------------------------------

def _md_cell(s: str) -> str:
    return s.replace("|", "\\|").replace("\n", " ")


def config_reference_markdown() -> str:
    """The key reference (docs/config.md), generated from SCHEMA, RULES, the intensity rule and the profiles."""
    L: list[str] = []
    a = L.append
    a("# Experiment configuration reference")
    a("")
    a("<!-- Generated by toolkit.study.config.config_reference_markdown(); do not edit by hand. -->")
    a("<!-- Regenerate: PYTHONPATH=. python -m toolkit.study.config > docs/config.md -->")
    a("")
    a("An experiment is a TOML file (see `experiments/`). Check one without solving with "
      "`python -m toolkit validate CONFIG.toml`. Every problem is reported, one per line, as "
      "`FILE: KEY: what is wrong (allowed: ...)`, with exit code 2; FILE is `--set` for a value that came "
      "from an override, and KEY is `-` for the file as a whole.")
    a("")
    a("Units are in the key names (`_m`, `_kg`, `_deg`, `_rpm`, `_W`, `_s`); angles follow the toolkit's "
      "conventions: crank angle 0 = top dead centre, increasing in the pedaling direction; ankle "
      "dorsiflexion +; sole angle relative to horizontal, toe-down +. Numbers must be finite (`nan`, `inf` "
      "are rejected) and booleans are not numbers. A key may hold a number where an array of numbers is "
      "expected (`cadence_rpm = 90` is `[90]`).")
    a("")
    a("## Sections")
    a("")
    for sec in SCHEMA.values():
        head = f"[[{sec.name}]]" if sec.array else f"[{sec.name}]"
        a(f"### `{head}`")
        a("")
        a(sec.doc)
        a("")
        a("| key | type | default | unit | allowed | meaning |")
        a("|---|---|---|---|---|---|")
        for k in sec.keys:
            unit = k.unit if k.unit and k.unit != "unit" else ("-" if not k.unit else "see unit")
            a(f"| `{k.name}` | {k.type_text()} | {_md_cell(k.default_doc())} | {_md_cell(unit)} | "
              f"{_md_cell(k.allowed())} | {_md_cell(k.doc)} |")
        a("")
    a("## Rules between keys")
    a("")
    for r in RULES:
        a(f"- {r}")
    a("")
    a("## Intensity rule")
    a("")
    a("`toolkit/study/intensity.py` converts intensity levels to mean crank power (both legs):")
    a("")
    a("```")
    a("VO2 (L/min)   = pct/100 x vo2max_L_min                          (pct_vo2max)")
    a("              = pct/100 x lactate_threshold_pct_vo2max/100 x vo2max_L_min   (pct_lt)")
    a(f"power_W       = VO2 x {_num_text(inten.ENERGY_EQUIVALENT_KJ_PER_L)} kJ/L x 1000/60 x gross_efficiency")
    a("power_W       = pct/100 x map_W                                 (pct_map)")
    a("```")
    a("")
    a(f"{_num_text(inten.ENERGY_EQUIVALENT_KJ_PER_L)} kJ/L is the energy equivalent of oxygen at a respiratory "
      f"exchange ratio of about {_num_text(inten.ENERGY_EQUIVALENT_RER)} (Lusk 1924, J Biol Chem 59:41, "
      "non-protein RQ table: 4.998 kcal/L at RQ 0.96); over RER 0.85-1.0 it spans about 20.3-21.1 kJ/L "
      "(about +/-3 % in power). Example: VO2max 4.8 L/min and gross efficiency 0.21 give 351 W at "
      "100 % VO2max and 281 W at 80 % VO2max. Labels in tables and plots read `200 W`, `80% VO2max`, "
      "`100% LT`, `90% MAP`.")
    a("")
    a("## Rider profiles (`toolkit/study/data/riders.toml`)")
    a("")
    profiles = _load_profiles()
    desc = profile_descriptions()
    cols = ["height_m", "mass_kg", "sex", "vo2max_L_min", "gross_efficiency", "lactate_threshold_pct_vo2max",
            "map_W"]
    a("| profile | " + " | ".join(cols) + " | power at LT (W) | description |")
    a("|---|" + "---|" * (len(cols) + 2))
    for name, vals in profiles.items():
        r = Rider(name=name, **vals)
        cells = [_toml_text(getattr(r, c)) if c in vals else "-" for c in cols]
        a(f"| `{name}` | " + " | ".join(cells) + f" | {inten.lt_power_W(r):.0f} | {_md_cell(desc[name][0])} |")
    a("")
    for name, (_, source) in desc.items():
        if source:
            a(f"- `{name}`: {_md_cell(source)}")
    a("")
    a("## Overrides (`--set`)")
    a("")
    a("`--set KEY=VALUE` changes one key before validation. KEY is dotted (`intensity.values`, "
      "`solver.nodes`, `riders[1].mass_kg`, `cost.weights.VAS`); VALUE is read as a TOML value "
      "(`300`, `true`, `[150, 250]`, `{VAS = 2}`, `\"text\"`) and otherwise taken as a bare string "
      "(`rider.profile=high_lt`). Unknown keys are reported as `--set: KEY: ...`.")
    a("")
    a("## Sweep order and point keys")
    a("")
    a("Points are riders x fits x conditions (heel_drop once per `heel_drop_deg`) x cadences x intensities, "
      "in that nesting, intensities innermost and ascending, so neighbouring points differ in intensity "
      "only (warm-start chains). Each point has a stable key such as "
      "`rider=reference/fit=default/cond=heel_drop10/P=200W/cad=90` (`I=80pct_vo2max` for relative "
      f"units). At most {MAX_POINTS} points per experiment.")
    a("")
    return "\n".join(L)


if __name__ == "__main__":  # pragma: no cover
    sys.stdout.write(config_reference_markdown())
