"""Models out of autonet: ONNX files (``to_onnx``), and PyTorch's state-dict names and layouts both
ways (``to_torch_state_dict``, ``from_torch_state_dict``).

``to_onnx`` walks the module tree and writes each known module as the ONNX nodes that compute it:
a ``Layer`` a MatMul and an Add and its activation, a ``Conv2d`` a Conv, an ``LSTM`` one ONNX
LSTM node per layer. It does not trace a forward pass through the registry's ops, for three
reasons. A traced graph holds the shapes the forward computed for the example batch (the target
shape of ``Flatten``'s reshape, the zero initial states of a recurrent layer), so the batch size
could not stay a dynamic dimension without guessing which numbers are batch sizes; a recurrent
layer would be its time steps unrolled, a graph that grows with the sequence length and fixes it,
where ONNX has an RNN, GRU and LSTM operator that runtimes optimise; and an error can name the
module and its path in the model (``layers.2``) rather than an op deep inside it. The price: a
module with a ``forward`` of its own (a class you wrote) is refused by name, since the walk
cannot see into it; build exportable models from ``Sequential``, ``MLP`` and the layers.

The ``onnx`` package is imported only inside ``to_onnx`` (``pip install "autonet[onnx]"``), so
``import autonet`` stays fast and works without it. onnxruntime's CPU kernels have no float64
Conv, AveragePool, RNN, GRU, LSTM or Erf (gelu): export such a float64 model with
``dtype=np.float32`` to run it there (without ``dtype``, ``to_onnx`` warns that it will not run).
This module sits above ``nn``: it imports ``nn`` and the engine, and nothing below imports it.

>>> import numpy as np
>>> from autonet import nn
>>> from autonet.export import to_torch_state_dict
>>> {k: v.shape for k, v in to_torch_state_dict(nn.MLP(3, [4, 2], rng=0)).items()}
{'0.weight': (4, 3), '0.bias': (4,), '2.weight': (2, 4), '2.bias': (2,)}
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from . import nn
from ._state import no_grad
from .engine import Value
from .ops.conv import (
    adaptive_pool_matrix,
    conv_pads,
    nearest_sources,
    pool1d_params,
    pool_output_size,
    pool_pads,
    pool_params,
)

if TYPE_CHECKING:
    import onnx

__all__ = ["DEFAULT_OPSET", "MIN_OPSET", "from_torch_state_dict", "to_onnx", "to_torch_state_dict"]

DEFAULT_OPSET = 17
"""The ONNX opset ``to_onnx`` writes unless told otherwise (17: the first with LayerNormalization)."""

MIN_OPSET = 17
"""The oldest opset ``to_onnx`` can write."""

BATCH = "batch"  # the name of the dynamic batch dimension in the exported graph


# --------------------------------------------------------------------------- the graph being built


@dataclass(frozen=True)
class _Tensor:
    """One value of the exported graph: its ONNX name, autonet's result for the example input (for
    shapes and dtypes), and which axis is the batch (None: none is)."""

    name: str
    value: Any
    batch_axis: int | None


class _Graph:
    """The nodes and the constant tensors (initializers) of the graph being written."""

    def __init__(self, onnx_module: Any, dtype: np.dtype, dynamic_batch: bool, opset: int) -> None:
        self.onnx = onnx_module
        self.dtype = dtype
        self.opset = opset
        self.dynamic_batch = dynamic_batch
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self._used: set[str] = set()

    def fresh(self, hint: str) -> str:
        name, n = hint, 1
        while name in self._used:
            name, n = f"{hint}_{n}", n + 1
        self._used.add(name)
        return name

    def constant(self, array: Any, hint: str) -> str:
        """A tensor of the graph (a weight, a shape): float arrays in the graph's dtype."""
        array = np.asarray(array.data if isinstance(array, Value) else array)
        if array.dtype.kind == "f":
            array = array.astype(self.dtype)
        name = self.fresh(hint.lstrip("./"))  # a hint of the model's root module starts ".w"
        self.initializers.append(self.onnx.numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def node(self, op: str, inputs: list[str], where: str, outputs: int = 1, **attributes: Any) -> list[str]:
        """Add one node; returns the names of its outputs (``where`` prefixes them and the node)."""
        prefix = f"{where}/" if where else ""
        names = [self.fresh(f"{prefix}{op}" + (f"_{i}" if outputs > 1 else "")) for i in range(outputs)]
        self.nodes.append(
            self.onnx.helper.make_node(op, inputs, names, name=self.fresh(f"{prefix}{op}_node"), **attributes)
        )
        return names

    def one(self, op: str, inputs: list[str], where: str, **attributes: Any) -> str:
        return self.node(op, inputs, where, **attributes)[0]

    def ints(self, values: list[int], hint: str) -> str:
        return self.constant(np.array(values, dtype=np.int64), hint)


# --------------------------------------------------------------------------- the converters


def _describe(path: str, module: nn.Module) -> str:
    return f"{path} ({type(module).__name__})" if path else f"the model ({type(module).__name__})"


def _run(module: nn.Module, x: _Tensor) -> Any:
    """autonet's own result for the example, module by module: shapes and dtypes come from it."""
    return module(x.value)


def _activation(g: _Graph, name: str, x: str, where: str, who: str, slope: float = 0.01) -> str:
    """The nodes of one of ``nn.ACTIVATIONS`` applied to ``x`` (``slope``: leaky_relu's)."""
    if name == "linear":
        return x
    if name in ("relu", "tanh", "sigmoid"):
        return g.one({"relu": "Relu", "tanh": "Tanh", "sigmoid": "Sigmoid"}[name], [x], where)
    if name == "leaky_relu":
        # where(x > 0, x, 0.01 x), as autonet's; LeakyRelu's alpha, a float32 attribute, would
        # round the slope of a float64 model.
        zero = g.constant(np.zeros(()), f"{where}/zero")
        slope = g.constant(np.full((), slope), f"{where}/slope")
        positive = g.one("Greater", [x, zero], where)
        return g.one("Where", [positive, x, g.one("Mul", [x, slope], where)], where)
    if name == "softmax":
        return g.one("Softmax", [x], where, axis=-1)
    if name == "softplus":
        # log(1 + e^x) as max(x, 0) + log(1 + e^-|x|), autonet's stable form; built from
        # elementary ops because onnxruntime has no float64 Softplus kernel.
        one = g.constant(np.ones(()), f"{where}/one")
        tail = g.one("Exp", [g.one("Neg", [g.one("Abs", [x], where)], where)], where)
        return g.one(
            "Add", [g.one("Relu", [x], where), g.one("Log", [g.one("Add", [one, tail], where)], where)], where
        )
    if name == "gelu":
        # The exact gelu, 0.5 x (1 + erf(x / sqrt 2)), as autonet's.
        half = g.constant(np.full((), 0.5), f"{where}/half")
        one = g.constant(np.ones(()), f"{where}/one")
        root = g.constant(np.full((), math.sqrt(2.0)), f"{where}/sqrt2")
        erf = g.one("Erf", [g.one("Div", [x, root], where)], where)
        return g.one("Mul", [g.one("Mul", [half, x], where), g.one("Add", [one, erf], where)], where)
    raise ValueError(
        f"to_onnx: {who} has the activation {name!r}, a function to_onnx does not know; it exports the "
        f"activations of nn.ACTIVATIONS by name ({', '.join(sorted(nn.ACTIVATIONS))})"
    )


def _layer(g: _Graph, m: nn.Layer, path: str, x: _Tensor) -> _Tensor:
    out = _run(m, x)
    y = g.one(
        "Add",
        [g.one("MatMul", [x.name, g.constant(m.w, f"{path}.w")], path), g.constant(m.b, f"{path}.b")],
        path,
    )
    return _Tensor(_activation(g, m.activation, y, path, _describe(path, m)), out, x.batch_axis)


def _neuron(g: _Graph, m: nn.Neuron, path: str, x: _Tensor) -> _Tensor:
    out = _run(m, x)
    weights = g.constant(m.weights, f"{path}.weights")
    y = g.one("Add", [g.one("MatMul", [x.name, weights], path), g.constant(m.bias, f"{path}.bias")], path)
    return _Tensor(_activation(g, m.activation, y, path, _describe(path, m)), out, x.batch_axis)


def _linear(g: _Graph, m: nn.Linear, path: str, x: _Tensor) -> _Tensor:
    out = _run(m, x)
    # MatMul with the transposed weight, as autonet computes it (Gemm would take 2-d inputs only).
    weight = np.ascontiguousarray(np.asarray(m.weight).T)
    y = g.one("MatMul", [x.name, g.constant(weight, f"{path}.weight")], path)
    if m.bias is not None:
        y = g.one("Add", [y, g.constant(m.bias, f"{path}.bias")], path)
    return _Tensor(y, out, x.batch_axis)


def _elementwise(g: _Graph, m: nn.Activation, path: str, x: _Tensor) -> _Tensor:
    out = _run(m, x)
    if isinstance(m, nn.GELU) and m.approximate == "tanh":
        # 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))), autonet's gelu_tanh.
        c = [
            g.constant(np.full((), v), f"{path}/c{i}")
            for i, v in enumerate((0.5, 1.0, math.sqrt(2 / math.pi), 0.044715))
        ]
        cube = g.one("Mul", [c[3], g.one("Mul", [x.name, g.one("Mul", [x.name, x.name], path)], path)], path)
        inner = g.one("Tanh", [g.one("Mul", [c[2], g.one("Add", [x.name, cube], path)], path)], path)
        y = g.one("Mul", [g.one("Mul", [c[0], x.name], path), g.one("Add", [c[1], inner], path)], path)
    elif isinstance(m, nn.Softplus) and (m.beta, m.threshold) != (1.0, 20.0):
        # where(beta x > threshold, x, softplus(beta x) / beta), as autonet.nn.functional.softplus.
        beta = g.constant(np.full((), m.beta), f"{path}/beta")
        scaled = g.one("Mul", [x.name, beta], path)
        smooth = g.one("Div", [_activation(g, "softplus", scaled, path, _describe(path, m)), beta], path)
        above = g.one("Greater", [scaled, g.constant(np.full((), m.threshold), f"{path}/threshold")], path)
        y = g.one("Where", [above, x.name, smooth], path)
    else:
        slope = getattr(m, "negative_slope", 0.01)
        y = _activation(g, m.activation, x.name, path, _describe(path, m), slope)
    return _Tensor(y, out, x.batch_axis)


def _dropout(g: _Graph, m: nn.Dropout, path: str, x: _Tensor) -> _Tensor:
    return _Tensor(x.name, _run(m, x), x.batch_axis)  # the identity in evaluation: no node at all


def _identity(g: _Graph, m: nn.Identity, path: str, x: _Tensor) -> _Tensor:
    return x


def _softmax(g: _Graph, m: nn.Softmax, path: str, x: _Tensor) -> _Tensor:
    kind = "LogSoftmax" if isinstance(m, nn.LogSoftmax) else "Softmax"
    return _Tensor(g.one(kind, [x.name], path, axis=m.dim), _run(m, x), x.batch_axis)


def _flatten(g: _Graph, m: nn.Flatten, path: str, x: _Tensor) -> _Tensor:
    out = _run(m, x)  # autonet checks start_dim and end_dim against the input
    ndim = x.value.ndim
    start, end = m.start_dim % ndim, m.end_dim % ndim
    if x.batch_axis is not None and start <= x.batch_axis <= end and start != end and g.dynamic_batch:
        raise ValueError(
            f"to_onnx: {_describe(path, m)} joins the batch axis {x.batch_axis} with others "
            f"(start_dim={m.start_dim}, end_dim={m.end_dim}), so the batch size cannot stay dynamic; "
            "pass dynamic_batch=False"
        )
    shape = x.value.shape
    # 0 copies a side of the input (the batch among them), so the shape holds no batch size.
    target = [0] * start + [math.prod(shape[start : end + 1])] + list(shape[end + 1 :])
    if x.batch_axis is not None and start <= x.batch_axis <= end:
        target[start] = -1  # only the batch axis joined (dynamic_batch=False, or start == end)
    return _Tensor(g.one("Reshape", [x.name, g.ints(target, f"{path}.shape")], path), out, x.batch_axis)


def _unflatten(g: _Graph, m: nn.Unflatten, path: str, x: _Tensor) -> _Tensor:
    out = _run(m, x)  # autonet checks dim and the sizes against the input
    ndim = x.value.ndim
    dim = m.dim % ndim
    if x.batch_axis == dim and g.dynamic_batch:
        raise ValueError(
            f"to_onnx: {_describe(path, m)} splits the batch axis {dim}, so the batch size cannot stay "
            "dynamic; pass dynamic_batch=False"
        )
    # 0 copies the input's side at the same place: the sides before dim, the batch among them.
    target = [0] * dim + list(out.shape[dim : dim + len(m.unflattened_size)]) + list(x.value.shape[dim + 1 :])
    batch = (
        x.batch_axis
        if x.batch_axis is None or x.batch_axis < dim
        else x.batch_axis + len(m.unflattened_size) - 1
    )
    if batch is not None and batch > dim and g.dynamic_batch:
        target[batch] = -1
    return _Tensor(g.one("Reshape", [x.name, g.ints(target, f"{path}.shape")], path), out, batch)


def _upsample(g: _Graph, m: nn.Upsample, path: str, x: _Tensor) -> _Tensor:
    """One Gather per spatial axis with the sources autonet copies (its nearest rule, exactly)."""
    out = _run(m, x)
    shape, y = x.value.shape, x.name
    factors = (
        m.scale_factor if isinstance(m.scale_factor, (tuple, list)) else (m.scale_factor,) * (len(shape) - 2)
    )
    for axis, (n, o, f) in enumerate(zip(shape[2:], out.shape[2:], factors, strict=True), start=2):
        sources = nearest_sources(n, o, None if m.size is not None else float(f), same_copies=len(shape) == 4)
        y = g.one("Gather", [y, g.ints(list(sources), f"{path}.sources{axis}")], path, axis=axis)
    return _Tensor(y, out, x.batch_axis)


_ONNX_PAD_MODE = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def _weighted_inputs(g: _Graph, m: nn.Module, path: str, source: str) -> list[str]:
    """A convolution node's inputs: the data, the module's weight and, if it has one, its bias."""
    inputs = [source, g.constant(m.weight, f"{path}.weight")]
    return inputs if m.bias is None else [*inputs, g.constant(m.bias, f"{path}.bias")]


def _conv(g: _Graph, m: nn.Conv1d | nn.Conv2d, path: str, x: _Tensor) -> _Tensor:
    out = _run(m, x)
    pads = conv_pads(type(m).__name__, m.weight.shape, m.padding, m.stride, m.dilation)
    before, after = [b for b, _ in pads], [a for _, a in pads]
    source = x.name
    if m.padding_mode != "zeros":
        if m.padding_mode == "circular" and g.opset < 19:
            raise ValueError(
                f"to_onnx: {_describe(path, m)} has padding_mode='circular', which ONNX's Pad has from "
                f"opset 19 (mode 'wrap'); pass opset=19 or later"
            )
        pad_ints = g.ints([0, 0, *before, 0, 0, *after], f"{path}.padding")
        source = g.one("Pad", [x.name, pad_ints], path, mode=_ONNX_PAD_MODE[m.padding_mode])
        before = after = [0] * len(pads)
    y = g.one(
        "Conv",
        _weighted_inputs(g, m, path, source),
        path,
        kernel_shape=list(m.kernel_size),
        strides=list(m.stride),
        pads=before + after,
        dilations=list(m.dilation),
        group=m.groups,
    )
    return _Tensor(y, out, x.batch_axis)


def _conv_transpose(g: _Graph, m: nn.ConvTranspose1d | nn.ConvTranspose2d, path: str, x: _Tensor) -> _Tensor:
    out = _run(m, x)
    if any(e >= s for e, s in zip(m.output_padding, m.stride, strict=True)):
        raise ValueError(
            f"to_onnx: {_describe(path, m)} has output_padding {m.output_padding} not below its stride "
            f"{m.stride} (PyTorch allows it below the dilation); onnxruntime refuses that"
        )
    y = g.one(
        "ConvTranspose",
        _weighted_inputs(g, m, path, x.name),
        path,
        kernel_shape=list(m.kernel_size),
        strides=list(m.stride),
        pads=list(m.padding) * 2,
        output_padding=list(m.output_padding),
        dilations=list(m.dilation),
        group=m.groups,
    )
    return _Tensor(y, out, x.batch_axis)


def _pool(g: _Graph, m: nn.MaxPool2d | nn.AvgPool2d, path: str, x: _Tensor) -> _Tensor:
    maximum = isinstance(m, nn.MaxPool2d)
    if maximum and m.return_indices:
        raise ValueError(
            f"to_onnx: {_describe(path, m)} returns indices; export it with return_indices=False"
        )
    if not maximum and m.divisor_override is not None:
        raise ValueError(
            f"to_onnx: {_describe(path, m)} has a divisor_override, which ONNX's AveragePool lacks"
        )
    out = _run(m, x)
    shape = x.value.shape
    if maximum:
        p = pool_params("max_pool2d", shape, m.kernel_size, m.stride, m.padding, m.ceil_mode, m.dilation)
    else:
        p = pool_params("avg_pool2d", shape, m.kernel_size, m.stride, m.padding, m.ceil_mode)
    # ceil_mode is written out as padding after each axis (ONNX's ceil_mode keeps windows that
    # PyTorch's rule drops); ONNX pads the max with -inf and leaves pads out of a mean's count.
    pads = pool_pads(shape[2:], pool_output_size(shape[2:], p), p)
    before, after = [b for b, _ in pads], [a for _, a in pads]
    attributes = {"kernel_shape": list(p["kernel_size"]), "strides": list(p["stride"])}
    source = x.name
    if maximum:
        attributes["dilations"] = list(p["dilation"])
        if any(a >= k for a, k in zip(after, p["kernel_size"], strict=True)):
            # onnxruntime takes pads shorter than the kernel only (a dilated one may need more).
            pad_ints = g.ints([0, 0, *before, 0, 0, *after], f"{path}.padding")
            source = g.one("Pad", [x.name, pad_ints, g.constant(np.array(-np.inf), f"{path}.fill")], path)
            before, after = [0, 0], [0, 0]
    else:
        # AveragePool counts its pads in a mean or none of them; PyTorch counts the padding (by
        # default) but never what ceil_mode's last window runs past. Both at once: the padding
        # becomes zeros of the input, and only the rest is left to pads.
        counted = bool(m.count_include_pad and any(p["padding"]))
        if counted and after != before:
            pad_ints = g.ints([0, 0, *before, 0, 0, *before], f"{path}.padding")
            source = g.one("Pad", [x.name, pad_ints], path)
            after = [a - b for a, b in zip(after, before, strict=True)]
            before, counted = [0, 0], False
        attributes["count_include_pad"] = int(counted)
    attributes["pads"] = before + after
    kind = "MaxPool" if maximum else "AveragePool"
    return _Tensor(g.one(kind, [source], path, **attributes), out, x.batch_axis)


def _pool1d(g: _Graph, m: nn.MaxPool1d | nn.AvgPool1d, path: str, x: _Tensor) -> _Tensor:
    """A 1-d pool as the 2-d one over a height of 1, as autonet computes it."""
    out = _run(m, x)
    maximum = isinstance(m, nn.MaxPool1d)
    if maximum and m.return_indices:
        raise ValueError(
            f"to_onnx: {_describe(path, m)} returns indices; export it with return_indices=False"
        )
    dilation = m.dilation if maximum else 1
    p = pool1d_params("to_onnx", x.value.shape, m.kernel_size, m.stride, m.padding, dilation, m.ceil_mode)
    if maximum:
        two_d: nn.Module = nn.MaxPool2d(**p)
    else:
        del p["dilation"]
        two_d = nn.AvgPool2d(count_include_pad=m.count_include_pad, **p)
    rows = g.one("Unsqueeze", [x.name, g.ints([2], f"{path}.axis")], path)
    planes = np.asarray(x.value.data if isinstance(x.value, Value) else x.value)[:, :, None, :]
    pooled = _pool(g, two_d, path, _Tensor(rows, planes, x.batch_axis))
    return _Tensor(g.one("Squeeze", [pooled.name, g.ints([2], f"{path}.axis")], path), out, x.batch_axis)


def _adaptive_pool(g: _Graph, m: nn.AdaptiveAvgPool2d, path: str, x: _Tensor) -> _Tensor:
    """The two products with constant averaging matrices that autonet computes."""
    out = _run(m, x)
    (height, width), (rows, cols) = x.value.shape[-2:], out.shape[-2:]
    left = g.constant(adaptive_pool_matrix(height, rows), f"{path}.rows")
    right = g.constant(adaptive_pool_matrix(width, cols).T, f"{path}.columns")
    y = g.one("MatMul", [g.one("MatMul", [left, x.name], path), right], path)
    return _Tensor(y, out, x.batch_axis)


def _affine(g: _Graph, m: nn.Module, path: str, shape: tuple[int, ...]) -> tuple[str, str]:
    """A normalisation's scale and shift, ones and zeros where the module has none."""
    weight, bias = m.weight, m.bias
    scale = g.constant(weight if weight is not None else np.ones(shape), f"{path}.weight")
    shift = g.constant(bias if bias is not None else np.zeros(shape), f"{path}.bias")
    return scale, shift


def _batch_norm(g: _Graph, m: nn.BatchNorm1d | nn.BatchNorm2d, path: str, x: _Tensor) -> _Tensor:
    if m.running_mean is None:
        raise ValueError(
            f"to_onnx: {_describe(path, m)} has no running statistics (track_running_stats=False), so "
            "it normalises every batch by its own statistics; to_onnx exports the evaluation form, "
            "which uses running_mean and running_var"
        )
    out = _run(m, x)
    scale, shift = _affine(g, m, path, (m.num_features,))
    mean = g.constant(m.running_mean, f"{path}.running_mean")
    var = g.constant(m.running_var, f"{path}.running_var")
    y = g.one("BatchNormalization", [x.name, scale, shift, mean, var], path, epsilon=m.eps)
    return _Tensor(y, out, x.batch_axis)


def _layer_norm(g: _Graph, m: nn.LayerNorm, path: str, x: _Tensor) -> _Tensor:
    out = _run(m, x)
    scale, shift = _affine(g, m, path, m.normalized_shape)
    # stash_type is the precision of the mean and variance: the input's own (1 is float, 11 double).
    stash = 11 if g.dtype == np.float64 else 1
    axis = -len(m.normalized_shape)
    y = g.one("LayerNormalization", [x.name, scale, shift], path, axis=axis, epsilon=m.eps, stash_type=stash)
    return _Tensor(y, out, x.batch_axis)


def _embedding(g: _Graph, m: nn.Embedding, path: str, x: _Tensor) -> _Tensor:
    out = _run(m, x)
    y = g.one("Gather", [g.constant(m.weight, f"{path}.weight"), x.name], path, axis=0)
    return _Tensor(y, out, x.batch_axis)


# ONNX stacks the gates in another order than PyTorch (and autonet): the blocks of PyTorch's
# rows, in the order ONNX wants them. LSTM: PyTorch i, f, g, o; ONNX i, o, f, c (c is g).
# GRU: PyTorch r, z, n; ONNX z, r, h (h is n).
_GATE_ORDER = {nn.LSTM: (0, 3, 1, 2), nn.GRU: (1, 0, 2), nn.RNN: (0,)}


def _gates(array: Any, order: tuple[int, ...]) -> np.ndarray:
    blocks = np.split(np.asarray(array.data if isinstance(array, Value) else array), len(order))
    return np.concatenate([blocks[i] for i in order])[None]  # num_directions = 1 in front


def _recurrent(g: _Graph, m: nn.RNN | nn.GRU | nn.LSTM, path: str, x: _Tensor) -> tuple[_Tensor, ...]:
    out = _run(m, x)
    kind = type(m).__name__
    batched = x.value.ndim == 3
    batch_axis = (0 if m.batch_first else 1) if batched else None
    if g.dynamic_batch and x.batch_axis != batch_axis:
        raise ValueError(
            f"to_onnx: {_describe(path, m)} takes the batch on axis {batch_axis} (batch_first="
            f"{m.batch_first}), but its input has it on axis {x.batch_axis}; pass dynamic_batch=False"
        )
    order = next(v for k, v in _GATE_ORDER.items() if isinstance(m, k))
    h = m.hidden_size
    seq = x.name  # time-major (L, N, H) from here on, as ONNX's layout 0
    if not batched:
        seq = g.one("Unsqueeze", [seq, g.ints([1], f"{path}.axis")], path)
    elif m.batch_first:
        seq = g.one("Transpose", [seq], path, perm=[1, 0, 2])
    attributes: dict[str, Any] = {"hidden_size": h}
    if kind == "GRU":
        attributes["linear_before_reset"] = 1  # r scales (W_hn h + b_hn), as PyTorch's
    if kind == "RNN":
        attributes["activations"] = ["Relu" if m.nonlinearity == "relu" else "Tanh"]
    finals: list[list[str]] = [[], []]
    for k in range(m.num_layers):
        where = f"{path}.l{k}" if path else f"l{k}"
        w = g.constant(_gates(getattr(m, f"weight_ih_l{k}"), order), f"{where}.W")
        r = g.constant(_gates(getattr(m, f"weight_hh_l{k}"), order), f"{where}.R")
        inputs = [seq, w, r]
        if m.bias:
            b_ih = _gates(getattr(m, f"bias_ih_l{k}"), order)
            b_hh = _gates(getattr(m, f"bias_hh_l{k}"), order)
            inputs.append(g.constant(np.concatenate([b_ih, b_hh], axis=1), f"{where}.B"))
        states = 3 if kind == "LSTM" else 2
        y, *last = g.node(kind, inputs, where, outputs=states, **attributes)
        seq = g.one("Squeeze", [y, g.ints([1], f"{where}.axis")], where)  # (L, 1, N, H) -> (L, N, H)
        for j, name in enumerate(last):
            finals[j].append(name)
    if not batched:
        seq = g.one("Squeeze", [seq, g.ints([1], f"{path}.axis")], path)
    elif m.batch_first:
        seq = g.one("Transpose", [seq], path, perm=[1, 0, 2])
    values = [out[0], *(out[1] if kind == "LSTM" else (out[1],))]
    results = [_Tensor(seq, values[0], batch_axis)]
    for j, names in enumerate(finals[: len(values) - 1]):
        state = names[0] if len(names) == 1 else g.one("Concat", names, path, axis=0)
        if not batched:
            state = g.one("Squeeze", [state, g.ints([1], f"{path}.axis")], path)
        results.append(_Tensor(state, values[j + 1], 1 if batched else None))
    return tuple(results)


def _chain(g: _Graph, parts: list[tuple[str, nn.Module]], x: _Tensor) -> Any:
    result: Any = x
    for i, (path, part) in enumerate(parts):
        if isinstance(result, tuple):
            previous = parts[i - 1]
            raise ValueError(
                f"to_onnx: {_describe(*previous)} returns a tuple, which {_describe(path, part)} after it "
                "cannot take"
            )
        result = _convert(g, part, path, result)
    return result


def _sequential(g: _Graph, m: nn.Sequential, path: str, x: _Tensor) -> Any:
    dot = f"{path}." if path else ""
    return _chain(g, [(f"{dot}{i}", part) for i, part in enumerate(m)], x)


def _mlp(g: _Graph, m: nn.MLP, path: str, x: _Tensor) -> Any:
    dot = f"{path}." if path else ""
    return _chain(g, [(f"{dot}layers.{i}", layer) for i, layer in enumerate(m.layers)], x)


_Converter = Callable[[_Graph, Any, str, _Tensor], Any]

_CONVERTERS: dict[type, _Converter] = {
    nn.Sequential: _sequential,
    nn.MLP: _mlp,
    nn.Layer: _layer,
    nn.Neuron: _neuron,
    nn.Linear: _linear,
    nn.Activation: _elementwise,
    nn.GELU: _elementwise,
    nn.Softplus: _elementwise,
    nn.LeakyReLU: _elementwise,
    nn.Dropout: _dropout,
    nn.Identity: _identity,
    nn.Softmax: _softmax,
    nn.LogSoftmax: _softmax,
    nn.Flatten: _flatten,
    nn.Unflatten: _unflatten,
    nn.Upsample: _upsample,
    nn.Conv1d: _conv,
    nn.Conv2d: _conv,
    nn.ConvTranspose1d: _conv_transpose,
    nn.ConvTranspose2d: _conv_transpose,
    nn.MaxPool2d: _pool,
    nn.AvgPool2d: _pool,
    nn.MaxPool1d: _pool1d,
    nn.AvgPool1d: _pool1d,
    nn.AdaptiveAvgPool2d: _adaptive_pool,
    nn.BatchNorm1d: _batch_norm,
    nn.BatchNorm2d: _batch_norm,
    nn.LayerNorm: _layer_norm,
    nn.Embedding: _embedding,
    nn.RNN: _recurrent,
    nn.GRU: _recurrent,
    nn.LSTM: _recurrent,
}


def _converter(module: nn.Module, path: str) -> _Converter:
    """The converter of the module's class, or of the class it derives from without a forward of
    its own; anything else is refused, naming the module and where it is."""
    for cls in type(module).__mro__:
        if cls in _CONVERTERS:
            if type(module).forward is not cls.forward:
                raise TypeError(
                    f"to_onnx: cannot export {_describe(path, module)}: it derives from nn.{cls.__name__} "
                    "but has a forward of its own, which to_onnx cannot see into"
                )
            return _CONVERTERS[cls]
    known = ", ".join(sorted(cls.__name__ for cls in _CONVERTERS))
    raise TypeError(
        f"to_onnx: cannot export {_describe(path, module)}: to_onnx knows these modules: {known}; "
        "build the model from them (a module with a forward of your own cannot be exported)"
    )


def _convert(g: _Graph, module: nn.Module, path: str, x: _Tensor) -> Any:
    return _converter(module, path)(g, module, path, x)


def _first_leaf(module: nn.Module) -> nn.Module:
    """The first module that decides where the input's batch axis is (not a Dropout or an
    activation)."""
    leaves = list(_leaves(module))
    return next(
        (m for m in leaves if not isinstance(m, (nn.Dropout, nn.Activation))), leaves[0] if leaves else module
    )


def _leaves(module: nn.Module) -> Iterator[nn.Module]:
    if isinstance(module, nn.Sequential):
        for part in module:
            yield from _leaves(part)
    elif isinstance(module, nn.MLP):
        yield from module.layers
    else:
        yield module


def _input_batch_axis(model: nn.Module, ndim: int) -> int | None:
    first = _first_leaf(model)
    if isinstance(first, (nn.RNN, nn.GRU, nn.LSTM)):
        return (0 if first.batch_first else 1) if ndim == 3 else None
    if isinstance(first, (nn.Layer, nn.Linear, nn.Neuron)):
        return 0 if ndim >= 2 else None  # one sample is 1-d
    if isinstance(first, nn.LayerNorm):
        return 0 if ndim > len(first.normalized_shape) else None
    return 0 if ndim >= 1 else None


def _model_dtype(model: nn.Module, example: np.ndarray) -> np.dtype:
    floats = [p.dtype for p in model.parameters() if p.dtype.kind == "f"]
    if floats:
        return np.dtype(np.result_type(*floats))
    return example.dtype if example.dtype.kind == "f" else np.dtype(np.float64)


def _value_info(g: _Graph, name: str, tensor: _Tensor) -> Any:
    data = np.asarray(tensor.value.data if isinstance(tensor.value, Value) else tensor.value)
    shape: list[Any] = list(data.shape)
    if g.dynamic_batch and tensor.batch_axis is not None:
        shape[tensor.batch_axis] = BATCH
    element = g.onnx.helper.np_dtype_to_tensor_dtype(g.dtype if data.dtype.kind == "f" else data.dtype)
    return g.onnx.helper.make_tensor_value_info(name, element, shape)


def _flat(result: Any) -> list[_Tensor]:
    return [result] if isinstance(result, _Tensor) else [t for part in result for t in _flat(part)]


def _import_onnx() -> Any:
    try:
        import onnx
    except ImportError as error:
        raise ImportError(
            'to_onnx needs the onnx package: pip install "autonet[onnx]" (onnx, and onnxruntime to run '
            f"the file); {error}"
        ) from error
    return onnx


# What onnxruntime's CPU kernels cannot run in float64 (to_onnx warns, naming them).
_NO_FLOAT64_KERNEL = frozenset({"Conv", "AveragePool", "RNN", "GRU", "LSTM", "Erf"})


def to_onnx(
    model: nn.Module,
    example_input: Any,
    path: str | os.PathLike[str] | None,
    *,
    dynamic_batch: bool = True,
    opset: int = DEFAULT_OPSET,
    dtype: Any = None,
    input_name: str = "input",
    output_names: list[str] | None = None,
) -> onnx.ModelProto:
    """Write ``model`` as an ONNX file at ``path`` (None: write nothing) and return the ONNX model.

    ``model`` is built from the modules docs/export.md lists (``Sequential``, ``MLP``, ``Layer``,
    ``Linear``, activations, convolutions, pooling, normalisation, ``Embedding``, ``RNN``,
    ``GRU``, ``LSTM`` ...; a recurrent layer as one ONNX RNN, GRU or LSTM node). The graph computes
    the model in evaluation mode (the model's own mode is left as it was), on inputs shaped as
    ``example_input``, whose batch axis (axis 0; 1 for a recurrent model without
    ``batch_first``) is the dynamic dimension ``"batch"`` unless ``dynamic_batch=False``. The
    graph's floats are the model's dtype, or ``dtype`` (the weights cast to it); integer inputs
    (an ``Embedding``'s indices) are int64. The input is called ``input_name``; the outputs
    ``output_names``, by default ``"output"``, or ``"output"``, ``"h_n"`` (and ``"c_n"``) for a
    recurrent model. The model passes
    ``onnx.checker.check_model(full_check=True)`` before it is written. A float64 model with
    nodes that onnxruntime's CPU kernels cannot run in float64 (Conv, LSTM ...) gets a warning.

    Raises ImportError (saying what to install) without the ``onnx`` package; TypeError naming a
    module, and its path in the model, that ``to_onnx`` cannot export; ValueError for a setting it
    cannot export (a custom activation, a batch norm without running statistics, a batch axis
    that a ``Flatten`` joins with others), an opset outside ``MIN_OPSET`` to the installed onnx's
    newest, or output names that do not fit.

    >>> import os, tempfile
    >>> import numpy as np
    >>> from autonet import nn
    >>> from autonet.export import to_onnx
    >>> path = os.path.join(tempfile.mkdtemp(), "mlp.onnx")
    >>> graph = to_onnx(nn.MLP(2, [8, 1], rng=0), np.zeros((4, 2)), path)
    >>> [d.dim_param or d.dim_value for d in graph.graph.input[0].type.tensor_type.shape.dim]
    ['batch', 2]
    """
    onnx_module = _import_onnx()
    if not isinstance(model, nn.Module):
        raise TypeError(f"to_onnx: model must be an autonet nn.Module, got {type(model).__name__}")
    _check_opset(onnx_module, opset)
    example, graph_dtype, batch_axis = _example(model, example_input, dtype, dynamic_batch)
    g = _Graph(onnx_module, graph_dtype, dynamic_batch, opset)
    g.fresh(input_name)
    outputs = _flat(_walk_model(g, model, _Tensor(input_name, example, batch_axis)))
    output_names = _output_names(output_names, len(outputs), input_name)
    if graph_dtype == np.float64 and dtype is None:
        _warn_without_float64_kernels(g)
    proto = _assembled(
        g, type(model).__name__, _Tensor(input_name, example, batch_axis), outputs, output_names, opset
    )
    onnx_module.checker.check_model(proto, full_check=True)
    if path is not None:
        onnx_module.save(proto, os.fspath(path))
    return proto


def _warn_without_float64_kernels(g: _Graph) -> None:
    lacking = sorted({node.op_type for node in g.nodes} & _NO_FLOAT64_KERNEL)
    if lacking:
        warnings.warn(
            f"to_onnx: the model is float64, and onnxruntime's CPU kernels do not run "
            f"{', '.join(lacking)} in float64; pass dtype=np.float32 to run the file there",
            stacklevel=3,
        )


def _assembled(
    g: _Graph, name: str, source: _Tensor, outputs: list[_Tensor], output_names: list[str], opset: int
) -> Any:
    """The ONNX model of the nodes ``g`` made: ``source`` in, ``outputs`` out under their names."""
    helper = g.onnx.helper
    nodes = list(g.nodes)
    for tensor, out_name in zip(outputs, output_names, strict=True):
        nodes.append(
            helper.make_node("Identity", [tensor.name], [out_name], name=g.fresh(f"{out_name}_node"))
        )
    graph = helper.make_graph(
        nodes,
        name,
        [_value_info(g, source.name, source)],
        [_value_info(g, out_name, t) for t, out_name in zip(outputs, output_names, strict=True)],
        initializer=g.initializers,
    )
    opsets = [helper.make_opsetid("", int(opset))]
    return helper.make_model(
        graph,
        opset_imports=opsets,
        producer_name="autonet",
        ir_version=helper.find_min_ir_version_for(opsets),
    )


def _check_opset(onnx_module: Any, opset: Any) -> None:
    newest = onnx_module.defs.onnx_opset_version()
    if (
        isinstance(opset, bool)
        or not isinstance(opset, (int, np.integer))
        or not MIN_OPSET <= opset <= newest
    ):
        raise ValueError(f"to_onnx: opset must be an int from {MIN_OPSET} to {newest}, got {opset!r}")


def _example(
    model: nn.Module, example_input: Any, dtype: Any, dynamic_batch: bool
) -> tuple[np.ndarray, np.dtype, int | None]:
    """The example input as the graph takes it, the graph's float dtype and the input's batch axis."""
    example = np.asarray(example_input.data if isinstance(example_input, Value) else example_input)
    if example.dtype.kind not in "biuf":
        raise TypeError(f"to_onnx: example_input must be an array of numbers, got dtype {example.dtype}")
    graph_dtype = _model_dtype(model, example) if dtype is None else np.dtype(dtype)
    if graph_dtype not in (np.float32, np.float64):
        raise ValueError(f"to_onnx: dtype must be float32 or float64, got {graph_dtype}")
    batch_axis = _input_batch_axis(model, example.ndim)
    if dynamic_batch and batch_axis is None:
        raise ValueError(
            f"to_onnx: an example input of shape {example.shape} has no batch axis for "
            f"{type(_first_leaf(model)).__name__}; give a batch of examples or pass dynamic_batch=False"
        )
    if example.dtype.kind != "f" and isinstance(_first_leaf(model), nn.Embedding):
        return example.astype(np.int64), graph_dtype, batch_axis
    # Integers for a layer become numbers, as autonet's modules take them.
    return example.astype(graph_dtype), graph_dtype, batch_axis


def _walk_model(g: _Graph, model: nn.Module, start: _Tensor) -> Any:
    """Convert ``model`` from the graph's input ``start``. The walk runs each module on the example
    for its shapes: in evaluation mode, so that no batch norm updates its statistics and no
    dropout draws a mask; each module's mode is put back after."""
    modes = [(module, module.training) for _, module in model.named_modules()]
    model.eval()
    try:
        with no_grad():
            data = start.value
            if data.dtype.kind == "f":
                data = Value(data, requires_grad=False)
            return _convert(g, model, "", _Tensor(start.name, data, start.batch_axis))
    finally:
        for module, mode in modes:  # parents come first, so each child ends in its own mode
            module.train(mode)


def _output_names(names: list[str] | None, count: int, input_name: str) -> list[str]:
    if names is None:
        return ["output", "h_n", "c_n"][:count] if count > 1 else ["output"]
    names = list(names)
    if len(names) != count or len(set(names)) != count or input_name in names:
        raise ValueError(
            f"to_onnx: the model has {count} output(s); output_names must give as many distinct "
            f"names, other than the input's {input_name!r}: got {names!r}"
        )
    return names


# --------------------------------------------------------------------------- PyTorch's layouts


@dataclass(frozen=True)
class _Renamed:
    """Where one entry of an autonet state goes in PyTorch's, and how its array changes."""

    torch_key: str
    to_torch: Callable[[np.ndarray], np.ndarray]
    from_torch: Callable[[np.ndarray], np.ndarray]


def _same(a: np.ndarray) -> np.ndarray:
    return a


def _transposed(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a.T)


def _row(a: np.ndarray) -> np.ndarray:
    return a.reshape(1, -1)  # a Neuron's weights (nin,) as nn.Linear(nin, 1)'s weight (1, nin)


def _one(a: np.ndarray) -> np.ndarray:
    return a.reshape(1)  # a Neuron's 0-d bias as nn.Linear(nin, 1)'s bias (1,)


def _vector(a: np.ndarray) -> np.ndarray:
    return a.reshape(-1)


def _scalar(a: np.ndarray) -> np.ndarray:
    return a.reshape(())


def _torch_layout(model: nn.Module) -> dict[str, _Renamed]:
    """Every key of ``model.state_dict()`` -> its name and layout in the matching torch module."""
    own: dict[str, tuple[str, Callable, Callable]] = {}
    mlps: list[tuple[str, int]] = []
    for prefix, module in model.named_modules():
        dot = f"{prefix}." if prefix else ""
        if isinstance(module, nn.Layer):
            own[f"{dot}w"] = (f"{dot}weight", _transposed, _transposed)
            own[f"{dot}b"] = (f"{dot}bias", _same, _same)
        elif isinstance(module, nn.Neuron):
            own[f"{dot}weights"] = (f"{dot}weight", _row, _vector)
            own[f"{dot}bias"] = (f"{dot}bias", _one, _scalar)
        elif isinstance(module, nn.MLP):
            # nn.Sequential(Linear, activation, Linear, activation, ..., Linear): layer i is part 2i,
            # or part i when the hidden layers are linear (no activation modules between them).
            hidden = module.layers[0].activation if len(module.layers) > 1 else "linear"
            mlps.append((dot, 1 if hidden == "linear" else 2))
    layout = {}
    for key in model.state_dict():
        torch_key, to_torch, from_torch = own.get(key, (key, _same, _same))
        for dot, step in mlps:
            head = f"{dot}layers."
            if torch_key.startswith(head):
                index, _, rest = torch_key[len(head) :].partition(".")
                torch_key = f"{dot}{int(index) * step}.{rest}"
        layout[key] = _Renamed(torch_key, to_torch, from_torch)
    return layout


def to_torch_state_dict(model: nn.Module) -> dict[str, np.ndarray]:
    """``model``'s state under the names and in the layouts of the matching ``torch.nn`` module, as
    numpy arrays (copies); load it in PyTorch with ``{k: torch.from_numpy(v) for k, v in ...}``.

    Only what differs is changed: a ``Layer`` is ``nn.Linear`` (``w`` (in, out) becomes ``weight``
    (out, in), ``b`` becomes ``bias``); a ``Neuron`` is ``nn.Linear(nin, 1)`` (``weight`` (1, nin),
    ``bias`` (1,)); an ``MLP`` is ``nn.Sequential(Linear, activation, ..., Linear)``, so its layer i
    is part ``2 i`` (``i`` when the hidden layers are linear). Convolutions, normalisation,
    embedding and recurrent layers and ``Sequential`` already have PyTorch's names and layouts
    (BatchNorm's ``running_mean``, ``running_var``, ``num_batches_tracked``; LSTM's
    ``weight_ih_l0`` ...), and so do the attributes of your own modules. ``from_torch_state_dict``
    is the inverse.

    >>> from autonet import nn
    >>> from autonet.export import to_torch_state_dict
    >>> state = to_torch_state_dict(nn.Layer(3, 2, rng=0))
    >>> {k: v.shape for k, v in state.items()}
    {'weight': (2, 3), 'bias': (2,)}
    """
    if not isinstance(model, nn.Module):
        raise TypeError(
            f"to_torch_state_dict: model must be an autonet nn.Module, got {type(model).__name__}"
        )
    layout = _torch_layout(model)
    return {layout[key].torch_key: layout[key].to_torch(array) for key, array in model.state_dict().items()}


def _as_array(value: Any) -> np.ndarray:
    """A torch tensor (without importing torch: detach, cpu, numpy), or anything np.asarray takes."""
    for step in ("detach", "cpu"):
        if callable(getattr(value, step, None)) and not isinstance(value, np.ndarray):
            value = getattr(value, step)()
    if callable(getattr(value, "numpy", None)) and not isinstance(value, np.ndarray):
        value = value.numpy()
    return np.asarray(value)


def from_torch_state_dict(model: nn.Module, state: Mapping[str, Any], strict: bool = True) -> nn.Module:
    """Load a state with ``torch.nn``'s names and layouts (a torch module's ``state_dict()``, or
    ``to_torch_state_dict``'s) into ``model``; returns ``model``.

    The values may be torch tensors (read with ``.detach().cpu().numpy()``; torch is not
    imported), numpy arrays or anything ``numpy.asarray`` takes; they are converted to each
    parameter's dtype. The names and layouts are ``to_torch_state_dict``'s, whose inverse this is.
    Everything is checked before anything changes: a ``ValueError`` lists every missing and
    unexpected key (with ``strict``, the default) and every array of the wrong shape, and the
    model is left as it was.

    >>> import numpy as np
    >>> from autonet import nn
    >>> from autonet.export import from_torch_state_dict
    >>> layer = from_torch_state_dict(nn.Layer(3, 2, rng=0), {"weight": np.ones((2, 3)), "bias": np.zeros(2)})
    >>> layer.w.shape, float(layer.w.data.sum())
    ((3, 2), 6.0)
    """
    if not isinstance(model, nn.Module):
        raise TypeError(
            f"from_torch_state_dict: model must be an autonet nn.Module, got {type(model).__name__}"
        )
    if not isinstance(state, Mapping):
        raise TypeError(
            f"from_torch_state_dict: state must be a mapping of names to arrays, got {type(state).__name__}"
        )
    layout = _torch_layout(model)
    ours = model.state_dict()
    by_torch = {renamed.torch_key: key for key, renamed in layout.items()}
    missing = [k for k in by_torch if k not in state]
    unexpected = [k for k in state if k not in by_torch]
    misshaped, converted = [], {}
    for torch_key, value in state.items():
        if torch_key not in by_torch:
            continue
        key = by_torch[torch_key]
        array = _as_array(value)
        expected = layout[key].to_torch(ours[key]).shape
        if array.shape != expected:
            misshaped.append(f"{torch_key} (given {array.shape}, PyTorch's layout is {expected})")
        else:
            converted[key] = layout[key].from_torch(array)
    problems = [("mis-shaped", misshaped)]
    if strict:
        problems = [("missing", missing), ("unexpected", unexpected), *problems]
    problems = [(what, names) for what, names in problems if names]
    if problems:
        details = "\n".join(f"  {what}: {', '.join(names)}" for what, names in problems)
        raise ValueError(
            f"from_torch_state_dict: the state does not fit {type(model).__name__} "
            f"(nothing was changed)\n{details}"
        )
    model.load_state_dict(converted, strict=strict)
    return model
