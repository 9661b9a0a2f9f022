"""Optimizers: ``SGD`` (momentum, Nesterov, weight decay), ``Adam`` and ``AdamW``.

An optimizer holds a list of parameters (Values). ``step()`` updates each parameter that has a
gradient from its ``.grad`` through ``Value.add_``/``mul_``: in place, unless a recorded graph
still needs the old numbers (then the parameter moves to a new array and the graph keeps what
its forward saw), and ``zero_grad()`` clears the gradients before the next backward. ``state_dict()`` and
``load_state_dict()`` save and restore the hyperparameters and the per-parameter state
(momentum buffers, moment estimates, step counts) so that training can resume exactly.

The update formulas are those of PyTorch, so results can be compared one to one.

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

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from .engine import Value, stored_gradient

__all__ = ["SGD", "Adam", "AdamW", "Optimizer"]


def _gradient(p: Value) -> Any:
    """The parameter's gradient as plain data (a float or an array), or None if it has none."""
    g = stored_gradient(p)
    if g is None or type(g) is float or type(g) is np.ndarray:
        return g
    return g.numpy()  # a Value, after backward(create_graph=True)


class Optimizer:
    """What every optimizer shares: the parameter list, ``zero_grad``, and saving the state.

    Subclasses set ``self.defaults`` (the hyperparameter names and values) and implement
    ``step``; hyperparameters are plain attributes, so ``optimizer.lr = 0.01`` changes the
    learning rate for the next steps.
    """

    _state_names: tuple[str, ...] = ()

    def __init__(self, params: Iterable[Value], **hyperparameters: Any) -> None:
        if isinstance(params, Value):
            raise TypeError(
                f"{type(self).__name__}: params must be an iterable of Values, e.g. model.parameters()"
            )
        self.params: list[Value] = list(params)
        if not self.params:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        for index, p in enumerate(self.params):
            if not isinstance(p, Value):
                raise TypeError(
                    f"{type(self).__name__}: parameter {index} is a {type(p).__name__}, not a Value"
                )
        if len({id(p) for p in self.params}) != len(self.params):
            raise ValueError(f"{type(self).__name__}: a parameter appears more than once in the list")
        self.defaults = dict(hyperparameters)
        for name, value in hyperparameters.items():
            setattr(self, name, value)
        # One dict per parameter, filled on its first step: buffers named in _state_names, "step".
        self.state: list[dict[str, Any]] = [{} for _ in self.params]

    def zero_grad(self) -> None:
        """Clear every parameter's gradient (backward adds to existing gradients).

        >>> from autonet import Value
        >>> w = Value(2.0)
        >>> optimizer = SGD([w], lr=0.1)
        >>> (w * w).backward()
        >>> optimizer.zero_grad()
        >>> w.grad.item()
        0.0
        """
        for p in self.params:
            p.zero_grad()

    def step(self) -> None:
        """Update every parameter that has a gradient."""
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        """The hyperparameters and a copy of the per-parameter state, to resume training later.

        >>> from autonet import Value
        >>> optimizer = Adam([Value([1.0])], lr=0.01)
        >>> sorted(optimizer.state_dict())
        ['hyperparameters', 'state', 'type']
        """
        return {
            "type": type(self).__name__,
            "hyperparameters": {name: getattr(self, name) for name in self.defaults},
            "state": [{key: np.array(value) for key, value in entry.items()} for entry in self.state],
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what ``state_dict`` returned; checks the parameter count and the buffers'
        shapes first and changes nothing if they do not fit (``ValueError``).

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
        missing = [key for key in ("hyperparameters", "state") if key not in state]
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
        restored = []
        for index, (entry, p) in enumerate(zip(entries, self.params, strict=True)):
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
            restored.append(fresh)
        unknown = set(state["hyperparameters"]) - set(self.defaults)
        if unknown:
            raise ValueError(f"{who}: unknown hyperparameters {sorted(unknown)}")
        for name, value in state["hyperparameters"].items():
            setattr(self, name, value)
        self.state = restored

    def __repr__(self) -> str:
        settings = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.defaults)
        return f"{type(self).__name__}({len(self.params)} parameters, {settings})"


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
    then ``p -= lr * g``.

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

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 0.01,
        momentum: float = 0.0,
        dampening: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ) -> None:
        _check(lr >= 0, "SGD", f"lr must be >= 0, got {lr}")
        _check(momentum >= 0, "SGD", f"momentum must be >= 0, got {momentum}")
        _check(weight_decay >= 0, "SGD", f"weight_decay must be >= 0, got {weight_decay}")
        _check(
            not nesterov or (momentum > 0 and dampening == 0),
            "SGD",
            "Nesterov momentum needs momentum > 0 and dampening = 0",
        )
        super().__init__(
            params,
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            nesterov=nesterov,
            weight_decay=weight_decay,
        )

    def step(self) -> None:
        lr, momentum, decay = self.lr, self.momentum, self.weight_decay
        damp, nesterov = 1.0 - self.dampening, self.nesterov
        for p, state in zip(self.params, self.state, strict=True):
            g = _gradient(p)
            if g is None:
                continue
            if not (momentum or decay):
                p.add_(g, alpha=-lr)  # plain gradient descent, the common case of small models
                continue
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
    the adaptive scaling); for decoupled decay use ``AdamW``.

    >>> from autonet import Value
    >>> w = Value(1.0)
    >>> optimizer = Adam([w], lr=0.1)
    >>> (w * 3.0).backward()
    >>> optimizer.step()
    >>> round(w.item(), 6)  # the first step moves by lr, whatever the gradient's size
    0.9
    """

    _state_names = ("exp_avg", "exp_avg_sq")
    _decoupled = False

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        who = type(self).__name__
        _check(lr >= 0, who, f"lr must be >= 0, got {lr}")
        _check(
            len(betas) == 2 and all(0 <= b < 1 for b in betas),
            who,
            f"betas must be two numbers in [0, 1), got {betas}",
        )
        _check(eps >= 0, who, f"eps must be >= 0, got {eps}")
        _check(weight_decay >= 0, who, f"weight_decay must be >= 0, got {weight_decay}")
        super().__init__(params, lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay)

    def step(self) -> None:
        lr, eps, decay = self.lr, self.eps, self.weight_decay
        beta1, beta2 = self.betas
        decoupled = self._decoupled
        for p, state in zip(self.params, self.state, strict=True):
            g = _gradient(p)
            if g is None:
                continue
            if decay:
                if decoupled:
                    # AdamW shrinks the weights directly, independently of the gradient's scale.
                    p.mul_(1.0 - lr * decay)
                else:
                    g = g + decay * _data_of(p, g)
            t = state.get("step", 0) + 1
            state["step"] = t
            step_size = lr / (1.0 - beta1**t)
            root_correction = math.sqrt(1.0 - beta2**t)
            if type(g) is float:
                m = beta1 * state.get("exp_avg", 0.0) + (1.0 - beta1) * g
                v = beta2 * state.get("exp_avg_sq", 0.0) + (1.0 - beta2) * g * g
                state["exp_avg"], state["exp_avg_sq"] = m, v
                p.add_(step_size * m / (math.sqrt(v) / root_correction + eps), alpha=-1.0)
                continue
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
        params: Iterable[Value],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.01,
    ) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
