"""The end-to-end demo: Monte Carlo -> RBMs (and a GAN) -> evaluation -> VMC -> report.

:func:`run_demo` runs the whole workbench on this machine in a few minutes
and leaves a report. The work is split into stages; each stage writes its
outputs under the demo folder and is recorded as complete in
``DIR/demo.json`` only after all its outputs are in place, with the size
and SHA-256 of every output (every file is written to a temporary name and
moved into place, the Monte Carlo store resumes partial files). Rerunning
the demo on the same folder verifies and reuses every complete stage, redoes
a stage whose outputs were damaged or removed since (a damaged file is kept
beside as ``NAME.damaged``), and continues an interrupted one where it
stopped. The RBMs are fitted and sampled by :mod:`isingrbm.pipeline`, the
code of ``isingrbm fit`` and ``isingrbm sample``: a model file records the
seed with which ``isingrbm fit`` reproduces it.

Layout of the demo folder::

    DIR/demo.json                  manifest: settings, seed, stage records
    DIR/datasets/ising_L<L>.h5     Monte Carlo samples (dataset schema v1)
    DIR/datasets/rbm_<phase>.h5    samples drawn from the RBM of each phase
    DIR/datasets/gan_<phase>.h5    samples drawn from the GAN (if torch)
    DIR/models/rbm_<phase>.h5      trained RBMs (isingrbm-rbm model files)
    DIR/models/gan_<phase>.pt      trained GANs
    DIR/results/monte_carlo.json   observables per temperature with exact values
    DIR/results/evaluation.json    Monte Carlo vs RBM (vs GAN) vs exact, per phase
    DIR/results/vmc_<name>.h5      VMC results (vmc.VMCResult files)
    DIR/results/vmc.json           VMC summary
    DIR/report/report.{md,html}    the report, figures in DIR/report/figures/

Seeds: one ``--seed`` S; work item ``item`` of stage ``stage`` uses the
integer seed drawn from ``mccore.rng.child(S, stage, item)`` (recorded in
its output), so a stage rerun after an interruption uses the same streams,
and a result depends on S only.

Conventions: k_B = J = 1, per spin, periodic L x L lattice; VMC in units
hbar = m = 1, energies in hbar * omega.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ising.phases import PHASES
from mccore.errors import InvalidParameterError, IsingRBMError
from mccore.files import atomic_path
from mccore.rng import child
from mccore.version import software_version

from . import pipeline
from .manifest import (FORMAT, FORMAT_VERSION, MANIFEST, STAGE_TITLES, STAGES,  # noqa: F401
                       DamagedOutputError, DemoPaths, output_problem, output_record,
                       read_manifest, verify_outputs)
from .pipeline import write_json

__all__ = [
    "MANIFEST",
    "STAGES",
    "DamagedOutputError",
    "DemoConfig",
    "demo_config",
    "read_manifest",
    "run_demo",
    "verify_outputs",
]

_STAGE_TITLES = STAGE_TITLES


@dataclass(frozen=True)
class DemoConfig:
    """Sizes of one demo run (the full demo or ``--quick``).

    Attributes
    ----------
    quick : bool
        The sub-minute smoke-test version.
    L : int
        Lattice size of the Monte Carlo data.
    temperatures : tuple of float
        Monte Carlo temperatures (k_B = J = 1), denser near T_c.
    n_samples : int
        Samples per temperature (thinned by the Monte Carlo driver to be
        roughly independent).
    phase_temperatures : dict
        ``phase -> T`` at which an RBM (and a GAN) is trained; each T is one
        of ``temperatures``.
    rbm : dict
        Keyword arguments of ``rbm.BernoulliRBM`` per phase: ``{phase: {...}}``.
    n_generated : int
        Samples drawn from each trained model.
    gibbs_steps : int
        Gibbs steps per RBM sample (independent chains).
    gan : dict
        Keyword arguments of ``gan.IsingGAN`` plus ``n_epochs`` for fit.
    vmc : dict
        Keyword arguments of ``vmc.run`` shared by both VMC runs.
    """

    quick: bool
    L: int
    temperatures: tuple
    n_samples: int
    phase_temperatures: dict
    rbm: dict
    n_generated: int
    gibbs_steps: int
    gan: dict
    vmc: dict

    def to_dict(self) -> dict:
        data = asdict(self)
        data["temperatures"] = list(self.temperatures)
        return data


def demo_config(quick: bool = False) -> DemoConfig:
    """The settings of the full demo or of ``--quick``."""
    if quick:
        return DemoConfig(
            quick=True, L=8,
            temperatures=(1.5, 2.0, 2.269, 2.6, 3.5),
            n_samples=400,
            phase_temperatures={"ordered": 1.5, "critical": 2.269, "disordered": 3.5},
            rbm={phase: dict(n_hidden=32, n_epochs=10, batch_size=32)
                 for phase in PHASES},
            n_generated=400, gibbs_steps=100,
            gan=dict(n_epochs=5),
            vmc=dict(n_iterations=30, n_samples=2000, n_hidden=2),
        )
    return DemoConfig(
        quick=False, L=16,
        temperatures=(1.0, 1.5, 1.8, 2.0, 2.15, 2.269, 2.35, 2.5, 2.75, 3.0, 3.5, 4.0),
        n_samples=3000,
        phase_temperatures={"ordered": 1.5, "critical": 2.269, "disordered": 3.5},
        # The library defaults (CD-5, learning_rate="auto" = 0.0025 at 256 visible
        # units) with 256 hidden units.
        rbm={phase: dict(n_hidden=256, n_epochs=80) for phase in PHASES},
        n_generated=2000, gibbs_steps=500,
        gan=dict(n_epochs=10),
        vmc=dict(n_iterations=150, n_samples=10000, n_hidden=2),
    )


# --------------------------------------------------------------------------
# manifest, result files and their integrity


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


#: The two VMC runs: name -> (label, jastrow).
VMC_RUNS = {"rbm": ("RBM", "none"), "rbm_pade": ("RBM + Pade-Jastrow", "pade")}
VMC_EXACT = 3.0  # two electrons, 2D, omega = 1 (Taut 1993)


# --------------------------------------------------------------------------
# the stage runner


@dataclass
class _Context:
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
        """The 63-bit integer seed of work item ``item`` of ``stage`` (keyed, not ordered)."""
        seq = child(self.seed, STAGES.index(stage), item)
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

    def item_seconds(self, key: str):
        """Seconds item ``key`` of the running stage took when it ran (None if unknown)."""
        entry = (self.previous.get("summary") or {}).get(key)
        return entry.get("seconds") if isinstance(entry, dict) else None


def _stage_key(ctx: _Context, name: str) -> dict:
    """What a stage's outputs depend on beyond the config and seed."""
    if name in ("gan", "evaluate", "report"):
        return {"gan": ctx.use_gan}
    return {}


def _set_aside(ctx: _Context, head: str, records: list) -> bool:
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


def _run_stage(ctx: _Context, index: int, name: str, func, *, force: bool = False) -> bool:
    """Run stage ``name`` unless it is complete and intact (and not ``force``); True if it ran.

    A stage that runs re-uses whatever intact per-item outputs it finds
    (a fitted model, a finished temperature), so an interrupted stage
    continues rather than starting over. Its record keeps the time the
    outputs took when they were computed, and says ``reused`` when every
    item was.
    """
    records = ctx.manifest.setdefault("stages", {})
    record = records.get(name, {})
    head = f"[{index}/{len(STAGES)}] {_STAGE_TITLES[name]}"
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
    outputs, summary = func(ctx)
    seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu_start
    items = [v for v in summary.values() if isinstance(v, dict) and "reused" in v]
    reused = bool(items) and all(v["reused"] for v in items)
    if reused and ctx.previous.get("seconds") is not None:
        # every output is the one computed before: keep the time it took then
        seconds = ctx.previous["seconds"]
        cpu_seconds = ctx.previous.get("cpu_seconds", cpu_seconds)
    records[name] = {"complete": True, "key": key, "seconds": round(seconds, 2),
                     "cpu_seconds": round(cpu_seconds, 2), "reused": reused,
                     "finished": ctx.previous.get("finished", _now()) if reused else _now(),
                     "outputs": [output_record(ctx.paths.root, p) for p in outputs],
                     "summary": summary}
    ctx.previous = {}
    ctx.summary[name] = summary
    ctx.save_manifest()
    if reused:
        ctx.reused_now.add(name)
        ctx.log(f"{head}: every output reused ({seconds:.1f} s when run)")
    else:
        ctx.log(f"{head}: done in {seconds:.1f} s (CPU {cpu_seconds:.1f} s)")
    return True


def _item(ctx: _Context, key: str, start: float, reused: bool, **extra) -> dict:
    """The summary of one work item: the time it took when computed, and whether reused."""
    seconds = ctx.item_seconds(key) if reused else None
    if seconds is None:
        seconds = round(time.perf_counter() - start, 2)
    return {**extra, "seconds": seconds, "reused": reused}


# --------------------------------------------------------------------------
# stage 1: Monte Carlo


def _stage_monte_carlo(ctx: _Context):
    import ising

    cfg, paths = ctx.config, ctx.paths
    start = time.perf_counter()
    if paths.monte_carlo.exists():
        ctx.log(f"  resuming {paths.relative(paths.monte_carlo)}")
    # resume=True continues a partial file (complete temperatures are kept)
    # and starts afresh when there is none
    seed = ctx.seed_for("monte-carlo")
    ensembles = ising.simulate(cfg.L, list(cfg.temperatures), cfg.n_samples,
                               algorithm="auto", rng=seed,
                               path=paths.monte_carlo, resume=True,
                               progress=ctx.progress, log=lambda m: ctx.log(f"  {m}"))
    del ensembles
    dataset = ising.load(paths.monte_carlo)
    rows = pipeline.monte_carlo_rows(dataset)
    result = {"L": cfg.L, "data_file": paths.relative(paths.monte_carlo), "seed": seed,
              "software_version": software_version(),
              "conventions": "per spin, k_B = J = 1, periodic L x L lattice; "
                             "errors: one standard error (blocking / block jackknife)",
              "temperatures": rows}
    write_json(paths.monte_carlo_results, result)
    worst = max(abs(_deviation(r["observables"]["energy"], r["exact_finite"]["energy"]))
                for r in rows)
    summary = {"n_temperatures": len(rows), "n_samples": cfg.n_samples, "L": cfg.L,
               "max_energy_deviation_sigma": worst}
    ctx.log(f"  {len(rows)} temperatures x {cfg.n_samples} samples, L = {cfg.L}; "
            f"energy vs exact finite-L: largest deviation {worst:.1f} sigma")
    del start
    return [paths.monte_carlo, paths.monte_carlo_results], summary


def _deviation(estimate: dict, exact_value: float) -> float:
    error = estimate.get("error") or 0.0
    if not error:
        return 0.0 if estimate["mean"] == exact_value else math.inf
    return (estimate["mean"] - exact_value) / error


# --------------------------------------------------------------------------
# stage 2: RBMs, through the pipeline of 'isingrbm fit' and 'isingrbm sample'


def _valid_file(path: Path, loader) -> bool:
    """True if ``path`` exists and ``loader(path)`` reads it back."""
    if not path.exists():
        return False
    try:
        loader(path)
    except (IsingRBMError, OSError, ValueError, KeyError):
        return False
    return True


def _attrs(path: Path) -> dict:
    """Provenance attrs of the (only) temperature of a generated dataset file."""
    import ising

    return dict(ising.load(path).ensembles[0].attrs)


def _reusable_model(ctx: _Context, path: Path, data_hash: str) -> bool:
    """An intact RBM model file trained on exactly this data."""
    import rbm

    if not (path.exists() and ctx.intact(path) and _valid_file(path, rbm.load)):
        return False
    return (rbm.load(path).metadata_ or {}).get("data_hash") == data_hash


def _reusable_sample(ctx: _Context, path: Path, model_path: Path) -> bool:
    """An intact sample file drawn from exactly this model file (by its SHA-256)."""
    import ising

    if not (path.exists() and ctx.intact(path) and _valid_file(path, ising.load)):
        return False
    return _attrs(path).get("model_hash") == pipeline.file_hash(model_path)


def _stage_rbm(ctx: _Context):
    from ising.lattice import spins_to_visible
    from rbm.bernoulli import data_hash

    cfg, paths = ctx.config, ctx.paths
    outputs, summary = [], {}
    for item, phase in enumerate(PHASES):
        T = cfg.phase_temperatures[phase]
        model_path, sample_path = paths.model("rbm", phase), paths.generated("rbm", phase)
        start = time.perf_counter()
        _, ens = pipeline.training_data(paths.monte_carlo, temperature=T)
        reused = _reusable_model(ctx, model_path, data_hash(spins_to_visible(ens.spins)))
        if reused:
            ctx.log(f"  {phase} (T = {T:g}): model {paths.relative(model_path)} reused")
        else:
            checkpoint = pipeline.checkpoint_path(model_path)
            if checkpoint.exists():
                ctx.log(f"  {phase} (T = {T:g}): resuming training from "
                        f"{paths.relative(checkpoint)}")
            fitted = pipeline.fit_rbm(paths.monte_carlo, ens, cfg.rbm[phase], out=model_path,
                                      seed=ctx.seed_for("rbm", item), resume=True,
                                      progress=ctx.progress,
                                      checkpoint_every=_CHECKPOINT_EVERY,
                                      command="isingrbm demo")
            if fitted.interrupted:
                raise KeyboardInterrupt   # the checkpoint is kept; a rerun continues it
            ctx.log(f"  {phase} (T = {T:g}): RBM with {fitted.model.n_hidden} hidden units "
                    f"fitted in {fitted.seconds:.1f} s")
        if _reusable_sample(ctx, sample_path, model_path):
            reused_sample = True
        else:
            reused_sample = False
            pipeline.sample_rbm(model_path, n_samples=cfg.n_generated, out=sample_path,
                                seed=ctx.seed_for("rbm", 100 + item),
                                n_steps=cfg.gibbs_steps, overwrite=True,
                                command="isingrbm demo")
        outputs += [model_path, sample_path]
        summary[phase] = _item(ctx, phase, start, reused and reused_sample, temperature=T)
    return outputs, summary


_CHECKPOINT_EVERY = 5  # epochs between RBM training checkpoints


# --------------------------------------------------------------------------
# stage 3: GAN


def _gan_available() -> tuple[bool, str]:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False, "torch is not installed (pip install torch)"
    try:
        import gan  # noqa: F401
    except ImportError as exc:
        return False, f"the gan package is unavailable ({exc})"
    return True, ""


def _stage_gan(ctx: _Context):
    if not ctx.use_gan:
        ctx.log(f"  skipped: {ctx.gan_reason}")
        return [], {"skipped": ctx.gan_reason}
    import gan
    import ising

    cfg, paths = ctx.config, ctx.paths
    data = ising.load(paths.monte_carlo)
    gan_kwargs = dict(cfg.gan)
    outputs, summary = [], {}
    for item, phase in enumerate(PHASES):
        T = cfg.phase_temperatures[phase]
        model_path, sample_path = paths.model("gan", phase), paths.generated("gan", phase)
        start = time.perf_counter()
        reused = model_path.exists() and ctx.intact(model_path) and _valid_file(
            model_path, gan.IsingGAN.load)
        if reused:
            model = gan.IsingGAN.load(model_path)
        else:
            ens = data.ensemble(T)
            seed = ctx.seed_for("gan", item)
            model = gan.IsingGAN(cfg.L, rng=seed, **gan_kwargs)
            checkpoint = model_path.with_name(f"{model_path.stem}.checkpoint.pt")
            if checkpoint.exists():
                ctx.log(f"  {phase} (T = {T:g}): resuming GAN training from "
                        f"{paths.relative(checkpoint)}")
            model.fit(ens.spins, progress=ctx.progress, checkpoint=checkpoint,
                      checkpoint_every=_CHECKPOINT_EVERY, resume=checkpoint.exists())
            if getattr(model, "interrupted_", False):
                raise KeyboardInterrupt   # the checkpoint is kept; a rerun continues it
            metadata = {"data_file": str(paths.monte_carlo.resolve()), "temperature": float(T),
                        "phase": phase, "data_group": ens.key, "seed": seed,
                        "command": "isingrbm demo", "software_version": software_version()}
            with atomic_path(model_path, create=False) as tmp:
                try:
                    model.save(tmp, metadata=metadata)
                except TypeError:  # a GAN API without metadata
                    model.save(tmp)
            checkpoint.unlink(missing_ok=True)
            ctx.log(f"  {phase} (T = {T:g}): GAN fitted in {time.perf_counter() - start:.1f} s")
        model_hash = pipeline.file_hash(model_path)
        sample_ok = (sample_path.exists() and ctx.intact(sample_path)
                     and _valid_file(sample_path, ising.load)
                     and _attrs(sample_path).get("model_hash") == model_hash)
        if not sample_ok:
            seed = ctx.seed_for("gan", 100 + item)
            spins = model.sample(cfg.n_generated, rng=seed)
            provenance = {"model_file": str(model_path.resolve()), "model_hash": model_hash,
                          "model_kind": "gan",
                          "data_file": str(paths.monte_carlo.resolve()),
                          "training_phase": phase, "command": "isingrbm demo",
                          "software_version": software_version()}
            # write_generated writes a temporary file and moves it into place
            ising.write_generated(sample_path, spins, T=T, source="gan", provenance=provenance,
                                  seed=seed, overwrite=True)
        outputs += [model_path, sample_path]
        summary[phase] = _item(ctx, phase, start, reused and sample_ok, temperature=T)
    return outputs, summary


# --------------------------------------------------------------------------
# stage 4: evaluation


def _stage_evaluate(ctx: _Context):
    import ising
    from isingrbm import evaluate

    cfg, paths = ctx.config, ctx.paths
    data = ising.load(paths.monte_carlo)
    sources = ["rbm"] + (["gan"] if ctx.use_gan else [])
    phases = {}
    for item, phase in enumerate(PHASES):
        T = cfg.phase_temperatures[phase]
        generated = {s.upper(): ising.load(paths.generated(s, phase)) for s in sources}
        result = pipeline.evaluate_datasets(data, generated, seed=ctx.seed_for("evaluate", item),
                                            log=lambda m: ctx.log(f"  {m}"))
        (table,) = result["tables"]
        phases[phase] = {"temperature": T, "seed": result["seed"], "table": table,
                         "text": evaluate.format_table(table),
                         "files": {"Monte Carlo": paths.relative(paths.monte_carlo),
                                   **{s.upper(): paths.relative(paths.generated(s, phase))
                                      for s in sources}}}
    write_json(paths.evaluation_results, {"L": cfg.L, "data_file": paths.relative(paths.monte_carlo),
                                          "software_version": software_version(),
                                          "phases": phases})
    lines = []
    for phase, entry in phases.items():
        table = entry["table"]
        mc = table["observables"]["Monte Carlo"]
        parts = [f"MC {mc['energy']}"]
        for label in table["sources"][1:]:
            dev = table["deviation"][label]
            parts.append(f"{label} {table['observables'][label]['energy']} "
                         f"({dev['energy']:+.1f} sigma), <|m|> {dev['abs_magnetization']:+.1f} "
                         "sigma")
        lines.append(f"{phase} T = {entry['temperature']:g}: e = " + "; ".join(parts))
    for line in lines:
        ctx.log(f"  {line}")
    return [paths.evaluation_results], {"sources": [s.upper() for s in sources],
                                        "lines": lines}


# --------------------------------------------------------------------------
# stage 5: VMC


def _stage_vmc(ctx: _Context):
    import vmc

    cfg, paths = ctx.config, ctx.paths
    outputs, runs = [], {}
    for item, (name, (label, jastrow)) in enumerate(VMC_RUNS.items()):
        path = paths.vmc_result(name)
        start = time.perf_counter()
        reused = path.exists() and ctx.intact(path) and _valid_file(path, vmc.VMCResult.load)
        seed = ctx.seed_for("vmc", item)
        if reused:
            result = vmc.VMCResult.load(path)
            ctx.log(f"  {label}: {paths.relative(path)} reused")
        else:
            result = vmc.run(2, 2, omega=1.0, interaction="coulomb", jastrow=jastrow,
                             rng=seed, progress=ctx.progress, **cfg.vmc)
            if getattr(result, "status", "complete") == "interrupted":
                raise KeyboardInterrupt
            with atomic_path(path, create=False) as tmp:
                result.save(tmp)
        energy = result.energy
        runs[name] = {"label": label, "jastrow": jastrow, "file": paths.relative(path),
                      "seed": seed,
                      "energy": energy.to_dict(), "variance": _float(result.variance),
                      "acceptance": _float(result.acceptance), "exact": VMC_EXACT,
                      **_item(ctx, name, start, reused)}
        ctx.log(f"  {label}: E = {energy} (exact {VMC_EXACT:g}), "
                f"{_deviation(energy.to_dict(), VMC_EXACT):+.1f} sigma")
        outputs.append(path)
    summary = {name: {"label": r["label"], "energy": r["energy"]["mean"],
                      "error": r["energy"]["error"], "exact": VMC_EXACT,
                      "seconds": r["seconds"], "reused": r["reused"]}
               for name, r in runs.items()}
    write_json(paths.vmc_results, {"system": "two electrons, 2D harmonic trap, omega = 1, "
                                             "Coulomb interaction; hbar = m = 1",
                                   "exact": VMC_EXACT, "settings": cfg.vmc,
                                   "software_version": software_version(), "runs": runs})
    outputs.append(paths.vmc_results)
    return outputs, summary


def _float(value):
    if value is None:
        return None
    if hasattr(value, "mean"):
        value = value.mean
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


# --------------------------------------------------------------------------
# stage 6: report


def _stage_report(ctx: _Context):
    from isingrbm import report

    written = report.build_report(ctx.paths.root)
    return list(written.values()), {k: ctx.paths.relative(v) for k, v in written.items()}


_STAGE_FUNCS = {"monte-carlo": _stage_monte_carlo, "rbm": _stage_rbm, "gan": _stage_gan,
                "evaluate": _stage_evaluate, "vmc": _stage_vmc, "report": _stage_report}


# --------------------------------------------------------------------------
# public entry point


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
        The sub-minute version (L = 8, 5 temperatures, few samples, epochs
        and iterations) for smoke tests.
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
        Summary: folder, seed, settings, per-stage records (seconds when
        run, reused or run, key numbers), and the paths of report.md /
        report.html.

    Raises
    ------
    InvalidParameterError
        ``out`` is unusable, or holds a demo made with other settings or
        another seed.
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
    ctx = _Context(config=config, seed=seed, paths=paths, manifest=manifest,
                   progress=progress, log=log, use_gan=use_gan, gan_reason=reason)
    ctx.save_manifest()
    log(f"isingrbm demo: {'quick' if quick else 'full'} run in {out} (seed {seed})")
    start, cpu_start = time.perf_counter(), time.process_time()
    ran_before = False  # once a stage ran, every later one is brought up to date
    for index, name in enumerate(STAGES, start=1):
        if name not in _STAGE_FUNCS:
            continue
        ran_before |= _run_stage(ctx, index, name, _STAGE_FUNCS[name], force=ran_before)
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
                          "reused": name in ctx.reused_now,
                          "summary": ctx.summary[name]}
                   for name in STAGES if name in _STAGE_FUNCS},
        "report_md": str(paths.report / "report.md"),
        "report_html": str(paths.report / "report.html"),
    }
