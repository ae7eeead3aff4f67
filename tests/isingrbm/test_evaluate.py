"""isingrbm.evaluate on data with known answers.

The samples are drawn exactly (independently) from the Boltzmann distribution
of the L = 4 torus by enumerating its 65536 states, so every observable has an
exact value and a generated set drawn the same way is a *perfect* model; a set
drawn at another temperature, or all-up spins, is a known bad one. With
n = 20000 samples at T = 2.269 the standard error of e is about 0.0035,
so a 1 % bias of e (0.016) would be a 4.5 sigma deviation.
"""

from __future__ import annotations

import json
import math
from types import SimpleNamespace

import numpy as np
import pytest

from ising import exact as ising_exact
from isingrbm import evaluate
from isingrbm.pipeline import jsonable as _jsonable
from mccore.errors import InvalidParameterError

SEED = 20261124
L = 4
N = L * L
T = 2.269


def exact_samples(rng, n, temperature=T, *, label_T=None):
    """n independent configurations drawn from the exact Boltzmann distribution."""
    p = ising_exact.boltzmann_distribution(L, temperature)
    E, M = ising_exact.enumerate_states(L)
    idx = rng.choice(p.size, size=n, p=p)
    bits = (idx[:, None] >> np.arange(N)) & 1
    spins = (2 * bits - 1).astype(np.int8).reshape(n, L, L)
    return SimpleNamespace(T=label_T if label_T is not None else temperature, L=L,
                           phase=None, spins=spins, energy=E[idx].copy(),
                           magnetization=M[idx].copy())


def subset(ens, index):
    return SimpleNamespace(T=ens.T, L=ens.L, phase=ens.phase, spins=ens.spins[index],
                           energy=ens.energy[index], magnetization=ens.magnetization[index])


@pytest.fixture
def rng():
    return np.random.default_rng(SEED)


@pytest.fixture
def reference(rng):
    return exact_samples(rng, 20000)


# --------------------------------------------------------------------------
# building blocks


def test_total_variation_known_values():
    assert evaluate.total_variation([0, 0, 4], [0, 0, 4]) == 0.0
    assert evaluate.total_variation([-8, -8], [4, 8, 12]) == 1.0
    # p = (2/3, 1/3), q = (1/3, 2/3) on the levels {0, 2}
    assert evaluate.total_variation([0, 0, 2], [0, 2, 2]) == pytest.approx(1 / 3, abs=1e-15)
    with pytest.raises(InvalidParameterError):
        evaluate.total_variation([], [1])


def test_fraction_positive_counts_zero_as_half():
    est = evaluate.fraction_positive([2, 0, -2, 2])
    assert est.mean == pytest.approx(2.5 / 4)
    assert est.error == pytest.approx(math.sqrt(0.625 * 0.375 / 4))
    all_up = evaluate.fraction_positive(np.full(100, 16.0))
    assert (all_up.mean, all_up.error) == (1.0, 0.0)


def test_fraction_positive_correlated_series_gets_larger_error(rng):
    """Each sample repeated 8 times: blocking must see tau ~ 8, error ~ sqrt(8) x binomial."""
    signs = rng.choice([-1.0, 1.0], size=4096)
    series = np.repeat(signs, 8)
    naive = evaluate.fraction_positive(series)
    blocked = evaluate.fraction_positive(series, correlated=True)
    assert naive.mean == blocked.mean
    # the true error is binomial with n = 4096 independent values
    true_error = math.sqrt(naive.mean * (1 - naive.mean) / 4096)
    assert blocked.error == pytest.approx(true_error, rel=0.25)
    assert naive.error == pytest.approx(true_error / math.sqrt(8), rel=1e-12)


def test_count_distinct():
    spins = np.ones((5, 3, 3), dtype=np.int8)
    spins[1, 0, 0] = -1
    spins[2, 2, 2] = -1
    spins[3, 2, 2] = -1
    assert evaluate.count_distinct(spins) == 3
    assert evaluate.count_distinct(-spins) == 3


# --------------------------------------------------------------------------
# compare: perfect model, subset, bad models


def test_perfect_model_agrees_with_exact_and_monte_carlo(rng, reference):
    generated = exact_samples(rng, 20000)
    table = evaluate.compare(reference, {"RBM": generated})
    assert table["sources"] == ["Monte Carlo", "RBM"]
    assert table["L"] == L and table["T"] == T and table["phase"] == "critical"

    # exact values: Kaufman (e, c) and enumeration agree, all keys present
    enum = ising_exact.exact_enumeration(L, T)
    assert table["exact"]["energy"] == pytest.approx(enum["energy"], rel=1e-10)
    assert table["exact"]["specific_heat"] == pytest.approx(enum["specific_heat"], rel=1e-8)
    assert set(table["exact"]) == set(evaluate.OBSERVABLES)

    for label in ("Monte Carlo", "RBM"):
        for key in evaluate.OBSERVABLES:
            est = table["observables"][label][key]
            assert abs(est.mean - table["exact"][key]) < 4 * est.error, (label, key, est)
            assert abs(table["exact_deviation"][label][key]) < 4
    for key in evaluate.OBSERVABLES:
        assert abs(table["deviation"]["RBM"][key]) < 4, key

    # Z2 symmetry of exact samples: fraction with m > 0 is 1/2 within 4 sigma
    for label in ("Monte Carlo", "RBM"):
        frac = table["fraction_positive"][label]
        assert abs(frac.mean - 0.5) < 4 * frac.error

    # histogram distances are at the noise level
    for key in ("energy", "magnetization", "abs_magnetization"):
        d = table["distance"]["RBM"][key]
        assert d["metric"] == "total_variation"
        assert 0 < d["noise"] < 0.1
        assert abs(d["excess"]) < 4, (key, d)
    # independent exact draws: no autocorrelation, the reference counts fully
    assert table["distance"]["RBM"]["energy"]["reference_tau_int"] < 1.5


def test_subset_of_monte_carlo_is_indistinguishable(rng, reference):
    """Generated = a random half of the Monte Carlo set (the brief's known answer)."""
    index = rng.permutation(reference.energy.size)[:10000]
    table = evaluate.compare(reference, {"subset": subset(reference, index)})
    for key in evaluate.OBSERVABLES:
        assert abs(table["deviation"]["subset"][key]) < 4, key
    for key in ("energy", "magnetization"):
        d = table["distance"]["subset"][key]
        # a subset is closer to its superset than an independent sample is
        assert d["value"] < d["noise"] + 3 * d["noise_std"]
    assert table["in_reference"]["subset"] == 1.0
    assert table["distinct"]["subset"] <= table["distinct"]["Monte Carlo"]


def test_all_up_spins_are_flagged(reference):
    n = 2000
    up = SimpleNamespace(T=T, L=L, spins=np.ones((n, L, L), np.int8),
                         energy=np.full(n, -2.0 * N), magnetization=np.full(n, float(N)))
    table = evaluate.compare(reference, {"up": up})
    frac = table["fraction_positive"]["up"]
    assert frac.mean == 1.0 and frac.error == 0.0
    assert table["distinct"]["up"] == 1
    # TV to a point mass at the ground state = 1 - P_MC(ground state level)
    p_ground = np.mean(reference.energy == -2.0 * N)
    p_full_up = np.mean(reference.magnetization == N)
    d = table["distance"]["up"]
    assert d["energy"]["value"] == pytest.approx(1 - p_ground, abs=1e-12)
    assert d["magnetization"]["value"] == pytest.approx(1 - p_full_up, abs=1e-12)
    assert d["energy"]["excess"] > 20
    assert table["observables"]["up"]["specific_heat"].mean == 0.0
    assert table["deviation"]["up"]["energy"] < -20


def test_wrong_temperature_is_detected(rng, reference):
    """Samples of T = 2.0 labelled as T = 2.269: e, |m| and the histograms differ."""
    wrong = exact_samples(rng, 10000, 2.0, label_T=T)
    table = evaluate.compare(reference, {"wrong": wrong})
    assert table["deviation"]["wrong"]["energy"] < -10
    assert table["deviation"]["wrong"]["abs_magnetization"] > 10
    assert table["distance"]["wrong"]["energy"]["excess"] > 10
    assert table["relative_deviation"]["wrong"]["energy"] < -0.05


def test_noise_level_matches_independent_pairs(rng):
    """The predicted TV noise equals the mean TV of independent equal-size pairs."""
    n = 2000
    reference = exact_samples(rng, n)
    table = evaluate.compare(reference, {"g": exact_samples(rng, n)}, n_noise=400, rng=1)
    predicted = table["distance"]["g"]["energy"]
    values = [evaluate.total_variation(exact_samples(rng, n).energy,
                                       exact_samples(rng, n).energy) for _ in range(60)]
    observed = np.mean(values)
    assert abs(observed - predicted["noise"]) < 4 * np.std(values, ddof=1) / math.sqrt(60) \
        + 0.1 * predicted["noise"]  # plus the spread of the one reference histogram
    assert predicted["noise_std"] == pytest.approx(np.std(values, ddof=1), rel=0.5)


def test_noise_level_accounts_for_autocorrelation(rng):
    """A reference whose samples each repeat 4 times carries n/4 independent values."""
    base = exact_samples(rng, 2500)
    correlated = subset(base, np.repeat(np.arange(2500), 4))
    independent = exact_samples(rng, 10000)
    gen = {"g": exact_samples(rng, 10000)}
    noisy = evaluate.compare(correlated, gen)["distance"]["g"]["energy"]
    clean = evaluate.compare(independent, gen)["distance"]["g"]["energy"]
    assert noisy["reference_tau_int"] == pytest.approx(4, rel=0.35)
    assert noisy["noise"] > 1.2 * clean["noise"]


# --------------------------------------------------------------------------
# validation and rendering


def test_mismatched_ensembles_are_rejected(rng, reference):
    other_T = exact_samples(rng, 100, 3.5)
    with pytest.raises(InvalidParameterError, match="T = 3.5"):
        evaluate.compare(reference, {"x": other_T})
    big = SimpleNamespace(T=T, L=8, spins=np.ones((10, 8, 8), np.int8),
                          energy=np.full(10, -128.0), magnetization=np.full(10, 64.0))
    with pytest.raises(InvalidParameterError, match="L = 8"):
        evaluate.compare(reference, {"x": big})
    with pytest.raises(InvalidParameterError, match="Monte Carlo"):
        evaluate.compare(reference, {"Monte Carlo": reference})
    with pytest.raises(InvalidParameterError, match="attribute"):
        evaluate.compare(object(), {})


def test_format_table_text_and_json_form(rng, reference):
    table = evaluate.compare(reference, {"RBM": exact_samples(rng, 5000)})
    text = evaluate.format_table(table)
    lines = text.splitlines()
    assert "T = 2.269 (critical), L = 4" in lines[0] and "per spin, k_B = J = 1" in lines[0]
    assert "Monte Carlo (n=20000)" in lines[1] and "RBM (n=5000)" in lines[1]
    for symbol in ("e ", "|m|", "c ", "chi ", "chi'", "U4", "frac m>0", "TV(E)", "TV(M)",
                   "distinct"):
        assert any(line.startswith(symbol) for line in lines), symbol
    e_line = next(line for line in lines if line.startswith("e "))
    assert str(table["observables"]["RBM"]["energy"]) in e_line
    # the JSON form (what --json prints and the demo stores) renders identically
    as_json = json.loads(json.dumps(_jsonable(table), allow_nan=False))
    assert evaluate.format_table(as_json) == text


def test_monte_carlo_only_table(reference):
    table = evaluate.compare(reference, {}, exact=False)
    assert table["sources"] == ["Monte Carlo"]
    assert table["exact"] == {} and table["distance"] == {}
    assert "Monte Carlo" in evaluate.format_table(table)


# --------------------------------------------------------------------------
# figures


def test_sample_grid_shows_the_given_configurations(rng, tmp_path):
    from isingrbm import plots

    mc = exact_samples(rng, 10).spins
    up = np.ones((3, L, L), np.int8)
    fig = plots.sample_grid({"Monte Carlo": mc, "up": up}, n_show=4)
    axes = np.array(fig.axes).reshape(2, 4)
    np.testing.assert_array_equal(axes[0, 2].images[0].get_array(), mc[2])
    np.testing.assert_array_equal(axes[1, 0].images[0].get_array(), up[0])
    assert not axes[1, 3].images and not axes[1, 3].axison   # only 3 "up" samples
    assert axes[1, 0].get_ylabel() == "up"
    path = plots.save(fig, tmp_path / "grid.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(InvalidParameterError):
        plots.sample_grid({"bad": np.ones((2, 4))})


def test_observables_vs_T_draws_points_and_exact_curves(rng, tmp_path):
    from isingrbm import plots

    tables = [evaluate.compare(exact_samples(rng, 2000, t), {"RBM": exact_samples(rng, 500, t)},
                               n_noise=10)
              for t in (3.5, 1.5, 2.269)]
    fig = plots.observables_vs_T(tables, observables=("energy", "specific_heat"))
    ax_e, ax_c = fig.axes[:2]
    assert "per spin" in ax_e.get_ylabel() and "k_B = J = 1" in ax_e.get_xlabel()
    finite = next(line for line in ax_e.get_lines() if line.get_label() == "exact, L = 4")
    T_grid, e_curve = finite.get_data()
    assert T_grid.min() < 1.5 and T_grid.max() > 3.5
    np.testing.assert_allclose(e_curve, ising_exact.finite_lattice(L, T_grid)["energy"],
                               rtol=1e-12)
    # the Monte Carlo points sit at the three temperatures, sorted, with the table's means
    points = ax_e.containers[0]
    x, y = points.lines[0].get_data()
    np.testing.assert_allclose(x, [1.5, 2.269, 3.5], atol=0.05)
    sorted_tables = sorted(tables, key=lambda t: t["T"])
    np.testing.assert_allclose(y, [t["observables"]["Monte Carlo"]["energy"].mean
                                   for t in sorted_tables])
    assert plots.save(fig, tmp_path / "obs.png").stat().st_size > 1000
    with pytest.raises(InvalidParameterError):
        plots.observables_vs_T([])


# --------------------------------------------------------------------------
# the model's own weight of the m > 0 mode


def _field_model(h):
    """p(v) ~ exp(h M) with M = sum(2 v - 1): free energy F(v) = -h M(v)."""
    return lambda V: -h * (2.0 * np.asarray(V, dtype=float) - 1.0).sum(axis=1)


def _field_samples(rng, h, n):
    up = rng.random((n, N)) < math.exp(h) / (math.exp(h) + math.exp(-h))
    return np.where(up, 1, -1).astype(np.int8).reshape(n, L, L)


def _log_ratio_error(free_energy, spins, mask):
    """Delta-method standard error of log mean exp(dF) over the samples in ``mask``."""
    from ising.lattice import spins_to_visible

    V = spins_to_visible(spins[mask])
    w = np.exp(free_energy(V) - free_energy(1 - V))
    return w.std(ddof=1) / (w.mean() * math.sqrt(w.size))


def test_mode_weight_of_a_known_asymmetric_model(rng):
    """Independent spins in a field h: P(M > 0) / (P(M > 0) + P(M < 0)) by enumeration."""
    h = 0.08
    free_energy = _field_model(h)
    _, M = ising_exact.enumerate_states(L)
    weights = np.exp(h * M)
    exact = weights[M > 0].sum() / (weights[M > 0].sum() + weights[M < 0].sum())
    assert 0.6 < exact < 0.7          # clearly asymmetric
    spins = _field_samples(rng, h, 20000)
    est = evaluate.mode_weight(free_energy, spins)
    m = spins.reshape(spins.shape[0], -1).sum(axis=1)
    for name, mask in (("from_plus", m > 0), ("from_minus", m < 0)):
        # d p / d log r = -p (1 - p): propagate the log-ratio error
        sigma = exact * (1 - exact) * _log_ratio_error(free_energy, spins, mask)
        assert abs(est[name] - exact) < 4 * sigma, (name, est[name], exact, sigma)
    # the sample fraction is not the quantity estimated: here they differ widely
    assert abs(np.mean(m > 0) - exact) > 0.05


def test_mode_weight_of_a_symmetric_model_is_one_half(rng):
    spins = _field_samples(rng, 0.3, 500)      # even lopsided samples
    est = evaluate.mode_weight(_field_model(0.0), spins)
    assert est == {"from_plus": pytest.approx(0.5, abs=1e-12),
                   "from_minus": pytest.approx(0.5, abs=1e-12)}
    only_up = np.ones((5, L, L), np.int8)
    est = evaluate.mode_weight(_field_model(0.0), only_up)
    assert est["from_plus"] == pytest.approx(0.5, abs=1e-12) and math.isnan(est["from_minus"])


def test_compare_reports_the_model_weight(rng, reference):
    h = 0.05
    gen = subset(reference, np.arange(100))
    table = evaluate.compare(reference, {"RBM": gen}, free_energies={"RBM": _field_model(h)})
    assert table["model_fraction_positive"]["RBM"] == evaluate.mode_weight(_field_model(h),
                                                                           gen.spins)
    assert "model P(m>0)" in evaluate.format_table(table)
    with pytest.raises(InvalidParameterError, match="free_energies"):
        evaluate.compare(reference, {"RBM": gen}, free_energies={"GAN": _field_model(h)})


# --------------------------------------------------------------------------
# the randomness convention: None = fresh entropy, recorded


def test_compare_without_rng_draws_fresh_entropy_and_records_it(rng):
    """rng=None means fresh entropy (it used to be a fixed 0): two calls differ in
    their noise replicas, and the recorded seed reproduces each one exactly."""
    ref, gen = exact_samples(rng, 400), {"g": exact_samples(rng, 400)}
    first = evaluate.compare(ref, gen, n_noise=20, exact=False)
    second = evaluate.compare(ref, gen, n_noise=20, exact=False)
    assert isinstance(first["seed"], int) and first["seed"] != second["seed"]
    # each noise level is a mean of 20 replica distances on a grid of 1/400 (two fresh
    # calls tie in one observable by chance, a few times in a thousand): compare all three
    noise = [tuple(d["noise"] for d in t["distance"]["g"].values()) for t in (first, second)]
    assert len(noise[0]) == 3 and noise[0] != noise[1]
    again = evaluate.compare(ref, gen, n_noise=20, exact=False, rng=first["seed"])
    assert again["seed"] == first["seed"]
    assert again["distance"] == first["distance"]


def test_compare_records_a_spawned_seed_with_its_key(rng):
    from mccore.rng import child

    ref, gen = exact_samples(rng, 300), {"g": exact_samples(rng, 300)}
    table = evaluate.compare(ref, gen, n_noise=10, exact=False, rng=child(5, 7, 2))
    assert table["seed"] == 5 and table["seed_key"] == [7, 2]
    same = evaluate.compare(ref, gen, n_noise=10, exact=False, rng=child(table["seed"],
                                                                        *table["seed_key"]))
    assert same["distance"] == table["distance"]
    with pytest.raises(InvalidParameterError, match="rng"):
        evaluate.compare(ref, gen, n_noise=10, rng=-1)
