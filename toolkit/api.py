"""The Python API: one problem object, one solve function, the same pipeline as the command line.

    import toolkit as tk
    sols = {c: tk.solve(tk.Problem(condition=c, power_W=250)) for c in ("free", "heel_drop")}
    tk.plot.joint_power(sols)                 # figure functions take solutions
    sols["free"].summary()                    # the `solve --json` fields as a dict
    sols["free"].on_crank_angle(step_deg=1)   # the time series on crank angle (a dict of columns)
    tk.run(tk.load_experiment("experiments/default.toml"), out="out")

`Problem` holds the rider, the bike fit and the problem settings in one object (rider and fit may be given as
objects, as keyword dicts, or, for the rider, as a profile name from toolkit/study/data/riders.toml).
`solve` accepts one problem or a list; a list is solved in order with one solver (structures built once) and each
point warm-started from its predecessor when the structure allows.
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field, fields
from typing import Any, Iterable, Sequence

from .model.anthropometry import Rider
from .model.bikefit import BikeFit
from .ocp.problem import CostSpec, ProblemSpec, SolverSpec
from .ocp.solution import Solution as _OcpSolution

_SPEC_FIELDS = {f.name for f in fields(ProblemSpec)} - {"cost", "solver"}


@dataclass(frozen=True)
class Problem:
    """One pedaling problem: rider, fit and settings (SI inside; degrees and rpm in the names).

    rider: a Rider, a dict of Rider fields, or a profile name ("reference", "high_lt", "low_lt").
    fit: a BikeFit or a dict of BikeFit fields. cost: a CostSpec or a dict. nodes, multistart and any other
    solver setting go to SolverSpec via `solver` (a dict or SolverSpec) or the `nodes`/`multistart` shortcuts.
    Every other keyword is a ProblemSpec field (condition, power_W, cadence_rpm, heel_drop_deg, ...).
    """

    condition: str = "free"
    power_W: float = 200.0
    cadence_rpm: float = 90.0
    rider: Any = "reference"
    fit: Any = None
    cost: Any = None
    solver: Any = None
    nodes: int | None = None
    multistart: int | None = None
    options: dict = field(default_factory=dict)

    def __init__(self, condition: str = "free", power_W: float = 200.0, cadence_rpm: float = 90.0,
                 rider: Any = "reference", fit: Any = None, cost: Any = None, solver: Any = None,
                 nodes: int | None = None, multistart: int | None = None, **options: Any) -> None:
        unknown = set(options) - _SPEC_FIELDS
        if unknown:
            raise TypeError(f"Problem: unknown settings {sorted(unknown)} (allowed: rider, fit, cost, solver, nodes, "
                            f"multistart, {', '.join(sorted(_SPEC_FIELDS))})")
        for k, v in dict(condition=condition, power_W=power_W, cadence_rpm=cadence_rpm, rider=rider, fit=fit,
                         cost=cost, solver=solver, nodes=nodes, multistart=multistart, options=options).items():
            object.__setattr__(self, k, v)
        self.spec()  # validate now, with the ProblemSpec's messages
        self.rider_object()

    def rider_object(self) -> Rider:
        """The Rider (profile names resolved from the packaged riders.toml)."""
        if isinstance(self.rider, Rider):
            return self.rider
        if isinstance(self.rider, dict):
            return Rider(**self.rider)
        if isinstance(self.rider, str):
            from .study.config import rider_profile

            return rider_profile(self.rider)
        raise TypeError("rider: a Rider, a dict of Rider fields or a profile name")

    def fit_object(self) -> BikeFit:
        if self.fit is None:
            return BikeFit()
        return self.fit if isinstance(self.fit, BikeFit) else BikeFit(**self.fit)

    def spec(self) -> ProblemSpec:
        """The ProblemSpec this problem solves."""
        cost = self.cost if isinstance(self.cost, CostSpec) else CostSpec(**(self.cost or {}))
        solver = self.solver if isinstance(self.solver, SolverSpec) else SolverSpec(**(self.solver or {}))
        short = {k: v for k, v in (("nodes", self.nodes), ("multistart", self.multistart)) if v is not None}
        if short:
            solver = dataclasses.replace(solver, **short)
        return ProblemSpec(condition=self.condition, power_W=self.power_W, cadence_rpm=self.cadence_rpm,
                           cost=cost, solver=solver, **self.options)

    def replace(self, **changes: Any) -> "Problem":
        """A copy with some settings changed (any Problem argument or ProblemSpec field)."""
        base = dict(condition=self.condition, power_W=self.power_W, cadence_rpm=self.cadence_rpm, rider=self.rider,
                    fit=self.fit, cost=self.cost, solver=self.solver, nodes=self.nodes, multistart=self.multistart)
        return Problem(**(base | self.options | changes))


class Solution(_OcpSolution):
    """A solved (or sealed, failed) pedaling cycle with the analysis at hand: the solver's Solution plus
    `.summary()` and `.on_crank_angle()` (the solver itself knows nothing of the analysis)."""

    def summary(self) -> dict:
        """The `solve --json` fields of this solution as a dict (toolkit.analysis.summary)."""
        from .analysis.summary import solution_summary

        return solution_summary(self)

    def on_crank_angle(self, step_deg: float = 1.0) -> dict:
        """The time series on a crank-angle grid (0 to 360 deg, both ends) as a table {column: 1-D array}:
        joint angles/moments/powers, sole angle, pedal forces, per-muscle activation, excitation, force and
        normalized fibre length (pandas.DataFrame(...) makes a data frame of it)."""
        from .analysis.tables import crank_angle_table

        return crank_angle_table(self, step_deg)

    @classmethod
    def of(cls, sol: _OcpSolution) -> "Solution":
        """Wrap a solver or loader Solution (same data; other starts wrapped too)."""
        fields_ = {f.name: getattr(sol, f.name) for f in dataclasses.fields(_OcpSolution)}
        fields_["start_solutions"] = [cls.of(s) for s in sol.start_solutions]
        return cls(**fields_)


def solve(problem: Problem | Sequence[Problem], warm_start: Solution | None = None, solver=None
          ) -> Solution | list[Solution]:
    """Solve one problem (returns a Solution) or a list (returns a list, in order). A failed solve comes back
    sealed (`.success` False, reading its data raises); it is never a result. `solver`: a
    toolkit.ocp.solve.PedalingSolver to reuse across calls (its built structures are kept)."""
    from .ocp.solve import PedalingSolver
    from .study.executors import solve_problem

    solver = solver or PedalingSolver()
    many = not isinstance(problem, Problem)
    out, guess = [], warm_start
    for pr in (problem if many else [problem]):
        sol = Solution.of(solve_problem(pr.rider_object(), pr.fit_object(), pr.spec(), guess, solver=solver))
        out.append(sol)
        guess = sol if sol.success else warm_start
    return out if many else out[0]


def load_experiment(source: str | os.PathLike | dict, overrides: Iterable[str] = ()):
    """An experiment from a TOML file or from a dict with the same content (validated the same way)."""
    from .study.config import load_experiment as _load

    if isinstance(source, dict):
        return _load("<dict>", overrides, data=source)
    return _load(source, overrides)


def run(experiment, out: str | os.PathLike | None = None, jobs: int = 1, resume: bool = False, **kw):
    """Solve every point of an experiment into OUT/NAME.h5 with figures and a summary (as `toolkit run`)."""
    from .study.runner import run_experiment

    return run_experiment(experiment, out_dir=out, jobs=jobs, resume=resume, **kw)


def load_study(name_or_folder: str | os.PathLike):
    """A study definition (toolkit.study.registry.StudyDef): a shipped study by name (`"heel_drop"`) or any folder
    with a study.toml. `.question`, `.variants`, `.published`, `.param(key)`."""
    from .study.registry import study as _study

    return _study(name_or_folder)


def reproduce(name_or_folder, out: str | os.PathLike = "out/studies", quick: bool = False) -> dict:
    """Solve, store and render one study into OUT/<name>/ (as `python -m toolkit reproduce`); returns the run
    information (points, failures, run time). quick: 16 nodes and the study's reduced point set."""
    from .study.reproduce import reproduce_study

    st = load_study(name_or_folder) if not hasattr(name_or_folder, "variants") else name_or_folder
    return reproduce_study(st, out, quick=quick, progress=False)


def study_results(name_or_folder, out: str | os.PathLike = "results"):
    """What is stored for a study under OUT/<name>/ (no solving): a StudyData with `.records` (each with `.sol`,
    `.labels`), `.failures`, `.find(...)`, `.one(...)`, and `.rows()`: the model-vs-published comparison rows."""
    from .study.readback import load_study_data

    st = load_study(name_or_folder) if not hasattr(name_or_folder, "variants") else name_or_folder
    return load_study_data(st, out)
