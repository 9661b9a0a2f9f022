"""Recorded data cannot change under the graph: a backward always differentiates the numbers its
forward saw.

An op's record keeps the arrays its forward used (inputs, output, and array arguments such as
masks, labels and index arrays, frozen as copies). Changing a Value afterwards, by assignment, by
writing into ``.data``, or by an optimizer step, moves the Value to new numbers and leaves the
record alone; writing into an array the caller still holds while a graph keeps it fails loudly
(it is read-only then) instead of changing the numbers quietly.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autonet
from autonet import Value, call_op, nn
from autonet.ops import REGISTRY
from autonet.optim import SGD, Adam, AdamW
from autonet.testing import cases

W0 = np.array([1.5, -2.0, 0.5])


def _loss(w: Value) -> Value:
    return ((w * w).sum() + w.tanh().sum()) * 0.5


def _expected_grad(w0: np.ndarray = W0) -> np.ndarray:
    return w0 + 0.5 * (1 - np.tanh(w0) ** 2)


CHANGES: dict[str, Callable[[Value], None]] = {
    "assignment": lambda w: setattr(w, "data", np.zeros(3)),
    "data -= 1": lambda w: _isub(w),
    "write into .data": lambda w: w.data.__setitem__(0, 99.0),
    "numpy() in place": lambda w: np.multiply(w.numpy(), 3.0, out=w.numpy()),
    "add_": lambda w: w.add_(np.ones(3)),
    "copy_": lambda w: w.copy_(np.full(3, 7.0)),
}


def _isub(w: Value) -> None:
    w.data -= 1


@pytest.mark.parametrize("change", list(CHANGES), ids=list(CHANGES))
def test_changing_a_value_after_the_forward_leaves_the_backward_at_the_recorded_numbers(change: str) -> None:
    w = Value(W0)
    loss = _loss(w)
    CHANGES[change](w)
    loss.backward()
    np.testing.assert_allclose(w.grad, _expected_grad())


@pytest.mark.parametrize("optimizer", [SGD, Adam, AdamW], ids=lambda o: o.__name__)
def test_a_step_between_two_backwards_of_a_retained_graph_changes_neither(optimizer: type) -> None:
    model = nn.MLP(3, [4, 1], activation="tanh", rng=0)
    x = np.linspace(-1, 1, 6).reshape(2, 3)
    loss = nn.mse_loss(model(x), [0.5, -0.5])
    loss.backward(retain_graph=True)
    first = [p.grad.copy() for p in model.parameters()]
    optimizer(model.parameters(), lr=0.1).step()
    loss.backward()  # the same graph, after the parameters moved
    for p, g in zip(model.parameters(), first, strict=True):
        np.testing.assert_allclose(p.grad, 2 * g, rtol=1e-12, atol=1e-15)


def test_writing_through_an_earlier_alias_while_a_graph_needs_it_fails_loudly() -> None:
    w = Value(W0)
    alias = w.data
    loss = _loss(w)
    with pytest.raises(ValueError, match="read-only"):
        alias[0] = 99.0
    loss.backward()
    np.testing.assert_allclose(w.grad, _expected_grad())


def test_a_from_numpy_array_is_read_only_while_a_graph_needs_it_and_writeable_after() -> None:
    array = W0.copy()
    w = Value.from_numpy(array)
    loss = _loss(w)
    with pytest.raises(ValueError, match="read-only"):
        array[0] = 99.0
    loss.backward()
    np.testing.assert_allclose(w.grad, _expected_grad())
    w.add_(np.ones(3))  # no graph needs the numbers now: the shared array changes in place
    np.testing.assert_array_equal(array, W0 + 1)


def test_an_intermediate_changed_after_the_forward_does_not_change_its_ops_gradient() -> None:
    x = Value(W0)
    h = x.exp()  # exp's vjp uses its output
    loss = (h * 2.0).sum()
    h.data[...] = 0.0
    loss.backward()
    np.testing.assert_allclose(x.grad, 2 * np.exp(W0))


ARRAY_ARGUMENTS: dict[str, tuple[Callable[[Value, np.ndarray], Value], np.ndarray, np.ndarray]] = {
    # name: (build the loss from w and the caller's array, the array, what backward must give)
    "constant": (lambda w, c: (w * c).sum(), np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 3.0])),
    "where mask": (
        lambda w, m: autonet.where(m, w, 0.0).sum(),
        np.array([True, False, True]),
        np.array([1.0, 0.0, 1.0]),
    ),
    "index array": (lambda w, i: w[i].sum(), np.array([0, 0, 2]), np.array([2.0, 0.0, 1.0])),
    "class labels": (
        lambda w, t: nn.cross_entropy(w.reshape(1, 3), t, reduction="sum"),
        np.array([2]),
        np.exp(W0) / np.exp(W0).sum() - np.array([0.0, 0.0, 1.0]),
    ),
    "hinge labels": (
        lambda w, t: nn.hinge_loss(w, t, reduction="sum"),
        np.array([1.0, 1.0, -1.0]),
        np.array([0.0, -1.0, 1.0]),  # the first margin is met: no gradient there
    ),
    "clip bound": (
        lambda w, low: w.clip(low, None).sum(),
        np.array([0.0, 0.0, 0.0]),
        np.array([1.0, 0.0, 1.0]),
    ),
}


@pytest.mark.parametrize("name", list(ARRAY_ARGUMENTS), ids=list(ARRAY_ARGUMENTS))
def test_an_array_argument_changed_by_its_owner_after_the_forward_changes_nothing(name: str) -> None:
    build, array, expected = ARRAY_ARGUMENTS[name]
    w = Value(W0)
    loss = build(w, array)
    array[...] = array[::-1]  # the caller reuses their array
    loss.backward()
    np.testing.assert_allclose(w.grad, expected)


def test_create_graph_refuses_inputs_given_new_numbers_after_the_forward() -> None:
    w = Value(W0, label="w")
    loss = (w * w * w).sum()
    w.data = np.zeros(3)
    with pytest.raises(RuntimeError, match=r"input \d of mul \(shape \(3,\), label 'w'\).*new data"):
        loss.backward(create_graph=True)


@pytest.mark.parametrize("name", list(REGISTRY))
def test_no_registered_op_lets_a_change_after_its_forward_reach_its_gradient(name: str) -> None:
    # For every op: record it, then change every input Value and every array argument in place;
    # the gradients must be those of the untouched inputs.
    op = REGISTRY[name]
    # A checksum of the name, not hash(): Python salts string hashes anew in every process, which
    # drew other cases in every run. Several cases, so that each of an op's parameter sets comes up.
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    if op.cases.shapes is None:  # the op lists its cases itself: every one of them
        drawn = op.cases.samples(rng, np.float64)
    else:
        drawn = [cases.op_case(op, cases.RandomSource(rng)) for _ in range(6)]
    for inputs, params in drawn:
        _check_a_change_after_the_forward(op, [np.asarray(x, dtype=np.float64) for x in inputs], params)


def _check_a_change_after_the_forward(op: Any, inputs: Any, params: dict) -> None:
    def gradients_after(mutate: bool) -> list[np.ndarray]:
        leaves = [Value(x) for x in inputs]
        arguments = {k: _copy_arrays(v) for k, v in params.items()}
        out = call_op(op, *leaves, **arguments)
        if mutate:
            for leaf in leaves:
                leaf.data[...] = leaf.data * -3.0 + 1.0
            for value in arguments.values():
                _scramble(value)
        cotangent = np.linspace(0.5, 1.5, out.size).reshape(out.shape)
        out.backward(cotangent)
        return [leaf.grad for leaf in leaves]

    for changed, kept in zip(gradients_after(True), gradients_after(False), strict=True):
        np.testing.assert_array_equal(changed, kept, err_msg=f"{op.name} with {sorted(params)}")


def _copy_arrays(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, tuple):
        return tuple(_copy_arrays(v) for v in value)
    return value


def _scramble(value: Any) -> None:
    if isinstance(value, np.ndarray) and value.size and value.flags.writeable:
        value[...] = value.flat[::-1].reshape(value.shape) if value.dtype != bool else ~value
    elif isinstance(value, tuple):
        for part in value:
            _scramble(part)
