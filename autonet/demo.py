"""The small trainings of ``python -m autonet demo``, as functions that return their runs.

1. XOR with the classic tutorial's 2-2-1 sigmoid network: mean squared error, one sample at a
   time, 1000 epochs, gradient descent at learning rate 0.1: the classic settings, and beside
   them a better choice, the same learning rate with momentum 0.9.
2. Two moons with an MLP 2-16-16-1: hinge loss (micrograd's demo), Adam, full batch.

The command (``autonet.cli.demo``) shows the loss as it falls and the final accuracy; the
functions here only train and report, so tests and docs can use them too.

With the classic settings the XOR network escapes the plateau where it predicts 0.5 for
everything from only about one initialisation in eight within 1000 epochs (13 of seeds 0-99);
with momentum 0.9, from about five in six (42 of seeds 0-49). ``xor_seed_sweep`` trains one
network per seed at once, so the demo measures that in front of the user instead of hiding it
behind one lucky seed (``XOR_SEED``, kept for the tests and docs that start from it).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import data, nn, optim
from ._state import no_grad
from .engine import Value

__all__ = [
    "XOR_MOMENTUM",
    "XOR_SEED",
    "TrainingRun",
    "XorSweep",
    "train_moons",
    "train_xor",
    "xor_seed_sweep",
]

XOR_SEED = 4
"""An initialisation seed for which the classic XOR settings (lr 0.1, 1000 epochs) converge."""

XOR_MOMENTUM = 0.9
"""The demo's better choice for XOR: the classic learning rate, with this momentum."""

Progress = Callable[[int, int, float], None]


@dataclass
class TrainingRun:
    """What a demo training run returns: the model, its loss per epoch (or step), the final
    accuracy on the training data (a fraction) and the wall-clock seconds spent training."""

    model: nn.Module
    losses: list[float]
    accuracy: float
    seconds: float


def _xor_network(seed: int) -> nn.MLP:
    return nn.MLP(2, [2, 1], activation="sigmoid", output_activation="sigmoid", init="normal", rng=seed)


def train_xor(
    epochs: int = 1000,
    lr: float = 0.1,
    seed: int = XOR_SEED,
    progress: Progress | None = None,
    momentum: float = 0.0,
) -> TrainingRun:
    """Train the 2-2-1 sigmoid network on XOR as the classic tutorial does: squared error of one
    sample at a time, gradient descent (plain, or with ``momentum``), weights drawn from a
    standard normal.

    ``progress(epoch, epochs, mean_loss)`` is called after every epoch.

    >>> run = train_xor(epochs=5)
    >>> len(run.losses), 0 <= run.accuracy <= 1
    (5, True)
    """
    inputs, targets = data.xor()
    model = _xor_network(seed)
    optimizer = optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    samples = [(Value(x, requires_grad=False), float(y)) for x, y in zip(inputs, targets, strict=True)]
    losses = []
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        total = 0.0
        for x, y in samples:
            optimizer.zero_grad()
            loss = nn.mse_loss(model(x), y)
            loss.backward()
            optimizer.step()
            total += loss.item()
        losses.append(total / len(samples))
        if progress is not None:
            progress(epoch, epochs, losses[-1])
    seconds = time.perf_counter() - start
    outputs = model(inputs).data[:, 0]
    accuracy = float(np.mean((outputs > 0.5) == (targets > 0.5)))
    return TrainingRun(model, losses, accuracy, seconds)


@dataclass
class XorSweep:
    """What ``xor_seed_sweep`` returns: per seed (in the order given) the network's outputs on the
    four XOR cases and its accuracy there, the mean squared error of every network after each
    epoch (shape (epochs, seeds)), and the wall-clock seconds spent training."""

    seeds: list[int]
    outputs: np.ndarray
    accuracies: np.ndarray
    losses: np.ndarray
    seconds: float


def xor_seed_sweep(
    seeds: Sequence[int],
    epochs: int = 1000,
    lr: float = 0.1,
    momentum: float = 0.0,
    progress: Progress | None = None,
) -> XorSweep:
    """``train_xor`` for every seed at once: the networks side by side in one graph (weights of
    shape (seeds, ...), each from ``train_xor``'s initialisation for its seed). The loss is the
    sum of the networks' losses, so each network gets exactly its own gradient and learns as it
    would alone. ``progress(epoch, epochs, loss)`` gets the first seed's mean loss.

    >>> sweep = xor_seed_sweep([0, 4], epochs=3)
    >>> sweep.outputs.shape, sweep.losses.shape
    ((2, 4), (3, 2))
    """
    inputs, targets = data.xor()
    networks = [_xor_network(seed).parameters() for seed in seeds]
    stacked = zip(*networks, strict=True)  # every network's hidden weights, then biases, ...
    hidden_w, hidden_b, out_w, out_b = (Value(np.stack([p.data for p in group])) for group in stacked)
    optimizer = optim.SGD([hidden_w, hidden_b, out_w, out_b], lr=lr, momentum=momentum)

    def outputs(x: np.ndarray) -> Value:
        # x @ W for every network's own W: a broadcast product summed over the inputs.
        hidden = ((x[..., :, None] * hidden_w).sum(axis=-2) + hidden_b).sigmoid()
        return ((hidden[..., :, None] * out_w).sum(axis=-2) + out_b).sigmoid()[..., 0]

    losses = np.zeros((epochs, len(networks)))
    start = time.perf_counter()
    for epoch in range(epochs):
        for x, y in zip(inputs, targets, strict=True):
            optimizer.zero_grad()
            errors = (outputs(x) - y) ** 2
            errors.sum().backward()
            optimizer.step()
            losses[epoch] += errors.data / len(inputs)
        if progress is not None:
            progress(epoch + 1, epochs, float(losses[epoch, 0]))
    seconds = time.perf_counter() - start
    with no_grad():
        final = np.stack([outputs(x).data for x in inputs], axis=1)
    accuracies = np.mean((final > 0.5) == (targets > 0.5), axis=1)
    return XorSweep(list(seeds), final, accuracies, losses, seconds)


def train_moons(
    steps: int = 100, seed: int = 0, n: int = 100, lr: float = 0.05, progress: Progress | None = None
) -> TrainingRun:
    """Train an MLP 2-16-16-1 on ``n`` two-moons points with the hinge loss (labels -1/+1) and
    Adam, one full batch per step. ``progress(step, steps, loss)`` is called after every step.

    >>> run = train_moons(steps=3)
    >>> len(run.losses), 0 <= run.accuracy <= 1
    (3, True)
    """
    inputs, labels = data.make_moons(n, noise=0.1, seed=seed)
    signs = labels * 2 - 1
    model = nn.MLP(2, [16, 16, 1], rng=seed)
    optimizer = optim.Adam(model.parameters(), lr=lr)
    batch = Value(inputs, requires_grad=False)
    losses = []
    start = time.perf_counter()
    for step in range(1, steps + 1):
        optimizer.zero_grad()
        loss = nn.hinge_loss(model(batch), signs)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if progress is not None:
            progress(step, steps, losses[-1])
    seconds = time.perf_counter() - start
    accuracy = float(np.mean((model(inputs).data[:, 0] > 0) == (signs > 0)))
    return TrainingRun(model, losses, accuracy, seconds)


def __getattr__(name: str) -> Any:
    """Names that moved away, still reachable for a while with a ``DeprecationWarning``."""
    if name == "run_demo":
        warnings.warn(
            "autonet.demo.run_demo moved to autonet.cli.demo.run_demo; import it from there "
            "(this alias will be removed)",
            DeprecationWarning,
            stacklevel=2,
        )
        # The command sits above the training code; only this deprecated alias reaches up to it.
        from .cli.demo import run_demo

        return run_demo
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
