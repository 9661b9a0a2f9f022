"""Compare autonet's recurrent modules with PyTorch (float64): python benchmarks/check_recurrent_torch.py

For RNN (tanh and relu), GRU and LSTM in several settings (layers, bias, batch_first, unbatched,
a given initial state) and for the three cells, this builds the torch module, loads its state
(``{k: v.detach().numpy()}``) into the autonet one, and compares the outputs, the final states
and the gradients of the input, the initial state and every parameter of a random projection
of all outputs. It prints the largest absolute difference of each and exits with status 1 if
any exceeds the tolerance. It needs PyTorch; the test suite never imports it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autonet import Value, nn

TOLERANCE = 1e-10

SEQUENCE_CASES = [
    # (class name, constructor arguments, input shape, with an initial state)
    ("RNN", {"num_layers": 1}, (5, 3, 4), False),
    ("RNN", {"num_layers": 2, "nonlinearity": "relu"}, (5, 3, 4), True),
    ("RNN", {"num_layers": 2, "bias": False, "batch_first": True}, (3, 5, 4), True),
    ("GRU", {"num_layers": 1}, (6, 2, 4), False),
    ("GRU", {"num_layers": 3, "batch_first": True}, (2, 6, 4), True),
    ("GRU", {"num_layers": 2, "bias": False}, (6, 4), True),  # unbatched
    ("LSTM", {"num_layers": 1}, (7, 3, 4), False),
    ("LSTM", {"num_layers": 2, "batch_first": True}, (3, 7, 4), True),
    ("LSTM", {"num_layers": 2, "bias": False}, (7, 4), True),  # unbatched
]

CELL_CASES = [
    ("RNNCell", {}, (3, 4)),
    ("RNNCell", {"nonlinearity": "relu", "bias": False}, (4,)),
    ("GRUCell", {}, (3, 4)),
    ("GRUCell", {"bias": False}, (4,)),
    ("LSTMCell", {}, (3, 4)),
    ("LSTMCell", {"bias": False}, (4,)),
]

HIDDEN = 5


def _flat(result: object) -> list:
    """The outputs of a module call as a flat list (output, h_n[, c_n])."""
    if isinstance(result, (tuple, list)):
        return [item for part in result for item in _flat(part)]
    return [result]


def _compare(torch, label: str, theirs_module, ours_module, x: np.ndarray, states: list[np.ndarray]) -> float:
    """Run both modules on ``x`` (and ``states``), backpropagate one random projection of all
    outputs; print and return the largest difference of outputs and gradients."""
    ours_module.load_state_dict({k: v.detach().numpy() for k, v in theirs_module.state_dict().items()})
    their_inputs = [torch.tensor(a, requires_grad=True) for a in (x, *states)]
    our_inputs = [Value(a) for a in (x, *states)]

    def call(module, inputs):
        if len(inputs) == 1:
            return module(inputs[0])
        hx = inputs[1] if len(inputs) == 2 else tuple(inputs[1:])
        return module(inputs[0], hx)

    theirs = _flat(call(theirs_module, their_inputs))
    ours = _flat(call(ours_module, our_inputs))
    rng = np.random.default_rng(len(label))
    seeds = [rng.standard_normal(tuple(t.shape)) for t in theirs]
    sum(
        ((t * torch.tensor(s)).sum() for t, s in zip(theirs, seeds, strict=True)), torch.tensor(0.0)
    ).backward()
    total = None
    for o, s in zip(ours, seeds, strict=True):
        term = (o * s).sum()
        total = term if total is None else total + term
    total.backward()

    out_diff = max(
        float(np.abs(o.data - t.detach().numpy()).max()) for o, t in zip(ours, theirs, strict=True)
    )
    shape_ok = all(o.shape == tuple(t.shape) for o, t in zip(ours, theirs, strict=True))
    input_diff = max(
        float(np.abs(np.asarray(o.grad) - t.grad.numpy()).max())
        for o, t in zip(our_inputs, their_inputs, strict=True)
    )
    our_params = dict(ours_module.named_parameters())
    param_diff = max(
        float(np.abs(np.asarray(our_params[name].grad) - p.grad.numpy()).max())
        for name, p in theirs_module.named_parameters()
    )
    worst = max(out_diff, input_diff, param_diff) if shape_ok else float("inf")
    flag = "" if worst <= TOLERANCE else "   <-- DISAGREE"
    print(
        f"{label:66s} outputs {out_diff:.1e}  input/state grads {input_diff:.1e}  "
        f"parameter grads {param_diff:.1e} ({len(our_params)} parameters){flag}"
    )
    return worst


def main() -> int:
    import torch

    torch.set_default_dtype(torch.float64)
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    worst = 0.0
    for name, kwargs, shape, with_state in SEQUENCE_CASES:
        theirs = getattr(torch.nn, name)(4, HIDDEN, **kwargs)
        ours = getattr(nn, name)(4, HIDDEN, **kwargs, rng=0)
        x = rng.standard_normal(shape)
        states = []
        if with_state:
            batch = () if len(shape) == 2 else (shape[0] if kwargs.get("batch_first") else shape[1],)
            state_shape = (kwargs["num_layers"], *batch, HIDDEN)
            states = [rng.standard_normal(state_shape) for _ in range(2 if name == "LSTM" else 1)]
        label = f"{name}({', '.join(f'{k}={v!r}' for k, v in kwargs.items())}) input {shape}"
        worst = max(worst, _compare(torch, label + (" + hx" if with_state else ""), theirs, ours, x, states))
    for name, kwargs, shape in CELL_CASES:
        theirs = getattr(torch.nn, name)(4, HIDDEN, **kwargs)
        ours = getattr(nn, name)(4, HIDDEN, **kwargs, rng=0)
        x = rng.standard_normal(shape)
        state_shape = (*shape[:-1], HIDDEN)
        states = [rng.standard_normal(state_shape) for _ in range(2 if name == "LSTMCell" else 1)]
        label = f"{name}({', '.join(f'{k}={v!r}' for k, v in kwargs.items())}) input {shape} + hx"
        worst = max(worst, _compare(torch, label, theirs, ours, x, states))
    verdict = "all agree with PyTorch" if worst <= TOLERANCE else "DISAGREEMENT"
    print(f"largest difference {worst:.1e} (tolerance {TOLERANCE:.0e}): {verdict}")
    return 0 if worst <= TOLERANCE else 1


if __name__ == "__main__":
    sys.exit(main())
