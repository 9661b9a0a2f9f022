"""Recurrent networks, as PyTorch's: ``RNN``, ``GRU`` and ``LSTM`` over whole sequences, and the
one-step cells ``RNNCell``, ``GRUCell`` and ``LSTMCell``.

Constructor arguments, parameter names, shapes and gate order are PyTorch's, so a state converted
from torch with ``{k: v.detach().numpy() for k, v in module.state_dict().items()}`` loads with
``load_state_dict``. Layer ``k`` of a sequence module has ``weight_ih_l{k}`` (gates * hidden_size,
input), ``weight_hh_l{k}`` (gates * hidden_size, hidden_size), ``bias_ih_l{k}`` and
``bias_hh_l{k}`` (gates * hidden_size,); a cell has ``weight_ih``, ``weight_hh``, ``bias_ih`` and
``bias_hh``. The gates are stacked in PyTorch's order (LSTM: i, f, g, o; GRU: r, z, n), and every
parameter starts uniform(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), drawn by ``rng``.

The steps are built from registered ops (``linear``, matmul, indexing, ``sigmoid``, ``tanh``,
``relu``, ``stack``), so their gradients are the registry's checked ones and second order comes
free. A sequence module projects the input of every time step in one ``linear`` per layer and
runs only the hidden-to-hidden product step by step. Dropout (``dropout=p``) acts on the output
of every layer but the last, in training mode only, with masks drawn from the module's ``rng``
as ``Dropout`` draws them. ``bidirectional=True`` is refused (a ``ValueError``).

>>> import numpy as np
>>> from autonet import nn
>>> lstm = nn.LSTM(3, 5, num_layers=2, batch_first=True, rng=0)
>>> output, (h_n, c_n) = lstm(np.zeros((4, 7, 3)))
>>> output.shape, h_n.shape, c_n.shape
((4, 7, 5), (2, 4, 5), (2, 4, 5))
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..engine import Value
from ..ops import loss as _fused
from ..ops.composite import stack
from ..ops.norm import dropout
from ..surface import apply
from .init import RandomState, as_generator, float_dtype, pytorch_uniform
from .module import Module

__all__ = ["GRU", "LSTM", "RNN", "GRUCell", "LSTMCell", "RNNCell"]

_State = tuple[Value, ...]  # (h,) for RNN and GRU, (h, c) for LSTM


# --------------------------------------------------------------------------- arguments


def _positive(n: Any, what: str, who: str) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"{who}: {what} must be a positive int, got {n!r}")
    return int(n)


def _nonlinearity(nonlinearity: Any, who: str) -> str:
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"{who}: unknown nonlinearity {nonlinearity!r}; use 'tanh' or 'relu'")
    return nonlinearity


def _as_input(x: Any, dtype: np.dtype) -> Value:
    """Data as a constant of the module's dtype; a Value passes as it is."""
    if isinstance(x, Value):
        return x
    return Value(x, dtype=dtype, requires_grad=False)  # x itself: a compiled step reads it again


def _uniform(generator: np.random.Generator, hidden_size: int, shape: tuple[int, ...], dtype: Any) -> Value:
    # PyTorch's reset_parameters: every weight and bias uniform(-1/sqrt(hidden), 1/sqrt(hidden)).
    return Value(pytorch_uniform(hidden_size, shape, generator, dtype))


# --------------------------------------------------------------------------- the steps


def _project(x: Value, weight: Value, bias: Value | None) -> Value:
    """``x @ weight.T + bias`` over the last axis of ``x``: every time step in one product."""
    if bias is None:
        return x @ weight.T
    return apply(_fused.linear, x, weight.T, bias)


def _time_steps(x: Value) -> list[Value]:
    """``x[0], x[1], ...``: the slices of ``x`` along its first (time) axis.

    A slice's gradient is an array of the whole of ``x``, so taking all T slices of ``x`` would
    make the backward O(T²) in time and memory traffic; taking halves of halves keeps it
    O(T log T) (each level of halving passes gradients of x's size once in all).
    """
    steps = x.shape[0]
    if steps <= 4:
        return [x[t] for t in range(steps)]
    half = steps // 2
    return _time_steps(x[:half]) + _time_steps(x[half:])


def _rnn_step(nonlinearity: str) -> Callable[[Value, _State, Value, Value | None], _State]:
    def step(gi: Value, state: _State, w_hh_t: Value, b_hh: Value | None) -> _State:
        # b_hh is in gi already (_Recurrence.folds_bias): h' = act(W_ih x + b_ih + W_hh h + b_hh).
        pre = gi + state[0] @ w_hh_t
        return (pre.tanh() if nonlinearity == "tanh" else pre.relu(),)

    return step


def _lstm_step(gi: Value, state: _State, w_hh_t: Value, b_hh: Value | None) -> _State:
    h, c = state
    n = h.shape[-1]
    gates = gi + h @ w_hh_t  # i, f, g, o
    i = gates[..., :n].sigmoid()
    f = gates[..., n : 2 * n].sigmoid()
    g = gates[..., 2 * n : 3 * n].tanh()
    o = gates[..., 3 * n :].sigmoid()
    c = f * c + i * g
    return o * c.tanh(), c


def _gru_step(gi: Value, state: _State, w_hh_t: Value, b_hh: Value | None) -> _State:
    (h,) = state
    n = h.shape[-1]
    # b_hh stays out of gi: its n part is scaled by r, n = tanh(W_in x + b_in + r * (W_hn h + b_hn)).
    gh = h @ w_hh_t if b_hh is None else apply(_fused.linear, h, w_hh_t, b_hh)
    rz = (gi[..., : 2 * n] + gh[..., : 2 * n]).sigmoid()
    r, z = rz[..., :n], rz[..., n:]
    candidate = (gi[..., 2 * n :] + r * gh[..., 2 * n :]).tanh()
    return (candidate + z * (h - candidate),)  # (1 - z) * n + z * h


@dataclass(frozen=True)
class _Recurrence:
    """One kind of recurrence: its gate count, the names of its state and its step."""

    gates: int
    state_names: tuple[str, ...]
    step: Callable[[Value, _State, Value, Value | None], _State]
    # Where b_hh is added straight to W_hh h (RNN, LSTM, not GRU), it can join b_ih in the
    # all-steps projection, and the step is given no b_hh.
    folds_bias: bool


def _recurrence(kind: str, nonlinearity: str = "tanh") -> _Recurrence:
    if kind == "LSTM":
        return _Recurrence(4, ("h_0", "c_0"), _lstm_step, True)
    if kind == "GRU":
        return _Recurrence(3, ("h_0",), _gru_step, False)
    return _Recurrence(1, ("h_0",), _rnn_step(nonlinearity), True)


def _states(
    hx: Any,
    names: tuple[str, ...],
    shape: tuple[int, ...],
    axes: tuple[str, ...],
    batched: bool,
    dtype: np.dtype,
    who: str,
) -> list[Value] | None:
    """The initial states given as ``hx``, one Value of ``shape`` (whose axes are called
    ``axes``, the batch axis "N") per name, an unbatched state given its batch axis of 1 back;
    None for zeros. Errors name the module, the state and both shapes."""
    if hx is None:
        return None
    if len(names) > 1:
        if not isinstance(hx, (tuple, list)) or len(hx) != len(names):
            raise TypeError(
                f"{who}: hx must be a tuple ({', '.join(names)}) or None, got {type(hx).__name__}"
            )
        given = list(hx)
    else:
        given = [hx]
    batch_axis = axes.index("N")
    if not batched:
        shape, axes = shape[:batch_axis] + shape[batch_axis + 1 :], axes[:batch_axis] + axes[batch_axis + 1 :]
    states = []
    for name, state in zip(names, given, strict=True):
        state = _as_input(state, dtype)
        if state.shape != shape:
            kind = "a batched" if batched else "an unbatched"
            raise ValueError(
                f"{who}: {name} has shape {state.shape}, expected {shape} ({', '.join(axes)}"
                f"{',' if len(axes) == 1 else ''}) for {kind} input"
            )
        states.append(state if batched else state.expand_dims(batch_axis))
    return states


# --------------------------------------------------------------------------- sequence modules


class _RecurrentBase(Module):
    """What RNN, GRU and LSTM share: the arguments, the parameters and the layer loop."""

    def __init__(
        self,
        kind: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        *,
        rng: RandomState = None,
        dtype: Any = np.float64,
    ) -> None:
        who = type(self).__name__
        self.input_size = _positive(input_size, "input_size", who)
        self.hidden_size = _positive(hidden_size, "hidden_size", who)
        self.num_layers = _positive(num_layers, "num_layers", who)
        if kind == "RNN":
            self.nonlinearity = _nonlinearity(nonlinearity, who)
        self.bias, self.batch_first = bool(bias), bool(batch_first)
        if isinstance(dropout, bool) or not isinstance(dropout, numbers.Real) or not 0 <= dropout <= 1:
            raise ValueError(f"{who}: dropout must be a probability in [0, 1], got {dropout!r}")
        self.dropout = float(dropout)
        if self.dropout > 0 and self.num_layers == 1:
            warnings.warn(
                f"{who}: dropout acts between recurrent layers only, so dropout={self.dropout} does "
                "nothing with num_layers=1",
                UserWarning,
                stacklevel=3,
            )
        if bidirectional:
            raise ValueError(f"{who}: bidirectional=True is not supported; use bidirectional=False")
        self.bidirectional = False
        dtype = float_dtype(dtype, who)
        self._recurrence = _recurrence(kind, nonlinearity)
        self._generator = as_generator(rng)  # the weights first, then the dropout masks
        rows = self._recurrence.gates * self.hidden_size
        # Assigned in PyTorch's order, which is the order of parameters() and state_dict().
        for k in range(self.num_layers):
            fan_in = self.input_size if k == 0 else self.hidden_size
            shapes = {"weight_ih": (rows, fan_in), "weight_hh": (rows, self.hidden_size)}
            if self.bias:
                shapes.update(bias_ih=(rows,), bias_hh=(rows,))
            for name, shape in shapes.items():
                setattr(self, f"{name}_l{k}", _uniform(self._generator, self.hidden_size, shape, dtype))
        self._dtype = dtype

    def _convert_dtype(self, dtype: np.dtype) -> None:
        super()._convert_dtype(dtype)
        self._dtype = dtype  # data inputs and the zero states in the new dtype

    def _layer(self, k: int) -> tuple[Value, Value, Value | None, Value | None]:
        # Read by name on every call, so that an assigned parameter (rnn.weight_hh_l0 = ...) is used.
        return tuple(
            getattr(self, f"{name}_l{k}", None) for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
        )

    def _run(self, input: Any, hx: Any) -> tuple[Value, list[Value]]:  # noqa: A002
        who = type(self).__name__
        x = _as_input(input, self._dtype)
        recurrence = self._recurrence
        n = self.input_size
        layout = f"(N, L, {n})" if self.batch_first else f"(L, N, {n})"
        if x.ndim not in (2, 3) or x.shape[-1] != n:
            raise ValueError(
                f"{who}: expected an input of shape {layout} or (L, {n}) unbatched (input_size={n}), "
                f"got shape {x.shape}"
            )
        given_shape, batched = x.shape, x.ndim == 3
        if not batched:
            x = x.expand_dims(1)
        elif self.batch_first:
            x = x.swapaxes(0, 1)
        steps, batch = x.shape[:2]
        if steps == 0:
            raise ValueError(f"{who}: the input has no time steps (shape {given_shape}); give at least one")
        shape = (self.num_layers, batch, self.hidden_size)
        axes = ("num_layers", "N", "hidden_size")
        given = _states(hx, recurrence.state_names, shape, axes, batched, self._dtype, who)
        zeros = Value(np.zeros((batch, self.hidden_size), dtype=self._dtype), requires_grad=False)
        finals: list[_State] = []
        for k in range(self.num_layers):
            if k and self.training and self.dropout > 0:
                x = dropout(x, self.dropout, True, self._generator)
            w_ih, w_hh, b_ih, b_hh = self._layer(k)
            if recurrence.folds_bias and b_ih is not None:
                b_ih, b_hh = b_ih + b_hh, None
            gi = _project(x, w_ih, b_ih)
            w_hh_t = w_hh.T
            state = (
                tuple(zeros for _ in recurrence.state_names) if given is None else tuple(s[k] for s in given)
            )
            outputs = []
            for gi_t in _time_steps(gi):
                state = recurrence.step(gi_t, state, w_hh_t, b_hh)
                outputs.append(state[0])
            x = stack(outputs, axis=0)
            finals.append(state)
        if not batched:
            x = x.squeeze(1)
        elif self.batch_first:
            x = x.swapaxes(0, 1)
        last = [stack([state[j] for state in finals], axis=0) for j in range(len(recurrence.state_names))]
        return x, [s if batched else s.squeeze(1) for s in last]

    def extra_repr(self) -> str:
        parts = [f"{self.input_size}, {self.hidden_size}"]
        if self.num_layers != 1:
            parts.append(f"num_layers={self.num_layers}")
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            parts.append(f"nonlinearity={self.nonlinearity!r}")
        if not self.bias:
            parts.append("bias=False")
        if self.batch_first:
            parts.append("batch_first=True")
        if self.dropout:
            parts.append(f"dropout={self.dropout}")
        return ", ".join(parts)


class RNN(_RecurrentBase):
    """An Elman RNN over a sequence, as ``torch.nn.RNN``: h_t = tanh(W_ih x_t + b_ih + W_hh h_(t-1) + b_hh).

    ``nonlinearity='relu'`` uses relu instead of tanh. Per layer ``k``: ``weight_ih_l{k}``
    (hidden_size, input_size for k = 0 else hidden_size), ``weight_hh_l{k}`` (hidden_size,
    hidden_size), ``bias_ih_l{k}`` and ``bias_hh_l{k}`` (hidden_size,) unless ``bias=False``.

    ``forward(input, hx=None)`` takes input (L, N, H_in) ((N, L, H_in) with ``batch_first``, or
    (L, H_in) unbatched) and hx (num_layers, N, hidden_size) ((num_layers, hidden_size)
    unbatched; None: zeros), and returns ``(output, h_n)``: output (L, N, hidden_size) (laid out
    as the input) holds the last layer's h_t for every t, h_n each layer's last h. Raises
    ValueError naming the module and both shapes for an input or hx that does not fit, and for
    ``bidirectional=True``.

    >>> import numpy as np
    >>> from autonet.nn import RNN
    >>> output, h_n = RNN(2, 4, num_layers=3, rng=0)(np.ones((5, 8, 2)))
    >>> output.shape, h_n.shape
    ((5, 8, 4), (3, 8, 4))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        *,
        rng: RandomState = None,
        dtype: Any = np.float64,
    ) -> None:
        super().__init__(
            "RNN",
            input_size,
            hidden_size,
            num_layers,
            nonlinearity,
            bias,
            batch_first,
            dropout,
            bidirectional,
            rng=rng,
            dtype=dtype,
        )

    def forward(self, input: Any, hx: Any = None) -> tuple[Value, Value]:  # noqa: A002 (PyTorch's name)
        """``(output, h_n)``: the last layer's h_t for every step t, and every layer's last h (the
        shapes are in the class docstring)."""
        output, (h_n,) = self._run(input, hx)
        return output, h_n


class GRU(_RecurrentBase):
    """A gated recurrent unit over a sequence, as ``torch.nn.GRU``.

    With gates r, z, n in PyTorch's order: r = sigmoid(W_ir x + b_ir + W_hr h + b_hr),
    z = sigmoid(W_iz x + b_iz + W_hz h + b_hz), n = tanh(W_in x + b_in + r * (W_hn h + b_hn)) and
    h' = (1 - z) * n + z * h. Parameters as ``RNN``'s with 3 * hidden_size rows (r, z, n
    stacked). ``forward(input, hx=None)`` takes and returns what ``RNN``'s does.

    >>> import numpy as np
    >>> from autonet.nn import GRU
    >>> gru = GRU(3, 4, batch_first=True, rng=0)
    >>> output, h_n = gru(np.ones((2, 6, 3)))
    >>> output.shape, h_n.shape, gru.weight_ih_l0.shape
    ((2, 6, 4), (1, 2, 4), (12, 3))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        *,
        rng: RandomState = None,
        dtype: Any = np.float64,
    ) -> None:
        super().__init__(
            "GRU",
            input_size,
            hidden_size,
            num_layers,
            "tanh",
            bias,
            batch_first,
            dropout,
            bidirectional,
            rng=rng,
            dtype=dtype,
        )

    def forward(self, input: Any, hx: Any = None) -> tuple[Value, Value]:  # noqa: A002 (PyTorch's name)
        """``(output, h_n)``: the last layer's h_t for every step t, and every layer's last h (the
        shapes are in the class docstring)."""
        output, (h_n,) = self._run(input, hx)
        return output, h_n


class LSTM(_RecurrentBase):
    """A long short-term memory network over a sequence, as ``torch.nn.LSTM``.

    With gates i, f, g, o in PyTorch's order (each W_i* x + b_i* + W_h* h + b_h*; sigmoid, except
    tanh for g): c' = f * c + i * g and h' = o * tanh(c'). Parameters as ``RNN``'s with
    4 * hidden_size rows (i, f, g, o stacked). ``forward(input, hx=None)`` takes hx as a tuple
    ``(h_0, c_0)`` of the shapes ``RNN``'s hx has (None: zeros) and returns
    ``(output, (h_n, c_n))``. Raises TypeError for an hx that is not a pair.

    >>> import numpy as np
    >>> from autonet.nn import LSTM
    >>> lstm = LSTM(3, 4, rng=0)
    >>> output, (h_n, c_n) = lstm(np.ones((6, 3)))  # unbatched: (L, H_in)
    >>> output.shape, h_n.shape, [name for name, _ in lstm.named_parameters()]
    ((6, 4), (1, 4), ['weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0', 'bias_hh_l0'])
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        *,
        rng: RandomState = None,
        dtype: Any = np.float64,
    ) -> None:
        super().__init__(
            "LSTM",
            input_size,
            hidden_size,
            num_layers,
            "tanh",
            bias,
            batch_first,
            dropout,
            bidirectional,
            rng=rng,
            dtype=dtype,
        )

    def forward(self, input: Any, hx: Any = None) -> tuple[Value, tuple[Value, Value]]:  # noqa: A002
        """``(output, (h_n, c_n))``: the last layer's h_t for every step t, and every layer's last
        h and c (the shapes are in ``RNN``'s docstring)."""
        output, (h_n, c_n) = self._run(input, hx)
        return output, (h_n, c_n)


# --------------------------------------------------------------------------- cells


class _CellBase(Module):
    """What the cells share: the arguments, the parameters and one step."""

    def __init__(
        self,
        recurrence: _Recurrence,
        input_size: int,
        hidden_size: int,
        bias: bool,
        rng: RandomState,
        dtype: Any,
    ) -> None:
        who = type(self).__name__
        self.input_size = _positive(input_size, "input_size", who)
        self.hidden_size = _positive(hidden_size, "hidden_size", who)
        self.bias = bool(bias)
        dtype = float_dtype(dtype, who)
        generator = as_generator(rng)
        rows = recurrence.gates * self.hidden_size
        self.weight_ih = _uniform(generator, self.hidden_size, (rows, self.input_size), dtype)
        self.weight_hh = _uniform(generator, self.hidden_size, (rows, self.hidden_size), dtype)
        self.bias_ih = _uniform(generator, self.hidden_size, (rows,), dtype) if bias else None
        self.bias_hh = _uniform(generator, self.hidden_size, (rows,), dtype) if bias else None
        self._recurrence, self._dtype = recurrence, dtype

    def _convert_dtype(self, dtype: np.dtype) -> None:
        super()._convert_dtype(dtype)
        self._dtype = dtype  # data inputs and the zero states in the new dtype

    def _run(self, input: Any, hx: Any) -> list[Value]:  # noqa: A002
        who = type(self).__name__
        recurrence = self._recurrence
        x = _as_input(input, self._dtype)
        n = self.input_size
        if x.ndim not in (1, 2) or x.shape[-1] != n:
            raise ValueError(
                f"{who}: expected an input of shape (N, {n}) or ({n},) unbatched (input_size={n}), "
                f"got shape {x.shape}"
            )
        batched = x.ndim == 2
        if not batched:
            x = x.expand_dims(0)
        batch = x.shape[0]
        names = ("h_0", "c_0") if len(recurrence.state_names) > 1 else ("hx",)
        shape = (batch, self.hidden_size)
        given = _states(hx, names, shape, ("N", "hidden_size"), batched, self._dtype, who)
        if given is None:
            zeros = Value(np.zeros((batch, self.hidden_size), dtype=self._dtype), requires_grad=False)
            given = [zeros for _ in names]
        b_ih, b_hh = self.bias_ih, self.bias_hh
        if recurrence.folds_bias and b_ih is not None:
            b_ih, b_hh = b_ih + b_hh, None
        state = recurrence.step(_project(x, self.weight_ih, b_ih), tuple(given), self.weight_hh.T, b_hh)
        return [s if batched else s.squeeze(0) for s in state]

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")


class RNNCell(_CellBase):
    """One step of an Elman RNN, as ``torch.nn.RNNCell``: h' = tanh(W_ih x + b_ih + W_hh h + b_hh).

    ``nonlinearity='relu'`` uses relu instead of tanh. Parameters ``weight_ih`` (hidden_size,
    input_size), ``weight_hh`` (hidden_size, hidden_size), ``bias_ih`` and ``bias_hh``
    (hidden_size,) (None with ``bias=False``). ``forward(input, hx=None)`` takes input (N,
    input_size) or (input_size,) and hx (N, hidden_size) or (hidden_size,) (None: zeros) and
    returns h' of hx's shape. Raises ValueError naming the cell and both shapes for an input or
    hx that does not fit.

    >>> import numpy as np
    >>> from autonet.nn import RNNCell
    >>> cell = RNNCell(3, 2, rng=0)
    >>> h = cell(np.ones((4, 3)))
    >>> cell(np.ones((4, 3)), h).shape, cell(np.ones(3)).shape
    ((4, 2), (2,))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        *,
        rng: RandomState = None,
        dtype: Any = np.float64,
    ) -> None:
        self.nonlinearity = _nonlinearity(nonlinearity, "RNNCell")
        recurrence = _recurrence("RNN", nonlinearity)
        super().__init__(recurrence, input_size, hidden_size, bias, rng, dtype)

    def forward(self, input: Any, hx: Any = None) -> Value:  # noqa: A002 (PyTorch's name)
        """The next hidden state h' from ``input`` and the hidden state ``hx`` (None: zeros)."""
        (h,) = self._run(input, hx)
        return h

    def extra_repr(self) -> str:
        relu = ", nonlinearity='relu'" if self.nonlinearity == "relu" else ""
        return super().extra_repr() + relu


class GRUCell(_CellBase):
    """One step of a gated recurrent unit, as ``torch.nn.GRUCell`` (the equations of ``GRU``).

    Parameters as ``RNNCell``'s with 3 * hidden_size rows (r, z, n); ``forward(input, hx=None)``
    takes and returns what ``RNNCell``'s does.

    >>> import numpy as np
    >>> from autonet.nn import GRUCell
    >>> cell = GRUCell(3, 2, rng=0)
    >>> cell(np.ones((4, 3))).shape, cell.weight_hh.shape
    ((4, 2), (6, 2))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        *,
        rng: RandomState = None,
        dtype: Any = np.float64,
    ) -> None:
        super().__init__(_recurrence("GRU"), input_size, hidden_size, bias, rng, dtype)

    def forward(self, input: Any, hx: Any = None) -> Value:  # noqa: A002 (PyTorch's name)
        """The next hidden state h' from ``input`` and the hidden state ``hx`` (None: zeros)."""
        (h,) = self._run(input, hx)
        return h


class LSTMCell(_CellBase):
    """One step of a long short-term memory, as ``torch.nn.LSTMCell`` (the equations of ``LSTM``).

    Parameters as ``RNNCell``'s with 4 * hidden_size rows (i, f, g, o). ``forward(input,
    hx=None)`` takes hx as a tuple ``(h_0, c_0)`` of the shape ``RNNCell``'s hx has (None: zeros)
    and returns ``(h_1, c_1)``. Raises TypeError for an hx that is not a pair.

    >>> import numpy as np
    >>> from autonet.nn import LSTMCell
    >>> cell = LSTMCell(3, 2, rng=0)
    >>> h, c = cell(np.ones((4, 3)))
    >>> h.shape, cell(np.ones((4, 3)), (h, c))[1].shape
    ((4, 2), (4, 2))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        *,
        rng: RandomState = None,
        dtype: Any = np.float64,
    ) -> None:
        super().__init__(_recurrence("LSTM"), input_size, hidden_size, bias, rng, dtype)

    def forward(self, input: Any, hx: Any = None) -> tuple[Value, Value]:  # noqa: A002 (PyTorch's name)
        """The next ``(h, c)`` from ``input`` and the state ``hx = (h_0, c_0)`` (None: zeros)."""
        h, c = self._run(input, hx)
        return h, c
