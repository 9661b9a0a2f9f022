"""XOR with the classic tutorial's 2-2-1 network, trained by autonet's backward().

Two inputs, two hidden sigmoid neurons h1 and h2, one sigmoid output o1: the network of the
classic "neural networks from scratch" tutorial, written with three ``autonet.nn.Neuron`` objects.
It learns XOR ([0,0]->0, [0,1]->1, [1,0]->1, [1,1]->0) from the mean squared error, one sample at
a time (stochastic gradient descent). Where the tutorial derives every partial derivative by hand,
``loss.backward()`` computes them here.

    python examples/xor.py [--epochs N] [--lr LR] [--seed S] [--out DIR] [--quick]

The classic learning rate 0.1 needs several thousand epochs on XOR; 1.0 gets there in a few
hundred. Some initialisations end in a local minimum where one input pair stays near 0.5 (try
``--seed 0``); the default seed is one that trains. ``--quick`` (or AUTONET_EXAMPLE_QUICK=1)
trains 300 epochs instead of 1000. Writes ``xor_loss.png`` (the loss per epoch) into DIR (default:
the current directory) when matplotlib is installed.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

from autonet import Value, data, nn, optim


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="XOR with a 2-2-1 sigmoid network.")
    parser.add_argument("--epochs", type=int, default=None, help="passes over the four samples (1000)")
    parser.add_argument("--lr", type=float, default=1.0, help="learning rate (1.0)")
    parser.add_argument("--seed", type=int, default=3, help="seed of the initial weights (3)")
    parser.add_argument("--out", type=Path, default=Path.cwd(), help="where to write the picture")
    parser.add_argument(
        "--quick",
        action="store_true",
        default=os.environ.get("AUTONET_EXAMPLE_QUICK") == "1",
        help="300 epochs (also AUTONET_EXAMPLE_QUICK=1)",
    )
    args = parser.parse_args(argv)
    if args.epochs is None:
        args.epochs = 300 if args.quick else 1000
    if args.epochs < 1:
        parser.error("--epochs must be at least 1")
    return args


class TwoTwoOne(nn.Module):
    """h1 and h2 see both inputs; o1 sees h1 and h2. Weights and biases from a standard normal."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.h1 = nn.Neuron(rng.normal(size=2), rng.normal())
        self.h2 = nn.Neuron(rng.normal(size=2), rng.normal())
        self.o1 = nn.Neuron(rng.normal(size=2), rng.normal())

    def forward(self, x: np.ndarray) -> Value:
        return self.o1([self.h1(x), self.h2(x)])


def plot_losses(losses: list[float], path: Path) -> Path | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    figure, axis = plt.subplots(figsize=(5.5, 3.5))
    axis.plot(range(1, len(losses) + 1), losses)
    axis.set_xlabel("epoch")
    axis.set_ylabel("mean squared error")
    axis.set_title("XOR, 2-2-1 sigmoid network")
    axis.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    inputs, targets = data.xor()
    network = TwoTwoOne(np.random.default_rng(args.seed))
    optimizer = optim.SGD(network.parameters(), lr=args.lr)
    print(f"XOR, 2-2-1 sigmoid network: lr {args.lr}, {args.epochs} epochs, seed {args.seed}")

    losses = []
    report_every = max(args.epochs // 10, 1)
    for epoch in range(1, args.epochs + 1):
        total = 0.0
        for x, target in zip(inputs, targets, strict=True):
            optimizer.zero_grad()
            loss = nn.mse_loss(network(x), target)
            loss.backward()  # every partial derivative d loss / d (w1 ... w6, b1 ... b3)
            optimizer.step()  # w <- w - lr * d loss / d w
            total += loss.item()
        losses.append(total / len(inputs))
        if epoch % report_every == 0 or epoch == 1:
            print(f"  epoch {epoch:5d}  loss {losses[-1]:.4f}")

    outputs = np.array([network(x).item() for x in inputs])
    for x, target, output in zip(inputs, targets, outputs, strict=True):
        print(f"  {x.astype(int).tolist()} -> {output:.3f}  (target {int(target)})")
    correct = int(np.sum((outputs > 0.5) == (targets > 0.5)))
    print(f"accuracy: {correct / len(targets):.0%} ({correct}/{len(targets)}), final loss {losses[-1]:.4f}")

    args.out.mkdir(parents=True, exist_ok=True)
    picture = plot_losses(losses, args.out / "xor_loss.png")
    print("matplotlib is not installed: no picture" if picture is None else f"wrote {picture}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
