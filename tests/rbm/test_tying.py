"""Translation-tied Bernoulli RBMs (rbm.tying, BernoulliRBM(translation_tied=...)).

The projection is checked against finite differences of the exact
log-likelihood of the tied parametrization (L = 3, all 2^9 states summed by
the model's exact partition function); the periodic Ising model is built as
an exact tied RBM (one hidden unit per bond) and compared with
``ising.boltzmann_distribution``; a tied model trained on exact L = 4 samples
at T = 3.5 is compared with an untied one trained on the same data.
Conventions: k_B = J = 1, v = (s + 1) / 2 row-major, E = -sum over the 2N bonds.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from ising_reference import (
    all_states,
    boltzmann,
    draw_samples,
    ising_energies,
    model_kl,
)

import rbm
from mccore.errors import FileFormatError, InvalidParameterError
from rbm import BernoulliRBM
from rbm.tying import TranslationTying


def _random_tied(tying, rng, scale=0.3):
    U = tying.weights_from_filters(scale * rng.standard_normal((tying.alpha, tying.n_sites)))
    c = np.full(tying.n_sites, scale * rng.standard_normal())
    d = tying.hidden_bias_from_channels(scale * rng.standard_normal(tying.alpha))
    return U, c, d


# ----------------------------------------------------------------- structure
@pytest.mark.parametrize("shape", [(3, 3), (5,), (2, 3)])
def test_a_tied_model_is_translation_invariant(shape):
    tying = TranslationTying(shape, 2 * math.prod(shape))
    U, c, d = _random_tied(tying, np.random.default_rng(1))
    assert tying.is_tied(U, c, d)
    model = BernoulliRBM(n_hidden=tying.n_hidden, translation_tied=shape)
    model.initialize(tying.n_sites, rng=0)
    model._set_from_internal(U, c, d)
    V = all_states(tying.n_sites).reshape((-1, *shape))
    shifts = tuple(1 + i for i in range(len(shape)))
    moved = np.roll(V, shifts, axis=tuple(range(1, len(shape) + 1)))
    F = model.free_energy(V.reshape(V.shape[0], -1))
    F_moved = model.free_energy(moved.reshape(V.shape[0], -1))
    np.testing.assert_allclose(F_moved, F, rtol=0, atol=1e-12)


def test_projection_replaces_every_orbit_by_its_mean():
    tying = TranslationTying((3, 3), 18)
    G = np.random.default_rng(0).standard_normal((9, 18))
    expected = np.zeros((2, 9))
    for ch in range(2):
        for d in range(9):
            expected[ch, d] = np.mean([G[tying.plus[t, d], ch * 9 + t] for t in range(9)])
    c, b = np.arange(9.0), np.arange(18.0)
    tying.project(G, c, b)
    np.testing.assert_allclose(tying.filters(G), expected, rtol=1e-14)
    assert tying.is_tied(G, c, b)
    np.testing.assert_allclose(c, 4.0)
    np.testing.assert_allclose(b, np.repeat([4.0, 13.0], 9))


# ------------------------------------------------- the gradient of the tied model
def _internal_log_likelihood(model, V, U, c, d) -> float:
    model._set_from_internal(U, c, d)
    model.log_partition(method="exact")
    return float(np.mean(model.score_samples(V)))


def test_projected_gradient_is_the_gradient_of_the_tied_parametrization():
    """Exact dense gradient (data minus model averages over all 2^9 states, written
    here from the energy -c.s - d.g - s.U.g), projected, against central finite
    differences of the exact log-likelihood in the tied parameters, divided by
    the orbit sizes (N = 9 entries per filter value, per channel bias, and the
    visible bias)."""
    tying = TranslationTying((3, 3), 18)
    rng = np.random.default_rng(7)
    U, c, d = _random_tied(tying, rng)
    model = BernoulliRBM(n_hidden=18, translation_tied=(3, 3))
    model.initialize(9, rng=0)
    V = (rng.random((40, 9)) < 0.4).astype(np.float64)

    # exact dense gradient in the internal {-1, +1} coordinates
    S_all = 2.0 * all_states(9) - 1.0
    x_all = S_all @ U + d
    neg_f = S_all @ c + np.sum(np.logaddexp(x_all, -x_all), axis=1)
    p = np.exp(neg_f - neg_f.max())
    p /= p.sum()
    S = 2.0 * V - 1.0
    tanh_data, tanh_all = np.tanh(S @ U + d), np.tanh(x_all)
    gU = S.T @ tanh_data / len(S) - S_all.T @ (p[:, None] * tanh_all)
    gc = S.mean(axis=0) - p @ S_all
    gd = tanh_data.mean(axis=0) - p @ tanh_all
    tying.project(gU, gc, gd)

    filters = tying.filters(U)
    channel_bias, visible_bias = d[::9].copy(), c[0]
    h = 1e-5

    def ll(f, db, cb):
        return _internal_log_likelihood(model, V, tying.weights_from_filters(f),
                                        np.full(9, cb), tying.hidden_bias_from_channels(db))

    fd_filters = np.zeros_like(filters)
    for ch in range(2):
        for off in range(9):
            up, down = filters.copy(), filters.copy()
            up[ch, off] += h
            down[ch, off] -= h
            fd_filters[ch, off] = (ll(up, channel_bias, visible_bias)
                                   - ll(down, channel_bias, visible_bias)) / (2 * h)
    fd_channels = np.zeros(2)
    for ch in range(2):
        up, down = channel_bias.copy(), channel_bias.copy()
        up[ch] += h
        down[ch] -= h
        fd_channels[ch] = (ll(filters, up, visible_bias) - ll(filters, down, visible_bias)) / (2 * h)
    fd_visible = (ll(filters, channel_bias, visible_bias + h)
                  - ll(filters, channel_bias, visible_bias - h)) / (2 * h)

    np.testing.assert_allclose(tying.filters(gU), fd_filters / 9, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(gd[::9], fd_channels / 9, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(gc[0], fd_visible / 9, rtol=1e-6, atol=1e-9)
    assert tying.is_tied(gU, gc, gd)


# ---------------------------------------------------- the exact Ising mapping
@pytest.mark.parametrize("T", [1.5, 2.269, 3.5])
def test_the_periodic_ising_model_is_an_exact_tied_rbm_with_two_channels(T):
    """One hidden unit h in {0, 1} per bond (i, j), weight w to both sites, bias -w, and
    -w/2 per bond on each visible unit: with x = v_i + v_j the bond's factor is
    sum_h e^{h w (x - 1)} e^{-w x / 2} = 1 + e^{-w} for x = 0 and 2 (equal spins) and
    2 e^{-w/2} for x = 1, a ratio cosh(w / 2), which is e^{2K} = e^{K} / e^{-K} for
    w = 2 arccosh(e^{2K}): the Boltzmann weight up to a constant."""
    import ising

    L, K = 3, 1.0 / T
    w = 2.0 * math.acosh(math.exp(2.0 * K))
    tying = TranslationTying((L, L), 2 * L * L)
    filters = np.zeros((2, L * L))
    filters[:, 0] = w
    filters[0, 1] = w          # offset (0, 1): the right neighbour
    filters[1, L] = w          # offset (1, 0): the lower neighbour
    model = BernoulliRBM(n_hidden=2 * L * L, translation_tied=(L, L))
    model.set_parameters(weights=tying.weights_from_filters(filters),
                         visible_bias=np.full(L * L, -2.0 * w),   # 4 bonds per site
                         hidden_bias=tying.hidden_bias_from_channels([-w, -w]))
    log_p = model.score_samples(all_states(L * L))
    np.testing.assert_allclose(log_p, np.log(ising.boltzmann_distribution(L, T)),
                               rtol=0, atol=1e-11)


# -------------------------------------------------------------------- training
@pytest.mark.parametrize("method, optimizer, dtype",
                         [("cd", "adam", "float64"), ("pcd", "sgd", "float64"),
                          ("pt", "adam", "float32")])
def test_parameters_stay_exactly_tied_through_training(method, optimizer, dtype):
    X = draw_samples(3, 2.5, 600, np.random.default_rng(3))
    model = BernoulliRBM(n_hidden=18, translation_tied=(3, 3), method=method,
                         optimizer=optimizer, dtype=dtype, n_epochs=4, weight_decay=1e-3,
                         n_chains=20, rng=5).fit(X)
    tying = TranslationTying((3, 3), 18)
    q = model._to_internal()
    assert tying.is_tied(model.weights, model.visible_bias, model.hidden_bias)
    assert tying.is_tied(q["U"], q["c"], q["d"])
    assert not np.allclose(model.weights, model.weights[0, 0])   # it has learned


def test_resume_of_a_tied_run_is_bit_identical(tmp_path):
    X = draw_samples(3, 2.5, 400, np.random.default_rng(4))
    settings = {"n_hidden": 9, "translation_tied": (3, 3), "n_epochs": 4, "rng": 2}
    whole = BernoulliRBM(**settings).fit(X)
    checkpoint = tmp_path / "run.h5"
    stopped = BernoulliRBM(**settings).fit(X, checkpoint=checkpoint,
                                           callback=lambda step: step.step == 2)
    assert stopped.epochs_done_ == 2
    resumed = BernoulliRBM(**settings).fit(X, checkpoint=checkpoint, resume=True)
    assert resumed.weights.tobytes() == whole.weights.tobytes()
    assert resumed.visible_bias.tobytes() == whole.visible_bias.tobytes()
    refused = BernoulliRBM(**{**settings, "translation_tied": None})
    with pytest.raises(InvalidParameterError, match="translation_tied"):
        refused.fit(X, checkpoint=checkpoint, resume=True)


def test_tied_model_learns_L4_ising_at_T3_5_better_than_an_untied_one():
    """Same 2000 exact samples (L = 4, T = 3.5), same settings, 32 hidden units: the
    tied model's exact KL is under half the untied one's, and its exact e and <m^2>
    are within 3 standard errors of the data's mean of the exact values."""
    L, T, n = 4, 3.5, 2000
    p = boltzmann(L, T)
    E, M = ising_energies(L)
    idx = np.random.default_rng(11).choice(p.size, size=n, p=p)
    X = all_states(L * L)[idx]
    e, m2 = E / L**2, (M / L**2) ** 2
    results = {}
    for tied in (None, (L, L)):
        model = BernoulliRBM(n_hidden=2 * L * L, translation_tied=tied, n_epochs=40,
                             rng=1).fit(X)
        logq = -model.free_energy(all_states(L * L))
        q = np.exp(logq - logq.max())
        q /= q.sum()
        results[tied] = {"kl": model_kl(p, model), "e": q @ e, "m2": q @ m2}
    tied, dense = results[(L, L)], results[None]
    assert tied["kl"] < 0.5 * dense["kl"], (tied, dense)
    for key, values in (("e", e), ("m2", m2)):
        se = values[idx].std(ddof=1) / math.sqrt(n)
        assert abs(tied[key] - p @ values) < 3 * se, (key, tied[key], p @ values, se)


# ------------------------------------------------------------ files, validation
def test_model_files_record_the_tying_and_old_files_still_load(tmp_path):
    X = draw_samples(3, 2.5, 300, np.random.default_rng(5))
    model = BernoulliRBM(n_hidden=18, translation_tied=(3, 3), n_epochs=2, rng=0).fit(X)
    rbm.save(model, tmp_path / "tied.h5")
    back = rbm.load(tmp_path / "tied.h5")
    assert back.translation_tied == (3, 3)
    assert back.hyperparameters() == model.hyperparameters()
    assert np.array_equal(back.weights, model.weights)
    untied = BernoulliRBM(n_hidden=18, n_epochs=1, rng=0).fit(X)
    assert "translation_tied" not in untied.hyperparameters()     # files read as before
    rbm.save(untied, tmp_path / "plain.h5")
    assert rbm.load(tmp_path / "plain.h5").translation_tied is None


def test_a_file_claiming_tying_with_untied_parameters_is_refused(tmp_path):
    import h5py

    X = draw_samples(3, 2.5, 300, np.random.default_rng(6))
    model = BernoulliRBM(n_hidden=18, translation_tied=(3, 3), n_epochs=1, rng=0).fit(X)
    path = tmp_path / "tied.h5"
    rbm.save(model, path)
    with h5py.File(path, "r+") as f:
        f["weights"][0, 0] += 0.5
    with pytest.raises(FileFormatError, match="tied"):
        rbm.load(path)


@pytest.mark.parametrize("settings, message", [
    ({"n_hidden": 10, "translation_tied": (3, 3)}, "n_hidden must be a multiple of the 9 sites"),
    ({"n_hidden": 9, "translation_tied": (3, 0)}, "translation_tied must be None or a lattice"),
    ({"n_hidden": 9, "translation_tied": "3x3"}, "translation_tied must be None or a lattice"),
])
def test_bad_tying_settings_are_refused_in_one_message(settings, message):
    with pytest.raises(InvalidParameterError, match=message):
        BernoulliRBM.check_hyperparameters(**settings)


def test_a_lattice_of_other_size_than_the_data_is_refused():
    X = draw_samples(3, 2.5, 50, np.random.default_rng(0))
    with pytest.raises(InvalidParameterError, match="has 16 sites, but there are 9"):
        BernoulliRBM(n_hidden=16, translation_tied=(4, 4)).fit(X)
