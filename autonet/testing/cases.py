"""Arguments for any registered op, drawn from a source of randomness, as the op's entry says.

The same generators serve two masters. ``autonet.testing.strategies`` wraps them in Hypothesis
(which shrinks a failing case to a small one), and ``python -m autonet check`` drives them with
a seeded numpy generator, so a user without Hypothesis still checks exactly what the tests check.

An op's registry entry holds its ``cases`` (an ``autonet.ops.Cases``, usually a constant of
``autonet.ops.cases``): the input shapes it needs, which shapes it accepts together, and the
parameters (axis, index, shape ...) it takes for given input shapes, or whole cases written out.
Values are drawn in each input's declared ``Domain``; ops marked ``distinct`` never see two
values closer than the domain's margin (their gradient has a kink at ties). An entry without
cases is an error (``register`` refuses one), so no op can slip past the gradient checks. Some
cases have a dimension of size 0.

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
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..ops.cases import (
    MAX_DIMS,  # noqa: F401 - still read here as cases.MAX_DIMS (strategies, callers)
    MAX_SIDE,  # noqa: F401
    NotApplicable,
    Shape,
    Source,
    broadcastable_shapes,
    draw_shape,
    lattice,
)
from ..ops.registry import REGISTRY, Cases, Domain, Edge, Op, one_input

__all__ = [
    "NotApplicable",
    "RandomSource",
    "Source",
    "allowed_intervals",
    "broadcastable_shapes",
    "check_cases",
    "check_domains",
    "check_edges",
    "domain_array",
    "draw_shape",
    "edge_array",
    "edge_values",
    "op_case",
    "require_cases",
    "resolve_op",
]

# What edge draws put on an unbounded side of a domain: finite, but the product of two overflows,
# and so does exp of one.
HUGE = 1e300


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


# --------------------------------------------------------------------------- values


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


def domain_array(source: Source, domain: Domain, shape: Shape, distinct: bool = False) -> np.ndarray:
    """A float64 array of ``shape`` in ``domain``; with ``distinct``, no two elements closer than its margin.

    >>> x = domain_array(RandomSource(np.random.default_rng(0)), Domain(0.2, 3.0), (2, 2))
    >>> bool(((x >= 0.2) & (x <= 3.0)).all())
    True
    """
    if not distinct:
        return np.asarray(source.floats(shape, allowed_intervals(domain)), dtype=np.float64).reshape(shape)
    points = lattice(domain)
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


def check_cases(op: Op) -> Cases:
    """The op's ``cases``, or an error naming what its registry entry lacks.

    >>> check_cases(resolve_op("sum")).family
    'reduction'
    """
    spec = op.cases
    if spec is None:
        raise ValueError(
            f"{op.name}: the registry entry declares no cases; give cases=... (a constant of "
            "autonet.ops.cases such as ELEMENTWISE, or Cases(family, samples=...)) so the gradient "
            "checks, edge draws and fuzzing cover this op"
        )
    if not isinstance(spec, Cases):
        raise TypeError(f"{op.name}: cases is {spec!r}, not a Cases")
    return spec


def require_cases(op: Op | str) -> Op:
    """The registry entry, after checking that ``op_case`` can build its arguments (else the error).

    >>> require_cases("linear").name
    'linear'
    """
    entry = resolve_op(op)
    check_domains(entry)
    check_edges(entry)
    check_cases(entry)
    return entry


def _declared_samples(op: Op, source: Source) -> tuple[tuple[np.ndarray, ...], dict[str, Any]]:
    """One of the cases the op lists itself in ``cases.samples(rng, dtype)``, from a drawn seed."""
    rng = np.random.default_rng(source.integer(0, 2**32 - 1))
    samples = op.cases.samples(rng, np.float64)
    if not samples:
        raise ValueError(f"{op.name}: cases.samples returned no cases")
    inputs, params = samples[source.integer(0, len(samples) - 1)]
    return tuple(np.asarray(x, dtype=np.float64) for x in inputs), dict(params)


def _emptied(
    shapes: list[Shape], accepts: Callable[[list[Shape]], bool], source: Source
) -> list[Shape] | None:
    """The shapes with a side of 0, in one shape or along one axis of all (counted from the right,
    as broadcasting aligns them), among the variants the op's cases ``accepts``; None if there is none."""
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


def op_case(
    op: Op | str, source: Source, edges: bool = False, huge: bool = True
) -> tuple[tuple[np.ndarray, ...], dict[str, Any]]:
    """Inputs in the op's domain and parameters for it: ``call_op(op, *inputs, **params)`` runs.

    About one case in eight has a dimension of size 0 (where the op's cases accept one). With
    ``edges``, values also sit exactly on the domain's edges (``edge_array``; +-1e300 only with
    ``huge``), ties and constant rows included, and ``distinct`` is not enforced.

    >>> import numpy as np
    >>> from autonet import call_op
    >>> inputs, params = op_case("matmul", RandomSource(np.random.default_rng(3)))
    >>> call_op("matmul", *inputs, **params).dtype
    dtype('float64')
    """
    op = require_cases(op)
    cases = op.cases
    if cases.shapes is None:
        inputs, params = _declared_samples(op, source)
        return (_edge_arrays(op, inputs, source, huge) if edges else inputs), params
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


# --------------------------------------------------------------------------- deprecated names
# KIND_CASES, KindCases and kind_cases described cases by op kind; each op's entry now holds its
# own (Op.cases). They stay importable for a while, built from the registry, with a warning.


@dataclass(frozen=True)
class _KindCases:
    """How to build the arguments of every op of one kind (deprecated: see ``autonet.ops.Cases``)."""

    shapes: Callable[[Op, Source], list[Shape]]
    params: Callable[[Op, list[Shape], Source], dict[str, Any]]
    accepts: Callable[[list[Shape]], bool] = one_input


def _as_kind_cases(cases: Cases) -> _KindCases:
    return _KindCases(cases.shapes, cases.params, cases.accepts)


def _kind_cases(op: Op) -> _KindCases:
    """The old ``kind_cases``: the drawn cases of ``op``, from its entry's ``cases``."""
    cases = check_cases(op)
    if cases.shapes is None:
        raise LookupError(
            f"{op.name}: no argument generator for op family {cases.family!r}: its cases are "
            "written out (cases.samples); op_case draws from those"
        )
    return _as_kind_cases(cases)


def _kind_table() -> dict[str, _KindCases]:
    """The old ``KIND_CASES``: one entry per family of the registered ops that draw their shapes."""
    table: dict[str, _KindCases] = {}
    for op in REGISTRY.values():
        if op.cases is not None and op.cases.shapes is not None:
            table.setdefault(op.cases.family, _as_kind_cases(op.cases))
    return table


_DEPRECATED: dict[str, Callable[[], Any]] = {
    "KIND_CASES": _kind_table,
    "KindCases": lambda: _KindCases,
    "kind_cases": lambda: _kind_cases,
}


def __getattr__(name: str) -> Any:
    if name in _DEPRECATED:
        warnings.warn(
            f"autonet.testing.cases.{name} is deprecated: each op's registry entry holds its cases "
            "(autonet.ops.REGISTRY[name].cases, an autonet.ops.Cases; shared ones in autonet.ops.cases)",
            DeprecationWarning,
            stacklevel=2,
        )
        return _DEPRECATED[name]()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
