"""Central differences for the engine tests, independent of ``autonet.gradcheck``.

The numerical side evaluates the function in float64 under ``no_grad`` at shifted inputs; the
analytic side runs ``backward`` once with a random cotangent, so one check covers every output
element and every input (a vector-Jacobian product, compared entry by entry).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Sequence

import numpy as np
import pytest

import autonet
from autonet import Value

Fn = Callable[..., Value]


def evaluate(fn: Fn, arrays: Sequence[np.ndarray]) -> np.ndarray:
    """``fn`` applied to constant Values made from ``arrays``, as a float64 array (no graph).

    >>> evaluate(lambda a, b: a * b, [np.array(2.0), np.array(3.0)]).item()
    6.0
    """
    with autonet.no_grad():
        out = fn(*[Value(np.asarray(a, dtype=np.float64), requires_grad=False) for a in arrays])
    return np.asarray(out.data, dtype=np.float64)


def numeric_vjp(
    fn: Fn, arrays: Sequence[np.ndarray], cotangent: np.ndarray, eps: float = 1e-6
) -> list[np.ndarray]:
    """The gradient of ``sum(fn(*arrays) * cotangent)`` for each array, by central differences.

    >>> numeric_vjp(lambda x: x * x, [np.array([3.0])], np.array([1.0]))[0].round(6).tolist()
    [6.0]
    """
    arrays = [np.array(a, dtype=np.float64) for a in arrays]
    grads = []
    for array in arrays:
        grad = np.zeros_like(array)
        flat, flat_grad = array.reshape(-1), grad.reshape(-1)
        for i in range(flat.size):
            saved = flat[i]
            flat[i] = saved + eps
            up = np.sum(evaluate(fn, arrays) * cotangent)
            flat[i] = saved - eps
            down = np.sum(evaluate(fn, arrays) * cotangent)
            flat[i] = saved
            flat_grad[i] = (up - down) / (2 * eps)
        grads.append(grad)
    return grads


def analytic_vjp(fn: Fn, arrays: Sequence[np.ndarray], cotangent: np.ndarray) -> list[np.ndarray]:
    """The same gradients through ``backward(cotangent)``, one per input array.

    >>> analytic_vjp(lambda x: x * x, [np.array([3.0])], np.array([1.0]))[0].tolist()
    [6.0]
    """
    values = [Value(np.array(a, dtype=np.float64)) for a in arrays]
    out = fn(*values)
    out.backward(cotangent)
    return [v.grad for v in values]


def assert_grads_match(
    fn: Fn,
    arrays: Sequence[np.ndarray],
    seed: int = 0,
    rtol: float = 1e-5,
    atol: float = 1e-6,
) -> list[np.ndarray]:
    """Check every input gradient of ``fn`` against central differences; return the analytic ones.

    The cotangent is random so that a wrong sign or a transposed gradient cannot cancel out.

    >>> _ = assert_grads_match(lambda x: x.sin(), [np.array([0.5, 1.0])])
    """
    shape = evaluate(fn, arrays).shape
    cotangent = np.random.default_rng(seed).uniform(0.5, 1.5, shape)
    analytic = analytic_vjp(fn, arrays, cotangent)
    numeric = numeric_vjp(fn, arrays, cotangent)
    for i, (a, n, x) in enumerate(zip(analytic, numeric, arrays, strict=True)):
        assert np.shape(a) == np.shape(x), (
            f"input {i}: gradient shape {np.shape(a)} != input shape {np.shape(x)}"
        )
        np.testing.assert_allclose(a, n, rtol=rtol, atol=atol, err_msg=f"gradient of input {i}")
    return analytic


def sample(domain: autonet.ops.Domain, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """Draw an array from an op's input domain, kept ``margin`` away from its kinks and poles.

    >>> from autonet.ops.registry import NONZERO
    >>> bool(np.all(np.abs(sample(NONZERO, (50,), np.random.default_rng(0))) >= 0.3))
    True
    """
    values = rng.uniform(domain.low, domain.high, shape)
    for point in domain.avoid:
        near = np.abs(values - point) < domain.margin
        # Push offending draws out to the edge of the margin, on the side they were on.
        values = np.where(near, point + np.where(values >= point, 1, -1) * (domain.margin + 0.01), values)
    return values


def check_declared_edge(name: str, edge: autonet.ops.Edge, create_graph: bool = False) -> None:
    """Evaluate one of an op's declared ``Edge`` points exactly: its value, each input's gradient
    for an upstream gradient of ones, and 0 (not ``inf * 0``) for an infinite upstream gradient
    at the inputs declared flat.

    >>> check_declared_edge("prod", autonet.ops.REGISTRY["prod"].edges[0])
    """
    inputs = [Value(np.asarray(x, dtype=np.float64)) for x in edge.inputs]
    with np.errstate(over="ignore", under="ignore"):
        out = autonet.call_op(name, *inputs, **edge.params)
        out.backward(np.ones(out.shape), create_graph=create_graph)
    if edge.value is not None:
        np.testing.assert_array_equal(out.data, edge.value, err_msg=f"{name} at {edge.point}: value")
    for i, (x, expected) in enumerate(zip(inputs, edge.grads, strict=True)):
        if expected is not None:
            grad = x.grad.data if isinstance(x.grad, Value) else x.grad
            np.testing.assert_array_equal(grad, expected, err_msg=f"{name} at {edge.point}: input {i}")
    for i in edge.flat:
        fresh = [Value(np.asarray(x, dtype=np.float64)) for x in edge.inputs]
        result = autonet.call_op(name, *fresh, **edge.params)
        result.backward(np.full(result.shape, np.inf))
        np.testing.assert_array_equal(fresh[i].grad, 0.0, err_msg=f"{name} at {edge.point}: flat input {i}")


# --------------------------------------------------------------------------- convolution by loops
# Independent of autonet.ops.conv: one Python loop over the output positions and the kernel
# offsets, each step a small matrix product over the batch and the channels of one group.


def _spatial(value, d: int) -> tuple[int, ...]:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * d


def _conv_geometry(x_shape, w_shape, stride, padding, dilation):
    d = len(w_shape) - 2
    s, p, dil = _spatial(stride, d), _spatial(padding, d), _spatial(dilation, d)
    sizes = [(x_shape[2 + i] + 2 * p[i] - dil[i] * (w_shape[2 + i] - 1) - 1) // s[i] + 1 for i in range(d)]
    if min(sizes, default=1) < 1:
        raise ValueError("the kernel is larger than the padded input")
    return d, s, p, dil, sizes


def _taps(sizes, kernel, s, dil):
    """(output position, kernel offset, padded input position) for every product of a convolution."""
    for pos in np.ndindex(*sizes):
        for k in np.ndindex(*kernel):
            yield pos, k, tuple(pos[i] * s[i] + k[i] * dil[i] for i in range(len(kernel)))


def conv_loops(x, w, b, stride=1, padding=0, dilation=1, groups=1) -> np.ndarray:
    """conv1d / conv2d as PyTorch defines them, by loops.

    >>> conv_loops(np.ones((1, 1, 3)), np.ones((1, 1, 2)), np.zeros(1)).tolist()
    [[[2.0, 2.0]]]
    """
    d, s, p, dil, sizes = _conv_geometry(x.shape, w.shape, stride, padding, dilation)
    xp = np.pad(x, [(0, 0), (0, 0), *[(q, q) for q in p]])
    (n, c), o = x.shape[:2], w.shape[0]
    cg, og = c // groups, o // groups
    out = np.zeros((n, o, *sizes), dtype=np.result_type(x, w, b))
    for pos, k, at in _taps(sizes, w.shape[2:], s, dil):
        for gi in range(groups):
            patch = xp[(slice(None), slice(gi * cg, (gi + 1) * cg), *at)]
            out[(slice(None), slice(gi * og, (gi + 1) * og), *pos)] += (
                patch @ w[(slice(gi * og, (gi + 1) * og), slice(None), *k)].T
            )
    return out + np.reshape(b, (-1, *(1,) * d))


def conv_input_grad_loops(g, w, input_shape, stride=1, padding=0, dilation=1, groups=1) -> np.ndarray:
    """The adjoint of ``conv_loops`` in x: each product sends g back along its weight."""
    d, s, p, dil, sizes = _conv_geometry(input_shape, w.shape, stride, padding, dilation)
    (n, c), o = input_shape[:2], w.shape[0]
    cg, og = c // groups, o // groups
    grad = np.zeros((n, c, *(input_shape[2 + i] + 2 * p[i] for i in range(d))), dtype=np.result_type(g, w))
    for pos, k, at in _taps(sizes, w.shape[2:], s, dil):
        for gi in range(groups):
            picked = g[(slice(None), slice(gi * og, (gi + 1) * og), *pos)]
            grad[(slice(None), slice(gi * cg, (gi + 1) * cg), *at)] += (
                picked @ w[(slice(gi * og, (gi + 1) * og), slice(None), *k)]
            )
    return grad[(slice(None), slice(None), *(slice(p[i], p[i] + input_shape[2 + i]) for i in range(d)))]


def conv_weight_grad_loops(x, g, weight_shape, stride=1, padding=0, dilation=1, groups=1) -> np.ndarray:
    """The adjoint of ``conv_loops`` in w: each product pairs g with the input it saw."""
    _, s, p, dil, sizes = _conv_geometry(x.shape, weight_shape, stride, padding, dilation)
    xp = np.pad(x, [(0, 0), (0, 0), *[(q, q) for q in p]])
    c, o = x.shape[1], weight_shape[0]
    cg, og = c // groups, o // groups
    grad = np.zeros(weight_shape, dtype=np.result_type(x, g))
    for pos, k, at in _taps(sizes, weight_shape[2:], s, dil):
        for gi in range(groups):
            patch = xp[(slice(None), slice(gi * cg, (gi + 1) * cg), *at)]
            picked = g[(slice(None), slice(gi * og, (gi + 1) * og), *pos)]
            grad[(slice(gi * og, (gi + 1) * og), slice(None), *k)] += picked.T @ patch
    return grad


def conv_transpose_loops(
    x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1
) -> np.ndarray:
    """PyTorch's transposed convolution by its definition: every input element times every kernel
    tap lands at i * stride - padding + tap * dilation of the output, when that lies inside it.

    >>> conv_transpose_loops(np.array([[[1.0, 2.0]]]), np.ones((1, 1, 2)), stride=2).tolist()
    [[[1.0, 1.0, 2.0, 2.0]]]
    """
    d = w.ndim - 2
    s, p, e, dil = (_spatial(v, d) for v in (stride, padding, output_padding, dilation))
    cin, cout_g = w.shape[:2]
    sides = [
        (x.shape[2 + a] - 1) * s[a] - 2 * p[a] + dil[a] * (w.shape[2 + a] - 1) + e[a] + 1 for a in range(d)
    ]
    out = np.zeros(
        (x.shape[0], cout_g * groups, *sides), dtype=np.result_type(x, w, *([] if b is None else [b]))
    )
    cin_g = cin // groups
    for ci in range(cin):
        group = ci // cin_g
        for i in np.ndindex(*x.shape[2:]):
            for tap in np.ndindex(*w.shape[2:]):
                at = tuple(i[a] * s[a] - p[a] + tap[a] * dil[a] for a in range(d))
                if all(0 <= at[a] < sides[a] for a in range(d)):
                    for co in range(cout_g):
                        out[(slice(None), group * cout_g + co, *at)] += (
                            x[(slice(None), ci, *i)] * w[(ci, co, *tap)]
                        )
    if b is not None:
        out += np.reshape(b, (-1, *(1,) * d))
    return out


def adaptive_mean_loops(x: np.ndarray, output_size) -> np.ndarray:
    """PyTorch's adaptive average pooling by loops: window i spans floor(i n / o) to ceil((i + 1) n / o).

    >>> adaptive_mean_loops(np.arange(4.0).reshape(1, 1, 1, 4), (1, 2)).tolist()
    [[[[0.5, 2.5]]]]
    """
    sizes = output_size if isinstance(output_size, (tuple, list)) else (output_size, output_size)
    (h, w), (rows, cols) = (
        x.shape[-2:],
        (n if o is None else o for n, o in zip(x.shape[-2:], sizes, strict=True)),
    )
    out = np.zeros((*x.shape[:-2], rows, cols), dtype=x.dtype)
    for i, j in np.ndindex(rows, cols):
        top, bottom = i * h // rows, -(-(i + 1) * h // rows)
        left, right = j * w // cols, -(-(j + 1) * w // cols)
        out[..., i, j] = x[..., top:bottom, left:right].mean(axis=(-2, -1))
    return out


def pool_windows(shape, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """PyTorch's pooling windows by loops: for each output (row, column), the input rows and
    columns the window covers, and the (row, column) counts the padded window spans (before the
    input clips it: what a mean that counts the padding divides by)."""
    k, p, dil = _spatial(kernel_size, 2), _spatial(padding, 2), _spatial(dilation, 2)
    s = k if stride is None else _spatial(stride, 2)
    axes = []
    for n, ki, si, pi, di in zip(shape[2:], k, s, p, dil, strict=True):
        span = n + 2 * pi - di * (ki - 1) - 1 + (si - 1 if ceil_mode else 0)
        out = span // si + 1
        if ceil_mode and (out - 1) * si >= n + pi:
            out -= 1
        if out < 1 or 2 * pi > ki:
            raise ValueError("no window fits, or the padding is more than half the kernel")
        starts = [o * si - pi for o in range(out)]
        axes.append(
            [
                ([t + j * di for j in range(ki) if 0 <= t + j * di < n], min(t + ki, n + pi) - t)
                for t in starts
            ]
        )
    return [
        ((i, j), rows, cols, spans * spans_w)
        for i, (rows, spans) in enumerate(axes[0])
        for j, (cols, spans_w) in enumerate(axes[1])
    ]


def pool_loops(
    x,
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode=False,
    kind="max",
    count_include_pad=True,
    divisor_override=None,
) -> np.ndarray:
    """max_pool2d (kind "max") or avg_pool2d (kind "avg") by loops, with PyTorch's arguments."""
    windows = pool_windows(x.shape, kernel_size, stride, padding, dilation, ceil_mode)
    size = (max(w[0][0] for w in windows) + 1, max(w[0][1] for w in windows) + 1)
    out = np.zeros((*x.shape[:2], *size), dtype=x.dtype)
    for (i, j), rows, cols, spans in windows:
        window = x[:, :, rows][:, :, :, cols].reshape(*x.shape[:2], len(rows) * len(cols))
        if kind == "max":
            out[:, :, i, j] = window.max(axis=-1) if window.shape[-1] else -np.inf
        else:
            count = divisor_override or (spans if count_include_pad else len(rows) * len(cols))
            out[:, :, i, j] = window.sum(axis=-1) / count
    return out


def pool_grad_loops(
    x,
    g,
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode=False,
    kind="max",
    count_include_pad=True,
    divisor_override=None,
) -> np.ndarray:
    """The gradient of ``pool_loops`` by loops: each max window's to its first maximum in
    row-major order (for inputs without nans), each mean window's shared by what it covers."""
    grad = np.zeros(x.shape, dtype=np.result_type(x, g))
    for (i, j), rows, cols, spans in pool_windows(x.shape, kernel_size, stride, padding, dilation, ceil_mode):
        places = [(r, c) for r in rows for c in cols]  # none: a max over padding alone, -inf
        if kind == "avg":
            count = divisor_override or (spans if count_include_pad else len(places))
            for r, c in places:
                grad[:, :, r, c] += g[:, :, i, j] / count
            continue
        for n, c in np.ndindex(*x.shape[:2] if places else (0, 0)):
            values = np.array([x[n, c, r, q] for r, q in places])
            r, q = places[int(np.argmax(values))]  # argmax: the first maximum, or the first nan
            grad[n, c, r, q] += g[n, c, i, j]
    return grad


def import_tensorboardx_without_torch() -> None:
    """Import tensorboardX, unless it or PyTorch is loaded already, with PyTorch kept out.

    tensorboardX imports torch whenever it can (several seconds), only to accept torch tensors;
    autonet.monitor hands it numpy arrays. Once imported, tensorboardX stays as it is, so the
    tests that write event files (tests/test_monitor.py, docs/monitor.md) need no torch.
    """
    if "tensorboardX" in sys.modules or "torch" in sys.modules:
        return
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(sys.modules, "torch", None)  # import torch raises ImportError
        importlib.import_module("tensorboardX")
