"""Building an experiment from a config: read, override, validate every section with its pydantic model,
check the rules between keys, and either return an `Experiment` or raise `ConfigError` with every problem
found. `validate_main` is `python -m toolkit validate`."""
from __future__ import annotations

import copy
import dataclasses
import math
import os
import re
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

from ...io.paths import directory_problem, shown
from ...model.anthropometry import Rider
from ...model.bikefit import BikeFit
from ...model.ranges import MAX_PCT
from ...ocp.problem import CostSpec, SolverSpec
from .. import intensity as inten
from ..checks import check_requests
from .errors import ConfigError, Report, _as_list, _is_number, _num_text, _suggest, _typename
from .experiment import ConditionsSpec, Experiment, IntensitySpec, OutputSpec
from .overrides import _apply_overrides, _read_toml
from .profiles import load_profiles as _load_profiles
from .schema import MAX_NAME_LEN, MAX_POINTS, MAX_POWER_W, NAME_PATTERN, SCHEMA
from .validation import check_table as _check_table
from .validation import suggest_key as _suggest_key

_NAME_RE = re.compile(NAME_PATTERN + r"\Z")



#: The [conditions] parameters that belong to one ankle condition (ignored, with a warning, without it).
CONDITION_PARAMETERS = {
    "fixed_ankle_deg": "fixed", "heel_drop_deg": "heel_drop", "heel_drop_window_deg": "heel_drop",
    "heel_drop_mode": "heel_drop", "heel_drop_ramp_deg": "heel_drop", "prescribed_sole_deg": "prescribed",
    "ankle_range_deg": "range_limited", "ankle_range_width_deg": "range_limited",
    "ankle_stop_stiffness_Nm_per_rad": "range_limited", "brace_stiffness_Nm_per_rad": "braced",
    "brace_neutral_deg": "braced", "brace_damping_Nms_per_rad": "braced"}

def _section_table(raw: dict[str, Any], name: str, rep: Report) -> dict[str, Any] | None:
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


def _section_array(raw: dict[str, Any], name: str, rep: Report) -> list[Any] | None:
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


def _make_rider(vals: dict[str, Any], where: str, profiles: dict[str, dict[str, Any]], rep: Report,
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


def _riders(raw: dict[str, Any], rep: Report) -> list[tuple[str, Rider, set[str]]] | None:
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


def _make_fit(vals: dict[str, Any], where: str, rep: Report) -> BikeFit | None:
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


def _fits(raw: dict[str, Any], rep: Report) -> list[tuple[str, str, BikeFit]] | None:
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


def _conditions(raw: dict[str, Any], rep: Report) -> ConditionsSpec | None:
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
    for k, cond in CONDITION_PARAMETERS.items():
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


def _intensity(raw: dict[str, Any], rep: Report) -> IntensitySpec | None:
    t = _section_table(raw, "intensity", rep)
    if t is None:
        return None
    n_before = len(rep.problems)
    vals = _check_table(t, SCHEMA["intensity"], "intensity", rep)
    d = IntensitySpec()
    unit = vals.get("unit", d.unit if "unit" not in t else None)
    if unit is not None and "values" in t:  # the unit's upper bound, also beside other problems in the list
        hi = MAX_POWER_W if unit == "W" else MAX_PCT
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
                         rep: Report) -> bool:
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
                       "muscle_curves",
                       "strength_scale", "passive_strain_scale",
                       "muscle_force_scale")


def _warn_identical_riders(spec: IntensitySpec, riders: list[tuple[str, Rider, set[str]]], rep: Report,
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


def _simple_section(raw: dict[str, Any], name: str, rep: Report) -> dict[str, Any] | None:
    t = _section_table(raw, name, rep)
    if t is None:
        return None
    n_before = len(rep.problems)
    vals = _check_table(t, SCHEMA[name], name, rep)
    return vals if len(rep.problems) == n_before else None


def _output(vals: dict[str, Any], base_dir: Path, rep: Report) -> OutputSpec | None:
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
    from ...model.leg import LegModel
    return LegModel()


def _check_placement(riders, fits, rep: Report) -> None:
    """Place every rider on every fit (saddle rule + reach over the cycle); reported at the fit's key."""
    from ...model.leg import make_setup
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
    rep = Report(str(path))
    # `data`: an already parsed config (the Python API's load_experiment(dict)); `path` then only names it.
    raw = _read_toml(path, rep) if data is None else copy.deepcopy(data)
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

