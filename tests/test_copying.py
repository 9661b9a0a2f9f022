"""Values, their graphs and models pickle and deep-copy, results included, without recursion.

A result's op is stored by its registry name (not as a function), and the graph behind it goes
flat, so a 100,000-op chain copies as easily as one node. Saved parameter files still never
unpickle (tests/nn/test_module.py).
"""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

from autonet import Value, nn
from autonet.optim import Adam

COPIERS = {
    "pickle": lambda obj: pickle.loads(pickle.dumps(obj)),
    "deepcopy": copy.deepcopy,
}


@pytest.mark.parametrize("how", list(COPIERS))
def test_a_result_copies_with_its_graph_and_differentiates_like_the_original(how: str) -> None:
    x = Value(np.array([0.5, -1.0]), label="x")
    w = Value(2.0, label="w")
    out = ((x * w).tanh() + x[0] * 3.0).sum()
    twin = COPIERS[how](out)
    assert twin is not out and twin.op is out.op and twin.item() == out.item()
    (twin_x, twin_w) = _leaves_by_label(twin, "x", "w")
    assert twin_x is not x
    twin.backward()
    out.backward()
    np.testing.assert_array_equal(twin_x.grad, x.grad)
    assert twin_w.grad == w.grad


def _leaves_by_label(root: Value, *labels: str) -> list[Value]:
    found: dict[str, Value] = {}
    stack = [root]
    while stack:
        node = stack.pop()
        if node.is_leaf and node.label in labels:
            found[node.label] = node
        stack.extend(node.parents)
    return [found[label] for label in labels]


@pytest.mark.parametrize("how", list(COPIERS))
def test_a_hundred_thousand_op_chain_copies_without_recursion(how: str) -> None:
    x = Value(1.0)
    y = x
    for _ in range(100_000):
        y = y * 1.000001
    twin = COPIERS[how](y)
    assert twin.item() == y.item()
    (root,) = _leaves(twin)
    twin.backward()
    assert root.grad == pytest.approx(1.000001**100_000)


def _leaves(root: Value) -> list[Value]:
    leaves, stack = [], [root]
    while stack:
        node = stack.pop()
        if node.is_leaf and node.requires_grad:
            leaves.append(node)
        stack.extend(node.parents)
    return leaves


@pytest.mark.parametrize("how", list(COPIERS))
def test_a_trained_model_copies_with_its_names_gradients_and_outputs(how: str) -> None:
    model = nn.MLP(2, [8, 1], rng=0)
    optimizer = Adam(model.parameters(), lr=0.01)
    x = np.array([[0.5, -1.0], [1.0, 2.0]])
    for _ in range(3):
        optimizer.zero_grad()
        nn.mse_loss(model(x), [1.0, -1.0]).backward()
        optimizer.step()
    twin = COPIERS[how](model)
    assert [name for name, _ in twin.named_parameters()] == [name for name, _ in model.named_parameters()]
    assert twin.layers[0].path == "MLP.layers.0" and twin.layers[0].w.label == "layers.0.w"
    np.testing.assert_array_equal(twin(x).data, model(x).data)
    for mine, theirs in zip(model.parameters(), twin.parameters(), strict=True):
        np.testing.assert_array_equal(mine.grad, theirs.grad)
        assert not np.shares_memory(mine.data, theirs.data)
    twin.layers[0].w.add_(1.0)  # the copy trains on its own
    assert not np.array_equal(twin(x).data, model(x).data)


def test_a_released_graph_copies_as_a_released_one() -> None:
    x = Value([1.0, 2.0])
    out = (x * x).sum()
    out.backward()
    for twin in (pickle.loads(pickle.dumps(out)), copy.deepcopy(out)):
        assert twin.graph_released and twin.item() == 5.0
        (product,) = twin.parents  # the structure travels, to be drawn
        assert product.op.name == "mul" and product.grad.tolist() == [1.0, 1.0]
        assert [p.tolist() for p in product.parents] == [[1.0, 2.0], [1.0, 2.0]]
        with pytest.raises(RuntimeError, match="already released"):
            twin.backward()


def test_values_shared_by_several_pickled_results_stay_one_value() -> None:
    w = Value(np.array([1.0, 2.0]))
    a, b = (w * 2.0).sum(), (w * 3.0).sum()
    a2, b2, w2 = pickle.loads(pickle.dumps((a, b, w)))
    a2.backward()
    b2.backward()
    np.testing.assert_array_equal(w2.grad, [5.0, 5.0])
