"""Warm-start chains of a sweep: points that differ in intensity only are solved in order, each from the last
success before it (`build_chains`); `chain_key` says which points belong together."""
from __future__ import annotations

from typing import Any, Callable, Iterable, Sequence

from .config import Point
from .executors import ChainTask, PointTask

__all__ = ["chain_key", "build_chains"]


def chain_key(p: Point) -> tuple:
    """Points with equal chain keys differ in intensity only: rider, fit, condition (label) and cadence."""
    return (p.rider.name, p.fit_name, p.condition_label, float(p.spec.cadence_rpm))


def _task(p: Point) -> PointTask:
    return PointTask(p.key, p.rider, p.fit, p.spec)


def build_chains(points: Sequence[Point], skip: Iterable[str] = (), warm_start: bool = True, min_chains: int = 1,
                 guess_for: Callable[[str], Any] | None = None) -> list[ChainTask]:
    """Warm-start chains of the points not in `skip`, in sweep order.

    Points are grouped by `chain_key` (in their order, ascending intensity); a group's runs of consecutive
    points to solve are chains; a run after a skipped (stored) point gets guess_for(that key) as its first
    guess. Without warm_start every point is its own chain. With fewer chains than min_chains (the number of
    workers), the longest chains are halved until there are enough (the second half starts cold), and then
    while halving shortens the busiest worker's share of points."""
    skip = set(skip)
    groups: dict[tuple, list[Point]] = {}
    for p in points:
        groups.setdefault(chain_key(p), []).append(p)
    runs: list[tuple[list[Point], str | None]] = []  # (points, key of the stored point before them)
    for group in groups.values():
        if not warm_start:
            runs.extend(([p], None) for p in group if p.key not in skip)
            continue
        cur: list[Point] = []
        before: str | None = None
        for p in group:
            if p.key in skip:
                if cur:
                    runs.append((cur, before))
                    cur = []
                before = p.key
            else:
                cur.append(p)
        if cur:
            runs.append((cur, before))
    def halved(runs):  # the longest run cut in two (None if none can be cut)
        i = max(range(len(runs)), key=lambda j: len(runs[j][0]), default=None)
        if i is None or len(runs[i][0]) < 2:
            return None
        pts, before = runs[i]
        half = (len(pts) + 1) // 2
        return runs[:i] + [(pts[:half], before), (pts[half:], None)] + runs[i + 1:]

    def busiest(runs):  # points of the busiest worker when chains go, longest first, to the least busy
        loads = [0] * min_chains
        for n in sorted((len(r[0]) for r in runs), reverse=True):
            loads[loads.index(min(loads))] += n
        return max(loads)

    while len(runs) < min_chains and (cut := halved(runs)) is not None:
        runs = cut
    # Then balance: 3 chains of 10 on 2 workers would be 20 + 10 points; one more cut gives 15 + 15 (one more
    # cold start, a third less wall time).
    while min_chains > 1 and (cut := halved(runs)) is not None and busiest(cut) < busiest(runs):
        runs = cut
    chains = []
    for cid, (pts, before) in enumerate(runs):
        guess = None
        if warm_start and before is not None and guess_for is not None:
            guess = guess_for(before)
        chains.append(ChainTask(cid, tuple(_task(p) for p in pts), guess, warm_start))
    return chains
