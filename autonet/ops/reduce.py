"""Reductions over an axis (an int, a tuple of ints or None) with ``keepdims``.

The engine normalises ``axis`` to a sorted tuple of non-negative ints (or None) before these
run, so forwards and vjps see one form. ``max`` and ``min`` share the gradient evenly among
tied maxima (as ``torch.amax`` does), the same choice as the element-wise ``maximum``, and give
every other element exactly 0. A reduction over an empty slice gives what PyTorch gives: a sum
of 0, a mean of nan, a logsumexp of -inf; max and min raise.
"""

from __future__ import annotations

import builtins
import math

import numpy as np

from .registry import REAL, Edge, Op, _sum_rows, expand_reduced, gate, reduced_count, register

_EMPTY = np.zeros(0)
_INF, _NAN = math.inf, math.nan


def _sum_vjp(g, out, x, axis=None, keepdims=False):
    return expand_reduced(g, np.shape(x), axis, keepdims)


def _mean_vjp(g, out, x, axis=None, keepdims=False):
    # An empty slice has no elements to share g: any divisor gives the same empty gradient, and 1
    # spares the division by zero.
    return expand_reduced(g / builtins.max(reduced_count(np.shape(x), axis), 1), np.shape(x), axis, keepdims)


def _extreme_vjp(g, out, x, axis=None, keepdims=False):
    shape = np.shape(x)
    peak = expand_reduced(out, shape, axis, keepdims)
    # A nan is the maximum where there is one (as in torch.max), so it gets the gradient.
    hit = np.asarray((x == peak) | (np.isnan(x) & np.isnan(peak)))
    # The maxima share g evenly (a constant count, so the result stays differentiable in g and in
    # nothing else); every other element gets exactly 0, even for an infinite g.
    return gate(expand_reduced(g, shape, axis, keepdims) / hit.sum(axis=axis, keepdims=True), hit)


# Inputs no larger than this in magnitude can neither overflow exp nor underflow it to zero (sums
# of up to ~1e40 terms stay finite), so logsumexp and softmax need no shift by the maximum: that
# reduction costs more than all the rest on a small batch, and exp of the unshifted input is, if
# anything, the more accurate. Other dtypes always take the shifted path.
_UNSHIFTED_LIMIT = {np.dtype(np.float64): 600.0, np.dtype(np.float32): 40.0}


def _needs_no_shift(x: np.ndarray) -> bool:
    limit = _UNSHIFTED_LIMIT.get(x.dtype)
    # Two full reductions (contiguous, fast) instead of one along an axis; nan fails both tests.
    return limit is not None and x.size > 0 and -limit <= x.min() and x.max() <= limit


def _peak(x, axis):
    """The maxima of ``x``'s data over ``axis`` (kept), 0 where one is infinite (to shift by it
    would give inf - inf): a constant, so shifting a Value by it changes no derivative."""
    peak = np.maximum.reduce(np.asarray(x), axis=axis, keepdims=True)
    if not np.isfinite(np.add.reduce(peak, axis=None)):  # one sum: a false alarm only costs the where
        peak = np.where(np.isfinite(peak), peak, 0)
    return peak


def _logsumexp(x, axis=None, keepdims=False):
    # Forwards see arrays only, so the ufuncs' own reduce (no Python wrapper) is safe and cheaper
    # on the small batches where per-call cost dominates.
    if x.size == 0:
        # Nothing to reduce, or empty slices whose sum of exponentials is 0: log 0 = -inf, as in
        # PyTorch (numpy's max of an empty slice would raise).
        return np.full_like(np.add.reduce(x, axis=axis, keepdims=keepdims), -np.inf)
    if _needs_no_shift(x):
        total = np.log(np.add.reduce(np.exp(x), axis=axis, keepdims=True))
        return total if keepdims else np.squeeze(total, axis=axis)
    peak = _peak(x, axis)  # shifting by the max keeps exp from overflowing
    total = np.log(np.add.reduce(np.exp(x - peak), axis=axis, keepdims=True)) + peak
    return total if keepdims else np.squeeze(total, axis=axis)


def _logsumexp_vjp(g, out, x, axis=None, keepdims=False):
    # The gradient is softmax(x) over the reduced axes, taken as exp(x - max) / sum rather than
    # exp(x - out): at [1e300, 1e300] out rounds to 1e300 (log 2 is lost), and exp(x - out) would
    # give each element 1 instead of 1/2.
    shape = np.shape(x)
    if math.prod(shape) == 0:
        return expand_reduced(g, shape, axis, keepdims)  # nothing to weigh: an empty gradient
    e = np.exp(x - _peak(x, axis))
    return expand_reduced(g, shape, axis, keepdims) * (e / e.sum(axis=axis, keepdims=True))


sum = register(  # noqa: A001 - the op is called sum, like numpy's
    Op(
        "sum",
        lambda x, axis=None, keepdims=False: np.sum(x, axis=axis, keepdims=keepdims),
        (_sum_vjp,),
        (REAL,),
        kind="reduction",
        doc="Sum over axis.",
        edges=(
            Edge("size-0 input", (_EMPTY,), grads=(_EMPTY,), value=0.0),
            Edge(
                "an empty axis",
                (np.zeros((2, 0)),),
                grads=(np.zeros((2, 0)),),
                params={"axis": 1},
                value=[0.0, 0.0],
            ),
            Edge("1e308 + 1e308 (overflow)", ([1e308, 1e308],), grads=([1.0, 1.0],), value=_INF),
            Edge("0-d input", (2.0,), grads=(1.0,), value=2.0),
        ),
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
        edges=(
            Edge("size-0 input", (_EMPTY,), grads=(_EMPTY,), value=_NAN),
            Edge(
                "an empty axis",
                (np.zeros((2, 0)),),
                grads=(np.zeros((2, 0)),),
                params={"axis": 1},
                value=[_NAN, _NAN],
            ),
            Edge("x = 1e300, 1e300", ([1e300, 1e300],), grads=([0.5, 0.5],), value=1e300),
            Edge("0-d input", (2.0,), grads=(1.0,), value=2.0),
        ),
    )
)


def _extreme_edges(name: str) -> tuple[Edge, ...]:
    """max and min mirror each other (min(x) = -max(-x)); ``name`` says which."""
    sign = 1.0 if name == "max" else -1.0
    picked = "maxima" if name == "max" else "minima"
    return (
        Edge(f"tied {picked}", ([sign, sign, 0.0],), grads=([0.5, 0.5, 0.0],), value=sign, flat=(0,)),
        Edge(
            "along an axis",
            ([[-sign, 0.0]],),
            grads=([[0.0, 1.0]],),
            params={"axis": 1},
            value=[0.0],
            flat=(0,),
            note=f"torch.a{name} gives nan, not 0, for an infinite upstream gradient",
        ),
        Edge("a nan element", ([1.0, _NAN],), grads=([0.0, 1.0],), value=_NAN, note=f"as torch.{name}(x)"),
        Edge(
            "x = +-1e300",
            ([1e300, -1e300],),
            grads=([1.0, 0.0] if sign > 0 else [0.0, 1.0],),
            value=sign * 1e300,
            flat=(0,),
        ),
        Edge("size-0 input", (_EMPTY,), raises=ValueError, note="torch raises too: no element to pick"),
        Edge(
            "size-0, along a full axis",
            (np.zeros((0, 2)),),
            grads=(np.zeros((0, 2)),),
            params={"axis": 1},
            value=_EMPTY,
        ),
        Edge("0-d input", (2.0,), grads=(1.0,), value=2.0),
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
        edges=_extreme_edges("max"),
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
        edges=_extreme_edges("min"),
    )
)

logsumexp = register(
    Op(
        "logsumexp",
        _logsumexp,
        (_logsumexp_vjp,),
        (REAL,),
        kind="reduction",
        doc="log(sum(exp(x))) over axis, stable for large inputs.",
        edges=(
            Edge("size-0 input", (_EMPTY,), grads=(_EMPTY,), value=-_INF),
            Edge(
                "an empty axis",
                (np.zeros((2, 0)),),
                grads=(np.zeros((2, 0)),),
                params={"axis": 1},
                value=[-_INF, -_INF],
            ),
            Edge(
                "x = 1e300, 1e300",
                ([1e300, 1e300],),
                grads=([0.5, 0.5],),
                value=1e300,
                torch=False,
                note="torch gives 1 each: exp(x - result) loses log 2; autonet takes softmax(x)",
            ),
            Edge("one -inf element", ([-_INF, 0.0],), grads=([0.0, 1.0],), value=0.0),
            Edge("every element -inf", ([-_INF, -_INF],), grads=([_NAN, _NAN],), value=-_INF),
            Edge("0-d input", (2.0,), grads=(1.0,), value=2.0),
        ),
    )
)


def _softmax(x, axis=-1):
    # Arrays only (a forward, or a plain-backward vjp): the ufuncs' own reduce skips numpy's
    # Python wrappers, which cost more than the arithmetic on a small batch.
    if x.size == 0:
        return np.empty_like(x)  # nothing to normalise (numpy's max of an empty axis would raise)
    e = np.exp(x) if _needs_no_shift(x) else np.exp(x - np.maximum.reduce(x, axis=axis, keepdims=True))
    return e / np.add.reduce(e, axis=axis, keepdims=True)


def _log_softmax(x, axis=-1):
    if _needs_no_shift(x):
        return x - np.log(np.add.reduce(np.exp(x), axis=axis, keepdims=True))
    if x.size == 0:
        return np.empty_like(x)
    # (x - max) - log(sum): at [1e300, 1e300] that keeps the log 2 that x - logsumexp(x) rounds away.
    shifted = x - _peak(x, axis)
    return shifted - np.log(np.add.reduce(np.exp(shifted), axis=axis, keepdims=True))


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
        edges=(
            Edge(
                "a constant row",
                ([[1.0, 1.0]],),
                grads=([[0.0, 0.0]],),
                params={"axis": -1},
                value=[[0.5, 0.5]],
            ),
            Edge(
                "x = +-1e300", ([1e300, -1e300],), grads=([0.0, 0.0],), params={"axis": -1}, value=[1.0, 0.0]
            ),
            Edge(
                "shape (2, 0)",
                (np.zeros((2, 0)),),
                grads=(np.zeros((2, 0)),),
                params={"axis": -1},
                value=np.zeros((2, 0)),
            ),
            Edge("0-d input", (3.0,), grads=(0.0,), params={"axis": -1}, value=1.0),
        ),
    )
)

log_softmax = register(
    Op(
        "log_softmax",
        _log_softmax,
        (lambda g, out, x, axis=-1: g - np.exp(out) * _sum_along(g, axis),),
        (REAL,),
        kind="axis",
        doc="x - logsumexp(x) along axis, stable for large inputs.",
        edges=(
            Edge(
                "x = 1e300, 1e300",
                ([1e300, 1e300],),
                grads=([0.0, 0.0],),
                params={"axis": -1},
                value=[-math.log(2), -math.log(2)],
            ),
            Edge(
                "x = +-1e300",
                ([1e300, -1e300],),
                grads=([-1.0, 1.0],),
                params={"axis": -1},
                value=[0.0, -2e300],
            ),
            Edge(
                "shape (2, 0)",
                (np.zeros((2, 0)),),
                grads=(np.zeros((2, 0)),),
                params={"axis": -1},
                value=np.zeros((2, 0)),
            ),
            Edge("0-d input", (3.0,), grads=(0.0,), params={"axis": -1}, value=0.0),
        ),
    )
)
