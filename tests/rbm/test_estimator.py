"""The RBMs as scikit-learn estimators, their randomness convention and their
training-loop contract (callback, early stop, checkpoint, resume that may
extend a run, Ctrl-C).

scikit-learn's own ``check_estimator`` suite runs on both RBMs as their
default constructors make them, with no expected failure: the binary RBM
takes data in [0, 1] as scikit-learn's BernoulliRBM does (its
``positive_only`` tag says that negative values are refused), and the
checks fix the seed through ``random_state``, scikit-learn's name for the
``rng`` hyperparameter. scikit-learn itself skips ``check_array_api_input``
unless the environment variable ``SCIPY_ARRAY_API=1`` is set (the RBMs are
NumPy-only; they do not claim array-API support).
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

import rbm
from mccore.errors import InvalidParameterError
from mccore.training import TrainingStep
from rbm import BernoulliRBM, GaussianBernoulliRBM
from rbm.partition import binary_states


@parametrize_with_checks([BernoulliRBM(), GaussianBernoulliRBM()])
def test_scikit_learn_check_estimator(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(4)
    mode = rng.random(300) < 0.5
    return (mode[:, None] ^ (rng.random((300, 8)) < 0.2)).astype(np.uint8)


@pytest.fixture(scope="module")
def digits():
    """scikit-learn's 8 x 8 digits (bundled, no download), pixels > 8 of 16 -> 1."""
    from sklearn.datasets import load_digits
    X, y = load_digits(return_X_y=True)
    return (X > 8).astype(np.uint8)[:900], y[:900]


# --------------------------------------------------------- scikit-learn use
def test_pipeline_with_logistic_regression_on_binarized_digits(digits):
    """The classic use: RBM features -> logistic regression. On 600 training and
    300 test digits 32 hidden features classify far above chance (10 %; measured
    0.75 with this seed, raw pixels 0.86)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    X, y = digits
    pipe = Pipeline([("rbm", BernoulliRBM(32, n_epochs=6, rng=0)),
                     ("clf", LogisticRegression(max_iter=2000))])
    pipe.fit(X[:600], y[:600])
    accuracy = pipe.score(X[600:], y[600:])
    assert accuracy > 0.6, accuracy
    assert pipe.named_steps["rbm"].transform(X[:5]).shape == (5, 32)


def test_clone_and_grid_search_over_n_hidden(digits):
    """clone keeps the hyperparameters and drops the fit; GridSearchCV selects by
    ``score`` (the exact mean log-likelihood here, 64 visible, <= 12 hidden):
    12 hidden units describe held-out digits better than 1 (measured by 1.1
    nats per image, the folds' spread 0.1-0.2)."""
    from sklearn.model_selection import GridSearchCV

    X, _ = digits
    model = BernoulliRBM(4, n_epochs=5, rng=3).fit(X[:200])
    twin = clone(model)
    assert twin.get_params() == model.get_params()
    assert twin.weights is None and not hasattr(twin, "n_features_in_")
    search = GridSearchCV(BernoulliRBM(n_epochs=10, rng=1), {"n_hidden": [1, 12]}, cv=3)
    search.fit(X[:450])
    assert search.best_params_ == {"n_hidden": 12}
    scores = search.cv_results_["mean_test_score"]
    assert np.all(np.isfinite(scores)) and scores[1] > scores[0] + 0.5


def test_score_is_the_exact_mean_log_likelihood_when_log_z_is_exact(data):
    """Small model: exp(score_samples) sums to 1 over all 2^8 states, and score
    is their mean on X; deterministic."""
    m = BernoulliRBM(3, n_epochs=2, rng=0).fit(data)
    states = binary_states(8)
    assert np.exp(m.score_samples(states)).sum() == pytest.approx(1.0, rel=1e-10)
    assert m.score(data) == pytest.approx(np.mean(m.score_samples(data)), rel=1e-12)
    assert m.score(data) == m.score(data)
    g = GaussianBernoulliRBM(2, n_epochs=2, rng=0).fit(np.random.default_rng(0).normal(
        size=(100, 3)))
    assert g.score(np.zeros((4, 3))) == pytest.approx(float(g.score_samples(np.zeros((1, 3)))[0]))


def test_score_falls_back_to_ais_then_to_the_pseudo_likelihood():
    """Both layers > 25 units: no exact log Z. Without an AIS estimate the score is
    the mean all-site pseudo-log-likelihood; after ``log_partition('ais')`` it is
    -F - log Z(AIS)."""
    rng = np.random.default_rng(1)
    m = BernoulliRBM(26, rng=0).initialize(26)
    m.set_parameters(weights=0.1 * rng.standard_normal((26, 26)),
                     visible_bias=np.zeros(26), hidden_bias=np.zeros(26))
    X = (rng.random((20, 26)) < 0.5).astype(np.uint8)
    assert m.score(X) == pytest.approx(np.mean(m.pseudo_log_likelihood(X)))
    est = m.log_partition(method="ais", n_runs=10, n_betas=200)
    assert m.score(X) == pytest.approx(np.mean(-m.free_energy(X)) - est.mean)


# -------------------------------------------------------------- randomness
def test_no_hidden_generator_and_rng_stored_untouched():
    g = np.random.default_rng(5)
    state = g.bit_generator.state
    m = BernoulliRBM(3, rng=g)
    assert m.rng is g and m.get_params()["rng"] is g
    assert g.bit_generator.state == state          # not consumed by __init__
    assert not hasattr(m, "rng_")
    assert not hasattr(GaussianBernoulliRBM(2, rng=g), "rng_")


@pytest.mark.parametrize("cls, make", [
    (BernoulliRBM, lambda rng: (rng.random((200, 6)) < 0.4).astype(np.uint8)),
    (GaussianBernoulliRBM, lambda rng: rng.normal(size=(200, 6)))])
def test_calls_do_not_disturb_one_another(cls, make):
    """A fit after sample()/gibbs/log_partition gives the same weights as the
    same fit alone; two models given one int seed never share a stream."""
    X = make(np.random.default_rng(0))
    alone = cls(3, n_epochs=3, rng=7).fit(X)
    busy = cls(3, n_epochs=3, rng=7).fit(X)
    first = busy.sample(5, n_steps=3)
    busy.sample(50, n_steps=10)
    busy.log_partition()
    busy.fit(X)
    np.testing.assert_array_equal(busy.weights, alone.weights)
    # sample() with the model's int seed: its own stream, the same on every call
    np.testing.assert_array_equal(busy.sample(5, n_steps=3), first)
    # a second model with the same seed, fitted after the first was used
    other = cls(3, n_epochs=3, rng=7)
    alone.sample(20, n_steps=5)
    other.fit(X)
    np.testing.assert_array_equal(other.weights, alone.weights)
    assert busy.seed_ == 7


@pytest.mark.parametrize("cls", [BernoulliRBM, GaussianBernoulliRBM])
def test_random_state_is_scikit_learns_name_for_rng(data, cls):
    """scikit-learn's tools fix a seed through ``random_state``: it means what
    ``rng`` means (same fit, same recorded seed), both are stored untouched,
    and giving both is refused."""
    X = data if cls is BernoulliRBM else data + 0.1
    a = cls(3, n_epochs=2, rng=5).fit(X)
    b = cls(3, n_epochs=2, random_state=5).fit(X)
    c = clone(cls(3, n_epochs=2)).set_params(random_state=5).fit(X)
    for other in (b, c):
        np.testing.assert_array_equal(other.weights, a.weights)
        assert other.seed_ == a.seed_ == 5
    np.testing.assert_array_equal(b.sample(3, n_steps=2), a.sample(3, n_steps=2))
    g = np.random.default_rng(1)
    assert cls(3, random_state=g).get_params()["random_state"] is g
    with pytest.raises(InvalidParameterError, match="not both"):
        cls(3, n_epochs=1, rng=1, random_state=1).fit(X)
    with pytest.raises(InvalidParameterError, match="random_state must be"):
        cls(3, n_epochs=1, random_state=-1).fit(X)


def test_tags_say_what_the_estimators_accept():
    """The binary RBM refuses negative values (scikit-learn's ``positive_only``);
    both are deterministic given a fixed seed (scikit-learn's meaning of
    ``non_deterministic``)."""
    from sklearn.utils import get_tags

    assert get_tags(BernoulliRBM()).input_tags.positive_only
    assert not get_tags(GaussianBernoulliRBM()).input_tags.positive_only
    for model in (BernoulliRBM(), GaussianBernoulliRBM()):
        assert not get_tags(model).non_deterministic
        assert get_tags(model).transformer_tags is not None


def test_fractional_data_are_visible_probabilities_as_in_scikit_learn():
    """Values in [0, 1]: ``transform`` is scikit-learn's BernoulliRBM's
    ``sigmoid(b + v W)`` for the same parameters, and the free energy is
    ``-a.v - sum_j softplus(b_j + (v W)_j)`` at fractional ``v`` too."""
    from sklearn.neural_network import BernoulliRBM as SklearnRBM

    rng = np.random.default_rng(3)
    X = rng.random((30, 5))
    ours = BernoulliRBM(4, n_epochs=3, batch_size=10, rng=0).fit(X)
    theirs = SklearnRBM(n_components=4)
    theirs.components_ = ours.weights.T.copy()
    theirs.intercept_hidden_ = ours.hidden_bias.copy()
    theirs.intercept_visible_ = ours.visible_bias.copy()
    np.testing.assert_allclose(ours.transform(X), theirs.transform(X), rtol=1e-12)
    pre = X @ ours.weights + ours.hidden_bias
    np.testing.assert_allclose(ours.free_energy(X), -(X @ ours.visible_bias)
                               - np.logaddexp(0.0, pre).sum(axis=1), rtol=1e-12)


def test_fresh_entropy_is_recorded_and_reproduces_the_fit(tmp_path, data):
    m = BernoulliRBM(3, n_epochs=2).fit(data)
    assert isinstance(m.seed_, int) and m.seed_ >= 0
    again = BernoulliRBM(3, n_epochs=2, rng=m.seed_).fit(data)
    np.testing.assert_array_equal(again.weights, m.weights)
    other = BernoulliRBM(3, n_epochs=2).fit(data)
    assert other.seed_ != m.seed_
    assert rbm.load(rbm.save(m, tmp_path / "m.h5")).seed_ == m.seed_


def test_a_call_rng_argument_overrides_the_hyperparameter(data):
    m = BernoulliRBM(3, n_epochs=1, rng=0).fit(data)
    a = m.sample(4, n_steps=2, rng=11)
    np.testing.assert_array_equal(a, m.sample(4, n_steps=2, rng=11))
    assert not np.array_equal(m.sample(40, n_steps=2, rng=11), m.sample(40, n_steps=2, rng=12))


# ------------------------------------------------------ the training loop
def _kw(**extra):
    kw = {"n_epochs": 5, "batch_size": 40, "method": "pcd", "n_chains": 20,
          "schedule": "constant", "average_fraction": 0.0}
    kw.update(extra)
    return kw


def test_callback_gets_a_training_step_and_true_stops_early(data):
    seen = []

    def callback(step):
        seen.append(step)
        return step.step == 2

    m = BernoulliRBM(3, rng=0, **_kw()).fit(data, callback=callback)
    assert [s.step for s in seen] == [1, 2] and m.epochs_done_ == 2 and m.stopped_early_
    assert isinstance(seen[0], TrainingStep) and seen[0].n_steps == 5 and seen[0].model is m
    assert seen[1].metrics["log_likelihood"] == m.history_["log_likelihood"][-1]


@pytest.mark.parametrize("cls", [BernoulliRBM, GaussianBernoulliRBM])
def test_resume_extends_a_finished_run(tmp_path, data, cls):
    """A finished 3-epoch run resumed with n_epochs=5 trains 2 more epochs; with a
    constant learning rate and no averaging that is bit for bit the 5-epoch run."""
    X = data if cls is BernoulliRBM else data + 0.1 * np.random.default_rng(2).normal(
        size=data.shape)
    kw = _kw() if cls is BernoulliRBM else {"n_epochs": 5, "batch_size": 40,
                                                   "schedule": "constant"}
    full = cls(3, rng=4, **kw).fit(X)
    ck = tmp_path / "ck.h5"
    short = cls(3, rng=4, **{**kw, "n_epochs": 3}).fit(X, checkpoint=ck)
    assert short.epochs_done_ == 3 and rbm.load(ck).epochs_done_ == 3
    steps = []
    longer = cls(3, rng=4, **kw).fit(X, checkpoint=ck, resume=True,
                                     callback=lambda s: steps.append(s.step))
    assert steps == [4, 5] and longer.epochs_done_ == 5
    np.testing.assert_array_equal(longer.weights, full.weights)
    np.testing.assert_array_equal(longer.visible_bias, full.visible_bias)
    assert longer.history_["log_likelihood"] == full.history_["log_likelihood"]


def test_resume_of_a_finished_run_returns_it_and_a_shorter_run_is_refused(tmp_path, data):
    ck = tmp_path / "ck.h5"
    done = BernoulliRBM(3, rng=1, **_kw(n_epochs=3)).fit(data, checkpoint=ck)
    steps = []
    again = BernoulliRBM(3, rng=1, **_kw(n_epochs=3)).fit(
        data, checkpoint=ck, resume=True, callback=lambda s: steps.append(s.step))
    assert steps == [] and again.epochs_done_ == 3 and not again.interrupted_
    np.testing.assert_array_equal(again.weights, done.weights)
    with pytest.raises(InvalidParameterError, match="n_epochs must be >= the 3 epochs"):
        BernoulliRBM(3, rng=1, **_kw(n_epochs=2)).fit(data, checkpoint=ck, resume=True)
    with pytest.raises(InvalidParameterError, match="k was 5, now 2"):
        BernoulliRBM(3, rng=1, **_kw(k=2)).fit(data, checkpoint=ck, resume=True)


def test_ctrl_c_from_a_callback_returns_the_partial_model_with_a_checkpoint(tmp_path, data):
    full = BernoulliRBM(3, rng=2, **_kw()).fit(data)
    ck = tmp_path / "ck.h5"

    def interrupt(step):
        if step.step == 2:
            raise KeyboardInterrupt

    part = BernoulliRBM(3, rng=2, **_kw()).fit(data, checkpoint=ck, checkpoint_every=10,
                                               callback=interrupt)
    assert part.interrupted_ and part.epochs_done_ == 2 and rbm.load(ck).epochs_done_ == 2
    resumed = BernoulliRBM(3, rng=2, **_kw()).fit(data, checkpoint=ck, resume=True)
    np.testing.assert_array_equal(resumed.weights, full.weights)


@pytest.mark.parametrize("method", ["cd", "pcd", "pt"])
def test_ctrl_c_inside_an_epoch_rolls_it_back(tmp_path, data, method, monkeypatch):
    """KeyboardInterrupt in the middle of epoch 3 (after optimizer steps, chain
    moves and random draws of that epoch): the model and its checkpoint are
    those of epoch 2, and the resumed run is bit for bit the uninterrupted one."""
    from rbm.optim import Adam

    kw = _kw(method=method, n_temperatures=3, average_fraction=0.4, schedule="linear")
    full = BernoulliRBM(3, rng=6, **kw).fit(data)
    after_two = BernoulliRBM(3, rng=6, **kw).fit(data, callback=lambda s: s.step == 2)
    original, calls = Adam.step, []
    n_per_epoch = -(-data.shape[0] // kw["batch_size"])

    def step(self, *a, **k):
        calls.append(1)
        if len(calls) == 2 * n_per_epoch + 3:
            raise KeyboardInterrupt
        return original(self, *a, **k)

    monkeypatch.setattr(Adam, "step", step)
    ck = tmp_path / "ck.h5"
    part = BernoulliRBM(3, rng=6, **kw).fit(data, checkpoint=ck)
    monkeypatch.setattr(Adam, "step", original)
    assert part.interrupted_ and part.epochs_done_ == 2 and rbm.load(ck).epochs_done_ == 2
    np.testing.assert_array_equal(part.weights, after_two.weights)
    resumed = BernoulliRBM(3, rng=6, **kw).fit(data, checkpoint=ck, resume=True)
    np.testing.assert_array_equal(resumed.weights, full.weights)
    if method != "cd":
        np.testing.assert_array_equal(resumed.persistent_chains_, full.persistent_chains_)
