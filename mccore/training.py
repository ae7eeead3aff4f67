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
    without ``--quiet``), starting at the steps already done when resuming.
checkpoint + resume
    ``save_checkpoint(n_done)`` is called every ``checkpoint_every`` steps,
    after the last step and on Ctrl-C, so a resumed run continues from the
    last completed step. A resumed run may be *extended* (a larger total
    number of steps than the checkpoint's run planned); settings that define
    the model must match (:func:`check_resume_settings`).
Ctrl-C
    ``KeyboardInterrupt`` ends the loop after saving a checkpoint; the loop
    returns normally with ``interrupted=True`` so the caller can return the
    partial result (the command line then exits 130 with one line).

Imports only the standard library (tqdm lazily, when a bar is asked for).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

from .errors import InvalidParameterError

__all__ = ["TrainingStep", "LoopOutcome", "run_steps", "check_resume_settings"]


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
              description: str = "train", unit: str = "step") -> LoopOutcome:
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
        Show a tqdm bar on stderr.

    Returns
    -------
    LoopOutcome
    """
    if checkpoint_every < 1:
        raise InvalidParameterError(
            f"checkpoint_every must be an integer >= 1, got {checkpoint_every!r}")
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=stop, initial=start, desc=description, unit=unit, leave=False)
    n_done = start
    saved = start
    stopped = interrupted = False
    try:
        try:
            for i in range(start, stop):
                metrics = step(i) or {}
                n_done = i + 1
                if bar is not None:
                    bar.update(1)
                    shown = {k: v for k, v in metrics.items() if isinstance(v, float)}
                    if shown:
                        bar.set_postfix({k: f"{v:.4g}" for k, v in list(shown.items())[:3]},
                                        refresh=False)
                if save_checkpoint is not None and (n_done % checkpoint_every == 0
                                                    or n_done == stop):
                    save_checkpoint(n_done)
                    saved = n_done
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
        if bar is not None:
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
