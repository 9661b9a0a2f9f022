"""Hypothesis strategies for testing code built on autonet (needs the ``test`` extra, ``autonet[test]``).

Shapes, broadcastable shapes, arrays inside an op's declared ``Domain``, ``Value`` objects, and
complete ``(inputs, params)`` cases for any registered op by name, from the interior of its
domain or (``edges=True``) from where the interior ends: exact zeros, kinks and bounds, ties,
constant rows, +-1e300, size-0 dimensions. They share their generators with
``python -m autonet check`` (``autonet.testing.cases``); Hypothesis adds the shrinking.

>>> from hypothesis import given
>>> from autonet import call_op
>>> from autonet.gradcheck import gradcheck
>>> @given(op_inputs("tanh"))
... def test_tanh_gradient(case):
...     inputs, params = case
...     assert gradcheck(lambda *xs: call_op("tanh", *xs, **params), *inputs)
>>> test_tanh_gradient()
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ..engine import Value
from ..ops.registry import Domain, Op
from . import cases

__all__ = [
    "HypothesisSource",
    "arrays_in",
    "broadcastable_pairs",
    "broadcastable_shapes",
    "broadcastable_triples",
    "op_arrays",
    "op_inputs",
    "shapes",
    "values",
]


class HypothesisSource(cases.Source):
    """A ``cases.Source`` whose every choice is a Hypothesis draw (so failures shrink); ``draw`` is
    the function given to an ``@st.composite`` strategy, or ``data.draw`` of ``st.data()``.

    >>> from hypothesis import given, strategies as st
    >>> @given(st.data())
    ... def test(data):
    ...     assert cases.draw_shape(HypothesisSource(data.draw), max_dims=2) is not None
    >>> test()
    """

    def __init__(self, draw: Any) -> None:
        self.draw = draw

    def integer(self, low: int, high: int) -> int:
        return self.draw(st.integers(low, high))

    def floats(self, shape: tuple[int, ...], intervals: Sequence[tuple[float, float]]) -> np.ndarray:
        return self.draw(_float_arrays(tuple(shape), tuple(map(tuple, intervals))))

    def booleans(self, shape: tuple[int, ...]) -> np.ndarray:
        return self.draw(_bool_arrays(tuple(shape)))

    def integers(self, shape: tuple[int, ...], low: int, high: int) -> np.ndarray:
        return self.draw(_int_arrays(tuple(shape), low, high))

    def distinct_integers(self, count: int, population: int) -> list[int]:
        return list(self.draw(st.permutations(range(population)))[:count])


# Building a strategy costs more than drawing from it, and the cases ask for the same few shapes
# and intervals over and over: each is built once.
@functools.lru_cache(maxsize=1024)
def _float_arrays(
    shape: tuple[int, ...], intervals: tuple[tuple[float, float], ...]
) -> st.SearchStrategy[np.ndarray]:
    return hnp.arrays(np.float64, shape, elements=st.one_of(*(st.floats(a, b) for a, b in intervals)))


@functools.lru_cache(maxsize=256)
def _bool_arrays(shape: tuple[int, ...]) -> st.SearchStrategy[np.ndarray]:
    return hnp.arrays(np.bool_, shape)


@functools.lru_cache(maxsize=1024)
def _int_arrays(shape: tuple[int, ...], low: int, high: int) -> st.SearchStrategy[np.ndarray]:
    return hnp.arrays(np.intp, shape, elements=st.integers(low, high))


def shapes(
    min_dims: int = 0, max_dims: int = cases.MAX_DIMS, min_side: int = 1, max_side: int = cases.MAX_SIDE
) -> st.SearchStrategy[tuple[int, ...]]:
    """Array shapes with ``min_dims..max_dims`` axes of ``min_side..max_side`` each (0-d included by default).

    >>> from hypothesis import given
    >>> @given(shapes(min_dims=1, max_side=2))
    ... def test(shape):
    ...     assert 1 <= len(shape) and all(1 <= n <= 2 for n in shape)
    >>> test()
    """

    @st.composite
    def build(draw: Any) -> tuple[int, ...]:
        return cases.draw_shape(HypothesisSource(draw), min_dims, max_dims, min_side, max_side)

    return build()


def broadcastable_shapes(count: int = 2) -> st.SearchStrategy[list[tuple[int, ...]]]:
    """Lists of ``count`` shapes that broadcast together (numpy rules: leading axes, sides of 1).

    >>> from hypothesis import given
    >>> @given(broadcastable_shapes(3))
    ... def test(shape_list):
    ...     np.broadcast_shapes(*shape_list)
    >>> test()
    """

    @st.composite
    def build(draw: Any) -> list[tuple[int, ...]]:
        return cases.broadcastable_shapes(HypothesisSource(draw), count)

    return build()


def broadcastable_pairs() -> st.SearchStrategy[list[tuple[int, ...]]]:
    """Two shapes that broadcast together: ``broadcastable_shapes(2)``.

    >>> from hypothesis import given
    >>> @given(broadcastable_pairs())
    ... def test(pair):
    ...     a, b = pair
    ...     assert np.broadcast_shapes(a, b) == np.broadcast_shapes(b, a)
    >>> test()
    """
    return broadcastable_shapes(2)


def broadcastable_triples() -> st.SearchStrategy[list[tuple[int, ...]]]:
    """Three shapes that broadcast together: ``broadcastable_shapes(3)``.

    >>> from hypothesis import given
    >>> @given(broadcastable_triples())
    ... def test(triple):
    ...     assert len(triple) == 3
    >>> test()
    """
    return broadcastable_shapes(3)


def arrays_in(
    domain: Domain,
    shape: tuple[int, ...] | st.SearchStrategy[tuple[int, ...]] | None = None,
    distinct: bool = False,
    edges: bool = False,
) -> st.SearchStrategy[np.ndarray]:
    """Float64 arrays inside ``domain``: within [low, high] and ``margin`` away from each avoided point.

    ``shape`` is a shape, a strategy of shapes or None (any small shape). With ``distinct``, no
    two elements are closer than the margin (for ops with a kink where values tie). With
    ``edges``, elements also take the domain's edge values exactly (``cases.edge_values``: its
    avoided points, 0, the ends of its bounds, +-1e300), tie, or make rows constant.

    >>> from hypothesis import given
    >>> from autonet.ops.registry import NONZERO
    >>> @given(arrays_in(NONZERO, (2, 3)))
    ... def test(x):
    ...     assert x.shape == (2, 3) and (np.abs(x) >= NONZERO.margin).all()
    >>> test()
    """
    shape_strategy = shapes() if shape is None else shape
    if not isinstance(shape_strategy, st.SearchStrategy):
        shape_strategy = st.just(tuple(shape_strategy))

    @st.composite
    def build(draw: Any) -> np.ndarray:
        source = HypothesisSource(draw)
        values = cases.domain_array(source, domain, draw(shape_strategy), distinct and not edges)
        return cases.edge_array(source, domain, values) if edges else values

    return build()


def op_arrays(
    op: Op | str, index: int = 0, shape: tuple[int, ...] | st.SearchStrategy[tuple[int, ...]] | None = None
) -> st.SearchStrategy[np.ndarray]:
    """Arrays inside the declared domain of input ``index`` of a registered op (``REGISTRY[name].domain``).

    >>> from hypothesis import given
    >>> @given(op_arrays("log"))
    ... def test(x):
    ...     assert (x > 0).all()
    >>> test()
    """
    entry = cases.resolve_op(op)
    domains = cases.check_domains(entry)
    domain = domains[0] if entry.variadic else domains[index]
    return arrays_in(domain, shape, distinct=entry.distinct)


def values(
    arrays: st.SearchStrategy[np.ndarray] | None = None, requires_grad: bool = True
) -> st.SearchStrategy[Value]:
    """``Value`` objects built from an array strategy (default: any small real array).

    >>> from hypothesis import given
    >>> @given(values(op_arrays("sqrt")))
    ... def test(x):
    ...     assert x.requires_grad and (x.sqrt().data > 0).all()
    >>> test()
    """
    source = arrays_in(Domain()) if arrays is None else arrays
    return source.map(lambda a: Value(a, requires_grad=requires_grad))


def op_inputs(
    op: Op | str, edges: bool = False, huge: bool = True
) -> st.SearchStrategy[tuple[tuple[np.ndarray, ...], dict[str, Any]]]:
    """``(inputs, params)`` for any registered op, so that ``call_op(op, *inputs, **params)`` runs.

    The op's ``cases`` decide the parameters (axis and keepdims for reductions, a compatible shape
    for reshape, an index for getitem ...); values lie in its declared domains, and some cases
    have a dimension of size 0. With ``edges``, values also sit exactly where the domains end
    (see ``cases.op_case``; +-1e300 only with ``huge``). An entry without domains, edges or
    cases raises as soon as the strategy is built.

    >>> from hypothesis import given
    >>> from autonet import call_op
    >>> @given(op_inputs("getitem"))
    ... def test(case):
    ...     inputs, params = case
    ...     assert call_op("getitem", *inputs, **params).dtype == np.float64
    >>> test()
    """
    entry = cases.require_cases(op)

    @st.composite
    def build(draw: Any) -> tuple[tuple[np.ndarray, ...], dict[str, Any]]:
        return cases.op_case(entry, HypothesisSource(draw), edges=edges, huge=huge)

    return build()
