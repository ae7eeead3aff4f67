"""TFIM observables beyond the energy: <sx>, C(r) = <sz_0 sz_r>, <m^4> and the Binder ratio.

Exact against exact first (free fermions against exact diagonalization,
tight tolerances), then the Binder ratio's jackknife on samples of a known
distribution, then VMC runs against the exact values in standard errors on
both sides of the critical field h_c = 1 of the chain (J = 1, per site,
m_z = sum_i sz_i / N).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from mccore.errors import InvalidParameterError
from vmc.spins import Lattice, exact_ground_state, run_tfim
from vmc.spins.exact import (
    binder_ratio,
    exact_reference,
    free_fermion_energy,
    free_fermion_observables,
)
from vmc.spins.runner import binder_estimate


@pytest.mark.parametrize("n", [8, 10, 12])
@pytest.mark.parametrize("field", [0.3, 1.0, 2.5])
def test_free_fermion_sx_and_correlations_equal_exact_diagonalization(n, field):
    """The Toeplitz determinants of the Majorana contractions and -dE0/dh / N agree with
    Lanczos on the full 2^N space to rounding, at every distance r = 0..N/2."""
    ff = free_fermion_observables(n, field)
    ed = exact_ground_state(Lattice("chain", n), field)
    assert ff["energy"] == pytest.approx(ed["energy"], rel=1e-11)
    assert ff["sx"] == pytest.approx(ed["sx"], abs=1e-10)
    assert len(ff["correlation"]) == n // 2 + 1
    np.testing.assert_allclose(ff["correlation"], ed["correlation"], rtol=0, atol=1e-10)


def test_free_fermion_sx_is_minus_the_field_derivative_of_e0():
    """Hellmann-Feynman by central differences of the free-fermion energy (N = 40,
    beyond exact diagonalization); at the self-dual point h = 1, <sx> = C(1)."""
    n, dh = 40, 1e-5
    for h in (0.7, 1.0, 1.6):
        de = (free_fermion_energy(n, h + dh) - free_fermion_energy(n, h - dh)) / (2 * dh)
        assert free_fermion_observables(n, h)["sx"] == pytest.approx(-de / n, rel=1e-8)
    crit = free_fermion_observables(n, 1.0)
    assert crit["sx"] == pytest.approx(crit["correlation"][1], rel=1e-12)


def test_correlations_decay_on_both_sides_of_the_critical_field():
    """N = 200: C(N/2) is long-range order m0^2 = (1 - h^2)^(1/4) (Pfeuty) for h < 1 and
    vanishes for h > 1."""
    ordered = free_fermion_observables(200, 0.5)["correlation"]
    assert ordered[-1] == pytest.approx((1 - 0.5**2) ** 0.25, rel=1e-6)
    assert abs(free_fermion_observables(200, 2.0)["correlation"][-1]) < 1e-12


def test_ed_binder_ratio_and_fourth_moment():
    """Binder from ED's <m^2> and <m^4> (chain N = 10): 2/3 deep in the ordered phase
    (m = +-1); deep in the disordered phase the spins are independent and uniform, so
    <m^2> = 1/N, <m^4> = (3N^2 - 2N)/N^4 and U = 2/(3N) (corrections O(1/h))."""
    lat = Lattice("chain", 10)
    ed = exact_ground_state(lat, 1.0)
    assert ed["binder"] == pytest.approx(1 - ed["mz4"] / (3 * ed["mz2"] ** 2), rel=1e-14)
    assert ed["mz2"] ** 2 <= ed["mz4"] <= ed["mz2"]
    assert exact_ground_state(lat, 0.05)["binder"] == pytest.approx(2 / 3, abs=1e-3)
    assert exact_ground_state(lat, 50.0)["binder"] == pytest.approx(2 / 30, abs=0.005)


def test_exact_reference_says_which_method_gives_each_value():
    chain = exact_reference(Lattice("chain", 12), 1.0)
    assert chain["methods"]["sx"] == "free fermions"
    assert chain["methods"]["binder"] == "exact diagonalization"
    long = exact_reference(Lattice("chain", 30), 1.0)
    assert set(long["values"]) == {"energy", "sx", "correlation"} and long["note"] is None
    odd = exact_reference(Lattice("chain", 25), 1.0)
    assert odd["values"] == {} and "even N" in odd["note"]
    square = exact_reference(Lattice("square", 3), 3.0)
    assert set(square["methods"].values()) == {"exact diagonalization"}
    assert square["values"]["mz4"] == exact_ground_state(Lattice("square", 3), 3.0)["mz4"]
    with pytest.raises(InvalidParameterError, match="even N"):
        free_fermion_observables(9, 1.0)


def test_binder_jackknife_is_unbiased_with_an_honest_error_bar():
    """m uniform on {-1, -1/2, 1/2, 1}: <m^2> = 5/8, <m^4> = 17/32, U = 1 - (17/32) / (3 * 25/64)
    = 1 - 34/75. Over 200 independent sets of 16 chains x 200 samples the jackknife mean
    is unbiased and its error bar matches the spread of the estimates (within 15 %)."""
    exact = binder_ratio(5 / 8, 17 / 32)
    assert exact == pytest.approx(1 - 34 / 75)
    gen = np.random.default_rng(21)
    values = np.array([-1.0, -0.5, 0.5, 1.0])
    est = [binder_estimate(gen.choice(values, size=(16, 200))) for _ in range(200)]
    means = np.array([e.mean for e in est])
    errors = np.array([e.error for e in est])
    spread = means.std(ddof=1)
    assert abs(means.mean() - exact) < 4 * spread / np.sqrt(len(means))
    assert np.median(errors) == pytest.approx(spread, rel=0.15)
    one_chain = binder_estimate(gen.choice(values, size=(1, 3200)))
    assert one_chain.error > 0 and abs(one_chain.mean - exact) < 4 * one_chain.error


def test_binder_of_a_constant_magnetization_and_of_zero():
    assert binder_estimate(np.ones((4, 50))).mean == pytest.approx(2 / 3)
    assert np.isnan(binder_estimate(np.zeros((4, 50))).mean)


@pytest.fixture(scope="module", params=[0.5, 2.0], ids=["h0.5-ordered", "h2-disordered"])
def converged_run(request):
    """Chain N = 8, symmetric RBM with 2 filters, 300 SR iterations of 1000 samples, then
    40000 final samples (errors: <sx> 0.003 at h = 0.5, 0.001 at h = 2)."""
    return run_tfim("chain", 8, request.param, symmetric=True, alpha=2, n_iterations=300,
                    n_samples=1000, n_final_samples=40000, rng=3, n_threads=1)


def test_vmc_observables_agree_with_exact_values(converged_run):
    """Every observable within 4 standard errors of free fermions / ED, and the error bars
    small enough that a wrong estimator fails: <sx> without its 1/N, C(r) of the wrong
    distance, or a Binder ratio without its 3 would be hundreds of sigma away."""
    r = converged_run
    assert r.status == "complete"
    obs = r.observables
    exact = obs["exact"]["values"]
    for key in ("sx", "abs_mz", "mz2", "mz4", "binder"):
        est = obs[key]
        assert 0 < est["error"] < 0.01, key
        assert abs(est["mean"] - exact[key]) < 4 * est["error"], (key, est, exact[key])
    corr = obs["correlation"]
    assert corr[0]["mean"] == 1.0
    for d in range(1, len(corr)):
        assert abs(corr[d]["mean"] - exact["correlation"][d]) < 4 * corr[d]["error"], d
    sx = obs["sx"]
    assert abs(8 * sx["mean"] - exact["sx"]) > 100 * sx["error"]
    wrong = 1 - exact["mz4"] / exact["mz2"] ** 2
    assert abs(obs["binder"]["mean"] - wrong) > 20 * obs["binder"]["error"]


def test_summary_and_json_show_each_observable_beside_its_exact_value(converged_run):
    text = converged_run.summary()
    for label in ("<sx>", "<m_z^4>", "Binder U", "C(r)"):
        line = next(line for line in text.splitlines() if label in line)
        assert "exact" in line or label == "C(r)"
    assert "exact observables: exact diagonalization, free fermions" in text
    doc = json.loads(json.dumps(converged_run.to_dict()))
    assert doc["observables"]["exact"]["methods"]["correlation"] == "free fermions"
    assert doc["observables"]["binder"]["error"] > 0
