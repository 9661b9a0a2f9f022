"""PyTorch's tensor method names on Value: each is autonet's own op, with the same numbers and
gradients as the numpy-named method it stands for."""

from __future__ import annotations

import numpy as np
import pytest

from autonet import Value
from autonet.surface import TORCH_NAMES

X = np.arange(-3.0, 3.0).reshape(2, 3)

PAIRS = [
    (lambda v: v.unsqueeze(1), lambda v: v.expand_dims(1)),
    (lambda v: v.view(3, -1), lambda v: v.reshape(3, 2)),
    (lambda v: v.view((6,)), lambda v: v.reshape(6)),
    (lambda v: v.permute(1, 0), lambda v: v.transpose(1, 0)),
    (lambda v: v.t(), lambda v: v.transpose()),
    (lambda v: v.clamp(-1.0, 1.5), lambda v: v.clip(-1.0, 1.5)),
    (lambda v: v.clamp(min=0.0), lambda v: v.clip(0.0, None)),
    (lambda v: v.pow(3), lambda v: v**3),
    (lambda v: v.matmul(np.ones((3, 2))), lambda v: v @ np.ones((3, 2))),
    (lambda v: v.mm(np.ones((3, 2))), lambda v: v @ np.ones((3, 2))),
    (lambda v: v.double() * 2.0, lambda v: v * 2.0),
]


@pytest.mark.parametrize("torch_form, numpy_form", PAIRS)
def test_each_torch_name_gives_the_numbers_and_gradients_of_its_numpy_name(torch_form, numpy_form) -> None:
    a, b = Value(X.copy()), Value(X.copy())
    out, expected = torch_form(a), numpy_form(b)
    np.testing.assert_array_equal(out.data, expected.data)
    g = np.random.default_rng(0).normal(size=out.shape)
    out.backward(g)
    expected.backward(g)
    np.testing.assert_array_equal(a.grad, b.grad)


def test_dtype_and_size_names() -> None:
    v = Value(X)
    assert v.float().dtype == np.float32 and v.to(np.float32).dtype == np.float32
    assert v.float().double().dtype == np.float64
    assert v.to("cpu") is v
    assert v.dim() == v.ndim == 2 and v.numel() == v.size == 6
    (v.float() * 2.0).sum().backward()
    assert v.grad.dtype == np.float64 and (v.grad == 2.0).all()  # the gradient comes back in v's dtype


def test_t_keeps_vectors_and_refuses_more_than_two_axes() -> None:
    assert Value([1.0, 2.0]).t().tolist() == [1.0, 2.0]
    with pytest.raises(ValueError, match=r"t: expects at most 2 axes, got shape \(1, 1, 2\)"):
        Value([[[1.0, 2.0]]]).t()
    with pytest.raises(TypeError, match="astype"):
        Value(X).to("cuda")


def test_every_torch_name_is_a_value_method() -> None:
    assert all(getattr(Value, name) is function for name, function in TORCH_NAMES.items())
