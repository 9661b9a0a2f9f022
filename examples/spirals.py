"""Three spirals with a softmax classifier: a linear one fails, a small MLP succeeds.

The data set of Stanford's CS231n notes: three arms of points winding out from the origin. A
softmax classifier turns each point's three class scores into probabilities and is trained with
the cross-entropy loss (``nn.cross_entropy``, softmax and log-likelihood in one stable op). With
scores linear in the inputs (``nn.Layer(2, 3, activation=None)``) the classes cannot be separated;
with a hidden ReLU layer or two (an MLP 2-32-32-3) they can.

    python examples/spirals.py [--steps N] [--seed S] [--out DIR] [--quick]

Writes ``spirals_boundary.png`` (the class regions of both classifiers) into DIR (default: the
current directory) when matplotlib is installed. ``--quick`` (or AUTONET_EXAMPLE_QUICK=1) trains
100 steps instead of 300.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

from autonet import data, nn, no_grad, optim

COLORS = ["#c0392b", "#1f5fa8", "#27ae60"]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Three spirals with a softmax classifier.")
    parser.add_argument("--steps", type=int, default=None, help="full-batch Adam steps (300)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the data and the weights (0)")
    parser.add_argument("--out", type=Path, default=Path.cwd(), help="where to write the picture")
    parser.add_argument(
        "--quick",
        action="store_true",
        default=os.environ.get("AUTONET_EXAMPLE_QUICK") == "1",
        help="100 steps (also AUTONET_EXAMPLE_QUICK=1)",
    )
    args = parser.parse_args(argv)
    if args.steps is None:
        args.steps = 100 if args.quick else 300
    if args.steps < 1:
        parser.error("--steps must be at least 1")
    return args


def predict(model: nn.Module, inputs: np.ndarray) -> np.ndarray:
    """The most probable class of each point (softmax keeps the order of the scores)."""
    with no_grad():
        return model(inputs).data.argmax(axis=1)


def train(model: nn.Module, inputs: np.ndarray, labels: np.ndarray, steps: int) -> float:
    """Full-batch Adam on the cross-entropy; returns the final loss."""
    optimizer = optim.Adam(model.parameters(), lr=0.01)
    for _ in range(steps):
        optimizer.zero_grad()
        loss = nn.cross_entropy(model(inputs), labels)
        loss.backward()
        optimizer.step()
    return loss.item()


def plot(models: dict[str, nn.Module], inputs: np.ndarray, labels: np.ndarray, path: Path) -> Path | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.colors import ListedColormap
    except ImportError:
        return None
    xs, ys = np.meshgrid(np.linspace(-1.2, 1.2, 200), np.linspace(-1.2, 1.2, 200))
    grid = np.column_stack([xs.ravel(), ys.ravel()])
    figure, axes = plt.subplots(1, len(models), figsize=(5 * len(models), 4.6))
    for axis, (title, model) in zip(axes, models.items(), strict=True):
        regions = predict(model, grid).reshape(xs.shape)
        axis.contourf(xs, ys, regions, levels=[-0.5, 0.5, 1.5, 2.5], cmap=ListedColormap(COLORS), alpha=0.3)
        for label, color in enumerate(COLORS):
            axis.scatter(*inputs[labels == label].T, c=color, s=12, label=f"class {label}")
        right = np.mean(predict(model, inputs) == labels)
        axis.set_title(f"{title}: accuracy {right:.0%}")
        axis.set_aspect("equal")
    axes[0].legend(loc="lower left", fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    inputs, labels = data.make_spirals(100, classes=3, seed=args.seed)
    models = {
        "linear softmax": nn.Layer(2, 3, activation=None, rng=args.seed),
        "MLP 2-32-32-3": nn.MLP(2, [32, 32, 3], rng=args.seed),
    }
    print(f"three spirals: {len(inputs)} points, cross-entropy, Adam at lr 0.01, {args.steps} steps")
    for name, model in models.items():
        loss = train(model, inputs, labels, args.steps)
        right = np.mean(predict(model, inputs) == labels)
        print(f"{name}: loss {loss:.4f}, accuracy {right:.0%}")

    args.out.mkdir(parents=True, exist_ok=True)
    picture = plot(models, inputs, labels, args.out / "spirals_boundary.png")
    print("matplotlib is not installed: no picture" if picture is None else f"wrote {picture}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
