"""IsingGAN under the workbench's contracts: the rng convention, the one
training loop (callback, early stop, Ctrl-C, resume semantics), atomic model
files (a full disk), memory refusals, foreign files, thread settings restored,
exact symmetries by construction and the temperature-conditioning plumbing.

All with tiny networks on 4 x 4 lattices: properties that hold whatever the
training quality."""

import errno

import numpy as np
import pytest
from disk_full import FullDiskFile

torch = pytest.importorskip("torch")

from gan_testdata import TINY

import gan
from gan import io as gan_io
from gan.training import lr_scale
from mccore.errors import FileFormatError, InvalidParameterError
from mccore.training import TrainingStep



def _weights(model):
    return [v.clone() for v in model._generator.state_dict().values()] + \
        [v.clone() for v in model._discriminator.state_dict().values()]


def _same_weights(a, b):
    wa, wb = _weights(a), _weights(b)
    return len(wa) == len(wb) and all(torch.equal(x, y) for x, y in zip(wa, wb))


# ---------------------------------------------------------------- rng convention

def test_rng_is_stored_untouched_and_calls_do_not_disturb_each_other(tiny_data):
    generator = np.random.default_rng(3)
    state = generator.bit_generator.state
    model = gan.IsingGAN(4, n_epochs=1, rng=generator, **TINY)
    assert model.rng is generator and generator.bit_generator.state == state
    assert model.get_params()["rng"] is generator
    # a fit after a sample gives the same weights as the same fit alone
    a = gan.IsingGAN(4, n_epochs=2, rng=7, **TINY).fit(tiny_data)
    b = gan.IsingGAN(4, n_epochs=2, rng=7, **TINY).fit(tiny_data)
    b.sample(100, rng=1)
    b.fit(tiny_data)
    assert _same_weights(a, b) and a.seed_ == b.seed_ == 7
    # sample derives its own stream: same rng, same samples, whatever happened between
    first = a.sample(40, rng=9)
    a.sample(17, rng=2)
    assert np.array_equal(first, a.sample(40, rng=9))
    with pytest.raises(InvalidParameterError, match="rng"):
        gan.IsingGAN(4, rng=-1)
    with pytest.raises(InvalidParameterError, match="rng"):
        gan.IsingGAN(4, rng="seven")


def test_none_records_fresh_entropy(tiny_data):
    model = gan.IsingGAN(4, n_epochs=1, **TINY).fit(tiny_data)
    again = gan.IsingGAN(4, n_epochs=1, rng=model.seed_, **TINY).fit(tiny_data)
    assert isinstance(model.seed_, int) and _same_weights(model, again)


# ---------------------------------------------------------------- training loop

def test_callback_gets_training_step_and_can_stop_early(tiny_data):
    seen = []

    def callback(step):
        seen.append(step)
        return step.step == 2

    model = gan.IsingGAN(4, n_epochs=5, rng=1, **TINY).fit(tiny_data, callback=callback)
    assert [s.step for s in seen] == [1, 2] and all(isinstance(s, TrainingStep) for s in seen)
    assert seen[0].n_steps == 5 and seen[0].model is model
    assert set(seen[0].metrics) >= {"loss_discriminator", "loss_generator"}
    assert model.n_epochs_trained_ == 2 and model.stopped_early_ and not model.interrupted_


def test_ctrl_c_mid_epoch_returns_partial_result_and_resumes_bit_identically(tiny_data,
                                                                              tmp_path):
    full = gan.IsingGAN(4, n_epochs=3, rng=4, **TINY).fit(tiny_data)
    ckpt = tmp_path / "run.ckpt"
    calls = {"n": 0}

    def interrupt_during_epoch_2(step):
        def hook(module, inputs, output):
            calls["n"] += 1
            if calls["n"] == 3:   # the third generator batch of epoch 2
                raise KeyboardInterrupt
        if step.step == 1:
            step.model._generator.register_forward_hook(hook)

    part = gan.IsingGAN(4, n_epochs=3, rng=4, **TINY)
    part.fit(tiny_data, checkpoint=ckpt, callback=interrupt_during_epoch_2)
    assert part.interrupted_ and part.n_epochs_trained_ == 1
    assert gan.IsingGAN.load(ckpt).n_epochs_trained_ == 1
    resumed = gan.IsingGAN(4, n_epochs=3, rng=4, **TINY).fit(tiny_data, checkpoint=ckpt,
                                                             resume=True)
    assert resumed.n_epochs_trained_ == 3 and not resumed.interrupted_
    assert _same_weights(full, resumed)
    assert resumed.history_["loss_generator"] == full.history_["loss_generator"]


def test_resume_without_checkpoint_starts_afresh(tiny_data, tmp_path):
    fresh = gan.IsingGAN(4, n_epochs=2, rng=7, **TINY).fit(tiny_data)
    ckpt = tmp_path / "missing.ckpt"
    resumed = gan.IsingGAN(4, n_epochs=2, rng=7, **TINY).fit(tiny_data, checkpoint=ckpt,
                                                             resume=True)
    assert _same_weights(fresh, resumed) and ckpt.exists()


def test_resume_of_finished_run_and_extension(tiny_data, tmp_path):
    ckpt = tmp_path / "run.ckpt"
    done = gan.IsingGAN(4, n_epochs=2, rng=7, **TINY).fit(tiny_data, checkpoint=ckpt)
    again = gan.IsingGAN(4, n_epochs=2, rng=None, **TINY).fit(tiny_data, checkpoint=ckpt,
                                                              resume=True)
    assert again.n_epochs_trained_ == 2 and _same_weights(done, again) and again.seed_ == 7
    # with a constant learning rate an extended run is the run planned that long
    const = dict(TINY, lr_schedule="constant")
    ckpt2 = tmp_path / "const.ckpt"
    gan.IsingGAN(4, n_epochs=2, rng=7, **const).fit(tiny_data, checkpoint=ckpt2)
    longer = gan.IsingGAN(4, n_epochs=3, rng=7, **const).fit(tiny_data, checkpoint=ckpt2,
                                                             resume=True)
    straight = gan.IsingGAN(4, n_epochs=3, rng=7, **const).fit(tiny_data)
    assert _same_weights(longer, straight)
    # with the decay the first epochs followed their own schedule: it continues
    extended = gan.IsingGAN(4, n_epochs=3, rng=7, **TINY).fit(tiny_data, checkpoint=ckpt,
                                                              resume=True)
    assert extended.n_epochs_trained_ == 3 and not _same_weights(extended, done)
    with pytest.raises(InvalidParameterError, match="channels was 4, now 5"):
        gan.IsingGAN(4, n_epochs=4, rng=7, **{**TINY, "channels": 5}).fit(
            tiny_data, checkpoint=ckpt, resume=True)


def test_threads_restored(tiny_data):
    before = torch.get_num_threads()
    deterministic = torch.are_deterministic_algorithms_enabled()
    target = 2 if before == 1 else 1
    model = gan.IsingGAN(4, n_epochs=1, rng=1, n_threads=target, **TINY).fit(tiny_data)
    model.sample(5, rng=1)
    assert torch.get_num_threads() == before
    assert torch.are_deterministic_algorithms_enabled() == deterministic


# ---------------------------------------------------------------- files and memory

def test_full_disk_is_one_oserror_and_leaves_nothing(tiny_data, tmp_path, monkeypatch):
    model = gan.IsingGAN(4, n_epochs=1, rng=1, **TINY).fit(tiny_data)
    target = tmp_path / "m.pt"
    target.write_bytes(b"previous")

    monkeypatch.setattr(gan_io, "open", FullDiskFile, raising=False)
    with pytest.raises(OSError) as info:
        model.save(target, overwrite=True)
    assert info.value.errno == errno.ENOSPC and info.value.strerror == "No space left on device"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.pt"]
    assert target.read_bytes() == b"previous"


def test_huge_settings_refused_with_memory_estimate(tiny_data):
    with pytest.raises(InvalidParameterError, match="memory"):
        gan.IsingGAN(4, n_epochs=1, rng=1, latent_dim=10**9).fit(tiny_data)
    model = gan.IsingGAN(4, n_epochs=1, rng=1, **TINY).fit(tiny_data)
    with pytest.raises(InvalidParameterError, match="memory"):
        model.sample(10**13, rng=1)


def test_text_file_is_not_a_gan_model(tmp_path):
    text = tmp_path / "text.h5"
    text.write_text("hello, this is text\n")
    with pytest.raises(FileFormatError, match="not a GAN model file"):
        gan.IsingGAN.load(text)


NOT_OURS = "not a PyTorch archive written by IsingGAN.save or 'isingrbm gan fit'"


@pytest.mark.parametrize("content, reason", [
    (b".", NOT_OURS),              # torch's own error here was "pop from empty list"
    (b"hello, this is text\n", NOT_OURS),
    (b"\x00" * 64, NOT_OURS),
    (b"", "the file is empty"),
    (b"\x89HDF\r\n\x1a\n" + b"\x00" * 64,
     "it is an HDF5 file, such as an RBM model or a dataset; GAN models are PyTorch "
     "archives written by IsingGAN.save or 'isingrbm gan fit'"),
])
def test_wrong_file_gets_one_line_that_says_why(tmp_path, content, reason):
    path = tmp_path / "wrong.pt"
    path.write_bytes(content)
    with pytest.raises(FileFormatError) as info:
        gan.IsingGAN.load(path)
    assert str(info.value) == f"{path}: not a GAN model file ({reason})"


def test_rbm_model_file_is_not_a_gan_model(tmp_path):
    import h5py
    path = tmp_path / "rbm.h5"
    with h5py.File(path, "w") as f:
        f.attrs["format"] = "isingrbm-rbm"
        f["weights"] = np.zeros((4, 2))
    with pytest.raises(FileFormatError, match=r"^\S+: not a GAN model file \(it is an HDF5 "
                                              r"file, such as an RBM model"):
        gan.IsingGAN.load(path)


# ---------------------------------------------------------------- symmetries

@pytest.fixture(scope="module")
def all_up_model():
    """A tiny GAN trained on all-up lattices: its network prefers m > 0."""
    data = np.ones((64, 4, 4), dtype=np.int8)
    data[:, 0, 0] = -1  # a defect, to see translations
    return data


def test_global_sign_is_exactly_symmetric(all_up_model):
    """P(m > 0) = 1/2 within 4 binomial standard errors; without the symmetry it is not."""
    n = 4000
    sigma = np.sqrt(0.25 / n)
    model = gan.IsingGAN(4, n_epochs=3, rng=2, **TINY).fit(all_up_model)
    f, _ = gan.diagnostics.fraction_positive(model.sample(n, rng=3))
    assert abs(f - 0.5) < 4 * sigma
    raw = gan.IsingGAN(4, n_epochs=3, rng=2, symmetrize=False, random_translation=False,
                       **TINY).fit(all_up_model)
    g, _ = gan.diagnostics.fraction_positive(raw.sample(n, rng=3))
    assert abs(g - 0.5) > 10 * sigma   # the test above has power


def test_random_translation_makes_sites_equivalent(all_up_model):
    """With translations every site has the same mean spin (chi-square test on |s|-pattern)."""
    model = gan.IsingGAN(4, n_epochs=3, rng=2, symmetrize=False, **TINY).fit(all_up_model)
    s = model.sample(4000, rng=5).astype(float)
    # per-site mean of the configuration's sign-aligned spins: equal at every site
    aligned = s * np.sign(s.sum(axis=(1, 2)) + 0.5)[:, None, None]
    site = aligned.mean(axis=0)
    se = aligned.std(axis=0, ddof=1) / np.sqrt(len(s))
    assert np.all(np.abs(site - site.mean()) < 5 * se.max() + 1e-12)


# ---------------------------------------------------------------- conditioning

def test_conditioned_plumbing(tiny_data, tmp_path):
    temps = np.repeat([2.0, 3.0], 32)
    model = gan.IsingGAN(4, n_epochs=2, rng=3, conditional=True, **TINY).fit(tiny_data, temps)
    assert model.temperature_range_ == (2.0, 3.0) and model.training_temperatures_ == [2.0, 3.0]
    s = model.sample(30, rng=1, temperature=2.5)
    assert s.shape == (30, 4, 4) and set(np.unique(s)) <= {-1, 1}
    assert not np.array_equal(model.sample(30, rng=1, temperature=2.0),
                              model.sample(30, rng=1, temperature=3.0))
    for bad in (None, 1.0, 3.5):
        with pytest.raises(InvalidParameterError, match="temperature"):
            model.sample(5, rng=1, temperature=bad)
    with pytest.raises(InvalidParameterError, match="temperature"):
        gan.IsingGAN(4, n_epochs=1, conditional=True, **TINY).fit(tiny_data)
    with pytest.raises(InvalidParameterError, match="2 distinct"):
        gan.IsingGAN(4, n_epochs=1, conditional=True, **TINY).fit(tiny_data,
                                                                    np.full(64, 2.0))
    with pytest.raises(InvalidParameterError, match="temperature"):
        gan.IsingGAN(4, n_epochs=1, **TINY).fit(tiny_data, temps)
    path = model.save(tmp_path / "c.pt")
    back = gan.IsingGAN.load(path)
    assert back.conditional and back.temperature_range_ == (2.0, 3.0)
    assert np.array_equal(back.sample(30, rng=1, temperature=2.5), s)
    # resume of a conditioned run is bit-identical too
    ckpt = tmp_path / "c.ckpt"
    gan.IsingGAN(4, n_epochs=1, rng=3, conditional=True, **TINY).fit(tiny_data, temps,
                                                                    checkpoint=ckpt)
    resumed = gan.IsingGAN(4, n_epochs=2, rng=3, conditional=True, **TINY).fit(
        tiny_data, temps, checkpoint=ckpt, resume=True)
    assert _same_weights(resumed, model)
    with pytest.raises(InvalidParameterError, match="different data"):
        gan.IsingGAN(4, n_epochs=2, rng=3, conditional=True, **TINY).fit(
            tiny_data, temps[::-1], checkpoint=ckpt, resume=True)


@pytest.mark.parametrize("loss", ["nonsaturating", "wgan-gp", "hinge"])
def test_losses_and_outputs_train_and_round_trip(tiny_data, tmp_path, loss):
    model = gan.IsingGAN(4, n_epochs=1, rng=1, loss=loss, training_output="straight-through",
                         n_critic=2, **TINY).fit(tiny_data)
    assert np.all(np.isfinite(model.history_["loss_discriminator"]))
    back = gan.IsingGAN.load(model.save(tmp_path / "m.pt"))
    assert _same_weights(model, back)
    assert np.array_equal(back.sample(20, rng=4), model.sample(20, rng=4))


@pytest.mark.parametrize("extra", [{"bond_features": True}, {"head_hidden": 8},
                                   {"generation": "sign"}, {"feature_matching": 1.0}])
def test_discriminator_variants_train_and_round_trip(tiny_data, tmp_path, extra):
    """The ablation's discriminator variants (bond maps, perceptron head) and the
    sign rule in straight-through training are stored and restored."""
    model = gan.IsingGAN(4, n_epochs=1, rng=1, **extra, **TINY).fit(tiny_data)
    back = gan.IsingGAN.load(model.save(tmp_path / "m.pt"))
    assert all(back.get_params()[k] == v for k, v in extra.items())
    assert _same_weights(model, back)
    assert np.array_equal(back.sample(20, rng=4), model.sample(20, rng=4))
    x = tiny_data[:5].astype(np.float64)
    np.testing.assert_array_equal(back.discriminate(x), model.discriminate(x))


def test_bond_maps_are_the_nearest_neighbour_products():
    """The bond maps' site average is -e (energy per spin: e = -(1/N) sum_<ij> s_i s_j)."""
    from gan.networks import Discriminator
    from gan_testdata import energy_per_spin

    rng = np.random.default_rng(2)
    spins = rng.choice(np.array([-1, 1], dtype=np.int8), size=(6, 5, 5))
    d = Discriminator(5, 2, 1, minibatch_std=False, bond_features=True)
    seen = {}
    d.body[0].register_forward_hook(lambda mod, args, out: seen.update(x=args[0]))
    d(torch.from_numpy(spins.astype(np.float32)))
    maps = seen["x"].numpy()
    assert maps.shape == (6, 3, 5, 5)
    np.testing.assert_array_equal(maps[:, 0], spins)
    np.testing.assert_allclose(-maps[:, 1:].sum(axis=(1, 2, 3)) / 25, energy_per_spin(spins))


def test_model_file_of_format_version_1_still_loads():
    """tests/gan/data/gan_v1.pt was written by the GAN before this change (format 1,
    seed=1, T = 3): it loads with the settings it was trained with."""
    from pathlib import Path
    model = gan.IsingGAN.load(Path(__file__).parent / "data" / "gan_v1.pt")
    assert model.seed_ == 1 and model.metadata_["T"] == 3.0
    assert not model.symmetrize and model.training_output == "mean"
    s = model.sample(20, rng=1)
    assert s.shape == (20, 4, 4) and set(np.unique(s)) <= {-1, 1}


def test_linear_decay_schedule():
    """Constant for the first half of the epochs, then linear towards zero."""
    assert [lr_scale("linear-decay", 4, i) for i in range(4)] == pytest.approx(
        [1.0, 1.0, 0.8, 0.4])
    assert lr_scale("constant", 4, 3) == 1.0
    assert gan.IsingGAN(4, n_epochs=4).lr_schedule == "linear-decay"
