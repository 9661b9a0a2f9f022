"""Check the gradients of your own function (and of your own op) against central differences.

``autonet.gradcheck(fn, *inputs)`` runs ``fn`` on Values, computes every entry of its
Jacobian with ``backward()`` and compares each with ``(f(x + eps) - f(x - eps)) / (2 eps)`` in
float64. This script checks three things a user might write:

1. ``layer_norm``, a function built from autonet ops: its gradients are right by construction,
   and the check (first and second order) confirms it;
2. ``normalize_wrong``, which reads ``x.data`` and so steps outside the recorded graph: the
   forward value is right, the gradient silently wrong, and the check says where;
3. ``softsign``, a new op registered with a hand-written vector-Jacobian product, checked once
   with the right derivative and once with a forgotten square.

    python examples/gradcheck_my_function.py [--quick]

Prints what each check found; the exit status is 0 when every check behaved as expected.
``--quick`` (or AUTONET_EXAMPLE_QUICK=1) is accepted for symmetry with the other examples.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

from autonet import GradcheckError, Value, call_op, gradcheck, gradgradcheck
from autonet.ops import REGISTRY, Domain, Edge, Op, register
from autonet.ops.cases import ELEMENTWISE


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Gradient-check your own function and op.")
    parser.add_argument(
        "--quick",
        action="store_true",
        default=os.environ.get("AUTONET_EXAMPLE_QUICK") == "1",
        help="accepted for symmetry (also AUTONET_EXAMPLE_QUICK=1)",
    )
    return parser.parse_args(argv)


def layer_norm(x: Value, gain: Value) -> Value:
    """Each row scaled to mean 0 and variance 1, then multiplied by a learned gain per column."""
    centred = x - x.mean(axis=-1, keepdims=True)
    return centred / (x.var(axis=-1, keepdims=True) + 1e-5).sqrt() * gain


def normalize_wrong(x: Value) -> Value:
    """x / sum(x), but the sum is taken on ``x.data``: a plain array, invisible to backward()."""
    return x / x.data.sum()


def normalize(x: Value) -> Value:
    """The same function written with autonet ops only."""
    return x / x.sum()


def softsign_op(wrong: bool) -> Op:
    """softsign(x) = x / (1 + |x|), whose derivative is 1 / (1 + |x|)^2."""

    def vjp(g: np.ndarray, out: np.ndarray, x: np.ndarray) -> np.ndarray:
        # Written with numpy functions, so that under create_graph=True it records a graph too.
        return g / (1 + np.abs(x)) if wrong else g / (1 + np.abs(x)) ** 2

    # The derivative has a kink at 0 (|x| has one): checks sample away from it. register() also
    # wants the op's edges (its value and slope there, and what an empty input gives) and its
    # cases: one input of any shape and no parameters, as for exp.
    edges = (
        Edge("x = 0", (0.0,), grads=(1.0,), value=0.0),
        Edge("size-0 input", (np.zeros(0),), grads=(np.zeros(0),)),
    )

    def jvp(t: np.ndarray, out: np.ndarray, x: np.ndarray) -> np.ndarray:
        # Forward mode (autonet.jvp): the output's tangent from x's tangent t, here always right.
        return t / (1 + np.abs(x)) ** 2

    return Op(
        "softsign",
        lambda x: x / (1 + np.abs(x)),
        (vjp,),
        (Domain(-3.0, 3.0, avoid=(0.0,)),),
        jvps=(jvp,),
        cases=ELEMENTWISE,
        edges=edges,
    )


def verdict(passed: bool) -> str:
    return "passed" if passed else "failed"


def main(argv: list[str] | None = None) -> int:
    parse_args(argv)
    rng = np.random.default_rng(0)

    # 1. A function built from autonet ops: first and second derivatives are right.
    x, gain = rng.normal(size=(3, 4)), rng.normal(size=4)
    first = gradcheck(layer_norm, x, gain, raise_exception=False)
    second = gradgradcheck(layer_norm, x, gain, raise_exception=False)
    print(f"layer_norm: gradcheck {verdict(first)}, gradgradcheck {verdict(second)}")
    as_expected = first and second

    # 2. A function that leaves the graph: right values, wrong gradient, and the check says where.
    positive = rng.uniform(0.5, 2.0, size=4)
    same_values = np.allclose(normalize_wrong(Value(positive)).data, normalize(Value(positive)).data)
    print(f"normalize_wrong: the same values as normalize: {same_values}")
    try:
        gradcheck(normalize_wrong, positive)
        print("normalize_wrong: gradcheck passed (unexpected!)")
        as_expected = False
    except GradcheckError as error:
        print("normalize_wrong: gradcheck caught the wrong gradient:")
        print("  " + str(error).replace("\n", "\n  "))
    fixed = gradcheck(normalize, positive, raise_exception=False)
    print(f"normalize: gradcheck {verdict(fixed)}")
    as_expected = as_expected and same_values and fixed

    # 3. A new op with a hand-written vjp, once right and once with a forgotten square.
    points = np.array([-2.0, -0.5, 0.7, 1.5])
    for wrong in (False, True):
        register(softsign_op(wrong))
        try:
            passed = gradcheck(lambda v: call_op("softsign", v), points, raise_exception=False)
            twice = passed and gradgradcheck(lambda v: call_op("softsign", v), points, raise_exception=False)
        finally:
            del REGISTRY["softsign"]  # leave the registry as it was
        which = "forgotten square" if wrong else "right derivative"
        second_order = f", gradgradcheck {verdict(twice)}" if passed else ""
        print(f"softsign ({which}): gradcheck {verdict(passed)}{second_order}")
        as_expected = as_expected and passed != wrong

    print("every check behaved as expected" if as_expected else "SOMETHING UNEXPECTED HAPPENED")
    return 0 if as_expected else 1


if __name__ == "__main__":
    sys.exit(main())
