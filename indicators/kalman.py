"""A damped local linear trend with release offsets, as a state-space model run for every
economy at once (NumPy arrays with the economies on the first axis after time).

State of an economy: [level, slope, offset of release 0, …, offset of release R-1, revision]
on the logit scale. Each year the level moves by the slope plus a shock, and the slope is damped
towards the economy's pooled slope mu:

    level_t  = level_t-1 + slope_t-1 + eta_t              eta  ~ N(0, q_level h_t)
    slope_t  = phi * slope_t-1 + (1 - phi) * mu + zeta_t  zeta ~ N(0, q_slope h_t)
    offset_r constant (a release's level difference, prior N(0, tau_r^2); 0 for the
    economy's reference release)
    revision constant (a level difference shared by every release older than the reference,
    where the economy's series was revised; else 0)

A value of release r in year t measures level_t + offset_r (+ revision, for the values
`loads` marks) with error N(0, s2), s2 by the kind of value (reported, publisher's estimate,
unflagged). `kalman_filter` returns the
filtered and predicted moments and the log-likelihood; `smooth` the smoothed moments;
`sample_levels` draws whole level paths from their posterior (forward filtering, backward
sampling), so that a draw's years hang together as trend errors do. h (per economy and
year, 1 where not given) scales the shocks: the trend model makes them smaller near 0 and 100.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

JITTER = 1e-9


@dataclass
class Model:
    phi: float
    q_level: float
    q_slope: float
    mu: np.ndarray        # (N,) pooled slope of each economy
    m0: np.ndarray        # (N, d) initial state mean
    p0: np.ndarray        # (N, d, d) initial state covariance
    loads: np.ndarray     # (T, N, R) the values that carry the revision (last state)
    jumps: np.ndarray | None = None   # (T, N) years in which the level may jump
    jump_z: float | None = None   # else: a value this many standard errors off opens a jump
    jump_var: float = 4.0         # variance of such a jump (logit)
    no_jump: np.ndarray | None = None  # (T, N) years whose values may not open a jump
    shock_scale: np.ndarray | None = None  # (T, N) h: the shocks into year t, times h_t

    @property
    def dim(self) -> int:
        return self.m0.shape[1]

    def transition(self) -> np.ndarray:
        a = np.eye(self.dim)
        a[0, 1] = 1.0
        a[1, 1] = self.phi
        return a

    def drift(self) -> np.ndarray:
        c = np.zeros_like(self.m0)
        c[:, 1] = (1 - self.phi) * self.mu
        return c

    def noise(self, t: int) -> np.ndarray:
        """(N, d, d) or (d, d): the covariance of the shocks into year t."""
        q = np.zeros((self.dim, self.dim))
        q[0, 0], q[1, 1] = self.q_level, self.q_slope
        return q if self.shock_scale is None else self.shock_scale[t][:, None, None] * q


@dataclass
class Filtered:
    m_pred: np.ndarray   # (T, N, d)
    p_pred: np.ndarray   # (T, N, d, d)
    m_filt: np.ndarray
    p_filt: np.ndarray
    loglik: np.ndarray   # (N,)
    innovations: np.ndarray  # (T, N, R) standardised one-step errors (NaN where no value)
    jumps: np.ndarray        # (T, N) the years the level was let jump


def kalman_filter(model: Model, y: np.ndarray, s2: np.ndarray,
                  moments: bool = True) -> Filtered:
    """y, s2: (T, N, R) values (NaN where none) and their error variances. Without `moments`
    only the log-likelihood and the jumps are kept (what a fit needs): the moments and
    innovations stay empty."""
    steps, n, releases = y.shape
    a, c = model.transition(), model.drift()
    d = model.dim
    m, p = model.m0.copy(), model.p0.copy()     # updated in place below
    kept = steps if moments else 0
    out = Filtered(np.empty((kept, n, d)), np.empty((kept, n, d, d)), np.empty((kept, n, d)),
                   np.empty((kept, n, d, d)), np.zeros(n), np.full((kept, n, releases), np.nan),
                   np.zeros((steps, n), dtype=bool))
    for t in range(steps):
        if t > 0:
            m = m @ a.T + c
            p = _predicted_covariance(p, model.phi, model.noise(t))
        jump = (model.jumps[t] if model.jumps is not None else
                _surprising(model, t, m, p, y[t], s2[t]) if model.jump_z is not None else None)
        if jump is not None and jump.any():
            p[jump, 0, 0] += model.jump_var
            out.jumps[t] = jump
        if moments:
            out.m_pred[t], out.p_pred[t] = m, p
        for r in range(releases):
            seen = ~np.isnan(y[t, :, r])
            if not seen.any():
                continue
            col, load = 2 + r, model.loads[t, :, r]
            ph = p[:, :, 0] + p[:, :, col] + load[:, None] * p[:, :, -1]   # P h
            s = ph[:, 0] + ph[:, col] + load * ph[:, -1] + s2[t, :, r]
            v = np.where(seen, y[t, :, r] - m[:, 0] - m[:, col] - load * m[:, -1], 0.0)
            s = np.where(seen, s, 1.0)
            k = ph * (seen / s)[:, None]                   # no gain where no value
            m += k * v[:, None]
            p -= k[:, :, None] * ph[:, None, :]     # p is this loop's own array
            out.loglik += np.where(seen, -0.5 * (np.log(2 * np.pi * s) + v * v / s), 0.0)
            if moments:
                out.innovations[t, seen, r] = (v / np.sqrt(s))[seen]
        if moments:
            out.m_filt[t], out.p_filt[t] = m, p
    return out


def _predicted_covariance(p: np.ndarray, phi: float, q: np.ndarray) -> np.ndarray:
    """A P A' + Q for the transition A (level += slope, slope *= phi; the offsets stay),
    row and column operations instead of two batched products of (d x d) matrices."""
    p = p.copy()
    p[:, 0, :] += p[:, 1, :]
    p[:, 1, :] *= phi
    p[:, :, 0] += p[:, :, 1]
    p[:, :, 1] *= phi
    p += q
    return p


def _surprising(model: Model, t: int, m, p, y, s2) -> np.ndarray:
    """(N,) economies with a value more than `jump_z` standard errors from its prediction:
    there the level may jump this year (a network launched, a new survey), its variance
    widened before the update. Level shocks are thus heavy-tailed: small as a rule, large
    where the data demand it, without the rare jumps inflating every year's uncertainty."""
    n, releases = y.shape
    d = m.shape[1]
    h = np.zeros((n, releases, d))
    h[:, :, 0] = 1.0
    h[:, np.arange(releases), 2 + np.arange(releases)] = 1.0
    h[:, :, -1] = model.loads[t]
    predicted = (h @ m[:, :, None])[:, :, 0]
    spread = np.einsum("nrd,nde,nre->nr", h, p, h) + s2
    z = np.abs(y - predicted) / np.sqrt(spread)
    surprising = np.nanmax(np.where(np.isnan(y), 0.0, z), axis=1) > model.jump_z
    return surprising if model.no_jump is None else surprising & ~model.no_jump[t]


def _gain(f: Filtered, a: np.ndarray, t: int) -> np.ndarray:
    """J_t = P_t|t A' (P_t+1|t)^-1, for every economy."""
    d = a.shape[0]
    pred = f.p_pred[t + 1] + JITTER * np.eye(d)
    return np.linalg.solve(pred, (f.p_filt[t] @ a.T).transpose(0, 2, 1)).transpose(0, 2, 1)


def smooth(model: Model, f: Filtered) -> tuple[np.ndarray, np.ndarray]:
    """Smoothed state means (T, N, d) and covariances (T, N, d, d)."""
    a = model.transition()
    steps = f.m_filt.shape[0]
    ms, ps = f.m_filt.copy(), f.p_filt.copy()
    for t in range(steps - 2, -1, -1):
        j = _gain(f, a, t)
        ms[t] = f.m_filt[t] + np.einsum("nij,nj->ni", j, ms[t + 1] - f.m_pred[t + 1])
        ps[t] = f.p_filt[t] + j @ (ps[t + 1] - f.p_pred[t + 1]) @ j.transpose(0, 2, 1)
    return ms, ps


def _root(p: np.ndarray) -> np.ndarray:
    """A square root L of each covariance (L L' = P), tolerant of zero and rounding-negative
    eigenvalues (a reference release's offset has variance 0)."""
    w, v = np.linalg.eigh((p + np.swapaxes(p, -1, -2)) / 2)
    return v * np.sqrt(np.clip(w, 0, None))[..., None, :]


def sample_levels(model: Model, f: Filtered, rng: np.random.Generator,
                  draws: int) -> np.ndarray:
    """Draws of the whole level path from its posterior: (draws, T, N). The state of every
    year is drawn (backwards, each year given the next year's draw) but only its level is
    kept: the whole state of every year would be d times the memory (63 MB for Internet use
    with 200 draws)."""
    a = model.transition()
    steps, n, d = f.m_filt.shape
    levels = np.empty((draws, steps, n))
    state = f.m_filt[-1] + _apply(_root(f.p_filt[-1]), rng.standard_normal((draws, n, d)))
    levels[:, -1] = state[:, :, 0]
    for t in range(steps - 2, -1, -1):
        j = _gain(f, a, t)
        mean = f.m_filt[t] + _apply(j, state - f.m_pred[t + 1])
        cov = f.p_filt[t] - j @ f.p_pred[t + 1] @ j.transpose(0, 2, 1)
        state = mean + _apply(_root(cov), rng.standard_normal((draws, n, d)))
        levels[:, t] = state[:, :, 0]
    return levels


def _apply(m: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Each economy's matrix (N, d, d) applied to its vectors in every draw (draws, N, d)."""
    return (x.transpose(1, 0, 2) @ m.transpose(0, 2, 1)).transpose(1, 0, 2)   # one matmul per economy
