"""GaussianBernoulliRBM: energy conventions, conditionals, free energy, exact
log Z, the Gaussian-mixture marginal, Gibbs sampling moments, derivatives used
by VMC, and fitting a known mixture.

Reference values are computed here independently of the model code: by brute
force over the hidden states, numerical integration (scipy), or the
Gaussian-mixture density built with ``scipy.stats``.
"""

import itertools

import numpy as np
import pytest
from scipy import integrate, stats
from scipy.special import logsumexp

from mccore.errors import InvalidParameterError
from rbm import GaussianBernoulliRBM

SEED = 20260611


def _model(n_visible=5, n_hidden=3, seed=SEED, scale=0.8):
    rng = np.random.default_rng(seed)
    m = GaussianBernoulliRBM(n_hidden, rng=seed)
    m.initialize(n_visible)
    m.set_parameters(weights=scale * rng.standard_normal((n_visible, n_hidden)),
                     visible_bias=rng.standard_normal(n_visible),
                     hidden_bias=rng.standard_normal(n_hidden),
                     sigma=rng.uniform(0.6, 1.5, n_visible))
    return m


def _energy(m, x, h):
    """The energy of issue 3, written out term by term."""
    return (np.sum((x - m.visible_bias) ** 2 / (2 * m.sigma**2))
            - h @ m.hidden_bias
            - sum(x[i] * m.weights[i, j] * h[j] / m.sigma[i] ** 2
                  for i in range(len(x)) for j in range(len(h))))


def _hidden_states(n):
    return np.array(list(itertools.product([0.0, 1.0], repeat=n)))


def _mixture_logpdf(m, X):
    """log p(x) from the mixture derived in the test: sum_h pi_h N(a + W h, sigma^2)."""
    H = _hidden_states(m.n_hidden)
    # pi_h ∝ int exp(-E(x,h)) dx: Gaussian integral of each joint term
    log_int = []
    for h in H:
        mu = m.visible_bias + m.weights @ h
        # -E = -(x-mu)^2/(2 s^2) + (mu^2 - a^2)/(2 s^2) + b.h
        log_int.append(h @ m.hidden_bias
                       + np.sum((mu**2 - m.visible_bias**2) / (2 * m.sigma**2))
                       + np.sum(np.log(np.sqrt(2 * np.pi) * m.sigma)))
    log_int = np.array(log_int)
    log_pi = log_int - logsumexp(log_int)
    comps = np.array([stats.multivariate_normal(m.visible_bias + m.weights @ h,
                                                np.diag(m.sigma**2)).logpdf(X)
                      for h in H])
    return logsumexp(log_pi[:, None] + comps.reshape(len(H), -1), axis=0), logsumexp(log_int)


def test_free_energy_is_hidden_sum_of_energy():
    m = _model()
    X = np.random.default_rng(1).standard_normal((7, 5))
    H = _hidden_states(3)
    for x, f in zip(X, m.free_energy(X)):
        brute = -logsumexp([-_energy(m, x, h) for h in H])
        assert f == pytest.approx(brute, abs=1e-10)
    # the joint energy method agrees with the written-out formula
    Hr = H[[1, 5, 2, 7, 0, 3, 6]]
    np.testing.assert_allclose(m.energy(X, Hr), [_energy(m, x, h) for x, h in zip(X, Hr)],
                               atol=1e-12)


def test_hidden_conditional_matches_brute_force():
    m = _model()
    X = np.random.default_rng(2).standard_normal((6, 5))
    H = _hidden_states(3)
    for x, p in zip(X, m.hidden_probability(X)):
        logw = np.array([-_energy(m, x, h) for h in H])
        w = np.exp(logw - logsumexp(logw))
        np.testing.assert_allclose(p, w @ H, atol=1e-12)


def test_visible_conditional_is_gaussian_with_mean_a_plus_Wh():
    """-E(x, h) - log N(x; a + W h, sigma^2) must not depend on x."""
    m = _model()
    rng = np.random.default_rng(3)
    for h in _hidden_states(3):
        X = 3 * rng.standard_normal((10, 5))
        mean = m.visible_mean(h[None, :])[0]
        np.testing.assert_allclose(mean, m.visible_bias + m.weights @ h, atol=1e-14)
        logn = stats.multivariate_normal(mean, np.diag(m.sigma**2)).logpdf(X)
        diff = np.array([-_energy(m, x, h) for x in X]) - logn
        assert np.ptp(diff) < 1e-9


def test_exact_log_partition_against_numerical_integration():
    """2 visible x 3 hidden: log of the 2-D integral of exp(-F)."""
    m = _model(n_visible=2, n_hidden=3, scale=1.0)
    val, err = integrate.dblquad(lambda y, x: np.exp(-m.free_energy(np.array([[x, y]]))[0]),
                                 -14, 14, -14, 14, epsabs=1e-10, epsrel=1e-10)
    assert m.log_partition().mean == pytest.approx(np.log(val), abs=1e-8)


def test_score_samples_is_gaussian_mixture_density():
    m = _model()
    X = 2 * np.random.default_rng(4).standard_normal((20, 5))
    expected, log_z = _mixture_logpdf(m, X)
    np.testing.assert_allclose(m.score_samples(X), expected, atol=1e-9)
    assert m.log_partition().mean == pytest.approx(log_z, abs=1e-10)
    w, means, sigma = m.mixture()
    assert w.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(sigma, m.sigma)


def _mixture_moments(m):
    w, means, sigma = m.mixture()
    mean = w @ means
    centred = means - mean
    cov = (centred * w[:, None]).T @ centred + np.diag(sigma**2)
    return mean, cov


def test_gibbs_samples_have_the_mixture_mean_and_covariance():
    """4000 chains x 60 steps: sample mean and covariance within 4.5 sigma.

    The chains are independent, so the standard error of the mean is
    sqrt(diag cov / n); for the covariance entries it is estimated from the
    samples of (x_i - m_i)(x_j - m_j).
    """
    m = _model(n_visible=3, n_hidden=2, scale=1.5)
    X = m.sample(4000, n_steps=60, rng=5)
    mean, cov = _mixture_moments(m)
    n = X.shape[0]
    z = (X.mean(axis=0) - mean) / np.sqrt(np.diag(cov) / n)
    assert np.all(np.abs(z) < 4.5), z
    D = X - mean
    prods = D[:, :, None] * D[:, None, :]
    se = prods.std(axis=0) / np.sqrt(n)
    zc = (prods.mean(axis=0) - cov) / se
    assert np.all(np.abs(zc) < 4.5), zc


def test_gibbs_step_chi_square_on_hidden_marginal():
    """After Gibbs steps the hidden states follow the exact mixture weights pi_h."""
    m = _model(n_visible=3, n_hidden=2, scale=1.2)
    rng = np.random.default_rng(6)
    X = m.sample(6000, n_steps=40, rng=rng)
    H = m.sample_hidden(X, rng=rng)
    idx = (H @ (1 << np.arange(2))).astype(int)
    counts = np.bincount(idx, minlength=4)
    w, _, _ = m.mixture()
    chi2 = np.sum((counts - 6000 * w) ** 2 / (6000 * w))
    assert stats.chi2.sf(chi2, df=3) > 1e-3


def test_position_derivatives_match_finite_differences():
    m = _model()
    X = np.random.default_rng(7).standard_normal((4, 5))
    eps = 1e-5
    grad = m.free_energy_grad_x(X)
    lap = m.free_energy_laplacian_x(X)
    for i in range(5):
        e = np.zeros(5)
        e[i] = eps
        fp, f0, fm = m.free_energy(X + e), m.free_energy(X), m.free_energy(X - e)
        np.testing.assert_allclose(grad[:, i], (fp - fm) / (2 * eps), atol=1e-7)
        np.testing.assert_allclose(lap[:, i], (fp - 2 * f0 + fm) / eps**2, atol=2e-4)


def test_parameter_derivatives_match_finite_differences():
    m = _model()
    X = np.random.default_rng(8).standard_normal((3, 5))
    g = m.free_energy_param_grad(X)
    eps = 1e-6
    base = m.get_parameters()

    def neg_f(**change):
        params = {k: v.copy() for k, v in base.items()}
        for k, v in change.items():
            params[k] = v
        m.set_parameters(**params)
        out = -m.free_energy(X)
        m.set_parameters(**base)
        return out

    for (i, j) in [(0, 0), (4, 2), (2, 1)]:
        Wp, Wm = base["weights"].copy(), base["weights"].copy()
        Wp[i, j] += eps
        Wm[i, j] -= eps
        np.testing.assert_allclose(g["weights"][:, i, j],
                                   (neg_f(weights=Wp) - neg_f(weights=Wm)) / (2 * eps),
                                   atol=1e-7)
    for name, key in (("visible_bias", "visible_bias"), ("hidden_bias", "hidden_bias")):
        k = 1
        p, q = base[name].copy(), base[name].copy()
        p[k] += eps
        q[k] -= eps
        np.testing.assert_allclose(g[key][:, k], (neg_f(**{name: p}) - neg_f(**{name: q}))
                                   / (2 * eps), atol=1e-7)
    k = 3
    sp, sm = base["sigma"].copy(), base["sigma"].copy()
    sp[k] *= np.exp(eps)
    sm[k] *= np.exp(-eps)
    np.testing.assert_allclose(g["log_sigma"][:, k],
                               (neg_f(sigma=sp) - neg_f(sigma=sm)) / (2 * eps), atol=1e-7)


def test_fit_recovers_a_known_gaussian_mixture():
    """Data from a teacher GB-RBM (2 visible, 1 hidden: two well separated
    Gaussians of known weights). The trained model's exact mean log-likelihood
    on fresh teacher data must be within 0.02 nats of the teacher's own
    (the data's entropy; the finite-sample error of that difference is
    ~0.005 with 4000 points), and its samples must have the teacher's mean
    and covariance within 4.5 standard errors of a 4000-sample estimate.
    """
    teacher = GaussianBernoulliRBM(1, rng=0).initialize(2)
    teacher.set_parameters(weights=[[3.0], [-2.0]], visible_bias=[-1.0, 1.0],
                           hidden_bias=[-0.5 - (9 + 4) / 2 + 3.0 - (-2.0)],
                           sigma=[1.0, 1.0])
    w, means, _ = teacher.mixture()
    assert 0.2 < w[1] < 0.8  # both components matter
    rng = np.random.default_rng(9)
    X = teacher.sample(8000, n_steps=30, rng=rng)
    X_test = teacher.sample(4000, n_steps=30, rng=rng)
    student = GaussianBernoulliRBM(1, learning_rate=0.02, batch_size=100, n_epochs=60,
                                   schedule="linear", init_scale=0.1, rng=10).fit(X)
    gap = np.mean(teacher.score_samples(X_test)) - np.mean(student.score_samples(X_test))
    assert abs(gap) < 0.02, gap
    S = student.sample(4000, n_steps=50, rng=11)
    mean, cov = _mixture_moments(teacher)
    z = (S.mean(axis=0) - mean) / np.sqrt(np.diag(cov) / 4000)
    assert np.all(np.abs(z) < 4.5), z
    assert student.history_["log_likelihood"][-1] > student.history_["log_likelihood"][0]


@pytest.mark.parametrize("bad", [0, -1, 1.5, "3", None])
def test_invalid_n_hidden_raises(bad):
    model = GaussianBernoulliRBM(bad)        # stored untouched, checked by fit
    with pytest.raises(InvalidParameterError, match="n_hidden"):
        model.fit(np.zeros((5, 2)))


def test_bad_inputs_raise():
    m = _model()
    with pytest.raises(InvalidParameterError, match="has 4 features, but .* expecting 5"):
        m.free_energy(np.zeros((2, 4)))
    with pytest.raises(InvalidParameterError, match="finite"):
        m.free_energy(np.full((2, 5), np.nan))
    with pytest.raises(InvalidParameterError, match="shape"):
        m.free_energy(np.zeros(5))
    with pytest.raises(InvalidParameterError, match="sigma"):
        m.set_parameters(weights=m.weights, visible_bias=m.visible_bias,
                         hidden_bias=m.hidden_bias, sigma=-1.0)
    with pytest.raises(InvalidParameterError, match="sigma_init"):
        GaussianBernoulliRBM(2, sigma_init=0.0).fit(np.zeros((3, 2)))
    with pytest.raises(InvalidParameterError, match="no parameters"):
        GaussianBernoulliRBM(2).free_energy(np.zeros((1, 2)))
