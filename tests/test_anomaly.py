"""Anomaly detection: under ``detect_anomaly()`` the first NaN or inf in an op's output or in a
gradient raises ``AnomalyError`` naming the op, its input shapes, the phase (forward or backward)
and the line of user code that created the op. Off, it costs nothing and records no site.
"""

from __future__ import annotations

import threading

import hypothesis.extra.numpy as npst
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autonet
from autonet import AnomalyError, Value, detect_anomaly

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def _site(fn) -> str:
    """How a message names the first line of ``fn``'s body: its file and line number."""
    return f'File "{__file__}", line {fn.__code__.co_firstlineno + 1}'


def _checking() -> bool:
    """Whether anomaly mode is on in this thread, seen by what it does: under it, log(0) raises
    instead of giving numpy's -inf."""
    try:
        Value(0.0).log()
    except AnomalyError:
        return True
    return False


def _raise_anomaly(build) -> str:
    with pytest.raises(AnomalyError) as caught, detect_anomaly():
        build()
    return str(caught.value)


# --------------------------------------------------------------------------- forward


def log_of_zero():
    return Value([0.0]).log()


def test_log_of_zero_is_reported_in_forward_with_shape_and_line() -> None:
    message = _raise_anomaly(log_of_zero)
    assert message.startswith("log produced -inf in forward (input shapes (1,)")
    assert "1 of 1 elements, the first at index (0,)" in message
    assert _site(log_of_zero) in message
    assert "Value([0.0]).log()" in message  # the source line itself, as in a traceback


def divide_zeros(a, b):
    return a / b


def test_nan_of_a_broadcast_division_names_both_shapes_and_the_first_bad_index() -> None:
    a, b = Value(np.ones((2, 3))), Value(np.array([1.0, 0.0, 2.0]))
    message = _raise_anomaly(lambda: divide_zeros(a * 0, b))
    assert message.startswith("div produced nan in forward (input shapes (2, 3), (3,)")
    assert "2 of 6 elements, the first at index (0, 1)" in message
    assert _site(divide_zeros) in message


def test_scalar_fast_path_is_checked_too() -> None:
    assert _raise_anomaly(lambda: Value(-1.0).sqrt()).startswith(
        "sqrt produced nan in forward (input shapes ())"
    )
    assert _raise_anomaly(lambda: Value(1e200) * 1e200).startswith("mul produced inf in forward")


def test_float32_overflow_is_caught() -> None:
    x = Value(np.full(3, 1e30, dtype=np.float32))
    assert _raise_anomaly(lambda: x * x).startswith("mul produced inf in forward (input shapes (3,), (3,)")


@given(
    npst.arrays(
        np.float64, npst.array_shapes(max_dims=3, max_side=4), elements=st.sampled_from([0.0, 0.5, 2.0])
    )
)
def test_log_reports_exactly_the_first_zero(x: np.ndarray) -> None:
    zeros = np.argwhere(x == 0.0)
    if not zeros.size:
        with detect_anomaly():
            Value(x).log()  # nothing non-finite: nothing raised
        return
    message = _raise_anomaly(lambda: Value(x).log())
    assert f"input shapes {x.shape}" in message
    assert (
        f"{len(zeros)} of {x.size} elements, the first at index {tuple(int(i) for i in zeros[0])}" in message
    )


# --------------------------------------------------------------------------- backward


def sqrt_then_sum(x):
    return x.sqrt().sum()


def test_infinite_gradient_of_sqrt_at_zero_is_reported_in_backward() -> None:
    x = Value([0.0])
    message = _raise_anomaly(lambda: sqrt_then_sum(x).backward())
    assert message.startswith("sqrt produced inf in backward, in the gradient for input 0 (input shapes (1,)")
    assert _site(sqrt_then_sum) in message  # the line that built sqrt, not the backward() call


def test_sqrt_at_zero_under_create_graph_still_blames_sqrt_in_backward() -> None:
    x = Value([0.0, 4.0])
    message = _raise_anomaly(lambda: sqrt_then_sum(x).backward(create_graph=True))
    assert message.startswith("sqrt produced inf in backward, in the gradient for input 0 (input shapes (2,)")
    assert "1 of 2 elements, the first at index (0,)" in message
    assert _site(sqrt_then_sum) in message


def test_graph_built_outside_detect_anomaly_still_names_op_and_says_where_to_look() -> None:
    x = Value([0.0])
    loss = x.sqrt().sum()
    message = _raise_anomaly(loss.backward)
    assert message.startswith("sqrt produced inf in backward")
    assert "built outside detect_anomaly()" in message


def test_a_non_finite_seed_gradient_is_reported_before_any_op() -> None:
    x = Value([1.0, 2.0])
    message = _raise_anomaly(lambda: (x * 2).backward(gradient=[1.0, np.nan]))
    assert message.startswith("backward: the gradient passed in holds nan or inf (shape (2,))")


# --------------------------------------------------------------------------- softmax fed 1e308


def test_stable_softmax_of_1e308_has_nothing_to_report_forward_or_backward() -> None:
    # exp(x - max) never overflows, so huge logits are not an anomaly: the answer is exact.
    for logits, probabilities in [([1e308, 1e308], [0.5, 0.5]), ([1e308, -1e308], [1.0, 0.0])]:
        x = Value(logits)
        with detect_anomaly():
            p = x.softmax()
            (p * Value([1.0, 2.0])).sum().backward()
        np.testing.assert_array_equal(p.data, probabilities)
        assert np.isfinite(x.grad).all()


def naive_softmax(x):
    e = x.exp()
    return e / e.sum()


def test_naive_softmax_fed_1e308_is_caught_at_the_exp_that_overflows() -> None:
    message = _raise_anomaly(lambda: naive_softmax(Value([1e308, 0.0])))
    assert message.startswith(
        "exp produced inf in forward (input shapes (2,); 1 of 2 elements, the first at index (0,))"
    )
    assert _site(naive_softmax) in message


def scale_then_softmax(x):
    return (x * 10).softmax()


def test_logits_overflowing_before_softmax_are_caught_where_they_overflow() -> None:
    message = _raise_anomaly(lambda: scale_then_softmax(Value([1e308, 1.0])))
    assert message.startswith("mul produced inf in forward (input shapes (2,), (); 1 of 2 elements")
    assert _site(scale_then_softmax) in message


def log_of_softmax(x):
    return x.softmax().log()


def test_log_of_a_softmax_fed_1e308_underflows_to_log_zero_in_forward() -> None:
    message = _raise_anomaly(lambda: log_of_softmax(Value([1e308, 0.0])))
    assert message.startswith(
        "log produced -inf in forward (input shapes (2,); 1 of 2 elements, the first at index (1,))"
    )
    with detect_anomaly():  # the fix the message leads to: log_softmax stays finite
        assert Value([1e308, 0.0]).log_softmax().data.tolist() == [0.0, -1e308]


def test_log_of_a_softmax_fed_1e308_has_an_infinite_gradient_in_backward() -> None:
    x = Value([1e308, 0.0])
    loss = log_of_softmax(x).sum()  # built without the check: forward gives -inf quietly
    message = _raise_anomaly(loss.backward)
    assert message.startswith("log produced inf in backward, in the gradient for input 0 (input shapes (2,)")


def test_log_softmax_whose_true_value_overflows_is_reported() -> None:
    # log_softmax([1e308, -1e308]) = [0, -2e308]: the exact answer is beyond float64.
    message = _raise_anomaly(lambda: Value([1e308, -1e308]).log_softmax())
    assert message.startswith("log_softmax produced -inf in forward (input shapes (2,); 1 of 2 elements")


# --------------------------------------------------------------------------- the switch itself


def test_decorator_checks_each_call_and_restores_the_flag() -> None:
    @detect_anomaly()
    def risky(x):
        assert autonet.is_grad_enabled() and _checking()
        return x.log()

    assert risky(Value(1.0)).item() == 0.0
    with pytest.raises(AnomalyError, match="log produced -inf in forward"):
        risky(Value(0.0))
    assert not _checking()
    assert Value(0.0).log().item() == -np.inf  # off again: numpy's answer, no error


def test_flag_is_restored_after_an_error_and_nests() -> None:
    with pytest.raises(ZeroDivisionError), detect_anomaly():
        raise ZeroDivisionError
    assert not _checking()
    with detect_anomaly():
        with detect_anomaly(False):
            assert Value(0.0).log().item() == -np.inf
        assert _checking()
    assert not _checking()


def test_no_site_is_recorded_outside_anomaly_mode() -> None:
    # sqrt at 0 is finite forward and infinite backward: the backward report names where the sqrt
    # was created, and it can only know that if a site was recorded when the op ran.
    x = Value([0.0])
    y = x.sqrt().sum()
    assert y.created_at is None and y.parents[0].created_at is None
    message = _raise_anomaly(y.backward)
    assert message.startswith("sqrt produced inf in backward")
    assert "an unknown place (the graph was built outside detect_anomaly()" in message
    assert __file__ not in message
    with detect_anomaly():
        z = x.sqrt()
    assert z.created_at.startswith(f'File "{__file__}"') and "z = x.sqrt()" in z.created_at
    message = _raise_anomaly(z.sum().backward)
    assert f'the op was created at File "{__file__}"' in message and "z = x.sqrt()" in message


def test_recording_a_site_keeps_no_frame_alive() -> None:
    import weakref

    class Marker:
        pass

    def build(x):
        marker = Marker()  # a local of the creating frame: nothing may keep it once we return
        return x.sqrt(), weakref.ref(marker)

    with detect_anomaly():
        y, marker_ref = build(Value([0.0]))
    assert marker_ref() is None
    assert ", in build\n" in y.created_at
    # The site was recorded all the same: the backward report (sqrt is infinite at 0) names it.
    assert ", in build\n" in _raise_anomaly(y.sum().backward)


def test_anomaly_error_is_a_floating_point_error_and_exported() -> None:
    assert issubclass(AnomalyError, FloatingPointError)
    assert "AnomalyError" in autonet.__all__ and "detect_anomaly" in autonet.__all__


def test_finite_training_step_gives_the_same_gradients_with_the_check_on() -> None:
    rng = np.random.default_rng(0)
    data = rng.normal(size=(8, 3))
    w0 = rng.normal(size=(3, 4))

    def step(checked: bool) -> np.ndarray:
        w = Value(w0.copy())
        with detect_anomaly(checked):
            loss = ((Value(data, requires_grad=False) @ w).tanh() ** 2).mean()
            loss.backward()
        return w.grad

    np.testing.assert_array_equal(step(True), step(False))


def test_anomaly_mode_in_one_thread_does_not_check_another() -> None:
    inside = threading.Event()
    done = threading.Event()
    results: dict[str, object] = {}

    def checked() -> None:
        with detect_anomaly():
            inside.set()
            done.wait(timeout=10)
            try:
                Value(0.0).log()
            except AnomalyError as error:
                results["checked"] = error

    thread = threading.Thread(target=checked)
    thread.start()
    assert inside.wait(timeout=10)
    results["unchecked"] = Value(0.0).log().item()  # this thread is not in anomaly mode
    done.set()
    thread.join(timeout=10)
    assert results["unchecked"] == -np.inf
    assert isinstance(results["checked"], AnomalyError)
