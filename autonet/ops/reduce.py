"""Reductions over an axis (an int, a tuple of ints or None) with ``keepdims``.

The engine normalises ``axis`` to a sorted tuple of non-negative ints (or None) before these
run, so forwards and vjps see one form. ``max`` and ``min`` share the gradient evenly among
tied maxima (as ``torch.amax`` does), the same choice as the element-wise ``maximum``, and give
every other element exactly 0. A reduction over an empty slice gives what PyTorch gives: a sum
of 0, a mean of nan, a logsumexp of -inf; max and min raise. ``prod``'s gradient is each
element's product of the others, built from running products before and after it: exact where
elements are zero or the product underflows, never a division by x. ``cumsum`` runs along one
axis (None: over the flattened input, as in numpy).
"""

from __future__ import annotations

import builtins
import math

import numpy as np

from . import numpy_api
from .cases import AXIS, CUMULATIVE, REDUCTION
from .registry import (
    REAL,
    Domain,
    Edge,
    Op,
    along_one_axis,
    expand_reduced,
    gate,
    normalize_axis,
    one_axis,
    reduced_count,
    reduction_args,
    register,
    sum_rows,
)

_EMPTY = np.zeros(0)
_INF, _NAN = math.inf, math.nan


def _sum_vjp(g, out, x, axis=None, keepdims=False):
    return expand_reduced(g, np.shape(x), axis, keepdims)


def _mean_vjp(g, out, x, axis=None, keepdims=False):
    # An empty slice has no elements to share g: any divisor gives the same empty gradient, and 1
    # spares the division by zero.
    return expand_reduced(g / builtins.max(reduced_count(np.shape(x), axis), 1), np.shape(x), axis, keepdims)


def _sum_jvp(t, out, x, axis=None, keepdims=False):
    return np.sum(t, axis=axis, keepdims=keepdims)


def _mean_jvp(t, out, x, axis=None, keepdims=False):
    return np.mean(t, axis=axis, keepdims=keepdims)


def _extreme_jvp(t, out, x, axis=None, keepdims=False):
    # The vjp's convention forward: the tangents of the tied maxima averaged, every other element
    # gated out (exactly 0, even for an infinite tangent).
    shape = np.shape(x)
    peak = expand_reduced(out, shape, axis, keepdims)
    hit = np.asarray((x == peak) | (np.isnan(x) & np.isnan(peak)))
    return np.sum(gate(t, hit) / hit.sum(axis=axis, keepdims=True), axis=axis, keepdims=keepdims)


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


def _logsumexp_jvp(t, out, x, axis=None, keepdims=False):
    # The tangent weighed by softmax(x) over the reduced axes, taken as the vjp takes it.
    if math.prod(np.shape(x)) == 0:
        return np.sum(t, axis=axis, keepdims=keepdims)
    e = np.exp(x - _peak(x, axis))
    return np.sum(t * (e / e.sum(axis=axis, keepdims=True)), axis=axis, keepdims=keepdims)


sum = register(  # noqa: A001 - the op is called sum, like numpy's
    Op(
        "sum",
        lambda x, axis=None, keepdims=False: np.sum(x, axis=axis, keepdims=keepdims),
        (_sum_vjp,),
        (REAL,),
        jvps=(_sum_jvp,),  # linear: the op itself on the tangent
        cases=REDUCTION,
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
        prepare=reduction_args("sum"),
        method="sum",
        example=">>> from autonet import Value\n>>> Value([1.0, 2.0]).sum().item()\n3.0",
        numpy={np.sum: numpy_api.reduction("sum"), (np.add, "reduce"): numpy_api.ufunc_reduce("sum", "add")},
    )
)

mean = register(
    Op(
        "mean",
        lambda x, axis=None, keepdims=False: np.mean(x, axis=axis, keepdims=keepdims),
        (_mean_vjp,),
        (REAL,),
        jvps=(_mean_jvp,),
        cases=REDUCTION,
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
        prepare=reduction_args("mean"),
        method="mean",
        example=">>> from autonet import Value\n>>> Value([1.0, 2.0]).mean().item()\n1.5",
        numpy={np.mean: numpy_api.reduction("mean"), np.average: numpy_api.average},
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
            "a nan element, along an axis",
            ([[1.0, _NAN]],),
            grads=([[0.0, 1.0]],),
            params={"axis": 1},
            value=[_NAN],
            torch=False,
            note=f"torch.a{name} gives nan to every element (no element equals the nan it picked); "
            "autonet gives the gradient to the nan, as the full reduction does in both",
        ),
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
        jvps=(_extreme_jvp,),
        cases=REDUCTION,
        smooth=False,
        distinct=True,
        doc="Maximum over axis; tied maxima share the gradient evenly.",
        edges=_extreme_edges("max"),
        prepare=reduction_args("max"),
        method="max",
        example=">>> from autonet import Value\n>>> Value([1.0, 2.0]).max().item()\n2.0",
        numpy={
            np.max: numpy_api.reduction("max", with_dtype=False),
            np.amax: numpy_api.reduction("max", "amax", with_dtype=False),
            (np.maximum, "reduce"): numpy_api.ufunc_reduce("max", "maximum"),
        },
    )
)

min = register(  # noqa: A001
    Op(
        "min",
        lambda x, axis=None, keepdims=False: np.min(x, axis=axis, keepdims=keepdims),
        (_extreme_vjp,),
        (REAL,),
        jvps=(_extreme_jvp,),
        cases=REDUCTION,
        smooth=False,
        distinct=True,
        doc="Minimum over axis; tied minima share the gradient evenly.",
        edges=_extreme_edges("min"),
        prepare=reduction_args("min"),
        method="min",
        example=">>> from autonet import Value\n>>> Value([1.0, 2.0]).min().item()\n1.0",
        numpy={
            np.min: numpy_api.reduction("min", with_dtype=False),
            np.amin: numpy_api.reduction("min", "amin", with_dtype=False),
            (np.minimum, "reduce"): numpy_api.ufunc_reduce("min", "minimum"),
        },
    )
)

logsumexp = register(
    Op(
        "logsumexp",
        _logsumexp,
        (_logsumexp_vjp,),
        (REAL,),
        jvps=(_logsumexp_jvp,),
        cases=REDUCTION,
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
        prepare=reduction_args("logsumexp"),
        method="logsumexp",
        example=(
            ">>> from autonet import Value\n"
            ">>> round(Value([1000.0, 1000.0]).logsumexp().item(), 4)\n"
            "1000.6931"
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
        return sum_rows(x.T)[:, None]  # rows of a batch: BLAS beats a reduction along a short axis
    return x.sum(axis=axis, keepdims=True)


softmax = register(
    Op(
        "softmax",
        _softmax,
        (lambda g, out, x, axis=-1: out * (g - _sum_along(g * out, axis)),),
        (REAL,),
        # The softmax's Jacobian diag(out) - out out^T is symmetric: the jvp is the vjp's formula.
        jvps=(lambda t, out, x, axis=-1: out * (t - _sum_along(t * out, axis)),),
        cases=AXIS,
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
        prepare=along_one_axis("softmax"),
        method="softmax",
        example=">>> from autonet import Value\n>>> Value([0.0, 0.0]).softmax().tolist()\n[0.5, 0.5]",
    )
)

log_softmax = register(
    Op(
        "log_softmax",
        _log_softmax,
        (lambda g, out, x, axis=-1: g - np.exp(out) * _sum_along(g, axis),),
        (REAL,),
        jvps=(lambda t, out, x, axis=-1: t - _sum_along(t * np.exp(out), axis),),
        cases=AXIS,
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
        prepare=along_one_axis("log_softmax"),
        method="log_softmax",
        example=(
            ">>> from autonet import Value\n"
            ">>> round(Value([0.0, 0.0]).log_softmax().tolist()[0], 4)\n"
            "-0.6931"
        ),
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
    if _is_array(rows) and (rows == 0).any():
        others = _others_around_zeros(rows)
    else:
        # Under create_graph the running products themselves are differentiated (their second
        # derivatives through a zero are the products of the remaining elements), so no masks,
        # except where a zero met an overflow of the rest: that product is exactly 0, not nan.
        others = _exclusive_products(rows) * _exclusive_products(rows[..., ::-1])[..., ::-1]
        if not _is_array(rows):
            data = np.asarray(rows.data)
            zeros = data == 0
            lost = np.isnan(others.data) & (np.sum(zeros, axis=-1, keepdims=True) - zeros > 0)
            if lost.any():
                others = np.where(lost, 0.0, others)
    moved = np.reshape(others, tuple(shape[i] for i in order))
    return np.transpose(moved, tuple(np.argsort(order)))


def _others_around_zeros(rows: np.ndarray) -> np.ndarray:
    # A zero among the others makes the product exactly 0, however large the rest: running
    # products through the zeros would give 0 * inf = nan once the others overflow. So the products
    # run over the nonzero elements (zeros read as 1) and the rows with a zero among the others get 0.
    zeros = rows == 0
    nonzero = np.where(zeros, 1.0, rows).astype(rows.dtype, copy=False)
    others = _exclusive_products(nonzero) * _exclusive_products(nonzero[..., ::-1])[..., ::-1]
    zero_among_others = np.sum(zeros, axis=-1, keepdims=True) - zeros > 0
    return np.where(zero_among_others, 0.0, others).astype(rows.dtype, copy=False)


def _prod_vjp(g, out, x, axis=None, keepdims=False):
    shape = np.shape(x)
    axes = tuple(range(len(shape))) if axis is None else axis
    return expand_reduced(g, shape, axis, keepdims) * _product_of_others(x, axes)


def _prod_jvp(t, out, x, axis=None, keepdims=False):
    axes = tuple(range(np.ndim(x))) if axis is None else axis
    return np.sum(t * _product_of_others(x, axes), axis=axis, keepdims=keepdims)


prod = register(
    Op(
        "prod",
        lambda x, axis=None, keepdims=False: np.prod(x, axis=axis, keepdims=keepdims),
        (_prod_vjp,),
        # Products of up to 27 factors stay within a few orders of magnitude in [-1.5, 1.5].
        (Domain(-1.5, 1.5),),
        jvps=(_prod_jvp,),
        cases=REDUCTION,
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
            Edge("0-d input: itself", (3.0,), grads=(1.0,), value=3.0),
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
        prepare=reduction_args("prod"),
        method="prod",
        example=">>> from autonet import Value\n>>> Value([2.0, 3.0]).prod().item()\n6.0",
        numpy={
            np.prod: numpy_api.reduction("prod"),
            (np.multiply, "reduce"): numpy_api.ufunc_reduce("prod", "multiply"),
        },
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


def _cumsum_args(x, axis=None):
    if axis is not None:
        (axis,) = normalize_axis(one_axis(axis, "cumsum"), builtins.max(x.ndim, 1), "cumsum", x.shape)
    return (x,), {"axis": axis}


def _numpy_cumulative_sum(x, /, *, axis=None, dtype=None, out=None, include_initial=False):
    numpy_api.refuse_options("cumulative_sum", dtype=dtype, out=out, include_initial=include_initial or None)
    if axis is None and np.ndim(x) > 1:
        raise ValueError(f"numpy.cumulative_sum: axis must be given for a Value of shape {np.shape(x)}")
    return numpy_api.apply("cumsum", x, axis)


def _add_accumulate(a, axis=0, dtype=None, out=None):
    numpy_api.refuse_options("add.accumulate", dtype=dtype, out=out)
    if np.ndim(a) == 0:
        raise TypeError("numpy.add.accumulate: cannot accumulate a 0-d Value")
    return numpy_api.apply("cumsum", a, axis)


cumsum = register(
    Op(
        "cumsum",
        _cumsum,
        (_cumsum_vjp,),
        (REAL,),
        jvps=(lambda t, out, x, axis=None: _cumsum(t, axis),),  # linear: the op itself on the tangent
        cases=CUMULATIVE,
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
        prepare=_cumsum_args,
        method="cumsum",
        numpy={
            np.cumsum: numpy_api.without("cumsum", "cumsum", "dtype", "out"),
            **numpy_api.newer(np, "cumulative_sum", _numpy_cumulative_sum),
            (np.add, "accumulate"): _add_accumulate,
        },
        example=(
            ">>> from autonet import Value\n>>> Value([1.0, 2.0, 3.0]).cumsum().tolist()\n[1.0, 3.0, 6.0]"
        ),
    )
)
