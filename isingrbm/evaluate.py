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

Histogram distance
------------------
The distance between the distributions of the total energy E (and of the
total magnetization M, and of |M|) of a generated set and of the Monte Carlo
set is the **total variation distance**

    TV(p, q) = 1/2 sum_k |p_k - q_k|

on the *exact lattice levels* of E and M (both are integers on the periodic
lattice), so there is no binning choice to make. TV was chosen over
Kullback-Leibler (infinite as soon as a generated level is missing from the
Monte Carlo set) and Jensen-Shannon (finite, but in nats with no direct
reading) because it is bounded in [0, 1] and has a plain meaning: the
largest difference in probability that the two distributions give to any
set of energies (magnetizations). An empirical TV is biased upwards by
sampling noise, which is why every distance comes with

* ``noise``: the mean (and ``noise_std`` the standard deviation) of the TV
  between two *independent* samples of the same sizes as the compared ones
  (``n_generated`` and the Monte Carlo size divided by its integrated
  autocorrelation time), both drawn from the Monte Carlo histogram, over
  ``n_noise`` multinomial replicas. A generated set that is a perfect,
  independent sample of the Monte Carlo distribution has ``value`` within a
  few ``noise_std`` of ``noise``; ``excess`` = (value - noise) / noise_std.
* ``split_half``: the TV between the first and second halves of the Monte
  Carlo series, a model-free check of the same noise level (it compares
  n/2 with n/2 samples and includes any drift or autocorrelation of the
  chain, so it is usually a little above ``noise`` for equal sizes).

Fraction with m > 0
-------------------
``(#{M > 0} + #{M = 0} / 2) / n``: samples with M = 0 count one half, so a
Z2-symmetric distribution gives exactly 1/2 on average. The error is the
binomial ``sqrt(p (1 - p) / n)`` for generated sets (independent samples);
for the Monte Carlo series it is the blocking error of the indicator series
(at least the binomial one), which accounts for the autocorrelation. Note
that local Gibbs/Metropolis chains in the ordered phase rarely tunnel
between the two modes, so this fraction tells how the *samples* are spread
over the modes, not whether the model itself is symmetric; when the model's
free energy is at hand, :func:`mode_weight` estimates the model's own weight
of the m > 0 mode from its samples (an exact identity under the flip).
"""

from __future__ import annotations

import math

import numpy as np

from mccore.errors import InvalidParameterError
from mccore.rng import recorded_seed, seed_sequence
from mcstats import Estimate, estimate
from mcstats.estimate import format_estimate

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
_MIN_BLOCKING = 16


# --------------------------------------------------------------------------
# building blocks on plain arrays
# --------------------------------------------------------------------------

def _levels_histograms(a, b) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Counts of two integer-valued samples on their common levels."""
    a = np.rint(np.asarray(a, dtype=np.float64)).astype(np.int64).ravel()
    b = np.rint(np.asarray(b, dtype=np.float64)).astype(np.int64).ravel()
    levels, inverse = np.unique(np.concatenate([a, b]), return_inverse=True)
    count_a = np.bincount(inverse[:a.size], minlength=levels.size)
    count_b = np.bincount(inverse[a.size:], minlength=levels.size)
    return levels, count_a, count_b


def total_variation(a, b) -> float:
    """Total variation distance between the empirical distributions of two samples.

    Parameters
    ----------
    a, b : array_like, shape (n_a,), (n_b,)
        Integer-valued samples (total energies or magnetizations; floats are
        rounded to the nearest integer).

    Returns
    -------
    float
        ``1/2 sum_k |p_k - q_k|`` over the union of the observed levels, in
        [0, 1]: 0 for identical histograms, 1 for disjoint supports.
    """
    a = np.asarray(a)
    b = np.asarray(b)
    if a.size == 0 or b.size == 0:
        raise InvalidParameterError(
            f"total_variation needs non-empty samples, got sizes {a.size} and {b.size}")
    _, count_a, count_b = _levels_histograms(a, b)
    # exact integer arithmetic before the one division
    diff = np.abs(count_a.astype(np.int64) * b.size - count_b.astype(np.int64) * a.size)
    return float(diff.sum()) / (2.0 * a.size * b.size)


def _tv_noise(reference, n_a: int, n_b: float, *, n_replicas: int,
              rng: np.random.Generator) -> tuple[float, float]:
    """Mean and std of TV between independent samples (sizes n_a, n_b) of one histogram."""
    values, counts = np.unique(np.rint(np.asarray(reference, dtype=np.float64)),
                               return_counts=True)
    p = counts / counts.sum()
    n_b = max(1, int(round(n_b)))
    tv = np.empty(n_replicas)
    for r in range(n_replicas):
        x = rng.multinomial(n_a, p) / n_a
        y = rng.multinomial(n_b, p) / n_b
        tv[r] = 0.5 * np.abs(x - y).sum()
    return float(tv.mean()), float(tv.std(ddof=1)) if n_replicas > 1 else float("nan")


def fraction_positive(magnetization, *, correlated: bool = False) -> Estimate:
    """Fraction of samples with positive magnetization, with its error.

    Parameters
    ----------
    magnetization : array_like, shape (n,)
        Total (or per-spin) magnetizations.
    correlated : bool
        False: independent samples, binomial error ``sqrt(p (1-p) / n)``.
        True: a Markov-chain series; the error is the larger of the blocking
        error of the indicator series (:func:`mcstats.estimate`) and the
        binomial one.

    Returns
    -------
    mcstats.Estimate
        ``(#{M > 0} + #{M = 0} / 2) / n``.
    """
    M = np.asarray(magnetization, dtype=np.float64).ravel()
    n = M.size
    if n == 0:
        raise InvalidParameterError("fraction_positive needs at least 1 sample, got 0")
    indicator = (M > 0).astype(np.float64) + 0.5 * (M == 0)
    p = float(indicator.mean())
    binomial = math.sqrt(max(p * (1.0 - p), 0.0) / n)
    error, tau = binomial, 1.0
    if correlated and n >= _MIN_BLOCKING:
        blocked = estimate(indicator)
        if blocked.error > binomial:
            error = blocked.error
            tau = blocked.tau_int
    return Estimate(mean=p, error=float(error), variance=p * (1.0 - p), tau_int=float(tau),
                    n_samples=int(n))


def _row_keys(spins) -> np.ndarray:
    spins = np.asarray(spins)
    flat = (spins.reshape(spins.shape[0], -1) > 0)
    packed = np.ascontiguousarray(np.packbits(flat, axis=1))
    return packed.view(np.dtype((np.void, packed.shape[1]))).ravel()


def count_distinct(spins) -> int:
    """Number of distinct configurations among ``spins`` (n, L, L)."""
    spins = np.asarray(spins)
    if spins.shape[0] == 0:
        return 0
    return int(np.unique(_row_keys(spins)).size)


def _fraction_in(spins, reference_spins) -> float:
    """Fraction of the rows of ``spins`` that occur verbatim in ``reference_spins``."""
    keys = _row_keys(spins)
    return float(np.isin(keys, np.unique(_row_keys(reference_spins))).mean())


def mode_weight(free_energy, spins) -> dict:
    """A model's own probability of the m > 0 half, estimated from its samples.

    Local Gibbs chains in the ordered phase rarely cross between the + and -
    magnetized modes, so the fraction of *samples* with m > 0 reflects where
    the chains started, not the model. For an energy-based model
    ``p(v) = exp(-F(v)) / Z`` the flip ``v -> 1 - v`` maps the + half onto
    the - half, hence

        P(-) / P(+) = E_{v ~ p, m(v) > 0} [ exp(F(v) - F(1 - v)) ],

    which needs samples only *within* the + mode (likewise from the - mode).

    Parameters
    ----------
    free_energy : callable
        ``F(V) -> (n,)`` for visible units ``V`` (n, L*L) in {0, 1}
        (e.g. ``model.free_energy`` of an :class:`rbm.BernoulliRBM`).
    spins : array_like, shape (n, L, L)
        Samples of the model, in {-1, +1}.

    Returns
    -------
    dict
        ``from_plus`` and ``from_minus``: P(m > 0) / (P(m > 0) + P(m < 0))
        estimated from the samples of each mode (``nan`` if a mode has none).
        The two agree when the chains are equilibrated within each mode;
        0.5 for a flip-symmetric model.
    """
    from ising.lattice import spins_to_visible

    spins = np.asarray(spins)
    V = spins_to_visible(spins)
    m = spins.reshape(spins.shape[0], -1).astype(np.int64).sum(axis=1)
    dF = (np.asarray(free_energy(V), dtype=np.float64)
          - np.asarray(free_energy(1 - V), dtype=np.float64))
    out = {}
    for name, mask in (("from_plus", m > 0), ("from_minus", m < 0)):
        if not mask.any():
            out[name] = float("nan")
            continue
        x = dF[mask]
        # log of the mean of exp(dF): log of P(other mode) / P(this mode)
        log_ratio = float(np.logaddexp.reduce(x) - math.log(x.size))
        p_this = 1.0 / (1.0 + math.exp(min(log_ratio, 700.0)))
        out[name] = p_this if name == "from_plus" else 1.0 - p_this
    return out


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
            noise, noise_std = _tv_noise(r, g["n"], ref["n"] / tau[key], n_replicas=int(n_noise),
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
    in_reference = {label: _fraction_in(g["spins"], ref["spins"]) for label, g in gens.items()}

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
    if x.size < _MIN_BLOCKING or np.all(x == x[0]):
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
