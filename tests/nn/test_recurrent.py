"""RNN, GRU, LSTM and their cells: PyTorch's equations (numpy loops written here from PyTorch's
documentation), names, shapes and initialisation; states, layouts, gradients, dropout between
layers in training only, and errors that name the module and the shapes."""

from __future__ import annotations

import numpy as np
import pytest

from autonet import Value, gradcheck, gradgradcheck, nn
from autonet.nn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell

RNG = np.random.default_rng(0)
GATES = {"RNN": 1, "GRU": 3, "LSTM": 4}
MODULES = {"RNN": RNN, "GRU": GRU, "LSTM": LSTM}


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def reference(
    kind: str, state: dict[str, np.ndarray], x: np.ndarray, h0: np.ndarray, c0: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """PyTorch's equations as a plain loop: x (L, N, H_in), h0 and c0 (num_layers, N, H)."""
    h, c = h0.copy(), None if c0 is None else c0.copy()
    for k in range(len(h0)):
        w, u = state[f"weight_ih_l{k}"], state[f"weight_hh_l{k}"]
        b = state.get(f"bias_ih_l{k}", 0.0)
        d = state.get(f"bias_hh_l{k}", 0.0)
        outputs = []
        for x_t in x:
            gi, gh = x_t @ w.T + b, h[k] @ u.T + d
            if kind == "RNN":
                h[k] = np.tanh(gi + gh)
            elif kind == "GRU":
                (i_r, i_z, i_n), (h_r, h_z, h_n) = np.split(gi, 3, -1), np.split(gh, 3, -1)
                r, z = sigmoid(i_r + h_r), sigmoid(i_z + h_z)
                n = np.tanh(i_n + r * h_n)
                h[k] = (1 - z) * n + z * h[k]
            else:
                i, f, g, o = np.split(gi + gh, 4, -1)
                c[k] = sigmoid(f) * c[k] + sigmoid(i) * np.tanh(g)
                h[k] = sigmoid(o) * np.tanh(c[k])
            outputs.append(h[k].copy())
        x = np.stack(outputs)
    return x, h, c


def run(module: nn.Module, x: np.ndarray, hx=None) -> tuple[np.ndarray, ...]:
    """The module's output and final states as arrays: (output, h_n) or (output, h_n, c_n)."""
    output, state = module(x, hx)
    states = state if isinstance(state, tuple) else (state,)
    return (output.data, *(s.data for s in states))


# --------------------------------------------------------------------------- known values


def test_a_one_unit_relu_rnn_gives_the_hand_worked_sequence() -> None:
    # h_t = relu(0.5 x_t + 0.1 + (-1) h_(t-1) + 0.2): 0.8, then relu(1.3 - 0.8) = 0.5, then
    # relu(-0.2 - 0.5) = 0.
    rnn = RNN(1, 1, nonlinearity="relu")
    rnn.load_state_dict(
        {"weight_ih_l0": [[0.5]], "weight_hh_l0": [[-1.0]], "bias_ih_l0": [0.1], "bias_hh_l0": [0.2]}
    )
    output, h_n = rnn(np.array([[[1.0]], [[2.0]], [[-1.0]]]))
    assert output.data.ravel().tolist() == pytest.approx([0.8, 0.5, 0.0], abs=1e-15)
    assert h_n.shape == (1, 1, 1) and h_n.item() == 0.0


def test_a_one_unit_tanh_rnn_matches_the_loop_by_hand() -> None:
    rnn = RNN(1, 1)
    rnn.load_state_dict(
        {"weight_ih_l0": [[0.5]], "weight_hh_l0": [[-1.0]], "bias_ih_l0": [0.1], "bias_hh_l0": [0.2]}
    )
    inputs = [1.0, 2.0, -1.0, 0.5, 3.0, -2.0]
    h, expected = 0.0, []
    for x in inputs:
        h = np.tanh(0.5 * x + 0.1 - h + 0.2)
        expected.append(h)
    output, h_n = rnn(np.array(inputs).reshape(6, 1))  # unbatched: (L, H_in)
    np.testing.assert_allclose(output.data.ravel(), expected, rtol=1e-14)
    assert h_n.item() == pytest.approx(expected[-1], rel=1e-14)


@pytest.mark.parametrize("kind", ["RNN", "GRU", "LSTM"])
def test_two_layers_with_a_given_state_follow_pytorchs_equations(kind: str) -> None:
    module = MODULES[kind](3, 4, num_layers=2, rng=1)
    x = RNG.normal(size=(9, 2, 3))  # more steps than the module takes one by one
    h0 = RNG.normal(size=(2, 2, 4))
    c0 = RNG.normal(size=(2, 2, 4)) if kind == "LSTM" else None
    expected = reference(kind, module.state_dict(), x, h0, c0)
    found = run(module, x, (h0, c0) if kind == "LSTM" else h0)
    for ours, theirs in zip(found, expected, strict=False):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("kind", ["RNN", "GRU", "LSTM"])
def test_without_biases_there_are_no_bias_parameters_and_the_equations_hold(kind: str) -> None:
    module = MODULES[kind](2, 3, num_layers=2, bias=False, rng=2)
    assert list(module.state_dict()) == ["weight_ih_l0", "weight_hh_l0", "weight_ih_l1", "weight_hh_l1"]
    x = RNG.normal(size=(5, 1, 2))
    zeros = np.zeros((2, 1, 3))
    expected = reference(kind, module.state_dict(), x, zeros, zeros if kind == "LSTM" else None)
    for ours, theirs in zip(run(module, x), expected, strict=False):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize(
    ("cell", "kind"), [(RNNCell, "RNN"), (GRUCell, "GRU"), (LSTMCell, "LSTM")], ids=["RNN", "GRU", "LSTM"]
)
def test_a_cell_stepped_over_a_sequence_is_the_one_layer_module(cell: type, kind: str) -> None:
    step = cell(3, 4, rng=3)
    module = MODULES[kind](3, 4, rng=4)
    module.load_state_dict({f"{name}_l0": array for name, array in step.state_dict().items()})
    x = RNG.normal(size=(6, 2, 3))
    state = None
    for x_t in x:
        state = step(x_t, state)
    output, final = module(x)
    last = state if kind == "LSTM" else (state,)
    finals = final if kind == "LSTM" else (final,)
    np.testing.assert_allclose(output.data[-1], last[0].data, rtol=1e-14)
    for ours, theirs in zip(finals, last, strict=True):
        np.testing.assert_allclose(ours.data[0], theirs.data, rtol=1e-14)


# --------------------------------------------------------------------------- names, shapes, starts


def test_state_dict_keys_and_shapes_are_pytorchs() -> None:
    lstm = LSTM(3, 5, num_layers=2)
    assert {k: v.shape for k, v in lstm.state_dict().items()} == {
        "weight_ih_l0": (20, 3),
        "weight_hh_l0": (20, 5),
        "bias_ih_l0": (20,),
        "bias_hh_l0": (20,),
        "weight_ih_l1": (20, 5),
        "weight_hh_l1": (20, 5),
        "bias_ih_l1": (20,),
        "bias_hh_l1": (20,),
    }
    assert list(lstm.state_dict()) == [name for name, _ in lstm.named_parameters()]
    assert {k: v.shape for k, v in GRU(3, 5).state_dict().items()} == {
        "weight_ih_l0": (15, 3),
        "weight_hh_l0": (15, 5),
        "bias_ih_l0": (15,),
        "bias_hh_l0": (15,),
    }
    assert {k: v.shape for k, v in RNN(3, 5, num_layers=3).state_dict().items()} == {
        f"{name}_l{k}": shape
        for k in range(3)
        for name, shape in [
            ("weight_ih", (5, 3 if k == 0 else 5)),
            ("weight_hh", (5, 5)),
            ("bias_ih", (5,)),
            ("bias_hh", (5,)),
        ]
    }
    for cell, gates in [(RNNCell, 1), (GRUCell, 3), (LSTMCell, 4)]:
        assert {k: v.shape for k, v in cell(3, 5).state_dict().items()} == {
            "weight_ih": (gates * 5, 3),
            "weight_hh": (gates * 5, 5),
            "bias_ih": (gates * 5,),
            "bias_hh": (gates * 5,),
        }
        assert list(cell(3, 5, bias=False).state_dict()) == ["weight_ih", "weight_hh"]


@pytest.mark.parametrize(
    "make", [lambda **kw: LSTM(4, 16, num_layers=2, **kw), lambda **kw: GRUCell(4, 16, **kw)]
)
def test_parameters_start_uniform_within_one_over_sqrt_hidden_from_the_seed(make) -> None:
    values = np.concatenate([p.data.ravel() for p in make(rng=0).parameters()])
    assert np.abs(values).max() <= 0.25 and np.abs(values).max() > 0.24
    assert abs(values.mean()) < 0.02
    same = [p.data for p in make(rng=np.random.default_rng(0)).parameters()]
    assert all(np.array_equal(a, b.data) for a, b in zip(same, make(rng=0).parameters(), strict=True))
    assert not np.array_equal(make(rng=1).parameters()[0].data, same[0])


@pytest.mark.parametrize("kind", ["RNN", "GRU", "LSTM"])
def test_layouts_batch_first_and_unbatched_give_the_same_numbers(kind: str) -> None:
    module = MODULES[kind](3, 4, num_layers=3, rng=5)
    first = MODULES[kind](3, 4, num_layers=3, batch_first=True, rng=5)
    x = RNG.normal(size=(5, 2, 3))
    # Equal to rounding: another layout may take another BLAS path, and an element near 0 then
    # differs by 1e-17, relatively more than 1e-14 (atol 1e-16 keeps that from failing).
    output, *states = run(module, x)
    assert output.shape == (5, 2, 4) and all(s.shape == (3, 2, 4) for s in states)
    batch_output, *batch_states = run(first, x.swapaxes(0, 1))
    assert batch_output.shape == (2, 5, 4)
    np.testing.assert_allclose(batch_output, output.swapaxes(0, 1), rtol=1e-14, atol=1e-16)
    for ours, theirs in zip(batch_states, states, strict=True):  # h_n stays (num_layers, N, H)
        np.testing.assert_allclose(ours, theirs, rtol=1e-14, atol=1e-16)
    single_output, *single_states = run(module, x[:, 1])
    assert single_output.shape == (5, 4) and all(s.shape == (3, 4) for s in single_states)
    np.testing.assert_allclose(single_output, output[:, 1], rtol=1e-14, atol=1e-16)
    for ours, theirs in zip(single_states, states, strict=True):
        np.testing.assert_allclose(ours, theirs[:, 1], rtol=1e-14, atol=1e-16)


def test_an_unbatched_state_goes_with_an_unbatched_input() -> None:
    lstm = LSTM(2, 3, num_layers=2, rng=6)
    x, h0, c0 = RNG.normal(size=(4, 2)), RNG.normal(size=(2, 3)), RNG.normal(size=(2, 3))
    output, (_, c_n) = lstm(x, (h0, c0))
    expected = reference("LSTM", lstm.state_dict(), x[:, None], h0[:, None], c0[:, None])
    np.testing.assert_allclose(output.data, expected[0][:, 0], rtol=1e-13)
    np.testing.assert_allclose(c_n.data, expected[2][:, 0], rtol=1e-13)
    cell = GRUCell(2, 3, rng=7)
    assert cell(x[0], h0[0]).shape == (3,)


def test_a_float32_module_keeps_float32() -> None:
    gru = GRU(2, 3, num_layers=2, dtype=np.float32, rng=0)
    assert all(p.dtype == np.float32 for p in gru.parameters())
    output, h_n = gru(np.ones((4, 1, 2)))
    assert output.dtype == np.float32 and h_n.dtype == np.float32
    h, c = LSTMCell(2, 3, dtype=np.float32, rng=0)(np.ones(2))
    assert h.dtype == c.dtype == np.float32


def test_a_batch_of_zero_sequences_gives_empty_outputs() -> None:
    output, (h_n, c_n) = LSTM(2, 3, rng=0)(np.zeros((4, 0, 2)))
    assert output.shape == (4, 0, 3) and h_n.shape == c_n.shape == (1, 0, 3)


# --------------------------------------------------------------------------- state


def test_load_state_dict_round_trip_gives_the_same_outputs(tmp_path) -> None:
    source, target = LSTM(3, 4, num_layers=2, rng=0), LSTM(3, 4, num_layers=2, rng=1)
    x = RNG.normal(size=(5, 2, 3))
    assert not np.allclose(run(source, x)[0], run(target, x)[0])
    target.load_state_dict(source.state_dict())
    for ours, theirs in zip(run(target, x), run(source, x), strict=True):
        np.testing.assert_array_equal(ours, theirs)
    path = tmp_path / "lstm.npz"
    source.save(path)
    loaded = LSTM(3, 4, num_layers=2, rng=2).load(path)
    np.testing.assert_array_equal(run(loaded, x)[0], run(source, x)[0])


def test_a_state_of_another_shape_is_refused_and_changes_nothing() -> None:
    gru = GRU(3, 4, rng=0)
    before = gru.state_dict()
    with pytest.raises(ValueError, match=r"weight_hh_l0 \(given \(12, 5\), the module has \(12, 4\)\)"):
        gru.load_state_dict({**before, "weight_hh_l0": np.zeros((12, 5))})
    assert all(np.array_equal(gru.state_dict()[k], v) for k, v in before.items())


# --------------------------------------------------------------------------- gradients


def with_parameters(module: nn.Module, names: list[str], x: Value, states: tuple, params: tuple):
    """The module's outputs as a flat tuple, computed with ``params`` in place of its parameters."""
    for name, p in zip(names, params, strict=True):
        setattr(module, name, p)
    hx = states[0] if len(states) == 1 else tuple(states)
    output, state = module(x, hx)
    return (output, *(state if isinstance(state, tuple) else (state,)))


@pytest.mark.parametrize(("kind", "layers"), [("RNN", 2), ("GRU", 1), ("LSTM", 2)])
def test_gradients_of_input_state_and_every_parameter_match_central_differences(
    kind: str, layers: int
) -> None:
    module = MODULES[kind](2, 2, num_layers=layers, rng=8)
    names = [name for name, _ in module.named_parameters()]
    x = RNG.normal(size=(5, 1, 2))  # more steps than the module takes one by one
    states = [RNG.normal(size=(layers, 1, 2)) for _ in range(2 if kind == "LSTM" else 1)]
    count = len(states)

    def outputs(x, *rest):
        return with_parameters(module, names, x, rest[:count], rest[count:])

    assert gradcheck(outputs, x, *states, *[p.data for p in module.parameters()], projections=2)


@pytest.mark.parametrize(
    ("cell", "count"), [(RNNCell, 1), (GRUCell, 1), (LSTMCell, 2)], ids=["RNN", "GRU", "LSTM"]
)
def test_cell_gradients_match_central_differences_to_second_order(cell: type, count: int) -> None:
    module = cell(2, 2, rng=9)
    names = [name for name, _ in module.named_parameters()]
    x = RNG.normal(size=(2, 2))
    states = [RNG.normal(size=(2, 2)) for _ in range(count)]

    def outputs(x, *rest):
        for name, p in zip(names, rest[count:], strict=True):
            setattr(module, name, p)
        result = module(x, rest[0] if count == 1 else tuple(rest[:count]))
        return result if isinstance(result, tuple) else (result,)

    weights, biases = [p.data for p in module.parameters()][:2], [p.data for p in module.parameters()][2:]
    assert gradcheck(outputs, x, *states, *weights, *biases, projections=2)
    # Second order with respect to the input and the weights (the states and biases held
    # constant), which keeps the check quick.
    held = [Value(a, requires_grad=False) for a in states], [Value(b, requires_grad=False) for b in biases]
    assert gradgradcheck(outputs, x, *held[0], *weights, *held[1], projections=1)


def test_backward_reaches_every_parameter_of_every_layer() -> None:
    lstm = LSTM(2, 3, num_layers=3, rng=0)
    output, (_, c_n) = lstm(RNG.normal(size=(4, 2, 2)))
    (output.sum() + c_n.sum()).backward()
    assert all(p.grad is not None and np.abs(p.grad).sum() > 0 for p in lstm.parameters())


# --------------------------------------------------------------------------- dropout, train and eval


def test_dropout_acts_between_layers_in_training_only() -> None:
    dropped = GRU(3, 4, num_layers=3, dropout=0.5, rng=0)
    plain = GRU(3, 4, num_layers=3)
    plain.load_state_dict(dropped.state_dict())
    x = RNG.normal(size=(5, 2, 3))
    for a, b in zip(run(dropped.eval(), x), run(plain, x), strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.allclose(run(dropped.train(), x)[0], run(plain, x)[0])
    # Without dropout, training and evaluation compute the same.
    for a, b in zip(run(plain.train(), x), run(plain.eval(), x), strict=True):
        np.testing.assert_array_equal(a, b)


def test_dropout_masks_come_from_the_seed() -> None:
    x = RNG.normal(size=(5, 2, 3))
    first = run(LSTM(3, 4, num_layers=2, dropout=0.3, rng=11), x)
    second = run(LSTM(3, 4, num_layers=2, dropout=0.3, rng=11), x)
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)


def test_dropout_never_touches_the_last_layers_output() -> None:
    # With p = 1 the second layer sees only zeros, and its output is exactly what a one-layer
    # module with its weights gives for zeros: nothing is dropped after it.
    lstm = LSTM(3, 4, num_layers=2, dropout=1.0, rng=0)
    second = LSTM(4, 4, rng=1)
    second.load_state_dict(
        {k.replace("_l1", "_l0"): v for k, v in lstm.state_dict().items() if k.endswith("_l1")}
    )
    output, (h_n, _) = lstm(RNG.normal(size=(5, 2, 3)))
    expected, (expected_h, _) = second(np.zeros((5, 2, 4)))
    np.testing.assert_allclose(output.data, expected.data, rtol=1e-14)
    np.testing.assert_allclose(h_n.data[1], expected_h.data[0], rtol=1e-14)


def test_dropout_with_one_layer_warns_that_it_does_nothing() -> None:
    with pytest.warns(UserWarning, match="num_layers=1"):
        rnn = RNN(2, 3, dropout=0.5, rng=0)
    x = RNG.normal(size=(4, 1, 2))
    np.testing.assert_array_equal(run(rnn.train(), x)[0], run(rnn.eval(), x)[0])


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: LSTM(3, 4)(np.zeros((5, 2, 2))), ValueError, r"LSTM: .*\(L, N, 3\).*got shape \(5, 2, 2\)"),
        (
            lambda: GRU(3, 4, batch_first=True)(np.zeros(3)),
            ValueError,
            r"GRU: .*\(N, L, 3\).*got shape \(3,\)",
        ),
        (
            lambda: RNN(3, 4, num_layers=2)(np.zeros((5, 2, 3)), np.zeros((1, 2, 4))),
            ValueError,
            r"RNN: h_0 has shape \(1, 2, 4\), expected \(2, 2, 4\) \(num_layers, N, hidden_size\)",
        ),
        (
            lambda: LSTM(3, 4)(np.zeros((5, 3)), (np.zeros((1, 4)), np.zeros((1, 1, 4)))),
            ValueError,
            r"LSTM: c_0 has shape \(1, 1, 4\), expected \(1, 4\) \(num_layers, hidden_size\) for an unb",
        ),
        (
            lambda: LSTM(3, 4)(np.zeros((5, 2, 3)), np.zeros((1, 2, 4))),
            TypeError,
            r"LSTM: hx must be a tuple \(h_0, c_0\)",
        ),
        (
            lambda: GRU(3, 4)(np.zeros((0, 2, 3))),
            ValueError,
            r"GRU: the input has no time steps \(shape \(0, 2, 3\)\)",
        ),
        (
            lambda: LSTMCell(3, 4)(np.zeros((2, 4))),
            ValueError,
            r"LSTMCell: .*\(N, 3\) or \(3,\).*got shape \(2, 4\)",
        ),
        (
            lambda: GRUCell(3, 4)(np.zeros((2, 3)), np.zeros((3, 4))),
            ValueError,
            r"GRUCell: hx has shape \(3, 4\), expected \(2, 4\) \(N, hidden_size\)",
        ),
        (lambda: LSTM(3, 4, bidirectional=True), ValueError, "LSTM: bidirectional=True is not supported"),
        (lambda: RNN(3, 4, nonlinearity="sigmoid"), ValueError, "RNN: unknown nonlinearity 'sigmoid'"),
        (lambda: RNNCell(3, 4, nonlinearity="gelu"), ValueError, "RNNCell: unknown nonlinearity 'gelu'"),
        (
            lambda: GRU(3, 4, num_layers=2, dropout=1.5),
            ValueError,
            r"GRU: dropout must be a probability in \[0, 1\]",
        ),
        (lambda: LSTM(3, 0), ValueError, "LSTM: hidden_size must be a positive int, got 0"),
        (lambda: GRU(3, 4, num_layers=0), ValueError, "GRU: num_layers must be a positive int, got 0"),
        (lambda: LSTMCell(3.5, 4), ValueError, "LSTMCell: input_size must be a positive int, got 3.5"),
        (lambda: RNN(3, 4, dtype=np.int64), TypeError, "RNN: dtype must be a float type"),
    ],
)
def test_errors_name_the_module_and_the_shapes(call, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        call()
