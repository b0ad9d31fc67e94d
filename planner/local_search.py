"""Local search on territory borders: move one unit at a time, never breaking contiguity.

Objective (minimised), for labels ``k(u)``:

``F = B + lambda_c * C + lambda_d * D`` where

- ``B = mean_k sum_m w_m [alpha (d_km / tau_m)^2 + beta max(0, |d_km| / tau_m - 1)^2]``
  is balance, with ``d_km`` the deviation of territory k's per-rep total of measure m
  from one rep's fair share and ``tau_m`` its tolerance;
- ``C = sum_u a_u |xy_u - c_k(u)|^2 / C_0`` is dispersion (moment of inertia around
  territory centres: rep homes when given, else weighted centroids), scaled to 1 at start;
- ``D = sum_u v_u [k(u) != ref(u)]`` is the share of the disruption measure moved.

Each round scores every border move (unit u to an adjacent territory) in one vectorised
pass, then applies improving moves best-first, re-scoring each against the current
state, skipping moves that would disconnect the unit's territory (articulation check by
a local breadth-first search) and moves that would increase total tolerance violation
``V = sum_k sum_m w_m max(0, |d_km| - tau_m) / tau_m``; so once a plan is within
tolerance, compactness and disruption can never push it out again. When no move
improves and ``V > 0``, the weights of compactness and disruption are lowered in steps
(0.1x, then 0) so balance can be reached, and restored for a final polish.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from planner.instance import Instance
from planner.options import ProgressCallback

ALPHA = 1.0
BETA = 50.0
EPS = 1e-12


@dataclass(frozen=True)
class SearchStats:
    """What the search did: rounds, moves applied, seconds, and whether it converged."""

    rounds: int
    moves: int
    seconds: float
    converged: bool


def _penalty(dev: np.ndarray, tol: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Balance penalty summed over the last axis (measures)."""
    z = np.abs(dev) / tol
    return ((ALPHA * z**2 + BETA * np.maximum(z - 1.0, 0.0) ** 2) * weights).sum(axis=-1)


def _violation(dev: np.ndarray, tol: np.ndarray, weights: np.ndarray) -> np.ndarray:
    return (np.maximum(np.abs(dev) / tol - 1.0, 0.0) * np.maximum(weights, 1e-6)).sum(axis=-1)


class BorderSearch:
    """Mutable search state over one instance; :meth:`run` improves ``labels`` in place."""

    def __init__(
        self,
        instance: Instance,
        labels: np.ndarray,
        neighbors: list[list[int]],
        *,
        compactness_weight: float,
        disruption_weight: float,
        max_disruption: float | None,
        rng: np.random.Generator,
    ) -> None:
        self.inst = instance
        self.labels = labels.copy()
        self.neighbors = neighbors
        self.lambda_c = compactness_weight
        self.lambda_d = disruption_weight
        self.max_disruption = max_disruption
        self.rng = rng
        n = instance.n_units
        self.tol = instance.tolerances
        self.w = instance.weights
        self.movable = instance.locked < 0
        self.rows = np.repeat(np.arange(n), np.diff(instance.indptr))
        self.has_home = np.zeros(instance.n_territories, dtype=bool)  # centres follow the territories
        self.has_ref = instance.reference >= 0
        self.reset(self.labels)
        d2 = ((instance.xy_km - self.centres[self.labels]) ** 2).sum(axis=1)
        self.c_scale = float((instance.compact_weight * d2).sum()) or 1.0

    def reset(self, labels: np.ndarray) -> None:
        """Take ``labels`` as the current plan and recompute every tally from scratch."""
        inst = self.inst
        K = inst.n_territories
        self.labels = labels.copy()
        self.load = np.zeros((K, len(self.tol)))
        np.add.at(self.load, self.labels, inst.share)
        self.load /= inst.reps[:, None]
        self.count = np.bincount(self.labels, minlength=K)
        self.centres = np.zeros((K, 2))
        self._update_centres()
        self.moved = self.has_ref & (self.labels != inst.reference)
        self.disruption = float(inst.disrupt_weight[self.moved].sum())

    # --- state ---------------------------------------------------------------------------
    def _update_centres(self) -> None:
        inst = self.inst
        K = inst.n_territories
        a = inst.compact_weight
        sums = np.zeros((K, 2))
        np.add.at(sums, self.labels, inst.xy_km * a[:, None])
        mass = np.bincount(self.labels, weights=a, minlength=K)
        centroid = sums / np.maximum(mass, 1e-12)[:, None]
        self.centres = np.where(self.has_home[:, None], inst.homes_xy, centroid)

    def deviations(self) -> np.ndarray:
        """Current deviation per territory and measure (fraction)."""
        return self.load - 1.0

    def violation(self) -> float:
        """Total tolerance violation V (0 when every territory is within every tolerance)."""
        return float(_violation(self.deviations(), self.tol, self.w).sum())

    def _apply(self, u: int, a: int, b: int) -> None:
        inst = self.inst
        self.labels[u] = b
        self.load[a] -= inst.share[u] / inst.reps[a]
        self.load[b] += inst.share[u] / inst.reps[b]
        self.count[a] -= 1
        self.count[b] += 1
        if self.has_ref[u]:
            was, now = self.moved[u], b != inst.reference[u]
            if was != now:
                self.moved[u] = now
                self.disruption += inst.disrupt_weight[u] * (1 if now else -1)

    # --- scoring -------------------------------------------------------------------------
    def _deltas(self, u: np.ndarray, a: np.ndarray, b: np.ndarray, lam_c: float, lam_d: float):
        """Objective change and violation change of moving units u from a to b (vectorised)."""
        inst = self.inst
        K = inst.n_territories
        s = inst.share[u]
        dev = self.load - 1.0
        da_old, db_old = dev[a], dev[b]
        da_new = da_old - s / inst.reps[a][:, None]
        db_new = db_old + s / inst.reps[b][:, None]
        tol, w = self.tol, self.w
        d_bal = (_penalty(da_new, tol, w) + _penalty(db_new, tol, w) - _penalty(da_old, tol, w) - _penalty(db_old, tol, w)) / K
        d_vio = (
            _violation(da_new, tol, w) + _violation(db_new, tol, w) - _violation(da_old, tol, w) - _violation(db_old, tol, w)
        )
        xy = inst.xy_km[u]
        d_c = inst.compact_weight[u] * (((xy - self.centres[b]) ** 2).sum(1) - ((xy - self.centres[a]) ** 2).sum(1))
        d_c = d_c / self.c_scale
        ref = inst.reference[u]
        has = ref >= 0
        d_d = inst.disrupt_weight[u] * has * ((b != ref).astype(float) - (a != ref).astype(float))
        return d_bal + lam_c * d_c + lam_d * d_d, d_vio, d_d

    def _keeps_connected(self, u: int, a: int) -> bool:
        """Would territory ``a`` stay connected without unit ``u``? (local BFS)."""
        labels, neighbors = self.labels, self.neighbors
        inside = [v for v in neighbors[u] if labels[v] == a]
        if len(inside) <= 1:
            return True
        targets = set(inside[1:])
        seen = {u, inside[0]}
        stack = [inside[0]]
        while stack:
            x = stack.pop()
            for y in neighbors[x]:
                if y in seen or labels[y] != a:
                    continue
                if y in targets:
                    targets.discard(y)
                    if not targets:
                        return True
                seen.add(y)
                stack.append(y)
        return not targets

    # --- search --------------------------------------------------------------------------
    def _round(self, lam_c: float, lam_d: float) -> int:
        """Score all border moves, apply the improving ones best-first; return moves applied."""
        inst = self.inst
        labels = self.labels
        a_all = labels[self.rows]
        b_all = labels[inst.indices]
        ok = (a_all != b_all) & self.movable[self.rows]
        ok &= ~inst.frozen_territory[a_all] & ~inst.frozen_territory[b_all]
        if not ok.any():
            return 0
        keys = np.unique(self.rows[ok].astype(np.int64) * inst.n_territories + b_all[ok])
        u, b = keys // inst.n_territories, keys % inst.n_territories
        a = labels[u]
        delta, d_vio, _ = self._deltas(u, a, b, lam_c, lam_d)
        good = (delta < -EPS) & (d_vio <= EPS)
        if not good.any():
            return 0
        u, a, b, delta = u[good], a[good], b[good], delta[good]
        order = np.lexsort((self.rng.random(len(delta)), delta))
        touched = np.zeros(inst.n_territories, dtype=bool)
        moved_units: set[int] = set()
        applied = 0
        for i in order:
            ui, ai, bi = int(u[i]), int(a[i]), int(b[i])
            if ui in moved_units or labels[ui] != ai or self.count[ai] <= 1:
                continue
            if not any(labels[v] == bi for v in self.neighbors[ui]):
                continue  # its neighbour in b left earlier in this round
            if touched[ai] or touched[bi]:  # state changed since scoring: score again
                d, v, dd = self._deltas(np.array([ui]), np.array([ai]), np.array([bi]), lam_c, lam_d)
                if d[0] >= -EPS or v[0] > EPS:
                    continue
                dd_i = float(dd[0])
            else:
                dd_i = None
            if self.max_disruption is not None:
                if dd_i is None:
                    dd_i = float(self._deltas(np.array([ui]), np.array([ai]), np.array([bi]), 0, 1)[2][0])
                if dd_i > 0 and self.disruption + dd_i > self.max_disruption + 1e-12:
                    continue
            if not self._keeps_connected(ui, ai):
                continue
            self._apply(ui, ai, bi)
            touched[ai] = touched[bi] = True
            moved_units.add(ui)
            applied += 1
        return applied

    def descend(self, scale_c: float, scale_d: float, deadline: float, progress: ProgressCallback | None,
                start: float) -> int:
        """Apply improving rounds until none helps or the deadline passes; return moves applied."""
        total = 0
        while time.perf_counter() < deadline:
            applied = self._round(self.lambda_c * scale_c, self.lambda_d * scale_d)
            self.rounds += 1
            total += applied
            if not self.has_home.all() and self.rounds % 2 == 0:
                self._update_centres()
            if progress is not None and self.rounds % 5 == 0:
                worst = np.abs(self.deviations()).max(axis=0)
                text = ", ".join(f"{m} {d:.1%}" for m, d in zip(self.inst.measures, worst, strict=True))
                spent = (time.perf_counter() - start) / max(deadline - start, 1e-9)
                progress(min(spent, 0.99), f"round {self.rounds}: max deviation {text}")
            if applied:
                continue
            if self.has_home.all():
                break
            self._update_centres()
            if not self._round(self.lambda_c * scale_c, self.lambda_d * scale_d):
                break
        return total

    # --- ejection chains ---------------------------------------------------------------
    def _best_move(self, territory: int, push: bool, banned: set[int], scale: float):
        """Cheapest single move out of (push) or into (pull) ``territory``: (dF, u, a, b) or None."""
        labels, neighbors = self.labels, self.neighbors
        inst = self.inst
        members = np.flatnonzero(labels == territory)
        pairs = set()
        for u in members:
            for v in neighbors[u]:
                k = int(labels[v])
                if k == territory or k in banned or inst.frozen_territory[k]:
                    continue
                if push and self.movable[u]:
                    pairs.add((int(u), territory, k))
                elif not push and self.movable[v]:
                    pairs.add((int(v), k, territory))
        if not pairs:
            return None
        u, a, b = (np.array(x) for x in zip(*sorted(pairs), strict=True))
        delta, _, _ = self._deltas(u, a, b, self.lambda_c * scale, self.lambda_d * scale)
        for i in np.argsort(delta, kind="stable"):
            if self.count[a[i]] > 1 and self._keeps_connected(int(u[i]), int(a[i])):
                return float(delta[i]), int(u[i]), int(a[i]), int(b[i])
        return None

    def eject_chains(self, deadline: float, depth: int = 5, scale: float = 0.0) -> int:
        """For each territory out of tolerance, try a chain of up to ``depth`` moves that
        passes the excess on (or pulls the deficit in) until it is absorbed, and keep it
        when the whole chain improves the objective and does not raise violation.
        Returns the number of moves kept."""
        kept = 0
        dev = self.deviations()
        violation = _violation(dev, self.tol, self.w)
        for t in np.argsort(-violation, kind="stable"):
            if violation[t] <= EPS or time.perf_counter() > deadline:
                break
            push = float((dev[t] * self.w / self.tol).sum()) > 0
            before_v = self.violation()
            chain, total, current, banned = [], 0.0, int(t), {int(t)}
            for _ in range(depth):
                move = self._best_move(current, push, banned, scale)
                if move is None:
                    break
                delta, u, a, b = move
                self._apply(u, a, b)
                chain.append((u, a, b))
                total += delta
                current = b if push else a
                banned.add(current)
                if total < -EPS and self.violation() < before_v - EPS:
                    break
            if chain and total < -EPS and self.violation() < before_v - EPS:
                kept += len(chain)
                dev = self.deviations()
                continue
            for u, a, b in reversed(chain):
                self._apply(u, b, a)
        return kept

    def run(self, *, time_limit_s: float, seed: int = 0, progress: ProgressCallback | None = None) -> SearchStats:
        """Descend; if tolerances are still missed, descend on balance alone and pass the
        excess along ejection chains; finally polish compactness within tolerance."""
        start = time.perf_counter()
        deadline = start + time_limit_s
        self.rounds = 0
        moves = self.descend(1.0, 1.0, deadline, progress, start)
        for scale in (0.1, 0.0):
            if self.violation() <= EPS:
                break
            moves += self.descend(scale, scale, deadline, progress, start)
        while self.violation() > EPS and time.perf_counter() < deadline:
            chained = self.eject_chains(deadline)
            if not chained:
                break
            moves += chained + self.descend(0.0, 0.0, deadline, progress, start)
        moves += self.descend(1.0, 1.0, deadline, progress, start)
        converged = time.perf_counter() < deadline
        return SearchStats(rounds=self.rounds, moves=moves, seconds=time.perf_counter() - start, converged=converged)
