"""Extract the measured pedal forces and pedal angle of Park, Caldwell & Umberger (2022) into a cited CSV.

Source: github.com/sangsoopark1739/pedaling_DC_OpenSim (GPL-3.0), commit 6c5e5d5,
MatlabCode/Experimental_Data/TwoL_Tracking_Data.mat (MATLAB 7.3 / HDF5): struct Two_L with APF_Two_L, VF_Two_L,
Ang_Two_L, each [mean, SD] at crank angle 0..360 deg in 1 deg steps (left leg, 15 recreational cyclists).

Usage: python scripts/extract_park2022.py MAT_FILE [STEP_DEG]  (writes toolkit/check/data/park2022_pedal.csv)
The repository snapshot is a bare git dir; get the file with
  git --git-dir=<mirror>/repo show HEAD:MatlabCode/Experimental_Data/TwoL_Tracking_Data.mat > /tmp/TwoL.mat
"""
from __future__ import annotations

import math
import sys
from pathlib import Path

import h5py
import numpy as np

OUT = Path(__file__).resolve().parents[1] / "toolkit" / "check" / "data" / "park2022_pedal.csv"
CYCLE_TIME_S = 1.914  # pedaling_DC_Ipopt.m: "Time for completion of one crank revolution"
CRANK_LENGTH_M = 0.17  # Pedaling_Model.osim crank (shared/reference/README.md)
ANGLE_OFFSET_DEG = 13.0  # pedaling_DC_Ipopt.m: model foot angle = measured pedal angle + 13 deg


def main(mat: str, step: float = 5.0) -> None:
    with h5py.File(mat, "r") as f:
        g = f["Two_L"]
        data = {k: np.array(g[k]) for k in ("APF_Two_L", "VF_Two_L", "Ang_Two_L")}
    data = {k: (v.T if v.shape[0] == 2 else v) for k, v in data.items()}  # -> (361, 2) = [mean, SD]
    ang = np.arange(361.0)
    fx, fy = data["APF_Two_L"][:, 0], data["VF_Two_L"][:, 0]
    th = np.radians(ang)
    ft = fx * np.cos(th) - fy * np.sin(th)
    fres = np.hypot(fx, fy)
    omega = 2 * math.pi / CYCLE_TIME_S
    # Mean over the cycle (drop the duplicated 360 deg sample); both legs, the other half a cycle later.
    power = 2 * ft[:-1].mean() * CRANK_LENGTH_M * omega
    ie = ft[:-1].sum() / fres[:-1].sum()
    sel = np.arange(0, 361, int(step))
    lines = [
        "# Measured pedal forces and pedal angle, left leg, mean and SD over 15 recreational cyclists.",
        "# Source: Park S, Caldwell GE, Umberger BR (2022) A direct collocation framework for optimal control simulation",
        "#   of pedaling using OpenSim. PLoS ONE 17(2): e0264346, doi:10.1371/journal.pone.0264346; data file",
        "#   MatlabCode/Experimental_Data/TwoL_Tracking_Data.mat of github.com/sangsoopark1739/pedaling_DC_OpenSim",
        "#   (GPL-3.0, commit 6c5e5d5); the repository attributes the data to Park & Caldwell (in press at the time).",
        f"# Extracted by scripts/extract_park2022.py: the 1-deg curves sampled every {step:g} deg (no smoothing).",
        "# Conventions (checked against the curves and the repository code): crank angle 0 = TDC; fx = fore-aft force",
        "#   of the foot on the pedal, + forward; fy = vertical force of the foot on the pedal, + up (pushing down < 0);",
        "#   pedal_angle = pedal (shoe sole) vs horizontal, + toe-down (the code's sign test for its model foot).",
        f"# The repository's tracking code compares its model foot (calcaneus-to-toes line) with pedal_angle + {ANGLE_OFFSET_DEG:g} deg;",
        "#   column foot_line_angle_deg = pedal_angle_mean_deg + 13 is that mapped value.",
        f"# Derived here, not stated in the paper text seen: cycle time {CYCLE_TIME_S} s in the tracking script ->"
        f" {60 / CYCLE_TIME_S:.1f} rpm;",
        f"#   with the model's {CRANK_LENGTH_M} m crank the mean power of both legs is {power:.0f} W; index of effectiveness"
        f" {ie:.2f}.",
        "#   LOW-POWER, LOW-CADENCE data: compare only with a model solved at this cadence and power.",
        f"# derived: cadence_rpm={60 / CYCLE_TIME_S:.2f} power_W={power:.1f} crank_length_m={CRANK_LENGTH_M}",
        "crank_angle_deg,fx_mean_N,fx_sd_N,fy_mean_N,fy_sd_N,pedal_angle_mean_deg,pedal_angle_sd_deg,foot_line_angle_deg",
    ]
    for i in sel:
        a, v, p = data["APF_Two_L"][i], data["VF_Two_L"][i], data["Ang_Two_L"][i]
        lines.append(f"{ang[i]:g},{a[0]:.2f},{a[1]:.2f},{v[0]:.2f},{v[1]:.2f},{p[0]:.2f},{p[1]:.2f},"
                     f"{p[0] + ANGLE_OFFSET_DEG:.2f}")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    k = int(np.argmax(fres))
    print(f"wrote {OUT}; power {power:.1f} W, IE {ie:.3f}, peak resultant {fres[k]:.0f} N at {ang[k]:g} deg, "
          f"peak tangential {ft.max():.0f} N at {ang[int(np.argmax(ft))]:g} deg")


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]) if len(sys.argv) > 2 else 5.0)
