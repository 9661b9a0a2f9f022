"""Tools for testing code built on autonet.

- ``autonet.testing.strategies``: Hypothesis strategies (shapes, broadcastable shapes, arrays in
  an op's domain, Values, inputs for any registered op). Needs Hypothesis (the ``test`` extra).
- ``autonet.testing.cases``: the generators behind them, driven by any source of randomness and
  by each op's ``cases`` (its registry entry says how its arguments are built);
  ``python -m autonet check`` uses them with numpy alone.

Importing this package does not import Hypothesis; ``autonet.testing.strategies`` does.

>>> import numpy as np
>>> from autonet.testing import cases
>>> cases.check_cases(cases.resolve_op("sum")).family
'reduction'
>>> inputs, params = cases.op_case("sum", cases.RandomSource(np.random.default_rng(0)))
>>> sorted(params)
['axis', 'keepdims']
"""

__all__ = ["cases", "strategies"]
