"""Element-wise functions, each forward beside its vjp.

Gradients at kinks are chosen once and documented here (the same choice as PyTorch):
relu'(0) = 0, abs'(0) = 0, leaky_relu'(0) = negative_slope, clip passes the gradient at its
bounds, and where maximum/minimum tie, each input gets half of the gradient.
"""

from __future__ import annotations

import math

import numpy as np

from .registry import AWAY_FROM_ZERO, POSITIVE, REAL, Domain, Op, register

_SQRT_PI = math.sqrt(math.pi)


def _scalar_sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    # exp(-|x|) never overflows; the two branches are the same function rewritten.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)


def _scalar_softplus(x: float) -> float:
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def _erf(x: np.ndarray) -> np.ndarray:
    # numpy has no erf; math.erf is exact to double precision, and gelu is not on a hot path.
    flat = np.fromiter(map(math.erf, np.asarray(x, dtype=np.float64).ravel().tolist()), np.float64)
    return flat.reshape(np.shape(x)).astype(np.result_type(x, np.float32), copy=False)


exp = register(
    Op(
        "exp",
        np.exp,
        (lambda g, out, x: g * out,),
        (REAL,),
        scalar=math.exp,
        doc="e ** x.",
    )
)

log = register(
    Op(
        "log",
        np.log,
        (lambda g, out, x: g / x,),
        (POSITIVE,),
        scalar=math.log,
        doc="Natural logarithm.",
    )
)

sqrt = register(
    Op(
        "sqrt",
        np.sqrt,
        (lambda g, out, x: g * 0.5 / out,),
        (POSITIVE,),
        scalar=math.sqrt,
        doc="Square root; its gradient at 0 is infinite.",
    )
)

abs = register(  # noqa: A001 - the op is called abs, like numpy's
    Op(
        "abs",
        np.abs,
        (lambda g, out, x: g * np.sign(x),),
        (AWAY_FROM_ZERO,),
        scalar=math.fabs,
        smooth=False,
        doc="|x|; gradient sign(x), 0 at 0.",
    )
)

tanh = register(
    Op(
        "tanh",
        np.tanh,
        (lambda g, out, x: g * (1 - out * out),),
        (REAL,),
        scalar=math.tanh,
        doc="Hyperbolic tangent.",
    )
)

sigmoid = register(
    Op(
        "sigmoid",
        _sigmoid,
        (lambda g, out, x: g * out * (1 - out),),
        (REAL,),
        scalar=_scalar_sigmoid,
        doc="1 / (1 + e ** -x), computed without overflow.",
    )
)

relu = register(
    Op(
        "relu",
        lambda x: np.maximum(x, 0),
        (lambda g, out, x: g * (x > 0),),
        (AWAY_FROM_ZERO,),
        scalar=lambda x: x if x > 0 or x != x else 0.0,  # nan stays nan, as in numpy
        smooth=False,
        doc="max(x, 0); gradient 0 at 0.",
    )
)

leaky_relu = register(
    Op(
        "leaky_relu",
        lambda x, negative_slope=0.01: np.where(x > 0, x, x * negative_slope),
        (lambda g, out, x, negative_slope=0.01: np.where(x > 0, g, g * negative_slope),),
        (AWAY_FROM_ZERO,),
        scalar=lambda x, negative_slope=0.01: x if x > 0 else x * negative_slope,
        smooth=False,
        doc="x for x > 0, negative_slope * x otherwise; gradient negative_slope at 0.",
    )
)

softplus = register(
    Op(
        "softplus",
        lambda x: np.logaddexp(0, x),
        # sigmoid(x) = exp(x - softplus(x)); the exponent is never positive, so it cannot overflow.
        (lambda g, out, x: g * np.exp(x - out),),
        (REAL,),
        scalar=_scalar_softplus,
        doc="log(1 + e ** x), computed without overflow.",
    )
)

erf = register(
    Op(
        "erf",
        _erf,
        (lambda g, out, x: g * (2 / _SQRT_PI) * np.exp(-x * x),),
        (REAL,),
        scalar=math.erf,
        doc="The error function (used by the exact gelu).",
    )
)

sin = register(Op("sin", np.sin, (lambda g, out, x: g * np.cos(x),), (REAL,), scalar=math.sin, doc="Sine."))

cos = register(
    Op("cos", np.cos, (lambda g, out, x: -g * np.sin(x),), (REAL,), scalar=math.cos, doc="Cosine.")
)

clip = register(
    Op(
        "clip",
        lambda x, low=None, high=None: np.clip(x, low, high),
        # The output equals the input exactly where the gradient passes: inside and at the bounds.
        (lambda g, out, x, low=None, high=None: g * (out == x),),
        (Domain(-3.0, 3.0, avoid=(-1.0, 1.0)),),
        scalar=lambda x, low=None, high=None: float(np.clip(x, low, high)),
        kind="clip",  # takes low/high: the bounds are the avoided points of its domain
        smooth=False,
        doc="Limit x to [low, high]; the gradient passes inside and at the bounds, 0 outside.",
    )
)


def _tie_share(g, a, b):
    # Where a and b tie, each gets half of the gradient, so the two halves add up to g.
    return np.where(a == b, g * 0.5, g * (a > b))


maximum = register(
    Op(
        "maximum",
        np.maximum,
        (lambda g, out, a, b: _tie_share(g, a, b), lambda g, out, a, b: _tie_share(g, b, a)),
        (REAL, REAL),
        scalar=lambda a, b: a if a >= b or a != a else b,  # nan wins, as in numpy
        smooth=False,
        distinct=True,
        doc="Element-wise max(a, b), broadcasting; ties split the gradient evenly.",
    )
)

minimum = register(
    Op(
        "minimum",
        np.minimum,
        (lambda g, out, a, b: _tie_share(g, b, a), lambda g, out, a, b: _tie_share(g, a, b)),
        (REAL, REAL),
        scalar=lambda a, b: a if a <= b or a != a else b,
        smooth=False,
        distinct=True,
        doc="Element-wise min(a, b), broadcasting; ties split the gradient evenly.",
    )
)

where = register(
    Op(
        "where",
        lambda a, b, condition: np.where(condition, a, b),
        (
            lambda g, out, a, b, condition: np.where(condition, g, 0 * g),
            lambda g, out, a, b, condition: np.where(condition, 0 * g, g),
        ),
        (REAL, REAL),
        kind="where",
        doc="a where condition holds, b elsewhere (condition is a boolean array, not differentiated).",
    )
)
