"""autonet.export.to_torch_state_dict and from_torch_state_dict: the names and shapes PyTorch's
documentation gives its modules (written out here, since the suite never imports torch), its
layouts (nn.Linear computes x A^T + b), round trips both ways, and clear errors."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from autonet import Value, nn, no_grad
from autonet.export import from_torch_state_dict, to_torch_state_dict

ROOT = Path(__file__).resolve().parent.parent


def _digits_cnn(rng: np.random.Generator) -> nn.Sequential:
    spec = importlib.util.spec_from_file_location("example_digits_cnn", ROOT / "examples" / "digits_cnn.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.digits_cnn(rng)


class Tagger(nn.Module):
    """A module of one's own: an embedding, an LSTM and a readout Layer."""

    def __init__(self, rng: int) -> None:
        self.embed = nn.Embedding(10, 3, rng=rng)
        self.lstm = nn.LSTM(3, 5, rng=rng)
        self.readout = nn.Layer(5, 2, activation=None, rng=rng)

    def forward(self, x: np.ndarray) -> Value:
        output, _ = self.lstm(self.embed(x))
        return self.readout(output)


# Each model, and the state_dict() names and shapes of the torch module that matches it, as
# PyTorch's documentation gives them (nn.Linear(in, out): weight (out, in), bias (out,); Conv2d:
# weight (out, in / groups, kH, kW); LSTM: weight_ih_l{k} (4 hidden, input) ...; BatchNorm1d:
# running_mean, running_var, num_batches_tracked 0-d).
TORCH_LAYOUTS = {
    # nn.Linear(3, 2)
    "Layer": (lambda rng: nn.Layer(3, 2, rng=rng), {"weight": (2, 3), "bias": (2,)}),
    # nn.Linear(4, 1)
    "Neuron": (lambda rng: nn.Neuron(4, rng=rng), {"weight": (1, 4), "bias": (1,)}),
    # nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 1))
    "MLP": (
        lambda rng: nn.MLP(2, [16, 16, 1], rng=rng),
        {"0.weight": (16, 2), "0.bias": (16,), "2.weight": (16, 16), "2.bias": (16,)}
        | {"4.weight": (1, 16), "4.bias": (1,)},
    ),
    # nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1)): no activation modules between them
    "MLP-linear": (
        lambda rng: nn.MLP(2, [3, 1], activation=None, rng=rng),
        {"0.weight": (3, 2), "0.bias": (3,), "1.weight": (1, 3), "1.bias": (1,)},
    ),
    # nn.Sequential(Conv2d(1, 32, 3, padding=1), ReLU(), MaxPool2d(2), Conv2d(32, 64, 3, padding=1),
    #               ReLU(), MaxPool2d(2), Flatten(), Linear(256, 10))
    "digits CNN": (
        _digits_cnn,
        {"0.weight": (32, 1, 3, 3), "0.bias": (32,), "3.weight": (64, 32, 3, 3), "3.bias": (64,)}
        | {"7.weight": (10, 256), "7.bias": (10,)},
    ),
    # nn.LSTM(3, 5, num_layers=2)
    "LSTM": (
        lambda rng: nn.LSTM(3, 5, num_layers=2, rng=rng),
        {"weight_ih_l0": (20, 3), "weight_hh_l0": (20, 5), "bias_ih_l0": (20,), "bias_hh_l0": (20,)}
        | {"weight_ih_l1": (20, 5), "weight_hh_l1": (20, 5), "bias_ih_l1": (20,), "bias_hh_l1": (20,)},
    ),
    # nn.GRU(3, 4, bias=False)
    "GRU": (
        lambda rng: nn.GRU(3, 4, bias=False, rng=rng),
        {"weight_ih_l0": (12, 3), "weight_hh_l0": (12, 4)},
    ),
    # nn.Sequential(nn.Conv1d(2, 4, 3), nn.BatchNorm1d(4), nn.Flatten(), nn.LayerNorm(24))
    "norms": (
        lambda rng: nn.Sequential(
            nn.Conv1d(2, 4, 3, rng=rng), nn.BatchNorm1d(4), nn.Flatten(), nn.LayerNorm(24)
        ),
        {"0.weight": (4, 2, 3), "0.bias": (4,), "1.weight": (4,), "1.bias": (4,)}
        | {"1.running_mean": (4,), "1.running_var": (4,), "1.num_batches_tracked": ()}
        | {"3.weight": (24,), "3.bias": (24,)},
    ),
    # class Tagger(torch.nn.Module) with embed = Embedding(10, 3), lstm = LSTM(3, 5), readout = Linear(5, 2)
    "own module": (
        Tagger,
        {"embed.weight": (10, 3), "lstm.weight_ih_l0": (20, 3), "lstm.weight_hh_l0": (20, 5)}
        | {
            "lstm.bias_ih_l0": (20,),
            "lstm.bias_hh_l0": (20,),
            "readout.weight": (2, 5),
            "readout.bias": (2,),
        },
    ),
}


@pytest.mark.parametrize("name", TORCH_LAYOUTS)
def test_the_names_and_shapes_are_those_of_the_matching_torch_module(name: str) -> None:
    build, expected = TORCH_LAYOUTS[name]
    state = to_torch_state_dict(build(np.random.default_rng(0)))
    assert {key: array.shape for key, array in state.items()} == expected
    if "1.num_batches_tracked" in state:  # torch keeps the count as a 0-d int64 tensor
        assert state["1.num_batches_tracked"].dtype == np.int64


@pytest.mark.parametrize("name", TORCH_LAYOUTS)
def test_a_round_trip_through_the_torch_layout_is_the_identity(name: str) -> None:
    build, _ = TORCH_LAYOUTS[name]
    model = build(np.random.default_rng(0))
    for _, module in model.named_modules():  # statistics that are not their start values
        if isinstance(module, nn.BatchNorm1d):
            module(np.random.default_rng(1).normal(size=(6, 4, 5)))
    original = model.state_dict()
    other = from_torch_state_dict(build(np.random.default_rng(1)), to_torch_state_dict(model))
    restored = other.state_dict()
    assert list(restored) == list(original)
    for key, array in original.items():
        assert restored[key].dtype == array.dtype and np.array_equal(restored[key], array), key
    # The other way: a torch-layout state (fresh numbers) -> autonet -> torch layout is unchanged.
    rng = np.random.default_rng(2)
    theirs = {k: rng.normal(size=v.shape).astype(v.dtype) for k, v in to_torch_state_dict(model).items()}
    assert all(
        np.array_equal(to_torch_state_dict(from_torch_state_dict(model, theirs))[k], v)
        for k, v in theirs.items()
    )


def test_the_linear_layouts_compute_what_torch_documents_for_nn_linear() -> None:
    # nn.Linear: y = x A^T + b with A = weight (out, in); nn.Sequential applies its parts in turn.
    x = np.random.default_rng(3).normal(size=(5, 2))
    mlp = nn.MLP(2, [16, 16, 1], activation="tanh", rng=0)
    s = to_torch_state_dict(mlp)
    h = np.tanh(x @ s["0.weight"].T + s["0.bias"])
    h = np.tanh(h @ s["2.weight"].T + s["2.bias"])
    with no_grad():
        np.testing.assert_allclose(h @ s["4.weight"].T + s["4.bias"], mlp(x).data, rtol=1e-12)
        neuron = nn.Neuron(2, rng=0)  # sigmoid of nn.Linear(2, 1), its one output column
        n = to_torch_state_dict(neuron)
        expected = 1 / (1 + np.exp(-(x @ n["weight"].T + n["bias"])))
        np.testing.assert_allclose(expected[:, 0], neuron(x).data, rtol=1e-12)


class FakeTensor:
    """What a torch tensor offers a reader: detach(), cpu() and numpy()."""

    def __init__(self, array: np.ndarray) -> None:
        self.array = np.asarray(array)

    def detach(self) -> FakeTensor:
        return self

    def cpu(self) -> FakeTensor:
        return self

    def numpy(self) -> np.ndarray:
        return self.array


def test_tensors_lists_and_other_dtypes_load_into_the_models_dtype() -> None:
    layer = nn.Layer(3, 2, rng=0, dtype=np.float32)
    weight = np.arange(6.0).reshape(2, 3)
    from_torch_state_dict(layer, {"weight": FakeTensor(weight), "bias": [1.0, 2.0]})
    assert layer.w.dtype == np.float32
    assert layer.w.data.tolist() == weight.T.tolist() and layer.b.data.tolist() == [1.0, 2.0]


def test_a_state_that_does_not_fit_is_refused_and_changes_nothing() -> None:
    model = nn.MLP(2, [3, 1], rng=0)
    before = model.state_dict()
    good = to_torch_state_dict(model)
    bad = dict(good)
    del bad["2.bias"]
    bad["1.weight"] = np.zeros((3, 3))  # index 1 is the ReLU in torch's Sequential: no weight there
    bad["0.weight"] = np.zeros((2, 3))  # autonet's (in, out), not torch's (out, in)
    with pytest.raises(ValueError) as error:
        from_torch_state_dict(model, bad)
    message = str(error.value)
    assert "missing: 2.bias" in message and "unexpected: 1.weight" in message
    assert "0.weight (given (2, 3), PyTorch's layout is (3, 2))" in message
    assert all(np.array_equal(model.state_dict()[k], v) for k, v in before.items())
    with pytest.raises(TypeError, match="state must be a mapping"):
        from_torch_state_dict(model, [("0.weight", np.zeros((3, 2)))])
    with pytest.raises(TypeError, match=r"model must be an autonet nn\.Module"):
        to_torch_state_dict(good)


def test_strict_false_loads_what_is_there_and_skips_the_rest() -> None:
    model = nn.MLP(2, [3, 1], rng=0)
    state = {"0.weight": np.ones((3, 2)), "head.weight": np.zeros(4)}
    from_torch_state_dict(model, state, strict=False)
    assert model.layers[0].w.data.tolist() == np.ones((2, 3)).tolist()
