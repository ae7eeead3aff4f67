"""The end-to-end demo: Monte Carlo -> RBMs (and a GAN) -> evaluation -> VMC -> report.

:func:`run_demo` runs the whole workbench on this machine in a few minutes
and leaves a report. The work is split into stages; each stage writes its
outputs under the demo folder and is recorded as complete in
``DIR/demo.json`` only after all its outputs are in place (every file is
written to a temporary name and moved into place, the Monte Carlo store
resumes partial files). Rerunning the demo on the same folder reuses every
complete stage and continues an interrupted one where it stopped.

Layout of the demo folder::

    DIR/demo.json                  manifest: settings, seed, stage records
    DIR/datasets/ising_L<L>.h5     Monte Carlo samples (dataset schema v1)
    DIR/datasets/rbm_<phase>.h5    samples drawn from the RBM of each phase
    DIR/datasets/gan_<phase>.h5    samples drawn from the GAN (if torch)
    DIR/models/rbm_<phase>.h5      trained RBMs (isingrbm-rbm model files)
    DIR/models/gan_<phase>.pt      trained GANs
    DIR/results/monte_carlo.json   observables per temperature with exact values
    DIR/results/evaluation.json    Monte Carlo vs RBM vs GAN vs exact, per phase
    DIR/results/vmc_<name>.h5      VMC results (vmc.VMCResult files)
    DIR/results/vmc.json           VMC summary
    DIR/report/report.{md,html}    the report, figures in DIR/report/figures/

Seeds: one ``--seed`` S; each work item draws from
``SeedSequence(S, spawn_key=(stage, item))``, so a stage rerun after an
interruption uses the same streams, and a result depends on S only.

Conventions: k_B = J = 1, per spin, periodic L x L lattice; VMC in units
hbar = m = 1, energies in hbar * omega.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import math
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from mccore.errors import FileFormatError, InvalidParameterError, IsingRBMError
from mccore.files import atomic_path
from mccore.version import software_version

__all__ = ["DemoConfig", "demo_config", "run_demo", "read_manifest", "MANIFEST",
           "STAGES", "PHASES"]

MANIFEST = "demo.json"
FORMAT = "isingrbm-demo"
FORMAT_VERSION = 1
PHASES = ("ordered", "critical", "disordered")
T_CRITICAL = 2.0 / math.log(1.0 + math.sqrt(2.0))

#: Stage names in execution order.
STAGES = ("monte-carlo", "rbm", "gan", "evaluate", "vmc", "report")
_STAGE_TITLES = {
    "monte-carlo": "Monte Carlo data",
    "rbm": "RBM per phase: fit and sample",
    "gan": "GAN baseline per phase: fit and sample",
    "evaluate": "evaluation against Monte Carlo and exact",
    "vmc": "VMC, two electrons in a 2D trap",
    "report": "report",
}


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
    """The settings of the full demo (about 5 minutes on 2 cores) or of ``--quick``."""
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
        # units) with 256 hidden units. Measured on these 3000-sample sets (seed
        # 7, e of 2000 RBM samples vs Monte Carlo): +0.17 / +1.4 / +1.2 % at
        # T = 1.5 / 2.269 / 3.5 (2.5-4 sigma), RBM stage 59 s; the former CD-10
        # with learning rate 0.01 (64/128 hidden, 12/24 epochs, 200 steps) gave
        # +0.0 / +10 / +12 %, and 512 hidden with 1000 steps -2.2 / -3.9 % at the
        # two higher T in 171 s.
        rbm={phase: dict(n_hidden=256, n_epochs=80) for phase in PHASES},
        n_generated=2000, gibbs_steps=500,
        gan=dict(n_epochs=10),
        vmc=dict(n_iterations=150, n_samples=10000, n_hidden=2),
    )


# --------------------------------------------------------------------------
# manifest and paths


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _write_json(path: Path, obj) -> None:
    """Write JSON atomically (temp file + os.replace); NaN/inf become null."""
    from isingrbm.commands._common import _jsonable

    with atomic_path(path) as tmp:
        with open(tmp, "w") as fh:
            json.dump(_jsonable(obj), fh, indent=1, allow_nan=False)
            fh.write("\n")


def read_json(path) -> dict:
    """Read a JSON result file; FileFormatError naming the file if it is not JSON."""
    path = Path(path)
    try:
        with open(path) as fh:
            return json.load(fh)
    except json.JSONDecodeError as exc:
        raise FileFormatError(f"{path}: not a valid JSON file ({exc.msg})") from None


def read_manifest(directory) -> dict:
    """The manifest ``DIR/demo.json`` of a demo folder.

    Raises
    ------
    InvalidParameterError
        ``directory`` is not a folder or holds no demo manifest.
    FileFormatError
        The manifest is not an isingrbm-demo manifest.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise InvalidParameterError(f"demo folder {directory} does not exist or is not a folder")
    path = directory / MANIFEST
    if not path.is_file():
        raise InvalidParameterError(
            f"{directory} is not a demo folder (no {MANIFEST}); "
            f"run 'isingrbm demo --out {directory}' first")
    manifest = read_json(path)
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise FileFormatError(f"{path}: format is not {FORMAT!r}")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise FileFormatError(
            f"{path}: format_version {manifest.get('format_version')!r} is not supported "
            f"(expected {FORMAT_VERSION})")
    return manifest


@dataclass
class DemoPaths:
    """Where every output of a demo folder lives."""

    root: Path
    L: int

    @property
    def manifest(self) -> Path:
        return self.root / MANIFEST

    @property
    def datasets(self) -> Path:
        return self.root / "datasets"

    @property
    def models(self) -> Path:
        return self.root / "models"

    @property
    def results(self) -> Path:
        return self.root / "results"

    @property
    def report(self) -> Path:
        return self.root / "report"

    @property
    def monte_carlo(self) -> Path:
        return self.datasets / f"ising_L{self.L}.h5"

    def generated(self, source: str, phase: str) -> Path:
        return self.datasets / f"{source}_{phase}.h5"

    def model(self, source: str, phase: str) -> Path:
        return self.models / (f"rbm_{phase}.h5" if source == "rbm" else f"gan_{phase}.pt")

    @property
    def monte_carlo_results(self) -> Path:
        return self.results / "monte_carlo.json"

    @property
    def evaluation_results(self) -> Path:
        return self.results / "evaluation.json"

    def vmc_result(self, name: str) -> Path:
        return self.results / f"vmc_{name}.h5"

    @property
    def vmc_results(self) -> Path:
        return self.results / "vmc.json"

    def relative(self, path) -> str:
        return str(Path(path).relative_to(self.root))


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

    def rng(self, stage: str, item: int = 0) -> np.random.Generator:
        """The generator of work item ``item`` of ``stage`` (keyed, not ordered)."""
        seq = np.random.SeedSequence(self.seed, spawn_key=(STAGES.index(stage), item))
        return np.random.default_rng(seq)

    def seed_for(self, stage: str, item: int = 0) -> int:
        """A 63-bit integer seed for APIs that take ``seed`` (keyed like :meth:`rng`)."""
        seq = np.random.SeedSequence(self.seed, spawn_key=(STAGES.index(stage), item))
        return int(seq.generate_state(1, dtype=np.uint64)[0] % (2**63))

    def save_manifest(self) -> None:
        _write_json(self.paths.manifest, self.manifest)


def _stage_key(ctx: _Context, name: str) -> dict:
    """What a stage's outputs depend on beyond the config and seed."""
    if name in ("gan", "evaluate", "report"):
        return {"gan": ctx.use_gan}
    return {}


def _stage_outputs_exist(ctx: _Context, record: dict) -> bool:
    return all((ctx.paths.root / rel).exists() for rel in record.get("outputs", []))


def _run_stage(ctx: _Context, index: int, name: str, func, *, force: bool = False) -> bool:
    """Run stage ``name`` unless it is complete (and not ``force``); True if it ran.

    A stage that runs re-uses whatever complete per-item outputs it finds
    (a fitted model, a finished temperature), so an interrupted stage
    continues rather than starting over.
    """
    records = ctx.manifest.setdefault("stages", {})
    record = records.get(name, {})
    head = f"[{index}/{len(STAGES)}] {_STAGE_TITLES[name]}"
    key = _stage_key(ctx, name)
    if (not force and record.get("complete") and record.get("key", {}) == key
            and _stage_outputs_exist(ctx, record)):
        ctx.log(f"{head}: complete, reused ({record.get('seconds', 0):.1f} s when run)")
        ctx.summary[name] = record.get("summary", {})
        return False
    records.pop(name, None)
    ctx.save_manifest()
    ctx.log(f"{head} ...")
    start, cpu_start = time.perf_counter(), time.process_time()
    outputs, summary = func(ctx)
    seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu_start
    records[name] = {"complete": True, "key": key, "seconds": round(seconds, 2),
                     "cpu_seconds": round(cpu_seconds, 2),
                     "finished": _now(),
                     "outputs": [ctx.paths.relative(p) for p in outputs],
                     "summary": summary}
    ctx.summary[name] = summary
    ctx.save_manifest()
    ctx.log(f"{head}: done in {seconds:.1f} s (CPU {cpu_seconds:.1f} s)")
    return True


# --------------------------------------------------------------------------
# stage 1: Monte Carlo


def _stage_monte_carlo(ctx: _Context):
    import ising
    from ising import exact

    cfg, paths = ctx.config, ctx.paths
    if paths.monte_carlo.exists():
        ctx.log(f"  resuming {paths.relative(paths.monte_carlo)}")
    # resume=True continues a partial file (complete temperatures are kept)
    # and starts afresh when there is none
    ensembles = ising.simulate(cfg.L, list(cfg.temperatures), cfg.n_samples,
                               algorithm="auto", rng=ctx.seed_for("monte-carlo"),
                               path=paths.monte_carlo, resume=True,
                               progress=ctx.progress, log=lambda m: ctx.log(f"  {m}"))
    rows = []
    for ens in sorted(ensembles, key=lambda e: e.T):
        obs = ens.observables()
        finite = exact.finite_lattice(cfg.L, ens.T)
        rows.append({
            "T": float(ens.T), "phase": ens.phase, "key": ens.key,
            "n_samples": int(len(ens.energy)),
            "algorithm": ens.attrs.get("algorithm"),
            "observables": {name: est.to_dict() for name, est in obs.items()},
            "exact_finite": {"energy": float(finite["energy"]),
                             "specific_heat": float(finite["specific_heat"])},
            "exact_infinite": {
                "energy": float(exact.onsager_energy(ens.T)),
                "specific_heat": (float(exact.onsager_specific_heat(ens.T))
                                  if abs(ens.T - T_CRITICAL) > 1e-9 else None),
                "abs_magnetization": float(exact.spontaneous_magnetization(ens.T))},
        })
    result = {"L": cfg.L, "data": paths.relative(paths.monte_carlo),
              "conventions": "per spin, k_B = J = 1, periodic L x L lattice; "
                             "errors: one standard error (blocking / block jackknife)",
              "temperatures": rows}
    _write_json(paths.monte_carlo_results, result)
    worst = max(abs(_deviation(r["observables"]["energy"], r["exact_finite"]["energy"]))
                for r in rows)
    summary = {"n_temperatures": len(rows), "n_samples": cfg.n_samples, "L": cfg.L,
               "max_energy_deviation_sigma": worst}
    ctx.log(f"  {len(rows)} temperatures x {cfg.n_samples} samples, L = {cfg.L}; "
            f"energy vs exact finite-L: largest deviation {worst:.1f} sigma")
    return [paths.monte_carlo, paths.monte_carlo_results], summary


def _deviation(estimate: dict, exact_value: float) -> float:
    error = estimate.get("error") or 0.0
    if not error:
        return 0.0 if estimate["mean"] == exact_value else math.inf
    return (estimate["mean"] - exact_value) / error


# --------------------------------------------------------------------------
# stage 2: RBMs


def _valid_file(path: Path, loader) -> bool:
    """True if ``path`` exists and ``loader(path)`` reads it back."""
    if not path.exists():
        return False
    try:
        loader(path)
    except (IsingRBMError, OSError, ValueError, KeyError):
        return False
    return True


def _stage_rbm(ctx: _Context):
    import ising
    import rbm
    from ising.lattice import spins_to_visible, visible_to_spins

    cfg, paths = ctx.config, ctx.paths
    data = ising.load(paths.monte_carlo)
    outputs, summary = [], {}
    for item, phase in enumerate(PHASES):
        T = cfg.phase_temperatures[phase]
        model_path, sample_path = paths.model("rbm", phase), paths.generated("rbm", phase)
        rng = ctx.rng("rbm", item)
        fit_rng, sample_rng = (np.random.default_rng(s) for s in rng.bit_generator.seed_seq.spawn(2))
        ens = data.ensemble(T)
        start = time.perf_counter()
        if _valid_file(model_path, rbm.load):
            model = rbm.load(model_path)
            ctx.log(f"  {phase} (T = {T:g}): model {paths.relative(model_path)} reused")
        else:
            X = spins_to_visible(ens.spins)
            model = rbm.BernoulliRBM(**cfg.rbm[phase], rng=fit_rng)
            # the checkpoint holds the full training state: an interrupted fit
            # continues from its last checkpoint, identical to an uninterrupted one
            checkpoint = model_path.with_name(f"{model_path.stem}.checkpoint.h5")
            if checkpoint.exists():
                ctx.log(f"  {phase} (T = {T:g}): resuming training from "
                        f"{paths.relative(checkpoint)}")
            model.fit(X, progress=ctx.progress, checkpoint=checkpoint,
                      checkpoint_every=_CHECKPOINT_EVERY, resume=True)
            metadata = {"data": paths.relative(paths.monte_carlo), "T": float(T),
                        "phase": phase, "key": ens.key, "demo_seed": ctx.seed}
            with _atomic(model_path) as tmp:
                rbm.save(model, tmp, metadata=metadata, overwrite=True)
            checkpoint.unlink(missing_ok=True)
            ctx.log(f"  {phase} (T = {T:g}): RBM with {model.weights.shape[1]} hidden units "
                    f"fitted in {time.perf_counter() - start:.1f} s")
        if not _valid_file(sample_path, ising.load):
            visible = model.sample(cfg.n_generated, n_steps=cfg.gibbs_steps, rng=sample_rng)
            spins = visible_to_spins(np.asarray(visible).round().astype(np.uint8), cfg.L)
            provenance = {"model": paths.relative(model_path), "n_steps": cfg.gibbs_steps,
                          "data": paths.relative(paths.monte_carlo)}
            # write_generated writes a temporary file and moves it into place
            ising.write_generated(sample_path, spins, T=T, source="rbm", provenance=provenance,
                                  seed=ctx.seed_for("rbm", 100 + item), overwrite=True)
        outputs += [model_path, sample_path]
        summary[phase] = {"T": T, "seconds": round(time.perf_counter() - start, 2)}
    return outputs, summary


_CHECKPOINT_EVERY = 5  # epochs between RBM training checkpoints


@contextlib.contextmanager
def _atomic(path: Path):
    """A temporary path beside ``path`` (removed first, as some writers refuse
    existing files), moved into place on success."""
    with atomic_path(path, create=False) as tmp:
        yield tmp


# --------------------------------------------------------------------------
# stage 3: GAN


def _gan_available() -> tuple[bool, str]:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False, "torch is not installed (pip install 'isingrbm[gan]')"
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
    n_epochs = gan_kwargs.pop("n_epochs", None)
    outputs, summary = [], {}
    for item, phase in enumerate(PHASES):
        T = cfg.phase_temperatures[phase]
        model_path, sample_path = paths.model("gan", phase), paths.generated("gan", phase)
        start = time.perf_counter()
        if _valid_file(model_path, gan.IsingGAN.load):
            model = gan.IsingGAN.load(model_path)
        else:
            ens = data.ensemble(T)
            kwargs = dict(gan_kwargs)
            if n_epochs is not None:
                kwargs["n_epochs"] = n_epochs
            model = gan.IsingGAN(cfg.L, seed=ctx.seed_for("gan", item), **kwargs)
            checkpoint = model_path.with_name(f"{model_path.stem}.checkpoint.pt")
            if checkpoint.exists():
                ctx.log(f"  {phase} (T = {T:g}): resuming GAN training from "
                        f"{paths.relative(checkpoint)}")
            model.fit(ens.spins, progress=ctx.progress, checkpoint=checkpoint,
                      checkpoint_every=_CHECKPOINT_EVERY, resume=checkpoint.exists())
            with _atomic(model_path) as tmp:
                model.save(tmp)
            checkpoint.unlink(missing_ok=True)
            ctx.log(f"  {phase} (T = {T:g}): GAN fitted in {time.perf_counter() - start:.1f} s")
        if not _valid_file(sample_path, ising.load):
            spins = model.sample(cfg.n_generated, seed=ctx.seed_for("gan", 100 + item))
            provenance = {"model": paths.relative(model_path),
                          "data": paths.relative(paths.monte_carlo)}
            ising.write_generated(sample_path, spins, T=T, source="gan", provenance=provenance,
                                  seed=ctx.seed_for("gan", 200 + item), overwrite=True)
        outputs += [model_path, sample_path]
        summary[phase] = {"T": T, "seconds": round(time.perf_counter() - start, 2)}
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
    for phase in PHASES:
        T = cfg.phase_temperatures[phase]
        reference = data.ensemble(T)
        generated = {}
        for source in sources:
            generated[source.upper()] = ising.load(paths.generated(source, phase)).ensemble(T)
        table = evaluate.compare(reference, generated, exact=True)
        phases[phase] = {"T": T, "table": table,
                         "text": evaluate.format_table(table),
                         "files": {"Monte Carlo": paths.relative(paths.monte_carlo),
                                   **{s.upper(): paths.relative(paths.generated(s, phase))
                                      for s in sources}}}
    _write_json(paths.evaluation_results, {"L": cfg.L, "phases": phases})
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
        lines.append(f"{phase} T = {entry['T']:g}: e = " + "; ".join(parts))
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
        if _valid_file(path, vmc.VMCResult.load):
            result = vmc.VMCResult.load(path)
            ctx.log(f"  {label}: {paths.relative(path)} reused")
        else:
            result = vmc.run(2, 2, omega=1.0, interaction="coulomb", jastrow=jastrow,
                             rng=ctx.rng("vmc", item), progress=ctx.progress, **cfg.vmc)
            with _atomic(path) as tmp:
                result.save(tmp)
        seconds = time.perf_counter() - start
        energy = result.energy
        runs[name] = {"label": label, "jastrow": jastrow, "file": paths.relative(path),
                      "energy": energy.to_dict(), "variance": _float(result.variance),
                      "acceptance": _float(result.acceptance), "exact": VMC_EXACT,
                      "seconds": round(seconds, 2)}
        ctx.log(f"  {label}: E = {energy} (exact {VMC_EXACT:g}), "
                f"{_deviation(energy.to_dict(), VMC_EXACT):+.1f} sigma")
        outputs.append(path)
    summary = {name: {"label": r["label"], "energy": r["energy"]["mean"],
                      "error": r["energy"]["error"], "exact": VMC_EXACT}
               for name, r in runs.items()}
    _write_json(paths.vmc_results, {"system": "two electrons, 2D harmonic trap, omega = 1, "
                                              "Coulomb interaction; hbar = m = 1",
                                    "exact": VMC_EXACT, "settings": cfg.vmc, "runs": runs})
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
        continued: complete stages are reused.
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
        Summary: folder, seed, settings, per-stage records (seconds, reused
        or run, key numbers), and the paths of report.md / report.html.

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
        from isingrbm.commands._common import resolve_seed

        seed = resolve_seed(seed)
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
        ran_before |= _run_stage(ctx, index, name, _STAGE_FUNCS[name], force=ran_before)
    seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu_start
    stages = manifest["stages"]
    return {
        "out": str(out), "seed": seed, "quick": quick, "gan": use_gan,
        "gan_skipped_reason": None if use_gan else reason,
        "seconds": round(seconds, 2), "cpu_seconds": round(cpu_seconds, 2),
        "stages": {name: {"seconds": stages[name]["seconds"],
                          "cpu_seconds": stages[name].get("cpu_seconds"),
                          "summary": ctx.summary[name]}
                   for name in STAGES},
        "report_md": str(paths.report / "report.md"),
        "report_html": str(paths.report / "report.html"),
    }

