"""The shared sample cases of the ops: the ``Cases`` constants that registry entries name as ``cases=``.

Each constant says how the suite draws the arguments of the ops that use it: ``ELEMENTWISE`` for
ops of broadcasting inputs and no parameters, ``REDUCTION`` for ``axis`` and ``keepdims``,
``GETITEM`` for indices, and so on (an op whose cases fit no constant writes its own
``Cases(family, samples=...)`` next to its entry). The builders draw through a ``Source`` of
random choices: ``autonet.testing.cases.RandomSource`` (numpy) for ``python -m autonet check``,
a Hypothesis source in the tests.

This module sits at the bottom with the registry: it imports numpy and ``autonet.ops.registry``
only, so that every op module can name its cases.

>>> from autonet.ops import REGISTRY
>>> REGISTRY["add"].cases is ELEMENTWISE and REGISTRY["sum"].cases is REDUCTION
True
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .registry import Cases, Domain, Op

__all__ = [
    "ASTYPE",
    "AXIS",
    "BROADCAST_TO",
    "CLIP",
    "CONCATENATE",
    "CUMULATIVE",
    "ELEMENTWISE",
    "EXPAND_DIMS",
    "GETITEM",
    "LINEAR",
    "MATMUL",
    "MAX_DIMS",
    "MAX_SIDE",
    "OUTER",
    "REDUCTION",
    "RESHAPE",
    "SCATTER_ADD",
    "SQUEEZE",
    "STACK",
    "SWAPAXES",
    "TRANSPOSE",
    "WHERE",
    "NotApplicable",
    "Shape",
    "Source",
    "broadcastable_shapes",
    "draw_shape",
    "lattice",
]

Shape = tuple[int, ...]
"""An array shape: a tuple of non-negative ints."""

# Small shapes keep a full-Jacobian check cheap: at most 27 elements per input.
MAX_DIMS = 3
"""The most dimensions a drawn input has."""
MAX_SIDE = 3
"""The longest side a drawn input has."""


class NotApplicable(Exception):
    """The op's parameters cannot be drawn for the given input shapes (the caller picks others)."""


class Source:
    """Where the random choices come from; subclasses supply four primitives.

    ``integer(low, high)`` (both inclusive), ``floats(shape, intervals)`` (each element inside
    one of the closed intervals), ``booleans(shape)`` and ``distinct_integers(count, population)``
    (``count`` different ints from ``range(population)``, in random order); ``integers(shape,
    low, high)`` has a default built on ``floats``.
    """

    def integer(self, low: int, high: int) -> int:
        """An int in ``low..high``, both inclusive."""
        raise NotImplementedError

    def floats(self, shape: Shape, intervals: Sequence[tuple[float, float]]) -> np.ndarray:
        """A float array of ``shape``, each element inside one of the closed ``intervals``."""
        raise NotImplementedError

    def booleans(self, shape: Shape) -> np.ndarray:
        """A boolean array of ``shape``."""
        raise NotImplementedError

    def distinct_integers(self, count: int, population: int) -> list[int]:
        """``count`` different ints from ``range(population)``, in random order."""
        raise NotImplementedError

    def integers(self, shape: Shape, low: int, high: int) -> np.ndarray:
        """An int array of ``shape`` with elements in ``low..high`` (both inclusive); from ``floats``
        unless a subclass has a cheaper way."""
        drawn = np.asarray(self.floats(shape, [(float(low), high + 0.999)]), dtype=np.float64)
        return np.clip(np.floor(drawn), low, high).astype(np.intp)

    def boolean(self) -> bool:
        """A fair coin."""
        return self.integer(0, 1) == 1

    def choice(self, options: Sequence[Any]) -> Any:
        """One of ``options``."""
        return options[self.integer(0, len(options) - 1)]


# --------------------------------------------------------------------------- shapes


def draw_shape(
    source: Source,
    min_dims: int = 0,
    max_dims: int = MAX_DIMS,
    min_side: int = 1,
    max_side: int = MAX_SIDE,
    max_size: int | None = None,
) -> Shape:
    """A shape with ``min_dims..max_dims`` axes of ``min_side..max_side`` each, at most ``max_size`` elements.

    >>> from autonet.testing.cases import RandomSource
    >>> draw_shape(RandomSource(np.random.default_rng(0)), min_dims=2, max_dims=2, max_side=1)
    (1, 1)
    """
    ndim = source.integer(min_dims, max_dims)
    sides: list[int] = []
    for _ in range(ndim):
        room = (
            max_side
            if max_size is None
            else max(min_side, min(max_side, max_size // max(math.prod(sides), 1)))
        )
        sides.append(source.integer(min_side, room))
    return tuple(sides)


def _broadcast_partner(source: Source, shape: Shape) -> Shape:
    """A shape that broadcasts with ``shape``: some leading axes dropped, some sides set to 1."""
    drop = source.integer(0, len(shape))
    return tuple(1 if source.boolean() else n for n in shape[drop:])


def broadcastable_shapes(source: Source, count: int = 2, max_size: int | None = None) -> list[Shape]:
    """``count`` shapes that broadcast together (leading axes dropped, sides set to 1).

    >>> from autonet.testing.cases import RandomSource
    >>> shapes = broadcastable_shapes(RandomSource(np.random.default_rng(1)), 3)
    >>> np.broadcast_shapes(*shapes) is not None
    True
    """
    base = draw_shape(source, max_size=max_size)
    return [_broadcast_partner(source, base) for _ in range(count)]


def lattice(domain: Domain) -> np.ndarray:
    """The points a ``distinct`` draw in ``domain`` picks from: ``2 * margin`` apart (each draw is
    then jittered by at most ``margin``, so any two stay ``margin`` apart), none near an avoided point.

    >>> lattice(Domain(0.0, 1.0, margin=0.25)).tolist()
    [0.0, 0.5]
    """
    # Points 2 * margin apart, each later jittered by at most margin: any two draws stay margin apart.
    step = 2 * domain.margin
    points = np.arange(domain.low, domain.high - domain.margin + 1e-12, step)
    keep = np.ones(points.shape, dtype=bool)
    for a in domain.avoid:
        keep &= (points + domain.margin <= a - domain.margin) | (points >= a + domain.margin)
    return points[keep]


def _distinct_budget(op: Op, count: int) -> int | None:
    # How many elements each input may have so that a distinct draw fits its lattice.
    if not op.distinct:
        return None
    return max(1, len(lattice(op.domain[0])) // count)


# --------------------------------------------------------------------------- the builders


def _broadcasts(shapes: list[Shape]) -> bool:
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        return False
    return True


def _one_shape(**limits: Any) -> Callable[[Op, Source], list[Shape]]:
    def shapes(op: Op, source: Source) -> list[Shape]:
        return [draw_shape(source, max_size=_distinct_budget(op, 1), **limits)]

    return shapes


def _elementwise_shapes(op: Op, source: Source) -> list[Shape]:
    count = len(op.domain)
    if count == 1:
        return [draw_shape(source, max_size=_distinct_budget(op, 1))]
    return broadcastable_shapes(source, count, max_size=_distinct_budget(op, count))


def _clip_params(op: Op, shapes: list[Shape], source: Source) -> dict[str, Any]:
    # The bounds are the clip's kinks, so the domain avoids them: they are its first and last avoided points.
    avoid = sorted(op.domain[0].avoid)
    if not avoid:
        raise ValueError(
            f"{op.name}: an op with CLIP cases declares its bounds as the avoided points of its domain"
        )
    low, high = avoid[0], avoid[-1]
    which = source.integer(0, 2)
    return {"low": low if which != 2 else None, "high": high if which != 1 else None}


def _where_params(op: Op, shapes: list[Shape], source: Source) -> dict[str, Any]:
    target = np.broadcast_shapes(*shapes)
    return {"condition": np.asarray(source.booleans(_broadcast_partner(source, target)), dtype=bool)}


def _matmul_shapes(op: Op, source: Source) -> list[Shape]:
    n, k, m = (source.integer(1, MAX_SIDE) for _ in range(3))
    layout = source.integer(0, 3)
    if layout == 0:
        return [(k,), (k,)]
    batch_a, batch_b = (list(s) for s in broadcastable_shapes(source, 2))
    # Batch axes are kept to two at most so operands stay under four dimensions.
    batch_a, batch_b = tuple(batch_a[-2:]), tuple(batch_b[-2:])
    if layout == 1:
        return [(k,), (*batch_b, k, m)]
    if layout == 2:
        return [(*batch_a, n, k), (k,)]
    return [(*batch_a, n, k), (*batch_b, k, m)]


def _matmul_accepts(shapes: list[Shape]) -> bool:
    if len(shapes) != 2 or not shapes[0] or not shapes[1]:
        return False
    try:
        np.matmul(np.empty(shapes[0]), np.empty(shapes[1]))
    except ValueError:
        return False
    return True


def _min_reduced(op: Op) -> int:
    return op.cases.min_reduced_size if op.cases is not None else 1


def _reduction_shapes(op: Op, source: Source) -> list[Shape]:
    need = _min_reduced(op)
    shape = draw_shape(source, max_size=_distinct_budget(op, 1))
    if math.prod(shape) < need:
        # Ops like std need several elements per reduced slice; grow the first axis to make room.
        shape = (need, *shape[1:]) if shape else (need,)
    return [shape]


def _axes(source: Source, ndim: int) -> tuple[int, ...]:
    """A few distinct axes of ``ndim``, each in positive or negative form, in random order."""
    if ndim == 0:
        return ()
    picked = source.distinct_integers(source.integer(0, ndim), ndim)
    return tuple(a - ndim if source.boolean() else a for a in picked)


def _reduction_params(op: Op, shapes: list[Shape], source: Source) -> dict[str, Any]:
    (shape,) = shapes
    need = _min_reduced(op)
    if 0 in shape:
        # A reduction over an empty slice is an edge (declared: a sum of 0, a max that raises ...),
        # so drawn cases fold axes that have elements only, which leaves an empty result.
        full = [i for i, n in enumerate(shape) if n]
        if not full:
            raise NotApplicable(f"{op.name}: every axis of {shape} is empty")
        picked = [full[i] for i in source.distinct_integers(source.integer(1, len(full)), len(full))]
        if math.prod(shape[a] for a in picked) < need:
            raise NotApplicable(f"{op.name} needs at least {need} elements per slice")
        axes = tuple(a - len(shape) if source.boolean() else a for a in picked)
        return {
            "axis": axes[0] if len(axes) == 1 and source.boolean() else axes,
            "keepdims": source.boolean(),
        }
    if math.prod(shape) < need:
        raise NotApplicable(f"{op.name} needs at least {need} elements, shape {shape} has fewer")
    form = source.integer(0, 2)
    axis: Any = None
    if form == 1 and shape:
        axis = source.integer(-len(shape), len(shape) - 1)
    elif form == 2:
        axis = _axes(source, len(shape))
    if axis is not None:
        folded = [shape[a] for a in (axis if isinstance(axis, tuple) else (axis,))]
        if math.prod(folded) < need:
            axis = None
    return {"axis": axis, "keepdims": source.boolean()}


def _axis_params(op: Op, shapes: list[Shape], source: Source) -> dict[str, Any]:
    ndim = max(len(shapes[0]), 1)
    return {"axis": source.integer(-ndim, ndim - 1)}


def _factor(n: int) -> list[int]:
    factors, p = [], 2
    while n > 1:
        while n % p == 0:
            factors.append(p)
            n //= p
        p += 1
    return factors


def _reshape_params(op: Op, shapes: list[Shape], source: Source) -> dict[str, Any]:
    (shape,) = shapes
    size = math.prod(shape)
    if size == 0:
        # Any sides with a 0 among them hold no elements (-1 would be ambiguous: numpy refuses it).
        sides = [source.integer(1, MAX_SIDE) for _ in range(source.integer(1, MAX_DIMS))]
        sides[source.integer(0, len(sides) - 1)] = 0
        return {"shape": tuple(sides)}
    ndim = source.integer(0 if size == 1 else 1, MAX_DIMS + 1)
    sides = [1] * ndim
    for p in _factor(size):
        sides[source.integer(0, ndim - 1)] *= p
    if sides and source.boolean():
        sides[source.integer(0, ndim - 1)] = -1
    return {"shape": tuple(sides)}


def _transpose_params(op: Op, shapes: list[Shape], source: Source) -> dict[str, Any]:
    ndim = len(shapes[0])
    if source.integer(0, 3) == 0:
        return {"axes": None}
    order = source.distinct_integers(ndim, ndim)
    return {"axes": tuple(a - ndim if source.boolean() else a for a in order)}


def _astype_params(op: Op, shapes: list[Shape], source: Source) -> dict[str, Any]:
    # float64 in the spellings numpy takes: the cast of a float64 input is then exact, as a
    # check by central differences needs (the rounding to float32 is pinned by the op's edges).
    return {"dtype": ("float64", np.float64, np.dtype(np.float64))[source.integer(0, 2)]}


def _broadcast_to_shapes(op: Op, source: Source) -> list[Shape]:
    # Mostly ones, so that there is something to broadcast.
    return [tuple(1 if source.integer(0, 2) else n for n in draw_shape(source))]


def _broadcast_to_params(op: Op, shapes: list[Shape], source: Source) -> dict[str, Any]:
    (shape,) = shapes
    room = max(0, MAX_DIMS + 1 - len(shape))
    lead = tuple(source.integer(1, MAX_SIDE) for _ in range(source.integer(0, min(2, room))))
    body = tuple(source.integer(1, MAX_SIDE) if n == 1 else n for n in shape)
    return {"shape": lead + body}


def _basic_part(source: Source, side: int) -> Any:
    if side and source.boolean():
        i = source.integer(0, side - 1)
        return i - side if source.boolean() else i
    step = source.choice([1, 1, 2, -1, -2])
    start = source.choice([None, source.integer(-side, side)])
    stop = source.choice([None, source.integer(-side - 1, side + 1)])
    return slice(start, stop, step)


def _index_for(shape: Shape, source: Source) -> Any:
    """An index into an array of ``shape``: basic parts, an integer array with repeats, or a mask."""
    ndim = len(shape)
    form = source.integer(0, 4) if ndim else 0
    if 0 in shape and form in (1, 2, 4):
        form = 3  # integer arrays need elements to point at; a mask over an empty axis is empty
    if form == 0 or ndim == 0:
        lead = source.integer(0, ndim)
        parts: list[Any] = [_basic_part(source, n) for n in shape[:lead]]
        if source.integer(0, 3) == 0:
            # The parts after an Ellipsis index the last axes, so they are drawn for those.
            trail = source.integer(0, ndim - lead)
            parts += [Ellipsis, *(_basic_part(source, n) for n in shape[ndim - trail :])]
        if source.integer(0, 3) == 0:
            parts.insert(source.integer(0, len(parts)), None)
        return parts[0] if len(parts) == 1 and source.boolean() else tuple(parts)
    axis = source.integer(0, ndim - 1)
    if form in (1, 2):
        # An integer array (repeats included, some negative) along one axis; 2-d when form is 2.
        index_shape = (source.integer(1, 4),) if form == 1 else (source.integer(1, 2), source.integer(1, 3))
        picks = np.array(
            [source.integer(-shape[axis], shape[axis] - 1) for _ in range(math.prod(index_shape))]
        )
        return (slice(None),) * axis + (picks.reshape(index_shape),)
    if form == 3 or ndim == 1:
        # A boolean mask over the leading axes.
        lead = source.integer(1, ndim)
        return np.asarray(source.booleans(shape[:lead]), dtype=bool)
    # Two integer arrays that broadcast together pick elements pointwise.
    count = source.integer(1, 3)
    first = np.array([source.integer(0, shape[0] - 1) for _ in range(count)])
    second = np.array([source.integer(0, shape[1] - 1) for _ in range(count)])
    return (first, second)


def _getitem_params(op: Op, shapes: list[Shape], source: Source) -> dict[str, Any]:
    return {"index": _index_for(shapes[0], source)}


def _scatter_add_params(op: Op, shapes: list[Shape], source: Source) -> dict[str, Any]:
    """An (index, shape) whose ``np.empty(shape)[index]`` has the gradient's shape."""
    (g_shape,) = shapes
    form = source.integer(0, 2) if g_shape else 0
    if form == 0:
        extras = [source.integer(0, 2) for _ in g_shape]
        offsets = [source.integer(0, e) for e in extras]
        index: tuple[Any, ...] = tuple(slice(o, o + n) for o, n in zip(offsets, g_shape, strict=True))
        shape = tuple(n + e for n, e in zip(g_shape, extras, strict=True))
        if source.boolean():
            lead = source.integer(1, MAX_SIDE)
            index = (source.integer(0, lead - 1), *index)
            shape = (lead, *shape)
        return {"index": index, "shape": shape}
    first, rest = g_shape[0], g_shape[1:]
    if form == 1:
        # Repeated positions add up: the adjoint of gathering the same row twice.
        side = source.integer(1, MAX_SIDE)
        return {
            "index": np.array([source.integer(0, side - 1) for _ in range(first)], dtype=np.intp),
            "shape": (side, *rest),
        }
    side = first + source.integer(0, 2)
    mask = np.zeros(side, dtype=bool)
    mask[source.distinct_integers(first, side)] = True
    return {"index": mask, "shape": (side, *rest)}


def _concatenate_shapes(op: Op, source: Source) -> list[Shape]:
    base = draw_shape(source, min_dims=1)
    axis = source.integer(0, len(base) - 1)
    shapes = []
    for _ in range(source.integer(1, 3)):
        side = source.integer(1, MAX_SIDE)
        shapes.append((*base[:axis], side, *base[axis + 1 :]))
    return shapes


def _concatenate_accepts(shapes: list[Shape]) -> bool:
    first = shapes[0]
    if not first or any(len(s) != len(first) for s in shapes):
        return False
    differing = {i for s in shapes for i, (n, m) in enumerate(zip(s, first, strict=True)) if n != m}
    return len(differing) <= 1


def _concatenate_params(op: Op, shapes: list[Shape], source: Source) -> dict[str, Any]:
    ndim = len(shapes[0])
    first = shapes[0]
    differing = sorted({i for s in shapes for i, (n, m) in enumerate(zip(s, first, strict=True)) if n != m})
    axis = differing[0] if differing else source.integer(0, ndim - 1)
    return {"axis": axis - ndim if source.boolean() else axis}


def _stack_shapes(op: Op, source: Source) -> list[Shape]:
    shape = draw_shape(source, max_dims=2)
    return [shape] * source.integer(1, 3)


def _stack_params(op: Op, shapes: list[Shape], source: Source) -> dict[str, Any]:
    ndim = len(shapes[0]) + 1
    return {"axis": source.integer(-ndim, ndim - 1)}


def _squeeze_shapes(op: Op, source: Source) -> list[Shape]:
    return [tuple(1 if source.boolean() else n for n in draw_shape(source))]


def _squeeze_params(op: Op, shapes: list[Shape], source: Source) -> dict[str, Any]:
    ones = [i for i, n in enumerate(shapes[0]) if n == 1]
    form = source.integer(0, 2)
    if form == 0 or not ones:
        return {"axis": None}
    if form == 1:
        return {"axis": source.choice(ones)}
    return {"axis": tuple(ones[i] for i in source.distinct_integers(source.integer(1, len(ones)), len(ones)))}


def _expand_dims_params(op: Op, shapes: list[Shape], source: Source) -> dict[str, Any]:
    ndim = len(shapes[0])
    if ndim >= MAX_DIMS + 1:
        raise NotApplicable("expand_dims: the input already has the most dimensions the cases allow")
    if source.boolean():
        return {"axis": source.integer(-ndim - 1, ndim)}
    out_ndim = ndim + source.integer(1, min(2, MAX_DIMS + 1 - ndim))
    return {"axis": tuple(source.distinct_integers(out_ndim - ndim, out_ndim))}


def _swapaxes_params(op: Op, shapes: list[Shape], source: Source) -> dict[str, Any]:
    ndim = len(shapes[0])
    if ndim == 0:
        raise NotApplicable("swapaxes needs at least one dimension")
    return {"axis1": source.integer(-ndim, ndim - 1), "axis2": source.integer(-ndim, ndim - 1)}


def _linear_shapes(op: Op, source: Source) -> list[Shape]:
    n_in, n_out = source.integer(1, MAX_SIDE), source.integer(1, MAX_SIDE)
    batch = draw_shape(source, max_dims=2)
    return [(*batch, n_in), (n_in, n_out), (n_out,)]


def _linear_accepts(shapes: list[Shape]) -> bool:
    if len(shapes) != 3:
        return False
    x, w, b = shapes
    return len(x) >= 1 and len(w) == 2 and len(b) == 1 and x[-1] == w[0] and w[1] == b[0]


def _cumulative_params(op: Op, shapes: list[Shape], source: Source) -> dict[str, Any]:
    # axis=None runs over the flattened input; an int axis counts a 0-d input as a vector of one.
    ndim = max(len(shapes[0]), 1)
    return {"axis": None if source.integer(0, 2) == 0 else source.integer(-ndim, ndim - 1)}


def _outer_shapes(op: Op, source: Source) -> list[Shape]:
    return [draw_shape(source, max_dims=2), draw_shape(source, max_dims=2)]


def _at_least_1d(shapes: list[Shape]) -> bool:
    return len(shapes) == 1 and len(shapes[0]) >= 1


def _where_shapes(op: Op, source: Source) -> list[Shape]:
    return broadcastable_shapes(source, 2)


def _same_shapes(shapes: list[Shape]) -> bool:
    return len(set(shapes)) == 1


def _two_inputs(shapes: list[Shape]) -> bool:
    return len(shapes) == 2


# --------------------------------------------------------------------------- the constants
# One per way of drawing arguments; an op names one as its cases= (std takes REDUCTION with
# min_reduced_size=2 through dataclasses.replace).

ELEMENTWISE = Cases("elementwise", _elementwise_shapes, accepts=_broadcasts)
"""Inputs of shapes that broadcast together (one per domain), no parameters: add, exp, relu ..."""
CLIP = Cases("clip", _one_shape(), _clip_params)
"""One input; ``low`` and/or ``high`` at the first and last avoided points of the op's domain."""
WHERE = Cases("where", _where_shapes, _where_params, _broadcasts)
"""Two broadcasting inputs and a boolean ``condition`` that broadcasts with them."""
MATMUL = Cases("matmul", _matmul_shapes, accepts=_matmul_accepts)
"""Two inputs that multiply as matrices: vectors, matrices and broadcast batches of them."""
REDUCTION = Cases("reduction", _reduction_shapes, _reduction_params)
"""One input, an ``axis`` (None, an int or a tuple) and ``keepdims``; size-0 axes are not folded."""
AXIS = Cases("axis", _one_shape(), _axis_params)
"""One input and one int ``axis`` (a 0-d input counts as one axis): softmax, log_softmax."""
RESHAPE = Cases("reshape", _one_shape(), _reshape_params)
"""One input and a ``shape`` of the same size (with -1 at times)."""
ASTYPE = Cases("astype", _one_shape(), _astype_params)
"""One input and a float ``dtype`` to cast it to."""
TRANSPOSE = Cases("transpose", _one_shape(), _transpose_params)
"""One input and ``axes``: None or a permutation, in positive or negative form."""
BROADCAST_TO = Cases("broadcast_to", _broadcast_to_shapes, _broadcast_to_params)
"""An input of mostly 1 sides and a ``shape`` it broadcasts to."""
GETITEM = Cases("getitem", _one_shape(), _getitem_params)
"""One input and an ``index``: basic parts, integer arrays with repeats, or a boolean mask."""
SCATTER_ADD = Cases("scatter_add", _one_shape(), _scatter_add_params)
"""A gradient and an ``(index, shape)`` whose ``np.empty(shape)[index]`` has its shape."""
CONCATENATE = Cases("concatenate", _concatenate_shapes, _concatenate_params, _concatenate_accepts)
"""One to three inputs that differ along one ``axis`` only."""
STACK = Cases("stack", _stack_shapes, _stack_params, _same_shapes)
"""One to three inputs of one shape and a new ``axis``."""
SQUEEZE = Cases("squeeze", _squeeze_shapes, _squeeze_params)
"""An input with some sides of 1 and an ``axis`` among them (or None)."""
EXPAND_DIMS = Cases("expand_dims", _one_shape(max_dims=2), _expand_dims_params)
"""An input of at most two dimensions and an ``axis`` (or axes) for the new sides."""
SWAPAXES = Cases("swapaxes", _one_shape(min_dims=1), _swapaxes_params, _at_least_1d)
"""An input of one or more dimensions and two axes ``axis1``, ``axis2``."""
LINEAR = Cases("linear", _linear_shapes, accepts=_linear_accepts)
"""``x @ w + b``: a batch of rows, a weight matrix and a bias that fit."""
CUMULATIVE = Cases("cumulative", _one_shape(), _cumulative_params)
"""One input and an ``axis`` (None: the flattened input)."""
OUTER = Cases("outer", _outer_shapes, accepts=_two_inputs)
"""Two inputs of up to two dimensions each (flattened by the op), no parameters."""
