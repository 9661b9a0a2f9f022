"""Normalisation, dropout and embedding: the ops behind BatchNorm, LayerNorm, Dropout and Embedding.

``batch_norm`` and ``layer_norm`` are composites (mean, subtraction, sqrt, division, product),
so they are exact and differentiable to any order; their inputs are ``x``, ``weight`` and
``bias``, and the public functions (``autonet.batch_norm``, ``autonet.layer_norm``, with
PyTorch's argument order) put in constant ones and zeros where no weight or bias is given.
A batch norm in training mode normalises with the biased batch variance and, given running
statistics (numpy arrays: buffers, not inputs), updates them in place with the unbiased one, as
PyTorch does; nothing is recorded for that update. In evaluation mode it uses the running
statistics.

``dropout`` is a primitive whose random part is a parameter: the op takes the keep ``mask``
(drawn by ``autonet.dropout`` from a ``numpy.random.Generator``) and ``p``, so its forward is
deterministic, the mask is recorded with the node and the backward uses the same one.
``embedding`` picks rows of ``weight`` by integer ``indices`` (a parameter: no gradient); its
vjp adds the upstream rows back with ``np.add.at``, so a repeated index accumulates.
"""

from __future__ import annotations

import math
import numbers
import operator
from typing import Any

import numpy as np

from .._state import STATE
from .registry import (
    REAL,
    Cases,
    Edge,
    Op,
    apply,
    as_value,
    constant,
    fresh_array,
    gate,
    int_tuple,
    is_value,
    register,
)

_NAN = math.nan
Samples = list[tuple[tuple[np.ndarray, ...], dict[str, Any]]]


def _number(value: Any, what: str, op: str, low: float = -math.inf, high: float = math.inf) -> float:
    """A real number (not a bool) in ``[low, high]``, else a TypeError or ValueError naming ``op``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{op}: {what} must be a real number, got {type(value).__name__} {value!r}")
    value = float(value)
    if not low <= value <= high:  # nan fails both comparisons
        raise ValueError(f"{op}: {what} must be a number in [{low}, {high}], got {value!r}")
    return value


def _flag(value: Any, what: str, op: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{op}: {what} must be True or False, got {type(value).__name__} {value!r}")
    return bool(value)


def _affine_shape(op: str, name: str, value: Any, shape: tuple[int, ...]) -> None:
    if value.shape != shape:
        raise ValueError(f"{op}: {name} has shape {value.shape}, the input needs {shape}")


# --------------------------------------------------------------------------- batch norm


def _running(op: str, name: str, array: Any, channels: int, training: bool) -> np.ndarray | None:
    """A running statistic: None, or a float numpy array of shape (C,), writeable in training."""
    if array is None:
        return None
    if not isinstance(array, np.ndarray) or array.dtype.kind != "f":
        kind = f"dtype {array.dtype}" if isinstance(array, np.ndarray) else f"type {type(array).__name__}"
        raise TypeError(f"{op}: {name} must be a float numpy array (a buffer), got {kind}")
    if array.shape != (channels,):
        raise ValueError(
            f"{op}: {name} has shape {array.shape}, the input's {channels} channels need ({channels},)"
        )
    if training and not array.flags.writeable:
        raise ValueError(
            f"{op}: {name} is read-only, but training updates it in place; pass a writeable copy"
        )
    return array


def _batch_norm_args(
    x: Any,
    weight: Any,
    bias: Any,
    running_mean: np.ndarray | None = None,
    running_var: np.ndarray | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    op = "batch_norm"
    if x.ndim < 2:
        raise ValueError(f"{op}: the input needs a batch and a channel axis (N, C, ...), got shape {x.shape}")
    channels = x.shape[1]
    _affine_shape(op, "weight", weight, (channels,))
    _affine_shape(op, "bias", bias, (channels,))
    training = _flag(training, "training", op)
    running_mean = _running(op, "running_mean", running_mean, channels, training)
    running_var = _running(op, "running_var", running_var, channels, training)
    if (running_mean is None) != (running_var is None):
        raise ValueError(f"{op}: give both running_mean and running_var, or neither")
    if running_mean is None and not training:
        raise ValueError(f"{op}: evaluation mode (training=False) needs running_mean and running_var")
    if training and x.size // channels == 1:
        # PyTorch's rule: the variance of one value is 0 and the unbiased one undefined.
        raise ValueError(
            f"{op}: expected more than 1 value per channel when training, got input shape {x.shape}"
        )
    params = {
        "running_mean": running_mean,
        "running_var": running_var,
        "training": training,
        "momentum": _number(momentum, "momentum", op),
        "eps": _number(eps, "eps", op, 0.0),
    }
    return (x, weight, bias), params


def _update(running: np.ndarray, batch: Any, momentum: float, factor: float = 1.0) -> None:
    # (1 - momentum) * running + momentum * (factor * batch), in place: the buffer stays the same
    # array. ``batch`` is a recorded statistic (a Value), so autonet.compile replays this update
    # on the replayed statistic, as an update of state (a leaf's add_, an optimizer's step) is.
    if STATE.tracer is not None:
        STATE.tracer.call(_update, running, batch, momentum, factor)
        return
    batch = np.asarray(batch).reshape(running.shape)
    np.multiply(running, 1.0 - momentum, out=running)
    running += momentum * (batch * factor if factor != 1.0 else batch)


def _running_statistic(running: np.ndarray, dtype: np.dtype, shape: tuple[int, ...]) -> np.ndarray:
    # A buffer as the input's dtype, shaped to broadcast over it: a new array, read at every call.
    return running.astype(dtype).reshape(shape)


def _batch_norm(
    x: Any,
    weight: Any,
    bias: Any,
    running_mean: np.ndarray | None = None,
    running_var: np.ndarray | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Any:
    axes = (0, *range(2, x.ndim))
    shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    if x.size == 0:  # no values: no statistics to take or update, an empty result
        return x * weight.reshape(shape) + bias.reshape(shape)
    if training:
        mean = x.mean(axis=axes, keepdims=True)
        centred = x - mean
        var = (centred * centred).mean(axis=axes, keepdims=True)
        count = x.size // x.shape[1]
        if running_mean is not None:
            _update(running_mean, mean, momentum)
            _update(running_var, var, momentum, count / (count - 1))  # the unbiased variance
    else:
        centred = x - constant(fresh_array(_running_statistic, running_mean, x.dtype, shape))
        var = constant(fresh_array(_running_statistic, running_var, x.dtype, shape))
    scale = weight.reshape(shape) / (var + eps).sqrt()  # per channel: cheaper than on all of x
    return centred * scale + bias.reshape(shape)


def batch_norm(
    x: Any,
    running_mean: np.ndarray | None,
    running_var: np.ndarray | None,
    weight: Any = None,
    bias: Any = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Any:
    """Batch normalisation of ``x`` (N, C), (N, C, L) or (N, C, H, W) per channel, as PyTorch's.

    Training mode normalises with the batch mean and biased variance and, if the running
    statistics are given, updates them in place (``momentum``; the unbiased variance goes into
    ``running_var``); evaluation mode uses the running statistics. ``weight`` and ``bias`` (C,)
    scale and shift the result (None: 1 and 0). Raises ValueError for one value per channel in
    training, mis-shaped arguments, or missing running statistics in evaluation mode.

    >>> import numpy as np
    >>> from autonet import Value, batch_norm
    >>> mean, var = np.zeros(1), np.ones(1)
    >>> batch_norm(Value([[1.0], [3.0]]), mean, var, training=True, eps=0.0).tolist()
    [[-1.0], [1.0]]
    >>> mean.tolist(), var.tolist()  # 0.9 * 0 + 0.1 * 2; 0.9 * 1 + 0.1 * 2 (unbiased)
    ([0.2], [1.1])
    """
    x = as_value(x)
    channels = x.shape[1] if x.ndim >= 2 else 0
    weight = np.ones(channels, dtype=x.dtype) if weight is None else weight
    bias = np.zeros(channels, dtype=x.dtype) if bias is None else bias
    return apply(
        "batch_norm",
        x,
        weight,
        bias,
        running_mean=running_mean,
        running_var=running_var,
        training=training,
        momentum=momentum,
        eps=eps,
    )


def _batch_norm_samples(rng: np.random.Generator, dtype: Any) -> Samples:
    cases = []
    for shape, training in [((3, 2), True), ((3, 2), False), ((2, 2, 2), True), ((2, 2, 1, 2), True)]:
        channels = shape[1]
        x = rng.uniform(-2, 2, shape).astype(dtype)
        w, b = rng.uniform(-2, 2, (2, channels)).astype(dtype)
        params = {
            "running_mean": rng.uniform(-1, 1, channels).astype(dtype),
            "running_var": rng.uniform(0.5, 2, channels).astype(dtype),
            "training": training,
        }
        cases.append(((x, w, b), params))
    return cases


_ONES2, _ZEROS2 = np.ones(2), np.zeros(2)
_EVAL = {"running_mean": np.array([1.0, -1.0]), "running_var": np.array([4.0, 0.25]), "eps": 0.0}

register(
    Op(
        "batch_norm",
        None,
        (),
        (REAL, REAL, REAL),
        composite=_batch_norm,
        prepare=_batch_norm_args,
        function=batch_norm,
        cases=Cases("normalization", samples=_batch_norm_samples),
        doc="Batch normalisation per channel (axis 1) of x, with weight and bias (C,), as PyTorch's.",
        edges=(
            Edge(
                "training, a batch of one",
                ([[1.0, 2.0]], _ONES2, _ZEROS2),
                params={"training": True},
                raises=ValueError,
                note="torch raises too: one value per channel has no variance",
            ),
            Edge(
                "training, a constant channel",
                ([[2.0, 1.0], [2.0, 3.0]], [3.0, 1.0], [0.5, 0.0]),
                grads=([[0.0, 0.0], [0.0, 0.0]], [0.0, 0.0], [2.0, 2.0]),
                params={"training": True},
                value=[[0.5, -1.0 / math.sqrt(1 + 1e-5)], [0.5, 1.0 / math.sqrt(1 + 1e-5)]],
                note="the variance is 0, and eps keeps 1 / sqrt(var + eps) finite",
            ),
            Edge(
                "evaluation: the running statistics",
                ([[3.0, 0.0], [1.0, -1.5]], [1.0, 2.0], [0.0, 1.0]),
                grads=([[0.5, 4.0], [0.5, 4.0]], [1.0, 1.0], [2.0, 2.0]),
                params=_EVAL,
                value=[[1.0, 5.0], [0.0, -1.0]],
            ),
            Edge(
                "a batch of 0, training",
                (np.zeros((0, 2)), _ONES2, _ZEROS2),
                grads=(np.zeros((0, 2)), _ZEROS2, _ZEROS2),
                params={"training": True},
                value=np.zeros((0, 2)),
                note="torch gives an empty result too, and leaves the running statistics alone",
            ),
            Edge(
                "0-d input",
                (2.0, np.ones(1), np.zeros(1)),
                params={"training": True},
                raises=ValueError,
                note="there is no channel axis; torch raises too",
            ),
        ),
    )
)


# --------------------------------------------------------------------------- layer norm


def _layer_norm_args(
    x: Any, weight: Any, bias: Any, normalized_shape: Any, eps: float = 1e-5
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    op = "layer_norm"
    parts = normalized_shape if isinstance(normalized_shape, (tuple, list)) else (normalized_shape,)
    shape = int_tuple(parts, op)
    if not shape:
        raise ValueError(f"{op}: normalized_shape must hold at least one axis, got {normalized_shape!r}")
    if x.shape[x.ndim - len(shape) :] != shape or x.ndim < len(shape):
        raise ValueError(f"{op}: the input of shape {x.shape} does not end in normalized_shape {shape}")
    _affine_shape(op, "weight", weight, shape)
    _affine_shape(op, "bias", bias, shape)
    return (x, weight, bias), {"normalized_shape": shape, "eps": _number(eps, "eps", op, 0.0)}


def _layer_norm(x: Any, weight: Any, bias: Any, normalized_shape: tuple[int, ...], eps: float = 1e-5) -> Any:
    axes = tuple(range(x.ndim - len(normalized_shape), x.ndim))
    if x.size == 0:  # the mean of nothing: no statistics, an empty result
        return x * weight + bias
    centred = x - x.mean(axis=axes, keepdims=True)
    var = (centred * centred).mean(axis=axes, keepdims=True)
    # A constant row has var 0: eps keeps the division finite, and its gradient with it.
    return centred / (var + eps).sqrt() * weight + bias


def layer_norm(x: Any, normalized_shape: Any, weight: Any = None, bias: Any = None, eps: float = 1e-5) -> Any:
    """Layer normalisation over the last axes of ``x`` (those of ``normalized_shape``), as PyTorch's.

    Each slice is normalised with its mean and biased variance (``eps`` added), then scaled by
    ``weight`` and shifted by ``bias`` (of ``normalized_shape``; None: 1 and 0). Raises
    ValueError if ``x`` does not end in ``normalized_shape`` or it is empty.

    >>> from autonet import Value, layer_norm
    >>> layer_norm(Value([[1.0, 3.0]]), 2, eps=0.0).tolist()
    [[-1.0, 1.0]]
    """
    x = as_value(x)
    parts = normalized_shape if isinstance(normalized_shape, (tuple, list)) else (normalized_shape,)
    shape = int_tuple(parts, "layer_norm")
    weight = np.ones(shape, dtype=x.dtype) if weight is None else weight
    bias = np.zeros(shape, dtype=x.dtype) if bias is None else bias
    return apply("layer_norm", x, weight, bias, normalized_shape=shape, eps=eps)


def _layer_norm_samples(rng: np.random.Generator, dtype: Any) -> Samples:
    cases = []
    for shape, normalized in [((3,), (3,)), ((2, 3), (3,)), ((2, 2, 2), (2, 2)), ((0, 3), (3,))]:
        x = rng.uniform(-2, 2, shape).astype(dtype)
        w, b = rng.uniform(-2, 2, (2, *normalized)).astype(dtype)
        cases.append(((x, w, b), {"normalized_shape": normalized}))
    return cases


_ONES3, _ZEROS3 = np.ones(3), np.zeros(3)
_RSQRT_EPS = 1 / math.sqrt(1e-5)  # the slope of a constant row: 1 / sqrt(0 + eps)

register(
    Op(
        "layer_norm",
        None,
        (),
        (REAL, REAL, REAL),
        composite=_layer_norm,
        prepare=_layer_norm_args,
        function=layer_norm,
        cases=Cases("normalization", samples=_layer_norm_samples),
        doc="Layer normalisation over the last axes of x (normalized_shape), with weight and bias.",
        edges=(
            Edge(
                "a constant row",
                ([[2.0, 2.0, 2.0]], [1.0, 2.0, 3.0], _ZEROS3),
                grads=([[-_RSQRT_EPS, 0.0, _RSQRT_EPS]], _ZEROS3, _ONES3),
                params={"normalized_shape": (3,)},
                value=[[0.0, 0.0, 0.0]],
                note="var = 0: eps keeps the slope finite, 1 / sqrt(eps) times g * weight less its mean",
            ),
            Edge(
                "eps = 0, a constant row",
                ([[2.0, 2.0]], _ONES2, _ZEROS2),
                grads=([[_NAN, _NAN]], [_NAN, _NAN], _ONES2),
                params={"normalized_shape": (2,), "eps": 0.0},
                value=[[_NAN, _NAN]],
                note="0 / 0 without eps",
            ),
            Edge(
                "x = +-1e300 (the variance overflows)",
                ([[1e300, -1e300]], _ONES2, _ZEROS2),
                grads=([[0.0, 0.0]], _ZEROS2, _ONES2),
                params={"normalized_shape": (2,)},
                value=[[0.0, 0.0]],
            ),
            Edge(
                "a batch of 0",
                (np.zeros((0, 3)), _ONES3, _ZEROS3),
                grads=(np.zeros((0, 3)), _ZEROS3, _ZEROS3),
                params={"normalized_shape": (3,)},
                value=np.zeros((0, 3)),
            ),
            Edge(
                "0-d input",
                (2.0, 1.0, 0.0),
                params={"normalized_shape": ()},
                raises=ValueError,
                note="torch raises too: normalized_shape needs an axis",
            ),
        ),
    )
)


# --------------------------------------------------------------------------- dropout


def _scale(p: float) -> float:
    # p = 1 drops everything: the kept elements (none) would be scaled by 1 / 0.
    return 0.0 if p == 1.0 else 1.0 / (1.0 - p)


def _dropout_args(x: Any, mask: Any, p: float = 0.5) -> tuple[tuple[Any, ...], dict[str, Any]]:
    op = "dropout"
    p = _number(p, "p", op, 0.0, 1.0)
    if not isinstance(mask, (np.ndarray, np.bool_, bool)) or np.asarray(mask).dtype != np.bool_:
        kind = f"dtype {mask.dtype}" if isinstance(mask, np.ndarray) else f"type {type(mask).__name__}"
        raise TypeError(f"{op}: mask must be a boolean numpy array (True: keep), got {kind}")
    mask = np.asarray(mask)
    try:
        fits = np.broadcast_shapes(mask.shape, x.shape) == x.shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"{op}: a mask of shape {mask.shape} does not fit the input of shape {x.shape}")
    return (x,), {"mask": mask, "p": p}


def dropout(
    x: Any, p: float = 0.5, training: bool = True, generator: np.random.Generator | None = None
) -> Any:
    """Zero each element of ``x`` with probability ``p`` and scale the rest by 1 / (1 - p), as PyTorch's.

    The keep mask is drawn from ``generator`` (a ``numpy.random.Generator``; None: a fresh
    unseeded one), so a seeded generator gives the same mask again; the mask is recorded with
    the node, and the backward uses it. Not ``training``, or ``p = 0``: ``x`` itself. ``p = 1``:
    zeros. Raises ValueError for ``p`` outside [0, 1], TypeError for another kind of generator.

    >>> import numpy as np
    >>> from autonet import Value, dropout
    >>> y = dropout(Value(np.ones(4)), 0.5, generator=np.random.default_rng(0))
    >>> sorted(set(y.tolist()))
    [0.0, 2.0]
    """
    p = _number(p, "p", "dropout", 0.0, 1.0)
    x = as_value(x)
    if not _flag(training, "training", "dropout") or p == 0.0:
        return x
    if generator is None:
        generator = np.random.default_rng()
    if not isinstance(generator, np.random.Generator):
        raise TypeError(
            f"dropout: generator must be a numpy.random.Generator or None, got {type(generator).__name__}"
        )
    return apply("dropout", x, mask=fresh_array(_keep_mask, generator, x.shape, p), p=p)


def _keep_mask(generator: np.random.Generator, shape: tuple[int, ...], p: float) -> np.ndarray:
    return generator.random(shape) >= p if p < 1.0 else np.zeros(shape, dtype=bool)


def _dropout_forward(x: np.ndarray, mask: np.ndarray, p: float = 0.5) -> np.ndarray:
    return np.where(mask, x * _scale(p), np.zeros((), dtype=np.result_type(x)))


def _dropout_samples(rng: np.random.Generator, dtype: Any) -> Samples:
    cases = []
    for shape, p in [((), 0.5), ((4,), 0.25), ((2, 3), 0.5), ((2, 3), 1.0), ((0, 2), 0.5)]:
        x = rng.uniform(-2, 2, shape).astype(dtype)
        cases.append(((x,), {"mask": np.asarray(rng.random(shape) >= p), "p": p}))
    return cases


register(
    Op(
        "dropout",
        _dropout_forward,
        (lambda g, out, x, mask, p=0.5: gate(g * _scale(p), mask),),
        (REAL,),
        jvps=(lambda t, out, x, mask, p=0.5: gate(t * _scale(p), mask),),
        prepare=_dropout_args,
        function=dropout,
        cases=Cases("dropout", samples=_dropout_samples),
        doc="x * mask / (1 - p): the elements the boolean mask keeps, scaled (the op behind dropout).",
        edges=(
            Edge(
                "p = 1: everything dropped",
                ([1e300, 2.0],),
                grads=([0.0, 0.0],),
                params={"mask": np.array([False, False]), "p": 1.0},
                value=[0.0, 0.0],
                flat=(0,),
            ),
            Edge(
                "a dropped element (flat)",
                ([3.0, 2.0],),
                grads=([2.0, 0.0],),
                params={"mask": np.array([True, False]), "p": 0.5},
                value=[6.0, 0.0],
                flat=(0,),
            ),
            Edge(
                "x = 1e300, p = 0.5 (overflow)",
                ([1e300],),
                grads=([2.0],),
                params={"mask": np.array([True]), "p": 0.5},
                value=[2e300],
            ),
            Edge(
                "size-0 input",
                (np.zeros(0),),
                grads=(np.zeros(0),),
                params={"mask": np.zeros(0, dtype=bool)},
                value=np.zeros(0),
            ),
            Edge("0-d input", (2.0,), grads=(4.0,), params={"mask": np.array(True), "p": 0.75}, value=8.0),
        ),
    )
)


# --------------------------------------------------------------------------- embedding


def _embedding_args(
    weight: Any, indices: Any, padding_idx: Any = None
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    op = "embedding"
    if weight.ndim != 2:
        raise ValueError(
            f"{op}: weight must be 2-d (num_embeddings, embedding_dim), got shape {weight.shape}"
        )
    if is_value(indices):
        raise TypeError(f"{op}: indices must be an integer array, not a Value (which holds floats)")
    indices = np.asarray(indices)
    if indices.dtype.kind not in "iu":
        raise TypeError(f"{op}: indices must be integers, got dtype {indices.dtype}")
    count = weight.shape[0]
    if indices.size and (indices.min() < 0 or indices.max() >= count):
        bad = indices[(indices < 0) | (indices >= count)].flat[0]
        raise IndexError(
            f"{op}: index {bad} is out of range for {count} embeddings (weight shape {weight.shape})"
        )
    if padding_idx is not None:
        try:
            padding_idx = operator.index(padding_idx)
        except TypeError:
            raise TypeError(f"{op}: padding_idx must be an int or None, got {padding_idx!r}") from None
        if not -count <= padding_idx < count:
            raise ValueError(f"{op}: padding_idx {padding_idx} is out of range for {count} embeddings")
        padding_idx %= count
    return (weight,), {"indices": indices, "padding_idx": padding_idx}


def _embedding_vjp(g: Any, out: Any, weight: Any, indices: np.ndarray, padding_idx: int | None = None) -> Any:
    if padding_idx is not None:  # the padding row learns nothing, as in PyTorch
        g = gate(g, (indices != padding_idx)[..., None])
    if is_value(g):
        return apply("scatter_add", g, index=indices, shape=weight.shape)
    grad = np.zeros(weight.shape, dtype=g.dtype)
    np.add.at(grad, indices, g)  # a repeated index accumulates; fancy assignment would keep one
    return grad


def _embedding_jvp(t: Any, out: Any, weight: Any, indices: np.ndarray, padding_idx: int | None = None) -> Any:
    picked = t[indices]
    if padding_idx is not None:  # the vjp's convention: the padding row has no derivative
        picked = gate(picked, (indices != padding_idx)[..., None])
    return picked


def embedding(indices: Any, weight: Any, padding_idx: int | None = None) -> Any:
    """The rows of ``weight`` (num_embeddings, embedding_dim) picked by integer ``indices``, as PyTorch's.

    The result has shape ``indices.shape + (embedding_dim,)``. The gradient adds up over repeated
    indices; the row ``padding_idx`` gets none. Raises TypeError for non-integer indices,
    IndexError for an index out of range, ValueError for a weight that is not 2-d.

    >>> from autonet import Value, embedding
    >>> weight = Value([[0.0, 1.0], [2.0, 3.0]])
    >>> embedding([1, 1], weight).sum().backward()
    >>> weight.grad.tolist()
    [[0.0, 0.0], [2.0, 2.0]]
    """
    return apply("embedding", weight, indices=indices, padding_idx=padding_idx)


def _embedding_samples(rng: np.random.Generator, dtype: Any) -> Samples:
    cases = []
    # No padding_idx here: its row's gradient is 0 by design, not what central differences measure
    # (the edges and tests/ops/test_norm.py pin it).
    for index_shape in [(), (4,), (2, 3), (0,)]:
        weight = rng.uniform(-2, 2, (3, 2)).astype(dtype)
        cases.append(((weight,), {"indices": rng.integers(0, 3, index_shape)}))
    return cases


_WEIGHT = [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]

register(
    Op(
        "embedding",
        lambda weight, indices, padding_idx=None: weight[indices],
        (_embedding_vjp,),
        (REAL,),
        jvps=(_embedding_jvp,),
        prepare=_embedding_args,
        function=embedding,
        cases=Cases("embedding", samples=_embedding_samples),
        doc="The rows of weight picked by integer indices (a lookup table); repeated indices add up.",
        edges=(
            Edge(
                "a repeated index",
                (_WEIGHT,),
                grads=([[0.0, 0.0], [0.0, 0.0], [3.0, 3.0]],),
                params={"indices": np.array([2, 2, 2])},
                value=[[5.0, 6.0]] * 3,
            ),
            Edge(
                "the padding row",
                (_WEIGHT,),
                grads=([[1.0, 1.0], [0.0, 0.0], [0.0, 0.0]],),
                params={"indices": np.array([0, 1]), "padding_idx": 1},
                value=[[1.0, 2.0], [3.0, 4.0]],
                note="the row is looked up, but learns nothing (its gradient is 0 by design)",
            ),
            Edge(
                "no indices",
                (np.zeros((0, 2)),),
                grads=(np.zeros((0, 2)),),
                params={"indices": np.zeros(0, dtype=np.intp)},
                value=np.zeros((0, 2)),
            ),
            Edge(
                "0-d weight",
                (2.0,),
                params={"indices": np.array([0])},
                raises=ValueError,
                note="torch raises too: weight must be 2-d",
            ),
        ),
    )
)
