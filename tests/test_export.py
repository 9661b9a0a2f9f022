"""autonet.export.to_onnx: every module kind it supports, exported and run in onnxruntime at two
batch sizes through the one dynamic batch dimension, gives autonet's outputs within float
tolerance; the files pass the checker; what it cannot export fails with an error naming it."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import pytest

from autonet import Value, nn, no_grad
from autonet.export import DEFAULT_OPSET, to_onnx

ROOT = Path(__file__).resolve().parent.parent
F32, F64 = np.float32, np.float64
# The largest difference allowed, relative to the output's scale. ONNX keeps a normalisation's
# epsilon as a float32 attribute, which moves a float64 LayerNorm's output by about 1e-12.
TOLERANCE = {F32: 2e-5, F64: 1e-10}


def _digits_cnn(rng: np.random.Generator) -> nn.Sequential:
    spec = importlib.util.spec_from_file_location("example_digits_cnn", ROOT / "examples" / "digits_cnn.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.digits_cnn(rng)


def _flat(result: object) -> list[np.ndarray]:
    if isinstance(result, (tuple, list)):
        return [a for part in result for a in _flat(part)]
    return [np.asarray(result.data)]


def _session(proto: onnx.ModelProto) -> onnxruntime.InferenceSession:
    return onnxruntime.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])


def export_and_compare(
    model: nn.Module, inputs: list[np.ndarray], path: Path, **options: object
) -> tuple[onnx.ModelProto, float]:
    """Export with ``inputs[0]`` as the example, run every input in onnxruntime and in autonet
    (evaluation mode); assert the outputs agree and return the model and the largest difference."""
    to_onnx(model, inputs[0], path, **options)
    proto = onnx.load(path)  # the file written is the model
    session = _session(proto)
    given = inputs[0].dtype if inputs[0].dtype.kind == "f" else model.parameters()[0].dtype  # indices
    dtype = np.dtype(options.get("dtype") or given)
    worst = 0.0
    for x in inputs:
        feed = x.astype(dtype) if x.dtype.kind == "f" else x
        theirs = session.run(None, {"input": feed})
        was = model.training
        model.eval()
        with no_grad():
            ours = _flat(model(x))
        model.train(was)
        assert len(theirs) == len(ours)
        for a, b in zip(theirs, ours, strict=True):
            assert a.shape == b.shape and a.dtype == dtype
            scale = max(1.0, float(np.abs(b).max()))
            difference = float(np.abs(a - b).max()) / scale
            assert difference <= TOLERANCE[dtype.type], (difference, a, b)
            worst = max(worst, difference)
    return proto, worst


def _normal(*shape: int, dtype: type = F64, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=shape).astype(dtype)


def _trained_batch_norm(module: nn.Module, shape: tuple[int, ...]) -> nn.Module:
    """A batch norm whose running statistics and affine parameters are not their start values."""
    rng = np.random.default_rng(1)
    for _ in range(3):
        module(rng.normal(2.0, 3.0, shape))
    if module.weight is not None:
        module.weight.data = rng.uniform(0.5, 2, module.weight.shape).astype(module.weight.dtype)
        module.bias.data = rng.normal(size=module.bias.shape).astype(module.bias.dtype)
    return module


# (name, model builder given the dtype, per-sample input shape or an input builder, dtypes
# onnxruntime runs: it has no float64 Conv, AveragePool, RNN, GRU, LSTM or Erf)
Case = tuple[str, Callable[[type], nn.Module], Callable[[int, type], np.ndarray], tuple[type, ...]]


def _floats(*shape: int) -> Callable[[int, type], np.ndarray]:
    return lambda batch, dtype: _normal(batch, *shape, dtype=dtype, seed=batch)


def _sequence(steps: int, features: int, batch_first: bool) -> Callable[[int, type], np.ndarray]:
    def make(batch: int, dtype: type) -> np.ndarray:
        x = _normal(batch, steps, features, dtype=dtype, seed=batch)
        return x if batch_first else x.swapaxes(0, 1).copy()

    return make


BOTH = (F32, F64)
CASES: list[Case] = [
    *(
        (
            f"Layer-{act}",
            lambda d, act=act: nn.Layer(3, 4, activation=act, rng=0, dtype=d),
            _floats(3),
            dtypes,
        )
        for act, dtypes in [
            ("relu", BOTH),
            ("leaky_relu", BOTH),
            ("tanh", BOTH),
            ("sigmoid", BOTH),
            ("softplus", BOTH),
            ("softmax", BOTH),
            ("gelu", (F32,)),
            (None, BOTH),
        ]
    ),
    ("Layer-3d-input", lambda d: nn.Layer(3, 2, activation="tanh", rng=0, dtype=d), _floats(5, 3), BOTH),
    ("Neuron", lambda d: nn.Neuron(3, activation="sigmoid", rng=0, dtype=d), _floats(3), BOTH),
    ("MLP", lambda d: nn.MLP(2, [16, 16, 1], rng=0, dtype=d), _floats(2), BOTH),
    ("ReLU", lambda d: nn.ReLU(), _floats(3, 2), BOTH),
    (
        "Linear-and-activation-modules",
        lambda d: nn.Sequential(
            nn.Linear(3, 8, rng=0, dtype=d),
            nn.Tanh(),
            nn.Linear(8, 8, bias=False, rng=1, dtype=d),
            nn.LeakyReLU(0.2),
            nn.Linear(8, 4, rng=2, dtype=d),
            nn.Sigmoid(),
            nn.Softplus(),
        ),
        _floats(3),
        BOTH,
    ),
    ("GELU", lambda d: nn.GELU(), _floats(4), (F32,)),
    ("GELU-tanh", lambda d: nn.GELU(approximate="tanh"), _floats(4), BOTH),
    ("Softplus-beta-threshold", lambda d: nn.Softplus(beta=2.0, threshold=1.5), _floats(4), BOTH),
    (
        "Softmax-modules-and-Identity",
        lambda d: nn.Sequential(
            nn.Linear(3, 4, rng=0, dtype=d), nn.Identity(), nn.Softmax(dim=1), nn.LogSoftmax(dim=-1)
        ),
        _floats(3),
        BOTH,
    ),
    ("Flatten", lambda d: nn.Flatten(), _floats(2, 3, 4), BOTH),
    ("Flatten-middle", lambda d: nn.Flatten(1, 2), _floats(2, 3, 4), BOTH),
    ("Unflatten", lambda d: nn.Unflatten(1, (2, -1)), _floats(6, 5), BOTH),
    ("Upsample-2d", lambda d: nn.Upsample(size=(7, 3)), _floats(2, 4, 5), BOTH),
    ("Upsample-1d", lambda d: nn.Upsample(scale_factor=1.3), _floats(2, 3), BOTH),
    (
        "Conv1d",
        lambda d: nn.Conv1d(4, 6, 3, stride=2, padding=1, dilation=2, groups=2, rng=0, dtype=d),
        _floats(4, 11),
        (F32,),
    ),
    (
        "Conv2d",
        lambda d: nn.Conv2d(2, 3, (3, 2), stride=(2, 1), padding=1, rng=0, dtype=d),
        _floats(2, 7, 6),
        (F32,),
    ),
    (
        "Conv2d-no-bias",
        lambda d: nn.Conv2d(2, 4, 3, groups=2, bias=False, rng=0, dtype=d),
        _floats(2, 5, 5),
        (F32,),
    ),
    ("MaxPool2d", lambda d: nn.MaxPool2d(3, stride=2, padding=1), _floats(2, 7, 6), BOTH),
    ("AvgPool2d", lambda d: nn.AvgPool2d(3, stride=2, padding=1), _floats(2, 7, 6), (F32,)),
    (
        "Conv2d-same-reflect",
        lambda d: nn.Conv2d(2, 3, (4, 3), padding="same", padding_mode="reflect", rng=0, dtype=d),
        _floats(2, 7, 6),
        (F32,),
    ),
    (
        "Conv1d-replicate",
        lambda d: nn.Conv1d(2, 3, 3, stride=2, padding=2, padding_mode="replicate", rng=0, dtype=d),
        _floats(2, 9),
        (F32,),
    ),
    (
        "Conv2d-same-even-kernel",
        lambda d: nn.Conv2d(2, 3, 2, padding="same", dilation=(1, 3), rng=0, dtype=d),
        _floats(2, 7, 6),
        (F32,),
    ),
    (
        "MaxPool1d",
        lambda d: nn.MaxPool1d(3, stride=2, padding=1, dilation=2, ceil_mode=True),
        _floats(3, 11),
        BOTH,
    ),
    ("AvgPool1d", lambda d: nn.AvgPool1d(3, stride=2, padding=1, ceil_mode=True), _floats(3, 10), (F32,)),
    ("AdaptiveAvgPool2d", lambda d: nn.AdaptiveAvgPool2d((2, 3)), _floats(2, 7, 5), BOTH),
    (
        "ConvTranspose2d",
        lambda d: nn.ConvTranspose2d(
            4, 2, 3, stride=2, padding=1, output_padding=1, groups=2, rng=0, dtype=d
        ),
        _floats(4, 5, 4),
        (F32,),
    ),
    (
        "ConvTranspose1d",
        lambda d: nn.ConvTranspose1d(2, 3, 4, stride=2, rng=0, dtype=d),
        _floats(2, 6),
        (F32,),
    ),
    (
        "MaxPool2d-ceil-dilated",
        lambda d: nn.MaxPool2d(3, stride=2, padding=1, dilation=2, ceil_mode=True),
        _floats(2, 8, 6),
        BOTH,
    ),
    (
        "AvgPool2d-ceil-padding-counted",
        lambda d: nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True),
        _floats(2, 6, 5),
        (F32,),
    ),
    (
        "AvgPool2d-ceil-padding-not-counted",
        lambda d: nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
        _floats(2, 6, 5),
        (F32,),
    ),
    ("BatchNorm1d-2d", lambda d: _trained_batch_norm(nn.BatchNorm1d(3, dtype=d), (8, 3)), _floats(3), BOTH),
    (
        "BatchNorm1d-3d",
        lambda d: _trained_batch_norm(nn.BatchNorm1d(3, dtype=d), (8, 3, 5)),
        _floats(3, 5),
        BOTH,
    ),
    (
        "BatchNorm2d-no-affine",
        lambda d: _trained_batch_norm(nn.BatchNorm2d(2, affine=False, dtype=d), (4, 2, 3, 3)),
        _floats(2, 3, 3),
        BOTH,
    ),
    ("LayerNorm", lambda d: nn.LayerNorm((3, 4), dtype=d), _floats(3, 4), BOTH),
    ("LayerNorm-no-bias", lambda d: nn.LayerNorm(4, bias=False, dtype=d), _floats(2, 4), BOTH),
    (
        "Dropout-in-training",  # the model stays in training mode; the export is the identity
        lambda d: nn.Sequential(nn.Layer(3, 4, rng=0, dtype=d), nn.Dropout(0.5, rng=0)),
        _floats(3),
        BOTH,
    ),
    (
        "Embedding",
        lambda d: nn.Embedding(10, 3, padding_idx=0, rng=0, dtype=d),
        lambda batch, dtype: np.random.default_rng(batch).integers(0, 10, (batch, 4)),
        BOTH,
    ),
    (
        "Embedding-LSTM",
        lambda d: nn.Sequential(
            nn.Embedding(10, 3, rng=0, dtype=d), nn.LSTM(3, 4, batch_first=True, rng=0, dtype=d)
        ),
        lambda batch, dtype: np.random.default_rng(batch).integers(0, 10, (batch, 5)),
        (F32,),
    ),
    ("RNN-tanh", lambda d: nn.RNN(3, 4, num_layers=2, rng=0, dtype=d), _sequence(5, 3, False), (F32,)),
    (
        "RNN-relu-batch-first",
        lambda d: nn.RNN(3, 4, nonlinearity="relu", batch_first=True, rng=0, dtype=d),
        _sequence(5, 3, True),
        (F32,),
    ),
    (
        "GRU",
        lambda d: nn.GRU(3, 4, num_layers=2, batch_first=True, rng=0, dtype=d),
        _sequence(6, 3, True),
        (F32,),
    ),
    ("GRU-no-bias", lambda d: nn.GRU(3, 4, bias=False, rng=0, dtype=d), _sequence(6, 3, False), (F32,)),
    ("LSTM", lambda d: nn.LSTM(3, 4, num_layers=3, rng=0, dtype=d), _sequence(6, 3, False), (F32,)),
    (
        "LSTM-no-bias",
        lambda d: nn.LSTM(3, 4, bias=False, batch_first=True, rng=0, dtype=d),
        _sequence(6, 3, True),
        (F32,),
    ),
]


@pytest.mark.parametrize(
    ("build", "make_input", "dtype"),
    [
        pytest.param(build, make_input, dtype, id=f"{name}-{np.dtype(dtype).name}")
        for name, build, make_input, dtypes in CASES
        for dtype in dtypes
    ],
)
def test_every_module_kind_runs_in_onnxruntime_as_in_autonet_at_two_batch_sizes(
    build: Callable[[type], nn.Module],
    make_input: Callable[[int, type], np.ndarray],
    dtype: type,
    tmp_path: Path,
) -> None:
    model = build(dtype)
    training = [m.training for _, m in model.named_modules()]
    state = model.state_dict()
    inputs = [make_input(3, dtype), make_input(5, dtype), make_input(1, dtype)]
    proto, _ = export_and_compare(model, inputs, tmp_path / "m.onnx")
    (first,) = proto.graph.input
    dims = [d.dim_param or d.dim_value for d in first.type.tensor_type.shape.dim]
    assert dims.count("batch") == 1 and inputs[0].shape[dims.index("batch")] == 3
    # The export changed neither the model's modes nor its state (no statistics, no dropout masks).
    assert [m.training for _, m in model.named_modules()] == training
    assert all(np.array_equal(state[k], v) for k, v in model.state_dict().items())


def test_the_mlp_the_digits_cnn_and_an_lstm_model_run_in_onnxruntime(tmp_path: Path) -> None:
    mlp = nn.MLP(2, [16, 16, 1], activation="tanh", rng=0, dtype=F32)
    _, mlp_difference = export_and_compare(
        mlp, [_normal(7, 2, dtype=F32), _normal(2, 2, dtype=F32, seed=1)], tmp_path / "mlp.onnx"
    )
    cnn = _digits_cnn(np.random.default_rng(0))  # float64, exported in float32 for onnxruntime
    images = [np.random.default_rng(s).random((n, 1, 8, 8)) for s, n in ((0, 5), (1, 64))]
    _, cnn_difference = export_and_compare(cnn, images, tmp_path / "cnn.onnx", dtype=F32)
    lstm = nn.LSTM(2, 16, num_layers=2, batch_first=True, rng=0, dtype=F32)
    sequences = [_normal(n, 9, 2, dtype=F32, seed=n) for n in (4, 2)]
    proto, lstm_difference = export_and_compare(lstm, sequences, tmp_path / "lstm.onnx")
    assert [o.name for o in proto.graph.output] == ["output", "h_n", "c_n"]
    assert [n.op_type for n in proto.graph.node].count("LSTM") == 2
    assert max(mlp_difference, cnn_difference, lstm_difference) < 2e-5


def test_a_float64_model_is_exported_in_float64_and_passes_the_checker(tmp_path: Path) -> None:
    # onnxruntime has no float64 LSTM or Conv kernel, but the file is valid ONNX in float64.
    for model, x, lacking in [
        (nn.LSTM(3, 4, rng=0), _normal(5, 2, 3), "LSTM"),
        (_digits_cnn(np.random.default_rng(0)), np.zeros((2, 1, 8, 8)), "Conv"),
    ]:
        with pytest.warns(UserWarning, match=rf"do not run {lacking} in float64; pass dtype=np.float32"):
            proto = to_onnx(model, x, tmp_path / "m.onnx")
        onnx.checker.check_model(onnx.load(tmp_path / "m.onnx"), full_check=True)
        assert proto.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.DOUBLE
        weights = {i.name: onnx.numpy_helper.to_array(i) for i in proto.graph.initializer}
        assert {w.dtype for w in weights.values() if w.dtype.kind == "f"} == {np.dtype(F64)}


def test_the_batch_dimension_is_named_and_fixed_without_dynamic_batch(tmp_path: Path) -> None:
    model = nn.MLP(2, [3, 1], rng=0)
    x = np.zeros((4, 2))
    dims = to_onnx(model, x, None).graph.output[0].type.tensor_type.shape.dim
    assert [d.dim_param or d.dim_value for d in dims] == ["batch", 1]
    fixed = to_onnx(model, x, None, dynamic_batch=False)
    assert [d.dim_value for d in fixed.graph.input[0].type.tensor_type.shape.dim] == [4, 2]
    with pytest.raises(Exception, match=r"(?i)dimension|shape"):
        _session(fixed).run(None, {"input": np.zeros((5, 2))})


def test_the_opset_and_the_names_are_the_ones_asked_for(tmp_path: Path) -> None:
    model = nn.LSTM(2, 3, batch_first=True, rng=0, dtype=F32)
    x = _normal(2, 4, 2, dtype=F32)
    assert to_onnx(model, x, None).opset_import[0].version == DEFAULT_OPSET
    proto = to_onnx(model, x, None, opset=21, input_name="x", output_names=["y", "h", "c"])
    assert proto.opset_import[0].version == 21
    assert [i.name for i in proto.graph.input] == ["x"] and [o.name for o in proto.graph.output] == [
        "y",
        "h",
        "c",
    ]
    y, h, c = _session(proto).run(None, {"x": x})
    with no_grad():
        output, (h_n, c_n) = model(x)
    for theirs, ours in [(y, output), (h, h_n), (c, c_n)]:
        np.testing.assert_allclose(theirs, ours.data, atol=1e-6)
    np.testing.assert_allclose(y[:, -1], h_n.data[0], atol=1e-6)  # the last step's output is h_n


class Scale(nn.Module):
    def __init__(self) -> None:
        self.factor = Value(np.array(2.0))

    def forward(self, x: Value) -> Value:
        return x * self.factor


class MyLayer(nn.Layer):
    def forward(self, x: Value) -> Value:
        return super().forward(x) * 2


@pytest.mark.parametrize(
    ("model", "x", "error", "message"),
    [
        (
            nn.Sequential(nn.Layer(2, 2, rng=0), Scale()),
            np.zeros((1, 2)),
            TypeError,
            r"cannot export 1 \(Scale\)",
        ),
        (Scale(), np.zeros((1, 2)), TypeError, r"the model \(Scale\).*knows these modules: .*LSTM"),
        (
            nn.Sequential(MyLayer(2, 2, rng=0)),
            np.zeros((1, 2)),
            TypeError,
            r"0 \(MyLayer\).*forward of its own",
        ),
        (
            nn.MLP(2, [3, 3, 1], activation=lambda v: v * v, rng=0),
            np.zeros((1, 2)),
            ValueError,
            r"layers\.0 \(Layer\) has the activation '<lambda>'",
        ),
        (
            nn.Sequential(nn.BatchNorm1d(2, track_running_stats=False)),
            np.zeros((2, 2)),
            ValueError,
            r"0 \(BatchNorm1d\) has no running statistics",
        ),
        (
            nn.Sequential(nn.MaxPool2d(2, return_indices=True)),
            np.zeros((1, 1, 4, 4)),
            ValueError,
            r"0 \(MaxPool2d\) returns indices",
        ),
        (
            nn.Conv2d(1, 1, 3, padding=1, padding_mode="circular", rng=0),
            np.zeros((1, 1, 4, 4)),
            ValueError,
            r"\(Conv2d\) has padding_mode='circular'.*opset=19",
        ),
        (
            nn.ConvTranspose1d(1, 1, 3, output_padding=1, dilation=2, rng=0),
            np.zeros((1, 1, 4)),
            ValueError,
            r"\(ConvTranspose1d\) has output_padding \(1,\) not below its stride",
        ),
        (
            nn.MaxPool1d(2, return_indices=True),
            np.zeros((1, 1, 4)),
            ValueError,
            r"\(MaxPool1d\) returns indices",
        ),
        (
            nn.AvgPool2d(2, divisor_override=3),
            np.zeros((1, 1, 4, 4)),
            ValueError,
            r"\(AvgPool2d\) has a divisor_override",
        ),
        (
            nn.Flatten(0),
            np.zeros((2, 3)),
            ValueError,
            r"Flatten\) joins the batch axis 0.*dynamic_batch=False",
        ),
        (
            nn.MLP(2, [1], rng=0),
            np.zeros(2),
            ValueError,
            r"shape \(2,\) has no batch axis.*dynamic_batch=False",
        ),
        (
            nn.Sequential(nn.LSTM(2, 3, rng=0), nn.Layer(3, 1, rng=0)),
            np.zeros((4, 2, 2)),
            ValueError,
            r"0 \(LSTM\) returns a tuple, which 1 \(Layer\) after it cannot take",
        ),
        (
            nn.Sequential(nn.Layer(2, 2, rng=0), nn.LSTM(2, 3, rng=0)),
            np.zeros((4, 2)),
            ValueError,
            r"1 \(LSTM\) takes the batch on axis",
        ),
    ],
)
def test_what_cannot_be_exported_is_refused_naming_the_module_and_its_path(
    model: nn.Module, x: np.ndarray, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        to_onnx(model, x, None)


def test_a_circular_padding_exports_from_opset_19(tmp_path: Path) -> None:
    model = nn.Conv2d(2, 3, 3, padding=(1, 2), padding_mode="circular", rng=0, dtype=F32)
    x = np.random.default_rng(3).normal(size=(2, 2, 5, 6)).astype(F32)
    _, difference = export_and_compare(model, [x, x[:1]], tmp_path / "circular.onnx", opset=19)
    assert difference < 1e-5


def test_bad_arguments_are_refused_by_name() -> None:
    model = nn.Layer(2, 1, rng=0)
    with pytest.raises(ValueError, match=r"opset must be an int from 17"):
        to_onnx(model, np.zeros((1, 2)), None, opset=11)
    with pytest.raises(ValueError, match=r"output_names must give as many"):
        to_onnx(model, np.zeros((1, 2)), None, output_names=["a", "b"])
    with pytest.raises(TypeError, match=r"model must be an autonet nn.Module"):
        to_onnx(lambda x: x, np.zeros((1, 2)), None)
    with pytest.raises(ValueError, match=r"dtype must be float32 or float64"):
        to_onnx(model, np.zeros((1, 2)), None, dtype=np.float16)


def test_without_onnx_the_error_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "onnx", None)  # a module set to None fails to import
    with pytest.raises(ImportError, match=r'pip install "autonet\[onnx\]"'):
        to_onnx(nn.Layer(2, 1, rng=0), np.zeros((1, 2)), None)


def test_importing_autonet_and_its_export_module_does_not_load_onnx() -> None:
    code = "import sys, autonet, autonet.export; print('onnx' in sys.modules, 'onnxruntime' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert result.stdout.split() == ["False", "False"]


@pytest.mark.parametrize(
    ("model", "x"),
    [
        (nn.LSTM(3, 4, num_layers=2, rng=0, dtype=F32), _normal(6, 3, dtype=F32)),  # (L, H_in)
        (nn.GRU(3, 4, rng=0, dtype=F32), _normal(6, 3, dtype=F32)),
        (nn.MLP(3, [4, 2], rng=0, dtype=F32), _normal(3, dtype=F32)),  # one sample
    ],
    ids=["LSTM", "GRU", "MLP"],
)
def test_an_unbatched_input_exports_with_a_fixed_shape(model: nn.Module, x: np.ndarray) -> None:
    proto = to_onnx(model, x, None, dynamic_batch=False)
    theirs = _session(proto).run(None, {"input": x})
    with no_grad():
        ours = _flat(model(x))
    for a, b in zip(theirs, ours, strict=True):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, atol=2e-6)
