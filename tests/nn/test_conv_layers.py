"""Conv1d, Conv2d, MaxPool2d, AvgPool2d, Flatten and Sequential: PyTorch's parameter names, shapes
and initial range, the state dict round trip, the modules equal to the functions, and a small CNN
that learns."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from helpers import (
    adaptive_mean_loops,
    conv_loops,
    conv_transpose_loops,
    conv_weight_grad_loops,
    pool_grad_loops,
    pool_loops,
)

from autonet import Value, avg_pool2d, conv1d, conv2d, max_pool2d, nn, optim
from autonet.gradcheck import gradcheck
from autonet.nn import (
    AdaptiveAvgPool2d,
    AvgPool1d,
    AvgPool2d,
    Conv1d,
    Conv2d,
    Flatten,
    Layer,
    MaxPool1d,
    MaxPool2d,
    ReLU,
    Sequential,
)

RNG = np.random.default_rng(0)


def small_cnn(rng: int = 0) -> Sequential:
    """conv 1->4 3x3 pad 1, relu, max pool 2, conv 4->8 3x3 pad 1, relu, max pool 2, flatten, linear."""
    return Sequential(
        Conv2d(1, 4, 3, padding=1, rng=rng),
        Relu(),
        MaxPool2d(2),
        Conv2d(4, 8, 3, padding=1, rng=rng + 1),
        Relu(),
        MaxPool2d(2),
        Flatten(),
        Layer(8 * 2 * 2, 3, activation=None, rng=rng + 2),
    )


class Relu(nn.Module):
    def forward(self, x: Value) -> Value:
        return x.relu()


# --------------------------------------------------------------------------- names and shapes


@pytest.mark.parametrize(
    "module, weight",
    [
        (Conv1d(4, 6, 3), (6, 4, 3)),
        (Conv1d(4, 6, 5, groups=2), (6, 2, 5)),
        (Conv2d(3, 8, 3), (8, 3, 3, 3)),
        (Conv2d(4, 6, (2, 3), groups=2), (6, 2, 2, 3)),
        (Conv2d(4, 4, 3, groups=4), (4, 1, 3, 3)),
    ],
    ids=["conv1d", "conv1d groups", "conv2d", "conv2d groups, 2x3", "depthwise"],
)
def test_parameters_have_pytorchs_names_and_shapes(module: Any, weight: tuple[int, ...]) -> None:
    assert [(name, p.shape) for name, p in module.named_parameters()] == [
        ("weight", weight),
        ("bias", weight[:1]),
    ]
    assert list(module.state_dict()) == ["weight", "bias"]


def test_without_bias_there_is_only_a_weight() -> None:
    conv = Conv2d(2, 3, 2, bias=False)
    assert [name for name, _ in conv.named_parameters()] == ["weight"] and conv.bias is None
    x = RNG.normal(size=(1, 2, 4, 4))
    np.testing.assert_allclose(conv(x).data, conv2d(Value(x), conv.weight).data)


def test_initial_weights_and_biases_lie_within_pytorchs_bound() -> None:
    conv = Conv2d(6, 16, 5, groups=2, rng=0)
    bound = 1 / np.sqrt(3 * 5 * 5)  # fan_in = in_channels / groups * kH * kW
    for p in (conv.weight, conv.bias):
        assert np.abs(p.data).max() <= bound and np.abs(p.data).max() > 0.9 * bound
    assert Conv2d(1, 2, 3, rng=7).weight.tolist() == Conv2d(1, 2, 3, rng=7).weight.tolist()


def test_a_float32_conv_keeps_float32_data_and_gradients() -> None:
    conv = Conv1d(2, 3, 3, padding=1, dtype=np.float32, rng=0)
    out = conv(RNG.normal(size=(4, 2, 7)))  # float64 data becomes the module's dtype
    out.sum().backward()
    assert out.dtype == np.float32 and conv.weight.grad.dtype == np.float32


@pytest.mark.parametrize(
    "make, call",
    [
        (lambda: Conv1d(2, 4, 3, stride=2, padding=1, dilation=2, rng=0), conv1d),
        (lambda: Conv2d(2, 4, (3, 2), stride=(2, 1), padding=1, groups=2, rng=0), conv2d),
    ],
    ids=["Conv1d", "Conv2d"],
)
def test_conv_modules_call_the_convolution_with_their_own_arguments(make: Any, call: Any) -> None:
    conv = make()
    x = RNG.normal(size=(2, 2, *(9,) * (conv.weight.ndim - 2)))
    expected = call(
        Value(x),
        conv.weight,
        conv.bias,
        stride=conv.stride,
        padding=conv.padding,
        dilation=conv.dilation,
        groups=conv.groups,
    )
    np.testing.assert_array_equal(conv(x).data, expected.data)


NUMPY_MODES = {"zeros": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
@pytest.mark.parametrize(
    "padding, kernel, dilation, pads",
    [
        (1, 3, 1, [(1, 1), (1, 1)]),
        ("same", (4, 3), (1, 2), [(1, 2), (2, 2)]),
        ("valid", 2, 1, [(0, 0), (0, 0)]),
    ],
)
def test_conv2d_padding_modes_and_strings_equal_the_convolution_of_numpys_padded_input(
    mode: str, padding: Any, kernel: Any, dilation: Any, pads: list[tuple[int, int]]
) -> None:
    conv = Conv2d(2, 3, kernel, padding=padding, dilation=dilation, padding_mode=mode, rng=0)
    x = Value(RNG.normal(size=(2, 2, 6, 5)))
    out = conv(x)
    padded = np.pad(x.data, [(0, 0), (0, 0), *pads], mode=NUMPY_MODES[mode])
    expected = conv_loops(padded, conv.weight.data, conv.bias.data, dilation=dilation)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)
    if padding == "same":
        assert out.shape[2:] == x.shape[2:]
    # The gradient of x adds each padded element's share back to the element it copies.
    g = RNG.normal(size=out.shape)
    out.backward(g)
    weight_grad = conv_weight_grad_loops(padded, g, conv.weight.shape, dilation=dilation)
    np.testing.assert_allclose(conv.weight.grad, weight_grad, rtol=1e-12, atol=1e-12)
    assert gradcheck(lambda v: conv(v), x.data[:1], projections=2)


def test_conv1d_takes_padding_same_and_a_padding_mode() -> None:
    conv = Conv1d(1, 1, 2, padding="same", padding_mode="replicate", bias=False, rng=0)
    conv.weight.data[...] = [[[1.0, 10.0]]]
    # "same" with an even kernel pads one element after: [1, 2, 3] -> [1, 2, 3, 3].
    assert conv(np.array([[[1.0, 2.0, 3.0]]])).tolist() == [[[21.0, 32.0, 33.0]]]
    assert "padding='same'" in repr(conv) and "padding_mode=replicate" in repr(conv)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: Conv2d(3, 4, 3, groups=2), r"Conv2d: groups=2 must divide in_channels \(3\)"),
        (lambda: Conv1d(0, 4, 3), r"Conv1d: in_channels must be a positive int, got 0"),
        (lambda: Conv2d(1, 4, 0), r"Conv2d: kernel_size must be at least 1"),
        (lambda: Conv2d(1, 4, 3, dtype=np.int64), r"Conv2d: dtype must be a float type"),
        (lambda: Sequential(Conv2d(1, 1, 1), "relu"), r"Sequential: part 1 is a str, not a Module"),
        (lambda: Conv2d(1, 1, 3, padding_mode="mirror"), r"Conv2d: padding_mode must be one of .*'mirror'"),
        (lambda: Conv2d(1, 1, 3, stride=2, padding="same"), r"Conv2d: padding='same' needs stride 1"),
        (lambda: Conv1d(1, 1, 3, padding="full"), r"Conv1d: padding must be 'valid', 'same'.*'full'"),
        (
            lambda: Conv2d(1, 1, 3, padding=3, padding_mode="reflect")(np.zeros((1, 1, 3, 3))),
            r"conv2d: padding_mode='reflect' needs padding shorter than the input's side.*\(1, 1, 3, 3\)",
        ),
        (
            lambda: Conv1d(1, 1, 3, padding=4, padding_mode="circular")(np.zeros((1, 1, 3))),
            r"conv1d: padding_mode='circular' needs padding at most the input's side",
        ),
    ],
)
def test_bad_arguments_are_refused_naming_the_module(call: Any, message: str) -> None:
    with pytest.raises((ValueError, TypeError), match=message):
        call()


# --------------------------------------------------------------------------- state and Sequential


def test_sequential_names_its_parts_as_pytorch() -> None:
    model = small_cnn()
    assert list(model.state_dict()) == ["0.weight", "0.bias", "3.weight", "3.bias", "7.w", "7.b"]
    assert len(model) == 8 and isinstance(model[0], Conv2d) and isinstance(model[-1], Layer)
    head = model[:3]
    assert isinstance(head, Sequential) and len(head) == 3 and head[0] is model[0]
    with pytest.raises(IndexError, match="Sequential: index 8 is out of range for 8 parts"):
        model[8]


def test_state_dict_round_trip_gives_the_same_network() -> None:
    source, target = small_cnn(rng=0), small_cnn(rng=10)
    x = RNG.normal(size=(2, 1, 8, 8))
    assert not np.allclose(source(x).data, target(x).data)
    state = source.state_dict()
    target.load_state_dict(state)
    np.testing.assert_array_equal(source(x).data, target(x).data)
    # The state holds copies: training the source afterwards leaves the loaded target as it was.
    source[0].weight.data += 1.0
    np.testing.assert_array_equal(target[0].weight.data, state["0.weight"])


def test_a_state_of_the_wrong_shape_is_refused() -> None:
    model = small_cnn()
    state = model.state_dict()
    state["0.weight"] = np.zeros((4, 1, 2, 2))
    with pytest.raises(ValueError, match=r"0\.weight"):
        model.load_state_dict(state)


# --------------------------------------------------------------------------- Flatten and pools


@pytest.mark.parametrize(
    "start, end, shape",
    [(1, -1, (2, 60)), (0, 1, (6, 4, 5)), (2, 3, (2, 3, 20)), (0, -1, (120,)), (1, 1, (2, 3, 4, 5))],
)
def test_flatten_joins_the_axes_from_start_to_end(start: int, end: int, shape: tuple[int, ...]) -> None:
    x = np.arange(120.0).reshape(2, 3, 4, 5)
    out = Flatten(start, end)(x)
    assert out.shape == shape and out.data.ravel().tolist() == x.ravel().tolist()


def test_flatten_keeps_an_empty_batch_and_refuses_axes_out_of_order() -> None:
    assert Flatten()(np.zeros((0, 3, 4))).shape == (0, 12)
    with pytest.raises(ValueError, match=r"Flatten: start_dim=2, end_dim=1 .* shape \(2, 3, 4\)"):
        Flatten(2, 1)(np.zeros((2, 3, 4)))


@pytest.mark.parametrize(
    "module, function",
    [(MaxPool2d, max_pool2d), (AvgPool2d, avg_pool2d)],
    ids=["MaxPool2d", "AvgPool2d"],
)
@pytest.mark.parametrize(
    "args, kwargs",
    [((2,), {}), ((3, 2, 1), {}), (((2, 3), (1, 2), (1, 1)), {}), ((3, 2, 1), {"ceil_mode": True})],
)
def test_pool_modules_equal_their_functions(
    module: Any, function: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    x = RNG.normal(size=(2, 3, 7, 6))
    pool = module(*args, **kwargs)
    assert pool.parameters() == [] and pool.state_dict() == {}
    np.testing.assert_array_equal(pool(x).data, function(Value(x), *args, **kwargs).data)


def test_pool_modules_take_pytorchs_arguments_by_name() -> None:
    x = RNG.normal(size=(2, 3, 7, 6))
    maximum = MaxPool2d(kernel_size=3, stride=2, padding=1, dilation=2, return_indices=False, ceil_mode=True)
    np.testing.assert_array_equal(
        maximum(x).data, pool_loops(x, 3, 2, 1, dilation=2, ceil_mode=True, kind="max")
    )
    assert "dilation=2, ceil_mode=True" in repr(maximum)
    mean = AvgPool2d(
        kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False, divisor_override=None
    )
    expected = pool_loops(x, 3, 2, 1, ceil_mode=True, kind="avg", count_include_pad=False)
    np.testing.assert_allclose(mean(x).data, expected, rtol=1e-12, atol=1e-15)
    assert "count_include_pad=False" in repr(mean)
    overridden = AvgPool2d(2, divisor_override=3)(x).data
    np.testing.assert_allclose(
        overridden, pool_loops(x, 2, kind="avg", divisor_override=3), rtol=1e-12, atol=1e-15
    )


def test_max_pool_return_indices_gives_each_maximum_place_in_its_plane() -> None:
    x = RNG.normal(size=(2, 3, 5, 6))
    out, indices = MaxPool2d(3, stride=2, padding=1, return_indices=True, ceil_mode=True)(x)
    assert indices.dtype == np.int64 and indices.shape == out.shape
    planes = x.reshape(2, 3, -1)
    picked = np.take_along_axis(planes, indices.reshape(2, 3, -1), axis=-1).reshape(out.shape)
    np.testing.assert_array_equal(picked, out.data)  # each index points at its window's maximum
    for (_, _, i, j), index in np.ndenumerate(indices):
        row, col = divmod(int(index), 6)
        assert 2 * i - 1 <= row <= 2 * i + 1 and 2 * j - 1 <= col <= 2 * j + 1  # inside its window


@pytest.mark.parametrize(
    "kwargs",
    [
        {"kernel_size": 2},
        {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True},
        {"kernel_size": 2, "dilation": 3},
    ],
)
def test_1d_pools_are_the_2d_ones_over_a_height_of_one(kwargs: dict[str, Any]) -> None:
    x = Value(RNG.normal(size=(2, 3, 9)))
    k, s, p = kwargs["kernel_size"], kwargs.get("stride", kwargs["kernel_size"]), kwargs.get("padding", 0)
    planes = dict(kernel_size=(1, k), stride=(1, s), padding=(0, p), ceil_mode=kwargs.get("ceil_mode", False))
    for module, kind, extra in (
        (MaxPool1d(**kwargs), "max", {"dilation": (1, kwargs.get("dilation", 1))}),
        (
            AvgPool1d(**{k: v for k, v in kwargs.items() if k != "dilation"}, count_include_pad=False),
            "avg",
            {"count_include_pad": False},
        ),
    ):
        if kind == "avg" and "dilation" in kwargs:
            continue
        out = module(x)
        expected = pool_loops(x.data[:, :, None, :], **planes, **extra, kind=kind)[:, :, 0, :]
        np.testing.assert_allclose(out.data, expected, rtol=1e-12)
        g = RNG.normal(size=out.shape)
        x.grad = None
        out.backward(g)
        grad = pool_grad_loops(x.data[:, :, None, :], g[:, :, None, :], **planes, **extra, kind=kind)[
            :, :, 0, :
        ]
        np.testing.assert_allclose(x.grad, grad, rtol=1e-12)
    np.testing.assert_array_equal(nn.functional.max_pool1d(x, **kwargs).data, MaxPool1d(**kwargs)(x).data)


def test_max_pool1d_return_indices_and_1d_errors_name_the_1d_op() -> None:
    x = np.array([[[1.0, 5.0, 2.0, 7.0, 3.0]]])
    out, indices = MaxPool1d(2, ceil_mode=True, return_indices=True)(x)
    assert out.tolist() == [[[5.0, 7.0, 3.0]]] and indices.tolist() == [[[1, 3, 4]]]
    with pytest.raises(
        ValueError, match=r"max_pool1d: the input must be 3-d \(N, C, L\), got shape \(1, 1, 2, 2\)"
    ):
        MaxPool1d(2)(np.zeros((1, 1, 2, 2)))
    with pytest.raises(
        ValueError, match=r"avg_pool1d: the kernel_size 4 is larger than the padded input.*\(1, 1, 3\)"
    ):
        AvgPool1d(4)(np.zeros((1, 1, 3)))
    with pytest.raises(ValueError, match=r"max_pool1d: padding 2 must be at most half the kernel_size 3"):
        MaxPool1d(3, padding=2)(np.zeros((1, 1, 9)))


def test_functional_max_pools_return_indices_as_pytorchs_do() -> None:
    x = RNG.normal(size=(2, 3, 5, 6))
    out, indices = nn.functional.max_pool2d(x, 3, 2, 1, ceil_mode=True, return_indices=True)
    module_out, module_indices = MaxPool2d(3, 2, 1, ceil_mode=True, return_indices=True)(x)
    np.testing.assert_array_equal(out.data, module_out.data)
    np.testing.assert_array_equal(indices, module_indices)
    rows = x[:, :, 0]
    out, indices = nn.functional.max_pool1d(rows, 2, return_indices=True)
    np.testing.assert_array_equal(np.take_along_axis(rows, indices, axis=-1), out.data)
    assert not isinstance(nn.functional.max_pool2d(x, 2), tuple)


@pytest.mark.parametrize(
    "output_size, expected", [(1, (1, 1)), ((2, 3), (2, 3)), ((3, None), (3, 5)), (7, (7, 7))]
)
def test_adaptive_avg_pool_averages_pytorchs_windows(output_size: Any, expected: tuple[int, int]) -> None:
    x = RNG.normal(size=(2, 3, 7, 5))
    out = AdaptiveAvgPool2d(output_size)(x)
    assert out.shape == (2, 3, *expected)
    np.testing.assert_allclose(out.data, adaptive_mean_loops(x, expected), rtol=1e-12, atol=1e-15)
    assert gradcheck(lambda v: nn.functional.adaptive_avg_pool2d(v, output_size), x[:1, :1])
    unbatched = nn.functional.adaptive_avg_pool2d(x[0], output_size)  # (C, H, W) as PyTorch takes it
    np.testing.assert_allclose(unbatched.data, out.data[0], rtol=1e-12, atol=1e-15)
    with pytest.raises(
        ValueError, match=r"adaptive_avg_pool2d: the input must be 3-d .* or 4-d .*, got shape \(7, 5\)"
    ):
        AdaptiveAvgPool2d(1)(x[0, 0])
    with pytest.raises(ValueError, match=r"adaptive_avg_pool2d: output_size must be at least 1"):
        AdaptiveAvgPool2d(0)(x)


@pytest.mark.parametrize("module", [nn.ConvTranspose1d, nn.ConvTranspose2d])
def test_transposed_conv_modules_have_pytorchs_names_layouts_and_initialisation(module: Any) -> None:
    d = 1 if module is nn.ConvTranspose1d else 2
    conv = module(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2, rng=0)
    assert [(name, p.shape) for name, p in conv.named_parameters()] == [
        ("weight", (4, 3, *(3,) * d)),
        ("bias", (6,)),
    ]
    bound = 1 / np.sqrt(3 * 3**d)  # PyTorch's fan_in: the weight's second axis times the kernel
    assert np.abs(conv.weight.data).max() <= bound and np.abs(conv.weight.data).max() > 0.8 * bound
    x = RNG.normal(size=(2, 4, *(5,) * d))
    out = conv(x)
    assert out.shape == (2, 6, *(10,) * d)  # (5 - 1) * 2 - 2 + 3 + 1
    expected = conv_transpose_loops(x, conv.weight.data, conv.bias.data, 2, 1, 1, groups=2)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)
    assert "output_padding" in repr(conv) and module(4, 6, 3, bias=False).bias is None
    with pytest.raises(ValueError, match="only padding_mode='zeros' is supported"):
        module(4, 6, 3, padding_mode="reflect")


def nearest_loops(x: np.ndarray, sides: tuple[int, ...], factors: tuple[Any, ...]) -> np.ndarray:
    """PyTorch's nearest rule by loops: output i copies floor(i * scale) (float32), scale = 1 /
    factor when a factor is given, else size / out; the 2-d kernel copies an equal side as it is."""
    out = x
    for axis, (o, f) in enumerate(zip(sides, factors, strict=True), start=2):
        n = x.shape[axis]
        scale = np.float32(1 / f) if f else np.float32(n) / np.float32(o)
        picks = [min(int(np.floor(np.float32(i) * scale)), n - 1) for i in range(o)]
        if x.ndim == 4 and o == n:
            picks = list(range(n))
        out = np.take(out, picks, axis=axis)
    return out


@pytest.mark.parametrize(
    "shape, kwargs, sides, factors",
    [
        ((2, 3, 4, 5), {"scale_factor": 2}, (8, 10), (2, 2)),
        ((2, 3, 4, 5), {"size": (7, 3)}, (7, 3), (None, None)),
        ((1, 2, 5), {"scale_factor": 1.3}, (6,), (1.3,)),
        ((1, 2, 3), {"scale_factor": 1.3}, (3,), (1.3,)),  # an equal side that the 1-d rule reorders
        ((1, 2, 3, 3), {"scale_factor": 1.3}, (3, 3), (1.3, 1.3)),  # the 2-d kernel copies it as it is
        ((1, 1, 9), {"size": 4}, (4,), (None,)),
    ],
)
def test_nearest_upsampling_copies_pytorchs_sources_and_adds_their_gradients_back(
    shape: tuple[int, ...], kwargs: dict[str, Any], sides: tuple[int, ...], factors: tuple[Any, ...]
) -> None:
    x = Value(RNG.normal(size=shape))
    out = nn.Upsample(**kwargs)(x)
    expected = nearest_loops(x.data, sides, factors)
    np.testing.assert_array_equal(out.data, expected)
    assert gradcheck(lambda v: nn.functional.interpolate(v, **kwargs), x.data)
    out.sum().backward()
    assert x.grad.sum() == pytest.approx(out.size)  # every output's gradient reaches one input


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda: nn.functional.interpolate(np.zeros((1, 1, 4)), size=2, scale_factor=2),
            r"exactly one of size and scale_factor",
        ),
        (
            lambda: nn.functional.interpolate(np.zeros((1, 1, 4)), scale_factor=2, mode="bilinear"),
            r"only mode='nearest'.*'bilinear'",
        ),
        (
            lambda: nn.functional.interpolate(np.zeros((1, 4)), scale_factor=2),
            r"3-d \(N, C, L\) or 4-d .* \(1, 4\)",
        ),
        (
            lambda: nn.functional.interpolate(np.zeros((1, 1, 4)), scale_factor=0.1),
            r"scale_factor 0.1 leaves no output",
        ),
        (
            lambda: nn.functional.interpolate(np.zeros((1, 1, 4, 4)), scale_factor=(2,)),
            r"scale_factor must be a positive number or 2",
        ),
        (lambda: nn.Upsample(scale_factor=2, mode="bicubic"), r"Upsample: only mode='nearest'"),
    ],
)
def test_upsampling_errors_name_the_argument(call: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


# --------------------------------------------------------------------------- training


def test_a_small_cnn_learns_a_tiny_batch() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(12, 1, 8, 8))
    labels = np.arange(12) % 3
    x[np.arange(12), 0, labels * 3, labels * 3] += 3.0  # each class lights its own pixel
    model = small_cnn()
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    losses = []
    for _ in range(30):
        optimizer.zero_grad()
        loss = nn.cross_entropy(model(x), labels)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
    assert (model(x).data.argmax(axis=1) == labels).mean() >= 0.9


# --------------------------------------------------------------------------- ReLU


def test_relu_keeps_the_positive_part_and_its_gradient() -> None:
    x = Value(np.array([[-2.0, 0.5], [3.0, -0.1]]))
    out = ReLU()(x)
    out.sum().backward()
    assert out.tolist() == [[0.0, 0.5], [3.0, 0.0]]
    assert x.grad.tolist() == [[0.0, 1.0], [1.0, 0.0]]
    assert ReLU().parameters() == []


def test_relu_takes_plain_data_and_keeps_its_dtype() -> None:
    out = ReLU()(np.array([-1.0, 2.0], dtype=np.float32))
    assert out.dtype == np.float32 and not out.requires_grad


def test_a_small_cnn_maps_8x8_images_to_ten_scores_with_named_parameters() -> None:
    rng = np.random.default_rng(0)
    model = Sequential(
        Conv2d(1, 4, 3, padding=1, rng=rng),
        ReLU(),
        MaxPool2d(2),
        Conv2d(4, 8, 3, padding=1, rng=rng),
        ReLU(),
        MaxPool2d(2),
        Flatten(),
        Layer(32, 10, activation=None, rng=rng),
    )
    scores = model(rng.random((5, 1, 8, 8)))
    scores.sum().backward()
    assert scores.shape == (5, 10)
    assert [name for name, _ in model.named_parameters()] == [
        "0.weight",
        "0.bias",
        "3.weight",
        "3.bias",
        "7.w",
        "7.b",
    ]
    assert all(p.grad is not None and np.abs(p.grad).sum() > 0 for p in model.parameters())
