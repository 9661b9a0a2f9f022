"""Convolutions and pooling over batches of (N, C, L) and (N, C, H, W) inputs, as PyTorch has them.

``conv1d`` and ``conv2d`` take a weight (out_channels, in_channels / groups, *kernel) and a bias
(out_channels,); stride, padding and dilation are an int or one int per spatial axis. The forward
copies the input's windows into columns (im2col: one strided slice per kernel offset) and
multiplies them with the weight in one BLAS product (one per group); it keeps the columns for
the weight's gradient of a plain backward. Arrays stay in their dtype: float32 in, float32 out.

The gradients are convolutions again, and each has an op of its own so that it can be
differentiated once more: ``conv_input_grad`` (the transposed convolution: each kernel offset
adds its share of the output gradient back into the input) and ``conv_weight_grad`` (windows of
the input against the output gradient). With the convolution C(x, w) bilinear, the three close
under differentiation: X(g, w) = C_x^T g and W(x, g) = C_w^T g have vjps C(h, w), W(h, g) and
X(g, k), C(x, k). Being bilinear, each of the three has for its jvp in one operand the op itself
with that operand replaced by its tangent (and a convolution's bias tangent is broadcast, as
the bias is).

``max_pool2d`` gives each window's gradient to its first maximum in row-major window order (as
PyTorch's CPU kernel does): ties are kinks, marked ``distinct``; a nan is the maximum of its window.
Its vjp scatters the output gradient to those positions, through ``scatter_add`` on Values, so it
differentiates again. ``avg_pool2d`` (padding counted in the mean, PyTorch's default) is a
depthwise convolution with a constant kernel: a composite.
"""

from __future__ import annotations

import functools
import itertools
import math
from typing import Any

import numpy as np

from .registry import REAL, Cases, Edge, Op, apply, is_value, register, sum_rows
from .shape import scatter_add

Samples = list[tuple[tuple[np.ndarray, ...], dict[str, Any]]]
Params = dict[str, Any]

_LAYOUT = {1: "(N, C, L)", 2: "(N, C, H, W)"}
_WEIGHT_LAYOUT = {
    1: "(out_channels, in_channels / groups, kL)",
    2: "(out_channels, in_channels / groups, kH, kW)",
}


# --------------------------------------------------------------------------- arguments


def spatial_ints(value: Any, d: int, op: str, what: str, low: int) -> tuple[int, ...]:
    """An int or a tuple of ``d`` ints, each at least ``low``, as a tuple of ``d`` ints.

    >>> spatial_ints(2, 2, "conv2d", "stride", 1)
    (2, 2)
    >>> spatial_ints((1, 0), 2, "conv2d", "stride", 1)
    Traceback (most recent call last):
    ...
    ValueError: conv2d: stride must be at least 1 on every axis, got (1, 0)
    """
    parts = tuple(value) if isinstance(value, (tuple, list)) else (value,) * d
    if len(parts) != d:
        raise TypeError(f"{op}: {what} must be an int or a tuple of {d} ints, got {value!r}")
    # A plain loop: this runs for every argument of every convolution and pooling call.
    for p in parts:
        if type(p) is not int and (isinstance(p, bool) or not isinstance(p, (int, np.integer))):
            raise TypeError(f"{op}: {what} must be an int or a tuple of {d} ints, got {value!r}")
        if p < low:
            raise ValueError(f"{op}: {what} must be at least {low} on every axis, got {value!r}")
    return parts if all(type(p) is int for p in parts) else tuple(int(p) for p in parts)


def _conv_params(op: str, d: int, stride: Any, padding: Any, dilation: Any, groups: Any) -> Params:
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    return {
        "stride": spatial_ints(stride, d, op, "stride", 1),
        "padding": spatial_ints(padding, d, op, "padding", 0),
        "dilation": spatial_ints(dilation, d, op, "dilation", 1),
        "groups": int(groups),
    }


def check_ranks(op: str, d: int, x_shape: tuple[int, ...], w_shape: tuple[int, ...]) -> None:
    """Raise ValueError, naming ``op`` and the shape, unless the input and the weight of a
    ``d``-d convolution have ``d + 2`` axes.

    >>> check_ranks("conv2d", 2, (3, 5, 5), (1, 3, 2, 2))
    Traceback (most recent call last):
    ...
    ValueError: conv2d: the input must be 4-d (N, C, H, W), got shape (3, 5, 5) (add a batch axis: x[None])
    """
    if len(x_shape) != d + 2:
        hint = " (add a batch axis: x[None])" if len(x_shape) == d + 1 else ""
        raise ValueError(f"{op}: the input must be {d + 2}-d {_LAYOUT[d]}, got shape {x_shape}{hint}")
    if len(w_shape) != d + 2:
        raise ValueError(f"{op}: the weight must be {d + 2}-d {_WEIGHT_LAYOUT[d]}, got shape {w_shape}")


def conv_output_shape(
    op: str, x_shape: tuple[int, ...], w_shape: tuple[int, ...], params: Params
) -> tuple[int, ...]:
    """The output shape of a convolution of an input and a weight of these shapes, checked.

    Raises ValueError, naming ``op``, the shapes and the argument at fault, when they do not fit.

    >>> conv_output_shape("conv2d", (1, 2, 5, 5), (4, 2, 3, 3), {"stride": (2, 2), "padding": (1, 1),
    ...     "dilation": (1, 1), "groups": 1})
    (1, 4, 3, 3)
    """
    d = len(params["stride"])
    check_ranks(op, d, x_shape, w_shape)
    n, channels, *size = x_shape
    out_channels, per_group, *kernel = w_shape
    groups = params["groups"]
    if channels % groups or out_channels % groups:
        raise ValueError(
            f"{op}: groups={groups} must divide the input channels ({channels}, input shape {x_shape}) "
            f"and the output channels ({out_channels}, weight shape {w_shape})"
        )
    if per_group * groups != channels:
        raise ValueError(
            f"{op}: the weight {w_shape} takes {per_group} channels per group, the input {x_shape} has "
            f"{channels} channels in {groups} group(s): weight.shape[1] must be {channels // groups}"
        )
    if min(kernel) < 1:
        raise ValueError(f"{op}: the kernel {tuple(kernel)} (weight shape {w_shape}) has a side of 0")
    out = []
    for side, k, s, p, dil in zip(
        size, kernel, params["stride"], params["padding"], params["dilation"], strict=True
    ):
        extent = dil * (k - 1) + 1
        if extent > side + 2 * p:
            raise ValueError(
                f"{op}: the kernel {tuple(kernel)} (dilation {params['dilation']}) is larger than the padded "
                f"input: input shape {x_shape}, padding {params['padding']}"
            )
        out.append((side + 2 * p - extent) // s + 1)
    return (n, out_channels, *out)


# --------------------------------------------------------------------------- the arrays
# A convolution is one matrix product: the weight (O, C / groups * kernel) against the columns
# of the input (im2col: one row per input channel and kernel offset, one column per output
# position), copied from the padded input one kernel offset at a time (a strided slice each).
# The columns are laid out with the channels first and the batch either second (N, *out) or
# last (*out, N); the copies and adds run along the last axis, so a short output row (a small
# image late in a network) is better joined with the batch behind it, at the price of moving
# the batch axis of x, g and the output. Measured on the shapes of benchmarks/cnn.py and a few
# larger ones: batch last is up to three times faster for rows shorter than 8; for longer rows
# the two come out about even, except with few input channels (a first layer), where batch
# second is twice as fast.
_BATCH_LAST_BELOW = 8


def _work_axes(d: int, out: tuple[int, ...]) -> tuple[int, ...]:
    """The order of the axes of x (N, C, *spatial) in the working layout: channels first."""
    spatial = tuple(range(2, 2 + d))
    return (1, *spatial, 0) if out[-1] < _BATCH_LAST_BELOW else (1, 0, *spatial)


# The two helpers below see only the few working layouts above: their answers are kept.
@functools.cache
def _spatial_positions(axes: tuple[int, ...]) -> tuple[int, ...]:
    """Where the spatial axes sit in the working layout."""
    return tuple(i for i, axis in enumerate(axes) if axis >= 2)


@functools.cache
def _inverse(axes: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(axes.index(i) for i in range(len(axes)))


@functools.lru_cache(maxsize=64)
def _taps(
    work_shape: tuple[int, ...], positions: tuple[int, ...], out: tuple[int, ...], stride, dilation, kernel
) -> tuple[tuple[tuple[int, ...], tuple[slice, ...]], ...]:
    """For each kernel offset (row-major), the index of the padded working array that it
    multiplies: a strided slice per spatial axis. Cached: a training loop asks for the same
    shapes at every step, and building the slices costs more than using them on small inputs."""
    taps = []
    for offset in itertools.product(*map(range, kernel)):
        index: list[Any] = [slice(None)] * len(work_shape)
        for position, o, m, s, dil in zip(positions, offset, out, stride, dilation, strict=True):
            index[position] = slice(o * dil, o * dil + s * (m - 1) + 1, s)
        taps.append((offset, tuple(index)))
    return tuple(taps)


def _to_work(a: np.ndarray, axes: tuple[int, ...], padding: tuple[int, ...], dtype: Any) -> np.ndarray:
    """``a`` (N, C, *spatial) transposed to the working layout and zero-padded: one copy."""
    positions = _spatial_positions(axes)
    moved = a.transpose(axes)
    if not any(padding):
        return np.ascontiguousarray(moved, dtype=dtype)
    shape = list(moved.shape)
    inner: list[Any] = [slice(None)] * moved.ndim
    for position, p in zip(positions, padding, strict=True):
        shape[position] += 2 * p
        inner[position] = slice(p, p + moved.shape[position])
    work = np.zeros(shape, dtype=dtype)
    work[tuple(inner)] = moved
    return work


def _rest_shape(axes: tuple[int, ...], n: int, out: tuple[int, ...]) -> tuple[int, ...]:
    """The shape of the working layout's axes after the channels, for a batch n and output out."""
    return tuple(n if a == 0 else out[a - 2] for a in axes[1:])


def _columns(x: np.ndarray, kernel, out, stride, padding, dilation, dtype) -> np.ndarray:
    """im2col: (C * kernel, N * out) in the working layout of ``_work_axes``."""
    n, channels = x.shape[:2]
    axes = _work_axes(len(kernel), out)
    work = _to_work(x, axes, padding, dtype)
    rest = _rest_shape(axes, n, out)
    cols = np.empty((channels, *kernel, *rest), dtype=dtype)
    for offset, index in _taps(work.shape, _spatial_positions(axes), out, stride, dilation, kernel):
        cols[(slice(None), *offset)] = work[index]
    return cols.reshape(channels * math.prod(kernel), math.prod(rest))


def _output_size(size, kernel, stride, padding, dilation) -> tuple[int, ...]:
    return tuple(
        (m + 2 * p - dil * (k - 1) - 1) // s + 1
        for m, k, s, p, dil in zip(size, kernel, stride, padding, dilation, strict=True)
    )


def _from_work(result: np.ndarray, axes: tuple[int, ...], n: int, out: tuple[int, ...]) -> np.ndarray:
    """(O, N * out) in the working layout, as a view (N, O, *out)."""
    return result.reshape(result.shape[0], *_rest_shape(axes, n, out)).transpose(_inverse(axes))


def _gradient_to_work(g: np.ndarray, axes: tuple[int, ...], dtype: Any) -> np.ndarray:
    """The output gradient (N, O, *out) as (O, N * out) in the working layout."""
    return np.ascontiguousarray(g.transpose(axes), dtype=dtype).reshape(
        g.shape[1], math.prod(g.shape) // g.shape[1]
    )


def _conv_forward(x, w, b, stride, padding, dilation, groups) -> tuple[np.ndarray, np.ndarray]:
    """The convolution and, saved for the weight's vjp, the columns of x."""
    d = w.ndim - 2
    n, kernel = x.shape[0], w.shape[2:]
    out = _output_size(x.shape[2:], kernel, stride, padding, dilation)
    dtype = np.result_type(x, w)
    cols = _columns(x, kernel, out, stride, padding, dilation, dtype)
    o, size = w.shape[0], cols.shape[1]
    weights = w.reshape(groups, o // groups, -1).astype(dtype, copy=False)
    axes = _work_axes(d, out)
    if axes[1] == 0:
        # Batch second: one product per sample (BLAS takes the strided columns as they are)
        # writes the output (N, O, *out) in place, with no transposition after.
        places = math.prod(out)
        by_sample = cols.reshape(groups, cols.shape[0] // groups, n, places).transpose(2, 0, 1, 3)
        result = np.matmul(weights, by_sample).reshape(n, o, *out)
    else:
        product = (weights @ cols.reshape(groups, cols.shape[0] // groups, size)).reshape(o, size)
        result = _from_work(product, axes, n, out)
    if b is None:
        return np.ascontiguousarray(result), cols
    bias = b.reshape(-1, *(1,) * d)
    if result.flags.c_contiguous and np.result_type(result, b) == result.dtype:
        result += bias  # a fresh array of this op's own
        return result, cols
    return np.add(result, bias, order="C"), cols


def _conv(x, w, b, stride, padding, dilation, groups) -> np.ndarray:
    return _conv_forward(x, w, b, stride, padding, dilation, groups)[0]


def _conv_input_grad(g, w, input_shape, stride, padding, dilation, groups) -> np.ndarray:
    """col2im: the columns' gradient (the weight against g) added back at each kernel offset."""
    d = w.ndim - 2
    n, channels, *size = input_shape
    out, kernel = g.shape[2:], w.shape[2:]
    axes = _work_axes(d, out)
    dtype = np.result_type(g, w)
    grads = _gradient_to_work(g, axes, dtype)
    per_group = w.reshape(groups, w.shape[0] // groups, -1).astype(dtype, copy=False)
    cols = per_group.transpose(0, 2, 1) @ grads.reshape(groups, grads.shape[0] // groups, grads.shape[1])
    cols = cols.reshape(channels, *kernel, *_rest_shape(axes, n, out))
    positions = _spatial_positions(axes)
    padded = tuple(m + 2 * p for m, p in zip(size, padding, strict=True))
    work = np.zeros((channels, *_rest_shape(axes, n, padded)), dtype=dtype)
    for offset, index in _taps(work.shape, positions, out, stride, dilation, kernel):
        work[index] += cols[(slice(None), *offset)]
    inner: list[Any] = [slice(None)] * work.ndim
    for position, p, m in zip(positions, padding, size, strict=True):
        inner[position] = slice(p, p + m)
    return np.ascontiguousarray(work[tuple(inner)].transpose(_inverse(axes)))


def _weight_grad_from_columns(g: np.ndarray, cols: np.ndarray, weight_shape, groups) -> np.ndarray:
    d = len(weight_shape) - 2
    dtype = cols.dtype
    grads = _gradient_to_work(g, _work_axes(d, g.shape[2:]), dtype)
    size = cols.shape[1]
    by_group = grads.reshape(groups, grads.shape[0] // groups, size)
    per_group = by_group @ cols.reshape(groups, cols.shape[0] // groups, size).transpose(0, 2, 1)
    return per_group.reshape(weight_shape)


def _conv_weight_grad(x, g, weight_shape, stride, padding, dilation, groups) -> np.ndarray:
    dtype = np.result_type(x, g)
    cols = _columns(x, tuple(weight_shape[2:]), g.shape[2:], stride, padding, dilation, dtype)
    return _weight_grad_from_columns(g, cols, weight_shape, groups)


def _padded(x: np.ndarray, pads: tuple[tuple[int, int], ...], fill: Any) -> np.ndarray:
    """x (N, C, *spatial) with ``fill`` before and after each spatial axis, ``pads`` (before, after)."""
    if not any(map(any, pads)):
        return x
    shape = (*x.shape[:2], *(n + a + b for n, (a, b) in zip(x.shape[2:], pads, strict=True)))
    out = np.full(shape, fill, dtype=x.dtype)
    out[
        (slice(None), slice(None), *(slice(a, a + n) for n, (a, _) in zip(x.shape[2:], pads, strict=True)))
    ] = x
    return out


# --------------------------------------------------------------------------- arrays or Values
# A vjp gets arrays in a plain backward and Values under create_graph: the helpers below compute
# with numpy on arrays and apply the registered op on Values, so that the result records a graph.


def _convolve(x: Any, w: Any, stride, padding, dilation, groups) -> Any:
    """C(x, w) without a bias."""
    params = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    if not (is_value(x) or is_value(w)):
        return _conv(x, w, None, **params)
    bias = np.zeros(w.shape[0], dtype=np.result_type(x.dtype, w.dtype))
    return apply(CONV_OPS[len(stride)], x, w, bias, **params)


def input_grad(g: Any, w: Any, input_shape: tuple[int, ...], **params: Any) -> Any:
    """The gradient of a convolution with respect to its input: a transposed convolution.

    >>> g, w, plain = np.ones((1, 1, 2, 2)), np.ones((1, 1, 2, 2)), {"dilation": (1, 1), "groups": 1}
    >>> input_grad(g, w, (1, 1, 3, 3), stride=(1, 1), padding=(0, 0), **plain)[0, 0].tolist()
    [[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]
    """
    if not (is_value(g) or is_value(w)):
        return _conv_input_grad(g, w, tuple(input_shape), **params)
    return apply(conv_input_grad_op, g, w, input_shape=tuple(input_shape), **params)


def weight_grad(x: Any, g: Any, weight_shape: tuple[int, ...], **params: Any) -> Any:
    """The gradient of a convolution with respect to its weight: windows of x against g.

    >>> x, g = np.arange(9.0).reshape(1, 1, 3, 3), np.ones((1, 1, 2, 2))
    >>> plain = {"dilation": (1, 1), "groups": 1}
    >>> weight_grad(x, g, (1, 1, 2, 2), stride=(1, 1), padding=(0, 0), **plain)[0, 0].tolist()
    [[8.0, 12.0], [20.0, 24.0]]
    """
    if not (is_value(x) or is_value(g)):
        return _conv_weight_grad(x, g, tuple(weight_shape), **params)
    return apply(conv_weight_grad_op, x, g, weight_shape=tuple(weight_shape), **params)


def _conv_vjp_x(g, out, x, w, b, saved=None, **params):
    return input_grad(g, w, x.shape, **params)


def _conv_vjp_w(g, out, x, w, b, saved=None, **params):
    if saved is None or is_value(g) or is_value(x):
        return weight_grad(x, g, w.shape, **params)
    # A plain backward: the forward's columns of x, so only the matrix product is left.
    return _weight_grad_from_columns(g, saved, w.shape, params["groups"])


def _conv_vjp_b(g, out, x, w, b, saved=None, **params):
    if is_value(g) or g.dtype.kind != "f":
        return g.sum(axis=(0, *range(2, g.ndim)))
    # Two products with vectors of ones (BLAS) beat numpy's reduction over the batch and the places.
    n, channels = g.shape[:2]
    per_place = sum_rows(g.reshape(n, math.prod(g.shape[1:]))).reshape(channels, math.prod(g.shape[2:]))
    return sum_rows(per_place.T)


def _conv_jvp_x(t, out, x, w, b, saved=None, **params):
    return _convolve(t, w, **params)


def _conv_jvp_w(t, out, x, w, b, saved=None, **params):
    return _convolve(x, t, **params)


def _conv_jvp_b(t, out, x, w, b, saved=None, **params):
    return np.reshape(t, (-1, *(1,) * (np.ndim(out) - 2)))


def _input_grad_vjp_g(h, out, g, w, input_shape, **params):
    return _convolve(h, w, **params)


def _input_grad_vjp_w(h, out, g, w, input_shape, **params):
    return weight_grad(h, g, w.shape, **params)


def _weight_grad_vjp_x(k, out, x, g, weight_shape, **params):
    return input_grad(g, k, x.shape, **params)


def _weight_grad_vjp_g(k, out, x, g, weight_shape, **params):
    return _convolve(x, k, **params)


# --------------------------------------------------------------------------- conv1d, conv2d


def _conv_args(name: str, d: int):
    def prepare(x, weight, bias, stride=1, padding=0, dilation=1, groups=1) -> tuple[tuple[Any, ...], Params]:
        params = _conv_params(name, d, stride, padding, dilation, groups)
        conv_output_shape(name, x.shape, weight.shape, params)
        if bias.shape != weight.shape[:1]:
            raise ValueError(
                f"{name}: the bias must have shape {weight.shape[:1]} (one per output channel of the weight "
                f"{weight.shape}), got shape {bias.shape}"
            )
        return (x, weight, bias), params

    return prepare


def _conv_samples(d: int):
    forms: list[tuple[tuple[int, ...], tuple[int, ...], Params]] = [
        ((1, 1, *(3,) * d), (1, 1, *(2,) * d), {}),
        ((2, 2, 4) if d == 1 else (1, 2, 3, 4), (2, 2, *(2,) * d), {"stride": 2, "padding": 1}),
        ((1, 2, *(4,) * d) if d == 1 else (1, 2, 3, 4), (2, 1, *(2,) * d), {"groups": 2, "dilation": 2}),
        ((1, 1, *(2,) * d), (2, 1, *(1,) * d), {"padding": 2}),  # padding wider than the kernel
        ((1, 2, 5) if d == 1 else (1, 1, 3, 4), (1, 2, 3) if d == 1 else (1, 1, 2, 3), {"stride": (2,) * d}),
    ]

    def samples(rng: np.random.Generator, dtype: Any) -> Samples:
        return [
            (
                (
                    rng.uniform(-2, 2, xs).astype(dtype),
                    rng.uniform(-2, 2, ws).astype(dtype),
                    rng.uniform(-2, 2, ws[:1]).astype(dtype),
                ),
                params,
            )
            for xs, ws, params in forms
        ]

    return samples


def _conv_edges(d: int) -> tuple[Edge, ...]:
    one = (1,) * d
    return (
        Edge(
            "a batch of 0: an empty output, zero gradients",
            (np.zeros((0, 1, *(3,) * d)), np.ones((2, 1, *(2,) * d)), np.ones(2)),
            grads=(np.zeros((0, 1, *(3,) * d)), np.zeros((2, 1, *(2,) * d)), np.zeros(2)),
            value=np.zeros((0, 2, *(2,) * d)),
        ),
        Edge(
            "a kernel as large as the input: one output per channel",
            (np.full((1, 1, *(2,) * d), 2.0), np.full((1, 1, *(2,) * d), 3.0), np.ones(1)),
            grads=(np.full((1, 1, *(2,) * d), 3.0), np.full((1, 1, *(2,) * d), 2.0), np.ones(1)),
            value=np.full((1, 1, *one), 6.0 * 2**d + 1),
        ),
        Edge(
            "padding wider than the kernel: the rim sees only the bias",
            (np.full((1, 1, *one), 2.0), np.full((1, 1, *one), 3.0), np.ones(1)),
            params={"padding": 2},
            grads=(np.full((1, 1, *one), 3.0), np.full((1, 1, *one), 2.0), np.full(1, 5.0**d)),
            value=np.pad(np.full((1, 1, *one), 6.0), [(0, 0), (0, 0), *[(2, 2)] * d]) + 1,
        ),
        Edge(
            "0-d input", (2.0, np.ones((1, 1, *one)), np.ones(1)), raises=ValueError, note="torch raises too"
        ),
    )


PADDING_MODES = ("zeros", "reflect", "replicate", "circular")
"""How a convolution module fills its padding (PyTorch's ``padding_mode``)."""

_NUMPY_PAD_MODE = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def conv_pads(op: str, weight_shape: tuple[int, ...], padding: Any, stride: Any, dilation: Any) -> tuple:
    """The padding (before, after) of each spatial axis: from ``padding`` as an int or one int per
    axis (both sides), "valid" (none) or "same" (the output as long as the input, stride 1; an odd
    total puts the extra element after, as PyTorch does).

    >>> conv_pads("conv2d", (1, 1, 3, 2), "same", 1, 1)
    ((1, 1), (0, 1))
    """
    d = len(weight_shape) - 2
    if not isinstance(padding, str):
        return tuple((p, p) for p in spatial_ints(padding, d, op, "padding", 0))
    if padding == "valid":
        return ((0, 0),) * d
    if padding != "same":
        raise ValueError(
            f"{op}: padding must be 'valid', 'same', an int or a tuple of {d} ints, got {padding!r}"
        )
    if spatial_ints(stride, d, op, "stride", 1) != (1,) * d:
        raise ValueError(f"{op}: padding='same' needs stride 1, got stride {stride!r}")
    totals = (
        dil * (k - 1)
        for dil, k in zip(spatial_ints(dilation, d, op, "dilation", 1), weight_shape[2:], strict=True)
    )
    return tuple((t // 2, t - t // 2) for t in totals)


@functools.lru_cache(maxsize=64)
def _filled_rows(size: int, before: int, after: int, mode: str) -> np.ndarray:
    rows = np.pad(np.arange(size), (before, after), mode=_NUMPY_PAD_MODE[mode])
    rows.flags.writeable = False
    return rows


def _convolve_padded(
    d: int, x: Any, weight: Any, bias: Any, stride, pads, dilation, groups, mode: str
) -> Any:
    """The convolution of x with ``pads`` filled by ``mode``: zeros by the op's own padding (what
    an axis has more after than before, from padding="same", joined to x as zeros first), any
    other by gathering x's rows into the padded input (getitem: its gradient adds them back)."""
    op = CONV_OPS[d]
    shape = np.shape(x)
    if mode == "zeros":
        for axis, (before, after) in enumerate(pads, start=2):
            if after > before:
                dtype = getattr(x, "dtype", np.float64)
                extra = np.zeros((*shape[:axis], after - before, *shape[axis + 1 :]), dtype=dtype)
                x = apply("concatenate", x, extra, axis=axis)
                shape = x.shape
        return apply(op, x, weight, bias, stride, tuple(before for before, _ in pads), dilation, groups)
    for n, (before, after) in zip(shape[2:], pads, strict=True):
        if (mode == "reflect" and max(before, after) >= n) or (mode == "circular" and max(before, after) > n):
            limit = "shorter than" if mode == "reflect" else "at most"
            raise ValueError(
                f"{op.name}: padding_mode={mode!r} needs padding {limit} the input's side: padding "
                f"{tuple(pads)}, input shape {shape}"
            )
    rows = [_filled_rows(n, before, after, mode) for n, (before, after) in zip(shape[2:], pads, strict=True)]
    index = np.ix_(*rows) if d > 1 else (rows[0],)
    padded = apply("getitem", x, index=(slice(None), slice(None), *index))
    return apply(op, padded, weight, bias, stride, 0, dilation, groups)


def conv1d(
    x: Any,
    weight: Any,
    bias: Any = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> Any:
    """1-d convolution (cross-correlation, as PyTorch) of x (N, C, L) with weight (O, C / groups, k)
    and an optional bias (O,); stride and dilation are ints or 1-tuples, padding too or "valid" or
    "same".

    Returns (N, O, L_out); raises ValueError naming the shapes and the argument that do not fit.

    >>> from autonet import Value, conv1d
    >>> conv1d(Value([[[1.0, 2.0, 3.0]]]), Value([[[1.0, -1.0]]])).tolist()
    [[[-1.0, -1.0]]]
    """
    return _checked_conv(1, x, weight, bias, stride, padding, dilation, groups, "zeros")


def conv2d(
    x: Any,
    weight: Any,
    bias: Any = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> Any:
    """2-d convolution (cross-correlation, as PyTorch) of x (N, C, H, W) with weight
    (O, C / groups, kH, kW) and an optional bias (O,); stride and dilation are ints or pairs,
    padding too or "valid" or "same".

    Returns (N, O, H_out, W_out); raises ValueError naming the shapes and the argument that do not fit.

    >>> import numpy as np
    >>> from autonet import Value, conv2d
    >>> x = Value(np.arange(9.0).reshape(1, 1, 3, 3))
    >>> conv2d(x, Value([[[[1.0, 0.0], [0.0, -1.0]]]]), Value([0.5]), stride=1).tolist()
    [[[[-3.5, -3.5], [-3.5, -3.5]]]]
    >>> conv2d(x, Value(np.ones((1, 1, 2, 2))), padding="same").shape
    (1, 1, 3, 3)
    """
    return _checked_conv(2, x, weight, bias, stride, padding, dilation, groups, "zeros")


def convolve_padded(
    x: Any, weight: Any, bias: Any, stride: Any, pads: tuple, dilation: Any, groups: int, mode: str = "zeros"
) -> Any:
    """conv1d or conv2d (by the weight's axes) of x with ``pads`` ((before, after) per spatial axis,
    as ``conv_pads`` gives them) filled by ``mode``, one of ``PADDING_MODES``: what a convolution
    module with PyTorch's ``padding_mode`` computes.

    >>> import numpy as np
    >>> x, weight = np.array([[[1.0, 2.0]]]), np.ones((1, 1, 3))
    >>> convolve_padded(x, weight, None, 1, ((1, 1),), 1, 1, "circular").tolist()
    [[[5.0, 4.0]]]
    """
    if mode not in PADDING_MODES:
        raise ValueError(f"padding_mode must be one of {PADDING_MODES}, got {mode!r}")
    d = np.ndim(weight) - 2
    if d not in CONV_OPS:
        raise ValueError(f"convolve_padded: the weight must be 3-d or 4-d, got shape {np.shape(weight)}")
    check_ranks(CONV_OPS[d].name, d, np.shape(x), np.shape(weight))
    return _convolve_padded(d, x, weight, _bias_for(weight, bias, x), stride, pads, dilation, groups, mode)


def _checked_conv(
    d: int, x: Any, weight: Any, bias: Any, stride, padding, dilation, groups, mode: str
) -> Any:
    # The ranks first: the padding's meaning ("same") depends on the weight's spatial axes.
    check_ranks(CONV_OPS[d].name, d, np.shape(x), np.shape(weight))
    pads = conv_pads(CONV_OPS[d].name, np.shape(weight), padding, stride, dilation)
    return _convolve_padded(d, x, weight, _bias_for(weight, bias, x), stride, pads, dilation, groups, mode)


def _bias_for(weight: Any, bias: Any, x: Any) -> Any:
    if bias is not None:
        return bias
    # No bias: zeros, a constant that needs no gradient (the vjp of a constant is never run).
    dtype = np.result_type(getattr(x, "dtype", np.float64), getattr(weight, "dtype", np.float64))
    if dtype.kind != "f":
        dtype = np.dtype(np.float64)
    return np.zeros(np.shape(weight)[:1], dtype=dtype)


def _register_conv(d: int, function: Any) -> Op:
    name = f"conv{d}d"
    return register(
        Op(
            name,
            _conv_forward,
            (_conv_vjp_x, _conv_vjp_w, _conv_vjp_b),
            (REAL, REAL, REAL),
            jvps=(_conv_jvp_x, _conv_jvp_w, _conv_jvp_b),
            saves=True,
            cases=Cases("conv", samples=_conv_samples(d)),
            doc=f"{d}-d convolution (cross-correlation) with PyTorch's arguments: weight "
            f"{_WEIGHT_LAYOUT[d]}, bias (out_channels,), stride, padding, dilation, groups.",
            edges=_conv_edges(d),
            prepare=_conv_args(name, d),
            function=function,
        )
    )


CONV_OPS: dict[int, Op] = {1: _register_conv(1, conv1d), 2: _register_conv(2, conv2d)}
"""The convolution op for each number of spatial axes."""


# --------------------------------------------------------------------------- the gradients' ops


def _spatial_dims(name: str, what: str, shape: tuple[int, ...]) -> int:
    if len(shape) not in (3, 4):
        raise ValueError(f"{name}: {what} must be 3-d (conv1d) or 4-d (conv2d), got shape {shape}")
    return len(shape) - 2


def _shape_param(name: str, what: str, shape: Any) -> tuple[int, ...]:
    if not isinstance(shape, (tuple, list)) or any(
        isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0 for n in shape
    ):
        raise TypeError(f"{name}: {what} must be a tuple of non-negative ints, got {shape!r}")
    return tuple(int(n) for n in shape)


def _check_gradient(name: str, g_shape: tuple[int, ...], expected: tuple[int, ...], setting: str) -> None:
    if tuple(g_shape) != expected:
        raise ValueError(f"{name}: the output gradient has shape {tuple(g_shape)}, {setting} need {expected}")


def _input_grad_args(g, weight, input_shape, stride=1, padding=0, dilation=1, groups=1):
    name = "conv_input_grad"
    input_shape = _shape_param(name, "input_shape", input_shape)
    params = _conv_params(
        name, _spatial_dims(name, "the weight", weight.shape), stride, padding, dilation, groups
    )
    expected = conv_output_shape(name, input_shape, weight.shape, params)
    _check_gradient(name, g.shape, expected, f"input shape {input_shape} and weight {weight.shape}")
    return (g, weight), {"input_shape": input_shape, **params}


def _weight_grad_args(x, g, weight_shape, stride=1, padding=0, dilation=1, groups=1):
    name = "conv_weight_grad"
    weight_shape = _shape_param(name, "weight_shape", weight_shape)
    params = _conv_params(name, _spatial_dims(name, "the input", x.shape), stride, padding, dilation, groups)
    expected = conv_output_shape(name, x.shape, weight_shape, params)
    _check_gradient(name, g.shape, expected, f"input {x.shape} and weight shape {weight_shape}")
    return (x, g), {"weight_shape": weight_shape, **params}


def _gradient_samples(which: str):
    def samples(rng: np.random.Generator, dtype: Any) -> Samples:
        cases = []
        for d in (1, 2):
            for (x, w, _), params in _conv_samples(d)(rng, dtype)[1:4]:
                full = _conv_params(
                    "samples", d, **{"stride": 1, "padding": 0, "dilation": 1, "groups": 1, **params}
                )
                g = rng.uniform(-2, 2, conv_output_shape("samples", x.shape, w.shape, full)).astype(dtype)
                if which == "input":
                    cases.append(((g, w), {"input_shape": x.shape, **params}))
                else:
                    cases.append(((x, g), {"weight_shape": w.shape, **params}))
        return cases

    return samples


conv_input_grad_op = register(
    Op(
        "conv_input_grad",
        _conv_input_grad,
        (_input_grad_vjp_g, _input_grad_vjp_w),
        (REAL, REAL),
        jvps=(
            lambda t, out, g, w, input_shape, **params: input_grad(t, w, input_shape, **params),
            lambda t, out, g, w, input_shape, **params: input_grad(g, t, input_shape, **params),
        ),
        cases=Cases("conv_gradient", samples=_gradient_samples("input")),
        doc="The gradient of conv1d/conv2d for its input (a transposed convolution) from the output "
        "gradient g and the weight.",
        edges=(
            Edge(
                "a batch of 0",
                (np.zeros((0, 1, 2, 2)), np.ones((1, 1, 2, 2))),
                params={"input_shape": (0, 1, 3, 3)},
                grads=(np.zeros((0, 1, 2, 2)), np.zeros((1, 1, 2, 2))),
                value=np.zeros((0, 1, 3, 3)),
            ),
            Edge(
                "one output: the kernel times its gradient",
                (np.full((1, 1, 1, 1), 2.0), np.array([[[[1.0, 2.0], [3.0, 4.0]]]])),
                params={"input_shape": (1, 1, 2, 2)},
                grads=(np.full((1, 1, 1, 1), 10.0), np.full((1, 1, 2, 2), 2.0)),
                value=np.array([[[[2.0, 4.0], [6.0, 8.0]]]]),
            ),
            Edge(
                "0-d g", (2.0, np.ones((1, 1, 1, 1))), params={"input_shape": (1, 1, 1, 1)}, raises=ValueError
            ),
        ),
        prepare=_input_grad_args,
    )
)

conv_weight_grad_op = register(
    Op(
        "conv_weight_grad",
        _conv_weight_grad,
        (_weight_grad_vjp_x, _weight_grad_vjp_g),
        (REAL, REAL),
        jvps=(
            lambda t, out, x, g, weight_shape, **params: weight_grad(t, g, weight_shape, **params),
            lambda t, out, x, g, weight_shape, **params: weight_grad(x, t, weight_shape, **params),
        ),
        cases=Cases("conv_gradient", samples=_gradient_samples("weight")),
        doc="The gradient of conv1d/conv2d for its weight, from the input and the output gradient g.",
        edges=(
            Edge(
                "a batch of 0: zero weight gradient",
                (np.zeros((0, 1, 3, 3)), np.zeros((0, 1, 2, 2))),
                params={"weight_shape": (1, 1, 2, 2)},
                grads=(np.zeros((0, 1, 3, 3)), np.zeros((0, 1, 2, 2))),
                value=np.zeros((1, 1, 2, 2)),
            ),
            Edge(
                "one output: the input times its gradient",
                (np.array([[[[1.0, 2.0], [3.0, 4.0]]]]), np.full((1, 1, 1, 1), 2.0)),
                params={"weight_shape": (1, 1, 2, 2)},
                grads=(np.full((1, 1, 2, 2), 2.0), np.full((1, 1, 1, 1), 10.0)),
                value=np.array([[[[2.0, 4.0], [6.0, 8.0]]]]),
            ),
            Edge(
                "0-d x",
                (2.0, np.ones((1, 1, 1, 1))),
                params={"weight_shape": (1, 1, 1, 1)},
                raises=ValueError,
            ),
        ),
        prepare=_weight_grad_args,
    )
)


# --------------------------------------------------------------------------- pooling
# PyTorch's pooling geometry: with ceil_mode the last window may run past the padded input (it
# must start inside the input or its left padding), and such a window counts only what it covers.


def pool_params(
    op: str,
    shape: tuple[int, ...],
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    ceil_mode: Any = False,
    dilation: Any = None,
) -> Params:
    """``kernel_size``, ``stride`` (None: the kernel size), ``padding``, ``ceil_mode`` and (for a
    max pool) ``dilation`` of a 2-d pooling, checked against an input of ``shape``: padding at
    most half the kernel, at least one window.

    >>> pool_params("max_pool2d", (1, 1, 4, 4), 2, None, 0)
    {'kernel_size': (2, 2), 'stride': (2, 2), 'padding': (0, 0), 'ceil_mode': False}
    """
    if len(shape) != 4:
        hint = " (add a batch axis: x[None])" if len(shape) == 3 else ""
        raise ValueError(f"{op}: the input must be 4-d (N, C, H, W), got shape {shape}{hint}")
    if 0 in shape[1:]:
        raise ValueError(f"{op}: only the batch axis may be empty, got an input of shape {shape}")
    kernel = spatial_ints(kernel_size, 2, op, "kernel_size", 1)
    strides = kernel if stride is None else spatial_ints(stride, 2, op, "stride", 1)
    pads = spatial_ints(padding, 2, op, "padding", 0)
    if not isinstance(ceil_mode, (bool, np.bool_)):
        raise TypeError(f"{op}: ceil_mode must be a bool, got {ceil_mode!r}")
    params = {"kernel_size": kernel, "stride": strides, "padding": pads, "ceil_mode": bool(ceil_mode)}
    dilations = (1, 1) if dilation is None else spatial_ints(dilation, 2, op, "dilation", 1)
    if dilation is not None:
        params["dilation"] = dilations
    if any(2 * p > k for p, k in zip(pads, kernel, strict=True)):
        raise ValueError(f"{op}: padding {pads} must be at most half the kernel_size {kernel}")
    out = pool_output_size(shape[2:], params)
    if min(out) < 1:
        dilated = f" (dilation {dilations})" if dilation is not None else ""
        raise ValueError(
            f"{op}: the kernel_size {kernel}{dilated} is larger than the padded input: input shape "
            f"{shape}, padding {pads}"
        )
    return params


def pool_output_size(size: tuple[int, ...], params: Params) -> tuple[int, ...]:
    """The output's spatial size of a pooling of ``params`` over an input of spatial ``size``.

    >>> geometry = {"kernel_size": (2, 2), "stride": (2, 2), "padding": (0, 0), "ceil_mode": True}
    >>> pool_output_size((5, 5), geometry)
    (3, 3)
    """
    dilation = params.get("dilation", (1, 1))
    ceil = params["ceil_mode"]
    out = []
    axes = zip(size, params["kernel_size"], params["stride"], params["padding"], dilation, strict=True)
    for n, k, s, p, dil in axes:
        o = (n + 2 * p - dil * (k - 1) - 1 + (s - 1 if ceil else 0)) // s + 1
        out.append(o - 1 if ceil and (o - 1) * s >= n + p else o)  # the last window starts inside
    return tuple(out)


def pool_pads(size: tuple[int, ...], out: tuple[int, ...], params: Params) -> tuple[tuple[int, int], ...]:
    """The padding before and after each spatial axis that holds every window: ``padding`` on
    both sides, and after it whatever the last window of ceil_mode runs past.

    >>> geometry = {"kernel_size": (2, 2), "stride": (2, 2), "padding": (0, 0), "ceil_mode": True}
    >>> pool_pads((5, 4), (3, 2), geometry)
    ((0, 1), (0, 0))
    """
    dilation = params.get("dilation", (1, 1))
    pairs = zip(size, out, params["kernel_size"], params["stride"], params["padding"], dilation, strict=True)
    return tuple((p, max(p, (o - 1) * s + dil * (k - 1) + 1 - n - p)) for n, o, k, s, p, dil in pairs)


@functools.lru_cache(maxsize=64)
def _empty_windows(size: tuple[int, ...], out: tuple[int, ...], kernel, stride, padding, dilation) -> Any:
    """Which windows (out_h, out_w) hold no input element, or None when all hold one. Without
    dilation every window does (it starts before the input's end, and at most half a kernel
    before its start); with gaps one may fall on padding alone: its maximum is -inf (as in
    PyTorch) and its gradient goes nowhere (PyTorch's CPU kernel sends it to a wrong place)."""
    if all(d == 1 for d in dilation):
        return None
    empty = []
    for n, o, k, s, p, dil in zip(size, out, kernel, stride, padding, dilation, strict=True):
        starts = np.arange(o)[:, None] * s - p + np.arange(k) * dil
        empty.append(~((starts >= 0) & (starts < n)).any(axis=1))
    mask = empty[0][:, None] | empty[1][None, :]
    return mask if mask.any() else None


def _max_pool_args(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    return (x,), pool_params("max_pool2d", x.shape, kernel_size, stride, padding, ceil_mode, dilation)


def _max_pool(
    x: np.ndarray, kernel_size, stride, padding, ceil_mode=False, dilation=(1, 1)
) -> tuple[np.ndarray, np.ndarray]:
    """The maxima and, saved for the vjp, where each sits in x (flat indices).

    The window elements at each kernel offset are copied into one contiguous slab (a strided
    slice of x, padded with -inf), so that the passes over them run at numpy's vector speed. A
    later element takes a window only if it is greater, so a tie stays with the first maximum in
    row-major window order, as PyTorch's CPU kernel. A nan wins its window (the last nan, if
    several, as there too), and beside an input of -inf the padding still never wins: those two
    rare cases cost one more comparison per offset.
    """
    n, c, h, w = x.shape
    geometry = {"kernel_size": kernel_size, "stride": stride, "padding": padding, "ceil_mode": ceil_mode}
    geometry["dilation"] = dilation
    out_size = pool_output_size((h, w), geometry)
    pads = pool_pads((h, w), out_size, geometry)
    lowest = x.min() if x.size else 0.0
    nan = bool(np.isnan(lowest))
    if nan:  # the least number other than nan (fmin skips it): is there a -inf beside the padding?
        lowest = np.fmin.reduce(x, axis=None)
    rim = any(map(any, pads)) and lowest == -np.inf
    xp = _padded(x, pads, -np.inf)
    windows = [index for _, index in _taps(xp.shape, (2, 3), out_size, stride, dilation, kernel_size)]
    slabs = np.empty((len(windows), n, c, *out_size), dtype=x.dtype)
    for slab, index in zip(slabs, windows, strict=True):
        slab[...] = xp[index]
    if rim:
        outside = _padded(np.zeros(x.shape, dtype=bool), pads, True)
        in_rim = outside[windows[0]]
    # np.maximum gives each window's value (a nan propagates); `local` which offset holds it.
    best = slabs[0].copy()
    local = np.zeros(best.shape, dtype=np.int8 if len(windows) < 128 else np.intp)
    for t in range(1, len(windows)):
        candidate = slabs[t]
        better = candidate > best
        if nan:
            better |= np.isnan(candidate)  # a later nan takes the window from an earlier one
        if rim:
            better |= in_rim & ~outside[windows[t]]
            in_rim = (in_rim & ~better) | (outside[windows[t]] & better)
        np.maximum(best, candidate, out=best)
        local += better * (t - local)
    # The flat index of each window's first element in x, plus that of the winning offset.
    rows = np.arange(out_size[0], dtype=np.intp)[:, None] * stride[0] - padding[0]
    corners = (rows * w + np.arange(out_size[1], dtype=np.intp) * stride[1] - padding[1]).ravel()
    planes = np.arange(n * c, dtype=np.intp)[:, None] * (h * w)
    steps = itertools.product(*(range(0, k * dil, dil) for k, dil in zip(kernel_size, dilation, strict=True)))
    offsets = np.array([a * w + b for a, b in steps], dtype=np.intp)
    index = (planes + corners).reshape(best.shape) + offsets.take(local)
    empty = _empty_windows((h, w), out_size, kernel_size, stride, padding, dilation)
    if empty is not None:
        index[:, :, empty] = x.size  # one past the input: the vjp's spare slot, dropped after
    return best, index


def max_pool2d_indices(
    x: np.ndarray,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
) -> np.ndarray:
    """Where each window's maximum of ``max_pool2d`` sits: its flat index in its (H, W) plane, int64,
    as PyTorch's ``return_indices=True`` gives them.

    >>> import numpy as np
    >>> max_pool2d_indices(np.array([[[[1.0, 5.0], [7.0, 2.0]]]]), 2).tolist()
    [[[[2]]]]
    """
    x = np.asarray(x)
    params = _max_pool_args(x, kernel_size, stride, padding, dilation, ceil_mode)[1]
    flat = _max_pool(x, **params)[1]
    planes = np.arange(math.prod(x.shape[:2]), dtype=np.intp).reshape(*x.shape[:2], 1, 1) * math.prod(
        x.shape[2:]
    )
    return (flat - planes).astype(np.int64)


def _maxima(x, kernel_size, stride, padding, ceil_mode, dilation, saved) -> tuple[np.ndarray, int]:
    """Where the maxima sit (the forward's, or recomputed from the data: integers, constant
    under create_graph too), and how many slots a gradient scattered to them needs: one past x
    when a window holds padding alone (its gradient goes there, and is dropped)."""
    if saved is None:
        saved = _max_pool(
            np.asarray(x.data if is_value(x) else x), kernel_size, stride, padding, ceil_mode, dilation
        )[1]
    empty = _empty_windows(tuple(x.shape[2:]), saved.shape[2:], kernel_size, stride, padding, dilation)
    return saved, math.prod(x.shape) + (empty is not None)


def _max_pool_vjp(g, out, x, kernel_size, stride, padding, ceil_mode=False, dilation=(1, 1), saved=None):
    index, slots = _maxima(x, kernel_size, stride, padding, ceil_mode, dilation, saved)
    size = math.prod(x.shape)
    if is_value(g):
        # scatter_add's own vjp gathers: the gradient differentiates again.
        grad = scatter_add(g.reshape(-1), index=index.reshape(-1), shape=(slots,))
        return (grad[:size] if slots > size else grad).reshape(x.shape)
    if all(s > dil * (k - 1) for s, k, dil in zip(stride, kernel_size, dilation, strict=True)):
        # Windows that do not overlap have maxima at distinct places: each gradient goes to its
        # own, and nowhere else (exactly 0 there).
        grad = np.zeros(slots, dtype=g.dtype)
        grad[index.ravel()] = np.ravel(g)
    else:  # bincount adds the gradients of windows that share a maximum; elsewhere exactly 0.
        grad = np.bincount(index.ravel(), weights=np.ravel(g), minlength=slots).astype(g.dtype, copy=False)
    return grad[:size].reshape(x.shape)


def _max_pool_jvp(t, out, x, kernel_size, stride, padding, ceil_mode=False, dilation=(1, 1), saved=None):
    # Each window's output moves with its first maximum, where the vjp sends the window's gradient.
    index, slots = _maxima(x, kernel_size, stride, padding, ceil_mode, dilation, saved)
    flat = t.reshape(-1)
    if slots > flat.shape[0]:  # a window of padding alone: its output stays -inf, its tangent 0
        spare = np.zeros(1, dtype=flat.dtype)
        flat = apply("concatenate", flat, spare, axis=0) if is_value(flat) else np.concatenate([flat, spare])
    return flat[index]


_POOL_FORMS: list[tuple[tuple[int, ...], Params]] = [
    ((1, 1, 4, 4), {"kernel_size": 2}),
    ((2, 1, 3, 3), {"kernel_size": 2, "stride": 1}),  # overlapping windows
    ((1, 2, 3, 4), {"kernel_size": (2, 3), "stride": (1, 2), "padding": (1, 1)}),
    ((1, 1, 5, 5), {"kernel_size": 3, "stride": 2, "padding": 1}),
    ((1, 1, 5, 4), {"kernel_size": 2, "ceil_mode": True}),  # last windows past the input
]
_MAX_POOL_FORMS = [
    *_POOL_FORMS,
    ((1, 2, 5, 5), {"kernel_size": 2, "stride": (1, 2), "padding": 1, "dilation": 2, "ceil_mode": True}),
]
_AVG_POOL_FORMS = [
    *_POOL_FORMS,
    (
        (1, 2, 4, 5),
        {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": False},
    ),
    ((1, 1, 5, 5), {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}),
    ((2, 1, 3, 4), {"kernel_size": 2, "stride": 1, "divisor_override": 3}),
]


def _lattice_samples(
    forms: list[tuple[tuple[int, ...], Params]], rng: np.random.Generator, dtype: Any
) -> Samples:
    # Values at least 0.06 apart (max_pool2d is distinct: ties are its kinks): a shuffled lattice.
    lattice = np.arange(-2.95, 2.95, 0.1)
    return [
        (
            (
                (rng.permutation(lattice)[: math.prod(shape)] + rng.uniform(-0.02, 0.02, math.prod(shape)))
                .reshape(shape)
                .astype(dtype),
            ),
            params,
        )
        for shape, params in forms
    ]


max_pool2d = register(
    Op(
        "max_pool2d",
        _max_pool,
        (_max_pool_vjp,),
        (REAL,),
        jvps=(_max_pool_jvp,),
        cases=Cases("pool", samples=functools.partial(_lattice_samples, _MAX_POOL_FORMS)),
        saves=True,
        smooth=False,
        distinct=True,
        doc="The maximum of each kernel_size window of x (N, C, H, W) (stride: the kernel size by default; "
        "padding never wins; dilation and ceil_mode as PyTorch's); the gradient goes to the first maximum "
        "of a window.",
        edges=(
            Edge(
                "a batch of 0",
                (np.zeros((0, 1, 2, 2)),),
                params={"kernel_size": 2},
                grads=(np.zeros((0, 1, 2, 2)),),
                value=np.zeros((0, 1, 1, 1)),
            ),
            Edge(
                "a tie: the first maximum takes the gradient",
                (np.array([[[[1.0, 1.0], [0.0, 1.0]]]]),),
                params={"kernel_size": 2},
                grads=(np.array([[[[1.0, 0.0], [0.0, 0.0]]]]),),
                value=np.ones((1, 1, 1, 1)),
                flat=(0,),
            ),
            Edge(
                "padding: the -inf rim never wins",
                (np.full((1, 1, 1, 1), -5.0),),
                params={"kernel_size": 2, "padding": 1},
                grads=(np.ones((1, 1, 1, 1)),),
                value=np.full((1, 1, 1, 1), -5.0),
            ),
            Edge(
                "a nan is the maximum",
                (np.array([[[[1.0, np.nan], [3.0, 2.0]]]]),),
                params={"kernel_size": 2},
                grads=(np.array([[[[0.0, 1.0], [0.0, 0.0]]]]),),
                value=np.full((1, 1, 1, 1), np.nan),
            ),
            Edge(
                "two nans: the last takes the gradient",
                (np.array([[[[np.nan, 0.0, np.nan]]]]),),
                params={"kernel_size": (1, 3)},
                grads=(np.array([[[[0.0, 0.0, 1.0]]]]),),
                value=np.full((1, 1, 1, 1), np.nan),
            ),
            Edge(
                "a nan, and a -inf beside the padding",
                (np.array([[[[np.nan, -np.inf]]]]),),
                params={"kernel_size": 2, "stride": 1, "padding": 1},
                grads=(np.array([[[[4.0, 2.0]]]]),),
                value=np.array([[[[np.nan, np.nan, -np.inf], [np.nan, np.nan, -np.inf]]]]),
            ),
            Edge(
                "ceil_mode: the last window covers what is left",
                (np.array([[[[1.0, 2.0, 3.0]]]]),),
                params={"kernel_size": (1, 2), "ceil_mode": True},
                grads=(np.array([[[[0.0, 1.0, 1.0]]]]),),
                value=np.array([[[[2.0, 3.0]]]]),
            ),
            Edge(
                "dilation: a window on padding alone is -inf, and passes no gradient",
                (np.ones((1, 1, 1, 1)),),
                params={"kernel_size": 2, "padding": 1, "dilation": 2},
                grads=(np.zeros((1, 1, 1, 1)),),
                value=np.full((1, 1, 1, 1), -np.inf),
                flat=(0,),
            ),
            Edge("0-d input", (2.0,), params={"kernel_size": 1}, raises=ValueError, note="torch raises too"),
        ),
        prepare=_max_pool_args,
        function="max_pool2d",
        example=(
            ">>> import numpy as np\n>>> from autonet import Value, max_pool2d\n"
            ">>> max_pool2d(Value(np.arange(16.0).reshape(1, 1, 4, 4)), 2).tolist()\n"
            "[[[[5.0, 7.0], [13.0, 15.0]]]]"
        ),
    )
)


def _avg_pool_params(
    op: str, shape, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override
) -> Params:
    params = pool_params(op, shape, kernel_size, stride, padding, ceil_mode)
    if not isinstance(count_include_pad, (bool, np.bool_)):
        raise TypeError(f"{op}: count_include_pad must be a bool, got {count_include_pad!r}")
    if divisor_override is not None and (
        isinstance(divisor_override, bool) or not isinstance(divisor_override, (int, np.integer))
    ):
        raise TypeError(f"{op}: divisor_override must be an int or None, got {divisor_override!r}")
    if divisor_override == 0:
        raise ValueError(f"{op}: divisor_override must not be 0")
    params["count_include_pad"] = bool(count_include_pad)
    params["divisor_override"] = None if divisor_override is None else int(divisor_override)
    return params


@functools.lru_cache(maxsize=64)
def _avg_divisors(size: tuple[int, ...], params_key: tuple) -> np.ndarray:
    """What each window's sum is divided by, (out_h, out_w), by PyTorch's rule: the window as far
    as it lies inside the padded input (count_include_pad) or inside the input alone."""
    params = dict(params_key)
    out = pool_output_size(size, params)
    counts = []
    for n, o, k, s, p in zip(
        size, out, params["kernel_size"], params["stride"], params["padding"], strict=True
    ):
        starts = np.arange(o) * s - p
        ends = np.minimum(starts + k, n + p)
        counts.append(
            ends - starts if params["count_include_pad"] else np.minimum(ends, n) - np.maximum(starts, 0)
        )
    divisors = np.outer(*counts).astype(float)
    divisors.flags.writeable = False
    return divisors


def avg_pool2d(
    x: Any,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Any:
    """The mean of each kernel_size window of x (N, C, H, W), with PyTorch's arguments: stride is
    the kernel size by default; the padding counts as zeros in the mean (``count_include_pad``);
    ``ceil_mode`` keeps a last window that runs past the padded input (its mean over what it
    covers); ``divisor_override`` divides every window's sum by that number instead.

    >>> import numpy as np
    >>> from autonet import Value, avg_pool2d
    >>> avg_pool2d(Value(np.arange(16.0).reshape(1, 1, 4, 4)), 2).tolist()
    [[[[2.5, 4.5], [10.5, 12.5]]]]
    >>> avg_pool2d(Value(np.arange(9.0).reshape(1, 1, 3, 3)), 2, ceil_mode=True).tolist()
    [[[[2.0, 3.5], [6.5, 8.0]]]]
    """
    params = _avg_pool_params(
        "avg_pool2d", x.shape, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override
    )
    n, c, h, w = x.shape
    kernel = params["kernel_size"]
    out = pool_output_size((h, w), params)
    (top, bottom), (left, right) = pool_pads((h, w), out, params)
    planes = x.reshape(n * c, 1, h, w)
    for axis, extra in ((2, bottom - top), (3, right - left)):
        if extra:  # ceil_mode's last window runs past the padding: zeros there add nothing
            shape = list(planes.shape)
            shape[axis] = extra
            planes = apply("concatenate", planes, np.zeros(shape, dtype=x.dtype), axis=axis)
    if params["divisor_override"] is not None:
        divisors: Any = float(params["divisor_override"])
    else:
        divisors = _avg_divisors((h, w), tuple(params.items()))
        if (divisors == divisors.flat[0]).all():
            divisors = float(divisors.flat[0])
    # Every channel on its own, against one constant kernel: of 1 / divisor when all windows share
    # it, else of ones, the sums then divided window by window.
    weight = 1.0 / divisors if type(divisors) is float else 1.0
    sums = apply(
        CONV_OPS[2],
        planes,
        np.full((1, 1, *kernel), weight, dtype=x.dtype),
        np.zeros(1, dtype=x.dtype),
        stride=params["stride"],
        padding=(top, left),
    )
    if type(divisors) is not float:
        sums = sums / divisors.astype(x.dtype)
    return sums.reshape(n, c, *out)


avg_pool2d_op = register(
    Op(
        "avg_pool2d",
        None,
        (),
        (REAL,),
        composite=avg_pool2d,
        cases=Cases("pool", samples=functools.partial(_lattice_samples, _AVG_POOL_FORMS)),
        doc="The mean of each kernel_size window of x (N, C, H, W), the padding counted as zeros unless "
        "count_include_pad=False; ceil_mode and divisor_override as PyTorch's.",
        edges=(
            Edge(
                "a batch of 0",
                (np.zeros((0, 1, 2, 2)),),
                params={"kernel_size": 2},
                grads=(np.zeros((0, 1, 2, 2)),),
                value=np.zeros((0, 1, 1, 1)),
            ),
            Edge(
                "padding counts in the mean",
                (np.full((1, 1, 1, 1), 4.0),),
                params={"kernel_size": 2, "padding": 1},
                grads=(np.full((1, 1, 1, 1), 0.25),),
                value=np.ones((1, 1, 1, 1)),
            ),
            Edge(
                "count_include_pad=False: the padding does not count",
                (np.full((1, 1, 1, 1), 4.0),),
                params={"kernel_size": 2, "padding": 1, "count_include_pad": False},
                grads=(np.ones((1, 1, 1, 1)),),
                value=np.full((1, 1, 1, 1), 4.0),
            ),
            Edge(
                "ceil_mode: the last window counts its padding, not what it runs past",
                (np.full((1, 1, 1, 2), 6.0),),
                params={"kernel_size": (1, 3), "stride": 2, "padding": (0, 1), "ceil_mode": True},
                grads=(np.array([[[[1.0 / 3.0, 1.0 / 3.0 + 0.5]]]]),),
                value=np.array([[[[4.0, 3.0]]]]),
            ),
            Edge(
                "divisor_override divides every sum",
                (np.full((1, 1, 2, 2), 3.0),),
                params={"kernel_size": 2, "divisor_override": 3},
                grads=(np.full((1, 1, 2, 2), 1.0 / 3.0),),
                value=np.full((1, 1, 1, 1), 4.0),
            ),
            Edge("0-d input", (2.0,), params={"kernel_size": 1}, raises=ValueError, note="torch raises too"),
        ),
        function="avg_pool2d",
        example=(
            ">>> import numpy as np\n>>> from autonet import Value, avg_pool2d\n"
            ">>> avg_pool2d(Value(np.arange(16.0).reshape(1, 1, 4, 4)), 2).tolist()\n"
            "[[[[2.5, 4.5], [10.5, 12.5]]]]"
        ),
    )
)


# --------------------------------------------------------------------------- 1-d and adaptive pooling
# Functions over the ops above, not ops of their own: a 1-d pool is the 2-d one over a height of
# 1, and an adaptive mean is two products with constant averaging matrices.


def pool1d_params(
    op: str, shape: tuple[int, ...], kernel_size, stride, padding, dilation, ceil_mode
) -> Params:
    """PyTorch's 1-d pooling arguments, checked in 1-d terms (errors name ``op``), as the 2-d
    op's over a height of 1.

    >>> pool1d_params("max_pool1d", (1, 1, 5), 2, None, 0, 1, False)["kernel_size"]
    (1, 2)
    """
    if len(shape) != 3:
        hint = " (add a batch axis: x[None])" if len(shape) == 2 else ""
        raise ValueError(f"{op}: the input must be 3-d (N, C, L), got shape {shape}{hint}")
    (k,) = spatial_ints(kernel_size, 1, op, "kernel_size", 1)
    (s,) = (k,) if stride is None else spatial_ints(stride, 1, op, "stride", 1)
    (p,) = spatial_ints(padding, 1, op, "padding", 0)
    (d,) = spatial_ints(dilation, 1, op, "dilation", 1)
    if 2 * p > k:
        raise ValueError(f"{op}: padding {p} must be at most half the kernel_size {k}")
    if not isinstance(ceil_mode, (bool, np.bool_)):
        raise TypeError(f"{op}: ceil_mode must be a bool, got {ceil_mode!r}")
    geometry = {
        "kernel_size": (k,),
        "stride": (s,),
        "padding": (p,),
        "ceil_mode": bool(ceil_mode),
        "dilation": (d,),
    }
    if pool_output_size(shape[2:], geometry)[0] < 1:
        raise ValueError(
            f"{op}: the kernel_size {k} is larger than the padded input: input shape {shape}, padding {p}"
        )
    return {
        "kernel_size": (1, k),
        "stride": (1, s),
        "padding": (0, p),
        "ceil_mode": bool(ceil_mode),
        "dilation": (1, d),
    }


def max_pool1d(
    x: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1, ceil_mode: bool = False
) -> Any:
    """The maximum of each window of x (N, C, L), with PyTorch's arguments: ``max_pool2d`` over a
    height of 1 (its gradient, ties and padding conventions).

    >>> from autonet import Value
    >>> max_pool1d(Value([[[1.0, 3.0, 2.0, 0.0, 5.0]]]), 2, ceil_mode=True).tolist()
    [[[3.0, 2.0, 5.0]]]
    """
    params = pool1d_params("max_pool1d", np.shape(x), kernel_size, stride, padding, dilation, ceil_mode)
    n, c, length = np.shape(x)
    out = apply(
        max_pool2d, x.reshape(n, c, 1, length) if is_value(x) else np.reshape(x, (n, c, 1, length)), **params
    )
    return out.reshape(n, c, out.shape[-1])


def avg_pool1d(
    x: Any,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Any:
    """The mean of each window of x (N, C, L), with PyTorch's arguments: ``avg_pool2d`` over a
    height of 1.

    >>> from autonet import Value
    >>> avg_pool1d(Value([[[1.0, 3.0, 2.0, 0.0]]]), 2).tolist()
    [[[2.0, 1.0]]]
    """
    params = pool1d_params("avg_pool1d", np.shape(x), kernel_size, stride, padding, 1, ceil_mode)
    del params["dilation"]
    n, c, length = np.shape(x)
    planes = x.reshape(n, c, 1, length) if is_value(x) else np.reshape(x, (n, c, 1, length))
    out = apply(avg_pool2d_op, planes, count_include_pad=count_include_pad, **params)
    return out.reshape(n, c, out.shape[-1])


@functools.lru_cache(maxsize=64)
def adaptive_pool_matrix(size: int, out: int, dtype: Any = np.float64) -> np.ndarray:
    """The (out, size) matrix whose rows average PyTorch's adaptive windows of a side of
    ``size``: window i covers floor(i size / out) to ceil((i + 1) size / out).

    >>> adaptive_pool_matrix(5, 2).round(3).tolist()
    [[0.333, 0.333, 0.333, 0.0, 0.0], [0.0, 0.0, 0.333, 0.333, 0.333]]
    """
    rows = np.arange(out)[:, None]
    starts, stops = rows * size // out, -(-(rows + 1) * size // out)
    columns = np.arange(size)
    matrix = (((columns >= starts) & (columns < stops)) / (stops - starts)).astype(dtype)
    matrix.flags.writeable = False
    return matrix


def adaptive_avg_pool2d(x: Any, output_size: Any) -> Any:
    """The mean of each of PyTorch's adaptive windows of x (N, C, H, W) or (C, H, W), giving an
    ``output_size`` (an int, or a pair whose None keeps that side) whatever the input's:
    ``output_size=1`` is global average pooling. Two products with constant averaging matrices
    (the registry's composite).

    >>> import numpy as np
    >>> from autonet import Value
    >>> adaptive_avg_pool2d(Value(np.arange(16.0).reshape(1, 1, 4, 4)), 1).tolist()
    [[[[7.5]]]]
    """
    shape = np.shape(x)
    op = "adaptive_avg_pool2d"
    if len(shape) not in (3, 4):
        raise ValueError(f"{op}: the input must be 3-d (C, H, W) or 4-d (N, C, H, W), got shape {shape}")
    sizes = output_size if isinstance(output_size, (tuple, list)) else (output_size, output_size)
    if len(sizes) != 2:
        raise TypeError(f"{op}: output_size must be an int or a pair, got {output_size!r}")
    sides = tuple(
        n if o is None else spatial_ints(o, 1, op, "output_size", 1)[0]
        for n, o in zip(shape[-2:], sizes, strict=True)
    )
    if 0 in shape[-2:]:
        raise ValueError(f"{op}: the input's height and width must not be 0, got shape {shape}")
    dtype = getattr(x, "dtype", np.float64)
    dtype = dtype if np.dtype(dtype).kind == "f" else np.float64
    try:
        rows = adaptive_pool_matrix(shape[-2], sides[0], np.dtype(dtype))
        cols = adaptive_pool_matrix(shape[-1], sides[1], np.dtype(dtype))
    except (ValueError, MemoryError) as error:  # numpy's own words for an output it cannot hold
        raise ValueError(f"{op}: output_size {output_size!r} is too large for numpy ({error})") from None
    return apply("matmul", apply("matmul", rows, x), cols.T)


def _adaptive_samples(rng: np.random.Generator, dtype: Any) -> Samples:
    forms = [((2, 2, 5, 4), 2), ((1, 3, 7, 5), (3, None)), ((2, 4, 4), (1, 3)), ((1, 1, 3, 3), 5)]
    return [((rng.uniform(-2.0, 2.0, shape).astype(dtype),), {"output_size": size}) for shape, size in forms]


adaptive_avg_pool2d_op = register(
    Op(
        "adaptive_avg_pool2d",
        None,
        (),
        (REAL,),
        composite=adaptive_avg_pool2d,
        cases=Cases("adaptive_pool", samples=_adaptive_samples),
        doc="The mean over PyTorch's adaptive windows of x (N, C, H, W) or (C, H, W), to any output_size.",
        edges=(
            Edge(
                "a batch of 0",
                (np.zeros((0, 1, 2, 2)),),
                params={"output_size": 1},
                grads=(np.zeros((0, 1, 2, 2)),),
                value=np.zeros((0, 1, 1, 1)),
            ),
            Edge(
                "an output larger than the input: windows overlap",
                (np.array([[[[1.0, 3.0]]]]),),
                params={"output_size": (1, 3)},
                grads=(np.array([[[[1.5, 1.5]]]]),),
                value=np.array([[[[1.0, 2.0, 3.0]]]]),
            ),
            Edge("0-d input", (2.0,), params={"output_size": 1}, raises=ValueError, note="torch raises too"),
        ),
        function="adaptive_avg_pool2d",
        example=(
            ">>> import numpy as np\n>>> from autonet import Value, adaptive_avg_pool2d\n"
            ">>> adaptive_avg_pool2d(Value(np.arange(16.0).reshape(1, 1, 4, 4)), (1, 2)).tolist()\n"
            "[[[[6.5, 8.5]]]]"
        ),
    )
)


# --------------------------------------------------------------------------- transposed convolutions
# A transposed convolution is the gradient of a convolution for its input: conv_input_grad, whose
# weight layout (C_in, C_out / groups, *kernel) is PyTorch's ConvTranspose's, and whose own vjps
# make it differentiable to any order.

_TRANSPOSED_LAYOUT = "(C_in, C_out / groups, *kernel)"


def _transpose_geometry(op: str, shape, w_shape, stride, padding, output_padding, groups, dilation):
    """The checked conv params and the output's sides of a transposed convolution."""
    d = len(w_shape) - 2
    if len(shape) != d + 2:
        hint = " (add a batch axis: x[None])" if len(shape) == d + 1 else ""
        raise ValueError(f"{op}: the input must be {d + 2}-d {_LAYOUT[d]}, got shape {shape}{hint}")
    params = _conv_params(op, d, stride, padding, dilation, groups)
    extra = spatial_ints(output_padding, d, op, "output_padding", 0)
    for e, s, dil in zip(extra, params["stride"], params["dilation"], strict=True):
        if e >= max(s, dil):
            raise ValueError(
                f"{op}: output_padding {extra} must be smaller than the stride or the dilation on every axis"
            )
    channels = shape[1]
    if channels != w_shape[0] or channels % params["groups"]:
        raise ValueError(
            f"{op}: the input's {channels} channels (shape {shape}) must be the weight's first axis "
            f"(shape {w_shape}) and a multiple of groups={params['groups']}"
        )
    axes = zip(
        shape[2:], params["stride"], params["padding"], params["dilation"], w_shape[2:], extra, strict=True
    )
    sides = tuple((n - 1) * s - 2 * p + dil * (k - 1) + e + 1 for n, s, p, dil, k, e in axes)
    if min(sides) < 1:
        raise ValueError(
            f"{op}: the padding {params['padding']} leaves no output for an input of shape {shape}"
        )
    if math.prod((shape[0], w_shape[1] * params["groups"], *sides)) * 8 > np.iinfo(np.intp).max:
        raise ValueError(
            f"{op}: an output of sides {sides} (input shape {shape}) is more than numpy can hold"
        )
    return params, sides


def _transposed_composite(d: int):
    op = f"conv_transpose{d}d"

    def composite(x, weight, bias, stride=1, padding=0, output_padding=0, groups=1, dilation=1) -> Any:
        if np.ndim(weight) != d + 2:
            raise ValueError(
                f"{op}: the weight must be {d + 2}-d {_TRANSPOSED_LAYOUT}, got shape {np.shape(weight)}"
            )
        return _conv_transposed(op, x, weight, bias, stride, padding, output_padding, groups, dilation)

    return composite


def _conv_transposed(op: str, x, weight, bias, stride, padding, output_padding, groups, dilation) -> Any:
    """``conv_transpose1d`` or ``conv_transpose2d`` (``op``) on Values, the bias too."""
    w_shape, shape = np.shape(weight), np.shape(x)
    d = len(w_shape) - 2
    params, sides = _transpose_geometry(op, shape, w_shape, stride, padding, output_padding, groups, dilation)
    out_channels = w_shape[1] * params["groups"]
    if np.shape(bias) != (out_channels,):
        raise ValueError(f"{op}: the bias must have shape ({out_channels},), got {np.shape(bias)}")
    # An output_padding of the stride or more (possible below the dilation) gives an output whose
    # convolution has windows past x's last element: zeros there add nothing to the output.
    windows = _output_size(sides, w_shape[2:], params["stride"], params["padding"], params["dilation"])
    for axis, (n, m) in enumerate(zip(shape[2:], windows, strict=True), start=2):
        if m > n:
            zeros = np.zeros((*x.shape[:axis], m - n, *x.shape[axis + 1 :]), dtype=x.dtype)
            x = apply("concatenate", x, zeros, axis=axis)
    out = apply(conv_input_grad_op, x, weight, input_shape=(shape[0], out_channels, *sides), **params)
    return out + bias.reshape(out_channels, *(1,) * d)


def _transposed_call(d: int, x, weight, bias, stride, padding, output_padding, groups, dilation) -> Any:
    name = f"conv_transpose{d}d"
    if np.ndim(weight) != d + 2:
        raise ValueError(
            f"{name}: the weight must be {d + 2}-d {_TRANSPOSED_LAYOUT}, got shape {np.shape(weight)}"
        )
    if bias is None:  # zeros, a constant: no gradient is sent to it
        dtype = np.result_type(getattr(x, "dtype", np.float64), getattr(weight, "dtype", np.float64))
        bias = np.zeros(np.shape(weight)[1] * groups, dtype=dtype if dtype.kind == "f" else np.float64)
    return apply(TRANSPOSED_OPS[d], x, weight, bias, stride, padding, output_padding, groups, dilation)


def conv_transpose1d(
    x: Any,
    weight: Any,
    bias: Any = None,
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    groups: int = 1,
    dilation: Any = 1,
) -> Any:
    """The transposed convolution of x (N, C_in, L) with weight (C_in, C_out / groups, k) and an
    optional bias (C_out,), with PyTorch's arguments in PyTorch's order (``F.conv_transpose1d``):
    the length grows to (L - 1) stride - 2 padding + dilation (k - 1) + output_padding + 1, where
    output_padding is below the stride or the dilation.

    >>> import numpy as np
    >>> from autonet import Value
    >>> conv_transpose1d(Value([[[1.0, 2.0]]]), np.ones((1, 1, 2)), stride=2).tolist()
    [[[1.0, 1.0, 2.0, 2.0]]]
    """
    return _transposed_call(1, x, weight, bias, stride, padding, output_padding, groups, dilation)


def conv_transpose2d(
    x: Any,
    weight: Any,
    bias: Any = None,
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    groups: int = 1,
    dilation: Any = 1,
) -> Any:
    """The transposed convolution of x (N, C_in, H, W) with weight (C_in, C_out / groups, kH, kW)
    and an optional bias (C_out,), with PyTorch's arguments in PyTorch's order
    (``F.conv_transpose2d``): each side grows as ``conv_transpose1d``'s length does.

    >>> import numpy as np
    >>> conv_transpose2d(np.ones((1, 1, 2, 2)), np.ones((1, 1, 2, 2)), stride=2).shape
    (1, 1, 4, 4)
    """
    return _transposed_call(2, x, weight, bias, stride, padding, output_padding, groups, dilation)


def _transposed_samples(d: int):
    forms = [
        ((2, 4, *(3, 2)[:d]), (4, 3, *(2, 3)[:d]), {"stride": 2, "padding": 1}),
        ((1, 2, *(3, 3)[:d]), (2, 2, *(3, 2)[:d]), {"stride": 1, "output_padding": 1, "dilation": 2}),
        ((1, 4, *(2, 3)[:d]), (4, 1, *(2, 2)[:d]), {"stride": 3, "output_padding": 2, "groups": 2}),
    ]

    def samples(rng: np.random.Generator, dtype: Any) -> Samples:
        return [
            (tuple(rng.uniform(-2.0, 2.0, s).astype(dtype) for s in (x, w, (w[1] * p.get("groups", 1),))), p)
            for x, w, p in forms
        ]

    return samples


def _transposed_edges(d: int) -> tuple[Edge, ...]:
    one = (1,) * d
    return (
        Edge(
            "a batch of 0",
            (np.zeros((0, 1, *(2,) * d)), np.ones((1, 1, *(2,) * d)), np.zeros(1)),
            grads=(np.zeros((0, 1, *(2,) * d)), np.zeros((1, 1, *(2,) * d)), np.zeros(1)),
            value=np.zeros((0, 1, *(3,) * d)),
        ),
        Edge(
            "stride 2, one element: the kernel times it, spread apart",
            (np.full((1, 1, *one), 2.0), np.full((1, 1, *(2,) * d), 3.0), np.ones(1)),
            params={"stride": 2},
            grads=(np.full((1, 1, *one), 3.0 * 2**d), np.full((1, 1, *(2,) * d), 2.0), np.full(1, 2.0**d)),
            value=np.full((1, 1, *(2,) * d), 7.0),
        ),
        Edge(
            "0-d input", (2.0, np.ones((1, 1, *one)), np.ones(1)), raises=ValueError, note="torch raises too"
        ),
    )


TRANSPOSED_OPS: dict[int, Op] = {
    d: register(
        Op(
            f"conv_transpose{d}d",
            None,
            (),
            (REAL, REAL, REAL),
            composite=_transposed_composite(d),
            cases=Cases("conv_transpose", samples=_transposed_samples(d)),
            doc=f"{d}-d transposed convolution (the gradient of conv{d}d for its input) with PyTorch's "
            f"arguments: weight {_TRANSPOSED_LAYOUT}, bias (C_out,), stride, padding, output_padding, "
            "groups, dilation.",
            edges=_transposed_edges(d),
            function=function,
        )
    )
    for d, function in ((1, conv_transpose1d), (2, conv_transpose2d))
}


# --------------------------------------------------------------------------- upsampling
# Nearest-neighbour resizing is a gather of rows and columns (getitem, whose gradient adds each
# output's share back to the element it copies), by PyTorch's rule for the source of each output.


@functools.lru_cache(maxsize=64)
def nearest_sources(
    size: int, out: int, scale_factor: float | None = None, same_copies: bool = False
) -> np.ndarray:
    """For each of ``out`` outputs along an axis of ``size``, the input it copies: PyTorch's
    ``mode="nearest"``, floor(i * scale) in float32 arithmetic, scale = 1 / scale_factor when one
    is given, else size / out; with ``same_copies`` an output as long as the input copies it
    whatever the factor (PyTorch's 2-d kernel does so, its 1-d kernel does not).

    >>> nearest_sources(3, 6).tolist(), nearest_sources(4, 2).tolist()
    ([0, 0, 1, 1, 2, 2], [0, 2])
    """
    scale = np.float32(1.0 / scale_factor) if scale_factor else np.float32(size) / np.float32(out)
    sources = np.minimum(np.floor(np.arange(out, dtype=np.float32) * scale).astype(np.intp), size - 1)
    if same_copies and out == size:
        sources = np.arange(out)
    sources.flags.writeable = False
    return sources


def interpolate(x: Any, size: Any = None, scale_factor: Any = None, mode: str = "nearest") -> Any:
    """x (N, C, L) or (N, C, H, W) resized to ``size`` (an int or one per spatial axis) or by
    ``scale_factor`` (the output side is floor(side * factor)), as ``F.interpolate``; only
    ``mode="nearest"``, each output copying the input PyTorch's rule picks.

    >>> import numpy as np
    >>> interpolate(np.array([[[1.0, 2.0]]]), scale_factor=2).tolist()
    [[[1.0, 1.0, 2.0, 2.0]]]
    """
    shape = np.shape(x)
    if len(shape) not in (3, 4):
        raise ValueError(
            f"interpolate: the input must be 3-d (N, C, L) or 4-d (N, C, H, W), got shape {shape}"
        )
    if mode != "nearest":
        raise ValueError(f"interpolate: only mode='nearest' is supported, got mode={mode!r}")
    d = len(shape) - 2
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size and scale_factor")
    if size is not None:
        sides, factors = spatial_ints(size, d, "interpolate", "size", 1), (None,) * d
    else:
        factors = tuple(scale_factor) if isinstance(scale_factor, (tuple, list)) else (scale_factor,) * d
        if len(factors) != d or not all(
            isinstance(f, (int, float, np.integer, np.floating)) and not isinstance(f, bool) and f > 0
            for f in factors
        ):
            raise ValueError(
                f"interpolate: scale_factor must be a positive number or {d} of them, got {scale_factor!r}"
            )
        sides = tuple(math.floor(n * float(f)) for n, f in zip(shape[2:], factors, strict=True))
        if min(sides) < 1:
            raise ValueError(
                f"interpolate: scale_factor {scale_factor!r} leaves no output for an input of shape {shape}"
            )
    axes = zip(shape[2:], sides, factors, strict=True)
    rows = [nearest_sources(n, o, None if f is None else float(f), same_copies=d == 2) for n, o, f in axes]
    index = np.ix_(*rows) if d > 1 else (rows[0],)
    return apply("getitem", x, index=(slice(None), slice(None), *index))
