"""docs/tutorial.ipynb is docs/tutorial.md as a notebook, and it runs in a Jupyter kernel.

The notebook is made from the page by docs/make_notebook.py (the page is the one source), so the
committed file must be what the script makes now. Executed with nbclient in a python3 kernel of
this interpreter (a kernelspec written to a temporary directory, so that no installed Jupyter
setup matters), each code cell prints what the page shows under its block, and the cells that
end with a Value show its graph inline as SVG, through ``Value._repr_mimebundle_``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import nbformat
import pytest

import autonet

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
BUDGET = 60.0  # seconds for the whole run; on an idle machine it takes under 10


def _script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"docs_{name}", DOCS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


make_notebook = _script("make_notebook")
make_tutorial = _script("make_tutorial")


def test_the_committed_notebook_is_made_from_the_tutorial() -> None:
    committed = make_notebook.NOTEBOOK.read_text(encoding="utf-8")
    assert committed == make_notebook.render(), (
        "docs/tutorial.ipynb is stale: run python docs/make_notebook.py"
    )
    book = nbformat.reads(committed, as_version=4)
    code = [cell.source for cell in book.cells if cell.cell_type == "code"]
    page = make_tutorial.TUTORIAL.read_text(encoding="utf-8")
    assert code == [block.code.strip("\n") for block in make_tutorial.python_blocks(page)]
    assert all(not cell.get("outputs") for cell in book.cells if cell.cell_type == "code")


# The kernel is driven from a child process: the test process never holds Jupyter's event loop,
# sockets or their garbage (tests/test_leaks.py counts the cyclic garbage of its process).
RUNNER = r"""
import sys, time
import nbformat
from nbclient import NotebookClient

source, target, work = sys.argv[1:4]
book = nbformat.read(source, as_version=4)
client = NotebookClient(book, timeout=120, kernel_name="python3", resources={"metadata": {"path": work}})
start = time.perf_counter()
client.execute()
book.metadata["seconds"] = time.perf_counter() - start
nbformat.write(book, target)
"""


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, float]:
    """The notebook after a run in a fresh kernel, and how long the run took."""
    work = tmp_path_factory.mktemp("notebook")
    kernels = work / "jupyter" / "kernels" / "python3"
    kernels.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3",
        "language": "python",
    }
    (kernels / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    library = str(Path(autonet.__file__).resolve().parent.parent)
    environment = {
        **os.environ,
        "JUPYTER_PATH": str(work / "jupyter"),  # searched before any installed kernelspec
        "PYTHONPATH": library,  # the kernel imports this autonet
        "MPLBACKEND": "Agg",  # the tutorial saves its figures; none is shown
    }
    target = work / "executed.ipynb"
    result = subprocess.run(
        [sys.executable, "-c", RUNNER, str(make_notebook.NOTEBOOK), str(target), str(work)],
        capture_output=True,
        text=True,
        env=environment,
        cwd=work,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, f"the notebook did not run:\n{result.stderr[-4000:]}"
    book = nbformat.read(target, as_version=4)
    return book, book.metadata["seconds"]


# Where anomaly mode says an op was created: "tutorial.md block 20" when the page runs as a script,
# the kernel's cell file (and the line's source, which the kernel keeps) in the notebook.
SITE = re.compile(r'(the op was created at) File "[^"]*", line \d+, in \S+\n(?: {6}\S.*\n)?')


def _sites_blanked(text: str) -> str:
    return SITE.sub(r"\1 <site>\n", text)


def _printed(cell: object) -> str:
    return "".join(o["text"] for o in cell.outputs if o["output_type"] == "stream" and o["name"] == "stdout")


def test_every_cell_prints_what_the_tutorial_shows(executed: tuple[object, float]) -> None:
    book, seconds = executed
    page = make_tutorial.TUTORIAL.read_text(encoding="utf-8")
    cells = [cell for cell in book.cells if cell.cell_type == "code"]
    blocks = make_tutorial.python_blocks(page)
    assert len(cells) == len(blocks)
    for cell, block in zip(cells, blocks, strict=True):
        errors = [o for o in cell.outputs if o["output_type"] == "error"]
        assert not errors, f"block {block.number} raised {errors[0]['ename']}: {errors[0]['evalue']}"
        printed = _printed(cell)
        if block.shown is None:
            assert printed == "", f"block {block.number} prints what the page does not show: {printed}"
        else:
            assert make_tutorial.same_output(_sites_blanked(block.shown), _sites_blanked(printed)), (
                f"block {block.number} shows:\n{block.shown}\nbut the notebook printed:\n{printed}"
            )
    printed = "".join(_printed(cell) for cell in cells)
    assert "7.0 0.9990889488055994" in printed  # sigmoid(7): the one-neuron example
    assert "dL/dw1 = 0.0215" in printed  # the hand-derived partial derivative
    assert "right 4/4" in printed  # XOR is learned
    assert seconds < BUDGET, f"the notebook took {seconds:.1f} s"


def test_values_on_a_last_line_are_drawn_inline_as_svg(executed: tuple[object, float]) -> None:
    book, _ = executed
    drawn = {}
    for cell in book.cells:
        if cell.cell_type != "code":
            continue
        last = cell.source.strip().splitlines()[-1].split("#")[0].strip()
        for output in cell.outputs:
            if output["output_type"] == "execute_result" and "image/svg+xml" in output["data"]:
                drawn[last] = output["data"]
    assert set(drawn) == {"prediction", "loss"}
    for name, data in drawn.items():
        svg = data["image/svg+xml"]
        assert svg.lstrip().startswith(("<?xml", "<svg", "<!--")) and "</svg>" in svg, name
        assert data["text/plain"].startswith("Value("), name
    # The drawings hold the numbers: the 2-2-1 network's prediction, 0.7216 to four places, and
    # the loss after backward drawn with its gradient.
    texts = {
        name: " ".join(re.findall(r">([^<>]+)</text>", data["image/svg+xml"])) for name, data in drawn.items()
    }
    assert "0.7216" in texts["prediction"]
    assert "loss" in texts["loss"] and "grad" in texts["loss"]
