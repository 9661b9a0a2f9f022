"""The one call path and the surface: how every Value method, operator, ``autonet.<function>``,
numpy function, ``call_op``, module and vjp reaches an op.

Each op's registry entry names its Value method, its operators, its function and its numpy
callables; this module makes them, from the registry, for every op registered now or later, and
``apply`` is where each of them ends: the op's ``prepare`` checks the arguments, a composite
runs its definition and a primitive runs in the engine (``run_op``).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import ops as _ops
from .engine import ArrayLike, Value, lift, run_binary, run_op
from .ops.registry import Op, install, lookup, on_register, on_unregister

__all__ = ["FUNCTIONS", "TORCH_NAMES", "apply", "call_op"]


def apply(op: Op | str, *args: Any, **params: Any) -> Value:
    """Apply a registered op (its entry or its name) to Values, numbers or arrays.

    Every way of reaching an op ends here: ``Value`` methods and operators, ``autonet.<function>``,
    numpy dispatch, ``call_op``, nn, losses and the vjps of other ops. The first ``arity``
    positional arguments are the op's inputs (all of them for a variadic op); the op's ``prepare``
    takes them with the rest, checks and normalises them (its errors name the op); a composite
    then runs its definition and a primitive records one node.

    >>> from autonet import Value
    >>> from autonet.surface import apply
    >>> apply("sum", Value([[1.0, 2.0], [3.0, 4.0]]), 0).tolist()
    [4.0, 6.0]
    """
    entry = op if type(op) is Op else lookup(op) if type(op) is str else None
    if entry is None:
        raise TypeError(f"apply: expected an op name or a registry Op, got {type(op).__name__}")
    arity = entry.arity
    if len(args) == arity and entry.prepare is None and entry.composite is None:
        for x in args:
            if type(x) is not Value:
                break
        else:  # the common case, Values in and only keyword params: nothing to lift or prepare
            return run_op(entry, args, params or None)
    inputs, extra = (args, ()) if arity < 0 else (args[:arity], args[arity:])
    if arity >= 0 and len(inputs) < arity:
        raise TypeError(f"{entry.name}: takes {arity} input(s), got {len(inputs)}")
    inputs = _lifted(entry.name, inputs)
    if entry.prepare is not None:
        prepared = _prepared(entry, inputs, extra, params)
        if type(prepared) is Value:
            return prepared  # nothing to do: a reshape to the same shape, say
        inputs, params = prepared
        extra = ()
    if entry.composite is not None:
        return entry.composite(*inputs, *extra, **params)
    if extra:
        raise TypeError(
            f"{entry.name}: takes {arity} input(s) and keyword parameters, "
            f"got {len(args)} positional arguments"
        )
    return run_op(entry, tuple(inputs), params or None)


def _lifted(name: str, inputs: Sequence[Any]) -> tuple[Value, ...]:
    if all(type(x) is Value for x in inputs):
        return tuple(inputs)  # the common case: Values already
    like = next((x for x in inputs if type(x) is Value), None)
    values = []
    for index, x in enumerate(inputs):
        try:
            values.append(x if type(x) is Value else lift(x, like))
        except TypeError as error:
            raise TypeError(f"{name}: input {index}: {error}") from None
    return tuple(values)


def _prepared(op: Op, inputs: tuple, extra: tuple, params: dict) -> Any:
    try:
        return op.prepare(*inputs, *extra, **params)
    except TypeError as error:
        # A call that does not fit the op's arguments: say so with the op's name, not prepare's.
        unfit = _UNFIT_CALL.match(str(error))
        if unfit is None:
            raise
        raise TypeError(f"{op.name}: {unfit.group(1)} (parameters given: {sorted(params)})") from None


_UNFIT_CALL = re.compile(r"^[\w.<>]*\(\) ((?:got|missing|takes) .*)$")


def call_op(op: Op | str, *inputs: ArrayLike, **params: Any) -> Value:
    """Apply any registered op by name or entry to exactly its inputs, parameters by keyword (how
    tests and tools drive the registry).

    >>> from autonet import Value
    >>> call_op("mul", Value(2.0), Value(3.0)).item()
    6.0
    """
    if isinstance(op, str):
        try:
            op = lookup(op)
        except ValueError as error:
            raise ValueError(f"call_op: {error}") from None
    elif not isinstance(op, Op):
        raise TypeError(f"call_op: expected an op name or a registry Op, got {type(op).__name__}")
    if op.arity >= 0 and len(inputs) != op.arity:
        raise TypeError(f"{op.name}: takes {op.arity} input(s), got {len(inputs)}")
    return apply(op, *inputs, **params)


# --------------------------------------------------------------------------- the surface
# Each op's entry names its Value method, operators and autonet function; they are made here,
# from the registry, for every op registered now or later.

FUNCTIONS: dict[str, Callable[..., Any]] = {}
"""``autonet.<name>`` for every op that declares a ``function`` (maximum, where, einsum ...)."""


def _documented(
    fn: Callable[..., Any], op: Op, name: str, signature: inspect.Signature | None, owner: str = ""
) -> Callable[..., Any]:
    # The qualified name is where pickle finds the function again (Value.relu, autonet.engine.where).
    fn.__name__, fn.__qualname__ = name, f"{owner}{name}"
    example = "\n".join(f"    {line}" for line in op.example.splitlines())
    fn.__doc__ = f"{op.doc}\n\n{example}\n" if example else op.doc
    # Methods live on Value (pickle and doctest look for them in its module); functions here.
    fn.__module__ = Value.__module__ if owner else __name__
    if signature is not None:
        fn.__signature__ = signature  # type: ignore[attr-defined]
    return fn


def _signature(op: Op, first: str | None) -> inspect.Signature:
    source = op.prepare or op.composite
    if source is None:  # the inputs only: x, or a and b
        names = ("x",) if op.arity == 1 else ("a", "b")
        names = names if first is None else (first, *names[1:])
        plain = [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD) for n in names]
        return inspect.Signature(plain, return_annotation="Value")
    signature = inspect.signature(source)
    parameters = list(signature.parameters.values())
    if first is not None and parameters and parameters[0].kind is not inspect.Parameter.VAR_POSITIONAL:
        parameters[0] = parameters[0].replace(name=first, annotation=inspect.Parameter.empty)
    return signature.replace(parameters=parameters, return_annotation="Value")


def _method(op: Op) -> Callable[..., Any]:
    if op.prepare is None and op.composite is None and op.arity == 1:

        def method(self: Value, **params: Any) -> Value:
            return run_op(op, (self,), params or None)

    elif op.composite is None and op.arity == 1:
        # apply() spelled out for a method of one input: self is a Value, the rest are params.

        def method(self: Value, *args: Any, **params: Any) -> Value:
            prepared = _prepared(op, (self,), args, params)
            if type(prepared) is Value:
                return prepared
            return run_op(op, prepared[0], prepared[1] or None)

    else:

        def method(self: Value, *args: Any, **params: Any) -> Value:
            return apply(op, self, *args, **params)

    return _documented(method, op, op.method, _signature(op, "self"), "Value.")


def _operator(op: Op, name: str) -> Callable[..., Any]:
    reflected = name.startswith("__r") and name != "__rshift__"
    if op.arity == 1:

        def unary(self: Value) -> Value:
            return run_op(op, (self,))

        return _documented(unary, op, name, _signature(op, "self"), "Value.")
    if op.prepare is None:
        if reflected:
            return _documented(lambda self, other: run_binary(op, other, self), op, name, None, "Value.")
        return _documented(lambda self, other: run_binary(op, self, other), op, name, None, "Value.")

    def binary(self: Value, other: Any) -> Value:
        try:
            other = lift(other, self)
        except TypeError:
            return NotImplemented
        # apply() spelled out: both operands are Values now, and an operator takes no params.
        prepared = _prepared(op, (other, self) if reflected else (self, other), (), {})
        if type(prepared) is Value:
            return prepared
        return run_op(op, prepared[0], prepared[1] or None)

    return _documented(binary, op, name, None, "Value.")


def _function(op: Op) -> Callable[..., Any]:
    if callable(op.function):
        return op.function

    def function(*args: Any, **params: Any) -> Value:
        return apply(op, *args, **params)

    return _documented(function, op, op.function, _signature(op, None))


def _surface(op: Op) -> None:
    if op.method is not None:
        setattr(Value, op.method, _method(op))
    for name in op.operator:
        setattr(Value, name, _operator(op, name))
    if op.function is not None:
        function = _function(op)
        FUNCTIONS[function.__name__] = function
        globals()[function.__name__] = function  # where pickle finds it again


def _unsurface(op: Op) -> None:
    """Take away what ``_surface`` made for ``op`` (an op of your own, unregistered or replaced)."""
    for name in (op.method, *op.operator):
        if name is not None and name in vars(Value):
            delattr(Value, name)
    if op.function is not None:
        name = op.function if isinstance(op.function, str) else op.function.__name__
        FUNCTIONS.pop(name, None)
        globals().pop(name, None)


install(apply=apply, as_value=lift, value_type=Value)
for _op in list(_ops.REGISTRY.values()):
    _surface(_op)
on_register(_surface)
on_unregister(_unsurface)


# --------------------------------------------------------------------------- PyTorch's names
# Code written for torch tensors reaches the same ops under PyTorch's names (a drawn graph shows
# the op: expand_dims, not unsqueeze). Only names whose meaning is the same in both are here:
# torch's max(dim) also returns indices and its std divides by n - 1, so those keep numpy's.


def _unsqueeze(self: Value, dim: int) -> Value:
    """A new axis of length 1 at ``dim`` (PyTorch's name for ``expand_dims``).

    >>> Value([1.0, 2.0]).unsqueeze(0).shape
    (1, 2)
    """
    return self.expand_dims(dim)


def _view(self: Value, *shape: Any) -> Value:
    """The same numbers in ``shape`` (PyTorch's name for ``reshape``; -1 infers one side).

    >>> Value([1.0, 2.0, 3.0, 4.0]).view(2, -1).shape
    (2, 2)
    """
    return self.reshape(*shape)


def _permute(self: Value, *dims: Any) -> Value:
    """The axes in the order ``dims`` (PyTorch's name for ``transpose`` with axes).

    >>> Value([[[1.0, 2.0]]]).permute(2, 0, 1).shape
    (2, 1, 1)
    """
    return self.transpose(*dims)


def _t(self: Value) -> Value:
    """A matrix transposed; a vector or a number as it is (PyTorch's ``t()``).

    >>> Value([[1.0, 2.0]]).t().shape
    (2, 1)
    """
    if self.ndim > 2:
        raise ValueError(f"t: expects at most 2 axes, got shape {self.shape}; use permute or transpose")
    return self.transpose() if self.ndim == 2 else self


def _clamp(self: Value, min: Any = None, max: Any = None) -> Value:  # noqa: A002 - PyTorch's names
    """Each element limited to [min, max], either bound may be None (PyTorch's name for ``clip``).

    >>> Value([-1.0, 0.5, 2.0]).clamp(0.0, 1.0).tolist()
    [0.0, 0.5, 1.0]
    """
    return self.clip(min, max)


def _pow(self: Value, exponent: Any) -> Value:
    """``self ** exponent`` (PyTorch's ``pow``).

    >>> Value([2.0, 3.0]).pow(2).tolist()
    [4.0, 9.0]
    """
    return self**exponent


def _matmul(self: Value, other: Any) -> Value:
    """``self @ other`` (PyTorch's ``matmul``; ``mm`` is the same here).

    >>> Value([[1.0, 2.0]]).matmul([[3.0], [4.0]]).tolist()
    [[11.0]]
    """
    return self @ other


def _to(self: Value, dtype: Any) -> Value:
    """The numbers in another float dtype (PyTorch's ``to(dtype)``); "cpu", where autonet
    computes anyway, returns the Value as it is.

    >>> import numpy as np
    >>> Value([1.0]).to(np.float32).dtype
    dtype('float32')
    """
    if isinstance(dtype, str) and dtype == "cpu":
        return self
    return self.astype(dtype)


def _float(self: Value) -> Value:
    """The numbers as float32 (PyTorch's ``float()``).

    >>> Value([1.0]).float().dtype
    dtype('float32')
    """
    return self.astype(np.float32)


def _double(self: Value) -> Value:
    """The numbers as float64 (PyTorch's ``double()``).

    >>> import numpy as np
    >>> Value(np.ones(1, dtype=np.float32)).double().dtype
    dtype('float64')
    """
    return self.astype(np.float64)


def _dim(self: Value) -> int:
    """The number of axes (PyTorch's ``dim()``; ``ndim`` is the same).

    >>> Value([[1.0, 2.0]]).dim()
    2
    """
    return self.ndim


def _numel(self: Value) -> int:
    """The number of elements (PyTorch's ``numel()``; ``size`` is the same).

    >>> Value([[1.0, 2.0]]).numel()
    2
    """
    return self.size


TORCH_NAMES: dict[str, Callable[..., Any]] = {
    "unsqueeze": _unsqueeze,
    "view": _view,
    "permute": _permute,
    "t": _t,
    "clamp": _clamp,
    "pow": _pow,
    "matmul": _matmul,
    "mm": _matmul,
    "to": _to,
    "float": _float,
    "double": _double,
    "dim": _dim,
    "numel": _numel,
}
"""PyTorch's tensor method names that ``Value`` answers to, each calling autonet's own op."""

for _name, _alias in TORCH_NAMES.items():
    setattr(Value, _name, _alias)
