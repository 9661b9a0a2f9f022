"""Composite ops: built from other ops, so their gradients come from those ops' vjps.

A composite entry has no forward or vjps of its own; ``composite`` is called with Values (and
the user's arguments, positional ones included) and returns a Value made of registered ops. Its
edges, cases and surface (method, numpy names) are declared like any other op's, so the suite
checks it, draws it and fuzzes it without knowing it is a composite.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from . import numpy_api
from .cases import ELEMENTWISE, EXPAND_DIMS, REDUCTION, SQUEEZE, STACK, SWAPAXES
from .registry import (
    REAL,
    Cases,
    Edge,
    Op,
    apply,
    int_tuple,
    normalize_axis,
    one_axis,
    reduced_count,
    register,
)

_EMPTY, _INF, _NAN = np.zeros(0), math.inf, math.nan
_INV_SQRT2 = 0.7071067811865476
_SQRT_2_OVER_PI = 0.7978845608028654


def _composite(name, fn, edges, **fields):
    doc, _, example = fn.__doc__.partition("\n\n")
    example = "\n".join(line.strip() for line in example.strip().splitlines())
    return register(
        Op(name, None, (), (REAL,), composite=fn, edges=edges, doc=doc, example=example, **fields)
    )


# --------------------------------------------------------------------------- spread


def var(x, axis=None, keepdims=False, ddof=0):
    """Variance over ``axis`` with numpy's ``ddof`` (0 by default, unlike PyTorch's 1).

    >>> from autonet import Value
    >>> Value([1.0, 3.0]).var().item()
    1.0
    """
    axes = normalize_axis(axis, x.ndim, "var")
    count = reduced_count(x.shape, axes)
    centred = x - x.mean(axis=axes, keepdims=True)
    # As numpy: ddof >= count leaves no degrees of freedom, and the sum over 0 is inf (nan for
    # a constant or empty slice), never a negative variance.
    return (centred * centred).sum(axis=axes, keepdims=keepdims) / max(count - ddof, 0)


def std(x, axis=None, keepdims=False, ddof=0):
    """Standard deviation over ``axis`` (sqrt of ``var``); a constant slice has gradient 0, as in PyTorch.

    >>> from autonet import Value
    >>> Value([1.0, 3.0]).std().item()
    1.0
    """
    axes = normalize_axis(axis, x.ndim, "std")  # so an axis error names std, not var
    variance = var(x, axis=axes, keepdims=keepdims, ddof=ddof)
    constant = np.asarray(variance.data == 0)
    if not constant.any():
        return variance.sqrt()
    # sqrt's slope at 0 is infinite, and a constant slice would turn it into inf * 0 = nan.
    # There sqrt sees 1 instead, through a where that passes it no gradient, and gives 0.
    safe = apply("where", 1.0, variance, condition=constant)
    return apply("where", 0.0, safe.sqrt(), condition=constant)


_composite(
    "var",
    var,
    (
        Edge("a constant slice", ([2.0, 2.0],), grads=([0.0, 0.0],), value=0.0),
        Edge(
            "ddof >= count",
            ([1.0, 2.0],),
            grads=([_NAN, _NAN],),
            params={"ddof": 3},
            value=_INF,
            torch=False,
            note="the value is numpy's; with no degrees of freedom the gradient is undefined "
            "(torch gives +inf to every element)",
        ),
        Edge(
            "ddof >= count, a constant slice",
            ([1.0, 1.0],),
            grads=([_NAN, _NAN],),
            params={"ddof": 2},
            value=_NAN,
        ),
        Edge("size-0 input, ddof = 1", (_EMPTY,), grads=(_EMPTY,), params={"ddof": 1}, value=_NAN),
        Edge("x = +-1e300 (overflow)", ([1e300, -1e300],), grads=([1e300, -1e300],), value=_INF),
        Edge(
            "an infinite element",
            ([_INF, 1.0],),
            grads=([_NAN, _NAN],),
            value=_NAN,
            torch=False,
            note="inf - inf makes the mean's deviations nan, so every gradient is nan; torch gives the "
            "finite element -inf",
        ),
        Edge("0-d input", (2.0,), grads=(0.0,), value=0.0),
    ),
    cases=REDUCTION,
    method="var",
    numpy={np.var: numpy_api.spread("var")},
)
_composite(
    "std",
    std,
    (
        Edge("a constant slice", ([2.0, 2.0],), grads=([0.0, 0.0],), value=0.0),
        Edge(
            "a constant row among others",
            ([[2.0, 2.0], [1.0, 3.0]],),
            grads=([[0.0, 0.0], [-0.5, 0.5]],),
            params={"axis": -1},
            value=[0.0, 1.0],
        ),
        Edge("ddof >= count", ([1.0, 2.0],), grads=([_NAN, _NAN],), params={"ddof": 3}, value=_INF),
        Edge("size-0 input", (_EMPTY,), grads=(_EMPTY,), value=_NAN),
        Edge("x = +-1e300 (overflow)", ([1e300, -1e300],), grads=([0.0, 0.0],), value=_INF),
        Edge("0-d input", (2.0,), grads=(0.0,), value=0.0),
    ),
    # A constant slice is a kink, as |x| at 0 (its edge above): the interior cases keep two or
    # more distinct values per reduced slice, where central differences measure something.
    cases=replace(REDUCTION, min_reduced_size=2),
    smooth=False,
    distinct=True,
    method="std",
    numpy={np.std: numpy_api.spread("std")},
)

# --------------------------------------------------------------------------- gelu


def gelu(x, approximate="none"):
    """Gaussian error linear unit: x * Phi(x) (``approximate="tanh"`` for the tanh form, as in PyTorch).

    >>> from autonet import Value
    >>> Value(0.0).gelu().item()
    0.0
    """
    if approximate == "tanh":
        return apply("gelu_tanh", x)
    if approximate != "none":
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return 0.5 * x * (1.0 + (x * _INV_SQRT2).erf())


def gelu_tanh(x):
    """The tanh form of gelu: 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x**3))).

    >>> from autonet import Value
    >>> Value(0.0).gelu(approximate="tanh").item()
    0.0
    """
    # Past |x| = 100 tanh's argument is far beyond where tanh rounds to +-1, so clipping x
    # inside it changes no value and no gradient; it keeps x**3 from overflowing to inf,
    # whose gradient would meet tanh's exact 0 slope as inf * 0 = nan (PyTorch's at 1e300).
    inner = x.clip(-100.0, 100.0)
    return 0.5 * x * (1.0 + ((inner + 0.044715 * inner**3) * _SQRT_2_OVER_PI).tanh())


_HUGE = ([1e300, -1e300],)
_composite(
    "gelu",
    gelu,
    (
        Edge("x = +-1e300", _HUGE, grads=([1.0, 0.0],), value=[1e300, 0.0]),
        Edge("x = 0", (0.0,), grads=(0.5,), value=0.0),
        Edge("size-0 input", (_EMPTY,), grads=(_EMPTY,), value=_EMPTY),
    ),
    cases=ELEMENTWISE,
    method="gelu",
)
_composite(
    "gelu_tanh",
    gelu_tanh,
    (
        Edge(
            "x = +-1e300",
            _HUGE,
            grads=([1.0, 0.0],),
            value=[1e300, 0.0],
            torch=False,
            note="torch gives nan: its x**3 overflows, and the inf meets tanh's exact 0 slope",
        ),
        Edge("x = 0", (0.0,), grads=(0.5,), value=0.0),
        Edge("size-0 input", (_EMPTY,), grads=(_EMPTY,), value=_EMPTY),
    ),
    cases=ELEMENTWISE,
)

# --------------------------------------------------------------------------- shapes


def flatten(x):
    """All elements in one axis.

    >>> from autonet import Value
    >>> Value([[1.0, 2.0], [3.0, 4.0]]).flatten().shape
    (4,)
    """
    return x.reshape(x.size)


def squeeze(x, axis=None):
    """Remove axes of length 1 (all of them, or those in ``axis``).

    >>> from autonet import Value
    >>> Value([[1.0, 2.0]]).squeeze().shape
    (2,)
    """
    axes = normalize_axis(axis, x.ndim, "squeeze")
    for a in axes or ():
        if x.shape[a] != 1:
            raise ValueError(f"squeeze: axis {a} has length {x.shape[a]}, not 1 (shape {x.shape})")
    return x.reshape(tuple(n for i, n in enumerate(x.shape) if not (n == 1 and (axes is None or i in axes))))


def expand_dims(x, axis):
    """Insert axes of length 1 at ``axis``.

    >>> from autonet import Value
    >>> Value([1.0, 2.0]).expand_dims(0).shape
    (1, 2)
    """
    axes = tuple(axis) if isinstance(axis, (tuple, list)) else (one_axis(axis, "expand_dims"),)
    # Axes count in the result, which has one more dimension per inserted axis.
    axes = normalize_axis(axes, x.ndim + len(axes), "expand_dims")
    return x.reshape(np.expand_dims(np.empty(x.shape, dtype=bool), axes).shape)


def swapaxes(x, axis1, axis2):
    """Exchange two axes.

    >>> from autonet import Value
    >>> Value([[1.0, 2.0]]).swapaxes(0, 1).shape
    (2, 1)
    """
    perm = list(range(x.ndim))
    (a,) = normalize_axis(one_axis(axis1, "swapaxes"), x.ndim, "swapaxes")
    (b,) = normalize_axis(one_axis(axis2, "swapaxes"), x.ndim, "swapaxes")
    perm[a], perm[b] = perm[b], perm[a]
    return x.transpose(tuple(perm))


def _matrix_transpose(x, /):
    if np.ndim(x) < 2:
        raise ValueError(f"matrix_transpose: needs at least 2 dimensions, got shape {np.shape(x)}")
    return apply("swapaxes", x, -1, -2)


def stack(values: Sequence[Any], axis: int = 0) -> Any:
    """Join Values of one shape along a new axis.

    >>> from autonet import Value, stack
    >>> stack([Value([1.0, 2.0]), Value([3.0, 4.0])]).shape
    (2, 2)
    """
    return apply("stack", *values, axis=axis)


def _stacked(*xs, axis=0):
    if not xs:
        raise ValueError("stack: needs at least one Value")
    shapes = {x.shape for x in xs}
    if len(shapes) != 1:
        raise ValueError(f"stack: all Values must have one shape, got {sorted(shapes)}")
    (axis,) = normalize_axis(one_axis(axis, "stack"), xs[0].ndim + 1, "stack")
    return apply("concatenate", *(x.expand_dims(axis) for x in xs), axis=axis)


def tile(x, reps):
    """``np.tile``: the whole of ``x`` repeated ``reps`` times along each axis.

    >>> from autonet import Value
    >>> np.tile(Value([1.0, 2.0]), 2).tolist()
    [1.0, 2.0, 1.0, 2.0]
    """
    # Interleave an axis of 1 before each axis, broadcast those to the repetitions and merge each
    # pair, so the whole block repeats (the repetition axis is outer).
    reps = int_tuple(reps if np.ndim(reps) else (reps,), "tile")
    if any(r < 0 for r in reps):
        raise ValueError(f"tile: reps must not be negative, got {reps}")
    ndim = max(len(reps), x.ndim)
    reps = (1,) * (ndim - len(reps)) + reps
    shape = (1,) * (ndim - x.ndim) + x.shape
    paired = tuple(side for n in shape for side in (1, n))
    stretched = tuple(side for r, n in zip(reps, shape, strict=True) for side in (r, n))
    tiled = tuple(r * n for r, n in zip(reps, shape, strict=True))
    if math.prod(tiled) * x.dtype.itemsize > sys.maxsize:
        raise ValueError(f"tile: reps {reps} on shape {x.shape} give shape {tiled}, too big for an array")
    try:
        return x.reshape(paired).broadcast_to(stretched).reshape(tiled)
    except MemoryError as error:
        raise MemoryError(f"tile: reps {reps} on shape {x.shape} give shape {tiled}: {error}") from None


def _tile_samples(rng, dtype):
    # reps shorter than, as long as and longer than the input's dimensions; a 0 repetition; 0-d.
    forms = [((3,), 2), ((2, 3), (2, 1)), ((2,), (2, 1, 3)), ((2, 2), (1, 2, 2)), ((3,), 0), ((), (2,))]
    return [((rng.uniform(-2, 2, shape).astype(dtype),), {"reps": reps}) for shape, reps in forms]


_composite(
    "flatten",
    flatten,
    (
        Edge("size-0 input", (np.zeros((2, 0)),), grads=(np.zeros((2, 0)),), value=_EMPTY),
        Edge("0-d input", (2.0,), grads=(1.0,), value=[2.0]),
    ),
    cases=ELEMENTWISE,
    method="flatten",
)
_composite(
    "squeeze",
    squeeze,
    (
        Edge("size-0 input", (np.zeros((1, 0)),), grads=(np.zeros((1, 0)),), value=_EMPTY),
        Edge("0-d input", (2.0,), grads=(1.0,), value=2.0),
    ),
    cases=SQUEEZE,
    method="squeeze",
    numpy={np.squeeze: None},
)
_composite(
    "expand_dims",
    expand_dims,
    (
        Edge("size-0 input", (_EMPTY,), grads=(_EMPTY,), params={"axis": 0}, value=np.zeros((1, 0))),
        Edge("0-d input", (2.0,), grads=(1.0,), params={"axis": 0}, value=[2.0]),
    ),
    cases=EXPAND_DIMS,
    method="expand_dims",
    numpy={np.expand_dims: None},
)
_composite(
    "swapaxes",
    swapaxes,
    (
        Edge(
            "size-0 input",
            (np.zeros((0, 2)),),
            grads=(np.zeros((0, 2)),),
            params={"axis1": 0, "axis2": 1},
            value=np.zeros((2, 0)),
        ),
        Edge(
            "0-d input",
            (2.0,),
            params={"axis1": 0, "axis2": 0},
            raises=ValueError,
            torch=False,
            note="a 0-d input has no axis 0 (numpy's rule); torch lets it swap 0 with itself",
        ),
    ),
    cases=SWAPAXES,
    method="swapaxes",
    numpy={
        np.swapaxes: None,
        **numpy_api.newer(np, "matrix_transpose", _matrix_transpose),
        **numpy_api.newer(np.linalg, "matrix_transpose", _matrix_transpose),
    },
)
register(
    Op(
        "stack",
        None,
        (),
        (REAL,),
        composite=_stacked,
        doc="Join Values of one shape along a new axis.",
        cases=STACK,
        variadic=True,
        function=stack,
        numpy={np.stack: numpy_api.joined("stack", "stack")},
        edges=(
            Edge("size-0 inputs", (_EMPTY, _EMPTY), grads=(_EMPTY, _EMPTY), value=np.zeros((2, 0))),
            Edge("0-d inputs", (2.0, 3.0), grads=(1.0, 1.0), value=[2.0, 3.0]),
        ),
    )
)
_composite(
    "tile",
    tile,
    (
        Edge(
            "a 0 repetition", ([1.0, 2.0],), grads=([0.0, 0.0],), params={"reps": 0}, value=_EMPTY, flat=(0,)
        ),
        Edge("size-0 input", (_EMPTY,), grads=(_EMPTY,), params={"reps": 2}, value=_EMPTY),
        Edge("0-d input", (2.0,), grads=(3.0,), params={"reps": 3}, value=[2.0, 2.0, 2.0]),
    ),
    cases=Cases("tile", samples=_tile_samples),
    numpy={np.tile: None},
)
