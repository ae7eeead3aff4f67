"""The demo's stage runner and entry point: :func:`run_demo`.

Each stage (one module per stage in this package) writes its outputs under
the demo folder and is recorded as complete in ``DIR/demo.json`` only after
all its outputs are in place, with the size and SHA-256 of every output
(every file is written to a temporary name and moved into place; the Monte
Carlo store resumes partial files). Rerunning the demo on the same folder
verifies and reuses every complete stage, redoes a stage whose outputs were
damaged or removed since (a damaged file is kept beside as
``NAME.damaged``), and continues an interrupted one where it stopped.

Each stage's record holds its wall and CPU seconds (user + system of the
process, all threads), and the part of them spent compiling numba kernels
(``compile_seconds``, ``compile_cpu_seconds``, ``compiled_signatures``;
zero when every kernel came from numba's cache).

Seeds: one ``--seed`` S; work item ``item`` of stage ``stage`` uses the
integer seed drawn from ``mccore.rng.child(S, stage, item)`` (recorded in
its output), so a stage rerun after an interruption uses the same streams,
and a result depends on S only.
"""

from __future__ import annotations

import datetime as _dt
import errno
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mccore.errors import InvalidParameterError, IsingRBMError
from mccore.rng import child
from mccore.version import software_version

from .. import pipeline
from ..manifest import (FORMAT, FORMAT_VERSION, MANIFEST, STAGE_TITLES, STAGES, DemoPaths,
                        output_problem, output_record, read_manifest)
from ..pipeline import write_json
from .compile_clock import CompileClock
from .config import DemoConfig, demo_config

__all__ = ["Context", "prepare_output", "run_demo"]


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


@dataclass
class Context:
    """What every stage gets: settings, seed, paths, the manifest and the log."""

    config: DemoConfig
    seed: int
    paths: DemoPaths
    manifest: dict
    progress: bool
    log: Callable[[str], None]
    use_gan: bool
    gan_reason: str = ""
    summary: dict = field(default_factory=dict)
    #: the record of the stage now running as it was before (item times, hashes)
    previous: dict = field(default_factory=dict)
    #: stages this invocation found complete and reused as they were
    reused_now: set = field(default_factory=set)

    def seed_for(self, stage: str, item: int = 0) -> int:
        """The 63-bit integer seed of work item ``item`` of ``stage`` (keyed, not ordered).

        The key is the stage's position in the demo of format 2 (monte-carlo 0,
        rbm 1, gan 2, evaluate 3, vmc 4) so that those stages keep their
        streams; the newer stages take keys after them.
        """
        seq = child(self.seed, _SEED_KEYS[stage], item)
        return int(seq.generate_state(1, dtype=np.uint64)[0] % (2**63))

    def save_manifest(self) -> None:
        write_json(self.paths.manifest, self.manifest)

    def intact(self, path: Path) -> bool:
        """False if ``path`` was recorded by this stage before and has changed since."""
        rel = self.paths.relative(path)
        for record in self.previous.get("outputs", []):
            if record.get("path") == rel:
                return output_problem(self.paths.root, record) is None
        return True

    def item(self, key: str, start: float, reused: bool, **extra) -> dict:
        """The summary of one work item: the time it took when computed, and whether reused."""
        seconds = None
        if reused:
            entry = (self.previous.get("summary") or {}).get(key)
            seconds = entry.get("seconds") if isinstance(entry, dict) else None
        if seconds is None:
            seconds = round(time.perf_counter() - start, 2)
        return {**extra, "seconds": seconds, "reused": reused}


_SEED_KEYS = {"monte-carlo": 0, "rbm": 1, "gan": 2, "evaluate": 3, "vmc": 4, "report": 5,
              "exact-sampling": 6, "tfim": 7}


def _stage_key(ctx: Context, name: str) -> dict:
    """What a stage's outputs depend on beyond the config and seed."""
    if name in ("gan", "evaluate", "report"):
        return {"gan": ctx.use_gan}
    return {}


def _set_aside(ctx: Context, head: str, records: list) -> bool:
    """Log every missing/damaged recorded output; move damaged ones to NAME.damaged."""
    bad = False
    for record in records:
        problem = output_problem(ctx.paths.root, record)
        if problem is None:
            continue
        bad = True
        path = ctx.paths.root / record["path"]
        if path.exists():
            aside = path.with_name(path.name + ".damaged")
            os.replace(path, aside)
            ctx.log(f"{head}: {record['path']} {problem}; kept as "
                    f"{ctx.paths.relative(aside)}, redoing the stage")
        else:
            ctx.log(f"{head}: {record['path']} {problem}; redoing the stage")
    return bad


def _run_stage(ctx: Context, index: int, name: str, func, *, force: bool = False) -> bool:
    """Run stage ``name`` unless it is complete and intact (and not ``force``); True if it ran.

    A stage that runs re-uses whatever intact per-item outputs it finds
    (a fitted model, a finished temperature), so an interrupted stage
    continues rather than starting over. Its record keeps the time the
    outputs took when they were computed, and says ``reused`` when every
    item was.
    """
    records = ctx.manifest.setdefault("stages", {})
    record = records.get(name, {})
    head = f"[{index}/{len(STAGES)}] {STAGE_TITLES[name]}"
    key = _stage_key(ctx, name)
    complete = record.get("complete") and record.get("key", {}) == key
    if name == "report":
        # derived from the other outputs and rebuilt by 'isingrbm report DIR' at will:
        # a changed report is not damage, a missing one is simply built again
        damaged = complete and not all((ctx.paths.root / o["path"]).is_file()
                                       for o in record.get("outputs", []))
    else:
        damaged = _set_aside(ctx, head, record.get("outputs", [])) if complete else False
    if complete and not damaged and not force:
        ctx.log(f"{head}: complete, reused ({record.get('seconds', 0):.1f} s when run)")
        ctx.reused_now.add(name)
        ctx.summary[name] = record.get("summary", {})
        return False
    ctx.previous = records.pop(name, None) or {}
    ctx.save_manifest()
    ctx.log(f"{head} ...")
    start, cpu_start = time.perf_counter(), time.process_time()
    with CompileClock() as compiled:
        outputs, summary = func(ctx)
    seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu_start
    timing = {"seconds": round(seconds, 2), "cpu_seconds": round(cpu_seconds, 2),
              "compile_seconds": round(compiled.seconds, 2),
              "compile_cpu_seconds": round(compiled.cpu_seconds, 2),
              "compiled_signatures": compiled.signatures}
    items = [v for v in summary.values() if isinstance(v, dict) and "reused" in v]
    reused = bool(items) and all(v["reused"] for v in items)
    if reused and ctx.previous.get("seconds") is not None:
        # every output is the one computed before: keep the times it took then
        timing = {k: ctx.previous.get(k, v) for k, v in timing.items()}
    records[name] = {"complete": True, "key": key, **timing, "reused": reused,
                     "finished": ctx.previous.get("finished", _now()) if reused else _now(),
                     "outputs": [output_record(ctx.paths.root, p) for p in outputs],
                     "summary": summary}
    ctx.previous = {}
    ctx.summary[name] = summary
    ctx.save_manifest()
    if reused:
        ctx.reused_now.add(name)
        ctx.log(f"{head}: every output reused ({timing['seconds']:.1f} s when run)")
    else:
        compile_note = (f", of which compiling {compiled.signatures} numba kernel signatures "
                        f"{compiled.cpu_seconds:.1f} s" if compiled.signatures else "")
        ctx.log(f"{head}: done in {seconds:.1f} s (CPU {cpu_seconds:.1f} s{compile_note})")
    return True


def _stage_funcs() -> dict:
    from . import (stage_evaluate, stage_exact, stage_gan, stage_monte_carlo, stage_rbm,
                   stage_report, stage_tfim, stage_vmc)

    return {"monte-carlo": stage_monte_carlo.run, "rbm": stage_rbm.run,
            "exact-sampling": stage_exact.run, "gan": stage_gan.run,
            "evaluate": stage_evaluate.run, "vmc": stage_vmc.run, "tfim": stage_tfim.run,
            "report": stage_report.run}


def prepare_output(out) -> Path:
    """Check (before any computation) that ``out`` can hold a demo folder.

    Raises
    ------
    InvalidParameterError
        ``out`` exists and is not a folder, is a non-empty folder that is not
        a demo folder, or cannot be created/written.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InvalidParameterError(f"--out {out} exists and is not a folder")
    if out.is_dir():
        if not (out / MANIFEST).exists() and any(out.iterdir()):
            raise InvalidParameterError(
                f"--out {out} is a non-empty folder that holds no demo ({MANIFEST}); "
                "choose a new or empty folder")
        if not os.access(out, os.W_OK):
            raise InvalidParameterError(f"--out {out} is not writable")
    else:
        parent = out.parent if str(out.parent) else Path(".")
        if parent.exists() and not parent.is_dir():
            raise InvalidParameterError(f"--out {out}: {parent} is not a folder")
    return out


def _gan_available() -> tuple[bool, str]:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False, ("PyTorch is not installed (CPU build: pip install torch --index-url "
                       "https://download.pytorch.org/whl/cpu, then pip install -e \".[gan]\")")
    try:
        import gan  # noqa: F401
    except ImportError as exc:
        return False, f"the gan package is unavailable ({exc})"
    return True, ""


class DiskFullError(IsingRBMError, OSError):
    """The demo folder's file system filled up; names the output, not a temporary file."""


def _disk_full(exc: BaseException) -> bool:
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if (isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)) or any(
                t in str(exc) for t in ("No space left on device", "errno = 28,",
                                        "Disk quota exceeded")):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def run_demo(out, *, quick: bool = False, seed: int | None = None, gan: bool = True,
             progress: bool = False, log: Callable[[str], None] | None = None) -> dict:
    """Run (or continue) the end-to-end demo in folder ``out``.

    Parameters
    ----------
    out : path-like
        Demo folder (created if absent). An existing demo folder is
        continued: complete stages whose outputs are intact (size and
        SHA-256 as recorded) are reused, damaged ones redone.
    quick : bool
        The smoke-test version (L = 8, 5 temperatures, few samples, epochs
        and iterations; its models are untrained).
    seed : int, optional
        Seed of the whole run. ``None`` takes the seed recorded in an
        existing demo folder, or fresh entropy (recorded).
    gan : bool
        Include the GAN baseline when torch is installed.
    progress : bool
        Progress bars of the long stages (on stderr).
    log : callable, optional
        Receives one human-readable line per event (default: stderr).

    Returns
    -------
    dict
        Summary: folder, seed, settings, per-stage records (wall, CPU and
        compile seconds when run, reused or run, key numbers), and the
        paths of report.md / report.html.

    Raises
    ------
    InvalidParameterError
        ``out`` is unusable, or holds a demo made with other settings or
        another seed.
    DiskFullError
        The file system of ``out`` filled up (naming the stage and the
        folder; the stage is redone by the next run).
    """
    if log is None:
        def log(message):
            print(message, file=sys.stderr)
    out = prepare_output(out)
    config = demo_config(quick)
    existing = read_manifest(out) if (out / MANIFEST).exists() else None
    if existing is not None:
        if existing.get("config") != json.loads(json.dumps(config.to_dict())):
            mode = "--quick" if existing.get("config", {}).get("quick") else "full"
            raise InvalidParameterError(
                f"--out {out} holds a {mode} demo made with other settings; "
                "use another folder to run this one")
        if seed is not None and int(seed) != existing["seed"]:
            raise InvalidParameterError(
                f"--out {out} holds a demo made with --seed {existing['seed']}, got --seed "
                f"{seed}; use another folder or the same seed to continue it")
        seed = existing["seed"]
        manifest = existing
    else:
        seed = pipeline.resolve_seed(seed)
        manifest = {"format": FORMAT, "format_version": FORMAT_VERSION,
                    "created": _now(), "software_version": software_version(),
                    "seed": seed, "config": config.to_dict(), "stages": {}}
    paths = DemoPaths(out, config.L)
    for folder in (paths.root, paths.datasets, paths.models, paths.results, paths.report):
        folder.mkdir(parents=True, exist_ok=True)
    use_gan, reason = (_gan_available() if gan else (False, "--no-gan was given"))
    ctx = Context(config=config, seed=seed, paths=paths, manifest=manifest,
                  progress=progress, log=log, use_gan=use_gan, gan_reason=reason)
    ctx.save_manifest()
    log(f"isingrbm demo: {'quick' if quick else 'full'} run in {out} (seed {seed})"
        + ("; a smoke test: its models are untrained, their deviations say nothing "
           "about the methods" if quick else ""))
    start, cpu_start = time.perf_counter(), time.process_time()
    ran_before = False  # once a stage ran, every later one is brought up to date
    funcs = _stage_funcs()
    for index, name in enumerate(STAGES, start=1):
        try:
            ran_before |= _run_stage(ctx, index, name, funcs[name], force=ran_before)
        except (OSError, RuntimeError) as exc:
            if not _disk_full(exc):
                raise
            raise DiskFullError(
                f"No space left on device in {out} during stage {name}; free some space and "
                f"rerun 'isingrbm demo --out {out}' to continue") from None
    ctx.save_manifest()
    seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu_start
    stages = manifest["stages"]
    return {
        "out": str(out), "seed": seed, "quick": quick, "gan": use_gan,
        "gan_skipped_reason": None if use_gan else reason,
        "seconds": round(seconds, 2), "cpu_seconds": round(cpu_seconds, 2),
        "stages": {name: {"seconds": stages[name]["seconds"],
                          "cpu_seconds": stages[name].get("cpu_seconds"),
                          "compile_seconds": stages[name].get("compile_seconds"),
                          "reused": name in ctx.reused_now,
                          "summary": ctx.summary[name]}
                   for name in STAGES},
        "report_md": str(paths.report / "report.md"),
        "report_html": str(paths.report / "report.html"),
    }
