"""Command line: python -m toolkit {model,solve,validate,run,reproduce,check-model,show,plot,export}.

Exit codes: 0 success; 1 a solve failed (reported, nothing stored as a result); 2 bad input, one line per problem
`FILE: KEY: what is wrong (allowed: ...)`; 3 results could not be written (disk full, I/O error; what was stored
before is intact); 130 interrupted (the message repeats the command with --resume).
"""
from __future__ import annotations

import argparse
import json
import math
import sys

EXIT_OK, EXIT_SOLVE_FAILED, EXIT_BAD_INPUT = 0, 1, 2


class BadInput(Exception):
    """A command-line value is wrong; the message names the flag."""


class _Parser(argparse.ArgumentParser):
    """argparse that raises BadInput instead of exiting, so `solve --json` can still print its one JSON line."""

    def error(self, message):
        raise BadInput(message)


def _finite_float(text: str) -> float:
    """argparse type: a finite float (nan and inf are bad input, named with the flag by argparse)."""
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(x):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number (allowed: a finite number)")
    return x


def _parser() -> argparse.ArgumentParser:
    ap = _Parser(prog="python -m toolkit", description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)

    m = sub.add_parser("model", help="describe the default rider, fit and muscles (or write them as an OpenSim model)")
    m.add_argument("--saddle-height-m", type=_finite_float)
    m.add_argument("--body-mass-kg", type=_finite_float)
    m.add_argument("--height-m", type=_finite_float)
    m.add_argument("--trunk-angle-deg", type=_finite_float, help="trunk above horizontal (45 = hoods, 90 = upright)")
    m.add_argument("--seat-tube-angle-deg", type=_finite_float)
    m.add_argument("--crank-length-m", type=_finite_float)
    m.add_argument("--max-force-set", choices=["group_totals", "pedaling_model"])
    m.add_argument("--osim", metavar="FILE", help="write the model as an OpenSim 4.x model file (.osim)")
    m.add_argument("--moco", metavar="DIR", help="write model.osim, a Moco script for the problem given by "
                   "--condition/--power-W/--cadence-rpm/--ankle-deg/--nodes and the toolkit's initial guess")
    m.add_argument("--condition", default="free", choices=["free", "fixed"], help="with --moco")
    m.add_argument("--power-W", type=_finite_float, default=200.0, help="with --moco (both legs)")
    m.add_argument("--cadence-rpm", type=_finite_float, default=90.0, help="with --moco")
    m.add_argument("--ankle-deg", type=_finite_float, default=None, help="with --moco --condition fixed")
    m.add_argument("--nodes", type=int, default=20, help="with --moco: mesh intervals")

    s = sub.add_parser("solve", help="solve one point for the default rider and fit")
    s.add_argument("--condition", default="free",
                   choices=["free", "fixed", "heel_drop", "prescribed", "range_limited", "braced"])
    s.add_argument("--power-W", type=_finite_float, default=200.0)
    s.add_argument("--cadence-rpm", type=_finite_float, default=90.0)
    s.add_argument("--ankle-deg", type=_finite_float, default=None, help="fixed ankle angle (dorsiflexion +)")
    s.add_argument("--heel-drop-deg", type=_finite_float, default=10.0)
    s.add_argument("--heel-drop-window-deg", type=_finite_float, nargs=2, default=None, metavar=("START", "END"))
    s.add_argument("--heel-drop-mode", choices=["relative", "shift", "absolute"], default="relative",
                   help="relative (to the free-ankle pattern, default), shift (whole cycle) or absolute (horizontal)")
    s.add_argument("--heel-drop-ramp-deg", type=_finite_float, default=None)
    s.add_argument("--ankle-range-deg", type=_finite_float, nargs=2, default=None, metavar=("LO", "HI"),
                   help="range_limited: ankle range (dorsiflexion +)")
    s.add_argument("--ankle-range-width-deg", type=_finite_float, default=None,
                   help="range_limited: range width centred on the free-ankle mean angle")
    s.add_argument("--brace-stiffness-Nm-per-rad", type=_finite_float, default=None)
    s.add_argument("--brace-neutral-deg", type=_finite_float, default=None)
    s.add_argument("--sole-profile", metavar="CSV",
                   help="prescribed sole angle: CSV with columns crank_angle_deg, sole_angle_deg (--condition prescribed)")
    s.add_argument("--saddle-height-m", type=_finite_float)
    s.add_argument("--body-mass-kg", type=_finite_float)
    s.add_argument("--height-m", type=_finite_float)
    s.add_argument("--trunk-angle-deg", type=_finite_float, help="trunk above horizontal (45 = hoods, 90 = upright)")
    s.add_argument("--seat-tube-angle-deg", type=_finite_float)
    s.add_argument("--crank-length-m", type=_finite_float)
    s.add_argument("--max-force-set", choices=["group_totals", "pedaling_model"])
    s.add_argument("--tendon", choices=["rigid", "compliant"], default="rigid")
    s.add_argument("--nodes", type=int, default=40)
    s.add_argument("--multistart", type=int, default=1)
    s.add_argument("--json", action="store_true", help="print one line of JSON")

    v = sub.add_parser("validate", help="check an experiment config without solving")
    v.add_argument("config")
    v.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")

    r = sub.add_parser("run", help="solve every point of an experiment")
    r.add_argument("config")
    r.add_argument("--out")
    r.add_argument("--jobs", type=int, default=1)
    r.add_argument("--executor", choices=["local", "dask"], default="local")
    r.add_argument("--scheduler")
    r.add_argument("--resume", action="store_true")
    r.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")

    rp = sub.add_parser("reproduce", help="run the study comparisons")
    rp.add_argument("studies", nargs="*")
    rp.add_argument("--all", action="store_true")
    rp.add_argument("--out", default="results")
    rp.add_argument("--jobs", type=int, default=1)

    ck = sub.add_parser("check-model", help="the model beside cited reference values (writes a report page)")
    ck.add_argument("--out", default="results/model_check")
    ck.add_argument("--nodes", type=int, default=40)
    ck.add_argument("--multistart", type=int, default=3)
    ck.add_argument("--no-variants", action="store_true", help="skip the model-changes table")

    for name, hlp in (("show", "summarize a result file"), ("plot", "draw the figures of a result file"),
                      ("export", "export a result file as OpenSim .sto tables, .osim models and Moco scripts")):
        c = sub.add_parser(name, help=hlp)
        c.add_argument("result")
        if name == "plot":
            c.add_argument("--out")
        if name == "export":
            c.add_argument("--sto", metavar="DIR", help="OpenSim-style .sto tables of every point")
            c.add_argument("--osim", metavar="DIR", help="the .osim model of every point's rider and fit, with its "
                           "states and controls tables for that model")
            c.add_argument("--moco", metavar="DIR", help="a Moco script per point (free/fixed ankle) with its model "
                           "and the toolkit solution as the initial guess")
    return ap


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = _parser().parse_args(argv)
    except BadInput as e:
        if argv and argv[0] == "solve" and "--json" in argv:
            print(json.dumps(_bad_input_json(str(e))))
        else:
            print(f"-: {e} (see: python -m toolkit {argv[0] if argv else ''} --help)".replace("  ", " "),
                  file=sys.stderr)
        return EXIT_BAD_INPUT
    return {"model": _model, "solve": _solve, "validate": _validate, "run": _run, "reproduce": _reproduce,
            "check-model": _check_model, "show": _show, "plot": _plot, "export": _export}[args.command](args)


def _bad_input_json(error: str) -> dict:
    from .analysis.summary import SUMMARY_KEYS

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
    from .model.anthropometry import Rider
    from .model.bikefit import BikeFit
    from .model.leg import LegModel, make_setup

    rkw = {}
    if getattr(args, "max_force_set", None):
        rkw["max_force_set"] = args.max_force_set
    if getattr(args, "height_m", None) is not None:
        rkw["height_m"] = args.height_m
    if getattr(args, "body_mass_kg", None) is not None:
        rkw["mass_kg"] = args.body_mass_kg
    fkw = {}
    from .model.ranges import FIT  # the config's ranges (one table: toolkit/model/ranges.py)
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
    return model, make_setup(model, rider, fit)


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
    from .model.describe import describe
    from .model.leg import FitError

    try:
        model, setup = _default_setup(args)
    except (FitError, ValueError) as e:
        print(f"-: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.osim is None and args.moco is None:
        print(describe(model, setup))
        return EXIT_OK
    from .io.commands import model_opensim_main

    return model_opensim_main(model, setup, osim_file=args.osim, moco_dir=args.moco, condition=args.condition,
                              power_W=args.power_W, cadence_rpm=args.cadence_rpm, ankle_deg=args.ankle_deg,
                              nodes=args.nodes)


def _solve(args) -> int:
    from .analysis.summary import solution_summary
    from .model.leg import FitError
    from .ocp.problem import ProblemSpec, SolverSpec
    from .ocp.solve import PedalingSolver

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
        model, setup = _default_setup(args)
    except FitError as e:
        return bad(f"fit ({_fit_flags(args)}): {e}")
    except ValueError as e:
        return bad(_name_flag(str(e)))
    sol = PedalingSolver(model).solve(setup, spec)
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
    from .check.report import check_model_main

    return check_model_main(out=args.out, nodes=args.nodes, multistart=args.multistart,
                            variants=not args.no_variants)


def _validate(args) -> int:
    from .study.config import validate_main

    return validate_main(args.config, args.set)


def _run(args) -> int:
    from .study.runner import run_main

    return run_main(args.config, out=args.out, jobs=args.jobs, executor=args.executor, scheduler=args.scheduler,
                    resume=args.resume, overrides=args.set)


def _reproduce(args) -> int:
    from pathlib import Path

    from .study.findings import update_readme
    from .study.reproduce import reproduce_main

    code = reproduce_main(args.studies, all_studies=args.all, out=args.out, jobs=args.jobs)
    if code == 0 and args.all:  # the top-level README's findings block, when these are the project's results
        update_readme(Path(args.out).resolve().parent / "README.md", args.out)
    return code


def _show(args) -> int:
    from .io.commands import show_main

    return show_main(args.result)


def _plot(args) -> int:
    from .io.commands import plot_main

    return plot_main(args.result, args.out)


def _export(args) -> int:
    from .io.commands import export_main

    if args.sto is None and args.osim is None and args.moco is None:
        print("-: export: give at least one of --sto DIR, --osim DIR, --moco DIR", file=sys.stderr)
        return EXIT_BAD_INPUT
    return export_main(args.result, args.sto, args.osim, args.moco)
