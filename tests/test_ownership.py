"""Values own their data, and data, numpy() and grad behave alike for scalars and arrays.

``Value(array)`` copies, as ``np.array`` and ``torch.tensor`` do; ``Value.from_numpy`` and
``detach()`` share on purpose. What ``data``, ``numpy()`` and ``grad`` return is the Value's own
writeable array (0-d for a scalar): changing it in place changes the Value, and no two Values
ever share one ``.grad`` object.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

import autonet
from autonet import Value
from autonet.optim import SGD

SHAPES = [(), (3,), (2, 2)]
IDS = ["scalar", "vector", "matrix"]


@pytest.mark.parametrize("shape", SHAPES, ids=IDS)
def test_a_value_copies_the_array_it_is_made_from(shape: tuple[int, ...]) -> None:
    array = np.ones(shape)
    v = Value(array)
    array[...] = 5.0
    np.testing.assert_array_equal(v.data, np.ones(shape))
    assert not np.shares_memory(v.data, array)


def test_a_value_made_from_a_value_copies_it_so_an_optimizer_step_on_one_leaves_the_other() -> None:
    source = np.array([1.0, 2.0])
    a = Value(source)
    b = Value(a)
    (a * a).sum().backward()
    SGD([a], lr=0.5).step()
    np.testing.assert_array_equal(b.data, [1.0, 2.0])
    np.testing.assert_array_equal(source, [1.0, 2.0])  # nor the caller's array
    np.testing.assert_array_equal(a.data, [0.0, 0.0])


def test_from_numpy_shares_both_ways() -> None:
    array = np.array([1.0, 2.0])
    v = Value.from_numpy(array)
    array[0] = 3.0
    assert v.tolist() == [3.0, 2.0]
    v.add_([1.0, 1.0])
    np.testing.assert_array_equal(array, [4.0, 3.0])
    with pytest.raises(TypeError, match="numpy array"):
        Value.from_numpy([1.0, 2.0])


@pytest.mark.parametrize("shape", SHAPES, ids=IDS)
@pytest.mark.parametrize("accessor", [lambda v: v.data, lambda v: v.numpy()], ids=["data", "numpy"])
def test_data_and_numpy_are_the_values_own_writeable_array(
    shape: tuple[int, ...], accessor: Callable[[Value], np.ndarray]
) -> None:
    v = Value(np.full(shape, 2.0))
    array = accessor(v)
    assert isinstance(array, np.ndarray) and array.shape == shape and array.flags.writeable
    array[...] = 7.0
    np.testing.assert_array_equal(v.data, np.full(shape, 7.0))
    with autonet.no_grad():
        assert (v * 1.0).tolist() == np.full(shape, 7.0).tolist()  # ops see the change too
    assert accessor(v) is array  # the same array again while no graph needs it


@pytest.mark.parametrize("shape", SHAPES, ids=IDS)
def test_while_a_graph_needs_the_numbers_writes_go_to_a_copy_and_after_backward_in_place(
    shape: tuple[int, ...],
) -> None:
    v = Value(np.full(shape, 2.0))
    loss = (v * v).sum()
    v.data[...] = 3.0  # the graph keeps the 2s its forward used
    assert v.tolist() == np.full(shape, 3.0).tolist()
    loss.backward()
    np.testing.assert_array_equal(v.grad, np.full(shape, 4.0))
    array = v.data
    array[...] = 5.0  # no graph needs the numbers any more: in place, and it stays the data
    assert v.data is array and v.tolist() == np.full(shape, 5.0).tolist()


@pytest.mark.parametrize("shape", SHAPES, ids=IDS)
def test_clipping_a_gradient_in_place_reaches_the_optimizer(shape: tuple[int, ...]) -> None:
    w = Value(np.full(shape, 1.0))
    (w * 10.0).sum().backward()
    np.clip(w.grad, -1.0, 1.0, out=w.grad)
    np.testing.assert_array_equal(w.grad, np.ones(shape))
    SGD([w], lr=0.5).step()
    np.testing.assert_array_equal(w.data, np.full(shape, 0.5))


def test_the_micrograd_update_idiom_works_for_scalars_and_arrays() -> None:
    for w in (Value(1.0), Value(np.array([1.0, -1.0]))):
        loss = (w * w).sum()
        loss.backward()
        w.data -= 0.25 * w.grad
        np.testing.assert_allclose(w.data, np.asarray([1.0, -1.0])[: w.size].reshape(w.shape) * 0.5)


def _grads_of_every_node(root: Value) -> list[Value]:
    nodes, stack, seen = [], [root], {id(root)}
    while stack:
        node = stack.pop()
        nodes.append(node)
        for parent in node.parents:
            if id(parent) not in seen:
                seen.add(id(parent))
                stack.append(parent)
    return nodes


def test_no_two_values_share_a_gradient_and_every_gradient_is_writeable() -> None:
    x = Value(np.array([[1.0, 2.0], [3.0, 4.0]]), label="x")
    b = Value(np.array([0.5, -0.5]), label="b")
    y = x + b  # add passes its gradient through to both inputs
    z = y.reshape(4)  # a reshape's gradient is a view of the next one's
    root = (z.sum() + y.sum()).tanh()
    root.backward(retain_graph=True)
    nodes = [n for n in _grads_of_every_node(root) if n.requires_grad]
    grads = [n.grad for n in nodes]
    assert len({id(g) for g in grads}) == len(grads)
    for node, g in zip(nodes, grads, strict=True):
        assert g.flags.writeable, node
        assert g.shape == node.shape
        for other in grads:
            assert other is g or not np.shares_memory(g, other)


def test_gradients_returns_arrays_of_their_own_even_for_the_same_input_twice() -> None:
    x = Value(np.array([1.0, 2.0]))
    first, second = autonet.gradients((x + x).sum(), [x, x])
    np.testing.assert_array_equal(first, [2.0, 2.0])
    assert first is not second and first.flags.writeable and not np.shares_memory(first, second)


def test_np_asarray_reads_without_copying_and_refuses_writes() -> None:
    v = Value(np.array([1.0, 2.0]))
    view = np.asarray(v)
    assert np.shares_memory(view, np.asarray(v))  # both read the Value's own array
    with pytest.raises(ValueError, match="read-only"):
        view[0] = 3.0
    copy = np.array(v)
    copy[0] = 3.0
    assert v.tolist() == [1.0, 2.0]
    # Writing through .data while such a view is alive moves the Value to fresh numbers first:
    # whoever holds the view (a record, a plot) keeps what it read.
    v.data[0] = 5.0
    assert view.tolist() == [1.0, 2.0] and v.tolist() == [5.0, 2.0]


def test_the_grad_setter_keeps_the_values_dtype() -> None:
    w = Value(np.ones(2, dtype=np.float32))
    with pytest.raises(TypeError, match=r"float64.*float32"):
        w.grad = np.ones(2)
    w.grad = [0.5, 0.25]  # numbers take the Value's dtype
    assert w.grad.dtype == np.float32
    w.grad = np.ones(2, dtype=np.float32)
    assert w.grad.dtype == np.float32


@pytest.mark.parametrize("dtype", [np.bool_, np.int8, np.int16, np.uint8], ids=str)
def test_bool_and_small_int_constants_keep_a_float32_value_float32(dtype: type) -> None:
    w = Value(np.ones(3, dtype=np.float32))
    constant = np.array([1, 0, 1], dtype=dtype)
    for result in (w * constant, constant * w, w + constant, autonet.maximum(w, constant)):
        assert result.dtype == np.float32
        assert result.dtype == (w.data * constant).dtype  # what numpy gives
    assert autonet.where(constant.astype(bool), w, constant).dtype == np.float32


@pytest.mark.parametrize("int_dtype", [np.int8, np.int32, np.int64, np.uint64])
@pytest.mark.parametrize("float_dtype", [np.float16, np.float32])
def test_int_constants_of_any_width_keep_the_float_dtype_as_in_pytorch(float_dtype, int_dtype) -> None:
    # numpy widens float32 with int32 or int64 to float64 (and float16 with int16 up); PyTorch
    # and JAX keep the float operand's dtype, so a float32 model stays float32.
    w = Value(np.ones(2, dtype=float_dtype), requires_grad=True)
    constant = np.array([1, 2], dtype=int_dtype)
    for result in [w * constant, constant * w, np.multiply(constant, w), np.maximum(w, constant)]:
        assert result.dtype == float_dtype
    (w * constant).sum().backward()
    assert w.grad.dtype == float_dtype and w.grad.tolist() == [1.0, 2.0]


def test_an_assigned_array_the_caller_keeps_is_shared_and_locked_while_recorded() -> None:
    kept = np.array([1.0, 2.0])
    w = Value([0.0, 0.0])
    w.data = kept
    kept[0] = 3.0
    assert w.tolist() == [3.0, 2.0]  # shared, as assigned
    loss = (w * w).sum()
    with pytest.raises(ValueError, match="read-only"):
        kept[1] = 9.0  # a graph needs these numbers
    loss.backward()
    assert w.grad.tolist() == [6.0, 4.0]
    kept[1] = 9.0  # released: writeable again, still the Value's numbers
    assert w.tolist() == [3.0, 9.0]


@pytest.mark.parametrize("number", [2.0, 3, True, np.float64(2.5)])
def test_a_number_assigned_to_data_becomes_the_values_numbers(number) -> None:
    w = Value(1.0)
    loss = w * w
    w.data = number
    assert w.item() == float(number) and w.shape == ()
    loss.backward()  # the recorded graph kept what its forward saw
    assert w.grad.item() == 2.0
    (w * 2.0).backward()
    assert w.grad.item() == 4.0


def test_the_update_idiom_keeps_the_array_a_caller_holds() -> None:
    w = Value([1.0, 2.0])
    held = w.data
    w.data -= 1.0
    assert held is w.data and held.tolist() == [0.0, 1.0]
    loss = (w * w).sum()
    with pytest.raises(ValueError, match="read-only"):
        held[0] = 5.0  # the caller's array is locked while the graph needs it
    loss.backward()
    assert w.grad.tolist() == [0.0, 2.0]


def test_detaching_a_recorded_value_never_lets_its_twin_change_the_graph() -> None:
    w = Value([1.0, 2.0])
    loss = (w * w).sum()
    twin = w.detach()
    twin.data[0] = 10.0
    loss.backward()
    assert w.grad.tolist() == [2.0, 4.0]
    free = w.detach()  # nothing recorded keeps w now: the twin shares it
    free.data[1] = 7.0
    assert w.tolist()[1] == 7.0
