"""The rest of PyTorch's Module API: apply, adding parts by name, finding them by path, hooks."""

from __future__ import annotations

import numpy as np
import pytest

from autonet import Value, nn


def small_net() -> nn.Sequential:
    return nn.Sequential(nn.Linear(2, 3, rng=0), nn.ReLU(), nn.Linear(3, 1, rng=1), nn.BatchNorm1d(1))


def test_apply_visits_children_before_parents_and_can_initialise_by_type() -> None:
    net = small_net()
    order: list[str] = []
    assert net.apply(lambda m: order.append(type(m).__name__)) is net
    assert order == ["Linear", "ReLU", "Linear", "BatchNorm1d", "Sequential"]

    def constant_init(module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            module.weight.data[...] = 0.5
            module.bias.data[...] = 0.0

    net.apply(constant_init)
    assert (net[0].weight.data == 0.5).all() and (net[2].weight.data == 0.5).all()
    assert (net[3].weight.data == 1.0).all()  # the batch norm is no Linear: left alone
    assert net(np.ones((4, 2))).shape == (4, 1)


def test_parts_added_by_name_are_found_by_their_paths() -> None:
    net = nn.Module()
    net.add_module("body", small_net())
    net.register_module("head", nn.Linear(1, 2, rng=2))
    net.register_parameter("scale", Value(np.ones(2)))
    net.register_parameter("shift", None)
    assert [name for name, _ in net.named_children()] == ["body", "head"]
    assert net.get_submodule("body.2") is net.body[2]
    assert net.get_submodule("") is net
    assert net.get_parameter("body.0.weight") is net.body[0].weight
    assert net.get_parameter("scale") is net.scale and net.shift is None
    assert net.get_buffer("body.3.running_mean") is net.body[3].running_mean
    assert [name for name, _ in net.named_parameters()][-1] == "scale"


@pytest.mark.parametrize(
    "call, error, message",
    [
        (
            lambda net: net.get_submodule("body.9"),
            AttributeError,
            r"Module has no module 'body.9'; it has '', 'body'",
        ),
        (
            lambda net: net.get_parameter("body.0.w"),
            AttributeError,
            r"no parameter 'body.0.w'; it has 'body.0.weight'",
        ),
        (lambda net: net.get_buffer("nothing"), AttributeError, r"no buffer 'nothing'"),
        (lambda net: net.add_module("a.b", nn.ReLU()), KeyError, r"add_module: .*no dots.*'a.b'"),
        (lambda net: net.add_module("act", "relu"), TypeError, r"'act' must be a Module or None, got str"),
        (
            lambda net: net.register_parameter("w", np.ones(2)),
            TypeError,
            r"'w' must be a Value or None, got ndarray",
        ),
    ],
)
def test_wrong_paths_and_parts_are_refused_by_name(call, error, message) -> None:
    net = nn.Module()
    net.add_module("body", small_net())
    with pytest.raises(error, match=message):
        call(net)


def test_a_forward_hook_sees_each_output_and_can_replace_it() -> None:
    net = small_net()
    seen: list[tuple[str, tuple[int, ...]]] = []
    handle = net[0].register_forward_hook(lambda m, args, out: seen.append((type(m).__name__, out.shape)))
    x = np.ones((4, 2))
    first = net(x)
    assert seen == [("Linear", (4, 3))]
    handle.remove()
    handle.remove()  # removing twice is harmless
    net(x)
    assert len(seen) == 1
    with net[1].register_forward_hook(lambda m, args, out: out * 0.0):
        assert (net[1](np.array([1.0, 2.0])).data == 0.0).all()
    np.testing.assert_array_equal(net(x).data, first.data)  # the hook is gone after the block


def test_a_forward_pre_hook_can_replace_the_arguments_and_gradients_flow_through_hooks() -> None:
    layer = nn.Linear(2, 1, rng=0)
    layer.register_forward_pre_hook(lambda m, args: args[0] * 2.0)  # one argument, not a tuple
    doubled = layer.register_forward_hook(lambda m, args, out: out + 1.0)
    x = Value(np.array([[1.0, -1.0]]))
    out = layer(x)
    expected = (2.0 * x.data) @ layer.weight.data.T + layer.bias.data + 1.0
    np.testing.assert_allclose(out.data, expected)
    out.sum().backward()
    np.testing.assert_allclose(x.grad, 2.0 * layer.weight.data)  # through the pre-hook's doubling
    doubled.remove()
    with pytest.raises(TypeError, match="a hook must be callable, got int"):
        layer.register_forward_hook(3)


def test_to_converts_every_parameter_gradient_and_float_buffer_in_place() -> None:
    from autonet import optim
    from autonet.gradcheck import gradcheck

    net = nn.Sequential(
        nn.Conv2d(1, 2, 3, padding=1, rng=0, dtype=np.float32),
        nn.BatchNorm2d(2, dtype=np.float32),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(32, 3, rng=1, dtype=np.float32),
    )
    optimizer = optim.SGD(net.parameters(), lr=0.1)
    x = np.random.default_rng(0).normal(size=(2, 1, 4, 4)).astype(np.float32)
    nn.cross_entropy(net(x), np.array([0, 1])).backward()
    before = [p for p in net.parameters()]
    assert net.double() is net
    assert all(p.dtype == np.float64 and p.grad.dtype == np.float64 for p in net.parameters())
    assert [id(p) for p in net.parameters()] == [id(p) for p in before]  # the same Values
    assert net[1].running_var.dtype == np.float64 and net[1].num_batches_tracked.dtype == np.int64
    assert net(x).dtype == np.float64  # float32 data becomes float64 constants now
    optimizer.step()  # the optimizer made before steps the converted parameters
    assert net[0].weight.dtype == np.float64
    net.eval()
    assert gradcheck(lambda v: net(v), x.astype(np.float64))
    assert net.float()[4].weight.dtype == np.float32 and net.to("cpu") is net


def test_recurrent_and_norm_modules_take_their_new_dtype_for_data_and_states() -> None:
    lstm = nn.LSTM(3, 4, rng=0, dtype=np.float32).double()
    out, (h, c) = lstm(np.ones((2, 1, 3), dtype=np.float32))
    assert out.dtype == h.dtype == c.dtype == np.float64
    assert nn.GRUCell(3, 4, rng=0).float()(np.ones((2, 3))).dtype == np.float32
    assert nn.LayerNorm(3).float()(np.ones((2, 3))).dtype == np.float32
    with pytest.raises(TypeError, match=r"Sequential.to: dtype must be a float type .* got int32"):
        small_net().to(np.int32)


def test_a_compiled_step_traces_again_when_a_hook_is_added_or_removed() -> None:
    import autonet

    layer = nn.Linear(2, 1, rng=0)
    x = np.ones((3, 2))

    @autonet.compile
    def step() -> float:
        return layer(x).sum().item()

    plain = step()
    assert step() == plain
    handle = layer.register_forward_hook(lambda m, args, out: out * 2.0)
    assert step() == 2.0 * plain == layer(x).sum().item()  # replayed with the hook, as eager
    assert step() == 2.0 * plain
    handle.remove()
    assert step() == plain


def test_an_embedding_from_pretrained_vectors_is_a_frozen_copy_unless_asked() -> None:
    vectors = np.random.default_rng(4).normal(size=(5, 3))
    table = nn.Embedding.from_pretrained(vectors, padding_idx=1)
    np.testing.assert_array_equal(table([1, 4]).data, vectors[[1, 4]])  # the padding row kept, as PyTorch's
    assert table.weight.requires_grad is False and table.padding_idx == 1
    vectors[0] = 7.0
    assert not (table.weight.data[0] == 7.0).any()  # a copy
    trainable = nn.Embedding.from_pretrained(vectors, freeze=False)
    trainable([0, 0, 3]).sum().backward()
    assert trainable.weight.grad.sum(axis=1).tolist() == [6.0, 0.0, 0.0, 3.0, 0.0]
    with pytest.raises(ValueError, match=r"embeddings must be 2-d, got shape \(5,\)"):
        nn.Embedding.from_pretrained(np.ones(5))


def test_unflatten_splits_one_axis_and_undoes_flatten() -> None:
    x = np.arange(24.0).reshape(4, 6)
    out = nn.Unflatten(1, (2, -1))(x)
    assert out.shape == (4, 2, 3) and out.data.ravel().tolist() == x.ravel().tolist()
    assert nn.Unflatten(-1, (3, 2))(x).shape == (4, 3, 2)
    np.testing.assert_array_equal(nn.Flatten()(nn.Unflatten(1, (3, 2))(x)).data, x)
    with pytest.raises(ValueError, match=r"Unflatten: dim 2 is out of range for an input of shape \(4, 6\)"):
        nn.Unflatten(2, (2, 3))(x)
    with pytest.raises(ValueError, match=r"cannot reshape .* \(4, 6\)"):
        nn.Unflatten(1, (4, 2))(x)
