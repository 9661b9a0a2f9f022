"""Reductions over an axis (an int, a tuple of ints or None) with ``keepdims``.

The engine normalises ``axis`` to a sorted tuple of non-negative ints (or None) before these
run, so forwards and vjps see one form. ``max`` and ``min`` share the gradient evenly among
tied maxima (as ``torch.amax`` does), the same choice as the element-wise ``maximum``. ``prod``'s
gradient is each element's product of the others, built from running products before and after
it: exact where elements are zero or the product underflows, never a division by x. ``cumsum``
runs along one axis (None: over the flattened input, as in numpy).
"""

from __future__ import annotations

import math

import numpy as np

from .registry import REAL, Domain, Edge, Op, _sum_rows, expand_reduced, reduced_count, register


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


# --------------------------------------------------------------------------- products and running sums


def _is_array(x) -> bool:
    # A vjp gets arrays (or Python floats) in a plain backward and Values under create_graph.
    return isinstance(x, (np.ndarray, float, np.floating))


def _inclusive_products(rows):
    """Running products along the last axis, by multiplication only (exact where zeros occur)."""
    if _is_array(rows):
        return np.cumprod(rows, axis=-1)
    # Values have no cumprod op: a Hillis-Steele scan (log2(n) rounds of shifted products) builds
    # the same running products from getitem, concatenate and mul, so it differentiates again.
    n, step = np.shape(rows)[-1], 1
    while step < n:
        rows = np.concatenate([rows[..., :step], rows[..., step:] * rows[..., :-step]], axis=-1)
        step *= 2
    return rows


def _exclusive_products(rows):
    """For each element along the last axis, the product of the elements before it (1 for the first)."""
    ones = np.ones((*np.shape(rows)[:-1], 1), dtype=rows.dtype)
    return _inclusive_products(np.concatenate([ones, rows[..., :-1]], axis=-1))


def _product_of_others(x, axes):
    """Each element's product of the other elements of its reduced slice, without dividing by it.

    ``g * out / x`` would give nan where x is 0 and lose the gradient where the product
    underflows; the products before and after each element, multiplied, are exact everywhere.
    """
    shape = np.shape(x)
    count = math.prod(shape[a] for a in axes)
    if count <= 1:
        return np.ones(shape, dtype=getattr(x, "dtype", np.float64))  # no other element to multiply
    kept = [i for i in range(len(shape)) if i not in axes]
    order = (*kept, *axes)
    rows = np.reshape(np.transpose(x, order), (*(shape[i] for i in kept), count))
    before = _exclusive_products(rows)
    after = _exclusive_products(rows[..., ::-1])[..., ::-1]
    moved = np.reshape(before * after, tuple(shape[i] for i in order))
    return np.transpose(moved, tuple(np.argsort(order)))


def _prod_vjp(g, out, x, axis=None, keepdims=False):
    shape = np.shape(x)
    axes = tuple(range(len(shape))) if axis is None else axis
    return expand_reduced(g, shape, axis, keepdims) * _product_of_others(x, axes)


prod = register(
    Op(
        "prod",
        lambda x, axis=None, keepdims=False: np.prod(x, axis=axis, keepdims=keepdims),
        (_prod_vjp,),
        # Products of up to 27 factors stay within a few orders of magnitude in [-1.5, 1.5].
        (Domain(-1.5, 1.5),),
        kind="reduction",
        doc="Product over axis; the gradient is exact where elements are zero (no division).",
        edges=(
            Edge("one zero", (np.array([2.0, 0.0, 3.0]),), grads=(np.array([0.0, 6.0, 0.0]),), value=0.0),
            Edge(
                "two zeros: every product of the others holds a zero",
                (np.array([0.0, 2.0, 0.0]),),
                grads=(np.zeros(3),),
                value=0.0,
            ),
            Edge(
                "a zero in one row of two",
                (np.array([[0.0, 2.0], [3.0, 4.0]]),),
                params={"axis": 1},
                grads=(np.array([[2.0, 0.0], [4.0, 3.0]]),),
                value=np.array([0.0, 12.0]),
            ),
            Edge("size-0 slice: the empty product", (np.zeros(0),), grads=(np.zeros(0),), value=1.0),
            Edge(
                "a product that underflows",
                (np.array([1e-200, 1e-200, 1e200]),),
                grads=(np.array([1.0, 1.0, 0.0]),),
                value=0.0,
                torch=False,
                note="PyTorch divides the product (0) by each element and gives 0 everywhere; the "
                "products of the others are exact.",
            ),
            Edge(
                "a product that overflows",
                (np.array([1e200, 1e200]),),
                grads=(np.array([1e200, 1e200]),),
                value=np.inf,
                torch=False,
                note="PyTorch divides the product (inf) by each element and gives inf.",
            ),
        ),
    )
)


def _cumsum(x, axis=None):
    if axis is not None:
        # numpy runs along axis 0 of a 0-d input as if it were a vector of one element.
        _single_axis(axis, np.ndim(x) or 1)
    return np.cumsum(x, axis=axis)


def _single_axis(axis, ndim: int) -> int:
    """``axis`` as a non-negative int below ``ndim``; bools, floats and tuples are refused."""
    if isinstance(axis, (bool, np.bool_)) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"axis must be one int or None, got {axis!r}")
    if not -ndim <= axis < ndim:
        raise np.exceptions.AxisError(f"axis {axis} is out of bounds for an input of dimension {ndim}")
    return int(axis) % ndim


def _reverse_cumsum(g, axis: int):
    flip = (slice(None),) * axis + (slice(None, None, -1),)
    return g[flip].cumsum(axis=axis)[flip]


def _cumsum_vjp(g, out, x, axis=None):
    # Element i feeds every running sum from i on: its gradient sums g from i to the end.
    if axis is None:
        return np.reshape(_reverse_cumsum(g, 0), np.shape(x))
    return np.reshape(_reverse_cumsum(g, _single_axis(axis, np.ndim(x) or 1)), np.shape(x))


cumsum = register(
    Op(
        "cumsum",
        _cumsum,
        (_cumsum_vjp,),
        (REAL,),
        kind="cumulative",
        doc="Running sums along axis; axis=None runs over the flattened input, as in numpy.",
        edges=(
            Edge(
                "0-d input: one running sum",
                (np.array(2.0),),
                grads=(np.array(1.0),),
                value=np.array([2.0]),
            ),
            Edge(
                "size-0 axis",
                (np.zeros((2, 0)),),
                params={"axis": 1},
                grads=(np.zeros((2, 0)),),
                value=np.zeros((2, 0)),
            ),
            Edge(
                "axis=None flattens",
                (np.array([[1.0, 2.0], [3.0, 4.0]]),),
                grads=(np.array([[4.0, 3.0], [2.0, 1.0]]),),
                value=np.array([1.0, 3.0, 6.0, 10.0]),
            ),
        ),
    )
)
