"""Draw what autonet recorded: a neuron's expression, a 2-2-1 network, an MLP collapsed by module.

Every op on a Value is recorded, so any forward pass can be drawn with ``autonet.viz``: each
Value with its name, shape, data and (after ``backward(retain_graph=True)``) its gradient, and
each op between them.

    python examples/draw_graph.py [--format svg|png|pdf|dot] [--out DIR] [--quick]

Writes three pictures into DIR (default: the current directory):

- ``neuron_graph``: ``tanh(x1*w1 + x2*w2 + b)``, one neuron written out op by op, with gradients;
- ``network_graph``: the 2-2-1 sigmoid network after one forward and backward pass;
- ``mlp_modules``: an MLP 2-16-16-1 on a batch, each layer drawn as one node (``collapse="modules"``).

Rendering needs Graphviz's ``dot`` program; without it the script writes ``.dot`` source files
instead and says how to install Graphviz. ``--quick`` (or AUTONET_EXAMPLE_QUICK=1) is accepted for
symmetry with the other examples; this one is always quick.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

from autonet import Value, nn
from autonet.viz import FORMATS, GraphvizNotFoundError, save_graph


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Draw autonet graphs with Graphviz.")
    parser.add_argument("--format", choices=FORMATS, default="svg", help="picture format (svg)")
    parser.add_argument("--out", type=Path, default=Path.cwd(), help="where to write the pictures")
    parser.add_argument(
        "--quick",
        action="store_true",
        default=os.environ.get("AUTONET_EXAMPLE_QUICK") == "1",
        help="accepted for symmetry (also AUTONET_EXAMPLE_QUICK=1)",
    )
    return parser.parse_args(argv)


def neuron_expression() -> Value:
    """micrograd's neuron, one op at a time, after backward."""
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")  # chosen so that the output is tanh(0.8814) = 0.7071
    out = (x1 * w1 + x2 * w2 + b).tanh()
    out.label = "out"
    out.backward(retain_graph=True)  # keep the graph so that it can be drawn with its gradients
    return out


def network_loss() -> Value:
    """The 2-2-1 sigmoid network on one sample, squared error against its target, after backward."""
    model = nn.MLP(2, [2, 1], activation="sigmoid", output_activation="sigmoid", rng=0)
    loss = nn.mse_loss(model(np.array([[-2.0, -1.0]])), [[1.0]])
    loss.label = "loss"
    loss.backward(retain_graph=True)
    return loss


def mlp_loss() -> Value:
    """A bigger MLP on a batch: too many ops to read one by one, so it is drawn by module."""
    model = nn.MLP(2, [16, 16, 1], rng=0)
    batch = np.random.default_rng(0).normal(size=(8, 2))
    loss = nn.hinge_loss(model(batch), [1, -1] * 4)
    loss.label = "loss"
    loss.backward(retain_graph=True)
    return loss


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    pictures = [
        ("neuron_graph", neuron_expression(), {"title": "tanh(x1*w1 + x2*w2 + b)"}),
        ("network_graph", network_loss(), {"title": "2-2-1 sigmoid network, squared error"}),
        (
            "mlp_modules",
            mlp_loss(),
            {"title": "MLP 2-16-16-1, hinge loss", "collapse": "modules", "rankdir": "TB"},
        ),
    ]
    file_format = args.format
    for name, root, options in pictures:
        try:
            path = save_graph(root, args.out / f"{name}.{file_format}", **options)
        except GraphvizNotFoundError as error:
            print(f"{error}\nwriting DOT source instead")
            file_format = "dot"
            path = save_graph(root, args.out / f"{name}.dot", **options)
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
