"""The one training-loop contract of RBM, GAN and VMC training.

Every iterative trainer in the workbench (``rbm`` epochs, ``gan`` epochs,
``vmc`` iterations) runs its steps through :func:`run_steps` and so behaves
the same way:

callback
    ``callback(step: TrainingStep) -> bool | None`` after every completed
    step; returning True stops training early (the result is then complete
    up to that step, ``stopped_early`` is set). ``TrainingStep`` carries the
    1-based number of the step just completed, the planned total, that
    step's monitored numbers (``metrics``, a dict of floats) and the object
    being trained (``model``).
progress
    A tqdm bar on stderr when asked for (the CLI asks only on a terminal and
    without ``--quiet``), starting at the steps already done when resuming;
    without a bar, timed lines with the remaining time under
    :func:`mccore.progress.progress_lines` (a batch job's log).
checkpoint + resume
    ``save_checkpoint(n_done)`` is called every ``checkpoint_every`` steps,
    after a step that ends ``checkpoint_seconds`` (wall clock, default
    :data:`CHECKPOINT_SECONDS`) after the last save, after the last step
    and on Ctrl-C or SIGTERM (the command line turns SIGTERM into Ctrl-C),
    so a resumed run continues from the last completed step and a job killed
    by its scheduler loses at most a few minutes, however long its steps. A
    resumed run may be *extended* (a larger total number of steps than the
    checkpoint's run planned); settings that define the model must match
    (:func:`check_resume_settings`). The checkpoint of an output ``OUT`` is
    :func:`checkpoint_path` ``(OUT)`` (``OUT.checkpoint``) for every command,
    and a resumed run takes the seed its checkpoint records
    (:func:`resume_seed`).
Ctrl-C
    ``KeyboardInterrupt`` ends the loop after saving a checkpoint; the loop
    returns normally with ``interrupted=True`` so the caller can return the
    partial result (the command line then exits 130 with one line).

Other loops (VMC's own, exact RBM sampling) use the same pieces:
:class:`CheckpointTimer` for the wall-clock interval and
:class:`mccore.progress.Progress` for the bar and the lines.

Imports only the standard library (tqdm lazily, when a bar is asked for).
"""

from __future__ import annotations

import dataclasses
import math
import time
from pathlib import Path
from typing import Any, Callable

from . import interrupts
from .errors import InvalidParameterError
from .progress import Progress

__all__ = ["TrainingStep", "LoopOutcome", "run_steps", "check_resume_settings",
           "CheckpointTimer", "CHECKPOINT_SECONDS", "CHECKPOINT_SUFFIX", "checkpoint_path",
           "resume_seed"]

#: Default wall-clock interval (seconds) between checkpoints, beside the step interval.
CHECKPOINT_SECONDS = 300.0

#: The checkpoint of an output ``OUT`` is ``OUT`` + this suffix (``model.h5.checkpoint``).
CHECKPOINT_SUFFIX = ".checkpoint"


def _legacy_checkpoints(out: Path) -> tuple[Path, ...]:
    """Names older versions gave the checkpoint of ``out`` (found on resume only)."""
    return (out.with_name(out.name + ".ckpt"),               # gan fit before 0.3
            out.with_name(out.stem + ".checkpoint.pt"))      # the demo's GAN stage


def checkpoint_path(out) -> Path:
    """The one checkpoint file of an output ``out``: ``OUT.checkpoint``.

    Every long command (``fit``, ``sample --exact``, ``gan fit``, ``vmc``)
    keeps its resumable state there while it runs. For backward
    compatibility, when ``OUT.checkpoint`` does not exist but a checkpoint
    under an older name does (``OUT.ckpt`` of ``gan fit``,
    ``OUT-stem.checkpoint.pt`` of the demo's GAN stage), that file is
    returned, so a run interrupted under an older version resumes.

    >>> checkpoint_path("/no/such/model.h5").name
    'model.h5.checkpoint'
    """
    out = Path(out)
    current = out.with_name(out.name + CHECKPOINT_SUFFIX)
    if not current.exists():
        for old in _legacy_checkpoints(out):
            if old.exists():
                return old
    return current


def resume_seed(recorded, seed, *, flag: str = "--seed"):
    """The seed of a resumed run: the interrupted run's, recorded in its checkpoint.

    Parameters
    ----------
    recorded : int or None
        The seed the checkpoint records (None: it records none).
    seed : int or None
        The seed asked for now (None: not given).

    Returns
    -------
    int or None
        ``recorded`` when there is one (it governs a resume: the random
        state in the checkpoint was drawn from it), else ``seed``.

    Raises
    ------
    InvalidParameterError
        ``seed`` is given and differs from ``recorded``.

    >>> resume_seed(7, None), resume_seed(7, 7), resume_seed(None, 3)
    (7, 7, 3)
    """
    if recorded is None:
        return seed
    if seed is not None and int(seed) != int(recorded):
        raise InvalidParameterError(
            f"{flag} must match the interrupted run's seed {recorded} to resume, got {seed}")
    return int(recorded)


class CheckpointTimer:
    """When a checkpoint is due by wall time: ``due()`` after ``seconds`` since ``saved()``.

    Parameters
    ----------
    seconds : float or None
        The interval (>= 0; 0: at every check); None: never due.
    clock : callable, optional
        Monotonic seconds (default ``time.monotonic``).

    Examples
    --------
    >>> timer = CheckpointTimer(0.0)
    >>> timer.due()
    True
    >>> CheckpointTimer(None).due()
    False
    """

    def __init__(self, seconds: float | None = CHECKPOINT_SECONDS, *, clock=None):
        if seconds is not None and not (isinstance(seconds, (int, float))
                                        and not isinstance(seconds, bool)
                                        and math.isfinite(seconds) and seconds >= 0):
            raise InvalidParameterError(
                f"checkpoint_seconds must be a finite number >= 0 or None, got {seconds!r}")
        self.seconds = None if seconds is None else float(seconds)
        self._clock = clock or time.monotonic
        self._last = self._clock()

    def due(self) -> bool:
        """The interval has passed since the last save (or the start)."""
        return self.seconds is not None and self._clock() - self._last >= self.seconds

    def saved(self) -> None:
        """A checkpoint was just written: the interval starts again."""
        self._last = self._clock()


@dataclasses.dataclass(frozen=True)
class TrainingStep:
    """What a training callback receives after each completed step.

    Attributes
    ----------
    step : int
        1-based number of the step (epoch or iteration) just completed.
    n_steps : int
        The planned total number of steps.
    metrics : dict of str to float
        The numbers monitored at this step (e.g. ``pseudo_log_likelihood``,
        ``energy``).
    model : object
        The estimator or driver being trained (its state is current).
    """

    step: int
    n_steps: int
    metrics: dict
    model: Any = None


@dataclasses.dataclass(frozen=True)
class LoopOutcome:
    """How a :func:`run_steps` loop ended.

    Attributes
    ----------
    n_done : int
        Steps completed in total (including those done before a resume).
    stopped_early : bool
        A callback returned True.
    interrupted : bool
        Ctrl-C ended the loop (a checkpoint was saved if one was asked for).
    """

    n_done: int
    stopped_early: bool = False
    interrupted: bool = False


def run_steps(step: Callable[[int], dict], *, start: int, stop: int, model=None,
              callback: Callable[[TrainingStep], bool | None] | None = None,
              save_checkpoint: Callable[[int], None] | None = None,
              checkpoint_every: int = 1, progress: bool = False,
              description: str = "train", unit: str = "step",
              checkpoint_seconds: float | None = CHECKPOINT_SECONDS) -> LoopOutcome:
    """Run ``step(i)`` for ``i = start, ..., stop - 1`` under the contract above.

    Parameters
    ----------
    step : callable
        ``step(i) -> metrics`` performs step ``i`` (0-based) and returns its
        monitored numbers as a dict (may be empty).
    start, stop : int
        Steps already done (0, or the resumed count) and the planned total.
    model : object
        Passed to the callback as ``TrainingStep.model``.
    callback : callable or None
        ``callback(TrainingStep) -> bool | None``; True stops early.
    save_checkpoint : callable or None
        ``save_checkpoint(n_done)`` writes a resumable checkpoint.
    checkpoint_every : int
        Steps between checkpoints (also after the last step and on Ctrl-C).
    progress : bool
        Show a tqdm bar on stderr (else lines under
        :func:`mccore.progress.progress_lines`).
    checkpoint_seconds : float or None
        Also checkpoint after the first step that ends this many wall-clock
        seconds after the last checkpoint (None: by step count only).

    Returns
    -------
    LoopOutcome
    """
    if checkpoint_every < 1:
        raise InvalidParameterError(
            f"checkpoint_every must be an integer >= 1, got {checkpoint_every!r}")
    timer = CheckpointTimer(checkpoint_seconds)
    bar = Progress(stop, initial=start, description=description, unit=unit, bar=progress)
    n_done = start
    saved = start
    stopped = interrupted = False
    try:
        try:
            for i in range(start, stop):
                metrics = step(i) or {}
                n_done = i + 1
                interrupts.raise_if_requested()
                shown = {k: v for k, v in metrics.items()
                         if isinstance(v, float) and math.isfinite(v)}
                if shown:
                    bar.set_postfix(", ".join(f"{k}={v:.4g}" for k, v in
                                              list(shown.items())[:3]))
                bar.update(1)
                if save_checkpoint is not None and (n_done % checkpoint_every == 0
                                                    or n_done == stop or timer.due()):
                    save_checkpoint(n_done)
                    saved = n_done
                    timer.saved()
                    interrupts.raise_if_requested()
                if callback is not None and callback(
                        TrainingStep(step=n_done, n_steps=stop, metrics=dict(metrics),
                                     model=model)):
                    stopped = True
                    break
        except KeyboardInterrupt:
            interrupted = True
        if save_checkpoint is not None and saved != n_done:
            save_checkpoint(n_done)
    finally:
        bar.close()
    return LoopOutcome(n_done=n_done, stopped_early=stopped, interrupted=interrupted)


def check_resume_settings(saved: dict, current: dict, *, what: str = "checkpoint") -> None:
    """Refuse a resume whose model-defining settings differ from the checkpoint's.

    Parameters
    ----------
    saved, current : dict
        The settings that define the model (architecture, data hash, seed,
        optimizer, ...), as recorded in the checkpoint and as asked for now.
        The number of steps is *not* among them: a run may be extended.

    Raises
    ------
    InvalidParameterError
        One line naming every setting that differs: ``"cannot resume from
        checkpoint: n_hidden was 64, now 128; use the same settings to resume"``.
    """
    differences = [f"{key} was {saved.get(key)!r}, now {current.get(key)!r}"
                   for key in sorted(set(saved) | set(current))
                   if saved.get(key) != current.get(key)]
    if differences:
        raise InvalidParameterError(
            f"cannot resume from {what}: {'; '.join(differences)}; "
            "use the same settings to resume (only the number of epochs/iterations may grow)")
