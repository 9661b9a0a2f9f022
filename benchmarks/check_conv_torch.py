"""Compare autonet's convolutions and pooling with PyTorch (float64): python benchmarks/check_conv_torch.py

For random inputs over many stride / padding / dilation / groups combinations this checks the
outputs, the first gradients of every input, and a second-order product (the gradient of
<grad_x, v> with respect to the weight) against torch.nn.functional; the convolution modules'
padding strings and padding modes against torch.nn's; the transposed convolutions; and random
pooling calls over all of PyTorch's pooling arguments. It needs PyTorch; the test
suite never imports it. Exit status 1 on any disagreement.
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import autonet
from autonet import Value

RTOL, ATOL = 1e-9, 1e-10


def _close(name: str, ours: np.ndarray, theirs: np.ndarray) -> bool:
    if ours.shape != theirs.shape or not np.allclose(ours, theirs, rtol=RTOL, atol=ATOL, equal_nan=True):
        print(f"DISAGREE {name}: shapes {ours.shape} {theirs.shape}")
        return False
    return True


def check_conv(torch, d: int, rng: np.random.Generator) -> int:
    functional = torch.nn.functional
    bad = 0
    for stride, padding, dilation, groups in itertools.product((1, 2), (0, 1, 3), (1, 2), (1, 2)):
        size = (7, 6)[:d] if d == 2 else (9,)
        x = rng.standard_normal((2, 4, *size))
        w = rng.standard_normal((6, 4 // groups, *(3, 2)[:d]))
        b = rng.standard_normal(6)
        params = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
        ours = [Value(a) for a in (x, w, b)]
        out = getattr(autonet, f"conv{d}d")(*ours, **params)
        theirs = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
        reference = getattr(functional, f"conv{d}d")(*theirs, **params)
        label = f"conv{d}d {params}"
        bad += not _close(label, out.data, reference.detach().numpy())
        seed = rng.standard_normal(out.shape)
        grads = autonet.gradients((out * seed).sum(), ours, create_graph=True)
        expected = torch.autograd.grad((reference * torch.tensor(seed)).sum(), theirs, create_graph=True)
        for i in range(3):
            bad += not _close(f"{label} grad {i}", np.asarray(grads[i].data), expected[i].detach().numpy())
        v = rng.standard_normal(x.shape)
        (second,) = autonet.gradients((grads[0] * v).sum(), [ours[1]])
        (expected_second,) = torch.autograd.grad((expected[0] * torch.tensor(v)).sum(), [theirs[1]])
        bad += not _close(f"{label} second order", np.asarray(second), expected_second.numpy())
    return bad


def check_padding(torch, rng: np.random.Generator) -> int:
    """Conv1d and Conv2d with padding "same" and "valid" and every padding_mode, PyTorch's modules
    holding autonet's weights: outputs and the gradients of the input, weight and bias."""
    bad = 0
    for d, padding, mode, dilation, kernel in itertools.product(
        (1, 2), ("same", "valid", 1, 2), ("zeros", "reflect", "replicate", "circular"), (1, 2), (2, 3)
    ):
        ours = getattr(autonet.nn, f"Conv{d}d")(
            2, 4, kernel, padding=padding, dilation=dilation, padding_mode=mode, rng=0
        )
        theirs = getattr(torch.nn, f"Conv{d}d")(
            2, 4, kernel, padding=padding, dilation=dilation, padding_mode=mode
        )
        with torch.no_grad():
            theirs.weight.copy_(torch.tensor(ours.weight.data))
            theirs.bias.copy_(torch.tensor(ours.bias.data))
        x = rng.standard_normal((3, 2, *(6, 5)[:d]))
        inputs, tx = Value(x), torch.tensor(x, requires_grad=True)
        out, reference = ours(inputs), theirs(tx)
        label = f"Conv{d}d padding={padding!r} padding_mode={mode!r} dilation={dilation} kernel={kernel}"
        bad += not _close(label, out.data, reference.detach().numpy())
        seed = rng.standard_normal(out.shape)
        (out * seed).sum().backward()
        (reference * torch.tensor(seed)).sum().backward()
        for name, mine, torch_grad in (
            ("x", inputs, tx),
            ("weight", ours.weight, theirs.weight),
            ("bias", ours.bias, theirs.bias),
        ):
            bad += not _close(f"{label} grad {name}", mine.grad, torch_grad.grad.numpy())
    return bad


def check_transposed(torch, rng: np.random.Generator) -> int:
    """conv_transpose1d/2d over stride, padding, output_padding (below the stride or the
    dilation), groups and dilation: outputs and the gradients of input, weight and bias; and where
    PyTorch refuses a call, autonet must refuse it too."""
    bad = 0
    for d, stride, padding, extra, groups, dilation in itertools.product(
        (1, 2), (1, 2, 3), (0, 1, 2), (0, 1, 2), (1, 2), (1, 2, 3)
    ):
        arrays = [
            rng.standard_normal((2, 4, *(5, 4)[:d])),
            rng.standard_normal((4, 3, *(3, 2)[:d])),
            rng.standard_normal(3 * groups),
        ]
        params = (stride, padding, extra, groups, dilation)
        label = f"conv_transpose{d}d {params}"
        theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
        try:
            reference = getattr(torch.nn.functional, f"conv_transpose{d}d")(*theirs, *params)
        except RuntimeError:
            reference = None
        ours = [Value(a) for a in arrays]
        try:
            out = getattr(autonet.nn.functional, f"conv_transpose{d}d")(*ours, *params)
        except ValueError:
            bad += reference is not None
            continue
        if reference is None:
            print(f"DISAGREE {label}: PyTorch refuses, autonet does not")
            bad += 1
            continue
        bad += not _close(label, out.data, reference.detach().numpy())
        seed = rng.standard_normal(out.shape)
        (out * seed).sum().backward()
        (reference * torch.tensor(seed)).sum().backward()
        for name, mine, torch_input in zip(("x", "weight", "bias"), ours, theirs, strict=True):
            bad += not _close(f"{label} grad {name}", mine.grad, torch_input.grad.numpy())
    return bad


def _pool_configs(rng: np.random.Generator, count: int):
    """Random max- and avg-pool calls over all of PyTorch's arguments, on small odd and even sizes."""
    for _ in range(count):
        kernel = tuple(int(k) for k in rng.integers(1, 4, 2))
        params: dict = {
            "kernel_size": kernel,
            "stride": None if rng.random() < 0.3 else tuple(int(s) for s in rng.integers(1, 4, 2)),
            "padding": tuple(int(rng.integers(0, k // 2 + 1)) for k in kernel),
            "ceil_mode": bool(rng.random() < 0.5),
        }
        size = tuple(int(n) for n in rng.integers(1, 8, 2))
        if rng.random() < 0.5:
            yield "max_pool2d", size, {**params, "dilation": tuple(int(d) for d in rng.integers(1, 4, 2))}
        else:
            extra = {"count_include_pad": bool(rng.random() < 0.5)}
            if rng.random() < 0.2:
                extra["divisor_override"] = int(rng.integers(1, 7))
            yield "avg_pool2d", size, {**params, **extra}


def check_pools(torch, rng: np.random.Generator, count: int = 600) -> int:
    """Outputs and gradients (a plain backward's and create_graph's) of random pooling calls; and
    where PyTorch refuses a call, autonet must refuse it too."""
    functional = torch.nn.functional
    bad = checked = empty = 0
    for name, size, params in _pool_configs(rng, count):
        x = rng.standard_normal((2, 3, *size))
        x.reshape(-1)[:2] = 1.5  # a tie
        theirs = torch.tensor(x, requires_grad=True)
        label = f"{name} {size} {params}"
        try:
            reference = getattr(functional, name)(theirs, **params)
        except RuntimeError:
            try:
                getattr(autonet, name)(Value(x), **params)
            except ValueError:
                continue
            print(f"DISAGREE {label}: PyTorch refuses, autonet does not")
            bad += 1
            continue
        ours = Value(x)
        try:
            out = getattr(autonet, name)(ours, **params)
        except ValueError as error:
            print(f"DISAGREE {label}: autonet refuses ({error})")
            bad += 1
            continue
        checked += 1
        bad += not _close(label, out.data, reference.detach().numpy())
        if torch.isinf(reference).any():
            # A dilated window on padding alone: -inf in both, but PyTorch's CPU backward sends its
            # gradient to a wrong place (and has corrupted memory doing so); autonet's goes nowhere.
            empty += 1
            continue
        seed = rng.standard_normal(out.shape)
        (expected,) = torch.autograd.grad((reference * torch.tensor(seed)).sum(), [theirs])
        for create_graph in (False, True):  # numpy's scatter, and scatter_add's graph
            (grad,) = autonet.gradients(
                (out * seed).sum(), [ours], retain_graph=True, create_graph=create_graph
            )
            bad += not _close(f"{label} grad", np.asarray(getattr(grad, "data", grad)), expected.numpy())
    print(
        f"pooling: {checked} calls compared ({empty} with a window on padding alone: outputs only), "
        f"{bad} disagreements"
    )
    return bad


def main() -> int:
    import torch

    torch.set_default_dtype(torch.float64)
    rng = np.random.default_rng(0)
    bad = (
        check_conv(torch, 1, rng)
        + check_conv(torch, 2, rng)
        + check_padding(torch, rng)
        + check_pools(torch, rng)
    )
    print("all agree with PyTorch" if not bad else f"{bad} disagreements")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
