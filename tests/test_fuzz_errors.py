"""Bad input never confuses: Hypothesis feeds random shapes, axes, dtypes, parameters and Python
objects to the public API.

The property, everywhere: a call either fails with a clear error (a TypeError, ValueError,
IndexError, numpy's AxisError, or RuntimeError, whose message names the op or function and the
offending shape, axis or type), or it succeeds with exactly the shape and dtype numpy gives on the
raw data, and a backward through the result gives every input a gradient of its own shape and
dtype. A call numpy refuses must not succeed quietly.

Every registered op is fuzzed (the tests iterate ``autonet.ops.REGISTRY``); ``NUMPY_REFERENCE``
is the independent oracle, one numpy function per op, checked to cover the registry.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import hypothesis.extra.numpy as npst
import numpy as np
import pytest
from helpers import (
    adaptive_mean_loops,
    conv_input_grad_loops,
    conv_loops,
    conv_transpose_loops,
    conv_weight_grad_loops,
    pool_loops,
)
from hypothesis import assume, event, given
from hypothesis import strategies as st

from autonet import Value, call_op
from autonet.ops import REGISTRY
from autonet.ops import cases as op_cases

CLEAR_ERRORS = (TypeError, ValueError, IndexError, RuntimeError)

# The oracle meets empty slices and zero degrees of freedom on purpose; numpy warns about them.
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

# Objects a careless caller might pass where a number, a shape or an axis belongs.
JUNK = st.sampled_from(
    [None, "0", b"1", 1.5, float("nan"), 2**70, 1j, object(), {"a": 1}, {1, 2}, [0.5, "x"]]
)
SHAPES = npst.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=3)
FLOAT_DTYPES = st.sampled_from([np.float64, np.float32])


# --------------------------------------------------------------------------- the numpy oracle


def _erf(x: np.ndarray) -> np.ndarray:
    return np.vectorize(math.erf, otypes=[np.float64])(x).astype(np.result_type(x, np.float16))


def _as_number(bound: Any) -> Any:
    # clip keeps a float64 scalar bound as a Python float, like any constant: it does not upcast.
    is_scalar = isinstance(bound, np.ndarray) and bound.shape == () and bound.dtype == np.float64
    return float(bound) if is_scalar else bound


def _np_axis(axis: Any) -> Any:
    # autonet also takes a list of axes where numpy wants a tuple; the oracle follows autonet there.
    return tuple(axis) if isinstance(axis, list) else axis


def _softmax(x: np.ndarray, axis: Any = -1) -> np.ndarray:
    lifted = np.reshape(x, (1,)) if np.ndim(x) == 0 else x  # a 0-d Value is a 1-element vector
    # An empty array needs no shift (numpy's max of it would raise): its softmax is empty too.
    e = np.exp(lifted - np.max(lifted, axis=axis, keepdims=True)) if lifted.size else np.exp(lifted)
    return np.reshape(e / np.sum(e, axis=axis, keepdims=True), np.shape(x))


def _scatter_add(g: np.ndarray, index: Any, shape: Any) -> np.ndarray:
    out = np.zeros(shape, dtype=g.dtype)
    parts = index if isinstance(index, tuple) else (index,)
    if all(p is None or p is Ellipsis or isinstance(p, (int, slice)) for p in parts):
        out[index] = g  # basic indices never repeat an element: numpy's assignment rules apply
    else:
        np.add.at(out, index, g)
    return out


def _weak(result: np.ndarray, *inputs: Any) -> np.ndarray:
    # einsum, outer and tensordot turn a Python float into a float64 array; autonet's float64
    # scalars promote like Python floats (float32 stays float32), as in a * 2.0.
    return np.asarray(result).astype(np.result_type(*inputs))


def _reduction(fn: Callable[..., Any]) -> Callable[..., Any]:
    return lambda x, axis=None, keepdims=False: fn(x, axis=_np_axis(axis), keepdims=keepdims)


def _reduce_losses(losses: np.ndarray, reduction: str = "mean") -> np.ndarray:
    return {"mean": np.mean, "sum": np.sum, "none": np.asarray}[reduction](losses)


def _labels(target: Any, classes: int, ignore_index: int = -100) -> np.ndarray:
    target = np.asarray(target)
    counted = target != ignore_index
    if target.dtype.kind not in "iu" or np.any(counted & ((target < 0) | (target >= classes))):
        raise ValueError("class labels must be integers in [0, classes), or ignore_index")
    return target


def _cross_entropy(
    x: np.ndarray, target: Any, reduction: str = "mean", weight=None, ignore_index=-100, label_smoothing=0.0
) -> np.ndarray:
    """PyTorch's definitions: the smoothed target (1 - s) one_hot + s / C, each class's term
    times its weight, ignored rows 0, and a mean over the kept rows' weights."""
    classes = np.shape(x)[-1]
    # A hyperparameter is a number (PyTorch takes a float), whatever 0-d array holds it: it does
    # not promote the logits' dtype.
    label_smoothing = float(label_smoothing)
    target = _labels(target, classes, ignore_index)
    if target.shape != np.shape(x)[:-1]:
        raise ValueError("one label per row of logits")
    if weight is not None and np.shape(weight) != (classes,):
        raise ValueError("one weight per class")
    weight = np.ones(classes, np.result_type(x)) if weight is None else np.asarray(weight, np.result_type(x))
    peak = np.max(x, axis=-1, keepdims=True)
    log_p = x - (np.log(np.sum(np.exp(x - peak), axis=-1, keepdims=True)) + peak)
    kept = target != ignore_index
    label = np.where(kept, target, 0)
    nll = -np.take_along_axis(log_p, label[..., None], axis=-1)[..., 0] * weight[label]
    smooth = -(log_p * weight).sum(axis=-1) / classes
    losses = np.where(kept, (1 - label_smoothing) * nll + label_smoothing * smooth, 0)
    if reduction == "mean":
        return np.sum(losses) / np.sum(np.where(kept, weight[label], 0))
    return _reduce_losses(losses, reduction)


def _batch_norm(x, w, b, running_mean=None, running_var=None, training=False, momentum=0.1, eps=1e-5):
    axes, shape = (0, *range(2, np.ndim(x))), (1, -1) + (1,) * (np.ndim(x) - 2)
    if training:
        mean, var = np.mean(x, axis=axes, keepdims=True), np.var(x, axis=axes, keepdims=True)
    else:  # the running statistics are constants in the input's dtype
        mean = np.asarray(running_mean).astype(x.dtype).reshape(shape)
        var = np.asarray(running_var).astype(x.dtype).reshape(shape)
    return (x - mean) / np.sqrt(var + eps) * np.reshape(w, shape) + np.reshape(b, shape)


def _layer_norm(x: np.ndarray, w: Any, b: Any, normalized_shape: Any, eps: float = 1e-5) -> np.ndarray:
    axes = tuple(range(-np.size(normalized_shape), 0))
    mean, var = np.mean(x, axis=axes, keepdims=True), np.var(x, axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * w + b


def _dropout(x: np.ndarray, mask: Any, p: float = 0.5) -> np.ndarray:
    return np.where(mask, x * (0.0 if p == 1 else 1 / (1 - p)), np.zeros((), dtype=x.dtype))


NUMPY_REFERENCE: dict[str, Callable[..., Any]] = {
    "add": np.add,
    "sub": np.subtract,
    "mul": np.multiply,
    "div": np.true_divide,
    "pow": np.power,
    "neg": np.negative,
    "exp": np.exp,
    "log": np.log,
    "log1p": np.log1p,
    "expm1": np.expm1,
    "sqrt": np.sqrt,
    "abs": np.abs,
    "tanh": np.tanh,
    "sigmoid": lambda x: 1 / (1 + np.exp(-x)),
    "relu": lambda x: np.maximum(x, 0),
    "leaky_relu": lambda x, negative_slope=0.01: np.where(x > 0, x, x * negative_slope),
    "softplus": lambda x: np.logaddexp(0, x),
    "erf": _erf,
    "sin": np.sin,
    "cos": np.cos,
    "clip": lambda x, low=None, high=None: np.clip(x, _as_number(low), _as_number(high)),
    "maximum": np.maximum,
    "minimum": np.minimum,
    "where": lambda a, b, condition: np.where(condition, a, b),
    "matmul": np.matmul,
    "sum": _reduction(np.sum),
    "mean": _reduction(np.mean),
    "max": _reduction(np.max),
    "min": _reduction(np.min),
    "logsumexp": _reduction(
        lambda x, axis, keepdims: np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims))
    ),
    "var": _reduction(np.var),
    "std": _reduction(np.std),
    "softmax": _softmax,
    "log_softmax": lambda x, axis=-1: np.log(_softmax(x, axis)),
    "reshape": lambda x, shape: np.reshape(x, shape),
    "astype": lambda x, dtype: np.asarray(x).astype(dtype),
    "transpose": lambda x, axes=None: np.transpose(x, _np_axis(axes)),
    "broadcast_to": lambda x, shape: np.broadcast_to(x, shape),
    "getitem": lambda x, index: x[index],
    "scatter_add": lambda g, index, shape: _scatter_add(g, index, shape),
    "concatenate": lambda *xs, axis=0: np.concatenate(xs, axis=axis),
    "stack": lambda *xs, axis=0: np.stack(xs, axis=axis),
    "gelu": lambda x: 0.5 * x * (1 + _erf(x / math.sqrt(2))),
    "gelu_tanh": lambda x: 0.5 * x * (1 + np.tanh(x)),
    "flatten": np.ravel,
    "squeeze": lambda x, axis=None: np.squeeze(x, _np_axis(axis)),
    "expand_dims": lambda x, axis: np.expand_dims(x, _np_axis(axis)),
    "swapaxes": np.swapaxes,
    "linear": lambda x, w, b: np.matmul(x, w) + b,
    "cross_entropy": _cross_entropy,
    "bce_with_logits": lambda x, t, reduction="mean": _reduce_losses(np.logaddexp(0, x) - x * t, reduction),
    "binary_cross_entropy": lambda p, t, reduction="mean": _weak(
        _reduce_losses(
            -(t * np.maximum(np.log(p), -100) + (1 - t) * np.maximum(np.log1p(-p), -100)), reduction
        ),
        p,
        t,
    ),
    "mse": lambda a, b, reduction="mean": _reduce_losses((a - b) ** 2, reduction),
    "hinge": lambda x, target, reduction="mean": _reduce_losses(np.maximum(1 - target * x, 0), reduction),
    "prod": _reduction(np.prod),
    "cumsum": lambda x, axis=None: np.cumsum(x, axis=axis),
    "einsum": lambda *xs, subscripts: _weak(np.einsum(subscripts, *xs), *xs),
    "outer": lambda a, b: _weak(np.outer(a, b), a, b),
    "tensordot": lambda a, b, axes=2: _weak(np.tensordot(a, b, axes), a, b),
    "norm": lambda x, axis=None, keepdims=False, **order: np.linalg.norm(
        x, order.get("ord"), _np_axis(axis), keepdims
    ),
    "tile": lambda x, reps: np.tile(x, reps),
    "batch_norm": _batch_norm,
    "layer_norm": _layer_norm,
    "dropout": _dropout,
    "embedding": lambda weight, indices, padding_idx=None: weight[np.asarray(indices)],
    "conv1d": conv_loops,
    "conv2d": conv_loops,
    "conv_input_grad": conv_input_grad_loops,
    "conv_weight_grad": conv_weight_grad_loops,
    "adaptive_avg_pool2d": adaptive_mean_loops,
    "conv_transpose1d": conv_transpose_loops,
    "conv_transpose2d": conv_transpose_loops,
    "max_pool2d": pool_loops,
    "avg_pool2d": lambda x, kernel_size, **params: pool_loops(x, kernel_size, kind="avg", **params),
}


def test_the_oracle_covers_every_registered_op() -> None:
    assert sorted(NUMPY_REFERENCE) == sorted(REGISTRY), "give each new op a numpy reference here"


# --------------------------------------------------------------------------- drawing calls


def _array(data: st.DataObject, shape: tuple[int, ...]) -> np.ndarray:
    seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
    dtype = data.draw(FLOAT_DTYPES, label="dtype")
    return np.random.default_rng(seed).uniform(-2.0, 2.0, size=shape).astype(dtype)


def _axis(ndim: int) -> st.SearchStrategy[Any]:
    """Axes in range (most often), out of range by a little, repeated, in tuples and lists, and junk."""
    one = st.integers(-ndim - 2, ndim + 1)
    valid = st.integers(-max(ndim, 1), max(ndim, 1) - 1)
    return st.one_of(
        valid,
        valid,
        st.sets(st.integers(0, max(ndim - 1, 0)), max_size=ndim).map(tuple),
        st.none(),
        one,
        st.lists(one, max_size=3).map(tuple),
        st.lists(one, min_size=1, max_size=2),
        JUNK,
        st.booleans(),
    )


def _related_shape(shape: tuple[int, ...]) -> st.SearchStrategy[tuple[int, ...]]:
    """The same shape, a shape that broadcasts with it, or any shape at all."""
    broadcastable = st.lists(st.booleans(), min_size=len(shape), max_size=len(shape)).map(
        lambda ones: tuple(1 if one else n for one, n in zip(ones, shape, strict=True))
    )
    trimmed = st.integers(0, len(shape)).map(lambda k: shape[k:])
    return st.one_of(st.just(shape), broadcastable, trimmed, SHAPES)


def _index(shape: tuple[int, ...]) -> st.SearchStrategy[Any]:
    """Valid basic indices, out-of-range ints, integer and boolean arrays, mixtures and junk."""
    ints = st.integers(-5, 5)
    int_arrays = npst.arrays(np.int64, npst.array_shapes(min_dims=1, max_dims=2, max_side=3), elements=ints)
    masks = st.one_of(
        npst.arrays(np.bool_, st.just(shape)) if shape else st.nothing(),
        npst.arrays(np.bool_, npst.array_shapes(min_dims=1, max_dims=2, max_side=3)),
    )
    part = st.one_of(ints, st.slices(4), st.none(), st.just(Ellipsis), int_arrays, JUNK)
    return st.one_of(
        npst.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True),
        ints,
        int_arrays,
        masks,
        st.lists(ints, max_size=3),
        st.lists(part, max_size=4).map(tuple),
        JUNK,
    )


def _shape_param(shape: tuple[int, ...]) -> st.SearchStrategy[Any]:
    """Target shapes for reshape and broadcast_to: fitting ones, near misses and junk."""
    size = math.prod(shape)
    fitting = st.sampled_from([(size,), (-1,), shape[::-1], (1, *shape), (*shape, 1), (size, 1), (-1, 1)])
    stretched = st.lists(st.integers(1, 3), max_size=2).map(lambda lead: (*lead, *shape))
    ints = st.integers(-2, 5)
    return st.one_of(
        fitting,
        stretched,
        st.lists(ints, max_size=4).map(tuple),
        ints,
        st.lists(st.one_of(ints, JUNK), min_size=1, max_size=3).map(tuple),
        JUNK,
    )


def _draw_from_samples(data: st.DataObject, name: str) -> tuple[list[np.ndarray], dict[str, Any]]:
    """A valid case from the op's own ``cases.samples``, then (mostly) broken in one place."""
    samples = REGISTRY[name].cases.samples
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    inputs, params = data.draw(st.sampled_from(samples(rng, data.draw(FLOAT_DTYPES, label="dtype"))))
    inputs, params = list(inputs), dict(params)
    damage = data.draw(st.sampled_from(["none", "input", "param", "drop param"]), label="damage")
    if damage == "input" and inputs:
        i = data.draw(st.integers(0, len(inputs) - 1), label="input")
        inputs[i] = _array(data, data.draw(_related_shape(np.shape(inputs[i])), label="shape"))
    elif damage == "param" and params:
        key = data.draw(st.sampled_from(sorted(params)), label="param")
        shape = data.draw(_related_shape(np.shape(params[key])), label="param shape")
        labels = npst.arrays(np.int64, st.just(shape), elements=st.integers(-2, 4))
        floats = npst.arrays(np.float64, st.just(shape), elements=st.floats(-2, 2))
        params[key] = data.draw(st.one_of(labels, floats, st.sampled_from(["max", "mean", "sum"]), JUNK))
    elif damage == "drop param" and params:
        del params[data.draw(st.sampled_from(sorted(params)), label="dropped")]
    return inputs, params


# How to draw near misses and junk for the parameters of each family of cases (``op.cases.family``):
# each takes the op's name, the first input's shape and the input arrays (scatter_add may swap
# the first for one that fits its index). An op whose cases write out samples is fuzzed from those.
JunkParams = Callable[[st.DataObject, str, tuple[int, ...], list[np.ndarray]], dict[str, Any]]


def _no_junk(data: st.DataObject, name: str, first: tuple[int, ...], arrays: list) -> dict[str, Any]:
    if name == "leaky_relu":  # an elementwise op with an optional parameter
        return {"negative_slope": data.draw(st.one_of(st.floats(-1, 1), JUNK), label="negative_slope")}
    return {}


def _junk_axis(data: st.DataObject, name: str, first: tuple[int, ...], arrays: list) -> dict[str, Any]:
    return {"axis": data.draw(_axis(len(first)), label="axis")}


def _junk_reduction(data: st.DataObject, name: str, first: tuple[int, ...], arrays: list) -> dict[str, Any]:
    return {**_junk_axis(data, name, first, arrays), "keepdims": data.draw(st.booleans(), label="keepdims")}


def _junk_axis_pair(data: st.DataObject, name: str, first: tuple[int, ...], arrays: list) -> dict[str, Any]:
    ndim = len(first)
    return {"axis1": data.draw(_axis(ndim), label="axis1"), "axis2": data.draw(_axis(ndim), label="axis2")}


def _junk_axes(data: st.DataObject, name: str, first: tuple[int, ...], arrays: list) -> dict[str, Any]:
    permutation = st.permutations(range(len(first))).map(tuple)
    return {"axes": data.draw(st.one_of(permutation, _axis(len(first))), label="axes")}


def _junk_shape(data: st.DataObject, name: str, first: tuple[int, ...], arrays: list) -> dict[str, Any]:
    return {"shape": data.draw(_shape_param(first), label="shape param")}


def _junk_dtype(data: st.DataObject, name: str, first: tuple[int, ...], arrays: list) -> dict[str, Any]:
    floats = st.sampled_from([np.float16, np.float32, np.float64, np.longdouble, "float32", float, None])
    others = st.sampled_from([np.int32, bool, "complex128", "no such dtype", np.dtype("U3")])
    return {"dtype": data.draw(st.one_of(floats, others, JUNK), label="dtype")}


def _junk_index(data: st.DataObject, name: str, first: tuple[int, ...], arrays: list) -> dict[str, Any]:
    return {"index": data.draw(_index(first), label="index")}


def _junk_scatter(data: st.DataObject, name: str, first: tuple[int, ...], arrays: list) -> dict[str, Any]:
    target = data.draw(SHAPES, label="target shape")
    params = {"shape": data.draw(st.one_of(st.just(target), JUNK), label="shape param")}
    params["index"] = data.draw(_index(target), label="index")
    if data.draw(st.booleans(), label="fitting g?"):
        try:
            arrays[0] = _array(data, np.empty(target)[params["index"]].shape)
        except (IndexError, TypeError, ValueError):
            pass
    return params


def _junk_condition(data: st.DataObject, name: str, first: tuple[int, ...], arrays: list) -> dict[str, Any]:
    condition_shape = data.draw(_related_shape(first), label="condition shape")
    condition = npst.arrays(np.bool_, st.just(condition_shape))
    return {"condition": data.draw(st.one_of(condition, JUNK), label="condition")}


def _junk_bounds(data: st.DataObject, name: str, first: tuple[int, ...], arrays: list) -> dict[str, Any]:
    bound = st.one_of(st.none(), st.floats(-1, 1), npst.arrays(np.float64, _related_shape(first)), JUNK)
    return {"low": data.draw(bound, label="low"), "high": data.draw(bound, label="high")}


JUNK_PARAMS: dict[str, JunkParams] = {
    op_cases.ELEMENTWISE.family: _no_junk,
    op_cases.MATMUL.family: _no_junk,
    op_cases.OUTER.family: _no_junk,
    op_cases.CLIP.family: _junk_bounds,
    op_cases.WHERE.family: _junk_condition,
    op_cases.REDUCTION.family: _junk_reduction,
    op_cases.SQUEEZE.family: _junk_axis,
    op_cases.AXIS.family: _junk_axis,
    op_cases.CONCATENATE.family: _junk_axis,
    op_cases.STACK.family: _junk_axis,
    op_cases.EXPAND_DIMS.family: _junk_axis,
    op_cases.CUMULATIVE.family: _junk_axis,
    op_cases.SWAPAXES.family: _junk_axis_pair,
    op_cases.TRANSPOSE.family: _junk_axes,
    op_cases.RESHAPE.family: _junk_shape,
    op_cases.BROADCAST_TO.family: _junk_shape,
    op_cases.ASTYPE.family: _junk_dtype,
    op_cases.GETITEM.family: _junk_index,
    op_cases.SCATTER_ADD.family: _junk_scatter,
}


def _other_shape(data: st.DataObject, family: str, first: tuple[int, ...]) -> tuple[int, ...]:
    """The shape of a second or later input, mostly one that could go with the first."""
    if family == op_cases.MATMUL.family and first:
        inner = first[-1]
        return data.draw(st.one_of(st.just((inner,)), st.just((inner, 2)), SHAPES), label="shape")
    if family in (op_cases.CONCATENATE.family, op_cases.STACK.family):
        # Mostly the first shape with at most the joined axis resized, so that joins succeed too.
        joined = data.draw(st.integers(0, max(len(first) - 1, 0)), label="joined axis")
        resized = st.integers(0, 3).map(lambda n, k=joined: (*first[:k], n, *first[k + 1 :])[: len(first)])
        return data.draw(st.one_of(st.just(first), resized, SHAPES), label="shape")
    return data.draw(_related_shape(first), label="shape")


def _draw_call(data: st.DataObject, name: str) -> tuple[list[np.ndarray], dict[str, Any]]:
    """Raw input arrays and params for ``call_op(name, ...)``, drawn by the family of the op's cases."""
    op = REGISTRY[name]
    if op.cases.samples is not None:
        return _draw_from_samples(data, name)
    family = op.cases.family
    assert family in JUNK_PARAMS, (
        f"{name}: teach this fuzzer the family {family!r} of its cases (JUNK_PARAMS), or declare samples"
    )
    first = data.draw(SHAPES, label="shape")
    if op.variadic:
        count = data.draw(st.integers(0, 3), label="count")
    elif data.draw(st.integers(0, 9), label="wrong count?") == 0:
        count = data.draw(st.integers(0, 3).filter(lambda n: n != op.arity), label="count")
    else:
        count = op.arity
    shapes = [first, *(_other_shape(data, family, first) for _ in range(1, count))]
    arrays = [_array(data, shape) for shape in shapes]
    params = JUNK_PARAMS[family](data, name, first, arrays)
    if data.draw(st.integers(0, 9), label="bogus param?") == 0:
        params["bogus"] = data.draw(st.one_of(st.integers(), JUNK), label="bogus")
    return arrays, params


# --------------------------------------------------------------------------- the checks


def _assert_clear(error: BaseException, name: str, clues: list[str]) -> None:
    """A clear error: an allowed type, the op's name, and something about the culprit."""
    message = str(error)
    assert isinstance(error, CLEAR_ERRORS), f"{name}: {type(error).__name__} is not a clear error: {message}"
    assert name in message, f"the message does not name {name!r}: {type(error).__name__}: {message}"
    words = ["shape", "axis", "axes", "dimension", "dtype", "type", "input", "index", "argument", "bound"]
    assert any(clue in message for clue in [*clues, *words]), f"{name}: no culprit named in {message!r}"


def _as_stored(arrays: list[np.ndarray]) -> list[Any]:
    """The oracle's copies of the inputs. A float64 scalar Value holds a Python float (the engine's
    lean path), so against other inputs that are float32 arrays it promotes like a constant: they
    stay float32. (Params such as labels are not inputs: against them it is a float64 array.)"""
    if len(arrays) < 2:
        return [a.copy() for a in arrays]
    return [float(a) if a.shape == () and a.dtype == np.float64 else a.copy() for a in arrays]


def _numpy_outcome(name: str, arrays: list[np.ndarray], params: dict[str, Any]) -> np.ndarray | None:
    """What numpy makes of the same call on the raw data, or None if numpy refuses it too."""
    arity = REGISTRY[name].arity
    if arity >= 0 and len(arrays) != arity:
        return None  # numpy might take an extra array as out=, which is no refusal
    try:
        return np.asarray(NUMPY_REFERENCE[name](*arrays, **params))
    except Exception:  # numpy's refusals come in every type; refusing is all that counts here
        return None


def _check_backward(data: st.DataObject, out: Value, inputs: list[Value]) -> None:
    """Seed a backward with a gradient of the right shape (or a wrong one) and check what arrives."""
    right = np.ones(out.shape, dtype=out.dtype)
    wrong = data.draw(SHAPES.filter(lambda shape: shape != out.shape), label="wrong gradient shape")
    use_wrong = data.draw(st.integers(0, 4), label="wrong gradient?") == 0
    if use_wrong:
        with pytest.raises(ValueError) as caught:
            out.backward(gradient=np.ones(wrong))
        message = str(caught.value)
        assert "backward" in message and str(wrong) in message and str(out.shape) in message
        return
    out.backward(gradient=right)
    for index, x in enumerate(inputs):
        assert x.grad.shape == x.shape, f"input {index}: gradient shape {x.grad.shape} != {x.shape}"
        assert x.grad.dtype == x.dtype, f"input {index}: gradient dtype {x.grad.dtype} != {x.dtype}"


@pytest.mark.parametrize("name", sorted(REGISTRY))
@given(data=st.data())
def test_every_registered_op_fails_clearly_or_matches_numpy(name: str, data: st.DataObject) -> None:
    arrays, params = _draw_call(data, name)
    inputs = [Value(a) for a in arrays]
    expected = _numpy_outcome(name, _as_stored(arrays), params)
    try:
        out = call_op(name, *inputs, **params)
    except Exception as error:
        event(f"refused with {type(error).__name__}")  # the statistics show both outcomes occur
        clues = [str(a.shape) for a in arrays] + [repr(p) for p in params.values()]
        _assert_clear(error, name, clues + list(params) + [type(p).__name__ for p in params.values()])
        return
    event("accepted")
    assert expected is not None, (
        f"{name} accepted what numpy refuses: shapes {[a.shape for a in arrays]}, {params}"
    )
    assert out.shape == expected.shape, f"{name}: shape {out.shape}, numpy says {expected.shape}"
    assert out.dtype == expected.dtype, f"{name}: dtype {out.dtype}, numpy says {expected.dtype}"
    for a, x in zip(arrays, inputs, strict=True):
        np.testing.assert_array_equal(x.data, a, err_msg=f"{name} changed its input")
    if out.requires_grad:
        _check_backward(data, out, inputs)


@given(data=st.data())
def test_junk_in_place_of_an_input_names_the_op(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(sorted(n for n, op in REGISTRY.items() if op.arity != 0)), label="op")
    arity = max(REGISTRY[name].arity, 1)
    junk = data.draw(st.sampled_from(["x", None, object(), 1j, {"a": 1}, [1.0, "x"], b"1"]), label="junk")
    inputs: list[Any] = [Value(np.ones(3)) for _ in range(arity)]
    inputs[data.draw(st.integers(0, arity - 1), label="position")] = junk
    with pytest.raises(TypeError) as caught:
        call_op(name, *inputs)
    _assert_clear(caught.value, name, [type(junk).__name__])


# --------------------------------------------------------------------------- Value(...)

REAL_DTYPES = [np.float64, np.float32, np.float16, np.int64, np.int8, np.uint16, np.bool_]
BAD_DTYPES = [
    np.complex128,
    np.object_,
    np.str_,
    np.bytes_,
    np.dtype("datetime64[D]"),
    np.dtype("timedelta64[s]"),
]


def _python_objects() -> st.SearchStrategy[Any]:
    scalars = st.one_of(st.booleans(), st.integers(), st.floats(), st.complex_numbers(), st.text(max_size=3))
    nested = st.recursive(scalars | st.none(), lambda inner: st.lists(inner, max_size=3), max_leaves=8)
    real_arrays = st.sampled_from(REAL_DTYPES).flatmap(lambda dt: npst.arrays(dt, SHAPES))
    bad_arrays = st.sampled_from(BAD_DTYPES).flatmap(lambda dt: npst.arrays(dt, SHAPES))
    others = st.sampled_from(
        [None, object(), {"a": 1}, {1.0, 2.0}, range(3), b"12", bytearray(b"1"), Ellipsis]
    )
    return st.one_of(scalars, nested, real_arrays, bad_arrays, others, st.tuples(st.floats(), st.integers()))


@given(_python_objects())
def test_value_takes_real_data_or_names_the_type(obj: Any) -> None:
    try:
        value = Value(obj)
    except Exception as error:
        message = str(error)
        assert isinstance(error, (TypeError, ValueError)), f"{type(error).__name__}: {message}"
        assert "Value" in message, message
        assert type(obj).__name__ in message or "dtype" in message, message
        return
    # A Python int of any size is a real number: it becomes the nearest float64.
    reference = np.asarray(float(obj) if type(obj) is int else obj)
    assert reference.dtype.kind in "biuf", f"Value accepted {obj!r} of dtype {reference.dtype}"
    assert value.shape == reference.shape
    assert value.dtype.kind == "f"
    expected_dtype = reference.dtype if reference.dtype.kind == "f" else np.dtype(np.float64)
    assert value.dtype == expected_dtype
    np.testing.assert_array_equal(value.data, reference.astype(expected_dtype))


@given(st.sampled_from([*BAD_DTYPES, np.int8, "float16", "float32", float, "not a dtype", object()]), SHAPES)
def test_value_dtype_argument_is_a_real_float_or_refused(dtype: Any, shape: tuple[int, ...]) -> None:
    try:
        value = Value(np.zeros(shape), dtype=dtype)
    except (TypeError, ValueError) as error:
        assert "Value" in str(error)
        return
    assert value.dtype.kind == "f" and value.shape == shape


# --------------------------------------------------------------------------- backward(gradient=...)


@given(
    shape=SHAPES,
    gradient=st.one_of(
        SHAPES.map(np.ones),
        npst.arrays(st.sampled_from([np.float32, np.int64, np.bool_]), SHAPES),
        npst.arrays(st.sampled_from(BAD_DTYPES), SHAPES),
        st.floats(),
        JUNK,
    ),
    as_value=st.booleans(),
    create_graph=st.booleans(),
)
def test_backward_gradient_of_any_kind_fits_or_names_both_shapes(
    shape: tuple[int, ...], gradient: Any, as_value: bool, create_graph: bool
) -> None:
    x = Value(np.full(shape, 0.5))
    out = x * 3.0
    if as_value:
        try:
            gradient = Value(gradient)
        except TypeError:
            pass
    try:
        out.backward(gradient=gradient, create_graph=create_graph)
    except Exception as error:
        message = str(error)
        if gradient is None:  # implied only for one element
            assert isinstance(error, RuntimeError) and str(shape) in message and x.size != 1, message
            return
        assert isinstance(error, (TypeError, ValueError)), f"{type(error).__name__}: {message}"
        assert "gradient" in message, message
        given_shape = np.shape(gradient.data if isinstance(gradient, Value) else gradient)
        if isinstance(error, ValueError) and np.asarray(given_shape).size:
            assert str(given_shape) in message and str(shape) in message, message
        return
    if gradient is None:
        gradient = np.ones(shape)
    seed = np.asarray(gradient.data if isinstance(gradient, Value) else gradient, dtype=np.float64)
    assert seed.shape == shape, f"backward accepted a gradient of shape {seed.shape} for shape {shape}"
    grad = x.grad.data if isinstance(x.grad, Value) else x.grad
    assert grad.shape == shape and grad.dtype == x.dtype
    np.testing.assert_allclose(grad, 3.0 * seed)


@given(shape=SHAPES.filter(lambda s: math.prod(s) != 1))
def test_backward_without_gradient_on_a_non_scalar_says_what_to_pass(shape: tuple[int, ...]) -> None:
    out = Value(np.ones(shape)) * 2.0
    with pytest.raises(RuntimeError) as caught:
        out.backward()
    assert (
        "backward" in str(caught.value)
        and str(shape) in str(caught.value)
        and "gradient=" in str(caught.value)
    )


# --------------------------------------------------------------------------- reshape, indexing, reductions


@given(shape=SHAPES, data=st.data())
def test_reshape_by_varargs_or_tuple_matches_numpy_or_names_both_shapes(shape: tuple[int, ...], data) -> None:
    target = data.draw(_shape_param(shape), label="target")
    as_varargs = isinstance(target, tuple) and data.draw(st.booleans(), label="varargs")
    x = Value(np.arange(math.prod(shape), dtype=np.float64).reshape(shape))
    try:
        out = x.reshape(*target) if as_varargs else x.reshape(target)
    except Exception as error:
        _assert_clear(error, "reshape", [str(shape)])
        return
    expected = np.reshape(x.data, target)
    assert out.shape == expected.shape
    np.testing.assert_array_equal(out.data, expected)


@given(shape=SHAPES, data=st.data())
def test_indexing_matches_numpy_or_fails_clearly(shape: tuple[int, ...], data) -> None:
    index = data.draw(_index(shape), label="index")
    raw = np.arange(math.prod(shape), dtype=np.float64).reshape(shape)
    x = Value(raw)
    try:
        out = x[index]
    except Exception as error:
        _assert_clear(error, "getitem", [str(shape)])
        return
    expected = raw[index]
    assert out.shape == expected.shape
    np.testing.assert_array_equal(out.data, expected)
    out.backward(gradient=np.ones(out.shape))
    counts = np.zeros(shape)
    np.add.at(counts, index, 1.0)
    np.testing.assert_array_equal(x.grad, counts)  # each element's gradient counts how often it was picked


REDUCTIONS = sorted(name for name, op in REGISTRY.items() if op.cases.family == op_cases.REDUCTION.family)
# The families of ops that work along one axis (or two, for swapaxes).
ONE_AXIS = (op_cases.AXIS, op_cases.SQUEEZE, op_cases.EXPAND_DIMS, op_cases.CONCATENATE, op_cases.STACK)
ONE_AXIS_FAMILIES = {c.family for c in (*ONE_AXIS, op_cases.SWAPAXES)}
ONE_AXIS_OPS = sorted(name for name, op in REGISTRY.items() if op.cases.family in ONE_AXIS_FAMILIES)


@pytest.mark.parametrize("name", REDUCTIONS)
@given(shape=npst.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=3), data=st.data())
def test_out_of_range_axes_name_the_axis_and_ndim(name: str, shape: tuple[int, ...], data) -> None:
    ndim = len(shape)
    axis = data.draw(st.one_of(st.integers(ndim, ndim + 5), st.integers(-ndim - 5, -ndim - 1)), label="axis")
    x = Value(np.ones(shape))
    for call in (
        lambda: getattr(x, name)(axis=axis),
        lambda: call_op(name, x, axis=(0, axis) if ndim else axis),
    ):
        with pytest.raises(np.exceptions.AxisError) as caught:
            call()
        message = str(caught.value)
        assert name in message and f"axis {axis}" in message and f"dimension {ndim}" in message, message


@pytest.mark.parametrize("name", ONE_AXIS_OPS)
@given(shape=npst.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=3), data=st.data())
def test_ops_along_one_axis_name_an_out_of_range_axis_and_ndim(
    name: str, shape: tuple[int, ...], data
) -> None:
    family = REGISTRY[name].cases.family
    # The axis counts in the result for ops that add one (stack, expand_dims).
    ndim = len(shape) + (family in (op_cases.STACK.family, op_cases.EXPAND_DIMS.family))
    axis = data.draw(st.one_of(st.integers(ndim, ndim + 5), st.integers(-ndim - 5, -ndim - 1)), label="axis")
    x = Value(np.ones(shape))
    with pytest.raises(np.exceptions.AxisError) as caught:
        if family == op_cases.SWAPAXES.family:
            call_op(name, x, axis1=0, axis2=axis)
        elif family in (op_cases.CONCATENATE.family, op_cases.STACK.family):
            call_op(name, x, x, axis=axis)
        else:
            call_op(name, x, axis=axis)
    message = str(caught.value)
    assert name in message and f"axis {axis}" in message and f"dimension {ndim}" in message, message


NUMPY_REDUCTIONS = {"sum": np.sum, "mean": np.mean, "max": np.max, "min": np.min}


@pytest.mark.parametrize("name", sorted(NUMPY_REDUCTIONS))
@given(shape=npst.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=3), data=st.data())
def test_numpy_reductions_on_values_follow_numpy(name: str, shape: tuple[int, ...], data) -> None:
    axis = data.draw(_axis(len(shape)), label="axis")
    keepdims = data.draw(st.booleans(), label="keepdims")
    raw = np.random.default_rng(0).normal(size=shape)
    x = Value(raw)
    try:
        out = NUMPY_REDUCTIONS[name](x, axis=axis, keepdims=keepdims)
    except Exception as error:
        _assert_clear(error, name, [str(shape), repr(axis)])
        return
    assume(not isinstance(axis, list))  # numpy wants a tuple there; autonet also takes a list
    expected = NUMPY_REDUCTIONS[name](raw, axis=axis, keepdims=keepdims)
    assert isinstance(out, Value) and out.shape == np.shape(expected)
    np.testing.assert_allclose(out.data, expected)
