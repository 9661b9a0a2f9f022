"""Two moons with an MLP and the hinge loss, as in micrograd's demo, with pictures.

An MLP 2-16-16-1 (ReLU hidden layers, a linear output whose sign is the class) learns to separate
two interleaving half circles. The loss is the max-margin (hinge) loss ``relu(1 - y * score)``
with labels y in {-1, +1}; training is full-batch SGD whose learning rate falls from 1.0 to 0.1,
with a little weight decay (micrograd's L2 term), for 100 steps.

    python examples/moons.py [--steps N] [--seed S] [--out DIR] [--quick]

Writes ``moons_boundary.png`` (the decision boundary over the data) and ``moons_loss.png`` (loss
and accuracy per step) into DIR (default: the current directory); they need matplotlib
(``pip install "autonet[plot]"``), and without it the script still trains and prints.
``--quick`` (or AUTONET_EXAMPLE_QUICK=1) trains 40 steps instead of 100.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

from autonet import Value, data, nn, no_grad, optim


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Two moons with an MLP and the hinge loss.")
    parser.add_argument("--steps", type=int, default=None, help="full-batch training steps (100)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the data and the weights (0)")
    parser.add_argument("--out", type=Path, default=Path.cwd(), help="where to write the pictures")
    parser.add_argument(
        "--quick",
        action="store_true",
        default=os.environ.get("AUTONET_EXAMPLE_QUICK") == "1",
        help="40 steps (also AUTONET_EXAMPLE_QUICK=1)",
    )
    args = parser.parse_args(argv)
    if args.steps is None:
        args.steps = 40 if args.quick else 100
    if args.steps < 1:
        parser.error("--steps must be at least 1")
    return args


def accuracy(model: nn.Module, inputs: np.ndarray, signs: np.ndarray) -> float:
    with no_grad():  # evaluation records no graph
        scores = model(inputs).data[:, 0]
    return float(np.mean((scores > 0) == (signs > 0)))


def plot(
    model: nn.Module,
    inputs: np.ndarray,
    signs: np.ndarray,
    history: dict[str, list[float]],
    out: Path,
) -> list[Path]:
    """The decision boundary and the training curves as PNG files; [] without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    low, high = inputs.min(axis=0) - 0.5, inputs.max(axis=0) + 0.5
    xs, ys = np.meshgrid(np.linspace(low[0], high[0], 200), np.linspace(low[1], high[1], 200))
    with no_grad():
        scores = model(np.column_stack([xs.ravel(), ys.ravel()])).data.reshape(xs.shape)

    figure, axis = plt.subplots(figsize=(5.5, 4.5))
    axis.contourf(xs, ys, scores > 0, levels=[-0.5, 0.5, 1.5], colors=["#f6c9a8", "#a8c8f0"], alpha=0.8)
    axis.contour(xs, ys, scores, levels=[0.0], colors="black", linewidths=1.5)
    for sign, color, marker in ((-1, "#c0392b", "o"), (1, "#1f5fa8", "s")):
        chosen = signs == sign
        axis.scatter(
            *inputs[chosen].T, c=color, marker=marker, edgecolors="white", s=30, label=f"y = {sign:+d}"
        )
    axis.set_title(f"MLP 2-16-16-1, hinge loss: accuracy {history['accuracy'][-1]:.0%}")
    axis.legend(loc="lower left")
    figure.tight_layout()
    boundary = out / "moons_boundary.png"
    figure.savefig(boundary, dpi=100)
    plt.close(figure)

    figure, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5))
    steps = range(1, len(history["loss"]) + 1)
    left.plot(steps, history["loss"])
    left.set(xlabel="step", ylabel="hinge loss", title="loss")
    right.plot(steps, history["accuracy"], color="tab:green")
    right.set(xlabel="step", ylabel="accuracy", title="accuracy on the training data", ylim=(0.4, 1.02))
    for axis in (left, right):
        axis.grid(alpha=0.3)
    figure.tight_layout()
    curves = out / "moons_loss.png"
    figure.savefig(curves, dpi=100)
    plt.close(figure)
    return [boundary, curves]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    inputs, labels = data.make_moons(100, noise=0.1, seed=args.seed)
    signs = labels * 2 - 1  # the hinge loss wants -1/+1
    model = nn.MLP(2, [16, 16, 1], rng=args.seed)
    optimizer = optim.SGD(model.parameters(), lr=1.0, weight_decay=1e-4)
    batch = Value(inputs, requires_grad=False)
    print(f"two moons: MLP 2-16-16-1 ({model.num_parameters()} parameters), hinge loss, {args.steps} steps")

    history: dict[str, list[float]] = {"loss": [], "accuracy": []}
    report_every = max(args.steps // 10, 1)
    for step in range(args.steps):
        optimizer.lr = 1.0 - 0.9 * step / args.steps  # learning-rate decay, as in micrograd
        optimizer.zero_grad()
        loss = nn.hinge_loss(model(batch), signs)
        loss.backward()
        optimizer.step()
        history["loss"].append(loss.item())
        history["accuracy"].append(accuracy(model, inputs, signs))
        if (step + 1) % report_every == 0 or step == 0:
            print(f"  step {step + 1:4d}  loss {loss.item():.4f}  accuracy {history['accuracy'][-1]:.0%}")

    final = accuracy(model, inputs, signs)
    print(f"final accuracy: {final:.0%} on {len(inputs)} points")
    args.out.mkdir(parents=True, exist_ok=True)
    pictures = plot(model, inputs, signs, history, args.out)
    if not pictures:
        print("matplotlib is not installed: no pictures (pip install 'autonet[plot]')")
    for path in pictures:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
