"""The parts a ``Sequential`` stacks: ``ReLU`` between convolutions passes gradients only where
its input is positive, and a conv-pool-linear stack takes digit-sized images to class scores."""

from __future__ import annotations

import numpy as np

from autonet import Value
from autonet.nn import Conv2d, Flatten, Layer, MaxPool2d, ReLU, Sequential


def test_relu_keeps_the_positive_part_and_its_gradient() -> None:
    x = Value(np.array([[-2.0, 0.5], [3.0, -0.1]]))
    out = ReLU()(x)
    out.sum().backward()
    assert out.tolist() == [[0.0, 0.5], [3.0, 0.0]]
    assert x.grad.tolist() == [[0.0, 1.0], [1.0, 0.0]]
    assert ReLU().parameters() == []


def test_relu_takes_plain_data_and_keeps_its_dtype() -> None:
    out = ReLU()(np.array([-1.0, 2.0], dtype=np.float32))
    assert out.dtype == np.float32 and not out.requires_grad


def test_a_small_cnn_maps_8x8_images_to_ten_scores_with_named_parameters() -> None:
    rng = np.random.default_rng(0)
    model = Sequential(
        Conv2d(1, 4, 3, padding=1, rng=rng),
        ReLU(),
        MaxPool2d(2),
        Conv2d(4, 8, 3, padding=1, rng=rng),
        ReLU(),
        MaxPool2d(2),
        Flatten(),
        Layer(32, 10, activation=None, rng=rng),
    )
    scores = model(rng.random((5, 1, 8, 8)))
    scores.sum().backward()
    assert scores.shape == (5, 10)
    assert [name for name, _ in model.named_parameters()] == [
        "0.weight",
        "0.bias",
        "3.weight",
        "3.bias",
        "7.w",
        "7.b",
    ]
    assert all(p.grad is not None and np.abs(p.grad).sum() > 0 for p in model.parameters())
