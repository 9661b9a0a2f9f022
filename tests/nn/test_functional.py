"""autonet.nn.functional reads as torch.nn.functional: PyTorch's names, argument order and
layouts, each the same computation as autonet's own op or loss (checked here by value and
gradient, the ops themselves being checked by the registry suite)."""

from __future__ import annotations

import numpy as np
import pytest

import autonet
from autonet import Value, nn
from autonet.nn import functional as F

RNG = np.random.default_rng(0)
X = RNG.standard_normal((4, 3))


def _value_and_gradient(fn, x=X):
    v = Value(x, requires_grad=True)
    out = fn(v)
    (out * np.arange(1, out.size + 1).reshape(out.shape)).sum().backward()  # a non-uniform upstream
    return out.data, v.grad


@pytest.mark.parametrize(
    ("functional", "method"),
    [
        (F.relu, lambda v: v.relu()),
        (F.sigmoid, lambda v: v.sigmoid()),
        (F.tanh, lambda v: v.tanh()),
        (F.softplus, lambda v: v.softplus()),
        (lambda v: F.gelu(v, approximate="tanh"), lambda v: v.gelu(approximate="tanh")),
        (lambda v: F.leaky_relu(v, 0.2), lambda v: v.leaky_relu(0.2)),
        (lambda v: F.softmax(v, dim=0), lambda v: v.softmax(axis=0)),
        (lambda v: F.log_softmax(v, dim=1), lambda v: v.log_softmax(axis=1)),
    ],
)
def test_activations_are_the_ops_under_pytorchs_names(functional, method):
    got, expected = _value_and_gradient(functional), _value_and_gradient(method)
    np.testing.assert_array_equal(got[0], expected[0])
    np.testing.assert_array_equal(got[1], expected[1])


def test_softmax_takes_the_axis_as_dim():
    rows = F.softmax(Value(X), dim=1).data.sum(axis=1)
    np.testing.assert_allclose(rows, np.ones(4), rtol=1e-15)
    assert not np.allclose(F.softmax(Value(X), dim=0).data.sum(axis=1), 1.0)


def test_linear_takes_pytorchs_out_by_in_weight_as_nn_linear_does():
    layer = nn.Linear(3, 2)
    weight, bias = layer.weight.data, layer.bias.data
    np.testing.assert_allclose(F.linear(Value(X), weight, bias).data, X @ weight.T + bias, rtol=1e-15)
    np.testing.assert_array_equal(F.linear(Value(X), weight, bias).data, layer(X).data)
    np.testing.assert_allclose(F.linear(Value(X), weight).data, X @ weight.T, rtol=1e-15)
    w = Value(weight, requires_grad=True)
    F.linear(Value(X), w, bias).sum().backward()
    np.testing.assert_allclose(w.grad, np.ones((4, 2)).T @ X, rtol=1e-15)  # (out, in), as the weight
    with pytest.raises(ValueError, match=r"linear: weight must have shape \(out_features, in_features\)"):
        F.linear(Value(X), np.ones(3))


def test_the_losses_take_pytorchs_argument_order():
    labels = np.array([0, 2, 1, -100])
    weight = np.array([1.0, 2.0, 0.5])
    assert F.cross_entropy(Value(X), labels, weight, label_smoothing=0.1).item() == pytest.approx(
        nn.cross_entropy(Value(X), labels, weight=weight, label_smoothing=0.1).item(), rel=1e-15
    )
    classes = labels[:3]
    assert F.cross_entropy(Value(X[:3]), classes, reduction="sum", ignore_index=2).item() == pytest.approx(
        nn.cross_entropy(Value(X[[0, 2]]), classes[[0, 2]], "sum").item(), rel=1e-15
    )
    p, t = Value(np.array([0.2, 0.9])), np.array([0.0, 1.0])
    assert F.binary_cross_entropy(p, t, reduction="sum").item() == pytest.approx(
        -(np.log(0.8) + np.log(0.9)), rel=1e-14
    )
    assert F.binary_cross_entropy_with_logits(Value([0.0]), [1.0]).item() == pytest.approx(np.log(2))
    assert F.mse_loss(Value([1.0, 3.0]), [0.0, 1.0], reduction="sum").item() == 5.0
    assert F.l1_loss(Value([1.0, 3.0]), [0.0, 1.0], reduction="sum").item() == 3.0
    assert F.huber_loss(Value([3.0]), [0.0], delta=2.0).item() == 4.0
    assert F.smooth_l1_loss(Value([3.0]), [0.0], beta=2.0).item() == 2.0
    # PyTorch's class axis: (N, C, L) log-probabilities against (N, L) labels.
    log_p = np.log(np.full((2, 4, 3), 0.25))
    assert F.nll_loss(Value(log_p), np.zeros((2, 3), dtype=int), weight=np.ones(4)).item() == pytest.approx(
        np.log(4)
    )


def test_the_layers_functions_are_the_registrys():
    images = RNG.standard_normal((2, 1, 5, 5))
    kernel = RNG.standard_normal((3, 1, 3, 3))
    np.testing.assert_array_equal(
        F.conv2d(Value(images), kernel, None, 1, 1).data,
        autonet.conv2d(Value(images), kernel, padding=1).data,
    )
    np.testing.assert_array_equal(
        F.max_pool2d(Value(images), 2).data, autonet.max_pool2d(Value(images), 2).data
    )
    table = RNG.standard_normal((5, 2))
    np.testing.assert_array_equal(F.embedding(np.array([4, 0, 4]), table).data, table[[4, 0, 4]])


def test_the_pytorch_spellings_of_cross_entropy_take_the_classes_on_axis_1():
    # (N, C, L) logits against (N, L) labels, or soft labels of the logits' shape; nn.cross_entropy
    # itself takes the classes last, so it sees the same logits with the axes moved.
    logits = RNG.standard_normal((2, 4, 3))
    labels = RNG.integers(0, 4, (2, 3))
    moved = np.moveaxis(logits, 1, -1)
    for loss in [F.cross_entropy(Value(logits), labels), nn.CrossEntropyLoss()(Value(logits), labels)]:
        assert loss.item() == pytest.approx(nn.cross_entropy(Value(moved), labels).item(), rel=1e-15)
    soft = RNG.dirichlet(np.ones(4), (2, 3))  # (N, L, C)
    x = Value(logits)
    F.cross_entropy(x, np.moveaxis(soft, -1, 1), reduction="sum").backward()
    y = Value(moved)
    nn.cross_entropy(y, soft, "sum").backward()
    np.testing.assert_allclose(x.grad, np.moveaxis(y.grad, -1, 1), rtol=1e-14)
    assert F.cross_entropy(Value(logits), labels, reduction="none").shape == (2, 3)
