"""BernoulliRBM exact math: energies, conditionals, free energy, log Z, the
internal reparametrizations, gradients vs finite differences of the exact
log-likelihood, pseudo-likelihood, AIS, and the distribution of the Gibbs,
flip-move and parallel-tempering samplers (chi-square against the exact
model distribution).

Every reference is a brute-force sum over all (v, h) written in this file.
"""

import itertools

import numpy as np
import pytest
from scipy import stats
from scipy.special import logsumexp

from rbm import BernoulliRBM
from rbm.bernoulli import _ENCODINGS
from rbm.negative_phase import TemperedChains, gibbs, global_flip_move

from statistics_reference import sufficient_statistics

SEED = 424242


def _states(n):
    return np.array(list(itertools.product([0.0, 1.0], repeat=n)))


def _model(n_visible=5, n_hidden=3, scale=1.0, seed=SEED, **kw):
    rng = np.random.default_rng(seed)
    m = BernoulliRBM(n_hidden, rng=seed, **kw).initialize(n_visible)
    m.set_parameters(weights=scale * rng.standard_normal((n_visible, n_hidden)),
                     visible_bias=scale * rng.standard_normal(n_visible),
                     hidden_bias=scale * rng.standard_normal(n_hidden))
    return m


def _joint_logw(m):
    """-E(v, h) for every (v, h): rows v, columns h."""
    V, H = _states(m.n_visible), _states(m.n_hidden)
    return (V @ m.visible_bias)[:, None] + (H @ m.hidden_bias)[None, :] + V @ m.weights @ H.T


def _exact_visible_probs(m):
    lw = logsumexp(_joint_logw(m), axis=1)
    return np.exp(lw - logsumexp(lw))


def test_free_energy_and_log_partition_brute_force():
    for nv, nh in ((5, 3), (3, 5)):  # sum over the hidden layer, then the visible one
        m = _model(nv, nh)
        lw = _joint_logw(m)
        V = _states(nv)
        np.testing.assert_allclose(m.free_energy(V), -logsumexp(lw, axis=1), atol=1e-12)
        assert m.log_partition(method="exact").mean == pytest.approx(logsumexp(lw), abs=1e-12)
        np.testing.assert_allclose(m.score_samples(V), logsumexp(lw, axis=1) - logsumexp(lw),
                                   atol=1e-12)


def test_energy_and_conditionals_brute_force():
    m = _model()
    V, H = _states(5), _states(3)
    lw = _joint_logw(m)
    np.testing.assert_allclose(m.energy(V[[3, 7]], H[[1, 6]]), -lw[[3, 7], [1, 6]], atol=1e-12)
    p_h_given_v = np.exp(lw - logsumexp(lw, axis=1, keepdims=True))
    np.testing.assert_allclose(m.hidden_probability(V), p_h_given_v @ H, atol=1e-12)
    p_v_given_h = np.exp(lw - logsumexp(lw, axis=0, keepdims=True))
    np.testing.assert_allclose(m.visible_probability(H), (p_v_given_h.T @ V), atol=1e-12)
    np.testing.assert_allclose(m.transform(V), m.hidden_probability(V))


def test_no_overflow_for_large_weights():
    m = _model(scale=400.0)
    V = _states(5)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        f = m.free_energy(V)
        logz = m.log_partition(method="exact").mean
        p = m.hidden_probability(V)
    assert np.all(np.isfinite(f)) and np.isfinite(logz) and np.all((p >= 0) & (p <= 1))
    assert logz == pytest.approx(logsumexp(_joint_logw(m)), rel=1e-12)


@pytest.mark.parametrize("encoding", sorted(_ENCODINGS))
def test_internal_encoding_is_an_exact_reparametrization(encoding):
    """Internal free energy differs from the canonical one by a constant, and
    canonical -> internal -> canonical is the identity."""
    from rbm.negative_phase import free_energy_internal

    m = _model(encoding=encoding)
    V = _states(5)
    p = m._internal_params(np.float64)
    diff = m.free_energy(V) - free_energy_internal(p.encode(V), p)
    assert np.ptp(diff) < 1e-12
    before = m.get_parameters()
    q = m._to_internal()
    m._set_from_internal(q["U"], q["c"], q["d"])
    for k, v in before.items():
        np.testing.assert_allclose(getattr(m, k), v, atol=1e-13)


@pytest.mark.parametrize("encoding", sorted(_ENCODINGS))
def test_training_gradient_matches_finite_differences_of_exact_loglik(encoding):
    """Data average minus exact model average of the sufficient statistics (the
    NumPy reference of the epoch's gradient) equals the central finite-difference derivative of
    the exact mean log-likelihood with respect to the internal parameters."""
    m = _model(encoding=encoding, scale=0.7)
    rng = np.random.default_rng(1)
    X = (rng.random((40, 5)) < 0.4).astype(np.float64)
    V = _states(5)
    p = m._internal_params(np.float64)
    pos = sufficient_statistics(p.encode(X), p)
    neg = sufficient_statistics(p.encode(V), p, weights=_exact_visible_probs(m))
    q0 = m._to_internal()

    def loglik(q):
        m._set_from_internal(q["U"], q["c"], q["d"])
        value = np.mean(m.score_samples(X))
        m._set_from_internal(q0["U"], q0["c"], q0["d"])
        return value

    eps = 1e-6
    for key, idx in (("U", (0, 0)), ("U", (4, 2)), ("U", (2, 1)), ("c", (1,)), ("c", (3,)),
                     ("d", (0,)), ("d", (2,))):
        qp = {k: v.copy() for k, v in q0.items()}
        qm = {k: v.copy() for k, v in q0.items()}
        qp[key][idx] += eps
        qm[key][idx] -= eps
        fd = (loglik(qp) - loglik(qm)) / (2 * eps)
        assert pos[key][idx] - neg[key][idx] == pytest.approx(fd, abs=1e-7)


def test_pseudo_log_likelihood_brute_force():
    m = _model()
    V = _states(5)
    P = _exact_visible_probs(m)
    index = {tuple(v): i for i, v in enumerate(V)}
    X = V[[0, 5, 17, 31, 22]]
    expected = []
    for v in X:
        total = 0.0
        for i in range(5):
            w = v.copy()
            w[i] = 1 - w[i]
            total += np.log(P[index[tuple(v)]] / (P[index[tuple(v)]] + P[index[tuple(w)]]))
        expected.append(total)
    np.testing.assert_allclose(m.pseudo_log_likelihood(X), expected, atol=1e-12)


def test_ais_within_error_of_exact_log_partition():
    """16 x 16 model with sizeable weights: AIS (100 runs, 3000 betas) within
    4 of its own standard errors of the exact log Z, and the error bar is
    informative (< 0.1 nats)."""
    m = _model(16, 16, scale=0.35, seed=7)
    exact = m.log_partition(method="exact").mean
    est = m.log_partition(method="ais", rng=np.random.default_rng(8), n_runs=100, n_betas=3000)
    assert est.error < 0.1
    assert abs(est.mean - exact) < 4 * est.error + 1e-12, (est, exact)
    assert m.log_partition_ is est


def _chi_square_pvalue(samples_bits, probs):
    idx = (samples_bits.astype(np.int64) << np.arange(samples_bits.shape[1])).sum(axis=1)
    # states ordered like _states (first column = most significant bit) -> reorder
    n = samples_bits.shape[1]
    order = np.array([int("".join(str(int(b)) for b in s[::-1]), 2) for s in _states(n)])
    counts = np.bincount(idx, minlength=1 << n)[order]
    expected = probs * samples_bits.shape[0]
    chi2 = np.sum((counts - expected) ** 2 / expected)
    return stats.chi2.sf(chi2, df=len(probs) - 1)


def test_gibbs_sampler_chi_square():
    """5000 independent chains of a 4 x 3 model, 50 Gibbs steps each: the
    histogram over the 16 visible states passes a chi-square test (p > 1e-3)
    against the exact distribution; the plain Gibbs kernel and sample() with
    flip moves both."""
    m = _model(4, 3, scale=1.0, seed=3)
    P = _exact_visible_probs(m)
    rng = np.random.default_rng(11)
    start = (rng.random((5000, 4)) < 0.5).astype(np.uint8)
    assert _chi_square_pvalue(m.gibbs(start, n_steps=50, rng=rng), P) > 1e-3
    assert _chi_square_pvalue(m.sample(5000, n_steps=50, rng=rng), P) > 1e-3


def test_chi_square_detects_a_wrong_distribution():
    """The chi-square check has power: samples of a different model fail it."""
    m = _model(4, 3, scale=1.0, seed=3)
    other = _model(4, 3, scale=1.0, seed=4)
    P = _exact_visible_probs(m)
    assert _chi_square_pvalue(other.sample(5000, n_steps=50, rng=12), P) < 1e-6


def P_mode_mass(m):
    P = _exact_visible_probs(m)
    return P[0] + P[-1]


def test_flip_move_and_tempering_keep_the_distribution():
    """A bimodal model (flip-symmetric, strong couplings): Gibbs + global-flip
    moves and parallel tempering both sample the exact distribution, starting
    all chains in one mode (where plain Gibbs stays stuck)."""
    nv = 6
    U = np.full((nv, 2), 0.0)
    U[:, 0] = 0.9
    U[:, 1] = -0.6
    m = BernoulliRBM(2, encoding="pm1", rng=1).initialize(nv)
    # symmetric in the {-1,+1} picture: zero internal biases
    m._set_from_internal(U, np.zeros(nv), np.zeros(2))
    assert P_mode_mass(m) > 0.7
    P = _exact_visible_probs(m)
    p = m._internal_params(np.float64)
    rng = np.random.default_rng(13)
    u0 = p.encode(np.ones((4000, nv)))
    # plain Gibbs from the all-ones mode: stuck
    u = gibbs(u0.copy(), p, 30, rng)
    assert _chi_square_pvalue(p.decode(u), P) < 1e-6
    # Gibbs + flip moves
    u = u0.copy()
    for _ in range(30):
        u = gibbs(u, p, 1, rng)
        global_flip_move(u, p, rng)
    assert _chi_square_pvalue(p.decode(u), P) > 1e-3
    # the public sampler (Gibbs + flip moves on cached hidden inputs)
    ones = np.ones((4000, nv), dtype=np.uint8)
    assert _chi_square_pvalue(m.sample(4000, n_steps=30, rng=rng, init=ones), P) > 1e-3
    # parallel tempering without flip moves
    t = TemperedChains(u0.copy(), n_replicas=6, beta_min=0.1)
    for _ in range(60):
        t.step(p, 1, rng)
    assert _chi_square_pvalue(p.decode(t.samples), P) > 1e-3
    assert np.all(t.swap_rates() > 0.05)


def test_same_seed_same_model():
    X = (np.random.default_rng(0).random((300, 6)) < 0.5).astype(np.uint8)
    kw = dict(n_epochs=3, batch_size=50)
    for method in ("pcd", "cd", "pt"):
        a = BernoulliRBM(3, method=method, rng=5, **kw).fit(X)
        b = BernoulliRBM(3, method=method, rng=5, **kw).fit(X)
        np.testing.assert_array_equal(a.weights, b.weights)
        c = BernoulliRBM(3, method=method, rng=6, **kw).fit(X)
        assert not np.array_equal(a.weights, c.weights)


def test_history_entries():
    X = (np.random.default_rng(0).random((300, 6)) < 0.5).astype(np.uint8)
    m = BernoulliRBM(3, n_epochs=4, batch_size=50, validation_fraction=0.2, rng=1).fit(X)
    h = m.history_
    assert h["epoch"] == [1, 2, 3, 4]
    for key in ("reconstruction_error", "pseudo_log_likelihood", "log_likelihood",
                "val_log_likelihood", "val_pseudo_log_likelihood", "learning_rate"):
        assert len(h[key]) == 4 and np.all(np.isfinite(h[key])), key
    # the recorded exact log-likelihood is the mean of score_samples on the rows used
    assert h["learning_rate"][0] == pytest.approx(m.base_learning_rate)
    assert h["learning_rate"][-1] < h["learning_rate"][0]


def test_flip_augmentation_makes_the_model_flip_symmetric():
    """Data from one mode only (9 units, mostly ones): with flip_augment the
    model gives the two halves (more ones / more zeros) equal weight within
    0.05; without it nearly all weight sits on the data's half."""
    rng = np.random.default_rng(21)
    X = (rng.random((2000, 9)) > 0.15).astype(np.uint8)
    V = _states(9)
    ones = V.sum(axis=1) > 4.5
    kw = dict(n_epochs=15, batch_size=50, rng=3)
    sym = BernoulliRBM(4, flip_augment=True, **kw).fit(X)
    plain = BernoulliRBM(4, **kw).fit(X)
    w_sym = np.exp(sym.score_samples(V))[ones].sum()
    w_plain = np.exp(plain.score_samples(V))[ones].sum()
    assert abs(w_sym - 0.5) < 0.05, w_sym
    assert w_plain > 0.95, w_plain


def test_weight_decay_shrinks_the_weights():
    """L2 penalty: with weight_decay = 5 the likelihood gradient of each
    internal weight (a difference of two averages of +-1 products, so in
    [-2, 2]) can balance the penalty only for |U| <= 0.4, i.e. |W| = 4|U| <=
    1.6. In practice the penalty wins by far: the penalized weights must be
    at least 10x smaller than the unpenalized ones (measured: 0.005 vs 1.3)."""
    rng = np.random.default_rng(31)
    mode = rng.random((1500, 1)) < 0.5
    X = (mode ^ (rng.random((1500, 8)) < 0.1)).astype(np.uint8)
    kw = dict(n_epochs=10, batch_size=50, rng=2)
    free = BernoulliRBM(4, **kw).fit(X)
    decayed = BernoulliRBM(4, weight_decay=5.0, **kw).fit(X)
    w_free, w_decayed = np.abs(free.weights).max(), np.abs(decayed.weights).max()
    assert w_decayed <= 1.6
    assert w_decayed < 0.1 * w_free, (w_decayed, w_free)
