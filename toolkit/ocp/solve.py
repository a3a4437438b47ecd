"""Solve pedaling problems with IPOPT; NLPs and solvers are built once per structure and reused."""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field, replace

import casadi as ca
import numpy as np

from ..model.anthropometry import Rider
from ..model.bikefit import BikeFit
from ..model.leg import LegModel, Setup, make_setup
from ..model.muscles import MUSCLE_NAMES
from . import feasibility
from .conditions import CONTINUATION_START_NMRAD, condition_for
from .guess import kinematic_guess, guess_from_solution
from .problem import ProblemSpec
from .solution import Solution, SolverStats
from .transcription import Transcription, transcription_key

SUCCESS_STATUSES = ("Solve_Succeeded", "Solved_To_Acceptable_Level")
# Deterministic multi-start variants: (constant activation, ankle offset from the typical BDC angle, deg).
MULTISTART_VARIANTS = ((0.1, 0.0), (0.05, -10.0), (0.2, -5.0), (0.1, 3.0), (0.3, -15.0))


def multistart_variants(k: int) -> list[tuple[float, float]]:
    """k deterministic start variants: the five fixed ones, then seeded draws (activation 0.03-0.3, ankle
    offset -15 to +5 deg) so that any k runs exactly k starts."""
    out = list(MULTISTART_VARIANTS[:k])
    rng = np.random.default_rng(12345)
    while len(out) < k:
        out.append((float(rng.uniform(0.03, 0.3)), float(rng.uniform(-15.0, 5.0))))
    return out


@dataclass
class PedalingSolver:
    """Owns the leg model and a cache of transcriptions/IPOPT instances keyed by problem structure."""

    model: LegModel = field(default_factory=LegModel)
    _cache: dict = field(default_factory=dict, repr=False)
    _transcriptions: dict = field(default_factory=dict, repr=False)
    _references: dict = field(default_factory=dict, repr=False)  # free-ankle references of relative conditions

    def transcription(self, spec: ProblemSpec, muscle_curves: str = "toolkit") -> Transcription:
        """The transcription of spec's structure with the rider's Hill-curve set (cheap: its NLP functions are
        built on first use)."""
        key = transcription_key(spec) + (muscle_curves,)
        if key not in self._transcriptions:
            self._transcriptions[key] = Transcription(self.model, *key)
        return self._transcriptions[key]

    def _get(self, spec: ProblemSpec, muscle_curves: str = "toolkit") -> tuple[Transcription, ca.Function, float]:
        """(transcription, IPOPT instance, build seconds). The NLP functions and their derivatives are built once
        per structure; IPOPT options only make a new (cheap) IPOPT instance around them."""
        s, structure = spec.solver, transcription_key(spec) + (muscle_curves,)
        key = structure + (s.tol, s.constr_viol_tol, s.max_iter, s.max_cpu_time_s, s.print_level)
        if key in self._cache and self._cache[key][0].upgrade():
            # the compiled node functions appeared (background compile): remake this structure's solvers
            for k in [k for k in self._cache if k[:len(structure)] == structure]:
                del self._cache[k]
        if key not in self._cache:
            t0 = time.perf_counter()
            tr = self.transcription(spec, muscle_curves)
            opts = {
                "ipopt.print_level": s.print_level, "print_time": False, "ipopt.sb": "yes",
                "ipopt.tol": s.tol, "ipopt.constr_viol_tol": s.constr_viol_tol, "ipopt.max_iter": s.max_iter,
                "ipopt.max_cpu_time": s.max_cpu_time_s, "ipopt.linear_solver": "mumps",
                "ipopt.mu_strategy": "adaptive", "error_on_fail": False,
            }
            solver = tr.solver(opts)
            self._cache[key] = (tr, solver, time.perf_counter() - t0)
        return self._cache[key]

    def parameters(self, tr: Transcription, setup: Setup, spec: ProblemSpec) -> np.ndarray:
        mus = setup.muscles
        w = np.array(spec.cost.weight_vector())
        if spec.cost.volume_weighted:
            w = w * mus.volume / mus.volume.mean()
        return tr.layout.pack(
            omega=spec.omega, power=spec.power_W, leg=setup.leg_params, mus=setup.muscle_params, weights=w,
            tau_act=mus.tau_act, tau_deact=mus.tau_deact,
            reg=[spec.cost.excitation_rate_weight, spec.cost.sole_accel_weight],
            flywheel=spec.flywheel_inertia_kgm2, slow_twitch=mus.slow_twitch_fraction, muscle_mass=mus.mass,
            body_mass=setup.rider.mass_kg, metabolic_weight=spec.cost.metabolic_weight,
            **condition_for(spec).parameters(spec))  # fixed ankle, prescribed profile, ankle device

    def continuation_guess(self, setup: Setup, spec: ProblemSpec) -> Solution | None:
        """A stiff ankle device (stops or brace above CONTINUATION_START_NMRAD) is approached by continuation:
        the same problem with the stiffness raised tenfold per step from a soft start, each step warm-starting the
        next. Returns the last successful step (None if the first fails: the solve then starts cold)."""
        key = condition_for(spec).continuation_key(spec)
        if key is None:
            return None
        target, k, guess = getattr(spec, key), CONTINUATION_START_NMRAD, None
        while k < target:
            step = self.solve(setup, replace(spec, **{key: k}, solver=replace(spec.solver, multistart=1)), guess=guess)
            if not step.success:
                break
            guess, k = step, k * 10
        return guess

    def solve_from_starts(self, setup: Setup, spec: ProblemSpec, neighbour: Solution | None = None) -> Solution:
        """Optima are not unique: solve from spec.solver.multistart cold starts and, when given, from a neighbour's
        solution (continuation along a sweep); return the best, with every other successful solve in
        `start_solutions` so the spread of near-optimal answers can be reported."""
        sols = [self.solve(setup, spec)]
        if neighbour is not None and neighbour.success:
            sols.append(self.solve(setup, spec, guess=neighbour))
        ok = [s for s in sols if s.success]
        if not ok:
            return sols[0]
        pool = [x for s in ok for x in [s, *s.start_solutions]]
        best = min(pool, key=lambda s: s.stats.objective)
        others = [s for s in pool if s is not best]
        total = replace(best.stats, starts=len(pool), iterations=sum(s.stats.iterations for s in ok),
                        solve_time_s=sum(s.stats.solve_time_s for s in ok))
        return replace(best, stats=total, start_solutions=[replace(s, start_solutions=[]) for s in others])

    def initial_guess(self, setup: Setup, spec: ProblemSpec) -> Solution:
        """The documented default start (kinematic_guess, first multistart variant) evaluated as a trajectory,
        unsolved: status 'Initial_Guess', not successful but unsealed (to hand to another solver as its guess)."""
        tr = Transcription(self.model, *transcription_key(spec), setup.rider.muscle_curves)
        par = self.parameters(tr, setup, spec)
        lbx, ubx = tr.variable_bounds(spec)
        w = np.clip(kinematic_guess(tr, setup, spec), lbx, ubx)
        stats = SolverStats(False, "Initial_Guess", 0, 0.0, 0.0, math.nan, math.nan, (), "not solved")
        return Solution(spec, stats, describe_setup(setup), node_arrays(tr, w, par), decision=w)

    def reference_solution(self, setup: Setup, spec: ProblemSpec) -> Solution:
        """The free-ankle solution a relative or shift heel drop is measured against: the same rider, fit, power,
        cadence, cost and mesh with the ankle free (its best start when several are asked for)."""
        # Only the free problem matters: the condition's own settings are reset, so every drop or range of a
        # sweep maps to the same reference.
        d = ProblemSpec()
        own = ("fixed_ankle_deg", "heel_drop_deg", "heel_drop_mode", "heel_drop_window_deg", "heel_drop_ramp_deg",
               "heel_drop_reference_deg", "prescribed_sole_deg", "ankle_range_deg", "ankle_range_width_deg",
               "ankle_range_reference_deg", "ankle_stop_stiffness_Nm_per_rad", "brace_stiffness_Nm_per_rad",
               "brace_neutral_deg", "brace_damping_Nms_per_rad")
        free = replace(spec, condition="free", **{k: getattr(d, k) for k in own})
        # A sweep over drops or ranges shares one reference: solve it once per rider, fit and problem.
        key = (repr(free), setup.leg_params.tobytes(), setup.muscle_params.tobytes(), repr(setup.rider))
        if key not in self._references:
            self._references[key] = self.solve(setup, free)
        return self._references[key]

    def solve(self, setup: Setup, spec: ProblemSpec, guess: Solution | None = None,
              start: int | None = None) -> Solution:
        """Solve one point. Never raises for a failed solve: the returned Solution is then sealed.

        Without a guess, spec.solver.multistart deterministic starts are tried and the best is returned; the
        other successful starts are kept in `Solution.start_solutions` (for the spread of near-optimal
        answers). `start` selects one variant of MULTISTART_VARIANTS instead."""
        if needs_reference(spec):
            ref = self.reference_solution(setup, spec)
            if not ref.success:
                stats = replace(ref.stats, success=False, status="Reference_Failed",
                                message=f"the free-ankle reference of the {spec.condition} condition failed: "
                                        f"{ref.stats.summary()}")
                return Solution(spec, stats, describe_setup(setup), sealed=True)
            spec = with_reference(spec, ref)
            if guess is None and spec.solver.multistart == 1:
                guess = ref  # the free optimum clipped to the bound; with several starts all start cold
        if guess is None and stiff_device(spec):
            guess = self.continuation_guess(setup, spec)
        provenance = describe_setup(setup)
        # The geometric check needs only the mesh and the model: an infeasible request never builds an NLP.
        curves = setup.rider.muscle_curves
        feas = feasibility.check(self.transcription(spec, curves), setup, spec)
        if not feas.ok:
            stats = SolverStats(False, "Infeasible_Request", 0, 0.0, 0.0, math.nan, math.inf, (), feas.message)
            return Solution(spec, stats, provenance | {"largest_heel_drop_deg": feas.largest_heel_drop_deg},
                            sealed=True)
        tr, solver, build_time = self._get(spec, curves)
        par = self.parameters(tr, setup, spec)
        lbx, ubx = tr.variable_bounds(spec)
        lbg, ubg = tr.constraint_bounds(spec)
        if guess is not None:
            starts = [guess_from_solution(tr, guess, setup, spec)]
        else:
            variants = (multistart_variants(max(1, spec.solver.multistart)) if start is None
                        else [multistart_variants(start + 1)[start]])
            starts = [kinematic_guess(tr, setup, spec, a, off) for a, off in variants]
        best, total_time, total_iter, results = None, 0.0, 0, []
        for x0 in starts:
            x0 = np.clip(x0, lbx, ubx)
            t0 = time.perf_counter()
            res = solver(x0=x0, p=par, lbx=lbx, ubx=ubx, lbg=lbg, ubg=ubg)
            dt = time.perf_counter() - t0
            st = solver.stats()
            total_time += dt
            total_iter += int(st.get("iter_count", 0))
            ok = st.get("return_status") in SUCCESS_STATUSES
            f = float(res["f"])
            xs = np.array(res["x"]).ravel()
            results.append((ok, f, xs))
            if best is None or (ok and (not best[0] or f < best[1])):
                best = (ok, f, xs, st.get("return_status", "unknown"), np.array(res["g"]).ravel(), dt, st)
        ok, f, w, status, g, dt, st = best
        viol = np.maximum(np.maximum(lbg - g, g - ubg), 0.0)
        bviol = np.maximum(np.maximum(lbx - w, w - ubx), 0.0)
        names = tr.constraint_names()
        order = np.argsort(viol)[::-1][:5]
        worst = tuple((names[i], float(viol[i])) for i in order if viol[i] > 0)
        max_viol = float(max(viol.max(initial=0.0), bviol.max(initial=0.0)))
        message = "" if ok else f"IPOPT returned {status}"
        stats = SolverStats(bool(ok), str(status), int(st.get("iter_count", 0)) if len(starts) == 1 else total_iter,
                            total_time, build_time, f, max_viol, worst, message, len(starts))
        arrays = node_arrays(tr, w, par)
        others = [Solution(spec, replace(stats, objective=fo, starts=1), provenance, node_arrays(tr, wo, par),
                           decision=wo) for oko, fo, wo in results if oko and wo is not w]
        return Solution(spec, stats, provenance, arrays, decision=w, sealed=not ok, start_solutions=others)


# The condition-specific steps of a solve, asked of the spec's condition (toolkit/ocp/conditions.py).

def stiff_device(spec: ProblemSpec) -> bool:
    """True for an ankle device stiff enough to need continuation from a softer one."""
    return condition_for(spec).continuation_key(spec) is not None


def ankle_device_parameters(spec: ProblemSpec) -> list[float]:
    """[k_brace, q0, c, k_stop, lo, hi] (SI) of the ankle device moments of the node function (zero = none)."""
    return condition_for(spec).device_parameters(spec)


def needs_reference(spec: ProblemSpec) -> bool:
    """True when the spec is defined relative to the rider's own free-ankle solution and that is not resolved yet:
    a relative or shift heel drop, or a range-limited ankle given as a width around the free mean angle."""
    return condition_for(spec).needs_reference(spec)


def with_reference(spec: ProblemSpec, free: Solution) -> ProblemSpec:
    """The spec resolved against the free solution: the heel drop's reference sole-angle profile (deg samples at
    the nodes), or the ankle range centred on the free mean ankle angle (clipped to the anatomical range)."""
    return condition_for(spec).with_reference(spec, free)


def node_arrays(tr: Transcription, w: np.ndarray, par: np.ndarray) -> dict[str, np.ndarray]:
    """Evaluate the full biomechanics at every node of a decision vector."""
    X, U = tr.split(w)
    N = tr.nodes
    out = tr.node_function.map(N)(tr.theta[None, :], X, U, np.repeat(par[:, None], N, axis=1))
    names = tr.node_function.name_out()
    d = {n: np.array(v) for n, v in zip(names, out)}
    arrays = {
        "theta": tr.theta.copy(),
        "phi": d["phi"].ravel(), "dphi": d["dphi"].ravel(), "ddphi": d["ddphi"].ravel(),
        "q": d["q"], "qdot": d["qdot"], "moment": d["moment"], "force": d["force"],
        "fiber_length": d["fiber_length"], "fiber_velocity": d["fiber_velocity"],
        "active": d["active"], "passive": d["passive"], "mtu_length": d["mtu_length"],
        "activation": d["a"], "excitation": d["e"], "crank_torque": d["crank_torque"].ravel(),
        "orthosis_moment": d["orthosis_moment"].ravel(), "sole_residual": d["sole_residual"].ravel(),
        "pedal_force": d["pedal_force"], "qddot": d["qddot"],
        "crank_speed": d["crank_speed"].ravel(), "crank_acceleration": d["crank_acceleration"].ravel(),
    }
    return arrays


def describe_setup(setup: Setup) -> dict:
    """Provenance of a setup: rider, resolved fit, placement, segments and muscle parameters (incl. passive)."""
    mus = setup.muscles
    return {
        "rider": asdict(setup.rider),
        "fit": asdict(setup.fit),
        "saddle_height_m": setup.saddle_height_m,
        "hip_xy_m": list(setup.hip_xy),
        "pelvis_tilt_deg": math.degrees(setup.pelvis_tilt_rad),
        "segments": asdict(setup.segments),
        "muscles": {n: {"max_force_N": float(mus.max_force[i]), "optimal_fiber_length_m": float(mus.optimal_fiber_length[i]),
                        "tendon_slack_length_m": float(mus.tendon_slack_length[i]), "pennation_rad": float(mus.pennation[i]),
                        "passive_strain_at_one": float(mus.passive_strain[i]),
                        "max_velocity_lopt_per_s": float(mus.max_velocity[i]),
                        "specific_tension_Pa": float(mus.specific_tension[i]), "density_kg_m3": float(mus.density[i]),
                        "slow_twitch_fraction": float(mus.slow_twitch_fraction[i])}
                    for i, n in enumerate(MUSCLE_NAMES)},
        "max_force_set": mus.max_force_set,
        "leg_params": setup.leg_params.tolist(),
    }


def setup_from_description(model: LegModel, described: dict) -> Setup:
    """Rebuild the Setup of a stored solution from its provenance (describe_setup): the rider and the resolved
    fit are placed again, and the parameter vector must equal the stored one (else the model data changed since
    the result was written, and a ValueError says so)."""
    rider = Rider(**described["rider"])
    fit = BikeFit(**described["fit"])
    setup = make_setup(model, rider, fit)
    stored = np.asarray(described.get("leg_params", setup.leg_params), dtype=float)
    if stored.shape != setup.leg_params.shape or not np.allclose(stored, setup.leg_params, rtol=1e-9, atol=1e-12):
        raise ValueError("the result's rider and fit no longer give the stored leg parameters (the model data "
                         "changed since it was written); re-solve with this toolkit version")
    return setup
