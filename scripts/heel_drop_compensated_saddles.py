"""Print the fit-compensated saddle heights of the heel-drop study for the current model.

For each compensated case (a `study_heel_drop_comp_*.toml` file of studies/heel_drop/), the saddle is lowered
until the knee flexion at BDC of the *solved* heel-drop motion equals the free ankle's at the base fit (secant on
the height, the rider's free reference re-solved at each trial height). Paste each height into its file.

    python scripts/heel_drop_compensated_saddles.py
"""
from __future__ import annotations

from dataclasses import replace

from toolkit.model.leg import make_setup
from toolkit.ocp.problem import ProblemSpec
from toolkit.ocp.solve import PedalingSolver
from toolkit.study.base import knee_at_bdc_deg
from toolkit.study.config import load_experiment
from toolkit.study.registry import study
from toolkit.study.solvers.heel_drop import compensated_saddle_height


def main() -> int:
    st = study("heel_drop")
    base = load_experiment(st.variant("main").path)
    rider, fit = base.riders[0], dict(base.fits)[st.param("base_fit")]
    solver = PedalingSolver()
    kw = dict(power_W=base.intensity.values[0], cadence_rpm=base.intensity.cadence_rpm[0], cost=base.cost,
              solver=replace(base.solver, multistart=1), heel_drop_window_deg=base.conditions.heel_drop_window_deg,
              heel_drop_ramp_deg=base.conditions.heel_drop_ramp_deg)
    free = solver.solve(make_setup(solver.model, rider, fit), ProblemSpec(condition="free", **kw))
    target = knee_at_bdc_deg(free)
    print(f"# target: knee flexion at BDC of the free ankle at the base fit = {target:.3f} deg")
    for v in st.variants:
        if not v.role.startswith(st.param("compensated_prefix")):
            continue
        exp = load_experiment(v.path)
        c = exp.conditions
        spec = ProblemSpec(condition="heel_drop", heel_drop_deg=c.heel_drop_deg[0], heel_drop_mode=c.heel_drop_mode[0],
                           **kw)
        h, msg = compensated_saddle_height(solver, rider, fit, spec, target)
        print(f"# {v.file}: " + (f"saddle_height_m = {h:.5f}" if h is not None else "none") + f" ({msg})", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
