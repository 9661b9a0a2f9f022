"""``python -m autonet graph``: a model or an expression, one forward and backward pass, a picture;
expressions are parsed safely and every mistake gets a clear message and exit status 2."""

from __future__ import annotations

import math
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from autonet import Value
from autonet.cli import main
from autonet.cli.graph import ExpressionError, build_expression_graph, evaluate_expression

SVG = "{http://www.w3.org/2000/svg}"


def svg_texts(path: Path) -> list[str]:
    return [t.text for t in ET.parse(path).getroot().iter(f"{SVG}text")]


def test_an_expression_is_drawn_with_its_values_and_gradients(tmp_path: Path, capsys) -> None:
    out = tmp_path / "tanh.svg"
    status = main(["graph", "--expr", "tanh(a*b + c)", "--set", "a=2", "b=-3", "c=10", "-o", str(out)])
    assert status == 0
    assert capsys.readouterr().out.strip() == f"wrote {out} (svg, 9 nodes)"
    texts = svg_texts(out)
    assert {"a", "b", "c", "mul", "add", "tanh", "data 2", "data -3", "data 10", "data 4"} <= set(texts)
    grad_a = -3 * (1 - math.tanh(4.0) ** 2)
    assert f"grad {grad_a:.4g}" in texts and "grad 1" in texts


def test_a_model_runs_forward_and_backward_and_is_drawn(tmp_path: Path) -> None:
    out = tmp_path / "mlp.png"
    assert main(["graph", "--model", "mlp:2,4,1", "-o", str(out)]) == 0
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    dot = tmp_path / "mlp.dot"
    assert main(["graph", "--model", "mlp:2,4,1", "-o", str(dot)]) == 0
    source = dot.read_text()
    for name in ("layers.0.w", "layers.0.b", "layers.1.w", "layers.1.b", "loss", "shape (2, 4) float64"):
        assert name in source
    assert source.count("grad ") >= 8  # backward reached every parameter and intermediate
    again = tmp_path / "again.dot"
    assert main(["graph", "--model", "mlp:2,4,1", "-o", str(again)]) == 0
    assert again.read_text() == source  # the seed fixes weights and sample
    main(["graph", "--model", "mlp:2,4,1", "--seed", "1", "-o", str(again)])
    assert again.read_text() != source


def test_collapse_rankdir_title_and_format_options(tmp_path: Path) -> None:
    out = tmp_path / "picture.txt"
    args = [
        "graph",
        "--model",
        "mlp:3,5,5,2",
        "--collapse",
        "modules",
        "--rankdir",
        "TB",
        "--title",
        "three layers",
    ]
    assert main([*args, "--format", "dot", "-o", str(out)]) == 0
    source = out.read_text()
    assert source.count("class=module") == 3
    assert "rankdir=TB" in source and "three layers" in source
    assert "layers.0.w" not in source  # parameters are inside their module nodes
    svg = tmp_path / "picture.svg"
    assert main([*args, "-o", str(svg)]) == 0
    assert {"MLP.layers.0", "MLP.layers.2", "20 parameters", "three layers"} <= set(svg_texts(svg))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--expr", "tanh(a) + q", "--set", "a=1"], "no value for q; give one with --set q=1.0"),
        (["--expr", "frobnicate(a)", "--set", "a=1"], "unknown function 'frobnicate'"),
        (["--expr", "a +* 2", "--set", "a=1"], "not a valid expression"),
        (["--expr", "a.__class__", "--set", "a=1"], "'a.__class__' (Attribute) is not allowed"),
        (["--expr", "__import__('os').system('true')"], "(Call) is not allowed"),
        (["--expr", "__import__('os')"], "unknown function '__import__'"),
        (["--expr", "[a, a]", "--set", "a=1"], "(List) is not allowed"),
        (["--expr", "a if a else a", "--set", "a=1"], "(IfExp) is not allowed"),
        (["--expr", "tanh(x=a)", "--set", "a=1"], "(Call) is not allowed"),
        (["--expr", "'text'"], "(Constant) is not allowed"),
        (["--expr", "tanh + a", "--set", "a=1"], "tanh is a function"),
        (["--expr", "a", "--set", "a"], "'a' is not NAME=VALUE"),
        (["--expr", "a", "--set", "a=hello"], "the value of a must be a number"),
        (["--expr", "a", "--set", "a=1", "b=2"], "b is set but the expression does not use it"),
        (["--expr", "exp(a)", "--set", "exp=1", "a=1"], "exp is a function name"),
        (["--expr", "a @ a", "--set", "a=[1, 2]", "--format", "jpg"], None),
        (["--model", "mlp:2"], "write mlp:IN,HIDDEN...,OUT"),
        (["--model", "cnn:2,3"], "is not a model"),
        (["--model", "mlp:2,0,1"], "positive sizes"),
    ],
)
def test_mistakes_get_a_clear_message_and_no_picture(args, message, tmp_path: Path, capsys) -> None:
    out = tmp_path / "graph.svg"
    status = main(["graph", *args, "-o", str(out)])
    error = capsys.readouterr().err
    assert error.startswith("autonet graph: error: ")
    if message is None:  # the expression is fine, the format is not: a drawing error
        assert status == 1 and "cannot tell the picture format from the format 'jpg'" in error
    else:
        assert status == 2 and message in error
    assert not out.exists()


def test_an_output_in_a_missing_directory_names_the_directory(tmp_path: Path, capsys) -> None:
    out = tmp_path / "missing" / "graph.dot"
    status = main(["graph", "--expr", "a*b", "--set", "a=2", "b=3", "-o", str(out)])
    error = capsys.readouterr().err
    assert status == 1
    assert f"the directory {str(out.parent)!r}" in error and "does not exist" in error
    assert ".tmp" not in error


def test_without_dot_the_command_says_how_to_install_graphviz(tmp_path: Path, monkeypatch, capsys) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    status = main(["graph", "--expr", "a*a", "--set", "a=3", "-o", str(tmp_path / "g.svg")])
    assert status == 1
    assert "install Graphviz" in capsys.readouterr().err
    assert main(["graph", "--expr", "a*a", "--set", "a=3", "-o", str(tmp_path / "g.dot")]) == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tanh(a*b + c)", math.tanh(2 * -3 + 10)),
        ("-a ** 2 + +b / 4", -(2**2) + -3 / 4),
        ("exp(log(c)) - sqrt(abs(b)) * sigmoid(0)", 10 - math.sqrt(3) * 0.5),
        ("relu(b) + relu(a) + sin(a) * cos(a)", 2 + math.sin(2) * math.cos(2)),
        ("sum(v * v) + mean(v) + max(v) - min(v)", 14 + 2 + 3 - 1),
        ("sum(v @ m)", float(np.sum(np.array([1, 2, 3]) @ np.arange(6).reshape(3, 2)))),
        ("maximum(a, b) + minimum(a, b)", 2 - 3),
        ("sum(softmax(v)) + 0 * logsumexp(v)", 1.0),
    ],
)
def test_expressions_compute_what_they_say(text: str, expected: float) -> None:
    variables = {
        "a": Value(2.0, label="a"),
        "b": Value(-3.0, label="b"),
        "c": Value(10.0, label="c"),
        "v": Value([1.0, 2.0, 3.0], label="v"),
        "m": Value(np.arange(6.0).reshape(3, 2), label="m"),
    }
    assert evaluate_expression(text, variables).item() == pytest.approx(expected)


def test_a_vector_expression_gets_a_gradient_of_ones_and_a_constant_one_needs_none() -> None:
    out = build_expression_graph("v * 2", ["v=[1, 2, 3]"])
    (v,) = [p for p in out.parents if p.label == "v"]
    assert v.grad.tolist() == [2.0, 2.0, 2.0]
    constant = build_expression_graph("2 + 3", [])
    assert constant.item() == 5.0 and not constant.requires_grad
    with pytest.raises(ExpressionError, match="needs an argument"):
        build_expression_graph("tanh()", [])


def test_python_dash_m_autonet_lists_the_graph_command_and_runs_it(tmp_path: Path) -> None:
    help_text = subprocess.run(
        [sys.executable, "-m", "autonet", "--help"], capture_output=True, text=True, check=True
    ).stdout
    assert "graph" in help_text and "demo" in help_text and "check" in help_text
    out = tmp_path / "mlp.svg"
    result = subprocess.run(
        [sys.executable, "-m", "autonet", "graph", "--model", "mlp:2,2,1", "-o", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "wrote" in result.stdout
    assert {"layers.0.w", "loss", "linear", "sigmoid"} <= set(svg_texts(out))
