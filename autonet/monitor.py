"""A training monitor, TensorBoard style: the metrics of each step and, for every parameter, the
norm of its weights and of its gradient, plus histograms of both every few steps.

``Monitor.record(step, loss=..., accuracy=...)`` keeps every scalar in ``Monitor.history``
(name -> list of ``(step, value)``); with a ``logdir`` it also writes them as TensorBoard event
files (``tensorboard --logdir runs`` shows them), through tensorboardX (``pip install
"autonet[monitor]"``); ``save_plots`` draws the curves and the gradient norms as PNG files with
matplotlib (``pip install "autonet[plot]"``), for when TensorBoard is not at hand. Both
packages are imported only when they are needed.

The names are those of the model's ``named_parameters()``: ``weight_norm/layers.0.w`` and
``grad_norm/layers.0.w`` are scalars, ``weights/layers.0.w`` and ``grads/layers.0.w`` the
histograms of the event files. This module sits above ``nn`` and ``optim``; nothing below it
imports it.

>>> import numpy as np
>>> from autonet import nn
>>> from autonet.monitor import Monitor
>>> model = nn.MLP(2, [4, 1], rng=0)
>>> monitor = Monitor(model)  # no logdir: the history only
>>> loss = nn.mse_loss(model(np.ones((3, 2))), np.zeros((3, 1)))
>>> loss.backward()
>>> monitor.record(0, loss=loss.item())
>>> sorted(monitor.history)[:3]
['grad_norm/layers.0.b', 'grad_norm/layers.0.w', 'grad_norm/layers.1.b']
>>> monitor.history["loss"] == [(0, loss.item())]
True
"""

from __future__ import annotations

import math
import numbers
import operator
import os
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

from .engine import Value
from .nn import Module
from .storage import stored_data, stored_gradient

__all__ = ["Monitor"]

# The prefixes of the per-parameter scalars; histograms are "weights/<name>" and "grads/<name>".
_WEIGHT_NORM = "weight_norm/"
_GRAD_NORM = "grad_norm/"
_PARAMETER_SCALARS = (_WEIGHT_NORM, _GRAD_NORM)

# How often tensorboardX writes pending events to disk: often enough for a TensorBoard that
# watches a run as it trains (its own default is two minutes); close() writes the rest.
_FLUSH_SECONDS = 10

# Equal-width bins between a parameter's smallest and largest number, as many as TensorBoard's
# own histogram summaries make by default (its DEFAULT_BUCKET_COUNT); tensorboardX's default,
# some 1500 exponential edges, costs several times as much per histogram.
_HISTOGRAM_BINS = 30


class Monitor:
    """Watches a model during training: ``record`` once a step, after ``backward()`` and before
    the optimizer step, so that the gradients recorded are the ones the step will use.

    ``model`` is an ``nn.Module`` or an iterable of ``(name, Value)`` pairs (such as
    ``model.named_parameters()``); the parameters are taken once, here. With ``logdir`` (a
    directory, created if needed) every scalar and histogram is also written to a TensorBoard
    event file there, through tensorboardX; with ``logdir=None`` nothing is written and
    tensorboardX is not needed. Histograms of each parameter's weights and gradient are written
    at the steps that are multiples of ``histogram_every`` (``None``: never). Event files hold
    scalars as float32 (TensorBoard's format); ``history`` keeps the float64 values.

    A Monitor is a context manager: leaving the ``with`` block closes it (``close()``).

    Raises ``TypeError`` if ``model`` is neither a Module nor ``(name, Value)`` pairs,
    ``ValueError`` for a name given twice or a ``histogram_every`` below 1, and ``ImportError``
    (naming ``pip install "autonet[monitor]"``) if ``logdir`` is given and tensorboardX is not
    installed.

    >>> from autonet import Value
    >>> from autonet.monitor import Monitor
    >>> w = Value([3.0, 4.0])
    >>> with Monitor([("w", w)], histogram_every=None) as monitor:
    ...     (w * w).sum().backward()
    ...     monitor.record(0, loss=25.0)
    >>> monitor.history["weight_norm/w"], monitor.history["grad_norm/w"]
    ([(0, 5.0)], [(0, 10.0)])
    """

    def __init__(
        self,
        model: Module | Iterable[tuple[str, Value]],
        logdir: str | os.PathLike[str] | None = None,
        *,
        histogram_every: int | None = 10,
    ) -> None:
        self._parameters = _named_parameters(model)
        if histogram_every is not None:
            histogram_every = operator.index(histogram_every)
            if histogram_every < 1:
                raise ValueError(
                    f"Monitor: histogram_every must be at least 1 (or None for no histograms), "
                    f"not {histogram_every}"
                )
        self._histogram_every = histogram_every
        self._logdir = None if logdir is None else Path(logdir)
        self._events = None if self._logdir is None else _EventFile(self._logdir)
        self._closed = False
        self._history: dict[str, list[tuple[int, float]]] = {}

    @property
    def history(self) -> dict[str, list[tuple[int, float]]]:
        """Every scalar recorded: name -> its ``(step, value)`` pairs, in the order recorded.

        The metrics are under their keyword names (``"loss"``), each parameter's norms under
        ``"weight_norm/<name>"`` and ``"grad_norm/<name>"``; a name appears once it has a value
        (a parameter that never had a gradient has no ``grad_norm``). Values are Python floats.

        >>> from autonet import Value
        >>> from autonet.monitor import Monitor
        >>> monitor = Monitor([("w", Value(2.0))])
        >>> monitor.record(0, loss=0.5)
        >>> monitor.history
        {'loss': [(0, 0.5)], 'weight_norm/w': [(0, 2.0)]}
        """
        return self._history

    @property
    def logdir(self) -> Path | None:
        """The directory of the event files, or None when the Monitor writes none.

        >>> from autonet.monitor import Monitor
        >>> print(Monitor([]).logdir)
        None
        """
        return self._logdir

    def record(self, step: int, /, **metrics: float) -> None:
        """Record one step: each keyword metric, and per parameter the L2 norm of its weights and
        of its gradient (histograms of both too at multiples of ``histogram_every``, when writing
        event files).

        A parameter whose gradient is None (no backward has reached it, or ``zero_grad`` cleared
        it) has its gradient recorded as missing: no ``grad_norm`` entry and no gradient
        histogram for that step, rather than a zero that would look like a vanished gradient.
        Norms are taken as the numbers are, so a parameter holding nan or inf has a nan or inf
        norm; histograms bin the finite entries.

        Raises ``ValueError`` naming the metric if a metric is not a finite number (nothing of
        the step is recorded then), or if a metric's name is one the parameter norms use;
        ``TypeError`` or ``ValueError`` for a step that is not an integer >= 0; ``RuntimeError``
        once the Monitor is closed.

        >>> from autonet import Value
        >>> from autonet.monitor import Monitor
        >>> w, unused = Value([1.0, 2.0]), Value(5.0)
        >>> monitor = Monitor([("w", w), ("unused", unused)])
        >>> (w * 2.0).sum().backward()
        >>> monitor.record(0, loss=1.5, accuracy=0.75)
        >>> "grad_norm/unused" in monitor.history, monitor.history["weight_norm/unused"]
        (False, [(0, 5.0)])
        >>> monitor.record(1, loss=float("nan"))
        Traceback (most recent call last):
        ValueError: Monitor.record: metric 'loss' is nan at step 1; ...
        """
        if self._closed:
            raise RuntimeError("Monitor.record: this Monitor is closed; make a new one to record more")
        step = _checked_step(step)
        scalars = {name: _metric(name, value, step) for name, value in metrics.items()}
        histograms: dict[str, np.ndarray] = {}
        with_histograms = self._events is not None and (
            self._histogram_every is not None and step % self._histogram_every == 0
        )
        for name, p in self._parameters:
            weights = np.asarray(stored_data(p))
            gradient = _gradient(p)
            scalars[_WEIGHT_NORM + name] = _norm(weights)
            if gradient is not None:
                scalars[_GRAD_NORM + name] = _norm(gradient)
            if with_histograms:
                histograms[f"weights/{name}"] = weights
                if gradient is not None:
                    histograms[f"grads/{name}"] = gradient
        for name, value in scalars.items():
            self._history.setdefault(name, []).append((step, value))
        if self._events is not None:
            self._events.write(step, scalars, histograms)

    def close(self) -> None:
        """Write what is pending to the event files and close them; the history stays. Closing
        twice is allowed; recording after it is not.

        >>> from autonet.monitor import Monitor
        >>> monitor = Monitor([])
        >>> monitor.close()
        >>> monitor.close()
        """
        if self._events is not None:
            self._events.close()
            self._events = None
        self._closed = True

    def __enter__(self) -> Monitor:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def save_plots(self, directory: str | os.PathLike[str], *, title: str | None = None) -> list[Path]:
        """Draw the history as PNG files in ``directory`` (created if needed); return their paths.

        ``metrics.png`` has one curve per metric over the steps; ``grad_norms.png`` has each
        parameter's gradient norm over the steps (log scale, one colour per parameter: distinct
        ones and a legend for up to ten, else shading from the first to the last) beside the
        last recorded norm of each, in the model's order: a
        profile across the depth, whose labels name the colours. A picture with nothing to show
        (no metric, no gradient yet) is not written. ``title`` heads both pictures (a run's name).

        Raises ``ImportError`` (naming ``pip install "autonet[plot]"``) if matplotlib is not
        installed.

        >>> import tempfile
        >>> from autonet import Value
        >>> from autonet.monitor import Monitor
        >>> w = Value([3.0, 4.0])
        >>> monitor = Monitor([("w", w)])
        >>> for step in range(3):
        ...     (w * w).sum().backward()
        ...     monitor.record(step, loss=float(step))
        >>> [path.name for path in monitor.save_plots(tempfile.mkdtemp(), title="w squared")]
        ['metrics.png', 'grad_norms.png']
        """
        figure_class = _matplotlib_figure()
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        metrics = {n: v for n, v in self.history.items() if not n.startswith(_PARAMETER_SCALARS)}
        gradients = {  # in the model's order, from the input side to the output
            name: self.history[_GRAD_NORM + name]
            for name, _ in self._parameters
            if _GRAD_NORM + name in self.history
        }
        written = []
        if metrics:
            written.append(_plot_metrics(figure_class, metrics, out / "metrics.png", title))
        if gradients:
            written.append(_plot_gradient_norms(figure_class, gradients, out / "grad_norms.png", title))
        return written

    def __repr__(self) -> str:
        where = f"logdir={str(self._logdir)!r}" if self._logdir is not None else "no logdir"
        return f"Monitor({len(self._parameters)} parameters, {where}, {len(self.history)} scalars)"


# --------------------------------------------------------------------------- what is recorded


def _named_parameters(model: Any) -> list[tuple[str, Value]]:
    if isinstance(model, Module):
        return model.named_parameters()
    if isinstance(model, Value) or not isinstance(model, Iterable):
        raise TypeError(
            f"Monitor: model must be an nn.Module or (name, Value) pairs, not a {type(model).__name__}"
        )
    pairs = []
    for index, item in enumerate(model):
        pair = isinstance(item, tuple) and len(item) == 2
        if not (pair and isinstance(item[0], str) and isinstance(item[1], Value)):
            raise TypeError(
                f"Monitor: item {index} of model is a {type(item).__name__}, not a (name, Value) pair; "
                "pass the module itself, or module.named_parameters() (not parameters())"
            )
        pairs.append(item)
    names = [name for name, _ in pairs]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"Monitor: parameter names must be unique; given more than once: {repeated}")
    return pairs


def _checked_step(step: Any) -> int:
    try:
        number = operator.index(step)
    except TypeError:
        raise TypeError(
            f"Monitor.record: step must be an integer, not {type(step).__name__} ({step!r})"
        ) from None
    if number < 0:
        raise ValueError(f"Monitor.record: step must be >= 0, not {number}")
    return number


def _metric(name: str, value: Any, step: int) -> float:
    """The metric as a float, or the ValueError that says what is wrong with it."""
    if name.startswith(_PARAMETER_SCALARS):
        raise ValueError(
            f"Monitor.record: metric {name!r} would mix with the parameter norms; "
            f"names starting with {' or '.join(map(repr, _PARAMETER_SCALARS))} are the Monitor's own"
        )
    if isinstance(value, Value):
        raise ValueError(f"Monitor.record: metric {name!r} is a Value; pass its number: {name}={name}.item()")
    if not isinstance(value, numbers.Real):
        raise ValueError(
            f"Monitor.record: metric {name!r} must be a finite number, not a {type(value).__name__}"
        )
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(
            f"Monitor.record: metric {name!r} is {number} at step {step}; metrics must be finite "
            "(a loss that became nan or inf has diverged: autonet.detect_anomaly() finds the op that made it)"
        )
    return number


def _gradient(p: Value) -> np.ndarray | None:
    """The parameter's gradient as an array, or None if it has none."""
    g = stored_gradient(p)
    if g is None:
        return None
    if isinstance(g, Value):  # a backward(create_graph=True) stores a Value
        g = stored_data(g)
    return np.asarray(g)


def _norm(values: np.ndarray) -> float:
    """The L2 norm of all the numbers, in float64 (0 for none)."""
    flat = np.asarray(values, dtype=np.float64).ravel()
    return float(np.sqrt(np.dot(flat, flat)))


class _EventFile:
    """A TensorBoard event file in ``logdir``, written through tensorboardX: one event per
    recorded step, holding all of that step's scalars and histograms. (One ``add_scalar`` per
    scalar, through a ``SummaryWriter``, costs three to six times as much: each is an event of
    its own, passed to the writer's thread.)"""

    def __init__(self, logdir: Path) -> None:
        try:
            from tensorboardX import FileWriter
            from tensorboardX.summary import histogram, scalar
        except ImportError as error:
            raise ImportError(
                "Monitor(logdir=...) writes TensorBoard event files through tensorboardX, which is not "
                'installed: pip install "autonet[monitor]" (or pass logdir=None to keep the history only)'
            ) from error
        self._scalar, self._histogram = scalar, histogram
        self._writer = FileWriter(str(logdir), flush_secs=_FLUSH_SECONDS)

    def write(self, step: int, scalars: dict[str, float], histograms: dict[str, np.ndarray]) -> None:
        summaries = [self._scalar(name, value) for name, value in scalars.items()]
        for name, values in histograms.items():
            finite = values[np.isfinite(values)]
            if finite.size:  # a histogram cannot hold nan, inf, or nothing at all
                summaries.append(self._histogram(name, finite, _HISTOGRAM_BINS))
        if summaries:
            event, *others = summaries
            for summary in others:
                event.value.extend(summary.value)
            self._writer.add_summary(event, step)

    def close(self) -> None:
        self._writer.close()


# --------------------------------------------------------------------------- pictures


def _matplotlib_figure() -> Any:
    try:
        # Figure draws without pyplot, so saving pictures changes no global backend.
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError(
            'Monitor.save_plots draws with matplotlib, which is not installed: pip install "autonet[plot]"'
        ) from error
    return Figure


def _columns(points: list[tuple[int, float]]) -> tuple[list[int], list[float]]:
    return [step for step, _ in points], [value for _, value in points]


def _plot_metrics(
    figure_class: Any, metrics: dict[str, list[tuple[int, float]]], path: Path, title: str | None
) -> Path:
    columns = min(len(metrics), 3)
    rows = math.ceil(len(metrics) / columns)
    figure = figure_class(figsize=(4.2 * columns, 3.2 * rows + (0.4 if title else 0.0)), layout="constrained")
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    for axis, (name, points) in zip(axes, metrics.items(), strict=False):  # a last row may have spare axes
        axis.plot(*_columns(points), marker="o" if len(points) <= 20 else None, markersize=3)
        axis.set(title=name, xlabel="step")
        axis.grid(alpha=0.3)
    for axis in axes[len(metrics) :]:
        axis.set_visible(False)
    if title:
        figure.suptitle(title)
    figure.savefig(path, dpi=100)
    return path


def _plot_gradient_norms(
    figure_class: Any, gradients: dict[str, list[tuple[int, float]]], path: Path, title: str | None
) -> Path:
    import matplotlib  # present: the caller imported matplotlib.figure

    names = list(gradients)
    # Up to ten parameters get colours that are told apart at a glance, and a legend; more get a
    # gradient of colours from the input side (dark) to the output side (light).
    few = len(names) <= 10
    if few:
        colours = matplotlib.colormaps["tab10"](np.arange(len(names)))
    else:
        colours = matplotlib.colormaps["viridis"](np.linspace(0.0, 0.9, len(names)))
    height = max(4.0, 0.22 * len(names) + 1.5)
    figure = figure_class(figsize=(11, height), layout="constrained")
    over_time, profile = figure.subplots(1, 2, width_ratios=[1.6, 1])
    positive = False
    for name, colour in zip(names, colours, strict=True):
        steps, values = _columns(gradients[name])
        positive = positive or any(v > 0 for v in values)
        over_time.plot(
            steps, values, color=colour, marker="o" if len(steps) <= 20 else None, markersize=2, label=name
        )
    # The profile names each colour, so it is the legend too. Points, not bars: a bar on a log
    # axis starts at an arbitrary limit, and its length means nothing.
    depth = range(len(names))
    profile.scatter([gradients[name][-1][1] for name in names], depth, c=colours, s=36)
    profile.set_yticks(depth, names, fontsize="small")
    profile.invert_yaxis()  # the first parameter (the input side) on top
    if positive:  # a log axis needs something above 0 to show
        over_time.set_yscale("log")
        profile.set_xscale("log")
        profile.tick_params(axis="x", which="minor", labelsize="x-small")  # a short span labels 2x, 3x ...
    over_time.set(title="gradient norm per parameter, over the steps", xlabel="step", ylabel="L2 norm")
    if few:
        over_time.legend(fontsize="small", ncols=2 if len(names) > 5 else 1)
    profile.set(title="at the last step recorded", xlabel="L2 norm")
    for axis in (over_time, profile):
        axis.grid(alpha=0.3)
    if title:
        figure.suptitle(title)
    figure.savefig(path, dpi=100)
    return path
