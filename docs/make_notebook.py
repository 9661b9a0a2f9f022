"""Make docs/tutorial.ipynb from docs/tutorial.md, the one source of the tutorial.

    python docs/make_notebook.py           # rewrite docs/tutorial.ipynb
    python docs/make_notebook.py --check   # exit status 1 if the committed notebook is out of date

Each ```python block of the page becomes a code cell, in order, and the prose between them a
markdown cell (other fenced blocks, such as the install command, stay in the prose). The
```text block that shows what a python block prints is left out: running the cell prints it.
The notebook is written without outputs, so it changes only when the page does;
tests/test_notebook.py runs it in a Jupyter kernel and checks its outputs (the printed numbers
the page shows, and the graphs drawn inline as SVG) and that it is up to date.

Needs nbformat (in the ``test`` extra).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

DOCS = Path(__file__).resolve().parent
TUTORIAL = DOCS / "tutorial.md"
NOTEBOOK = DOCS / "tutorial.ipynb"

sys.path.insert(0, str(DOCS))
from make_tutorial import FENCE  # noqa: E402 - the tutorial's own reading of the page's fences

KERNEL = {"display_name": "Python 3", "language": "python", "name": "python3"}


def cells(page: str) -> list[tuple[str, str]]:
    """The page as ``(kind, source)`` pairs, ``kind`` "markdown" or "code", in order."""
    found: list[tuple[str, str]] = []
    prose, position, previous_python = [], 0, None
    for fence in FENCE.finditer(page):
        between = page[position : fence.start()]
        follows_python = previous_python is not None and not between.strip()
        if fence.group(1) == "text" and follows_python:
            position, previous_python = fence.end(), None  # the output of the block above
            continue
        prose.append(between)
        if fence.group(1) == "python":
            found.append(("markdown", "".join(prose)))
            found.append(("code", fence.group(2)))
            prose, previous_python = [], fence
        else:
            prose.append(fence.group(0))
            previous_python = None
        position = fence.end()
    prose.append(page[position:])
    found.append(("markdown", "".join(prose)))
    return [(kind, source.strip("\n")) for kind, source in found if source.strip()]


def notebook(page: str) -> nbformat.NotebookNode:
    """The notebook of ``page``: its cells, no outputs, the python3 kernel, stable cell ids."""
    made = []
    for number, (kind, source) in enumerate(cells(page), start=1):
        new = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
        made.append(new(source, id=f"cell-{number}"))
    book = nbformat.v4.new_notebook(cells=made)
    book.metadata = {"kernelspec": KERNEL, "language_info": {"name": "python"}}
    nbformat.validate(book)
    return book


def render() -> str:
    """The text of docs/tutorial.ipynb as made from docs/tutorial.md now."""
    return nbformat.writes(notebook(TUTORIAL.read_text(encoding="utf-8"))) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Make docs/tutorial.ipynb from docs/tutorial.md.")
    parser.add_argument("--check", action="store_true", help="compare only; change nothing")
    args = parser.parse_args(argv)
    fresh = render()
    if args.check:
        current = NOTEBOOK.read_text(encoding="utf-8") if NOTEBOOK.exists() else ""
        stale = current != fresh
        print(
            f"{NOTEBOOK.name} is {'out of date: run python docs/make_notebook.py' if stale else 'up to date'}"
        )
        return 1 if stale else 0
    NOTEBOOK.write_text(fresh, encoding="utf-8")
    print(f"wrote {NOTEBOOK}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
