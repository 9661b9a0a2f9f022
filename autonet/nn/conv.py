"""Convolutional networks: ``Conv1d``, ``Conv2d``, ``ConvTranspose1d``, ``ConvTranspose2d``, the
poolings (``MaxPool2d``, ``AvgPool2d``, their 1-d forms, ``AdaptiveAvgPool2d``), ``ReLU``,
``Flatten`` and the containers ``Sequential``, ``ModuleList``, ``ModuleDict`` and ``Identity``,
with PyTorch's constructor arguments and parameter names.

The parameters are called ``weight`` (out_channels, in_channels / groups, *kernel) and ``bias``
(out_channels,), and a ``Sequential`` names its parts ``"0"``, ``"1"`` ..., so the keys of
``state_dict`` are PyTorch's (``"0.weight"``): a PyTorch state dict converted with
``{k: v.numpy() for k, v in sd.items()}`` loads with ``load_state_dict``.

>>> import numpy as np
>>> from autonet import nn
>>> model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, rng=0), nn.MaxPool2d(2), nn.Flatten())
>>> model(np.zeros((2, 1, 8, 8))).shape, list(model.state_dict())
((2, 64), ['0.weight', '0.bias'])
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import numpy as np

from ..engine import Value
from ..ops import conv as _conv
from . import functional as _functional
from .init import RandomState, as_generator, float_dtype, pytorch_uniform
from .module import Module

__all__ = [
    "GELU",
    "Activation",
    "AvgPool2d",
    "Conv1d",
    "Conv2d",
    "Flatten",
    "Identity",
    "LeakyReLU",
    "LogSoftmax",
    "MaxPool2d",
    "ModuleDict",
    "ModuleList",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Softmax",
    "Softplus",
    "Tanh",
]


def _positive(n: Any, what: str, who: str) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"{who}: {what} must be a positive int, got {n!r}")
    return int(n)


def _channels(who: str, in_channels: Any, out_channels: Any, groups: Any) -> tuple[int, int, int]:
    """A convolution module's channel counts and groups, checked: positive, groups dividing both."""
    counts = tuple(
        _positive(n, name, who)
        for n, name in ((in_channels, "in_channels"), (out_channels, "out_channels"), (groups, "groups"))
    )
    if counts[0] % counts[2] or counts[1] % counts[2]:
        raise ValueError(
            f"{who}: groups={groups} must divide in_channels ({in_channels}) "
            f"and out_channels ({out_channels})"
        )
    return counts


def _weight_and_bias(
    who: str, fan_in: int, shape: tuple[int, ...], out_channels: int, bias: bool, rng: RandomState, dtype: Any
) -> tuple[Value, Value | None]:
    """A convolution's weight of ``shape`` and its bias (None without one), both drawn from
    PyTorch's uniform(-1/sqrt(fan_in), 1/sqrt(fan_in)) by one generator, weight first."""
    dtype, generator = float_dtype(dtype, who), as_generator(rng)
    weight = Value(pytorch_uniform(fan_in, shape, generator, dtype))
    return weight, Value(pytorch_uniform(fan_in, out_channels, generator, dtype)) if bias else None


def _as_data(x: Any, dtype: np.dtype | None = None) -> Value:
    """Data as a constant of the module's dtype (float data keeps its own where the module has
    none, other data becomes float64); a Value passes as it is."""
    if isinstance(x, Value):
        return x
    # Value(x, dtype=...) converts x itself, so that a compiled step reads each new batch again.
    return Value(x, dtype=dtype, requires_grad=False)


class _ConvNd(Module):
    """What Conv1d and Conv2d share: the arguments, PyTorch's initialisation and the call."""

    dims = 0

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, ...],
        stride: int | tuple[int, ...] = 1,
        padding: int | tuple[int, ...] | str = 0,
        dilation: int | tuple[int, ...] = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        *,
        rng: RandomState = None,
        dtype: Any = np.float64,
    ) -> None:
        who, d = type(self).__name__, self.dims
        self.in_channels, self.out_channels, self.groups = _channels(who, in_channels, out_channels, groups)
        self.kernel_size = _conv.spatial_ints(kernel_size, d, who, "kernel_size", 1)
        self.stride = _conv.spatial_ints(stride, d, who, "stride", 1)
        self.dilation = _conv.spatial_ints(dilation, d, who, "dilation", 1)
        # PyTorch keeps "same" and "valid" as given; (before, after) per axis is what they mean.
        self.padding = (
            padding if isinstance(padding, str) else _conv.spatial_ints(padding, d, who, "padding", 0)
        )
        _conv.conv_pads(who, (1, 1, *self.kernel_size), padding, self.stride, self.dilation)  # checked now
        if padding_mode not in _conv.PADDING_MODES:
            raise ValueError(
                f"{who}: padding_mode must be one of {_conv.PADDING_MODES}, got {padding_mode!r}"
            )
        self.padding_mode = padding_mode
        # PyTorch's default, the bias from the same range.
        fan_in = in_channels // groups * math.prod(self.kernel_size)
        shape = (out_channels, in_channels // groups, *self.kernel_size)
        self.weight, self.bias = _weight_and_bias(who, fan_in, shape, out_channels, bias, rng, dtype)

    def forward(self, x: Any) -> Value:
        x = _as_data(x, self.weight.dtype)
        bias = self.bias if self.bias is not None else np.zeros(self.out_channels, dtype=self.weight.dtype)
        pads = _conv.conv_pads(
            type(self).__name__, self.weight.shape, self.padding, self.stride, self.dilation
        )
        return _conv.convolve_padded(
            x, self.weight, bias, self.stride, pads, self.dilation, self.groups, self.padding_mode
        )

    def extra_repr(self) -> str:
        parts = [f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}"]
        for name, default in (("stride", 1), ("padding", 0), ("dilation", 1)):
            if getattr(self, name) != (default,) * self.dims:
                parts.append(f"{name}={getattr(self, name)!r}")
        if self.groups != 1:
            parts.append(f"groups={self.groups}")
        if self.bias is None:
            parts.append("bias=False")
        if self.padding_mode != "zeros":
            parts.append(f"padding_mode={self.padding_mode}")
        return ", ".join(parts)


class Conv1d(_ConvNd):
    """A 1-d convolution over (N, C, L) inputs, with PyTorch's arguments and initialisation.

    ``weight`` is (out_channels, in_channels / groups, kernel_size) and ``bias`` (out_channels,)
    (None with ``bias=False``), both drawn from uniform(-1/sqrt(fan_in), 1/sqrt(fan_in)) by ``rng``.

    >>> import numpy as np
    >>> from autonet.nn import Conv1d
    >>> Conv1d(2, 3, 3, padding=1, rng=0)(np.ones((4, 2, 10))).shape
    (4, 3, 10)
    """

    dims = 1


class Conv2d(_ConvNd):
    """A 2-d convolution over (N, C, H, W) inputs, with PyTorch's arguments and initialisation.

    ``weight`` is (out_channels, in_channels / groups, kH, kW) and ``bias`` (out_channels,)
    (None with ``bias=False``), both drawn from uniform(-1/sqrt(fan_in), 1/sqrt(fan_in)) by ``rng``.

    >>> import numpy as np
    >>> from autonet.nn import Conv2d
    >>> conv = Conv2d(1, 8, 3, stride=2, padding=1, rng=0)
    >>> conv(np.ones((4, 1, 8, 8))).shape, conv.weight.shape
    ((4, 8, 4, 4), (8, 1, 3, 3))
    """

    dims = 2


class _ConvTransposeNd(Module):
    """What ConvTranspose1d and ConvTranspose2d share: PyTorch's arguments, initialisation and call."""

    dims = 0

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, ...],
        stride: int | tuple[int, ...] = 1,
        padding: int | tuple[int, ...] = 0,
        output_padding: int | tuple[int, ...] = 0,
        groups: int = 1,
        bias: bool = True,
        dilation: int | tuple[int, ...] = 1,
        padding_mode: str = "zeros",
        *,
        rng: RandomState = None,
        dtype: Any = np.float64,
    ) -> None:
        who, d = type(self).__name__, self.dims
        self.in_channels, self.out_channels, self.groups = _channels(who, in_channels, out_channels, groups)
        if padding_mode != "zeros":
            raise ValueError(
                f"{who}: only padding_mode='zeros' is supported (as in PyTorch), got {padding_mode!r}"
            )
        self.kernel_size = _conv.spatial_ints(kernel_size, d, who, "kernel_size", 1)
        self.stride = _conv.spatial_ints(stride, d, who, "stride", 1)
        self.padding = _conv.spatial_ints(padding, d, who, "padding", 0)
        self.output_padding = _conv.spatial_ints(output_padding, d, who, "output_padding", 0)
        self.dilation = _conv.spatial_ints(dilation, d, who, "dilation", 1)
        self.padding_mode = padding_mode
        # PyTorch's default: its fan_in is the weight's second axis times the kernel.
        fan_in = out_channels // groups * math.prod(self.kernel_size)
        shape = (in_channels, out_channels // groups, *self.kernel_size)
        self.weight, self.bias = _weight_and_bias(who, fan_in, shape, out_channels, bias, rng, dtype)

    def forward(self, x: Any) -> Value:
        geometry = (self.stride, self.padding, self.output_padding, self.groups, self.dilation)
        function = _conv.conv_transpose1d if self.dims == 1 else _conv.conv_transpose2d
        return function(_as_data(x, self.weight.dtype), self.weight, self.bias, *geometry)

    def extra_repr(self) -> str:
        parts = [f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}"]
        for name, default in (("stride", 1), ("padding", 0), ("output_padding", 0), ("dilation", 1)):
            if getattr(self, name) != (default,) * self.dims:
                parts.append(f"{name}={getattr(self, name)!r}")
        if self.groups != 1:
            parts.append(f"groups={self.groups}")
        if self.bias is None:
            parts.append("bias=False")
        return ", ".join(parts)


class ConvTranspose1d(_ConvTransposeNd):
    """A 1-d transposed convolution over (N, C, L) inputs (the gradient of a ``Conv1d`` for its
    input: upsampling that learns), with PyTorch's arguments, initialisation and ``weight``
    layout (in_channels, out_channels / groups, kernel_size).

    >>> import numpy as np
    >>> from autonet.nn import ConvTranspose1d
    >>> ConvTranspose1d(2, 3, 4, stride=2, padding=1, rng=0)(np.ones((1, 2, 5))).shape
    (1, 3, 10)
    """

    dims = 1


class ConvTranspose2d(_ConvTransposeNd):
    """A 2-d transposed convolution over (N, C, H, W) inputs (a decoder's upsampling), with
    PyTorch's arguments, initialisation and ``weight`` layout (in_channels, out_channels / groups,
    kH, kW); ``output_padding`` picks among the sizes a strided convolution maps to one.

    >>> import numpy as np
    >>> from autonet.nn import ConvTranspose2d
    >>> ConvTranspose2d(4, 1, 3, stride=2, padding=1, output_padding=1, rng=0)(np.ones((2, 4, 4, 4))).shape
    (2, 1, 8, 8)
    """

    dims = 2


class _MaxPoolNd(Module):
    """What MaxPool1d and MaxPool2d share: PyTorch's arguments and the call of their function."""

    _pool: Any = None  # F.max_pool1d or F.max_pool2d

    def __init__(
        self,
        kernel_size: int | tuple[int, ...],
        stride: Any = None,
        padding: Any = 0,
        dilation: Any = 1,
        return_indices: bool = False,
        ceil_mode: bool = False,
    ) -> None:
        self.kernel_size, self.stride, self.padding, self.dilation = kernel_size, stride, padding, dilation
        self.return_indices, self.ceil_mode = bool(return_indices), ceil_mode

    def forward(self, x: Any) -> Any:
        geometry = (self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode)
        return type(self)._pool(_as_data(x), *geometry, self.return_indices)

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


class MaxPool2d(_MaxPoolNd):
    """The maximum of each window of (N, C, H, W) inputs (``autonet.max_pool2d``), with PyTorch's
    arguments; stride is kernel_size by default. ``return_indices=True`` returns the output and,
    as an int64 array, where each maximum sits in its (H, W) plane.

    >>> import numpy as np
    >>> from autonet.nn import MaxPool2d
    >>> MaxPool2d(2)(np.arange(16.0).reshape(1, 1, 4, 4)).tolist()
    [[[[5.0, 7.0], [13.0, 15.0]]]]
    >>> MaxPool2d(2, ceil_mode=True)(np.arange(9.0).reshape(1, 1, 3, 3)).tolist()
    [[[[4.0, 5.0], [7.0, 8.0]]]]
    """

    _pool = staticmethod(_functional.max_pool2d)


class MaxPool1d(_MaxPoolNd):
    """The maximum of each window of (N, C, L) inputs (``F.max_pool1d``: ``max_pool2d`` over a
    height of 1), with PyTorch's arguments; ``return_indices=True`` also returns where each
    maximum sits in its row.

    >>> import numpy as np
    >>> from autonet.nn import MaxPool1d
    >>> MaxPool1d(2)(np.array([[[1.0, 3.0, 2.0, 0.0]]])).tolist()
    [[[3.0, 2.0]]]
    """

    _pool = staticmethod(_functional.max_pool1d)


class _AvgPoolNd(Module):
    """What AvgPool1d and AvgPool2d share: PyTorch's arguments and the call of their function."""

    _pool: Any = None  # F.avg_pool1d or F.avg_pool2d

    def __init__(
        self,
        kernel_size: int | tuple[int, ...],
        stride: Any = None,
        padding: Any = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
    ) -> None:
        self.kernel_size, self.stride, self.padding, self.ceil_mode = kernel_size, stride, padding, ceil_mode
        self.count_include_pad = count_include_pad

    def forward(self, x: Any) -> Value:
        geometry = (self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad)
        return type(self)._pool(_as_data(x), *geometry)

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"ceil_mode={self.ceil_mode}, count_include_pad={self.count_include_pad}"
        )


class AvgPool1d(_AvgPoolNd):
    """The mean of each window of (N, C, L) inputs (``F.avg_pool1d``: ``avg_pool2d`` over a height
    of 1), with PyTorch's arguments: stride is kernel_size by default, the padding counts in the
    mean unless ``count_include_pad=False``.

    >>> import numpy as np
    >>> from autonet.nn import AvgPool1d
    >>> AvgPool1d(2)(np.array([[[1.0, 3.0, 2.0, 0.0]]])).tolist()
    [[[2.0, 1.0]]]
    """

    _pool = staticmethod(_functional.avg_pool1d)


class AvgPool2d(_AvgPoolNd):
    """The mean of each window of (N, C, H, W) inputs (``autonet.avg_pool2d``), with PyTorch's
    arguments: those of ``AvgPool1d``, and ``divisor_override`` to divide every window's sum by.

    >>> import numpy as np
    >>> from autonet.nn import AvgPool2d
    >>> AvgPool2d(2)(np.arange(16.0).reshape(1, 1, 4, 4)).tolist()
    [[[[2.5, 4.5], [10.5, 12.5]]]]
    >>> AvgPool2d(3, stride=1, padding=1, count_include_pad=False)(np.ones((1, 1, 2, 2))).tolist()
    [[[[1.0, 1.0], [1.0, 1.0]]]]
    """

    def __init__(
        self,
        kernel_size: int | tuple[int, int],
        stride: Any = None,
        padding: Any = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override: int | None = None,
    ) -> None:
        super().__init__(kernel_size, stride, padding, ceil_mode, count_include_pad)
        self.divisor_override = divisor_override

    _pool = staticmethod(_functional.avg_pool2d)

    def forward(self, x: Any) -> Value:
        geometry = (self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad)
        return type(self)._pool(_as_data(x), *geometry, self.divisor_override)


class AdaptiveAvgPool2d(Module):
    """The mean over PyTorch's adaptive windows, to an ``output_size`` whatever the input's
    (``autonet.adaptive_avg_pool2d``); ``AdaptiveAvgPool2d(1)`` is global average
    pooling, the usual last step of a convolutional body before its head.

    >>> import numpy as np
    >>> from autonet.nn import AdaptiveAvgPool2d
    >>> AdaptiveAvgPool2d((1, 2))(np.arange(8.0).reshape(1, 1, 2, 4)).tolist()
    [[[[2.5, 4.5]]]]
    """

    def __init__(self, output_size: Any) -> None:
        self.output_size = output_size

    def forward(self, x: Any) -> Value:
        return _functional.adaptive_avg_pool2d(_as_data(x), self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class Activation(Module):
    """An activation of ``nn.ACTIVATIONS`` elementwise, as a module for ``Sequential``; no
    parameters. ``ReLU``, ``Tanh``, ``Sigmoid``, ``GELU``, ``Softplus`` and ``LeakyReLU`` are
    PyTorch's modules of the same names; ``activation`` names the function (``Activation()``
    itself is the identity, ``"linear"``).

    >>> import numpy as np
    >>> from autonet.nn import Tanh
    >>> Tanh().activation, Tanh()(np.zeros(2)).tolist()
    ('tanh', [0.0, 0.0])
    """

    activation = "linear"

    def __init__(self) -> None:
        pass  # nothing to set: written out so that the signature reads ReLU()

    def forward(self, x: Any) -> Value:
        x = _as_data(x)
        return x if self.activation == "linear" else getattr(x, self.activation)()


class ReLU(Activation):
    """``max(x, 0)`` elementwise (``torch.nn.ReLU``).

    >>> import numpy as np
    >>> from autonet.nn import ReLU
    >>> ReLU()(np.array([-1.0, 0.0, 2.0])).tolist()
    [0.0, 0.0, 2.0]

    ``inplace`` is PyTorch's argument, taken so that its code runs as written: the result is the
    same, made into a new array (a recorded graph keeps its input as the forward saw it).
    """

    activation = "relu"

    def __init__(self, inplace: bool = False) -> None:
        self.inplace = bool(inplace)


class Tanh(Activation):
    """``tanh(x)`` elementwise (``torch.nn.Tanh``).

    >>> from autonet.nn import Tanh
    >>> Tanh()([0.0]).tolist()
    [0.0]
    """

    activation = "tanh"


class Sigmoid(Activation):
    """``1 / (1 + e**-x)`` elementwise (``torch.nn.Sigmoid``).

    >>> from autonet.nn import Sigmoid
    >>> Sigmoid()([0.0]).tolist()
    [0.5]
    """

    activation = "sigmoid"


class GELU(Activation):
    """``x * Phi(x)`` elementwise (``torch.nn.GELU``): the exact (erf) form, or its tanh
    approximation with ``approximate="tanh"``.

    >>> from autonet.nn import GELU
    >>> GELU()([0.0]).tolist()
    [0.0]
    >>> round(GELU(approximate="tanh")([1.0]).item(), 4)
    0.8412
    """

    activation = "gelu"

    def __init__(self, approximate: str = "none") -> None:
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x: Any) -> Value:
        return _as_data(x).gelu(approximate=self.approximate)

    def extra_repr(self) -> str:
        return "" if self.approximate == "none" else f"approximate={self.approximate!r}"


class Softplus(Activation):
    """``log(1 + e**(beta x)) / beta`` elementwise, and x itself where ``beta x`` exceeds
    ``threshold`` (``torch.nn.Softplus``; see ``autonet.nn.functional.softplus``).

    >>> from autonet.nn import Softplus
    >>> round(Softplus()([0.0]).item(), 4)
    0.6931
    >>> Softplus(beta=2.0, threshold=1.0)([3.0]).item()
    3.0
    """

    activation = "softplus"

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        self.beta, self.threshold = beta, threshold

    def forward(self, x: Any) -> Value:
        return _functional.softplus(_as_data(x), self.beta, self.threshold)

    def extra_repr(self) -> str:
        return (
            ""
            if (self.beta, self.threshold) == (1.0, 20.0)
            else f"beta={self.beta}, threshold={self.threshold}"
        )


class Softmax(Module):
    """``e**x`` over its sum along ``dim`` (``torch.nn.Softmax``; ``dim`` must be given).

    >>> from autonet.nn import Softmax
    >>> Softmax(dim=1)([[0.0, 0.0]]).tolist()
    [[0.5, 0.5]]
    """

    def __init__(self, dim: int | None = None) -> None:
        self.dim = _axis_of(dim, type(self).__name__)

    def forward(self, x: Any) -> Value:
        return _as_data(x).softmax(axis=self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    """``x`` minus its logsumexp along ``dim`` (``torch.nn.LogSoftmax``; ``dim`` must be given).

    >>> from autonet.nn import LogSoftmax
    >>> round(LogSoftmax(dim=0)([0.0, 0.0]).tolist()[0], 4)
    -0.6931
    """

    def forward(self, x: Any) -> Value:
        return _as_data(x).log_softmax(axis=self.dim)


def _axis_of(dim: Any, who: str) -> int:
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        # PyTorch guesses an axis when none is given and warns that the guess is deprecated.
        raise TypeError(f"{who}: dim must be the axis to normalise over (an int), got {dim!r}")
    return int(dim)


class LeakyReLU(Activation):
    """``x`` where positive, else ``negative_slope * x`` (``torch.nn.LeakyReLU``).

    >>> from autonet.nn import LeakyReLU
    >>> LeakyReLU(0.1)([-1.0, 2.0]).tolist()
    [-0.1, 2.0]

    ``inplace`` is taken as ``ReLU``'s is: PyTorch's code runs, computing into a new array.
    """

    activation = "leaky_relu"

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        if isinstance(negative_slope, bool) or not isinstance(negative_slope, (int, float, np.floating)):
            kind = type(negative_slope).__name__
            raise TypeError(f"LeakyReLU: negative_slope must be a number, got {kind}")
        self.negative_slope = float(negative_slope)
        self.inplace = bool(inplace)

    def forward(self, x: Any) -> Value:
        return _as_data(x).leaky_relu(self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Flatten(Module):
    """Axes ``start_dim`` to ``end_dim`` (both included) joined into one, as ``torch.nn.Flatten``.

    >>> import numpy as np
    >>> from autonet.nn import Flatten
    >>> Flatten()(np.zeros((2, 3, 4, 5))).shape, Flatten(0, 1)(np.zeros((2, 3, 4))).shape
    ((2, 60), (6, 4))
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x: Any) -> Value:
        x = _as_data(x)
        ndim = x.ndim
        start, end = self.start_dim, self.end_dim
        if not (-ndim <= start < ndim and -ndim <= end < ndim) or start % ndim > end % ndim:
            raise ValueError(
                f"Flatten: start_dim={start}, end_dim={end} do not name a run of axes "
                f"of an input of shape {x.shape}"
            )
        start, end = start % ndim, end % ndim
        shape = x.shape
        # The joined length written out: -1 would be ambiguous for an input with a side of 0.
        return x.reshape((*shape[:start], math.prod(shape[start : end + 1]), *shape[end + 1 :]))

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Axis ``dim`` split into ``unflattened_size`` (``torch.nn.Unflatten``; one -1 is inferred):
    the inverse of ``Flatten``, as before a decoder's transposed convolutions.

    >>> import numpy as np
    >>> from autonet.nn import Unflatten
    >>> Unflatten(1, (2, -1))(np.zeros((4, 6))).shape
    (4, 2, 3)
    """

    def __init__(self, dim: int, unflattened_size: tuple[int, ...]) -> None:
        if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
            raise TypeError(f"Unflatten: dim must be an int, got {dim!r}")
        self.dim, self.unflattened_size = int(dim), tuple(unflattened_size)

    def forward(self, x: Any) -> Value:
        x = _as_data(x)
        dim = self.dim % x.ndim if -x.ndim <= self.dim < x.ndim else None
        if dim is None:
            raise ValueError(f"Unflatten: dim {self.dim} is out of range for an input of shape {x.shape}")
        return x.reshape(*x.shape[:dim], *self.unflattened_size, *x.shape[dim + 1 :])

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class Upsample(Module):
    """x (N, C, L) or (N, C, H, W) resized to ``size`` or by ``scale_factor``
    (``F.interpolate``; ``torch.nn.Upsample``), ``mode="nearest"``: each output copies the input
    PyTorch's rule picks, and the gradient adds the copies' shares back.

    >>> import numpy as np
    >>> from autonet.nn import Upsample
    >>> Upsample(scale_factor=2)(np.array([[[[1.0, 2.0]]]])).tolist()
    [[[[1.0, 1.0, 2.0, 2.0], [1.0, 1.0, 2.0, 2.0]]]]
    """

    def __init__(self, size: Any = None, scale_factor: Any = None, mode: str = "nearest") -> None:
        if mode != "nearest":
            raise ValueError(f"Upsample: only mode='nearest' is supported, got mode={mode!r}")
        self.size, self.scale_factor, self.mode = size, scale_factor, mode

    def forward(self, x: Any) -> Value:
        return _functional.interpolate(_as_data(x), self.size, self.scale_factor, self.mode)

    def extra_repr(self) -> str:
        given = f"size={self.size}" if self.size is not None else f"scale_factor={self.scale_factor}"
        return f"{given}, mode={self.mode!r}"


class ModuleList(Module):
    """A list of modules whose parameters belong to the holder (``torch.nn.ModuleList``): parts
    named ``"0"``, ``"1"`` ... (``"blocks.0.weight"``), with ``append``, ``extend``, ``len``,
    iteration and indexing. It has no ``forward``: the holder calls its parts.

    >>> from autonet.nn import Linear, ModuleList
    >>> blocks = ModuleList([Linear(2, 2), Linear(2, 2)]).append(Linear(2, 1))
    >>> len(blocks), [name for name, _ in blocks.named_parameters()][-2:]
    (3, ['2.weight', '2.bias'])
    """

    def __init__(self, modules: Iterable[Module] = ()) -> None:
        object.__setattr__(self, "_count", 0)
        self.extend(modules)

    def append(self, module: Module) -> ModuleList:
        """Add ``module`` as the next part; returns self."""
        if not isinstance(module, Module):
            kind = type(self).__name__
            raise TypeError(f"{kind}: part {self._count} is a {type(module).__name__}, not a Module")
        setattr(self, str(self._count), module)
        object.__setattr__(self, "_count", self._count + 1)
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        """Append each of ``modules``; returns self."""
        for module in modules:
            self.append(module)
        return self

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[Module]:
        return (getattr(self, str(i)) for i in range(self._count))

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return type(self)(list(self)[index])
        if not -self._count <= index < self._count:
            raise IndexError(f"{type(self).__name__}: index {index} is out of range for {self._count} parts")
        return getattr(self, str(index % self._count))


class Sequential(ModuleList):
    """Modules applied in turn; the parts are named ``"0"``, ``"1"`` ... as in PyTorch, so
    parameters are ``"0.weight"``, ``"2.bias"`` ...; indexing gives a part, a slice a new Sequential.

    >>> import numpy as np
    >>> from autonet.nn import Conv2d, Flatten, Sequential
    >>> model = Sequential(Conv2d(1, 2, 3, rng=0), Flatten())
    >>> len(model), type(model[-1]).__name__, [name for name, _ in model.named_parameters()]
    (2, 'Flatten', ['0.weight', '0.bias'])
    """

    def __init__(self, *modules: Module) -> None:
        super().__init__(modules)

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return Sequential(*list(self)[index])
        return super().__getitem__(index)

    def forward(self, x: Any) -> Any:
        for module in self:
            x = module(x)
        return x


class ModuleDict(Module):
    """Modules by name, whose parameters belong to the holder (``torch.nn.ModuleDict``):
    ``heads["digits"]`` is named ``"heads.digits"``; ``keys``, ``values``, ``items``, ``in``,
    ``len`` and iteration over the names, in the order they were added.

    >>> from autonet.nn import Linear, ModuleDict
    >>> heads = ModuleDict({"low": Linear(4, 5)})
    >>> heads["high"] = Linear(4, 5)
    >>> list(heads), "low" in heads, list(heads.state_dict())[:2]
    (['low', 'high'], True, ['low.weight', 'low.bias'])
    """

    def __init__(self, modules: Mapping[str, Module] | None = None) -> None:
        object.__setattr__(self, "_names", [])
        for name, module in (modules or {}).items():
            self[name] = module

    def __setitem__(self, name: str, module: Module) -> None:
        if not isinstance(name, str) or not name.isidentifier() or name.startswith("_"):
            raise ValueError(f"ModuleDict: a name is a public attribute name, got {name!r}")
        if hasattr(type(self), name):  # "keys", "train" ...: the part would hide the method
            raise ValueError(f"ModuleDict: {name!r} is the name of a ModuleDict method; choose another")
        if not isinstance(module, Module):
            raise TypeError(f"ModuleDict: {name!r} is a {type(module).__name__}, not a Module")
        setattr(self, name, module)
        if name not in self._names:
            self._names.append(name)

    def __getitem__(self, name: str) -> Module:
        if name not in self._names:
            raise KeyError(f"ModuleDict: no module {name!r}; it has {self._names}")
        return getattr(self, name)

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def __len__(self) -> int:
        return len(self._names)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._names))

    def keys(self) -> list[str]:
        """The names, in the order they were added."""
        return list(self._names)

    def values(self) -> list[Module]:
        """The modules, in the order they were added."""
        return [getattr(self, name) for name in self._names]

    def items(self) -> list[tuple[str, Module]]:
        """``(name, module)`` pairs, in the order they were added."""
        return [(name, getattr(self, name)) for name in self._names]


class Identity(Module):
    """Returns its input as it is (``torch.nn.Identity``): a placeholder, say for a removed head.

    >>> from autonet.nn import Identity
    >>> Identity()(3.0)
    3.0

    Arguments are taken and ignored, as PyTorch's ``Identity(*args, **kwargs)`` does, so that a
    layer's constructor call can be swapped for it.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass  # PyTorch's: any arguments, unused

    def forward(self, x: Any) -> Any:
        return x
