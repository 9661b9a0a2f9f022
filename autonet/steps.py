"""Backpropagation one node at a time: ``backward_steps(root)`` yields what each node of the walk
receives and what it sends to each of its inputs, while filling ``.grad`` as ``backward()`` does.

Each step is a ``BackwardStep``: the Value, its op, its whole upstream gradient and one
``StepInput`` per input of the op, holding the local derivative and the contribution (upstream
times local, brought to the input's shape). Summing the contributions that reach a Value gives
its ``.grad``, which is the chain rule written out.

The **local derivative** follows one rule. For an op of the elementwise family
(``op.cases.family == "elementwise"``: add, mul, tanh, maximum ...) it is the derivative of
each output element with respect to the matching element of the input, an array of the output's
shape: the op's vjp applied to ones, before broadcasting is undone (for ``tanh``, ``1 - tanh**2``;
for ``a * b``, the other factor, broadcast). There ``upstream * local``, summed to the input's
shape, is the contribution (up to rounding for ops such as ``div`` whose vjp is written another
way). For every other op (matmul, reductions, reshape, indexing, losses ...) one number per
element does not describe the Jacobian, and ``local`` is None: the contribution, which is the
op's vector-Jacobian product itself, says what the input receives.

>>> from autonet import Value, backward_steps
>>> a, b = Value(2.0, label="a"), Value(-3.0, label="b")
>>> for step in backward_steps(a * b):
...     print(step.op.name if step.op else step.value.label, [float(i.contribution) for i in step.inputs])
mul [-3.0, 2.0]
b []
a []
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import numpy as np

from .engine import Record, Value, backward_walk
from .ops.registry import Op

__all__ = ["BackwardStep", "StepInput", "backward_steps", "local_derivative"]


class StepInput(NamedTuple):
    """What one node of the backward walk sends to one input of its op.

    ``value`` is the input Value; ``local`` the local derivative (see ``autonet.steps``: an
    array of the output's shape for elementwise ops, None for the others and for an input that
    needs no gradient); ``contribution`` the gradient this node adds to the input's ``.grad``,
    of the input's shape (None when the input needs no gradient, like a constant).

    >>> from autonet import Value, backward_steps
    >>> x = Value(3.0)
    >>> first = next(backward_steps(x * x))
    >>> [(i.value is x, float(i.local), float(i.contribution)) for i in first.inputs]
    [(True, 3.0, 3.0), (True, 3.0, 3.0)]
    """

    value: Value
    local: Any
    contribution: Any


class BackwardStep(NamedTuple):
    """One node of the backward walk: ``value`` got its whole gradient ``upstream`` (what its
    ``.grad`` holds from this backward) and passed it on through ``op`` to its ``inputs``.

    ``op`` is the registry entry that made ``value``, None for a leaf (whose ``inputs`` are
    ``()``); ``inputs`` holds one ``StepInput`` per input of the op, in the op's order. Arrays
    are read-only views: the walk itself still adds them up.

    >>> from autonet import Value, backward_steps
    >>> x = Value(0.5)
    >>> [step.op.name if step.op else "leaf" for step in backward_steps(x.tanh())]
    ['tanh', 'leaf']
    """

    value: Value
    op: Op | None
    upstream: Any
    inputs: tuple[StepInput, ...]


def _read_only(x: Any) -> Any:
    if type(x) is np.ndarray:
        x = x.view()
        x.flags.writeable = False
    return x


def local_derivative(record: Record, index: int) -> np.ndarray | None:
    """The local derivative of a recorded op's output with respect to input ``index``, by the
    rule of ``autonet.steps``: the op's vjp applied to ones, of the output's shape, for an op of
    the elementwise family, and None for any other op.

    >>> from autonet import Value
    >>> y = Value([0.0, 1.0]).tanh()
    >>> local_derivative(y.record, 0).round(4).tolist()
    [1.0, 0.42]
    >>> local_derivative(Value([1.0, 2.0]).sum().record, 0) is None
    True
    """
    op = record.op
    if op.cases is None or op.cases.family != "elementwise" or record.datas is None:
        return None
    out = np.asarray(record.out)
    datas = [np.asarray(d) for d in record.datas]  # arrays: numpy's inf, never Python's ZeroDivisionError
    params = dict(record.params or {})
    if op.saves:
        params["saved"] = record.saved
    ones = np.ones_like(out)
    with np.errstate(all="ignore"):
        if op.variadic:
            local = op.vjps[0](index, ones, out, *datas, **params)
        else:
            local = op.vjps[index](ones, out, *datas, **params)
    # A vjp may give a smaller array where the derivative is the same everywhere (``add``: ones).
    return np.broadcast_to(np.asarray(local, dtype=out.dtype), out.shape)


def backward_steps(
    root: Value, gradient: Any = None, *, retain_graph: bool = False
) -> Iterator[BackwardStep]:
    """Run ``root.backward(gradient)`` one node at a time, yielding a ``BackwardStep`` per node.

    The nodes come in the walk's order (each after all of its consumers), leaves included, and
    each step has already added ``upstream`` to its Value's ``.grad``. Run to its end, the
    generator leaves ``.grad`` on every Value exactly (bit for bit) as one ``backward()`` does,
    and releases the graph as it goes unless ``retain_graph``, as ``backward()`` does, so draw a
    graph before stepping through it. Stopped early, only the nodes already yielded have their
    gradients. Raises what ``backward()`` raises (a released graph, a non-scalar root without
    ``gradient``).

    >>> from autonet import Value, backward_steps
    >>> x = Value(2.0, label="x")
    >>> steps = list(backward_steps(x * x + x))
    >>> [s.op.name if s.op else s.value.label for s in steps], x.grad.item()
    (['add', 'mul', 'x'], 5.0)
    >>> sum(float(i.contribution) for s in steps for i in s.inputs if i.value is x)
    5.0
    """
    sent: dict[int, Any] = {}

    def recording(work: Callable[..., Any]) -> Callable[..., Any]:
        def edge(record: Any, node: Value, index: int, g: Any) -> Any:
            grad = sent[index] = work(record, node, index, g)
            return grad

        return edge

    for node, upstream in backward_walk(root, gradient, retain_graph=retain_graph, edge=recording):
        record = node.record
        inputs = []
        for index, value in enumerate(() if record is None else record.inputs):
            contribution = sent.pop(index, None)  # None: the input needs no gradient
            local = None if contribution is None else local_derivative(record, index)
            inputs.append(StepInput(value, _read_only(local), _read_only(contribution)))
        yield BackwardStep(node, None if record is None else record.op, _read_only(upstream), tuple(inputs))
