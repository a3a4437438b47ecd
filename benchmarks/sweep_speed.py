#!/usr/bin/env python
"""Sweep speed: points per minute of `run_experiment`, with and without warm starts.

Usage (from the repository root)::

    PYTHONPATH=. MPLBACKEND=Agg python benchmarks/sweep_speed.py [--jobs 1 2] [--nodes 40] [--repeat 1]
                                                                 [--sweep conditions|intensities]

The sweep has 12 points for the reference rider at 90 rpm: `conditions` = free, fixed and heel_drop (10 deg)
ankle x 100, 150, 200, 250 W (3 warm-start chains); `intensities` = free ankle x 100-265 W in 15 W steps (one
chain, cut in halves when jobs > 1). Every case runs in a fresh Python process, so solver builds and pool
start-up are counted as a user would meet them; points/min is RunReport.points_per_min (the solving phase:
pool start-up, solver builds, solves and HDF5 writes; summary and figures excluded, figures are off).
Also reported: the summed IPOPT iterations and solve times of the stored points.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

CONFIG = """
[experiment]
name = "speed"
[rider]
profile = "reference"
[fit]
name = "default"
[conditions]
ankle = {ankle}
heel_drop_deg = [10.0]
[intensity]
unit = "W"
values = {values}
cadence_rpm = [90.0]
[solver]
nodes = {nodes}
[output]
dir = "out"
figures = false
"""

#: 12-point sweeps: 3 conditions x 4 work rates (3 chains), or 1 condition x 12 work rates (1 chain).
SWEEPS = {
    "conditions": ('["free", "fixed", "heel_drop"]', "[100.0, 150.0, 200.0, 250.0]"),
    "intensities": ('["free"]', "[" + ", ".join(f"{100 + 15 * i:.1f}" for i in range(12)) + "]"),
}


def one(config: str, jobs: int, warm: bool) -> dict:
    from toolkit.io.hdf5 import read_points
    from toolkit.study.config import load_experiment
    from toolkit.study.runner import run_experiment

    exp = load_experiment(config)
    rep = run_experiment(exp, jobs=jobs, warm_start=warm, progress=False, figures=False)
    pts = read_points(rep.result_file)
    return {"jobs": jobs, "warm": warm, "points": len(rep.solved) + len(rep.failed), "failed": len(rep.failed),
            "chains": rep.chains, "wall_s": rep.wall_time_s, "points_per_min": rep.points_per_min,
            "iterations": sum(p.solution.stats.iterations for p in pts.values()),
            "solve_s": sum(p.solution.stats.solve_time_s for p in pts.values())}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    ap.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--nodes", type=int, default=40)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--sweep", choices=list(SWEEPS), default="conditions")
    ap.add_argument("--one", nargs=3, metavar=("CONFIG", "JOBS", "WARM"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(args.one[0], int(args.one[1]), args.one[2] == "1")))
        return 0
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "speed.toml"
        ankle, values = SWEEPS[args.sweep]
        cfg.write_text(CONFIG.format(nodes=args.nodes, ankle=ankle, values=values))
        for jobs in args.jobs:
            for warm in (True, False):
                for _ in range(args.repeat):
                    out = subprocess.run([sys.executable, __file__, "--one", str(cfg), str(jobs), str(int(warm))],
                                         capture_output=True, text=True, check=True)
                    rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
                    r = rows[-1]
                    print(f"jobs={r['jobs']} warm={'yes' if r['warm'] else 'no ':3s} chains={r['chains']:2d} "
                          f"points={r['points']} failed={r['failed']} wall={r['wall_s']:.1f}s "
                          f"{r['points_per_min']:.1f} points/min  (IPOPT: {r['iterations']} iterations, "
                          f"{r['solve_s']:.1f} s)", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
