"""backward_steps on the random programs of test_random_programs.py: run to the end it leaves
the gradients of one backward(), bit for bit, and the contributions each step sends add up,
in walk order, to every .grad; for elementwise ops, upstream times local derivative is the
contribution."""

from __future__ import annotations

import numpy as np
from hypothesis import given

# The strategy that builds the programs: this folder is on sys.path while its tests are collected.
from test_random_programs import Program, programs

from autonet import Value, backward_steps
from autonet.engine import stored_gradient
from autonet.ops.registry import sum_to_shape


def _graph(root: Value) -> list[Value]:
    order, seen, stack = [], set(), [root]
    while stack:
        value = stack.pop()
        if id(value) not in seen:
            seen.add(id(value))
            order.append(value)
            stack.extend(value.parents)
    return order


@given(programs())
def test_steps_give_the_gradients_of_backward(case: tuple[Program, list[np.ndarray]]) -> None:
    program, inputs = case
    plain = program(*[Value(x) for x in inputs])
    stepped = program(*[Value(x) for x in inputs])
    plain_graph, stepped_graph = _graph(plain), _graph(stepped)
    plain.backward()
    totals: dict[int, object] = {}
    for step in backward_steps(stepped):
        for entry in step.inputs:
            if entry.local is not None:  # elementwise: upstream * local, broadcasting undone
                product = sum_to_shape(np.asarray(step.upstream) * entry.local, entry.value.shape)
                assert np.allclose(product, entry.contribution, rtol=1e-9, atol=1e-12, equal_nan=True)
            if entry.contribution is not None:
                key = id(entry.value)
                totals[key] = entry.contribution if key not in totals else totals[key] + entry.contribution
    assert len(plain_graph) == len(stepped_graph)
    for a, b in zip(plain_graph, stepped_graph, strict=True):
        ga, gb = stored_gradient(a), stored_gradient(b)
        assert type(ga) is type(gb)
        if ga is None:
            continue
        assert np.array_equal(ga, gb, equal_nan=True)
        if b is not stepped:
            assert np.array_equal(totals[id(b)], gb, equal_nan=True)
    assert stepped.graph_released and plain.graph_released
