"""micrograd's demo: a scalar MLP 2-16-16-1 on 100 two-moons points, hinge loss plus L2.

The network below is micrograd's own Neuron/Layer/MLP, written once and run with either
library's ``Value`` class, so both build exactly the same graph of scalar operations: one
training step is a forward over all 100 points, one backward, and an SGD update.
"""

from __future__ import annotations

import importlib
import itertools
from collections.abc import Callable
from typing import Any

import _harness  # noqa: F401  (pins the thread counts before numpy loads)
import numpy as np

SIZES = (2, 16, 16, 1)
POINTS = 100
LEARNING_RATE = 0.05
ALPHA = 1e-4


class Neuron:
    def __init__(self, value_type: type, weights: list[float], nonlin: bool) -> None:
        self.w = [value_type(w) for w in weights]
        self.b = value_type(0.0)
        self.nonlin = nonlin

    def __call__(self, x: list[Any]) -> Any:
        act = sum((wi * xi for wi, xi in zip(self.w, x, strict=True)), self.b)
        return act.relu() if self.nonlin else act

    def parameters(self) -> list[Any]:
        return [*self.w, self.b]


class Layer:
    def __init__(self, value_type: type, weights: np.ndarray, nonlin: bool) -> None:
        self.neurons = [Neuron(value_type, column.tolist(), nonlin) for column in weights.T]

    def __call__(self, x: list[Any]) -> Any:
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def parameters(self) -> list[Any]:
        return [p for n in self.neurons for p in n.parameters()]


class MLP:
    def __init__(self, value_type: type, weights: list[np.ndarray]) -> None:
        last = len(weights) - 1
        self.layers = [Layer(value_type, w, nonlin=i != last) for i, w in enumerate(weights)]

    def __call__(self, x: list[Any]) -> Any:
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self) -> list[Any]:
        return [p for layer in self.layers for p in layer.parameters()]


def make_moons(count: int, noise: float, seed: int) -> tuple[list[list[float]], list[float]]:
    """autonet's two-moons points as plain Python lists (both frameworks get the very same
    numbers), with the labels -1 and +1 of micrograd's hinge-loss demo."""
    from autonet.data import make_moons as moons

    points, labels = moons(count, noise=noise, seed=seed)
    return points.tolist(), (labels * 2.0 - 1.0).tolist()


def make_step(value_type: type, seed: int) -> Callable[[], float]:
    rng = np.random.default_rng(seed)
    weights = [rng.uniform(-1, 1, (n_in, n_out)) for n_in, n_out in itertools.pairwise(SIZES)]
    model = MLP(value_type, weights)
    params = model.parameters()
    points, labels = make_moons(POINTS, 0.1, seed)

    def step() -> float:
        inputs = [list(map(value_type, row)) for row in points]
        scores = list(map(model, inputs))
        losses = [(1 + -yi * score).relu() for yi, score in zip(labels, scores, strict=True)]
        data_loss = sum(losses) * (1.0 / len(losses))
        reg_loss = ALPHA * sum(p * p for p in params)
        total = data_loss + reg_loss
        for p in params:
            p.grad = 0
        total.backward()
        for p in params:
            p.data -= LEARNING_RATE * p.grad
        return float(total.data)

    return step


def micrograd_step(seed: int) -> Callable[[], float]:
    from micrograd.engine import Value

    return make_step(Value, seed)


def autonet_step(seed: int, package: str = "autonet") -> Callable[[], float]:
    return make_step(importlib.import_module(package).Value, seed)


FRAMEWORKS: dict[str, tuple[Callable[[int], Callable[[], float]], str]] = {
    "micrograd": (micrograd_step, "micrograd"),
    "autonet": (autonet_step, "autonet"),
}
