"""Copies and pickles of Values, with the graph behind them.

``pickle`` lays the graph behind a result flat (a list in topological order, inputs first), so
pickling a 100,000-op chain recurses no deeper than pickling one node; ops are stored by registry
name. ``copy.deepcopy`` copies the same graph Value by Value, sharing what ``memo`` shares. Both
rebuild through the public ``from_record`` constructor of the Value class they were given, so
this module sits below the engine and imports nothing of it.

>>> import pickle
>>> from autonet import Value
>>> x = Value(3.0)
>>> x2, y2 = pickle.loads(pickle.dumps((x, x * x)))
>>> y2.backward()
>>> x2.grad.item(), x.grad.item()
(6.0, 0.0)
"""

from __future__ import annotations

import copy
from typing import Any

from .ops.registry import lookup
from .storage import stored_data, stored_gradient

__all__ = ["deep_copy", "leaf", "rebuilt", "reduced", "topological"]


def topological(root: Any) -> list[Any]:
    """Every Value behind ``root`` (itself included), inputs before the Values made from them;
    an explicit stack, so graph depth costs memory, not recursion.

    >>> from autonet import Value
    >>> x = Value(2.0, label="x")
    >>> [v.label or v.op.name for v in topological((x * x).exp())]
    ['x', 'mul', 'exp']
    """
    order: list[Any] = []
    seen = {id(root)}
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        value, expanded = stack.pop()
        if expanded:
            order.append(value)
            continue
        stack.append((value, True))
        for parent in value.parents:
            if id(parent) not in seen:
                seen.add(id(parent))
                stack.append((parent, False))
    return order


def _state(value: Any) -> tuple[Any, ...]:
    return stored_data(value), stored_gradient(value), value.requires_grad, value.label


def leaf(cls: type, data: Any, grad: Any, requires_grad: bool, label: str) -> Any:
    """A leaf of class ``cls`` around ``data`` exactly as given: how a pickled leaf comes back.

    >>> from autonet import Value
    >>> leaf(Value, 2.0, None, True, "w").label
    'w'
    """
    return cls.from_record(data, None, grad=grad, requires_grad=requires_grad, label=label)


def reduced(value: Any) -> tuple[Any, ...]:
    """What ``Value.__reduce_ex__`` returns: a leaf's state, or the graph behind a result laid
    flat, leaves as the Values themselves (pickled once however often they occur), the others
    as entries whose inputs point back into the list by position."""
    cls = type(value)
    if value.is_leaf:
        return leaf, (cls, *_state(value))
    order = topological(value)
    position = {id(v): i for i, v in enumerate(order)}
    flat: list[Any] = []
    for v in order:
        if v.is_leaf:
            flat.append(v)
            continue
        record = v.record
        inputs = tuple(position[id(p)] for p in record.inputs)
        flat.append((record.op.name, inputs, *record[2:], _state(v), v.scope))
    return rebuilt, (cls, flat)


def rebuilt(cls: type, flat: list[Any]) -> Any:
    """The root of a graph that ``reduced`` laid flat, every Value and record in place."""
    values: list[Any] = []
    for entry in flat:
        if isinstance(entry, cls):
            values.append(entry)
            continue
        name, inputs, params, datas, out, saved, state, scope = entry
        record = (lookup(name), tuple(values[i] for i in inputs), params, datas, out, saved)
        values.append(_from_state(cls, record, state, scope))
    return values[-1]


def _from_state(cls: type, record: tuple[Any, ...], state: tuple[Any, ...], scope: str | None) -> Any:
    data, grad, requires_grad, label = state
    value = cls.from_record(data, record, grad=grad, requires_grad=requires_grad, label=label)
    value.scope = scope
    return value


def deep_copy(root: Any, memo: dict[int, Any]) -> Any:
    """What ``Value.__deepcopy__`` returns: a copy of ``root`` and of the graph behind it, each
    Value copied once, its inputs' copies taken from ``memo``."""
    for value in topological(root):
        if id(value) not in memo:
            memo[id(value)] = _copied(value, memo)
    return memo[id(root)]


def _copied(value: Any, memo: dict[int, Any]) -> Any:
    data, grad, requires_grad, label = _state(value)
    state = (copy.deepcopy(data, memo), copy.deepcopy(grad, memo), requires_grad, label)
    if value.is_leaf:
        return leaf(type(value), *state)
    record = value.record
    parents = tuple(memo[id(p)] for p in record.inputs)
    params, datas, out, saved = copy.deepcopy(tuple(record[2:]), memo)
    return _from_state(type(value), (record.op, parents, params, datas, out, saved), state, value.scope)
