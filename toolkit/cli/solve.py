"""`model`, `solve` and `check-model`: one point or one model for the default (or flagged) rider and fit."""
from __future__ import annotations

import json
import math
import sys

from .codes import EXIT_BAD_INPUT, EXIT_OK, EXIT_SOLVE_FAILED


def _bad_input_json(error: str) -> dict:
    from ..analysis.summary import SUMMARY_KEYS

    out = {k: None for k in SUMMARY_KEYS}
    out.update(success=False, status="Bad_Input", error=error)
    return out


# Problem/rider/fit fields -> the solve flag that sets them (so errors name the flag).
_FLAGS = {"power_W": "--power-W", "cadence_rpm": "--cadence-rpm", "fixed_ankle_deg": "--ankle-deg",
          "heel_drop_deg": "--heel-drop-deg", "heel_drop_window_deg": "--heel-drop-window-deg",
          "heel_drop_mode": "--heel-drop-mode", "heel_drop_ramp_deg": "--heel-drop-ramp-deg",
          "ankle_range_deg": "--ankle-range-deg", "ankle_range_width_deg": "--ankle-range-width-deg",
          "brace_stiffness_Nm_per_rad": "--brace-stiffness-Nm-per-rad", "brace_neutral_deg": "--brace-neutral-deg",
          "prescribed_sole_deg": "--sole-profile", "solver.nodes": "--nodes", "solver.multistart": "--multistart",
          "rider.height_m": "--height-m", "rider.mass_kg": "--body-mass-kg", "fit.saddle_height_m": "--saddle-height-m",
          "condition": "--condition", "tendon": "--tendon"}


def _name_flag(message: str) -> str:
    """Prefix a model/problem error with the command-line flag that set the field it names."""
    for field, flag in sorted(_FLAGS.items(), key=lambda kv: -len(kv[0])):
        if message.startswith(field + ":") or message.startswith(field + " "):
            return f"{flag}: {message}"
    return message


def _fit_flags(args) -> str:
    names = [("saddle_height_m", "--saddle-height-m"), ("crank_length_m", "--crank-length-m"),
             ("seat_tube_angle_deg", "--seat-tube-angle-deg"), ("trunk_angle_deg", "--trunk-angle-deg"),
             ("height_m", "--height-m"), ("body_mass_kg", "--body-mass-kg")]
    given = [f"{flag} {getattr(args, a):g}" for a, flag in names if getattr(args, a, None) is not None]
    return ", ".join(given) if given else "the default fit"


def _default_setup(args):
    from ..model.anthropometry import Rider
    from ..model.bikefit import BikeFit
    from ..model.leg import LegModel, make_setup

    rkw = {}
    if getattr(args, "max_force_set", None):
        rkw["max_force_set"] = args.max_force_set
    if getattr(args, "muscle_curves", None):
        rkw["muscle_curves"] = args.muscle_curves
    if getattr(args, "height_m", None) is not None:
        rkw["height_m"] = args.height_m
    if getattr(args, "body_mass_kg", None) is not None:
        rkw["mass_kg"] = args.body_mass_kg
    fkw = {}
    from ..model.ranges import FIT  # the config's ranges (one table: toolkit/model/ranges.py)
    if args.saddle_height_m is not None:
        FIT["saddle_height_m"].check("--saddle-height-m", args.saddle_height_m)
        fkw.update(saddle_rule="absolute", saddle_height_m=args.saddle_height_m)
    for attr, flag in (("trunk_angle_deg", "--trunk-angle-deg"), ("seat_tube_angle_deg", "--seat-tube-angle-deg"),
                       ("crank_length_m", "--crank-length-m")):
        v = getattr(args, attr, None)
        if v is not None:
            FIT[attr].check(flag, v)
            fkw[attr] = v
    rider, fit = Rider(**rkw), BikeFit(**fkw)
    model = LegModel()
    return model, make_setup(model, rider, fit), rider, fit


def read_sole_profile(path: str) -> tuple[tuple[float, float], ...]:
    """(crank_angle_deg, sole_angle_deg) samples from a CSV with those two header columns ('#' lines skipped)."""
    import csv

    try:
        with open(path, newline="", encoding="utf-8") as fh:
            lines = [ln for ln in fh if ln.strip() and not ln.lstrip().startswith("#")]
    except OSError as e:
        raise ValueError(f"--sole-profile: cannot read {path!r} ({e.strerror})") from None
    rows = list(csv.DictReader(lines))
    need = ("crank_angle_deg", "sole_angle_deg")
    if not rows or any(k not in rows[0] for k in need):
        raise ValueError(f"--sole-profile: {path}: needs a header with columns {', '.join(need)}")
    out = []
    for i, r in enumerate(rows, start=2):
        try:
            a, b = float(r["crank_angle_deg"]), float(r["sole_angle_deg"])
        except (TypeError, ValueError):
            raise ValueError(f"--sole-profile: {path}: line {i}: not a number") from None
        if not (math.isfinite(a) and math.isfinite(b)):
            raise ValueError(f"--sole-profile: {path}: line {i}: not a finite number")
        out.append((a, b))
    return tuple(out)


def _model(args) -> int:
    from ..model.describe import describe
    from ..model.leg import FitError

    try:
        model, setup, _, _ = _default_setup(args)
    except (FitError, ValueError) as e:
        print(f"-: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.osim is None and args.moco is None:
        print(describe(model, setup))
        return EXIT_OK
    from .results import model_opensim_main

    return model_opensim_main(model, setup, osim_file=args.osim, moco_dir=args.moco, condition=args.condition,
                              power_W=args.power_W, cadence_rpm=args.cadence_rpm, ankle_deg=args.ankle_deg,
                              nodes=args.nodes)


def _solve(args) -> int:
    from ..analysis.summary import solution_summary
    from ..model.leg import FitError
    from ..ocp.problem import ProblemSpec, SolverSpec
    from ..ocp.solve import PedalingSolver
    from ..study.executors import solve_problem

    def bad(message: str) -> int:
        if args.json:
            print(json.dumps(_bad_input_json(message)))
        else:
            print(f"-: {message}", file=sys.stderr)
        return EXIT_BAD_INPUT

    try:
        kw = {}
        if args.ankle_deg is not None:
            kw["fixed_ankle_deg"] = args.ankle_deg
        if args.heel_drop_window_deg is not None:
            kw["heel_drop_window_deg"] = tuple(args.heel_drop_window_deg)
        if args.heel_drop_ramp_deg is not None:
            kw["heel_drop_ramp_deg"] = args.heel_drop_ramp_deg
        kw["heel_drop_mode"] = args.heel_drop_mode
        for flag, key in (("ankle_range_width_deg", "ankle_range_width_deg"),
                          ("brace_stiffness_Nm_per_rad", "brace_stiffness_Nm_per_rad"),
                          ("brace_neutral_deg", "brace_neutral_deg")):
            if getattr(args, flag) is not None:
                kw[key] = getattr(args, flag)
        if args.ankle_range_deg is not None:
            kw["ankle_range_deg"] = tuple(args.ankle_range_deg)
        if args.sole_profile is not None:
            if args.condition != "prescribed":
                raise ValueError("--sole-profile: only used with --condition prescribed")
            kw["prescribed_sole_deg"] = read_sole_profile(args.sole_profile)
        elif args.condition == "prescribed":
            raise ValueError("--sole-profile: required with --condition prescribed (a CSV with columns "
                             "crank_angle_deg, sole_angle_deg)")
        spec = ProblemSpec(condition=args.condition, power_W=args.power_W, cadence_rpm=args.cadence_rpm,
                           heel_drop_deg=args.heel_drop_deg, tendon=args.tendon,
                           solver=SolverSpec(nodes=args.nodes, multistart=args.multistart), **kw)
    except ValueError as e:
        return bad(_name_flag(str(e)))
    try:
        model, _, rider, fit = _default_setup(args)  # the fit is checked here: an unreachable one is bad input
    except FitError as e:
        return bad(f"fit ({_fit_flags(args)}): {e}")
    except ValueError as e:
        return bad(_name_flag(str(e)))
    sol = solve_problem(rider, fit, spec, solver=PedalingSolver(model))  # run's per-point solve
    st = sol.stats
    out = solution_summary(sol)
    if args.json:
        print(json.dumps(out))
    else:
        print(st.summary())
        if st.success:
            sh = out["joint_work_share"]
            print(f"{spec.condition} {spec.power_W:g} W at {spec.cadence_rpm:g} rpm: mean crank power "
                  f"{out['mean_crank_power_W']:.2f} W; shares of positive joint work: hip {sh['hip']:.1%}, "
                  f"knee {sh['knee']:.1%}, ankle {sh['ankle']:.1%}; energy-balance residual "
                  f"{out['energy_balance_residual']:.2e}; index of effectiveness {out['index_of_effectiveness']:.2f}")
    return EXIT_OK if st.success else EXIT_SOLVE_FAILED


def _check_model(args) -> int:
    from ..check.report import check_model_main

    return check_model_main(out=args.out, nodes=args.nodes, multistart=args.multistart,
                            variants=not args.no_variants)
