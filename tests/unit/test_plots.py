"""Figures are produced from real solutions and written as non-empty PNGs (no golden images)."""
from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from toolkit.analysis.emg import load_emg_on_ranges, ranges_by_muscle
from toolkit.io import hdf5, provenance
from toolkit.cli.results import plot_main
from toolkit.model.muscles import MUSCLE_NAMES
from toolkit.ocp.problem import ProblemSpec, SolverSpec
from toolkit.plots import figures as F
from toolkit.plots.report import save_experiment_figures, save_point_figures

NODES = 20


@pytest.fixture(scope="module")
def sols(solver, setup):
    out = {}
    for c, p in (("free", 200), ("fixed", 200), ("free", 150)):
        s = solver.solve(setup, ProblemSpec(condition=c, power_W=p, solver=SolverSpec(nodes=NODES)))
        assert s.success, s.stats.summary()
        out[f"condition={c}/power_W={p}"] = s
    return out


@pytest.fixture(autouse=True)
def _no_git(monkeypatch):
    monkeypatch.setattr(provenance, "git_commit", lambda: None)


def _png_ok(path):
    data = path.read_bytes()
    assert len(data) > 5000 and data[:8] == b"\x89PNG\r\n\x1a\n", path


def _two(sols):
    return {"free": sols["condition=free/power_W=200"], "fixed": sols["condition=fixed/power_W=200"]}


def test_emg_ranges_are_cited_data():
    ranges = load_emg_on_ranges()
    assert ranges
    for r in ranges:
        assert r.model_muscle in MUSCLE_NAMES
        assert 0 <= r.onset_deg <= 360 and 0 <= r.offset_deg <= 360
        assert r.source and r.wording and r.basis in ("stated", "read")
    by = ranges_by_muscle(ranges)
    assert {"VAS", "HAMS", "GMAX", "TA"} <= set(by) and len(by["HAMS"]) == 2
    rf = by["RF"][0]  # wraps through TDC
    assert rf.contains(0) and rf.contains(300) and not rf.contains(180)


def test_joint_power_figure(tmp_path, sols):
    fig = F.joint_power_figure(_two(sols))
    assert isinstance(fig, Figure)
    axes = fig.get_axes()
    assert [a.get_title() for a in axes] == ["hip", "knee", "ankle"]
    assert "(W)" in axes[0].get_ylabel() and "deg" in axes[0].get_xlabel()
    assert len(fig.legends) == 1 and len(fig.legends[0].get_texts()) == 2
    fig.savefig(tmp_path / "jp.png", dpi=80)
    _png_ok(tmp_path / "jp.png")


def test_shares_figures(tmp_path, sols):
    groups = {"free": [sols["condition=free/power_W=150"], sols["condition=free/power_W=200"]],
              "fixed": [sols["condition=fixed/power_W=200"]]}
    fig = F.joint_shares_figure(groups, reference={"Ericson 1986 (120 W)": [(120, {"hip": .31, "knee": .49,
                                                                                      "ankle": .20})]})
    ax = fig.get_axes()[0]
    assert "%" in ax.get_ylabel() and "(W)" in ax.get_xlabel()
    ys = ax.get_lines()[0].get_ydata()
    assert len(ys) == 2 and np.all((ys >= 0) & (ys <= 100))
    fig.savefig(tmp_path / "sh.png", dpi=80)
    _png_ok(tmp_path / "sh.png")
    bar = F.joint_shares_bar_figure(_two(sols))
    bar.savefig(tmp_path / "bar.png", dpi=80)
    _png_ok(tmp_path / "bar.png")


def test_activation_figure_draws_published_bands(tmp_path, sols):
    fig = F.activation_figure(_two(sols))
    axes = fig.get_axes()
    assert len(axes) == 9
    by = ranges_by_muscle()
    for ax, m in zip(axes, MUSCLE_NAMES):
        n_intervals = sum(len(r.intervals()) for r in by.get(m, []))
        assert len(ax.patches) == n_intervals, m
        assert ax.get_title().startswith(m)
    assert "activation" in axes[0].get_ylabel()
    fig.savefig(tmp_path / "act.png", dpi=80)
    _png_ok(tmp_path / "act.png")


def test_stick_figure_geometry(tmp_path, sols, model):
    sol = sols["condition=free/power_W=200"]
    angles = [0, 90, 180, 270]
    pts, q = F.leg_points(sol, angles, model)
    c = sol.setup["fit"]["crank_length_m"]
    th = np.radians(angles)
    assert np.allclose(pts[:, :, 3], np.column_stack([c * np.sin(th), c * np.cos(th)]), atol=1e-9)  # pedal
    assert np.allclose(pts[:, :, 0], np.array(sol.setup["hip_xy_m"]))  # hip fixed on the saddle
    nodes = [0, sol.nodes // 4, sol.nodes // 2, 3 * sol.nodes // 4]  # these angles are mesh nodes
    assert np.allclose(q, sol["q"][:, nodes].T, atol=1e-8)
    fig = F.stick_figure(sol, angles, model=model)
    assert fig.get_axes()[0].get_xlabel() == "x, forward (m)"
    fig.savefig(tmp_path / "stick.png", dpi=80)
    _png_ok(tmp_path / "stick.png")


def test_other_figures(tmp_path, sols):
    for name, fig in (("mp", F.muscle_power_figure(_two(sols))), ("pedal", F.pedal_force_figure(_two(sols)))):
        fig.savefig(tmp_path / f"{name}.png", dpi=80)
        _png_ok(tmp_path / f"{name}.png")


def test_animation(tmp_path, sols, model):
    if not F.pillow_available():
        pytest.skip("pillow not installed")
    path = F.animate_stick(sols["condition=free/power_W=200"], tmp_path / "leg.gif", frames=4, model=model)
    assert path.exists() and path.stat().st_size > 1000


def test_report_writers_and_plot_command(tmp_path, sols):
    sol = sols["condition=free/power_W=200"]
    paths = save_point_figures(sol, tmp_path / "pt", "condition=free/power_W=200")
    assert len(paths) == 5
    for p in paths:
        _png_ok(p)
    labels = {k: {"condition": s.spec.condition, "power_W": s.spec.power_W} for k, s in sols.items()}
    exp = save_experiment_figures(sols, labels, tmp_path / "exp")
    names = {p.name for p in exp}
    assert {"joint_power_200W.png", "joint_shares_200W.png", "joint_shares_vs_work_rate.png"} <= names
    for p in exp:
        _png_ok(p)
    h5 = tmp_path / "exp.h5"
    hdf5.write_solutions(h5, [(k, s, labels[k]) for k, s in sols.items()])
    assert plot_main(h5, tmp_path / "figs", point_figures=False) == 0
    assert len(list((tmp_path / "figs").glob("*.png"))) >= 5
    assert plot_main(tmp_path / "missing.h5", tmp_path / "figs2") == 2
