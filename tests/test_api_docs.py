"""The reference pages cannot drift from the code: docs/api.md is what docs/make_api.py generates
from the docstrings and names every public name; docs/tutorial.md shows what its code really
prints and the pictures its code really draws; every relative link in README.md and docs/*.md
points to a file (and heading) that exists."""

from __future__ import annotations

import doctest
import importlib
import importlib.util
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from types import ModuleType

import pytest

import autonet

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = sorted([ROOT / "README.md", *DOCS.glob("*.md")])
SVG = "{http://www.w3.org/2000/svg}"


def load_script(name: str) -> ModuleType:
    """A script of docs/ (not a package) imported as a module."""
    spec = importlib.util.spec_from_file_location(f"docs_{name}", DOCS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


make_api = load_script("make_api")
make_tutorial = load_script("make_tutorial")


# --------------------------------------------------------------------------- docs/api.md


def test_api_page_is_generated_from_the_current_docstrings() -> None:
    committed = (DOCS / "api.md").read_text(encoding="utf-8")
    assert committed == make_api.render(), "docs/api.md is out of date: run python docs/make_api.py"


def listed_names(page: str) -> set[str]:
    return set(re.findall(r"^\s*- \*\*`(?:class |exception )?\.?(\w+)", page, re.M))


def test_every_name_in_autonet_all_is_on_the_api_page() -> None:
    names = listed_names((DOCS / "api.md").read_text(encoding="utf-8"))
    missing = [name for name in autonet.__all__ if name not in names]
    assert not missing, f"docs/api.md lacks {missing}: run python docs/make_api.py"


@pytest.mark.parametrize("module_name", make_api.MODULES)
def test_every_public_name_of_each_documented_module_is_listed(module_name: str) -> None:
    section = make_api.render().split(f"\n## {module_name}\n", 1)[1].split("\n## ", 1)[0]
    module = importlib.import_module(module_name)
    missing = [name for name in module.__all__ if name not in listed_names(section)]
    assert not missing, f"the {module_name} section lacks {missing}"


def test_every_public_subpackage_with_an_all_has_a_section() -> None:
    # A new public module with its own __all__ (say autonet.nn.layers re-exported) must be added
    # to make_api.MODULES, or its names would be missing from the reference.
    for module_name in make_api.MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            value = getattr(module, name)
            if isinstance(value, ModuleType) and value.__name__.startswith("autonet."):
                listed_elsewhere = value.__name__ in make_api.MODULES
                assert listed_elsewhere or value.__name__.startswith("autonet.ops."), (
                    f"{value.__name__} is public ({module_name}.__all__) but has no section in docs/api.md: "
                    "add it to MODULES in docs/make_api.py"
                )


def test_the_api_generator_examples_hold() -> None:
    failures, tried = doctest.testmod(make_api)
    assert tried >= 2 and failures == 0


def test_summaries_stop_at_the_first_sentence_but_not_inside_code_or_abbreviations() -> None:
    assert make_api.summary("Sum over ``axis`` (e.g. 0). More text.") == "Sum over `axis` (e.g. 0)."
    assert make_api.summary("Join with ``a. b`` here. Then.") == "Join with `a. b` here."
    assert make_api.summary("One line\nwrapped. Second.") == "One line wrapped."
    assert make_api.summary(None) == make_api.NO_DOCSTRING


# --------------------------------------------------------------------------- docs/tutorial.md


@pytest.fixture(scope="module")
def tutorial_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[str], Path]:
    """What each python block of the tutorial prints, and the directory it drew its pictures in."""
    directory = tmp_path_factory.mktemp("tutorial")
    return make_tutorial.run_blocks(make_tutorial.TUTORIAL, directory), directory


def test_the_tutorial_shows_what_its_code_prints(tutorial_run: tuple[list[str], Path]) -> None:
    outputs, _ = tutorial_run
    page = make_tutorial.TUTORIAL.read_text(encoding="utf-8")
    problems = make_tutorial.differences(page, outputs)
    assert not problems, "\n\n".join(problems) + "\n\nrun python docs/make_tutorial.py"


def test_the_tutorial_states_the_classic_results(tutorial_run: tuple[list[str], Path]) -> None:
    outputs, _ = tutorial_run
    printed = "".join(outputs)
    assert "7.0 0.9990889488055994" in printed  # the one-neuron example: sigmoid(7)
    assert "0.7216" in printed  # the 2-2-1 network with weights [0, 1] on [2, 3]
    assert "dL/dw1 = 0.0215" in printed  # the hand-derived partial derivative
    assert "right 4/4" in printed  # XOR is learned


def test_every_tutorial_picture_is_drawn_by_the_tutorial_and_committed(
    tutorial_run: tuple[list[str], Path],
) -> None:
    _, directory = tutorial_run
    page = make_tutorial.TUTORIAL.read_text(encoding="utf-8")
    shown = make_tutorial.pictures_shown(page)
    assert len(shown) >= 6
    for picture in shown:
        name = Path(picture).name
        assert (directory / name).is_file(), (
            f"the tutorial shows {picture} but its code does not write {name}"
        )
        assert (DOCS / picture).is_file(), f"{picture} is not committed: run python docs/make_tutorial.py"
        expected_place = make_tutorial.PICTURE_DIRECTORIES[Path(name).suffix] / name
        assert DOCS / picture == expected_place, f"{picture} should be at {expected_place.relative_to(DOCS)}"
    committed = {p.relative_to(DOCS).as_posix() for p in DOCS.glob("img/**/tutorial_*")}
    assert committed == set(shown), "pictures in docs/img that the tutorial does not show (or the reverse)"


def test_the_committed_tutorial_graphs_are_up_to_date(tutorial_run: tuple[list[str], Path]) -> None:
    _, directory = tutorial_run
    for fresh in sorted(directory.glob("tutorial_*.svg")):
        committed = make_tutorial.PICTURE_DIRECTORIES[".svg"] / fresh.name
        texts = [t.text for t in ET.parse(fresh).getroot().iter(f"{SVG}text")]
        assert texts == [t.text for t in ET.parse(committed).getroot().iter(f"{SVG}text")], (
            f"{committed.relative_to(ROOT)} is stale: run python docs/make_tutorial.py"
        )


def test_output_blocks_are_rewritten_in_place() -> None:
    first = "Intro\n\n```python\nprint(1)\n```\n\n"
    page = first + "```text\nold\n```\n\n```python\nx = 2\n```\n\nEnd\n"
    updated = make_tutorial.with_outputs(page, ["1\n", "2\n"])
    assert updated == first + "```text\n1\n```\n\n```python\nx = 2\n```\n\n```text\n2\n```\n\nEnd\n"
    assert make_tutorial.with_outputs(updated, ["1\n", ""]) == page.replace("old", "1")
    assert make_tutorial.differences(updated, ["1\n", "2\n"]) == []
    assert len(make_tutorial.differences(updated, ["1\n", "3\n"])) == 1


def test_shown_outputs_may_differ_only_in_the_last_digits_of_numbers() -> None:
    same = make_tutorial.same_output
    assert same("loss 0.1855  right 3/4\n", "loss 0.1856  right 3/4\n")
    assert not same("loss 0.1855  right 3/4\n", "loss 0.2477  right 3/4\n")
    assert not same("loss 0.1855  right 3/4\n", "loss 0.1855  right 2/4\n")
    assert not same("loss 0.1855  right 3/4\n", "cost 0.1855  right 3/4\n")
    assert not same("[1. 2.]\n", "[1. 2. 3.]\n")


# --------------------------------------------------------------------------- links


def _slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]", lambda m: "_" if m.group() == "_" else "", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _without_code(text: str) -> str:
    text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    return re.sub(r"`[^`\n]*`", "", text)


def _anchors(page: Path) -> set[str]:
    headings = re.findall(r"^#{1,6} (.+)$", _without_code_blocks(page.read_text(encoding="utf-8")), re.M)
    return {_slug(h) for h in headings}


def _without_code_blocks(text: str) -> str:
    return re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)


def relative_links(page: Path) -> list[str]:
    text = _without_code(page.read_text(encoding="utf-8"))
    targets = re.findall(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)", text)
    return [t for t in targets if not re.match(r"[a-z][a-z0-9+.-]*:", t, re.I)]


def test_slugs_follow_githubs_rule() -> None:
    assert _slug("8. Going further: tensors, batches and a real classifier") == (
        "8-going-further-tensors-batches-and-a-real-classifier"
    )
    assert _slug("autonet.nn.Module") == "autonetnnmodule"
    assert _slug("Drawing `before` or after backward") == "drawing-before-or-after-backward"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_relative_link_points_to_an_existing_file_and_heading(page: Path) -> None:
    broken = []
    for target in relative_links(page):
        path_part, _, anchor = target.partition("#")
        destination = (page.parent / path_part).resolve() if path_part else page
        if not destination.exists():
            broken.append(f"{target} (no such file: {destination.relative_to(ROOT)})")
        elif anchor and destination.suffix == ".md" and anchor not in _anchors(destination):
            broken.append(f"{target} (no heading #{anchor} in {destination.name})")
    assert not broken, f"{page.relative_to(ROOT)} has broken links: {broken}"


def test_the_readme_links_the_tutorial_api_gradcheck_and_drawing_pages() -> None:
    links = set(relative_links(ROOT / "README.md"))
    assert {"docs/tutorial.md", "docs/api.md", "docs/gradcheck.md", "docs/visualisation.md"} <= links
