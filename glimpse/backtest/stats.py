"""Statistics that do not lie: intervals, break-even, expected value, the binomial test, BH.

All functions are vectorised over numpy arrays and need nothing beyond
numpy: the binomial tail is the regularised incomplete beta function,
computed with its continued fraction (modified Lentz) and a Stirling
log-gamma, to about 1e-12 relative precision.

A cycle is one signal's trade with its gales; it wins when any level wins.
Its hit rate is wins / (wins + losses): unresolved cycles are not counted.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from glimpse.rules.money import MoneyPlan

Z95 = 1.959963984540054  # the two-sided 95 % normal quantile

# --- intervals -----------------------------------------------------------------


def wilson(wins: ArrayLike, trials: ArrayLike, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """The Wilson score interval of wins/trials (NaN where trials == 0)."""
    wins = np.asarray(wins, dtype=np.float64)
    trials = np.asarray(trials, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = wins / trials
        z2 = z * z
        centre = (rate + z2 / (2 * trials)) / (1 + z2 / trials)
        half = z / (1 + z2 / trials) * np.sqrt(rate * (1 - rate) / trials + z2 / (4 * trials * trials))
    low = np.clip(centre - half, 0.0, 1.0)
    high = np.clip(centre + half, 0.0, 1.0)
    return low, high


# --- the binomial tail -----------------------------------------------------------

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def log_gamma(x: np.ndarray) -> np.ndarray:
    """ln Γ(x) for x > 0 (vectorised): Stirling's series past 8, shifted up below it."""
    x = np.asarray(x, dtype=np.float64)
    shift = np.zeros_like(x)
    y = x.copy()
    small = y < 8
    while small.any():
        shift[small] += np.log(y[small])
        y[small] += 1
        small = y < 8
    inv = 1 / y
    inv2 = inv * inv
    series = inv * (
        1 / 12
        - inv2 * (1 / 360 - inv2 * (1 / 1260 - inv2 * (1 / 1680 - inv2 * (1 / 1188 - inv2 * 691 / 360360))))
    )
    return (y - 0.5) * np.log(y) - y + _HALF_LOG_2PI + series - shift


_TINY = 1e-300
_EPS = 1e-14


def _beta_fraction(a: np.ndarray, b: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The continued fraction of I_x(a, b) (Numerical Recipes' betacf, modified Lentz).

    Every item is iterated until its own step is within _EPS of 1; the work
    arrays are compacted as items converge, so the many fast ones do not
    pay for the few slow ones (those near the mean with a large a + b).
    """
    size = a.size
    result = np.empty(size)
    where = np.arange(size)
    qab, qap, qam = a + b, a + 1, a - 1
    c = np.ones(size)
    d = 1 - qab * x / qap
    d = 1 / np.where(np.abs(d) < _TINY, _TINY, d)
    h = d.copy()
    # ~sqrt(max(a, b)) steps suffice; the cap only guards against looping forever
    limit = 100 + 20 * int(math.sqrt(float(max(a.max(initial=0), b.max(initial=0)))))
    m = 0
    while where.size and m < limit:
        m += 1
        m2 = 2 * m
        step = np.ones(0)
        for numerator in (
            m * (b - m) * x / ((qam + m2) * (a + m2)),
            -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)),
        ):
            d = 1 + numerator * d
            d = 1 / np.where(np.abs(d) < _TINY, _TINY, d)
            c = 1 + numerator / c
            c = np.where(np.abs(c) < _TINY, _TINY, c)
            step = d * c
            h *= step
        done = np.abs(step - 1) < _EPS
        if done.any():
            result[where[done]] = h[done]
            keep = ~done
            where = where[keep]
            a, b, x, qab, qap, qam = a[keep], b[keep], x[keep], qab[keep], qap[keep], qam[keep]
            c, d, h = c[keep], d[keep], h[keep]
    result[where] = h
    return result


def beta_regularized(a: np.ndarray, b: np.ndarray, x: np.ndarray) -> np.ndarray:
    """I_x(a, b) for a, b > 0 and 0 < x < 1 (vectorised)."""
    a, b, x = np.broadcast_arrays(
        np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64), np.asarray(x, dtype=np.float64)
    )
    a, b, x = a.ravel(), b.ravel(), x.ravel()
    log_front = log_gamma(a + b) - log_gamma(a) - log_gamma(b) + a * np.log(x) + b * np.log1p(-x)
    direct = x < (a + 1) / (a + b + 2)
    result = np.empty(a.size)
    # the fraction converges fast on the side of the mean; use the symmetry on the other
    if direct.any():
        i = np.flatnonzero(direct)
        result[i] = np.exp(log_front[i]) * _beta_fraction(a[i], b[i], x[i]) / a[i]
    if (~direct).any():
        i = np.flatnonzero(~direct)
        result[i] = 1 - np.exp(log_front[i]) * _beta_fraction(b[i], a[i], 1 - x[i]) / b[i]
    return np.clip(result, 0.0, 1.0)


def binomial_sf(successes: ArrayLike, trials: ArrayLike, p: ArrayLike) -> np.ndarray:
    """P(X >= successes) for X ~ Binomial(trials, p): the one-sided p-value of `successes`."""
    k = np.asarray(successes, dtype=np.int64)
    n = np.asarray(trials, dtype=np.int64)
    k, n, prob = np.broadcast_arrays(k, n, np.asarray(p, dtype=np.float64))
    shape = k.shape
    k, n, prob = k.ravel(), n.ravel(), prob.ravel()
    result = np.where(k <= 0, 1.0, 0.0)
    inner = (k > 0) & (k <= n)
    ones = inner & (prob >= 1)
    result[ones] = 1.0
    inner &= (prob > 0) & (prob < 1)
    if inner.any():
        i = np.flatnonzero(inner)
        result[i] = beta_regularized(k[i], n[i] - k[i] + 1, prob[i])
    return result.reshape(shape)


# --- multiple testing -----------------------------------------------------------


def benjamini_hochberg(p_values: ArrayLike, q: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """(rejected, adjusted p-values) of the Benjamini–Hochberg step-up procedure at FDR `q`."""
    p = np.asarray(p_values, dtype=np.float64).ravel()
    m = p.size
    if not m:
        return np.zeros(0, dtype=bool), np.zeros(0)
    order = np.argsort(p, kind="stable")
    ranked = p[order] * m / np.arange(1, m + 1)
    adjusted_sorted = np.minimum(np.minimum.accumulate(ranked[::-1])[::-1], 1.0)
    adjusted = np.empty(m)
    adjusted[order] = adjusted_sorted
    np.maximum(adjusted, p, out=adjusted)  # p * m / m may round below p
    return adjusted <= q, adjusted


# --- money -------------------------------------------------------------------------


def cycle_net_cents(plan: MoneyPlan, gales: int) -> tuple[np.ndarray, int]:
    """(net cents of a cycle won at each level 0..gales, cents lost by a lost cycle, as a positive number)."""
    wins, lost = plan.nets(gales)
    to_cents = [int((value * 100).to_integral_value()) for value in wins]
    return np.array(to_cents, dtype=np.int64), int((-lost * 100).to_integral_value())


def break_even(plan: MoneyPlan, gales: int) -> float:
    """The cycle hit rate at which the plan breaks even, for a trader with no edge.

    A cycle wins if any level wins, but what it nets depends on the level
    (dobro wins less at each gale, cobrir about nothing, sobra the sobra).
    The level mix is the one a trader without an edge sees: each candle
    wins with the same probability π, so a cycle wins at level j with
    π(1-π)^j. π* solves E[net] = 0 (bisection: the net grows with π), and
    the cycle hit rate at π* is 1 - (1-π*)^(gales+1). With no gale this is
    loss / (loss + win): 1 / (1 + payout).
    """
    wins, lost = cycle_net_cents(plan, gales)
    levels = np.arange(gales + 1)

    def expected(pi: float) -> float:
        return float(np.sum(pi * (1 - pi) ** levels * wins) - (1 - pi) ** (gales + 1) * lost)

    low, high = 0.0, 1.0
    if expected(high) <= 0:
        return 1.0  # not even winning every first entry pays
    for _ in range(200):
        middle = (low + high) / 2
        if expected(middle) > 0:
            high = middle
        else:
            low = middle
        if high - low < 1e-15:
            break
    pi = (low + high) / 2
    return float(1 - (1 - pi) ** (gales + 1))


def expected_net(win_at: np.ndarray, loss: np.ndarray, plan: MoneyPlan, gales: int) -> np.ndarray:
    """Mean net per resolved cycle in currency (NaN without cycles), from wins per level and losses.

    Rows of `win_at` hold gales + 1 counts. The mean is an estimate, never a
    stored amount, so a float is fine here.
    """
    wins, lost = cycle_net_cents(plan, gales)
    win_at = np.asarray(win_at, dtype=np.int64).reshape(-1, gales + 1)
    loss = np.asarray(loss, dtype=np.int64).ravel()
    total = win_at @ wins - loss * lost  # exact integer cents
    cycles = win_at.sum(axis=1) + loss
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / cycles / 100
