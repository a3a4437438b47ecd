"""Direct collocation of one periodic crank cycle: trapezoidal rule on a uniform crank-angle mesh.

Why trapezoidal in crank angle: in isokinetic pedaling the crank angle is a linear function of time, so it is
the natural independent variable: the sole-angle derivatives d(phi)/d(theta) are order one at every cadence
(well scaled), the mesh nodes sit at fixed crank angles (heel-drop windows are node sets), and periodicity is a
wrap-around of the defects. The trapezoidal rule is second-order accurate, its defects only couple neighbouring
nodes (a sparse, banded KKT system that MUMPS factors quickly), and its periodic mean equals the mean over
nodes, so "mean crank power = target" is an exact linear combination of node values. The mesh test (doubling
the nodes) bounds the discretization error of the joint shares.

Variables at node k (all order one): free sole angle phi_k (rad), phi'_k = dphi/dtheta, activations a_k (9);
controls phi''_k and excitations e_k (9). When the sole angle is driven (fixed ankle, prescribed profile),
phi and its derivatives are known functions of theta and only muscle variables remain.

Symmetry: both legs pedal the same periodic trajectory half a cycle apart, and in isokinetic mode the crank
speed is imposed, so the two legs do not interact: one leg's cycle is solved, the other leg's loads are the
same time series shifted by half a cycle, and the power of both legs is twice one leg's mean power.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property

import casadi as ca
import numpy as np

from ..model.leg import LegModel, joint_ranges_rad
from ..model import energetics
from ..model.muscles import MUSCLE_NAMES, activation_rate, active_force_length
from .assembly import Coupling, SeparableNLP
from .bounds import BOUNDS
from .conditions import condition_for
from .fourier import FOURIER_ORDER, fourier_eval, fourier_fit  # noqa: F401 (re-exported)
from .problem import ProblemSpec

NM = len(MUSCLE_NAMES)
TORQUE_SCALE = 10.0  # N m; scales the sole-angle equation of motion
SMOOTHNESS_FACTOR = 30.0  # excitation-change penalty = this x excitation_rate_weight (damps trapezoid sawtooth)
DFT_SCALE = 10.0  # 1/s; tendon-force rate control = DFT_SCALE x variable (order one)
STOP_SMOOTHING_RAD = 1e-4  # width of the smooth ramp of the range-limited ankle's stops (0.006 deg)
# Variable bounds: the one table toolkit.ocp.conditions.BOUNDS.


class ParLayout:
    """Named slices of the NLP parameter vector (numbers that change between solves without a rebuild)."""

    def __init__(self, n_leg: int, n_mus: int):
        sizes = [("omega", 1), ("power", 1), ("leg", n_leg), ("mus", n_mus), ("weights", NM), ("tau_act", NM),
                 ("tau_deact", NM), ("fixed_ankle", 1), ("fourier", 2 * FOURIER_ORDER + 1), ("reg", 2),
                 ("flywheel", 1), ("slow_twitch", NM), ("muscle_mass", NM), ("body_mass", 1),
                 ("metabolic_weight", 1), ("ankle_device", 6)]
        self.slices: dict[str, slice] = {}
        i = 0
        for name, n in sizes:
            self.slices[name] = slice(i, i + n)
            i += n
        self.size = i

    def get(self, v, name: str):
        return v[self.slices[name]]

    def pack(self, **values) -> np.ndarray:
        out = np.zeros(self.size)
        for name, val in values.items():
            out[self.slices[name]] = np.atleast_1d(np.asarray(val, dtype=float))
        return out


@dataclass
class Transcription:
    """The NLP for one structural variant (sole-angle mode, cost kind, mesh size). Built once, reused for
    every power, cadence, rider, fit and heel-drop setting through parameters and bounds."""

    model: LegModel
    mode: str          # sole-angle mode of the spec's condition (conditions.py): 'free', 'fixed', 'prescribed'
    cost_kind: str
    exponent: int
    nodes: int
    tendon: str = "rigid"
    load: str = "isokinetic"
    metabolic_model: str = ""  # energetics model in the cost ('' = none; kind 'metabolic' or a mixed cost)
    muscle_curves: str = "toolkit"  # the rider's Hill-curve set (toolkit.model.muscles): part of the structure

    @property
    def inertial(self) -> bool:
        return self.load == "inertial"

    @property
    def compliant(self) -> bool:
        return self.tendon == "compliant"

    @property
    def sole_free(self) -> bool:
        """The sole angle is a decision variable (states phi, phi', control phi''); else it is driven."""
        return self.mode == "free"

    @cached_property
    def layout(self) -> ParLayout:
        return ParLayout(self.model.n_leg_params, self.model.n_muscle_params)

    @property
    def nx(self) -> int:
        return NM * (2 if self.compliant else 1) + (2 if self.sole_free else 0) + int(self.inertial)

    @property
    def nu(self) -> int:
        return NM * (2 if self.compliant else 1) + (1 if self.sole_free else 0) + int(self.inertial)

    @cached_property
    def node_function(self) -> ca.Function:
        """Everything at one node: derivatives, residuals, crank torque, cost, and the full biomechanics."""
        m, L = self.model, self.layout
        th = ca.SX.sym("theta")
        x = ca.SX.sym("x", self.nx)
        u = ca.SX.sym("u", self.nu)
        par = ca.SX.sym("par", L.size)
        omega_mean, p, pm = L.get(par, "omega"), L.get(par, "leg"), L.get(par, "mus")
        k = 2 if self.sole_free else 0
        a, e = x[k:k + NM], u[k // 2:k // 2 + NM]
        ft, dft = (x[k + NM:k + 2 * NM], u[k // 2 + NM:k // 2 + 2 * NM] * DFT_SCALE) if self.compliant else (None, None)
        if self.inertial:
            # Crank speed squared (scaled by the mean) is a state; crank acceleration (scaled) a control.
            omega = omega_mean * ca.sqrt(x[-1])
            theta_acc = u[-1] * omega_mean**2
        else:
            omega, theta_acc = omega_mean, 0
        if self.sole_free:
            phi, dphi, ddphi = x[0], x[1], u[0]
        elif self.mode == "fixed":
            phi, dphi, ddphi = m.fixed_ankle(th, L.get(par, "fixed_ankle"), p)
        else:
            phi, dphi, ddphi = fourier_eval(th, L.get(par, "fourier"))
        q, dq, _ = m.pose(th, phi, p)
        qdot = ca.mtimes(dq, ca.vertcat(omega, dphi * omega))
        phi_acc = ddphi * omega**2 + dphi * theta_acc
        Qin = m.inverse_dynamics(th, phi, omega, dphi * omega, theta_acc, phi_acc, p)
        scale = p[-1]
        if self.compliant:
            F, Mmus, lm, vm, act, pas, lmtu, R, equilibrium = m.muscle_function(self.muscle_curves, compliant=True)(
                q, qdot, a, ft, dft, pm, scale)
        else:
            F, Mmus, lm, vm, act, pas, lmtu, R = m.muscle_function(self.muscle_curves)(q, qdot, a, pm, scale)
            equilibrium = ca.SX.zeros(NM)
        # Ankle devices, external (non-muscle) moments; all coefficients are zero unless the condition uses them.
        # 'braced': an orthosis spring and damper -k (q - q0) - c qdot. 'range_limited': stiff stops at the range
        # ends, M = -k_s (r(q - hi) - r(lo - q)) with r a smooth ramp (~0 inside, slope 1 outside).
        dev = L.get(par, "ankle_device")
        k_brace, q0_brace, c_brace, k_stop, lo_stop, hi_stop = (dev[i] for i in range(6))

        def ramp(x):
            return 0.5 * (x + ca.sqrt(x * x + STOP_SMOOTHING_RAD**2))

        brace = (-k_brace * (q[2] - q0_brace) - c_brace * qdot[2]
                 - k_stop * (ramp(q[2] - hi_stop) - ramp(lo_stop - q[2])))
        tau = Mmus + m.passive(q, qdot) + ca.vertcat(0, 0, brace)
        res = ca.mtimes(dq.T, tau) - Qin
        if self.mode == "fixed":
            crank_torque = res[0] + dphi * res[1]
            orthosis = -res[1] / dq[2, 1]
            sole_res = ca.SX(0)
        else:
            crank_torque = res[0]
            orthosis = ca.SX(0)
            sole_res = res[1]
        external = orthosis + brace  # every non-muscle moment applied by a device at the ankle
        adot = activation_rate(e, a, L.get(par, "tau_act"), L.get(par, "tau_deact"))
        w = L.get(par, "weights")
        if self.cost_kind == "activation":
            effort = ca.dot(w, a ** self.exponent)
        elif self.cost_kind == "stress":
            fmax = pm[0:NM]
            effort = ca.dot(w, (F / fmax) ** 2)
        else:
            effort = 0
        if self.metabolic_model:
            # Metabolic power of this leg's muscles per kg of body mass (W/kg): the whole effort for kind
            # 'metabolic', else added with weight metabolic_weight (mixed cost). docs/energetics.md.
            fmax, lopt, vmax = pm[0:NM], pm[NM:2 * NM], pm[4 * NM:5 * NM]
            edot = energetics.rates_function(self.metabolic_model)(
                e, a, lm, vm, active_force_length(lm / lopt, self.muscle_curves), act, pas, fmax, lopt, vmax,
                L.get(par, "muscle_mass"), L.get(par, "slow_twitch"))[4]
            metabolic = ca.dot(w, edot) / L.get(par, "body_mass")
            effort = metabolic if self.cost_kind == "metabolic" else effort + L.get(par, "metabolic_weight") * metabolic
        reg = L.get(par, "reg")
        cost = effort + reg[0] * ca.sumsqr(e - a) + reg[1] * ddphi**2
        deriv = ca.vertcat(*([dphi, ddphi] if self.sole_free else []), adot / omega,
                           *([dft / omega] if self.compliant else []), *([2 * u[-1]] if self.inertial else []))
        # Time weight of the node relative to the isokinetic one (dt = dtheta / omega).
        time_weight = omega_mean / omega
        net = tau + ca.vertcat(0, 0, orthosis)
        # Joint accelerations along the closed chain, then the pedal force from the open-chain dynamics:
        # net = tau_open - Jc^T F_on_foot  (least squares; exact when the chain equations hold).
        _, qddot = m.joint_motion(th, phi, omega, dphi * omega, theta_acc, phi_acc, p)
        tau_open, Jc = m.open_chain(q, qdot, qddot, p)
        f_on_foot = ca.solve(ca.mtimes(Jc, Jc.T), ca.mtimes(Jc, tau_open - net))
        pedal_force = -f_on_foot
        return ca.Function(
            "node", [th, x, u, par],
            [deriv, sole_res / TORQUE_SCALE, crank_torque, q, cost,
             phi, dphi, ddphi, qdot, net, F, lm, vm, act, pas, lmtu, a, e, adot, external, effort, pedal_force,
             qddot, equilibrium, omega, theta_acc, time_weight],
            ["theta", "x", "u", "par"],
            ["deriv", "sole_residual", "crank_torque", "q", "cost",
             "phi", "dphi", "ddphi", "qdot", "moment", "force", "fiber_length", "fiber_velocity", "active",
             "passive", "mtu_length", "a", "e", "adot", "orthosis_moment", "effort", "pedal_force", "qddot", "equilibrium", "crank_speed", "crank_acceleration",
             "time_weight"])

    @cached_property
    def theta(self) -> np.ndarray:
        return np.linspace(0.0, 2 * np.pi, self.nodes, endpoint=False)

    @cached_property
    def node_terms(self) -> ca.Function:
        """The node's share of the NLP: node_terms(theta, x, u, par) -> (y, f). Every nonlinear term of the
        constraints (y, rows described by `term_rows`) and the node's objective term f (effort and
        regularization x time weight; the objective is their mean over the nodes). Built from `node_function`
        (inlined), so a term added there reaches the NLP through its named outputs. Independent of the mesh
        size (1/N factors sit in the coupling), so one compiled version serves every mesh."""
        L = self.layout
        th, x, u = ca.SX.sym("theta"), ca.SX.sym("x", self.nx), ca.SX.sym("u", self.nu)
        par = ca.SX.sym("par", L.size)
        out = self.node_function(theta=th, x=x, u=u, par=par)
        omega, power = L.get(par, "omega"), L.get(par, "power")
        y = [out["deriv"]]
        if self.inertial:
            # Crank equation at node k: (I acc_k - torque_k + tau_r) / s - torque_(k+N/2) / s, tau_r = P / omega.
            y += [(L.get(par, "flywheel") * out["crank_acceleration"] - out["crank_torque"] + power / omega)
                  / TORQUE_SCALE, out["crank_torque"] / TORQUE_SCALE, 1 / ca.sqrt(x[-1])]
        else:
            y.append(2 * omega * out["crank_torque"] / power)  # N x this node's share of mean power / target
        if self.mode != "fixed":
            y.append(out["sole_residual"])
        if self.sole_free:
            y.append(out["q"])
        if self.compliant:
            y.append(out["equilibrium"])
        f = out["cost"] * out["time_weight"]
        return ca.Function("node_terms", [th, x, u, par], [ca.vertcat(*y), f], ["theta", "x", "u", "par"],
                           ["y", "f"])

    def term_rows(self) -> dict[str, slice]:
        """Rows of node_terms' y by name."""
        sizes = [("deriv", self.nx)]
        sizes += [("crank", 1), ("torque", 1), ("inverse_speed", 1)] if self.inertial else [("power", 1)]
        if self.mode != "fixed":
            sizes.append(("sole_residual", 1))
        if self.sole_free:
            sizes.append(("q", 3))
        if self.compliant:
            sizes.append(("equilibrium", NM))
        out, i = {}, 0
        for name, n in sizes:
            out[name], i = slice(i, i + n), i + n
        return out

    @cached_property
    def coupling(self) -> tuple[list[tuple[str, int]], Coupling]:
        """Constraint groups (name, rows) and their linear coupling of node terms and decision variables, in
        the order of `constraint_names`: trapezoidal defects X_(k+1) - X_k - h/2 (deriv_k + deriv_(k+1)),
        mean power, crank dynamics with the second leg half a cycle later, sole dynamics, joint ranges,
        tendon equilibrium."""
        N, nx = self.nodes, self.nx
        rows = self.term_rows()
        ny = sum(s.stop - s.start for s in rows.values())
        k = np.arange(N)
        kn = (k + 1) % N
        yr, yc, yv, wr, wc, wv, groups = [], [], [], [], [], [], []
        off: list[np.ndarray] = []
        r0 = 0

        def y_idx(name, kk, i=0):
            return kk * ny + rows[name].start + i

        def add_group(name, n):
            nonlocal r0
            groups.append((name, n))
            off.append(np.zeros(n))
            r0 += n
            return r0 - n

        # Defects: row (k, i) = r + k * nx + i.
        base = add_group("defect", nx * N)
        h = 2 * np.pi / N
        for i in range(nx):
            r = base + k * nx + i
            wr += [r, r]; wc += [kn * nx + i, k * nx + i]; wv += [np.ones(N), -np.ones(N)]
            yr += [r, r]; yc += [y_idx("deriv", k, i), y_idx("deriv", kn, i)]; yv += [np.full(N, -h / 2)] * 2
        if self.inertial:
            half = N // 2
            base = add_group("crank_dynamics", N)
            yr += [base + k, base + k]; yc += [y_idx("crank", k), y_idx("torque", (k + half) % N)]
            yv += [np.ones(N), -np.ones(N)]
            base = add_group("half_cycle_symmetry", half)
            kh = np.arange(half)
            wr += [base + kh, base + kh]; wc += [kh * nx + nx - 1, (kh + half) * nx + nx - 1]
            wv += [np.ones(half), -np.ones(half)]
            base = add_group("cycle_period", 1)
            yr.append(np.full(N, base)); yc.append(y_idx("inverse_speed", k)); yv.append(np.full(N, 1 / N))
            off[-1][:] = -1.0
        else:
            base = add_group("power", 1)
            yr.append(np.full(N, base)); yc.append(y_idx("power", k)); yv.append(np.full(N, 1 / N))
            off[-1][:] = -1.0
        for name, group, n in (("sole_residual", "sole_dynamics", 1), ("q", "joint_range", 3),
                               ("equilibrium", "tendon_equilibrium", NM)):
            if name not in rows:
                continue
            base = add_group(group, n * N)
            for i in range(n):
                yr.append(base + k * n + i); yc.append(y_idx(name, k, i)); yv.append(np.ones(N))
        cat = lambda a: np.concatenate(a) if a else np.zeros(0)  # noqa: E731
        return groups, Coupling(r0, cat(yr).astype(np.int64), cat(yc).astype(np.int64), cat(yv),
                                cat(wr).astype(np.int64), cat(wc).astype(np.int64), cat(wv), np.concatenate(off))

    def smoothness_matrix(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Q (triplets over the decision vector) with SMOOTHNESS_FACTOR x reg0 x mean squared excitation change
        between neighbouring nodes = 1/2 reg0 w' Q w. Why the penalty: the trapezoidal rule leaves node-to-node
        (sawtooth) excitation oscillations nearly free; this damps them (same weight as e - a)."""
        N, nx, nu = self.nodes, self.nx, self.nu
        k0 = 1 if self.sole_free else 0
        k = np.arange(N)
        rows, cols, vals = [], [], []
        c = 2 * SMOOTHNESS_FACTOR / N
        for m in range(NM):
            a = nx * N + k * nu + k0 + m                 # E[m, k]
            b = nx * N + ((k + 1) % N) * nu + k0 + m     # E[m, k + 1]
            # (E_b - E_a)^2 -> Hessian entries +1 at (a,a), (b,b), -1 at (a,b), (b,a); times 2 SF / N.
            rows += [a, b, a, b]; cols += [a, b, b, a]
            vals += [np.full(N, c), np.full(N, c), np.full(N, -c), np.full(N, -c)]
        return np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)

    @property
    def groups(self) -> list[tuple[str, int]]:
        """Constraint groups (name, number of rows) in constraint order (no NLP build needed)."""
        return self.coupling[0]

    @cached_property
    def separable(self) -> SeparableNLP:
        """The NLP assembled from the node terms (see assembly.py); built once per structure."""
        coupling = self.coupling[1]
        reg = self.layout.slices["reg"]
        g = self.model.geometry  # its polynomial coefficients are constants inside the node functions
        geometry = hashlib.sha256(repr((g.names, g.joints, g.centers_rad, g.exponents, g.coefficients))
                                  .encode()).hexdigest()
        structure = (self.mode, self.cost_kind, self.exponent, self.tendon, self.load, geometry, self.muscle_curves)
        return SeparableNLP(self.node_terms, self.nx, self.nu, self.theta, self.layout.size, coupling,
                            self.smoothness_matrix(), lambda p: p[reg.start], structure)

    @cached_property
    def functions(self) -> dict[str, ca.Function]:
        """nlp, grad_f, jac_g, hess_lag CasADi functions (IPOPT options only enter `solver`)."""
        return self.separable.functions()

    def upgrade(self) -> bool:
        """Switch to the compiled node functions if their background compile has finished (True: solvers made
        before must be remade with `solver`)."""
        if "functions" in self.__dict__ and self.separable.compiled_ready():
            del self.__dict__["functions"]
            self.__dict__.pop("nlp", None)
            return True
        return False

    @cached_property
    def nlp(self) -> dict:
        """The NLP as MX expressions of the decision vector x and parameters p, and the constraint groups."""
        w, p = ca.MX.sym("x", self.nx * self.nodes + self.nu * self.nodes), ca.MX.sym("p", self.layout.size)
        f, g = self.functions["nlp"](w, p)
        return {"x": w, "p": p, "f": f, "g": g, "groups": self.groups}

    def solver(self, opts: dict) -> ca.Function:
        """An IPOPT instance on the prebuilt functions: creating one is cheap, so options never rebuild them."""
        fn = self.functions
        # calc_lam_p off: the parameter multipliers are never used.
        return ca.nlpsol("pedaling", "ipopt", fn["nlp"],
                         {**opts, "grad_f": fn["grad_f"], "jac_g": fn["jac_g"], "hess_lag": fn["hess_lag"],
                          "calc_lam_p": False})

    def constraint_bounds(self, spec: ProblemSpec | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Constraint bounds: zero for the equalities, the spec's condition's joint ranges (the anatomical ones
        without a spec) for the joint-range rows."""
        lo, hi = [], []
        lim = joint_ranges_rad() if spec is None else condition_for(spec).joint_ranges_rad(spec)
        for name, n in self.groups:
            if name == "joint_range":
                lo.append(np.tile(lim[:, 0], self.nodes))
                hi.append(np.tile(lim[:, 1], self.nodes))
            else:
                lo.append(np.zeros(n))
                hi.append(np.zeros(n))
        return np.concatenate(lo), np.concatenate(hi)

    def constraint_names(self) -> list[str]:
        """Readable name of every constraint row (for violation reports)."""
        names: list[str] = []
        deg = np.degrees(self.theta)
        xn = ((["phi", "dphi"] if self.sole_free else []) + [f"a_{m}" for m in MUSCLE_NAMES]
              + ([f"tendon force {m}" for m in MUSCLE_NAMES] if self.compliant else [])
              + (["crank speed^2"] if self.inertial else []))
        for name, n in self.groups:
            if name == "defect":
                names += [f"defect {xn[i]} at crank {deg[k]:.0f} deg" for k in range(self.nodes) for i in range(self.nx)]
            elif name == "power":
                names.append("mean crank power")
            elif name == "crank_dynamics":
                names += [f"crank equation of motion at crank {d:.0f} deg" for d in deg]
            elif name == "half_cycle_symmetry":
                names += [f"crank speed half-cycle symmetry at crank {d:.0f} deg" for d in deg[: n]]
            elif name == "cycle_period":
                names.append("cycle period (cadence)")
            elif name == "tendon_equilibrium":
                names += [f"{m} tendon equilibrium at crank {deg[k]:.0f} deg" for k in range(self.nodes) for m in MUSCLE_NAMES]
            elif name == "sole_dynamics":
                names += [f"sole-angle equation of motion at crank {d:.0f} deg" for d in deg]
            else:
                names += [f"{j} range at crank {deg[k]:.0f} deg" for k in range(self.nodes) for j in ("hip", "knee", "ankle")]
        return names

    def variable_bounds(self, spec: ProblemSpec) -> tuple[np.ndarray, np.ndarray]:
        N = self.nodes
        xlo = np.full((self.nx, N), spec.activation_floor)
        xhi = np.full((self.nx, N), BOUNDS.activation[1])
        ulo = np.full((self.nu, N), spec.activation_floor)
        uhi = np.full((self.nu, N), BOUNDS.activation[1])
        if self.sole_free:  # the condition's sole-angle bounds (the heel-drop bound among them)
            sole = condition_for(spec).sole_bounds(self.theta, spec)
            (xlo[0], xhi[0]), (xlo[1], xhi[1]), (ulo[0], uhi[0]) = sole["phi"], sole["dphi"], sole["ddphi"]
        k = 2 if self.sole_free else 0
        if self.compliant:
            xlo[k + NM:k + 2 * NM], xhi[k + NM:k + 2 * NM] = BOUNDS.tendon_force
            ulo[k // 2 + NM:k // 2 + 2 * NM], uhi[k // 2 + NM:k // 2 + 2 * NM] = BOUNDS.tendon_force_rate
        if self.inertial:
            xlo[-1], xhi[-1] = BOUNDS.crank_speed_sq
            ulo[-1], uhi[-1] = BOUNDS.crank_accel
        lo = np.concatenate([xlo.ravel(order="F"), ulo.ravel(order="F")])
        hi = np.concatenate([xhi.ravel(order="F"), uhi.ravel(order="F")])
        return lo, hi

    def split(self, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Decision vector -> (X [nx, N], U [nu, N])."""
        n = self.nx * self.nodes
        return (np.asarray(w[:n]).reshape((self.nx, self.nodes), order="F"),
                np.asarray(w[n:]).reshape((self.nu, self.nodes), order="F"))

    def join(self, X: np.ndarray, U: np.ndarray) -> np.ndarray:
        return np.concatenate([np.asarray(X).ravel(order="F"), np.asarray(U).ravel(order="F")])


def heel_drop_nodes(theta: np.ndarray, spec: ProblemSpec) -> np.ndarray:
    """Indices of mesh nodes inside the heel-drop window (inclusive)."""
    lo, hi = np.radians(spec.heel_drop_window_deg)
    eps = 1e-9
    return np.where((theta >= lo - eps) & (theta <= hi + eps))[0]


def transcription_key(spec: ProblemSpec) -> tuple:
    """The structure of spec's NLP (one Transcription per key): its condition's sole-angle mode, cost, mesh,
    tendon, load."""
    return (condition_for(spec).mode, spec.cost.kind, spec.cost.exponent, spec.solver.nodes, spec.tendon, spec.load,
            spec.cost.metabolic_model if spec.cost.metabolic_in_cost else "")
