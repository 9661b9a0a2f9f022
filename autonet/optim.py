"""Optimizers (``SGD`` with momentum, Nesterov and weight decay, ``Adam``, ``AdamW``,
``RMSprop``, ``Adagrad``) and learning-rate schedulers (``StepLR``, ``MultiStepLR``,
``ExponentialLR``, ``CosineAnnealingLR``, ``LinearLR``, ``LambdaLR``, ``ReduceLROnPlateau``).

An optimizer holds its parameters (Values) in parameter groups, as PyTorch does: pass
``model.parameters()`` for one group, or a list of dicts such as ``[{"params": body},
{"params": head, "lr": 1e-2}]`` to give some parameters their own hyperparameters (the keyword
arguments are the defaults of every group). ``step()`` updates each parameter that has a
gradient from its ``.grad`` through ``Value.add_``/``mul_``: in place, unless a recorded graph
still needs the old numbers (then the parameter moves to a new array and the graph keeps what
its forward saw), and ``zero_grad()`` clears the gradients before the next backward.
``state_dict()`` and ``load_state_dict()`` save and restore the groups' hyperparameters and the
per-parameter state (momentum buffers, moment estimates, step counts) so that training can
resume exactly.

Every optimizer takes PyTorch's arguments in PyTorch's order; ``maximize=True`` steps up the
gradient instead of down (a reward, a log-likelihood).

A scheduler changes each group's ``"lr"`` once per ``step()`` (per epoch, usually); the update
and schedule formulas are those of PyTorch, so results can be compared one to one.

>>> import numpy as np
>>> from autonet import Value
>>> from autonet.optim import SGD
>>> w = Value(np.array([1.0, -2.0]))
>>> optimizer = SGD([w], lr=0.1)
>>> (w * w).sum().backward()
>>> optimizer.step()
>>> w.data.tolist()
[0.8, -1.6]
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from ._state import STATE
from .engine import Value, stored_gradient
from .storage import add_gradients_, clear_gradients

__all__ = [
    "SGD",
    "Adagrad",
    "Adam",
    "AdamW",
    "CosineAnnealingLR",
    "ExponentialLR",
    "LRScheduler",
    "LambdaLR",
    "LinearLR",
    "MultiStepLR",
    "Optimizer",
    "RMSprop",
    "ReduceLROnPlateau",
    "StepLR",
]

ParamGroup = dict[str, Any]
Params = Iterable[Value] | Iterable[ParamGroup]


def _gradient(p: Value) -> Any:
    """The parameter's gradient as plain data (a float or an array), or None if it has none."""
    g = stored_gradient(p)
    if g is None or type(g) is float or type(g) is np.ndarray:
        return g
    return g.numpy()  # a Value, after backward(create_graph=True)


class Optimizer:
    """What every optimizer shares: the parameter groups, ``zero_grad``, and saving the state.

    ``param_groups`` is a list of dicts, each with ``"params"`` (a list of Values) and every
    hyperparameter (``"lr"`` ...); ``step`` reads them afresh each time, so
    ``optimizer.param_groups[1]["lr"] = 0.01`` changes one group's learning rate and
    ``optimizer.lr = 0.01`` every group's (reading ``optimizer.lr`` needs the groups to agree).
    ``defaults`` holds the keyword arguments, what a group leaves out. Subclasses implement
    ``step`` and may check and normalise hyperparameters in ``_checked``.

    >>> from autonet import Value
    >>> body, head = Value([1.0, 2.0]), Value(3.0)
    >>> optimizer = SGD([{"params": [body]}, {"params": [head], "lr": 0.5}], lr=0.1)
    >>> [group["lr"] for group in optimizer.param_groups]
    [0.1, 0.5]
    """

    _state_names: tuple[str, ...] = ()
    _nonnegative: tuple[str, ...] = ()  # hyperparameters that must be >= 0
    defaults: dict[str, Any]
    param_groups: list[ParamGroup]
    state: list[dict[str, Any]]

    def __init__(self, params: Params, **defaults: Any) -> None:
        who = type(self).__name__
        if isinstance(params, (Value, dict)):
            raise TypeError(
                f"{who}: params must be an iterable of Values, e.g. model.parameters(), "
                "or a list of parameter groups (dicts with 'params')"
            )
        given = list(params)
        if not given:
            raise ValueError(f"{who}: got an empty parameter list")
        object.__setattr__(self, "defaults", self._checked(dict(defaults)))
        object.__setattr__(self, "param_groups", [])
        # One dict per parameter, in the order of ``params``, filled on its first step: the
        # buffers named in _state_names and "step".
        object.__setattr__(self, "state", [])
        groups = [item for item in given if isinstance(item, dict)]
        if groups and len(groups) != len(given):
            raise TypeError(f"{who}: give either Values or parameter groups (dicts), not a mixture")
        for group in groups or [{"params": given}]:
            self.add_param_group(group)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "step" in cls.__dict__:
            cls.step = _recordable(cls.__dict__["step"])  # type: ignore[method-assign]

    def _checked(self, settings: dict[str, Any]) -> dict[str, Any]:
        """The hyperparameters ``settings``, checked (``ValueError``) and normalised: those named
        in ``_nonnegative`` must be >= 0; subclasses check the rest."""
        for name in self._nonnegative:
            if name in settings:
                _check(settings[name] >= 0, type(self).__name__, f"{name} must be >= 0, got {settings[name]}")
        if "maximize" in settings and not isinstance(settings["maximize"], (bool, np.bool_)):
            raise TypeError(f"{type(self).__name__}: maximize must be a bool, got {settings['maximize']!r}")
        return settings

    def add_param_group(self, param_group: ParamGroup) -> None:
        """Add a group of parameters with its own hyperparameters (the defaults fill the rest),
        as when unfreezing part of a network during training.

        >>> from autonet import Value
        >>> optimizer = SGD([Value(1.0)], lr=0.1)
        >>> optimizer.add_param_group({"params": [Value(2.0)], "lr": 0.01})
        >>> [(len(g["params"]), g["lr"]) for g in optimizer.param_groups]
        [(1, 0.1), (1, 0.01)]
        """
        who, index = type(self).__name__, len(self.param_groups)
        if not isinstance(param_group, dict) or "params" not in param_group:
            raise TypeError(f"{who}: a parameter group is a dict with 'params', got {param_group!r}")
        where = f" (parameter group {index})" if index else ""
        found = param_group["params"]
        params = [found] if isinstance(found, Value) else list(found)
        if not params:
            raise ValueError(f"{who}: got an empty parameter list{where}")
        for number, p in enumerate(params):
            if not isinstance(p, Value):
                raise TypeError(f"{who}: parameter {number}{where} is a {type(p).__name__}, not a Value")
        known = {id(p) for p in self.params}
        if len({id(p) for p in params}) != len(params) or known & {id(p) for p in params}:
            raise ValueError(f"{who}: a parameter appears more than once in the list{where}")
        own = {key: value for key, value in param_group.items() if key != "params"}
        try:
            own = self._checked(own)
        except ValueError as error:
            raise ValueError(f"{error}{where}") from None
        self.param_groups.append({"params": params, **self.defaults, **own})
        self.state.extend({} for _ in params)

    @property
    def params(self) -> list[Value]:
        """Every parameter, group after group (the order of ``state``).

        >>> from autonet import Value
        >>> len(SGD([Value(1.0), Value(2.0)], lr=0.1).params)
        2
        """
        return [p for group in self.param_groups for p in group["params"]]

    def _groups(self) -> Iterator[tuple[ParamGroup, Iterator[tuple[Value, dict[str, Any]]]]]:
        """Each group with its parameters paired with their state dicts."""
        start = 0
        for group in self.param_groups:
            params = group["params"]
            yield group, zip(params, self.state[start : start + len(params)], strict=True)
            start += len(params)

    def __getattr__(self, name: str) -> Any:
        # Only called when ordinary lookup fails: a hyperparameter is read from the groups.
        defaults = self.__dict__.get("defaults", {})
        if name not in defaults:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        values = [group[name] for group in self.param_groups]
        if any(value != values[0] for value in values):
            raise AttributeError(
                f"{type(self).__name__}.{name}: the parameter groups differ ({values}); "
                f"read optimizer.param_groups[i][{name!r}]"
            )
        return values[0]

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self.__dict__.get("defaults", {}):
            for group in self.param_groups:
                group[name] = value
        else:
            object.__setattr__(self, name, value)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's gradient (backward adds to existing gradients): forget it, or
        with ``set_to_none=False`` (PyTorch's argument) set it to zeros.

        >>> from autonet import Value
        >>> w = Value(2.0)
        >>> optimizer = SGD([w], lr=0.1)
        >>> (w * w).backward()
        >>> optimizer.zero_grad()
        >>> w.grad.item()
        0.0
        """
        clear_gradients(self.params, set_to_none)

    def step(self) -> None:
        """Update every parameter that has a gradient, each by ``_update``."""
        for group, pairs in self._groups():
            for p, state in pairs:
                g = _gradient(p)
                if g is not None:
                    self._update(p, -g if group["maximize"] else g, state, group)

    def _update(self, p: Value, g: Any, state: dict[str, Any], group: ParamGroup) -> None:
        """One step of one parameter with gradient ``g`` (subclasses implement it)."""
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        """The groups' hyperparameters (their parameters as positions in ``params``) and a copy
        of the per-parameter state, to resume training later.

        >>> from autonet import Value
        >>> optimizer = Adam([Value([1.0])], lr=0.01)
        >>> sorted(optimizer.state_dict())
        ['param_groups', 'state', 'type']
        >>> optimizer.state_dict()["param_groups"][0]["params"]
        [0]
        """
        groups, start = [], 0
        for group in self.param_groups:
            count = len(group["params"])
            settings = {key: value for key, value in group.items() if key != "params"}
            groups.append({**settings, "params": list(range(start, start + count))})
            start += count
        return {
            "type": type(self).__name__,
            "param_groups": groups,
            "state": [{key: np.array(value) for key, value in entry.items()} for entry in self.state],
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what ``state_dict`` returned; checks the groups' and parameters' counts and
        the buffers' shapes first and changes nothing if they do not fit (``ValueError``).

        >>> from autonet import Value
        >>> first = Adam([Value([1.0])], lr=0.5)
        >>> second = Adam([Value([3.0])])
        >>> second.load_state_dict(first.state_dict())
        >>> second.lr
        0.5
        """
        who = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state, dict):
            raise TypeError(f"{who}: expected the dict that state_dict() returns, got {type(state).__name__}")
        if state.get("type") != type(self).__name__:
            raise ValueError(f"{who}: the state is from a {state.get('type')!r} optimizer")
        missing = [key for key in ("param_groups", "state") if key not in state]
        if missing == ["param_groups"] and "hyperparameters" in state:
            missing = []  # saved before parameter groups: one group
        if missing:
            raise ValueError(
                f"{who}: the state lacks {' and '.join(repr(k) for k in missing)}; "
                "pass what state_dict() returned"
            )
        entries = state["state"]
        if len(entries) != len(self.params):
            raise ValueError(
                f"{who}: the state has {len(entries)} parameters, this optimizer has {len(self.params)}"
            )
        settings = self._loaded_groups(state, who)
        restored = [
            self._loaded_entry(entry, p, index, who)
            for index, (entry, p) in enumerate(zip(entries, self.params, strict=True))
        ]
        for group, loaded in zip(self.param_groups, settings, strict=True):
            group.update(loaded)
        object.__setattr__(self, "state", restored)

    def _loaded_groups(self, state: dict[str, Any], who: str) -> list[dict[str, Any]]:
        """Each group's hyperparameters from a saved state, checked against this optimizer's."""
        if "param_groups" not in state:
            unknown = set(state["hyperparameters"]) - set(self.defaults)
            if unknown:
                raise ValueError(f"{who}: unknown hyperparameters {sorted(unknown)}")
            return [dict(state["hyperparameters"]) for _ in self.param_groups]
        saved = state["param_groups"]
        if len(saved) != len(self.param_groups):
            raise ValueError(
                f"{who}: the state has {len(saved)} parameter groups, this optimizer has "
                f"{len(self.param_groups)}"
            )
        for index, (group, own) in enumerate(zip(saved, self.param_groups, strict=True)):
            if len(group.get("params", ())) != len(own["params"]):
                raise ValueError(
                    f"{who}: the state's parameter group {index} has {len(group.get('params', ()))} "
                    f"parameters, this optimizer's has {len(own['params'])}"
                )
        return [{key: value for key, value in group.items() if key != "params"} for group in saved]

    def _loaded_entry(self, entry: dict[str, Any], p: Value, index: int, who: str) -> dict[str, Any]:
        """One parameter's saved state, checked and converted to the kind its gradient has."""
        unknown = set(entry) - {*self._state_names, "step"}
        if unknown:
            raise ValueError(f"{who}: parameter {index} has unknown state entries {sorted(unknown)}")
        fresh: dict[str, Any] = {}
        for key, value in entry.items():
            array = np.array(value)
            if key == "step":
                fresh[key] = int(array)
            elif array.shape != p.shape:
                raise ValueError(
                    f"{who}: parameter {index}'s {key} has shape {array.shape}, the parameter {p.shape}"
                )
            else:
                fresh[key] = float(array) if type(_gradient_like(p)) is float else array.astype(p.dtype)
        return fresh

    def __repr__(self) -> str:
        groups = self.param_groups
        shown = []
        for name in self.defaults:
            values = [group[name] for group in groups]
            same = all(value == values[0] for value in values)
            shown.append(f"{name}={(values[0] if same else values)!r}")
        count = f"{len(groups)} parameter groups, " if len(groups) > 1 else ""
        return f"{type(self).__name__}({count}{len(self.params)} parameters, {', '.join(shown)})"


def _recordable(step: Callable[..., None]) -> Callable[..., None]:
    """An optimizer's or scheduler's ``step``, which ``autonet.compile`` records as one call: a
    replayed training step calls it again (the numpy work and the state are the optimizer's own)."""

    @functools.wraps(step)
    def recorded(self: Any, *args: Any) -> None:
        if STATE.tracer is not None:
            return STATE.tracer.call(step, self, *args)
        return step(self, *args)

    return recorded


Optimizer.step = _recordable(Optimizer.step)  # type: ignore[method-assign]


def _gradient_like(p: Value) -> Any:
    """A zero of the kind the parameter's gradient has: a float for a float64 scalar, else an
    array (what per-parameter optimizer state is kept as)."""
    return 0.0 if p.shape == () and p.dtype == np.float64 else np.zeros(p.shape, p.dtype)


def _check(condition: bool, who: str, message: str) -> None:
    if not condition:
        raise ValueError(f"{who}: {message}")


class SGD(Optimizer):
    """Stochastic gradient descent, with optional momentum, Nesterov momentum and weight decay.

    For each parameter ``p`` with gradient ``g``:
    ``g += weight_decay * p``; with momentum, ``buf = momentum * buf + (1 - dampening) * g``
    (``buf = g`` on the first step) and ``g = g + momentum * buf`` (Nesterov) or ``g = buf``;
    then ``p -= lr * g``, with each group's own hyperparameters.

    >>> from autonet import Value
    >>> w = Value(1.0)
    >>> optimizer = SGD([w], lr=0.5, momentum=0.9)
    >>> for _ in range(2):
    ...     optimizer.zero_grad()
    ...     (w * 1.0).backward()  # gradient 1 each time
    ...     optimizer.step()
    >>> round(w.item(), 10)  # 1 - 0.5 * 1 - 0.5 * (0.9 + 1)
    -0.45
    """

    _state_names = ("momentum_buffer",)
    _nonnegative = ("lr", "momentum", "weight_decay")

    def __init__(
        self,
        params: Params,
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(
            params,
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            weight_decay=weight_decay,
            nesterov=nesterov,
            maximize=maximize,
        )

    def _checked(self, settings: dict[str, Any]) -> dict[str, Any]:
        settings = super()._checked(settings)
        merged = {**getattr(self, "defaults", {}), **settings}
        _check(
            not merged.get("nesterov") or (merged["momentum"] > 0 and merged["dampening"] == 0),
            "SGD",
            "Nesterov momentum needs momentum > 0 and dampening = 0",
        )
        return settings

    def step(self) -> None:
        for group, pairs in self._groups():
            lr, momentum, decay = group["lr"], group["momentum"], group["weight_decay"]
            damp, nesterov = 1.0 - group["dampening"], group["nesterov"]
            if not (momentum or decay):  # plain gradient descent, the common case of small models
                add_gradients_(group["params"], lr if group["maximize"] else -lr)
                continue
            for p, state in pairs:
                g = _gradient(p)
                if g is None:
                    continue
                if group["maximize"]:
                    g = -g
                if decay:
                    g = g + decay * _data_of(p, g)
                if momentum:
                    buffer = state.get("momentum_buffer")
                    if buffer is None:
                        buffer = g if type(g) is float else np.array(g, copy=True)
                    elif type(buffer) is float:
                        buffer = momentum * buffer + damp * g
                    else:
                        buffer *= momentum
                        buffer += damp * g if damp != 1.0 else g
                    state["momentum_buffer"] = buffer
                    g = g + momentum * buffer if nesterov else buffer
                p.add_(g, alpha=-lr)


def _data_of(p: Value, g: Any) -> Any:
    """The parameter's numbers, as the kind its gradient ``g`` is (a float for a float scalar)."""
    return p.item() if type(g) is float else np.asarray(p)


class Adam(Optimizer):
    """Adam: steps scaled by running estimates of the gradient's mean and uncentred variance.

    ``m = b1 m + (1 - b1) g``, ``v = b2 v + (1 - b2) g**2``, and with bias corrections
    ``c1 = 1 - b1**t``, ``c2 = 1 - b2**t``: ``p -= lr * (m / c1) / (sqrt(v / c2) + eps)``.
    ``weight_decay`` adds ``weight_decay * p`` to the gradient (L2 regularisation, coupled to
    the adaptive scaling); for decoupled decay use ``AdamW``. ``amsgrad`` (Reddi et al.) divides
    by the largest ``v`` seen so far instead, so that no weight's step can grow back.

    >>> from autonet import Value
    >>> w = Value(1.0)
    >>> optimizer = Adam([w], lr=0.1)
    >>> (w * 3.0).backward()
    >>> optimizer.step()
    >>> round(w.item(), 6)  # the first step moves by lr, whatever the gradient's size
    0.9
    """

    _state_names = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")
    _nonnegative = ("lr", "eps", "weight_decay")
    _decoupled = False

    def __init__(
        self,
        params: Params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(
            params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize
        )

    def _checked(self, settings: dict[str, Any]) -> dict[str, Any]:
        who = type(self).__name__
        settings = super()._checked(settings)
        if "betas" in settings:
            betas = settings["betas"]
            _check(
                len(betas) == 2 and all(0 <= b < 1 for b in betas),
                who,
                f"betas must be two numbers in [0, 1), got {betas}",
            )
            settings = {**settings, "betas": tuple(betas)}
        return settings

    def _update(self, p: Value, g: Any, state: dict[str, Any], group: ParamGroup) -> None:
        """One Adam step of one parameter with gradient ``g``."""
        lr, eps, decay = group["lr"], group["eps"], group["weight_decay"]
        beta1, beta2 = group["betas"]
        if decay:
            if self._decoupled:
                # AdamW shrinks the weights directly, independently of the gradient's scale.
                p.mul_(1.0 - lr * decay)
            else:
                g = g + decay * _data_of(p, g)
        t = state.get("step", 0) + 1
        state["step"] = t
        step_size = lr / (1.0 - beta1**t)
        root_correction = math.sqrt(1.0 - beta2**t)
        amsgrad = group.get("amsgrad", False)
        if type(g) is float:
            m = beta1 * state.get("exp_avg", 0.0) + (1.0 - beta1) * g
            v = beta2 * state.get("exp_avg_sq", 0.0) + (1.0 - beta2) * g * g
            state["exp_avg"], state["exp_avg_sq"] = m, v
            if amsgrad:
                v = state["max_exp_avg_sq"] = max(state.get("max_exp_avg_sq", 0.0), v)
            p.add_(step_size * m / (math.sqrt(v) / root_correction + eps), alpha=-1.0)
            return
        m = state.get("exp_avg")
        if m is None:
            m = state["exp_avg"] = np.zeros(p.shape, p.dtype)
            v = state["exp_avg_sq"] = np.zeros(p.shape, p.dtype)
        else:
            v = state["exp_avg_sq"]
        m *= beta1
        m += (1.0 - beta1) * g
        v *= beta2
        v += (1.0 - beta2) * (g * g)
        if amsgrad:
            largest = state.setdefault("max_exp_avg_sq", np.zeros(p.shape, p.dtype))
            v = np.maximum(largest, v, out=largest)
        denominator = np.sqrt(v)
        denominator /= root_correction
        denominator += eps
        np.divide(m, denominator, out=denominator)
        denominator *= step_size
        p.add_(denominator, alpha=-1.0)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov and Hutter): each step first shrinks the
    weights, ``p *= 1 - lr * weight_decay``, then takes the Adam step on the plain gradient.

    >>> from autonet import Value
    >>> w = Value(2.0)
    >>> optimizer = AdamW([w], lr=0.1, weight_decay=0.5)
    >>> w.grad = 0.0  # no gradient signal: only the decay acts
    >>> optimizer.step()
    >>> round(w.item(), 6)  # 2 * (1 - 0.1 * 0.5)
    1.9
    """

    _decoupled = True

    def __init__(
        self,
        params: Params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.01,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize)


class RMSprop(Optimizer):
    """RMSprop (Hinton): each step divided by a running root mean square of the gradient.

    ``sq = alpha sq + (1 - alpha) g**2``; ``centered`` also keeps ``avg = alpha avg + (1 - alpha) g``
    and divides by the running standard deviation, ``sqrt(sq - avg**2)``, instead. With ``d`` that
    root plus ``eps``: ``buf = momentum buf + g / d`` and ``p -= lr buf``, or without momentum
    ``p -= lr g / d``. ``weight_decay`` adds ``weight_decay * p`` to the gradient first. PyTorch's
    defaults and formula.

    >>> from autonet import Value
    >>> w = Value(1.0)
    >>> optimizer = RMSprop([w], lr=0.01, alpha=0.75)
    >>> (w * 2.0).backward()  # sq = 0.25 * 4 = 1, so the step is lr * 2 / (1 + eps)
    >>> optimizer.step()
    >>> round(w.item(), 6)
    0.98
    """

    _state_names = ("square_avg", "grad_avg", "momentum_buffer")
    _nonnegative = ("lr", "alpha", "eps", "weight_decay", "momentum")

    def __init__(
        self,
        params: Params,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(
            params,
            lr=lr,
            alpha=alpha,
            eps=eps,
            weight_decay=weight_decay,
            momentum=momentum,
            centered=centered,
            maximize=maximize,
        )

    def _update(self, p: Value, g: Any, state: dict[str, Any], group: ParamGroup) -> None:
        """One RMSprop step of one parameter with gradient ``g``."""
        alpha, eps, decay, momentum = group["alpha"], group["eps"], group["weight_decay"], group["momentum"]
        state["step"] = state.get("step", 0) + 1
        if decay:
            g = g + decay * _data_of(p, g)
        square = _running(state, "square_avg", p, alpha, g * g)
        if group["centered"]:
            # PyTorch's lerp, avg + (1 - alpha) (g - avg), which rounds unlike the square's form.
            average = state.get("grad_avg", _gradient_like(p))
            average = state["grad_avg"] = _accumulated(average, (1.0 - alpha) * (g - average))
            square = square - average * average  # may round below 0: nan, as in PyTorch
        root = math.sqrt(square) if type(square) is float and square >= 0 else np.sqrt(square)
        step = g / (root + eps)
        if momentum:
            buffer = _running(state, "momentum_buffer", p, momentum, step, weight=1.0)
            step = buffer
        p.add_(step, alpha=-group["lr"])


class Adagrad(Optimizer):
    """Adagrad (Duchi et al.): each weight's steps shrink with the sum of its squared gradients.

    ``sum += g**2`` (starting from ``initial_accumulator_value``) and
    ``p -= lr / (1 + (t - 1) lr_decay) * g / (sqrt(sum) + eps)`` at step ``t``; ``weight_decay``
    adds ``weight_decay * p`` to the gradient first. PyTorch's defaults and formula.

    >>> from autonet import Value
    >>> w = Value(1.0)
    >>> optimizer = Adagrad([w], lr=0.1)
    >>> (w * 3.0).backward()  # sum = 9: the first step is lr * 3 / 3
    >>> optimizer.step()
    >>> round(w.item(), 6)
    0.9
    """

    _state_names = ("sum",)
    _nonnegative = ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps")

    def __init__(
        self,
        params: Params,
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(
            params,
            lr=lr,
            lr_decay=lr_decay,
            weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value,
            eps=eps,
            maximize=maximize,
        )

    def _update(self, p: Value, g: Any, state: dict[str, Any], group: ParamGroup) -> None:
        """One Adagrad step of one parameter with gradient ``g``."""
        t = state["step"] = state.get("step", 0) + 1
        if group["weight_decay"]:
            g = g + group["weight_decay"] * _data_of(p, g)
        if "sum" not in state:
            state["sum"] = _gradient_like(p) + group["initial_accumulator_value"]
        total = state["sum"] = _accumulated(state["sum"], g * g)
        root = math.sqrt(total) if type(total) is float else np.sqrt(total)
        rate = group["lr"] / (1 + (t - 1) * group["lr_decay"])
        p.add_(g / (root + group["eps"]), alpha=-rate)


def _running(
    state: dict[str, Any], name: str, p: Value, decay: float, sample: Any, weight: Any = None
) -> Any:
    """``state[name] = decay * state[name] + weight * sample`` (from zeros; ``weight`` is
    ``1 - decay`` unless given), in place for arrays."""
    average = state.get(name)
    if average is None:
        average = _gradient_like(p)
    share = (1.0 - decay if weight is None else weight) * sample
    if type(average) is float:
        average = decay * average + share
    else:
        average *= decay
        average += share
    state[name] = average
    return average


def _accumulated(total: Any, sample: Any) -> Any:
    """``total + sample``, in place for arrays."""
    if type(total) is float:
        return total + sample
    total += sample
    return total


# --------------------------------------------------------------------------- learning-rate schedulers


class LRScheduler:
    """What the epoch-based schedulers share: each ``step()`` advances ``last_epoch`` by one and
    sets every parameter group's ``"lr"`` to what ``get_lr()`` gives for the new epoch.

    The first learning rates are kept in each group as ``"initial_lr"`` (``base_lrs``), and
    creating a scheduler already takes the step to epoch 0, so the schedule starts there. Call
    ``scheduler.step()`` after ``optimizer.step()``, once per epoch. A subclass implements
    ``get_lr``; ``last_epoch`` lets a schedule resume from an optimizer whose groups hold
    ``"initial_lr"``.

    >>> from autonet import Value
    >>> optimizer = SGD([Value(1.0)], lr=1.0)
    >>> scheduler = StepLR(optimizer, step_size=2, gamma=0.5)
    >>> lrs = []
    >>> for epoch in range(5):
    ...     lrs.append(scheduler.get_last_lr()[0])
    ...     optimizer.step()
    ...     scheduler.step()
    >>> lrs
    [1.0, 1.0, 0.5, 0.5, 0.25]
    """

    _not_saved: tuple[str, ...] = ("optimizer",)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "step" in cls.__dict__:
            cls.step = _recordable(cls.__dict__["step"])  # type: ignore[method-assign]

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        who = type(self).__name__
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{who}: expected an optimizer of autonet.optim, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        groups = optimizer.param_groups
        if last_epoch == -1:
            for group in groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            lacking = [index for index, group in enumerate(groups) if "initial_lr" not in group]
            if lacking:
                raise ValueError(
                    f"{who}: resuming at last_epoch={last_epoch} needs 'initial_lr' in every parameter "
                    f"group (groups {lacking} lack it); load the optimizer's state_dict first"
                )
        self.base_lrs: list[float] = [group["initial_lr"] for group in groups]
        self.last_epoch = last_epoch
        self.step()

    def get_lr(self) -> list[float]:
        """The learning rate of each group at epoch ``last_epoch`` (subclasses compute it)."""
        raise NotImplementedError

    def step(self) -> None:
        """Advance one epoch and give every parameter group its learning rate for it."""
        self.last_epoch += 1
        for group, lr in zip(self.optimizer.param_groups, self.get_lr(), strict=True):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        """The learning rate of each parameter group as set by the last ``step``.

        >>> from autonet import Value
        >>> ExponentialLR(SGD([Value(1.0)], lr=0.5), gamma=0.9).get_last_lr()
        [0.5]
        """
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        """The schedule's position and settings (not the optimizer), for ``load_state_dict``.

        >>> from autonet import Value
        >>> StepLR(SGD([Value(1.0)], lr=0.5), step_size=3).state_dict()["last_epoch"]
        0
        """
        return {key: value for key, value in vars(self).items() if key not in self._not_saved}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue the schedule from what ``state_dict`` returned (restore the optimizer too)."""
        unknown = set(state) - set(self.state_dict())
        if unknown:
            raise ValueError(f"{type(self).__name__}.load_state_dict: unknown entries {sorted(unknown)}")
        vars(self).update(state)


LRScheduler.step = _recordable(LRScheduler.step)  # type: ignore[method-assign]


def _positive_int(value: Any, who: str, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{who}: {name} must be a positive int, got {value!r}")
    return int(value)


class StepLR(LRScheduler):
    """Multiply each group's learning rate by ``gamma`` every ``step_size`` epochs:
    ``lr = initial_lr * gamma ** (epoch // step_size)`` (as PyTorch, by one multiplication at
    each boundary, so a change made to ``"lr"`` in between carries on).

    >>> from autonet import Value
    >>> optimizer = SGD([Value(1.0)], lr=0.1)
    >>> scheduler = StepLR(optimizer, step_size=3, gamma=0.1)
    >>> for _ in range(3):
    ...     scheduler.step()
    >>> round(scheduler.get_last_lr()[0], 12)
    0.01
    """

    def __init__(
        self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1
    ) -> None:
        self.step_size = _positive_int(step_size, "StepLR", "step_size")
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        groups = self.optimizer.param_groups
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return [group["lr"] for group in groups]
        return [group["lr"] * self.gamma for group in groups]


class MultiStepLR(LRScheduler):
    """Multiply each group's learning rate by ``gamma`` at each of the epochs in ``milestones``
    (an epoch listed twice, twice): ``lr = initial_lr * gamma ** (milestones passed)``, by one
    multiplication at each milestone, as PyTorch.

    >>> from autonet import Value
    >>> optimizer = SGD([Value(1.0)], lr=1.0)
    >>> scheduler = MultiStepLR(optimizer, milestones=[2, 4], gamma=0.5)
    >>> lrs = []
    >>> for _ in range(5):
    ...     lrs.append(scheduler.get_last_lr()[0])
    ...     scheduler.step()
    >>> lrs
    [1.0, 1.0, 0.5, 0.5, 0.25]
    """

    def __init__(
        self, optimizer: Optimizer, milestones: Iterable[int], gamma: float = 0.1, last_epoch: int = -1
    ) -> None:
        self.milestones = sorted(_positive_int(m, "MultiStepLR", "every milestone") for m in milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        factor = self.gamma ** self.milestones.count(self.last_epoch)
        return [group["lr"] * factor for group in self.optimizer.param_groups]


class LinearLR(LRScheduler):
    """Scale each group's learning rate linearly from ``start_factor`` to ``end_factor`` of
    ``initial_lr`` over ``total_iters`` epochs, then keep it (a warm-up):
    ``lr = initial_lr * (start + (end - start) * min(epoch, total_iters) / total_iters)``, by
    PyTorch's ratio of consecutive factors at each step.

    >>> from autonet import Value
    >>> scheduler = LinearLR(SGD([Value(1.0)], lr=1.0), start_factor=0.25, total_iters=3)
    >>> lrs = []
    >>> for _ in range(5):
    ...     lrs.append(round(scheduler.get_last_lr()[0], 12))
    ...     scheduler.step()
    >>> lrs
    [0.25, 0.5, 0.75, 1.0, 1.0]
    """

    def __init__(
        self,
        optimizer: Optimizer,
        start_factor: float = 1.0 / 3,
        end_factor: float = 1.0,
        total_iters: int = 5,
        last_epoch: int = -1,
    ) -> None:
        _check(0 < start_factor <= 1, "LinearLR", f"start_factor must lie in (0, 1], got {start_factor}")
        _check(0 <= end_factor <= 1, "LinearLR", f"end_factor must lie in [0, 1], got {end_factor}")
        self.start_factor, self.end_factor = start_factor, end_factor
        self.total_iters = _positive_int(total_iters, "LinearLR", "total_iters")
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        groups, epoch = self.optimizer.param_groups, self.last_epoch
        if epoch == 0:
            return [group["lr"] * self.start_factor for group in groups]
        if epoch > self.total_iters:
            return [group["lr"] for group in groups]
        change = self.end_factor - self.start_factor
        ratio = 1 + change / (self.total_iters * self.start_factor + (epoch - 1) * change)
        return [group["lr"] * ratio for group in groups]


class ExponentialLR(LRScheduler):
    """Multiply each group's learning rate by ``gamma`` every epoch: ``lr = initial_lr * gamma **
    epoch`` (one multiplication per step, as PyTorch).

    >>> from autonet import Value
    >>> scheduler = ExponentialLR(SGD([Value(1.0)], lr=1.0), gamma=0.5)
    >>> scheduler.step(); scheduler.step()
    >>> scheduler.get_last_lr()
    [0.25]
    """

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        groups = self.optimizer.param_groups
        if self.last_epoch == 0:
            return [group["lr"] for group in groups]
        return [group["lr"] * self.gamma for group in groups]


class CosineAnnealingLR(LRScheduler):
    """Anneal each group's learning rate from ``initial_lr`` to ``eta_min`` along half a cosine
    over ``T_max`` epochs: ``lr = eta_min + (initial_lr - eta_min) * (1 + cos(pi * epoch /
    T_max)) / 2``, computed in this closed form (PyTorch's recursive form gives the same numbers
    up to rounding). Past ``T_max`` the cosine goes on, rising again (SGDR without restarts).

    >>> from autonet import Value
    >>> scheduler = CosineAnnealingLR(SGD([Value(1.0)], lr=1.0), T_max=4)
    >>> lrs = []
    >>> for _ in range(5):
    ...     lrs.append(round(scheduler.get_last_lr()[0], 6))
    ...     scheduler.step()
    >>> lrs
    [1.0, 0.853553, 0.5, 0.146447, 0.0]
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1) -> None:
        self.T_max = _positive_int(T_max, "CosineAnnealingLR", "T_max")
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        fraction = (1.0 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2.0
        return [self.eta_min + (base - self.eta_min) * fraction for base in self.base_lrs]


class LambdaLR(LRScheduler):
    """Set each group's learning rate to ``initial_lr * lr_lambda(epoch)``; ``lr_lambda`` is one
    function for every group, or a list of one per group (a linear warm-up, for instance).

    >>> from autonet import Value
    >>> scheduler = LambdaLR(SGD([Value(1.0)], lr=0.1), lambda epoch: min(1.0, (epoch + 1) / 4))
    >>> scheduler.get_last_lr()
    [0.025]
    """

    _not_saved = ("optimizer", "lr_lambdas")

    def __init__(
        self,
        optimizer: Optimizer,
        lr_lambda: Callable[[int], float] | Sequence[Callable[[int], float]],
        last_epoch: int = -1,
    ) -> None:
        count = len(optimizer.param_groups) if isinstance(optimizer, Optimizer) else 0
        lambdas = list(lr_lambda) if isinstance(lr_lambda, (list, tuple)) else [lr_lambda] * count
        if len(lambdas) != count:
            raise ValueError(f"LambdaLR: got {len(lambdas)} lr_lambdas for {count} parameter groups")
        if not all(callable(f) for f in lambdas):
            raise TypeError("LambdaLR: lr_lambda must be a function of the epoch, or a list of them")
        self.lr_lambdas = lambdas
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [base * f(self.last_epoch) for base, f in zip(self.base_lrs, self.lr_lambdas, strict=True)]


class ReduceLROnPlateau(LRScheduler):
    """Cut the learning rates by ``factor`` when a metric has stopped improving for more than
    ``patience`` epochs: ``step(metric)`` once per epoch, with the validation loss say.

    An epoch improves on the best so far when the metric is below ``best * (1 - threshold)``
    (``mode="min"``, ``threshold_mode="rel"``), ``best - threshold`` (``"abs"``), or above
    ``best * (1 + threshold)`` / ``best + threshold`` with ``mode="max"``. After ``patience + 1``
    epochs in a row without improvement each group's ``lr`` becomes ``max(lr * factor,
    min_lr)`` (a change smaller than ``eps`` is skipped), then ``cooldown`` epochs pass before
    bad epochs count again. All as PyTorch's ``ReduceLROnPlateau``.

    >>> from autonet import Value
    >>> optimizer = SGD([Value(1.0)], lr=1.0)
    >>> scheduler = ReduceLROnPlateau(optimizer, factor=0.5, patience=1)
    >>> for loss in [3.0, 2.0, 2.0, 2.0, 2.0]:
    ...     scheduler.step(loss)
    >>> scheduler.get_last_lr()  # the 2nd bad epoch in a row (loss 2.0 twice after the best) cut it
    [0.5]
    """

    def __init__(
        self,
        optimizer: Optimizer,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float | Sequence[float] = 0.0,
        eps: float = 1e-8,
    ) -> None:
        who = "ReduceLROnPlateau"
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{who}: expected an optimizer of autonet.optim, got {type(optimizer).__name__}")
        _check(mode in ("min", "max"), who, f"mode must be 'min' or 'max', got {mode!r}")
        _check(
            threshold_mode in ("rel", "abs"),
            who,
            f"threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}",
        )
        _check(0 <= factor < 1, who, f"factor must be in [0, 1), got {factor}")
        _check(patience >= 0 and cooldown >= 0, who, "patience and cooldown must be >= 0")
        groups = optimizer.param_groups
        min_lrs = list(min_lr) if isinstance(min_lr, (list, tuple)) else [min_lr] * len(groups)
        _check(
            len(min_lrs) == len(groups), who, f"got {len(min_lrs)} min_lr for {len(groups)} parameter groups"
        )
        self.optimizer = optimizer
        self.mode, self.factor, self.patience = mode, factor, patience
        self.threshold, self.threshold_mode = threshold, threshold_mode
        self.cooldown, self.min_lrs, self.eps = cooldown, min_lrs, eps
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self.last_epoch = 0
        self._last_lr = [group["lr"] for group in groups]

    def is_better(self, metric: float, best: float) -> bool:
        """Whether ``metric`` improves on ``best`` by more than the threshold.

        >>> from autonet import Value
        >>> scheduler = ReduceLROnPlateau(SGD([Value(1.0)], lr=1.0), threshold=0.1)
        >>> scheduler.is_better(0.95, 1.0), scheduler.is_better(0.85, 1.0)
        (False, True)
        """
        if self.mode == "min":
            return metric < (
                best * (1.0 - self.threshold) if self.threshold_mode == "rel" else best - self.threshold
            )
        return metric > (
            best * (1.0 + self.threshold) if self.threshold_mode == "rel" else best + self.threshold
        )

    def step(self, metric: Any) -> None:  # type: ignore[override]
        """Record one epoch's ``metric`` (a number, or a 0-d Value) and cut the learning rates
        if it has not improved for more than ``patience`` epochs."""
        current = float(metric)
        self.last_epoch += 1
        if self.is_better(current, self.best):
            self.best, self.num_bad_epochs = current, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs during the cooldown do not count
        if self.num_bad_epochs > self.patience:
            for group, min_lr in zip(self.optimizer.param_groups, self.min_lrs, strict=True):
                old = float(group["lr"])
                new = max(old * self.factor, min_lr)
                if old - new > self.eps:
                    group["lr"] = new
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]
