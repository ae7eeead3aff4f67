"""The demo folder's manifest (``DIR/demo.json``), its layout and its integrity checks.

What both the demo (:mod:`isingrbm.demo`, which writes a demo folder) and
the report (:mod:`isingrbm.report`, which reads one) need to know about a
demo folder, so that neither imports the other: the manifest's name and
format, the stage names, where every output lives (:class:`DemoPaths`),
reading the manifest, and checking the recorded outputs of complete stages
against their size and SHA-256.

Layout of a demo folder::

    DIR/demo.json                       manifest: settings, seed, stage records
    DIR/datasets/ising_L<L>.h5          Monte Carlo samples (dataset schema v1)
    DIR/datasets/rbm_<phase>.h5         samples drawn from the RBM of each phase (Gibbs)
    DIR/datasets/rbm_exact_<phase>.h5   exact samples: Metropolis-Hastings with the RBM
                                        as proposal, Ising weight as target
    DIR/datasets/gan_<phase>.h5         samples drawn from the GAN (if torch)
    DIR/models/rbm_<phase>.h5           trained RBMs (isingrbm-rbm model files)
    DIR/models/gan_<phase>.pt           trained GANs
    DIR/results/monte_carlo.json        observables per temperature with exact values
    DIR/results/exact_sampling.json     diagnostics of the exact RBM sampler per phase
    DIR/results/evaluation.json         Monte Carlo vs RBM (vs exact RBM, vs GAN) vs exact
    DIR/results/vmc_<name>.h5           VMC results in the trap (vmc.VMCResult files)
    DIR/results/vmc.json                VMC summary (two electrons in a 2D trap)
    DIR/results/tfim_chain.h5           VMC result of the transverse-field Ising chain
    DIR/results/tfim.json               its summary against free fermions
    DIR/report/report.{md,html}         the report, figures in DIR/report/figures/

Each stage's record in the manifest holds ``complete``, ``seconds`` (wall),
``cpu_seconds`` (user + system of the process while the stage ran),
``compile_seconds`` (numba compilation inside the stage, where measured),
``outputs`` (path, size, SHA-256) and a ``summary``.

Conventions: k_B = J = 1, per spin, periodic L x L lattice.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mccore.errors import FileFormatError, InvalidParameterError

from .pipeline import file_hash, read_json

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "MANIFEST",
    "STAGES",
    "STAGE_TITLES",
    "DamagedOutputError",
    "DemoPaths",
    "output_problem",
    "output_record",
    "read_manifest",
    "verify_outputs",
]

MANIFEST = "demo.json"
FORMAT = "isingrbm-demo"
#: 2: outputs recorded with size and SHA-256; provenance keys of isingrbm.pipeline.
FORMAT_VERSION = 2

#: Stage names in execution order.
STAGES = ("monte-carlo", "rbm", "exact-sampling", "gan", "evaluate", "vmc", "tfim", "report")
#: One line per stage, as the demo prints it.
STAGE_TITLES = {
    "monte-carlo": "Monte Carlo data",
    "rbm": "RBM per phase: fit and sample (Gibbs, approximate)",
    "exact-sampling": "exact RBM Monte Carlo: Metropolis-Hastings with the RBM as proposal",
    "gan": "GAN baseline per phase: fit and sample",
    "evaluate": "evaluation against Monte Carlo and exact",
    "vmc": "VMC, two electrons in a 2D trap",
    "tfim": "VMC, transverse-field Ising chain against free fermions",
    "report": "report",
}


def read_manifest(directory) -> dict:
    """The manifest ``DIR/demo.json`` of a demo folder.

    Raises
    ------
    InvalidParameterError
        ``directory`` is not a folder or holds no demo manifest.
    FileFormatError
        The manifest is not an isingrbm-demo manifest of this version.
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
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        older = isinstance(version, int) and version < FORMAT_VERSION
        raise FileFormatError(
            f"{path}: format_version {version!r} is not supported (expected {FORMAT_VERSION})"
            + ("; it was written by an older isingrbm: run the demo into a new folder"
               if older else ""))
    if not isinstance(manifest.get("config"), dict) or not isinstance(
            manifest.get("stages", {}), dict):
        raise FileFormatError(f"{path}: no 'config' and 'stages' objects")
    return manifest


class DamagedOutputError(FileFormatError):
    """A recorded output of a complete demo stage is missing or not the file written."""


def output_record(root: Path, path: Path) -> dict:
    """``{"path", "size", "sha256"}`` of an output file, path relative to ``root``."""
    path = Path(path)
    return {"path": str(path.relative_to(root)), "size": path.stat().st_size,
            "sha256": file_hash(path)}


def output_problem(root: Path, record: dict) -> str | None:
    """Why a recorded output is not the file that was written, or None if it is."""
    path = Path(root) / record["path"]
    if not path.is_file():
        return "is missing"
    size = path.stat().st_size
    if size != record.get("size"):
        return f"is damaged: {size} bytes where {MANIFEST} records {record.get('size')}"
    if file_hash(path) != record.get("sha256"):
        return f"is damaged: its SHA-256 differs from the one {MANIFEST} records"
    return None


def verify_outputs(directory, manifest: dict | None = None, *,
                   skip=("report",)) -> None:
    """Check every output of every complete stage against its recorded size and SHA-256.

    Raises
    ------
    DamagedOutputError
        Naming the first missing or damaged file and how to redo it.
    """
    directory = Path(directory)
    manifest = manifest if manifest is not None else read_manifest(directory)
    for name in STAGES:
        record = (manifest.get("stages") or {}).get(name) or {}
        if name in skip or not record.get("complete"):
            continue
        for output in record.get("outputs", []):
            problem = output_problem(directory, output)
            if problem:
                raise DamagedOutputError(
                    f"{directory / output['path']} {problem} (stage {name}); rerun "
                    f"'isingrbm demo --out {directory}' to redo it")


#: the fixed places of a demo folder, relative to it (``{L}``: the lattice size)
LAYOUT = {
    "manifest": MANIFEST, "datasets": "datasets", "models": "models", "results": "results",
    "report": "report", "monte_carlo": "datasets/ising_L{L}.h5",
    "monte_carlo_results": "results/monte_carlo.json",
    "exact_sampling_results": "results/exact_sampling.json",
    "evaluation_results": "results/evaluation.json", "vmc_results": "results/vmc.json",
    "tfim_result": "results/tfim_chain.h5", "tfim_results": "results/tfim.json",
}


@dataclass
class DemoPaths:
    """Where every output of a demo folder lives: the places of :data:`LAYOUT` as
    attributes (``paths.models``, ``paths.monte_carlo``), and the per-stage files below."""

    root: Path
    L: int

    def __getattr__(self, name: str) -> Path:
        if name not in LAYOUT:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        return self.root / LAYOUT[name].format(L=self.L)

    def generated(self, source: str, phase: str) -> Path:
        """Samples of ``source`` ("rbm", "rbm_exact" or "gan") at the phase's temperature."""
        return self.datasets / f"{source}_{phase}.h5"

    def model(self, source: str, phase: str) -> Path:
        return self.models / (f"rbm_{phase}.h5" if source == "rbm" else f"gan_{phase}.pt")

    def vmc_result(self, name: str) -> Path:
        return self.results / f"vmc_{name}.h5"

    def relative(self, path) -> str:
        return str(Path(path).relative_to(self.root))
