"""Benchmark: the toolkit and OpenSim Moco on the same pedaling problem, side by side.

    TOOLKIT_OPENSIM_PYTHON=/path/to/python-with-opensim python benchmarks/moco_crosscheck.py \
        [--nodes 20] [--condition free|fixed] [--power-W 200] [--cadence-rpm 90] [--guess solution|initial] [--out DIR]

Solves the problem with the toolkit (trapezoidal collocation on `--nodes` intervals, its default kinematic guess),
writes the .osim model, the tables and the Moco script (toolkit.io.osim / toolkit.io.moco) into --out, runs the
script in the OpenSim interpreter (Hermite-Simpson on the same number of mesh intervals) and prints wall time,
iterations, mean crank power and the joint work shares of both, as a markdown table. --guess solution starts
Moco from the toolkit's solution (what `export --moco` writes), --guess initial from the toolkit's own initial
guess (the same start as the toolkit's solve).
"""
from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from toolkit.analysis.summary import solution_summary
from toolkit.check.opensim import find_opensim_python
from toolkit.io.moco import moco_spec_from_problem, write_moco_script
from toolkit.io.osim import export_osim_trajectory, write_osim
from toolkit.model.anthropometry import Rider
from toolkit.model.bikefit import BikeFit
from toolkit.model.leg import LegModel, make_setup
from toolkit.model.osim_model import osim_model_spec
from toolkit.ocp.problem import ProblemSpec, SolverSpec
from toolkit.ocp.solve import PedalingSolver


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int, default=20)
    ap.add_argument("--condition", choices=["free", "fixed"], default="free")
    ap.add_argument("--power-W", type=float, default=200.0)
    ap.add_argument("--cadence-rpm", type=float, default=90.0)
    ap.add_argument("--guess", choices=["solution", "initial"], default="solution")
    ap.add_argument("--python", default=None, help="interpreter with opensim (default: $TOOLKIT_OPENSIM_PYTHON)")
    ap.add_argument("--out", default=None)
    ap.add_argument("--timeout-s", type=float, default=3600.0)
    ap.add_argument("--parallel", type=int, default=1,
                    help="Moco's parallel setting (0 one thread, 1 all cores, N threads)")
    args = ap.parse_args(argv)
    py = args.python or find_opensim_python()
    if py is None:
        print("no interpreter with opensim: set TOOLKIT_OPENSIM_PYTHON or pass --python", file=sys.stderr)
        return 2
    out = Path(args.out or tempfile.mkdtemp(prefix="moco_crosscheck_"))
    out.mkdir(parents=True, exist_ok=True)

    model = LegModel()
    setup = make_setup(model, Rider(), BikeFit())
    spec = ProblemSpec(condition=args.condition, power_W=args.power_W, cadence_rpm=args.cadence_rpm,
                       solver=SolverSpec(nodes=args.nodes))
    solver = PedalingSolver(model)
    t0 = time.perf_counter()
    sol = solver.solve(setup, spec)
    tk_wall = time.perf_counter() - t0
    if not sol.success:
        print(f"toolkit solve failed: {sol.stats.summary()}", file=sys.stderr)
        return 1
    tk = solution_summary(sol)
    # The effort term alone (the objectives also hold each side's own regularization terms).
    w = np.asarray(spec.cost.weight_vector())[:, None]
    tk_effort = float(np.mean(np.sum(w * np.asarray(sol["activation"]) ** spec.cost.exponent, axis=0)))

    osim = osim_model_spec(setup, activation_floor=spec.activation_floor)
    write_osim(osim, out / "model.osim")
    start = sol if args.guess == "solution" else solver.initial_guess(setup, spec)
    export_osim_trajectory(start, out, "guess", osim.crank_load_optimal_force, allow_unsolved=True)
    script = write_moco_script(moco_spec_from_problem(spec, "model.osim", guess_states="guess_osim_states.sto",
                                                      guess_controls="guess_osim_controls.sto"),
                               out / "moco_pedaling.py", command="benchmarks/moco_crosscheck.py")
    t0 = time.perf_counter()
    r = subprocess.run([py, str(script.resolve()), "--parallel", str(args.parallel)], capture_output=True, text=True,
                       timeout=args.timeout_s, cwd=out)  # OpenSim writes opensim.log into its working directory
    moco_wall = time.perf_counter() - t0
    (out / "moco_stdout.txt").write_text(r.stdout, encoding="utf-8")
    (out / "moco_stderr.txt").write_text(r.stderr, encoding="utf-8")
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        print(f"Moco script gave no result (exit {r.returncode}); see {out}/moco_stderr.txt", file=sys.stderr)
        return 1
    mo = json.loads(lines[-1])

    def shares(d: dict) -> str:
        s = d.get("joint_work_share")
        return " / ".join(f"{100 * s[j]:.1f}" for j in ("hip", "knee", "ankle")) if s else "-"

    print(f"Problem: {args.condition} ankle, {args.power_W:g} W, {args.cadence_rpm:g} rpm, {args.nodes} intervals; "
          f"Moco guess: {args.guess}. Machine: {platform.machine()}, {platform.processor() or '-'}, "
          f"Python {platform.python_version()}; files in {out}")
    print()
    rng = mo.get("crank_speed_range_rpm")
    rng = f"{rng[0]:.3f}-{rng[1]:.3f}" if rng else "-"
    print("| solver | transcription | status | iterations | solve time s | wall time s | objective | effort | "
          "mean crank power W | crank speed rpm | hip / knee / ankle share % |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    print(f"| toolkit (CasADi + IPOPT) | trapezoidal, {args.nodes} intervals | {sol.stats.status} | "
          f"{sol.stats.iterations} | {sol.stats.solve_time_s:.2f} | {tk_wall:.2f} | {sol.stats.objective:.5f} | "
          f"{tk_effort:.5f} | {tk['mean_crank_power_W']:.1f} | {args.cadence_rpm:g} | {shares(tk)} |")
    print(f"| OpenSim Moco (CasADi + IPOPT) | Hermite-Simpson, {mo.get('mesh_intervals')} intervals | "
          f"{mo.get('status')} | {mo.get('iterations')} | {mo.get('solve_time_s', float('nan')):.2f} | "
          f"{moco_wall:.2f} | {mo.get('objective', float('nan')):.5f} | {mo.get('effort', float('nan')):.5f} | "
          f"{mo.get('mean_crank_power_W', float('nan')):.1f} | {rng} | {shares(mo)} |")
    return 0 if mo.get("success") else 1


if __name__ == "__main__":
    sys.exit(main())
