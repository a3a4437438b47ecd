"""The experiment-config schema: one pydantic model per TOML section.

Every key is a pydantic field whose type carries its constraints: numbers are strict (booleans and strings are
not numbers), finite, and bounded by the range declared once in `toolkit/model/ranges.py` (the same table the
dataclasses' own checks read); allowed strings are `Literal` types of the constants the model and problem
modules define (`SEXES`, `CONDITIONS`, ...). Unknown keys are forbidden. `SCHEMA` is a read-only view of the
models (`Section`s of `Key`s) used for "did you mean" hints, `--set` paths and docs/config.md; it is derived
from the models, never maintained by hand. Turning pydantic's errors into the one-line contract is
`validation.py`'s job.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, Strict
from pydantic_core import PydanticCustomError, PydanticKnownError
from pydantic.fields import FieldInfo

from ...model import ranges as R
from ...model.anthropometry import (ARCHITECTURES, FORCE_SETS, MUSCLE_CURVES, PASSIVE_CURVES, SEXES, STRENGTH_SCALINGS,
                                    Rider)
from ...model.bikefit import SADDLE_RULES, BikeFit
from ...model.muscles import MUSCLE_NAMES
from ...model.parameters import model_parameters
from ...ocp.heel_drop import HEEL_DROP_MODES
from ...ocp.problem import CONDITIONS, COST_KINDS, LOADS, METABOLIC_MODELS, TENDONS, CostSpec, ProblemSpec, SolverSpec
from .. import intensity as inten
from .errors import _num_text, _toml_text

#: Largest sweep one experiment may hold (riders x fits x conditions x intensities x cadences).
MAX_POINTS = 2000
#: Largest crank power (W) an intensity may convert to (ProblemSpec's own bound, toolkit/model/ranges.py).
MAX_POWER_W = R.PROBLEM["power_W"].hi
NAME_PATTERN = r"[A-Za-z0-9_-]+"
MAX_NAME_LEN = 64  # names become file names (NAME.h5, point keys in .sto and figure names)


# ----------------------------------------------------------------------------------------------------------
# Field declarations
# ----------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Spec:
    """What the docs and messages need to know about a field beyond its pydantic type (kept in the field's
    Annotated metadata). kind: 'str', 'bool', 'int', 'float', 'floats' (a number or an array of numbers),
    'strs', 'pair' ([a, b]), 'pairs' ([[crank, sole], ...]), 'muscles' (a table MUSCLE -> number)."""

    kind: str
    range: R.Range | None = None
    choices: tuple | None = None
    even: bool = False
    pattern: bool = False
    allowed_text: str | None = None
    default_text: str | None = None
    unit: str | None = None

    def allowed(self) -> str:
        """The 'allowed' text of error messages and of docs/config.md."""
        if self.allowed_text:
            if "{" not in self.allowed_text:
                return self.allowed_text
            rng = self.range
            return self.allowed_text.format(
                lo=_num_text(rng.lo) if rng else "", hi=_num_text(rng.hi) if rng else "",
                crank=R.PROBLEM["prescribed_crank_deg"].text().replace(" to ", "-"),
                sole=R.PROBLEM["prescribed_sole_deg"].text())
        parts = []
        if self.choices is not None:
            parts.append(", ".join(str(c) for c in self.choices))
        if self.pattern:
            parts.append(f"letters, digits, '_' and '-', at most {MAX_NAME_LEN} ({NAME_PATTERN})")
        rng = self.range.text() if self.range is not None else ""
        if rng:
            parts.append(("an even integer " if self.even else "") + rng)
        if self.kind == "muscles":
            parts.insert(0, "keys " + ", ".join(MUSCLE_NAMES))
        if not parts:
            parts.append({"bool": "true, false", "str": "any text"}.get(self.kind, self.kind))
        return "; ".join(parts)


def _listify(v: Any) -> Any:
    return v if isinstance(v, list) else [v]


def _only(kind: str):
    """A before-validator that refuses what a lax Literal would coerce (2.0 for 2, non-strings)."""
    def check(v: Any) -> Any:
        if kind == "int" and (not isinstance(v, int) or isinstance(v, bool)):
            raise PydanticKnownError("int_type")
        if kind == "str" and not isinstance(v, str):
            raise PydanticKnownError("string_type")
        return v
    return BeforeValidator(check)


def _distinct(values: tuple) -> tuple:
    seen: list = []
    for i, v in enumerate(values):
        if v in seen:
            raise PydanticCustomError("config", "duplicate value", {
                "sub": [i], "what": f"duplicate value {_toml_text(v)}", "allowed": "distinct values"})
        seen.append(v)
    return values


def _ordered(strict: bool):
    def check(pair: tuple) -> tuple:
        a, b = pair
        if not (a < b if strict else a <= b):
            raise PydanticCustomError("config", "order", {
                "what": f"start {_num_text(a)} is not before end {_num_text(b)}" if strict
                else f"low {_num_text(a)} is above high {_num_text(b)}"})
        return pair
    return AfterValidator(check)


def _number(rng: R.Range | None) -> Any:
    return Annotated[float, Strict(), Field(allow_inf_nan=False, **(rng.constraints() if rng else {}))]


def _periodic_profile(samples: tuple) -> tuple:
    """prescribed_sole_deg: crank angles strictly increasing, at least 4 samples, 0 and 360 deg equal."""
    for i in range(1, len(samples)):
        if samples[i][0] <= samples[i - 1][0]:
            raise PydanticCustomError("config", "order", {
                "sub": [i, 0], "what": f"crank angle {_num_text(samples[i][0])} is not after the previous one "
                                      f"({_num_text(samples[i - 1][0])})"})
    if samples and len(samples) < 4:
        raise PydanticCustomError("config", "few", {"what": f"only {len(samples)} samples"})
    if samples and samples[0][0] == 0.0 and samples[-1][0] == 360.0 and samples[0][1] != samples[-1][1]:
        raise PydanticCustomError("config", "periodic", {
            "what": f"the samples at 0 and 360 deg differ ({_num_text(samples[0][1])} vs "
                    f"{_num_text(samples[-1][1])}) but the profile is periodic"})
    return samples


def key(kind: str, doc: str, rng: R.Range | None = None, *, choices: tuple | None = None, even: bool = False,
        pattern: bool = False, allowed_text: str | None = None, default_text: str | None = None,
        unit: str | None = None, strict_order: bool = True) -> Any:
    """The Annotated type of one config key: the pydantic constraints and the docs' Spec, from one declaration."""
    spec = Spec(kind, rng, choices, even, pattern, allowed_text, default_text, unit)
    info = Field(description=doc)
    if kind == "float":
        return Annotated[_number(rng), info, spec]
    if kind == "int":
        if choices is not None:
            return Annotated[Literal[choices], _only("int"), info, spec]
        return Annotated[int, Strict(), Field(description=doc, multiple_of=2 if even else None,
                                              **(rng.constraints() if rng else {})), spec]
    if kind == "bool":
        return Annotated[bool, Strict(), info, spec]
    if kind == "str":
        if choices is not None:
            return Annotated[Literal[choices], _only("str"), info, spec]
        if pattern:
            return Annotated[str, Strict(), Field(description=doc, pattern="^" + NAME_PATTERN + "$",
                                                  max_length=MAX_NAME_LEN), spec]
        return Annotated[str, Strict(), info, spec]
    if kind in ("floats", "strs"):
        item = _number(rng) if kind == "floats" else Annotated[Literal[choices], _only("str")]
        return Annotated[tuple[item, ...], BeforeValidator(_listify), Field(description=doc, min_length=1),
                         AfterValidator(_distinct), spec]
    if kind == "pair":
        return Annotated[tuple[_number(rng), _number(rng)], info, _ordered(strict_order), spec]
    if kind == "pairs":
        sample = tuple[_number(R.PROBLEM["prescribed_crank_deg"]), _number(R.PROBLEM["prescribed_sole_deg"])]
        return Annotated[tuple[sample, ...], info, AfterValidator(_periodic_profile), spec]
    if kind == "muscles":
        return Annotated[dict[Annotated[Literal[MUSCLE_NAMES], _only("str")], _number(rng)], info, spec]
    raise AssertionError(kind)


class _Table(BaseModel):
    """A config table: unknown keys are errors; values are validated, never coerced across types."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# ----------------------------------------------------------------------------------------------------------
# The sections
# ----------------------------------------------------------------------------------------------------------

_RIDER = Rider()
_PS = ProblemSpec()
_COST = CostSpec()
_SOLVER = SolverSpec()
_MP = model_parameters()
_FITD = BikeFit().with_defaults()
_NAME_DOC = "Name of this {what} in point keys and tables."
_PROFILE_DOC = ("A rider profile from toolkit/study/data/riders.toml; keys given next to it override the "
                "profile's values. Without a profile, unset keys take the defaults below (and pct_* intensities "
                "need the rider's figures given explicitly).")
_RR, _FR, _PR, _CR, _SR = R.RIDER, R.FIT, R.PROBLEM, R.COST, R.SOLVER


class ExperimentTable(_Table):
    """What the experiment is called."""

    name: key("str", "Experiment name; the output file is OUTPUT_DIR/NAME.h5.", pattern=True,
              default_text="the config file's stem") = None
    description: key("str", "Free text, stored with the results.") = ""


class RiderKeys(_Table):
    """The rider's body, physiology and muscle options (toolkit.model.anthropometry.Rider)."""

    height_m: key("float", "Stature; scales segment lengths, masses, inertias (de Leva 1996) and muscle geometry.",
                  _RR["height_m"]) = _RIDER.height_m
    mass_kg: key("float", "Body mass; scales segment masses and inertias.", _RR["mass_kg"]) = _RIDER.mass_kg
    sex: key("str", "Selects the de Leva (1996) segment table.", choices=SEXES) = _RIDER.sex
    vo2max_L_min: key("float", "Maximal oxygen uptake; converts pct_vo2max and pct_lt intensities.",
                      _RR["vo2max_L_min"]) = _RIDER.vo2max_L_min
    gross_efficiency: key("float", "Crank power / metabolic power; converts pct_vo2max and pct_lt intensities.",
                          _RR["gross_efficiency"]) = _RIDER.gross_efficiency
    lactate_threshold_pct_vo2max: key("float", "Lactate threshold as a percentage of VO2max; converts pct_lt "
                                      "intensities.", _RR["lactate_threshold_pct_vo2max"]) \
        = _RIDER.lactate_threshold_pct_vo2max
    map_W: key("float", "Maximal aerobic power (e.g. ramp-test peak); converts pct_map intensities.",
               _RR["map_W"]) = _RIDER.map_W
    max_force_set: key("str", "Maximal isometric forces: 'complete_groups' (whole functional groups by joint "
                       "moment, GMAX with adductor magnus, SOL with the deep plantarflexors; Rajagopal 2016), "
                       "'group_totals' (Rajagopal 2016 sums of same-name members) or 'pedaling_model' (one head "
                       "per group, Park et al. 2022). Moves the joint shares.", choices=FORCE_SETS) \
        = _RIDER.max_force_set
    strength_scaling: key("str", "'body_mass': forces scale with body mass relative to the force set's reference "
                          "subject (Handsfield et al. 2014); 'none': the force set as tabulated.",
                          choices=STRENGTH_SCALINGS) = _RIDER.strength_scaling
    muscle_architecture: key("str", "Optimal fibre and tendon slack lengths: 'lai2017' (Lai et al. 2017) or "
                             "'pedaling_model' (Park et al. 2022).", choices=ARCHITECTURES) \
        = _RIDER.muscle_architecture
    passive_curves: key("str", "Passive fibre strains: 'uhlrich2022' (calibrated to passive joint moments, "
                        "Uhlrich et al. 2022) or 'pedaling_model' (Park et al. 2022).", choices=PASSIVE_CURVES) \
        = _RIDER.passive_curves
    muscle_curves: key("str", "Hill-muscle curves: 'toolkit' (De Groote et al. 2016 with a passive fibre force "
                       "~0 below optimal length) or 'opensim' (exactly OpenSim 4.6's DeGrooteFregly2016Muscle "
                       "active, force-velocity and passive curves, as the .osim export writes them; for "
                       "cross-checks with OpenSim/Moco, docs/opensim.md).", choices=MUSCLE_CURVES) \
        = _RIDER.muscle_curves
    strength_scale: key("float", "Multiplies every muscle's max isometric force.", _RR["strength_scale"]) \
        = _RIDER.strength_scale
    passive_strain_scale: key("float", "Multiplies every muscle's passive strain e0 (larger = slacker passive "
                              "fibres).", _RR["passive_strain_scale"]) = _RIDER.passive_strain_scale
    muscle_force_scale: key("muscles", "Per-muscle multipliers of the max isometric force (after "
                            "strength_scale); muscles not listed keep 1.", _RR["muscle_force_scale"]) = {}
    type1_pct_vastus_lateralis: key(
        "float", "Measured type I fibre percentage of vastus lateralis; shifts every unit's slow-twitch fraction "
        "by the difference to the reference (45.5 %, clipped to 5-95 %), which changes metabolic power and "
        "efficiency (docs/energetics.md); unset: the reference composition.", _RR["type1_pct_vastus_lateralis"],
        default_text="unset") = _RIDER.type1_pct_vastus_lateralis


class RiderTable(RiderKeys):
    """The rider (one). Use either [rider] or [[riders]], not both; with neither, the 'reference' profile is
    used."""

    name: key("str", _NAME_DOC.format(what="rider"), pattern=True,
              default_text="the profile name, else \"custom\"") = None
    profile: key("str", _PROFILE_DOC, choices=None, default_text="unset (no [rider] at all: \"reference\")") = None


class RidersEntry(RiderKeys):
    """A list of riders for a sweep, each a table like [rider]. `name` is required unless `profile` is given
    (then it defaults to the profile name); names must be unique."""

    name: key("str", _NAME_DOC.format(what="rider"), pattern=True,
              default_text="the profile name (required without a profile)") = None
    profile: key("str", _PROFILE_DOC, default_text="unset (no [rider] at all: \"reference\")") = None


class ProfileTable(RiderKeys):
    """One rider profile of toolkit/study/data/riders.toml."""

    description: key("str", "What the profile stands for.") = ""
    source: key("str", "Where its numbers come from.") = ""


class FitKeys(_Table):
    """The bike fit (toolkit.model.bikefit.BikeFit)."""

    saddle_rule: key("str", "How the saddle height is set: 'knee_bdc' (knee flexion at BDC), 'absolute' "
                     "(saddle_height_m) or 'inseam_fraction' (inseam_fraction x inseam_m).", choices=SADDLE_RULES) \
        = BikeFit().saddle_rule
    saddle_height_m: key("float", "Bottom-bracket centre to saddle top, along the seat tube or the setback line. "
                         "Required with, and only used by, saddle_rule = 'absolute'.", _FR["saddle_height_m"]) = None
    knee_flexion_at_bdc_deg: key("float", "Knee flexion at bottom dead centre that sets the saddle (saddle_rule = "
                                 "'knee_bdc' only; Holmes et al. 1994: 25-35 deg).", _FR["knee_flexion_at_bdc_deg"],
                                 default_text=_num_text(_FITD.knee_flexion_at_bdc_deg)) = None
    ankle_at_bdc_deg: key("float", "Ankle angle at BDC assumed by the knee_bdc rule (dorsiflexion +; saddle_rule "
                          "= 'knee_bdc' only).", _FR["ankle_at_bdc_deg"],
                          default_text=_num_text(_FITD.ankle_at_bdc_deg)) = None
    inseam_fraction: key("float", "Saddle height / inseam (saddle_rule = 'inseam_fraction' only; LeMond 0.883).",
                         _FR["inseam_fraction"], default_text=_num_text(_FITD.inseam_fraction)) = None
    inseam_m: key("float", "Inseam length (saddle_rule = 'inseam_fraction' only).", _FR["inseam_m"],
                  default_text=f"{_num_text(_MP['saddle']['inseam_frac_height'])} x height_m") = None
    seat_tube_angle_deg: key("float", "Seat-tube angle above horizontal; places the saddle behind the bottom "
                             "bracket (ignored when setback_m is given, so give only one).",
                             _FR["seat_tube_angle_deg"], default_text=_num_text(_FITD.seat_tube_angle_deg)) = None
    setback_m: key("float", "Horizontal distance of the saddle top behind the bottom bracket (negative = in "
                   "front); replaces seat_tube_angle_deg; must be smaller than the saddle height.",
                   _FR["setback_m"]) = None
    crank_length_m: key("float", "Crank length.", _FR["crank_length_m"],
                        default_text=_num_text(_FITD.crank_length_m)) = None
    trunk_angle_deg: key("float", "Trunk above horizontal (45 = hoods, 90 = upright, > 90 = reclined); tilts the "
                         "pelvis and so changes hip angles.", _FR["trunk_angle_deg"],
                         default_text=_num_text(_FITD.trunk_angle_deg)) = None
    cleat_offset_m: key("float", "Pedal spindle forward (+) of the first metatarsal head along the sole.",
                        _FR["cleat_offset_m"]) = BikeFit().cleat_offset_m


class FitTable(FitKeys):
    """The bike fit (one). Use either [fit] or [[fits]]. Unset lengths and angles come from
    toolkit/model/data/model_parameters.toml (defaults shown)."""

    name: key("str", _NAME_DOC.format(what="fit"), pattern=True) = "default"


class FitsEntry(FitKeys):
    """A list of bike fits for a sweep, each a table like [fit] with a required unique `name`."""

    name: key("str", _NAME_DOC.format(what="fit"), pattern=True, default_text="required") = None


def _choices_text(choices: tuple) -> str:
    return "a non-empty list of distinct values from " + ", ".join(choices)


class ConditionsTable(_Table):
    """Ankle conditions. Each listed condition is one point of the sweep; heel_drop makes one point per
    heel_drop_deg value."""

    ankle: key("strs", "Ankle conditions: 'free' (within its range), 'fixed' (immobilized at fixed_ankle_deg), "
               "'heel_drop' (sole angle <= -heel_drop_deg over heel_drop_window_deg), 'prescribed' (sole angle "
               "follows prescribed_sole_deg), 'range_limited' (orthosis stops at ankle_range_deg, or per "
               "ankle_range_width_deg around the free mean), 'braced' (orthosis spring brace_stiffness_Nm_per_rad "
               "about brace_neutral_deg).", choices=CONDITIONS, allowed_text=_choices_text(CONDITIONS)) = ("free",)
    fixed_ankle_deg: key("float", "Ankle angle (dorsiflexion +) of the 'fixed' condition.",
                         _PR["fixed_ankle_deg"]) = _PS.fixed_ankle_deg
    heel_drop_deg: key("floats", "Heel drop(s) d of the 'heel_drop' condition (see heel_drop_mode).",
                       _PR["heel_drop_deg"]) = (_PS.heel_drop_deg,)
    heel_drop_mode: key("strs", "How the heel is held down (one point per mode and drop): 'relative' (sole angle "
                        "<= the rider's free-ankle sole angle - d over the window, smooth ramps), 'shift' (the "
                        "whole free profile lowered by d, the dorsiflexed technique) or 'absolute' (sole angle <= "
                        "-d to the horizontal inside the window).", choices=HEEL_DROP_MODES,
                        allowed_text=_choices_text(HEEL_DROP_MODES)) = (_PS.heel_drop_mode,)
    heel_drop_window_deg: key("pair", "Crank-angle window [start, end] of the heel drop (0 = TDC; default: the "
                              "downstroke and across the bottom).", _PR["heel_drop_window_deg"],
                              allowed_text="[start, end] with {lo} <= start < end <= {hi} deg") \
        = _PS.heel_drop_window_deg
    heel_drop_ramp_deg: key("float", "Width of the half-cosine ramps in and out of the window (relative mode).",
                            _PR["heel_drop_ramp_deg"]) = _PS.heel_drop_ramp_deg
    ankle_range_deg: key("pair", "Ankle range [low, high] of the 'range_limited' condition (dorsiflexion +; used "
                         "when ankle_range_width_deg is not given).", _PR["ankle_range_deg"],
                         allowed_text="[low, high] with {lo} <= low <= high <= {hi} deg", strict_order=False) \
        = _PS.ankle_range_deg
    ankle_range_width_deg: key("floats", "Range width(s) of the 'range_limited' condition, centred on the rider's "
                               "free-ankle mean angle (one point per width; empty: use ankle_range_deg).",
                               _PR["ankle_range_width_deg"]) = ()
    ankle_stop_stiffness_Nm_per_rad: key("float", "Stiffness of the range-limited orthosis's stops.",
                                         _PR["ankle_stop_stiffness_Nm_per_rad"]) \
        = _PS.ankle_stop_stiffness_Nm_per_rad
    brace_stiffness_Nm_per_rad: key("floats", "Orthosis spring stiffness(es) of the 'braced' condition (one point "
                                    "per value).", _PR["brace_stiffness_Nm_per_rad"]) \
        = (_PS.brace_stiffness_Nm_per_rad,)
    brace_neutral_deg: key("float", "Neutral ankle angle q0 of the brace spring.", _PR["brace_neutral_deg"]) \
        = _PS.brace_neutral_deg
    brace_damping_Nms_per_rad: key("float", "Brace damping.", _PR["brace_damping_Nms_per_rad"]) \
        = _PS.brace_damping_Nms_per_rad
    prescribed_sole_deg: key(
        "pairs", "Sole-angle profile of the 'prescribed' condition: [crank_angle_deg, sole_angle_deg] samples "
        "(toe-down +), periodic over the cycle.", unit="deg",
        allowed_text="at least 4 [crank, sole] pairs, crank angles strictly increasing within {crank}, sole "
                     "angles {sole}; required iff 'prescribed' is in ankle") = ()


class IntensityTable(_Table):
    """Work rates. Every value is one point (per cadence, condition, fit and rider); points are solved in
    ascending intensity."""

    unit: key("str", "Unit of `values`: 'W' (crank power), 'pct_vo2max', 'pct_lt' (percent of the power at the "
              "lactate threshold), 'pct_map' (percent of map_W); see 'Intensity rule' below.",
              choices=tuple(inten.INTENSITY_UNITS)) = "W"
    values: key("floats", "Intensity levels, in `unit`. Mean crank power of both legs after conversion.",
                R.Range(0.0, None, "unit", lo_open=True), unit="unit",
                allowed_text=f"distinct numbers > 0; W: <= {_num_text(MAX_POWER_W)}; pct_*: <= "
                             f"{_num_text(R.MAX_PCT)}; each must convert to 0 < power <= {_num_text(MAX_POWER_W)} W "
                             "for every rider") = (_PS.power_W,)
    cadence_rpm: key("floats", "Cadence(s).", _PR["cadence_rpm"]) = (_PS.cadence_rpm,)


class CostTable(_Table):
    """The optimal-control cost (toolkit.ocp.problem.CostSpec)."""

    kind: key("str", "'activation': sum w_i v_i a_i^exponent; 'stress': sum w_i v_i (F_i/Fmax_i)^2; 'metabolic': "
              "sum w_i Edot_i / body mass (W/kg, metabolic_model).", choices=COST_KINDS) = _COST.kind
    metabolic_model: key("str", "Muscle energetics model of the metabolic cost and of the reported metabolic "
                         "power and efficiency (docs/energetics.md).", choices=METABOLIC_MODELS) \
        = _COST.metabolic_model
    metabolic_weight: key("float", "Mixed cost: with kind 'activation' or 'stress', adds this x sum w_i Edot_i / "
                          "body mass (W/kg) to the effort.", _CR["metabolic_weight"]) = _COST.metabolic_weight
    exponent: key("int", "Activation exponent.", choices=R.ACTIVATION_EXPONENTS) = _COST.exponent
    volume_weighted: key("bool", "Weight each muscle by its volume over the mean volume.") = _COST.volume_weighted
    weights: key("muscles", "Per-muscle cost weights (muscles not listed: 1).", _CR["weights"]) = {}
    excitation_rate_weight: key("float", "Regularization weight of mean (e - a)^2.",
                                _CR["excitation_rate_weight"]) = _COST.excitation_rate_weight
    sole_accel_weight: key("float", "Regularization weight of the sole angle's second derivative.",
                           _CR["sole_accel_weight"]) = _COST.sole_accel_weight


class ProblemTable(_Table):
    """Crank load and tendon model (toolkit.ocp.problem.ProblemSpec)."""

    load: key("str", "'isokinetic': constant crank speed (ergometer in isokinetic mode); 'inertial': the legs "
              "drive an equivalent flywheel against a constant resistance torque (cadence is then the cycle "
              "mean).", choices=LOADS) = _PS.load
    flywheel_inertia_kgm2: key("float", "Equivalent crank inertia of the inertial load (road riding ~90: m (r G)^2 "
                               "for 80 kg, wheel radius 0.34 m, gear 53/17).", _PR["flywheel_inertia_kgm2"]) \
        = _PS.flywheel_inertia_kgm2
    tendon: key("str", "'rigid' tendons, or 'compliant' (tendon force states, De Groote 2016).",
                choices=TENDONS) = _PS.tendon
    activation_floor: key("float", "Lower bound of excitation and activation (a numerical floor; it also sets a "
                          "minimum tonic force in every muscle).", _PR["activation_floor"]) = _PS.activation_floor


class SolverTable(_Table):
    """Mesh and IPOPT settings (toolkit.ocp.problem.SolverSpec)."""

    nodes: key("int", "Collocation intervals over one crank cycle.", _SR["nodes"], even=True) = _SOLVER.nodes
    tol: key("float", "IPOPT tol.", _SR["tol"]) = _SOLVER.tol
    constr_viol_tol: key("float", "IPOPT constr_viol_tol.", _SR["constr_viol_tol"]) = _SOLVER.constr_viol_tol
    max_iter: key("int", "IPOPT max_iter.", _SR["max_iter"]) = _SOLVER.max_iter
    max_cpu_time_s: key("float", "IPOPT max_cpu_time per solve.", _SR["max_cpu_time_s"]) = _SOLVER.max_cpu_time_s
    print_level: key("int", "IPOPT print_level.", _SR["print_level"]) = _SOLVER.print_level
    multistart: key("int", "Number of initial guesses tried per point.", _SR["multistart"]) = _SOLVER.multistart


class OutputTable(_Table):
    """Where and what to write."""

    dir: key("str", "Output directory, relative to the config file's directory unless absolute (`run --out` "
             "overrides it). Must be creatable/writable.",
             allowed_text="a path whose first existing parent is a writable directory") = "out"
    figures: key("bool", "Write figures.") = True
    sto: key("bool", "Also export every solution as OpenSim .sto tables.") = False


#: The sections in file order: (name, model, is an array of tables).
MODELS: dict[str, tuple[type[_Table], bool]] = {
    "experiment": (ExperimentTable, False), "rider": (RiderTable, False), "riders": (RidersEntry, True),
    "fit": (FitTable, False), "fits": (FitsEntry, True), "conditions": (ConditionsTable, False),
    "intensity": (IntensityTable, False), "cost": (CostTable, False), "problem": (ProblemTable, False),
    "solver": (SolverTable, False), "output": (OutputTable, False),
}


# ----------------------------------------------------------------------------------------------------------
# The read-only view: Section and Key (hints, --set paths, docs/config.md)
# ----------------------------------------------------------------------------------------------------------

def field_spec(info: FieldInfo) -> Spec:
    return next(m for m in info.metadata if isinstance(m, Spec))


_TYPE_TEXT = {
    "str": "string", "bool": "boolean", "int": "integer", "float": "number",
    "floats": "number or array of numbers", "strs": "string or array of strings",
    "pair": "array of 2 numbers", "pairs": "array of [number, number]", "muscles": "table {MUSCLE = number}",
}


@dataclass(frozen=True)
class Key:
    """One config key as the docs and hints see it (derived from a pydantic field)."""

    name: str
    spec: Spec
    default: Any
    doc: str

    @property
    def kind(self) -> str:
        return self.spec.kind

    @property
    def choices(self) -> tuple | None:
        return self.spec.choices

    @property
    def unit(self) -> str:
        if self.spec.unit is not None:
            return self.spec.unit
        return self.spec.range.unit if self.spec.range is not None else ""

    def allowed(self) -> str:
        return self.spec.allowed()

    def type_text(self) -> str:
        return _TYPE_TEXT[self.kind]

    def default_doc(self) -> str:
        if self.spec.default_text is not None:
            return self.spec.default_text
        return _toml_text(list(self.default) if isinstance(self.default, tuple) else self.default)


@dataclass(frozen=True)
class Section:
    """A config section: a table `[name]`, or an array of tables `[[name]]` when `array`."""

    name: str
    doc: str
    keys: tuple[Key, ...]
    model: type[BaseModel]
    array: bool = False

    def key(self, name: str) -> Key | None:
        for k in self.keys:
            if k.name == name:
                return k
        return None

    @property
    def key_names(self) -> list[str]:
        return [k.name for k in self.keys]


def _doc(model: type) -> str:
    return " ".join((model.__doc__ or "").split())


def section_of(name: str, model: type[_Table], array: bool = False) -> Section:
    fields = model.model_fields
    order = [n for n in ("name", "profile") if n in fields] + [n for n in fields if n not in ("name", "profile")]
    keys = []
    for n in order:
        info = fields[n]
        spec = field_spec(info)
        if n == "profile":  # the profile names are data (riders.toml), not code
            from .profile_file import profile_names
            spec = Spec(spec.kind, choices=profile_names(), default_text=spec.default_text)
        keys.append(Key(n, spec, info.default, info.description or ""))
    return Section(name, _doc(model), tuple(keys), model, array)


SCHEMA: dict[str, Section] = {name: section_of(name, model, array) for name, (model, array) in MODELS.items()}
PROFILE_SECTION = section_of("profile", ProfileTable)

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
    f"Every intensity value must convert to 0 < power <= {_num_text(MAX_POWER_W)} W for every rider.",
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
