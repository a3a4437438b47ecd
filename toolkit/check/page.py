"""The model-check page: markdown (README.md) and its figures, from a CheckResult (toolkit.check.report).

Nothing here holds a reference number: the rows come evaluated, the Park et al. curves and the fibre-length bands
come from the cited data files.
"""
from __future__ import annotations

import math
from pathlib import Path

from ..analysis.summary import ACTION_KEYS, multistart_spread, near_optimal_solutions
from ..model.leg import JOINTS
from ..model.muscles import MUSCLE_NAMES
from .reference import AGREES, DOES_NOT, NO_DATA, load_park2022, load_reference_rows

DPI = 100
SECTIONS = (
    ("Kinematics: joint and sole angles", "kinematics", ("sole_",), ("fig_kinematics.png",)),
    ("Pedal force and index of effectiveness", "pedal", ("index_of_effectiveness", "ie_", "peak_resultant", "fx_",
                                                         "fy_", "downstroke"),
     ("fig_pedal_force.png", "fig_park_forces.png")),
    ("Net joint moments", "moments", ("_moment_", "knee_flexor"), ("fig_joint_moments.png",)),
    ("Activations vs EMG on-ranges", "emg", ("_activation_in_emg_range",), ("fig_activation_emg.png",)),
    ("Normalized fibre lengths", "fibre", ("_fibre_length_",), ("fig_fibre_length.png",)),
    ("Work per joint and per action", "work", ("largest_action", "_power_W", "negative_work", "_change_200_to_300W_pp"),
     ("fig_work_by_action.png",)),
    ("Joint shares vs Ericson (1986)", "shares", ("share_hip", "share_knee", "share_ankle"),
     ("fig_shares_joints_ericson.png", "fig_shares_ericson.png")),
)


def _fmt(v, digits: int = 3) -> str:
    if v is None:
        return "-"
    if isinstance(v, str):
        return v
    if not math.isfinite(v):
        return "-"
    return f"{v:.{digits}g}" if abs(v) < 1000 else f"{v:.0f}"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c).replace("|", "/") for c in r) + " |" for r in rows]
    return out


def _rows_table(rows: list[dict]) -> list[str]:
    body = []
    for r in rows:
        spread, v = r["multistart_spread"], r["model_value"]
        scale = max(1.0, abs(v)) if isinstance(v, (int, float)) else 1.0
        model = _fmt(v) + (f" (spread {_fmt(spread, 2)})" if spread and spread > 1e-4 * scale else "")
        body.append([r["id"], r["condition"], model, r["reference"], r["unit"], r["criterion"], f"**{r['verdict']}**",
                     r["citation_key"]])
    return _table(["row", "model condition", "model", "reference", "unit", "criterion", "verdict", "source"], body)


def _section_rows(rows: list[dict], patterns) -> list[dict]:
    return [r for r in rows if any(p in r["quantity"] for p in patterns)]


def _save(fig, path: Path) -> Path:
    fig.savefig(path, dpi=DPI)
    return path


def make_figures(res, figdir: Path) -> list[Path]:
    """All figures of the page (PNG, Agg through matplotlib.figure.Figure)."""
    from ..plots import figures as F
    from ..plots import model_check as MC
    from .conditions import PARK, work_tables

    park = load_park2022()
    ok = {k: s for k, s in res.solutions.items() if s.success}
    free = {k: s for k, s in ok.items() if k.endswith("_free")}
    paths = [_save(MC.kinematics_figure(ok, park), figdir / "fig_kinematics.png")]
    ie = {k: res.metrics[k]["index_of_effectiveness"] for k in ok}
    paths.append(_save(MC.pedal_force_figure(free, park, ie), figdir / "fig_pedal_force.png"))
    if PARK in ok:
        paths.append(_save(MC.park_force_components_figure(ok[PARK], park, f"model, {PARK}"),
                           figdir / "fig_park_forces.png"))
    paths.append(_save(MC.joint_moment_figure(ok), figdir / "fig_joint_moments.png"))
    canon_free = {k: s for k, s in free.items() if k != PARK}
    paths.append(_save(F.activation_figure(canon_free), figdir / "fig_activation_emg.png"))
    bands = {}
    for r in load_reference_rows(expand_emg=False):
        if "_fibre_length_" in r.quantity and r.kind == "within":
            m = r.quantity.split("_")[0]
            which = "shortest" if "_min_" in r.quantity else "longest"
            bands.setdefault(m, []).append((r.low, r.high, f"{r.citation_key}: {which} (criterion band)"))
    paths.append(_save(MC.fibre_length_figure(canon_free, bands), figdir / "fig_fibre_length.png"))
    wt = {k: work_tables(s) for k, s in ok.items() if k != PARK}
    paths.append(_save(MC.work_by_action_figure({k: w["action"] for k, w in wt.items()},
                                                {k: w["action_negative"] for k, w in wt.items()}),
                       figdir / "fig_work_by_action.png"))
    key = "120W_60rpm_free"
    if key in ok:
        m, sp = res.metrics[key], res.spreads.get(key, {})
        ref = {r["quantity"]: float(r["reference"]) for r in res.rows
               if r["condition"] == key and r["quantity"].startswith("share_") and r["reference"] not in ("-", "")}
        for names, fname in ((JOINTS, "fig_shares_joints_ericson.png"), (ACTION_KEYS, "fig_shares_ericson.png")):
            keys = {n: f"share_{n}_pct" for n in names}
            paths.append(_save(MC.shares_comparison_figure(
                {n: m[k] for n, k in keys.items()}, {n: sp.get(k, 0.0) for n, k in keys.items()},
                {n: ref[k] for n, k in keys.items() if k in ref}, f"model {key}", "Ericson 1986 (120 W, 60 rpm)"),
                figdir / fname))
    return paths


def _status_table(res) -> list[str]:
    body = []
    for k, s in res.solutions.items():
        st = s.stats
        if s.success:
            from ..analysis.power import cycle_summary

            cs = cycle_summary(s)
            near = len(near_optimal_solutions(s))
            body.append([k, st.status, st.iterations, f"{st.solve_time_s:.1f}", f"{st.objective:.5g}",
                         f"{cs.mean_crank_power_W:.1f}", f"{cs.energy_balance_residual:.1e}",
                         f"{len(s.start_solutions) + 1}/{st.starts}", near])
        else:
            body.append([k, st.status, st.iterations, f"{st.solve_time_s:.1f}", "-", "-", "-", "-", "-"])
    return _table(["condition", "status", "iterations", "time (s)", "cost", "mean crank power (W)",
                   "energy-balance residual", "successful/total starts", "starts within 0.5 % of best cost"], body)


def _moment_table(res) -> list[str]:
    keys = ACTION_KEYS
    body = []
    for k, m in res.metrics.items():
        cells = [k]
        for a in keys:
            v, ang = m.get(f"peak_{a}_moment_Nm"), m.get(f"peak_{a}_moment_angle_deg")
            cells.append(f"{_fmt(v)} @ {_fmt(ang)}" if ang is not None else _fmt(v))
        body.append(cells)
    return _table(["condition"] + [f"{a} (N m @ deg)" for a in keys], body)


def _work_table(res) -> list[str]:
    from .conditions import work_tables

    body = []
    for k, s in res.solutions.items():
        if not s.success:
            continue
        w = work_tables(s)
        body.append([k] + [f"{w['positive'][j]:.1f} / {w['negative'][j]:.1f}" for j in JOINTS]
                    + [f"{w['action'][a]:.1f} / {w['action_negative'][a]:.1f}" for a in ACTION_KEYS]
                    + [f"{w['crank']:.1f}"])
    return _table(["condition"] + [f"{j} + / - (J)" for j in JOINTS] + [f"{a} + / - (J)" for a in ACTION_KEYS]
                  + ["crank work (J)"], body)


def _share_table(res) -> list[str]:
    body = []
    for k, s in res.solutions.items():
        if not s.success:
            continue
        m = res.metrics[k]
        sp = multistart_spread(s)
        body.append([k] + [f"{m[f'share_{j}_pct']:.1f} +- {sp.get(j, 0.0) / 2:.1f}" for j in JOINTS]
                    + [f"{m[f'net_share_{j}_pct']:.1f}" for j in JOINTS])
    return _table(["condition"] + [f"{j} share % (+- half spread)" for j in JOINTS]
                  + [f"{j} net-work share %" for j in JOINTS], body)


def _fibre_table(res) -> list[str]:
    body = []
    for k, m in res.metrics.items():
        body.append([k] + [f"{m[f'{mu}_fibre_length_min_norm']:.2f}-{m[f'{mu}_fibre_length_max_norm']:.2f}"
                           for mu in MUSCLE_NAMES])
    return _table(["condition"] + list(MUSCLE_NAMES), body)


def write_page(res, out: Path, setup, changes=None) -> list[Path]:
    """Write out/README.md and out/figures/*.png; returns the written paths."""
    from ..io.provenance import git_commit, package_version, utc_now
    from ..ocp.problem import ProblemSpec

    figdir = out / "figures"
    figs = make_figures(res, figdir)
    c = res.counts()
    cost = ProblemSpec().cost
    lines = [
        "# Model check: the default model beside published pedaling data",
        "",
        f"Generated by `python -m toolkit check-model --nodes {res.nodes} --multistart {res.multistart}` on "
        f"{utc_now()} (toolkit {package_version()}, commit {git_commit() or 'unknown'}).",
        "",
        f"Model: default rider ({setup.rider.height_m:g} m, {setup.rider.mass_kg:g} kg), default fit (saddle "
        f"{setup.saddle_height_m:.3f} m), force set `{setup.rider.max_force_set}`, cost `{cost.kind}` exponent "
        f"{cost.exponent}{' volume-weighted' if cost.volume_weighted else ''}, rigid tendon, isokinetic crank.",
        "",
        "How to read this page: every row compares one model number with one cited reference number or range, using",
        "a criterion written into `toolkit/check/data/reference_values.csv` before the model was compared with it.",
        "Verdicts: **agrees** (criterion met), **does not**, **no data** (no verified reference number, or the",
        "condition did not solve). The model value is the best-cost solution; `spread` is max - min of the value",
        "over all starts whose cost is within 0.5 % of the best (optima are not unique). Nothing in the model was",
        "tuned to these numbers. Conditions of the sources differ from the model's (columns `source condition` in",
        "`model_check.csv`); the Park et al. (2022) rows use a model solved at that data set's own low cadence and power.",
        "",
        f"**Summary: {c[AGREES]} agree, {c[DOES_NOT]} do not, {c[NO_DATA]} no data** (all rows: `model_check.csv`).",
        "",
        "## Solves",
        "",
        *_status_table(res),
        "",
    ]
    for title, tag, patterns, fig_names in SECTIONS:
        lines += [f"## {title}", ""]
        for f in fig_names:
            if (figdir / f).exists():
                lines += [f"![{tag}](figures/{f})", ""]
        if tag == "moments":
            lines += ["Peak net joint moments (magnitude) and their crank angles, one leg:", "", *_moment_table(res), ""]
        if tag == "fibre":
            lines += ["Range of l / l_opt over the cycle:", "", *_fibre_table(res), ""]
        if tag == "work":
            lines += ["Positive / negative work per joint and per action (action = sign of the net moment), J per "
                      "cycle, one leg:", "",
                      *_work_table(res), ""]
        if tag == "shares":
            lines += ["Shares of total positive joint work (and net-work shares), with half the multi-start spread:",
                      "", *_share_table(res), ""]
        if tag == "kinematics":
            lines += ["The toolkit's sole frame is the calcaneus axis of the Park et al. model foot. Park et al. "
                      "compare their model foot line with the measured pedal angle + 13 deg; the sole-angle rows use "
                      "that mapping (the raw pedal angle is dotted in the figure). The definition of the sole angle as "
                      "'shoe sole vs horizontal' (DESIGN) and this calcaneus axis differ by that offset.", ""]
        sel = _section_rows(res.rows, patterns)
        if sel:
            lines += _rows_table(sel) + [""]
    if getattr(res, "diagnostics", None) is not None:
        from .diagnostics import diagnostics_lines

        lines += diagnostics_lines(res.diagnostics)
    lines += ["## Model changes", ""]
    lines += (["Named model variants solved with the same mesh and starts: [model_changes.md](model_changes.md).", ""]
              if changes is not None else ["Not run (`--no-variants`).", ""])
    lines += ["## Sources", ""]
    seen = {}
    for r in res.rows:
        seen.setdefault(r["citation_key"], r["citation"])
    lines += [f"- `{k}`: {v}" for k, v in sorted(seen.items())]
    lines += ["", "Reference data: `toolkit/check/data/reference_values.csv`, `toolkit/check/data/park2022_pedal.csv` "
              "(GPL-3.0 data of Park, Caldwell & Umberger 2022, extracted by `scripts/extract_park2022.py`), "
              "`toolkit/analysis/data/emg_on_ranges.csv`.", ""]
    page = out / "README.md"
    page.write_text("\n".join(lines), encoding="utf-8")
    return [page, *figs]
