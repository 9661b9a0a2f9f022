"""Arithmetic: + - * / ** and negation, each forward beside its vjps."""

from __future__ import annotations

import operator

import numpy as np

from .registry import NONZERO, POSITIVE, REAL, Domain, Op, register


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
        scalar=operator.add,
        doc="a + b, broadcasting.",
    )
)

sub = register(
    Op(
        "sub",
        np.subtract,
        (lambda g, out, a, b: g, lambda g, out, a, b: -g),
        (REAL, REAL),
        scalar=operator.sub,
        doc="a - b, broadcasting.",
    )
)

mul = register(
    Op(
        "mul",
        np.multiply,
        (lambda g, out, a, b: g * b, lambda g, out, a, b: g * a),
        (REAL, REAL),
        scalar=operator.mul,
        doc="a * b, broadcasting.",
    )
)

div = register(
    Op(
        "div",
        np.true_divide,
        (lambda g, out, a, b: g / b, lambda g, out, a, b: -g * out / b),
        (REAL, NONZERO),
        scalar=operator.truediv,
        doc="a / b, broadcasting.",
    )
)

power = register(
    Op(
        "pow",
        np.power,
        (
            lambda g, out, a, b: g * b * _real_pow(a, b - 1),
            # d(a**b)/db = a**b * log(a): defined for a positive base only. At a zero base it is
            # 0 (0**b is flat in b for b > 0), as in PyTorch, rather than 0 * -inf = nan.
            lambda g, out, a, b: g * out * np.log(np.where(a == 0, 1, a)),
        ),
        (POSITIVE, Domain(-2.0, 2.0)),
        scalar=_scalar_pow,
        doc="a ** b, broadcasting; the exponent's gradient needs a positive base.",
    )
)

neg = register(
    Op(
        "neg",
        np.negative,
        (lambda g, out, x: -g,),
        (REAL,),
        scalar=operator.neg,
        doc="-x.",
    )
)
