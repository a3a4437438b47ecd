"""The ankle-constraint study's page: the point table, the verdict, claim D in context, notes and the sweep figures,
from the stored files only (the quantities are toolkit.study.metrics.ankle_constraint)."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence

from ...analysis.power import cycle_summary
from ...model.leg import JOINTS
from .. import comparison as C
from ..base import Evaluation, Record, StudyData, _f, _save
from ..metrics.ankle_constraint import (
    SWEEPS,
    curve,
    direction_table,
    exceptions,
    main_experiment,
    mesh_experiment,
    metrics_of,
    not_passive,
    point_at,
    point_name,
    powers,
    tolerance,
    values,
)


def _spread(data: StudyData, r: Record) -> str:
    s = data.extras.get("multistart", {}).get(f"{r.experiment}/{r.key}")
    if not s:
        return "1 start"
    return f"{max(s['spread_pp'].values()):.2f} pp ({s['near_best']}/{s['starts']})"


def _verdict(data: StudyData, tally: dict, exc: dict) -> str:
    sign_pp, sign_pct, dev = (tolerance(data, k) for k in ("sign_pp", "sign_pct", "device_Nm"))

    def word(k):
        a, n = tally[k]
        return "at every constraining point" if n and a == n else (f"at {a} of {n} constraining points" if n else "-")
    h, k = tally["hip_share_up"], tally["knee_share_down"]
    text = (f"The hip share rises {word('hip_share_up')}, the knee share falls {word('knee_share_down')}; hip "
            f"power (mean positive, W) rises {word('hip_power_up')}, knee power falls {word('knee_power_down')}; "
            f"the hip-to-knee power ratio rises {word('ratio_up')} "
            f"(changes vs the free ankle at the same power beyond {sign_pp:g} pp / {sign_pct:g} %; points "
            f"whose device exerts no more than {dev:g} N m at any node, i.e. that do not constrain the ankle, "
            "are not counted). "
            + (f"The hip share does not rise at: {'; '.join(exc['hip_not_up'])}. " if exc["hip_not_up"] else "")
            + (f"The knee share falls at: {'; '.join(exc['knee_down'])}. " if exc["knee_down"] else ""))
    hip_all, knee_all = h[1] > 0 and h[0] == h[1], k[1] > 0 and k[0] == k[1]
    text += ("**Verdict:** in the model, 'constraining the ankle favors the hip and disfavors the knee' "
             + ("holds along the whole curve, at both work rates and for both constraint kinds." if hip_all and knee_all
                else "does not hold along the whole curve. Its first half (the hip's share rises) holds "
                + ("everywhere" if hip_all else f"at {h[0]} of {h[1]} points") + "; its second half (the knee's share "
                "falls) holds " + ("everywhere" if knee_all else f"at {k[0]} of {k[1]} points")
                + ": the ankle's lost work goes to the hip and, at most points, to the knee as well (knee power "
                f"falls at only {tally['knee_power_down'][0]} of {tally['knee_power_down'][1]} points)."))
    flagged = {e.split(" (")[0] for e in exc["overridden"] + exc["not_passive"]}
    if exc["hip_not_up"] and all(n in flagged for n in exc["hip_not_up"]):
        text += (f" The hip's exception{'s' if len(exc['hip_not_up']) > 1 else ''} ({'; '.join(exc['hip_not_up'])}) "
                 f"{'are' if len(exc['hip_not_up']) > 1 else 'is'} where the stops yield or do net work on the mesh "
                 "(see the notes): a range the leg can barely reach, held by the stops rather than the muscles.")
    return text


def _claim_d_context(data: StudyData) -> list[str]:
    ctx = data.study.param("context_study")
    L = ["## Claim D (recumbent, ankle immobilized) in context", "",
         f"Claim D has its own study: [../{ctx}/comparison.md](../{ctx}/comparison.md) (solved there, not "
         "here). What this curve adds: how much of a fixed-ankle hip/knee power ratio is due to the immobilized "
         "ankle. Along this study's curves (upright default fit, 90 rpm) the ratio of mean positive hip to knee "
         "power goes from free to fixed as:", ""]
    for pw in powers(data):
        free, fixed = point_at(data, pw, "free"), point_at(data, pw, "fixed")
        if free is None or fixed is None:
            continue
        a = metrics_of(free)["hip_power_W"] / metrics_of(free)["knee_power_W"]
        b = metrics_of(fixed)["hip_power_W"] / metrics_of(fixed)["knee_power_W"]
        L.append(f"- {pw:g} W: {a:.2f} (free) -> {b:.2f} (fixed), change {b - a:+.2f}.")
    from ..registry import studies

    other = studies().get(ctx)
    files = [Path(data.out) / ctx / f"{Path(v.file).stem}.h5" for v in other.variants] if other and data.out else []
    files = [f for f in files if f.exists()]
    pub = next((p for p in (other.published if other else ()) if p.numeric is not None), None)
    if files:
        from ...io.hdf5 import read_points

        L.append("")
        L.append(f"The {ctx} study's stored fixed-ankle points (hip/knee mean positive power ratio):")
        L.append("")
        stored = {k: sp for f in files for k, sp in read_points(f).items()}
        for key, sp in sorted(stored.items(), key=lambda kv: (kv[1].labels.get("fit", ""),
                                                              float(kv[1].labels.get("power_W", 0)))):
            cs = cycle_summary(sp.solution)
            ratio = cs.positive_work_J["hip"] / cs.positive_work_J["knee"]
            L.append(f"- fit {sp.labels.get('fit')}, {float(sp.labels.get('power_W')):g} W, "
                     f"{float(sp.labels.get('cadence_rpm')):g} rpm: {ratio:.2f}")
        L.append("")
        ch = [metrics_of(fx)["hip_power_W"] / metrics_of(fx)["knee_power_W"]
              - metrics_of(fr)["hip_power_W"] / metrics_of(fr)["knee_power_W"]
              for fr, fx in ((point_at(data, pw, "free"), point_at(data, pw, "fixed")) for pw in powers(data))
              if fr is not None and fx is not None]
        if ch:
            crit = C.parse_criterion(pub.criterion) if pub is not None else None
            band = f" ({crit.args[0]:g}-{crit.args[1]:g})" if crit is not None and crit.kind == "ratio" else ""
            L.append((f"The published value is about {pub.numeric:g}{band}. " if pub is not None else "")
                     + "In this model, immobilizing the ankle "
                     + ("raises" if min(ch) > 0 else "lowers" if max(ch) < 0 else "moves")
                     + f" the hip/knee ratio ({min(ch):+.2f} to {max(ch):+.2f} on the upright fit at "
                     f"{', '.join(f'{p:g}' for p in powers(data))} W): the immobilized ankle itself pushes a "
                     "fixed-ankle ratio " + ("up" if min(ch) > 0 else "down" if max(ch) < 0 else "either way")
                     + ", so a fixed-ankle ratio above 1 is partly the fixation's doing. Whether the same shift "
                     f"holds on the {ctx} geometry is not established (not solved here); the claim's "
                     f"verdict is read on the {ctx} page, not here.")
    else:
        L.append("")
        L.append(f"(The {ctx} study's file is not in this output directory; run `python -m toolkit reproduce "
                 f"{ctx}`.)")
    L.append("")
    return L


def _row(data: StudyData, pw: float, cond: str, x: str, r: Record | None, fail) -> list[str]:
    if r is None:
        msg = f"**{fail.status}**: {fail.message}" if fail is not None else "not solved"
        return [f"{pw:g} W", cond, x, msg] + [""] * (9 + 2 * len(data.study.param("muscles")))
    mus = data.study.param("muscles")
    m = metrics_of(r, mus)
    spec = r.sol.spec
    rng = (f"{spec.ankle_range_deg[0]:.1f} to {spec.ankle_range_deg[1]:.1f}" if spec.condition == "range_limited"
           else "-")
    return [f"{pw:g} W", cond, x, rng,
            " / ".join(_f(m[f"{j}_share_pct"]) for j in JOINTS),
            " / ".join(_f(m[f"{j}_power_W"], ".0f") for j in JOINTS),
            *[x for mu in mus for x in (_f(m[f"{mu}_activation_integral_s"], ".4f"),
                                        _f(m[f"{mu}_fibre_work_J"], ".1f"))],
            " / ".join(_f(m[f"{j}_excursion_deg"]) for j in JOINTS),
            _f(m["ankle_mean_deg"]), f"{m['device_positive_J']:.2f} / {m['device_negative_J']:.2f} / {m['device_net_J']:+.2f}",
            _f(m["device_peak_moment_Nm"], ".0f"),
            _f(m["cost"], ".5g"), _spread(data, r), r.sol.stats.status]


def evaluate(data: StudyData) -> Evaluation:
    """The Japanese 250 W rows from the fixed end and the stiffest brace, the direction table over both sweeps,
    the exceptions, claim D in context, and the point table."""
    MAIN, MESH = main_experiment(data), mesh_experiment(data)
    nodes = {e.name: e.solver.nodes for e in data.experiments}
    over, passive, jje_W = tolerance(data, "override_deg"), tolerance(data, "passive_fraction"), float(data.study.param("jje_power_W"))
    vals = values(data)
    mus = [x for m in data.study.param("muscles") for x in (f"{m} act. integral (s)", f"{m} fibre work (J)")]
    head = ["power", "condition", "x", "ankle range (deg)", "shares hip/knee/ankle (%)", "power hip/knee/ankle (W)",
            *mus, "excursion hip/knee/ankle (deg)", "mean ankle (deg)", "device work +/-/net (J)", "device peak moment (N m)",
            "cost",
            "spread over starts (max share, near-best/starts)", "status"]
    rows = []
    for pw in powers(data):
        for lab in ("free",):
            r = point_at(data, pw, lab)
            rows.append(_row(data, pw, "free", "-", r, None))
        for kind in SWEEPS:
            for x, r, fl in curve(data, kind, pw):
                rows.append(_row(data, pw, kind, f"{x:g}", r, fl))
        rows.append(_row(data, pw, "fixed", "-", point_at(data, pw, "fixed"),
                         next(iter(data.failed(MAIN, power_W=pw, condition_label="fixed")), None)))
    for pw in powers(data):
        lab = f"SENSITIVITY {nodes.get(MESH, '?')} nodes: "
        for c in ("free",):
            if point_at(data, pw, c, MESH) is not None:
                rows.append(_row(data, pw, lab + c, "-", point_at(data, pw, c, MESH), None))
        for x, r, fl in curve(data, "range_limited", pw, MESH):
            rows.append(_row(data, pw, lab + "range_limited", f"{x:g}", r, fl))
        if point_at(data, pw, "fixed", MESH) is not None:
            rows.append(_row(data, pw, lab + "fixed", "-", point_at(data, pw, "fixed", MESH), None))
    dh, drows, tally = direction_table(data)
    exc = exceptions(data)
    infeasible = [f for f in data.failures if f.status == "Infeasible_Request" and f.experiment == MAIN]
    ref = next((r for r in data.find(MAIN)), None)
    stop = f"{ref.sol.spec.ankle_stop_stiffness_Nm_per_rad:g}" if ref is not None else "?"
    bdc = ref.sol.setup["fit"].get("ankle_at_bdc_deg") if ref is not None else None
    cad = f"{ref.sol.spec.cadence_rpm:g} rpm" if ref is not None else "the experiment file's cadence"
    notes = [
        "Range-limited points: the range is a width centred on the free ankle's mean angle at the same power "
        f"(orthosis stops of {stop} N m/rad outside it). Braced points: spring about the fixed condition's angle ("
        "the experiment file's brace_neutral_deg = fixed_ankle_deg), no damping. x in the table: width (deg) or stiffness (N m/rad).",
        f"Infeasible points ({len(infeasible)}): reported with the feasibility message, never as results"
        + (": " + "; ".join(f"{f.labels.get('condition_label')} at {float(f.labels.get('power_W')):g} W" for f in
                            infeasible) if infeasible else "") + ". " + ((
            "A zero or very narrow range around the free mean (" + ", ".join(
                f"{metrics_of(r)['ankle_mean_deg']:.1f} deg at {pw:g} W" for pw in powers(data)
                for r in (point_at(data, pw, "free"),) if r is not None)
            + ") may not reach the bottom of the cycle with the default fit (its saddle height assumes the ankle at "
            f"{bdc if bdc is not None else '?'} deg at BDC); where it does not, the range chain ends at its narrowest feasible width, not at "
            "`fixed`; the brace chain meets `fixed`.") if infeasible else ""),
        "Chains are solved free -> fixed, each point warm-started from its neighbour; the first, middle and last "
        "point of each chain, free and fixed also from cold starts (stiff devices reached by continuation in the "
        "stiffness from each start). The spread column is the largest max - min of a share over the starts within "
        "0.5 % of the best cost (extras.json has every joint and the GMAX work spread).",
        ("Range-limited points where the stops yield (the ankle leaves the range by more than "
         f"{over:g} deg; the range is then at the edge of what the leg can reach, and the stop moment, not "
         "the muscles, holds the leg on the pedal): " + ("; ".join(exc["overridden"]) if exc["overridden"] else "none")
         + ". They are results of the model as posed (1e5 N m/rad stops), reported and counted, but an orthosis "
         "would not be set there."),
        (f"Stops that are not passive on the mesh (net device work above {100 * passive:g} % of the positive "
         f"joint work; a stop or spring cannot do net work, a {stop} N m/rad stop on the {nodes.get(MAIN, '?')}-node "
         "mesh can, see the mesh SENSITIVITY below): "
         + ("; ".join(exc["not_passive"]) if exc["not_passive"] else "none") + ". Read the range-limited curve "
         "with that in mind; the brace (a soft spring) is passive within the tolerance at every point."),
        "Device work: `external_moment_work`, J per cycle, one leg (positive / negative / net); a spring or a stop "
        "stores and returns energy, so its net work is ~0; the fixed ankle's orthosis does no work (the ankle "
        "does not move).",
        f"Japanese {jje_W:g} W study: its cadence, fixed angle and subjects are not given in "
        f"shared/reference/studies.md; the model uses {cad} and the fixed angle of the experiment file. The study's changes were not significant; the rows compare the "
        "direction (criteria fixed in study.toml before comparing, margin 1 %).",
    ]
    fr, fx = point_at(data, jje_W, "free"), point_at(data, jje_W, "fixed")
    if fr is not None and fx is not None:
        hp = C.relative_change_pct(metrics_of(fr)["hip_power_W"], metrics_of(fx)["hip_power_W"])
        notes.append(f"Magnitude (Japanese study): the model's hip power changes by {hp:+.0f} % from free to fixed at "
                     f"{jje_W:g} W, where the study saw a slight, non-significant rise; the row compares the "
                     "direction only, as fixed in study.toml, and the magnitude is shown here rather than judged.")
    mesh = [r for pw in powers(data) for _, r, _ in curve(data, "range_limited", pw, MESH) if r is not None]
    if mesh:
        worst = max(mesh, key=lambda r: abs(metrics_of(r)["device_net_J"]) / r.summary.total_positive_joint_work_J)
        pairs = [(r, point_at(data, float(r.labels["power_W"]), r.labels["condition_label"])) for r in mesh]
        pairs = [(a, b) for a, b in pairs if b is not None]
        flagged = [(a, b) for a, b in pairs if not_passive(a, passive) or not_passive(b, passive)]
        same = "; ".join(f"{point_name(a)}: {metrics_of(b)['device_net_J']:+.2f} J at {nodes.get(MAIN, '?')} nodes, "
                         f"{metrics_of(a)['device_net_J']:+.2f} J at {nodes.get(MESH, '?')}" for a, b in flagged)
        notes.append(f"SENSITIVITY ({nodes.get(MESH, '?')} nodes, `{MESH}.toml`, one cold start plus the chain's warm "
                     f"starts): of the {len(pairs)} points solved on both meshes, "
                     + (f"those not passive on at least one mesh (net stop work per cycle): {same}. " if flagged else
                        "none is non-passive on either mesh. ")
                     + f"The largest net stop work at {nodes.get(MESH, '?')} nodes is {metrics_of(worst)['device_net_J']:+.2f} J per cycle "
                     f"({100 * metrics_of(worst)['device_net_J'] / worst.summary.total_positive_joint_work_J:.1f} % of "
                     f"the positive joint work, {point_name(worst)}); its rows are in the direction table and the model "
                     "points, not in the verdict's counts.")
    for pw in powers(data):
        fr, fx = point_at(data, pw, "free"), point_at(data, pw, "fixed")
        if fr is not None and fx is not None and fx.sol.stats.objective < fr.sol.stats.objective:
            notes.append(f"At {pw:g} W the fixed ankle's cost ({fx.sol.stats.objective:.4g}) is below the free ankle's "
                         f"({fr.sol.stats.objective:.4g}): the orthosis carries the ankle moment (peak "
                         f"{metrics_of(fx)['device_peak_moment_Nm']:.0f} N m), which the free ankle's muscles must "
                         "produce; immobilizing is not a pure restriction of the free problem.")
    extra = ["## Does constraining the ankle favor the hip and disfavor the knee?", "",
             "Changes vs the free ankle at the same work rate, over every point that constrains the ankle (both "
             "sweeps, `fixed` included in each).", "", _md(dh, drows), _verdict(data, tally, exc), "",
             "Figures: [range_sweep.png](range_sweep.png) (x = range width), [brace_sweep.png](brace_sweep.png) "
             "(x = log stiffness); `free` and `fixed` are drawn as the end points on the same axes.", ""]
    extra += _claim_d_context(data)
    return Evaluation(vals, head, rows, notes, "\n".join(extra) + "\n")


def _md(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    if not rows:
        return "(none)\n"
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out) + "\n"


def _panels(muscles: Sequence[str]) -> tuple:
    return (("joint shares (% of positive joint work)", [(f"{j}_share_pct", j) for j in JOINTS]),
            ("activation integral (s)", [(f"{m}_activation_integral_s", m) for m in muscles]),
            ("fibre positive work (J, one leg)", [(f"{m}_fibre_work_J", m) for m in muscles]),
            ("joint-angle excursion (deg)", [(f"{j}_excursion_deg", j) for j in JOINTS]),
            ("device work (J per cycle, one leg)", [("device_positive_J", "positive"), ("device_negative_J",
                                                                                         "negative")]))


def _xpos(kind: str, x: float) -> float:
    if kind == "range_limited":
        return x
    return math.log10(x) if x > 0 else 0.0


def _axis(data: StudyData, kind: str) -> tuple[float, float, list[float], list[str]]:
    """x positions of the free and fixed end points and the ticks, from the sweep values stored (widths in deg;
    stiffnesses on a log scale with 0 at 1)."""
    xs = sorted({x for pw in powers(data) for x, _, _ in curve(data, kind, pw)} or {0.0})
    pos = sorted({_xpos(kind, x) for x in xs})
    if kind == "range_limited":
        shown: list[float] = []
        for x in pos:  # every stored width, leaving out one that would overlap its neighbour
            if not shown or x - shown[-1] >= 4.0:
                shown.append(x)
        xf, xx = pos[-1] + 12.0, pos[0] - 8.0
        return xf, xx, [xx, *shown, xf], ["fixed", *(f"{x:g}" for x in shown), "free"]
    decades = list(range(math.floor(pos[0]), math.ceil(pos[-1]) + 1))
    xf, xx = decades[0] - 0.8, decades[-1] + 0.8
    names = {0: "0", 1: "10", 2: "100"}
    return xf, xx, [xf, *decades, xx], ["free", *(names.get(k, f"1e{k}") for k in decades), "fixed"]


def sweep_figure(data: StudyData, kind: str):
    """One panel per metric against the constraint, free and fixed as end points, both work rates; infeasible
    points marked on the axis; the range chain's mesh SENSITIVITY faint."""
    from ...plots.series import Line, Panel, series_figure

    xf, xx, ticks, tick_labels = _axis(data, kind)
    mesh_nodes = next((e.solver.nodes for e in data.experiments if e.name == mesh_experiment(data)), "?")
    panels = []
    for title, series in _panels(data.study.param("muscles")):
        lines, marks = [], []
        for pi, (pw, ls) in enumerate(zip(powers(data), ("-", "--", ":"))):
            pts = curve(data, kind, pw)
            free, fixed = point_at(data, pw, "free"), point_at(data, pw, "fixed")
            for si, (key, name) in enumerate(series):
                c = f"C{si}"
                ok = [(x, r) for x, r, _ in pts if r is not None]
                lines.append(Line(f"{name}, {pw:g} W", [_xpos(kind, x) for x, _ in ok],
                                  [metrics_of(r)[key] for _, r in ok], ls + "o", c, size=3))
                for end, xe, mk in ((free, xf, "s"), (fixed, xx, "D")):
                    if end is not None:
                        lines.append(Line("_end", [xe], [metrics_of(end)[key]], mk, c, open=bool(pi), size=6))
                if kind == "range_limited":
                    mp = [(x, r) for x, r, _ in curve(data, kind, pw, mesh_experiment(data)) if r is not None]
                    lines.append(Line(f"{name}, {pw:g} W, {mesh_nodes} nodes", [x for x, _ in mp],
                                      [metrics_of(r)[key] for _, r in mp], ls, c, width=0.8, alpha=0.45))
            # infeasible points: marked on the axis, never plotted as values
            marks += [(_xpos(kind, x), 0.03 + 0.05 * pi, "x", "tab:red") for x, r, _ in pts if r is None]
        label = data.study.param("sweep_labels")[kind] + ("" if kind == "range_limited" else ", log scale (0 at 1)")
        panels.append(Panel(lines, label, "", title, xticks=(ticks, tick_labels), invert_x=kind == "range_limited",
                            axis_marks=marks, legend_size=5))
    pws = powers(data)
    ref = next(iter(data.find(main_experiment(data))), None)
    cad = f", {ref.sol.spec.cadence_rpm:g} rpm" if ref is not None else ""
    styles = " and ".join(f"{st} {p:g} W" for st, p in zip(("solid/filled", "dashed/open", "dotted/open"), pws))
    rows_ = " and ".join(f"{w} {p:g} W" for w, p in zip(("lower", "upper", "top"), pws))
    return series_figure(panels, ("Range-limited ankle (stops around the free mean angle)" if kind == "range_limited"
                                  else "Braced ankle (spring about the fixed angle)") + f"{cad}: {styles}; "
                         f"squares: free, diamonds: fixed; red x near the axis: infeasible ({rows_})"
                         + (f"; faint: SENSITIVITY {mesh_nodes} nodes" if kind == "range_limited" else ""),
                         size=(15, 4.2))


def figures(data: StudyData, rows, sdir: Path) -> list[Path]:
    return [_save(sweep_figure(data, "range_limited"), sdir / "range_sweep.png"),
            _save(sweep_figure(data, "braced"), sdir / "brace_sweep.png")]
