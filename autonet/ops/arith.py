"""Arithmetic: + - * / ** and negation, each forward beside its vjps, its jvps and its edges.

The one convention here that is not plain calculus is pow's, as in PyTorch: an exponent of 0
gives the base a gradient of 0 (a ** 0 = 1 whatever a is, so 0 ** -1 = inf must not make
0 * inf = nan), and a zero base with an exponent >= 0 gives the exponent a gradient of 0.
"""

from __future__ import annotations

import math
import operator

import numpy as np

from .cases import ELEMENTWISE
from .registry import NONZERO, POSITIVE, REAL, Domain, Edge, Op, apply, as_value, gate, register

_EMPTY = np.zeros(0)
_INF, _NAN = math.inf, math.nan


def _scalar_pow(a: float, b: float) -> float:
    result = a**b
    # A negative base with a fractional exponent gives a complex number in Python; numpy says nan.
    return result if type(result) is float else float("nan")


def _real_pow(a, b):
    # Python gives a complex number for a negative float to a fractional power; numpy gives nan.
    result = a**b
    return float("nan") if type(result) is complex else result


add = register(
    Op(
        "add",
        np.add,
        (lambda g, out, a, b: g, lambda g, out, a, b: g),
        (REAL, REAL),
        jvps=(lambda t, out, a, b: t, lambda t, out, a, b: t),
        scalar=operator.add,
        doc="a + b, broadcasting.",
        cases=ELEMENTWISE,
        edges=(
            Edge("a = b = 1e300", (1e300, 1e300), grads=(1.0, 1.0), value=2e300),
            Edge("size-0 a, 0-d b", (_EMPTY, 1.0), grads=(_EMPTY, 0.0), value=_EMPTY),
        ),
        operator=("__add__", "__radd__"),
        numpy={np.add: None},
    )
)

sub = register(
    Op(
        "sub",
        np.subtract,
        (lambda g, out, a, b: g, lambda g, out, a, b: -g),
        (REAL, REAL),
        jvps=(lambda t, out, a, b: t, lambda t, out, a, b: -t),
        scalar=operator.sub,
        doc="a - b, broadcasting.",
        cases=ELEMENTWISE,
        edges=(
            Edge("a = 1e300, b = -1e300", (1e300, -1e300), grads=(1.0, -1.0), value=2e300),
            Edge("size-0 a, 0-d b", (_EMPTY, 1.0), grads=(_EMPTY, 0.0), value=_EMPTY),
        ),
        operator=("__sub__", "__rsub__"),
        numpy={np.subtract: None},
    )
)

mul = register(
    Op(
        "mul",
        np.multiply,
        (lambda g, out, a, b: g * b, lambda g, out, a, b: g * a),
        (REAL, REAL),
        jvps=(lambda t, out, a, b: t * b, lambda t, out, a, b: a * t),
        scalar=operator.mul,
        doc="a * b, broadcasting.",
        cases=ELEMENTWISE,
        edges=(
            Edge("a = 0, b = 1e300", (0.0, 1e300), grads=(1e300, 0.0), value=0.0),
            Edge("a = b = 1e300 (overflow)", (1e300, 1e300), grads=(1e300, 1e300), value=_INF),
            Edge("size-0 a, 0-d b", (_EMPTY, 2.0), grads=(_EMPTY, 0.0), value=_EMPTY),
        ),
        operator=("__mul__", "__rmul__"),
        numpy={np.multiply: None, np.square: lambda x: apply("mul", x, x)},
    )
)

div = register(
    Op(
        "div",
        np.true_divide,
        (lambda g, out, a, b: g / b, lambda g, out, a, b: -g * out / b),
        (REAL, NONZERO),
        jvps=(lambda t, out, a, b: t / b, lambda t, out, a, b: -t * out / b),
        scalar=operator.truediv,
        doc="a / b, broadcasting.",
        cases=ELEMENTWISE,
        edges=(
            Edge(
                "b = 0 (pole)",
                ([1.0, 0.0, -1.0], [0.0, 0.0, 0.0]),
                grads=([_INF, _INF, _INF], [-_INF, _NAN, _INF]),
                value=[_INF, _NAN, -_INF],
            ),
            Edge("b = 1e300", (1.0, 1e300), grads=(1e-300, 0.0), value=1e-300),
            Edge("size-0 a, 0-d b", (_EMPTY, 2.0), grads=(_EMPTY, 0.0), value=_EMPTY),
        ),
        operator=("__truediv__", "__rtruediv__"),
        numpy={np.true_divide: None},
    )
)


def _pow_vjp_base(g, out, a, b):
    # d(a**b)/da = b * a**(b - 1). Where b = 0, a**0 = 1 whatever a is, so the gradient is 0, as
    # in PyTorch: a zero (or nan) base is replaced by 1 there (0 * 0**-1 would be 0 * inf = nan),
    # and an infinite upstream gradient is gated to 0. Any other base and any finite upstream
    # gradient are kept, so that the derivative of this gradient in b (create_graph) is still
    # a**(b - 1) at b = 0, not a gate's 0.
    if type(a) is float and type(b) is float:
        return g * b * _real_pow(a, b - 1) if b != 0 else 0.0
    base = np.where((b == 0) & ((a == 0) | np.isnan(a)), 1, a)
    return gate(g, (b != 0) | np.isfinite(g)) * b * _real_pow(base, b - 1)


def _pow_vjp_exponent(g, out, a, b):
    # d(a**b)/db = a**b * log(a): real for a positive base only. At a zero base with b >= 0 it is
    # 0, as in PyTorch (0**b is flat in b for b > 0); log(1) stands in for log(0) there, so the
    # masked branch never holds -inf (which anomaly mode would flag under create_graph). A nan
    # exponent is not >= 0: its nan passes, as in PyTorch.
    return gate(g * out * np.log(np.where(a == 0, 1, a)), (a != 0) | ~(b >= 0))


power = register(
    Op(
        "pow",
        np.power,
        (_pow_vjp_base, _pow_vjp_exponent),
        (POSITIVE, Domain(-2.0, 2.0)),
        # Element-wise, so the Jacobian is diagonal: each jvp is its vjp's formula on the tangent,
        # with the same conventions at b = 0 and at a zero base.
        jvps=(_pow_vjp_base, _pow_vjp_exponent),
        scalar=_scalar_pow,
        doc="a ** b, broadcasting; the exponent's gradient needs a positive base.",
        cases=ELEMENTWISE,
        edges=(
            Edge(
                "b = 0 (flat in a)",
                ([0.0, 2.0], 0.0),
                grads=([0.0, 0.0], math.log(2)),
                value=[1.0, 1.0],
                flat=(0,),
            ),
            Edge(
                "a = 0, b = 0, 1, 2, 3",
                (0.0, [0.0, 1.0, 2.0, 3.0]),
                grads=(1.0, [0.0, 0.0, 0.0, 0.0]),
                value=[1.0, 0.0, 0.0, 0.0],
            ),
            Edge(
                "a = 0, b > 0 (flat in b)",
                (0.0, [0.5, 2.5]),
                grads=(_INF, [0.0, 0.0]),
                value=[0.0, 0.0],
                flat=(1,),
            ),
            Edge(
                "a = 0, b = -1 (pole)",
                (0.0, -1.0),
                grads=(-_INF, _NAN),
                value=_INF,
                torch=False,
                note="torch gives the exponent -inf (inf * log 0); autonet never takes log 0 (its "
                "result is inf either way)",
            ),
            Edge(
                "a < 0, integer b",
                (-2.0, 2.0),
                grads=(-4.0, _NAN),
                value=4.0,
                note="the exponent's gradient a**b log(a) is not real for a negative base",
            ),
            Edge("a = 0, b = nan: the nan passes", (0.0, _NAN), grads=(_NAN, _NAN), value=_NAN),
            Edge("a = 1e300, b = 2 (overflow)", (1e300, 2.0), grads=(2e300, _INF), value=_INF),
            Edge("size-0 a, 0-d b", (_EMPTY, 2.0), grads=(_EMPTY, 0.0), value=_EMPTY),
        ),
        operator=("__pow__", "__rpow__"),
        numpy={np.power: None},
    )
)

neg = register(
    Op(
        "neg",
        np.negative,
        (lambda g, out, x: -g,),
        (REAL,),
        jvps=(lambda t, out, x: -t,),
        scalar=operator.neg,
        doc="-x.",
        cases=ELEMENTWISE,
        edges=(
            Edge("x = 1e300", (1e300,), grads=(-1.0,), value=-1e300),
            Edge("size-0 input", (_EMPTY,), grads=(_EMPTY,), value=_EMPTY),
        ),
        operator=("__neg__",),
        numpy={np.negative: None, np.positive: as_value},
    )
)
