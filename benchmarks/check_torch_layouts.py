"""Check autonet.export's PyTorch layouts against PyTorch itself: python benchmarks/check_torch_layouts.py

For an MLP, the digits CNN of examples/digits_cnn.py, an LSTM model (an LSTM and a readout
Layer in a module of one's own) and a model of the other converted layers (Conv1d, BatchNorm1d
with running statistics, LayerNorm, a Neuron; GRU and Embedding), this builds the matching
torch modules and checks both ways, in float64 and in evaluation mode:

- autonet -> torch: ``to_torch_state_dict`` loads into the torch module with ``strict=True``,
  and the torch module's outputs equal autonet's;
- torch -> autonet: a freshly initialised torch module's ``state_dict()`` (tensors as they
  are) loads with ``from_torch_state_dict`` into an autonet model of other weights, whose
  outputs then equal torch's.

It prints the largest absolute difference of each and exits with status 1 if any exceeds the
tolerance. It needs PyTorch; the test suite never imports it.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autonet import Value, nn, no_grad  # noqa: E402
from autonet.export import from_torch_state_dict, to_torch_state_dict  # noqa: E402

TOLERANCE = 1e-10


def _digits_cnn(rng: np.random.Generator) -> nn.Sequential:
    spec = importlib.util.spec_from_file_location("digits_cnn", ROOT / "examples" / "digits_cnn.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.digits_cnn(rng)


class SequenceModel(nn.Module):
    """An LSTM over (N, L, 3) and a linear readout of every step."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.lstm = nn.LSTM(3, 16, num_layers=2, batch_first=True, rng=rng)
        self.readout = nn.Layer(16, 2, activation=None, rng=rng)

    def forward(self, x: np.ndarray) -> Value:
        output, _ = self.lstm(x)
        return self.readout(output)


class Mixed(nn.Module):
    """The other converted layers: an embedding into a GRU, and a Conv1d, BatchNorm1d, LayerNorm
    and Neuron over its output."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.embed = nn.Embedding(12, 4, rng=rng)
        self.gru = nn.GRU(4, 6, batch_first=True, rng=rng)
        self.conv = nn.Conv1d(6, 5, 3, padding=1, rng=rng)
        self.norm = nn.BatchNorm1d(5)
        self.layer_norm = nn.LayerNorm(5)
        self.neuron = nn.Neuron(5, activation="tanh", rng=rng)

    def forward(self, indices: np.ndarray) -> Value:
        output, _ = self.gru(self.embed(indices))  # (N, L, 6)
        features = self.norm(self.conv(output.swapaxes(1, 2))).relu()  # (N, 5, L)
        return self.neuron(self.layer_norm(features.swapaxes(1, 2)))  # (N, L)


def torch_models(torch):
    tnn = torch.nn

    class TorchSequenceModel(tnn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lstm = tnn.LSTM(3, 16, num_layers=2, batch_first=True)
            self.readout = tnn.Linear(16, 2)

        def forward(self, x):
            return self.readout(self.lstm(x)[0])

    class TorchMixed(tnn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = tnn.Embedding(12, 4)
            self.gru = tnn.GRU(4, 6, batch_first=True)
            self.conv = tnn.Conv1d(6, 5, 3, padding=1)
            self.norm = tnn.BatchNorm1d(5)
            self.layer_norm = tnn.LayerNorm(5)
            self.neuron = tnn.Linear(5, 1)

        def forward(self, indices):
            output = self.gru(self.embed(indices))[0]
            features = torch.relu(self.norm(self.conv(output.transpose(1, 2))))
            return torch.tanh(self.neuron(self.layer_norm(features.transpose(1, 2))))[..., 0]

    rng = np.random.default_rng(0)
    return [
        (
            "MLP(2, [16, 16, 1])",
            lambda r: nn.MLP(2, [16, 16, 1], rng=r),
            lambda: tnn.Sequential(
                tnn.Linear(2, 16), tnn.ReLU(), tnn.Linear(16, 16), tnn.ReLU(), tnn.Linear(16, 1)
            ),
            rng.normal(size=(32, 2)),
        ),
        (
            "digits CNN",
            _digits_cnn,
            lambda: tnn.Sequential(
                tnn.Conv2d(1, 32, 3, padding=1),
                tnn.ReLU(),
                tnn.MaxPool2d(2),
                tnn.Conv2d(32, 64, 3, padding=1),
                tnn.ReLU(),
                tnn.MaxPool2d(2),
                tnn.Flatten(),
                tnn.Linear(256, 10),
            ),
            rng.random((16, 1, 8, 8)),
        ),
        ("LSTM model", SequenceModel, TorchSequenceModel, rng.normal(size=(8, 7, 3))),
        (
            "Embedding, GRU, Conv1d, BatchNorm1d, LayerNorm, Neuron",
            Mixed,
            TorchMixed,
            rng.integers(0, 12, (8, 9)),
        ),
    ]


def _warm_up_statistics(ours: nn.Module, x: np.ndarray) -> None:
    """A few training batches, so that batch norms' running statistics are not their start values."""
    if any(isinstance(m, nn.BatchNorm1d) for _, m in ours.named_modules()):
        for seed in range(3):
            ours(np.random.default_rng(seed).integers(0, 12, x.shape) if x.dtype.kind == "i" else x)


def main() -> int:
    import torch

    torch.set_default_dtype(torch.float64)
    worst = 0.0
    for name, build, build_torch, x in torch_models(torch):
        tx = torch.from_numpy(x)
        # autonet -> torch
        ours = build(np.random.default_rng(1))
        _warm_up_statistics(ours, x)
        ours.eval()
        theirs = build_torch().eval()
        theirs.load_state_dict(
            {k: torch.from_numpy(v) for k, v in to_torch_state_dict(ours).items()}, strict=True
        )
        with no_grad(), torch.no_grad():
            forth = float(np.abs(ours(x).data - theirs(tx).numpy()).max())
        # torch -> autonet
        theirs = build_torch()
        theirs.train()
        with torch.no_grad():
            for seed in range(3):  # running statistics that are not their start values
                theirs(
                    torch.from_numpy(np.random.default_rng(seed).integers(0, 12, x.shape))
                    if x.dtype.kind == "i"
                    else tx
                )
        theirs.eval()
        ours = from_torch_state_dict(build(np.random.default_rng(2)), theirs.state_dict()).eval()
        with no_grad(), torch.no_grad():
            back = float(np.abs(ours(x).data - theirs(tx).numpy()).max())
        print(f"{name:<55} autonet -> torch {forth:.2e}   torch -> autonet {back:.2e}")
        worst = max(worst, forth, back)
    print(f"largest difference {worst:.2e} (tolerance {TOLERANCE:.0e})")
    return 0 if worst <= TOLERANCE else 1


if __name__ == "__main__":
    sys.exit(main())
