"""Run docs/tutorial.md as the docs test does, and keep what the page shows in step with its code.

    python docs/make_tutorial.py           # rewrite the shown outputs, redraw the pictures in docs/img
    python docs/make_tutorial.py --check   # exit status 1 if a shown output differs from the real one

The page's ```python blocks run in order in one namespace, in a temporary directory, with
matplotlib's Agg backend, exactly as tests/test_docs.py runs them. A ```text block that directly
follows a ```python block shows what that block prints; this script writes the real output there
(adding the block when missing, removing it when the code prints nothing).

The pictures the code writes whose names start with ``tutorial_`` are copied into docs/img: PNG
files into docs/img/, SVG files and the explorer's HTML page into docs/img/tutorial/
(docs/img/*.svg are the pictures of the drawing page, which tests/test_viz.py keeps to an exact
set). tests/test_api_docs.py runs the page
the same way and fails when a shown output is stale or a picture the page shows is not written by
its code. docs/make_notebook.py makes docs/tutorial.ipynb from the same page.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

DOCS = Path(__file__).resolve().parent
TUTORIAL = DOCS / "tutorial.md"
IMAGES = DOCS / "img"
PICTURE_DIRECTORIES = {".png": IMAGES, ".svg": IMAGES / "tutorial", ".html": IMAGES / "tutorial"}

# Any fenced block: its language, its body, and the text that follows up to the next fence.
FENCE = re.compile(r"^```(\w*)\n(.*?)^```[ \t]*\n", re.S | re.M)


@dataclass
class Block:
    """One ```python block: where it is in the page, its code, and the output block shown after it."""

    number: int  # 1-based, counting python blocks only (as tests/test_docs.py names them)
    code: str
    end: int  # offset just after the closing fence
    shown: str | None  # the body of the ```text block right after it, if any
    shown_span: tuple[int, int] | None  # offsets of that whole text block


def python_blocks(page: str) -> list[Block]:
    """The page's ```python blocks with the ```text output block that directly follows each."""
    fences = list(FENCE.finditer(page))
    blocks = []
    for index, fence in enumerate(fences):
        if fence.group(1) != "python":
            continue
        shown, span = None, None
        if index + 1 < len(fences):
            following = fences[index + 1]
            if following.group(1) == "text" and not page[fence.end() : following.start()].strip():
                shown, span = following.group(2), (fence.end(), following.end())
        blocks.append(Block(len(blocks) + 1, fence.group(2), fence.end(), shown, span))
    return blocks


def run_blocks(page_path: Path, directory: Path) -> list[str]:
    """Run every python block of the page in order in ``directory``; return what each printed."""
    import matplotlib

    matplotlib.use("Agg")
    namespace: dict[str, object] = {"__name__": f"docs_{page_path.stem}"}
    outputs = []
    previous = Path.cwd()
    os.chdir(directory)
    try:
        for block in python_blocks(page_path.read_text(encoding="utf-8")):
            code = compile(block.code, f"{page_path.name} block {block.number}", "exec")
            captured = io.StringIO()
            with contextlib.redirect_stdout(captured):
                exec(code, namespace)
            output = captured.getvalue()
            outputs.append(output if not output or output.endswith("\n") else output + "\n")
    finally:
        os.chdir(previous)
    return outputs


NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


def same_output(shown: str, printed: str, rtol: float = 0.02, atol: float = 1e-3) -> bool:
    """Whether ``printed`` is what ``shown`` shows: the same text, with numbers equal up to
    ``rtol``/``atol``. The slack is for training runs whose last digits depend on the BLAS and
    the CPU (a different summation order in a matrix product); the words must match exactly."""
    if shown == printed:
        return True
    if NUMBER.sub("#", shown) != NUMBER.sub("#", printed):
        return False
    pairs = zip(NUMBER.findall(shown), NUMBER.findall(printed), strict=True)
    return all(abs(float(a) - float(b)) <= atol + rtol * abs(float(a)) for a, b in pairs)


def differences(page: str, outputs: list[str]) -> list[str]:
    """One message per python block whose shown output is not what it prints."""
    problems = []
    for block, output in zip(python_blocks(page), outputs, strict=True):
        first_line = block.code.strip().splitlines()[0] if block.code.strip() else ""
        where = f"block {block.number} ({first_line[:50]})"
        if output and block.shown is None:
            problems.append(f"{where} prints output that the page does not show:\n{output}")
        elif not output and block.shown is not None:
            problems.append(f"{where} prints nothing but the page shows an output block")
        elif output and not same_output(block.shown, output):
            problems.append(f"{where} shows:\n{block.shown}\nbut prints:\n{output}")
    return problems


def with_outputs(page: str, outputs: list[str]) -> str:
    """The page with every output block replaced by (or set to) what its python block printed."""
    pieces, position = [], 0
    for block, output in zip(python_blocks(page), outputs, strict=True):
        if block.shown_span is not None:
            pieces.append(page[position : block.shown_span[0]])
            position = block.shown_span[1]
        else:
            pieces.append(page[position : block.end])
            position = block.end
        if output:
            pieces.append(f"\n```text\n{output}```\n")
    pieces.append(page[position:])
    return "".join(pieces)


def pictures_shown(page: str) -> list[str]:
    """The paths (relative to docs/) of the tutorial pictures the page shows, ![...](img/...tutorial_...),
    and of the pages it links, [...](img/...tutorial_....html) (the backprop explorer)."""
    return re.findall(r"!?\[[^\]]*\]\((img/[^)\s]*tutorial_[^)\s]*)\)", page)


def copy_pictures(directory: Path) -> list[Path]:
    """Copy the tutorial_* pictures written in ``directory`` to their place under docs/img."""
    copied = []
    for path in sorted(directory.glob("tutorial_*")):
        target_directory = PICTURE_DIRECTORIES.get(path.suffix)
        if target_directory is None:
            continue
        target_directory.mkdir(parents=True, exist_ok=True)
        copied.append(Path(shutil.copyfile(path, target_directory / path.name)))
    return copied


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Keep docs/tutorial.md's shown outputs and pictures real.")
    parser.add_argument("--check", action="store_true", help="compare only; change nothing")
    args = parser.parse_args(argv)
    page = TUTORIAL.read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory() as temporary:
        outputs = run_blocks(TUTORIAL, Path(temporary))
        if args.check:
            problems = differences(page, outputs)
            for problem in problems:
                print(problem)
            print(
                f"{len(problems)} stale outputs" if problems else "every shown output is what the code prints"
            )
            return 1 if problems else 0
        TUTORIAL.write_text(with_outputs(page, outputs), encoding="utf-8")
        print(f"wrote the outputs into {TUTORIAL}")
        for path in copy_pictures(Path(temporary)):
            print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
