"""Rider anthropometry: segment lengths, masses, COM and inertia scaled from height and mass.

Table: de Leva (1996), data/anthropometry_deleva1996.csv. The foot's internal geometry (ankle to
cleat/MTP and ankle to COM) comes from the reference pedaling model, scaled uniformly.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .parameters import model_parameters, read_csv_rows
from .ranges import RIDER as RIDER_RANGES

SEXES = ("male", "female")
FORCE_SETS = ("complete_groups", "group_totals", "pedaling_model")
STRENGTH_SCALINGS = ("body_mass", "none")
ARCHITECTURES = ("lai2017", "pedaling_model")
PASSIVE_CURVES = ("uhlrich2022", "pedaling_model")
MUSCLE_CURVES = ("toolkit", "opensim")  # Hill-curve sets of toolkit.model.muscles


@dataclass(frozen=True)
class Rider:
    """A rider: body size and physiology used to scale the model and convert intensities.

    height_m, mass_kg: stature and body mass. sex selects the de Leva table.
    max_force_set: 'complete_groups' (default: every unit stands for its whole functional group, members
    summed by joint moment on the unit's path, GMAX including adductor magnus, SOL the other uniarticular
    plantarflexors, TA the other dorsiflexors; Rajagopal 2016 forces), 'group_totals' (the Rajagopal 2016 force
    sums of the members that share the unit's name, no adductor magnus or deep plantarflexors) or
    'pedaling_model' (the Park et al. 2022 forces, where VAS, GAS and HAMS carry one head only).
    strength_scaling: 'body_mass' (default: forces scale with body mass relative to the force set's reference
    subject, because muscle volume is proportional to mass x height, Handsfield et al. 2014, and force =
    stress x volume / fibre length with fibre length proportional to height) or 'none'.
    muscle_architecture: 'lai2017' (default: Lai et al. 2017 optimal fibre and tendon slack lengths, as in
    RajagopalLaiUhlrich2023) or 'pedaling_model' (Park et al. 2022 values).
    passive_curves: 'uhlrich2022' (default: passive fibre strains calibrated to measured passive joint moments by
    Uhlrich et al. 2022) or 'pedaling_model' (Park et al. 2022 / Lai et al. 2017 strains).
    muscle_curves: 'toolkit' (default: the toolkit's De Groote et al. 2016 curves, passive fibre force ~0 below
    optimal length) or 'opensim' (exactly OpenSim 4.6's DeGrooteFregly2016Muscle active force-length,
    force-velocity and passive force-length curves, as the .osim export writes them: for cross-checks with
    OpenSim/Moco on identical curves; docs/opensim.md).
    strength_scale multiplies every max isometric force.
    passive_strain_scale multiplies every muscle's passive strain e0 (larger = slacker passive fibres).
    The physiology fields vo2max_L_min, gross_efficiency, lactate_threshold_pct_vo2max and map_W are only used
    to convert intensity levels. type1_pct_vastus_lateralis (measured % type I fibres of vastus lateralis, e.g.
    Coyle et al. 1988) shifts every unit's slow-twitch fraction for the energetics models (None: the per-muscle
    table's composition; toolkit.model.energetics.rider_slow_twitch_fractions, docs/energetics.md). The default
    56.8 % is the 'reference' rider profile's (a trained cyclist between Coyle et al.'s low- and high-LT groups),
    so Rider() and the reference profile are the same rider.
    """

    name: str = "default"
    height_m: float = 1.75
    mass_kg: float = 70.0
    sex: str = "male"
    max_force_set: str = "complete_groups"
    strength_scaling: str = "body_mass"
    muscle_architecture: str = "lai2017"
    passive_curves: str = "uhlrich2022"
    muscle_curves: str = "toolkit"
    strength_scale: float = 1.0
    passive_strain_scale: float = 1.0
    muscle_force_scale: dict[str, float] = field(default_factory=dict)
    vo2max_L_min: float = 4.8
    gross_efficiency: float = 0.21
    lactate_threshold_pct_vo2max: float = 75.0
    map_W: float | None = None
    type1_pct_vastus_lateralis: float | None = 56.8

    def __post_init__(self) -> None:
        if self.sex not in SEXES:
            raise ValueError(f"rider.sex: {self.sex!r} (allowed: {', '.join(SEXES)})")
        for key in ("height_m", "mass_kg"):
            RIDER_RANGES[key].check(f"rider.{key}", getattr(self, key))
        for key, allowed in (("max_force_set", FORCE_SETS), ("strength_scaling", STRENGTH_SCALINGS),
                             ("muscle_architecture", ARCHITECTURES), ("passive_curves", PASSIVE_CURVES),
                             ("muscle_curves", MUSCLE_CURVES)):
            if getattr(self, key) not in allowed:
                raise ValueError(f"rider.{key}: {getattr(self, key)!r} (allowed: {', '.join(allowed)})")
        RIDER_RANGES["type1_pct_vastus_lateralis"].check("rider.type1_pct_vastus_lateralis",
                                                          self.type1_pct_vastus_lateralis)


@dataclass(frozen=True)
class Segment:
    """A rigid segment: length (m), mass (kg), COM distance from the proximal joint (m), Izz about COM (kg m^2)."""

    length: float
    mass: float
    com: float
    inertia: float


@dataclass(frozen=True)
class LegSegments:
    """Thigh, shank and foot of one leg, plus the foot's internal vectors (sole frame, m) and the
    uniform geometry scale relative to the reference model."""

    thigh: Segment
    shank: Segment
    foot_mass: float
    foot_inertia: float
    ankle_to_mtp: tuple[float, float]  # ankle -> pedal spindle (MTP centre plus shoe/pedal stack), sole frame
    ankle_to_com: tuple[float, float]
    geometry_scale: float


def leg_segments(rider: Rider) -> LegSegments:
    """Scale de Leva's table to the rider. The shank length (knee centre to lateral malleolus) is used
    as knee-to-ankle length; the foot's vectors and the muscle paths scale with thigh length."""
    rows = {r["segment"]: r for r in read_csv_rows("anthropometry_deleva1996.csv") if r["sex"] == rider.sex}
    segs = {}
    for name in ("thigh", "shank", "foot"):
        r = rows[name]
        length = float(r["length_frac"]) * rider.height_m
        mass = float(r["mass_frac"]) * rider.mass_kg
        rg = float(r["rg_sag_frac"]) * length
        segs[name] = Segment(length, mass, float(r["com_frac"]) * length, mass * rg * rg)
    ref = model_parameters()["reference_model"]
    foot = model_parameters()["foot"]
    s = segs["thigh"].length / ref["femur_length_m"]
    return LegSegments(
        thigh=segs["thigh"],
        shank=segs["shank"],
        foot_mass=segs["foot"].mass,
        foot_inertia=segs["foot"].inertia,
        ankle_to_mtp=(s * foot["ankle_to_mtp_x_m"], s * foot["ankle_to_mtp_y_m"] - foot["mtp_to_spindle_m"]),
        ankle_to_com=(s * foot["ankle_to_com_x_m"], s * foot["ankle_to_com_y_m"]),
        geometry_scale=s,
    )
