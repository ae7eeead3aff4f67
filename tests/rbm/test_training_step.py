"""The fused training update of BernoulliRBM and the kernels behind it.

The gradient of one update (chains and data stacked into one weighted
matrix product) is checked against the sufficient statistics computed
separately; the Bernoulli draw against its probabilities; Adam and momentum
against the textbook update rules written out here in NumPy.
"""

import numpy as np
import pytest

from mccore.errors import InvalidParameterError
from rbm import BernoulliRBM
from rbm.bernoulli import _ENCODINGS
from rbm.negative_phase import InternalParams, _draw
from rbm.optim import SGD, Adam

from statistics_reference import sufficient_statistics


@pytest.mark.parametrize("fractional", [False, True])
@pytest.mark.parametrize("method", ["pcd", "pt"])
@pytest.mark.parametrize("encoding", sorted(_ENCODINGS))
def test_one_update_ascends_data_minus_chain_statistics(method, encoding, fractional):
    """With plain SGD (no momentum) and one minibatch holding all the data, the
    parameter change of one epoch is exactly ``lr * (<stats>_data -
    <stats>_chains)`` at the old parameters, where the chains are the negative
    samples the update used (kept as ``persistent_chains_``). Fractional data
    (visible probabilities, as in scikit-learn's BernoulliRBM) enter the data
    statistics as they are, while the chains stay bits."""
    rng = np.random.default_rng(5)
    X = (rng.random((37, 6)) < 0.4).astype(np.uint8)
    if fractional:
        X = np.where(X == 1, 0.9, 0.15) * rng.random((37, 6)) ** 0.1
    m = BernoulliRBM(4, method=method, k=2, n_chains=13, batch_size=64, optimizer="sgd",
                     momentum=0.0, learning_rate=0.05, encoding=encoding,
                     average_fraction=0.0, rng=3).initialize(6)
    m.set_parameters(weights=0.5 * rng.standard_normal((6, 4)),
                     visible_bias=0.3 * rng.standard_normal(6),
                     hidden_bias=0.3 * rng.standard_normal(4))
    before = m._to_internal()
    p = InternalParams(before["U"], before["c"], before["d"], *_ENCODINGS[encoding])
    m.partial_fit(X)
    after = m._to_internal()
    pos = sufficient_statistics(p.encode(X), p)
    neg = sufficient_statistics(p.encode(m.persistent_chains_), p)
    chains = m.persistent_chains_
    assert chains.dtype == np.uint8 and set(np.unique(chains)) <= {0, 1}
    for key in ("U", "c", "d"):
        np.testing.assert_allclose(after[key] - before[key], 0.05 * (pos[key] - neg[key]),
                                   rtol=1e-9, atol=1e-12)


def test_bernoulli_draw_frequencies():
    """P(bit = 1) = sigmoid(alpha x) for every encoding, within 5 binomial
    standard errors over 4 x 10^5 draws per unit."""
    x = np.array([[-2.0, -0.3, 0.0, 0.7, 3.0]])
    n = 400_000
    for alpha, beta0 in ((1.0, 0.0), (2.0, -1.0)):
        draws = _draw(np.repeat(x, n, axis=0), alpha, beta0, np.random.default_rng(9))
        assert set(np.unique(draws)) <= {beta0, alpha + beta0}
        freq = ((draws - beta0) / alpha).mean(axis=0)
        prob = 1.0 / (1.0 + np.exp(-alpha * x[0]))
        se = np.sqrt(prob * (1 - prob) / n)
        assert np.all(np.abs(freq - prob) < 5 * se)


def test_adam_matches_the_textbook_rule():
    """Kingma & Ba: m_t, v_t, bias-corrected m_hat / (sqrt(v_hat) + eps), ascent;
    also for a parameter that is a non-contiguous view (updated in place)."""
    rng = np.random.default_rng(2)
    base = rng.standard_normal((5, 4))
    params = {"w": base.T, "b": rng.standard_normal(3)}     # base.T is not C-contiguous
    ref = {k: v.copy() for k, v in params.items()}
    mom = {k: np.zeros_like(v) for k, v in ref.items()}
    sec = {k: np.zeros_like(v) for k, v in ref.items()}
    opt = Adam(0.01, beta1=0.8, beta2=0.99, eps=1e-6)
    for t in range(1, 5):
        grads = {k: rng.standard_normal(v.shape) for k, v in ref.items()}
        opt.step(params, grads)
        for k in ref:
            mom[k] = 0.8 * mom[k] + 0.2 * grads[k]
            sec[k] = 0.99 * sec[k] + 0.01 * grads[k] ** 2
            mhat = mom[k] / (1 - 0.8 ** t)
            vhat = sec[k] / (1 - 0.99 ** t)
            ref[k] = ref[k] + 0.01 * mhat / (np.sqrt(vhat) + 1e-6)
    for k in ref:
        np.testing.assert_allclose(params[k], ref[k], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(base.T, ref["w"], rtol=1e-12, atol=1e-14)


def test_momentum_matches_the_textbook_rule():
    rng = np.random.default_rng(4)
    params = {"w": rng.standard_normal((3, 2))}
    ref, vel = params["w"].copy(), np.zeros((3, 2))
    opt = SGD(0.1, momentum=0.7)
    for _ in range(4):
        g = rng.standard_normal((3, 2))
        opt.step(params, {"w": g})
        vel = 0.7 * vel + 0.1 * g
        ref = ref + vel
    np.testing.assert_allclose(params["w"], ref, rtol=1e-13)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64])
def test_values_are_checked_and_kept_before_any_conversion(dtype):
    """Binary training data is kept as uint8; a negative entry (-1, which a cast
    would wrap to 255) must be refused, and a fraction (0.5, which a cast would
    turn into 0) must reach training as it is."""
    X = np.zeros((4, 3), dtype=dtype)
    X[0] = 1
    negative = X.copy()
    negative[1, 2] = -1
    with pytest.raises(InvalidParameterError, match="Negative values"):
        BernoulliRBM(2, n_epochs=1, rng=0).fit(negative)
    with pytest.raises(InvalidParameterError, match="Negative values"):
        BernoulliRBM(2, rng=0).partial_fit(negative)
    if dtype != np.int64:
        half = X.copy()
        half[1, 2] = 0.5
        a = BernoulliRBM(2, n_epochs=1, rng=0).fit(half)
        b = BernoulliRBM(2, n_epochs=1, rng=0).fit(X)
        assert not np.array_equal(a.visible_bias, b.visible_bias)


def _blas_can_use_two_threads():
    from threadpoolctl import threadpool_info
    return any(i["user_api"] == "blas" and i["num_threads"] >= 2 for i in threadpool_info())


@pytest.mark.skipif(not _blas_can_use_two_threads(), reason="BLAS runs one thread here")
def test_same_seed_same_model_whatever_the_blas_thread_count():
    """OpenBLAS's float32 products of these shapes differ in the last bit
    between one and two threads, and the chains then diverge; training and
    sampling pin BLAS to one thread, so the results are bit-identical."""
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    X = ((rng.random((1500, 1)) < 0.5) ^ (rng.random((1500, 256)) < 0.15)).astype(np.uint8)
    out = []
    for threads in (1, 2):
        with threadpool_limits(threads, user_api="blas"):
            m = BernoulliRBM(64, n_epochs=2, dtype="float32", rng=3).fit(X)
            out.append((m.weights.copy(), m.sample(50, n_steps=20, rng=4)))
    np.testing.assert_array_equal(out[0][0], out[1][0])
    np.testing.assert_array_equal(out[0][1], out[1][1])


def test_auto_learning_rate_scales_with_the_visible_layer(tmp_path):
    """learning_rate="auto": 0.01 up to 16 visible units, then 0.04/sqrt(n_visible);
    the first epoch of the history uses it and model files keep "auto"."""
    import rbm

    assert BernoulliRBM(4).initialize(16).base_learning_rate == pytest.approx(0.01)
    assert BernoulliRBM(4).initialize(64).base_learning_rate == pytest.approx(0.005)
    assert BernoulliRBM(4).initialize(256).base_learning_rate == pytest.approx(0.0025)
    assert BernoulliRBM(4, learning_rate=0.3).initialize(256).base_learning_rate == 0.3
    with pytest.raises(InvalidParameterError, match="n_visible"):
        BernoulliRBM(4).base_learning_rate
    with pytest.raises(InvalidParameterError, match="learning_rate"):
        BernoulliRBM(4, learning_rate="fast").initialize(4)
    X = (np.random.default_rng(0).random((50, 64)) < 0.5).astype(np.uint8)
    m = BernoulliRBM(4, n_epochs=2, rng=0).fit(X)
    assert m.history_["learning_rate"][0] == pytest.approx(0.005)
    rbm.save(m, tmp_path / "m.h5")
    assert rbm.load(tmp_path / "m.h5").learning_rate == "auto"
