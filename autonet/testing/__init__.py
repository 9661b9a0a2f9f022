"""Tools for testing code built on autonet.

- ``autonet.testing.strategies``: Hypothesis strategies (shapes, broadcastable shapes, arrays in
  an op's domain, Values, inputs for any registered op). Needs Hypothesis (the ``test`` extra).
- ``autonet.testing.cases``: the generators behind them, driven by any source of randomness and
  by each op's ``cases`` (its registry entry says how its arguments are built);
  ``python -m autonet check`` uses them with numpy alone.
- ``autonet.testing.checks``: the checks autonet runs on each of its ops (first and second order,
  declared edges, edge draws, kinks), as functions; ``check_user_op(op)`` runs them all on one op
  (one of yours, made with ``autonet.op``) and reports, ``assert_op_correct(op)`` raises with that
  report, and ``op_checks(op)`` gives one pytest case per check.

Importing this package does not import Hypothesis; ``autonet.testing.strategies`` does.

>>> import numpy as np
>>> from autonet.testing import cases
>>> cases.check_cases(cases.resolve_op("sum")).family
'reduction'
>>> inputs, params = cases.op_case("sum", cases.RandomSource(np.random.default_rng(0)))
>>> sorted(params)
['axis', 'keepdims']
"""

from .checks import OpReport, assert_op_correct, check_user_op, op_checks

__all__ = ["OpReport", "assert_op_correct", "cases", "check_user_op", "checks", "op_checks", "strategies"]
