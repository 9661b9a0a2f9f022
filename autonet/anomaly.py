"""What anomaly mode reports: ``AnomalyError``, and where in user code an op was created.

The engine calls ``check_finite`` on every forward output and every gradient while
``detect_anomaly()`` is on, and keeps ``user_site()`` on each recorded result, so the error names
the op, the phase, the first bad element and the line that built the op.
"""

from __future__ import annotations

import linecache
import os
import sys
from typing import Any

import numpy as np

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


class AnomalyError(FloatingPointError):
    """Raised under ``detect_anomaly()`` when an op's output or gradient holds NaN or inf.

    The message names the op, its input shapes, the phase (forward, or backward and for which
    input), how many elements went bad and where the first is, and the line that created the op.

    >>> from autonet import AnomalyError, Value, detect_anomaly
    >>> try:
    ...     with detect_anomaly():
    ...         Value([1.0, -1.0]).sqrt()
    ... except AnomalyError as error:
    ...     print(str(error).splitlines()[0])
    sqrt produced nan in forward (input shapes (2,); 1 of 2 elements, the first at index (1,))
    """


def user_site() -> str:
    """The line of user code that called into autonet: the innermost frame outside the package.

    Walks frames directly (no traceback objects) and keeps only a string, so no frame and none of
    its locals outlive the call.

    >>> user_site().startswith('File "')
    True
    """
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back
    if frame is None:
        return "an unknown place"
    filename, lineno = frame.f_code.co_filename, frame.f_lineno
    line = linecache.getline(filename, lineno).strip()
    site = f'File "{filename}", line {lineno}, in {frame.f_code.co_name}'
    return f"{site}\n      {line}" if line else site


def check_finite(name: str, data: Any, shapes: list[tuple[int, ...]], phase: str, site: str | None) -> None:
    """Raise ``AnomalyError`` if ``data`` (the output or a gradient of op ``name``) holds NaN or inf.

    ``shapes`` are the op's input shapes, ``site`` where the op was created (None: unknown).

    >>> check_finite("exp", np.array([1.0, 2.0]), [(2,)], "forward", None)  # finite: nothing to say
    """
    finite = np.isfinite(data)
    if finite if type(finite) is np.bool_ else finite.all():
        return
    bad = np.asarray(data)[~np.asarray(finite)]
    what = "nan" if np.isnan(bad).any() else ("inf" if (bad > 0).any() else "-inf")
    where = ""
    if np.ndim(finite):
        first = tuple(int(i) for i in np.argwhere(~finite)[0])
        where = f"; {bad.size} of {finite.size} elements, the first at index {first}"
    site = site or "an unknown place (the graph was built outside detect_anomaly(); build it inside to see)"
    shown = ", ".join(map(str, shapes))
    raise AnomalyError(
        f"{name} produced {what} in {phase} (input shapes {shown}{where})\n  the op was created at {site}"
    )
