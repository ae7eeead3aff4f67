"""isingrbm.exact_moves: the symmetry moves between RBM proposals keep sampling exact.

- the translation move is a uniformly random torus shift per chain (each
  output is ``np.roll`` of its input; shifts uniform by chi-square; chain c's
  shifts do not depend on the chains beside it);
- translations and the flip preserve the energy (property test), and the
  translation kernel leaves the Boltzmann distribution invariant exactly
  (enumeration of the 512 states of L = 3);
- at L = 4 a deliberately poor RBM with symmetry moves and no local sweeps
  gives e, |m|, c, chi within 4 standard errors (blocking/jackknife) of the
  exact enumeration and an energy histogram that passes a chi-square test,
  while the same model's own distribution is far off.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from ising import boltzmann_distribution, energy_magnetization, exact_enumeration, measure
from isingrbm.exact_moves import ising_log_target, lattice_translation
from isingrbm.exact_sampling import exact_samples
from rbm.metropolis import free_energy

SEED = 2718


class FerroRBM:
    """A crude hand-made binary RBM: two hidden units ('mostly up', 'mostly down')
    plus random noise on every parameter; far from the Boltzmann distribution."""

    def __init__(self, n_visible, w, noise, seed=SEED):
        rng = np.random.default_rng(seed)
        self.weights = noise * rng.standard_normal((n_visible, 2))
        self.weights += np.stack([np.full(n_visible, w), np.full(n_visible, -w)], axis=1)
        self.visible_bias = noise * rng.standard_normal(n_visible)
        self.hidden_bias = noise * rng.standard_normal(2) + np.array(
            [-w * n_visible / 2, w * n_visible / 2])


def _all_visible(n):
    return ((np.arange(2 ** n)[:, None] >> np.arange(n)) & 1).astype(np.uint8)


def _shift_of(before, after, L):
    """The (a, b) with after = np.roll(before, (a, b)), or None."""
    B = before.reshape(L, L)
    for a in range(L):
        for b in range(L):
            if np.array_equal(np.roll(B, (a, b), axis=(0, 1)).ravel(), after):
                return a, b
    return None


def test_translation_is_a_uniform_random_torus_shift_keyed_by_chain():
    L, n_chains, n_calls = 5, 3, 1500
    rng = np.random.default_rng(SEED)
    move = lattice_translation(L, n_chains, rng=11)
    alone = lattice_translation(L, 1, rng=11)        # chain 0 without the others
    # a configuration without symmetry, so that the shift is read off uniquely
    V = rng.integers(0, 2, (n_chains, L * L)).astype(np.uint8)
    while any(len({np.roll(v.reshape(L, L), (a, b), axis=(0, 1)).tobytes()
                   for a in range(L) for b in range(L)}) < L * L for v in V):
        V = rng.integers(0, 2, (n_chains, L * L)).astype(np.uint8)
    counts = np.zeros((n_chains, L * L))
    for _ in range(n_calls):
        out = move(V)
        np.testing.assert_array_equal(alone(V[:1])[0], out[0])
        for c in range(n_chains):
            a, b = _shift_of(V[c], out[c], L)
            counts[c, a * L + b] += 1
    for c in range(n_chains):
        assert stats.chisquare(counts[c]).pvalue > 1e-3, counts[c]
    assert not np.array_equal(counts[0], counts[1])


def test_translation_state_continues_bit_for_bit():
    move = lattice_translation(4, 2, rng=5)
    V = np.random.default_rng(SEED).integers(0, 2, (2, 16)).astype(np.uint8)
    for _ in range(300):                          # past a refill of the buffer
        V = move(V)
    state = move.get_state()
    ahead = [move(V) for _ in range(300)]
    other = lattice_translation(4, 2, rng=99)
    other.set_state(state)
    for expected in ahead:
        np.testing.assert_array_equal(other(V), expected)


@settings(max_examples=40, deadline=None)
@given(L=st.integers(2, 8), seed=st.integers(0, 2**32 - 1))
def test_translation_and_flip_preserve_energy(L, seed):
    rng = np.random.default_rng(seed)
    V = rng.integers(0, 2, (6, L * L)).astype(np.uint8)
    log_pi = ising_log_target(L, 1.0)
    moved = lattice_translation(L, 6, rng=seed)(V)
    np.testing.assert_array_equal(log_pi(moved), log_pi(V))
    np.testing.assert_array_equal(np.sort(moved, axis=1), np.sort(V, axis=1))   # same M
    np.testing.assert_array_equal(log_pi(1 - V), log_pi(V))


def test_translation_kernel_leaves_boltzmann_invariant_at_L3():
    """K(s, s') = (1/9) #{shifts g: g s = s'} over all 512 states: pi K = pi and
    K symmetric (detailed balance), exactly."""
    L, T = 3, 2.0
    V = _all_visible(L * L)
    index = V.astype(np.int64) @ (1 << np.arange(L * L))
    np.testing.assert_array_equal(index, np.arange(V.shape[0]))
    K = np.zeros((V.shape[0], V.shape[0]))
    for a in range(L):
        for b in range(L):
            moved = np.roll(V.reshape(-1, L, L), (a, b), axis=(1, 2)).reshape(-1, L * L)
            K[np.arange(V.shape[0]), moved.astype(np.int64) @ (1 << np.arange(L * L))] += 1 / 9
    pi = boltzmann_distribution(L, T)
    np.testing.assert_allclose(pi @ K, pi, rtol=1e-12, atol=0)
    np.testing.assert_allclose(K, K.T, rtol=0, atol=1e-15)


def test_poor_rbm_with_symmetry_moves_is_exact_at_L4():
    """No local sweeps: only the RBM proposal and the symmetry moves move the chains."""
    L, T, n = 4, 2.269, 4000
    model = FerroRBM(L * L, 1.0, 0.3)
    result = exact_samples(model, n, T=T, k=1, rng=SEED, local_sweeps=0, symmetry_moves="all")
    assert result.symmetry_moves == "all" and result.provenance()["symmetry_moves"] == "all"
    assert result.equilibration_check_passed
    assert 0.05 < result.acceptance_rate < 0.9                  # a poor proposal
    assert result.flip_acceptance_rate == pytest.approx(0.5, abs=0.02)
    E, M = energy_magnetization(result.spins)
    est = measure(E, M, L=L, T=T)
    exact = exact_enumeration(L, T)
    for key in ("energy", "abs_magnetization", "specific_heat", "susceptibility_connected"):
        assert abs(est[key].mean - exact[key]) < 4 * est[key].error, (key, est[key], exact[key])
    # the energy histogram against the exact one (chi-square, all 2^16 states enumerated)
    V = _all_visible(L * L)
    energies = np.rint(-T * ising_log_target(L, T)(V)).astype(np.int64)
    p = boltzmann_distribution(L, T)
    levels, inverse = np.unique(energies, return_inverse=True)
    p_level = np.bincount(inverse, weights=p)
    keep = p_level * n >= 5
    counts = np.array([np.sum(E == e) for e in levels], dtype=float)
    observed = np.append(counts[keep], counts[~keep].sum())
    expected = np.append(p_level[keep], p_level[~keep].sum()) * n
    assert stats.chisquare(observed, expected).pvalue > 1e-3
    # power: the same model's own distribution misses the energy by far
    F = free_energy(V, model.weights, model.visible_bias, model.hidden_bias)
    p_rbm = np.exp(-(F - F.min()))
    p_rbm /= p_rbm.sum()
    e_rbm = float(p_rbm @ energies) / (L * L)
    assert abs(e_rbm - exact["energy"]) > 20 * est["energy"].error, (e_rbm, exact["energy"])


def test_symmetry_settings_flips_recorded_and_bad_values_refused():
    from isingrbm.exact_sampling import DEFAULT_SYMMETRY_MOVES
    from mccore.errors import InvalidParameterError

    model = FerroRBM(16, 1.0, 0.3)
    kwargs = dict(T=2.269, k=1, rng=SEED, n_chains=4)
    assert DEFAULT_SYMMETRY_MOVES == "flip"
    for value, mode in ((False, "none"), ("none", "none"), ("flip", "flip"), (True, "all")):
        result = exact_samples(model, 32, symmetry_moves=value, **kwargs)
        assert result.provenance()["symmetry_moves"] == mode
        assert (result.flip_acceptance_rate > 0) == (mode != "none")
    # "flip" is the flip alone: the chains are those of "none" plus flips, not translations
    flip = exact_samples(model, 32, symmetry_moves="flip", **kwargs)
    default = exact_samples(model, 32, **kwargs)
    np.testing.assert_array_equal(flip.spins, default.spins)
    with pytest.raises(InvalidParameterError, match="symmetry_moves must be one of"):
        exact_samples(model, 32, symmetry_moves="translate", **kwargs)


def test_cli_records_the_symmetry_moves_and_refuses_them_without_exact(tmp_path, capsys):
    import h5py

    from isingrbm import cli
    from isingrbm.exact_sampling import bond_rbm
    from rbm import BernoulliRBM, save

    L, T = 3, 2.269
    exact = bond_rbm(L, T, noise=0.3, rng=1)
    model = BernoulliRBM(n_hidden=exact.weights.shape[1])
    model.weights, model.visible_bias, model.hidden_bias = (
        exact.weights, exact.visible_bias, exact.hidden_bias)
    path = tmp_path / "model.h5"
    save(model, path, metadata={"temperature": T})
    for flags, mode in (([], "flip"), (["--symmetry-moves", "all"], "all"),
                        (["--symmetry-moves", "none"], "none")):
        out = tmp_path / f"{mode}.h5"
        assert cli.main(["sample", str(path), "--samples", "40", "--out", str(out), "--exact",
                         *flags, "--seed", "3", "--quiet"]) == 0
        with h5py.File(out, "r") as f:
            (group,) = f["samples"].values()
            assert group.attrs["symmetry_moves"] == mode
            assert bool(group.attrs["flip_acceptance_rate"] > 0) is (mode != "none")
    capsys.readouterr()
    out = tmp_path / "plain.h5"
    assert cli.main(["sample", str(path), "--samples", "4", "--out", str(out),
                     "--symmetry-moves", "none"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--symmetry-moves must be given only with --exact" in err[0]
    assert not out.exists()
