"""The one table of NLP variable bounds (shared by the ankle conditions and the transcription)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Bounds:
    """Box bounds of the NLP variables (order-one scaled, see transcription.py), the same for every condition
    (a condition narrows the sole angle through `sole_upper_bound`). Generous: they keep IPOPT out of meaningless
    regions (a sole pointing up, a stalled or runaway crank) rather than model a limit."""

    sole_angle_deg: tuple[float, float] = (-60.0, 80.0)   # sole angle to the horizontal, toe-down +
    sole_rate: tuple[float, float] = (-5.0, 5.0)           # d(phi)/d(theta), rad per rad of crank
    sole_accel: tuple[float, float] = (-50.0, 50.0)        # d2(phi)/d(theta)2 (the sole control)
    activation: tuple[float, float] = (0.01, 1.0)          # the lower end is ProblemSpec.activation_floor's default
    tendon_force: tuple[float, float] = (0.0, 3.0)         # normalized tendon force (compliant tendon)
    tendon_force_rate: tuple[float, float] = (-50.0, 50.0)  # its scaled rate control (x DFT_SCALE)
    crank_speed_sq: tuple[float, float] = (0.25, 4.0)      # (omega / mean omega)^2: half to twice the mean speed
    crank_accel: tuple[float, float] = (-10.0, 10.0)       # crank acceleration / mean omega^2 (inertial load)
    ankle_range_deg: tuple[float, float] = (-40.0, 30.0)   # anatomical range a device's range is clipped to

    @property
    def sole_angle_rad(self) -> tuple[float, float]:
        return float(np.radians(self.sole_angle_deg[0])), float(np.radians(self.sole_angle_deg[1]))


BOUNDS = Bounds()
