"""Neuron, Layer and MLP: from the one-neuron teaching example to a batched network.

A ``Neuron`` is the textbook unit: weights, a bias and an activation. A ``Layer`` is ``nout``
neurons computed together as one matrix product over the whole batch (``x @ w + b`` in a single
fused op, ``linear``), and an ``MLP`` is a list of layers. Layers and MLPs take one sample (a
list of numbers or a 1-d array, giving a 1-d result) or a batch (a 2-d array, one sample per row).

Input data is wrapped as a constant (``requires_grad=False``) in the layer's dtype, so no
gradient is computed for it and a float32 model stays float32.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, ClassVar

import numpy as np

from ..engine import Value
from ..ops import loss as _fused
from ..ops.composite import stack
from ..surface import apply
from .init import RandomState, as_generator, float_dtype, pytorch_uniform, resolve
from .module import Module

__all__ = ["ACTIVATIONS", "MLP", "Layer", "Linear", "Neuron"]

Activation = Callable[[Value], Value]

ACTIVATIONS: dict[str, Activation | None] = {
    "linear": None,
    "relu": Value.relu,
    "leaky_relu": Value.leaky_relu,
    "tanh": Value.tanh,
    "sigmoid": Value.sigmoid,
    "softplus": Value.softplus,
    "gelu": Value.gelu,
    "softmax": Value.softmax,
}
"""Activations by name, as ``activation=`` accepts them (``None`` means ``"linear"``)."""


def _activation(activation: str | Activation | None, who: str) -> tuple[str, Activation | None]:
    """The activation's display name and function (None for the identity)."""
    if activation is None:
        return "linear", None
    if isinstance(activation, str):
        if activation not in ACTIVATIONS:
            raise ValueError(
                f"{who}: unknown activation {activation!r}; "
                f"use one of {sorted(ACTIVATIONS)}, None or a function"
            )
        return activation, ACTIVATIONS[activation]
    if callable(activation):
        return getattr(activation, "__name__", "custom"), activation
    raise TypeError(
        f"{who}: activation must be a name, None or a function of a Value, got {type(activation).__name__}"
    )


def _check_size(n: Any, what: str, who: str) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"{who}: {what} must be a positive int, got {n!r}")
    return int(n)


def _as_input(inputs: Any, nin: int, dtype: np.dtype, who: str) -> Value:
    """One sample or a batch as a Value whose last axis holds ``nin`` features.

    Data becomes a constant of the module's dtype; a list holding Values (outputs of other
    neurons) is stacked so that gradients flow through it.
    """
    if type(inputs) is not Value:
        if isinstance(inputs, (list, tuple)) and any(isinstance(item, Value) for item in inputs):
            inputs = stack(inputs)
        else:
            try:  # Value converts the data itself, so that a compiled step reads each new batch
                inputs = Value(inputs, dtype=dtype, requires_grad=False)
            except (TypeError, ValueError) as error:
                raise TypeError(
                    f"{who}: inputs must be numbers, a list of numbers or an array; {error}"
                ) from None
    shape = inputs.shape
    if not shape:
        raise ValueError(
            f"{who}: expected one sample of {nin} numbers (1-d) or a batch of shape (samples, {nin}), "
            "got a scalar"
        )
    if shape[-1] != nin:
        raise ValueError(
            f"{who}: expected {nin} inputs per sample, got {shape[-1]} (input shape {shape}); "
            f"the last axis must have length {nin}"
        )
    return inputs


class Neuron(Module):
    """One neuron: ``activation(inputs @ weights + bias)``.

    ``Neuron(weights, bias)`` uses the given weights (a vector, one per input);
    ``Neuron(nin)`` draws ``nin`` random weights (``init``, seeded by ``rng``) and a zero bias.
    ``feedforward(inputs)`` (or calling the neuron) takes one sample and returns a scalar
    Value, or a batch (2-d) and returns one value per sample.

    The parameters are ``weights`` (a Value holding the vector) and ``bias`` (a 0-d Value), the
    names of the classic tutorial's code; they are also the names in ``state_dict``, in saved
    files and in drawings (``h1.weights``). ``w`` and ``b`` are aliases of the same Values,
    and a state with the old keys ``w`` and ``b`` still loads. ``neuron.weights[0]`` is the
    first weight as a 0-d Value (``.item()`` gives the float; ``weights.grad[0]`` its gradient).

    Raises ``TypeError`` if ``weights`` is a single float: the weight vector is the API
    (``Neuron(np.array([w1, w2]), b)``), a number there means the number of inputs and must be
    an int.

    >>> import numpy as np
    >>> from autonet.nn import Neuron
    >>> n = Neuron(np.array([0, 1]), 4)
    >>> n.feedforward(np.array([2, 3])).item()  # sigmoid(0*2 + 1*3 + 4) = sigmoid(7)
    0.9990889488055994
    >>> n.weights[1].item(), n.bias.item(), [name for name, _ in n.named_parameters()]
    (1.0, 4.0, ['weights', 'bias'])
    """

    renamed_parameters: ClassVar[Mapping[str, str]] = MappingProxyType({"w": "weights", "b": "bias"})

    def __init__(
        self,
        weights: int | Sequence[float] | np.ndarray,
        bias: float = 0.0,
        activation: str | Activation | None = "sigmoid",
        *,
        init: str | Callable[..., np.ndarray] = "auto",
        rng: RandomState = None,
        dtype: Any = None,
    ) -> None:
        self.activation, self._activate = _activation(activation, "Neuron")
        if isinstance(weights, (int, np.integer)) and not isinstance(weights, bool):
            nin = _check_size(weights, "the number of inputs", "Neuron")
            dtype = np.dtype(np.float64 if dtype is None else dtype)
            vector = resolve(init, self.activation)((nin,), rng=as_generator(rng), dtype=dtype)
        else:
            vector = self._weight_vector(weights, dtype)
        if np.ndim(bias) != 0 or isinstance(bias, bool):
            raise TypeError(f"Neuron: bias must be one number, got {bias!r}")
        self.weights = Value(vector)
        self.bias = Value(np.asarray(bias, dtype=vector.dtype))
        self.nin = vector.shape[0]

    @property
    def w(self) -> Value:
        """The ``weights`` Value under its older, shorter name (the same object)."""
        return self.weights

    @w.setter
    def w(self, value: Value) -> None:
        self.weights = value

    @property
    def b(self) -> Value:
        """The ``bias`` Value under its older, shorter name (the same object)."""
        return self.bias

    @b.setter
    def b(self, value: Value) -> None:
        self.bias = value

    @staticmethod
    def _weight_vector(weights: Any, dtype: Any) -> np.ndarray:
        if isinstance(weights, (float, np.floating, bool)) or (
            isinstance(weights, np.ndarray) and weights.ndim == 0
        ):
            raise TypeError(
                f"Neuron: weights must be a vector with one weight per input, such as np.array([0, 1]), "
                f"or an int number of inputs; got the single number {weights!r}. A two-input neuron "
                "with random weights is Neuron(np.random.normal(size=2), np.random.normal())."
            )
        try:
            vector = np.array(weights, dtype=dtype)  # a copy: training must not change the caller's array
        except (TypeError, ValueError) as error:
            raise TypeError(f"Neuron: weights must be a vector of numbers; {error}") from None
        if vector.ndim != 1 or vector.size == 0:
            raise ValueError(f"Neuron: weights must be a non-empty 1-d vector, got shape {vector.shape}")
        if vector.dtype.kind in "biu":
            vector = vector.astype(np.float64)
        elif vector.dtype.kind != "f":
            raise TypeError(f"Neuron: weights must be real numbers, got dtype {vector.dtype}")
        return vector

    def forward(self, inputs: Any) -> Value:
        x = _as_input(inputs, self.nin, self.weights.dtype, "Neuron")
        total = x @ self.weights + self.bias
        return total if self._activate is None else self._activate(total)

    def feedforward(self, inputs: Any) -> Value:
        """The neuron's output for ``inputs`` (the same as calling the neuron)."""
        return self(inputs)

    def extra_repr(self) -> str:
        return f"{self.nin} inputs, {self.activation}"


class Layer(Module):
    """``nout`` neurons over the same ``nin`` inputs: ``activation(x @ w + b)``, one matrix
    product for the whole batch.

    ``w`` has shape ``(nin, nout)`` (drawn by ``init``: He for relu-like activations, Xavier
    otherwise, from ``rng``), ``b`` has shape ``(nout,)`` and starts at zero. The default
    activation is relu, as in micrograd; pass ``activation=None`` for a linear layer.

    >>> from autonet.nn import Layer
    >>> layer = Layer(3, 2, activation="tanh", rng=0)
    >>> layer([1.0, 2.0, 3.0]).shape, layer(np.ones((5, 3))).shape
    ((2,), (5, 2))
    """

    def __init__(
        self,
        nin: int,
        nout: int,
        activation: str | Activation | None = "relu",
        *,
        init: str | Callable[..., np.ndarray] = "auto",
        rng: RandomState = None,
        dtype: Any = np.float64,
    ) -> None:
        self.nin = _check_size(nin, "nin", "Layer")
        self.nout = _check_size(nout, "nout", "Layer")
        self.activation, self._activate = _activation(activation, "Layer")
        dtype = float_dtype(dtype, "Layer")
        weights = resolve(init, self.activation)((self.nin, self.nout), rng=as_generator(rng), dtype=dtype)
        if np.shape(weights) != (self.nin, self.nout):
            raise ValueError(
                f"Layer: init returned shape {np.shape(weights)}, expected {(self.nin, self.nout)}"
            )
        self.w = Value(np.asarray(weights, dtype=dtype))
        self.b = Value(np.zeros(self.nout, dtype=dtype))

    @property
    def dtype(self) -> np.dtype:
        """The dtype of the weights (and of the outputs for data inputs)."""
        return self.w.dtype

    def forward(self, x: Any) -> Value:
        if type(x) is not Value or x.shape[-1:] != (self.nin,):
            x = _as_input(x, self.nin, self.w.dtype, "Layer")
        pre_activation = apply(_fused.linear, x, self.w, self.b)
        if self._activate is None:
            return pre_activation
        pre_activation.scope = self._path
        return self._activate(pre_activation)

    def extra_repr(self) -> str:
        dtype = "" if self.dtype == np.float64 else f", {self.dtype}"
        return f"{self.nin} -> {self.nout}, {self.activation}{dtype}"


class Linear(Module):
    """``x @ weight.T + bias``, as ``torch.nn.Linear``: PyTorch's arguments, names, layouts and
    initialisation, so a torch ``Linear``'s state dict loads as it is.

    ``weight`` has shape ``(out_features, in_features)`` and ``bias`` ``(out_features,)`` (None
    with ``bias=False``), both drawn from uniform(-1/sqrt(in_features), 1/sqrt(in_features)) by
    ``rng``. ``Layer`` is the same product with autonet's layout, ``w`` (in, out), and an
    activation built in.

    >>> from autonet.nn import Linear
    >>> layer = Linear(3, 2, rng=0)
    >>> layer.weight.shape, layer(np.ones((5, 3))).shape, list(layer.state_dict())
    ((2, 3), (5, 2), ['weight', 'bias'])
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        *,
        rng: RandomState = None,
        dtype: Any = np.float64,
    ) -> None:
        self.in_features = _check_size(in_features, "in_features", "Linear")
        self.out_features = _check_size(out_features, "out_features", "Linear")
        dtype = float_dtype(dtype, "Linear")
        generator = as_generator(rng)
        fan_in, shape = self.in_features, (self.out_features, self.in_features)
        self.weight = Value(pytorch_uniform(fan_in, shape, generator, dtype))  # PyTorch's default
        self.bias = Value(pytorch_uniform(fan_in, self.out_features, generator, dtype)) if bias else None

    @property
    def dtype(self) -> np.dtype:
        """The dtype of the weights (and of the outputs for data inputs)."""
        return self.weight.dtype

    def forward(self, x: Any) -> Value:
        if type(x) is not Value or x.shape[-1:] != (self.in_features,):
            x = _as_input(x, self.in_features, self.weight.dtype, "Linear")
        if self.bias is None:
            return x @ self.weight.T
        return apply(_fused.linear, x, self.weight.T, self.bias)

    def extra_repr(self) -> str:
        dtype = "" if self.dtype == np.float64 else f", {self.dtype}"
        sizes = f"in_features={self.in_features}, out_features={self.out_features}"
        return f"{sizes}, bias={self.bias is not None}{dtype}"


class MLP(Module):
    """A multi-layer perceptron: ``Layer``s of the given sizes, applied in turn.

    Hidden layers use ``activation`` (relu by default), the last layer ``output_activation``
    (None, a linear output, by default), as in micrograd's ``MLP(nin, nouts)``. All layers draw
    their weights from one generator, so ``rng=seed`` fixes the whole model.

    >>> from autonet.nn import MLP
    >>> model = MLP(2, [16, 16, 1], rng=0)
    >>> len(model.parameters()), model([1.0, -1.0]).shape, model(np.zeros((10, 2))).shape
    (6, (1,), (10, 1))
    """

    def __init__(
        self,
        nin: int,
        sizes: Sequence[int] | int,
        activation: str | Activation | None = "relu",
        output_activation: str | Activation | None = None,
        *,
        init: str | Callable[..., np.ndarray] = "auto",
        rng: RandomState = None,
        dtype: Any = np.float64,
    ) -> None:
        sizes = [sizes] if isinstance(sizes, (int, np.integer)) else list(sizes)
        if not sizes:
            raise ValueError("MLP: sizes must list at least one layer size, e.g. MLP(2, [16, 16, 1])")
        generator = as_generator(rng)
        widths = [_check_size(nin, "nin", "MLP")] + [_check_size(n, "every layer size", "MLP") for n in sizes]
        last = len(sizes) - 1
        self.layers = [
            Layer(
                widths[i],
                widths[i + 1],
                activation if i < last else output_activation,
                init=init,
                rng=generator,
                dtype=dtype,
            )
            for i in range(len(sizes))
        ]

    def forward(self, x: Any) -> Value:
        for layer in self.layers:
            x = layer(x)
        return x

    def extra_repr(self) -> str:
        widths = [self.layers[0].nin] + [layer.nout for layer in self.layers]
        return " -> ".join(map(str, widths))
