"""Grad mode and anomaly mode are per thread: a thread inside ``no_grad()`` or ``detect_anomaly()``
changes nothing for another thread running at the same moment.

Barriers force the overlap: each phase starts only when both threads are inside their blocks, so
the tests do not depend on timing luck.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator

import numpy as np
import pytest

import autonet
from autonet import AnomalyError, Value, detect_anomaly, no_grad

TIMEOUT = 20.0

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # log(0) on purpose


def _run_together(*bodies: Callable[[threading.Barrier], None]) -> None:
    """Run each body in its own thread with a shared barrier; re-raise the first failure here."""
    barrier = threading.Barrier(len(bodies), timeout=TIMEOUT)
    errors: list[BaseException] = []

    def guarded(body: Callable[[threading.Barrier], None]) -> None:
        try:
            body(barrier)
        except BaseException as error:
            errors.append(error)
            barrier.abort()  # wake the other thread instead of leaving it waiting

    threads = [threading.Thread(target=guarded, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
        assert not thread.is_alive(), "a thread is stuck"
    if errors:
        raise errors[0]


def test_no_grad_in_one_thread_leaves_recording_on_in_another() -> None:
    seen: dict[str, object] = {}

    def inside_no_grad(barrier: threading.Barrier) -> None:
        with no_grad():
            barrier.wait()  # 1: both threads are in place
            y = Value(2.0) * 3
            seen["no_grad result requires grad"] = y.requires_grad
            seen["no_grad flag"] = autonet.is_grad_enabled()
            barrier.wait()  # 2: the other thread has recorded while this one was in no_grad
        seen["no_grad flag after"] = autonet.is_grad_enabled()

    def recording(barrier: threading.Barrier) -> None:
        x = Value(2.0)
        barrier.wait()  # 1
        y = x * x
        seen["recording flag"] = autonet.is_grad_enabled()
        barrier.wait()  # 2
        y.backward()
        seen["recording grad"] = x.grad.item()

    _run_together(inside_no_grad, recording)
    assert seen == {
        "no_grad result requires grad": False,
        "no_grad flag": False,
        "no_grad flag after": True,
        "recording flag": True,
        "recording grad": 4.0,
    }


def test_leaving_no_grad_in_one_thread_does_not_switch_another_back_on() -> None:
    seen: dict[str, bool] = {}

    def short_no_grad(barrier: threading.Barrier) -> None:
        with no_grad():
            barrier.wait()  # 1: both are inside no_grad
        barrier.wait()  # 2: this one has left its block
        barrier.wait()  # 3

    def long_no_grad(barrier: threading.Barrier) -> None:
        with no_grad():
            barrier.wait()  # 1
            barrier.wait()  # 2: the other thread's exit restored *its* flag, not this one's
            seen["still off"] = not autonet.is_grad_enabled()
            seen["records nothing"] = not (Value(1.0) * 2).requires_grad
            barrier.wait()  # 3

    _run_together(short_no_grad, long_no_grad)
    assert seen == {"still off": True, "records nothing": True}


def test_anomaly_mode_in_one_thread_does_not_check_or_record_sites_in_another() -> None:
    seen: dict[str, object] = {}

    def checked(barrier: threading.Barrier) -> None:
        with detect_anomaly():
            barrier.wait()  # 1
            try:
                Value(0.0).log()
            except AnomalyError as error:
                seen["checked error"] = str(error).split(" (")[0]
            barrier.wait()  # 2

    def unchecked(barrier: threading.Barrier) -> None:
        x = Value([0.0])
        barrier.wait()  # 1: the other thread is inside detect_anomaly
        y = x.log()
        seen["unchecked value"] = y.data.tolist()
        # sqrt at 0 is finite forward and infinite backward: a later checked backward names the
        # place where sqrt was created only if this thread recorded it, which it must not.
        seen["unchecked site recorded"] = y.created_at is not None
        seen["unchecked sqrt"] = x.sqrt().sum()
        barrier.wait()  # 2

    _run_together(checked, unchecked)
    unchecked_sqrt = seen.pop("unchecked sqrt")
    assert seen == {
        "checked error": "log produced -inf in forward",
        "unchecked value": [-np.inf],
        "unchecked site recorded": False,
    }
    with pytest.raises(AnomalyError, match=r"built outside detect_anomaly\(\)"), detect_anomaly():
        unchecked_sqrt.backward()  # type: ignore[attr-defined]


def test_a_new_thread_starts_with_the_defaults_whatever_its_parent_is_in() -> None:
    seen: dict[str, bool] = {}

    def child() -> None:
        seen["grad"] = autonet.is_grad_enabled()
        seen["records"] = (Value(1.0) * 2).requires_grad
        try:
            Value(0.0).log()
            seen["checked"] = False
        except AnomalyError:
            seen["checked"] = True

    with no_grad(), detect_anomaly():
        thread = threading.Thread(target=child)
        thread.start()
        thread.join(TIMEOUT)
    assert seen == {"grad": True, "records": True, "checked": False}


def test_decorated_functions_switch_only_the_calling_thread() -> None:
    seen: dict[str, bool] = {}

    @no_grad()
    def evaluate(barrier: threading.Barrier) -> None:
        barrier.wait()  # 1: inside the decorated call
        seen["evaluate records"] = (Value(1.0) * 2).requires_grad
        barrier.wait()  # 2

    def train(barrier: threading.Barrier) -> None:
        barrier.wait()  # 1
        seen["train records"] = (Value(1.0) * 2).requires_grad
        barrier.wait()  # 2

    _run_together(evaluate, train)
    assert seen == {"evaluate records": False, "train records": True}


def test_threads_training_their_own_graphs_get_their_own_exact_gradients() -> None:
    # The engine keeps no shared mutable state: concurrent backward passes cannot mix gradients.
    results: dict[int, list[float]] = {}

    def worker(k: int) -> Callable[[threading.Barrier], None]:
        def body(barrier: threading.Barrier) -> None:
            barrier.wait()
            found = []
            for step in range(200):
                x = Value(np.full(4, float(k + step)))
                ((x * x).sum() * 0.5).backward()  # gradient: x itself
                found.append(float(x.grad.sum()))
            results[k] = found

        return body

    _run_together(*(worker(k) for k in range(4)))
    for k in range(4):
        assert results[k] == [4.0 * (k + step) for step in range(200)]


def _run_many(count: int, body: Callable[[int], None]) -> None:
    """Start ``count`` threads at once (a barrier lines them up) and re-raise the first failure."""
    barrier = threading.Barrier(count, timeout=TIMEOUT)
    errors: list[BaseException] = []

    def guarded(index: int) -> None:
        try:
            barrier.wait()
            body(index)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=guarded, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(4 * TIMEOUT)
        assert not thread.is_alive(), "a thread is stuck"
    if errors:
        raise errors[0]


@pytest.fixture
def frequent_thread_switches() -> Iterator[None]:
    # Switch threads every microsecond instead of every 5 ms, so that a read-add-write of .grad
    # that is not one step really is interrupted (it was, 1,000 to 3,000 times in 8,000).
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(interval)


@pytest.mark.usefixtures("frequent_thread_switches")
@pytest.mark.parametrize("create_graph", [False, True], ids=["plain", "create_graph"])
@pytest.mark.parametrize("shape", [(), (3,)], ids=["scalar", "array"])
def test_concurrent_backwards_into_one_shared_leaf_lose_no_gradient(
    shape: tuple[int, ...], create_graph: bool
) -> None:
    # Four threads, 2,000 backwards each, every graph ending in the same leaf. Without one step
    # for read-add-write, create_graph runs (whose additions are Python code) lost ~1 in 8.
    shared = Value(np.ones(shape))
    backwards = 2_000

    def body(index: int) -> None:
        own = Value(np.full(shape, float(index)), requires_grad=False)
        for _ in range(backwards):
            (shared * 2.0 + own).sum().backward(create_graph=create_graph)

    _run_many(4, body)
    total = shared.grad.data if create_graph else shared.grad
    np.testing.assert_array_equal(total, np.full(shape, 2.0 * 4 * backwards))


def test_one_context_object_entered_by_two_threads_restores_each_threads_own_mode() -> None:
    shared_no_grad = no_grad()
    seen: dict[str, bool] = {}

    def already_off(barrier: threading.Barrier) -> None:
        with autonet.set_grad_enabled(False):
            barrier.wait()  # 1: both threads are about to enter the shared object
            with shared_no_grad:
                barrier.wait()  # 2: both are inside it at once
            seen["off thread after leaving"] = autonet.is_grad_enabled()
            barrier.wait()  # 3

    def on(barrier: threading.Barrier) -> None:
        barrier.wait()  # 1
        with shared_no_grad:
            barrier.wait()  # 2
        seen["on thread after leaving"] = autonet.is_grad_enabled()
        barrier.wait()  # 3

    _run_together(already_off, on)
    assert seen == {"off thread after leaving": False, "on thread after leaving": True}


def test_a_shared_anomaly_context_object_is_per_thread_too() -> None:
    shared = detect_anomaly()
    seen: dict[str, bool] = {}

    def first(barrier: threading.Barrier) -> None:
        with shared:
            barrier.wait()  # 1: both inside
            barrier.wait()  # 2: the second has left
            with pytest.raises(AnomalyError):
                Value([0.0]).log()
        seen["first raised inside"] = True

    def second(barrier: threading.Barrier) -> None:
        with shared:
            barrier.wait()  # 1
        Value([0.0]).log()  # off again in this thread: no AnomalyError
        seen["second quiet after leaving"] = True
        barrier.wait()  # 2

    _run_together(first, second)
    assert seen == {"first raised inside": True, "second quiet after leaving": True}
