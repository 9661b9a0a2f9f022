"""Write docs/edges.md from the registry: every op's declared edges, in one table.

Run from anywhere:  python docs/make_edges.py         (rewrites docs/edges.md)
                    python docs/make_edges.py --check (exit status 1 if docs/edges.md is out of date)

Each row is one ``Edge`` of one registry entry (``REGISTRY[name].edges``), the same declarations
that tests/ops/test_edges.py checks against autonet and docs/check_edges_torch.py against
PyTorch; tests/ops/test_edges.py also fails when the committed page differs from this output.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autonet.ops import REGISTRY, Edge

EDGES_PAGE = Path(__file__).resolve().parent / "edges.md"

INTRO = """\
# Edge conventions

Gradient checks by central differences draw inputs from the comfortable interior of each op's
domain; users evaluate gradients exactly where the interior ends. So every registry entry also
declares what it does there: at its kinks, ties, poles, constant slices, saturation, huge values
(+-1e300), size-0 dimensions and 0-d inputs. This page is generated from those declarations
(`edges=` in each entry, see `autonet.ops.Edge`) by `docs/make_edges.py`.

- **value** is the forward result and **gradient** the gradient of each input (in order, `;`
  between inputs) for an upstream gradient of ones; `empty (2, 0)` is an array with no elements.
- **(flat)** marks an input whose zero gradient entries mean the output does not depend on that
  element there: any upstream gradient, even inf, gives exactly 0 (never `inf * 0 = nan`), so
  `relu(x).sqrt()` has gradient 0, not nan, at x < 0. The vjps get this from one helper,
  `autonet.ops.gate(g, mask)`: `np.where(mask, g, 0)`, never `g * mask`.
- **same as torch** compares with PyTorch 2.13 in float64 (`python docs/check_edges_torch.py`
  measures it); where autonet deliberately differs, the row says why.

The suite checks each row exactly (nan equal to nan), through a plain backward and through
`create_graph=True`; it checks that flat inputs stay 0 under an infinite upstream gradient; and
Hypothesis draws edge points of its own (exact zeros, ties, constant rows, values past clip
bounds, +-1e300, size-0 dimensions), asserting that a finite output with a finite upstream
gradient never gives a nan gradient, and that the gradient at a kink lies between the one-sided
difference quotients.

| op | point | value | gradient | same as torch |
| --- | --- | --- | --- | --- |
"""


def number(x: float) -> str:
    """A float as short as it reads: 1e300, -inf, nan, 0.693147.

    >>> number(1e300), number(-0.0), number(float("nan"))
    ('1e300', '0', 'nan')
    """
    if x == 0:
        return "0"  # -0.0 and 0.0 are the same answer here
    return format(x, ".6g").replace("e+", "e")


def array(x: Any) -> str:
    """An input, value or gradient: a number, a nested list, or ``empty (shape)``."""
    a = np.asarray(x)
    if a.dtype == bool:
        return str(a.tolist()).replace("True", "T").replace("False", "F")
    if a.size == 0:
        return f"empty {a.shape}"
    if a.ndim == 0:
        return number(float(a))
    return "[" + ", ".join(array(row) for row in a) + "]"


def param(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return array(value)
    if isinstance(value, slice):
        return ":" if value == slice(None) else f"{value.start}:{value.stop}"
    if isinstance(value, tuple):
        return "(" + ", ".join(param(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    if isinstance(value, float):
        return number(value)
    return str(value)


def row(name: str, edge: Edge) -> str:
    inputs = ", ".join(array(x) for x in edge.inputs)
    params = "".join(f", {key}={param(value)}" for key, value in edge.params.items())
    point = f"{edge.point}: `({inputs}{params})`"
    if edge.raises is not None:
        value, gradient = f"raises {edge.raises.__name__}", "-"
    else:
        value = "-" if edge.value is None else f"`{array(edge.value)}`"
        gradient = "; ".join(
            ("-" if g is None else f"`{array(g)}`") + (" (flat)" if i in edge.flat else "")
            for i, g in enumerate(edge.grads)
        )
    torch = "yes" if edge.torch else "no"
    if edge.note:
        torch += f": {edge.note}"
    return f"| {name} | {point} | {value} | {gradient} | {torch} |"


def render() -> str:
    """The whole page, as docs/edges.md should read."""
    rows = [row(name, edge) for name, op in REGISTRY.items() for edge in op.edges]
    return INTRO + "\n".join(rows) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check that docs/edges.md is up to date")
    args = parser.parse_args(argv)
    page = render()
    if args.check:
        current = EDGES_PAGE.read_text(encoding="utf-8") if EDGES_PAGE.exists() else ""
        if current != page:
            print("docs/edges.md is out of date: run python docs/make_edges.py")
            return 1
        return 0
    EDGES_PAGE.write_text(page, encoding="utf-8")
    print(f"wrote {EDGES_PAGE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
