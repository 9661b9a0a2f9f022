"""Neuron, Layer and MLP: the teaching example's values, shapes, batching, dtypes and gradients."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autonet
from autonet import Value, nn
from autonet.gradcheck import gradcheck, gradgradcheck
from autonet.nn import MLP, Layer, Module, Neuron


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def graph_ops(root: Value) -> list[str]:
    """The names of the ops in the graph behind ``root`` (each node once)."""
    names, seen, stack = [], set(), [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if node.op is not None:
            names.append(node.op.name)
        stack.extend(node.parents)
    return names


def assert_parameter_gradients(model: Module, loss_of, eps: float = 1e-6, tolerance: float = 1e-6) -> None:
    """backward()'s gradient of every parameter equals central differences of the loss (float64)."""
    model.zero_grad()
    loss_of(model).backward()
    for name, p in model.named_parameters():
        analytic = np.array(p.grad, dtype=np.float64)
        original = np.array(p.data, dtype=np.float64)
        numeric = np.zeros_like(original)
        for index in np.ndindex(original.shape):
            shifted = original.copy()
            shifted[index] += eps
            p.data = shifted
            with autonet.no_grad():
                up = loss_of(model).item()
            shifted[index] -= 2 * eps
            p.data = shifted
            with autonet.no_grad():
                down = loss_of(model).item()
            numeric[index] = (up - down) / (2 * eps)
        p.data = original
        np.testing.assert_allclose(analytic, numeric, atol=tolerance, rtol=1e-5, err_msg=f"parameter {name}")


# --------------------------------------------------------------------------- Neuron


def test_neuron_of_the_classic_tutorial_gives_sigmoid_of_7():
    neuron = Neuron(np.array([0, 1]), 4)
    out = neuron.feedforward(np.array([2, 3]))
    assert isinstance(out, Value)
    assert out.item() == pytest.approx(0.9990889488055994, abs=1e-15)
    assert neuron(np.array([2, 3])).item() == out.item()
    assert out.shape == ()


def test_neuron_copies_the_weights_it_is_given():
    weights = np.array([0.5, -0.5])
    neuron = Neuron(weights, 0.0)
    neuron.w.data -= 1.0
    assert weights.tolist() == [0.5, -0.5]


def test_neuron_by_size_draws_reproducible_random_weights():
    a, b = Neuron(3, activation="tanh", rng=7), Neuron(3, activation="tanh", rng=7)
    assert a.w.shape == (3,) and a.b.item() == 0.0
    np.testing.assert_array_equal(a.w.data, b.w.data)
    assert not np.array_equal(a.w.data, Neuron(3, activation="tanh", rng=8).w.data)
    assert a([1.0, 2.0, 3.0]).item() == pytest.approx(math.tanh(float(a.w.data @ [1.0, 2.0, 3.0])))


class TwoTwoOne(Module):
    """The classic tutorial's network: neurons h1, h2 and o1."""

    def __init__(self, w, b):
        self.h1 = Neuron(w[0:2], b[0])
        self.h2 = Neuron(w[2:4], b[1])
        self.o1 = Neuron(w[4:6], b[2])

    def forward(self, x):
        return self.o1([self.h1(x), self.h2(x)])


def test_neuron_parameters_are_weights_and_bias_as_the_classic_tutorial_reads_them():
    network = TwoTwoOne(np.arange(6.0), np.array([0.5, -0.5, 0.25]))
    assert network.h1.weights[0].item() == 0.0 and network.h2.weights[1].item() == 3.0
    assert network.o1.bias.item() == 0.25
    names = [name for name, _ in network.named_parameters()]
    assert names == ["h1.weights", "h1.bias", "h2.weights", "h2.bias", "o1.weights", "o1.bias"]
    assert list(network.state_dict()) == names
    assert network.h1.weights.label == "h1.weights"  # drawings show this name
    network(np.array([1.0, 2.0])).backward()
    assert network.h1.weights.grad[0] == network.h1.w.grad[0] != 0
    assert repr(network.o1.weights[1]).startswith("Value(")


def test_neuron_w_and_b_are_aliases_of_weights_and_bias():
    neuron = Neuron(np.array([1.0, 2.0]), 3.0)
    assert neuron.w is neuron.weights and neuron.b is neuron.bias
    replacement = Value(np.array([5.0, 6.0]))
    neuron.w = replacement  # assigning through the alias replaces the real parameter
    assert neuron.weights is replacement and replacement.label == "weights"
    assert [name for name, _ in neuron.named_parameters()] == ["weights", "bias"]
    assert neuron([1.0, 1.0]).item() == pytest.approx(1 / (1 + math.exp(-14.0)))


def test_a_state_saved_under_the_old_names_w_and_b_still_loads(tmp_path):
    source = TwoTwoOne(np.arange(6.0), np.array([0.5, -0.5, 0.25]))
    old = {name.replace("weights", "w").replace("bias", "b"): a for name, a in source.state_dict().items()}
    target = TwoTwoOne(np.zeros(6), np.zeros(3))
    target.load_state_dict(old)
    assert target.h2.weights.tolist() == [2.0, 3.0] and target.o1.bias.item() == 0.25
    np.savez(tmp_path / "old.npz", **old)  # a file written before the rename
    assert TwoTwoOne(np.zeros(6), np.zeros(3)).load(tmp_path / "old.npz").h1.bias.item() == 0.5
    with pytest.raises(ValueError, match=r"twice.*h1\.w and h1\.weights.*nothing was changed"):
        target.load_state_dict({**source.state_dict(), "h1.w": np.zeros(2)})
    with pytest.raises(ValueError, match=r"missing: o1\.bias"):
        target.load_state_dict({k: v for k, v in old.items() if k != "o1.b"})


def test_neuron_rejects_an_input_of_the_wrong_length_naming_both_lengths():
    neuron = Neuron(np.array([0.0, 1.0]), 4.0)
    with pytest.raises(ValueError, match=r"expected 2 inputs per sample, got 3"):
        neuron.feedforward(np.array([1.0, 2.0, 3.0]))


def test_the_tutorials_scalar_weight_call_fails_with_a_pointer_to_the_weight_vector():
    with pytest.raises(TypeError, match=r"weights must be a vector.*np\.array\(\[0, 1\]\)"):
        Neuron(np.random.normal(), np.random.normal())
    with pytest.raises(TypeError, match="single number"):
        Neuron(0.5)


@pytest.mark.parametrize("weights", [np.zeros((2, 2)), [], np.array(["a", "b"])])
def test_neuron_rejects_weights_that_are_not_a_vector_of_numbers(weights):
    with pytest.raises((TypeError, ValueError), match="Neuron: weights"):
        Neuron(weights, 0.0)


def test_neuron_takes_other_neurons_outputs_and_passes_gradients_through_them():
    h1, h2 = Neuron(np.array([1.0, -1.0]), 0.5), Neuron(np.array([0.3, 0.2]), -0.1)
    out = Neuron(np.array([2.0, -3.0]), 0.0)
    x = np.array([0.7, -1.2])
    y = out([h1(x), h2(x)])
    y.backward()
    assert h1.w.grad.any() and h2.w.grad.any() and out.w.grad.any()


def test_neuron_takes_a_batch_and_returns_one_value_per_sample():
    neuron = Neuron(np.array([0.5, -1.0]), 0.25, activation=None)
    batch = np.array([[1.0, 2.0], [3.0, 4.0], [0.0, 0.0]])
    np.testing.assert_allclose(neuron(batch).data, batch @ [0.5, -1.0] + 0.25)


# --------------------------------------------------------------------------- Layer


def test_a_layer_is_one_fused_matrix_product_whatever_the_batch_or_width():
    for nout, batch in [(1, 1), (50, 1), (1, 100), (50, 100)]:
        layer = Layer(3, nout, activation="tanh", rng=0)
        out = layer(np.ones((batch, 3)))
        assert sorted(graph_ops(out)) == ["linear", "tanh"]


@pytest.mark.parametrize("activation", ["relu", None])
def test_layer_inputs_are_constants_so_no_input_gradient_is_computed(activation):
    layer = Layer(4, 2, activation=activation, rng=0)
    out = layer(np.ones((5, 4)))
    pre_activation = out if activation is None else out.parents[0]
    assert pre_activation.op.name == "linear"
    data_input = pre_activation.parents[0]
    assert data_input.requires_grad is False and data_input.is_leaf


def test_layer_accepts_a_list_a_vector_and_a_batch_with_matching_results():
    layer = Layer(3, 4, activation="sigmoid", rng=1)
    batch = np.array([[0.1, -0.2, 0.3], [1.0, 2.0, -3.0]])
    whole = layer(batch)
    assert whole.shape == (2, 4)
    for row, expected in zip(batch, whole.data, strict=True):
        assert layer(row).shape == (4,)
        np.testing.assert_allclose(layer(row.tolist()).data, expected, rtol=1e-12)
    np.testing.assert_allclose(whole.data, sigmoid(batch @ layer.w.data + layer.b.data), rtol=1e-12)


@given(
    st.integers(1, 5),
    st.integers(1, 5),
    st.integers(1, 6),
    st.sampled_from(["relu", "tanh", "sigmoid", "softplus", "leaky_relu", None]),
)
def test_layer_matches_numpy_for_any_shape(nin, nout, batch, activation):
    rng = np.random.default_rng(nin * 100 + nout * 10 + batch)
    layer = Layer(nin, nout, activation=activation, rng=rng)
    x = rng.normal(size=(batch, nin))
    z = x @ layer.w.data + layer.b.data
    expected = {
        "relu": np.maximum(z, 0),
        "tanh": np.tanh(z),
        "sigmoid": sigmoid(z),
        "softplus": np.logaddexp(0, z),
        "leaky_relu": np.where(z > 0, z, 0.01 * z),
        None: z,
    }[activation]
    np.testing.assert_allclose(layer(x).data, expected, rtol=1e-10, atol=1e-12)


def test_layer_rejects_inputs_of_the_wrong_width_and_scalars():
    layer = Layer(3, 2, rng=0)
    with pytest.raises(
        ValueError, match=r"Layer: expected 3 inputs per sample, got 2 \(input shape \(4, 2\)\)"
    ):
        layer(np.ones((4, 2)))
    with pytest.raises(ValueError, match="got a scalar"):
        layer(1.0)


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        ((0, 3), ValueError, "nin must be a positive int"),
        ((2, 2.5), ValueError, "nout must be a positive int"),
        ((2, 2, "swish"), ValueError, "unknown activation 'swish'"),
    ],
)
def test_layer_rejects_bad_arguments_clearly(arguments, error, message):
    with pytest.raises(error, match=message):
        Layer(*arguments)


def test_layer_rejects_an_integer_dtype():
    with pytest.raises(TypeError, match="dtype must be a float type"):
        Layer(2, 2, dtype=np.int32)


def test_a_float32_model_stays_float32_with_float64_data():
    model = MLP(3, [4, 2], activation="tanh", rng=0, dtype=np.float32)
    out = model(np.ones((5, 3), dtype=np.float64))
    assert out.dtype == np.float32
    loss = autonet.nn.cross_entropy(out, [0, 1, 0, 1, 1])
    assert loss.dtype == np.float32
    loss.backward()
    assert all(p.grad.dtype == np.float32 for p in model.parameters())


# --------------------------------------------------------------------------- MLP


def test_mlp_works_as_micrograd_users_expect():
    model = MLP(2, [16, 16, 1], rng=0)
    params = model.parameters()
    assert [p.shape for p in params] == [(2, 16), (16,), (16, 16), (16,), (16, 1), (1,)]
    assert sum(p.size for p in params) == 337
    assert [layer.activation for layer in model.layers] == ["relu", "relu", "linear"]
    assert model([2.0, -1.0]).shape == (1,)
    # micrograd's training loop runs unchanged: scores from single samples, a summed loss, p.data updates.
    scores = [model(x) for x in [[1.0, 2.0], [-1.0, 0.5]]]
    loss = sum((1 + -y * s).relu() for y, s in zip([1, -1], scores, strict=True)).sum()
    loss.backward()
    before = params[0].data.copy()
    for p in params:
        p.data -= 0.1 * p.grad
    assert not np.array_equal(before, params[0].data)


def test_mlp_rejects_an_empty_size_list():
    with pytest.raises(ValueError, match="at least one layer size"):
        MLP(2, [])


def test_mlp_layers_draw_from_one_seed():
    a, b = MLP(2, [3, 3, 1], rng=5), MLP(2, [3, 3, 1], rng=5)
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        np.testing.assert_array_equal(p.data, q.data)
    # The hidden layers have the same shape but different weights: one generator advances across them.
    assert not np.array_equal(a.layers[0].w.data[:, :1], a.layers[1].w.data[:1].T)


# --------------------------------------------------------------------------- float64 gradient checks


@pytest.mark.parametrize(
    "activation", ["tanh", "sigmoid", "softplus", "gelu", "leaky_relu", "relu", "softmax", None]
)
def test_layer_parameter_gradients_match_central_differences(activation):
    rng = np.random.default_rng(3)
    layer = Layer(3, 4, activation=activation, rng=rng)
    x = rng.normal(size=(5, 3))
    weights = rng.normal(size=(5, 4))
    assert_parameter_gradients(layer, lambda m: (m(x) * weights).sum())


def test_layer_input_gradient_matches_central_differences():
    rng = np.random.default_rng(4)
    layer = Layer(3, 2, activation="tanh", rng=rng)
    assert gradcheck(lambda x: layer(x), rng.normal(size=(4, 3)))
    assert gradcheck(lambda x: layer(x), rng.normal(size=3))


def test_mlp_and_neuron_gradients_match_central_differences():
    rng = np.random.default_rng(5)
    model = MLP(2, [5, 4, 3], activation="tanh", rng=rng)
    x = rng.normal(size=(6, 2))
    labels = rng.integers(0, 3, 6)
    assert_parameter_gradients(model, lambda m: autonet.nn.cross_entropy(m(x), labels))
    neuron = Neuron(3, activation="sigmoid", rng=rng)
    samples = rng.normal(size=(4, 3))
    assert_parameter_gradients(neuron, lambda m: (m(samples) ** 2).sum())
    assert_parameter_gradients(neuron, lambda m: m(samples[0]))  # one sample: a scalar bias


def test_layer_second_derivatives_match_central_differences():
    rng = np.random.default_rng(6)
    layer = Layer(2, 3, activation="tanh", rng=rng)
    assert gradgradcheck(lambda x: layer(x).sum(), rng.normal(size=(2, 2)))


# --------------------------------------------------------------------------- Linear (PyTorch's layout)


def test_linear_computes_x_weight_transposed_plus_bias_with_pytorchs_names_and_layouts() -> None:
    layer = nn.Linear(3, 2, rng=0)
    assert layer.weight.shape == (2, 3) and layer.bias.shape == (2,)
    assert list(layer.state_dict()) == ["weight", "bias"]
    x = np.random.default_rng(1).standard_normal((4, 3))
    np.testing.assert_allclose(layer(x).data, x @ layer.weight.data.T + layer.bias.data, rtol=1e-14)
    np.testing.assert_allclose(layer(x[0]).data, x[0] @ layer.weight.data.T + layer.bias.data, rtol=1e-14)
    bound = 1 / math.sqrt(3)  # PyTorch's default initialisation: uniform(-1/sqrt(in), 1/sqrt(in))
    assert np.all(np.abs(layer.weight.data) <= bound) and np.all(np.abs(layer.bias.data) <= bound)
    wide = nn.Linear(400, 300, rng=2)
    assert abs(wide.weight.data.std() - 1 / math.sqrt(3 * 400)) < 1e-3  # uniform, not normal


def test_linear_without_bias_and_in_float32() -> None:
    layer = nn.Linear(3, 5, bias=False, rng=0, dtype=np.float32)
    assert layer.bias is None and list(layer.state_dict()) == ["weight"]
    out = layer(np.ones((2, 3)))
    assert out.dtype == np.float32 and out.shape == (2, 5)
    np.testing.assert_allclose(out.data, np.ones((2, 3), np.float32) @ layer.weight.data.T, rtol=1e-6)


@pytest.mark.parametrize("bias", [True, False])
def test_linear_gradients_match_central_differences(bias: bool) -> None:
    layer = nn.Linear(3, 2, bias=bias, rng=0)
    x = np.random.default_rng(3).standard_normal((5, 3))
    assert_parameter_gradients(layer, lambda m: (m(x) ** 2).sum())
    assert gradcheck(lambda v: layer(v).tanh().sum(), [Value(x)])


def test_linear_refuses_bad_sizes_dtypes_and_inputs() -> None:
    with pytest.raises(ValueError, match="Linear: in_features must be a positive int"):
        nn.Linear(0, 2)
    with pytest.raises(TypeError, match="Linear: dtype must be a float type"):
        nn.Linear(2, 2, dtype=np.int32)
    with pytest.raises(ValueError, match="Linear"):
        nn.Linear(3, 2)(np.ones((4, 2)))


@pytest.mark.parametrize(
    ("module", "method"),
    [
        (nn.ReLU(), "relu"),
        (nn.Tanh(), "tanh"),
        (nn.Sigmoid(), "sigmoid"),
        (nn.GELU(), "gelu"),
        (nn.Softplus(), "softplus"),
    ],
)
def test_activation_modules_apply_their_function_and_have_no_parameters(module, method) -> None:
    x = np.array([-2.0, -0.5, 0.0, 0.5, 3.0])
    np.testing.assert_array_equal(module(x).data, getattr(Value(x), method)().data)
    assert module.activation == method and list(module.parameters()) == []


def test_gelu_takes_pytorchs_tanh_approximation() -> None:
    x = np.array([-2.0, -0.5, 0.0, 0.5, 3.0])
    tanh_form = 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))
    np.testing.assert_allclose(nn.GELU(approximate="tanh")(x).data, tanh_form, rtol=1e-14)
    assert not np.allclose(nn.GELU()(x).data, tanh_form, rtol=1e-6, atol=0)  # the exact form differs
    with pytest.raises(ValueError, match=r"GELU: approximate must be 'none' or 'tanh', got 'erf'"):
        nn.GELU(approximate="erf")


def test_softplus_takes_beta_and_switches_to_x_past_the_threshold() -> None:
    x = np.array([-3.0, 0.0, 0.4, 0.6, 5.0])
    module = nn.Softplus(beta=2.0, threshold=1.0)
    expected = np.where(2 * x > 1, x, np.log1p(np.exp(2 * x)) / 2)
    np.testing.assert_allclose(module(x).data, expected, rtol=1e-14)
    assert gradcheck(lambda v: module(v), np.array([-1.0, 0.3, 0.7, 2.0]))
    assert gradgradcheck(lambda v: nn.functional.softplus(v, beta=0.5), np.array([-1.0, 0.3, 2.0]))
    assert "beta=2.0, threshold=1.0" in repr(module)
    with pytest.raises(ValueError, match="softplus: beta must not be 0"):
        nn.Softplus(beta=0)(x)


def test_functional_activations_take_pytorchs_inplace_and_leave_the_input_alone() -> None:
    x = np.array([-1.0, 2.0])
    assert nn.functional.relu(x, inplace=True).tolist() == [0.0, 2.0]
    assert nn.functional.leaky_relu(x, 0.5, True).tolist() == [-0.5, 2.0]
    kept = nn.functional.dropout(x, 0.5, True, True, generator=np.random.default_rng(0))
    assert set(kept.tolist()) <= {0.0, -2.0, 4.0} and x.tolist() == [-1.0, 2.0]
    with pytest.raises(
        TypeError, match=r"dropout: inplace must be a bool, got Generator \(pass generator=...\)"
    ):
        nn.functional.dropout(x, 0.5, True, np.random.default_rng(0))


def test_leaky_relu_module_takes_its_slope() -> None:
    assert nn.LeakyReLU(0.2)([-1.0, 2.0]).tolist() == [-0.2, 2.0]
    assert nn.LeakyReLU()([-1.0]).tolist() == [-0.01]
    with pytest.raises(TypeError, match="LeakyReLU: negative_slope must be a number"):
        nn.LeakyReLU("0.1")
