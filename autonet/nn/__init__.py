"""Networks on ``Value``: the ``Module`` base, ``Neuron``, ``Layer``, ``MLP``, convolutional parts
(``Conv2d``, ``MaxPool2d``, ``ReLU``, ``Flatten``, ``Sequential`` ...), normalisation, dropout and
embedding layers, recurrent networks and cells (``RNN``, ``GRU``, ``LSTM``, ``LSTMCell`` ...),
initializers and losses; ``functional`` holds PyTorch's ``torch.nn.functional`` names.

>>> import numpy as np
>>> from autonet import nn
>>> model = nn.MLP(2, [16, 16, 1], rng=0)
>>> loss = nn.hinge_loss(model(np.array([[0.5, -1.0], [1.0, 0.0]])), [1, -1])
>>> loss.backward()
>>> [p.grad.shape for p in model.parameters()][:2]
[(2, 16), (16,)]
"""

from . import functional, init, utils
from .conv import (
    GELU,
    Activation,
    AvgPool2d,
    Conv1d,
    Conv2d,
    Flatten,
    Identity,
    LeakyReLU,
    MaxPool2d,
    ModuleDict,
    ModuleList,
    ReLU,
    Sequential,
    Sigmoid,
    Softplus,
    Tanh,
)
from .layers import ACTIVATIONS, MLP, Layer, Linear, Neuron
from .losses import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    MSELoss,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    hinge_loss,
    mse_loss,
)
from .module import Module
from .norm import BatchNorm1d, BatchNorm2d, Dropout, Embedding, LayerNorm
from .recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell

__all__ = [
    "ACTIVATIONS",
    "GELU",
    "GRU",
    "LSTM",
    "MLP",
    "RNN",
    "Activation",
    "AvgPool2d",
    "BCELoss",
    "BCEWithLogitsLoss",
    "BatchNorm1d",
    "BatchNorm2d",
    "Conv1d",
    "Conv2d",
    "CrossEntropyLoss",
    "Dropout",
    "Embedding",
    "Flatten",
    "GRUCell",
    "Identity",
    "LSTMCell",
    "Layer",
    "LayerNorm",
    "LeakyReLU",
    "Linear",
    "MSELoss",
    "MaxPool2d",
    "Module",
    "ModuleDict",
    "ModuleList",
    "Neuron",
    "RNNCell",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Softplus",
    "Tanh",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "functional",
    "hinge_loss",
    "init",
    "mse_loss",
    "utils",
]
