"""conv1d, conv2d, their gradient ops, max_pool2d and avg_pool2d against loop references.

The references (``tests/helpers.py``: one Python loop over output positions and kernel offsets,
written without ``autonet.ops.conv``) define the ops as PyTorch does. Hypothesis draws stride,
padding, dilation, groups, bias and shapes; the gradients are compared with the loops' adjoints,
which a dot-product test here proves adjoint, and with central differences (``gradcheck``);
second order is checked through ``conv_input_grad`` and ``conv_weight_grad``. The registry-wide
suites (gradients on the declared samples, edges, fuzzing) cover these ops too.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest
from helpers import (
    conv_input_grad_loops,
    conv_loops,
    conv_transpose_loops,
    conv_weight_grad_loops,
    pool_grad_loops,
    pool_loops,
    pool_windows,
)
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import autonet
from autonet import Value, avg_pool2d, call_op, conv1d, conv2d, max_pool2d
from autonet.gradcheck import gradcheck, gradgradcheck
from autonet.ops.conv import conv_transpose1d, conv_transpose2d

FEW = settings(max_examples=12)
CONV = {1: conv1d, 2: conv2d}


def _axis_param(draw: st.DrawFn, d: int, low: int, high: int) -> tuple[int, ...]:
    return tuple(draw(st.integers(low, high)) for _ in range(d))


def _as_given(values: tuple[int, ...]) -> int | tuple[int, ...]:
    """One int when every axis has the same value (as users mostly write it), else the tuple."""
    return values[0] if len(set(values)) == 1 else values


@st.composite
def conv_cases(draw: st.DrawFn, d: int | None = None) -> dict[str, Any]:
    """x, w, b (or None) and the parameters of a convolution whose kernel fits the padded input."""
    d = draw(st.sampled_from((1, 2))) if d is None else d
    groups = draw(st.integers(1, 2))
    channels, out_channels = (groups * draw(st.integers(1, 2)) for _ in range(2))
    kernel = _axis_param(draw, d, 1, 3)
    stride, padding, dilation = (_axis_param(draw, d, *r) for r in ((1, 2), (0, 2), (1, 2)))
    size = []
    for axis, (k, p, dil) in enumerate(zip(kernel, padding, dilation, strict=True)):
        least = max(1, dil * (k - 1) + 1 - 2 * p)
        # Rows (the last axis) from 1 to over 12 outputs: short and long rows take other paths.
        size.append(draw(st.integers(least, least + (14 if axis == d - 1 else 3))))
    rng = np.random.default_rng(draw(st.integers(0, 2**16), label="seed"))
    x = rng.uniform(-2, 2, (draw(st.integers(1, 2)), channels, *size))
    w = rng.uniform(-2, 2, (out_channels, channels // groups, *kernel))
    b = rng.uniform(-2, 2, out_channels) if draw(st.booleans(), label="bias") else None
    params = {
        "stride": _as_given(stride),
        "padding": _as_given(padding),
        "dilation": _as_given(dilation),
        "groups": groups,
    }
    return {"d": d, "x": x, "w": w, "b": b, "params": params}


def _bias(case: dict[str, Any]) -> np.ndarray:
    return case["b"] if case["b"] is not None else np.zeros(case["w"].shape[0])


# --------------------------------------------------------------------------- forward


@FEW
@given(case=conv_cases())
def test_conv_equals_the_loop_reference(case: dict[str, Any]) -> None:
    args = [Value(case["x"]), Value(case["w"])] + ([Value(case["b"])] if case["b"] is not None else [])
    out = CONV[case["d"]](*args, **case["params"])
    expected = conv_loops(case["x"], case["w"], _bias(case), **case["params"])
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("d", [1, 2])
def test_no_bias_is_a_bias_of_zeros_and_a_bias_shifts_each_output_channel(d: int) -> None:
    rng = np.random.default_rng(0)
    x, w = rng.normal(size=(2, 3, *(5,) * d)), rng.normal(size=(4, 3, *(2,) * d))
    b = np.array([1.0, -2.0, 0.5, 3.0])
    plain = CONV[d](Value(x), Value(w)).data
    np.testing.assert_allclose(plain, conv_loops(x, w, np.zeros(4)), rtol=1e-12, atol=1e-12)
    shifted = CONV[d](Value(x), Value(w), Value(b)).data
    np.testing.assert_allclose(shifted - plain, np.broadcast_to(b.reshape(-1, *(1,) * d), plain.shape))


@pytest.mark.parametrize("d", [1, 2])
def test_an_unbatched_input_is_refused_with_the_fix_and_its_batch_of_one_matches(d: int) -> None:
    rng = np.random.default_rng(1)
    x, w = rng.normal(size=(2, *(4,) * d)), rng.normal(size=(3, 2, *(2,) * d))
    with pytest.raises(ValueError, match=rf"conv{d}d: .*shape {re.escape(str(x.shape))}.*x\[None\]"):
        CONV[d](Value(x), Value(w))
    out = CONV[d](Value(x[None]), Value(w)).data
    np.testing.assert_allclose(out[0], conv_loops(x[None], w, np.zeros(3))[0], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("d", [1, 2])
def test_a_float32_convolution_stays_float32_forward_and_backward(d: int) -> None:
    rng = np.random.default_rng(2)
    x = Value(rng.normal(size=(2, 2, *(5,) * d)).astype(np.float32))
    w = Value(rng.normal(size=(4, 1, *(3,) * d)).astype(np.float32))
    b = Value(np.zeros(4, dtype=np.float32))
    out = CONV[d](x, w, b, padding=1, groups=2)
    out.sum().backward()
    assert out.dtype == np.float32
    assert [v.grad.dtype for v in (x, w, b)] == [np.float32] * 3
    expected = conv_loops(
        x.data.astype(np.float64), w.data.astype(np.float64), np.zeros(4), padding=1, groups=2
    )
    np.testing.assert_allclose(out.data, expected, rtol=1e-4, atol=1e-5)


# --------------------------------------------------------------------------- gradients


@FEW
@given(case=conv_cases(), data=st.data())
def test_conv_gradients_equal_the_loop_adjoints(case: dict[str, Any], data: st.DataObject) -> None:
    x, w, b = Value(case["x"]), Value(case["w"]), Value(_bias(case))
    out = CONV[case["d"]](x, w, b, **case["params"])
    seed = data.draw(st.integers(0, 2**16), label="cotangent seed")
    g = np.random.default_rng(seed).uniform(-1, 1, out.shape)
    out.backward(g)
    params = case["params"]
    np.testing.assert_allclose(x.grad, conv_input_grad_loops(g, case["w"], x.shape, **params), atol=1e-12)
    np.testing.assert_allclose(w.grad, conv_weight_grad_loops(case["x"], g, w.shape, **params), atol=1e-12)
    np.testing.assert_allclose(b.grad, g.sum(axis=(0, *range(2, g.ndim))), atol=1e-12)


@settings(max_examples=6)
@given(case=conv_cases())
def test_the_loop_references_are_adjoint(case: dict[str, Any]) -> None:
    # <C(x, w), g> = <x, X(g, w)> = <w, W(x, g)>: what makes the adjoints above the gradients.
    x, w, params = case["x"], case["w"], case["params"]
    out = conv_loops(x, w, np.zeros(w.shape[0]), **params)
    g = np.random.default_rng(0).uniform(-1, 1, out.shape)
    total = np.sum(out * g)
    assert np.sum(x * conv_input_grad_loops(g, w, x.shape, **params)) == pytest.approx(total, abs=1e-10)
    assert np.sum(w * conv_weight_grad_loops(x, g, w.shape, **params)) == pytest.approx(total, abs=1e-10)


@pytest.mark.parametrize(
    "d, params",
    [
        (1, {"stride": 2, "padding": 1}),
        (1, {"dilation": 2, "groups": 2}),
        (2, {"stride": (2, 1), "padding": (1, 0)}),
        (2, {"dilation": 2, "groups": 2, "padding": 1}),
    ],
)
def test_conv_gradients_match_central_differences_to_second_order(d: int, params: dict[str, Any]) -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, 2, *(4,) * d))
    w = rng.normal(size=(2, 2 // params.get("groups", 1), *(2,) * d))
    b = rng.normal(size=2)
    fn = lambda x, w, b: CONV[d](x, w, b, **params)
    assert gradcheck(fn, x, w, b, projections=3)
    assert gradgradcheck(fn, x, w, b, projections=3)


@FEW
@given(case=conv_cases())
def test_second_order_runs_through_the_gradient_ops_and_equals_their_references(case: dict[str, Any]) -> None:
    # grad_x = X(u, w) is linear in u and in w: <grad_x, v> = <u, C(v, w)>, so its gradient is
    # W(v, u) for w and C(v, w) for u, both recorded through the gradient ops' own vjps.
    x, w = Value(case["x"]), Value(case["w"])
    out = CONV[case["d"]](x, w, **case["params"])
    rng = np.random.default_rng(4)
    u = Value(rng.uniform(-1, 1, out.shape))
    (grad_x,) = autonet.gradients(out, [x], gradient=u, create_graph=True)
    v = rng.uniform(-1, 1, x.shape)
    d_w, d_u = autonet.gradients((grad_x * v).sum(), [w, u])
    params = case["params"]
    np.testing.assert_allclose(d_w, conv_weight_grad_loops(v, u.data, w.shape, **params), atol=1e-12)
    np.testing.assert_allclose(d_u, conv_loops(v, case["w"], np.zeros(w.shape[0]), **params), atol=1e-12)


@FEW
@given(case=conv_cases())
def test_the_gradient_ops_equal_the_loop_adjoints(case: dict[str, Any]) -> None:
    x, w, params = case["x"], case["w"], case["params"]
    g = np.random.default_rng(5).uniform(-1, 1, conv_loops(x, w, np.zeros(w.shape[0]), **params).shape)
    dx = call_op("conv_input_grad", g, w, input_shape=x.shape, **params)
    dw = call_op("conv_weight_grad", x, g, weight_shape=w.shape, **params)
    np.testing.assert_allclose(dx.data, conv_input_grad_loops(g, w, x.shape, **params), atol=1e-12)
    np.testing.assert_allclose(dw.data, conv_weight_grad_loops(x, g, w.shape, **params), atol=1e-12)


@pytest.mark.parametrize("which", ["conv_input_grad", "conv_weight_grad"])
def test_the_gradient_ops_differentiate_twice(which: str) -> None:
    rng = np.random.default_rng(6)
    x, w = rng.normal(size=(1, 2, 4, 3)), rng.normal(size=(2, 1, 2, 2))
    params = {"stride": 2, "padding": 1, "groups": 2}
    g = rng.normal(size=conv_loops(x, w, np.zeros(2), **params).shape)
    if which == "conv_input_grad":
        fn, inputs = lambda g, w: call_op(which, g, w, input_shape=x.shape, **params), (g, w)
    else:
        fn, inputs = lambda x, g: call_op(which, x, g, weight_shape=w.shape, **params), (x, g)
    assert gradcheck(fn, *inputs, projections=3)
    assert gradgradcheck(fn, *inputs, projections=3)


@pytest.mark.parametrize("d", [1, 2])
@pytest.mark.parametrize("kernel, dilation", [(3, 1), (2, 1), (4, 2)])
def test_padding_same_keeps_the_size_with_the_extra_element_after(d: int, kernel: int, dilation: int) -> None:
    rng = np.random.default_rng(11)
    x, w = Value(rng.normal(size=(2, 2, *(5, 6)[:d]))), Value(rng.normal(size=(3, 2, *(kernel,) * d)))
    call = conv1d if d == 1 else conv2d
    out = call(x, w, padding="same", dilation=dilation)
    total = dilation * (kernel - 1)
    padded = np.pad(x.data, [(0, 0), (0, 0), *[(total // 2, total - total // 2)] * d])
    assert out.shape[2:] == x.shape[2:]
    np.testing.assert_allclose(
        out.data, conv_loops(padded, w.data, np.zeros(3), dilation=dilation), atol=1e-12
    )
    np.testing.assert_array_equal(call(x, w, padding="valid").data, call(x, w).data)
    assert gradcheck(lambda a, b: call(a, b, padding="same", dilation=dilation), x.data[:1], w.data)


# --------------------------------------------------------------------------- transposed convolutions


@pytest.mark.parametrize(
    "d, params",
    [
        (1, {"stride": 2, "padding": 1}),
        (1, {"stride": 1, "padding": 1, "output_padding": 1, "dilation": 2}),  # below the dilation
        (2, {"stride": (2, 1), "padding": (1, 0), "output_padding": (1, 0), "groups": 2}),
        (2, {"stride": 3, "dilation": 2, "output_padding": 2}),
    ],
)
def test_conv_transpose_equals_its_definition_by_loops(d: int, params: dict[str, Any]) -> None:
    rng = np.random.default_rng(13)
    x, w, b = (
        rng.normal(size=(2, 4, *(4, 3)[:d])),
        rng.normal(size=(4, 3, *(3, 2)[:d])),
        rng.normal(size=3 * params.get("groups", 1)),
    )
    conv_transpose = conv_transpose1d if d == 1 else conv_transpose2d
    out = conv_transpose(Value(x), Value(w), Value(b), **params)
    np.testing.assert_allclose(out.data, conv_transpose_loops(x, w, b, **params), rtol=1e-12, atol=1e-12)
    assert gradcheck(lambda a, v, c: conv_transpose(a, v, c, **params), x[:1], w, b, projections=2)
    assert gradgradcheck(lambda a, v: conv_transpose(a, v, None, **params), x[:1], w, projections=2)


def test_conv_transpose_is_the_adjoint_of_conv() -> None:
    # <conv(y, w), x> = <y, conv_transpose(x, w)>: the transposed convolution is the convolution's
    # gradient for its input, which its name promises.
    rng = np.random.default_rng(14)
    w = rng.normal(size=(3, 2, 3, 3))
    x = rng.normal(size=(2, 3, 4, 4))
    out = conv_transpose2d(x, w, None, stride=2, padding=1, output_padding=1).data
    y = rng.normal(size=out.shape)
    forward = conv2d(Value(y), Value(w), stride=2, padding=1).data
    np.testing.assert_allclose(np.vdot(forward, x), np.vdot(y, out), rtol=1e-12)


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda: conv_transpose2d(_zeros(1, 2, 4, 4), _zeros(2, 1, 3, 3), stride=2, output_padding=2),
            r"conv_transpose2d: output_padding \(2, 2\) must be smaller than the stride or the dilation",
        ),
        (
            lambda: conv_transpose1d(_zeros(1, 3, 4), _zeros(2, 1, 3)),
            r"conv_transpose1d: the input's 3 channels .* weight's first axis \(shape \(2, 1, 3\)\)",
        ),
        (
            lambda: conv_transpose1d(_zeros(1, 2, 4), _zeros(2, 1, 3), _zeros(2)),
            r"conv_transpose1d: the bias must have shape \(1,\), got \(2,\)",
        ),
        (
            lambda: conv_transpose1d(_zeros(1, 2, 1), _zeros(2, 1, 1), padding=1),
            r"conv_transpose1d: the padding \(1,\) leaves no output",
        ),
        (
            lambda: conv_transpose2d(_zeros(2, 4, 4), _zeros(2, 1, 3, 3)),
            r"conv_transpose2d: the input must be 4-d .* \(2, 4, 4\) \(add a batch axis",
        ),
        (
            lambda: conv_transpose1d(_zeros(1, 2, 4), _zeros(2, 1, 3, 3)),
            r"conv_transpose1d: the weight must be 3-d \(C_in, .*, got shape \(2, 1, 3, 3\)",
        ),
    ],
)
def test_conv_transpose_errors_name_the_op_and_the_argument(call: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


# --------------------------------------------------------------------------- pooling


@st.composite
def pool_cases(draw: st.DrawFn, kind: str) -> dict[str, Any]:
    """x and the parameters of a ``kind`` pool (PyTorch's, all of them): tiling windows (kernel ==
    stride, no padding) as often as not, and values from five integers, so that most windows of a
    max pool hold a tie."""
    kernel = _axis_param(draw, 2, 1, 3)
    params: dict[str, Any] = {"kernel_size": _as_given(kernel), "stride": None, "padding": 0}
    if not draw(st.booleans(), label="tiling"):
        params["stride"] = _as_given(_axis_param(draw, 2, 1, 3))
        params["padding"] = _as_given(tuple(draw(st.integers(0, k // 2)) for k in kernel))
    params["ceil_mode"] = draw(st.booleans(), label="ceil_mode")
    if kind == "max":
        params["dilation"] = _as_given(_axis_param(draw, 2, 1, 2))
    else:
        params["count_include_pad"] = draw(st.booleans(), label="count_include_pad")
        params["divisor_override"] = draw(st.none() | st.integers(1, 5), label="divisor_override")
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2)), *_axis_param(draw, 2, 1, 7))
    geometry = ("kernel_size", "stride", "padding", "dilation", "ceil_mode")
    try:
        pool_windows(shape, **{k: v for k, v in params.items() if k in geometry})
    except ValueError:
        assume(False)  # no window fits this input
    rng = np.random.default_rng(draw(st.integers(0, 2**16), label="seed"))
    return {"x": rng.integers(-2, 3, shape).astype(float), **params}


POOLS = {"max": max_pool2d, "avg": avg_pool2d}


@pytest.mark.parametrize("kind", ["max", "avg"])
@settings(max_examples=40)
@given(data=st.data())
def test_pools_equal_the_loop_references_forward_and_backward(kind: str, data: st.DataObject) -> None:
    # With ties in most windows, the max-pool gradient goes to each window's first maximum.
    case = data.draw(pool_cases(kind))
    x, params = Value(case.pop("x")), case
    out = POOLS[kind](x, **params)
    np.testing.assert_allclose(out.data, pool_loops(x.data, **params, kind=kind), atol=1e-12)
    g = np.random.default_rng(data.draw(st.integers(0, 2**16), label="seed")).uniform(-1, 1, out.shape)
    out.backward(g)
    np.testing.assert_allclose(x.grad, pool_grad_loops(x.data, g, **params, kind=kind), atol=1e-12)


def test_max_pool_ties_the_first_maximum_takes_the_gradient() -> None:
    x = Value(np.array([[[[3.0, 3.0, 1.0, 2.0], [3.0, 0.0, 2.0, 2.0]]]]))
    out = max_pool2d(x, 2)
    out.backward(np.array([[[[10.0, 20.0]]]]))
    assert out.tolist() == [[[[3.0, 2.0]]]]
    assert x.grad.tolist() == [[[[10.0, 0.0, 0.0, 20.0], [0.0, 0.0, 0.0, 0.0]]]]
    # Overlapping windows that share their first maximum add their gradients there.
    y = Value(np.ones((1, 1, 2, 3)))
    max_pool2d(y, 2, stride=1).sum().backward()
    assert y.grad.tolist() == [[[[1.0, 1.0, 0.0], [0.0, 0.0, 0.0]]]]


def test_max_pool_a_nan_is_the_maximum_and_padding_never_wins_even_against_minus_inf() -> None:
    x = Value(np.array([[[[1.0, np.nan], [3.0, 2.0]]]]))
    out = max_pool2d(x, 2)
    out.sum().backward()
    assert np.isnan(out.item()) and x.grad.tolist() == [[[[0.0, 1.0], [0.0, 0.0]]]]
    negative = Value(np.full((1, 1, 3, 3), -5.0))
    assert max_pool2d(negative, 3, stride=1, padding=1).tolist() == np.full((1, 1, 3, 3), -5.0).tolist()
    # Even an input of -inf beats the -inf rim: each window's gradient goes to its first real element.
    lowest = Value(np.array([[[[-np.inf, 1.0], [-np.inf, -np.inf]]]]))
    out = max_pool2d(lowest, 2, stride=1, padding=1)
    out.backward(np.arange(1.0, 10.0).reshape(1, 1, 3, 3))
    assert out.tolist() == [[[[-np.inf, 1.0, 1.0], [-np.inf, 1.0, 1.0], [-np.inf, -np.inf, -np.inf]]]]
    assert lowest.grad.tolist() == [[[[1.0 + 4.0, 2.0 + 3.0 + 5.0 + 6.0], [7.0 + 8.0, 9.0]]]]  # as PyTorch


@pytest.mark.parametrize(
    "params",
    [
        {"kernel_size": 2},
        {"kernel_size": 2, "stride": 1},
        {"kernel_size": (2, 3), "stride": (1, 2), "padding": (1, 1)},
        {"kernel_size": 3, "stride": 2, "padding": 1},
        {"kernel_size": 2, "stride": 2, "padding": 1, "ceil_mode": True},
    ],
)
@pytest.mark.parametrize("pool", [max_pool2d, avg_pool2d])
def test_pool_gradients_match_central_differences_to_second_order(pool: Any, params: dict[str, Any]) -> None:
    x = np.random.default_rng(7).permutation(30).reshape(1, 2, 3, 5) / 5.0  # no ties
    assert gradcheck(lambda x: pool(x, **params), x, projections=3)
    assert gradgradcheck(lambda x: pool(x, **params), x, projections=3)


@pytest.mark.parametrize(
    "pool, params",
    [
        (max_pool2d, {"kernel_size": 2, "stride": 1, "padding": 1, "dilation": 2, "ceil_mode": True}),
        (
            avg_pool2d,
            {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": False},
        ),
        (avg_pool2d, {"kernel_size": 2, "stride": 1, "divisor_override": 3}),
    ],
)
def test_pytorchs_pool_arguments_match_central_differences_to_second_order(
    pool: Any, params: dict[str, Any]
) -> None:
    x = np.random.default_rng(9).permutation(30).reshape(1, 2, 3, 5) / 5.0  # no ties
    assert gradcheck(lambda x: pool(x, **params), x, projections=3)
    assert gradgradcheck(lambda x: pool(x, **params), x, projections=3)


@pytest.mark.parametrize("pool", [max_pool2d, avg_pool2d])
def test_pools_keep_float32(pool: Any) -> None:
    x = Value(np.random.default_rng(8).normal(size=(2, 3, 6, 6)).astype(np.float32))
    out = pool(x, 2)
    out.sum().backward()
    assert out.dtype == np.float32 and x.grad.dtype == np.float32


# --------------------------------------------------------------------------- errors


def _zeros(*shape: int) -> Value:
    return Value(np.zeros(shape))


ERRORS = [
    pytest.param(
        lambda: conv2d(_zeros(1, 1, 4, 4), _zeros(1, 1, 3, 3), stride=2, padding="same"),
        ValueError,
        [r"conv2d", r"padding='same' needs stride 1", r"stride 2"],
        id="padding same with a stride",
    ),
    pytest.param(
        lambda: conv1d(_zeros(1, 1, 4), _zeros(1, 1, 3), padding="full"),
        ValueError,
        [r"conv1d", r"padding must be 'valid', 'same'", r"'full'"],
        id="padding an unknown string",
    ),
    pytest.param(
        lambda: conv2d(_zeros(1, 1, 3, 3), _zeros(1, 1, 4, 2), padding=0),
        ValueError,
        [r"conv2d", r"\(4, 2\)", r"larger than the padded input", r"\(1, 1, 3, 3\)", r"padding"],
        id="conv2d kernel larger than the padded input",
    ),
    pytest.param(
        lambda: conv1d(_zeros(1, 2, 5), _zeros(2, 2, 3), dilation=3),
        ValueError,
        [r"conv1d", r"dilation \(3,\)", r"larger than the padded input", r"\(1, 2, 5\)"],
        id="conv1d dilated kernel larger than the input",
    ),
    pytest.param(
        lambda: conv2d(_zeros(1, 3, 4, 4), _zeros(2, 1, 2, 2), groups=2),
        ValueError,
        [r"conv2d", r"groups=2", r"input channels \(3", r"\(1, 3, 4, 4\)", r"\(2, 1, 2, 2\)"],
        id="channels not divisible by groups",
    ),
    pytest.param(
        lambda: conv2d(_zeros(1, 4, 4, 4), _zeros(2, 1, 2, 2), groups=2),
        ValueError,
        [r"conv2d", r"\(2, 1, 2, 2\)", r"\(1, 4, 4, 4\)", r"weight.shape\[1\] must be 2"],
        id="weight channels per group",
    ),
    pytest.param(
        lambda: conv2d(_zeros(1, 1, 4, 4), _zeros(1, 1, 2, 2), stride=1.5),
        TypeError,
        [r"conv2d", r"stride", r"1\.5"],
        id="non-integer stride",
    ),
    pytest.param(
        lambda: conv1d(_zeros(1, 1, 4), _zeros(1, 1, 2), stride=-1),
        ValueError,
        [r"conv1d", r"stride must be at least 1", r"-1"],
        id="negative stride",
    ),
    pytest.param(
        lambda: conv2d(_zeros(1, 1, 4, 4), _zeros(1, 1, 2, 2), padding=-1),
        ValueError,
        [r"conv2d", r"padding must be at least 0"],
        id="negative padding",
    ),
    pytest.param(
        lambda: conv2d(_zeros(1, 1, 4, 4), _zeros(1, 1, 2, 2), groups=0),
        ValueError,
        [r"conv2d", r"groups must be a positive int"],
        id="groups 0",
    ),
    pytest.param(
        lambda: conv2d(_zeros(4, 4), _zeros(1, 1, 2, 2)),
        ValueError,
        [r"conv2d", r"4-d", r"\(4, 4\)"],
        id="conv2d input of 2 axes",
    ),
    pytest.param(
        lambda: conv2d(_zeros(1, 1, 4, 4), _zeros(1, 2, 2)),
        ValueError,
        [r"conv2d", r"weight must be 4-d", r"\(1, 2, 2\)"],
        id="conv2d weight of 3 axes",
    ),
    pytest.param(
        lambda: conv1d(_zeros(1, 1, 4, 4), _zeros(1, 1, 2)),
        ValueError,
        [r"conv1d", r"3-d", r"\(1, 1, 4, 4\)"],
        id="conv1d input of 4 axes",
    ),
    pytest.param(
        lambda: conv2d(_zeros(1, 1, 4, 4), _zeros(3, 1, 2, 2), _zeros(2)),
        ValueError,
        [r"conv2d", r"bias must have shape \(3,\)", r"\(2,\)"],
        id="bias of the wrong length",
    ),
    pytest.param(
        lambda: call_op(
            "conv_input_grad", np.zeros((1, 1, 3, 3)), np.zeros((1, 1, 2, 2)), input_shape=(1, 1, 3, 3)
        ),
        ValueError,
        [r"conv_input_grad", r"\(1, 1, 3, 3\)", r"\(1, 1, 2, 2\)"],
        id="conv_input_grad gradient of the wrong shape",
    ),
    pytest.param(
        lambda: max_pool2d(_zeros(1, 1, 2, 2), 3),
        ValueError,
        [r"max_pool2d", r"\(3, 3\)", r"larger than the padded input", r"\(1, 1, 2, 2\)"],
        id="pool kernel larger than the input",
    ),
    pytest.param(
        lambda: avg_pool2d(_zeros(1, 1, 4, 4), 2, padding=2),
        ValueError,
        [r"avg_pool2d", r"padding \(2, 2\)", r"half the kernel_size \(2, 2\)"],
        id="pool padding over half the kernel",
    ),
    pytest.param(
        lambda: max_pool2d(_zeros(1, 1, 4, 4), 2, stride=0),
        ValueError,
        [r"max_pool2d", r"stride must be at least 1"],
        id="pool stride 0",
    ),
    pytest.param(
        lambda: avg_pool2d(_zeros(1, 1, 4, 4), 2.0),
        TypeError,
        [r"avg_pool2d", r"kernel_size", r"2\.0"],
        id="pool non-integer kernel",
    ),
    pytest.param(
        lambda: max_pool2d(_zeros(1, 1, 4, 4), 2, ceil_mode="yes"),
        TypeError,
        [r"max_pool2d", r"ceil_mode must be a bool", r"'yes'"],
        id="pool ceil_mode not a bool",
    ),
    pytest.param(
        lambda: max_pool2d(_zeros(1, 1, 4, 4), 2, dilation=0),
        ValueError,
        [r"max_pool2d", r"dilation must be at least 1"],
        id="pool dilation 0",
    ),
    pytest.param(
        lambda: avg_pool2d(_zeros(1, 1, 4, 4), 2, divisor_override=0),
        ValueError,
        [r"avg_pool2d", r"divisor_override must not be 0"],
        id="pool divisor_override 0",
    ),
    pytest.param(
        lambda: avg_pool2d(_zeros(1, 1, 4, 4), 2, divisor_override=2.5),
        TypeError,
        [r"avg_pool2d", r"divisor_override must be an int", r"2\.5"],
        id="pool divisor_override not an int",
    ),
    pytest.param(
        lambda: avg_pool2d(_zeros(1, 1, 4, 4), 2, count_include_pad=None),
        TypeError,
        [r"avg_pool2d", r"count_include_pad must be a bool", r"None"],
        id="pool count_include_pad not a bool",
    ),
    pytest.param(
        lambda: max_pool2d(_zeros(1, 4, 4), 2),
        ValueError,
        [r"max_pool2d", r"4-d", r"\(1, 4, 4\)", r"x\[None\]"],
        id="pool unbatched input",
    ),
]


@pytest.mark.parametrize("call, error, parts", ERRORS)
def test_errors_name_the_op_the_shapes_and_the_argument(call: Any, error: type, parts: list[str]) -> None:
    with pytest.raises(error) as info:
        call()
    for part in parts:
        assert re.search(part, str(info.value)), f"{part!r} not in {info.value}"
