"""What a report is made of, read from result files (nothing is written here).

:func:`collect_files` reads any set of result files (Monte Carlo and generated
datasets, RBM model files, VMC result files, and the JSON results of
``isingrbm evaluate --json``, ``isingrbm vmc --json`` and a demo's
``results/*.json``); :func:`demo_inputs` reads a demo folder's results. Every
JSON result is checked against its schema (:mod:`.schema`) and every HDF5
file is opened by its own package's reader, so a file of the wrong structure
is refused in one line naming it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from mccore.errors import FileFormatError, InvalidParameterError

from .. import manifest as _manifest
from .. import pipeline
from . import schema

__all__ = ["EvaluationInput", "Inputs", "MonteCarloInput", "VMCRun", "collect_files",
           "demo_inputs", "source_label"]


@dataclass
class MonteCarloInput:
    """Observables of one Monte Carlo dataset (rows of :func:`pipeline.monte_carlo_rows`)."""

    L: int
    data_file: str
    rows: list
    path: Path | None = None


@dataclass
class EvaluationInput:
    """One :func:`isingrbm.evaluate.compare` table and the files it compared."""

    temperature: float
    phase: str | None
    table: dict
    files: dict  # label -> Path of the dataset (Monte Carlo first)


@dataclass
class VMCRun:
    label: str
    energy: dict
    exact: float | None
    variance: float | None
    acceptance: float | None
    file: str
    path: Path | None = None


@dataclass
class Inputs:
    """Everything a report shows, gathered from a demo folder or from files."""

    monte_carlo: list = field(default_factory=list)
    evaluations: list = field(default_factory=list)
    models: list = field(default_factory=list)       # (label, Path)
    vmc_runs: list = field(default_factory=list)
    vmc_system: str | None = None
    files: list = field(default_factory=list)        # rows of the inputs table
    notes: list = field(default_factory=list)
    evaluation_seed: int | None = None
    exact_sampling: list = field(default_factory=list)  # (phase, record) of exact_sampling.json
    tfim_runs: list = field(default_factory=list)       # (tfim.json record, Path of its result)


def source_label(source: str) -> str:
    """The report's label of a sample source ("Monte Carlo", "RBM", "GAN", or as given)."""
    low = str(source).lower()
    if low in ("mc", "monte carlo", "monte-carlo", "reference", "data"):
        return "Monte Carlo"
    if low in ("rbm", "gan"):
        return low.upper()
    return str(source)


# --------------------------------------------------------------------------
# a demo folder


#: The VMC system of the demo, as the report describes it.
DEMO_VMC_SYSTEM = (
    "Two electrons with Coulomb repulsion in an isotropic 2D harmonic trap, omega = 1 "
    "(hbar = m = 1, energies in hbar omega). Trial wavefunction: a Gaussian-binary RBM, "
    "alone and multiplied by a Pade-Jastrow factor. Exact ground-state energy 3.0 "
    "(Taut, PRA 48, 3561 (1993)); published RBM values 3.0822(2) and with Pade-Jastrow "
    "3.00002(2) (Nordhagen 2019). Errors: blocking, one standard error.")


def _read_result(path: Path, kind: str):
    """A demo's JSON result checked against its schema, or None if it is not there yet."""
    if not path.exists():
        return None
    obj = pipeline.read_json(path)
    schema.check(obj, kind, path)
    return obj


def demo_inputs(directory, manifest: dict) -> Inputs:
    """The inputs of a demo folder's report, from its result files."""
    directory = Path(directory)
    paths = _manifest.DemoPaths(directory, manifest["config"]["L"])
    inputs = Inputs()
    mc = _read_result(paths.monte_carlo_results, "demo-monte-carlo")
    if mc is not None:
        data_file = mc.get("data_file") or paths.relative(paths.monte_carlo)
        inputs.monte_carlo.append(MonteCarloInput(
            L=mc["L"], data_file=data_file, rows=mc["temperatures"],
            path=directory / data_file))
    evaluation = _read_result(paths.evaluation_results, "demo-evaluation")
    if evaluation is not None:
        for phase, entry in evaluation["phases"].items():
            inputs.evaluations.append(EvaluationInput(
                temperature=entry["temperature"], phase=phase, table=entry["table"],
                files={source_label(k): directory / v for k, v in entry["files"].items()}))
    for phase, T in manifest["config"]["phase_temperatures"].items():
        path = paths.model("rbm", phase)
        if path.exists():
            inputs.models.append((f"{phase}, T = {T:g}", path))
    vmc_summary = _read_result(paths.vmc_results, "demo-vmc")
    if vmc_summary is not None:
        inputs.vmc_system = DEMO_VMC_SYSTEM
        for run in vmc_summary["runs"].values():
            inputs.vmc_runs.append(_vmc_run(run, directory))
    exact = _read_result(getattr(paths, "exact_sampling_results", directory / "-"),
                         "demo-exact-sampling")
    if exact is not None:
        _add_json(inputs, paths.exact_sampling_results, "demo-exact-sampling", exact)
    tfim = _read_result(getattr(paths, "tfim_results", directory / "-"), "demo-tfim")
    if tfim is not None:
        _add_json(inputs, paths.tfim_results, "demo-tfim", tfim)
    return inputs


def _vmc_run(run: dict, root: Path) -> VMCRun:
    return VMCRun(label=run["label"], energy=run["energy"], exact=run.get("exact"),
                  variance=run.get("variance"), acceptance=run.get("acceptance"),
                  file=run["file"], path=root / run["file"])


# --------------------------------------------------------------------------
# any set of result files


_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def _provenance_text(pairs) -> str:
    return "; ".join(f"{k} {v}" for k, v in pairs if v not in (None, "", [], {}))


def _load_hdf5(path: Path):
    """``(kind, object)`` of an HDF5 result file: a dataset, an RBM model or a VMC result."""
    import ising
    import rbm
    import vmc

    messages = []
    for kind, loader in (("dataset", ising.load), ("model", rbm.load),
                         ("vmc", vmc.VMCResult.load)):
        try:
            return kind, loader(path)
        except (FileFormatError, OSError, ValueError, KeyError, TypeError) as exc:
            messages.append(str(exc))
    raise FileFormatError(
        f"{path}: not a readable dataset, RBM model or VMC result file ({messages[0]})")


def _vmc_label(path: Path, parameters: dict) -> str:
    keys = ("system", "particles", "dims", "omega", "interaction", "jastrow", "hidden")
    details = ", ".join(f"{k} {parameters[k]}" for k in keys if parameters.get(k) is not None)
    return f"{path.stem} ({details})" if details else path.stem


def _labels(datasets: list) -> list:
    """Column labels: the source (RBM, GAN), with the file stem when ambiguous."""
    sources = [d.source.upper() for d in datasets]
    labels = [s if sources.count(s) == 1 else f"{s}:{Path(d.path).stem}"
              for s, d in zip(sources, datasets)]
    return [label if labels.count(label) == 1 else f"{label}#{labels[:i].count(label) + 1}"
            for i, label in enumerate(labels)]


def check_input_paths(files) -> list:
    """The given input paths, refused (InvalidParameterError) if one is missing or a folder."""
    paths = [Path(p) for p in files]
    if not paths:
        raise InvalidParameterError("give a demo folder or at least one result file")
    for path in paths:
        if path.is_dir():
            raise InvalidParameterError(
                f"{path} is a folder but not a demo folder (no {_manifest.MANIFEST}); give a "
                "demo folder alone, or result files")
        if not path.is_file():
            raise InvalidParameterError(f"input file {path} does not exist")
    return paths


def _read_json_result(path: Path):
    """``(kind, object)`` of a JSON result, checked against its schema."""
    try:
        obj = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError):
        obj = None
    kind = schema.classify(obj, _manifest.FORMAT)
    if kind == "demo-manifest":
        raise InvalidParameterError(
            f"{path} is a demo manifest: give its folder ({path.parent}) instead")
    if not kind:
        raise FileFormatError(
            f"{path}: not a result file isingrbm report reads (a dataset, an RBM model or "
            "VMC result file, or the JSON of 'isingrbm evaluate --json', 'isingrbm vmc "
            "--json' or a demo's results/*.json)")
    schema.check(obj, kind, path)
    return kind, obj


def collect_files(files, *, seed: int | None = None, log=None) -> Inputs:
    """Read result files into report inputs (nothing is written).

    Parameters
    ----------
    files : sequence of path-like
        Monte Carlo and generated datasets (``isingrbm-ising``), RBM model
        files, VMC result files, and JSON results of ``isingrbm evaluate
        --json``, ``isingrbm vmc --json`` or a demo's ``results/*.json``.
    seed : int or None
        Seed of the noise-level replicas when generated datasets are
        compared here with their Monte Carlo data (None: fresh, recorded).

    Raises
    ------
    InvalidParameterError
        A file does not exist, or is a folder.
    FileFormatError
        A file is none of the kinds above, is damaged, or is a JSON result
        whose structure is not that of its kind; the message names it.
    """
    inputs = Inputs()
    monte_carlo, generated = [], []
    for path in check_input_paths(files):
        with open(path, "rb") as fh:
            head = fh.read(8)
        if head == _HDF5_SIGNATURE:
            _add_hdf5(inputs, path, monte_carlo, generated)
            continue
        kind, obj = _read_json_result(path)
        inputs.files.append([str(path), f"JSON ({kind})", _provenance_text(
            [("seed", obj.get("seed")), ("software_version", obj.get("software_version"))])])
        _add_json(inputs, path, kind, obj)
    for data in monte_carlo:
        inputs.monte_carlo.append(MonteCarloInput(
            L=data.L, data_file=str(data.path), rows=pipeline.monte_carlo_rows(data),
            path=Path(data.path)))
    _compare_generated(inputs, monte_carlo, generated, seed=seed, log=log)
    return inputs


def _add_hdf5(inputs: Inputs, path: Path, monte_carlo: list, generated: list) -> None:
    kind, obj = _load_hdf5(path)
    if kind == "dataset":
        temps = ", ".join(f"{t:g}" for t in obj.temperatures)
        seeds = sorted({str(e.attrs.get("seed")) for e in obj.ensembles
                        if e.attrs.get("seed") is not None})
        first = obj.ensembles[0].attrs if obj.ensembles else {}
        inputs.files.append([str(path), f"{obj.source} dataset", _provenance_text(
            [("L", obj.L), ("T", temps), ("seed", ", ".join(seeds)),
             ("model_file", Path(str(first.get("model_file"))).name
              if first.get("model_file") else None),
             ("software_version", obj.attrs.get("software_version"))])])
        from ising.store import DATA_SOURCES   # Monte Carlo and imported reference data
        (monte_carlo if obj.source in DATA_SOURCES else generated).append(obj)
    elif kind == "model":
        meta = dict(getattr(obj, "metadata_", None) or {})
        T = meta.get("temperature")
        try:
            T = None if T is None else float(T)
        except (TypeError, ValueError):
            raise FileFormatError(f"{path}: its temperature {T!r} is not a number") from None
        label = f"{path.stem}" + (f", T = {T:g}" if T is not None else "")
        inputs.models.append((label, path))
        inputs.files.append([str(path), "RBM model", _provenance_text(
            [("data_file", Path(str(meta["data_file"])).name if meta.get("data_file") else None),
             ("temperature", T), ("seed", meta.get("seed")),
             ("software_version", meta.get("software_version") or meta.get("isingrbm_version"))])])
    else:
        params = dict(obj.parameters)
        inputs.vmc_runs.append(VMCRun(
            label=_vmc_label(path, params), energy=obj.energy.to_dict(),
            exact=obj.exact, variance=obj.variance, acceptance=obj.acceptance,
            file=str(path), path=path))
        inputs.files.append([str(path), "VMC result", _provenance_text(
            [("seed", params.get("seed")), ("status", obj.status),
             ("iterations", obj.iterations)])])


def _add_json(inputs: Inputs, path: Path, kind: str, obj: dict) -> None:
    if kind == "demo-monte-carlo":
        inputs.monte_carlo.append(MonteCarloInput(
            L=obj["L"], data_file=str(obj.get("data_file", path.name)),
            rows=obj["temperatures"]))
    elif kind == "demo-evaluation":
        root = path.parent.parent          # the demo folder: results/ is inside it
        for phase, entry in obj["phases"].items():
            inputs.evaluations.append(EvaluationInput(
                temperature=entry["temperature"], phase=phase, table=entry["table"],
                files={source_label(k): root / v for k, v in entry["files"].items()}))
    elif kind == "evaluate":
        labels = obj.get("labels") or []
        files_by_label = {"Monte Carlo": Path(obj["data"])} if obj.get("data") else {}
        for label, g in zip(labels, obj.get("generated") or []):
            files_by_label[label] = Path(g)
        for table in obj["tables"]:
            inputs.evaluations.append(EvaluationInput(
                temperature=float(table["T"]), phase=table.get("phase"), table=table,
                files={s: files_by_label.get(s) for s in table["sources"]}))
    elif kind == "demo-exact-sampling":
        inputs.exact_sampling += list(obj["phases"].items())
    elif kind == "demo-tfim":
        result = path.parent.parent / obj["file"]
        inputs.tfim_runs.append((obj, result if result.is_file() else None))
    elif kind == "demo-vmc":
        inputs.vmc_system = obj.get("system")
        for run in obj["runs"].values():
            inputs.vmc_runs.append(_vmc_run(run, path.parent.parent))
    else:  # vmc --json
        out = obj.get("out")
        inputs.vmc_runs.append(VMCRun(
            label=_vmc_label(path, obj["parameters"]),
            energy={"mean": obj["energy"], "error": obj.get("error")},
            exact=obj.get("exact"), variance=obj.get("variance"),
            acceptance=obj.get("acceptance"), file=str(out or path),
            path=Path(out) if out and Path(out).is_file() else None))


def _compare_generated(inputs: Inputs, monte_carlo: list, generated: list, *, seed, log) -> None:
    """Compare generated datasets with the Monte Carlo data of their L and temperature."""
    labels = _labels(generated)
    by_data: dict = {}
    for g, label in zip(generated, labels):
        match = next((d for d in monte_carlo if d.L == g.L and all(
            any(abs(e.T - t) <= 1e-6 for t in d.temperatures) for e in g.ensembles)), None)
        if match is None:
            inputs.notes.append(
                f"`{g.path}` ({g.source}, L = {g.L}) is not compared: no Monte Carlo dataset "
                "of its L and temperature was given beside it.")
            continue
        by_data.setdefault(id(match), (match, {}))[1][label] = g
    if not by_data:
        return
    seed = pipeline.resolve_seed(seed)
    inputs.evaluation_seed = seed
    for data, gens in by_data.values():
        result = pipeline.evaluate_datasets(data, gens, seed=seed, log=log)
        files = {"Monte Carlo": Path(data.path), **{k: Path(v.path) for k, v in gens.items()}}
        for table in result["tables"]:
            inputs.evaluations.append(EvaluationInput(
                temperature=float(table["T"]), phase=table.get("phase"), table=table,
                files={s: files[s] for s in table["sources"]}))
