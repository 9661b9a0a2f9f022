"""``python -m autonet graph``: one forward and backward pass of a model or an expression, drawn.

``--model mlp:2,4,1`` builds an ``nn.MLP`` and runs it on a random sample; ``--expr "tanh(a*b + c)"``
with ``--set a=2 b=-3 c=10`` evaluates an expression. The expression is parsed with ``ast`` and
evaluated node by node (never with ``eval``): names, numbers, arithmetic and a fixed list of
functions, and every mistake gets a clear message (``ExpressionError``) and exit status 2.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .. import Value, nn
from ..ops import REGISTRY
from ..surface import FUNCTIONS
from ..viz import GraphvizNotFoundError, draw_graph, save_graph

__all__ = [
    "ExpressionError",
    "add_command",
    "build_expression_graph",
    "build_model_graph",
    "evaluate_expression",
    "expression_value",
    "model_loss",
    "run_graph_command",
]


def add_source_arguments(command: argparse.ArgumentParser) -> None:
    """What a command draws: ``--model`` or ``--expr`` with its ``--set`` values (graph, explore).

    >>> parser = argparse.ArgumentParser()
    >>> add_source_arguments(parser)
    >>> parser.parse_args(["--expr", "a*a", "--set", "a=2"]).set
    ['a=2']
    """
    source = command.add_mutually_exclusive_group(required=True)
    source.add_argument("--model", help="a model such as mlp:2,4,1 (inputs, hidden sizes..., outputs)")
    source.add_argument("--expr", help='an expression such as "tanh(a*b + c)"')
    command.add_argument(
        "--set", nargs="*", default=[], metavar="NAME=VALUE", help="values of the expression's inputs"
    )


def add_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """Add ``graph`` and its options to ``commands`` (what ``ArgumentParser.add_subparsers`` returns).

    >>> parser = argparse.ArgumentParser()
    >>> _ = add_command(parser.add_subparsers())
    >>> parser.parse_args(["graph", "--expr", "a*a", "--set", "a=2", "-o", "g.svg"]).set
    ['a=2']
    """
    graph = commands.add_parser("graph", help="run one forward and backward pass and draw its graph")
    add_source_arguments(graph)
    graph.add_argument(
        "-o", "--output", required=True, help="the picture to write (.svg, .png, .pdf or .dot)"
    )
    graph.add_argument("--format", help="override the format given by the output's extension")
    graph.add_argument(
        "--collapse", choices=["none", "modules"], default="none", help="draw each module call as one node"
    )
    graph.add_argument("--rankdir", default="LR", choices=["LR", "TB", "RL", "BT"], help="layout direction")
    graph.add_argument("--title", help="a title drawn above the graph")
    graph.add_argument("--seed", type=int, default=0, help="random seed of --model's weights and sample")
    graph.set_defaults(handler=run_graph_command)
    return graph


# --------------------------------------------------------------------------- expressions


def _as_value(x: Any) -> Value:
    return x if isinstance(x, Value) else Value(x, requires_grad=False)


def _method_call(name: str) -> Callable[..., Value]:
    return lambda x, *args: getattr(_as_value(x), name)(*args)


def expression_functions() -> dict[str, Callable[..., Value]]:
    """What ``--expr`` may call, read from the op registry at each call (so ops registered later
    are there too): every op's Value method as a function of its first input (``tanh(x)``,
    ``sum(x, 0)``), and autonet's functions of several inputs (``maximum``, ``where`` ...).

    >>> from autonet.cli.graph import expression_functions
    >>> expression_functions()["tanh"](0.0).item()
    0.0
    """
    found = {
        op.method: _method_call(op.method)
        for op in REGISTRY.values()
        if op.method and not op.method.startswith("_")
    }
    found.update(FUNCTIONS)
    return found


_BINARY = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.Pow: lambda a, b: a**b,
    # Two plain numbers have no @; making them Values gives the error message autonet words.
    ast.MatMult: lambda a, b: _as_value(a) @ _as_value(b),
}


class ExpressionError(ValueError):
    """An ``--expr``, ``--set`` or ``--model`` that the graph command cannot use; the message says why.

    >>> try:
    ...     evaluate_expression("a.__class__", {"a": 1.0})
    ... except ExpressionError as error:
    ...     print(error)
    graph --expr: 'a.__class__' (Attribute) is not allowed; use only names, numbers, ...
    """


def _allowed() -> str:
    functions = ", ".join(sorted(expression_functions()))
    return f"names, numbers, + - * / ** @, unary minus and calls to {functions}"


def _variable_names(tree: ast.AST) -> set[str]:
    """The names an expression reads as variables (not those it calls as functions)."""
    called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and id(node) not in called}


def _parse_expression(text: str, variables: dict[str, Any]) -> ast.Expression:
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as error:
        raise ExpressionError(f"graph --expr: {text!r} is not a valid expression: {error.msg}") from None
    missing = sorted(_variable_names(tree) - set(variables) - set(expression_functions()))
    if missing:
        raise ExpressionError(
            f"graph --expr: no value for {', '.join(missing)}; give one with --set "
            + " ".join(f"{n}=1.0" for n in missing)
        )
    return tree


def _call(node: ast.Call, run: Callable[[ast.AST], Any]) -> Any:
    name = node.func.id if isinstance(node.func, ast.Name) else ""
    function = expression_functions().get(name)
    if function is None:
        raise ExpressionError(f"graph --expr: unknown function {name!r}; allowed are {_allowed()}")
    if not node.args:
        raise ExpressionError(f"graph --expr: {name}() needs an argument")
    return function(*[run(arg) for arg in node.args])


def evaluate_expression(text: str, variables: dict[str, Any]) -> Value:
    """Evaluate a small arithmetic expression over named Values, safely (no ``eval``).

    Only names from ``variables``, numbers, ``+ - * / ** @``, unary signs and calls to known
    functions (``tanh``, ``exp``, ``sum``, ``maximum`` ...) are allowed; anything else raises
    ``ExpressionError`` naming the part that is not allowed.

    >>> from autonet import Value
    >>> a = Value(2.0, label="a")
    >>> evaluate_expression("tanh(a * 0) + a ** 2", {"a": a}).item()
    4.0
    """
    tree = _parse_expression(text, variables)

    def run(node: ast.AST) -> Any:
        if isinstance(node, ast.Expression):
            return run(node.body)
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            return node.value
        if isinstance(node, ast.Name):
            if node.id in expression_functions():
                raise ExpressionError(f"graph --expr: {node.id} is a function; call it, e.g. {node.id}(x)")
            return variables[node.id]
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            return _BINARY[type(node.op)](run(node.left), run(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            operand = run(node.operand)
            return -operand if isinstance(node.op, ast.USub) else operand
        # Keywords are refused: the functions are Value methods whose keyword names differ.
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
            return _call(node, run)
        what = type(node).__name__
        source = ast.get_source_segment(text.strip(), node) or what
        raise ExpressionError(f"graph --expr: {source!r} ({what}) is not allowed; use only {_allowed()}")

    return _as_value(run(tree))


def _parse_settings(settings: Sequence[str]) -> dict[str, Value]:
    variables: dict[str, Value] = {}
    for setting in settings:
        name, sep, text = setting.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise ExpressionError(f"graph --set: {setting!r} is not NAME=VALUE (e.g. a=2 or x=[1,2,3])")
        if name in expression_functions():
            raise ExpressionError(f"graph --set: {name} is a function name; pick another variable name")
        try:
            data = ast.literal_eval(text.strip())
            value = Value(data, label=name)
        except (ValueError, TypeError, SyntaxError):
            raise ExpressionError(
                f"graph --set: the value of {name} must be a number or a list of numbers, got {text!r}"
            ) from None
        variables[name] = value
    return variables


def expression_value(text: str, settings: Sequence[str]) -> Value:
    """Evaluate ``text`` with its ``NAME=VALUE`` settings (each a labelled Value): the forward
    only, its graph recorded. A setting the expression does not use is an ``ExpressionError``
    (likely a typo).

    >>> out = expression_value("a * b", ["a=2", "b=-3"])
    >>> out.item(), out.graph_released
    (-6.0, False)
    """
    variables = _parse_settings(settings)
    out = evaluate_expression(text, variables)
    unused = sorted(set(variables) - _variable_names(ast.parse(text.strip(), mode="eval")))
    if unused:
        raise ExpressionError(f"graph --set: {', '.join(unused)} is set but the expression does not use it")
    return out


def build_expression_graph(text: str, settings: Sequence[str]) -> Value:
    """Evaluate ``text`` with its ``NAME=VALUE`` settings and run backward, keeping the graph.

    A tensor result gets a gradient of ones; a result that depends on no input gets none. A
    setting the expression does not use is an ``ExpressionError`` (likely a typo).

    >>> out = build_expression_graph("tanh(a*b + c)", ["a=2", "b=-3", "c=10"])
    >>> round(float(out.data), 4)
    0.9993
    """
    out = expression_value(text, settings)
    if out.requires_grad:
        out.backward(np.ones(out.shape, dtype=out.dtype), retain_graph=True)
    return out


# --------------------------------------------------------------------------- models


def _parse_model(spec: str) -> list[int]:
    kind, _, sizes = spec.partition(":")
    try:
        numbers = [int(n) for n in sizes.split(",")]
    except ValueError:
        numbers = []
    if kind.strip().lower() != "mlp" or len(numbers) < 2 or min(numbers) < 1:
        raise ExpressionError(
            f"graph --model: {spec!r} is not a model; write mlp:IN,HIDDEN...,OUT with positive sizes, "
            "e.g. mlp:2,4,1"
        )
    return numbers


def model_loss(spec: str, *, seed: int = 0, batch: int = 1) -> Value:
    """The loss of a model such as ``mlp:2,2,1`` on ``batch`` random samples: the forward only,
    its graph recorded. The model is an ``nn.MLP`` with sigmoid activations (the classic teaching
    network), the loss the mean squared error against random targets; ``seed`` fixes the
    weights, the samples (``x``, shape ``(batch, inputs)``) and the targets (``y``).

    >>> loss = model_loss("mlp:2,2,1", batch=3)
    >>> loss.label, loss.shape, loss.graph_released
    ('loss', (), False)
    """
    sizes = _parse_model(spec)
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise ExpressionError(f"--batch must be a positive number of samples, got {batch!r}")
    rng = np.random.default_rng(seed)
    model = nn.MLP(sizes[0], sizes[1:], activation="sigmoid", output_activation="sigmoid", rng=rng)
    x = Value(rng.uniform(-1.0, 1.0, (batch, sizes[0])), label="x", requires_grad=False)
    y = Value(rng.uniform(0.0, 1.0, (batch, sizes[-1])), label="y", requires_grad=False)
    out = model(x)
    out.label = "out"
    loss = nn.mse_loss(out, y)
    loss.label = "loss"
    return loss


def build_model_graph(spec: str, *, seed: int = 0) -> Value:
    """One forward and backward pass of a model such as ``mlp:2,2,1`` on a random sample; returns the loss.

    The model is an ``nn.MLP`` with sigmoid activations (the classic teaching network), the loss
    the mean squared error against a random target; the backward keeps the graph so it can be
    drawn. ``seed`` fixes the weights, the sample and the target.

    >>> loss = build_model_graph("mlp:2,2,1")
    >>> loss.label, loss.shape
    ('loss', ())
    """
    loss = model_loss(spec, seed=seed)
    loss.backward(retain_graph=True)
    return loss


# --------------------------------------------------------------------------- the command

# A node statement of DOT source, as graphviz writes it in ``Digraph.body``: an id, then its
# attributes (edges have ``->`` after the id; ``graph``/``node``/``edge`` set defaults).
_NODE_STATEMENT = re.compile(r'\t(?!(?:graph|node|edge) )(?:"[^"]*"|\w+) \[')


def _format_name(path: Path, override: str | None) -> str:
    """The format name to report for a picture ``save_graph`` has written (``.gv`` is DOT)."""
    fmt = (override or path.suffix.lstrip(".")).lower()
    return "dot" if fmt == "gv" else fmt


def run_graph_command(args: argparse.Namespace) -> int:
    """``python -m autonet graph``: run one forward and backward pass and write its picture.

    Returns the exit status: 0 on success, 2 for a bad model or expression, 1 when drawing fails.

    >>> import argparse, os, tempfile
    >>> out = os.path.join(tempfile.mkdtemp(), "g.dot")
    >>> run_graph_command(argparse.Namespace(model=None, expr="a*b", set=["a=2", "b=3"], output=out,
    ...                   format=None, collapse="none", rankdir="LR", seed=0, title=None))
    wrote ... (dot, 4 nodes)
    0
    """
    try:
        if getattr(args, "model", None):
            root = build_model_graph(args.model, seed=getattr(args, "seed", 0) or 0)
        else:
            root = build_expression_graph(args.expr, args.set or [])
    except (ArithmeticError, ValueError, TypeError) as error:  # ExpressionError is a ValueError
        print(f"autonet graph: error: {error}", file=sys.stderr)
        return 2
    path = Path(args.output)
    try:
        graph = draw_graph(
            root, rankdir=args.rankdir, collapse=args.collapse, title=getattr(args, "title", None)
        )
        save_graph(graph, path, format=args.format)
    except (GraphvizNotFoundError, ValueError, RuntimeError, OSError) as error:
        print(f"autonet graph: error: {error}", file=sys.stderr)
        return 1
    nodes = sum(1 for line in graph.body if _NODE_STATEMENT.match(line))
    print(f"wrote {path} ({_format_name(path, args.format)}, {nodes} nodes)")
    return 0
