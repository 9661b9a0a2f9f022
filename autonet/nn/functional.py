"""PyTorch's ``torch.nn.functional`` names and arguments on autonet's ops, so that code written
as ``import torch.nn.functional as F`` reads the same with ``from autonet.nn import functional
as F``: ``F.relu(x)``, ``F.softmax(x, dim=1)``, ``F.linear(x, weight, bias)`` (PyTorch's
``(out, in)`` weight), ``F.conv2d``, ``F.max_pool2d``, ``F.cross_entropy(x, y, weight=w)`` ...

Each is one registered op or a loss of ``autonet.nn`` (no second implementation): ``dim`` is
numpy's ``axis`` under PyTorch's name. The losses take PyTorch's ``weight`` as their third
argument and the rest by keyword (its deprecated ``size_average`` and ``reduce`` are left out).

>>> import numpy as np
>>> from autonet import Value
>>> from autonet.nn import functional as F
>>> x = Value(np.array([[1.0, -2.0], [0.5, 3.0]]))
>>> F.relu(x).tolist()
[[1.0, 0.0], [0.5, 3.0]]
>>> round(F.cross_entropy(x, [0, 1]).item(), 4)
0.0637
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import Value, lift
from ..ops import REGISTRY
from ..ops import conv as _conv
from ..surface import FUNCTIONS, apply
from . import losses

__all__ = [
    "adaptive_avg_pool2d",
    "avg_pool1d",
    "avg_pool2d",
    "batch_norm",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "conv1d",
    "conv2d",
    "conv_transpose1d",
    "conv_transpose2d",
    "cross_entropy",
    "dropout",
    "embedding",
    "gelu",
    "huber_loss",
    "interpolate",
    "l1_loss",
    "layer_norm",
    "leaky_relu",
    "linear",
    "log_softmax",
    "max_pool1d",
    "max_pool2d",
    "mse_loss",
    "nll_loss",
    "relu",
    "sigmoid",
    "smooth_l1_loss",
    "softmax",
    "softplus",
    "tanh",
]

# The registry's functions already take PyTorch's arguments in PyTorch's order.
conv1d = FUNCTIONS["conv1d"]
conv2d = FUNCTIONS["conv2d"]
avg_pool2d = FUNCTIONS["avg_pool2d"]
avg_pool1d = _conv.avg_pool1d  # the 2-d op over a height of 1
adaptive_avg_pool2d = FUNCTIONS["adaptive_avg_pool2d"]
interpolate = _conv.interpolate
conv_transpose1d = FUNCTIONS["conv_transpose1d"]
conv_transpose2d = FUNCTIONS["conv_transpose2d"]
batch_norm = FUNCTIONS["batch_norm"]
layer_norm = FUNCTIONS["layer_norm"]
embedding = FUNCTIONS["embedding"]


def relu(input: Any, inplace: bool = False) -> Value:  # noqa: A002 - PyTorch's argument name
    """max(x, 0), gradient 0 at 0 (``torch.nn.functional.relu``); ``inplace`` is taken so that
    PyTorch's code runs as written, and the result is a new array (the graph keeps the input).

    >>> relu([-1.0, 2.0]).tolist()
    [0.0, 2.0]
    """
    return lift(input).relu()


def sigmoid(input: Any) -> Value:  # noqa: A002
    """1 / (1 + e ** -x) (``torch.sigmoid``).

    >>> sigmoid(0.0).item()
    0.5
    """
    return lift(input).sigmoid()


def tanh(input: Any) -> Value:  # noqa: A002
    """The hyperbolic tangent (``torch.tanh``).

    >>> tanh(0.0).item()
    0.0
    """
    return lift(input).tanh()


def gelu(input: Any, approximate: str = "none") -> Value:  # noqa: A002
    """x * Phi(x), or its tanh approximation with ``approximate="tanh"`` (``F.gelu``).

    >>> round(gelu(1.0).item(), 4)
    0.8413
    """
    return lift(input).gelu(approximate=approximate)


def leaky_relu(input: Any, negative_slope: float = 0.01, inplace: bool = False) -> Value:  # noqa: A002
    """x, or ``negative_slope * x`` below 0 (``F.leaky_relu``; ``inplace`` as ``relu``'s).

    >>> leaky_relu([-1.0, 2.0], 0.1).tolist()
    [-0.1, 2.0]
    """
    return lift(input).leaky_relu(negative_slope)


def max_pool2d(
    input: Any,  # noqa: A002
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Any:
    """The maximum of each window of (N, C, H, W) inputs (``autonet.max_pool2d``); with
    ``return_indices=True`` also where each maximum sits in its (H, W) plane, as ``F.max_pool2d``.

    >>> import numpy as np
    >>> out, where = max_pool2d(np.array([[[[1.0, 5.0], [7.0, 2.0]]]]), 2, return_indices=True)
    >>> out.tolist(), where.tolist()
    ([[[[7.0]]]], [[[[2]]]])
    """
    x = lift(input)
    out = FUNCTIONS["max_pool2d"](x, kernel_size, stride, padding, dilation, ceil_mode)
    if not return_indices:
        return out
    return out, _conv.max_pool2d_indices(x.data, kernel_size, stride, padding, dilation, ceil_mode)


def max_pool1d(
    input: Any,  # noqa: A002
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Any:
    """The maximum of each window of (N, C, L) inputs (``max_pool2d`` over a height of 1); with
    ``return_indices=True`` also where each maximum sits in its row, as ``F.max_pool1d``.

    >>> max_pool1d([[[1.0, 3.0, 2.0]]], 2, ceil_mode=True).tolist()
    [[[3.0, 2.0]]]
    """
    x = lift(input)
    out = _conv.max_pool1d(x, kernel_size, stride, padding, dilation, ceil_mode)
    if not return_indices:
        return out
    params = _conv.pool1d_params("max_pool1d", x.shape, kernel_size, stride, padding, dilation, ceil_mode)
    return out, _conv.max_pool2d_indices(x.data[:, :, None, :], **params)[:, :, 0, :]


def dropout(
    input: Any,  # noqa: A002
    p: float = 0.5,
    training: bool = True,
    inplace: bool = False,
    *,
    generator: np.random.Generator | None = None,
) -> Value:
    """Zero each element with probability ``p`` and scale the rest by 1 / (1 - p) when
    ``training`` (``F.dropout``: the identity otherwise); ``inplace`` as ``relu``'s. The mask
    comes from ``generator`` (a ``numpy.random.Generator``; numpy's default one when None).

    >>> dropout([1.0, 2.0], p=0.5, training=False).tolist()
    [1.0, 2.0]
    """
    if not isinstance(inplace, (bool, np.bool_)):
        raise TypeError(f"dropout: inplace must be a bool, got {type(inplace).__name__} (pass generator=...)")
    return FUNCTIONS["dropout"](input, p, training, generator)


def softplus(input: Any, beta: float = 1.0, threshold: float = 20.0) -> Value:  # noqa: A002
    """log(1 + e ** (beta x)) / beta, computed without overflow, and x itself where ``beta x``
    exceeds ``threshold`` (``F.softplus``). With PyTorch's defaults it is the ``softplus`` op
    alone: past 20 that is within 2e-9 of x, and smooth.

    >>> round(softplus(0.0).item(), 4)
    0.6931
    >>> softplus([1.0, 30.0], beta=0.5, threshold=10.0).data.round(4).tolist()
    [1.9481, 30.0]
    """
    x = lift(input)
    for name, number in (("beta", beta), ("threshold", threshold)):
        if isinstance(number, bool) or not isinstance(number, (int, float, np.integer, np.floating)):
            raise TypeError(f"softplus: {name} must be a number, got {type(number).__name__}")
    if beta == 1 and threshold == 20:
        return x.softplus()
    if beta == 0:
        raise ValueError("softplus: beta must not be 0")
    scaled = x * beta
    return apply("where", x, scaled.softplus() / beta, condition=scaled.data > threshold)


def softmax(input: Any, dim: int) -> Value:  # noqa: A002
    """e ** x over its sum along ``dim`` (``F.softmax``; PyTorch asks for ``dim`` too).

    >>> softmax([[0.0, 0.0]], dim=1).tolist()
    [[0.5, 0.5]]
    """
    return lift(input).softmax(axis=dim)


def log_softmax(input: Any, dim: int) -> Value:  # noqa: A002
    """x minus its logsumexp along ``dim`` (``F.log_softmax``).

    >>> round(log_softmax([0.0, 0.0], dim=0).tolist()[0], 4)
    -0.6931
    """
    return lift(input).log_softmax(axis=dim)


def linear(input: Any, weight: Any, bias: Any = None) -> Value:  # noqa: A002
    """``input @ weight.T + bias`` with PyTorch's ``(out_features, in_features)`` weight
    (``F.linear``), one fused op.

    >>> linear([[1.0, 2.0]], [[1.0, 1.0], [0.0, 1.0], [1.0, 0.0]], [0.0, 0.0, 1.0]).tolist()
    [[3.0, 2.0, 2.0]]
    """
    weight = lift(weight)
    if weight.ndim != 2:
        raise ValueError(f"linear: weight must have shape (out_features, in_features), got {weight.shape}")
    if bias is None:
        return lift(input, weight) @ weight.T
    return apply(REGISTRY["linear"], input, weight.T, bias)


def cross_entropy(
    input: Any,  # noqa: A002
    target: Any,
    weight: Any = None,
    *,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Value:
    """Softmax cross-entropy (``F.cross_entropy``): ``autonet.nn.cross_entropy`` with
    PyTorch's argument order and class axis, 1 for inputs (N, C, d1, ...) against labels (N, d1,
    ...) (``autonet.nn.cross_entropy`` takes the last).

    >>> round(cross_entropy(Value([[0.0, 0.0]]), [1], label_smoothing=0.1).item(), 4)
    0.6931
    """
    options = {"weight": weight, "ignore_index": ignore_index, "label_smoothing": label_smoothing}
    return losses.cross_entropy(*losses.classes_last(input, target), reduction, **options)


def mse_loss(input: Any, target: Any, *, reduction: str = "mean") -> Value:  # noqa: A002
    """The mean (or sum) of squared differences (``F.mse_loss``).

    >>> mse_loss(Value([1.0, 3.0]), [0.0, 1.0]).item()
    2.5
    """
    return losses.mse_loss(input, target, reduction)


def binary_cross_entropy(
    input: Any,  # noqa: A002
    target: Any,
    weight: Any = None,
    *,
    reduction: str = "mean",
) -> Value:
    """Binary cross-entropy of probabilities, logs clamped at -100 (``F.binary_cross_entropy``).

    >>> round(binary_cross_entropy(Value([0.5]), [1.0]).item(), 4)
    0.6931
    """
    return losses.binary_cross_entropy(input, target, reduction, weight=weight)


def binary_cross_entropy_with_logits(
    input: Any,  # noqa: A002
    target: Any,
    weight: Any = None,
    *,
    reduction: str = "mean",
    pos_weight: Any = None,
) -> Value:
    """Binary cross-entropy of logits, exact and stable (``F.binary_cross_entropy_with_logits``).

    >>> round(binary_cross_entropy_with_logits(Value([0.0]), [1.0]).item(), 4)
    0.6931
    """
    return losses.binary_cross_entropy_with_logits(
        input, target, reduction, weight=weight, pos_weight=pos_weight
    )


def nll_loss(
    input: Any,  # noqa: A002
    target: Any,
    weight: Any = None,
    *,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> Value:
    """The negative log-likelihood of log-probabilities (``F.nll_loss``), PyTorch's class axis.

    >>> import numpy as np
    >>> round(nll_loss(Value(np.log([[0.25, 0.75]])), [1]).item(), 4)
    0.2877
    """
    options = {"weight": weight, "ignore_index": ignore_index}
    return losses.nll_loss(*losses.classes_last(input, target), reduction, **options)


def l1_loss(input: Any, target: Any, *, reduction: str = "mean") -> Value:  # noqa: A002
    """The mean (or sum) of absolute differences (``F.l1_loss``).

    >>> l1_loss(Value([1.0, 3.0]), [0.0, 1.0]).item()
    1.5
    """
    return losses.l1_loss(input, target, reduction)


def huber_loss(input: Any, target: Any, *, reduction: str = "mean", delta: float = 1.0) -> Value:  # noqa: A002
    """Huber's loss (``F.huber_loss``).

    >>> huber_loss(Value([3.0]), [0.0]).item()
    2.5
    """
    return losses.huber_loss(input, target, reduction, delta)


def smooth_l1_loss(input: Any, target: Any, *, reduction: str = "mean", beta: float = 1.0) -> Value:  # noqa: A002
    """The smooth L1 loss (``F.smooth_l1_loss``).

    >>> smooth_l1_loss(Value([0.5]), [0.0]).item()
    0.125
    """
    return losses.smooth_l1_loss(input, target, reduction, beta)
