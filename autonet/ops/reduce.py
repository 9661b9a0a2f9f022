"""Reductions over an axis (an int, a tuple of ints or None) with ``keepdims``.

The engine normalises ``axis`` to a sorted tuple of non-negative ints (or None) before these
run, so forwards and vjps see one form. ``max`` and ``min`` share the gradient evenly among
tied maxima (as ``torch.amax`` does), the same choice as the element-wise ``maximum``.
"""

from __future__ import annotations

import numpy as np

from .registry import REAL, Op, _sum_rows, expand_reduced, reduced_count, register


def _sum_vjp(g, out, x, axis=None, keepdims=False):
    return expand_reduced(g, np.shape(x), axis, keepdims)


def _mean_vjp(g, out, x, axis=None, keepdims=False):
    return expand_reduced(g / reduced_count(np.shape(x), axis), np.shape(x), axis, keepdims)


def _extreme_vjp(g, out, x, axis=None, keepdims=False):
    shape = np.shape(x)
    hit = np.asarray(x == expand_reduced(out, shape, axis, keepdims))
    # The share is a constant mask, so the result stays differentiable in g (and in nothing else).
    return expand_reduced(g, shape, axis, keepdims) * (hit / hit.sum(axis=axis, keepdims=True))


# Inputs no larger than this in magnitude can neither overflow exp nor underflow it to zero (sums
# of up to ~1e40 terms stay finite), so logsumexp and softmax need no shift by the maximum: that
# reduction costs more than all the rest on a small batch, and exp of the unshifted input is, if
# anything, the more accurate. Other dtypes always take the shifted path.
_UNSHIFTED_LIMIT = {np.dtype(np.float64): 600.0, np.dtype(np.float32): 40.0}


def _needs_no_shift(x: np.ndarray) -> bool:
    limit = _UNSHIFTED_LIMIT.get(x.dtype)
    # Two full reductions (contiguous, fast) instead of one along an axis; nan fails both tests.
    return limit is not None and x.size > 0 and -limit <= x.min() and x.max() <= limit


def _logsumexp(x, axis=None, keepdims=False):
    # Forwards see arrays only, so the ufuncs' own reduce (no Python wrapper) is safe and cheaper
    # on the small batches where per-call cost dominates.
    if _needs_no_shift(x):
        total = np.log(np.add.reduce(np.exp(x), axis=axis, keepdims=True))
        return total if keepdims else np.squeeze(total, axis=axis)
    peak = np.maximum.reduce(x, axis=axis, keepdims=True)
    # Shifting by the max keeps exp from overflowing; an infinite max would give inf - inf. One
    # sum tells whether any peak is not finite (a false alarm from overflow only costs the where).
    if not np.isfinite(np.add.reduce(peak, axis=None)):
        peak = np.where(np.isfinite(peak), peak, 0)
    total = np.log(np.add.reduce(np.exp(x - peak), axis=axis, keepdims=True)) + peak
    return total if keepdims else np.squeeze(total, axis=axis)


sum = register(  # noqa: A001 - the op is called sum, like numpy's
    Op(
        "sum",
        lambda x, axis=None, keepdims=False: np.sum(x, axis=axis, keepdims=keepdims),
        (_sum_vjp,),
        (REAL,),
        kind="reduction",
        doc="Sum over axis.",
    )
)

mean = register(
    Op(
        "mean",
        lambda x, axis=None, keepdims=False: np.mean(x, axis=axis, keepdims=keepdims),
        (_mean_vjp,),
        (REAL,),
        kind="reduction",
        doc="Mean over axis.",
    )
)

max = register(  # noqa: A001
    Op(
        "max",
        lambda x, axis=None, keepdims=False: np.max(x, axis=axis, keepdims=keepdims),
        (_extreme_vjp,),
        (REAL,),
        kind="reduction",
        smooth=False,
        distinct=True,
        doc="Maximum over axis; tied maxima share the gradient evenly.",
    )
)

min = register(  # noqa: A001
    Op(
        "min",
        lambda x, axis=None, keepdims=False: np.min(x, axis=axis, keepdims=keepdims),
        (_extreme_vjp,),
        (REAL,),
        kind="reduction",
        smooth=False,
        distinct=True,
        doc="Minimum over axis; tied minima share the gradient evenly.",
    )
)

logsumexp = register(
    Op(
        "logsumexp",
        _logsumexp,
        (
            lambda g, out, x, axis=None, keepdims=False: (
                expand_reduced(g, np.shape(x), axis, keepdims)
                * np.exp(x - expand_reduced(out, np.shape(x), axis, keepdims))
            ),
        ),
        (REAL,),
        kind="reduction",
        doc="log(sum(exp(x))) over axis, stable for large inputs.",
    )
)


def _softmax(x, axis=-1):
    # Arrays only (a forward, or a plain-backward vjp): the ufuncs' own reduce skips numpy's
    # Python wrappers, which cost more than the arithmetic on a small batch.
    e = np.exp(x) if _needs_no_shift(x) else np.exp(x - np.maximum.reduce(x, axis=axis, keepdims=True))
    return e / np.add.reduce(e, axis=axis, keepdims=True)


def _sum_along(x, axis):
    # A 0-d input (a Python float in a plain backward) has its one element to sum: itself.
    if np.ndim(x) == 0:
        return x
    if type(x) is np.ndarray and x.ndim == 2 and axis == 1 and x.dtype.kind == "f":
        return _sum_rows(x.T)[:, None]  # rows of a batch: BLAS beats a reduction along a short axis
    return x.sum(axis=axis, keepdims=True)


softmax = register(
    Op(
        "softmax",
        _softmax,
        (lambda g, out, x, axis=-1: out * (g - _sum_along(g * out, axis)),),
        (REAL,),
        kind="axis",
        doc="exp(x) / sum(exp(x)) along axis, stable for large inputs.",
    )
)

log_softmax = register(
    Op(
        "log_softmax",
        lambda x, axis=-1: x - _logsumexp(x, axis=axis, keepdims=True),
        (lambda g, out, x, axis=-1: g - np.exp(out) * _sum_along(g, axis),),
        (REAL,),
        kind="axis",
        doc="x - logsumexp(x) along axis, stable for large inputs.",
    )
)
