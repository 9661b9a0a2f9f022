"""Module: finding, naming and labelling parameters, scopes for drawing, modes, and saving safely."""

from __future__ import annotations

import os
import zipfile

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from autonet import Value
from autonet.nn import MLP, Layer, Module, Neuron


class Block(Module):
    """A user-made module: a sub-module, a list of sub-modules, a dict of Values and a private cache."""

    def __init__(self):
        self.encoder = Layer(2, 3, activation="tanh", rng=0)
        self.heads = [Layer(3, 1, activation=None, rng=1), Layer(3, 1, activation=None, rng=2)]
        self.extras = {"scale": Value(np.array([1.5])), "shift": Value(0.25)}
        self._cache = Value(np.ones(3))  # private: never a parameter

    def forward(self, x):
        hidden = self.encoder(x)
        return (self.heads[0](hidden) + self.heads[1](hidden)) * self.extras["scale"] + self.extras["shift"]


class Wrapper(Module):
    def __init__(self):
        self.block = Block()
        self.gain = Value(2.0)

    def forward(self, x):
        return self.block(x) * self.gain


def test_parameters_are_found_in_attribute_order_with_dotted_names():
    names = [name for name, _ in Block().named_parameters()]
    assert names == [
        "encoder.w",
        "encoder.b",
        "heads.0.w",
        "heads.0.b",
        "heads.1.w",
        "heads.1.b",
        "extras.scale",
        "extras.shift",
    ]


def test_dotted_names_become_labels_and_follow_the_module_when_it_is_nested():
    block = Block()
    assert block.heads[1].w.label == "heads.1.w"
    wrapper = Wrapper()
    assert [p.label for p in wrapper.parameters()] == [name for name, _ in wrapper.named_parameters()]
    assert wrapper.block.heads[1].w.label == "block.heads.1.w"
    assert wrapper.block.heads[1].path == "Wrapper.block.heads.1"
    assert wrapper.path == "Wrapper"


def test_parameters_order_is_stable_across_calls_and_identical_models():
    a, b = Wrapper(), Wrapper()
    assert [n for n, _ in a.named_parameters()] == [n for n, _ in b.named_parameters()]
    assert [id(p) for p in a.parameters()] == [id(p) for p in a.parameters()]


def test_a_shared_parameter_is_listed_once_and_cycles_do_not_loop():
    class Tied(Module):
        def __init__(self):
            self.first = Layer(2, 2, rng=0)
            self.second = Layer(2, 2, rng=1)
            self.second.w = self.first.w
            self.first.owner = self  # a reference back to the parent

    tied = Tied()
    names = [name for name, _ in tied.named_parameters()]
    assert names == ["first.w", "first.b", "second.b"]
    assert [name for name, _ in tied.named_modules()] == ["", "first", "second"]


def test_private_attributes_are_not_parameters():
    assert all(p is not Block()._cache for p in Block().parameters())


def test_zero_grad_clears_every_gradient():
    model = Wrapper()
    model(np.ones((4, 2))).sum().backward()
    assert any(np.any(p.grad) for p in model.parameters())
    model.zero_grad()
    assert all(not np.any(p.grad) for p in model.parameters())


def test_train_and_eval_switch_the_whole_tree():
    model = Wrapper()
    assert model.training and model.block.heads[0].training
    assert model.eval() is model
    assert not any(m.training for _, m in model.named_modules())
    model.train()
    assert all(m.training for _, m in model.named_modules())


def test_repr_shows_the_structure_and_the_parameter_count():
    text = repr(MLP(2, [16, 16, 1], rng=0))
    assert text.splitlines()[0] == "MLP(2 -> 16 -> 16 -> 1, parameters=337)"
    assert "(layers.0): Layer(2 -> 16, relu, parameters=48)" in text
    assert "(layers.2): Layer(16 -> 1, linear, parameters=17)" in text
    nested = repr(Wrapper())
    assert "(block): Block(parameters=" in nested and "    (heads.1): Layer(3 -> 1, linear" in nested


def test_a_module_without_forward_says_so():
    with pytest.raises(NotImplementedError, match="define forward"):
        Module()(1.0)


# --------------------------------------------------------------------------- scopes for drawing


def test_outputs_are_tagged_with_the_innermost_module_path():
    model = MLP(2, [3, 1], activation="tanh", rng=0)
    out = model(np.ones((2, 2)))
    assert out.scope == "MLP.layers.1"
    hidden = out.parents[0]
    assert hidden.op.name == "tanh" and hidden.scope == "MLP.layers.0"
    assert hidden.parents[0].scope == "MLP.layers.0"  # the layer's pre-activation


def test_a_value_computed_by_the_outer_module_gets_the_outer_path():
    wrapper = Wrapper()
    out = wrapper(np.ones((2, 2)))
    assert out.scope == "Wrapper"
    assert out.parents[0].scope == "Wrapper.block"
    assert wrapper.gain.scope is None  # parameters (leaves) are never tagged


# --------------------------------------------------------------------------- state


def test_state_dict_is_a_copy():
    layer = Layer(2, 2, rng=0)
    state = layer.state_dict()
    state["w"][...] = 0.0
    assert np.any(layer.w.data)


def snapshot(model: Module) -> dict[str, bytes]:
    return {name: np.array(p.data).tobytes() + str(p.dtype).encode() for name, p in model.named_parameters()}


def test_load_state_dict_lists_every_problem_and_changes_nothing():
    model = Block()
    before = snapshot(model)
    state = model.state_dict()
    del state["encoder.b"]
    state["heads.0.w"] = np.zeros((4, 1))
    state["bogus"] = np.zeros(2)
    state["extras.shift"] = np.array("text")
    with pytest.raises(ValueError) as caught:
        model.load_state_dict(state)
    message = str(caught.value)
    assert "nothing was changed" in message
    assert "missing: encoder.b" in message
    assert "unexpected: bogus" in message
    assert "mis-shaped: heads.0.w (given (4, 1), the module has (3, 1))" in message
    assert "not numeric: extras.shift" in message
    assert snapshot(model) == before


def test_load_state_dict_without_strict_loads_the_common_names():
    source, target = Layer(2, 2, rng=0), Layer(2, 2, rng=1)
    target.load_state_dict({"w": source.state_dict()["w"], "other": np.zeros(1)}, strict=False)
    np.testing.assert_array_equal(target.w.data, source.w.data)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_save_then_load_round_trips_bit_for_bit(tmp_path, dtype):
    model = MLP(3, [5, 2], activation="tanh", rng=0, dtype=dtype)
    path = tmp_path / "model.npz"
    model.save(path)
    fresh = MLP(3, [5, 2], activation="tanh", rng=1, dtype=dtype)
    assert fresh.load(path) is fresh
    assert snapshot(fresh) == snapshot(model)
    assert sorted(os.listdir(tmp_path)) == ["model.npz"]


def test_a_float_scalar_parameter_round_trips_and_stays_a_scalar(tmp_path):
    neuron = Neuron(np.array([0.1, 0.2]), 0.1 + 0.2)
    neuron.save(tmp_path / "neuron.npz")
    other = Neuron(np.array([0.0, 0.0]), 0.0).load(tmp_path / "neuron.npz")
    assert other.b.item() == 0.1 + 0.2 and other.b.shape == ()
    assert snapshot(other) == snapshot(neuron)


@given(st.lists(st.integers(1, 4), min_size=1, max_size=3), st.integers(1, 3), st.integers(0, 2**31))
def test_any_mlp_round_trips_through_its_state_dict(sizes, nin, seed):
    model = MLP(nin, sizes, rng=seed)
    copy = MLP(nin, sizes, rng=seed + 1)
    copy.load_state_dict(model.state_dict())
    assert snapshot(copy) == snapshot(model)
    assert copy.num_parameters() == sum((a + 1) * b for a, b in zip([nin, *sizes], sizes, strict=False))


def test_a_parameter_named_like_a_savez_keyword_is_saved(tmp_path):
    class Odd(Module):
        def __init__(self):
            self.file = Value(np.array([1.0, 2.0]))
            self.allow_pickle = Value(3.0)

    Odd().save(tmp_path / "odd.npz")
    loaded = Odd()
    loaded.file.data = np.zeros(2)
    loaded.load(tmp_path / "odd.npz")
    assert loaded.file.tolist() == [1.0, 2.0]


def corrupt_files(good: bytes) -> dict[str, bytes]:
    return {
        "garbage": b"this is not a zip file at all",
        "truncated": good[: len(good) // 2],
        "empty": b"",
        "flipped": good[:40] + bytes(b ^ 0xFF for b in good[40:80]) + good[80:],
    }


@pytest.mark.parametrize("kind", ["garbage", "truncated", "empty", "flipped"])
def test_loading_a_corrupt_file_raises_and_changes_nothing(tmp_path, kind):
    model = MLP(2, [3, 1], rng=0)
    model.save(tmp_path / "good.npz")
    damaged = tmp_path / f"{kind}.npz"
    damaged.write_bytes(corrupt_files((tmp_path / "good.npz").read_bytes())[kind])
    target = MLP(2, [3, 1], rng=1)
    before = snapshot(target)
    with pytest.raises(ValueError, match="nothing was changed"):
        target.load(damaged)
    assert snapshot(target) == before


def test_loading_a_file_of_another_architecture_changes_nothing(tmp_path):
    MLP(2, [4, 1], rng=0).save(tmp_path / "wide.npz")
    target = MLP(2, [3, 1], rng=1)
    before = snapshot(target)
    with pytest.raises(
        ValueError, match=r"mis-shaped: layers\.0\.w \(given \(2, 4\), the module has \(2, 3\)\)"
    ):
        target.load(tmp_path / "wide.npz")
    assert snapshot(target) == before


def test_loading_never_unpickles(tmp_path):
    path = tmp_path / "pickled.npz"
    np.savez(path, **{"w": np.array([object()], dtype=object)})
    layer = Layer(2, 2, rng=0)
    before = snapshot(layer)
    with pytest.raises(ValueError, match="nothing was changed"):
        layer.load(path)
    assert snapshot(layer) == before


def test_loading_a_single_array_file_is_refused(tmp_path):
    path = tmp_path / "one.npy"
    np.save(path, np.zeros(3))
    with pytest.raises(ValueError, match="single array"):
        Layer(2, 2, rng=0).load(path)


def test_loading_a_file_that_is_not_an_archive_says_what_it_is(tmp_path):
    path = tmp_path / "notes.npz"
    path.write_text("just some text")
    with pytest.raises(ValueError, match=r"not an \.npz file.*not a zip archive \(it starts b'just'\)"):
        Layer(2, 2, rng=0).load(path)


def test_saving_into_a_missing_directory_names_the_directory(tmp_path):
    missing = tmp_path / "no" / "such"
    with pytest.raises(FileNotFoundError, match=f"directory {str(missing)!r}.*does not exist"):
        Layer(2, 2, rng=0).save(missing / "model.npz")
    assert not (tmp_path / "no").exists()


def test_a_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        Layer(2, 2, rng=0).load(tmp_path / "absent.npz")


def test_a_save_that_fails_midway_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    MLP(2, [3, 1], rng=0).save(path)
    old = path.read_bytes()
    real_write = np.lib.format.write_array
    calls = []

    def failing_write(file, array, *args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            file.write(b"partial bytes")
            raise OSError("No space left on device")
        return real_write(file, array, *args, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", failing_write)
    with pytest.raises(OSError, match="No space left"):
        MLP(2, [3, 1], rng=5).save(path)
    assert path.read_bytes() == old
    assert os.listdir(tmp_path) == ["model.npz"]  # the temporary file is gone
    monkeypatch.undo()
    assert zipfile.is_zipfile(path)
    restored = MLP(2, [3, 1], rng=9).load(path)
    assert snapshot(restored) == snapshot(MLP(2, [3, 1], rng=0))


def test_children_and_modules_are_pytorchs_and_named_children_names_them() -> None:
    from autonet import nn

    inner = nn.Sequential(nn.Linear(2, 3, rng=0), nn.Tanh())
    model = nn.Sequential(inner, nn.Linear(3, 1, rng=1))
    assert model.children() == [inner, model[1]]
    assert [name for name, _ in model.named_children()] == ["0", "1"]
    assert model.modules() == [model, inner, inner[0], inner[1], model[1]]
    assert [name for name, _ in model.named_modules()] == ["", "0", "0.0", "0.1", "1"]


def test_nested_modules_name_their_buffers_and_torch_layouts_with_dotted_paths() -> None:
    from autonet import nn
    from autonet.export import to_torch_state_dict

    model = nn.Sequential(nn.Sequential(nn.Layer(2, 3, rng=0), nn.BatchNorm1d(3)), nn.Linear(3, 1, rng=1))
    assert [name for name, _ in model.named_buffers()] == [
        "0.1.running_mean",
        "0.1.running_var",
        "0.1.num_batches_tracked",
    ]
    # What torch.nn.Sequential(Sequential(Linear, BatchNorm1d), Linear) names its state:
    batch_norm = ["0.1.weight", "0.1.bias", "0.1.running_mean", "0.1.running_var", "0.1.num_batches_tracked"]
    expected = ["0.0.weight", "0.0.bias", *batch_norm, "1.weight", "1.bias"]
    assert sorted(to_torch_state_dict(model)) == sorted(expected)
    copy = nn.Sequential(nn.Sequential(nn.Layer(2, 3, rng=5), nn.BatchNorm1d(3)), nn.Linear(3, 1, rng=6))
    copy.load_state_dict(model.state_dict())
    state = model.state_dict()
    assert all(np.array_equal(array, state[name]) for name, array in copy.state_dict().items())
