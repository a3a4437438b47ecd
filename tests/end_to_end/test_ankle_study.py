"""The ankle-constraint study (issue 16 items 2-3): its constants come from the experiment file, its metrics and
page from the stored solutions; a quick (16-node) run of the whole pipeline with figures; the committed page
reports infeasible points as such, the Japanese 250 W rows and the verdict on 'constraining favors the hip'."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from toolkit.study import reproduce as R
from toolkit.study.config import load_experiment
from toolkit.study.metrics import ankle_constraint as AR
from toolkit.study.registry import study
from toolkit.study.solvers import ankle_constraint as A

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "results"
NAME = "ankle_constraint"


def test_sweep_constants_live_in_the_experiment_file():
    exp = load_experiment(study(NAME).variant("main").path)
    c = exp.conditions
    xs: dict[str, set] = {"range_limited": set(), "braced": set()}
    for p in exp.points():
        sx = AR.sweep_x(p.condition_label)
        if sx is not None:
            xs[sx[0]].add(sx[1])
            if sx[0] == "braced":  # the stiff end meets `fixed`
                assert p.spec.brace_neutral_deg == p.spec.fixed_ankle_deg
    assert xs["range_limited"] == set(c.ankle_range_width_deg) and 0.0 in xs["range_limited"]
    assert xs["braced"] == set(c.brace_stiffness_Nm_per_rad) and {0.0, 1e5} <= xs["braced"]
    assert sorted({p.spec.power_W for p in exp.points()}) == list(exp.intensity.values)
    assert exp.solver.nodes == 40 and exp.solver.multistart >= 2
    assert AR.sweep_x("range_limited_w7.5") == ("range_limited", 7.5) and AR.sweep_x("fixed") is None
    assert A.multistart_positions(7) == {0, 3, 6} and A.multistart_positions(1) == {0}


@pytest.fixture(scope="module")
def quick(tmp_path_factory, solver):
    out = tmp_path_factory.mktemp("ankle")
    info = R.reproduce_study(NAME, out, solver=solver, quick=True, progress=False, figures=True)
    return out, info


def test_quick_pipeline_page_and_figures(quick):
    out, info = quick
    sdir = out / NAME
    assert info["points"] + info["failures"] == 9  # 6 main + 3 mesh sensitivity points
    for f in ("range_sweep.png", "brace_sweep.png", "comparison.png", "extras.json", "comparison.md"):
        assert (sdir / f).exists(), f
    md = (sdir / "comparison.md").read_text(encoding="utf-8")
    assert md == R.render_study_markdown(NAME, out)
    assert "## Does constraining the ankle favor the hip and disfavor the knee?" in md and "**Verdict:**" in md
    assert "## Claim D (recumbent, ankle immobilized) in context" in md and "../recumbent/comparison.md" in md
    extras = json.loads((sdir / "extras.json").read_text(encoding="utf-8"))
    assert extras["multistart"] and {c["kind"] for c in extras["chains"]} == {"range_limited", "braced"}
    for c in extras["chains"]:  # chains run free -> fixed and several starts at their ends
        assert set(c["multistart"]) == {c["order"][0], c["order"][-1]}


def test_metrics_of_the_quick_solutions(quick):
    out, _ = quick
    data = R.load_study_data(NAME, out)
    free, fixed = AR.point_at(data, 120.0, "free"), AR.point_at(data, 120.0, "fixed")
    fm, xm = AR.metrics_of(free), AR.metrics_of(fixed)
    for m in (fm, xm):
        assert sum(m[f"{j}_share_pct"] for j in ("hip", "knee", "ankle")) == pytest.approx(100.0)
        assert m["GMAX_activation_integral_s"] > 0 and m["VAS_fibre_work_J"] > 0
    assert xm["ankle_excursion_deg"] < 1e-6 and fm["ankle_excursion_deg"] > 5.0
    assert fm["device_peak_moment_Nm"] == 0.0 and xm["device_peak_moment_Nm"] > 10.0
    spring = AR.point_at(data, 120.0, "braced_k100")
    sm = AR.metrics_of(spring)
    assert sm["device_positive_J"] > 0 > sm["device_negative_J"]  # the spring stores and returns energy
    assert AR.constrains(free, spring, 1.0) and AR.constrains(free, fixed, 1.0) and not AR.constrains(free, free, 1.0)
    head, rows, tally = AR.direction_table(data)
    assert rows and all(len(r) == len(head) for r in rows)
    assert tally["hip_share_up"][1] >= 2


@pytest.mark.skipif(not (RESULTS / NAME / "comparison.md").exists(), reason="results/ not generated")
def test_committed_page_reports_ends_infeasible_points_and_spread():
    data = R.load_study_data(NAME, RESULTS)
    for f in data.failures:  # infeasible widths are failures with their message, never results
        assert f.status == "Infeasible_Request" and "reaches the pedal" in f.message
    md = (RESULTS / NAME / "comparison.md").read_text(encoding="utf-8")
    assert all(f"**Infeasible_Request**: {f.message}" in md for f in data.failures)
    for pw in (120.0, 250.0):
        assert AR.point_at(data, pw, "free") is not None and AR.point_at(data, pw, "fixed") is not None
        stiff = AR.stiffest(data, pw)  # the stiff brace meets `fixed` (0.4-0.6 pp: the ankle still moves ~0.1 deg)
        a, b = AR.metrics_of(stiff), AR.metrics_of(AR.point_at(data, pw, "fixed"))
        assert max(abs(a[f"{j}_share_pct"] - b[f"{j}_share_pct"]) for j in ("hip", "knee", "ankle")) < 1.0
    spread = data.extras["multistart"]
    for c in data.extras["chains"]:
        for lab in c["multistart"]:
            recs = data.find(c["experiment"], condition_label=lab, power_W=c["power_W"])
            assert all(f"{r.experiment}/{r.key}" in spread for r in recs)
    rows = R.study_rows(data)
    jje = [r for r in rows if r.quantity.startswith("jje_")]
    assert len(jje) == 8 and all(r.model is not None for r in jje)
    assert np.all([r.agrees is not None for r in jje])
