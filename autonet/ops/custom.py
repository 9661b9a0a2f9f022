"""Ops of your own: ``autonet.op`` turns a numpy forward and its vjps into a registered op.

The decorator builds the same ``Op`` entry that autonet's own ops are (``register(Op(...))``),
with defaults for what a user op rarely needs to spell out: inputs and parameters are read from
the forward's signature (the positional parameters without a default are the inputs, the rest
are parameters, passed by keyword or after the inputs), every input is sampled in ``REAL``
unless a ``Domain`` says otherwise, the checks draw broadcasting shapes as for ``add`` unless
``shapes=`` fixes them, and edges, when none are declared, are a 0-d and a size-0 input at which
the op must run and give gradients of the right shape. The op joins the registry for the rest
of the process: ``call_op(name, ...)``, an optional ``Value`` method, drawing, anomaly mode,
``create_graph`` and ``autonet.testing.check_user_op`` all find it there.

A name is taken once: defining it again is a ``ValueError`` unless ``replace=True`` (a notebook
cell run twice), and the name of a built-in op is always refused.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from .cases import ELEMENTWISE
from .registry import REAL, REGISTRY, Cases, Domain, Edge, Op, apply, as_value, is_value, register, unregister

__all__ = ["UserOp", "op"]

# Imported last by autonet/ops/__init__.py: what is registered now is autonet's own.
_BUILT_IN = frozenset(REGISTRY)
_DEFINED: dict[str, Op] = {}  # the ops defined with op(), by name

Shape = tuple[int, ...]
EdgeSpec = Edge | tuple[Any, Any, Any]


class UserOp:
    """An op of your own, as ``@autonet.op`` returns it: call it on Values, numbers or numpy
    arrays, with its parameters by keyword or after the inputs, and get a ``Value`` back.

    ``entry`` is its registry ``Op``; ``unregister()`` removes it from the registry (the name is
    free again; Values already computed keep their graph).

    >>> import autonet
    >>> @autonet.op(vjp=lambda g, out, x: g * 2 * x)
    ... def square_it(x):
    ...     return x * x
    >>> square_it(3.0).item(), square_it.entry.arity
    (9.0, 1)
    >>> square_it.unregister()
    """

    def __init__(self, entry: Op, forward: Callable[..., Any]) -> None:
        self.entry = entry
        functools.update_wrapper(self, forward)

    @property
    def name(self) -> str:
        """The registry name (what ``call_op``, drawings and error messages use)."""
        return self.entry.name

    def __call__(self, *args: Any, **params: Any) -> Any:
        return apply(self.entry, *args, **params)

    def unregister(self) -> None:
        """Remove this op from the registry, with its ``Value`` method; nothing if it is gone already."""
        if REGISTRY.get(self.entry.name) is self.entry:
            unregister(self.entry.name)
        if _DEFINED.get(self.entry.name) is self.entry:
            del _DEFINED[self.entry.name]

    def __repr__(self) -> str:
        return f"<autonet op {self.entry.name!r}>"


def op(
    forward: Callable[..., Any] | None = None,
    *,
    vjp: Callable[..., Any] | Sequence[Callable[..., Any]] | None = None,
    jvp: Callable[..., Any] | Sequence[Callable[..., Any]] | None = None,
    name: str | None = None,
    domain: Domain | Sequence[Domain] | None = None,
    edges: Sequence[EdgeSpec] | None = None,
    shapes: Sequence[Shape] | Sequence[Sequence[Shape]] | None = None,
    sample_params: Sequence[Mapping[str, Any]] | None = None,
    cases: Cases | None = None,
    method: str | bool = False,
    scalar: Callable[..., float] | None = None,
    smooth: bool = True,
    twice_differentiable: bool = True,
    doc: str | None = None,
    replace: bool = False,
) -> UserOp | Callable[[Callable[..., Any]], UserOp]:
    """Register ``forward`` as an op with its vector-Jacobian products; returns a ``UserOp``.

    Used as ``@op(vjp=...)`` above a numpy function, or called as ``op(forward, vjp=...)``.
    ``forward(*inputs, **params)``: its positional parameters without a default are the inputs
    (gradients flow to them), the others parameters, filled in from their defaults. ``vjp``: one
    ``vjp(g, out, *inputs, **params)`` per input (a bare function for one), written with numpy
    operators and ufuncs, so that under ``create_graph=True`` the same code records a graph;
    the engine undoes broadcasting, and ``autonet.ops.gate(g, mask)`` gives exactly 0 where the
    output does not depend on the input. ``jvp``: optional, ``jvp(t, out, *inputs, **params)``
    per input, for forward mode (without it forward mode through the op raises, naming it).
    ``name``: by default the forward's (a built-in's is refused; one of yours needs
    ``replace=True``). ``domain``: where checks sample each input (``REAL``, [-3, 3], unless
    given; keep kinks and poles out, ``Domain(avoid=(0.0,))``, and say ``smooth=False``).
    ``edges``: ``autonet.ops.Edge`` or ``(at, value, grad)`` tuples pinning the op where the
    interior ends (a 0-d and a size-0 case are added when none is given). ``shapes``,
    ``sample_params`` or ``cases``: the inputs the checks use. ``method``: also a ``Value``
    method; ``scalar``: a Python-float fast path; ``smooth``, ``twice_differentiable`` as in
    ``Op``; ``doc``: the first line of help. docs/custom_ops.md has the whole story.

    Raises ``TypeError`` or ``ValueError`` naming the op when the declaration is incomplete or
    inconsistent (a vjp per input, a domain per input, a name taken).

    >>> import numpy as np
    >>> import autonet
    >>> @autonet.op(vjp=lambda g, out, x, *, power: g * power * x ** (power - 1))
    ... def pow_of(x, *, power=3.0):
    ...     "x ** power, elementwise."
    ...     return x ** power
    >>> x = autonet.Value([1.0, 2.0])
    >>> y = pow_of(x)            # power=3 from the default
    >>> y.sum().backward()
    >>> y.tolist(), x.grad.tolist(), pow_of(np.array(2.0), power=2.0).item()
    ([1.0, 8.0], [3.0, 12.0], 4.0)
    >>> autonet.call_op("pow_of", x, power=2.0).tolist()
    [1.0, 4.0]
    >>> pow_of.unregister()
    """
    options = {key: value for key, value in locals().items() if key != "forward"}  # the keywords
    if forward is None:
        return lambda function: _define(function, **options)
    return _define(forward, **options)


def _define(forward: Callable[..., Any], *, replace: bool, **options: Any) -> UserOp:
    entry = _entry(forward, **options)
    _take(entry, replace)
    return UserOp(entry, forward)


def _entry(
    forward: Callable[..., Any],
    *,
    vjp: Any,
    jvp: Any,
    name: str | None,
    domain: Any,
    edges: Any,
    shapes: Any,
    sample_params: Any,
    cases: Cases | None,
    method: str | bool,
    scalar: Callable[..., float] | None,
    smooth: bool,
    twice_differentiable: bool,
    doc: str | None,
) -> Op:
    if not callable(forward):
        raise TypeError(f"autonet.op: decorate a function (the forward), got {forward!r}")
    name = _name(forward, name)
    signature, inputs, params = _parameters(forward, name)
    vjps = _rules(vjp, "vjp", name, inputs, params)
    jvps = None if jvp is None else _rules(jvp, "jvp", name, inputs, params)
    domains = _domains(domain, name, len(inputs))
    listed = _listed_params(sample_params, name, signature, params)
    shape_sets = None if shapes is None else _shape_sets(shapes, name, len(inputs))
    case_spec = _cases(cases, shape_sets, listed, name)
    if cases is not None and not edges:
        raise TypeError(f"{name}: an op with its own cases= declares its edges=, as autonet's ops do")
    return Op(
        name,
        forward,
        vjps,
        domains,
        jvps=jvps,
        cases=case_spec,
        scalar=scalar,
        smooth=bool(smooth),
        twice_differentiable=bool(twice_differentiable),
        doc=doc if doc is not None else _summary(forward, name),
        edges=_edges(edges, name, inputs, domains, shape_sets, listed),
        prepare=_preparer(name, signature, inputs, params),
        method=_method_name(method, name),
    )


def _name(forward: Callable[..., Any], name: str | None) -> str:
    name = getattr(forward, "__name__", None) if name is None else name
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(
            f"autonet.op: an op's name must be an identifier (call_op and the graph language use it), "
            f"got {name!r}; give name=..."
        )
    return name


def _parameters(forward: Callable[..., Any], name: str) -> tuple[inspect.Signature, list[str], list[str]]:
    try:
        signature = inspect.signature(forward)
    except (TypeError, ValueError):
        raise TypeError(
            f"{name}: autonet.op reads the inputs from the forward's signature, and {forward!r} has none; "
            "wrap it in a def"
        ) from None
    inputs, params = [], []
    for parameter in signature.parameters.values():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            raise TypeError(
                f"{name}: the forward takes *{parameter.name} or **{parameter.name}; name each input "
                "and parameter (an op of your own has a fixed number of inputs)"
            )
        positional = parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD)
        if positional and parameter.default is parameter.empty:
            if params:
                raise TypeError(f"{name}: input {parameter.name!r} comes after a parameter with a default")
            inputs.append(parameter.name)
        else:
            params.append(parameter.name)
    if not inputs:
        raise TypeError(
            f"{name}: the forward has no inputs (positional parameters without a default): {signature}"
        )
    return signature, inputs, params


def _rules(
    given: Any, kind: str, name: str, inputs: list[str], params: list[str]
) -> tuple[Callable[..., Any], ...]:
    """The ``kind`` ("vjp" or "jvp") functions, one per input, checked against the forward's
    signature: each takes the upstream gradient (or tangent), ``out``, the inputs and params."""
    first = "g" if kind == "vjp" else "t"
    if given is None:
        raise TypeError(
            f"{name}: give vjp=..., the gradient of each input: vjp(g, out, {', '.join(inputs)}) "
            "returning g times the derivative"
        )
    rules = (given,) if callable(given) else tuple(given)
    if len(rules) != len(inputs):
        raise ValueError(
            f"{name}: {len(rules)} {kind}(s) for {len(inputs)} input(s) ({', '.join(inputs)}); "
            "give one per input"
        )
    placeholders = {p: None for p in params}
    for index, function in enumerate(rules):
        if not callable(function):
            raise TypeError(f"{name}: the {kind} for input {inputs[index]!r} is {function!r}, not a function")
        try:
            signature = inspect.signature(function)
        except (TypeError, ValueError):
            continue  # a builtin: nothing to check in advance
        try:
            signature.bind(None, None, *[None] * len(inputs), **placeholders)
        except TypeError as error:
            wanted = ", ".join([first, "out", *inputs, *(f"{p}=" for p in params)])
            raise TypeError(
                f"{name}: the {kind} for input {inputs[index]!r} must take ({wanted}); "
                f"its signature {signature} does not ({error})"
            ) from None
    return rules


def _domains(domain: Any, name: str, count: int) -> tuple[Domain, ...]:
    if domain is None:
        return (REAL,) * count
    domains = (domain,) * count if isinstance(domain, Domain) else tuple(domain)
    if len(domains) != count or not all(isinstance(d, Domain) for d in domains):
        raise TypeError(
            f"{name}: domain must be one autonet.ops.Domain or one per input ({count}), got {domain!r}"
        )
    for d in domains:
        if not d.bounds[0] <= d.low < d.high <= d.bounds[1]:
            raise ValueError(f"{name}: {d} needs bounds[0] <= low < high <= bounds[1]")
    return domains


def _listed_params(
    listed: Any, name: str, signature: inspect.Signature, params: list[str]
) -> list[dict[str, Any]] | None:
    required = [p for p in params if signature.parameters[p].default is inspect.Parameter.empty]
    if listed is None:
        if required:
            raise TypeError(
                f"{name}: parameter(s) {required} have no default; give sample_params=[{{...}}] so the "
                "checks can call the op"
            )
        return None
    sets = [dict(s) for s in listed]
    if not sets:
        raise ValueError(f"{name}: sample_params is empty; give at least one parameter set")
    for s in sets:
        unknown, missing = set(s) - set(params), set(required) - set(s)
        if unknown or missing:
            raise TypeError(
                f"{name}: sample_params {s} has unknown {sorted(unknown)} or lacks {sorted(missing)}; "
                f"the parameters are {params}"
            )
    return sets


def _cases(
    cases: Cases | None, sets: list[tuple[Shape, ...]] | None, listed: list[dict[str, Any]] | None, name: str
) -> Cases:
    if cases is not None:
        if not isinstance(cases, Cases) or sets is not None or listed is not None:
            raise TypeError(f"{name}: give cases= (an autonet.ops.Cases) or shapes=/sample_params=, not both")
        return cases
    choose = None if listed is None else _chooser(listed)
    if sets is None:
        if choose is None:
            return ELEMENTWISE
        return dataclasses.replace(ELEMENTWISE, family="user", params=choose)
    return Cases(
        "user",
        lambda op, source: list(source.choice(sets)),
        params=choose or (lambda op, shapes, source: {}),
        accepts=lambda given: [tuple(s) for s in given] in [list(s) for s in sets],
    )


def _chooser(listed: list[dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    def params(op: Op, shapes: list[Shape], source: Any) -> dict[str, Any]:
        return dict(source.choice(listed))

    return params


def _shape_sets(shapes: Any, name: str, count: int) -> list[tuple[Shape, ...]]:
    def is_shape(s: Any) -> bool:
        return isinstance(s, tuple) and all(isinstance(n, int) and n >= 0 for n in s)

    shapes = list(shapes)
    sets = [tuple(shapes)] if shapes and all(is_shape(s) for s in shapes) else [tuple(s) for s in shapes]
    if not sets or not all(len(s) == count and all(is_shape(x) for x in s) for s in sets):
        raise TypeError(
            f"{name}: shapes must be one shape (a tuple of ints) per input ({count}), or a list of such "
            f"sets, got {shapes!r}"
        )
    return sets


def _interior_point(domain: Domain) -> float:
    """A value well inside ``domain``: the middle, or an end when the middle is avoided."""
    for point in ((domain.low + domain.high) / 2, domain.low, domain.high):
        if all(abs(point - a) >= domain.margin for a in domain.avoid):
            return float(point)
    return float(domain.low)


def _edges(
    edges: Any,
    name: str,
    inputs: list[str],
    domains: tuple[Domain, ...],
    shapes: list[tuple[Shape, ...]] | None,
    listed: list[dict[str, Any]] | None,
) -> tuple[Edge, ...]:
    declared = tuple(_edge(spec, name, inputs) for spec in (edges or ()))
    points = [_interior_point(d) for d in domains]
    count = len(inputs)
    unpinned = {"grads": (None,) * count, "params": listed[0] if listed else {}, "torch": False}
    if shapes is not None:
        if declared:
            return declared
        # Shapes the elementwise draws do not fit: one unpinned point of the first declared shapes.
        at = tuple(np.full(s, p) for s, p in zip(shapes[0], points, strict=True))
        return (Edge(f"shapes {list(shapes[0])} (unpinned)", at, **unpinned),)
    added = []
    if not any(any(np.ndim(x) == 0 for x in e.inputs) for e in declared):
        added.append(Edge("0-d inputs (unpinned)", tuple(points), **unpinned))
    if not any(any(np.size(x) == 0 for x in e.inputs) for e in declared):
        empty = tuple(np.zeros(0) for _ in inputs)
        added.append(Edge("size-0 inputs (unpinned)", empty, **unpinned))
    return declared + tuple(added)


def _edge(spec: Any, name: str, inputs: list[str]) -> Edge:
    if isinstance(spec, Edge):
        return spec
    if not (isinstance(spec, tuple) and len(spec) == 3):
        raise TypeError(f"{name}: an edge is an autonet.ops.Edge or a tuple (at, value, grad), got {spec!r}")
    at, value, grad = spec
    if len(inputs) == 1:
        at, grad = (at,), (grad,)
    at, grad = tuple(at), tuple(grad) if grad is not None else (None,) * len(inputs)
    if len(at) != len(inputs) or len(grad) != len(inputs):
        raise ValueError(
            f"{name}: the edge {spec!r} needs one input and one gradient per input ({', '.join(inputs)})"
        )
    point = ", ".join(f"{n} = {_shown(x)}" for n, x in zip(inputs, at, strict=True))
    return Edge(point, at, grads=grad, value=value, torch=False)


def _shown(x: Any) -> str:
    return repr(x) if np.ndim(x) == 0 else np.array2string(np.asarray(x), separator=", ")


def _summary(forward: Callable[..., Any], name: str) -> str:
    text = inspect.getdoc(forward) or ""
    first = text.strip().split("\n\n", 1)[0].replace("\n", " ")
    return first or f"{name}, an op defined with autonet.op."


def _preparer(
    name: str, signature: inspect.Signature, inputs: list[str], params: list[str]
) -> Callable[..., tuple[tuple[Any, ...], dict[str, Any]]]:
    def prepare(*args: Any, **kwargs: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError as error:
            raise TypeError(f"{name}: {error}; its signature is {name}{signature}") from None
        bound.apply_defaults()
        values = {p: bound.arguments[p] for p in params}
        for p, v in values.items():
            if is_value(v):
                raise TypeError(
                    f"{name}: parameter {p!r} got a Value; gradients flow only to the inputs "
                    f"({', '.join(inputs)}): pass a number or array, or make it an input"
                )
        return tuple(bound.arguments[i] for i in inputs), values

    prepare.__signature__ = signature  # type: ignore[attr-defined]
    return prepare


def _method_name(method: str | bool, name: str) -> str | None:
    if method is False or method is None:
        return None
    chosen = name if method is True else method
    if not isinstance(chosen, str) or not chosen.isidentifier():
        raise ValueError(f"{name}: method must be True or an identifier, got {method!r}")
    return chosen


def _take(entry: Op, replace: bool) -> None:
    """Register ``entry`` under its name: refused for a built-in op's name, and for one of yours
    unless ``replace``; a method name that ``Value`` has already (not from one of your ops) is refused."""
    name = entry.name
    if name in _BUILT_IN:
        raise ValueError(
            f"{name!r} is a built-in autonet op (autonet.ops.REGISTRY[{name!r}]); give your op another name"
        )
    previous = _DEFINED.get(name)
    if name in REGISTRY and REGISTRY[name] is not previous:
        raise ValueError(
            f"{name!r} is already registered, not by autonet.op (an entry added with register()); "
            "give your op another name"
        )
    if previous is not None and not replace:
        raise ValueError(
            f"an op named {name!r} is already defined (by {_where(previous)}); pass replace=True to "
            "replace it, or give another name"
        )
    method = entry.method
    if method is not None and hasattr(type(as_value(0.0)), method):
        owner = next((o for o in REGISTRY.values() if o.method == method), None)
        if owner is None or owner is not previous:
            what = f"op {owner.name!r}" if owner is not None else "autonet itself"
            raise ValueError(f"{name}: Value.{method} exists already (from {what}); choose another method=")
    if previous is not None:
        unregister(name)
    try:
        register(entry)
    except Exception:
        if previous is not None:
            register(previous)
        raise
    _DEFINED[name] = entry


def _where(entry: Op) -> str:
    forward = entry.forward
    module = getattr(forward, "__module__", None) or "?"
    line = getattr(getattr(forward, "__code__", None), "co_firstlineno", None)
    return f"{module}.{getattr(forward, '__qualname__', entry.name)}" + (f", line {line}" if line else "")
