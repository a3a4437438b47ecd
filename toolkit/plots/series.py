"""A building block for "quantity vs a swept variable" figures: panels of lines and markers, an optional shaded
x-range per panel. The study pages draw their sweeps with it (knee power vs intensity, hip vs knee power vs work
rate, joint-action shares vs power), so they share one look."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from matplotlib.figure import Figure

__all__ = ["Line", "Panel", "series_figure"]


@dataclass(frozen=True)
class Line:
    """One series. style: a matplotlib format ("-o", "--s", "s" for markers only); open: hollow markers."""

    label: str
    x: Sequence[float]
    y: Sequence[float]
    style: str = "-o"
    color: str | None = None
    open: bool = False
    size: float = 5.0
    width: float | None = None
    alpha: float | None = None


@dataclass(frozen=True)
class Panel:
    """One axes: its lines, labels, an optional title and an optional shaded x-range (lo, hi)."""

    lines: Sequence[Line]
    xlabel: str
    ylabel: str
    title: str = ""
    band: tuple[float, float] | None = None
    legend: bool = True
    xlim: tuple[float, float] | None = None
    zero_lines: bool = False
    xticks: tuple[Sequence[float], Sequence[str]] | None = None
    invert_x: bool = False
    # points marked on the x axis, never plotted as values (e.g. infeasible points): (x, height as a fraction of
    # the axes, marker style, colour)
    axis_marks: Sequence[tuple[float, float, str, str]] = ()
    legend_size: str | float = "x-small"


def series_figure(panels: Sequence[Panel], title: str = "", size: tuple[float, float] | None = None) -> Figure:
    """One row of panels. Lines without points are skipped (a series that was not solved is not drawn)."""
    fig = Figure(figsize=size or (6.0 * len(panels), 4.4), layout="constrained")
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, p in zip(axes, panels):
        if p.band is not None:
            ax.axvspan(*p.band, color="0.93", zorder=0)
        for ln in p.lines:
            if not len(ln.x):
                continue
            kw = {"ms": ln.size, "label": ln.label}
            if ln.color is not None:
                kw["color"] = ln.color
            if ln.open:
                kw["mfc"] = "none"
            if ln.width is not None:
                kw["lw"] = ln.width
            if ln.alpha is not None:
                kw["alpha"] = ln.alpha
            ax.plot(list(ln.x), list(ln.y), ln.style, **kw)
        for x, h, style, color in p.axis_marks:
            ax.plot([x], [h], style, color=color, ms=7, transform=ax.get_xaxis_transform(), clip_on=False)
        if p.zero_lines:
            ax.axhline(0, color="0.5", lw=0.8)
            ax.axvline(0, color="0.5", lw=0.8)
        if p.xlim is not None:
            ax.set_xlim(*p.xlim)
        if p.xticks is not None:
            ax.set_xticks(list(p.xticks[0]), list(p.xticks[1]), fontsize="x-small")
        if p.invert_x:
            ax.invert_xaxis()
        ax.set_xlabel(p.xlabel, fontsize="x-small" if p.xticks is not None else None)
        ax.set_ylabel(p.ylabel)
        if p.title:
            ax.set_title(p.title, fontsize="small")
        ax.grid(True, alpha=0.3)
        if p.legend and any(len(ln.x) and ln.label and not ln.label.startswith("_") for ln in p.lines):
            ax.legend(fontsize=p.legend_size)
    if title:
        fig.suptitle(title, fontsize="small" if "\n" in title or len(title) > 100 else None)
    return fig
