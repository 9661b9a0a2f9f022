"""Element-wise functions, each forward beside its vjp, its jvp and its edges.

An element-wise op's Jacobian is diagonal, so its jvp is its vjp's formula applied to the tangent
(``t`` for ``g``), the kink conventions and gates included: forward and reverse mode agree at
every edge.

Gradients at kinks are chosen once and declared in each entry's ``edges`` (the same choice as
PyTorch): relu'(0) = 0, abs'(0) = 0, leaky_relu'(0) = negative_slope, clip passes the gradient at
its bounds, and where maximum/minimum tie, each input gets half of the gradient. Where the output
does not depend on an input (relu below 0, clip past a bound, the losing side of maximum, the
branch that where does not pick), the vjp ``gate``s the gradient: exactly 0 there, even for an
infinite upstream gradient.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .cases import CLIP, ELEMENTWISE, WHERE
from .numpy_api import refuse_options
from .registry import (
    AWAY_FROM_ZERO,
    POSITIVE,
    REAL,
    Domain,
    Edge,
    Op,
    apply,
    as_value,
    gate,
    is_value,
    register,
)

_SQRT_PI = math.sqrt(math.pi)
_EMPTY = np.zeros(0)
_HUGE = [1e300, -1e300]

# Every one-input element-wise op maps an empty array to an empty array, gradient included.
_SIZE_0 = Edge("size-0 input", (_EMPTY,), grads=(_EMPTY,), value=_EMPTY)


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
        jvps=(lambda t, out, x: t * out,),
        scalar=math.exp,
        doc="e ** x.",
        cases=ELEMENTWISE,
        edges=(
            Edge("x = 1e300 (overflow)", (1e300,), grads=(math.inf,), value=math.inf),
            Edge("x = -1e300 (underflow)", (-1e300,), grads=(0.0,), value=0.0),
            _SIZE_0,
        ),
        method="exp",
        example=">>> from autonet import Value\n>>> Value(0.0).exp().item()\n1.0",
        numpy={np.exp: None},
    )
)

log = register(
    Op(
        "log",
        np.log,
        (lambda g, out, x: g / x,),
        (POSITIVE,),
        jvps=(lambda t, out, x: t / x,),
        scalar=math.log,
        doc="Natural logarithm.",
        cases=ELEMENTWISE,
        edges=(
            Edge(
                "x = 0 (pole), x < 0", ([0.0, -1.0],), grads=([math.inf, -1.0],), value=[-math.inf, math.nan]
            ),
            Edge("x = 1e300", (1e300,), grads=(1e-300,), value=math.log(1e300)),
            _SIZE_0,
        ),
        method="log",
        example=">>> from autonet import Value\n>>> Value(1.0).log().item()\n0.0",
        numpy={np.log: None},
    )
)

log1p = register(
    Op(
        "log1p",
        np.log1p,
        (lambda g, out, x: g / (1 + x),),
        (Domain(-0.8, 3.0, bounds=(-1.0, math.inf)),),
        jvps=(lambda t, out, x: t / (1 + x),),
        scalar=math.log1p,
        doc="log(1 + x), exact for tiny x.",
        cases=ELEMENTWISE,
        edges=(
            Edge(
                "x = -1 (pole), x < -1",
                ([-1.0, -2.0],),
                grads=([math.inf, -1.0],),
                value=[-math.inf, math.nan],
            ),
            Edge("x = 1e-300", (1e-300,), grads=(1.0,), value=1e-300),
            Edge("x = 1e300", (1e300,), grads=(1e-300,), value=math.log(1e300)),
            _SIZE_0,
        ),
        method="log1p",
        example=">>> from autonet import Value\n>>> Value(0.0).log1p().item()\n0.0",
        numpy={np.log1p: None},
    )
)

expm1 = register(
    Op(
        "expm1",
        np.expm1,
        (lambda g, out, x: g * (out + 1),),
        (REAL,),
        jvps=(lambda t, out, x: t * (out + 1),),
        scalar=math.expm1,
        doc="e ** x - 1, exact for tiny x.",
        cases=ELEMENTWISE,
        edges=(
            Edge("x = 1e300 (overflow)", (1e300,), grads=(math.inf,), value=math.inf),
            Edge("x = -1e300", (-1e300,), grads=(0.0,), value=-1.0),
            Edge("x = 1e-300", (1e-300,), grads=(1.0,), value=1e-300),
            _SIZE_0,
        ),
        method="expm1",
        example=">>> from autonet import Value\n>>> Value(0.0).expm1().item()\n0.0",
        numpy={np.expm1: None},
    )
)

sqrt = register(
    Op(
        "sqrt",
        np.sqrt,
        (lambda g, out, x: g * 0.5 / out,),
        (POSITIVE,),
        jvps=(lambda t, out, x: t * 0.5 / out,),
        scalar=math.sqrt,
        doc="Square root; its gradient at 0 is infinite.",
        cases=ELEMENTWISE,
        edges=(
            Edge("x = 0, x < 0", ([0.0, -1.0],), grads=([math.inf, math.nan],), value=[0.0, math.nan]),
            Edge("x = 1e300", (1e300,), grads=(0.5e-150,), value=1e150),
            _SIZE_0,
        ),
        method="sqrt",
        example=">>> from autonet import Value\n>>> Value(4.0).sqrt().item()\n2.0",
        numpy={np.sqrt: None},
    )
)


def _signed(g, x):
    # g * sign(x) with exactly 0 where x is 0 or nan: numpy's sign of nan is nan, PyTorch's is 0.
    return gate(g, x > 0) - gate(g, x < 0)


abs = register(  # noqa: A001 - the op is called abs, like numpy's
    Op(
        "abs",
        np.abs,
        (lambda g, out, x: _signed(g, x),),
        (AWAY_FROM_ZERO,),
        jvps=(lambda t, out, x: _signed(t, x),),
        scalar=math.fabs,
        smooth=False,
        doc="|x|; gradient sign(x), 0 at 0 and at nan (as PyTorch's sign).",
        cases=ELEMENTWISE,
        edges=(
            Edge("x = 0 (kink)", (0.0,), grads=(0.0,), value=0.0),
            Edge("x = +-1e300", (_HUGE,), grads=([1.0, -1.0],), value=[1e300, 1e300]),
            Edge("x = nan", ([math.nan],), grads=([0.0],), value=[math.nan]),
            _SIZE_0,
        ),
        method="abs",
        example=">>> from autonet import Value\n>>> Value(-2.0).abs().item()\n2.0",
        numpy={np.absolute: None},
        operator=("__abs__",),
    )
)

tanh = register(
    Op(
        "tanh",
        np.tanh,
        (lambda g, out, x: g * (1 - out * out),),
        (REAL,),
        jvps=(lambda t, out, x: t * (1 - out * out),),
        scalar=math.tanh,
        doc="Hyperbolic tangent.",
        cases=ELEMENTWISE,
        edges=(
            Edge("x = +-1e300 (saturation)", (_HUGE,), grads=([0.0, 0.0],), value=[1.0, -1.0]),
            Edge("x = 0", (0.0,), grads=(1.0,), value=0.0),
            _SIZE_0,
        ),
        method="tanh",
        example=">>> from autonet import Value\n>>> Value(0.0).tanh().item()\n0.0",
        numpy={np.tanh: None},
    )
)

sigmoid = register(
    Op(
        "sigmoid",
        _sigmoid,
        (lambda g, out, x: g * out * (1 - out),),
        (REAL,),
        jvps=(lambda t, out, x: t * out * (1 - out),),
        scalar=_scalar_sigmoid,
        doc="1 / (1 + e ** -x), computed without overflow.",
        cases=ELEMENTWISE,
        edges=(
            Edge("x = +-1e300 (saturation)", (_HUGE,), grads=([0.0, 0.0],), value=[1.0, 0.0]),
            Edge("x = 0", (0.0,), grads=(0.25,), value=0.5),
            _SIZE_0,
        ),
        method="sigmoid",
        example=">>> from autonet import Value\n>>> Value(0.0).sigmoid().item()\n0.5",
    )
)

relu = register(
    Op(
        "relu",
        lambda x: np.maximum(x, 0),
        # Not x > 0: at a nan the gradient passes, as in PyTorch.
        (lambda g, out, x: gate(g, x <= 0, invert=True),),
        (AWAY_FROM_ZERO,),
        jvps=(lambda t, out, x: gate(t, x <= 0, invert=True),),
        scalar=lambda x: x if x > 0 or x != x else 0.0,  # nan stays nan, as in numpy
        smooth=False,
        doc="max(x, 0); gradient 0 at 0, 1 at nan (as PyTorch).",
        cases=ELEMENTWISE,
        edges=(
            Edge("x = 0 (kink)", (0.0,), grads=(0.0,), value=0.0),
            Edge("x < 0 (flat)", ([-1.0, -1e300],), grads=([0.0, 0.0],), value=[0.0, 0.0], flat=(0,)),
            Edge("x = 1e300", (1e300,), grads=(1.0,), value=1e300),
            Edge("x = nan: the gradient passes", ([math.nan],), grads=([1.0],), value=[math.nan]),
            _SIZE_0,
        ),
        method="relu",
        example=">>> from autonet import Value\n>>> Value(-1.0).relu().item()\n0.0",
    )
)


def _leaky_relu_args(x, negative_slope=0.01):
    if not isinstance(negative_slope, (int, float, np.integer, np.floating)):
        raise TypeError(f"leaky_relu: negative_slope must be a number, got {type(negative_slope).__name__}")
    return (x,), {"negative_slope": float(negative_slope)}


leaky_relu = register(
    Op(
        "leaky_relu",
        lambda x, negative_slope=0.01: np.where(x > 0, x, x * negative_slope),
        # A slope of 0 makes this relu: flat below 0, so the gradient there is 0 even for inf.
        (
            lambda g, out, x, negative_slope=0.01: np.where(
                x > 0, g, g * negative_slope if negative_slope else 0
            ),
        ),
        (AWAY_FROM_ZERO,),
        jvps=(
            lambda t, out, x, negative_slope=0.01: np.where(
                x > 0, t, t * negative_slope if negative_slope else 0
            ),
        ),
        scalar=lambda x, negative_slope=0.01: x if x > 0 else x * negative_slope,
        smooth=False,
        doc="x for x > 0, negative_slope * x otherwise; gradient negative_slope at 0.",
        cases=ELEMENTWISE,
        edges=(
            Edge("x = 0 (kink)", (0.0,), grads=(0.01,), value=0.0),
            Edge("x = -1e300", ([-1e300],), grads=([0.01],), value=[-1e298]),
            Edge(
                "x < 0, negative_slope = 0 (flat)",
                ([-1.0],),
                grads=([0.0],),
                params={"negative_slope": 0.0},
                value=[0.0],
                flat=(0,),
                note="torch gives nan for an infinite upstream gradient here; autonet 0, as relu",
            ),
            _SIZE_0,
        ),
        prepare=_leaky_relu_args,
        method="leaky_relu",
        example=">>> from autonet import Value\n>>> Value(-1.0).leaky_relu(0.1).item()\n-0.1",
    )
)


def _sigmoid_of(x):
    # The sigmoid op for Values (under create_graph), the stable numpy form for data: what the
    # vjps of softplus and of the logit losses need (1 at x = inf, where exp(x - softplus(x))
    # would be exp(inf - inf) = nan).
    return apply(sigmoid, x) if is_value(x) else _sigmoid(np.asarray(x))


softplus = register(
    Op(
        "softplus",
        lambda x: np.logaddexp(0, x),
        (lambda g, out, x: g * _sigmoid_of(x),),
        (REAL,),
        jvps=(lambda t, out, x: t * _sigmoid_of(x),),
        scalar=_scalar_softplus,
        doc="log(1 + e ** x), computed without overflow.",
        cases=ELEMENTWISE,
        edges=(
            Edge("x = +-1e300", (_HUGE,), grads=([1.0, 0.0],), value=[1e300, 0.0]),
            Edge("x = +-inf", ([math.inf, -math.inf],), grads=([1.0, 0.0],), value=[math.inf, 0.0]),
            Edge("x = 0", (0.0,), grads=(0.5,), value=math.log(2)),
            _SIZE_0,
        ),
        method="softplus",
        example=">>> from autonet import Value\n>>> round(Value(0.0).softplus().item(), 4)\n0.6931",
    )
)

erf = register(
    Op(
        "erf",
        _erf,
        (lambda g, out, x: g * (2 / _SQRT_PI) * np.exp(-x * x),),
        (REAL,),
        jvps=(lambda t, out, x: t * (2 / _SQRT_PI) * np.exp(-x * x),),
        scalar=math.erf,
        doc="The error function (used by the exact gelu).",
        cases=ELEMENTWISE,
        edges=(
            Edge("x = +-1e300 (saturation)", (_HUGE,), grads=([0.0, 0.0],), value=[1.0, -1.0]),
            Edge("x = 0", (0.0,), grads=(2 / _SQRT_PI,), value=0.0),
            _SIZE_0,
        ),
        method="erf",
        example=">>> from autonet import Value\n>>> Value(0.0).erf().item()\n0.0",
    )
)

sin = register(
    Op(
        "sin",
        np.sin,
        (lambda g, out, x: g * np.cos(x),),
        (REAL,),
        jvps=(lambda t, out, x: t * np.cos(x),),
        scalar=math.sin,
        doc="Sine.",
        cases=ELEMENTWISE,
        edges=(
            Edge("x = 1e300", (1e300,), grads=(math.cos(1e300),), value=math.sin(1e300)),
            _SIZE_0,
        ),
        method="sin",
        example=">>> from autonet import Value\n>>> Value(0.0).sin().item()\n0.0",
        numpy={np.sin: None},
    )
)

cos = register(
    Op(
        "cos",
        np.cos,
        (lambda g, out, x: -g * np.sin(x),),
        (REAL,),
        jvps=(lambda t, out, x: -t * np.sin(x),),
        scalar=math.cos,
        doc="Cosine.",
        cases=ELEMENTWISE,
        edges=(
            Edge("x = 1e300", (1e300,), grads=(-math.sin(1e300),), value=math.cos(1e300)),
            _SIZE_0,
        ),
        method="cos",
        example=">>> from autonet import Value\n>>> Value(0.0).cos().item()\n1.0",
        numpy={np.cos: None},
    )
)


def _within(x, low, high):
    # Where clip passes the gradient: inside [low, high] and at the bounds (as torch.clamp); nowhere
    # when low > high, where numpy's clip gives high everywhere.
    inside = np.ones(np.broadcast_shapes(*(np.shape(a) for a in (x, low, high) if a is not None)), dtype=bool)
    if low is not None:
        inside &= np.asarray(x >= low)
    if high is not None:
        inside &= np.asarray(x <= high)
    return inside


def _bound(b, x):
    if b is None:
        return None
    try:
        data = as_value(b, x).data  # an integer bound takes x's float dtype
    except TypeError as error:
        raise TypeError(f"clip: a bound: {error}") from None
    return float(data) if data.ndim == 0 and data.dtype == np.float64 else data


def _clamped(x, low, high):
    """x limited by bounds that are Values needing a gradient, as torch.clamp: each element's
    gradient goes to x inside [low, high] and at the bounds, else to the bound that it takes."""
    if low is not None:
        x = apply("where", low, x, condition=np.asarray(x < low))
    if high is not None:
        x = apply("where", high, x, condition=np.asarray(x > high))
    return x


def _differentiable(bound) -> bool:
    return is_value(bound) and bound.requires_grad


def _clip_args(x, low=None, high=None):
    # Constant bounds are parameters of the op; bounds that need a gradient take the where op.
    if low is None and high is None:
        raise ValueError("clip: give low, high or both")
    if _differentiable(low) or _differentiable(high):
        return _clamped(x, low, high)
    return (x,), {"low": _bound(low, x), "high": _bound(high, x)}


def _numpy_clip(a, a_min=None, a_max=None, out=None, **options):
    # numpy 2 also names the bounds min= and max=.
    low, high = options.pop("min", a_min), options.pop("max", a_max)
    refuse_options("clip", out=out, **options)
    return apply("clip", a, low, high)


clip = register(
    Op(
        "clip",
        lambda x, low=None, high=None: np.clip(x, low, high),
        (lambda g, out, x, low=None, high=None: gate(g, _within(x, low, high)),),
        (Domain(-3.0, 3.0, avoid=(-1.0, 1.0)),),
        jvps=(lambda t, out, x, low=None, high=None: gate(t, _within(x, low, high)),),
        scalar=lambda x, low=None, high=None: float(np.clip(x, low, high)),
        cases=CLIP,  # takes low/high: the bounds are the avoided points of its domain
        smooth=False,
        doc=(
            "Limit x to [low, high]; the gradient passes inside and at the bounds, 0 outside. "
            "Bounds that are Values requiring grad get it where they clip, as with torch.clamp."
        ),
        edges=(
            Edge(
                "x at the bounds",
                ([-1.0, 1.0],),
                grads=([1.0, 1.0],),
                params={"low": -1.0, "high": 1.0},
                value=[-1.0, 1.0],
            ),
            Edge(
                "low > high: high everywhere",
                ([0.5, 1.0, 0.0],),
                grads=([0.0, 0.0, 0.0],),
                params={"low": 1.0, "high": 0.0},
                value=[0.0, 0.0, 0.0],
                flat=(0,),
            ),
            Edge(
                "x past the bounds (flat)",
                ([-2.0, 2.0],),
                grads=([0.0, 0.0],),
                params={"low": -1.0, "high": 1.0},
                value=[-1.0, 1.0],
                flat=(0,),
            ),
            Edge(
                "x = +-1e300, low only",
                (_HUGE,),
                grads=([1.0, 0.0],),
                params={"low": 0.0},
                value=[1e300, 0.0],
                flat=(0,),
            ),
            Edge("0-d x past high", (5.0,), grads=(0.0,), params={"high": 1.0}, value=1.0, flat=(0,)),
            Edge("size-0 input", (_EMPTY,), grads=(_EMPTY,), params={"low": 0.0}, value=_EMPTY),
        ),
        prepare=_clip_args,
        method="clip",
        numpy={np.clip: _numpy_clip},
        example=">>> from autonet import Value\n>>> Value(5.0).clip(0, 1).item()\n1.0",
    )
)


def _tie_share(g, a, b):
    # Where a and b tie, each gets half of the gradient, so the two halves add up to g; where a
    # loses, it gets exactly 0 (gate), so an infinite g cannot become inf * 0 = nan there. Beside
    # a nan neither loses, and both get g, as in PyTorch.
    return np.where(a == b, g * 0.5, gate(g, a < b, invert=True))


def _pair_edges(name: str, wins: float, loses: float) -> tuple[Edge, ...]:
    """maximum and minimum mirror each other: ``wins`` is the value that op picks over ``loses``."""
    return (
        Edge("a = b (tie)", (1.0, 1.0), grads=(0.5, 0.5), value=1.0),
        Edge("a = b, b broadcast", ([1.0, 1.0], 1.0), grads=([0.5, 0.5], 1.0), value=[1.0, 1.0]),
        Edge(
            f"a loses to b (flat in a): {name}({loses}, {wins})",
            ([loses], [wins]),
            grads=([0.0], [1.0]),
            value=[wins],
            flat=(0,),
        ),
        Edge(
            "a = +-1e300 against b = 0",
            (_HUGE, 0.0),
            grads=([1.0, 0.0] if name == "maximum" else [0.0, 1.0], 1.0),
            value=[1e300, 0.0] if name == "maximum" else [0.0, -1e300],
            flat=(0,),
        ),
        Edge(
            "a nan on either side: both get the gradient",
            ([math.nan, 1.0], [0.0, math.nan]),
            grads=([1.0, 1.0], [1.0, 1.0]),
            value=[math.nan, math.nan],
            note="PyTorch's convention; the max reduction gives it to the nan alone",
        ),
        Edge("size-0 a, 0-d b", (_EMPTY, 1.0), grads=(_EMPTY, 0.0), value=_EMPTY),
    )


maximum = register(
    Op(
        "maximum",
        np.maximum,
        (lambda g, out, a, b: _tie_share(g, a, b), lambda g, out, a, b: _tie_share(g, b, a)),
        (REAL, REAL),
        jvps=(lambda t, out, a, b: _tie_share(t, a, b), lambda t, out, a, b: _tie_share(t, b, a)),
        scalar=lambda a, b: a if a >= b or a != a else b,  # nan wins, as in numpy
        smooth=False,
        distinct=True,
        doc="Element-wise max(a, b), broadcasting; ties split the gradient evenly.",
        cases=ELEMENTWISE,
        edges=_pair_edges("maximum", 1.0, -1.0),
        method="maximum",
        function="maximum",
        numpy={np.maximum: None},
        example=">>> from autonet import maximum\n>>> maximum(1.0, 2.0).item()\n2.0",
    )
)

minimum = register(
    Op(
        "minimum",
        np.minimum,
        (lambda g, out, a, b: _tie_share(g, b, a), lambda g, out, a, b: _tie_share(g, a, b)),
        (REAL, REAL),
        jvps=(lambda t, out, a, b: _tie_share(t, b, a), lambda t, out, a, b: _tie_share(t, a, b)),
        scalar=lambda a, b: a if a <= b or a != a else b,
        smooth=False,
        distinct=True,
        doc="Element-wise min(a, b), broadcasting; ties split the gradient evenly.",
        cases=ELEMENTWISE,
        edges=_pair_edges("minimum", -1.0, 1.0),
        method="minimum",
        function="minimum",
        numpy={np.minimum: None},
        example=">>> from autonet import minimum\n>>> minimum(1.0, 2.0).item()\n1.0",
    )
)


def _where_args(a, b, condition):
    condition = np.asarray(condition.data if is_value(condition) else condition)
    if condition.dtype != bool:
        if condition.dtype.kind not in "iuf":
            raise TypeError(f"where: condition must hold booleans (or numbers), got dtype {condition.dtype}")
        condition = condition.astype(bool)
    return (a, b), {"condition": condition}


def where(condition: Any, a: Any, b: Any) -> Any:
    """``a`` where ``condition`` holds, else ``b`` (broadcasting); the condition is not differentiated.

    >>> from autonet import Value, where
    >>> x = Value([-1.0, 2.0])
    >>> where(x > 0, x, 0.0).tolist()
    [0.0, 2.0]
    """
    return apply("where", a, b, condition=condition)


def _numpy_where(condition, *branches):
    # np.where(condition) alone gives the indices where it holds: integers, no gradient.
    if not branches:
        return np.where(condition.data if is_value(condition) else condition)
    return where(condition, *branches)


where_op = register(
    Op(
        "where",
        lambda a, b, condition: np.where(condition, a, b),
        (
            lambda g, out, a, b, condition: gate(g, condition),
            lambda g, out, a, b, condition: gate(g, condition, invert=True),
        ),
        (REAL, REAL),
        jvps=(
            lambda t, out, a, b, condition: gate(t, condition),
            lambda t, out, a, b, condition: gate(t, condition, invert=True),
        ),
        cases=WHERE,
        doc="a where condition holds, b elsewhere (condition is a boolean array, not differentiated).",
        edges=(
            Edge(
                "the branch not picked (flat)",
                ([1.0, 2.0], [3.0, 4.0]),
                grads=([1.0, 0.0], [0.0, 1.0]),
                params={"condition": np.array([True, False])},
                value=[1.0, 4.0],
                flat=(0, 1),
            ),
            Edge(
                "0-d inputs",
                (1.0, 2.0),
                grads=(1.0, 0.0),
                params={"condition": np.array(True)},
                value=1.0,
                flat=(1,),
            ),
            Edge(
                "size-0 condition, 0-d b",
                (_EMPTY, 2.0),
                grads=(_EMPTY, 0.0),
                params={"condition": np.zeros(0, dtype=bool)},
                value=_EMPTY,
            ),
        ),
        prepare=_where_args,
        function=where,
        numpy={np.where: _numpy_where},
    )
)
