"""Model files (round trip, provenance, foreign/corrupt files), checkpoint and
resume of fit, and validation of bad inputs."""

import h5py
import numpy as np
import pytest

import rbm
from mccore.errors import FileFormatError, InvalidParameterError, OutputExistsError
from rbm import BernoulliRBM, GaussianBernoulliRBM

SEED = 7


@pytest.fixture
def data():
    rng = np.random.default_rng(SEED)
    base = (rng.random((1, 9)) < 0.5)
    flips = rng.random((600, 9)) < 0.2
    return (base ^ flips).astype(np.uint8)


def test_bernoulli_round_trip(tmp_path, data):
    m = BernoulliRBM(4, n_epochs=3, batch_size=50, method="pt", n_temperatures=3,
                     rng=1).fit(data)
    path = rbm.save(m, tmp_path / "m.h5", metadata={"T": 2.269, "data_file": "d.h5",
                                                    "phase": "critical"})
    back = rbm.load(path)
    assert isinstance(back, BernoulliRBM)
    for name in ("weights", "visible_bias", "hidden_bias"):
        np.testing.assert_array_equal(getattr(back, name), getattr(m, name))
    assert back.hyperparameters() == m.hyperparameters()
    assert back.metadata_ == {"T": 2.269, "data_file": "d.h5", "phase": "critical"}
    assert back.history_["log_likelihood"] == pytest.approx(m.history_["log_likelihood"])
    np.testing.assert_allclose(back.score_samples(data[:5]), m.score_samples(data[:5]))
    with h5py.File(path) as f:
        assert f.attrs["format"] == "isingrbm-rbm"
        assert f.attrs["kind"] == "bernoulli"
        assert f.attrs["n_visible"] == 9 and f.attrs["n_hidden"] == 4
        assert len(f.attrs["training_data_hash"]) == 40
        assert "training_state" not in f


def test_gaussian_round_trip(tmp_path):
    m = GaussianBernoulliRBM(3, sigma_init=0.7, rng=2).initialize(4)
    m.set_parameters(weights=np.arange(12.0).reshape(4, 3) / 10, visible_bias=[1, 2, 3, 4],
                     hidden_bias=[0.5, -0.5, 0], sigma=[0.5, 1, 1.5, 2])
    back = rbm.load(rbm.save(m, tmp_path / "g.h5"))
    assert isinstance(back, GaussianBernoulliRBM)
    for name in ("weights", "visible_bias", "hidden_bias", "sigma"):
        np.testing.assert_array_equal(getattr(back, name), getattr(m, name))
    assert back.sigma_init == 0.7


def test_no_silent_overwrite(tmp_path, data):
    m = BernoulliRBM(2, n_epochs=1, rng=1).fit(data)
    path = rbm.save(m, tmp_path / "m.h5")
    before = path.read_bytes()
    with pytest.raises(OutputExistsError):
        rbm.save(m, path)
    assert path.read_bytes() == before
    rbm.save(m, path, overwrite=True)


def test_foreign_and_corrupt_files(tmp_path, data):
    # an Ising dataset file passed as a model
    ds = tmp_path / "data.h5"
    with h5py.File(ds, "w") as f:
        f.attrs["format"] = "isingrbm-ising"
        f.attrs["format_version"] = 1
        f.create_dataset("samples/T2.0/spins", data=np.ones((2, 3, 3), np.int8))
    with pytest.raises(FileFormatError, match="data.h5.*not an isingrbm RBM model"):
        rbm.load(ds)
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(FileFormatError, match="notes.txt.*not an HDF5 file"):
        rbm.load(text)
    # truncated file
    m = BernoulliRBM(2, n_epochs=1, rng=1).fit(data)
    good = rbm.save(m, tmp_path / "m.h5")
    cut = tmp_path / "cut.h5"
    cut.write_bytes(good.read_bytes()[:1000])
    with pytest.raises(FileFormatError, match="cut.h5"):
        rbm.load(cut)
    # misshapen and non-finite parameters, newer version
    for mutate, pattern in (
            (lambda f: (f.__delitem__("weights"), f.create_dataset("weights", data=np.zeros((3, 3)))),
             "/weights has shape"),
            (lambda f: f["hidden_bias"].__setitem__(0, np.nan), "/hidden_bias contains NaN"),
            (lambda f: f.attrs.__setitem__("format_version", 99), "format_version"),
            (lambda f: f.__delitem__("visible_bias"), "/visible_bias is missing")):
        bad = tmp_path / "bad.h5"
        bad.write_bytes(good.read_bytes())
        with h5py.File(bad, "a") as f:
            mutate(f)
        with pytest.raises(FileFormatError, match=pattern):
            rbm.load(bad)
    with pytest.raises(FileNotFoundError):
        rbm.load(tmp_path / "missing.h5")


@pytest.mark.parametrize("method", ["pcd", "pt"])
def test_checkpoint_resume_is_identical_to_an_uninterrupted_run(tmp_path, data, method):
    # stop at epoch 4, inside the parameter-averaging window (epochs 4-5)
    kw = dict(n_epochs=5, batch_size=40, method=method, n_temperatures=3,
              validation_fraction=0.1, average_fraction=0.4)
    full = BernoulliRBM(3, rng=11, **kw).fit(data)
    ck = tmp_path / "ck.h5"
    BernoulliRBM(3, rng=11, **kw).fit(data, checkpoint=ck, callback=lambda s: s.step == 4)
    assert rbm.load(ck).epochs_done_ == 4
    resumed = BernoulliRBM(3, rng=999, **kw).fit(data, checkpoint=ck, resume=True)
    np.testing.assert_array_equal(resumed.weights, full.weights)
    np.testing.assert_array_equal(resumed.persistent_chains_, full.persistent_chains_)
    assert resumed.history_["log_likelihood"] == pytest.approx(full.history_["log_likelihood"])
    # resuming with other data or other settings is refused
    with pytest.raises(InvalidParameterError, match="different data"):
        BernoulliRBM(3, rng=1, **kw).fit(1 - data, checkpoint=ck, resume=True)
    with pytest.raises(InvalidParameterError, match="n_hidden was 3, now 4"):
        BernoulliRBM(4, rng=1, **kw).fit(data, checkpoint=ck, resume=True)


@pytest.mark.parametrize("kwargs, pattern", [
    ({"n_hidden": 0}, "n_hidden must be an integer >= 1, got 0"),
    ({"n_hidden": 2.5}, "n_hidden"),
    ({"method": "gibbs"}, "method must be one of"),
    ({"learning_rate": -1}, "learning_rate"),
    ({"learning_rate": float("nan")}, "learning_rate"),
    ({"k": 0}, "k must be"),
    ({"batch_size": 0}, "batch_size"),
    ({"optimizer": "rmsprop"}, "optimizer"),
    ({"encoding": "spin"}, "encoding"),
    ({"validation_fraction": 1.0}, "validation_fraction"),
    ({"rng": "seed"}, "rng"),
])
def test_invalid_hyperparameters(kwargs, pattern):
    kwargs.setdefault("n_hidden", 3)
    model = BernoulliRBM(**kwargs)          # stored untouched (scikit-learn habit) ...
    assert model.get_params()[next(iter(kwargs))] is kwargs[next(iter(kwargs))]
    with pytest.raises(InvalidParameterError, match=pattern):
        model.fit(np.zeros((4, 3)))           # ... and checked by fit
    with pytest.raises(InvalidParameterError, match=pattern):
        model.initialize(3)


def test_bad_data(data):
    m = BernoulliRBM(3, n_epochs=1, rng=0)
    with pytest.raises(InvalidParameterError, match=r"Negative values.*v = \(s \+ 1\) / 2"):
        m.fit(2 * data.astype(float) - 1)  # spins instead of visible units
    with pytest.raises(InvalidParameterError, match="finite"):
        bad = data.astype(float)
        bad[0, 0] = np.nan
        m.fit(bad)
    with pytest.raises(InvalidParameterError, match="shape"):
        m.fit(data[0])
    with pytest.raises(InvalidParameterError, match="numeric"):
        m.fit(np.array([["a", "b"]]))
    m.fit(data)
    with pytest.raises(InvalidParameterError, match="has 4 features, but .* expecting 9"):
        m.free_energy(data[:, :4])
    with pytest.raises(InvalidParameterError, match="has 4 features, but .* expecting 9"):
        m.partial_fit(data[:, :4])
    with pytest.raises(InvalidParameterError, match="n_samples"):
        m.sample(0)
    with pytest.raises(InvalidParameterError, match="no parameters"):
        BernoulliRBM(3).transform(data)
    with pytest.raises(InvalidParameterError, match="ais"):
        BernoulliRBM(30, rng=0).initialize(30).log_partition(method="exact")


from hypothesis import given, settings, strategies as st  # noqa: E402


@settings(max_examples=40, deadline=None)
@given(n_hidden=st.integers(max_value=0), lr=st.floats(max_value=0.0, allow_nan=False),
       sigma=st.floats(max_value=0.0, allow_nan=False))
def test_out_of_range_settings_always_raise(n_hidden, lr, sigma):
    X = np.zeros((3, 2))
    with pytest.raises(InvalidParameterError):
        BernoulliRBM(n_hidden).fit(X)
    with pytest.raises(InvalidParameterError):
        BernoulliRBM(3, learning_rate=lr).fit(X)
    with pytest.raises(InvalidParameterError):
        GaussianBernoulliRBM(n_hidden).fit(X)
    with pytest.raises(InvalidParameterError):
        GaussianBernoulliRBM(2, sigma_init=sigma).fit(X)


@settings(max_examples=30, deadline=None)
@given(value=st.one_of(st.floats(max_value=-1e-300), st.integers(min_value=-10**6, max_value=-1),
                       st.sampled_from([np.nan, np.inf, -np.inf])))
def test_any_negative_or_non_finite_entry_is_rejected(value):
    X = np.zeros((4, 3))
    X[2, 1] = value
    with pytest.raises(InvalidParameterError):
        BernoulliRBM(2, n_epochs=1, rng=0).fit(X)
    m = BernoulliRBM(2, rng=0).initialize(3)
    with pytest.raises(InvalidParameterError):
        m.transform(X)


@settings(max_examples=20, deadline=None)
@given(value=st.floats(min_value=0.0, max_value=1.0))
def test_any_entry_in_the_unit_interval_is_accepted(value):
    """Visible probabilities, as scikit-learn's BernoulliRBM takes them."""
    X = np.zeros((4, 3))
    X[2, 1] = value
    m = BernoulliRBM(2, n_epochs=1, rng=0).fit(X)
    assert np.all(np.isfinite(m.transform(X))) and np.all(np.isfinite(m.score_samples(X)))
