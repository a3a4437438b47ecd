"""Checks of an experiment that the config schema (toolkit/study/config) cannot express, run by `validate` and
`run` before any solve: the config file itself (a FIFO or device instead of a file, TOML nested too deeply) and requests the
rider cannot perform on the fit (a fixed ankle angle or prescribed sole profile that puts a joint out of range
or the pedal out of reach, so every such point would end as Infeasible_Request)."""
from __future__ import annotations

import errno
import math
import os
import stat
import tomllib
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

MAX_CONFIG_BYTES = 4 * 1024 * 1024


def _moved_hint(path: Path) -> str:
    """'; moved to studies/<name>/<file>' for a study experiment file named by its old experiments/ path."""
    if not path.name.startswith("study_") or path.parent.name != "experiments":
        return ""
    from .paths import studies_dir

    found = sorted(studies_dir().glob(f"*/{path.name}"))
    if found:
        return f"; study files moved to studies/<name>/: {found[0].parent.name}/{path.name} in {studies_dir()}"
    return "; study files moved to studies/<name>/ (some were split: see studies/README.md)"


def read_config_bytes(path: Path) -> tuple[bytes | None, str | None]:
    """(content, None) of a regular file, or (None, what is wrong). Never blocks on a FIFO or device."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        return None, "no such file" + _moved_hint(Path(path))
    except ValueError:  # embedded NUL byte
        return None, "the file name contains a NUL byte"
    except OSError as e:
        return None, ("the file name is too long" if e.errno == errno.ENAMETOOLONG
                      else f"cannot read the file: {e.strerror or e}")
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            return None, "is a directory, not a file"
        if not stat.S_ISREG(st.st_mode):
            kind = ("a FIFO (named pipe)" if stat.S_ISFIFO(st.st_mode) else "a device" if
                    (stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode)) else "a socket"
                    if stat.S_ISSOCK(st.st_mode) else "not a regular file")
            return None, f"is {kind}, not a regular file"
        if st.st_size > MAX_CONFIG_BYTES:
            return None, f"is {st.st_size} bytes long (at most {MAX_CONFIG_BYTES} for a config)"
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
        return b"".join(chunks), None
    except OSError as e:
        return None, f"cannot read the file: {e.strerror or e}"
    finally:
        os.close(fd)


def toml_loads(text: str) -> dict[str, Any]:
    """tomllib.loads, with arrays or tables nested too deeply for Python reported as a TOMLDecodeError."""
    try:
        return tomllib.loads(text)
    except RecursionError:
        raise tomllib.TOMLDecodeError("arrays or tables nested too deeply") from None


def _fixed_ankle_range(model, setup, theta, lim) -> tuple[float, float] | None:
    """The fixed ankle angles (deg, 1-deg steps over the ankle's range) the leg can hold over the whole cycle."""
    from ..ocp.feasibility import _in_range, _poses

    ok = []
    for a in np.arange(math.ceil(math.degrees(lim[2, 0])), math.floor(math.degrees(lim[2, 1])) + 1):
        phi = np.array([float(model.fixed_ankle(t, math.radians(a), setup.leg_params)[0]) for t in theta])
        if _in_range(_poses(model, theta, phi, setup.leg_params), lim).all():
            ok.append(float(a))
    return (min(ok), max(ok)) if ok else None


def check_requests(exp, model, rep) -> None:
    """Report (rep.error) every fixed-ankle angle and prescribed profile that cannot be performed on a fit
    (what the solver would answer with Infeasible_Request at every such point), with the feasible range."""
    from ..model.leg import joint_ranges_rad, make_setup
    from ..ocp.feasibility import check

    lim = joint_ranges_rad()
    setups: dict[str, Any] = {}
    seen: set = set()
    for p in exp.points():
        s = p.spec
        if not s.driven:  # only a driven sole angle (fixed ankle, prescribed profile) can be checked up front
            continue
        what = (s.fixed_ankle_deg,) if s.condition == "fixed" else tuple(s.prescribed_sole_deg)
        sig = (repr(p.rider), repr(p.fit), s.condition, what, s.solver.nodes)
        if sig in seen:
            continue
        seen.add(sig)
        rk = repr((p.rider, p.fit))
        try:
            setup = setups.get(rk) or setups.setdefault(rk, make_setup(model, p.rider, p.fit))
        except ValueError:
            continue  # the fit itself is reported by the placement check
        theta = np.linspace(0.0, 2 * np.pi, s.solver.nodes, endpoint=False)
        res = check(SimpleNamespace(model=model, theta=theta), setup, s)
        if res.ok:
            continue
        who = f"rider {p.rider.name!r}, fit {p.fit_name!r}"
        if s.condition == "fixed":
            rng = _fixed_ankle_range(model, setup, theta, lim)
            allowed = (f"{rng[0]:g} to {rng[1]:g} deg for this rider and fit" if rng else
                       "none: no fixed ankle angle works on this fit")
            rep.error("conditions.fixed_ankle_deg", f"{s.fixed_ankle_deg:g} deg cannot be held over the whole "
                      f"cycle ({who}): {res.message}", allowed)
        else:
            rep.error("conditions.prescribed_sole_deg", f"the profile cannot be followed ({who}): {res.message}",
                      "sole angles the leg can reach with every joint in range on this fit")
