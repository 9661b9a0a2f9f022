"""Adding an op takes one module: the example of docs/design.md's "Adding an op", run as written.

The example module is written to a temporary directory and imported by a fresh interpreter, which
reports what it finds in every place that reads the registry: the ``Value`` method, first- and
second-order gradient checks, the declared edges, fuzzing with bad inputs, drawing,
``python -m autonet check`` and the API page generator. The tests here judge that report.

A fresh interpreter, because registering an op changes the registry that the rest of the suite
enumerates (its tests are parametrised over it, and the API page is rendered from it). For the
same reason the example is fenced ``py``, not ``python``: tests/test_docs.py runs ``python`` blocks
in this process.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import autonet

ROOT = Path(__file__).resolve().parent.parent
DESIGN = ROOT / "docs" / "design.md"
MAKE_API = ROOT / "docs" / "make_api.py"
MODULE = "softsign_op"  # the file name the example's docstring gives itself
NAME = "softsign"
POINTS = [-1e300, -3.0, -0.5, 0.0, 0.25, 2.0, 1e300]

# The fresh interpreter's side: it imports the example module and observes, through public names
# only, what each part of autonet makes of the new op; it prints one JSON report. The verdicts are
# the tests' below, so that a failure names the claim of the doc that broke.
CHECKER = r'''
import contextlib
import dataclasses
import doctest
import importlib
import importlib.util
import io
import json
import sys
import warnings

import numpy as np
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st

import autonet
from autonet import Value, call_op, gradcheck, gradgradcheck
from autonet.cli import main as cli_main
from autonet.cli.check import sample_cases
from autonet.gradcheck import check_op
from autonet.ops import REGISTRY, register
from autonet.testing import cases
from autonet.testing.strategies import op_inputs
from autonet.viz import draw_graph

module_name, name, make_api_path, points = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
warnings.simplefilter("ignore", RuntimeWarning)  # edges meet 1e300 on purpose
HYPOTHESIS = settings(max_examples=60, database=None, derandomize=True, deadline=None,
                      suppress_health_check=list(HealthCheck))
report = {}


def floats(data):
    """JSON has no nan or inf: numbers travel as repr strings."""
    return [repr(float(v)) for v in np.ravel(data)]


def failure(error):
    return {"type": type(error).__name__, "message": str(error)}


ops_before, methods_before = set(REGISTRY), set(vars(Value))
module = importlib.import_module(module_name)
op = REGISTRY[name]
report["new ops"] = sorted(set(REGISTRY) - ops_before)
report["new Value attributes"] = sorted(set(vars(Value)) - methods_before)

# --- the method surface
method = getattr(Value, op.method)
report["method"] = op.method
report["method doc"] = method.__doc__
finder, runner = doctest.DocTestFinder(), doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
for test in finder.find(method, op.method, globs={}):
    runner.run(test, out=lambda text: None)
report["method doctest"] = {"attempted": runner.tries, "failed": runner.failures}
x = np.array(points)
report["method values"] = floats(getattr(Value(x), op.method)().data)
report["call_op values"] = floats(call_op(name, x).data)
report["float path values"] = [floats(getattr(Value(float(p)), op.method)().item()) for p in points]
report["float32 dtype"] = str(getattr(Value(x.astype(np.float32)), op.method)().dtype)

# --- gradient checks, first and second order
inside = np.array([-2.5, -0.75, 0.4, 1.5])
report["gradcheck"] = gradcheck(lambda v: getattr(v, op.method)(), inside)
report["gradgradcheck"] = gradgradcheck(lambda v: getattr(v, op.method)(), inside)
for order in (1, 2):
    result = check_op(op, sample_cases(op, 8, seed=3, order=order), order=order, seed=3)
    report[f"check_op order {order}"] = {
        "passed": result.passed, "examples": result.examples, "message": result.message
    }
drawn = []


@HYPOTHESIS
@given(op_inputs(name))
def drawn_case_checks(case):
    inputs, params = case
    drawn.append([list(np.shape(v)) for v in inputs])
    assert gradcheck(lambda *xs: call_op(name, *xs, **params), *inputs)
    assert gradgradcheck(lambda *xs: call_op(name, *xs, **params), *inputs)


try:
    drawn_case_checks()
    report["hypothesis cases"] = {"passed": True, "shapes": drawn}
except Exception as error:
    report["hypothesis cases"] = {"passed": False, "error": failure(error), "shapes": drawn}
# Which shapes 60 derandomized draws reach is luck; that a side of 0 can be drawn is not.
empty = find(op_inputs(name), lambda case: 0 in np.shape(case[0][0]), settings=HYPOTHESIS)
report["an empty case"] = [list(np.shape(v)) for v in empty[0]]
report["cases usable"] = cases.require_cases(op).name
report["edges well formed"] = [edge.point for edge in cases.check_edges(op)]

# --- the declared edges, through call_op as the suite evaluates them
edges = []
for edge in op.edges:
    seen = {"point": edge.point, "inputs": [floats(v) for v in edge.inputs],
            "declared value": floats(edge.value),
            "declared grads": [floats(g) for g in edge.grads]}
    for mode in ("plain", "create_graph"):
        leaves = [Value(np.array(v, dtype=np.float64)) for v in edge.inputs]
        out = call_op(op, *leaves, **edge.params)
        out.backward(np.ones(out.shape), create_graph=mode == "create_graph")
        grads = [v.grad.data if isinstance(v.grad, Value) else v.grad for v in leaves]
        seen[mode] = {"value": floats(out.data), "grads": [floats(g) for g in grads]}
    edges.append(seen)
report["edges"] = edges

# --- fuzzing: bad inputs each fail with a clear error that names the op
JUNK = [None, "0", b"1", 1j, object(), {"a": 1}, [0.5, "x"]]
# Each kind of bad call gets its own draws, so that every kind is tried whatever the draws.
bad_calls = {
    "input count": st.sampled_from([0, 2, 3]),
    "junk input": st.sampled_from(range(len(JUNK))),
    "unknown parameter": st.sampled_from(["bogus", "axis", "negative_slope"]),
    "positional parameter": st.just(0),
}
outcomes = []


def fuzz(how):
    @settings(HYPOTHESIS, max_examples=15)
    @given(op_inputs(name, edges=True), bad_calls[how])
    def bad_call(case, which):
        inputs, _ = case
        x = Value(inputs[0])
        calls = {
            "input count": lambda: call_op(name, *[x] * which),
            "junk input": lambda: call_op(name, JUNK[which]),
            "unknown parameter": lambda: getattr(x, op.method)(**{which: 1}),
            "positional parameter": lambda: getattr(x, op.method)(0.5),
        }
        try:
            calls[how]()
        except Exception as error:
            outcomes.append({"how": how, **failure(error)})
        else:
            outcomes.append({"how": how, "type": None, "message": "no error"})
        # the good call on the same draw: numpy's shape and dtype, and a gradient of its own shape
        out = getattr(x, op.method)()
        out.backward(np.ones(out.shape))
        assert out.shape == x.shape and out.dtype == x.dtype and x.grad.shape == x.shape

    bad_call()


for how in bad_calls:
    fuzz(how)
report["fuzz"] = {(o["how"], o["type"], o["message"]): o for o in outcomes}
report["fuzz"] = list(report["fuzz"].values())

# --- drawing
report["dot"] = draw_graph(getattr(Value([0.5, -2.0], label="x"), op.method)().sum()).source

# --- python -m autonet check --op NAME
stdout = io.StringIO()
with contextlib.redirect_stdout(stdout):
    status = cli_main(["check", "--op", name, "--second-order", "--examples", "4"])
report["cli"] = {"status": status, "stdout": stdout.getvalue()}

# --- python -m autonet graph --expr "NAME(a)": the expression language reads the registry too
from autonet.cli.graph import build_expression_graph

expression = build_expression_graph(f"{name}(a) * 2", ["a=[1.0, -3.0]"])
report["expr"] = {"data": expression.tolist(), "grad": expression.parents[0].parents[0].grad.tolist()}

# --- the API page generator
spec = importlib.util.spec_from_file_location("make_api", make_api_path)
make_api = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = make_api
spec.loader.exec_module(make_api)
report["api page"] = make_api.render()

# --- entries register() refuses, with the op's name
refused = {}
for what, fields in {"no edges": {"edges": ()}, "no cases": {"cases": None}}.items():
    broken = dataclasses.replace(op, name=f"{name}_{what.replace(' ', '_')}", method=None, **fields)
    try:
        register(broken)
        refused[what] = {"type": None, "message": "registered", "name": broken.name}
    except Exception as error:
        refused[what] = {**failure(error), "name": broken.name, "registered": broken.name in REGISTRY}
report["refused"] = refused

print(json.dumps(report))
'''


def _example() -> str:
    """The code block of docs/design.md's "Adding an op" section."""
    page = DESIGN.read_text(encoding="utf-8")
    section = page.split("\n## Adding an op\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"^```py\n(.*?)^```", section, re.S | re.M)
    assert len(blocks) == 1, 'the "Adding an op" section should hold exactly one ```py block'
    return blocks[0]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """What a fresh interpreter finds after importing the doc's example module."""
    directory = tmp_path_factory.mktemp("adding_an_op")
    (directory / f"{MODULE}.py").write_text(_example(), encoding="utf-8")
    # The same autonet as this process, and the example module beside it; nothing in the
    # repository is written (the check command and the API generator only print and return).
    library = Path(autonet.__file__).resolve().parent.parent
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(directory), str(library)])}
    result = subprocess.run(
        [sys.executable, "-c", CHECKER, MODULE, NAME, str(MAKE_API), json.dumps(POINTS)],
        capture_output=True,
        text=True,
        cwd=directory,
        env=environment,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, f"the checker failed:\n{result.stderr[-4000:]}"
    return json.loads(result.stdout)


def _numbers(texts: list[str]) -> np.ndarray:
    return np.array([float(t) for t in texts])


def _softsign(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        return x / (1 + np.abs(x))


# --------------------------------------------------------------------------- one module, one op


def test_the_example_module_registers_exactly_its_op_and_its_method(report: dict[str, Any]) -> None:
    assert report["new ops"] == [NAME]
    assert report["new Value attributes"] == [NAME]


def test_the_method_carries_the_entry_doc_and_a_passing_example(report: dict[str, Any]) -> None:
    doc = report["method doc"]
    assert doc.startswith("x / (1 + |x|), a squashing to (-1, 1)")
    assert ">>> Value(1.0).softsign().item()" in doc
    assert report["method doctest"]["attempted"] >= 2 and report["method doctest"]["failed"] == 0


def test_method_call_op_and_the_float_path_compute_softsign(report: dict[str, Any]) -> None:
    expected = _softsign(np.array(POINTS))
    np.testing.assert_allclose(_numbers(report["method values"]), expected, rtol=1e-15)
    np.testing.assert_array_equal(_numbers(report["call_op values"]), _numbers(report["method values"]))
    # Python floats take the entry's scalar path; it must agree with the array forward exactly.
    floats = np.array([_numbers(v)[0] for v in report["float path values"]])
    np.testing.assert_array_equal(floats, _numbers(report["method values"]))
    assert report["float32 dtype"] == "float32"


# --------------------------------------------------------------------------- gradients


def test_first_and_second_order_gradient_checks_pass(report: dict[str, Any]) -> None:
    assert report["gradcheck"] is True and report["gradgradcheck"] is True
    for order in (1, 2):
        result = report[f"check_op order {order}"]
        assert result["passed"], f"order {order}: {result['message']}"
        assert result["examples"] == 8


def test_hypothesis_draws_the_op_cases_of_every_shape(report: dict[str, Any]) -> None:
    drawn = report["hypothesis cases"]
    assert drawn["passed"], drawn.get("error")
    shapes = {tuple(shape) for (shape,) in drawn["shapes"]}
    # ELEMENTWISE cases: 0-d, vectors and matrices, and (drawn about once in eight) a side of 0.
    assert () in shapes and any(len(s) >= 2 for s in shapes)
    assert 0 in report["an empty case"][0]
    assert report["cases usable"] == NAME


# --------------------------------------------------------------------------- edges


def test_every_declared_edge_holds_in_both_backward_modes(report: dict[str, Any]) -> None:
    assert [edge["point"] for edge in report["edges"]] == report["edges well formed"]
    assert len(report["edges"]) == 3
    for edge in report["edges"]:
        for mode in ("plain", "create_graph"):
            got = edge[mode]
            what = f"{edge['point']} ({mode})"
            np.testing.assert_array_equal(_numbers(got["value"]), _numbers(edge["declared value"]), what)
            for g, declared in zip(got["grads"], edge["declared grads"], strict=True):
                np.testing.assert_array_equal(_numbers(g), _numbers(declared), what)


def test_the_declared_edges_are_what_the_formula_gives(report: dict[str, Any]) -> None:
    # The declarations checked above, against x / (1 + |x|) and its slope 1 / (1 + |x|) ** 2
    # written here: 0 with slope 1 at 0, +-1 with slope 0 at +-1e300, empty for an empty input.
    for edge in report["edges"]:
        (x,) = [_numbers(v) for v in edge["inputs"]]
        np.testing.assert_array_equal(_numbers(edge["declared value"]), _softsign(x), edge["point"])
        (slope,) = [_numbers(g) for g in edge["declared grads"]]
        np.testing.assert_array_equal(slope, (1 / (1 + np.abs(x))) ** 2, edge["point"])


# --------------------------------------------------------------------------- fuzzing


def test_bad_inputs_fail_with_clear_errors_that_name_the_op(report: dict[str, Any]) -> None:
    outcomes = report["fuzz"]
    assert {o["how"] for o in outcomes} == {
        "input count",
        "junk input",
        "unknown parameter",
        "positional parameter",
    }
    for outcome in outcomes:
        assert outcome["type"] in ("TypeError", "ValueError"), outcome
        assert NAME in outcome["message"], outcome


# --------------------------------------------------------------------------- drawing, check, docs


def test_the_drawing_labels_the_node_with_the_op_name(report: dict[str, Any]) -> None:
    op_nodes = re.findall(r"^\s*(op\d+) \[label=(\w+) class=op", report["dot"], re.M)
    assert [label for _, label in op_nodes] == [NAME, "sum"]


def test_python_m_autonet_check_reports_both_orders(report: dict[str, Any]) -> None:
    cli = report["cli"]
    assert cli["status"] == 0, cli["stdout"]
    rows = re.findall(rf"^{NAME}\s+(\d)\s+(\d+)\s+\S+\s+\S+\s+(\w+)$", cli["stdout"], re.M)
    assert rows == [("1", "4", "pass"), ("2", "4", "pass")]
    assert "checked 1 ops, 2 checks, 4 examples each" in cli["stdout"]


def test_graph_expr_calls_the_new_op_by_its_method_name(report: dict[str, Any]) -> None:
    # softsign(a) = a / (1 + |a|), d/da = 1 / (1 + |a|)^2; times 2 in the expression
    assert report["expr"]["data"] == pytest.approx([2 * 0.5, 2 * -0.75])
    assert report["expr"]["grad"] == pytest.approx([2 * 0.25, 2 * 1 / 16])


def test_the_api_page_lists_the_new_method_with_its_summary(report: dict[str, Any]) -> None:
    page = report["api page"]
    value_section = page.split("\n## autonet.Value\n", 1)[1].split("\n## ", 1)[0]
    summary = "x / (1 + |x|), a squashing to (-1, 1) with slower tails than tanh."
    assert f"- **`.softsign() -> Value`**  \n  {summary}" in value_section
    # The listing came from rendering with the op registered: the committed page knows nothing of it.
    assert "softsign" not in (ROOT / "docs" / "api.md").read_text(encoding="utf-8")


# --------------------------------------------------------------------------- what register refuses


def test_an_entry_without_edges_is_refused_naming_the_op(report: dict[str, Any]) -> None:
    refused = report["refused"]["no edges"]
    assert refused["type"] == "ValueError"
    assert f"op {refused['name']!r} declares no edges" in refused["message"]
    assert refused["registered"] is False


def test_an_entry_without_cases_is_refused_naming_the_op(report: dict[str, Any]) -> None:
    refused = report["refused"]["no cases"]
    assert refused["type"] == "ValueError"
    assert f"op {refused['name']!r} declares no cases" in refused["message"]
    assert refused["registered"] is False
