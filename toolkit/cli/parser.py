"""The argument parser of `python -m toolkit` (one subcommand per job; numbers must be finite)."""
from __future__ import annotations

import argparse
import math

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
    m.add_argument("--muscle-curves", choices=["toolkit", "opensim"], default=None,
                   help="Hill-muscle curves: toolkit (default) or opensim (OpenSim 4.6's DeGrooteFregly2016Muscle)")
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
    s.add_argument("--muscle-curves", choices=["toolkit", "opensim"], default=None,
                   help="Hill-muscle curves: toolkit (default) or opensim (OpenSim 4.6's DeGrooteFregly2016Muscle)")
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
