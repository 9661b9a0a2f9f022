"""Every registered op, at fixed inputs, against values and derivatives known by hand.

``KNOWN`` holds at least one case per registry entry; ``test_op_has_a_known_case`` is
parametrised over the registry itself, so registering an op without adding a case here fails.
The kink choices (the same as PyTorch's) are pinned here too: relu'(0) = 0, abs'(0) = 0,
leaky_relu'(0) = negative_slope, clip passes the gradient at its bounds, and ties of
maximum/minimum/max/min split the gradient evenly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

import autonet
from autonet import Value, call_op
from autonet.ops import REGISTRY

LN2, LN3, E = math.log(2.0), math.log(3.0), math.e
PHI_1 = 0.5 * (1 + math.erf(1 / math.sqrt(2)))  # standard normal CDF at 1
DENSITY_1 = math.exp(-0.5) / math.sqrt(2 * math.pi)  # standard normal density at 1
SIGMOID_7 = 0.9990889488055994


def _gelu_tanh_and_slope(x: float) -> tuple[float, float]:
    c = math.sqrt(2 / math.pi)
    t = math.tanh(c * (x + 0.044715 * x**3))
    return 0.5 * x * (1 + t), 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * 0.044715 * x * x)


@dataclass
class Case:
    """Inputs (and params) of one call, the expected output, and the expected gradient of each
    input for the cotangent ``seed`` (all ones when not given)."""

    label: str
    inputs: tuple[Any, ...]
    output: Any
    grads: tuple[Any, ...]
    params: dict[str, Any] = field(default_factory=dict)
    seed: Any = None


GELU_TANH_1, GELU_TANH_SLOPE_1 = _gelu_tanh_and_slope(1.0)
CONDITION = np.array([True, False, True])
MATRIX_A = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
MATRIX_B = np.array([[1.0, -1.0], [2.0, 0.0], [0.0, 3.0]])
GRID_3X3 = np.arange(9.0).reshape(1, 1, 3, 3)

KNOWN: dict[str, list[Case]] = {
    "add": [Case("vectors", ([1.0, 2.0], [3.0, 5.0]), [4.0, 7.0], ([1.0, 1.0], [1.0, 1.0]))],
    "sub": [Case("vectors", ([1.0, 2.0], [3.0, 5.0]), [-2.0, -3.0], ([1.0, 1.0], [-1.0, -1.0]))],
    "mul": [Case("vectors", ([2.0, -3.0], [4.0, 5.0]), [8.0, -15.0], ([4.0, 5.0], [2.0, -3.0]))],
    "div": [
        # d(a/b)/da = 1/b, d(a/b)/db = -a/b**2
        Case("both inputs", (6.0, 3.0), 2.0, (1 / 3, -6 / 9)),
        Case("negative divisor", ([1.0], [-2.0]), [-0.5], ([-0.5], [-0.25])),
    ],
    "pow": [
        # d(a**b)/da = b*a**(b-1), d(a**b)/db = a**b * ln(a)
        Case("both inputs", (2.0, 3.0), 8.0, (12.0, 8 * LN2)),
        Case("square root exponent", ([4.0], [0.5]), [2.0], ([0.25], [2 * math.log(4.0)])),
        Case("negative exponent", ([2.0], [-1.0]), [0.5], ([-0.25], [0.5 * LN2])),
        # 0**b is flat in b for b > 0: slope 0 for the exponent (as PyTorch), not 0 * log(0) = nan
        Case("zero base", ([0.0, 0.0], [2.0, 0.5]), [0.0, 0.0], ([0.0, np.inf], [0.0, 0.0])),
    ],
    "neg": [Case("vector", ([1.0, -2.0],), [-1.0, 2.0], ([-1.0, -1.0],))],
    "exp": [Case("exp is its own slope", ([0.0, 1.0, LN2],), [1.0, E, 2.0], ([1.0, E, 2.0],))],
    "log": [Case("slope 1/x", ([1.0, 2.0, E],), [0.0, LN2, 1.0], ([1.0, 0.5, 1 / E],))],
    "log1p": [Case("slope 1/(1 + x)", ([0.0, 1.0, E - 1],), [0.0, LN2, 1.0], ([1.0, 0.5, 1 / E],))],
    "expm1": [Case("slope e**x", ([0.0, LN2, 1.0],), [0.0, 1.0, E - 1], ([1.0, 2.0, E],))],
    "sqrt": [Case("slope 1/(2 sqrt x)", ([4.0, 9.0],), [2.0, 3.0], ([0.25, 1 / 6],))],
    "abs": [Case("sign, 0 at 0", ([-2.0, 0.0, 3.0],), [2.0, 0.0, 3.0], ([-1.0, 0.0, 1.0],))],
    "tanh": [
        # tanh(ln(3)/2) = (3 - 1)/(3 + 1) = 0.5, slope 1 - 0.25
        Case("slope 1 - tanh**2", ([0.0, LN3 / 2],), [0.0, 0.5], ([1.0, 0.75],)),
    ],
    "sigmoid": [
        Case("at 0", ([0.0],), [0.5], ([0.25],)),
        Case(
            "at +-7",
            ([7.0, -7.0],),
            [SIGMOID_7, 1 - SIGMOID_7],
            ([SIGMOID_7 * (1 - SIGMOID_7)] * 2,),
        ),
        Case("saturated, no overflow", ([800.0, -800.0],), [1.0, 0.0], ([0.0, 0.0],)),
    ],
    "relu": [Case("0 at 0", ([-1.0, 0.0, 2.0],), [0.0, 0.0, 2.0], ([0.0, 0.0, 1.0],))],
    "leaky_relu": [
        Case(
            "slope at 0 is the negative slope",
            ([-2.0, 0.0, 3.0],),
            [-0.2, 0.0, 3.0],
            ([0.1, 0.1, 1.0],),
            params={"negative_slope": 0.1},
        )
    ],
    "softplus": [
        Case("at 0", ([0.0],), [LN2], ([0.5],)),
        Case("stable at +-1000", ([1000.0, -1000.0],), [1000.0, 0.0], ([1.0, 0.0],)),
    ],
    "erf": [
        Case(
            "slope 2/sqrt(pi) exp(-x**2)",
            ([0.0, 1.0],),
            [0.0, 0.8427007929497149],
            ([2 / math.sqrt(math.pi), 2 / math.sqrt(math.pi) / E],),
        )
    ],
    "sin": [
        Case(
            "slope cos",
            ([0.0, math.pi / 3, -math.pi / 2],),
            [0.0, math.sqrt(3) / 2, -1.0],
            ([1.0, 0.5, math.cos(-math.pi / 2)],),
        )
    ],
    "cos": [
        Case(
            "slope -sin",
            ([0.0, math.pi / 6, math.pi / 2],),
            [1.0, math.sqrt(3) / 2, math.cos(math.pi / 2)],
            ([0.0, -0.5, -1.0],),
        )
    ],
    "clip": [
        Case(
            "passes inside and at the bounds",
            ([-2.0, -1.0, 0.5, 1.0, 2.0],),
            [-1.0, -1.0, 0.5, 1.0, 1.0],
            ([0.0, 1.0, 1.0, 1.0, 0.0],),
            params={"low": -1.0, "high": 1.0},
        ),
        Case("one bound", ([-2.0, 3.0],), [0.0, 3.0], ([0.0, 1.0],), params={"low": 0.0}),
    ],
    "maximum": [
        Case(
            "ties split",
            ([1.0, 3.0, 2.0], [2.0, 1.0, 2.0]),
            [2.0, 3.0, 2.0],
            ([0.0, 1.0, 0.5], [1.0, 0.0, 0.5]),
        )
    ],
    "minimum": [
        Case(
            "ties split",
            ([1.0, 3.0, 2.0], [2.0, 1.0, 2.0]),
            [1.0, 1.0, 2.0],
            ([1.0, 0.0, 0.5], [0.0, 1.0, 0.5]),
        )
    ],
    "where": [
        Case(
            "condition routes the gradient",
            ([1.0, 2.0, 3.0], [-1.0, -2.0, -3.0]),
            [1.0, -2.0, 3.0],
            ([1.0, 0.0, 1.0], [0.0, 1.0, 0.0]),
            params={"condition": CONDITION},
        )
    ],
    "matmul": [
        # d(A @ B) with cotangent G: G @ B.T for A and A.T @ G for B; with G all ones each row of
        # A's gradient holds the row sums of B and each column of B's the column sums of A.
        Case(
            "matrices",
            (MATRIX_A, MATRIX_B),
            [[5.0, 8.0], [14.0, 14.0]],
            ([[0.0, 2.0, 3.0], [0.0, 2.0, 3.0]], [[5.0, 5.0], [7.0, 7.0], [9.0, 9.0]]),
        ),
        Case("dot product", ([1.0, 2.0], [3.0, 4.0]), 11.0, ([3.0, 4.0], [1.0, 2.0])),
    ],
    "sum": [
        Case("all", ([[1.0, 2.0], [3.0, 4.0]],), 10.0, ([[1.0, 1.0], [1.0, 1.0]],)),
        Case(
            "axis 0",
            ([[1.0, 2.0], [3.0, 4.0]],),
            [4.0, 6.0],
            ([[1.0, 2.0], [1.0, 2.0]],),
            {"axis": 0},
            [1.0, 2.0],
        ),
    ],
    "mean": [Case("1/n each", ([1.0, 2.0, 6.0, 7.0],), 4.0, ([0.25] * 4,))],
    "max": [
        Case("ties split evenly", ([1.0, 3.0, 3.0, 2.0],), 3.0, ([0.0, 0.5, 0.5, 0.0],)),
        Case("per row", ([[1.0, 5.0], [7.0, 7.0]],), [5.0, 7.0], ([[0.0, 1.0], [0.5, 0.5]],), {"axis": 1}),
    ],
    "min": [Case("ties split evenly", ([2.0, 1.0, 5.0, 1.0, 1.0],), 1.0, ([0.0, 1 / 3, 0.0, 1 / 3, 1 / 3],))],
    "logsumexp": [
        # log(1 + 3) with slope softmax = (1/4, 3/4)
        Case("slope is softmax", ([0.0, LN3],), math.log(4.0), ([0.25, 0.75],)),
        Case("stable at 1000", ([1000.0, 1000.0],), 1000.0 + LN2, ([0.5, 0.5],)),
    ],
    "softmax": [
        # s = (1/4, 3/4); with cotangent (1, 0): s * (g - s.g) = (3/16, -3/16)
        Case("jacobian", ([0.0, LN3],), [0.25, 0.75], ([0.1875, -0.1875],), seed=[1.0, 0.0]),
        Case(
            "stable at 1000", ([1000.0, 1000.0 + LN3],), [0.25, 0.75], ([0.1875, -0.1875],), seed=[1.0, 0.0]
        ),
    ],
    "log_softmax": [
        # g - s * sum(g) with g = (1, 0)
        Case("jacobian", ([0.0, LN3],), [math.log(0.25), math.log(0.75)], ([0.75, -0.75],), seed=[1.0, 0.0]),
        Case(
            "stable at 1000",
            ([1000.0, 1000.0 + LN3],),
            [math.log(0.25), math.log(0.75)],
            ([0.75, -0.75],),
            seed=[1.0, 0.0],
        ),
    ],
    "reshape": [
        Case(
            "gradient reshaped back",
            ([1.0, 2.0, 3.0, 4.0],),
            [[1.0, 2.0], [3.0, 4.0]],
            ([1.0, 2.0, 3.0, 4.0],),
            {"shape": (2, 2)},
            [[1.0, 2.0], [3.0, 4.0]],
        )
    ],
    "transpose": [
        Case(
            "gradient transposed back",
            ([[1.0, 2.0, 3.0]],),
            [[1.0], [2.0], [3.0]],
            ([[4.0, 5.0, 6.0]],),
            seed=[[4.0], [5.0], [6.0]],
        )
    ],
    "astype": [
        Case(
            "the seed comes back in the input's dtype",
            ([0.5, -2.0, 3.0],),
            [0.5, -2.0, 3.0],
            ([1.0, -4.0, 0.25],),
            {"dtype": np.float32},
            [1.0, -4.0, 0.25],
        )
    ],
    "broadcast_to": [
        Case("copies add up", ([1.0, 2.0],), [[1.0, 2.0]] * 3, ([3.0, 3.0],), {"shape": (3, 2)})
    ],
    "getitem": [
        Case(
            "repeats add up",
            ([1.0, 2.0, 3.0],),
            [1.0, 1.0, 3.0],
            ([2.0, 0.0, 1.0],),
            {"index": np.array([0, 0, 2])},
        ),
        Case("slice", ([1.0, 2.0, 3.0],), [2.0, 3.0], ([0.0, 1.0, 1.0],), {"index": slice(1, None)}),
    ],
    "scatter_add": [
        # The adjoint of getitem: its own gradient gathers the cotangent at the index.
        Case(
            "repeats add up, gradient gathers",
            ([1.0, 2.0, 4.0],),
            [3.0, 0.0, 4.0],
            ([10.0, 10.0, 30.0],),
            {"index": np.array([0, 0, 2]), "shape": (3,)},
            [10.0, 20.0, 30.0],
        )
    ],
    "concatenate": [
        Case(
            "gradient split",
            ([1.0], [2.0, 3.0]),
            [1.0, 2.0, 3.0],
            ([4.0], [5.0, 6.0]),
            {"axis": 0},
            [4.0, 5.0, 6.0],
        )
    ],
    "var": [
        # mean 2, var 1; slope 2 (x - mean) / n
        Case("slope 2(x - mean)/n", ([1.0, 3.0],), 1.0, ([-1.0, 1.0],)),
    ],
    "std": [
        # slope (x - mean) / (n std)
        Case("slope (x - mean)/(n std)", ([1.0, 3.0],), 1.0, ([-0.5, 0.5],)),
    ],
    "gelu": [
        # gelu(x) = x Phi(x); slope Phi(x) + x phi(x)
        Case("slope Phi + x phi", ([0.0, 1.0],), [0.0, PHI_1], ([0.5, PHI_1 + DENSITY_1],)),
    ],
    "gelu_tanh": [Case("tanh form", ([0.0, 1.0],), [0.0, GELU_TANH_1], ([0.5, GELU_TANH_SLOPE_1],))],
    "flatten": [
        Case(
            "gradient reshaped back",
            ([[1.0, 2.0], [3.0, 4.0]],),
            [1.0, 2.0, 3.0, 4.0],
            ([[5.0, 6.0], [7.0, 8.0]],),
            seed=[5.0, 6.0, 7.0, 8.0],
        )
    ],
    "squeeze": [
        Case("drops length-1 axes", ([[[1.0], [2.0]]],), [1.0, 2.0], ([[[3.0], [4.0]]],), seed=[3.0, 4.0])
    ],
    "expand_dims": [
        Case("adds an axis", ([1.0, 2.0],), [[1.0, 2.0]], ([3.0, 4.0],), {"axis": 0}, [[3.0, 4.0]])
    ],
    "swapaxes": [
        Case(
            "gradient swapped back",
            ([[1.0, 2.0]],),
            [[1.0], [2.0]],
            ([[3.0, 4.0]],),
            {"axis1": 0, "axis2": 1},
            [[3.0], [4.0]],
        )
    ],
    "linear": [
        # x @ w + b: slopes w @ g for x, outer(x, g) for w, g for b
        Case(
            "one sample",
            ([1.0, 2.0], [[1.0, -1.0], [2.0, 0.0]], [0.5, 1.0]),
            [5.5, 0.0],
            ([0.0, 2.0], [[1.0, 1.0], [2.0, 2.0]], [1.0, 1.0]),
        ),
        Case(
            "batch sums over samples",
            ([[1.0, 2.0], [3.0, 4.0]], [[1.0, -1.0], [2.0, 0.0]], [0.5, 1.0]),
            [[5.5, 0.0], [11.5, -2.0]],
            ([[0.0, 2.0], [0.0, 2.0]], [[4.0, 4.0], [6.0, 6.0]], [2.0, 2.0]),
        ),
    ],
    "cross_entropy": [
        # logsumexp(x) - x[target] = ln 4 - ln 3; slope softmax - one_hot = (1/4, 3/4) - (0, 1)
        Case(
            "slope softmax - one_hot",
            ([0.0, LN3],),
            math.log(4 / 3),
            ([0.25, -0.25],),
            {"target": np.array(1)},
        ),
        Case(
            "mean over rows, stable at 1000",
            ([[0.0, LN3], [1000.0, 1000.0]],),
            (math.log(4 / 3) + LN2) / 2,
            ([[0.125, -0.125], [-0.25, 0.25]],),
            {"target": np.array([1, 0])},
        ),
        Case(
            "no reduction",
            ([[0.0, LN3], [1000.0, 1000.0]],),
            [math.log(4 / 3), LN2],
            ([[0.25, -0.25], [-0.5, 0.5]],),
            {"target": np.array([1, 0]), "reduction": "none"},
        ),
    ],
    "bce_with_logits": [
        # softplus(x) - t x; slopes sigmoid(x) - t for x and -x for t
        Case(
            "slopes sigmoid - t and -x",
            ([0.0, 2.0], [1.0, 0.25]),
            LN2 + math.log1p(math.exp(-2.0)) + 2.0 - 0.5,
            ([-0.5, 1 / (1 + math.exp(-2.0)) - 0.25], [0.0, -2.0]),
            {"reduction": "sum"},
        ),
        Case("stable at +-1000", ([1000.0, -1000.0], [1.0, 0.0]), 0.0, ([0.0, 0.0], [-500.0, 500.0])),
    ],
    "binary_cross_entropy": [
        # -(t log p + (1 - t) log(1 - p)); slopes (p - t) / (p (1 - p)) for p and log((1 - p) / p) for t
        Case(
            "slopes (p - t) / p(1 - p) and log((1 - p) / p)",
            ([0.25, 0.5], [1.0, 0.0]),
            3 * LN2,
            ([-4.0, 2.0], [math.log(3.0), 0.0]),
            {"reduction": "sum"},
        ),
    ],
    "mse": [
        # mean of (a - b)**2; slopes 2 (a - b) / n and the negative
        Case("slopes 2(a - b)/n", ([1.0, 3.0], [2.0, 1.0]), 2.5, ([-1.0, 2.0], [1.0, -2.0])),
    ],
    "hinge": [
        # mean of max(0, 1 - y x): slope -y/n where the margin is active, 0 at the kink (as relu)
        Case(
            "active margins only, 0 at the kink",
            ([0.5, 2.0, -1.0, 1.0],),
            0.625,
            ([-0.25, 0.0, -0.25, 0.0],),
            {"target": np.array([1.0, 1.0, 1.0, 1.0])},
        ),
        Case(
            "negative labels",
            ([0.5, -2.0],),
            0.75,
            ([0.5, 0.0],),
            {"target": np.array([-1.0, -1.0])},
        ),
    ],
    "prod": [
        # d(prod x)/dx_i is the product of the others
        Case("product of the others", ([2.0, 3.0, 4.0],), 24.0, ([12.0, 8.0, 6.0],)),
        Case("one zero: only it has a slope", ([2.0, 0.0, 3.0],), 0.0, ([0.0, 6.0, 0.0],)),
        Case("two zeros: no slope at all", ([0.0, 2.0, 0.0, 5.0],), 0.0, ([0.0, 0.0, 0.0, 0.0],)),
        Case(
            "rows, one with a zero",
            ([[0.0, 2.0, 5.0], [3.0, 4.0, -1.0]],),
            [0.0, -12.0],
            ([[10.0, 0.0, 0.0], [-4.0, -3.0, 12.0]],),
            {"axis": 1},
        ),
        Case("over no axis: the identity", ([2.0, 0.0],), [2.0, 0.0], ([1.0, 1.0],), {"axis": ()}),
    ],
    "cumsum": [
        # x_i feeds every running sum from i on
        Case("flattened", ([[1.0, 2.0], [3.0, 4.0]],), [1.0, 3.0, 6.0, 10.0], ([[4.0, 3.0], [2.0, 1.0]],)),
        Case(
            "down the columns",
            ([[1.0, 2.0], [3.0, 4.0]],),
            [[1.0, 2.0], [4.0, 6.0]],
            ([[101.0, 1010.0], [100.0, 1000.0]],),
            {"axis": 0},
            [[1.0, 10.0], [100.0, 1000.0]],
        ),
    ],
    "einsum": [
        Case(
            "matrix product: g @ b.T and a.T @ g",
            (MATRIX_A, MATRIX_B),
            MATRIX_A @ MATRIX_B,
            (np.ones((2, 2)) @ MATRIX_B.T, MATRIX_A.T @ np.ones((2, 2))),
            {"subscripts": "ij,jk->ik"},
        ),
        Case(
            "dot product",
            ([1.0, 2.0, 3.0], [4.0, 5.0, 6.0]),
            32.0,
            ([4.0, 5.0, 6.0], [1.0, 2.0, 3.0]),
            {"subscripts": "i,i->"},
        ),
        Case(
            "transpose: the seed transposed back",
            (MATRIX_A,),
            MATRIX_A.T,
            ([[1.0, 3.0, 5.0], [2.0, 4.0, 6.0]],),
            {"subscripts": "ij->ji"},
            [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]],
        ),
        Case(
            "implicit form: the summed j drops out",
            (MATRIX_A, MATRIX_B),
            MATRIX_A @ MATRIX_B,
            (np.ones((2, 2)) @ MATRIX_B.T, MATRIX_A.T @ np.ones((2, 2))),
            {"subscripts": "ij,jk"},
        ),
        Case("sum of all", (MATRIX_A,), 21.0, (np.ones((2, 3)),), {"subscripts": "ij->"}),
        Case(
            "outer product",
            ([1.0, 2.0], [3.0, 4.0, 5.0]),
            [[3.0, 4.0, 5.0], [6.0, 8.0, 10.0]],
            ([12.0, 12.0], [3.0, 3.0, 3.0]),
            {"subscripts": "i,j->ij"},
        ),
        Case(
            "batched matrix product",
            ([[[1.0, 2.0]], [[3.0, 4.0]]], [[[1.0], [1.0]], [[2.0], [-1.0]]]),
            [[[3.0]], [[2.0]]],
            ([[[1.0, 1.0]], [[2.0, -1.0]]], [[[1.0], [2.0]], [[3.0], [4.0]]]),
            {"subscripts": "bij,bjk->bik"},
        ),
    ],
    "outer": [
        Case(
            "flattened operands",
            ([[1.0], [2.0]], [3.0, 4.0, 5.0]),
            [[3.0, 4.0, 5.0], [6.0, 8.0, 10.0]],
            ([[12.0], [12.0]], [3.0, 3.0, 3.0]),
        )
    ],
    "tensordot": [
        Case("axes=2: the elementwise inner product", (MATRIX_A, MATRIX_A), 91.0, (MATRIX_A, MATRIX_A)),
        Case(
            "axes=1: a matrix product",
            (MATRIX_A, MATRIX_B),
            MATRIX_A @ MATRIX_B,
            (np.ones((2, 2)) @ MATRIX_B.T, MATRIX_A.T @ np.ones((2, 2))),
            {"axes": 1},
        ),
        Case(
            "named axes: a.T @ b.T",
            (MATRIX_B, MATRIX_A),
            MATRIX_B.T @ MATRIX_A.T,
            (MATRIX_A.T @ np.ones((2, 2)), np.ones((2, 2)) @ MATRIX_B.T),
            {"axes": ([0], [1])},
        ),
    ],
    "norm": [
        # d|x|/dx = x / |x|; ord=1: sign(x); ord=inf: sign at the largest |x|, shared among ties
        Case("3-4-5", ([3.0, -4.0],), 5.0, ([0.6, -0.8],)),
        Case("the zero vector: slope 0", ([0.0, 0.0],), 0.0, ([0.0, 0.0],)),
        Case("Frobenius", ([[1.0, 2.0], [2.0, 4.0]],), 5.0, ([[0.2, 0.4], [0.4, 0.8]],)),
        Case("rows", ([[3.0, 4.0], [0.0, 0.0]],), [5.0, 0.0], ([[0.6, 0.8], [0.0, 0.0]],), {"axis": 1}),
        Case("ord=1: signs, 0 at 0", ([3.0, -4.0, 0.0],), 7.0, ([1.0, -1.0, 0.0],), {"ord": 1}),
        Case("ord=inf: ties share", ([3.0, -3.0, 1.0],), 3.0, ([0.5, -0.5, 0.0],), {"ord": math.inf}),
        Case("ord=-inf", ([3.0, -0.5, 1.0],), 0.5, ([0.0, -1.0, 0.0],), {"ord": -math.inf}),
        Case(
            "huge elements do not overflow",
            ([3e200, 4e200],),
            5e200,
            ([0.6, 0.8],),
        ),
        Case(
            "tiny elements do not underflow",
            ([3e-200, 4e-200],),
            5e-200,
            ([0.6, 0.8],),
        ),
    ],
    "tile": [
        Case("reps 2", ([1.0, 2.0],), [1.0, 2.0, 1.0, 2.0], ([2.0, 2.0],), {"reps": 2}),
        Case(
            "a new leading axis",
            ([1.0, 2.0],),
            [[1.0, 2.0, 1.0, 2.0], [1.0, 2.0, 1.0, 2.0]],
            ([44.0, 66.0],),
            {"reps": (2, 2)},
            [[1.0, 2.0, 3.0, 4.0], [10.0, 20.0, 30.0, 40.0]],
        ),
    ],
    "batch_norm": [
        # One channel of mean 1 and variance 1: x_hat = [-1, -1, 1, 1]; for g = [1, 0, 0, 0] the
        # slope is w / sigma (g - mean(g) - x_hat mean(g x_hat)) = 2 [0.5, -0.5, 0, 0].
        Case(
            "training: the batch statistics",
            ([[0.0], [0.0], [2.0], [2.0]], [2.0], [0.5]),
            [[-1.5], [-1.5], [2.5], [2.5]],
            ([[1.0], [-1.0], [0.0], [0.0]], [-1.0], [1.0]),
            {"running_mean": None, "running_var": None, "training": True, "eps": 0.0},
            [[1.0], [0.0], [0.0], [0.0]],
        ),
        # (x - running_mean) / sqrt(running_var) * w + b, per channel of an (N, C, L) input.
        Case(
            "evaluation: the running statistics",
            ([[[3.0, 1.0], [0.0, -1.5]]], [1.0, 2.0], [0.0, 1.0]),
            [[[1.0, 0.0], [5.0, -1.0]]],
            ([[[0.5, 0.5], [4.0, 4.0]]], [1.0, 1.0], [2.0, 2.0]),
            {"running_mean": np.array([1.0, -1.0]), "running_var": np.array([4.0, 0.25]), "eps": 0.0},
        ),
    ],
    "layer_norm": [
        # x_hat = [-1, -1, 1, 1]; g * w = [2, 0, 0, 0]: the slope is [2 - 0.5 - 0.5, -0.5 - 0.5, 0, 0].
        Case(
            "one row",
            ([[0.0, 0.0, 2.0, 2.0]], [2.0, 1.0, 1.0, 1.0], [0.5, 0.0, 0.0, 0.0]),
            [[-1.5, -1.0, 1.0, 1.0]],
            ([[1.0, -1.0, 0.0, 0.0]], [-1.0, 0.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0]),
            {"normalized_shape": (4,), "eps": 0.0},
            [[1.0, 0.0, 0.0, 0.0]],
        )
    ],
    "dropout": [
        Case(
            "kept elements scaled by 1 / (1 - p)",
            ([1.0, 2.0, 3.0],),
            [2.0, 0.0, 6.0],
            ([2.0, 0.0, 2.0],),
            {"mask": np.array([True, False, True]), "p": 0.5},
        )
    ],
    "embedding": [
        Case(
            "repeated indices add up",
            ([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]],),
            [[[1.0, 2.0], [5.0, 6.0]], [[5.0, 6.0], [5.0, 6.0]]],
            ([[1.0, 1.0], [0.0, 0.0], [3.0, 3.0]],),
            {"indices": np.array([[0, 2], [2, 2]])},
        ),
        Case(
            "the padding row gets no gradient",
            ([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]],),
            [[1.0, 2.0], [3.0, 4.0], [3.0, 4.0]],
            ([[1.0, 1.0], [0.0, 0.0], [0.0, 0.0]],),
            {"indices": np.array([0, 1, 1]), "padding_idx": 1},
        ),
    ],
    "stack": [
        Case(
            "gradient split",
            ([1.0, 2.0], [3.0, 4.0]),
            [[1.0, 3.0], [2.0, 4.0]],
            ([5.0, 7.0], [6.0, 8.0]),
            {"axis": 1},
            [[5.0, 6.0], [7.0, 8.0]],
        )
    ],
    # x = 0..8 in a 3x3 grid; the kernel [[1, 0], [0, -1]] takes x[i, j] - x[i + 1, j + 1] = -4.
    "conv2d": [
        Case(
            "3x3 input, 2x2 kernel",
            (GRID_3X3, [[[[1.0, 0.0], [0.0, -1.0]]]], [0.5]),
            np.full((1, 1, 2, 2), -3.5),
            (
                [[[[1.0, 1.0, 0.0], [1.0, 0.0, -1.0], [0.0, -1.0, -1.0]]]],  # +1 top-left, -1 bottom-right
                [[[[8.0, 12.0], [20.0, 24.0]]]],  # the sums of the four windows' corners
                [4.0],
            ),
        )
    ],
    "conv1d": [
        Case(
            "stride 2: disjoint differences",
            ([[[1.0, 2.0, 3.0, 4.0]]], [[[1.0, -1.0]]], [0.0]),
            [[[-1.0, -1.0]]],
            ([[[1.0, -1.0, 1.0, -1.0]]], [[[4.0, 6.0]]], [2.0]),
            {"stride": 2},
        )
    ],
    "conv_input_grad": [
        Case(
            "ones through a 2x2 kernel: each input counts its windows",
            (np.ones((1, 1, 2, 2)), np.ones((1, 1, 2, 2))),
            [[[[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]]],
            (np.full((1, 1, 2, 2), 4.0), np.full((1, 1, 2, 2), 4.0)),
            {"input_shape": (1, 1, 3, 3)},
        )
    ],
    "conv_weight_grad": [
        Case(
            "the window sums of a 3x3 grid",
            (GRID_3X3, np.ones((1, 1, 2, 2))),
            [[[[8.0, 12.0], [20.0, 24.0]]]],
            ([[[[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]]], [[[[8.0, 12.0], [20.0, 24.0]]]]),
            {"weight_shape": (1, 1, 2, 2)},
        )
    ],
    "adaptive_avg_pool2d": [
        Case(
            "a 3x3 grid to 2x2: overlapping windows share their middle row and column",
            (np.arange(9.0).reshape(1, 1, 3, 3),),
            [[[[2.0, 3.0], [5.0, 6.0]]]],
            ([[[[0.25, 0.5, 0.25], [0.5, 1.0, 0.5], [0.25, 0.5, 0.25]]]],),
            {"output_size": 2},
        )
    ],
    "conv_transpose1d": [
        Case(
            "stride 2: each input element lays the kernel down apart",
            ([[[1.0, 2.0]]], [[[1.0, 10.0]]], [0.5]),
            [[[1.5, 10.5, 2.5, 20.5]]],
            ([[[11.0, 11.0]]], [[[3.0, 3.0]]], [4.0]),
            {"stride": 2},
        )
    ],
    "conv_transpose2d": [
        Case(
            "overlapping windows add up where they meet",
            (np.ones((1, 1, 2, 2)), np.ones((1, 1, 2, 2)), np.zeros(1)),
            [[[[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]]],
            (np.full((1, 1, 2, 2), 4.0), np.full((1, 1, 2, 2), 4.0), [9.0]),
            {},
        )
    ],
    "max_pool2d": [
        Case(
            "2x2 windows: the gradient goes to each maximum",
            ([[[[1.0, 5.0, 2.0, 0.0], [3.0, 4.0, 8.0, 7.0], [0.0, 9.0, 1.0, 1.0], [6.0, 2.0, 3.0, 4.0]]]],),
            [[[[5.0, 8.0], [9.0, 4.0]]]],
            ([[[[0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]]]],),
            {"kernel_size": 2},
        )
    ],
    "avg_pool2d": [
        Case(
            "2x2 windows: means, slope 1/4",
            (np.arange(16.0).reshape(1, 1, 4, 4),),
            [[[[2.5, 4.5], [10.5, 12.5]]]],
            (np.full((1, 1, 4, 4), 0.25),),
            {"kernel_size": 2},
        )
    ],
}

CASES = [
    pytest.param(name, case, id=f"{name}: {case.label}") for name, cases in KNOWN.items() for case in cases
]


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_op_has_a_known_case(name: str) -> None:
    assert KNOWN.get(name), f"op {name!r} is registered but has no known-derivative case in KNOWN"


def test_known_cases_name_only_registered_ops() -> None:
    assert set(KNOWN) <= set(REGISTRY), f"stale entries: {sorted(set(KNOWN) - set(REGISTRY))}"


def _frozen(data: Any) -> np.ndarray:
    array = np.array(data, dtype=np.float64)
    array.flags.writeable = False  # an op that writes into its input fails loudly
    return array


def _run(name: str, case: Case, create_graph: bool = False) -> tuple[Value, list[Value]]:
    arrays = [_frozen(x) for x in case.inputs]
    inputs = [Value(a) for a in arrays]
    out = call_op(name, *inputs, **case.params)
    seed = np.ones(out.shape) if case.seed is None else np.array(case.seed, dtype=np.float64)
    out.backward(seed, create_graph=create_graph)
    for array, original in zip(arrays, case.inputs, strict=True):
        np.testing.assert_array_equal(array, original, err_msg=f"{name} changed its input")
    return out, inputs


@pytest.mark.parametrize(("name", "case"), CASES)
def test_known_value_and_derivative(name: str, case: Case) -> None:
    out, inputs = _run(name, case)
    np.testing.assert_allclose(out.data, case.output, rtol=1e-12, atol=1e-15)
    assert np.isfinite(out.data).all()
    for i, (value, expected) in enumerate(zip(inputs, case.grads, strict=True)):
        assert value.grad.shape == value.shape
        np.testing.assert_allclose(value.grad, expected, rtol=1e-12, atol=1e-15, err_msg=f"{name} input {i}")


@pytest.mark.parametrize(("name", "case"), CASES)
def test_known_derivative_under_create_graph(name: str, case: Case) -> None:
    """The differentiable backward (vjps run on Values) gives the same first derivatives."""
    _, inputs = _run(name, case, create_graph=True)
    for i, (value, expected) in enumerate(zip(inputs, case.grads, strict=True)):
        assert isinstance(value.grad, Value)
        np.testing.assert_allclose(
            value.grad.data, expected, rtol=1e-12, atol=1e-15, err_msg=f"{name} input {i}"
        )


@pytest.mark.parametrize("data", [7.0, np.array([7.0]), np.float32(7.0)], ids=["float", "array", "float32"])
def test_sigmoid_at_7(data: Any) -> None:
    x = Value(data)
    y = x.sigmoid()
    tolerance = 1e-16 if x.dtype == np.float64 else 1e-7
    np.testing.assert_allclose(y.data, SIGMOID_7, rtol=tolerance)
    y.sum().backward()
    np.testing.assert_allclose(x.grad, SIGMOID_7 * (1 - SIGMOID_7), rtol=tolerance * 1e3)


@pytest.mark.parametrize("shift", [0.0, 1000.0, -1000.0])
def test_softmax_family_is_shift_invariant_and_finite(shift: float) -> None:
    logits = np.array([[1.0, 2.0, 3.0], [0.5, 0.5, 0.5]])
    reference = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    x = Value(logits + shift)
    (x.softmax(axis=1) * np.array([1.0, 0.0, 0.0])).sum().backward()
    np.testing.assert_allclose(x.softmax(axis=1).data, reference, rtol=1e-12)
    np.testing.assert_allclose(x.log_softmax(axis=1).data, np.log(reference), rtol=1e-12, atol=1e-12)
    assert np.isfinite(x.grad).all()
    one_hot = np.array([1.0, 0.0, 0.0])
    np.testing.assert_allclose(x.grad, reference * (one_hot - reference[:, :1]), rtol=1e-10, atol=1e-15)
    lse = x.logsumexp(axis=1)
    np.testing.assert_allclose(lse.data, np.log(np.exp(logits).sum(axis=1)) + shift, rtol=1e-12)


# Second derivatives by hand, through create_graph: f''(x) for smooth one-input ops.
SECOND = {
    "exp": (lambda x: np.exp(x), [0.0, 1.0]),
    "log": (lambda x: -1 / x**2, [0.5, 2.0]),
    "sqrt": (lambda x: -0.25 * x**-1.5, [4.0, 9.0]),
    "tanh": (lambda x: -2 * np.tanh(x) * (1 - np.tanh(x) ** 2), [0.0, 0.5, -1.0]),
    "sigmoid": (lambda x: (s := 1 / (1 + np.exp(-x))) * (1 - s) * (1 - 2 * s), [0.0, 1.0, -2.0]),
    "softplus": (lambda x: (s := 1 / (1 + np.exp(-x))) * (1 - s), [0.0, 1.0, -2.0]),
    "erf": (lambda x: -4 * x / math.sqrt(math.pi) * np.exp(-x * x), [0.0, 0.5, -1.0]),
    "sin": (lambda x: -np.sin(x), [0.0, 1.0, 2.0]),
    "cos": (lambda x: -np.cos(x), [0.0, 1.0, 2.0]),
}


@pytest.mark.parametrize("name", sorted(SECOND))
def test_known_second_derivative(name: str) -> None:
    second, points = SECOND[name]
    x = Value(np.array(points))
    call_op(name, x).sum().backward(create_graph=True)
    slope = x.grad
    x.grad = None
    slope.sum().backward()
    np.testing.assert_allclose(x.grad, second(np.array(points)), rtol=1e-12, atol=1e-15)


def test_pow_mixed_second_derivative() -> None:
    # d/db d/da a**b = a**(b-1) (1 + b ln a); at a = 2, b = 3: 4 (1 + 3 ln 2)
    a, b = Value(2.0), Value(3.0)
    (slope_a,) = autonet.gradients(a**b, [a], create_graph=True)
    (mixed,) = autonet.gradients(slope_a, [b])
    assert mixed.item() == pytest.approx(4 * (1 + 3 * LN2), rel=1e-12)
