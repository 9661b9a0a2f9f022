"""Draw the class-style pictures of docs/visualisation.md with autonet itself.

Run from the repository root:  python docs/make_class_pictures.py [directory]
(by default into docs/img/class/). tests/test_viz_class.py redraws them and fails when a
committed picture is stale.

The networks are the ones the page shows: the classic tutorial's 2-2-1 network built from
three neurons h1, h2 and o1 (every weight 1, every bias 0, x = [-2, -1], target 1, as in
docs/tutorial.md's backpropagation section) and a 2-16-16-1 sigmoid MLP on one sample.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from autonet import Value, nn
from autonet.viz import save_graph

HERE = Path(__file__).resolve().parent / "img" / "class"


class TwoTwoOne(nn.Module):
    """Inputs x1, x2; hidden neurons h1, h2; output neuron o1; sigmoid everywhere."""

    def __init__(self, w: np.ndarray, b: np.ndarray) -> None:
        self.h1 = nn.Neuron(w[0:2], b[0])
        self.h2 = nn.Neuron(w[2:4], b[1])
        self.o1 = nn.Neuron(w[4:6], b[2])

    def forward(self, x: np.ndarray) -> Value:
        return self.o1([self.h1(x), self.h2(x)])


def tutorial_loss() -> Value:
    """The tutorial's network after one forward and backward pass on x = [-2, -1], y = 1."""
    network = TwoTwoOne(w=np.ones(6), b=np.zeros(3))
    loss = nn.mse_loss(network(np.array([-2.0, -1.0])), 1.0)
    loss.label = "loss"
    loss.backward(retain_graph=True)
    return loss


def mlp_loss() -> Value:
    """A 2-16-16-1 sigmoid MLP (seed 0) after one forward and backward pass on one sample."""
    model = nn.MLP(2, [16, 16, 1], activation="sigmoid", output_activation="sigmoid", rng=0)
    loss = nn.mse_loss(model(np.array([[0.2, 0.5]])), [[1.0]])
    loss.label = "loss"
    loss.backward(retain_graph=True)
    return loss


# file name -> (the root to draw, the drawing options)
PICTURES = {
    "class-2-2-1.svg": (tutorial_loss, {"style": "class"}),
    "class-2-16-16-1.svg": (mlp_loss, {"style": "class"}),
    "class-2-2-1-scalars.svg": (tutorial_loss, {"style": "class", "expand": "scalars"}),
}


def make_pictures(directory: Path = HERE, fmt: str = "svg") -> list[Path]:
    """Draw every picture into ``directory`` (as ``fmt``) and return their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (build, options) in PICTURES.items():
        path = directory / Path(name).with_suffix(f".{fmt}").name
        written.append(save_graph(build(), path, **options))
    return written


if __name__ == "__main__":
    for path in make_pictures(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE):
        print(f"wrote {path}")
