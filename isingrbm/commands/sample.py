"""``isingrbm sample``: draw spin configurations from a trained RBM.

Each configuration is the end of its own block-Gibbs chain (``--steps``
steps from uniformly random visible units, or with ``--init data`` from a
randomly chosen training configuration; the model's global-flip moves are
included when it was trained with them), so the samples are independent of
each other. Visible units ``v`` become spins ``s = 2 v - 1`` and are written
in the dataset schema (DESIGN.md section 3) with ``source="rbm"`` and the
provenance of the model (file, SHA-256 hash) and of its training data.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

from . import _common
from mccore.version import software_version

DESCRIPTION = """\
Draw N spin configurations from a trained RBM (MODEL, written by 'isingrbm
fit') and write them as a dataset file with source "rbm", at the temperature
the model was trained at (or --temperature for a model without that record).
Each sample ends its own Gibbs chain of --steps steps from random units, so the
samples are independent. The file records the model file, its SHA-256 hash,
the training data's file and hash, the number of steps and the seed."""

EXAMPLE = "isingrbm sample rbm_T2.269.h5 --samples 10000 --out gen_T2.269.h5 --seed 2"

DEFAULT_STEPS = 1000


def register(subparsers) -> None:
    parser = _common.add_subcommand(
        subparsers, "sample", help="draw spin configurations from a trained RBM",
        description=DESCRIPTION, example=EXAMPLE, func=run)
    parser.add_argument("model", metavar="MODEL", help="RBM model file written by 'isingrbm fit'")
    parser.add_argument("--samples", type=_common.integer, required=True, metavar="N",
                        help="number of configurations (>= 1)")
    parser.add_argument("--out", required=True, metavar="FILE", help="dataset file to write")
    parser.add_argument("--steps", type=_common.integer, default=DEFAULT_STEPS,
                        help="block-Gibbs steps per chain (>= 1; default %(default)s)")
    parser.add_argument("--init", choices=("random", "data"), default="random",
                        help="chain starts: uniformly random units (default), or randomly "
                             "chosen training configurations (the data file recorded in "
                             "MODEL, checked against its hash) -- helps at low T and large L, "
                             "where chains from random starts order slowly")
    parser.add_argument("--temperature", type=_common.number, default=None, metavar="T",
                        help="temperature to record if the model file has none (k_B = J = 1)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing FILE")
    _common.add_common_options(parser)


def file_hash(path) -> str:
    """SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _training_data(metadata: dict, model_path: Path):
    """The training units recorded in a model's provenance, verified by their hash."""
    from ising.lattice import spins_to_visible
    from ising.store import load
    from mccore.errors import InvalidParameterError
    from rbm.bernoulli import data_hash

    data_file, T = metadata.get("data_file"), metadata.get("temperature")
    if not data_file or T is None:
        raise InvalidParameterError(
            f"--init data needs the training data recorded in {model_path.name} "
            "(a model written by 'isingrbm fit'); use --init random")
    path = Path(str(data_file))
    if not path.is_file():
        raise InvalidParameterError(
            f"--init data: training data {path} recorded in {model_path.name} does not exist")
    visible = spins_to_visible(load(path).ensemble(float(T), tol=1e-6).spins)
    if metadata.get("data_hash") and data_hash(visible) != metadata["data_hash"]:
        raise InvalidParameterError(
            f"--init data: {path.name} at T = {float(T):g} is not the data {model_path.name} "
            "was trained on (hash differs)")
    return visible


def run(args) -> int:
    import math

    import numpy as np

    import rbm
    from ising.lattice import visible_to_spins
    from ising.store import write_generated
    from mccore.errors import InvalidParameterError

    if args.samples < 1:
        raise InvalidParameterError(f"--samples must be an integer >= 1, got {args.samples}")
    if args.steps < 1:
        raise InvalidParameterError(f"--steps must be an integer >= 1, got {args.steps}")
    if args.temperature is not None and not (math.isfinite(args.temperature)
                                             and args.temperature > 0):
        raise InvalidParameterError(
            f"--temperature must be a finite number > 0, got {args.temperature}")
    model_path = _common.check_input_file(args.model)
    out = _common.check_output_path(args.out, overwrite=args.overwrite)

    model = rbm.load(model_path)    # FileFormatError names the file if it is not a model
    kind = getattr(model, "kind", type(model).__name__)
    if kind != "bernoulli":
        raise InvalidParameterError(
            f"MODEL must be a Bernoulli RBM (spins are binary), {model_path.name} holds a "
            f"{kind!r} model")
    metadata = dict(getattr(model, "metadata_", {}) or {})
    n_visible = int(model.weights.shape[0])
    L = int(round(math.sqrt(n_visible)))
    if L * L != n_visible or L < 2:
        raise InvalidParameterError(
            f"MODEL must have L*L visible units for an L x L lattice, {model_path.name} has "
            f"{n_visible}")
    if "L" in metadata and int(metadata["L"]) != L:
        raise InvalidParameterError(
            f"{model_path.name}: metadata L = {metadata['L']} does not match its {n_visible} "
            "visible units")
    T = args.temperature if args.temperature is not None else metadata.get("temperature")
    if T is None:
        raise InvalidParameterError(
            f"{model_path.name} records no training temperature (not written by 'isingrbm "
            "fit'); pass --temperature T")
    if (args.temperature is not None and metadata.get("temperature") is not None
            and abs(float(metadata["temperature"]) - args.temperature) > 1e-9):
        raise InvalidParameterError(
            f"--temperature must match the model's training temperature "
            f"{float(metadata['temperature']):g}, got {args.temperature:g}")
    T = float(T)

    training_visible = _training_data(metadata, model_path) if args.init == "data" else None

    seed = _common.resolve_seed(args.seed)
    rng = np.random.default_rng(seed)
    _common.info(args, f"isingrbm sample: {args.samples} samples from {model_path.name} "
                       f"(L = {L}, T = {T:g}, {model.n_hidden} hidden), {args.steps} Gibbs steps "
                       f"each from {args.init} starts, seed {seed}")
    init = None
    if training_visible is not None:
        n_data = training_visible.shape[0]
        rows = rng.choice(n_data, size=args.samples, replace=args.samples > n_data)
        init = training_visible[rows]
    start = time.perf_counter()
    visible = model.sample(args.samples, n_steps=args.steps, rng=rng, init=init)
    seconds = time.perf_counter() - start
    spins = visible_to_spins(np.rint(np.asarray(visible)).astype(np.uint8), L)

    provenance = {
        "model_file": str(model_path.resolve()),
        "model_hash": file_hash(model_path),
        "model_kind": "bernoulli",
        "n_hidden": int(model.n_hidden),
        "n_steps": int(args.steps),
        "init": args.init,
        "algorithm": "rbm-gibbs",
        "data_file": str(metadata.get("data_file", "")),
        "data_hash": str(metadata.get("data_hash", "")),
        "training_phase": str(metadata.get("phase", "")),
        "command": "isingrbm sample",
        "software_version": software_version(),
    }
    write_generated(out, spins, T=T, source="rbm", provenance=provenance, seed=seed,
                    overwrite=args.overwrite)
    m = spins.reshape(spins.shape[0], -1).mean(axis=1)
    summary = {"out": str(out), "T": T, "L": L, "n_samples": int(spins.shape[0]),
               "seed": int(seed), "seconds": round(seconds, 3),
               "fraction_positive_magnetization": float(np.mean(m > 0) + 0.5 * np.mean(m == 0)),
               **provenance}
    _common.info(args, f"isingrbm sample: wrote {out} in {seconds:.1f} s "
                       f"(fraction with m > 0: {summary['fraction_positive_magnetization']:.3f})")
    if args.json:
        _common.emit_json(summary)
    return 0
