"""One neuron, by hand and with autonet: the weighted sum, the bias and the activation.

The neuron of the classic tutorial has weights [0, 1] and bias 4; on inputs [2, 3] its weighted
sum is 0*2 + 1*3 + 4 = 7 and its output sigmoid(7) = 0.99908894880... The script computes that
with numpy, then with ``autonet.nn.Neuron``, asks autonet for the output's gradient, and plots
the three classic activations (sigmoid, tanh, ReLU) with the slopes autonet's ``backward()``
finds for them.

    python examples/neuron.py [--out DIR] [--quick]

Writes ``activations.png`` into DIR (default: the current directory) when matplotlib is
installed (``pip install "autonet[plot]"``). ``--quick`` (or AUTONET_EXAMPLE_QUICK=1) is
accepted for symmetry with the other examples; this one is always quick.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

from autonet import Value, nn


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="One neuron, by hand and with autonet.")
    parser.add_argument("--out", type=Path, default=Path.cwd(), help="where to write the picture")
    parser.add_argument(
        "--quick",
        action="store_true",
        default=os.environ.get("AUTONET_EXAMPLE_QUICK") == "1",
        help="a shorter run (also AUTONET_EXAMPLE_QUICK=1)",
    )
    return parser.parse_args(argv)


def sigmoid(z: np.ndarray | float) -> np.ndarray | float:
    return 1.0 / (1.0 + np.exp(-z))


def activation_curves(z: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each activation's values on ``z`` and its slope there, the slope from autonet's backward()."""
    curves = {}
    for name in ("sigmoid", "tanh", "relu"):
        x = Value(z)
        y = getattr(x, name)()
        y.sum().backward()  # d(sum of f(z_i))/dz_i = f'(z_i): every slope in one pass
        curves[name] = (y.data, x.grad)
    return curves


def plot_activations(path: Path) -> Path | None:
    """Draw the three activations and their slopes into ``path``; None without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")  # write files only, never open a window
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    z = np.linspace(-5.0, 5.0, 201)
    curves = activation_curves(z)
    figure, axes = plt.subplots(1, 3, figsize=(10.5, 3.2), sharex=True)
    for axis, (name, (values, slopes)) in zip(axes, curves.items(), strict=True):
        axis.plot(z, values, label=f"{name}(z)", linewidth=2)
        axis.plot(z, slopes, label="slope (from backward)", linestyle="--")
        axis.axhline(0.0, color="grey", linewidth=0.5)
        axis.axvline(0.0, color="grey", linewidth=0.5)
        axis.set_title(name)
        axis.set_xlabel("z")
        axis.legend(loc="best", fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    weights, bias, inputs = np.array([0.0, 1.0]), 4.0, np.array([2.0, 3.0])

    total = weights @ inputs + bias
    print(f"weighted sum + bias: 0*2 + 1*3 + 4 = {total}")
    print(f"sigmoid(7) by hand:  {sigmoid(total):.10f}")

    neuron = nn.Neuron(weights, bias)  # sigmoid is the default activation
    output = neuron.feedforward(inputs)
    print(f"autonet Neuron:      {output.item():.10f}")
    assert np.isclose(output.item(), sigmoid(7.0))

    # The output's gradient: d sigmoid(w.x + b)/dw = x * s * (1 - s), and d/db = s * (1 - s).
    output.backward()
    slope = sigmoid(7.0) * (1.0 - sigmoid(7.0))
    print(f"d output / d weights: {np.round(neuron.w.grad, 8)}   (by hand: {np.round(inputs * slope, 8)})")
    print(f"d output / d bias:    {neuron.b.grad:.8f}     (by hand: {slope:.8f})")

    args.out.mkdir(parents=True, exist_ok=True)
    picture = plot_activations(args.out / "activations.png")
    if picture is None:
        print("matplotlib is not installed: no picture (pip install 'autonet[plot]')")
    else:
        print(f"wrote {picture}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
