#!/usr/bin/env python
"""Speed benchmark: import, build and solve times per ankle condition and mesh, the fresh-process CLI solve, and
the points per minute of a 30-point sweep.

Usage (from the repository root)::

    PYTHONPATH=. MPLBACKEND=Agg python benchmarks/speed.py [--meshes 20 40 80 160] [--cli-runs 5]
                                                           [--jobs 1 2] [--json OUT.json] [--markdown OUT.md]

What is measured (wall clock, `time.perf_counter`):

- import: seconds to import what a solve needs (toolkit.ocp.solve, toolkit.analysis.power), in a fresh
  process (median of --cli-runs processes).
- build: per condition and mesh, a new PedalingSolver (and LegModel) builds its NLP, derivatives and IPOPT
  instance for the structure (`PedalingSolver._get`), as the first solve of a process does.
- cold solve: the default kinematic guess at 200 W, 90 rpm; warm solve: 210 W warm-started from the 200 W
  solution (a sweep chain's step). Time is IPOPT's (`SolverStats.solve_time_s`), the minimum over --repeat
  solves (the machine may be shared: the minimum is the least disturbed figure); iterations are exact.
- cli: the whole `python -m toolkit solve --condition C --power-W 200 --cadence-rpm 90 --json` process at the
  default 40 intervals, from start to exit (median of --cli-runs).
- sweep: a temporary experiment (free, fixed, heel_drop 10 deg x 100-280 W at 90 rpm, 40 intervals, warm
  starts, no figures) run by `python -m toolkit run` in a fresh process with --jobs 1 and 2: points per
  minute of the whole command (30 points / wall time, start-up, builds, solves and the HDF5 file included).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CONDITIONS = ("free", "fixed", "heel_drop")
SWEEP_POWERS = [100.0 + 20.0 * i for i in range(10)]
SWEEP_TOML = """
[experiment]
name = "speed"
[rider]
profile = "reference"
[fit]
name = "default"
[conditions]
ankle = ["free", "fixed", "heel_drop"]
heel_drop_deg = [10.0]
[intensity]
unit = "W"
values = {values}
cadence_rpm = [90.0]
[solver]
nodes = 40
[output]
dir = "out"
figures = false
"""


def _spec(cond: str, nodes: int, power: float):
    from toolkit.ocp.problem import ProblemSpec, SolverSpec

    kw = {"heel_drop_deg": 10.0} if cond == "heel_drop" else {}
    return ProblemSpec(condition=cond, power_W=power, cadence_rpm=90.0, solver=SolverSpec(nodes=nodes), **kw)


def measure_mesh(cond: str, nodes: int, repeat: int) -> dict:
    """Build, cold and warm solve of one condition at one mesh, in this process."""
    from toolkit.model.anthropometry import Rider
    from toolkit.model.bikefit import BikeFit
    from toolkit.model.leg import LegModel, make_setup
    from toolkit.ocp.solve import PedalingSolver

    model = LegModel()
    setup = make_setup(model, Rider(), BikeFit())
    solver = PedalingSolver(model)
    spec, nxt = _spec(cond, nodes, 200.0), _spec(cond, nodes, 210.0)
    t0 = time.perf_counter()
    solver._get(spec)
    build = time.perf_counter() - t0
    colds = [solver.solve(setup, spec) for _ in range(repeat)]
    warms = [solver.solve(setup, nxt, guess=colds[0]) for _ in range(repeat)]
    c, w = colds[0], warms[0]
    return {"condition": cond, "nodes": nodes, "build_s": build,
            "cold_s": min(s.stats.solve_time_s for s in colds), "cold_it": c.stats.iterations,
            "cold_ok": c.success, "warm_s": min(s.stats.solve_time_s for s in warms), "warm_it": w.stats.iterations,
            "warm_ok": w.success, "objective": c.stats.objective}


def _run(cmd: list[str], cwd: str | None = None, timeout: float = 900) -> tuple[float, subprocess.CompletedProcess]:
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, timeout=timeout)
    return time.perf_counter() - t0, r


def import_time(runs: int) -> float:
    code = ("import time; t = time.perf_counter(); import toolkit.ocp.solve, toolkit.analysis.power; "
            "print(time.perf_counter() - t)")
    return statistics.median(float(_run([sys.executable, "-c", code])[1].stdout) for _ in range(runs))


def cli_wall(cond: str, runs: int) -> tuple[float, float, float]:
    cmd = [sys.executable, "-m", "toolkit", "solve", "--condition", cond, "--power-W", "200", "--cadence-rpm", "90",
           "--json"]
    walls = []
    for _ in range(runs):
        dt, r = _run(cmd)
        if r.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed: {r.stdout}{r.stderr}")
        walls.append(dt)
    return statistics.median(walls), min(walls), max(walls)


def sweep(jobs: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "speed.toml"
        cfg.write_text(SWEEP_TOML.format(values=json.dumps(SWEEP_POWERS)))
        env = dict(os.environ, MPLBACKEND="Agg")
        t0 = time.perf_counter()
        r = subprocess.run([sys.executable, "-m", "toolkit", "run", str(cfg), "--out", str(Path(tmp) / "out"),
                            "--jobs", str(jobs)], capture_output=True, text=True, env=env, timeout=1800)
        wall = time.perf_counter() - t0
    n = 3 * len(SWEEP_POWERS)
    return {"jobs": jobs, "points": n, "wall_s": wall, "points_per_min": 60 * n / wall, "exit": r.returncode}


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import casadi
    import numpy

    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(), "casadi": casadi.__version__,
            "numpy": numpy.__version__, "load_avg_1_5_15": [round(x, 2) for x in load],
            "date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime())}


def markdown(res: dict) -> str:
    m = res["machine"]
    lines = [f"Machine: {m['cpu']}, {m['cores']} cores; Python {m['python']}, CasADi {m['casadi']}, NumPy "
             f"{m['numpy']}; {m['date_utc']} UTC; load average at the end {m['load_avg_1_5_15']}.", "",
             f"Import of the solve path (fresh process, median): {res['import_s']:.2f} s", "",
             "| condition | intervals | build s | cold s | cold it | cold ms/it | warm s | warm it |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in res["meshes"]:
        flag = "" if r["cold_ok"] and r["warm_ok"] else " (failed)"
        lines.append(f"| {r['condition']}{flag} | {r['nodes']} | {r['build_s']:.2f} | {r['cold_s']:.2f} | "
                     f"{r['cold_it']} | {1e3 * r['cold_s'] / max(r['cold_it'], 1):.1f} | {r['warm_s']:.2f} | "
                     f"{r['warm_it']} |")
    lines += ["", "| fresh-process CLI solve (40 intervals, 200 W, 90 rpm) | median s | min s | max s |",
              "|---|---:|---:|---:|"]
    for cond, (med, lo, hi) in res["cli"].items():
        lines.append(f"| {cond} | {med:.2f} | {lo:.2f} | {hi:.2f} |")
    lines += ["", "| 30-point sweep (3 conditions x 10 powers, 40 intervals) | wall s | points/min |", "|---|---:|---:|"]
    for s in res["sweeps"]:
        lines.append(f"| --jobs {s['jobs']}{'' if s['exit'] == 0 else ' (exit ' + str(s['exit']) + ')'} | "
                     f"{s['wall_s']:.1f} | {s['points_per_min']:.0f} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--meshes", type=int, nargs="+", default=[20, 40, 80, 160])
    ap.add_argument("--conditions", nargs="+", default=list(CONDITIONS))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--cli-runs", type=int, default=5)
    ap.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--json", help="also write the raw figures here")
    ap.add_argument("--markdown", help="also write the tables here")
    args = ap.parse_args()
    res: dict = {"import_s": import_time(args.cli_runs), "meshes": [], "cli": {}, "sweeps": []}
    print(f"import {res['import_s']:.2f} s", flush=True)
    for cond in args.conditions:
        for n in args.meshes:
            r = measure_mesh(cond, n, args.repeat)
            res["meshes"].append(r)
            print(json.dumps(r), flush=True)
    for cond in args.conditions:
        res["cli"][cond] = cli_wall(cond, args.cli_runs)
        print(cond, "cli", res["cli"][cond], flush=True)
    for j in args.jobs:
        res["sweeps"].append(sweep(j))
        print(json.dumps(res["sweeps"][-1]), flush=True)
    res["machine"] = machine()
    text = markdown(res)
    print(text)
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=1))
    if args.markdown:
        Path(args.markdown).write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
