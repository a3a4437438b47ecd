"""Published EMG on-ranges of the pedaling muscles (cited reference data for activation plots).

The ranges live in data/emg_on_ranges.csv with their source and the wording they were read from (column
`basis`: 'stated' numbers or a qualitative phase description 'read' as crank angles). Angles in deg, crank
angle 0 = TDC; an offset smaller than the onset wraps through TDC. ILIO and BFSH have no entry.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from importlib import resources

import numpy as np


@dataclass(frozen=True)
class EmgRange:
    model_muscle: str
    measured_muscle: str
    onset_deg: float
    offset_deg: float
    basis: str
    source: str
    wording: str

    def intervals(self) -> list[tuple[float, float]]:
        """The on-range as one or two non-wrapping intervals within 0..360 deg."""
        a, b = self.onset_deg % 360.0, self.offset_deg % 360.0
        if self.offset_deg == 360.0:
            b = 360.0
        if a < b:
            return [(a, b)]
        return [(a, 360.0), (0.0, b)] if b > 0 else [(a, 360.0)]

    def contains(self, crank_angle_deg) -> np.ndarray:
        x = np.mod(np.asarray(crank_angle_deg, dtype=float), 360.0)
        return np.any([(x >= lo) & (x <= hi) for lo, hi in self.intervals()], axis=0)


def load_emg_on_ranges() -> list[EmgRange]:
    """All rows of data/emg_on_ranges.csv (comment lines starting with '#' skipped)."""
    text = resources.files("toolkit.analysis.data").joinpath("emg_on_ranges.csv").read_text(encoding="utf-8")
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    out = []
    for r in csv.DictReader(io.StringIO("\n".join(lines))):
        out.append(EmgRange(r["model_muscle"], r["measured_muscle"], float(r["onset_deg"]), float(r["offset_deg"]),
                            r["basis"], r["source"], r["wording"]))
    return out


def ranges_by_muscle(ranges: list[EmgRange] | None = None) -> dict[str, list[EmgRange]]:
    """Ranges grouped by model muscle (a muscle may have several published ranges)."""
    out: dict[str, list[EmgRange]] = {}
    for r in ranges if ranges is not None else load_emg_on_ranges():
        out.setdefault(r.model_muscle, []).append(r)
    return out
