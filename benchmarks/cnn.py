"""A small CNN training step on digits-sized images: autonet against PyTorch (CPU, one thread).

The batch is 64 images of 1 x 8 x 8 (the size of scikit-learn's digits), float32. The network:
conv 1->16 3x3 pad 1, relu, max pool 2, conv 16->32 3x3 pad 1, relu, max pool 2, flatten,
linear 32*2*2 -> 10, softmax cross-entropy, then one plain SGD step. Both frameworks start from
the same weights (drawn here with numpy, in PyTorch's layouts) and see the same batch; their
first losses must agree before anything is timed, and their last ones after the run.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

import _harness  # noqa: F401  (pins the thread counts before numpy loads)
import numpy as np

BATCH = 64
SIZE = 8
CLASSES = 10
LEARNING_RATE = 0.05
DTYPE = np.dtype(np.float32)
TITLE = (
    f"CNN on {BATCH} digits-sized images 1x{SIZE}x{SIZE}, float32: conv 1->16 3x3, relu, max pool 2, "
    "conv 16->32 3x3, relu, max pool 2, linear 128->10, cross-entropy, SGD"
)


def make_data(seed: int) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Weights under PyTorch's names and layouts (its default uniform ranges), a batch, labels."""
    rng = np.random.default_rng(seed)
    weights = {}
    for name, shape in (
        ("conv1", (16, 1, 3, 3)),
        ("conv2", (32, 16, 3, 3)),
        ("fc", (CLASSES, 32 * 2 * 2)),
    ):
        bound = 1.0 / np.sqrt(np.prod(shape[1:]))
        weights[f"{name}.weight"] = rng.uniform(-bound, bound, shape).astype(DTYPE)
        weights[f"{name}.bias"] = rng.uniform(-bound, bound, shape[0]).astype(DTYPE)
    x = rng.uniform(0.0, 1.0, (BATCH, 1, SIZE, SIZE)).astype(DTYPE)
    labels = rng.integers(0, CLASSES, BATCH)
    return weights, x, labels


def autonet_step(seed: int, package: str = "autonet") -> Callable[[], float]:
    """The network as an ``autonet.nn`` Module (Conv2d, MaxPool2d, Flatten, Layer), ``optim.SGD``."""
    autonet = importlib.import_module(package)
    nn = importlib.import_module(f"{package}.nn")
    optim = importlib.import_module(f"{package}.optim")

    class CNN(nn.Module):
        def __init__(self) -> None:
            self.conv1 = nn.Conv2d(1, 16, 3, padding=1, dtype=DTYPE)
            self.pool1 = nn.MaxPool2d(2)
            self.conv2 = nn.Conv2d(16, 32, 3, padding=1, dtype=DTYPE)
            self.pool2 = nn.MaxPool2d(2)
            self.flatten = nn.Flatten()
            self.fc = nn.Layer(32 * 2 * 2, CLASSES, activation=None, dtype=DTYPE)

        def forward(self, x):
            x = self.pool1(self.conv1(x).relu())
            x = self.pool2(self.conv2(x).relu())
            return self.fc(self.flatten(x))

    weights, x, labels = make_data(seed)
    model = CNN()
    for name in ("conv1", "conv2"):
        getattr(model, name).weight.data = weights[f"{name}.weight"].copy()
        getattr(model, name).bias.data = weights[f"{name}.bias"].copy()
    model.fc.w.data = weights["fc.weight"].T.copy()  # a Layer's weight is (in, out)
    model.fc.b.data = weights["fc.bias"].copy()
    inputs = autonet.Value(x, requires_grad=False)
    optimizer = optim.SGD(model.parameters(), lr=LEARNING_RATE)

    def step() -> float:
        optimizer.zero_grad()
        loss = nn.cross_entropy(model(inputs), labels)
        loss.backward()
        optimizer.step()
        return loss.item()

    return step


def torch_step(seed: int) -> Callable[[], float]:
    """The same network as ``torch.nn.Sequential``, ``F.cross_entropy`` and ``torch.optim.SGD``."""
    import torch
    from torch import nn

    torch.set_num_threads(1)
    weights, x, labels = make_data(seed)
    model = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(32 * 2 * 2, CLASSES),
    )
    parts = {"conv1": "0", "conv2": "3", "fc": "7"}  # where each layer sits in the Sequential
    state = {}
    for name, array in weights.items():
        layer, kind = name.split(".")
        state[f"{parts[layer]}.{kind}"] = torch.from_numpy(array.copy())
    model.load_state_dict(state)
    inputs = torch.from_numpy(x)
    targets = torch.from_numpy(labels)
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)

    def step() -> float:
        optimizer.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(model(inputs), targets)
        loss.backward()
        optimizer.step()
        return loss.item()

    return step


FRAMEWORKS: dict[str, tuple[Callable[..., Callable[[], float]], str | None, bool]] = {
    # name: (builder, module that must import, whether tracemalloc sees its memory); the first
    # entry is the reference of the ratios.
    "PyTorch": (torch_step, "torch", False),
    "autonet (nn)": (autonet_step, "autonet.nn", True),
}
