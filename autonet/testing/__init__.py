"""Tools for testing code built on autonet.

- ``autonet.testing.strategies``: Hypothesis strategies (shapes, broadcastable shapes, arrays in
  an op's domain, Values, inputs for any registered op). Needs Hypothesis (the ``test`` extra).
- ``autonet.testing.cases``: the generators behind them, driven by any source of randomness;
  ``python -m autonet check`` uses them with numpy alone.

Importing this package does not import Hypothesis; ``autonet.testing.strategies`` does.

>>> from autonet.testing import cases
>>> "reduction" in cases.KIND_CASES
True
"""

__all__ = ["cases", "strategies"]
