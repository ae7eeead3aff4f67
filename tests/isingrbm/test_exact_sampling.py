"""isingrbm.exact_sampling: exact Ising samples with an RBM as proposal.

A deliberately poor RBM (hand-made, or random weights) still yields the exact Boltzmann
distribution: at L = 3 the histogram of the 512 states of thinned MH samples
passes a chi-square test against the exact enumeration, while the same
model's own distribution p_RBM (exact, by its free energy) fails the same
test on as many samples. At L = 4 the mean energy agrees with the exact
value within 4 blocking standard errors. Same seed -> same samples,
whatever the BLAS thread count.
"""

import numpy as np
import pytest
from chi_square import chi_square_p, state_index

from ising import boltzmann_distribution, energy_magnetization, exact_enumeration
from isingrbm.exact_sampling import bond_rbm, exact_samples, ising_log_target
from mccore.errors import InvalidParameterError
from mccore.parallel import single_threaded_blas
from mcstats import estimate
from rbm.metropolis import free_energy

SEED = 3141


class RandomRBM:
    """Only the public parameters of a binary RBM; random, hence a poor model."""

    def __init__(self, n_visible, n_hidden, scale, seed=SEED):
        rng = np.random.default_rng(seed)
        self.weights = scale * rng.standard_normal((n_visible, n_hidden))
        self.visible_bias = scale * rng.standard_normal(n_visible)
        self.hidden_bias = scale * rng.standard_normal(n_hidden)


class FerroRBM(RandomRBM):
    """A crude hand-made model: two hidden units for 'mostly up' and 'mostly
    down', plus random noise. Its own distribution is far from Boltzmann."""

    def __init__(self, n_visible, w, noise, seed=SEED):
        super().__init__(n_visible, 2, noise, seed)
        self.weights += np.stack([np.full(n_visible, w), np.full(n_visible, -w)], axis=1)
        self.hidden_bias += np.array([-w * n_visible / 2, w * n_visible / 2])


@pytest.mark.parametrize("symmetry_moves", ["none", "all"])
def test_poor_model_gives_exact_boltzmann_states_at_L3(symmetry_moves):
    L, T, n = 3, 2.269, 6000
    model = FerroRBM(L * L, 1.0, 0.1)
    result = exact_samples(model, n, T=T, k=1, rng=SEED, local_sweeps=0,   # no Metropolis
                           symmetry_moves=symmetry_moves)
    assert result.spins.shape == (n, L, L) and result.spins.dtype == np.int8
    assert result.equilibration_check_passed
    assert result.thinning >= 2 * max(result.tau_int.values())
    assert 0.0 < result.acceptance_rate < 0.9
    p = boltzmann_distribution(L, T)
    assert chi_square_p(state_index(result.spins), p) > 1e-3
    # power: the model's own distribution is far from Boltzmann
    V = ((np.arange(2 ** (L * L))[:, None] >> np.arange(L * L)) & 1).astype(np.uint8)
    F = free_energy(V, model.weights, model.visible_bias, model.hidden_bias)
    p_rbm = np.exp(-(F - F.min()))
    p_rbm /= p_rbm.sum()
    plain = np.random.default_rng(SEED).choice(p_rbm.size, size=n, p=p_rbm)
    assert chi_square_p(plain, p) < 1e-6


def test_with_local_sweeps_still_exact_boltzmann_states_at_L3():
    """The Metropolis sweeps interleaved with the RBM proposals keep the
    Boltzmann distribution (chi-square over all 512 states) and are recorded."""
    L, T, n = 3, 2.269, 6000
    result = exact_samples(FerroRBM(L * L, 1.0, 0.1), n, T=T, k=1, rng=SEED + 7,
                           local_sweeps=2)
    assert result.local_sweeps == 2 and result.provenance()["local_sweeps"] == 2
    assert chi_square_p(state_index(result.spins), boltzmann_distribution(L, T)) > 1e-3


@pytest.mark.filterwarnings("ignore::mccore.errors.IsingRBMWarning")
def test_exact_bond_rbm_is_the_boltzmann_distribution_and_always_accepted():
    """bond_rbm's p_RBM equals Boltzmann by enumeration; as a proposal every
    move is accepted (a sign error in F or in the ratio would reject many)."""
    L, T = 3, 2.269
    m = bond_rbm(L, T)
    V = ((np.arange(2 ** (L * L))[:, None] >> np.arange(L * L)) & 1).astype(np.uint8)
    F = free_energy(V, m.weights, m.visible_bias, m.hidden_bias)
    p_rbm = np.exp(-(F - F.min()))
    p_rbm /= p_rbm.sum()
    np.testing.assert_allclose(p_rbm, boltzmann_distribution(L, T), rtol=1e-12, atol=0)
    result = exact_samples(bond_rbm(4, 2.0), 200, T=2.0, k=1, rng=SEED, max_equilibration=2048)
    assert result.acceptance_rate == 1.0
    # at another temperature the same model is only a proposal: rejections appear
    other = exact_samples(bond_rbm(4, 2.0), 200, T=3.0, k=1, rng=SEED, max_equilibration=2048)
    assert other.acceptance_rate < 0.95


def test_mean_energy_matches_exact_enumeration_at_L4():
    """8000 samples of an imperfect model (bond_rbm + noise 0.2: acceptance ~0.6):
    sigma(e) ~ 0.006, so a 1 % shift of e (~0.008 at T = 3) is > 1 sigma and
    a 3 % one fails."""
    L, T = 4, 3.0
    result = exact_samples(bond_rbm(L, T, noise=0.2, rng=1), 8000, T=T, k=1, rng=SEED + 1)
    assert 0.3 < result.acceptance_rate < 0.9
    E, M = energy_magnetization(result.spins)
    e = estimate(E / (L * L))
    exact = exact_enumeration(L, T)["energy"]
    assert abs(e.mean - exact) < 4 * e.error, (e, exact)
    # the magnetization is symmetric (global flips): <m> = 0 within 4 sigma
    m = estimate(M / (L * L))
    assert abs(m.mean) < 4 * m.error


def test_log_target_is_minus_beta_energy():
    L, T = 4, 2.0
    rng = np.random.default_rng(SEED)
    spins = (2 * rng.integers(0, 2, (50, L, L)) - 1).astype(np.int8)
    V = ((spins.reshape(50, -1) + 1) // 2).astype(np.uint8)
    E, _ = energy_magnetization(spins)
    np.testing.assert_allclose(ising_log_target(L, T)(V), -E / T, rtol=1e-15, atol=0)


def test_same_seed_same_samples_whatever_the_blas_threads():
    model = bond_rbm(4, 2.5, noise=0.3, rng=2)
    a = exact_samples(model, 300, T=2.5, k=2, rng=77)
    with single_threaded_blas():
        b = exact_samples(model, 300, T=2.5, k=2, rng=77)
    np.testing.assert_array_equal(a.spins, b.spins)
    assert a.tau_int == b.tau_int and a.thinning == b.thinning
    c = exact_samples(model, 300, T=2.5, k=2, rng=78)
    assert not np.array_equal(a.spins, c.spins)


def test_bad_input():
    model = RandomRBM(16, 4, scale=0.5)
    with pytest.raises(InvalidParameterError, match="L\\*L"):
        exact_samples(RandomRBM(10, 4, scale=0.5), 10, T=2.0)
    with pytest.raises(InvalidParameterError, match="T must"):
        exact_samples(model, 10, T=0.0)
    with pytest.raises(InvalidParameterError, match="n_samples"):
        exact_samples(model, 0, T=2.0)
    with pytest.raises(InvalidParameterError, match="k must"):
        exact_samples(model, 10, T=2.0, k=0)
    gaussian = RandomRBM(16, 4, scale=0.5)
    gaussian.sigma = np.ones(16)
    with pytest.raises(InvalidParameterError, match="Bernoulli"):
        exact_samples(gaussian, 10, T=2.0)


def _interrupt_after(n_calls, function):
    """``function`` that raises KeyboardInterrupt on its ``n_calls``-th call."""
    calls = [0]

    def wrapped(*args, **kwargs):
        calls[0] += 1
        if calls[0] == n_calls:
            raise KeyboardInterrupt
        return function(*args, **kwargs)
    return wrapped


@pytest.mark.parametrize("symmetry_moves", ["all", "flip", "none"])
@pytest.mark.parametrize("n_calls", [50, 400, 1100, 1200])
def test_an_interrupted_run_resumes_bit_for_bit(tmp_path, monkeypatch, n_calls, symmetry_moves):
    """Interrupted anywhere (warm start, equilibration, production; in the middle
    of a proposal), the checkpoint continues to exactly the uninterrupted samples,
    with or without the symmetry moves (whose translation streams are in the state)."""
    import isingrbm.exact_sampling as es

    model = FerroRBM(16, 1.0, 0.2)
    kwargs = dict(T=2.2, k=1, rng=11, n_chains=5, local_sweeps=1,
                  symmetry_moves=symmetry_moves)
    whole = exact_samples(model, 120, **kwargs)
    # 101 calls of log_target in the start, then per proposal 3 with the flip
    # (proposal, flip, translation and/or local move) or 2 without: 400 falls in the
    # equilibration, 1100 and 1200 in the production
    assert whole.equilibration_proposals == 320
    assert whole.n_proposals == {"all": 512, "flip": 512, "none": 560}[symmetry_moves]
    checkpoint = tmp_path / "x.checkpoint"
    original = es.ising_log_target
    monkeypatch.setattr(es, "ising_log_target",
                        lambda L, T: _interrupt_after(n_calls, original(L, T)))
    with pytest.raises(KeyboardInterrupt):
        exact_samples(model, 120, **kwargs, checkpoint=checkpoint, checkpoint_seconds=None)
    monkeypatch.setattr(es, "ising_log_target", original)
    # during the warm start (the first 101 calls) there is nothing to keep yet: a resume
    # starts afresh
    assert checkpoint.exists() == (n_calls > 101)
    resumed = exact_samples(model, 120, **kwargs, checkpoint=checkpoint, resume=True)
    np.testing.assert_array_equal(resumed.spins, whole.spins)
    for name in ("acceptance_rate", "flip_acceptance_rate", "tau_int", "thinning",
                 "equilibration_proposals", "n_proposals", "equilibration_drift_sigmas"):
        assert getattr(resumed, name) == getattr(whole, name), name
    np.testing.assert_array_equal(resumed.acceptance_per_chain, whole.acceptance_per_chain)


def test_checkpoints_by_wall_time_and_refuses_other_settings(tmp_path):
    from isingrbm.exact_sampling import checkpoint_seed, read_checkpoint
    from mccore.errors import FileFormatError

    model = FerroRBM(16, 1.0, 0.2)
    checkpoint = tmp_path / "x.checkpoint"
    stages = []
    exact_samples(model, 40, T=2.2, k=1, rng=12, n_chains=4, checkpoint=checkpoint,
                  checkpoint_seconds=0.0, progress=lambda stage, done, total: stages.append(
                      (stage, read_checkpoint(checkpoint)["meta"]["stage"])))
    assert {s for s, _ in stages} == {"equilibration", "production"}
    assert all(a == b for a, b in stages)      # a checkpoint after every piece of work
    assert checkpoint_seed(checkpoint) == 12
    with pytest.raises(InvalidParameterError, match="cannot resume.*T was 2.2, now 2.3"):
        exact_samples(model, 40, T=2.3, k=1, rng=12, n_chains=4, checkpoint=checkpoint,
                      resume=True)
    with pytest.raises(InvalidParameterError, match="symmetry_moves was 'flip', now 'all'"):
        exact_samples(model, 40, T=2.2, k=1, rng=12, n_chains=4, checkpoint=checkpoint,
                      resume=True, symmetry_moves="all")
    with pytest.raises(InvalidParameterError, match="model was"):
        exact_samples(FerroRBM(16, 1.1, 0.2), 40, T=2.2, k=1, rng=12, n_chains=4,
                      checkpoint=checkpoint, resume=True)
    checkpoint.write_bytes(b"not a checkpoint")
    with pytest.raises(FileFormatError, match="not a checkpoint"):
        exact_samples(model, 40, T=2.2, k=1, rng=12, n_chains=4, checkpoint=checkpoint,
                      resume=True)


def test_huge_sweeps_and_proposal_steps_are_refused():
    model = FerroRBM(16, 1.0, 0.2)
    with pytest.raises(InvalidParameterError, match="local_sweeps must be an integer in"):
        exact_samples(model, 10, T=2.0, local_sweeps=10**12)
    with pytest.raises(InvalidParameterError, match="k must be an integer in"):
        exact_samples(model, 10, T=2.0, k=10**12)


def test_a_damaged_checkpoint_is_a_format_error(tmp_path):
    import json

    from mccore.errors import FileFormatError

    model = FerroRBM(16, 1.0, 0.2)
    checkpoint = tmp_path / "x.checkpoint"
    with pytest.raises(KeyboardInterrupt):
        exact_samples(model, 40, T=2.2, k=1, rng=12, n_chains=4, checkpoint=checkpoint,
                      checkpoint_seconds=None,
                      progress=lambda *a: (_ for _ in ()).throw(KeyboardInterrupt))
    with np.load(checkpoint) as f:
        arrays = {name: f[name] for name in f.files if name != "accepted"}
    meta = json.loads(str(arrays["meta"]))
    with open(checkpoint, "wb") as fh:
        np.savez(fh, **arrays)                      # a field is missing
    with pytest.raises(FileFormatError, match="damaged checkpoint"):
        exact_samples(model, 40, T=2.2, k=1, rng=12, n_chains=4, checkpoint=checkpoint,
                      resume=True)
    assert meta["format"] == "isingrbm-exact-sampling-checkpoint"
