"""Rank 0's side of :func:`ising.simulate`: the output file (which file is
written, the resume plan, what happens at the end or on a failure) and the
sink that takes every temperature's events (file or memory, progress bars,
log lines).

The rules for the output file are in :mod:`ising.montecarlo`'s docstring
("The output file").
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

import numpy as np

from mccore.errors import InvalidParameterError, IsingRBMError, OutputExistsError

from .exact import T_C
from .phases import phase_label
from .store import DatasetWriter, DiskFullError, Ensemble, load, validate
from .temperature_run import AUTO_WOLFF_MAX_T, STREAM_KEYING, _Task

__all__ = ["partial_path", "check_output"]


def partial_path(path) -> Path:
    """Where an ``overwrite=True`` run over an existing ``path`` writes until it completes.

    ``NAME.partial`` beside the output, symlinks resolved (the data go to the
    link's target).
    """
    target = Path(os.path.realpath(path))
    return target.with_name(target.name + ".partial")


def _output_exists_message(path: Path, partial: Path) -> str:
    if partial.exists():
        return (f"output {path} has an interrupted --overwrite run in {partial}; pass --resume "
                "to continue it or --overwrite to start again")
    return (f"output {path} exists; pass --resume to continue it (if it is an interrupted "
            "run) or --overwrite to replace it")


def check_output(path, overwrite: bool = False, resume: bool = False) -> None:
    """Refuse an output :func:`simulate` could not write (before any work).

    Raises
    ------
    OutputExistsError
        ``path`` or its ``.partial`` exists without ``overwrite``/``resume``
        (the message names both flags).
    InvalidParameterError
        ``path`` is a folder, or its folder does not exist or is not writable.
    """
    path = Path(path)
    if path.is_dir():
        raise InvalidParameterError(f"output {path} is a directory, expected a file path")
    partial = partial_path(path)
    if not (overwrite or resume) and (path.exists() or partial.exists()):
        raise OutputExistsError(_output_exists_message(path, partial))
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise InvalidParameterError(f"output folder {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise InvalidParameterError(f"output folder {parent} is not writable")


def _plan_resume(writer: DatasetWriter, tasks: list[_Task], L: int, seed_given: bool,
                 seed: int) -> tuple[int, dict]:
    """Check that the file matches the request; return (seed, resume info per task)."""
    name = writer.path.name
    root = writer.root_attrs
    if root.get("source") != "monte-carlo":
        raise InvalidParameterError(
            f"--resume needs a Monte Carlo file, {name} has source {root.get('source')!r}")
    if writer.L != L:
        raise InvalidParameterError(f"size must be {writer.L} to resume {name}, got {L}")
    file_seed = root.get("seed")
    if seed_given and file_seed is not None and int(file_seed) != seed:
        raise InvalidParameterError(f"seed must be {file_seed} to resume {name}, got {seed}")
    if file_seed is not None:
        seed = int(file_seed)
    keys = set(writer.keys())
    wanted = {t.key for t in tasks}
    if keys != wanted:
        have = sorted(writer.group_attrs(k)["T"] for k in keys)
        raise InvalidParameterError(
            f"temperatures must be those of {name} to resume it "
            f"({', '.join(f'{t:g}' for t in have)}), got "
            f"{', '.join(f'{t.T:g}' for t in tasks)}")
    plan = {}
    for task in tasks:
        attrs = writer.group_attrs(task.key)
        if int(attrs["n_target"]) != task.n_target:
            raise InvalidParameterError(
                f"samples must be {attrs['n_target']} to resume {name}, got {task.n_target}")
        if attrs["algorithm"] != task.algorithm:
            raise InvalidParameterError(
                f"algorithm must give {attrs['algorithm']!r} at T={task.T:g} to resume {name}, "
                f"got {task.algorithm!r}")
        task.n_chains = int(attrs.get("n_chains", task.n_chains))
        task.seed = seed
        recorded_key = attrs.get("seed_spawn_key")
        if isinstance(recorded_key, str):          # stored as a JSON string
            recorded_key = json.loads(recorded_key)
        if recorded_key is None:
            raise InvalidParameterError(
                f"{name}: /samples/{task.key} records no seed_spawn_key, so its random "
                "streams cannot be continued; start again with --overwrite")
        task.spawn_key = tuple(int(k) for k in np.atleast_1d(recorded_key))
        if attrs.get("complete"):
            plan[task.index] = {"complete": True}
            continue
        state = writer.checkpoint(task.key) if attrs.get("equilibrated") else None
        n_written = int(attrs["n_written"])
        if state is None or n_written % task.n_chains:
            writer.set_attrs(task.key, n_written=0, equilibrated=False)
            plan[task.index] = None
        else:
            info = {k: attrs[k] for k in ("equilibration_sweeps", "measurement_sweeps", "tau_int",
                                          "thinning", "clusters_per_sweep", "equilibration_drift_sigmas",
                                          "equilibration_check_passed") if k in attrs}
            plan[task.index] = {"info": info, "state": state, "n_written": n_written}
    return seed, plan


def _group_attrs(task: _Task, window: float, requested: str) -> dict:
    return dict(T=task.T, n_target=task.n_target, seed=task.seed, algorithm=task.algorithm,
                phase=phase_label(task.T, window=window), n_chains=task.n_chains,
                seed_spawn_key=np.asarray(task.spawn_key, dtype=np.int64),
                requested_algorithm=requested, global_flip=True,
                start="up" if task.T < T_C else "random", equilibrated=False)


class _Output:
    """Rank 0's handle on the output file: which file is written, what happens at the end."""

    def __init__(self, path: Path):
        self.path = path
        self.target = Path(os.path.realpath(path))
        self.partial = partial_path(path)
        self.writing = None          # the file being written (target or partial)
        self.created = False         # this run created ``writing``
        self.writer = None

    def open(self, *, resume: bool, overwrite: bool, L: int, tasks, window, algorithm,
             seed_given: bool, seed: int) -> tuple[int, dict]:
        check_output(self.path, overwrite, resume)
        plan: dict = {}
        if resume and (self.partial.exists() or self.target.exists()):
            self.writing = self.partial if self.partial.exists() else self.target
            validate(self.writing)
            self.writer = DatasetWriter.open(self.writing)
            try:
                seed, plan = _plan_resume(self.writer, tasks, L, seed_given, seed)
            except BaseException:
                self.writer.close(quiet=True)
                self.writer = None
                raise
            return seed, plan
        if overwrite and self.target.exists():
            self.writing = self.partial
        else:
            self.writing = self.target
            if overwrite:
                with contextlib.suppress(FileNotFoundError):
                    self.partial.unlink()       # a stale partial (we hold the lock)
        self.created = True
        self.writer = DatasetWriter.create(
            self.writing, L=L, source="monte-carlo", phase_window=window,
            attrs={"seed": seed, "algorithm_requested": algorithm,
                   "auto_wolff_max_T": AUTO_WOLFF_MAX_T, "stream_keying": STREAM_KEYING})
        for task in tasks:
            self.writer.add_group(task.key, **_group_attrs(task, window, algorithm))
        return seed, plan

    def finish(self) -> None:
        """Close; an ``overwrite`` run's partial replaces the output."""
        self.writer.close()
        if self.writing == self.partial:
            os.replace(self.partial, self.target)

    def fail(self, exc: BaseException) -> BaseException:
        """Close after a failure; remove a created file without counted rows.

        Returns the exception to raise (a full disk gets a message naming
        what was kept).
        """
        if self.writer is not None:
            self.writer.close(quiet=True)
        if self.writing is None or isinstance(exc, KeyboardInterrupt):
            return exc
        kept = 0
        removed = not self.writing.exists()
        if not removed:
            try:
                kept = sum(e.n_samples for e in load(self.writing).ensembles)
            except (IsingRBMError, OSError):
                kept = -1                               # unreadable
        if self.created and kept <= 0:
            with contextlib.suppress(OSError):
                self.writing.unlink()
                removed = True
        if isinstance(exc, DiskFullError):
            if removed:
                tail = "nothing was kept"
            elif kept > 0:
                tail = (f"the {kept} rows written so far are kept in {self.writing}; free "
                        "space and continue with --resume")
            else:
                tail = f"{self.writing} may be damaged"
            return DiskFullError(f"No space left on device writing {self.path}: {tail}",
                                 self.writing)
        return exc



# --------------------------------------------------------------------------
# the sink (rank 0): file or memory, progress, log
# --------------------------------------------------------------------------

class _Sink:
    def __init__(self, tasks, writer, *, progress: bool, log, window: float):
        self.tasks = {t.index: t for t in tasks}
        self.writer = writer
        self.progress = progress
        self.log = log
        self.window = window
        self.bars = {}
        self.memory = {t.index: [] for t in tasks}
        self.infos = {}
        self.done = set()

    def _bar(self, task, initial=0):
        if not self.progress:
            return None
        if task.index not in self.bars:
            from tqdm.auto import tqdm
            self.bars[task.index] = tqdm(total=task.n_target, initial=initial,
                                         desc=f"T={task.T:.4f} {task.algorithm}",
                                         unit="sample", leave=True, dynamic_ncols=True)
        return self.bars[task.index]

    def _say(self, message: str) -> None:
        if not self.log:
            return
        if self.bars:                   # keep the bars intact
            import sys

            from tqdm.auto import tqdm
            tqdm.write(message, file=sys.stderr)
        else:
            self.log(message)

    def start(self, task, n_written=0):
        bar = self._bar(task, n_written)
        if bar is not None and n_written == 0:
            bar.set_postfix_str("equilibrating")

    def handle(self, index: int, event) -> None:
        task = self.tasks[index]
        kind = event[0]
        if kind == "equilibrated":
            info, state = event[1], event[2]
            self.infos[index] = info
            if self.writer is not None:
                self.writer.save_checkpoint(task.key, state)
                self.writer.set_attrs(task.key, **{k: v for k, v in info.items()},
                                      equilibrated=True)
            bar = self._bar(task)
            if bar is not None:
                bar.set_postfix_str(f"tau_int={max(info['tau_int'].values()):.3g}")
            if self.log:
                tau = info["tau_int"]
                self._say(f"T={task.T:g} ({phase_label(task.T, window=self.window)}, "
                         f"{task.algorithm}, {task.n_chains} chains): equilibrated after "
                         f"{info['equilibration_sweeps']} sweeps; tau_int(E)={tau['energy']:.3g}, "
                         f"tau_int(|M|)={tau['abs_magnetization']:.3g}; thinning "
                         f"{info['thinning']} sweeps")
        elif kind == "rows":
            spins, energy, magnetization, state = event[1:]
            if self.writer is not None:
                n = self.writer.append(task.key, spins, energy, magnetization, checkpoint=state)
            else:
                self.memory[index].append((spins, energy, magnetization))
                n = sum(len(b[1]) for b in self.memory[index])
            bar = self._bar(task)
            if bar is not None:
                bar.update(len(energy))
            elif self.log and n < task.n_target:
                self.log(f"T={task.T:g}: {n}/{task.n_target} samples")
        elif kind == "complete":
            if self.writer is not None:
                self.writer.mark_complete(task.key)
            bar = self.bars.pop(index, None)
            if bar is not None:
                bar.close()
            if self.log:
                self._say(f"T={task.T:g}: complete ({task.n_target} samples)")
            self.done.add(index)

    def close(self):
        for bar in self.bars.values():
            bar.close()
        self.bars = {}

    def ensembles(self, base_attrs: dict) -> list[Ensemble]:
        out = []
        for index, task in sorted(self.tasks.items(), key=lambda kv: kv[1].T):
            if self.writer is not None:
                out.append(self.writer.read(task.key))
                continue
            blocks = self.memory[index]
            spins = np.concatenate([b[0] for b in blocks])
            energy = np.concatenate([b[1] for b in blocks])
            magnetization = np.concatenate([b[2] for b in blocks])
            attrs = dict(base_attrs[index])
            attrs.update(self.infos.get(index, {}))
            attrs.update(complete=index in self.done, n_written=len(energy), equilibrated=True)
            out.append(Ensemble(T=task.T, beta=1.0 / task.T, L=task.L, phase=attrs["phase"],
                                key=task.key, spins=spins, energy=energy,
                                magnetization=magnetization, attrs=attrs))
        return out
