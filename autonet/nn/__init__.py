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
    AdaptiveAvgPool2d,
    AvgPool1d,
    AvgPool2d,
    Conv1d,
    Conv2d,
    ConvTranspose1d,
    ConvTranspose2d,
    Flatten,
    Identity,
    LeakyReLU,
    LogSoftmax,
    MaxPool1d,
    MaxPool2d,
    ModuleDict,
    ModuleList,
    ReLU,
    Sequential,
    Sigmoid,
    Softmax,
    Softplus,
    Tanh,
    Unflatten,
)
from .layers import ACTIVATIONS, MLP, Layer, Linear, Neuron
from .losses import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    SmoothL1Loss,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    hinge_loss,
    huber_loss,
    l1_loss,
    mse_loss,
    nll_loss,
    smooth_l1_loss,
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
    "AdaptiveAvgPool2d",
    "AvgPool1d",
    "AvgPool2d",
    "BCELoss",
    "BCEWithLogitsLoss",
    "BatchNorm1d",
    "BatchNorm2d",
    "Conv1d",
    "Conv2d",
    "ConvTranspose1d",
    "ConvTranspose2d",
    "CrossEntropyLoss",
    "Dropout",
    "Embedding",
    "Flatten",
    "GRUCell",
    "HuberLoss",
    "Identity",
    "L1Loss",
    "LSTMCell",
    "Layer",
    "LayerNorm",
    "LeakyReLU",
    "Linear",
    "LogSoftmax",
    "MSELoss",
    "MaxPool1d",
    "MaxPool2d",
    "Module",
    "ModuleDict",
    "ModuleList",
    "NLLLoss",
    "Neuron",
    "RNNCell",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "SmoothL1Loss",
    "Softmax",
    "Softplus",
    "Tanh",
    "Unflatten",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "functional",
    "hinge_loss",
    "huber_loss",
    "init",
    "l1_loss",
    "mse_loss",
    "nll_loss",
    "smooth_l1_loss",
    "utils",
]
