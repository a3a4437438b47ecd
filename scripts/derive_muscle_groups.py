"""Derive two muscle-parameter columns of toolkit/model/data/muscles.csv from public OpenSim models.

1. Complete functional groups (`complete_group_max_isometric_force_N`): each lumped unit stands for its whole
   group (classic pedaling-model grouping: GMAX = gluteus maximus + adductor magnus, SOL = soleus + the other
   uniarticular plantarflexors, TA = tibialis anterior + the other dorsiflexors, ...). Members act through
   different moment arms, so the group is represented by the force that gives the group's summed joint moment
   on the unit's own path: F_group = sum_i F_i * mean(max(r_i, 0)) / mean(r_unit) over the pedaling range of
   the joint (other joints at a mid-pedaling pose), moment arms and forces from Rajagopal2016.osim.
2. Fibre and tendon lengths and passive strain (`lai_*` columns): the RajagopalLaiUhlrich2023.osim values
   (Lai et al. 2017 architecture for high flexion; Uhlrich et al. 2022 passive curves calibrated to Silder et
   al. 2007), transferred to the pedaling model's paths by the ratio of path lengths (the pedaling model's
   paths are the same paths uniformly scaled; the ratio's SD over the poses is printed).

Two steps, because opensim and casadi cannot share one process:
    python-with-opensim scripts/derive_muscle_groups.py opensim MODELS_DIR OUT.json
    python -m ... scripts/derive_muscle_groups.py toolkit OUT.json      # prints the CSV columns
MODELS_DIR holds Rajagopal2016.osim and RajagopalLaiUhlrich2023.osim (opensim-models, Models/Rajagopal).
"""
from __future__ import annotations

import json
import sys

import numpy as np

UNITS = {"GMAX": "glmax2_r", "ILIO": "psoas_r", "HAMS": "semimem_r", "BFSH": "bfsh_r", "RF": "recfem_r",
         "VAS": "vaslat_r", "GAS": "gasmed_r", "SOL": "soleus_r", "TA": "tibant_r"}
# unit -> [(coordinate, sign of the group's action, members)]; HAMS and RF average their two joints.
GROUPS = {
    "GMAX": [("hip_flexion_r", -1, ["glmax1_r", "glmax2_r", "glmax3_r", "addmagDist_r", "addmagIsch_r",
                                    "addmagMid_r", "addmagProx_r"])],
    "ILIO": [("hip_flexion_r", 1, ["psoas_r", "iliacus_r"])],
    "HAMS": [("hip_flexion_r", -1, ["semimem_r", "semiten_r", "bflh_r"]),
             ("knee_angle_r", 1, ["semimem_r", "semiten_r", "bflh_r"])],
    "BFSH": [("knee_angle_r", 1, ["bfsh_r"])],
    "RF": [("knee_angle_r", -1, ["recfem_r"])],
    "VAS": [("knee_angle_r", -1, ["vasmed_r", "vaslat_r", "vasint_r"])],
    "GAS": [("ankle_angle_r", -1, ["gasmed_r", "gaslat_r"])],
    "SOL": [("ankle_angle_r", -1, ["soleus_r", "tibpost_r", "fdl_r", "fhl_r", "perbrev_r", "perlong_r"])],
    "TA": [("ankle_angle_r", 1, ["tibant_r", "edl_r", "ehl_r"])],
}
RANGE_DEG = {"hip_flexion_r": np.arange(35, 101, 5.0), "knee_angle_r": np.arange(30, 116, 5.0),
             "ankle_angle_r": np.arange(-30, 11, 5.0)}
MID_DEG = {"hip_flexion_r": 60.0, "knee_angle_r": 70.0, "ankle_angle_r": -10.0}
POSES_DEG = [(h, k, a) for h in (40, 60, 80) for k in (30, 50, 70, 90, 110) for a in (-25, -10, 5)]


def opensim_step(models_dir: str, out: str) -> None:
    import opensim as osim

    def pose(model, state, q):
        cs = model.getCoordinateSet()
        for name in ("hip_flexion_r", "knee_angle_r", "ankle_angle_r"):
            cs.get(name).setValue(state, np.radians(q[name]), False)
        model.assemble(state)
        model.realizePosition(state)

    result = {"groups": {}, "lengths": [], "architecture": {}}
    m = osim.Model(f"{models_dir}/Rajagopal2016.osim")
    s = m.initSystem()
    for unit, parts in GROUPS.items():
        eqs = []
        for coord, sign, members in parts:
            arms = {mm: [] for mm in members + [UNITS[unit]]}
            for v in RANGE_DEG[coord]:
                pose(m, s, MID_DEG | {coord: v})
                for mm in arms:
                    arms[mm].append(sign * m.getMuscles().get(mm).computeMomentArm(s, m.getCoordinateSet().get(coord)))
            fmax = {mm: m.getMuscles().get(mm).getMaxIsometricForce() for mm in members}
            eqs.append(sum(fmax[mm] * np.mean(np.maximum(arms[mm], 0)) for mm in members) / np.mean(arms[UNITS[unit]]))
            result["groups"].setdefault(unit, []).append(
                {"coordinate": coord, "members": {mm: [fmax[mm], float(np.mean(arms[mm]))] for mm in members},
                 "moment_equivalent_force_N": eqs[-1]})
        result["groups"][unit].append({"complete_group_max_isometric_force_N": float(np.mean(eqs))})
    m = osim.Model(f"{models_dir}/RajagopalLaiUhlrich2023.osim")
    s = m.initSystem()
    for h, k, a in POSES_DEG:
        pose(m, s, {"hip_flexion_r": h, "knee_angle_r": k, "ankle_angle_r": a})
        result["lengths"].append({"q_deg": [h, k, a]} | {u: m.getMuscles().get(n).getLength(s) for u, n in UNITS.items()})
    for u, n in UNITS.items():
        mu = osim.Millard2012EquilibriumMuscle.safeDownCast(m.getMuscles().get(n))
        result["architecture"][u] = {"optimal_fiber_length_m": mu.getOptimalFiberLength(),
                                     "tendon_slack_length_m": mu.getTendonSlackLength(),
                                     "passive_strain_at_one": mu.getFiberForceLengthCurve().getStrainAtOneNormForce()}
    with open(out, "w") as f:
        json.dump(result, f, indent=1)


def toolkit_step(path: str) -> None:
    from toolkit.model.geometry import load_geometry

    with open(path) as f:
        d = json.load(f)
    geo = load_geometry()
    L = np.array([geo.lengths(np.radians(r["q_deg"])) for r in d["lengths"]])
    print("name,complete_group_max_isometric_force_N,lai_optimal_fiber_length_m,lai_tendon_slack_length_m,"
          "uhlrich_passive_strain_at_one,path_ratio,path_ratio_sd")
    for i, u in enumerate(UNITS):
        ratio = L[:, i] / np.array([r[u] for r in d["lengths"]])
        arch = d["architecture"][u]
        print(f"{u},{d['groups'][u][-1]['complete_group_max_isometric_force_N']:.1f},"
              f"{ratio.mean() * arch['optimal_fiber_length_m']:.6f},{ratio.mean() * arch['tendon_slack_length_m']:.6f},"
              f"{arch['passive_strain_at_one']:.3f},{ratio.mean():.4f},{ratio.std():.4f}")


if __name__ == "__main__":
    if sys.argv[1] == "opensim":
        opensim_step(sys.argv[2], sys.argv[3])
    else:
        toolkit_step(sys.argv[2])
