"""Matrix product with numpy's ``@`` rules: 1-d operands, batches and broadcasting of batch axes."""

from __future__ import annotations

import numpy as np

from .registry import REAL, Edge, Op, register


def _swap_last(x):
    return x.T if np.ndim(x) == 2 else x.swapaxes(-1, -2)


def _matmul_vjp_a(g, out, a, b):
    if np.ndim(b) == 1:
        if np.ndim(a) == 1:
            return g * b
        return g[..., None] * b
    if np.ndim(a) == 1:
        return (b @ g[..., None])[..., 0]
    return g @ _swap_last(b)


def _matmul_vjp_b(g, out, a, b):
    if np.ndim(a) == 1:
        if np.ndim(b) == 1:
            return g * a
        return a[:, None] * g[..., None, :]
    if np.ndim(b) == 1:
        return (_swap_last(a) @ g[..., None])[..., 0]
    return _swap_last(a) @ g


matmul = register(
    Op(
        "matmul",
        np.matmul,
        (_matmul_vjp_a, _matmul_vjp_b),
        (REAL, REAL),
        kind="matmul",
        doc="a @ b; batch axes broadcast and 1-d operands are vectors, as in numpy.",
        edges=(
            Edge("(0,) @ (0,)", (np.zeros(0), np.zeros(0)), grads=(np.zeros(0), np.zeros(0)), value=0.0),
            Edge(
                "(2, 0) @ (0, 3)",
                (np.zeros((2, 0)), np.zeros((0, 3))),
                grads=(np.zeros((2, 0)), np.zeros((0, 3))),
                value=np.zeros((2, 3)),
            ),
            Edge(
                "1e300 - 1e300 in a product",
                ([1e300, -1e300], [1.0, 1.0]),
                grads=([1.0, 1.0], [1e300, -1e300]),
                value=0.0,
            ),
            Edge("0-d operands", (2.0, 3.0), raises=ValueError, note="torch raises too"),
        ),
    )
)
