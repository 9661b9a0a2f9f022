"""Binary addition with an LSTM: the network reads two numbers bit by bit and writes their sum.

At time step t the LSTM (``nn.LSTM``, 2 inputs, 16 hidden units) sees bit t of a and bit t of b,
lowest bit first, and a linear read-out of its hidden state predicts bit t of a + b. To get it
right it has to learn to carry: remember whether the last column overflowed. The numbers are
drawn at random (numpy), 8 bits long with a sum that fits in 8 bits; training is Adam on the
binary cross-entropy of each predicted bit, with a fresh minibatch of 32 sums per step.

    python examples/sequence_lstm.py [--steps N] [--seed S] [--quick]

It prints the training loss, then the accuracy on 1000 sums it never saw, as bits and as whole
sums (all 8 bits right), and on 1000 sums of 16-bit numbers, twice as long as any it trained on:
a network that has learned to carry adds those too. ``--quick`` (or AUTONET_EXAMPLE_QUICK=1)
trains 150 steps instead of 400.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

from autonet import nn, no_grad, optim

BITS = 8
BATCH = 32
HIDDEN = 16


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Binary addition with an LSTM.")
    parser.add_argument("--steps", type=int, default=None, help="training steps (400)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the data and the weights (0)")
    parser.add_argument(
        "--quick",
        action="store_true",
        default=os.environ.get("AUTONET_EXAMPLE_QUICK") == "1",
        help="150 steps (also AUTONET_EXAMPLE_QUICK=1)",
    )
    args = parser.parse_args(argv)
    if args.steps is None:
        args.steps = 150 if args.quick else 400
    if args.steps < 1:
        parser.error("--steps must be at least 1")
    return args


def bits_of(numbers: np.ndarray, length: int) -> np.ndarray:
    """(len(numbers), length) array of each number's bits, lowest first."""
    return (numbers[:, None] >> np.arange(length)) & 1


def additions(rng: np.random.Generator, count: int, length: int) -> tuple[np.ndarray, np.ndarray]:
    """``count`` random sums a + b < 2**length as a sequence (length, count, 2) of the bits of a
    and b, and the bits of a + b (length, count)."""
    a, b = rng.integers(0, 2 ** (length - 1), size=(2, count))
    inputs = np.stack([bits_of(a, length), bits_of(b, length)], axis=-1).swapaxes(0, 1)
    return inputs.astype(np.float64), bits_of(a + b, length).T.astype(np.float64)


class Adder(nn.Module):
    """An LSTM and a linear read-out of each time step's hidden state: one logit per sum bit."""

    def __init__(self, hidden: int, rng: np.random.Generator) -> None:
        self.lstm = nn.LSTM(2, hidden, rng=rng)
        self.readout = nn.Layer(hidden, 1, activation=None, rng=rng)

    def forward(self, x: np.ndarray):
        output, _ = self.lstm(x)  # (length, N, hidden)
        return self.readout(output)[..., 0]  # (length, N)


def accuracy(model: Adder, inputs: np.ndarray, targets: np.ndarray) -> tuple[float, float]:
    """The share of bits right and the share of sums with every bit right."""
    with no_grad():
        right = (model(inputs).data > 0) == (targets > 0.5)
    return float(right.mean()), float(right.all(axis=0).mean())


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    rng = np.random.default_rng(args.seed)
    model = Adder(HIDDEN, rng)
    optimizer = optim.Adam(model.parameters(), lr=0.05)
    print(
        f"binary addition of {BITS}-bit numbers: LSTM(2, {HIDDEN}) and a linear read-out "
        f"({model.num_parameters()} parameters), Adam, {args.steps} steps of {BATCH} sums"
    )
    report_every = max(args.steps // 5, 1)
    for step in range(args.steps):
        inputs, targets = additions(rng, BATCH, BITS)
        optimizer.zero_grad()
        loss = nn.binary_cross_entropy_with_logits(model(inputs), targets)
        loss.backward()
        optimizer.step()
        if (step + 1) % report_every == 0 or step == 0:
            print(f"  step {step + 1:4d}  loss {loss.item():.4f}")

    test = np.random.default_rng(args.seed + 1)
    bits, sums = accuracy(model, *additions(test, 1000, BITS))
    print(f"test accuracy: {sums:.0%} of 1000 unseen {BITS}-bit sums exactly right ({bits:.1%} of bits)")
    bits, sums = accuracy(model, *additions(test, 1000, 2 * BITS))
    print(f"longer numbers: {sums:.0%} of 1000 {2 * BITS}-bit sums exactly right ({bits:.1%} of bits)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
