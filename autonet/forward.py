"""Calling an op's forward on data: the engine's ``run_op`` calls it, ``vjp`` is its backward twin.

A float64 scalar is a Python float, and ops with a scalar path compute on floats without numpy,
micrograd's lean path; where Python raises (an overflow, a log of 0) numpy's inf and nan are
taken instead, as for arrays.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .arrays import F64, normalize, retitled
from .ops.registry import Op

__all__ = ["forward"]


def forward(op: Op, datas: Sequence[Any], params: dict | None) -> Any:
    """``op``'s forward on ``datas`` (floats and arrays) with its prepared ``params``: the float
    path where every input is a float64 scalar, numpy's promotion otherwise, the output
    normalized (and, for an op that saves, ``(out, saved)``); errors name the op and the shapes.

    >>> from autonet.ops import REGISTRY
    >>> forward(REGISTRY["mul"], (2.0, 3.0), None)
    6.0
    """
    scalar = op.scalar
    if scalar is not None:
        for d in datas:
            if type(d) is not float:
                break
        else:
            try:
                return scalar(*datas, **params) if params else scalar(*datas)
            except (ArithmeticError, ValueError, TypeError):
                # Python raises where numpy returns inf or nan (or where a param is an array);
                # follow numpy, which also names the op if the params are really wrong.
                datas = [np.float64(d) for d in datas]
    elif float in map(type, datas):
        # A float64 scalar is held as a Python float and promotes like one (float32 arrays stay
        # float32), as it does in the ops with a scalar path; this op needs arrays, so give it one.
        arrays = [d for d in datas if type(d) is not float]
        dtype = np.result_type(*arrays, 0.0) if arrays else F64
        datas = [np.asarray(d, dtype) if type(d) is float else d for d in datas]
    try:
        out = op.forward(*datas, **params) if params else op.forward(*datas)
    except (ValueError, TypeError, IndexError) as error:
        shapes = ", ".join(str(np.shape(d)) for d in datas)
        raise retitled(error, f"{op.name}: {error} (input shapes {shapes})") from None
    if op.saves:
        out, saved = out
        return normalize(out), saved
    return normalize(out)
