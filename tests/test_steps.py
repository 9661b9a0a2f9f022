"""backward_steps: backward one node at a time, each step's upstream, local derivative and
contributions, and the same gradients and graph release as one backward()."""

from __future__ import annotations

import numpy as np
import pytest

import autonet
from autonet import Value, backward_steps, nn
from autonet.engine import stored_gradient


def _graph(root: Value) -> list[Value]:
    """Every Value behind ``root`` in a fixed order (depth first through ``parents``)."""
    order, seen, stack = [], set(), [root]
    while stack:
        value = stack.pop()
        if id(value) in seen:
            continue
        seen.add(id(value))
        order.append(value)
        stack.extend(value.parents)
    return order


def _mlp_loss(seed: int = 0) -> Value:
    rng = np.random.default_rng(seed)
    model = nn.MLP(3, [4, 2], activation="tanh", rng=rng)
    x = Value(rng.normal(size=(5, 3)), requires_grad=False)
    y = Value(rng.normal(size=(5, 2)), requires_grad=False)
    return nn.mse_loss(model(x), y)


def assert_same_gradients(plain: list[Value], stepped: list[Value]) -> None:
    assert len(plain) == len(stepped)
    for a, b in zip(plain, stepped, strict=True):
        ga, gb = stored_gradient(a), stored_gradient(b)
        assert type(ga) is type(gb)
        if ga is not None:
            assert np.asarray(ga).dtype == np.asarray(gb).dtype
            assert np.array_equal(ga, gb, equal_nan=True)


def test_exhausting_the_steps_equals_one_backward_bit_for_bit() -> None:
    plain, stepped = _mlp_loss(), _mlp_loss()
    plain_graph, stepped_graph = _graph(plain), _graph(stepped)  # held: intermediates stay alive
    plain.backward()
    count = sum(1 for _ in backward_steps(stepped))
    assert_same_gradients(plain_graph, stepped_graph)
    assert count == sum(v.requires_grad for v in stepped_graph)
    assert stepped.graph_released and plain.graph_released


def test_contributions_add_up_to_every_grad_in_walk_order() -> None:
    loss = _mlp_loss(1)
    values = {id(v): v for v in _graph(loss)}
    totals: dict[int, object] = {}
    for step in backward_steps(loss):
        for entry in step.inputs:
            if entry.contribution is not None:
                key = id(entry.value)
                totals[key] = entry.contribution if key not in totals else totals[key] + entry.contribution
    assert set(totals) == {key for key, v in values.items() if v.requires_grad and v is not loss}
    for key, total in totals.items():
        assert np.array_equal(total, stored_gradient(values[key]))


def test_the_graph_is_released_as_by_backward_unless_retained() -> None:
    loss = _mlp_loss()
    list(backward_steps(loss))
    assert loss.graph_released
    with pytest.raises(RuntimeError, match="already released"):
        loss.backward()
    kept = _mlp_loss()
    leaves = [v for v in _graph(kept) if v.is_leaf and v.requires_grad]
    list(backward_steps(kept, retain_graph=True))
    assert not kept.graph_released
    first = [np.array(v.grad) for v in leaves]
    kept.backward()  # the graph is still there: gradients add up to twice the first ones
    for a, v in zip(first, leaves, strict=True):
        assert np.allclose(2 * a, v.grad)


def test_tanh_local_derivative_is_one_minus_tanh_squared() -> None:
    x = Value([0.3, -1.2, 2.0])
    y = x.tanh()
    (step, leaf) = list(backward_steps(y, np.array([1.0, 2.0, -1.0])))
    assert step.op.name == "tanh" and leaf.value is x and leaf.inputs == ()
    (entry,) = step.inputs
    t = np.tanh(x.data)
    assert np.allclose(entry.local, 1 - t**2)
    assert np.allclose(entry.contribution, np.array([1.0, 2.0, -1.0]) * (1 - t**2))
    assert np.array_equal(step.upstream, [1.0, 2.0, -1.0])


def test_mul_local_derivative_is_the_other_factor_broadcast() -> None:
    a = Value([[1.0], [2.0]], label="a")  # (2, 1) broadcast against (3,)
    b = Value([3.0, -4.0, 5.0], label="b")
    step = next(backward_steps((a * b).sum()))
    assert step.op.name == "sum" and step.inputs[0].local is None  # not elementwise
    mul = next(s for s in backward_steps((a * b).sum()) if s.op is not None and s.op.name == "mul")
    local_a, local_b = (entry.local for entry in mul.inputs)
    assert local_a.shape == local_b.shape == (2, 3)
    assert np.array_equal(local_a, np.broadcast_to(b.data, (2, 3)))
    assert np.array_equal(local_b, np.broadcast_to(a.data, (2, 3)))
    # the contribution is upstream * local with broadcasting undone: shaped like each input
    contribution_a, contribution_b = (entry.contribution for entry in mul.inputs)
    assert contribution_a.shape == (2, 1) and contribution_b.shape == (3,)
    assert np.array_equal(contribution_a, [[4.0], [4.0]])
    assert np.array_equal(contribution_b, [3.0, 3.0, 3.0])


def test_matmul_has_no_local_derivative_and_its_contribution_is_the_vjp() -> None:
    w = Value(np.arange(6.0).reshape(2, 3))
    x = Value(np.ones((3, 1)), requires_grad=False)
    step = next(backward_steps(w @ x, np.array([[1.0], [-1.0]])))
    grad_w, to_x = step.inputs
    assert grad_w.local is None and np.array_equal(grad_w.contribution, [[1.0] * 3, [-1.0] * 3])
    assert to_x.value is x and to_x.contribution is None and to_x.local is None


def test_stopping_early_leaves_later_nodes_without_gradients() -> None:
    x = Value(1.5, label="x")
    y = (x * 2.0).exp()
    steps = backward_steps(y)
    first = next(steps)
    assert first.value is y and stored_gradient(y) == 1.0
    assert stored_gradient(x) is None
    steps.close()
    assert stored_gradient(x) is None


def test_between_steps_grad_mode_is_the_callers() -> None:
    x = Value(2.0)
    for _ in backward_steps(x * x):
        assert autonet.is_grad_enabled()
        assert (x * 3.0).requires_grad
    y = (x * x).sin()
    with autonet.no_grad():
        for _ in backward_steps(y):
            assert not autonet.is_grad_enabled()


def test_step_arrays_are_read_only() -> None:
    x = Value([1.0, 2.0])
    step = next(backward_steps((x * x).sum()))
    with pytest.raises(ValueError):
        step.inputs[0].contribution[0] = 5.0


def test_errors_are_those_of_backward() -> None:
    with pytest.raises(RuntimeError, match="only for a scalar"):
        next(backward_steps(Value([1.0, 2.0]) * 2.0))
    with pytest.raises(RuntimeError, match="does not require grad"):
        next(backward_steps(Value(1.0, requires_grad=False)))


def test_the_stepped_graph_is_kept_and_freed_with_its_root_as_by_backward() -> None:
    import gc
    import weakref

    x = Value([0.5, -1.0])
    hidden = weakref.ref(x.tanh())  # dies at once: nothing holds it
    y = (x * 2.0).exp()
    inner = weakref.ref(y.parents[0])
    loss = y.sum()
    del y
    for _ in backward_steps(loss):
        pass
    gc.collect()
    assert hidden() is None and inner() is not None and loss.graph_released
    assert np.allclose(x.grad, 2 * np.exp(2 * x.data))
    del loss
    gc.collect()
    assert inner() is None
