"""A small convolutional network learns scikit-learn's 8x8 handwritten digits.

The 1797 digits (``autonet.data.load_digits``, pixels scaled to [0, 1]) are split into 1437
training and 360 test images, stratified and seeded. The network is the classic pattern, twice
a 3x3 convolution, a ReLU and a 2x2 max pool (8x8 -> 4x4 -> 2x2), then one linear layer from
the flattened features to ten class scores:

    Conv2d(1, 32, 3, padding=1), ReLU, MaxPool2d(2), Conv2d(32, 64, 3, padding=1), ReLU,
    MaxPool2d(2), Flatten, Linear 256 -> 10

It learns from the softmax cross-entropy with Adam on shuffled batches of 64 images, the learning
rate falling from 0.005 to 0 along a cosine over the epochs (``optim.CosineAnnealingLR``). After
every epoch the script prints the training loss and the test accuracy; at the end, the test
accuracy and the training time (about 98.5-99% in 20 epochs, some seconds on one core).

An ``autonet.monitor.Monitor`` watches the training: at every step (one batch) the batch's loss,
the learning rate and each parameter's weight and gradient norms, and the test accuracy before
the first step and after every epoch. At the end the script writes the Monitor's pictures into
the ``--out`` directory (``digits_cnn_monitor`` in the current directory unless given):

- ``metrics.png``: the loss of every batch, the test accuracy and the learning rate, over the steps;
- ``grad_norms.png``: each parameter's gradient norm over the steps (log scale, one colour per
  parameter from the first convolution to the linear layer) beside the last value of each.

With tensorboardX installed (``pip install "autonet[monitor]"``) it writes TensorBoard event
files into the same directory, a histogram of every parameter's weights and gradient once an
epoch among them; ``pip install tensorboard`` and ``tensorboard --logdir digits_cnn_monitor``
show them at http://localhost:6006. Without matplotlib (``pip install "autonet[plot]"``) or
tensorboardX the script still trains, and says what it did not write.

    python examples/digits_cnn.py [--epochs N] [--seed S] [--out DIR] [--quick]

``--seed`` sets the weights and the batch order (the split stays the same); ``--quick`` (or
AUTONET_EXAMPLE_QUICK=1) trains 2 epochs instead of 20 (about 95%). Needs scikit-learn
(``pip install "autonet[data]"``).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

from autonet import data, nn, no_grad, optim
from autonet.monitor import Monitor


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="A small CNN on scikit-learn's 8x8 digits.")
    parser.add_argument("--epochs", type=int, default=None, help="passes over the training images (20)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights and the batch order (0)")
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("digits_cnn_monitor"),
        help="where the monitor's pictures and TensorBoard event files go (digits_cnn_monitor)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        default=os.environ.get("AUTONET_EXAMPLE_QUICK") == "1",
        help="2 epochs (also AUTONET_EXAMPLE_QUICK=1)",
    )
    args = parser.parse_args(argv)
    if args.epochs is None:
        args.epochs = 2 if args.quick else 20
    if args.epochs < 1:
        parser.error("--epochs must be at least 1")
    return args


def digits_cnn(rng: np.random.Generator) -> nn.Sequential:
    """8x8 images (N, 1, 8, 8) to ten class scores (N, 10)."""
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1, rng=rng),  # (N, 32, 8, 8)
        nn.ReLU(),
        nn.MaxPool2d(2),  # (N, 32, 4, 4)
        nn.Conv2d(32, 64, 3, padding=1, rng=rng),  # (N, 64, 4, 4)
        nn.ReLU(),
        nn.MaxPool2d(2),  # (N, 64, 2, 2)
        nn.Flatten(),  # (N, 256)
        nn.Layer(256, 10, activation=None, rng=rng),  # a linear layer: the class scores
    )


def accuracy(model: nn.Module, images: np.ndarray, labels: np.ndarray) -> float:
    """The fraction of images whose highest score is their label's."""
    with no_grad():  # no graph is recorded: evaluation needs no gradients
        return float(np.mean(model(images).data.argmax(axis=1) == labels))


def make_monitor(model: nn.Module, out: Path, histogram_every: int) -> Monitor:
    """A Monitor of ``model`` that writes TensorBoard event files into ``out`` when tensorboardX
    is installed, and keeps the history only when it is not."""
    try:
        return Monitor(model, logdir=out, histogram_every=histogram_every)
    except ImportError:
        print(f"tensorboardX is not installed: no event files in {out} (pip install 'autonet[monitor]')")
        return Monitor(model)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        (train_images, train_labels), (test_images, test_labels) = data.load_digits(seed=0, as_images=True)
    except ImportError as error:
        print(error)
        return 1
    rng = np.random.default_rng(args.seed)
    model = digits_cnn(rng)
    optimizer = optim.Adam(model.parameters(), lr=0.005)
    schedule = optim.CosineAnnealingLR(optimizer, T_max=args.epochs)
    loader = data.DataLoader((train_images, train_labels), batch_size=64, shuffle=True, seed=rng)
    print(
        f"digits: {len(train_images)} training and {len(test_images)} test images, "
        f"{model.num_parameters()} parameters, Adam at lr 0.005 (cosine), batches of 64, "
        f"{args.epochs} epochs, seed {args.seed}"
    )

    # Step k of the monitor is the model as it is before its k-th update: the loss of batch k,
    # the gradients that update uses, and (at the start of each epoch) the test accuracy.
    monitor = make_monitor(model, args.out, histogram_every=len(loader))  # histograms once an epoch
    step = 0
    start = time.perf_counter()
    with monitor:
        for epoch in range(1, args.epochs + 1):
            total = 0.0
            for number, (images, labels) in enumerate(loader):
                optimizer.zero_grad()
                loss = nn.cross_entropy(model(images), labels)
                loss.backward()
                metrics = {"loss": loss.item()}
                if number == 0:  # the model after the epochs before this one (before any, at step 0)
                    metrics["test_accuracy"] = accuracy(model, test_images, test_labels)
                metrics["learning_rate"] = optimizer.param_groups[0]["lr"]
                monitor.record(step, **metrics)  # after backward, before the optimizer's step
                optimizer.step()
                total += loss.item()
                step += 1
            schedule.step()
            right = accuracy(model, test_images, test_labels)
            print(f"  epoch {epoch:>2}  loss {total / len(loader):.4f}  test accuracy {right:.1%}")
        seconds = time.perf_counter() - start
        optimizer.zero_grad()  # the trained model has no gradient yet: none is recorded for it
        monitor.record(step, test_accuracy=right)

    print(
        f"test accuracy: {right:.1%} ({round(right * len(test_labels))}/{len(test_labels)}), "
        f"{args.epochs} epochs in {seconds:.1f} s"
    )
    try:
        pictures = monitor.save_plots(args.out, title=f"digits CNN, seed {args.seed}, {args.epochs} epochs")
    except ImportError:
        print("matplotlib is not installed: no pictures (pip install 'autonet[plot]')")
        pictures = []
    for path in pictures:
        print(f"wrote {path}")
    if monitor.logdir is not None:
        print(f"TensorBoard event files in {args.out}: tensorboard --logdir {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
