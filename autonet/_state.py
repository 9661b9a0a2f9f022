"""Per-thread switches: grad mode and anomaly mode, and the context managers that flip them;
and the tracer of ``autonet.compile`` while it records a step.

Both flags live in one thread-local object so that a thread inside ``no_grad()`` does not
change what another thread records.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class _ThreadState(threading.local):
    grad_enabled: bool = True
    anomaly_enabled: bool = False
    # The recorder of ``autonet.compile`` while it traces a step in this thread, else None: the
    # engine, the walk, Storage's in-place updates and the optimizers hand it what they do.
    tracer: Any = None


STATE = _ThreadState()

# How many threads are tracing a compiled step right now, process-wide: the hot paths (every op,
# every new Value, every in-place update) test this list item first, a tenth of the cost of
# reading the thread-local ``STATE.tracer``, and read that only while some trace is on.
TRACING = [0]


class _Saved(threading.local):
    """The values a context object replaced, one stack per thread."""

    def __init__(self) -> None:
        self.stack: list[bool] = []


class _FlagContext:
    """Set one flag of ``STATE`` on entry and restore its previous value on exit, even on error.

    Also usable as a decorator: each call of the wrapped function runs under the flag. One
    object may be entered by several threads at once (a module-level ``no_grad()`` shared by
    workers): each thread restores its own previous value.
    """

    _flag = ""

    def __init__(self, value: bool) -> None:
        self._value = value
        self._saved = _Saved()

    def __enter__(self) -> None:
        self._saved.stack.append(getattr(STATE, self._flag))
        setattr(STATE, self._flag, self._value)

    def __exit__(self, *exc: object) -> None:
        setattr(STATE, self._flag, self._saved.stack.pop())

    def __call__(self, fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with type(self)(self._value):
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class set_grad_enabled(_FlagContext):
    """Turn graph recording on or off inside a ``with`` block (or for a decorated function).

    >>> from autonet import Value, set_grad_enabled
    >>> with set_grad_enabled(False):
    ...     y = Value(2.0) * 3
    >>> y.requires_grad
    False
    """

    _flag = "grad_enabled"


class no_grad(set_grad_enabled):
    """Record no graph: results of ops need no gradient and cost only their numpy work.

    Use it as ``with no_grad():``, or as a decorator, ``@no_grad()`` or bare ``@no_grad``.

    >>> from autonet import Value, no_grad
    >>> x = Value(2.0)
    >>> with no_grad():
    ...     y = x * x
    >>> y.requires_grad
    False
    >>> @no_grad
    ... def square(v):
    ...     return v * v
    >>> square(x).requires_grad
    False
    """

    def __new__(cls, fn: Callable[..., Any] | None = None) -> Any:
        if fn is not None:  # bare @no_grad
            return super().__new__(cls).__call__(fn)
        return super().__new__(cls)

    def __init__(self, fn: Callable[..., Any] | None = None) -> None:
        super().__init__(False)

    def __call__(self, fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with no_grad():
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class enable_grad(set_grad_enabled):
    """Record the graph again inside a ``no_grad`` block.

    >>> from autonet import Value, no_grad, enable_grad
    >>> with no_grad():
    ...     with enable_grad():
    ...         y = Value(2.0) * 3
    >>> y.requires_grad
    True
    """

    def __new__(cls, fn: Callable[..., Any] | None = None) -> Any:
        if fn is not None:  # bare @enable_grad
            return super().__new__(cls).__call__(fn)
        return super().__new__(cls)

    def __init__(self, fn: Callable[..., Any] | None = None) -> None:
        super().__init__(True)

    def __call__(self, fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with enable_grad():
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


def is_grad_enabled() -> bool:
    """Whether ops record a graph in this thread right now.

    >>> import autonet
    >>> autonet.is_grad_enabled()
    True
    """
    return STATE.grad_enabled


class detect_anomaly(_FlagContext):
    """Check every op's output and every gradient for NaN and inf; raise ``AnomalyError`` at the first.

    While on, each op also remembers the line of user code that created it, so the error can
    point there. Off (the default), none of this costs anything.

    >>> import autonet
    >>> with autonet.detect_anomaly():
    ...     autonet.Value([0.0]).log()
    Traceback (most recent call last):
    ...
    autonet.anomaly.AnomalyError: log produced -inf in forward ...
    """

    _flag = "anomaly_enabled"

    def __init__(self, enabled: bool = True) -> None:
        super().__init__(enabled)
