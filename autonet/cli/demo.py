"""``python -m autonet demo [xor-moons | digits]``: train small networks in front of the user.

``xor-moons`` (the default, what ``demo`` alone runs):

1. XOR with the classic tutorial's 2-2-1 sigmoid network: mean squared error, one sample at a
   time, 1000 epochs, twenty initialisations side by side, first with the classic settings
   (gradient descent at learning rate 0.1), then with momentum 0.9: how many learn XOR, and
   the outputs of the first one, so that "hyperparameters matter" is seen.
2. Two moons with an MLP 2-16-16-1: hinge loss (micrograd's demo), Adam, full batch.

``digits``: a small convolutional network (conv, pool, conv, pool, linear) on scikit-learn's
8x8 digits, Adam on minibatches, scored on held-out test digits (needs scikit-learn).

The loss is shown as it falls (one line rewritten in place on a terminal, a few lines
otherwise), then the final accuracy and the training time. The training itself is library
code, ``autonet.demo.xor_seed_sweep``, ``train_moons`` and ``train_digits_cnn``; this module only
shows it.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import TextIO

import numpy as np

from .. import data, nn
from ..demo import DIGITS_EPOCHS, XOR_MOMENTUM, train_digits_cnn, train_moons, xor_seed_sweep

__all__ = ["NETWORKS", "add_command", "run_demo"]

NETWORKS = ("xor-moons", "digits")
"""What ``demo`` can train, the default first."""


def add_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """Add ``demo`` and its options to ``commands`` (what ``ArgumentParser.add_subparsers`` returns).

    >>> parser = argparse.ArgumentParser()
    >>> _ = add_command(parser.add_subparsers())
    >>> parser.parse_args(["demo", "--steps", "3"]).steps
    3
    """
    demo = commands.add_parser(
        "demo",
        help="train small networks (XOR and moons, or a CNN on digits), showing the loss as it falls",
    )
    demo.add_argument(
        "network",
        nargs="?",
        choices=NETWORKS,
        default=NETWORKS[0],
        help="xor-moons: the XOR network, then a moons MLP (the default); "
        "digits: a small CNN on scikit-learn's 8x8 digits",
    )
    demo.add_argument(
        "--epochs",
        type=int,
        default=None,
        help=f"XOR epochs (default 1000), or digits epochs ({DIGITS_EPOCHS})",
    )
    demo.add_argument("--steps", type=int, default=None, help="moons training steps (default 100)")
    demo.add_argument(
        "--seed",
        type=int,
        default=0,
        help="random seed (the first XOR seed and the moons data and weights, or the digits CNN's weights)",
    )
    demo.add_argument("--quiet", action="store_true", help="print only the final results")
    demo.set_defaults(handler=run_demo)
    return demo


class _ProgressLine:
    """Shows the loss as training goes: one line rewritten in place on a terminal, or about
    ``lines`` separate lines when the output is a file or a pipe."""

    def __init__(self, stream: TextIO, what: str, lines: int = 10) -> None:
        self.stream = stream
        self.what = what
        self.lines = lines
        self.live = bool(getattr(stream, "isatty", lambda: False)())
        self.last_draw = 0.0

    def __call__(self, done: int, total: int, loss: float) -> None:
        text = f"  {self.what} {done:>{len(str(total))}}/{total}  loss {loss:.6f}  {self._bar(done, total)}"
        if self.live:
            now = time.perf_counter()
            # Redrawing more often than 20 times a second only costs time the training needs.
            if done == total or now - self.last_draw >= 0.05:
                self.last_draw = now
                self.stream.write("\r" + text)
                if done == total:
                    self.stream.write("\n")
                self.stream.flush()
        elif done == 1 or done == total or done % max(total // self.lines, 1) == 0:
            self.stream.write(text + "\n")

    @staticmethod
    def _bar(done: int, total: int, width: int = 24) -> str:
        filled = round(width * done / total)
        return "[" + "#" * filled + "." * (width - filled) + "]"


def _boundary_picture(
    model: nn.Module, inputs: np.ndarray, labels: np.ndarray, width: int = 60, height: int = 18
) -> str:
    """The plane as text: the model's two regions as ' ' and '.', the points as 'o' and 'x'."""
    low, high = inputs.min(axis=0) - 0.25, inputs.max(axis=0) + 0.25
    xs = np.linspace(low[0], high[0], width)
    ys = np.linspace(high[1], low[1], height)
    grid = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)
    scores = model(grid).data.reshape(height, width)
    canvas = np.where(scores > 0, ".", " ").astype("<U1")
    columns = np.clip(
        np.round((inputs[:, 0] - low[0]) / (high[0] - low[0]) * (width - 1)), 0, width - 1
    ).astype(int)
    rows = np.clip(
        np.round((high[1] - inputs[:, 1]) / (high[1] - low[1]) * (height - 1)), 0, height - 1
    ).astype(int)
    canvas[rows, columns] = np.where(labels > 0, "x", "o")
    return "\n".join("    |" + "".join(row) + "|" for row in canvas)


def _positive(value: int | None, default: int, option: str) -> int:
    if value is None:
        return default
    if value < 1:
        raise ValueError(f"demo: {option} must be at least 1, got {value}")
    return value


Say = Callable[..., None]


XOR_SEEDS = 20
"""How many initialisations the demo's XOR comparison trains for each setting."""


def _show_xor(epochs: int, seed: int, say: Say, out: TextIO, quiet: bool) -> None:
    seeds = list(range(seed, seed + XOR_SEEDS))
    say("1. XOR with a 2-2-1 sigmoid network (the classic tutorial)")
    say(f"   mean squared error, one sample at a time, {epochs} epochs, weights from a standard normal;")
    say(f"   {XOR_SEEDS} networks at once, seeds {seeds[0]}-{seeds[-1]}; the loss shown is seed {seed}'s")
    settings = {
        "classic": ("plain gradient descent at lr 0.1 (the classic settings)", 0.0),
        "momentum": (f"the same lr 0.1 with momentum {XOR_MOMENTUM} (a better choice)", XOR_MOMENTUM),
    }
    sweeps = {}
    for name, (words, momentum) in settings.items():
        say(f"   {name}: {words}")
        progress = None if quiet else _ProgressLine(out, "epoch")
        sweeps[name] = xor_seed_sweep(seeds, epochs, lr=0.1, momentum=momentum, progress=progress)
    inputs, targets = data.xor()
    say(f"   seed {seed}:  input   target   classic   momentum")
    for case, (x, target) in enumerate(zip(inputs, targets, strict=True)):
        cells = "".join(f"   {sweeps[name].outputs[0, case]:7.3f}" for name in settings)
        say(f"            {x.astype(int).tolist()}   {int(target)}     {cells}")
    for name, sweep in sweeps.items():
        learned = int(np.sum(sweep.accuracies == 1.0))
        out.write(
            f"XOR {name}: seed {seed} accuracy {sweep.accuracies[0]:.0%} "
            f"({round(sweep.accuracies[0] * 4)}/4), learned by {learned}/{XOR_SEEDS} seeds, "
            f"{epochs} epochs in {sweep.seconds:.2f} s\n"
        )
    say("   hyperparameters matter: the same network and data, one setting changed")


def _show_moons(steps: int, seed: int, say: Say, out: TextIO, quiet: bool) -> None:
    say("2. Two moons with an MLP 2-16-16-1 (micrograd's demo)")
    say(f"   hinge loss, Adam at lr 0.05, full batch of 100 points, {steps} steps, seed {seed}")
    moons = train_moons(steps, seed=seed, progress=None if quiet else _ProgressLine(out, "step"))
    points, labels = data.make_moons(100, noise=0.1, seed=seed)
    say(_boundary_picture(moons.model, points, labels))
    out.write(
        f"moons: accuracy {moons.accuracy:.0%} ({round(moons.accuracy * 100)}/100), "
        f"final loss {moons.losses[-1]:.4f}, {steps} steps in {moons.seconds:.2f} s\n"
    )


def _show_digits(epochs: int, seed: int, say: Say, out: TextIO, quiet: bool) -> None:
    say("A small convolutional network on scikit-learn's 8x8 handwritten digits")
    say("   conv 3x3 (32 channels), relu, max pool 2, conv 3x3 (64), relu, max pool 2, linear 256 -> 10")
    say("   1437 training and 360 test digits, cross-entropy, Adam at lr 0.005 falling along a cosine,")
    say(f"   batches of 64, {epochs} epochs, weights and batch order from seed {seed}")
    digits = train_digits_cnn(epochs, seed=seed, progress=None if quiet else _ProgressLine(out, "step"))
    out.write(
        f"digits: test accuracy {digits.accuracy:.1%} ({round(digits.accuracy * 360)}/360), "
        f"final loss {digits.losses[-1]:.4f}, {epochs} epochs in {digits.seconds:.1f} s\n"
    )


def run_demo(args: argparse.Namespace | None = None, stream: TextIO | None = None) -> int:
    """Train the XOR network and a moons MLP (or, with ``network="digits"``, a CNN on the
    digits), printing the loss as it falls and the final accuracies to ``stream`` (default
    stdout); returns the exit status (0; 2 for an invalid option; 1 when the digits need
    scikit-learn and it is missing).

    ``args`` carries ``network`` (one of ``NETWORKS``, default ``"xor-moons"``), ``epochs`` (XOR,
    default 1000; digits, default ``autonet.demo.DIGITS_EPOCHS``), ``steps`` (moons, default 100),
    ``seed`` (the first of the XOR seeds and the moons data and weights, or the digits CNN's
    weights and batch order; default 0) and ``quiet`` (print only the results).

    >>> import argparse, io
    >>> out = io.StringIO()
    >>> run_demo(argparse.Namespace(epochs=2, steps=2, seed=0, quiet=True), stream=out)
    0
    >>> "accuracy" in out.getvalue()
    True
    """
    out = sys.stdout if stream is None else stream
    args = args if args is not None else argparse.Namespace()
    quiet = bool(getattr(args, "quiet", False))
    seed = getattr(args, "seed", 0) or 0
    network = getattr(args, "network", None) or NETWORKS[0]
    try:
        if network not in NETWORKS:
            raise ValueError(f"demo: unknown network {network!r}; choose one of {', '.join(NETWORKS)}")
        if network == "digits" and getattr(args, "steps", None) is not None:
            raise ValueError("demo: --steps counts the moons steps; the digits CNN takes --epochs")
        epochs = _positive(
            getattr(args, "epochs", None), DIGITS_EPOCHS if network == "digits" else 1000, "--epochs"
        )
        steps = _positive(getattr(args, "steps", None), 100, "--steps")
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2

    def say(text: str = "") -> None:
        if not quiet:
            out.write(text + "\n")

    if network == "digits":
        say("autonet demo digits: a CNN trained on gradients from backward()")
        say()
        try:
            _show_digits(epochs, seed, say, out, quiet)
        except ImportError as error:
            print(f"demo digits: {error}", file=sys.stderr)
            return 1
        out.flush()
        return 0
    say("autonet demo: two small networks trained on gradients from backward()")
    say()
    _show_xor(epochs, seed, say, out, quiet)
    say()
    _show_moons(steps, seed, say, out, quiet)
    out.flush()
    return 0
