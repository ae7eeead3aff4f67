"""IsingGAN: shapes and values, validation, seeding, model files (weights_only),
checkpoint/resume, missing torch, and short L = 8 trainings against Monte Carlo."""

import pickle
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from gan_testdata import (
    TINY,
    abs_magnetization_per_spin,
    energy_per_spin,
    metropolis_spins,
)

import gan
from mccore.errors import (
    FileFormatError,
    InvalidParameterError,
    MissingDependencyError,
    OutputExistsError,
)

# Epochs of the slow physics tests (see the measurements in IsingGAN's Notes).
EPOCHS_L8 = 40
EPOCHS_COND = 30


@pytest.fixture(scope="module")
def tiny_model(tiny_data):
    return gan.IsingGAN(4, n_epochs=2, rng=11, snapshot_epochs=[1], **TINY).fit(tiny_data)


def _weights(model):
    return {k: v.clone() for k, v in model._generator.state_dict().items()} | \
        {"D." + k: v.clone() for k, v in model._discriminator.state_dict().items()}


def _same_weights(a, b):
    wa, wb = _weights(a), _weights(b)
    return wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)


def test_sample_shape_dtype_values(tiny_model):
    for mode in ("bernoulli", "sign"):
        s = tiny_model.sample(37, rng=1, mode=mode)
        assert s.shape == (37, 4, 4) and s.dtype == np.int8
        assert set(np.unique(s)) <= {-1, 1}


def test_generation_rules_agree_with_mean(tiny_data):
    """With the independent draw, Bernoulli draws average to the generator's
    mean spin tanh(a); sign() is its sign (the checkerboard draw's rules:
    test_gan_draw.py)."""
    tiny_model = gan.IsingGAN(4, n_epochs=2, rng=11, draw="independent", **TINY).fit(tiny_data)
    z = tiny_model.latent_vectors(1, rng=3)
    zs = np.repeat(z, 4000, axis=0)
    mean = tiny_model.generate(z, mode="mean")[0]
    draws = tiny_model.generate(zs, mode="bernoulli", rng=4).astype(float)
    sigma = np.sqrt((1 - mean**2) / len(zs)) + 1e-12
    assert np.all(np.abs(draws.mean(axis=0) - mean) < 4.5 * sigma + 1e-9)
    signs = tiny_model.generate(z, mode="sign")[0]
    assert np.array_equal(signs, np.where(mean >= 0, 1, -1))


def test_same_seed_same_model_and_samples(tiny_data, tiny_model):
    again = gan.IsingGAN(4, n_epochs=2, rng=11, snapshot_epochs=[1], **TINY).fit(tiny_data)
    assert _same_weights(tiny_model, again)
    assert np.array_equal(tiny_model.sample(50, rng=2), again.sample(50, rng=2))
    assert np.array_equal(tiny_model.sample(50, rng=2), tiny_model.sample(50, rng=2,
                                                                            batch_size=7))
    other = gan.IsingGAN(4, n_epochs=2, rng=12, **TINY).fit(tiny_data)
    assert not _same_weights(tiny_model, other)
    assert not np.array_equal(tiny_model.sample(50, rng=2), tiny_model.sample(50, rng=3))


def test_save_load_round_trip_weights_only(tiny_model, tmp_path):
    path = tiny_model.save(tmp_path / "m.pt", metadata={"T": 2.0, "data": "x.h5"})
    # the file opens with the safe loader (no code executed)
    payload = torch.load(path, weights_only=True)
    assert payload["format"] == "isingrbm-gan"
    back = gan.IsingGAN.load(path)
    assert _same_weights(tiny_model, back)
    assert back.get_params() == tiny_model.get_params()
    assert back.metadata_ == {"T": 2.0, "data": "x.h5"}
    assert back.history_["loss_generator"] == tiny_model.history_["loss_generator"]
    assert sorted(back.history_["snapshots"]) == [1, 2]
    assert np.array_equal(back.history_["snapshots"][1], tiny_model.history_["snapshots"][1])
    assert np.array_equal(back.sample(20, rng=9), tiny_model.sample(20, rng=9))
    with pytest.raises(OutputExistsError):
        tiny_model.save(path)


class _Evil:
    def __reduce__(self):
        return (print, ("code ran",))


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_load_refuses_pickles_and_foreign_files(tmp_path, capsys):
    evil = tmp_path / "evil.pt"
    torch.save({"format": "isingrbm-gan", "x": _Evil()}, evil)
    with pytest.raises(FileFormatError, match="evil.pt"):
        gan.IsingGAN.load(evil)
    assert "code ran" not in capsys.readouterr().out
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a model")
    with pytest.raises(FileFormatError, match="junk.pt"):
        gan.IsingGAN.load(junk)
    foreign = tmp_path / "foreign.pt"
    torch.save({"format": "something-else"}, foreign)
    with pytest.raises(FileFormatError, match="foreign.pt"):
        gan.IsingGAN.load(foreign)
    plain = tmp_path / "plain.pkl"
    plain.write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(FileFormatError):
        gan.IsingGAN.load(plain)


def test_resume_from_checkpoint_equals_uninterrupted(tiny_data, tmp_path):
    full = gan.IsingGAN(4, n_epochs=3, rng=7, **TINY).fit(tiny_data)
    ckpt = tmp_path / "run.ckpt"
    gan.IsingGAN(4, n_epochs=1, rng=7, **TINY).fit(tiny_data, checkpoint=ckpt)
    resumed = gan.IsingGAN(4, n_epochs=3, rng=7, **TINY).fit(tiny_data, checkpoint=ckpt,
                                                               resume=True)
    assert resumed.n_epochs_trained_ == 3
    assert _same_weights(full, resumed)
    assert resumed.history_["loss_discriminator"] == full.history_["loss_discriminator"]
    # the checkpoint was rewritten at the end and is itself a loadable model
    assert gan.IsingGAN.load(ckpt).n_epochs_trained_ == 3


def test_resume_refuses_other_data_or_hyperparameters(tiny_data, tmp_path):
    ckpt = tmp_path / "run.ckpt"
    gan.IsingGAN(4, n_epochs=1, rng=7, **TINY).fit(tiny_data, checkpoint=ckpt)
    with pytest.raises(InvalidParameterError, match="different data"):
        gan.IsingGAN(4, n_epochs=2, rng=7, **TINY).fit(-tiny_data, checkpoint=ckpt,
                                                         resume=True)
    with pytest.raises(InvalidParameterError, match="seed"):
        gan.IsingGAN(4, n_epochs=2, rng=8, **TINY).fit(tiny_data, checkpoint=ckpt,
                                                         resume=True)


@pytest.mark.parametrize("kwargs", [dict(L=1), dict(L=4, n_epochs=0), dict(L=4, batch_size=1),
                                    dict(L=4, label_smoothing=0.3), dict(L=4, generation="x"),
                                    dict(L=4, learning_rate_generator=-1.0),
                                    dict(L=4, snapshot_epochs=[0])])
def test_invalid_hyperparameters(kwargs):
    with pytest.raises(InvalidParameterError):
        gan.IsingGAN(**kwargs)


def test_invalid_data(tiny_model):
    model = gan.IsingGAN(4, n_epochs=1, rng=1, **TINY)
    with pytest.raises(InvalidParameterError, match=r"^spins must have shape \(n, 4, 4\), "
                                                    r"got shape \(10, 5, 5\)$"):
        model.fit(np.ones((10, 5, 5), dtype=np.int8))
    with pytest.raises(InvalidParameterError, match=r"^spins must hold at least 2 "):
        model.fit(np.ones((1, 4, 4), dtype=np.int8))
    with pytest.raises(InvalidParameterError, match=r"^spins must be in \{-1, \+1\}$"):
        model.fit(np.zeros((10, 4, 4), dtype=np.int8))
    with pytest.raises(InvalidParameterError, match="not fitted"):
        model.sample(3)


def test_missing_torch_gives_one_line_install_hint(monkeypatch, tiny_data):
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(MissingDependencyError) as info:
        gan.IsingGAN(4, n_epochs=1, rng=1, **TINY).fit(tiny_data)
    message = str(info.value)
    assert "\n" not in message and "pip install 'torch>=2.3'" in message
    assert not gan.torch_available()


def test_import_gan_does_not_import_torch():
    import subprocess
    code = "import sys, gan; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=str(__import__("pathlib").Path(gan.__file__).parents[1]))
    assert out.stdout.strip() == "False"


def test_mode_collapse_diagnostics_detect_collapse():
    rng = np.random.default_rng(0)
    ref = rng.choice(np.array([-1, 1], dtype=np.int8), size=(400, 4, 4))
    collapsed = np.ones((400, 4, 4), dtype=np.int8)
    d = gan.mode_collapse_diagnostics(collapsed, ref)
    assert d["distinct_generated"] == 1 and d["distinct_reference"] > 350
    assert d["fraction_m_positive_generated"] == 1.0
    assert d["copies_of_reference"] == 0.0
    d = gan.mode_collapse_diagnostics(ref[::-1], ref)
    assert d["copies_of_reference"] == 1.0
    assert gan.distinct_configurations(np.stack([ref[0], -ref[0]]), up_to_flip=True) == 1


# ----------------------------------------------------------------------------
# physics: short trainings on L = 8 Monte Carlo data


def _check_against_mc(spins, generated, T, *, rel_e, rel_m, chi=(0.8, 1.2), c=(0.8, 1.2)):
    """The generated set against the Monte Carlo set at temperature T (k_B = J = 1).

    e and |m| per spin: |GAN - MC| < 4 sigma + allowance, sigma combining the
    standard errors of both means (configurations are independent: each
    Monte Carlo configuration is the end of its own chain, each generated one
    its own latent draw, so the plain standard error is the right one); the
    allowance (``rel_e`` of |e|, ``rel_m`` of |m|) is a model bias we accept,
    not a statistical error. chi = N (<m^2> - <|m|>^2) / T and c = N Var(e) /
    T^2 as ratios GAN / MC inside the given intervals (issue 22's target:
    within 20 %). f(m > 0) within 0.02 of 1/2 (issue 22's target; exactly
    1/2 in expectation by construction, the random global sign, so 2.5
    binomial standard errors at 4000 configurations).
    """
    measured = {}
    for name, f, rel in (("e", energy_per_spin, rel_e),
                         ("|m|", abs_magnetization_per_spin, rel_m)):
        a, b = f(spins), f(generated)
        sigma = np.hypot(a.std(ddof=1) / np.sqrt(len(a)), b.std(ddof=1) / np.sqrt(len(b)))
        diff = b.mean() - a.mean()
        allowed = 4 * sigma + rel * abs(a.mean())
        why = (f"GAN {b.mean():.4f} vs Monte Carlo {a.mean():.4f} (difference {diff:+.4f}, "
               f"allowed {allowed:.4f})")
        measured[name] = (diff / abs(a.mean()), abs(diff) < allowed, why)
    for name, f, (lo, hi) in (("chi", _susceptibility, chi), ("c", _specific_heat, c)):
        ratio = f(generated, T) / f(spins, T)
        why = f"GAN / MC = {ratio:.3f}, allowed ({lo}, {hi})"
        measured[name] = (ratio - 1, lo < ratio < hi, why)
    fraction, _ = gan.diagnostics.fraction_positive(generated)
    measured["f(m>0)"] = (fraction - 0.5, abs(fraction - 0.5) <= 0.02, f"{fraction:.4f}")
    print(f"T = {T}: " + ", ".join(f"{k} {v[0]:+.4f}" for k, v in measured.items()))
    failed = {k: v[2] for k, v in measured.items() if not v[1]}
    assert not failed, failed


def _susceptibility(spins, T):
    """chi = N (<m^2> - <|m|>^2) / T per spin (k_B = J = 1)."""
    m = abs_magnetization_per_spin(spins)
    return spins[0].size * m.var() / T


def _specific_heat(spins, T):
    """c = N (<e^2> - <e>^2) / T^2 per spin (k_B = J = 1)."""
    return spins[0].size * energy_per_spin(spins).var() / T**2


@pytest.mark.slow
def test_moment_matching_L8_T35():
    """T = 3.5 with ``moment_matching=1`` in place of the distribution term
    (``distribution_matching=0``, the independent draw, as measured): chi
    and c within issue 22's 20 % of Monte Carlo, as for every seed of the
    L = 8 seed study (chi -5.7 to -8.9 %, c +3 to +17 %); e within 2 % and
    |m| within 7 % plus 4 standard
    errors (the study's seeds: e +0.2 to +1.6 %, |m| +2.1 to +6.0 %: above
    the 1 % and 2 % targets); f(m > 0) = 1/2 within 0.02.

    What it rules out: the adversarial loss alone (chi -30 to -49 % in the
    study), and a term that matches m^2 but not the spread of |m| (chi is
    its variance).
    """
    spins = metropolis_spins(8, 3.5, 2000, seed=102)
    model = gan.IsingGAN(8, n_epochs=EPOCHS_L8, rng=3, moment_matching=1.0,
                         distribution_matching=0.0, draw="independent").fit(spins)
    _check_against_mc(spins, model.sample(4000, rng=4), 3.5, rel_e=0.02, rel_m=0.07)


@pytest.mark.slow
def test_critical_point_L8_Tc():
    """T_c, the default recipe (distribution matching; the checkerboard draw,
    "auto" at one temperature): issue 22's targets (e 1 %, |m| 2 % of Monte
    Carlo plus 4 standard errors; c within 20 %; f(m > 0) = 1/2 within 0.02)
    and chi at least 70 % of Monte Carlo's. Measured with this test's data
    and seed: e -0.3 %, |m| +1.0 %, c -0.8 %, chi -16 %; the independent
    draw here: chi -19 % (the L = 8 seed study with it, seeds 3, 7, 11: chi
    -13 to -18 %), so chi is held to a bound with one standard error of chi
    (about 6 % from 2000 Monte Carlo configurations) of room below the 20 %
    target, which other library versions cannot break by noise alone. At
    L = 16 the checkerboard draw gave chi -1.8 % (one seed).

    What it rules out: the narrow magnetization distribution in which every
    recipe starts at T_c and moment matching stays (chi -83 %: a term on
    batch means moves all configurations alike; the adversarial loss
    alone: -21 to -69 %), the too-ordered configurations of the
    distribution term before it took the exact +-1 levels (e -2.8 to
    -3.4 %, |m| +2.4 to +3.0 %), the all-up lattice (chi = c = 0) and noise.
    """
    spins = metropolis_spins(8, 2.269, 2000, seed=103)
    model = gan.IsingGAN(8, n_epochs=EPOCHS_L8, rng=3).fit(spins)
    _check_against_mc(spins, model.sample(4000, rng=4), 2.269, rel_e=0.01, rel_m=0.02,
                      chi=(0.7, 1.2))


@pytest.mark.slow
def test_disordered_phase_L8_T35():
    """T = 3.5, the default recipe (distribution matching, the checkerboard
    draw): issue 22's targets as at T_c. Measured with this test's data and
    seed: e +0.5 %, |m| -2.05 % (inside 2 % plus 4 standard errors), c
    -2.6 %, chi +0.2 %; the L = 8 seed study with the independent draw:
    e +0.6 to +1.0 %, |m| +1.8 to +2.7 %, chi -3.8 to +3.1 %; at L = 16 the
    checkerboard draw (seed 3): |m| -1.2 %, chi -1.4 %. What it rules out:
    the adversarial loss alone (e +2.6 to +10.4 %, chi -30 to -49 %), the
    distribution term before it took the exact levels (e -4.0 to -4.3 %,
    |m| +5.7 to +8.8 %), independent coin flips (e = 0), the all-up lattice
    (e = -2) and a generator whose configurations all have the same |m|
    (chi = 0)."""
    spins = metropolis_spins(8, 3.5, 2000, seed=102)
    model = gan.IsingGAN(8, n_epochs=EPOCHS_L8, rng=3).fit(spins)
    _check_against_mc(spins, model.sample(4000, rng=4), 3.5, rel_e=0.01, rel_m=0.02)


@pytest.mark.slow
def test_conditioned_gan_at_held_out_temperatures_L8():
    """A conditioned GAN (the default recipe: distribution matching, and the
    independent draw, which "auto" picks for a conditioned model; with the
    checkerboard draw this test's data and seed gave chi +35 % at 2.0) on
    the seven temperatures of the seed study (500 configurations each, 30 epochs), at
    the held-out T = 2.0 and 2.6. At 2.0, issue 22's targets: e within 2 %
    of the exact finite-lattice (Kaufman) value and |m| within 5 % of Monte
    Carlo, each plus 4 standard errors; chi within 30 % of Monte Carlo; f(m > 0)
    within 0.02 of 1/2 (the seed study, seeds 3, 7, 11: e +0.3 to +0.7 %,
    |m| -0.3 to -0.8 %, chi -1.8 to +4.5 %). At 2.6 chi's target, and
    measured bounds for e (3.5 %) and |m| (8 %) plus 4 standard errors: with
    500 configurations per training temperature the study's seeds gave e -1.8
    to -3.1 % and |m| +6.1 to +7.2 % (targets 2 % and 5 %), about half of it
    the training sets' own sampling error (docs/benchmarks/gan.md). This
    test's data and seed: at 2.0 e +1.1 %, |m| -1.4 %, chi +26 %; at 2.6 e
    -1.4 %, |m| +7.6 %, chi -15 % (against its own Monte Carlo sets).

    What it rules out: the narrow magnetization distribution of the
    adversarial loss alone at 2.6 (chi -63 to -73 % in the study), generating the nearest training
    temperature (at 2.6 the exact e of 2.4 and 2.8 is 19 % and 15 % away),
    the all-up lattice and noise.
    """
    from ising.exact import finite_lattice

    train_T = (1.5, 1.75, 2.269, 2.4, 2.8, 3.1, 3.5)
    spins = np.concatenate([metropolis_spins(8, T, 500, seed=300 + i)
                            for i, T in enumerate(train_T)])
    temps = np.repeat(train_T, 500)
    model = gan.IsingGAN(8, n_epochs=EPOCHS_COND, rng=3, conditional=True).fit(spins, temps)
    for T, seed, rel_e, rel_m in ((2.0, 310, 0.02, 0.05), (2.6, 311, 0.035, 0.08)):
        generated = model.sample(4000, rng=4, temperature=T)
        reference = metropolis_spins(8, T, 4000, seed=seed)
        e = energy_per_spin(generated)
        exact = finite_lattice(8, T)["energy"]
        allowed = 4 * e.std(ddof=1) / np.sqrt(len(e)) + rel_e * abs(exact)
        assert abs(e.mean() - exact) < allowed, (
            f"T = {T}: e = {e.mean():.4f}, exact {exact:.4f}, allowed {allowed:.4f}")
        # c has no target here (the study: +24 to +35 % at 2.0): a bound that rules out c = 0
        _check_against_mc(reference, generated, T, rel_e=rel_e, rel_m=rel_m, chi=(0.7, 1.3),
                          c=(0.5, 1.6))
