"""Ops of your own (``autonet.op``): they join the registry, get the surface, and are checked by
``autonet.testing`` exactly as autonet's own ops are; a wrong vjp fails with a readable report.

Every op defined here is unregistered when its test ends (the ``define`` fixture), because other
tests enumerate the registry at run time (the API page, the torch counterparts of every op).
"""

from __future__ import annotations

import importlib.util
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import autonet
from autonet import AnomalyError, Value, call_op, detect_anomaly
from autonet.ops import REGISTRY, Domain, Edge, gate
from autonet.ops.custom import UserOp
from autonet.testing import assert_op_correct, check_user_op, op_checks
from autonet.viz import draw_graph

ROOT = Path(__file__).resolve().parent.parent
MAKE_TUTORIAL = ROOT / "docs" / "make_tutorial.py"


@pytest.fixture
def define() -> Iterator[Callable[..., Any]]:
    """``define(forward, **options)``: ``autonet.op(**options)(forward)``, unregistered afterwards."""
    made: list[UserOp] = []

    def make(forward: Callable[..., Any], **options: Any) -> UserOp:
        made.append(autonet.op(**options)(forward))
        return made[-1]

    yield make
    for user_op in reversed(made):
        user_op.unregister()
    assert not {u.name for u in made} & set(REGISTRY)


def cube(x):
    """x ** 3, elementwise."""
    return x**3


def right_vjp(g, out, x):
    return g * 3 * x**2


def wrong_vjp(g, out, x):
    return g * 2 * x  # the derivative of x^2, not of x^3


# --------------------------------------------------------------------------- the surface


def test_a_decorated_forward_is_an_op_on_values_arrays_and_numbers(define: Callable[..., Any]) -> None:
    op = define(cube, vjp=right_vjp)
    assert REGISTRY["cube"] is op.entry and op.entry.arity == 1
    x = Value([1.0, -2.0])
    y = op(x)
    assert isinstance(y, Value) and y.tolist() == [1.0, -8.0]
    y.sum().backward()
    assert x.grad.tolist() == [3.0, 12.0]
    assert op(np.array([2.0, 3.0])).tolist() == [8.0, 27.0]
    assert op(2.0).item() == 8.0
    assert call_op("cube", np.array(-1.5)).item() == -3.375
    assert op(np.ones(2, dtype=np.float32)).dtype == np.float32
    assert op.__doc__ == "x ** 3, elementwise." and op.entry.doc == "x ** 3, elementwise."


def test_second_order_comes_from_vjps_written_with_numpy(define: Callable[..., Any]) -> None:
    op = define(cube, vjp=right_vjp)
    x = Value(2.0)
    op(x).backward(create_graph=True)
    slope = x.grad  # 3 x^2 = 12, a Value with a graph
    x.grad = None
    slope.backward()
    assert slope.item() == 12.0 and x.item() == 2.0 and float(x.grad) == 12.0  # d2(x^3)/dx2 = 6x


def test_method_draws_and_unregister(define: Callable[..., Any]) -> None:
    op = define(cube, vjp=right_vjp, method=True)
    x = Value([0.5, -2.0], label="x")
    assert x.cube().tolist() == [0.125, -8.0]
    assert Value.cube.__doc__.startswith("x ** 3")
    dot = draw_graph(x.cube().sum()).source
    labels = re.findall(r"^\s*op\d+ \[label=(\w+) class=op", dot, re.M)
    assert labels == ["cube", "sum"]
    op.unregister()
    assert "cube" not in REGISTRY and not hasattr(Value, "cube")
    with pytest.raises(ValueError, match="no op named 'cube'"):
        call_op("cube", x)


def test_anomaly_mode_names_the_op_of_your_own(define: Callable[..., Any]) -> None:
    op = define(lambda x: np.log(x), vjp=lambda g, out, x: g / x, name="my_log")
    with pytest.raises(AnomalyError, match=r"^my_log produced nan in forward"), detect_anomaly():
        op(Value([1.0, -1.0]))
    x = Value(0.0)
    with pytest.raises(AnomalyError, match=r"my_log produced -?inf"), detect_anomaly():
        op(x)


def test_parameters_come_from_the_signature_with_their_defaults(define: Callable[..., Any]) -> None:
    seen = []

    def vjp(g, out, x, *, power):
        seen.append(power)
        return g * power * x ** (power - 1)

    def power_of(x, *, power=3.0):
        return x**power

    op = define(power_of, vjp=vjp)
    x = Value([2.0])
    op(x).sum().backward()
    op(x, power=2.0).sum().backward()
    assert seen == [3.0, 2.0] and x.grad.tolist() == [12.0 + 4.0]
    with pytest.raises(TypeError, match=r"power_of: got an unexpected keyword argument 'bogus'"):
        op(x, bogus=1)
    with pytest.raises(TypeError, match=r"power_of: parameter 'power' got a Value"):
        op(x, power=Value(2.0))
    with pytest.raises(TypeError, match=r"power_of: takes 1 input\(s\), got 2"):
        call_op("power_of", x, x)


def test_two_inputs_broadcast_and_the_engine_undoes_it(define: Callable[..., Any]) -> None:
    def scaled(a, b):
        return a * np.tanh(b)

    op = define(
        scaled,
        vjp=(lambda g, out, a, b: g * np.tanh(b), lambda g, out, a, b: g * a * (1 - np.tanh(b) ** 2)),
    )
    a, b = Value(np.ones((2, 3))), Value([0.0, 1.0, 2.0])
    op(a, b).sum().backward()
    assert b.grad.shape == (3,)
    np.testing.assert_allclose(b.grad, 2 * (1 - np.tanh([0.0, 1.0, 2.0]) ** 2))
    assert check_user_op(op, examples=4, draws=8).passed


# --------------------------------------------------------------------------- names and declarations


def test_a_name_is_taken_once_unless_replaced(define: Callable[..., Any]) -> None:
    first = define(cube, vjp=right_vjp)
    x = Value(2.0)
    kept = first(x)
    with pytest.raises(ValueError, match=r"an op named 'cube' is already defined .*pass replace=True"):
        define(cube, vjp=wrong_vjp)
    second = define(lambda x: 2 * x, vjp=lambda g, out, x: 2 * g, name="cube", replace=True)
    assert REGISTRY["cube"] is second.entry and second(Value(2.0)).item() == 4.0
    kept.backward()  # recorded with the first entry, its backward is still the first's
    assert float(x.grad) == 12.0


@pytest.mark.parametrize("name", ["exp", "matmul", "relu"])
def test_a_built_in_name_is_refused_even_with_replace(define: Callable[..., Any], name: str) -> None:
    with pytest.raises(ValueError, match=rf"'{name}' is a built-in autonet op"):
        define(cube, vjp=right_vjp, name=name, replace=True)
    assert REGISTRY[name].forward is not cube


@pytest.mark.parametrize(
    ("forward", "options", "error", "message"),
    [
        (cube, {}, TypeError, r"cube: give vjp=\.\.\."),
        (cube, {"vjp": (right_vjp, right_vjp)}, ValueError, r"cube: 2 vjp\(s\) for 1 input\(s\) \(x\)"),
        (cube, {"vjp": lambda g, x: g}, TypeError, r"cube: the vjp for input 'x' must take \(g, out, x\)"),
        (lambda x: x, {"vjp": right_vjp}, ValueError, r"name must be an identifier.*give name="),
        (lambda *xs: xs[0], {"vjp": right_vjp, "name": "many"}, TypeError, r"many: the forward takes \*xs"),
        (cube, {"vjp": right_vjp, "domain": (Domain(), Domain())}, TypeError, r"cube: domain must be one"),
        (cube, {"vjp": right_vjp, "method": "backward"}, ValueError, r"Value.backward exists already"),
        (
            cube,
            {"vjp": right_vjp, "method": "exp"},
            ValueError,
            r"Value.exp exists already \(from op 'exp'\)",
        ),
        (cube, {"vjp": right_vjp, "edges": [0.0]}, TypeError, r"cube: an edge is an autonet.ops.Edge or"),
        (cube, {"vjp": right_vjp, "shapes": [(2,), (3,)]}, TypeError, r"cube: shapes must be one shape"),
    ],
    ids=[
        "no-vjp",
        "vjp-count",
        "vjp-signature",
        "lambda-without-name",
        "variadic",
        "domain-count",
        "method-of-Value",
        "method-of-an-op",
        "edge-form",
        "shape-count",
    ],
)
def test_an_incomplete_declaration_is_refused_naming_the_problem(
    define: Callable[..., Any], forward: Any, options: dict[str, Any], error: type, message: str
) -> None:
    before = set(REGISTRY)
    with pytest.raises(error, match=message):
        define(forward, **options)
    assert set(REGISTRY) == before and not hasattr(Value, "cube")


# --------------------------------------------------------------------------- checked like autonet's ops


def test_a_right_op_passes_every_check_autonet_runs_on_its_own(define: Callable[..., Any]) -> None:
    op = define(cube, vjp=right_vjp, edges=[(0.0, 0.0, 0.0), (np.zeros((0, 2)), np.zeros((0, 2)), None)])
    report = assert_op_correct(op)
    assert report.passed and report.op == "cube"
    checks = [r.check for r in report.results]
    assert checks == [
        "entry",
        "first order",
        "second order",
        "edge x = 0.0",
        "edge x = []",
        "edge draws (no nan gradient)",
    ]
    first = report.results[1]
    assert first.examples == 8 and 0 <= first.max_abs_error < 1e-5


def test_a_wrong_vjp_fails_with_a_report_naming_op_input_error_and_case(define: Callable[..., Any]) -> None:
    op = define(cube, vjp=wrong_vjp)
    report = check_user_op(op)
    assert not report.passed
    assert [r.check for r in report.failures] == ["first order"]
    failure = report.failures[0]
    assert failure.max_abs_error > 1.0  # 3x^2 against 2x on [-3, 3]
    text = str(report)
    assert text.startswith("checks of op 'cube': 1 of 6 failed")
    assert "cube: the first order gradient check failed on case 1 of 8, max abs error" in text
    case = re.search(r"case 1: input 0 \(x\) = (\[.*?\]); params \{\}", text, re.S)
    assert case is not None, text
    # The numbers in the report are the case's and the two gradients at the named element.
    analytic = float(re.search(r"analytic \(reverse mode\): +(\S+)", text).group(1))
    numerical = float(re.search(r"numerical \(central difference\): +(\S+)", text).group(1))
    assert re.search(r"with respect to input 0 \(shape \([\d, ]*\)\) at index", text)
    x = analytic / 2  # the wrong vjp gives 2x for an upstream 1 at the compared element
    assert numerical == pytest.approx(3 * x**2, rel=1e-6)
    with pytest.raises(AssertionError, match=r"checks of op 'cube': 1 of 6 failed"):
        assert_op_correct(op)


def test_a_wrong_declared_edge_and_a_nan_at_an_edge_are_reported(define: Callable[..., Any]) -> None:
    op = define(cube, vjp=right_vjp, edges=[(1.0, 1.0, 2.0)], name="cube_edge")  # d/dx x^3 at 1 is 3
    (edge,) = [r for r in check_user_op(op, examples=2).failures]
    assert edge.check == "edge x = 1.0"
    assert (
        "cube_edge at x = 1.0 (plain backward): the gradient of input 0: got 3.0, declared 2.0"
        in edge.message
    )

    def root(x):
        return np.sqrt(np.abs(x))

    # d sqrt|x| / dx = sign(x) / (2 sqrt|x|) as written with x / |x| gives 0 / 0 = nan at 0.
    bad = define(root, vjp=lambda g, out, x: g * (x / np.abs(x)) / (2 * out), domain=Domain(avoid=(0.0,)))
    failures = {r.check: r.message for r in check_user_op(bad, examples=2, draws=30).failures}
    assert "edge draws (no nan gradient)" in failures, failures
    assert re.search(
        r"root: a finite output gave input 0 the gradient .*nan", failures["edge draws (no nan gradient)"]
    )


def test_a_kinked_op_is_checked_at_its_kink(define: Callable[..., Any]) -> None:
    def ramp(x):
        return np.maximum(x, 0)

    right = define(ramp, vjp=lambda g, out, x: gate(g, x > 0), smooth=False, domain=Domain(avoid=(0.0,)))
    report = check_user_op(right, examples=3)
    assert report.passed, str(report)
    assert "kinks (one-sided quotients)" in [r.check for r in report.results]
    # A gradient of 2 where x = 0 lies outside the one-sided quotients [0, 1].
    wrong = define(
        ramp,
        name="bad_ramp",
        vjp=lambda g, out, x: np.where(x == 0, 2 * g, gate(g, x > 0)),
        smooth=False,
        domain=Domain(avoid=(0.0,)),
    )
    failures = {r.check: r.message for r in check_user_op(wrong, examples=3, draws=40).failures}
    assert "kinks (one-sided quotients)" in failures, failures
    outside = (
        r"bad_ramp: the gradient \S+ of input 0 at element \d+ lies outside the one-sided quotients \[0.0, "
    )
    assert re.search(outside, failures["kinks (one-sided quotients)"])


def test_fixed_shapes_and_parameter_sets_reach_the_checks(define: Callable[..., Any]) -> None:
    seen = []

    def affine(x, w, *, scale=1.0):
        seen.append((x.shape, w.shape, scale))
        return scale * (x @ w)

    op = define(
        affine,
        vjp=(lambda g, out, x, w, *, scale: scale * g @ w.T, lambda g, out, x, w, *, scale: scale * x.T @ g),
        shapes=[[(2, 3), (3, 4)], [(1, 2), (2, 2)]],
        sample_params=[{"scale": 0.5}, {"scale": -2.0}],
    )
    report = check_user_op(op, examples=6, draws=6)
    assert report.passed, str(report)
    assert {(x, w) for x, w, _ in seen} == {((2, 3), (3, 4)), ((1, 2), (2, 2))}
    assert {s for _, _, s in seen} == {0.5, -2.0}
    broken = define(
        affine,
        name="affine_broken",
        vjp=(lambda g, out, x, w, *, scale: g @ w.T, lambda g, out, x, w, *, scale: scale * x.T @ g),
        shapes=[(2, 3), (3, 4)],
        sample_params=[{"scale": -2.0}],
    )
    (failure,) = check_user_op(broken, examples=2, draws=2).failures[:1]
    assert failure.check == "first order" and "input 0 (x) = " in failure.message
    assert "params {'scale': -2.0}" in failure.message


def test_op_checks_give_one_pytest_case_per_check(define: Callable[..., Any]) -> None:
    op = define(cube, vjp=wrong_vjp, edges=[Edge("x = 0", (0.0,), grads=(0.0,), value=0.0)])
    cases = op_checks(op, examples=2, draws=4)
    assert [str(c) for c in cases] == [
        "cube: entry",
        "cube: first order",
        "cube: second order",
        "cube: edge x = 0",
        "cube: edge size-0 inputs (unpinned)",
        "cube: edge draws (no nan gradient)",
    ]
    cases[0].assert_passes()
    with pytest.raises(AssertionError, match="cube: the first order gradient check failed"):
        cases[1].assert_passes()
    assert [c.run().passed for c in cases] == [True, False, True, True, True, True]


# --------------------------------------------------------------------------- forward mode


def right_jvp(t, out, x):
    return t * 3 * x**2


def test_a_jvp_gives_forward_mode_and_is_checked_with_the_rest(define: Callable[..., Any]) -> None:
    op = define(cube, vjp=right_vjp, jvp=right_jvp)
    x = np.array([1.0, -2.0, 0.5])
    out, tangent = autonet.jvp(op, (x,), (np.array([1.0, 0.5, -2.0]),))
    np.testing.assert_allclose(out.data, x**3)
    np.testing.assert_allclose(tangent, 3 * x**2 * np.array([1.0, 0.5, -2.0]))
    forward = autonet.jacobian(op, mode="forward")(x)
    np.testing.assert_allclose(forward, autonet.jacobian(op, mode="reverse")(x))
    report = assert_op_correct(op, examples=3)
    assert "forward mode" in [r.check for r in report.results]


def test_a_wrong_jvp_fails_the_forward_mode_check_readably(define: Callable[..., Any]) -> None:
    op = define(cube, vjp=right_vjp, jvp=lambda t, out, x: t * 2 * x)
    report = check_user_op(op, examples=3)
    assert [r.check for r in report.failures] == ["forward mode"]
    text = str(report)
    assert "cube: the forward mode gradient check failed on case 1 of 3" in text
    assert "analytic (forward mode)" in text


def test_without_a_jvp_forward_mode_names_the_op_and_reverse_mode_works(define: Callable[..., Any]) -> None:
    op = define(cube, vjp=right_vjp)
    assert "forward mode" not in [str(c).split(": ", 1)[1] for c in op_checks(op, examples=1, draws=1)]
    with pytest.raises(Exception, match="cube"):
        autonet.jvp(op, (np.array([1.0]),), (np.array([1.0]),))
    x = Value([2.0])
    op(x).sum().backward()
    assert x.grad.tolist() == [12.0]


def test_a_jvp_per_input_is_required_naming_the_count(define: Callable[..., Any]) -> None:
    with pytest.raises(ValueError, match=r"cube: 2 jvp\(s\) for 1 input\(s\) \(x\)"):
        define(cube, vjp=right_vjp, jvp=(right_jvp, right_jvp))
    with pytest.raises(TypeError, match=r"cube: the jvp for input 'x' must take \(t, out, x\)"):
        define(cube, vjp=right_vjp, jvp=lambda t: t)


# --------------------------------------------------------------------------- the page


def test_the_custom_ops_page_shows_what_its_code_prints(tmp_path: Path) -> None:
    # tests/test_docs.py runs the page's code; here its shown outputs (the report of a wrong vjp
    # among them) are compared with what the code prints, as for the tutorial.
    spec = importlib.util.spec_from_file_location("make_tutorial_for_custom_ops", MAKE_TUTORIAL)
    make_tutorial = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = make_tutorial
    spec.loader.exec_module(make_tutorial)
    page = ROOT / "docs" / "custom_ops.md"
    outputs = make_tutorial.run_blocks(page, tmp_path)
    problems = make_tutorial.differences(page.read_text(encoding="utf-8"), outputs)
    assert not problems, "\n\n".join(problems)
    assert not {"cube", "scaled_tanh", "ramp"} & set(REGISTRY), "the page unregisters its ops at the end"


@pytest.mark.parametrize("size", [7, 5000], ids=["small (np.where)", "large (bitwise)"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gate_keeps_every_bit_where_the_mask_lets_through_and_gives_plus_zero_elsewhere(
    size: int, dtype: type
) -> None:
    rng = np.random.default_rng(size)
    g = rng.standard_normal(size).astype(dtype)
    g[:4] = [np.inf, np.nan, -0.0, -np.inf]
    mask = rng.random(size) < 0.5
    mask[:4] = [False, True, True, True]
    for invert, passes in [(False, mask), (True, ~mask)]:
        out = gate(g, mask, invert=invert)
        assert out.dtype == g.dtype
        # Bit for bit: -0.0 and nan survive where they pass, and blocked elements are +0.0 (an
        # infinite gradient that has no influence is not inf * 0 = nan).
        expected = np.where(passes, g, np.zeros_like(g))
        assert out.view(np.uint8).tobytes() == expected.view(np.uint8).tobytes()
    assert gate(3.0, True, invert=True) == 0.0 and gate(3.0, np.bool_(False), invert=True) == 3.0
