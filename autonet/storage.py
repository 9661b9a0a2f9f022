"""What a Value stores, and who may write into it: the data and gradient half of ``Value``.

A Value holds a Python float (the lean path for float64 scalars) or a numpy array of its own,
and a recorded graph may keep that very array for its backward. Writing into it then would make
the backward use numbers the forward never saw, so every in-place path here (``data``,
``numpy()``, ``add_``, ``mul_``, ``copy_``) first asks whether a live record still keeps the
array and moves to a fresh copy if one does: copy on write, with no copy in the common case.

An array that only this Value refers to needs no bookkeeping: any other reference to it is a
record's (or a view's), and ``sys.getrefcount`` says whether there is one, so recording an op
costs nothing here. ``_shared`` says that someone outside may hold the array too
(``Value.from_numpy``, ``detach``, an exposed ``data``, an assigned array the caller keeps);
then the reference count cannot tell, so recording counts the records in ``_held`` and locks
the array read-only, so that a write from outside fails loudly instead; the backward that
releases the last of them unlocks it.

``Storage`` is mixed into ``Value`` only: ``autonet.engine`` declares the slots (``_data``,
``_grad``, ``_held``, ``_shared``), which it writes on the hot path as it makes Values.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from typing import Any, Union

import numpy as np

from ._state import STATE, TRACING
from .arrays import F64, shape_of, to_data

__all__ = [
    "Locking",
    "Storage",
    "add_gradients_",
    "clear_gradients",
    "lock_shared",
    "store_gradient",
    "stored_data",
    "stored_gradient",
    "unlock_shared",
]

ArrayLike = Union["Storage", np.ndarray, float, int, Sequence[Any]]


def _numbers(x: Any) -> Any:
    return x._data if isinstance(x, Storage) else x


def _to_data(data: Any, *args: Any, **kwargs: Any) -> float | np.ndarray:
    return to_data(_numbers(data), *args, **kwargs)


class Storage:
    """The data and gradient of a ``Value``, and the copy-on-write rule for changing them in
    place (see the module's docstring); the graph half is ``autonet.engine.Value``.

    >>> from autonet import Value
    >>> w = Value([1.0, 2.0])
    >>> y = (w * w).sum()
    >>> w.data[0] = 5.0  # a fresh array: the recorded graph keeps the numbers it saw
    >>> y.backward()
    >>> w.grad.tolist()
    [2.0, 4.0]
    """

    __slots__ = ()
    _data: Any
    _grad: Any
    _held: int
    _shared: bool

    # ----------------------------------------------------------------- data and grad

    @property
    def data(self) -> np.ndarray:
        """The values as a numpy array (0-d for a scalar) that you may change in place.

        The array is this Value's own. When a recorded graph still needs the current numbers for
        a backward, the Value first moves to a fresh copy, so writing into what ``data`` returns
        never changes what a graph recorded: the backward uses exactly what its forward saw.
        Assigning (``v.data = new``, or ``v.data -= step``) replaces the values.
        """
        array = self._expose()
        if TRACING[0] and STATE.tracer is not None:  # autonet.compile: a write into it is refused
            STATE.tracer.handing(self, "data", array)
        return array

    @data.setter
    def data(self, new: ArrayLike) -> None:
        if STATE.tracer is not None:
            STATE.tracer.refuse(
                "assigning v.data (the numpy arithmetic that made the new numbers is not recorded); "
                "update parameters with v.add_(...), v.mul_(...), v.copy_(...) or an optimizer"
            )
        if new is self._data:
            # ``v.data -= step`` updated the array that ``data`` handed out: it is already the data,
            # and if nobody kept it meanwhile (+ 1: this Value's own reference), its own again.
            if type(new) is np.ndarray and new.ndim == 0 and new.dtype == F64:
                self._data = float(new)  # back to the lean scalar path
            elif self._shared and not self._held and sys.getrefcount(new) <= _ASSIGNED_ALONE + 1:
                self._shared = False
            return
        # An array the caller keeps is shared; a temporary (``v.data = a.copy()``, ``v.data = w -
        # step``) nobody else refers to becomes this Value's own, with no copy.
        converted = _to_data(new, copy=False)
        shared = (
            type(converted) is np.ndarray and converted is new and sys.getrefcount(new) > _ASSIGNED_ALONE + 1
        )  # + 1: ``converted``; a float is no array anybody could write into
        if shared and not converted.flags.writeable:
            converted, shared = converted.copy(), False  # a shared array must be ours to lock
        self._data = converted
        self._held = 0
        self._shared = shared

    def _expose(self) -> np.ndarray:
        if type(self._data) is float:
            # A 0-d array kept as the data, so that writing into it changes this Value.
            self._data = np.array(self._data)
            self._held = 0
        elif not self._private():
            self._data = self._data.copy()
            self._held = 0
        self._shared = True
        return self._data

    def _private(self) -> bool:
        """Whether this Value may write into its data array in place: no live graph record keeps
        it. For an array of its own that is what the reference count says (callers hold no other
        reference while they ask); for a shared one, what ``_held`` counts. A count that a record
        left behind when it died without a backward is trusted only while something besides this
        Value still refers to the array; a lock the engine set on a shared array (see ``lock_shared``) is
        lifted once no record keeps it."""
        if not self._shared:
            return sys.getrefcount(self._data) <= _ALONE and self._data.flags.writeable
        data = self._data
        writeable = data.flags.writeable
        if not self._held and writeable:
            return True
        if self._held and sys.getrefcount(data) > _ALONE + 1:  # + 1: the name ``data``
            return False
        self._held = 0
        if not writeable:
            data.setflags(write=True)  # the lock lock_shared put on a shared array
        return True

    def numpy(self) -> np.ndarray:
        """The data as a numpy array: the same array as ``data`` (0-d for a scalar), which you
        may change in place.

        >>> from autonet import Value
        >>> v = Value(2.0)
        >>> v.numpy()[...] = 3.0
        >>> v.item()
        3.0
        """
        return self._expose()

    @property
    def grad(self) -> Any:
        """The gradient, same shape and dtype as ``data``; zeros until a backward reaches this Value.

        It is this Value's own writeable array (0-d for a scalar), never shared with another
        Value, so clipping it in place before an optimizer step works. Under
        ``backward(create_graph=True)`` it is itself a ``Value`` that can be differentiated.
        Assign ``None`` (or call ``zero_grad()``) to reset it.
        """
        if TRACING[0] and STATE.tracer is not None:  # autonet.compile: the array a replay reads
            return STATE.tracer.gradient(self, Storage.grad.fget)  # type: ignore[attr-defined]
        g = self._grad
        if g is None:
            data = self._data
            return np.array(0.0) if type(data) is float else np.zeros_like(data)
        if type(g) is float:
            g = self._grad = np.array(g)  # kept, so that changing it in place changes the gradient
        elif type(g) is np.ndarray and (g.base is not None or not g.flags.writeable):
            g = self._grad = g.copy()  # an intermediate's gradient may be stored as a view
        return g

    @grad.setter
    def grad(self, new: Any) -> None:
        if TRACING[0] and STATE.tracer is not None:
            STATE.tracer.call(Storage.grad.fset, self, new)  # type: ignore[attr-defined]
            return
        if new is None or isinstance(new, Storage):
            self._grad = new
            return
        given = np.asarray(new) if isinstance(new, np.ndarray) else None
        new = _to_data(new, None, "grad")
        if shape_of(new) != self.shape:
            raise ValueError(f"grad: shape {shape_of(new)} does not match the Value's shape {self.shape}")
        dtype = self.dtype
        if given is not None and given.dtype.kind == "f" and given.dtype != dtype:
            raise TypeError(
                f"grad: an array of dtype {given.dtype} cannot be the gradient of a {dtype} Value; "
                f"convert it first, e.g. grad.astype(np.{dtype})"
            )
        if type(new) is not float and new.dtype != dtype:
            new = new.astype(dtype)  # numbers, lists and integer arrays take the Value's dtype
        self._grad = new

    def zero_grad(self) -> None:
        """Forget the accumulated gradient (same as ``v.grad = None``)."""
        if TRACING[0] and STATE.tracer is not None:
            STATE.tracer.call(Storage.zero_grad, self)
            return
        self._grad = None

    # ----------------------------------------------------------------- in-place updates

    def add_(self, other: ArrayLike, alpha: float = 1.0) -> Storage:
        """Add ``alpha * other`` to the data in place, recording nothing (as PyTorch's ``add_``
        under ``no_grad``); returns self. This is how optimizers update parameters.

        When a recorded graph still needs the current numbers, the new data goes into a fresh
        array instead, so that backward uses what its forward saw.

        >>> from autonet import Value
        >>> w = Value([1.0, 2.0])
        >>> w.add_([1.0, 1.0], alpha=-0.5).tolist()
        [0.5, 1.5]
        """
        if TRACING[0] and STATE.tracer is not None:
            return STATE.tracer.call(Storage.add_, self, other, alpha)
        delta = other._data if isinstance(other, Storage) else other
        if type(self._data) is float:
            self._data = self._data + alpha * float(np.asarray(delta))
            return self
        if alpha == -1.0:
            return self._assign(np.subtract, delta)
        if alpha != 1.0:
            dtype = self._data.dtype
            if type(delta) is np.ndarray and type(alpha) is float and delta.dtype == dtype:
                delta = delta * alpha  # a Python float keeps the array's dtype: the same bits, sooner
            else:
                delta = np.multiply(delta, alpha, dtype=dtype)
        return self._assign(np.add, delta)

    def mul_(self, factor: ArrayLike) -> Storage:
        """Multiply the data by ``factor`` in place, recording nothing; returns self.

        >>> from autonet import Value
        >>> Value([1.0, -2.0]).mul_(0.5).tolist()
        [0.5, -1.0]
        """
        if TRACING[0] and STATE.tracer is not None:
            return STATE.tracer.call(Storage.mul_, self, factor)
        factor = factor._data if isinstance(factor, Storage) else factor
        if type(self._data) is float:
            self._data = self._data * float(np.asarray(factor))
            return self
        return self._assign(np.multiply, factor)

    def copy_(self, source: ArrayLike) -> Storage:
        """Overwrite the data with ``source`` (same shape, converted to this Value's dtype) in
        place, recording nothing; returns self. Raises ``ValueError`` when the shapes differ.

        >>> from autonet import Value
        >>> Value([1.0, 2.0]).copy_([3.0, 4.0]).tolist()
        [3.0, 4.0]
        """
        if TRACING[0] and STATE.tracer is not None:
            return STATE.tracer.call(Storage.copy_, self, source)
        array = _to_data(source, self.dtype, "copy_", copy=False)
        if shape_of(array) != self.shape:
            raise ValueError(
                f"copy_: source shape {shape_of(array)} does not match the Value's shape {self.shape}"
            )
        if type(self._data) is float or type(array) is float:
            kept = self._data
            self._data = float(array) if type(kept) is float else np.array(array, dtype=kept.dtype)
            self._held = 0
            return self
        if self._private():
            np.copyto(self._data, array, casting="unsafe")
        else:
            self._data = np.array(array, dtype=self._data.dtype)
            self._held = 0
            self._shared = False
        return self

    def _assign(self, ufunc: np.ufunc, operand: Any) -> Storage:
        """``data = ufunc(data, operand)``: in place when no graph keeps the data, else into a new array."""
        if self._private():
            data = self._data
            if type(operand) is np.ndarray and operand.dtype == data.dtype:
                ufunc(data, operand, out=data)  # nothing to cast: a third faster without dtype=
            else:
                ufunc(data, operand, out=data, dtype=data.dtype)
        else:
            # np.asarray: numpy gives a scalar for a 0-d array, and the data must stay an array.
            self._data = np.asarray(ufunc(self._data, operand, dtype=self._data.dtype))
            self._held = 0
            self._shared = False
        return self

    @property
    def shape(self) -> tuple[int, ...]:
        """The array shape; ``()`` for a scalar."""
        return shape_of(self._data)

    @property
    def ndim(self) -> int:
        """Number of dimensions."""
        return len(self.shape)

    @property
    def size(self) -> int:
        """Number of elements."""
        return 1 if type(self._data) is float else self._data.size

    @property
    def dtype(self) -> np.dtype:
        """The numpy dtype (float64 unless float32 or another float was given)."""
        return F64 if type(self._data) is float else self._data.dtype

    def item(self) -> float:
        """The single element as a Python float."""
        if TRACING[0] and STATE.tracer is not None:
            return STATE.tracer.converted(self, Storage.item)
        data = self._data
        if type(data) is float:
            return data
        if data.size != 1:
            raise ValueError(
                f"item: only a Value with one element converts to a number, this one has shape {data.shape}"
            )
        return float(data.item())

    def tolist(self) -> Any:
        """The data as nested Python lists (a float for a scalar)."""
        return np.asarray(self._data).tolist()

    def argmax(self, axis: int | None = None, keepdims: bool = False) -> np.ndarray:
        """Where the largest element sits (along ``axis``), as numpy's ``argmax``: an integer array,
        with no gradient (an index is not differentiable). Inside ``autonet.compile`` the replay
        computes it from the replayed numbers.

        >>> from autonet import Value
        >>> Value([[1.0, 3.0], [4.0, 2.0]]).argmax(axis=1).tolist()
        [1, 0]
        """
        return _indices(np.argmax, self, axis, keepdims)

    def argmin(self, axis: int | None = None, keepdims: bool = False) -> np.ndarray:
        """Where the smallest element sits (along ``axis``), as ``argmax`` does for the largest.

        >>> from autonet import Value
        >>> Value([[1.0, 3.0], [4.0, 2.0]]).argmin(axis=1).tolist()
        [0, 1]
        """
        return _indices(np.argmin, self, axis, keepdims)

    def __len__(self) -> int:
        if type(self._data) is float or self._data.ndim == 0:
            raise TypeError("len() of a 0-d Value")
        return len(self._data)

    def __bool__(self) -> bool:
        if TRACING[0] and STATE.tracer is not None:
            return STATE.tracer.converted(self, Storage.__bool__)
        return bool(self._data)

    def __float__(self) -> float:
        return self.item()

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        # np.asarray(value) reads: a read-only view of the data (np.array(value) copies). To write
        # into a Value's numbers, use value.data.
        data = self._data
        if copy or type(data) is float or (dtype is not None and np.dtype(dtype) != data.dtype):
            if copy is False:
                raise ValueError("Value.__array__: this needs a copy (a float64 scalar, or a new dtype)")
            return np.array(data, dtype=dtype)
        view = data.view()
        view.flags.writeable = False
        return view

    # Comparisons give plain boolean arrays: they have no gradient and record nothing.
    def __lt__(self, other: ArrayLike) -> np.ndarray:
        return np.asarray(self._data < _numbers(other))

    def __le__(self, other: ArrayLike) -> np.ndarray:
        return np.asarray(self._data <= _numbers(other))

    def __gt__(self, other: ArrayLike) -> np.ndarray:
        return np.asarray(self._data > _numbers(other))

    def __ge__(self, other: ArrayLike) -> np.ndarray:
        return np.asarray(self._data >= _numbers(other))

    def __eq__(self, other: object) -> np.ndarray:  # type: ignore[override]
        return np.asarray(self._data == _numbers(other))

    def __ne__(self, other: object) -> np.ndarray:  # type: ignore[override]
        return np.asarray(self._data != _numbers(other))


def stored_data(value: Storage) -> Any:
    """The data exactly as ``value`` stores it: a Python float for a float64 scalar, else the
    array itself, never a copy and never marked as handed out. For reading (copies, pickles,
    drawings): write through ``value.data`` instead, which keeps recorded graphs safe.

    >>> from autonet import Value
    >>> from autonet.storage import stored_data
    >>> stored_data(Value(2.0))
    2.0
    """
    return value._data


def _indices(find: Any, value: Storage, axis: int | None, keepdims: bool) -> np.ndarray:
    if TRACING[0] and STATE.tracer is not None:  # autonet.compile: made again from the replayed numbers
        return STATE.tracer.fresh(_found, find, value._data, axis, keepdims)
    return _found(find, value._data, axis, keepdims)


def _found(find: Any, data: Any, axis: int | None, keepdims: bool) -> np.ndarray:
    return np.asarray(find(np.asarray(data), axis=axis, keepdims=keepdims))


def clear_gradients(values: Iterable[Storage], set_to_none: bool = True) -> None:
    """Forget each Value's gradient (``zero_grad``), or with ``set_to_none=False`` set every
    gradient it has to zeros (PyTorch's argument): what optimizers' and modules' ``zero_grad`` do.

    >>> from autonet import Value
    >>> w = Value([1.0, 2.0])
    >>> (w * w).sum().backward()
    >>> clear_gradients([w], set_to_none=False)
    >>> w.grad.tolist()
    [0.0, 0.0]
    """
    for value in values:
        if set_to_none or value._grad is None:
            value.zero_grad()
        else:
            value.grad = np.zeros(value.shape, value.dtype)


def add_gradients_(values: Sequence[Storage], alpha: float) -> None:
    """``v.add_(v.grad, alpha=alpha)`` for every Value in ``values`` that has a gradient: plain
    gradient descent (``alpha = -lr``) in one call, the bits of ``add_``'s and in place on the
    same terms (copy on write), at less Python per parameter (PyTorch's ``_foreach_add_``).

    >>> from autonet import Value
    >>> w = Value([1.0, 2.0])
    >>> (w * w).sum().backward()
    >>> add_gradients_([w], -0.25)
    >>> w.tolist()
    [0.5, 1.0]
    """
    if TRACING[0] and STATE.tracer is not None:
        STATE.tracer.call(add_gradients_, list(values), alpha)
        return
    fast = type(alpha) is float
    for value in values:
        g = value._grad
        if g is None:
            continue
        # The common case, add_'s own steps inline: a gradient of the data's dtype, a Python
        # float alpha, data that no record keeps (_private: no other name may hold it meanwhile).
        if fast and type(g) is np.ndarray and type(value._data) is np.ndarray:
            if g.dtype == value._data.dtype and value._private():
                value._data += g * alpha
                continue
        value.add_(g if type(g) is float or type(g) is np.ndarray else g._data, alpha=alpha)


def stored_gradient(value: Storage) -> Any:
    """The gradient exactly as backward stored it on ``value``: None before any backward reached
    it, a Python float for a float64 scalar, an array, or a Value under ``create_graph=True``.

    Unlike ``value.grad`` it never makes zeros, a new array or a copy: what optimizers and
    drawings read. A leaf's stored gradient is its own writeable array; an intermediate's may be
    a view of another gradient (``.grad`` returns a copy of its own then).

    >>> from autonet import Value
    >>> from autonet.storage import stored_gradient
    >>> w = Value(2.0)
    >>> stored_gradient(w) is None
    True
    >>> (w * w).backward()
    >>> stored_gradient(w)
    4.0
    """
    return value._grad


def store_gradient(value: Storage, gradient: Any) -> None:
    """Store ``gradient`` on ``value`` exactly as given (None, a float or an array of the
    Value's shape and dtype, unchecked): the counterpart of ``stored_gradient``, for code that
    has computed a gradient the way backward does (``autonet.compile``'s replay). Prefer
    assigning ``value.grad``, which checks and converts.

    >>> import numpy as np
    >>> from autonet import Value
    >>> w = Value([1.0, 2.0])
    >>> store_gradient(w, np.array([0.5, 0.5]))
    >>> w.grad.tolist()
    [0.5, 0.5]
    """
    value._grad = gradient


class Locking(tuple):
    """The input data of a graph record that locked a shared array (``lock_shared``): releasing
    that record must undo the lock (``unlock_shared``); a plain tuple of data needs nothing."""


def lock_shared(inputs: Sequence[Storage], datas: tuple[Any, ...]) -> tuple[Any, ...]:
    """A graph record now keeps the arrays ``datas`` of ``inputs`` for its backward: returns them
    as the record keeps them. An array a Value alone refers to needs nothing (the reference count
    shows the record); one that someone else may also hold is counted and locked (and the datas
    marked ``Locking``), so that no write from outside can change numbers the forward used.

    >>> import numpy as np
    >>> from autonet import Value
    >>> weights = np.array([1.0, 2.0])
    >>> w = Value.from_numpy(weights)
    >>> type(lock_shared((w,), (weights,))).__name__, weights.flags.writeable
    ('Locking', False)
    """
    for v, d in zip(inputs, datas, strict=True):
        if type(d) is not float and v._shared and v._data is d:
            # A shared array was writeable when it became the data (see Value.from_numpy),
            # so for a shared Value read-only means locked here.
            d.setflags(write=False)
            v._held += 1
            datas = Locking(datas)
    return datas


def unlock_shared(inputs: Sequence[Storage], datas: Locking) -> None:
    """Undo ``lock_shared`` as its record is released: the arrays are uncounted on the shared
    Values that still have them as their data (a Value whose data was replaced since is not
    counting them), and unlocked when no record keeps them any more.

    >>> import numpy as np
    >>> from autonet import Value
    >>> weights = np.array([1.0, 2.0])
    >>> w = Value.from_numpy(weights)
    >>> unlock_shared((w,), lock_shared((w,), (weights,)))
    >>> weights.flags.writeable
    True
    """
    for v, d in zip(inputs, datas, strict=True):
        if type(d) is not float and v._shared and v._data is d:
            v._held -= 1
            if not v._held:
                d.setflags(write=True)


def _refcount_alone() -> int:
    # What sys.getrefcount reports for a data array that nothing else refers to, measured with
    # the very expression ``Storage._private`` uses, so it holds on any Python version.
    class Probe:
        __slots__ = ("_data",)

    probe = Probe()
    probe._data = np.empty(1)
    return sys.getrefcount(probe._data)


_ALONE = _refcount_alone()


def _refcount_assigned() -> int:
    # What sys.getrefcount reports, in the ``data`` setter, for a temporary assigned to the
    # property (``v.data = np.empty(1)``): nothing but the assignment refers to it.
    class Probe:
        __slots__ = ("seen",)

        @property
        def data(self) -> None:
            return None

        @data.setter
        def data(self, new: Any) -> None:
            self.seen = sys.getrefcount(new)

    probe = Probe()
    probe.data = np.empty(1)
    return probe.seen


_ASSIGNED_ALONE = _refcount_assigned()
