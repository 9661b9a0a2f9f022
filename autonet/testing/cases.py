"""Arguments for any registered op, drawn from a source of randomness: one definition per op kind.

The same generators serve two masters. ``autonet.testing.strategies`` wraps them in Hypothesis
(which shrinks a failing case to a small one), and ``python -m autonet check`` drives them with
a seeded numpy generator, so a user without Hypothesis still checks exactly what the tests check.

An op's ``kind`` picks its ``KindCases``: the input shapes it needs, which shapes it accepts
together, and the parameters (axis, index, shape ...) it takes for given input shapes. Values are
drawn in each input's declared ``Domain``; ops marked ``distinct`` never see two values closer than
the domain's margin (their gradient has a kink at ties). A kind with no entry here is an error, so
a new kind of op cannot slip past the gradient checks. Some cases have a dimension of size 0.

``op_case(op, source, edges=True)`` draws where the interior ends instead: the same shapes and
parameters, with values that mix interior draws with exact edge values (``edge_values``: the
kinks and poles, the ends of the op's ``bounds``, 0, and +-1e300 on an unbounded side), ties,
constant rows and whole arrays of one value; ops marked ``distinct`` see ties there on purpose.

>>> import numpy as np
>>> inputs, params = op_case("sum", RandomSource(np.random.default_rng(0)))
>>> sorted(params)
['axis', 'keepdims']
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..ops.registry import REGISTRY, Domain, Edge, Op

__all__ = [
    "KIND_CASES",
    "KindCases",
    "NotApplicable",
    "RandomSource",
    "Source",
    "allowed_intervals",
    "broadcastable_shapes",
    "check_domains",
    "check_edges",
    "domain_array",
    "draw_shape",
    "edge_array",
    "edge_values",
    "kind_cases",
    "op_case",
    "require_cases",
    "resolve_op",
]

Shape = tuple[int, ...]

# Small shapes keep a full-Jacobian check cheap: at most 27 elements per input.
MAX_DIMS = 3
MAX_SIDE = 3
# What edge draws put on an unbounded side of a domain: finite, but the product of two overflows,
# and so does exp of one.
HUGE = 1e300


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
        raise NotImplementedError

    def floats(self, shape: Shape, intervals: Sequence[tuple[float, float]]) -> np.ndarray:
        raise NotImplementedError

    def booleans(self, shape: Shape) -> np.ndarray:
        raise NotImplementedError

    def distinct_integers(self, count: int, population: int) -> list[int]:
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


class RandomSource(Source):
    """A ``Source`` driven by a numpy ``Generator`` (what ``python -m autonet check`` uses).

    >>> source = RandomSource(np.random.default_rng(0))
    >>> 1 <= source.integer(1, 3) <= 3
    True
    """

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng

    def integer(self, low: int, high: int) -> int:
        return int(self.rng.integers(low, high + 1))

    def floats(self, shape: Shape, intervals: Sequence[tuple[float, float]]) -> np.ndarray:
        lengths = np.array([b - a for a, b in intervals], dtype=np.float64)
        size = math.prod(shape)
        if lengths.sum() > 0:
            picks = self.rng.choice(len(intervals), size=size, p=lengths / lengths.sum())
        else:
            picks = self.rng.integers(0, len(intervals), size=size)
        lows = np.array([a for a, _ in intervals])[picks]
        return (lows + self.rng.random(size) * lengths[picks]).reshape(shape)

    def booleans(self, shape: Shape) -> np.ndarray:
        return self.rng.random(shape) < 0.5

    def integers(self, shape: Shape, low: int, high: int) -> np.ndarray:
        return self.rng.integers(low, high + 1, size=shape)

    def distinct_integers(self, count: int, population: int) -> list[int]:
        if count == 0:
            return []
        return [int(i) for i in self.rng.choice(population, size=count, replace=False)]


# --------------------------------------------------------------------------- shapes and values


def draw_shape(
    source: Source,
    min_dims: int = 0,
    max_dims: int = MAX_DIMS,
    min_side: int = 1,
    max_side: int = MAX_SIDE,
    max_size: int | None = None,
) -> Shape:
    """A shape with ``min_dims..max_dims`` axes of ``min_side..max_side`` each, at most ``max_size`` elements.

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

    >>> shapes = broadcastable_shapes(RandomSource(np.random.default_rng(1)), 3)
    >>> np.broadcast_shapes(*shapes) is not None
    True
    """
    base = draw_shape(source, max_size=max_size)
    return [_broadcast_partner(source, base) for _ in range(count)]


def allowed_intervals(domain: Domain) -> list[tuple[float, float]]:
    """The closed intervals of ``[low, high]`` that stay ``margin`` away from every avoided point.

    >>> allowed_intervals(Domain(-3.0, 3.0, avoid=(0.0,), margin=0.5))
    [(-3.0, -0.5), (0.5, 3.0)]
    """
    intervals = [(float(domain.low), float(domain.high))]
    for point in sorted(domain.avoid):
        cut_low, cut_high = point - domain.margin, point + domain.margin
        pieces = []
        for a, b in intervals:
            if cut_low > a:
                pieces.append((a, min(b, cut_low)))
            if cut_high < b:
                pieces.append((max(a, cut_high), b))
        intervals = [(a, b) for a, b in pieces if a <= b]
    if not intervals:
        raise ValueError(f"domain {domain} leaves no values to draw: its avoided points cover [low, high]")
    return intervals


def _lattice(domain: Domain) -> np.ndarray:
    # Points 2 * margin apart, each later jittered by at most margin: any two draws stay margin apart.
    step = 2 * domain.margin
    points = np.arange(domain.low, domain.high - domain.margin + 1e-12, step)
    keep = np.ones(points.shape, dtype=bool)
    for a in domain.avoid:
        keep &= (points + domain.margin <= a - domain.margin) | (points >= a + domain.margin)
    return points[keep]


def domain_array(source: Source, domain: Domain, shape: Shape, distinct: bool = False) -> np.ndarray:
    """A float64 array of ``shape`` in ``domain``; with ``distinct``, no two elements closer than its margin.

    >>> x = domain_array(RandomSource(np.random.default_rng(0)), Domain(0.2, 3.0), (2, 2))
    >>> bool(((x >= 0.2) & (x <= 3.0)).all())
    True
    """
    if not distinct:
        return np.asarray(source.floats(shape, allowed_intervals(domain)), dtype=np.float64).reshape(shape)
    points = _lattice(domain)
    size = math.prod(shape)
    if size > len(points):
        raise ValueError(
            f"cannot draw {size} values at least {domain.margin} apart in {domain}: only {len(points)} fit; "
            "use a smaller shape"
        )
    picks = source.distinct_integers(size, len(points))
    jitter = np.asarray(source.floats((size,), [(0.0, domain.margin)]), dtype=np.float64)
    return (points[picks] + jitter).reshape(shape)


def edge_values(domain: Domain, huge: bool = True) -> list[float]:
    """The values an edge draw puts exactly into an input of ``domain``: its avoided points (kinks,
    poles), 0 and the finite ends of its ``bounds`` where they lie within them, and, with
    ``huge``, +-1e300 on each unbounded side.

    >>> from autonet.ops.registry import POSITIVE
    >>> edge_values(POSITIVE)
    [0.0, 1e+300]
    """
    low, high = domain.bounds
    points = {float(p) for p in (*domain.avoid, 0.0, low, high) if math.isfinite(p) and low <= p <= high}
    if huge:
        points |= {p for p, open_side in ((-HUGE, low == -math.inf), (HUGE, high == math.inf)) if open_side}
    return sorted(points)


def edge_array(source: Source, domain: Domain, values: np.ndarray, huge: bool = True) -> np.ndarray:
    """``values`` (interior draws) with edges mixed in: some elements set to exact ``edge_values``
    or to a second interior value (ties), then maybe constant along the last axis, or one value
    throughout. A new array; ``values`` is not changed.

    >>> x = edge_array(RandomSource(np.random.default_rng(0)), Domain(), np.ones((2, 3)))
    >>> x.shape
    (2, 3)
    """
    values = np.array(values, dtype=np.float64)
    if values.size == 0:
        return values
    # Pick 0 keeps the interior value (what Hypothesis shrinks towards); pick k puts pool[k].
    pool = np.array([0.0, *edge_values(domain, huge), float(domain_array(source, domain, ()))])
    picks = np.asarray(source.integers(values.shape, 0, len(pool) - 1))
    values = np.where(picks == 0, values, pool[picks])
    form = source.integer(0, 3)
    if form == 1 and values.ndim:
        values = np.repeat(values[..., :1], values.shape[-1], axis=-1)  # constant rows
    elif form == 2:
        values = np.full(values.shape, values.flat[0])  # one value throughout: every element tied
    return values


def resolve_op(op: Op | str) -> Op:
    """The registry entry for a name (an ``Op`` passes through), with a clear error for unknown names.

    >>> resolve_op("exp").name
    'exp'
    """
    if isinstance(op, Op):
        return op
    try:
        return REGISTRY[op]
    except KeyError:
        raise KeyError(
            f"no op named {op!r} in the registry; known ops: {', '.join(sorted(REGISTRY))}"
        ) from None


def check_domains(op: Op) -> tuple[Domain, ...]:
    """The op's input domains, or an error naming what its registry entry lacks.

    >>> check_domains(resolve_op("div"))[1].avoid
    (0.0,)
    """
    domains = op.domain
    if not isinstance(domains, tuple) or not domains:
        raise ValueError(
            f"{op.name}: the registry entry declares no input domain; give domain=(Domain(...), ...) with "
            "one Domain per input (one for a variadic op)"
        )
    for i, d in enumerate(domains):
        if not isinstance(d, Domain):
            raise TypeError(f"{op.name}: domain {i} is {d!r}, not a Domain")
    if op.variadic and len(domains) != 1:
        raise ValueError(
            f"{op.name}: a variadic op declares one Domain for all its inputs, got {len(domains)}"
        )
    if op.composite is None and not op.variadic and len(op.vjps) != len(domains):
        raise ValueError(
            f"{op.name}: {len(op.vjps)} vjps but {len(domains)} domains; declare one Domain per input"
        )
    return domains


def check_edges(op: Op) -> tuple[Edge, ...]:
    """The op's declared edges, or an error naming what its registry entry lacks or gets wrong.

    Each edge needs one input per domain (any number for a variadic op), and either ``raises`` or
    one gradient per input; ``flat`` names inputs that exist.

    >>> [edge.point for edge in check_edges(resolve_op("relu"))][:2]
    ['x = 0 (kink)', 'x < 0 (flat)']
    """
    edges = op.edges
    if not isinstance(edges, tuple) or not edges:
        raise ValueError(
            f"{op.name}: the registry entry declares no edges; give edges=(Edge(...), ...) with its value "
            "and gradient at its kinks, ties, poles, constant slices, saturation, huge values, size-0 "
            "and 0-d inputs"
        )
    for edge in edges:
        if not isinstance(edge, Edge):
            raise TypeError(f"{op.name}: edge {edge!r} is not an Edge")
        where = f"{op.name}: edge {edge.point!r}"
        count = len(edge.inputs)
        if not op.variadic and count != len(check_domains(op)):
            raise ValueError(f"{where} has {count} inputs, the op takes {len(op.domain)}")
        if edge.raises is None and len(edge.grads) != count:
            raise ValueError(
                f"{where} declares {len(edge.grads)} gradients for {count} inputs (None: not pinned)"
            )
        if edge.raises is not None and (edge.grads or edge.value is not None or edge.flat):
            raise ValueError(f"{where} raises, so it declares no value, gradients or flat inputs")
        if not set(edge.flat) <= set(range(count)):
            raise ValueError(f"{where}: flat {edge.flat} names inputs it does not have")
    return edges


def _per_input(op: Op, count: int) -> list[Domain]:
    domains = check_domains(op)
    return [domains[0] if op.variadic else domains[i] for i in range(count)]


def _arrays(op: Op, shapes: Sequence[Shape], source: Source) -> tuple[np.ndarray, ...]:
    per_input = _per_input(op, len(shapes))
    if not op.distinct:
        return tuple(domain_array(source, d, s) for d, s in zip(per_input, shapes, strict=True))
    if len(set(per_input)) != 1:
        raise ValueError(f"{op.name}: a distinct op needs one domain for all inputs to keep them apart")
    # One joint draw keeps every value apart from every other, across inputs too (maximum(a, b)).
    sizes = [math.prod(s) for s in shapes]
    flat = domain_array(source, per_input[0], (sum(sizes),), distinct=True)
    bounds = np.cumsum([0, *sizes])
    return tuple(flat[bounds[i] : bounds[i + 1]].reshape(s) for i, s in enumerate(shapes))


def _distinct_budget(op: Op, count: int) -> int | None:
    # How many elements each input may have so that a distinct draw fits its lattice.
    if not op.distinct:
        return None
    return max(1, len(_lattice(check_domains(op)[0])) // count)


# --------------------------------------------------------------------------- the kinds


@dataclass(frozen=True)
class KindCases:
    """How to build the arguments of every op of one kind.

    - ``shapes(op, source)``: input shapes for a case of its own.
    - ``accepts(shapes)``: whether inputs of these shapes can go in together (random programs
      pick operands with it).
    - ``params(op, shapes, source)``: the non-differentiable arguments for inputs of these
      shapes; raises ``NotApplicable`` when there are none.
    """

    shapes: Callable[[Op, Source], list[Shape]]
    params: Callable[[Op, list[Shape], Source], dict[str, Any]]
    accepts: Callable[[list[Shape]], bool] = lambda shapes: len(shapes) == 1


def _broadcasts(shapes: list[Shape]) -> bool:
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        return False
    return True


def _no_params(op: Op, shapes: list[Shape], source: Source) -> dict[str, Any]:
    return {}


def _one_shape(**limits: Any) -> Callable[[Op, Source], list[Shape]]:
    def shapes(op: Op, source: Source) -> list[Shape]:
        return [draw_shape(source, max_size=_distinct_budget(op, 1), **limits)]

    return shapes


def _elementwise_shapes(op: Op, source: Source) -> list[Shape]:
    count = len(check_domains(op))
    if count == 1:
        return [draw_shape(source, max_size=_distinct_budget(op, 1))]
    return broadcastable_shapes(source, count, max_size=_distinct_budget(op, count))


def _clip_params(op: Op, shapes: list[Shape], source: Source) -> dict[str, Any]:
    # The bounds are the clip's kinks, so the domain avoids them: they are its first and last avoided points.
    avoid = sorted(check_domains(op)[0].avoid)
    if not avoid:
        raise ValueError(f"{op.name}: a clip-kind op declares its bounds as the avoided points of its domain")
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
    return int(op.extra.get("min_reduced_size", 1))


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


KIND_CASES: dict[str, KindCases] = {
    "elementwise": KindCases(_elementwise_shapes, _no_params, _broadcasts),
    "clip": KindCases(_one_shape(), _clip_params),
    "where": KindCases(lambda op, source: broadcastable_shapes(source, 2), _where_params, _broadcasts),
    "matmul": KindCases(_matmul_shapes, _no_params, _matmul_accepts),
    "reduction": KindCases(_reduction_shapes, _reduction_params),
    "axis": KindCases(_one_shape(), _axis_params),
    "reshape": KindCases(_one_shape(), _reshape_params),
    "transpose": KindCases(_one_shape(), _transpose_params),
    "broadcast_to": KindCases(_broadcast_to_shapes, _broadcast_to_params),
    "getitem": KindCases(_one_shape(), _getitem_params),
    "scatter_add": KindCases(_one_shape(), _scatter_add_params),
    "concatenate": KindCases(_concatenate_shapes, _concatenate_params, _concatenate_accepts),
    "stack": KindCases(_stack_shapes, _stack_params, lambda shapes: len(set(shapes)) == 1),
    "squeeze": KindCases(_squeeze_shapes, _squeeze_params),
    "expand_dims": KindCases(_one_shape(max_dims=2), _expand_dims_params),
    "swapaxes": KindCases(_one_shape(min_dims=1), _swapaxes_params, _at_least_1d),
    "linear": KindCases(_linear_shapes, _no_params, _linear_accepts),
    "cumulative": KindCases(_one_shape(), _cumulative_params),
    "outer": KindCases(_outer_shapes, _no_params, lambda shapes: len(shapes) == 2),
}


def require_cases(op: Op | str) -> Op:
    """The registry entry, after checking that ``op_case`` can build its arguments (else the error).

    >>> require_cases("linear").name
    'linear'
    """
    entry = resolve_op(op)
    check_domains(entry)
    check_edges(entry)
    if entry.kind not in KIND_CASES and callable(entry.extra.get("samples")):
        return entry
    kind_cases(entry)
    return entry


def _declared_samples(op: Op, source: Source) -> tuple[tuple[np.ndarray, ...], dict[str, Any]]:
    """One of the cases the op lists itself in ``extra["samples"](rng, dtype)``, from a drawn seed."""
    rng = np.random.default_rng(source.integer(0, 2**32 - 1))
    samples = op.extra["samples"](rng, np.float64)
    if not samples:
        raise ValueError(f"{op.name}: extra['samples'] returned no cases")
    inputs, params = samples[source.integer(0, len(samples) - 1)]
    return tuple(np.asarray(x, dtype=np.float64) for x in inputs), dict(params)


def _emptied(
    shapes: list[Shape], accepts: Callable[[list[Shape]], bool], source: Source
) -> list[Shape] | None:
    """The shapes with a side of 0, in one shape or along one axis of all (counted from the right,
    as broadcasting aligns them), among the variants the kind ``accepts``; None if there is none."""
    variants = []
    for i, shape in enumerate(shapes):
        for axis in range(len(shape)):
            variants.append([(*s[:axis], 0, *s[axis + 1 :]) if j == i else s for j, s in enumerate(shapes)])
    for back in range(1, max((len(s) for s in shapes), default=0) + 1):
        variants.append(
            [(*s[: len(s) - back], 0, *s[len(s) - back + 1 :]) if len(s) >= back else s for s in shapes]
        )
    variants = [v for v in variants if v != shapes and accepts(v)]
    return source.choice(variants) if variants else None


def _edge_arrays(op: Op, inputs: Sequence[np.ndarray], source: Source, huge: bool) -> tuple[np.ndarray, ...]:
    domains = _per_input(op, len(inputs))
    return tuple(edge_array(source, d, x, huge) for d, x in zip(domains, inputs, strict=True))


def kind_cases(op: Op) -> KindCases:
    """The ``KindCases`` for ``op``'s kind; an unknown kind is an error that says where to add one.

    (An op of another kind is still covered when it lists its own cases in ``extra["samples"]``;
    ``op_case`` then draws from those.)

    >>> kind_cases(resolve_op("sum")) is KIND_CASES["reduction"]
    True
    """
    try:
        return KIND_CASES[op.kind]
    except KeyError:
        raise LookupError(
            f"{op.name}: no argument generator for op kind {op.kind!r}; add a KindCases entry for it in "
            "autonet/testing/cases.py so the gradient checks cover this op"
        ) from None


def op_case(
    op: Op | str, source: Source, edges: bool = False, huge: bool = True
) -> tuple[tuple[np.ndarray, ...], dict[str, Any]]:
    """Inputs in the op's domain and parameters for it: ``call_op(op, *inputs, **params)`` runs.

    About one case in eight has a dimension of size 0 (where the op's kind allows one). With
    ``edges``, values also sit exactly on the domain's edges (``edge_array``; +-1e300 only with
    ``huge``), ties and constant rows included, and ``distinct`` is not enforced.

    >>> import numpy as np
    >>> from autonet import call_op
    >>> inputs, params = op_case("matmul", RandomSource(np.random.default_rng(3)))
    >>> call_op("matmul", *inputs, **params).dtype
    dtype('float64')
    """
    op = resolve_op(op)
    check_domains(op)
    check_edges(op)
    if op.kind not in KIND_CASES and callable(op.extra.get("samples")):
        inputs, params = _declared_samples(op, source)
        return (_edge_arrays(op, inputs, source, huge) if edges else inputs), params
    cases = kind_cases(op)
    shapes = cases.shapes(op, source)
    params = None
    # The first choice is the ordinary one, so that Hypothesis shrinks towards shapes with elements.
    if source.integer(0, 7) == 7:
        emptied = _emptied(shapes, cases.accepts, source)
        if emptied is not None:
            try:
                params = cases.params(op, emptied, source)
                shapes = emptied
            except NotApplicable:
                pass
    if params is None:
        params = cases.params(op, shapes, source)
    if edges:
        interior = [
            domain_array(source, d, s) for d, s in zip(_per_input(op, len(shapes)), shapes, strict=True)
        ]
        return _edge_arrays(op, interior, source, huge), params
    return _arrays(op, shapes, source), params
