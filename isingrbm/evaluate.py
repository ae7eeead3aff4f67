"""Generated Ising samples against Monte Carlo and exact results.

:func:`compare` puts, at one temperature, the observables of a Monte Carlo
reference ensemble beside those of any number of generated ensembles (RBM,
GAN, ...) and beside the exact finite-lattice values, and adds three checks
that the observables alone miss: the fraction of samples with positive
magnetization (does the model produce both magnetized modes?), a histogram
distance of the energy and magnetization distributions with the value that
finite-sample noise alone would give, and the number of distinct
configurations. :func:`format_table` renders the result as text.

Conventions (k_B = J = 1, periodic L x L lattice, N = L^2): every observable
is per spin, as defined in :mod:`ising.observables` -- ``e = <E>/N`` with
``E = -sum_<ij> s_i s_j`` over the 2N bonds, ``|m| = <|M|>/N``,
``c = beta^2 N (<e^2> - <e>^2)``, ``chi = beta N (<m^2> - <|m|>^2)``
(``susceptibility_connected``), ``chi' = beta N <m^2>`` (``susceptibility``)
and ``U4 = 1 - <m^4> / (3 <m^2>^2)``. Error bars are one standard error
(blocking / block jackknife of :func:`ising.observables.measure`).

The histogram distance and the fraction with m > 0 (their definitions and
error bars), the count of distinct configurations and a model's own weight
of the m > 0 mode are defined in :mod:`isingrbm.sample_checks` and
importable from here as well.
"""

from __future__ import annotations

import math

import numpy as np

from mccore.errors import InvalidParameterError
from mccore.rng import recorded_seed, seed_sequence
from mcstats import Estimate, estimate
from mcstats.estimate import format_estimate

from .sample_checks import (
    MIN_BLOCKING,
    count_distinct,
    fraction_in,
    fraction_positive,
    mode_weight,
    total_variation,
    tv_noise,
)

__all__ = [
    "OBSERVABLES",
    "OBSERVABLE_SYMBOLS",
    "REFERENCE_LABEL",
    "compare",
    "count_distinct",
    "exact_values",
    "format_table",
    "fraction_positive",
    "mode_weight",
    "total_variation",
]

#: Observables of the table, keyed as in :func:`ising.observables.measure`.
OBSERVABLES = ("energy", "abs_magnetization", "specific_heat", "susceptibility_connected",
               "susceptibility", "binder_cumulant")

#: Short symbols used in the text table (README naming).
OBSERVABLE_SYMBOLS = {
    "energy": "e",
    "abs_magnetization": "|m|",
    "magnetization_squared": "m^2",
    "specific_heat": "c",
    "susceptibility_connected": "chi",
    "susceptibility": "chi'",
    "binder_cumulant": "U4",
}

#: Label of the Monte Carlo reference in the tables.
REFERENCE_LABEL = "Monte Carlo"

_T_TOL = 1e-9


# --------------------------------------------------------------------------
# the comparison table
# --------------------------------------------------------------------------

def _get(obj, name):
    try:
        return getattr(obj, name)
    except AttributeError:
        if isinstance(obj, dict) and name in obj:
            return obj[name]
        raise InvalidParameterError(
            f"ensemble must have attribute {name!r} (an ising Ensemble), got {type(obj).__name__}"
        ) from None


def _unpack(ensemble, label: str) -> dict:
    spins = np.asarray(_get(ensemble, "spins"))
    energy = np.asarray(_get(ensemble, "energy"), dtype=np.float64).ravel()
    magnetization = np.asarray(_get(ensemble, "magnetization"), dtype=np.float64).ravel()
    T = float(_get(ensemble, "T"))
    L = int(_get(ensemble, "L"))
    n = energy.size
    if n == 0:
        raise InvalidParameterError(f"{label}: ensemble at T = {T:g} has no samples")
    if spins.shape != (n, L, L) or magnetization.size != n:
        raise InvalidParameterError(
            f"{label}: spins must have shape (n, L, L) = ({n}, {L}, {L}) matching energy and "
            f"magnetization, got spins {spins.shape}, magnetization ({magnetization.size},)")
    phase = getattr(ensemble, "phase", None)
    return {"spins": spins, "energy": energy, "magnetization": magnetization, "T": T, "L": L,
            "n": n, "phase": phase}


def exact_values(L: int, T: float) -> tuple[dict, dict]:
    """Exact finite-lattice values of the table's observables.

    Parameters
    ----------
    L : int
        Linear lattice size >= 2.
    T : float
        Temperature > 0 (k_B = J = 1).

    Returns
    -------
    values : dict[str, float]
        Per spin: ``energy`` and ``specific_heat`` for every L from the exact
        partition function of the L x L torus (Kaufman 1949; Ferdinand &
        Fisher 1969, :func:`ising.exact.finite_lattice`); for L <= 4 also the
        magnetic observables by enumeration of all 2^N states
        (:func:`ising.exact.exact_enumeration`).
    methods : dict[str, str]
        How each value was obtained ("kaufman" or "enumeration").
    """
    from ising import exact as ising_exact

    values, methods = {}, {}
    if L <= ising_exact.MAX_ENUMERATION_L:
        enum = ising_exact.exact_enumeration(L, T)
        for key in OBSERVABLES + ("magnetization_squared",):
            if key in enum:
                values[key] = float(enum[key])
                methods[key] = "enumeration"
    finite = ising_exact.finite_lattice(L, T)
    for key in ("energy", "specific_heat"):
        values[key] = float(finite[key])
        methods[key] = "kaufman"
    return values, methods


def compare(reference, generated: dict, *, exact: bool = True, n_noise: int = 200,
            rng=None, free_energies: dict | None = None) -> dict:
    """Compare generated ensembles with a Monte Carlo ensemble at one temperature.

    Parameters
    ----------
    reference : ising Ensemble
        The Monte Carlo ensemble: any object with ``T``, ``L``, ``spins``
        (n, L, L) int8, ``energy`` (n,) total and ``magnetization`` (n,) total
        (``ising.store.Ensemble``), in chain order.
    generated : dict[str, Ensemble]
        Label (e.g. ``"RBM"``) -> generated ensemble at the same T and L.
        May be empty (Monte Carlo against exact only).
    exact : bool
        Add the exact finite-lattice values (see :func:`exact_values`).
    n_noise : int
        Multinomial replicas for the noise level of the histogram distances.
    rng : int, numpy.random.SeedSequence, numpy.random.Generator or None
        Source of those replicas (:mod:`mccore.rng`): None draws fresh
        entropy; the seed used is recorded in the table (``seed``, and
        ``seed_key`` for a spawned SeedSequence), so that any table can be
        reproduced.
    free_energies : dict[str, callable], optional
        Label -> the generating model's free energy ``F(V)``; adds the
        model's own weight of the m > 0 mode (:func:`mode_weight`).

    Returns
    -------
    dict
        ``T``, ``beta``, ``L``, ``phase``, ``seed`` (int seed of the
        noise-level replicas; with ``seed_key`` when ``rng`` was a spawned
        SeedSequence), ``reference`` (label),
        ``sources`` (labels, reference first), ``n_samples`` {label: n},
        ``observables`` {label: {key: Estimate}} for the keys
        :data:`OBSERVABLES` (per spin),
        ``exact`` {key: float} and ``exact_method`` {key: str} (empty if
        ``exact`` is False),
        ``deviation`` {label: {key: (x - x_MC) / sqrt(err^2 + err_MC^2)}},
        ``relative_deviation`` {label: {key: (x - x_MC) / |x_MC|}},
        ``exact_deviation`` {label: {key: (x - exact) / err}},
        ``fraction_positive`` {label: Estimate},
        ``distance`` {label: {"energy" | "magnetization" | "abs_magnetization":
        {"metric": "total_variation", "value", "noise", "noise_std",
        "excess", "split_half", "n_levels"}}} (generated labels only),
        ``distinct`` {label: int}, ``in_reference`` {label: fraction of the
        generated configurations that occur verbatim in the reference},
        ``model_fraction_positive`` {label: :func:`mode_weight` dict} for
        the labels in ``free_energies``.
        Estimates turn into plain dicts with ``to_dict`` (``emit_json`` does this).

    Raises
    ------
    InvalidParameterError
        An ensemble is empty or malformed, or a generated ensemble has a
        different L or T (beyond 1e-9) than the reference.
    """
    from ising.observables import measure

    if not isinstance(generated, dict):
        raise InvalidParameterError(
            f"generated must be a dict label -> ensemble, got {type(generated).__name__}")
    if not isinstance(n_noise, (int, np.integer)) or n_noise < 2:
        raise InvalidParameterError(f"n_noise must be an integer >= 2, got {n_noise!r}")
    seq = seed_sequence(rng)
    recorded = {"seed": recorded_seed(seq)}
    if seq.spawn_key:
        recorded["seed_key"] = [int(k) for k in seq.spawn_key]
    rng = np.random.default_rng(seq)
    ref = _unpack(reference, REFERENCE_LABEL)
    L, T = ref["L"], ref["T"]
    gens = {}
    for label, ens in generated.items():
        label = str(label)
        if label == REFERENCE_LABEL:
            raise InvalidParameterError(
                f"generated label must not be {REFERENCE_LABEL!r} (the reference's label)")
        g = _unpack(ens, label)
        if g["L"] != L:
            raise InvalidParameterError(
                f"{label}: L = {g['L']} does not match the Monte Carlo L = {L}")
        if abs(g["T"] - T) > _T_TOL * max(1.0, abs(T)):
            raise InvalidParameterError(
                f"{label}: T = {g['T']:g} does not match the Monte Carlo T = {T:g}")
        gens[label] = g

    for label in (free_energies or {}):
        if label not in gens:
            raise InvalidParameterError(
                f"free_energies label must be one of the generated sets "
                f"({', '.join(gens) or 'none'}), got {label!r}")

    sources = [REFERENCE_LABEL] + list(gens)
    everything = {REFERENCE_LABEL: ref, **gens}
    observables = {}
    for label, d in everything.items():
        measured = measure(d["energy"], d["magnetization"], L=L, T=T)
        observables[label] = {k: measured[k] for k in OBSERVABLES}

    exact_vals, exact_methods = exact_values(L, T) if exact else ({}, {})
    exact_vals = {k: v for k, v in exact_vals.items() if k in OBSERVABLES}

    deviation, relative, exact_dev = {}, {}, {}
    for label in sources:
        obs = observables[label]
        exact_dev[label] = {k: _sigma(obs[k].mean - v, obs[k].error)
                            for k, v in exact_vals.items()}
        if label == REFERENCE_LABEL:
            continue
        ref_obs = observables[REFERENCE_LABEL]
        deviation[label] = {k: _sigma(obs[k].mean - ref_obs[k].mean,
                                      math.hypot(_finite(obs[k].error), _finite(ref_obs[k].error)))
                            for k in OBSERVABLES}
        relative[label] = {k: ((obs[k].mean - ref_obs[k].mean) / abs(ref_obs[k].mean)
                               if ref_obs[k].mean != 0 else float("nan"))
                           for k in OBSERVABLES}

    fractions = {REFERENCE_LABEL: fraction_positive(ref["magnetization"], correlated=True)}
    for label, g in gens.items():
        fractions[label] = fraction_positive(g["magnetization"], correlated=False)

    # effective (independent) size of the reference for the noise level
    tau = {"energy": _tau(ref["energy"]), "magnetization": _tau(ref["magnetization"]),
           "abs_magnetization": _tau(np.abs(ref["magnetization"]))}
    series = {"energy": lambda d: d["energy"], "magnetization": lambda d: d["magnetization"],
              "abs_magnetization": lambda d: np.abs(d["magnetization"])}
    half = ref["n"] // 2
    distance = {}
    for label, g in gens.items():
        distance[label] = {}
        for key, get in series.items():
            r, x = get(ref), get(g)
            value = total_variation(x, r)
            noise, noise_std = tv_noise(r, g["n"], ref["n"] / tau[key], n_replicas=int(n_noise),
                                         rng=rng)
            split = total_variation(r[:half], r[half:]) if half >= 1 else float("nan")
            distance[label][key] = {
                "metric": "total_variation",
                "value": value,
                "noise": noise,
                "noise_std": noise_std,
                "excess": _sigma(value - noise, noise_std),
                "split_half": split,
                "n_levels": int(np.unique(np.rint(np.concatenate([r, x]))).size),
                "reference_tau_int": tau[key],
            }

    model_weights = {label: mode_weight(free_energy, gens[label]["spins"])
                     for label, free_energy in (free_energies or {}).items()}

    distinct = {label: count_distinct(d["spins"]) for label, d in everything.items()}
    in_reference = {label: fraction_in(g["spins"], ref["spins"]) for label, g in gens.items()}

    phase = ref["phase"]
    if phase is None:
        try:
            from ising.phases import phase_label
            phase = phase_label(T)
        except Exception:  # pragma: no cover - phases is part of ising
            phase = None
    return {
        "T": T, "beta": 1.0 / T, "L": L, "phase": phase, **recorded,
        "reference": REFERENCE_LABEL, "sources": sources,
        "n_samples": {label: d["n"] for label, d in everything.items()},
        "observables": observables,
        "exact": exact_vals, "exact_method": {k: exact_methods[k] for k in exact_vals},
        "deviation": deviation, "relative_deviation": relative, "exact_deviation": exact_dev,
        "fraction_positive": fractions,
        "distance": distance,
        "distinct": distinct, "in_reference": in_reference,
        "model_fraction_positive": model_weights,
    }


def _finite(x: float) -> float:
    return x if math.isfinite(x) else 0.0


def _sigma(diff: float, error: float) -> float:
    if not math.isfinite(error) or error == 0:
        if diff == 0:
            return 0.0
        return float("nan") if not math.isfinite(error) else math.copysign(math.inf, diff)
    return float(diff / error)


def _tau(x) -> float:
    x = np.asarray(x, dtype=np.float64)
    if x.size < MIN_BLOCKING or np.all(x == x[0]):
        return 1.0
    return max(1.0, float(estimate(x).tau_int))


# --------------------------------------------------------------------------
# text rendering
# --------------------------------------------------------------------------

def _as_estimate(value):
    if isinstance(value, Estimate) or value is None:
        return value
    if isinstance(value, dict) and "mean" in value:
        def num(v):
            return float("nan") if v is None else float(v)
        return Estimate(mean=num(value["mean"]), error=num(value.get("error")))
    return None


def _fmt_est(est) -> str:
    return format_estimate(_as_estimate(est), missing="-")


def _fmt_num(x, digits: int = 4) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-"
    return f"{x:.{digits}g}" if abs(x) < 1e4 else f"{x:.4e}"


def format_table(table: dict) -> str:
    """Render a :func:`compare` table (or its JSON form) as aligned text.

    One column per source (Monte Carlo first), then the exact value; below
    the observables, the deviations of each generated set from Monte Carlo
    in standard errors, the fraction with m > 0, the histogram distances
    with their noise level, and the number of distinct configurations.
    """
    sources = list(table["sources"])
    generated = [s for s in sources if s != table.get("reference", REFERENCE_LABEL)]
    exact = table.get("exact") or {}
    n = table.get("n_samples", {})
    phase = table.get("phase")
    title = (f"T = {table['T']:.6g}" + (f" ({phase})" if phase else "") + f", L = {table['L']}"
             "  -- per spin, k_B = J = 1, +- one standard error")
    header = ["observable"] + [f"{s} (n={n.get(s, '?')})" for s in sources] + ["exact (L)"]
    rows = []
    for key in OBSERVABLES:
        row = [OBSERVABLE_SYMBOLS[key]]
        row += [_fmt_est(table["observables"][s].get(key)) for s in sources]
        row.append(_fmt_num(exact.get(key), 6) if key in exact else "-")
        rows.append(row)
    for s in generated:
        dev = table.get("deviation", {}).get(s, {})
        rel = table.get("relative_deviation", {}).get(s, {})
        cells = ", ".join(
            f"{OBSERVABLE_SYMBOLS[k]} {_fmt_signed(dev.get(k), 1)}s/{_fmt_pct(rel.get(k))}"
            for k in OBSERVABLES)
        rows.append([f"{s} - MC", cells])
    fp = table.get("fraction_positive", {})
    rows.append(["frac m>0"] + [_fmt_est(fp.get(s)) for s in sources] + ["0.5 (symmetry)"])
    weights = table.get("model_fraction_positive") or {}
    if weights:
        rows.append(["model P(m>0)", "-"] + [
            (f"{_fmt_num(weights[s]['from_plus'], 4)} / {_fmt_num(weights[s]['from_minus'], 4)}"
             if s in weights else "-") for s in generated] + ["from + / - samples"])
    dist = table.get("distance", {})
    for key, name in (("energy", "TV(E)"), ("magnetization", "TV(M)"),
                      ("abs_magnetization", "TV(|M|)")):
        row = [name, "-"]
        split = None
        for s in generated:
            d = dist.get(s, {}).get(key)
            if d is None:
                row.append("-")
                continue
            split = d.get("split_half")
            row.append(f"{_fmt_num(d['value'], 3)} (noise {_fmt_num(d['noise'], 3)}"
                       f" +- {_fmt_num(d['noise_std'], 2)})")
        row.append(f"MC halves {_fmt_num(split, 3)}" if split is not None else "-")
        rows.append(row)
    distinct = table.get("distinct", {})
    rows.append(["distinct"] + [str(distinct.get(s, "-")) for s in sources] + ["-"])
    inref = table.get("in_reference", {})
    if generated:
        rows.append(["in MC set", "-"] + [_fmt_pct(inref.get(s), signed=False)
                                          for s in generated] + ["-"])
    return title + "\n" + _align([header] + rows)


def _fmt_signed(x, digits: int) -> str:
    if x is None or not math.isfinite(x):
        return "-"
    return f"{x:+.{digits}f}"


def _fmt_pct(x, signed: bool = True) -> str:
    if x is None or not math.isfinite(x):
        return "-"
    return f"{100 * x:+.2f}%" if signed else f"{100 * x:.1f}%"


def _align(rows: list) -> str:
    """Left-align columns; a row with fewer cells lets its last cell run on."""
    width = max(len(r) for r in rows)
    full = [r for r in rows if len(r) == width]
    widths = [max(len(str(r[i])) for r in full) for i in range(width)]
    lines = []
    for r in rows:
        if len(r) == width:
            lines.append("  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip())
        else:
            head = "  ".join(str(c).ljust(w) for c, w in zip(r[:-1], widths))
            lines.append((head + "  " + str(r[-1])).rstrip())
    return "\n".join(lines)
