"""Raking a breakdown to its total: both members of a breakdown (female/male, urban/rural)
shifted by one logit amount so that their population-weighted mean equals the total, in the
point and in every replicate."""
from __future__ import annotations

import numpy as np

from indicators.trend_model import SQUEEZE, expit, logit, sigmoid

# Replicates raked at a time: with 200 replicates of Internet use the working arrays of a
# breakdown's raking take ~16 MB (~40 MB 25 at a time, ~310 MB all at once), and the small
# arrays rake faster too; the results are the same (each row is raked on its own).
RAKE_CHUNK = 10


def rake_replicates(total_draws: np.ndarray, member_logits: np.ndarray,
                    weights: np.ndarray) -> np.ndarray:
    """(R, n, 2) member values of every replicate, raked to that replicate's total
    (`total_draws`, (R, n) logits), every member free."""
    out = np.empty(member_logits.shape)
    for start in range(0, len(member_logits), RAKE_CHUNK):  # rows are raked independently
        part = slice(start, start + RAKE_CHUNK)
        out[part] = rake(expit(total_draws[part]), member_logits[part], weights[None],
                         np.ones_like(member_logits[part], bool))
    return out


def rake(total_p: np.ndarray, logits: np.ndarray, weights: np.ndarray, free: np.ndarray,
         iterations: int = 60, tolerance: float = 1e-7) -> np.ndarray:
    """Shift the free members' logits (last axis: the two members) by one amount per row so
    that the weighted mean of the members equals the total.

    The weighted mean rises monotonically with the shift, so a Newton step is taken when it
    stays inside the bracket known to hold the root, and the bracket is halved otherwise.
    Rows stop once they meet the total; rows that cannot (an observed member leaves no room)
    end at the bound of the bracket."""
    shape = np.broadcast_shapes(logits.shape, weights.shape, free.shape,
                                np.shape(total_p) + (2,))
    l1, l2 = (np.broadcast_to(logits, shape)[..., k].ravel() for k in (0, 1))
    w1, w2 = (np.broadcast_to(weights, shape)[..., k].ravel() for k in (0, 1))
    f1, f2 = (np.broadcast_to(free, shape)[..., k].ravel().astype(float) for k in (0, 1))
    target_p = np.broadcast_to(total_p, shape[:-1]).ravel()
    w_total = w1 + w2
    # a row with no population to split (both weights 0) is split evenly, not divided by 0:
    # it weighs nothing in any aggregate either way
    empty = w_total == 0
    if empty.any():
        w1, w2 = np.where(empty, 1.0, w1), np.where(empty, 1.0, w2)
        w_total = w1 + w2
    # start from the shift that would be exact if both members were equal
    s = np.where(f1 + f2 > 0, logit(target_p) - (w1 * l1 + w2 * l2) / w_total, 0.0)
    rows = np.flatnonzero(f1 + f2 > 0)
    work = [x[rows] for x in (l1, l2, w1, w2, f1, f2, target_p, w_total, s)]
    lo, hi = np.full(rows.size, -30.0), np.full(rows.size, 30.0)
    active = np.ones(rows.size, dtype=bool)
    for _ in range(iterations):
        if 2 * np.count_nonzero(active) < active.size:
            s[rows] = work[-1]
            rows, lo, hi, *work = (x[active] for x in (rows, lo, hi, *work))
            active = active[active]
        if rows.size == 0:
            break
        a1, a2, v1, v2, g1, g2, target, v_total, shift = work
        (p1, d1), (p2, d2) = _expit_and_slope(a1 + shift * g1), _expit_and_slope(a2 + shift * g2)
        gap = (v1 * p1 + v2 * p2) / v_total - target
        lo = np.where(gap < 0, shift, lo)
        hi = np.where(gap > 0, shift, hi)
        slope = (v1 * g1 * d1 + v2 * g2 * d2) / v_total
        newton = shift - np.divide(gap, slope, out=np.full_like(gap, np.inf),
                                   where=slope > 1e-12)
        inside = (newton >= lo) & (newton <= hi)
        work[-1] = np.where(active, np.where(inside, newton, (lo + hi) / 2), shift)
        active &= (np.abs(gap) > tolerance) & (hi - lo > 1e-9)
    s[rows] = work[-1]
    p1, p2 = expit(l1 + s * f1), expit(l2 + s * f2)
    return np.stack([p1, p2], axis=-1).reshape(shape)


def _expit_and_slope(x):
    """`expit` and its derivative (per cent per logit unit; 0 where clipped at 0 or 100)."""
    s = sigmoid(x)
    p = (100 + 2 * SQUEEZE) * s - SQUEEZE
    inside = (p > 0) & (p < 100)
    return np.clip(p, 0.0, 100.0), np.where(inside, (100 + 2 * SQUEEZE) * s * (1 - s), 0.0)
