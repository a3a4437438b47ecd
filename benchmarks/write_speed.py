"""Time to store one point into a result file that already holds n points (toolkit.io.hdf5.write_solution).

    python benchmarks/write_speed.py [N_MAX] [--nodes 40]

Solves one 40-node point, then stores it under N_MAX keys one by one and prints the time of each write at
n = 1, 10, 100, 200, 400, ... stored points (the median of the writes around it), the file size, and the time to
read every point back.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("n_max", type=int, nargs="?", default=400)
    ap.add_argument("--nodes", type=int, default=40)
    args = ap.parse_args()
    from toolkit.io import hdf5
    from toolkit.model.anthropometry import Rider
    from toolkit.model.bikefit import BikeFit
    from toolkit.model.leg import make_setup
    from toolkit.ocp.problem import ProblemSpec, SolverSpec
    from toolkit.ocp.solve import PedalingSolver

    solver = PedalingSolver()
    sol = solver.solve(make_setup(solver.model, Rider(), BikeFit()),
                       ProblemSpec(power_W=200, solver=SolverSpec(nodes=args.nodes)))
    assert sol.success
    marks = [m for m in (1, 10, 100, 200, 400, 1000, 2000) if m <= args.n_max]
    times = []
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "bench.h5"
        for i in range(args.n_max):
            t = time.perf_counter()
            hdf5.write_solution(path, f"point={i:05d}", sol, {"i": i})
            times.append(time.perf_counter() - t)
        size = path.stat().st_size
        t = time.perf_counter()
        n_read = len(hdf5.read_all(path))
        t_read = time.perf_counter() - t
    print(f"{hdf5.__file__}")
    for m in marks:
        window = times[max(0, m - 3):m + 2]
        print(f"store point {m:5d}: {1000 * statistics.median(window):8.1f} ms")
    print(f"total write time for {args.n_max} points: {sum(times):.1f} s; file {size / 1e6:.1f} MB; "
          f"read_all of {n_read} points: {t_read:.2f} s")


if __name__ == "__main__":
    main()
