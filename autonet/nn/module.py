"""``Module``: the base of every network piece, and how parameters are found, named and saved.

A module's parameters are the ``Value`` objects among its public attributes (directly, or in
lists, tuples and dicts), and those of its sub-modules, walked in the order the attributes were
assigned. Nothing has to be registered: assign and it is found.

Buffers (``register_buffer``: arrays such as a batch norm's running statistics) are saved and
loaded with the parameters but are no parameters, so optimizers never see them.

Names are dotted paths from the module the walk starts at (``layers.0.w``). Assigning a part to
a module also labels it, so drawn graphs show the same names: a Value gets ``label`` = its
dotted name from the root, and a sub-module gets a ``path`` such as ``MLP.layers.0`` that
``Module.__call__`` stores on the Value it returns (``value.scope``) for the graph drawing.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any, ClassVar, TypeVar

import numpy as np

from .._state import STATE, TRACING
from ..engine import Value
from ..storage import clear_gradients, stored_gradient
from .init import float_dtype

__all__ = ["Module", "RemovableHandle"]

M = TypeVar("M", bound="Module")

_Part = Any  # a Value or a Module


def _flatten(name: str, attribute: Any) -> Iterator[tuple[str, _Part]]:
    """The Values and Modules inside one attribute, with their dotted names."""
    if isinstance(attribute, (Value, Module)):
        yield name, attribute
    elif isinstance(attribute, (list, tuple)):
        for index, item in enumerate(attribute):
            yield from _flatten(f"{name}.{index}", item)
    elif isinstance(attribute, dict):
        for key, item in attribute.items():
            yield from _flatten(f"{name}.{key}", item)


class Module:
    """Base class for layers and networks: subclass it, assign parts in ``__init__``, define ``forward``.

    Values assigned as attributes are the module's parameters, modules assigned as attributes
    are its sub-modules (lists, tuples and dicts of either work too); attributes whose name
    starts with ``_`` are private and never walked. Calling the module runs ``forward``.

    >>> import numpy as np
    >>> from autonet import Value
    >>> from autonet.nn import Module
    >>> class Scale(Module):
    ...     def __init__(self):
    ...         self.factor = Value(np.array([2.0, 3.0]))
    ...     def forward(self, x):
    ...         return x * self.factor
    >>> model = Scale()
    >>> model([1.0, 1.0]).tolist()
    [2.0, 3.0]
    >>> [name for name, _ in model.named_parameters()], model.factor.label
    (['factor'], 'factor')
    """

    # Defaults on the class, not set in __init__, so that subclasses need not call
    # super().__init__() (a __new__ would do too, but hides their __init__'s signature from
    # inspect.signature before Python 3.11); adopting a module or train()/eval() sets its own.
    _path: str = "Module"
    _prefix: str = ""
    _training: bool = True
    _forward_pre_hooks: Mapping[int, Any] = MappingProxyType({})  # register_forward_pre_hook
    _forward_hooks: Mapping[int, Any] = MappingProxyType({})  # register_forward_hook

    renamed_parameters: ClassVar[Mapping[str, str]] = MappingProxyType({})
    """Old parameter names -> current ones (``{"w": "weights"}``): ``load_state_dict`` accepts a
    state saved under the old names. The old names are usually kept as properties too."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._path = cls.__name__  # a module that is nobody's attribute is called by its class

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The computation; subclasses define it (``__call__`` runs it)."""
        raise NotImplementedError(
            f"{type(self).__name__}: define forward(self, ...) to make the module callable"
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if TRACING[0] and STATE.tracer is not None:  # autonet.compile: checks mode, settings, parts, hooks
            public = (n for n in vars(self) if not n.startswith("_"))
            STATE.tracer.observe(self, ["training", "_forward_pre_hooks", "_forward_hooks", *public])
        for hook in self._forward_pre_hooks.values():
            changed = hook(self, args)
            if changed is not None:
                args = changed if isinstance(changed, tuple) else (changed,)
        out = self.forward(*args, **kwargs)
        for hook in self._forward_hooks.values():
            changed = hook(self, args, out)
            if changed is not None:
                out = changed
        # Tag the result for graph drawing; an inner module's call tagged it first and keeps it.
        for item in out if isinstance(out, (tuple, list)) else (out,):
            if type(item) is Value and not item.is_leaf and item.scope is None:
                item.scope = self._path
        return out

    # ----------------------------------------------------------------- naming

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)
        if isinstance(getattr(type(self), name, None), property):
            return  # an alias such as Neuron.w: its setter assigned (and named) the real attribute
        if not name.startswith("_"):
            for dotted, part in _flatten(name, value):
                self._adopt(dotted, part, {id(self)})

    def _adopt(self, name: str, part: _Part, seen: set[int]) -> None:
        """Give ``part`` (an attribute of self called ``name``) its label or path under self."""
        if isinstance(part, Value):
            part.label = self._prefix + name
            return
        if id(part) in seen:  # a module that refers back to an ancestor: named already
            return
        seen.add(id(part))
        object.__setattr__(part, "_path", f"{self._path}.{name}")
        object.__setattr__(part, "_prefix", f"{self._prefix}{name}.")
        for dotted, inner in part._members():
            part._adopt(dotted, inner, seen)

    def add_module(self, name: str, module: Module | None) -> None:
        """Make ``module`` the sub-module ``name`` (as assigning the attribute does), PyTorch's way
        of adding parts under names chosen at run time; ``register_module`` is the same.

        >>> from autonet.nn import Module, ReLU
        >>> net = Module()
        >>> net.add_module("act", ReLU())
        >>> [name for name, _ in net.named_children()]
        ['act']
        """
        who = f"{type(self).__name__}.add_module"
        if not isinstance(name, str) or not name.isidentifier() or name.startswith("_"):
            raise KeyError(f"{who}: a module's name is a public attribute name (no dots), got {name!r}")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{who}: {name!r} must be a Module or None, got {type(module).__name__}")
        setattr(self, name, module)

    register_module = add_module

    def register_parameter(self, name: str, param: Value | None) -> None:
        """Make ``param`` the parameter ``name`` (as assigning the attribute does); None keeps the
        name without a parameter, as a layer's missing bias.

        >>> from autonet import Value
        >>> from autonet.nn import Module
        >>> net = Module()
        >>> net.register_parameter("scale", Value(2.0))
        >>> [name for name, _ in net.named_parameters()]
        ['scale']
        """
        who = f"{type(self).__name__}.register_parameter"
        if not isinstance(name, str) or not name.isidentifier() or name.startswith("_"):
            raise KeyError(f"{who}: a parameter's name is a public attribute name (no dots), got {name!r}")
        if param is not None and not isinstance(param, Value):
            raise TypeError(f"{who}: {name!r} must be a Value or None, got {type(param).__name__}")
        setattr(self, name, param)

    def get_submodule(self, target: str) -> Module:
        """The sub-module at the dotted path ``target`` (``""`` is this module itself).

        >>> from autonet.nn import MLP
        >>> type(MLP(2, [3, 1], rng=0).get_submodule("layers.1")).__name__
        'Layer'
        """
        return _found(dict(self.named_modules()), target, self, "module")

    def get_parameter(self, target: str) -> Value:
        """The parameter at the dotted path ``target`` (a name of ``named_parameters()``).

        >>> from autonet.nn import MLP
        >>> MLP(2, [3, 1], rng=0).get_parameter("layers.0.w").shape
        (2, 3)
        """
        return _found(dict(self.named_parameters()), target, self, "parameter")

    def get_buffer(self, target: str) -> np.ndarray:
        """The buffer at the dotted path ``target`` (a name of ``named_buffers()``).

        >>> from autonet.nn import BatchNorm1d
        >>> BatchNorm1d(3).get_buffer("running_var").tolist()
        [1.0, 1.0, 1.0]
        """
        return _found(dict(self.named_buffers()), target, self, "buffer")

    def apply(self: M, fn: Any) -> M:
        """Call ``fn(module)`` on every sub-module, children before their parents, then on this
        one (PyTorch's order, the way to initialise weights by type); returns self.

        >>> from autonet.nn import MLP
        >>> seen = []
        >>> _ = MLP(2, [3, 1], rng=0).apply(lambda m: seen.append(type(m).__name__))
        >>> seen
        ['Layer', 'Layer', 'MLP']
        """
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def register_forward_pre_hook(self, hook: Any) -> RemovableHandle:
        """Call ``hook(module, args)`` before each ``forward``; a result other than None replaces
        the positional arguments (a tuple, or one argument). Returns a handle whose ``remove()``
        takes the hook away.

        >>> from autonet.nn import ReLU
        >>> relu = ReLU()
        >>> handle = relu.register_forward_pre_hook(lambda module, args: ([-x for x in args[0]],))
        >>> relu([1.0, -2.0]).tolist()
        [0.0, 2.0]
        >>> handle.remove()
        >>> relu([1.0, -2.0]).tolist()
        [1.0, 0.0]
        """
        return RemovableHandle(self, "_forward_pre_hooks", hook)

    def register_forward_hook(self, hook: Any) -> RemovableHandle:
        """Call ``hook(module, args, output)`` after each ``forward``, to look at what a layer
        computes (its activations, for a picture or a statistic); a result other than None
        replaces the output. Returns a handle whose ``remove()`` takes the hook away.

        >>> from autonet.nn import MLP
        >>> model, shapes = MLP(2, [3, 1], rng=0), []
        >>> handle = model.layers[0].register_forward_hook(lambda m, args, out: shapes.append(out.shape))
        >>> _ = model([[1.0, 2.0]])
        >>> handle.remove()
        >>> shapes
        [(1, 3)]
        """
        return RemovableHandle(self, "_forward_hooks", hook)

    @property
    def path(self) -> str:
        """The dotted path of this module from the outermost one (``MLP.layers.0``); a module
        that is nobody's attribute has its class name.

        >>> from autonet.nn import MLP
        >>> MLP(2, [3, 1], rng=0).layers[1].path
        'MLP.layers.1'
        """
        return self._path

    def _members(self) -> Iterator[tuple[str, _Part]]:
        for name, attribute in vars(self).items():
            if not name.startswith("_"):
                yield from _flatten(name, attribute)

    def named_modules(self) -> Iterator[tuple[str, Module]]:
        """Every module in the tree, this one first (named ``""``), depth first, each once.

        >>> from autonet.nn import MLP
        >>> [name for name, _ in MLP(2, [3, 1], rng=0).named_modules()]
        ['', 'layers.0', 'layers.1']
        """
        seen = {id(self)}
        stack: list[tuple[str, Module]] = [("", self)]
        while stack:
            prefix, module = stack.pop()
            yield prefix, module
            children = [
                (f"{prefix}.{name}" if prefix else name, part)
                for name, part in module._members()
                if isinstance(part, Module) and id(part) not in seen
            ]
            seen.update(id(part) for _, part in children)
            stack.extend(reversed(children))

    def named_children(self) -> list[tuple[str, Module]]:
        """The direct sub-modules with their attribute names (``layers.0``), in order.

        >>> from autonet.nn import MLP
        >>> [name for name, _ in MLP(2, [3, 1], rng=0).named_children()]
        ['layers.0', 'layers.1']
        """
        return [(name, part) for name, part in self._members() if isinstance(part, Module)]

    def children(self) -> list[Module]:
        """The direct sub-modules, in order (``named_children`` gives their names too), as PyTorch's.

        >>> from autonet.nn import MLP
        >>> [type(part).__name__ for part in MLP(2, [3, 1], rng=0).children()]
        ['Layer', 'Layer']
        """
        return [part for _, part in self.named_children()]

    def modules(self) -> list[Module]:
        """This module and every module inside it, each once, in ``named_modules``' order.

        >>> from autonet.nn import MLP
        >>> len(MLP(2, [3, 1], rng=0).modules())
        3
        """
        return [module for _, module in self.named_modules()]

    def named_parameters(self) -> list[tuple[str, Value]]:
        """``(dotted name, Value)`` for every parameter, in a stable order (attribute order, depth
        first); a Value reachable twice is listed once, under its first name.

        >>> from autonet.nn import Layer
        >>> [(name, p.shape) for name, p in Layer(2, 3, rng=0).named_parameters()]
        [('w', (2, 3)), ('b', (3,))]
        """
        found: list[tuple[str, Value]] = []
        seen_values: set[int] = set()
        seen_modules = {id(self)}

        def walk(module: Module, prefix: str) -> None:
            for name, part in module._members():
                if isinstance(part, Value):
                    if id(part) not in seen_values:
                        seen_values.add(id(part))
                        found.append((prefix + name, part))
                elif id(part) not in seen_modules:
                    seen_modules.add(id(part))
                    walk(part, f"{prefix}{name}.")

        walk(self, "")
        return found

    def parameters(self) -> list[Value]:
        """Every parameter Value, in the order of ``named_parameters()`` (what optimizers take).

        >>> from autonet.nn import MLP
        >>> sum(p.size for p in MLP(2, [16, 16, 1], rng=0).parameters())
        337
        """
        return [p for _, p in self.named_parameters()]

    def register_buffer(self, name: str, array: np.ndarray | None) -> None:
        """Keep ``array`` as the attribute ``name``, a buffer: state that ``state_dict``, ``save``
        and ``load`` keep with the parameters, but no parameter (``parameters()`` and so the
        optimizers never see it), such as a batch norm's running statistics. None is allowed
        (nothing is saved for it); assigning the attribute later replaces the buffer's array.

        >>> import numpy as np
        >>> from autonet.nn import Module
        >>> class Counter(Module):
        ...     def __init__(self):
        ...         self.register_buffer("count", np.zeros((), dtype=np.int64))
        >>> Counter().state_dict(), Counter().parameters()
        ({'count': array(0)}, [])
        """
        who = f"{type(self).__name__}.register_buffer"
        if not isinstance(name, str) or not name.isidentifier() or name.startswith("_"):
            raise ValueError(f"{who}: a buffer's name is a public attribute name, got {name!r}")
        if array is not None and not isinstance(array, np.ndarray):
            raise TypeError(f"{who}: {name!r} must be a numpy array or None, got {type(array).__name__}")
        names = vars(self).get("_buffer_names", ())
        object.__setattr__(self, "_buffer_names", names if name in names else (*names, name))
        setattr(self, name, array)

    def named_buffers(self) -> list[tuple[str, np.ndarray]]:
        """``(dotted name, array)`` for every buffer of the module tree (None ones left out), in
        the order of ``named_modules()``.

        >>> from autonet.nn import BatchNorm1d
        >>> [name for name, _ in BatchNorm1d(3).named_buffers()]
        ['running_mean', 'running_var', 'num_batches_tracked']
        """
        found = []
        for prefix, module in self.named_modules():
            dot = f"{prefix}." if prefix else ""
            for name in vars(module).get("_buffer_names", ()):
                array = getattr(module, name)
                if array is not None:
                    found.append((dot + name, array))
        return found

    def requires_grad_(self: M, requires_grad: bool = True) -> M:
        """Set ``requires_grad`` on every parameter (False freezes them: no gradient reaches
        them, and optimizers, which skip parameters without one, leave them alone); returns self.

        >>> from autonet.nn import MLP
        >>> model = MLP(2, [3, 1], rng=0)
        >>> model.layers[0].requires_grad_(False).w.requires_grad, model.layers[1].w.requires_grad
        (False, True)
        """
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def to(self: M, dtype: Any) -> M:
        """Convert every parameter (its gradient too) and every float buffer of the module tree to
        the float ``dtype``, in place: the Values stay the same objects, so an optimizer made
        before still holds them (PyTorch's ``model.to(torch.float64)``; "cpu" changes nothing).
        Returns self.

        >>> import numpy as np
        >>> from autonet.nn import MLP
        >>> MLP(2, [3, 1], rng=0).to(np.float32).layers[0].w.dtype
        dtype('float32')
        """
        if isinstance(dtype, str) and dtype == "cpu":
            return self
        target = float_dtype(dtype, f"{type(self).__name__}.to")
        for _, module in self.named_modules():
            module._convert_dtype(target)
        return self

    def float(self: M) -> M:
        """``to(np.float32)``: every parameter and float buffer in float32; returns self."""
        return self.to(np.float32)

    def double(self: M) -> M:
        """``to(np.float64)``: every parameter and float buffer in float64 (as for a gradient
        check); returns self."""
        return self.to(np.float64)

    def _convert_dtype(self, dtype: np.dtype) -> None:
        """This module's own parameters and float buffers in ``dtype`` (sub-modules convert their
        own); a module that keeps a dtype of its own for its inputs extends this."""
        for _, part in self._members():
            if isinstance(part, Value) and part.dtype != dtype:
                gradient = stored_gradient(part)
                part.data = np.asarray(part.data).astype(dtype)
                if gradient is not None and not isinstance(gradient, Value):
                    part.grad = np.asarray(gradient).astype(dtype)
        for name in vars(self).get("_buffer_names", ()):
            array = getattr(self, name)
            if array is not None and array.dtype.kind == "f":
                setattr(self, name, array.astype(dtype, copy=False))

    def num_parameters(self) -> int:
        """The number of scalar parameters (the sum of the parameters' sizes).

        >>> from autonet.nn import Layer
        >>> Layer(3, 2, rng=0).num_parameters()
        8
        """
        return sum(p.size for p in self.parameters())

    # ----------------------------------------------------------------- training helpers

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget every parameter's gradient (before the next backward, which adds to them), or
        with ``set_to_none=False`` (PyTorch's argument) set it to zeros.

        >>> from autonet.nn import Layer
        >>> layer = Layer(2, 1, rng=0)
        >>> layer([1.0, 2.0]).sum().backward()
        >>> layer.zero_grad()
        >>> layer.w.grad.tolist()
        [[0.0], [0.0]]
        """
        clear_gradients(self.parameters(), set_to_none)

    @property
    def training(self) -> bool:
        """True in training mode (the default), False after ``eval()``."""
        return self._training

    def train(self: M, mode: bool = True) -> M:
        """Put this module and all its sub-modules in training mode (or evaluation mode with
        ``mode=False``); returns self.

        >>> from autonet.nn import MLP
        >>> model = MLP(2, [3, 1], rng=0).eval()
        >>> model.training, model.layers[0].training, model.train().layers[0].training
        (False, False, True)
        """
        for _, module in self.named_modules():
            object.__setattr__(module, "_training", bool(mode))
        return self

    def eval(self: M) -> M:
        """Put the module tree in evaluation mode (``train(False)``); returns self."""
        return self.train(False)

    # ----------------------------------------------------------------- description

    def extra_repr(self) -> str:
        """What ``repr`` shows inside the parentheses besides the parameter count (override it)."""
        return ""

    def __repr__(self) -> str:
        extra = self.extra_repr()
        count = f"parameters={self.num_parameters()}"
        lines = [f"{type(self).__name__}({extra + ', ' if extra else ''}{count})"]
        for name, child in self.named_children():
            first, *rest = repr(child).splitlines()
            lines.append(f"  ({name}): {first}")
            lines.extend(f"  {line}" for line in rest)
        return "\n".join(lines)

    # ----------------------------------------------------------------- state

    def state_dict(self) -> dict[str, np.ndarray]:
        """A copy of every parameter's data and every buffer, keyed by dotted name (0-d arrays
        for scalars).

        >>> from autonet.nn import Layer
        >>> {name: a.shape for name, a in Layer(2, 3, rng=0).state_dict().items()}
        {'w': (2, 3), 'b': (3,)}
        """
        return {name: np.array(p) for name, p in self._state_entries().items()}

    def _state_entries(self) -> dict[str, Value | np.ndarray]:
        """The parameters, then the buffers, by dotted name: what a state holds."""
        entries: dict[str, Value | np.ndarray] = dict(self.named_parameters())
        entries.update(self.named_buffers())
        return entries

    def load_state_dict(self, state: Mapping[str, Any], strict: bool = True) -> None:
        """Copy arrays from ``state`` (name -> array) into the parameters and buffers of the same names.

        Everything is checked before anything changes: with ``strict`` (the default) the names
        must match exactly, and shapes must always match. On any problem a ``ValueError``
        lists every missing, unexpected, mis-shaped and non-numeric entry, and the module is
        left as it was. Arrays are converted to each parameter's dtype. Keys under a
        sub-module's old parameter names (its ``renamed_parameters``, such as a ``Neuron``'s
        ``w`` and ``b``) load into the parameters' current names.

        >>> from autonet.nn import Layer
        >>> layer = Layer(2, 3, rng=0)
        >>> layer.load_state_dict({"w": [[0.0] * 3] * 2})
        Traceback (most recent call last):
        ...
        ValueError: Layer.load_state_dict: the state does not fit this module (nothing was changed)
          missing: b
        """
        own = self._state_entries()
        state = self._renamed_state(state, own)
        missing = [name for name in own if name not in state]
        unexpected = [name for name in state if name not in own]
        misshaped, not_numeric = [], []
        ready: dict[str, np.ndarray] = {}
        for name, p in own.items():
            if name not in state:
                continue
            entry = state[name]
            try:
                array = np.asarray(entry)
            except (TypeError, ValueError):
                array = np.asarray(None)
            if array.dtype.kind not in "biuf":
                not_numeric.append(f"{name} (dtype {array.dtype})")
            elif array.shape != p.shape:
                misshaped.append(f"{name} (given {array.shape}, the module has {p.shape})")
            else:
                ready[name] = np.array(array, dtype=p.dtype)  # a copy: the state keeps its arrays
        problems = [("mis-shaped", misshaped), ("not numeric", not_numeric)]
        if strict:
            problems = [("missing", missing), ("unexpected", unexpected), *problems]
        problems = [(what, names) for what, names in problems if names]
        if problems:
            details = "\n".join(f"  {what}: {', '.join(names)}" for what, names in problems)
            raise ValueError(
                f"{type(self).__name__}.load_state_dict: the state does not fit this module "
                f"(nothing was changed)\n{details}"
            )
        for name, array in ready.items():
            target = own[name]
            if isinstance(target, Value):
                target.copy_(array)
            else:
                target[...] = array  # a buffer: its array stays the one the module holds

    def _renamed_state(self, state: Mapping[str, Any], own: Mapping[str, Any]) -> Mapping[str, Any]:
        """``state`` with keys under a sub-module's old parameter names (``renamed_parameters``)
        given their current names; a state holding both names of one parameter is refused."""
        current: dict[str, str] = {}
        for prefix, module in self.named_modules():
            for old, new in module.renamed_parameters.items():
                dot = f"{prefix}." if prefix else ""
                current[dot + old] = dot + new
        renamed = {key: current[key] for key in state if key in current and current[key] in own}
        if not renamed:
            return state
        both = [f"{old} and {new}" for old, new in renamed.items() if new in state]
        if both:
            raise ValueError(
                f"{type(self).__name__}.load_state_dict: the state names one parameter twice, under its "
                f"old and its current name: {', '.join(both)}; keep only the current one "
                "(nothing was changed)"
            )
        return {renamed.get(key, key): array for key, array in state.items()}

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the parameters to an ``.npz`` file at ``path`` (the exact name given).

        The file is written to a temporary name in the same directory and renamed over
        ``path`` only when complete, so a failed save leaves any earlier file intact.
        Read it back with ``load`` (or ``numpy.load``).

        >>> import os, tempfile
        >>> from autonet.nn import Layer
        >>> path = os.path.join(tempfile.mkdtemp(), "layer.npz")
        >>> Layer(2, 3, rng=0).save(path)
        >>> sorted(np.load(path).files)
        ['b', 'w']
        """
        state = self.state_dict()
        path = os.fspath(path)
        directory = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(directory):
            raise FileNotFoundError(
                f"{type(self).__name__}.save: the directory {directory!r} for {path!r} does not exist; "
                "create it first (os.makedirs)"
            )
        handle, temporary = tempfile.mkstemp(
            prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory
        )
        try:
            with os.fdopen(handle, "wb") as file:
                # The layout of numpy.savez, written by hand so that no name can collide with
                # savez's own keyword arguments and nothing is ever pickled.
                with zipfile.ZipFile(
                    file, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True
                ) as archive:
                    for name, array in state.items():
                        with archive.open(f"{name}.npy", mode="w", force_zip64=True) as member:
                            np.lib.format.write_array(member, array, allow_pickle=False)
                file.flush()
                os.fsync(file.fileno())
            try:
                mode = os.stat(path).st_mode & 0o777
            except FileNotFoundError:
                mode = 0o644
            os.chmod(temporary, mode)
            os.replace(temporary, path)
        except BaseException:
            try:
                os.unlink(temporary)
            except FileNotFoundError:
                pass
            raise

    def load(self: M, path: str | os.PathLike[str], strict: bool = True) -> M:
        """Read parameters saved by ``save`` into this module; returns self.

        The file is read whole and checked (see ``load_state_dict``) before any parameter
        changes; a file that is not a readable ``.npz`` of plain arrays raises ``ValueError``
        and changes nothing. Nothing is ever unpickled.

        >>> import os, tempfile
        >>> from autonet.nn import Layer
        >>> path = os.path.join(tempfile.mkdtemp(), "layer.npz")
        >>> Layer(2, 3, rng=0).save(path)
        >>> bool((Layer(2, 3, rng=1).load(path).w.data == Layer(2, 3, rng=0).w.data).all())
        True
        """
        path = os.fspath(path)
        who = f"{type(self).__name__}.load"
        with open(path, "rb") as file:  # a missing file raises FileNotFoundError naming it
            start = file.read(4)
        if start != b"PK\x03\x04":  # every .npz is a zip archive; anything else is not one
            single = start == b"\x93NUM"
            what = "a single array (.npy)" if single else f"not a zip archive (it starts {start!r})"
            raise ValueError(
                f"{who}: {path!r} is not an .npz file of named parameters: it is {what}; write one with "
                "save() (nothing was changed)"
            )
        try:
            archive = np.load(path, allow_pickle=False)
            if not isinstance(archive, np.lib.npyio.NpzFile):
                raise ValueError("it holds a single array, not named parameters")
            with archive:
                state = {name: archive[name] for name in archive.files}
        except (FileNotFoundError, IsADirectoryError, PermissionError):
            raise
        except Exception as error:  # a damaged file fails in zipfile, zlib or numpy's format code
            raise ValueError(
                f"{who}: {path!r} is not a readable .npz file of parameters (nothing was changed): {error}"
            ) from error
        self.load_state_dict(state, strict=strict)
        return self


def _found(parts: dict[str, Any], target: str, root: Module, kind: str) -> Any:
    if target not in parts:
        known = ", ".join(repr(name) for name in parts) or "none"
        raise AttributeError(f"{type(root).__name__} has no {kind} {target!r}; it has {known}")
    return parts[target]


class RemovableHandle:
    """What ``register_forward_hook`` and ``register_forward_pre_hook`` return: ``remove()`` takes
    the hook away again (also on leaving a ``with`` block).

    >>> from autonet.nn import ReLU
    >>> relu, calls = ReLU(), []
    >>> with relu.register_forward_hook(lambda *args: calls.append(1)):
    ...     _ = relu([1.0])
    >>> _ = relu([1.0])
    >>> calls
    [1]
    """

    _next_id = 0

    def __init__(self, module: Module, table: str, hook: Any) -> None:
        if not callable(hook):
            raise TypeError(f"{type(module).__name__}: a hook must be callable, got {type(hook).__name__}")
        RemovableHandle._next_id += 1
        self.id, self._module, self._table = RemovableHandle._next_id, module, table
        # A new mapping each time: the class's empty default is never changed.
        object.__setattr__(module, table, {**getattr(module, table), self.id: hook})

    def remove(self) -> None:
        """Take the hook away (nothing happens if it is gone already)."""
        hooks = dict(getattr(self._module, self._table))
        hooks.pop(self.id, None)
        object.__setattr__(self._module, self._table, hooks)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()
