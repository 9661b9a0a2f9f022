"""An earlier autonet beside the current one, in the same process: ``run.py --baseline REV``.

``load(rev)`` unpacks the ``autonet`` package of a git revision into a temporary directory under
the name ``autonet_<rev>`` (the package imports itself relatively, so the copy is complete on its
own) and returns that module name. Every autonet row of the MLP and scalar workloads then runs
once per version, interleaved with the other contenders, so a before/after ratio is measured in
one run rather than across runs on a drifting machine.
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent


def load(rev: str) -> str:
    """Unpack ``autonet`` at ``rev`` as an importable package and return its module name."""
    commit = subprocess.run(
        ["git", "rev-parse", "--short", rev], cwd=REPOSITORY, check=True, capture_output=True, text=True
    ).stdout.strip()
    name = "autonet_" + re.sub(r"\W", "_", commit)
    archive = subprocess.run(
        ["git", "archive", "--format=tar", commit, "autonet"], cwd=REPOSITORY, check=True, capture_output=True
    ).stdout
    target = Path(tempfile.mkdtemp(prefix="autonet-baseline-"))
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")
    (target / "autonet").rename(target / name)
    sys.path.insert(0, str(target))
    return name
