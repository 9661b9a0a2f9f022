"""BatchNorm1d/2d, LayerNorm, Dropout and Embedding; train/eval switching, buffers in the state
(saved and loaded, not parameters), and freezing parameters with requires_grad_(False)."""

from __future__ import annotations

import numpy as np
import pytest

from autonet import Value, data, nn, optim
from autonet.nn import MLP, BatchNorm1d, BatchNorm2d, Dropout, Embedding, Layer, LayerNorm, Module

RNG = np.random.default_rng(0)


class Net(Module):
    """Layer -> BatchNorm1d -> relu -> Dropout -> Layer, with a LayerNorm on the way."""

    def __init__(self) -> None:
        self.first = Layer(2, 8, activation=None, rng=0)
        self.norm = BatchNorm1d(8)
        self.drop = Dropout(0.2, rng=0)
        self.layer_norm = LayerNorm(8)
        self.last = Layer(8, 1, activation=None, rng=1)

    def forward(self, x):
        return self.last(self.layer_norm(self.drop(self.norm(self.first(x)).relu())))


# --------------------------------------------------------------------------- batch norm


def test_batch_norm_parameters_and_buffers_have_pytorch_names_and_starts() -> None:
    bn = BatchNorm1d(3)
    assert [name for name, _ in bn.named_parameters()] == ["weight", "bias"]
    assert bn.weight.tolist() == [1.0] * 3 and bn.bias.tolist() == [0.0] * 3
    state = bn.state_dict()
    assert list(state) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    assert state["running_mean"].tolist() == [0.0] * 3 and state["running_var"].tolist() == [1.0] * 3
    assert state["num_batches_tracked"].dtype == np.int64 and state["num_batches_tracked"].shape == ()


def test_training_steps_move_the_running_statistics_and_count_the_batches() -> None:
    bn = BatchNorm1d(2, momentum=0.5)
    batches = [RNG.normal(size=(4, 2)) * 3 + 1 for _ in range(3)]
    mean, var = np.zeros(2), np.ones(2)
    for x in batches:
        bn(x)
        mean, var = 0.5 * mean + 0.5 * x.mean(0), 0.5 * var + 0.5 * x.var(0, ddof=1)
    np.testing.assert_allclose(bn.running_mean, mean, rtol=1e-13)
    np.testing.assert_allclose(bn.running_var, var, rtol=1e-13)
    assert int(bn.num_batches_tracked) == 3


def test_momentum_none_keeps_a_cumulative_average() -> None:
    bn = BatchNorm1d(1, momentum=None)
    for value in ([[0.0], [2.0]], [[4.0], [6.0]], [[8.0], [10.0]]):
        bn(np.array(value))
    assert bn.running_mean.tolist() == pytest.approx([5.0])  # the mean of 1, 5, 9
    assert bn.running_var.tolist() == pytest.approx([2.0])  # each batch's unbiased variance


def test_evaluation_normalises_with_the_running_statistics() -> None:
    bn = BatchNorm2d(2, eps=0.0).eval()
    bn.running_mean[...] = [1.0, -1.0]
    bn.running_var[...] = [4.0, 0.25]
    x = RNG.normal(size=(2, 2, 3, 3))
    expected = (x - np.array([1.0, -1.0])[:, None, None]) / np.array([2.0, 0.5])[:, None, None]
    np.testing.assert_allclose(bn(x).data, expected, rtol=1e-14)
    assert int(bn.num_batches_tracked) == 0  # evaluation tracks nothing
    bn(np.ones((1, 2, 1, 1)))  # one value per channel is fine in evaluation


def test_bias_false_keeps_the_scale_and_drops_the_shift() -> None:
    bn = BatchNorm1d(3, bias=False)
    assert bn.bias is None and [name for name, _ in bn.named_parameters()] == ["weight"]
    bn.weight.data[...] = [1.0, 2.0, 3.0]
    x = RNG.normal(size=(6, 3))
    out = bn(x).data
    normalised = (x - x.mean(0)) / np.sqrt(x.var(0) + bn.eps)
    np.testing.assert_allclose(out, normalised * [1.0, 2.0, 3.0], rtol=1e-12)


def test_without_running_statistics_the_batch_is_always_used() -> None:
    bn = BatchNorm1d(2, track_running_stats=False, affine=False).eval()
    assert bn.parameters() == [] and bn.state_dict() == {}
    out = bn(RNG.normal(size=(5, 2))).data
    np.testing.assert_allclose(out.mean(0), 0.0, atol=1e-12)


@pytest.mark.parametrize(
    ("module", "shape", "message"),
    [
        (BatchNorm1d(3), (2, 3, 4, 5), r"BatchNorm1d: expected 2D or 3D input, got shape \(2, 3, 4, 5\)"),
        (BatchNorm2d(3), (2, 3), r"BatchNorm2d: expected 4D input"),
        (BatchNorm1d(3), (1, 3), "batch_norm: expected more than 1 value per channel when training"),
        (BatchNorm1d(3), (2, 4), r"batch_norm: weight has shape \(3,\), the input needs \(4,\)"),
    ],
    ids=["1d-of-4d", "2d-of-2d", "batch-of-one", "channels"],
)
def test_batch_norm_refuses_inputs_it_cannot_normalise(module: Module, shape, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        module(np.ones(shape))


# --------------------------------------------------------------------------- train / eval


def test_train_and_eval_reach_every_child_and_change_what_they_compute() -> None:
    net = Net()
    x = RNG.normal(size=(16, 2))
    net(x)
    assert net.eval() is net and not net.norm.training and not net.drop.training
    before = net.norm.running_mean.copy()
    first, second = net(x).data, net(x).data
    np.testing.assert_array_equal(first, second)  # no dropout, fixed statistics
    np.testing.assert_array_equal(net.norm.running_mean, before)
    net.train()
    assert net.norm.training and net.drop.training
    assert not np.array_equal(net(x).data, net(x).data)  # fresh dropout masks


# --------------------------------------------------------------------------- buffers in the state


def test_buffers_are_saved_and_loaded_but_are_not_parameters(tmp_path) -> None:
    net = Net()
    for _ in range(3):
        net(RNG.normal(size=(8, 2)))
    names = [name for name, _ in net.named_parameters()]
    assert "norm.running_mean" not in names and len(net.parameters()) == len(names)
    state = net.state_dict()
    assert {"norm.running_mean", "norm.running_var", "norm.num_batches_tracked"} <= set(state)
    path = tmp_path / "net.npz"
    net.save(path)
    fresh = Net().load(path)
    for name, array in net.state_dict().items():
        np.testing.assert_array_equal(fresh.state_dict()[name], array, err_msg=name)
    x = RNG.normal(size=(4, 2))
    np.testing.assert_array_equal(fresh.eval()(x).data, net.eval()(x).data)


def test_loading_writes_into_the_buffers_arrays_and_checks_their_shapes() -> None:
    bn = BatchNorm1d(2)
    held = bn.running_mean
    bn.load_state_dict({**bn.state_dict(), "running_mean": np.array([3.0, 4.0])})
    assert bn.running_mean is held and held.tolist() == [3.0, 4.0]
    with pytest.raises(ValueError, match=r"mis-shaped: running_var \(given \(3,\), the module has \(2,\)\)"):
        bn.load_state_dict({**bn.state_dict(), "running_var": np.ones(3)})
    with pytest.raises(ValueError, match="missing: num_batches_tracked"):
        bn.load_state_dict({k: v for k, v in bn.state_dict().items() if k != "num_batches_tracked"})


def test_a_state_in_pytorchs_layout_loads() -> None:
    # What {k: v.numpy() for k, v in torch.nn.BatchNorm1d(2).state_dict().items()} holds, after training.
    state = {
        "weight": np.array([1.5, 0.5]),
        "bias": np.array([0.1, -0.1]),
        "running_mean": np.array([0.2, 0.3]),
        "running_var": np.array([2.0, 0.5]),
        "num_batches_tracked": np.array(7, dtype=np.int64),
    }
    bn = BatchNorm1d(2)
    bn.load_state_dict(state)
    bn.eval()
    x = np.array([[1.0, 2.0]])
    expected = (x - state["running_mean"]) / np.sqrt(state["running_var"] + 1e-5) * state["weight"] + state[
        "bias"
    ]
    np.testing.assert_allclose(bn(x).data, expected, rtol=1e-14)
    assert int(bn.num_batches_tracked) == 7


def test_register_buffer_takes_arrays_under_public_names() -> None:
    module = Module()
    module.register_buffer("steps", np.zeros(2))
    assert [name for name, _ in module.named_buffers()] == ["steps"] and module.parameters() == []
    with pytest.raises(ValueError, match=r"Module\.register_buffer: a buffer's name"):
        module.register_buffer("_hidden", np.zeros(1))
    with pytest.raises(TypeError, match="must be a numpy array or None, got Value"):
        module.register_buffer("value", Value([1.0]))


# --------------------------------------------------------------------------- freezing


@pytest.mark.parametrize(
    "make", [lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9), lambda ps: optim.Adam(ps, lr=0.1)]
)
def test_frozen_parameters_stay_unchanged_through_optimizer_steps(make) -> None:
    model = MLP(2, [4, 1], rng=0)
    assert model.layers[0].requires_grad_(False) is model.layers[0]
    frozen = [p.data.copy() for p in model.layers[0].parameters()]
    trained = [p.data.copy() for p in model.layers[1].parameters()]
    optimizer = make(model.parameters())
    inputs, labels = data.make_moons(20, seed=0)
    for _ in range(3):
        optimizer.zero_grad()
        nn.binary_cross_entropy_with_logits(model(inputs), labels).backward()
        optimizer.step()
    for p, before in zip(model.layers[0].parameters(), frozen, strict=True):
        assert not p.grad.any()  # no gradient reached it
        np.testing.assert_array_equal(p.data, before)
    assert all(
        not np.array_equal(p.data, b) for p, b in zip(model.layers[1].parameters(), trained, strict=True)
    )
    model.requires_grad_(True)
    assert all(p.requires_grad for p in model.parameters())


# --------------------------------------------------------------------------- layer norm, dropout, embedding


def test_layer_norm_normalises_each_sample_alike_in_training_and_evaluation() -> None:
    ln = LayerNorm((2, 3))
    assert [name for name, _ in ln.named_parameters()] == ["weight", "bias"] and ln.weight.shape == (2, 3)
    x = RNG.normal(size=(4, 2, 3))
    out = ln(x).data
    np.testing.assert_allclose(out.mean(axis=(1, 2)), 0.0, atol=1e-12)
    np.testing.assert_array_equal(ln.eval()(x).data, out)
    assert LayerNorm(3, elementwise_affine=False).parameters() == []
    assert [name for name, _ in LayerNorm(3, bias=False).named_parameters()] == ["weight"]


def test_a_seeded_dropout_module_repeats_its_masks() -> None:
    x = np.ones((4, 5))
    first, second = Dropout(0.5, rng=3), Dropout(0.5, rng=3)
    np.testing.assert_array_equal(first(x).data, second(x).data)
    with pytest.raises(ValueError, match="Dropout: p must be a probability"):
        Dropout(1.5)


def test_embedding_starts_normal_with_a_zero_padding_row_and_learns_only_looked_up_rows() -> None:
    table = Embedding(1000, 20, padding_idx=3, rng=0)
    weight = table.weight.data
    assert weight.shape == (1000, 20) and (weight[3] == 0).all()
    assert abs(weight.std() - 1) < 0.02 and abs(weight.mean()) < 0.02
    table([[1, 3], [1, 2]]).sum().backward()
    grad = table.weight.grad
    assert grad[1].tolist() == [2.0] * 20 and grad[2].tolist() == [1.0] * 20
    assert (grad[3] == 0).all() and (grad[4:] == 0).all()
    with pytest.raises(TypeError, match="embedding: indices must be integers"):
        table(np.array([1.0]))
    with pytest.raises(ValueError, match="Embedding: padding_idx 10 is out of range"):
        Embedding(10, 2, padding_idx=10)


def test_a_network_with_batch_norm_dropout_and_layer_norm_learns() -> None:
    inputs, labels = data.make_moons(100, noise=0.1, seed=1)
    net = Net()
    optimizer = optim.Adam(net.parameters(), lr=0.05)

    def loss() -> float:
        return nn.binary_cross_entropy_with_logits(net(inputs), labels).item()

    before = net.eval() and loss()
    net.train()
    for _ in range(40):
        optimizer.zero_grad()
        nn.binary_cross_entropy_with_logits(net(inputs), labels).backward()
        optimizer.step()
    net.eval()
    assert loss() < 0.5 * before
