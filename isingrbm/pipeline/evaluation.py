"""The evaluation step of the pipeline: generated data against Monte Carlo and exact.

:func:`evaluate_datasets` matches generated files to the Monte Carlo data by
temperature and tabulates :func:`isingrbm.evaluate.compare`;
:func:`monte_carlo_rows` tabulates the Monte Carlo data alone against the
exact results. Conventions: k_B = J = 1, observables per spin.
"""

from __future__ import annotations

from pathlib import Path

from mccore.errors import InvalidParameterError
from mccore.rng import resolve_seed

from .provenance import file_hash

__all__ = ["evaluate_datasets", "match_temperatures", "model_free_energy", "monte_carlo_rows"]


def monte_carlo_rows(dataset) -> list[dict]:
    """Observables of every temperature of a Monte Carlo dataset, with exact values.

    Returns
    -------
    list of dict
        Per temperature (ascending): ``temperature``, ``phase``, ``key``,
        ``n_samples``, ``algorithm``, ``observables`` {name: Estimate dict}
        (per spin, blocking errors), ``exact_finite`` (``energy``,
        ``specific_heat`` of the L x L torus, Kaufman), ``exact_infinite``
        (Onsager's ``energy`` and ``specific_heat``, None at T_c; Yang's
        ``abs_magnetization``).
    """
    from ising import exact

    rows = []
    for ens in sorted(dataset.ensembles, key=lambda e: e.T):
        obs = ens.observables()
        finite = exact.finite_lattice(dataset.L, ens.T)
        rows.append({
            "temperature": float(ens.T), "phase": ens.phase, "key": ens.key,
            "n_samples": len(ens.energy),
            "algorithm": ens.attrs.get("algorithm"),
            "observables": {name: est.to_dict() for name, est in obs.items()},
            "exact_finite": {"energy": float(finite["energy"]),
                             "specific_heat": float(finite["specific_heat"])},
            "exact_infinite": {
                "energy": float(exact.onsager_energy(ens.T)),
                "specific_heat": (float(exact.onsager_specific_heat(ens.T))
                                  if abs(ens.T - exact.T_C) > 1e-9 else None),
                "abs_magnetization": float(exact.spontaneous_magnetization(ens.T))},
        })
    return rows


def match_temperatures(data, generated: dict) -> dict:
    """Pair generated ensembles with the Monte Carlo temperature they stand for.

    Parameters
    ----------
    data : ising IsingDataset
        The Monte Carlo data.
    generated : dict[str, IsingDataset]
        Column label -> generated dataset (same L).

    Returns
    -------
    dict
        ``T -> {label: Ensemble}`` for the data's temperatures T (matched
        within 1e-6, the generated ensembles relabelled with the data's
        exact T); every temperature of ``data`` with an empty dict when
        ``generated`` is empty.

    Raises
    ------
    InvalidParameterError
        A generated file has another L or a temperature the data lacks.
    """
    import dataclasses

    per_T: dict = {}
    for label, g in generated.items():
        if g.L != data.L:
            raise InvalidParameterError(
                f"{_name(g)}: L = {g.L} does not match L = {data.L} of {_name(data)}")
        for ens in g.ensembles:
            try:
                ref = data.ensemble(ens.T, tol=1e-6)
            except InvalidParameterError:
                available = ", ".join(f"{t:g}" for t in data.temperatures) or "none"
                raise InvalidParameterError(
                    f"{_name(g)}: T = {ens.T:g} is not in {_name(data)} "
                    f"(available: {available})") from None
            if ens.T != ref.T:
                ens = dataclasses.replace(ens, T=ref.T, beta=ref.beta)
            per_T.setdefault(ref.T, {})[label] = ens
    if not generated:
        per_T = {T: {} for T in data.temperatures}
    return dict(sorted(per_T.items()))


def _name(dataset) -> str:
    path = getattr(dataset, "path", None)
    return Path(path).name if path is not None else "dataset"


def model_free_energy(attrs: dict, log=None):
    """The generating RBM's free energy F(V), if its model file is still there unchanged.

    Read from a generated ensemble's provenance (``model_file``,
    ``model_hash``); None (with a line to ``log``) when the file is missing,
    changed since sampling, or unreadable.
    """
    model_file, model_hash = attrs.get("model_file"), attrs.get("model_hash")
    if not model_file or not model_hash or attrs.get("model_kind", "bernoulli") != "bernoulli":
        return None
    path = Path(str(model_file))
    log = log or (lambda message: None)
    if not path.is_file():
        log(f"model file {path} not found; skipping the model's own P(m>0)")
        return None
    if file_hash(path) != model_hash:
        log(f"model file {path} changed since sampling (hash differs); skipping the model's "
            "own P(m>0)")
        return None
    import rbm
    try:
        model = rbm.load(path)
    except (OSError, ValueError) as exc:
        log(f"cannot read {path} ({exc}); skipping the model's own P(m>0)")
        return None
    return model.free_energy


def evaluate_datasets(data, generated: dict, *, seed: int | None = None,
                      free_energies: bool = True, log=None) -> dict:
    """The comparison tables of generated datasets against Monte Carlo and exact.

    Parameters
    ----------
    data : ising IsingDataset
        Monte Carlo data (source ``"monte-carlo"``).
    generated : dict[str, IsingDataset]
        Column label -> generated dataset; matched by temperature
        (:func:`match_temperatures`).
    seed : int or None
        Seed of the noise-level replicas (None: fresh entropy); temperature
        T uses the stream keyed by its value under it.
    free_energies : bool
        Add each RBM's own weight of the m > 0 mode when its model file is
        at hand (:func:`model_free_energy`).
    log : callable, optional
        Receives a line per skipped model.

    Returns
    -------
    dict
        ``seed`` (recorded), ``tables``: one :func:`isingrbm.evaluate.compare`
        table per matched temperature (ascending).
    """
    from ising.store import DATA_SOURCES
    from isingrbm import evaluate
    from mccore.rng import child, temperature_key

    if data.source not in DATA_SOURCES:
        raise InvalidParameterError(
            f"DATA must be a Monte Carlo dataset (source 'monte-carlo' or 'imported'), "
            f"{_name(data)} has source {data.source!r}")
    seed = resolve_seed(seed)
    tables = []
    for T, gens in match_temperatures(data, generated).items():
        reference = data.ensemble(T, tol=1e-6)
        energies = {}
        if free_energies:
            for label, ens in gens.items():
                free_energy = model_free_energy(
                    ens.attrs, log=(lambda m, label=label: log and log(f"{label}: {m}")))
                if free_energy is not None:
                    energies[label] = free_energy
        tables.append(evaluate.compare(reference, gens, exact=True,
                                       rng=child(seed, temperature_key(T)),
                                       free_energies=energies))
    return {"seed": seed, "tables": tables}
