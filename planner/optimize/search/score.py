"""Scoring: what a move, a swap or a change of rep counts would do to the objective, as pure functions.

Objective (minimised), for labels ``k(u)``: ``F = B + lambda_c * C + lambda_d * D`` where

- ``B = mean_k sum_m w_m [alpha (d_km / tau_m)^2 + beta max(0, |d_km| / tau_m - 1)^2]``
  is balance, with ``d_km`` the deviation of territory k's per-rep total of measure m
  from one rep's fair share and ``tau_m`` its tolerance;
- ``C`` is compactness: a ``CUT_SHARE`` of cut border length and the rest dispersion,
  ``sum_k I_k``, the moment of inertia of territory k around its weighted centroid, kept
  exactly from running sums; both scaled to 1 at the start;
- ``D = sum_u v_u [k(u) != ref(u)]`` is the share of the disruption measure moved.

Tolerance violation ``V = sum_k sum_m w_m max(0, |d_km| - tau_m) / tau_m`` is what steps
may not raise (:func:`~planner.optimize.search.state.tolerance_violation`). Nothing here
changes the state; scoring calls are charged to the search clock.
"""

from __future__ import annotations

import numpy as np

from planner.optimize.search.state import SearchState, tolerance_violation

ALPHA = 1.0
BETA = 50.0
CUT_SHARE = 0.5  # share of compactness measured by cut border length (the rest: dispersion)


def penalty(dev: np.ndarray, tol: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Balance penalty summed over the last axis (measures)."""
    z = np.abs(dev) / tol
    return ((ALPHA * z**2 + BETA * np.maximum(z - 1.0, 0.0) ** 2) * weights).sum(axis=-1)


def _adjacency_entries(state: SearchState, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Position in ``u`` and adjacency (CSR) entry of every neighbour of the units ``u``."""
    counts = state.degree[u]
    row = np.repeat(np.arange(len(u)), counts)
    entry = np.repeat(state.instance.indptr[u] - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
    return row, entry


def border_change(state: SearchState, u: np.ndarray, into: np.ndarray, out_of: np.ndarray) -> np.ndarray:
    """Border (km) each unit ``u[i]`` shares with territory ``into[i]`` minus with ``out_of[i]``."""
    row, entry = _adjacency_entries(state, u)
    neighbour = state.labels[state.instance.indices[entry]]
    length = state.border[entry]
    with_into = np.bincount(row, weights=length * (neighbour == into[row]), minlength=len(u))
    return with_into - np.bincount(row, weights=length * (neighbour == out_of[row]), minlength=len(u))


def shared_border(state: SearchState, us: np.ndarray, ws: np.ndarray) -> np.ndarray:
    """Length (km) of border each unit of ``us`` shares with each unit of ``ws`` (len(us) x len(ws))."""
    row, entry = _adjacency_entries(state, us)
    state.column[ws] = np.arange(len(ws))
    col = state.column[state.instance.indices[entry]]
    state.column[ws] = -1
    shared = np.zeros((len(us), len(ws)))
    shared[row[col >= 0], col[col >= 0]] = state.border[entry[col >= 0]]
    return shared


def move_deltas(
    state: SearchState, u: np.ndarray, a: np.ndarray, b: np.ndarray, lam_c: float, lam_d: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Change of objective, violation and disruption if each unit ``u[i]`` moved from ``a[i]`` to ``b[i]``."""
    inst = state.instance
    state.clock.charge("call")
    state.clock.charge("scored", len(u))
    K = inst.n_territories
    s = inst.share[u]
    dev = state.load - 1.0
    da_old, db_old = dev[a], dev[b]
    da_new = da_old - s / state.reps[a][:, None]
    db_new = db_old + s / state.reps[b][:, None]
    tol, w, wv = state.tol, state.w, state.wv
    d_bal = (
        penalty(da_new, tol, w) + penalty(db_new, tol, w) - penalty(da_old, tol, w) - penalty(db_old, tol, w)
    ) / K
    d_vio = (
        tolerance_violation(da_new, tol, wv)
        + tolerance_violation(db_new, tol, wv)
        - tolerance_violation(da_old, tol, wv)
        - tolerance_violation(db_old, tol, wv)
    )
    w = inst.compact_weight[u]
    wx, wq = state.xy[u] * w[:, None], state.q[u] * w
    new_a = state.inertia(state.mass[a] - w, state.first[a] - wx, state.second[a] - wq)
    new_b = state.inertia(state.mass[b] + w, state.first[b] + wx, state.second[b] + wq)
    inertia = state.inertia()
    d_cut = border_change(state, u, a, b) / state.p_scale
    d_c = (1.0 - CUT_SHARE) * (new_a + new_b - inertia[a] - inertia[b]) / state.c_scale + CUT_SHARE * d_cut
    ref = inst.reference[u]
    has = ref >= 0
    d_d = inst.disrupt_weight[u] * has * ((b != ref).astype(float) - (a != ref).astype(float))
    return d_bal + lam_c * d_c + lam_d * d_d, d_vio, d_d


def swap_deltas(
    state: SearchState, us: np.ndarray, ws: np.ndarray, a: int, b: int, lam_c: float, lam_d: float
) -> tuple[np.ndarray, np.ndarray]:
    """Objective and violation change of swapping each u of ``us`` (in a) with each w of ``ws`` (in b).

    Returns flat arrays over the pairs in row-major order (u of ``us`` outer, w of
    ``ws`` inner); per-unit terms are computed once per unit, not once per pair.
    """
    inst = state.instance
    n_pairs = len(us) * len(ws)
    state.clock.charge("call")
    state.clock.charge("scored", n_pairs)
    dev = state.deviations()
    tol, w, wv = state.tol, state.w, state.wv
    net = (inst.share[us][:, None, :] - inst.share[ws][None, :, :]).reshape(n_pairs, -1)
    dev_a, dev_b = dev[a] - net / state.reps[a], dev[b] + net / state.reps[b]
    balance = (
        penalty(dev_a, tol, w) + penalty(dev_b, tol, w) - penalty(dev[a], tol, w) - penalty(dev[b], tol, w)
    ) / inst.n_territories
    d_vio = (
        tolerance_violation(dev_a, tol, wv)
        + tolerance_violation(dev_b, tol, wv)
        - tolerance_violation(dev[a], tol, wv)
        - tolerance_violation(dev[b], tol, wv)
    )
    wu, ww_ = inst.compact_weight[us], inst.compact_weight[ws]
    dm = (ww_[None, :] - wu[:, None]).ravel()
    xy_u, xy_w = state.xy[us] * wu[:, None], state.xy[ws] * ww_[:, None]
    dfirst = (xy_w[None, :, :] - xy_u[:, None, :]).reshape(n_pairs, 2)
    dsecond = ((state.q[ws] * ww_)[None, :] - (state.q[us] * wu)[:, None]).ravel()
    inertia = state.inertia()
    new_a = state.inertia(state.mass[a] + dm, state.first[a] + dfirst, state.second[a] + dsecond)
    new_b = state.inertia(state.mass[b] - dm, state.first[b] - dfirst, state.second[b] - dsecond)
    # u leaves a for b, then w leaves b for a; their shared border stays cut.
    a_u, b_u = np.full(len(us), a), np.full(len(us), b)
    a_w, b_w = np.full(len(ws), a), np.full(len(ws), b)
    cut_u = border_change(state, us, a_u, b_u)
    cut_w = border_change(state, ws, b_w, a_w)
    cut = (cut_u[:, None] + cut_w[None, :] + 2.0 * shared_border(state, us, ws)).ravel()
    compact = (1.0 - CUT_SHARE) * (new_a + new_b - inertia[a] - inertia[b]) / state.c_scale
    compact = compact + CUT_SHARE * cut / state.p_scale
    ref = inst.reference
    disrupt_u = inst.disrupt_weight[us] * (ref[us] >= 0) * ((b != ref[us]).astype(float) - (a != ref[us]))
    disrupt_w = inst.disrupt_weight[ws] * (ref[ws] >= 0) * ((a != ref[ws]).astype(float) - (b != ref[ws]))
    disrupt = (disrupt_u[:, None] + disrupt_w[None, :]).ravel()
    return balance + lam_c * compact + lam_d * disrupt, d_vio


def rep_gain(state: SearchState, change: float) -> np.ndarray:
    """Fall in each territory's violation if its rep count changed by ``change`` (units stay)."""
    reps = state.reps
    totals = state.load * reps[:, None]
    after = totals / np.maximum(reps + change, 1.0)[:, None] - 1.0
    return tolerance_violation(state.load - 1.0, state.tol, state.wv) - tolerance_violation(
        after, state.tol, state.wv
    )
