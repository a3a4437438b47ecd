"""Command line: python -m toolkit {model,solve,validate,run,reproduce,show,plot,export}.

Exit codes: 0 success; 1 a solve failed (reported, nothing stored as a result); 2 bad input, one line per problem
`FILE: KEY: what is wrong (allowed: ...)`.
"""
from __future__ import annotations

import argparse
import json
import math
import sys

EXIT_OK, EXIT_SOLVE_FAILED, EXIT_BAD_INPUT = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m toolkit", description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)

    m = sub.add_parser("model", help="describe the default rider, fit and muscles")
    m.add_argument("--saddle-height-m", type=float)
    m.add_argument("--max-force-set", choices=["group_totals", "pedaling_model"])

    s = sub.add_parser("solve", help="solve one point for the default rider and fit")
    s.add_argument("--condition", default="free", choices=["free", "fixed", "heel_drop", "prescribed"])
    s.add_argument("--power-W", type=float, default=200.0)
    s.add_argument("--cadence-rpm", type=float, default=90.0)
    s.add_argument("--ankle-deg", type=float, default=None, help="fixed ankle angle (dorsiflexion +)")
    s.add_argument("--heel-drop-deg", type=float, default=10.0)
    s.add_argument("--heel-drop-window-deg", type=float, nargs=2, default=None, metavar=("START", "END"))
    s.add_argument("--saddle-height-m", type=float)
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

    for name, hlp in (("show", "summarize a result file"), ("plot", "draw the figures of a result file"),
                      ("export", "export a result file as OpenSim .sto tables")):
        c = sub.add_parser(name, help=hlp)
        c.add_argument("result")
        if name == "plot":
            c.add_argument("--out")
        if name == "export":
            c.add_argument("--sto", required=True)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    return {"model": _model, "solve": _solve, "validate": _validate, "run": _run, "reproduce": _reproduce,
            "show": _show, "plot": _plot, "export": _export}[args.command](args)


def _default_setup(args):
    from .model.anthropometry import Rider
    from .model.bikefit import BikeFit
    from .model.leg import LegModel, make_setup

    rider = Rider() if not getattr(args, "max_force_set", None) else Rider(max_force_set=args.max_force_set)
    fit = BikeFit() if args.saddle_height_m is None else BikeFit(saddle_rule="absolute", saddle_height_m=args.saddle_height_m)
    model = LegModel()
    return model, make_setup(model, rider, fit)


def _model(args) -> int:
    from .model.describe import describe
    from .model.leg import FitError

    try:
        model, setup = _default_setup(args)
    except (FitError, ValueError) as e:
        print(f"-: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(describe(model, setup))
    return EXIT_OK


def _finite(x: float):
    return x if (x is not None and math.isfinite(x)) else None


def _solve(args) -> int:
    from .analysis.power import cycle_summary
    from .model.leg import FitError
    from .ocp.problem import ProblemSpec, SolverSpec
    from .ocp.solve import PedalingSolver

    try:
        kw = {}
        if args.ankle_deg is not None:
            kw["fixed_ankle_deg"] = args.ankle_deg
        if args.heel_drop_window_deg is not None:
            kw["heel_drop_window_deg"] = tuple(args.heel_drop_window_deg)
        spec = ProblemSpec(condition=args.condition, power_W=args.power_W, cadence_rpm=args.cadence_rpm,
                           heel_drop_deg=args.heel_drop_deg, tendon=args.tendon,
                           solver=SolverSpec(nodes=args.nodes, multistart=args.multistart), **kw)
        model, setup = _default_setup(args)
    except (FitError, ValueError) as e:
        print(f"-: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    sol = PedalingSolver(model).solve(setup, spec)
    st = sol.stats
    out = {"success": st.success, "status": st.status, "condition": spec.condition, "power_W": spec.power_W,
           "cadence_rpm": spec.cadence_rpm, "mean_crank_power_W": None,
           "joint_work_share": {"hip": None, "knee": None, "ankle": None}, "energy_balance_residual": None,
           "iterations": st.iterations, "solve_time_s": st.solve_time_s, "nodes": spec.solver.nodes}
    if st.success:
        cs = cycle_summary(sol)
        out.update(mean_crank_power_W=cs.mean_crank_power_W, joint_work_share=cs.joint_work_share,
                   energy_balance_residual=cs.energy_balance_residual)
    else:
        out["message"] = st.message
        out["max_violation"] = _finite(st.max_violation)
        out["worst_constraints"] = [[n, v] for n, v in st.worst_constraints]
    if args.json:
        print(json.dumps(out))
    else:
        print(st.summary())
        if st.success:
            sh = out["joint_work_share"]
            print(f"{spec.condition} {spec.power_W:g} W at {spec.cadence_rpm:g} rpm: mean crank power "
                  f"{out['mean_crank_power_W']:.2f} W; shares of positive joint work: hip {sh['hip']:.1%}, "
                  f"knee {sh['knee']:.1%}, ankle {sh['ankle']:.1%}; energy-balance residual "
                  f"{out['energy_balance_residual']:.2e}")
    return EXIT_OK if st.success else EXIT_SOLVE_FAILED


def _validate(args) -> int:
    from .study.config import validate_main

    return validate_main(args.config, args.set)


def _run(args) -> int:
    from .study.runner import run_main

    return run_main(args.config, out=args.out, jobs=args.jobs, executor=args.executor, scheduler=args.scheduler,
                    resume=args.resume, overrides=args.set)


def _reproduce(args) -> int:
    from .study.reproduce import reproduce_main

    return reproduce_main(args.studies, all_studies=args.all, out=args.out, jobs=args.jobs)


def _show(args) -> int:
    from .io.commands import show_main

    return show_main(args.result)


def _plot(args) -> int:
    from .io.commands import plot_main

    return plot_main(args.result, args.out)


def _export(args) -> int:
    from .io.commands import export_main

    return export_main(args.result, args.sto)
