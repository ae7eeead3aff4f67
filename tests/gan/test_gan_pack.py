"""The remedies for too-alike samples (issue 22): PacGAN packing (``pack``)
and the minibatch standard-deviation feature (``minibatch_std``): what the
discriminator sees, validation, model files, and the ``gan fit`` flags.

Tiny networks on 4 x 4 lattices: properties that hold whatever the training
quality (the physics is in test_gan.py and the seed study)."""

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from gan_testdata import TINY, random_spins

import gan
from gan.networks import Discriminator
from mccore.errors import InvalidParameterError


@pytest.fixture(scope="module")
def tiny_data():
    """66 random 4 x 4 configurations (a multiple of 3, the pack size used below)."""
    return random_spins(66)


def test_packed_discriminator_sees_the_members_as_channels():
    """pack = 3: (B, L, L) becomes (B / 3, 3, L, L) at the first convolution,
    the members in order, one score per pack."""
    rng = np.random.default_rng(1)
    x = torch.from_numpy(rng.choice([-1.0, 1.0], size=(6, 4, 4)).astype(np.float32))
    d = Discriminator(4, 2, 1, minibatch_std=False, pack=3)
    seen = {}
    d.body[0].register_forward_hook(lambda mod, args, out: seen.update(x=args[0]))
    scores = d(x)
    assert scores.shape == (2,)
    assert torch.equal(seen["x"], x.reshape(2, 3, 4, 4))
    # permuting configurations between packs changes the scores: they are joint
    assert not torch.equal(d(x[[0, 3, 2, 1, 4, 5]]), scores)


def test_minibatch_std_feature_sees_the_spread_of_the_batch():
    """The feature is 0 for a batch of copies, and the head's input grows by one."""
    torch.manual_seed(0)
    d = Discriminator(4, 2, 2, minibatch_std=True)
    assert d.head.in_features == Discriminator(4, 2, 2, minibatch_std=False).head.in_features + 1
    seen = {}
    d.head.register_forward_hook(lambda mod, args, out: seen.update(x=args[0]))
    rng = np.random.default_rng(2)
    one = rng.choice([-1.0, 1.0], size=(1, 4, 4)).astype(np.float32)
    d(torch.from_numpy(np.repeat(one, 8, axis=0)))
    assert torch.all(seen["x"][:, -1] < 1e-3)  # sqrt(var + 1e-8) of identical features
    d(torch.from_numpy(rng.choice([-1.0, 1.0], size=(8, 4, 4)).astype(np.float32)))
    assert torch.all(seen["x"][:, -1] > 1e-3)


@pytest.mark.parametrize("extra", [{"pack": 2}, {"pack": 4, "minibatch_std": False},
                                   {"pack": 2, "conditional": True},
                                   {"pack": 2, "loss": "wgan-gp", "bond_features": True},
                                   {"pack": 2, "feature_matching": 1.0, "head_hidden": 8}])
def test_packed_models_train_round_trip_and_discriminate(tiny_data, tmp_path, extra):
    temps = np.repeat([2.0, 3.0], 33) if extra.get("conditional") else None
    T = 2.5 if temps is not None else None
    model = gan.IsingGAN(4, n_epochs=1, rng=1, **extra, **TINY).fit(tiny_data, temps)
    assert np.all(np.isfinite(model.history_["loss_discriminator"]))
    back = gan.IsingGAN.load(model.save(tmp_path / "m.pt"))
    assert back.pack == extra["pack"] and back.get_params() == model.get_params()
    assert np.array_equal(back.sample(20, rng=4, temperature=T),
                          model.sample(20, rng=4, temperature=T))
    k = extra["pack"]
    scores = model.discriminate(tiny_data[:2 * k], temperature=T)
    assert scores.shape == (2 * k,)
    assert np.all(scores[:k] == scores[0]) and np.all(scores[k:] == scores[k])
    np.testing.assert_array_equal(back.discriminate(tiny_data[:2 * k], temperature=T), scores)
    with pytest.raises(InvalidParameterError, match=f"multiple of pack = {k}"):
        model.discriminate(tiny_data[:k + 1], temperature=T)


def test_pack_1_is_the_plain_discriminator(tiny_data):
    a = gan.IsingGAN(4, n_epochs=1, rng=3, **TINY).fit(tiny_data)
    b = gan.IsingGAN(4, n_epochs=1, rng=3, pack=1, **TINY).fit(tiny_data)
    assert np.array_equal(a.sample(30, rng=1), b.sample(30, rng=1))


@pytest.mark.parametrize("kwargs, message", [
    (dict(pack=0), r"^pack must be an integer in \[1, 8\], got 0$"),
    (dict(pack=9), r"^pack must be an integer in \[1, 8\], got 9$"),
    (dict(pack=2.0), r"^pack must be an integer"),
    (dict(pack=3), r"^batch_size must be a multiple of pack = 3, got 32$"),
    (dict(minibatch_std="yes"), r"^minibatch_std must be"),
])
def test_invalid_settings_one_line(kwargs, message):
    with pytest.raises(InvalidParameterError, match=message):
        gan.IsingGAN(4, **kwargs)


def test_too_few_configurations_for_a_pack():
    with pytest.raises(InvalidParameterError, match="at least 4"):
        gan.IsingGAN(4, n_epochs=1, pack=4, **TINY).fit(np.ones((3, 4, 4), dtype=np.int8))


def _written_before(model, option, tmp_path):
    """``model`` saved as a file written before ``option`` existed, loaded back."""
    content = torch.load(model.save(tmp_path / "new.pt"), weights_only=True)
    params = json.loads(content["hyperparameters"])
    del params[option]
    content["hyperparameters"] = json.dumps(params)
    torch.save(content, tmp_path / "old.pt")
    return gan.IsingGAN.load(tmp_path / "old.pt")


def test_files_without_pack_load_as_pack_1(tiny_data, tmp_path):
    """A model file written before packing existed (no "pack" in its
    hyperparameters) loads with pack = 1 and gives the same samples."""
    model = gan.IsingGAN(4, n_epochs=1, rng=2, **TINY).fit(tiny_data)
    old = _written_before(model, "pack", tmp_path)
    assert old.pack == 1
    assert np.array_equal(old.sample(20, rng=5), model.sample(20, rng=5))


@pytest.fixture
def cli_run(tmp_path):
    """``(cli, data, small)``: the CLI, a 4 x 4 dataset at T = 3 (40
    configurations) and the options of a one-epoch tiny model."""
    import ising
    from isingrbm import cli

    data = tmp_path / "data.h5"
    ising.simulate(4, [3.0], 40, rng=1, path=data)
    small = ["--epochs", "1", "--channels", "4", "--latent-dim", "4", "--noise-channels", "1",
             "--quiet", "--seed", "1"]
    return cli, data, small


def test_cli_flags_reach_the_model(cli_run, tmp_path, capsys):
    cli, data, small = cli_run
    out = tmp_path / "gan.pt"
    assert cli.main(["gan", "fit", str(data), "-T", "3", "--out", str(out), "--pack", "3",
                     "--batch-size", "12", "--no-minibatch-std", *small]) == 0
    model = gan.IsingGAN.load(out)
    assert model.pack == 3 and model.minibatch_std is False and model.batch_size == 12
    # a batch clipped to the data keeps whole packs (40 configurations, pack 3: 39)
    out2 = tmp_path / "gan2.pt"
    assert cli.main(["gan", "fit", str(data), "-T", "3", "--out", str(out2), "--pack", "3",
                     "--batch-size", "60", *small]) == 0
    assert gan.IsingGAN.load(out2).batch_size == 39
    capsys.readouterr()
    bad = tmp_path / "bad.pt"
    assert cli.main(["gan", "fit", str(data), "-T", "3", "--out", str(bad), "--pack", "3",
                     *small]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [err[0]] and "--batch-size must be a multiple of pack = 3, got 32" in err[0]
    assert not bad.exists() and not (tmp_path / "bad.pt.ckpt").exists()


# ----------------------------------------------------------------------------
# the global moments of the configurations (issue 22, round 2)


def test_global_moments_of_known_configurations():
    """All up: e = -2, m^2 = m^4 = 1; checkerboard: e = +2, m = 0; one flipped
    spin in 4 x 4: e = -(32 - 8) / 16 = -1.5, m = 14 / 16 (per spin, J = 1);
    the second entry is (e - centre)^2."""
    from gan.losses import global_moments

    up = np.ones((4, 4))
    checker = np.where(np.indices((4, 4)).sum(0) % 2 == 0, 1.0, -1.0)
    one = up.copy()
    one[1, 2] = -1
    x = torch.tensor(np.stack([up, checker, one]), dtype=torch.float64)
    m = 14 / 16
    expected = [[-2, 4, 1, 1, 1], [2, 4, 0, 0, 0], [-1.5, 2.25, m, m**2, m**4]]
    np.testing.assert_allclose(global_moments(torch, x).numpy(), expected, rtol=1e-12)
    centred = global_moments(torch, x, torch.tensor([-1.0, 1.0, 0.5], dtype=torch.float64))
    np.testing.assert_allclose(centred[:, 1].numpy(), [1, 1, 4], rtol=1e-12)


def test_moment_matching_is_an_unbiased_squared_distance():
    """Configurations drawn from the targets' own distribution give a term 0 in
    expectation (the square of one batch mean would be Var/B > 0); a batch
    whose moments are all off by one standard deviation gives 5 (five
    moments, d = 1 in both halves)."""
    from gan.losses import global_moments, moment_matching, moment_targets

    rng = np.random.default_rng(3)
    data = torch.from_numpy(rng.choice([-1.0, 1.0], size=(4000, 4, 4)))
    mean, std = moment_targets(torch, data, torch.zeros(4000, dtype=torch.int64))
    values = torch.stack([moment_matching(torch, data[i:i + 32], mean.double(), std.double())
                          for i in range(0, 4000 - 31, 32)])
    # 0 within 4 standard errors; the biased square would be about 5 / 32
    assert abs(values.mean()) < 4 * values.std() / np.sqrt(len(values))
    assert values.std() / np.sqrt(len(values)) < 0.02
    # off by one standard deviation in every moment (the centred one's target
    # taken about the moved centre, the target mean energy)
    one = data[:32]
    target = global_moments(torch, one) - std.double()
    target[:, 1] = global_moments(torch, one, target[:, 0])[:, 1] - std[0, 1].double()
    assert moment_matching(torch, one, target, std.double()).item() == pytest.approx(5.0)


def test_moment_targets_per_temperature_group():
    from gan.losses import global_moments, moment_targets

    rng = np.random.default_rng(4)
    data = torch.from_numpy(rng.choice([-1.0, 1.0], size=(10, 4, 4)))
    data[5:] = 1.0
    mean, std = moment_targets(torch, data, torch.tensor([0] * 5 + [1] * 5))
    e = global_moments(torch, data[:5])[:, 0]
    np.testing.assert_allclose(mean[0].numpy(),
                               global_moments(torch, data[:5], e.mean()).mean(0).numpy(),
                               rtol=1e-6)
    np.testing.assert_allclose(mean[1].numpy(), [-2, 0, 1, 1, 1])
    assert torch.all(std[1] == 1e-6)  # no spread: clamped, not zero


MATCHING = ("moment_matching", "distribution_matching")


@pytest.mark.parametrize("option", MATCHING)
def test_matching_term_trains_round_trips_resumes(option, tiny_data, tmp_path):
    """The term changes training (other weights than without it), the weight is
    a hyperparameter of the file, a file written before it existed loads
    with 0 (the same model), and a resumed run equals an uninterrupted one
    (the targets are recomputed from the same data)."""
    temps = np.repeat([2.0, 3.0], 33)
    kw = dict(TINY, conditional=True, rng=6)
    model = gan.IsingGAN(4, n_epochs=2, **{option: 2.0}, **kw).fit(tiny_data, temps)
    plain = gan.IsingGAN(4, n_epochs=2, **kw).fit(tiny_data, temps)
    assert not torch.equal(model._generator.out.weight, plain._generator.out.weight)
    back = gan.IsingGAN.load(model.save(tmp_path / "m.pt"))
    assert getattr(back, option) == 2.0 and back.get_params() == model.get_params()
    assert np.array_equal(back.sample(30, rng=1, temperature=2.5),
                          model.sample(30, rng=1, temperature=2.5))
    old = _written_before(plain, option, tmp_path)
    assert getattr(old, option) == 0.0
    assert np.array_equal(old.sample(20, rng=5, temperature=2.2),
                          plain.sample(20, rng=5, temperature=2.2))
    ckpt = tmp_path / "run.ckpt"
    gan.IsingGAN(4, n_epochs=1, **{option: 2.0}, **kw).fit(tiny_data, temps, checkpoint=ckpt)
    resumed = gan.IsingGAN(4, n_epochs=2, **{option: 2.0}, **kw).fit(
        tiny_data, temps, checkpoint=ckpt, resume=True)
    assert np.array_equal(resumed.sample(30, rng=1, temperature=2.5),
                          model.sample(30, rng=1, temperature=2.5))
    with pytest.raises(InvalidParameterError, match=option):
        gan.IsingGAN(4, n_epochs=2, **{option: 1.0}, **kw).fit(
            tiny_data, temps, checkpoint=ckpt, resume=True)


@pytest.mark.parametrize("option", MATCHING)
def test_matching_weight_must_be_a_weight(option):
    with pytest.raises(InvalidParameterError, match=rf"^{option} must be"):
        gan.IsingGAN(4, **{option: -1.0})


@pytest.mark.parametrize("option", MATCHING)
def test_cli_matching_flag(option, cli_run, tmp_path, capsys):
    cli, data, small = cli_run
    flag = "--" + option.replace("_", "-")
    out = tmp_path / "gan.pt"
    assert cli.main(["gan", "fit", str(data), "-T", "3", "--out", str(out),
                     flag, "2.5", *small]) == 0
    assert getattr(gan.IsingGAN.load(out), option) == 2.5
    capsys.readouterr()
    bad = tmp_path / "bad.pt"
    assert cli.main(["gan", "fit", str(data), "-T", "3", "--out", str(bad),
                     flag, "-1", *small]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"{flag} must be a number in [0, 1000000.0], got -1" in err[0]
    assert not bad.exists() and not (tmp_path / "bad.pt.ckpt").exists()


def test_distribution_matching_is_the_energy_distance():
    """The term equals the energy distance 2 E|X - Y| - E|X - X'| - E|Y - Y'|
    of e and |m| (per spin, per group, E|X - X'| over distinct pairs of
    the batch), computed here pair by pair; configurations drawn from the
    reference itself give 0 in expectation (unbiased), a batch of copies of
    one configuration a positive value."""
    from gan.losses import distribution_matching, global_moments, marginal_references

    rng = np.random.default_rng(5)
    data = torch.from_numpy(rng.choice([-1.0, 1.0], size=(600, 4, 4)))
    data[300:] = torch.where(torch.from_numpy(rng.random((300, 4, 4))) < 0.85, 1.0, -1.0)
    index = torch.tensor([0] * 300 + [1] * 300)
    refs = marginal_references(torch, data, index)
    fake = data[[0, 1, 2, 3, 4, 5, 300, 301, 302, 303]].clone()
    fake[:, 0, 0] *= -1
    group = torch.tensor([0] * 6 + [1] * 4)
    expected = 0.0
    for g in (0, 1):
        y = global_moments(torch, data[index == g])[:, [0, 2]]
        x = global_moments(torch, fake[group == g])[:, [0, 2]]
        n_g = len(x)
        value = (2 * (x[:, None] - y[None]).abs().mean((0, 1))
                 - (x[:, None] - x[None]).abs().sum((0, 1)) / (n_g * (n_g - 1))
                 - (y[:, None] - y[None]).abs().mean((0, 1)))
        expected += n_g / 10 * value.sum().item()
    assert distribution_matching(torch, fake, group, refs).item() == pytest.approx(
        expected, rel=1e-10)
    zeros = torch.zeros(16, dtype=torch.int64)
    values = torch.stack([distribution_matching(torch, data[i:i + 16], zeros, refs)
                          for i in range(0, 300 - 15, 16)])
    assert abs(values.mean()) < 4 * values.std() / np.sqrt(len(values))
    assert distribution_matching(torch, data[:1].repeat(16, 1, 1), zeros, refs) > 0.1


def test_distribution_matching_gradient_counts_ties_half():
    """Values drawn from a discrete reference (e and |m| are discrete, with
    large atoms in the ordered phase): the derivative of E_Y|x - Y| is
    P(Y < x) - P(Y > x), ties counted half as within the batch, so that the
    gradient of the whole term vanishes in expectation when the
    distributions agree (with ties on one side it is -P(atom) per value)."""
    from gan.losses import _mean_distance

    rng = np.random.default_rng(7)
    y = torch.from_numpy(np.sort(rng.choice([0.0, 1.0, 2.0], p=[0.6, 0.3, 0.1], size=5000)))
    prefix = torch.cat([torch.zeros(1, dtype=y.dtype), torch.cumsum(y, 0)])
    x = torch.tensor([0.0, 0.5, 1.0, 2.5], dtype=torch.float64, requires_grad=True)
    value = _mean_distance(torch, x, y, prefix)
    np.testing.assert_allclose(value.detach().numpy(),
                               (x.detach()[:, None] - y[None]).abs().mean(1).numpy())
    value.sum().backward()
    p = [(y == v).double().mean().item() for v in (0.0, 1.0, 2.0)]
    np.testing.assert_allclose(x.grad.numpy(), [-(p[1] + p[2]), p[0] - p[1] - p[2],
                                                p[0] - p[2], 1.0])


def test_distribution_matching_takes_the_exact_levels_of_a_straight_through_batch():
    """A straight-through batch (``hard + mean - mean.detach()`` in float32) is
    +-1 only up to rounding, on the inside: the term takes e and |m| of the
    exact configuration (the same value as for the +-1 batch), with the
    gradient of the batch. At the ordered atom (reference: 70 % all-up) a
    batch that is all at the atom is pushed inwards (to less order); with
    the rounded values it was pushed outwards, into the all-up lattice."""
    from gan.losses import distribution_matching, marginal_references

    data = torch.ones(10, 4, 4)
    data[7:, 0, 0] = -1                                      # 70 % at |m| = 1, e = -2
    refs = marginal_references(torch, data, torch.zeros(10, dtype=torch.int64))
    mean = torch.full((8, 4, 4), float(np.tanh(3.0)), requires_grad=True)
    hard = torch.ones(8, 4, 4)
    fake = hard + mean - mean.detach()
    assert not torch.all(fake.detach().abs() == 1)         # the rounding this is about
    group = torch.zeros(8, dtype=torch.int64)
    value = distribution_matching(torch, fake, group, refs)
    assert value.item() == distribution_matching(torch, hard, group, refs).item()
    (grad,) = torch.autograd.grad(value, mean)
    assert torch.all(grad > 0)                               # descent lowers the means


def test_matching_ramp_rises_linearly_over_the_warmup():
    from gan.training import matching_ramp

    assert matching_ramp(0.0, 0, 0, 4) == 1.0
    # warm-up of 2 epochs of 4 batches: 0 at the first step, 1/8 per step, 1 from epoch 2
    assert [matching_ramp(2.0, i, b, 4) for i, b in ((0, 0), (0, 2), (1, 0), (1, 3), (2, 0),
                                                     (5, 1))] == [0.0, 0.25, 0.5, 0.875,
                                                                  1.0, 1.0]


def test_matching_warmup_scales_the_terms_round_trips_resumes(tiny_data, tmp_path):
    """The warm-up changes training only through the matching terms (alone it
    leaves the run as it was), is a hyperparameter of the file (older files
    load with 0), and a run resumed in the middle of the ramp equals an
    uninterrupted one."""
    kw = dict(TINY, rng=4)
    plain = gan.IsingGAN(4, n_epochs=2, distribution_matching=0.0, **kw).fit(tiny_data)
    alone = gan.IsingGAN(4, n_epochs=2, distribution_matching=0.0, matching_warmup=1.5,
                         **kw).fit(tiny_data)
    assert torch.equal(alone._generator.out.weight, plain._generator.out.weight)
    full = gan.IsingGAN(4, n_epochs=2, distribution_matching=2.0, **kw).fit(tiny_data)
    ramped = gan.IsingGAN(4, n_epochs=2, distribution_matching=2.0, matching_warmup=1.5,
                          **kw).fit(tiny_data)
    assert not torch.equal(ramped._generator.out.weight, full._generator.out.weight)
    assert not torch.equal(ramped._generator.out.weight, plain._generator.out.weight)
    back = gan.IsingGAN.load(ramped.save(tmp_path / "m.pt"))
    assert back.matching_warmup == 1.5 and back.get_params() == ramped.get_params()
    assert _written_before(full, "matching_warmup", tmp_path).matching_warmup == 0.0
    ckpt = tmp_path / "run.ckpt"
    gan.IsingGAN(4, n_epochs=1, distribution_matching=2.0, matching_warmup=1.5, **kw).fit(
        tiny_data, checkpoint=ckpt)
    resumed = gan.IsingGAN(4, n_epochs=2, distribution_matching=2.0, matching_warmup=1.5,
                           **kw).fit(tiny_data, checkpoint=ckpt, resume=True)
    assert np.array_equal(resumed.sample(30, rng=1), ramped.sample(30, rng=1))
    with pytest.raises(InvalidParameterError, match="matching_warmup"):
        gan.IsingGAN(4, n_epochs=2, distribution_matching=2.0, matching_warmup=3.0,
                     **kw).fit(tiny_data, checkpoint=ckpt, resume=True)


def test_cli_matching_warmup(cli_run, tmp_path, capsys):
    cli, data, small = cli_run
    out = tmp_path / "gan.pt"
    assert cli.main(["gan", "fit", str(data), "-T", "3", "--out", str(out),
                     "--distribution-matching", "1", "--matching-warmup", "2.5", *small]) == 0
    assert gan.IsingGAN.load(out).matching_warmup == 2.5
    capsys.readouterr()
    bad = tmp_path / "bad.pt"
    assert cli.main(["gan", "fit", str(data), "-T", "3", "--out", str(bad),
                     "--matching-warmup", "-1", *small]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--matching-warmup must be a number in [0, 10000.0], got -1" \
        in err[0]
    assert not bad.exists()
