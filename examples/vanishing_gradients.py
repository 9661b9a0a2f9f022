"""Vanishing gradients, seen with autonet.monitor: a deep sigmoid MLP against the same MLP with ReLU.

Two MLPs of 8 layers (2-16-...-16-1, a linear output) learn the two moons with the binary
cross-entropy and plain SGD (lr 0.1), from the same seed. A ``Monitor`` records each step's loss
and accuracy and every parameter's gradient norm. The sigmoid's derivative is at most 1/4, so
backward shrinks the gradient at every sigmoid layer: the first layer of the sigmoid network
gets about 1/5000 of the last layer's gradient, learns next to nothing, and the loss stays near
log 2. The ReLU network passes gradients of similar size to every layer, and learns.

    python examples/vanishing_gradients.py [--out DIR] [--steps N] [--depth D] [--seed S]
                                           [--logdir DIR] [--quick]

Writes the Monitor's pictures into DIR (default: the current directory), one folder per network:
``sigmoid/grad_norms.png`` and ``relu/grad_norms.png`` (each parameter's gradient norm over the
steps, log scale, and its last value layer by layer), and ``metrics.png`` (loss and accuracy) in
each; they need matplotlib (``pip install "autonet[plot]"``), and without it the script still
trains and prints. ``--logdir runs`` also writes TensorBoard event files into ``runs/sigmoid``
and ``runs/relu`` (``pip install "autonet[monitor]"``, then ``tensorboard --logdir runs``).
``--quick`` (or AUTONET_EXAMPLE_QUICK=1) trains 30 steps instead of 100.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

from autonet import Value, data, nn, optim
from autonet.monitor import Monitor


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Vanishing gradients: deep sigmoid and ReLU MLPs.")
    parser.add_argument("--out", type=Path, default=Path.cwd(), help="where to write the pictures")
    parser.add_argument("--steps", type=int, default=None, help="full-batch SGD steps (100)")
    parser.add_argument("--depth", type=int, default=8, help="layers in each MLP (8)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the data and the weights (0)")
    parser.add_argument("--logdir", type=Path, default=None, help="also write TensorBoard event files here")
    parser.add_argument(
        "--quick",
        action="store_true",
        default=os.environ.get("AUTONET_EXAMPLE_QUICK") == "1",
        help="30 steps (also AUTONET_EXAMPLE_QUICK=1)",
    )
    args = parser.parse_args(argv)
    if args.steps is None:
        args.steps = 30 if args.quick else 100
    if args.steps < 1:
        parser.error("--steps must be at least 1")
    if args.depth < 2:
        parser.error("--depth must be at least 2 (a first and a last layer)")
    return args


def train(activation: str, args: argparse.Namespace, inputs: np.ndarray, labels: np.ndarray) -> Monitor:
    """Train one MLP with ``activation`` in its hidden layers; return its closed Monitor."""
    model = nn.MLP(2, [16] * (args.depth - 1) + [1], activation=activation, rng=args.seed)
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    batch = Value(inputs, requires_grad=False)
    logdir = None if args.logdir is None else args.logdir / activation
    with Monitor(model, logdir=logdir) as monitor:
        for step in range(args.steps):
            logits = model(batch)[:, 0]
            loss = nn.binary_cross_entropy_with_logits(logits, labels)
            loss.backward()
            accuracy = float(np.mean((logits.data > 0) == (labels > 0)))
            monitor.record(step, loss=loss.item(), accuracy=accuracy)  # after backward, before the step
            optimizer.step()
            optimizer.zero_grad()
    return monitor


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    inputs, labels = data.make_moons(100, noise=0.1, seed=args.seed)
    first, last = "layers.0.w", f"layers.{args.depth - 1}.w"
    print(f"two moons: MLPs of {args.depth} layers (16 wide), SGD lr 0.1, {args.steps} steps")
    monitors = {}
    for activation in ("sigmoid", "relu"):
        try:
            monitor = monitors[activation] = train(activation, args, inputs, labels)
        except ImportError as error:  # --logdir without tensorboardX
            print(f"error: {error}", file=sys.stderr)
            return 2
        history = monitor.history
        (_, first_norm), (_, last_norm) = history[f"grad_norm/{first}"][0], history[f"grad_norm/{last}"][0]
        print(
            f"{activation:>7}: first step gradient norm {first} {first_norm:.1e}, {last} {last_norm:.1e} "
            f"(ratio {first_norm / last_norm:.1e}); final loss {history['loss'][-1][1]:.3f}, "
            f"accuracy {history['accuracy'][-1][1]:.0%}"
        )
    for activation, monitor in monitors.items():
        try:
            title = f"{activation} MLP, {args.depth} layers"
            pictures = monitor.save_plots(args.out / activation, title=title)
        except ImportError:
            print("matplotlib is not installed: no pictures (pip install 'autonet[plot]')")
            break
        for path in pictures:
            print(f"wrote {path}")
    if args.logdir is not None:
        print(f"TensorBoard event files in {args.logdir}: tensorboard --logdir {args.logdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
