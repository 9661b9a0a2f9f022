"""No leaks: training keeps memory flat, and a backward() without ``retain_graph`` frees the graph's
intermediate Values and their arrays at once, by reference counting alone.

The cyclic garbage collector is switched off while the training loops run: memory that stays flat
without it proves the engine makes no reference cycles, so nothing waits for ``gc.collect()``.
"""

from __future__ import annotations

import gc
import tracemalloc
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
import pytest

import autonet
from autonet import Value, detect_anomaly, gradients
from autonet.nn import MLP, cross_entropy
from autonet.optim import SGD, Adam

STEPS = 2000
WARM_UP = 200
# Generous: the growth measured is a few hundred bytes, while a leak of one small tuple per step
# (56 bytes) over the 1,800 steps measured would exceed this, and a leaked graph many times over.
GROWTH_LIMIT = 32 * 1024


@contextmanager
def _no_cyclic_collector() -> Iterator[None]:
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _settled_memory() -> int:
    """Traced memory in use, after checking that no Value or array awaits the cyclic collector.

    Only the graph's objects are asked about: a cycle the engine made holds Values (and everything
    a cycle holds is garbage with it), while other threads of the test process (pytest-xdist's
    channel to its controller) may leave cycles of their own meanwhile. The full collection also
    empties Python's free lists (of tuples, floats ...), which otherwise fill up over the first
    thousand steps and look like growth although they are bounded.
    """
    gc.set_debug(gc.DEBUG_SAVEALL)  # keep what the collection finds, to look at it
    try:
        gc.collect()
        ours = [o for o in gc.garbage if isinstance(o, (Value, np.ndarray))]
        gc.garbage.clear()
    finally:
        gc.set_debug(0)
    assert not ours, f"the training loop left {len(ours)} Values and arrays in reference cycles"
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


def _memory_growth(train_step: Callable[[], float]) -> tuple[int, int, float]:
    """Traced memory after WARM_UP steps and after STEPS steps (bytes), and the last loss."""
    with _no_cyclic_collector():
        tracemalloc.start()
        try:
            for _ in range(WARM_UP):
                loss = train_step()
            after_warm_up = _settled_memory()
            for _ in range(STEPS - WARM_UP):
                loss = train_step()
            at_end = _settled_memory()
        finally:
            tracemalloc.stop()
    return after_warm_up, at_end, loss


def _data(rng: np.random.Generator) -> tuple[Value, Value]:
    x = rng.uniform(-2, 2, size=(32, 2))
    y = np.sin(x[:, :1]) * np.cos(x[:, 1:])
    return Value(x, requires_grad=False), Value(y, requires_grad=False)


def test_values_mlp_trains_2000_steps_in_flat_memory_without_the_cyclic_collector() -> None:
    rng = np.random.default_rng(0)
    x, y = _data(rng)
    w1, b1 = Value(rng.normal(0, 0.5, (2, 16))), Value(np.zeros(16))
    w2, b2 = Value(rng.normal(0, 0.5, (16, 1))), Value(np.zeros(1))
    params = [w1, b1, w2, b2]

    def train_step() -> float:
        prediction = (x @ w1 + b1).tanh() @ w2 + b2
        loss = ((prediction - y) ** 2).mean()
        loss.backward()
        for p in params:
            p.data -= 0.05 * p.grad
            p.grad = None
        return loss.item()

    first_loss = ((((x @ w1 + b1).tanh() @ w2 + b2) - y) ** 2).mean().item()
    after_warm_up, at_end, last_loss = _memory_growth(train_step)
    assert at_end - after_warm_up < GROWTH_LIMIT, f"grew {at_end - after_warm_up} bytes from step 200 to 2000"
    assert last_loss < first_loss / 2  # it did train: the loop is not vacuous


@pytest.mark.parametrize("optimizer", [SGD, Adam])
def test_nn_mlp_with_an_optimizer_trains_2000_steps_in_flat_memory(optimizer: type) -> None:
    rng = np.random.default_rng(1)
    x, y = _data(rng)
    model = MLP(2, [16, 1], activation="tanh", rng=1)
    opt = optimizer(model.parameters(), lr=0.01)

    def train_step() -> float:
        opt.zero_grad()
        loss = autonet.nn.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    first_loss = autonet.nn.mse_loss(model(x), y).item()
    after_warm_up, at_end, last_loss = _memory_growth(train_step)
    assert at_end - after_warm_up < GROWTH_LIMIT, f"grew {at_end - after_warm_up} bytes from step 200 to 2000"
    assert last_loss < first_loss


def test_training_under_detect_anomaly_keeps_memory_flat() -> None:
    # Each op then records its creation site; that must be a plain string, freed with the op.
    rng = np.random.default_rng(2)
    x, y = _data(rng)
    w = Value(rng.normal(0, 0.5, (2, 1)))

    def train_step() -> float:
        loss = (((x @ w).tanh() - y) ** 2).mean()
        loss.backward()
        w.data -= 0.05 * w.grad
        w.grad = None
        return loss.item()

    with detect_anomaly():
        after_warm_up, at_end, _ = _memory_growth(train_step)
    assert at_end - after_warm_up < GROWTH_LIMIT


# --------------------------------------------------------------------------- freed graphs


def _graph(x: Value, w: Value) -> tuple[Value, list[weakref.ref]]:
    """A small graph and weak references to each intermediate Value and its data array (the
    output array its op recorded, which the Value holds as its data)."""
    h = x @ w
    a = h.tanh()
    s = a * a
    loss = s.mean()
    refs = [weakref.ref(v) for v in (h, a, s)] + [weakref.ref(v.record.out) for v in (h, a, s)]
    return loss, refs


def test_backward_keeps_the_graph_while_the_root_lives_and_frees_it_with_the_root() -> None:
    x, w = Value(np.ones((4, 3)), requires_grad=False), Value(np.full((3, 2), 0.1))
    with _no_cyclic_collector():
        loss, refs = _graph(x, w)
        loss.backward()
        assert all(ref() is not None for ref in refs)  # drawable after backward, data and all
        assert loss.graph_released and [p.op.name for p in loss.parents] == ["mul"]
        assert all(v.record.datas is None for v in (loss, *loss.parents))
        assert w.grad.shape == (3, 2) and loss.item() > 0
        with pytest.raises(RuntimeError, match="retain_graph=True"):
            loss.backward()
        del loss  # reference counting frees the released graph too: no cycle holds it
        assert [ref() for ref in refs] == [None] * len(refs)


def test_backward_frees_what_an_op_saved_for_its_vjp() -> None:
    logits = Value(np.ones((4, 3)))
    loss = cross_entropy(logits, np.array([0, 1, 2, 0]))
    saved = loss.record.saved
    assert saved is not None
    refs = [weakref.ref(a) for a in (saved if isinstance(saved, tuple) else (saved,))]
    del saved
    with _no_cyclic_collector():
        loss.backward()
        assert loss.record.saved is None and [ref() for ref in refs] == [None] * len(refs)


def test_retain_graph_keeps_the_intermediates_until_the_root_goes() -> None:
    x, w = Value(np.ones((4, 3)), requires_grad=False), Value(np.full((3, 2), 0.1))
    with _no_cyclic_collector():
        loss, refs = _graph(x, w)
        loss.backward(retain_graph=True)
        assert all(ref() is not None for ref in refs)
        first = w.grad.copy()
        loss.backward()  # the kept graph can be walked again; gradients add up
        np.testing.assert_allclose(w.grad, 2 * first)
        assert loss.graph_released
        del loss
        assert [ref() for ref in refs] == [None] * len(refs)
        loss, refs = _graph(x, w)
        loss.backward(retain_graph=True)
        del loss  # with the root gone, reference counting frees the kept graph: no cycle holds it
        assert [ref() for ref in refs] == [None] * len(refs)


def test_a_forward_without_backward_is_freed_with_its_root() -> None:
    x, w = Value(np.ones((4, 3)), requires_grad=False), Value(np.full((3, 2), 0.1))
    with _no_cyclic_collector():
        loss, refs = _graph(x, w)
        root = weakref.ref(loss)
        del loss
        assert root() is None and [ref() for ref in refs] == [None] * len(refs)


def test_gradients_with_create_graph_make_no_cycle() -> None:
    x = Value(np.linspace(-1, 1, 5))
    with _no_cyclic_collector():
        y = (x.tanh() ** 3).sum()
        (g,) = gradients(y, [x], create_graph=True)
        (h,) = gradients(g.sum(), [x])
        np.testing.assert_allclose(
            h,
            6 * np.tanh(x.data) * (1 - np.tanh(x.data) ** 2) ** 2
            - 6 * np.tanh(x.data) ** 3 * (1 - np.tanh(x.data) ** 2),
        )
        refs = [weakref.ref(v) for v in (y, g)]
        del y, g
        assert [ref() for ref in refs] == [None, None]


def test_a_long_chain_is_freed_with_its_root_after_backward_without_recursion() -> None:
    x = Value(1.0)
    with _no_cyclic_collector():
        y = x
        for _ in range(20_000):
            y = y * 1.0
        middle = weakref.ref(y.parents[0])
        y.backward()
        assert middle() is not None and x.grad.item() == 1.0
        del y
        assert middle() is None
