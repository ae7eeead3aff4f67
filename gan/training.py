"""Training of :class:`~gan.IsingGAN`: the optimizers, the learning-rate
schedule, one epoch (discriminator and generator steps, the weight average,
the per-epoch history), and resuming from a checkpoint.

Functions of the model (``model``) that :meth:`IsingGAN.fit
<gan.IsingGAN.fit>` calls; the losses are in :mod:`gan.losses`, the
symmetry operations and draws in :mod:`gan.sampling`, the files in
:mod:`gan.io`. Every random number comes from the model's seed through
SeedSequence streams keyed by purpose and epoch, so a run resumed from its
checkpoint ends in exactly the weights of an uninterrupted one.

The recipe (the defaults), and the measurement that chose it
(``benchmarks/gan_vs_rbm.py --ablation``: L = 8, 2000 Monte Carlo
configurations, 15 epochs, 2000 generated; relative deviation from the
exact finite-lattice e and c and from Monte Carlo |m| and chi):

==========================  ======================= ======================  ======================
e / |m| / c / chi, in %     T = 1.5                 T = 2.269               T = 3.5
==========================  ======================= ======================  ======================
NS+R1, mean, Bernoulli      -2.3 / +1 / -90 / -93   +11 / -2 / -66 / -86    +59 / -57 / +78 / -84
NS+R1, mean, sign           -2.5 / +1 / -99 / -99   +10 / -1 / -67 / -86    +58 / -57 / +84 / -85
NS+R1, straight-through     -0.4 / +0 / -16 / -40   -12 / +10 / +22 / -17   -14 / +25 / -19 / -43
WGAN-GP, straight-through   -2.5 / +1 / -100 / -100 -18 / +21 / -55 / -93   -19 / +18 / +59 / +47
hinge+SN, straight-through  -1.6 / +1 / -68 / -78   -12 / +12 / +17 / -31   -126 / +244 / +91 / -69
==========================  ======================= ======================  ======================

(NS+R1: non-saturating loss with the R1 penalty; e and c against the exact
finite-lattice values, |m| and chi against an independent Monte Carlo set
whose own standard errors are 0.1-0.9 % for e and |m| and 3-5 % for c and
chi.) One training run per cell: repeated runs differ by several per cent
at T = 3.5 (adversarial training oscillates), which is why samples come
from a moving average of the generator weights (``ema_decay``).

Trained on the mean spins (the discriminator judges ``tanh(a)``), the
generator is never shown what the per-site draw does: at T = 1.5 and
2.269 its configurations were too uniform (c and chi, variances of E and
|M| over configurations, 3 to 100 times too small), and at T = 3.5 the
independent draws of unsaturated means were close to uncorrelated noise
(e 59 % too high); independent per-site draws cannot add the
*correlated* fluctuations that c and chi measure, and ``sign`` removes
even the independent ones. With ``training_output="straight-through"``
the discriminator judges the +-1 configurations that :meth:`IsingGAN.sample <gan.IsingGAN.sample>`
will return (Bernoulli draws of the mean, with the gradient of the mean
passed straight through), so whatever the draw does to the energy
distribution is judged in training; it was the only variant within
~15 % in e and |m| at all three temperatures. WGAN-GP with one critic
step per generator step collapsed to the all-up lattice at T = 1.5 (2
distinct configurations out of 2000) in this budget; hinge with
spectral normalization stayed far too ordered at T = 3.5.

Then, with that recipe, at T = 3.5 (the hard case: short-range
correlations built from per-site noise) and T = 1.5, 2000 Metropolis
configurations, 4000 generated, relative to the training set's e, |m|,
c, chi: learning rate 2e-4, 20 epochs, no weight average: e -35 %;
with the weight average: -23 % / -38 % / -27 % / -72 % (T = 1.5: -0.4 % /
-0.1 % / +9 % / -26 %); learning rate 1e-3: -9 % / -6 % / 0 % / -49 %;
1e-3 and 40 epochs: -4.8 % / +7.8 % / -28 % / -60 % (T = 1.5: +0.2 % /
+0.2 % / +3 % / -26 %); the same without label smoothing (the
defaults): -2.7 % / +5.4 % / -12 % / -40 %, but the same settings on
another Monte Carlo set at T = 1.5 (``benchmarks/gan_vs_rbm.py --quick``)
collapsed to noise (e = -0.18), and so did learning rate 1e-3 with label
smoothing 0.9 on that set (e = -0.29), where 5e-4 and 2e-4 gave e =
-1.9564 and -1.9501 (training set -1.9522); four noise channels instead
of two: -21 % / -35 %. Learning rate 5e-4, 40 epochs at T = 3.5: -6.1 % /
-7.9 % / -3 % / -23 %. Hence the defaults: learning rate 5e-4 (1e-3 is
not stable), label smoothing 0.9, weight average 0.995. The target of 2 %
in e and 3 % in |m| at T = 3.5 is not reached by any of these.

At the full size (L = 16, 10^4 configurations at T = 1.5, 60 epochs)
that recipe failed outright: generated configurations ended as noise
(e = -0.53, then with the learning-rate decay e = -0.09, against the
exact -1.951). Followed epoch by epoch (same data and seed), the
generator was right by epoch 2 (e within 0.3 %) and then swung between
noise and the all-up lattice whenever the discriminator found an edge;
with the decay the swings die out late in training, but a run can
already have collapsed by then. With the R1 weight raised from 1 to 10
there were no swings (e between -1.947 and -1.954 from epoch 4 to 34)
and with learning rate 2e-4 (weight 1) fewer (a drift to the all-up
lattice at epochs 12-16). Hence the R1 weight 10 and
``lr_schedule="linear-decay"``. A second ablation round at L = 8 (the
documentation's GAN benchmark page: bond maps, a perceptron head,
feature matching, other batch sizes, R1 weights and epochs) found no
variant better than the run-to-run spread at both T = 1.5 and 3.5.

The temperature-conditioned model, measured (``benchmarks/gan_vs_rbm.py``:
L = 16, 5000 Monte Carlo configurations at each of T = 1.5, 1.75, 2.269,
2.4, 2.8, 3.1, 3.5, 25 epochs, 14.5 minutes, the defaults): at the held-out
T = 2.0, e is 0.2 % below the exact finite-lattice value and chi 14 % below
Monte Carlo; at T = 2.6, just above T_c of this lattice, e is 3.2 % above
and chi 87 % below (the magnetization distribution is far too narrow). At
L = 8 (500 per temperature, 30 epochs) two model seeds of three were within
0.3 % at both.

PacGAN packing (``pack``) and the minibatch feature (``minibatch_std``)
were decided over three model seeds per cell (``benchmarks/gan_seed_study.py``,
L = 8, T = 1.5, 2.269, 3.5; the table is on the documentation's GAN
benchmark page): at T = 3.5 no recipe met e 1 %, |m| 2 %, chi 20 % for any
seed, none beat the default by more than the seed spread (chi -38 % on
average with the default, -39 % with pairs, -57 % with packs of 4, -30 %
without the minibatch feature), and packing did harm elsewhere (packs of 4
at T = 1.5: chi -96 %; pairs at T_c: chi +66 %). Hence ``pack=1`` and
``minibatch_std=True``, as before.

The moment-matching term (``moment_matching``, :func:`gan.losses.moment_matching`)
was decided the same way (40 epochs, seeds 3, 7, 11): at T = 3.5 it took
chi from -38 % to -8 % and e from +5.4 % to +0.7 % on average (c and chi
within 20 % for every seed; |m| +2.1 to +6.0 %), at T = 1.5 it changed
nothing beyond the spread, but at T_c it gave e +5.4 % and chi -83 % for
every seed (the default: -1.5 % and -46 %) and the conditioned model was
far worse at the held-out temperatures (|m| +40 % at T = 2.6). Hence
``moment_matching=0``: an option for one temperature in the disordered
phase, not the default.

Why moment matching fails at T_c (measured per epoch, L = 8, seed 3): every
recipe, the default included, leaves the first epoch with a narrow
magnetization distribution (|m| +7 to +12 %, chi -86 to -88 %) that the
discriminator barely tells apart (D = 0.46 on real, 0.44 on generated data).
Moment matching keeps it there for all 40 epochs: the five means sit 0.2-0.3
standard deviations off and weight 10 ends where weight 1 does
(chi -83 % both), because a function of batch means gives every
configuration the same pull, and 77 % of the spread of |m| in that state is
the per-site draw, which the latent vector does not control. The
distribution term (``distribution_matching``, :func:`gan.losses.distribution_matching`)
pulls each configuration by the difference of the distribution functions
at its value: over three seeds it gave chi -11 to -18 % at T_c, -3 to +11 %
at T = 3.5 and -1 to -23 % for the conditioned model at the held-out
T = 2.0 and 2.6, but e 3-5 % low and |m| 1-9 % high at all of them, and at
T = 1.5 it froze the generator into the all-up lattice (pre-activations
saturated by the second epoch). So round 3 kept it off by default: an
option at and above T_c.

Round 4 found the cause of both the bias and the freeze: the term read the
straight-through batch ``hard + mean - mean.detach()``, which in float32 is
+-1 only up to rounding, always inwards, so e and |m| sat just off the
training set's discrete levels and each level's whole probability pushed
outwards. :func:`gan.losses.distribution_matching` now takes e and |m| of
the exact +-1 configuration. Since then the term is better than the default
in most cells at L = 8, and at L = 16 meets every target at T_c and 3.5 for
every seed; at T = 1.5 its energy histogram stays 2.9-4.2 times the noise
level (too few neighbouring flipped pairs: every spin is drawn independently
given the mean spins), where the adversarial loss alone did no better over
seeds (TV(E) 4.5 times the noise for one seed, noise for another: e +100 %).
Hence ``distribution_matching=1``, the default since round 6: better or
equal in every L = 16 cell measured, and no seed collapsed. The tables are
on the documentation's GAN benchmark page.

Round 6 gave the draw the missing pairs: ``draw="checkerboard"``
(:func:`gan.sampling.checkerboard`) draws the sites with ``i + j`` even
from the generator's mean spins and the others from the Ising conditional
``tanh(k h)`` given them, with the coupling ``k`` fitted by the
pseudo-likelihood of each real batch (:func:`gan.losses.pseudo_likelihood`,
added to the generator's loss; the adversarial and matching terms see the
draw with ``k`` detached, so that only the data's conditionals set it).
A coupling learned by the adversarial loss alone grew into a second bias of
the second sublattice (k 2.3 at L = 8, T = 1.5, beta 0.67; neighbouring
flipped pairs 0.004 per configuration against the data's 0.079), and one
added to the generator's own pre-activation on that sublattice made too
many pairs or none; the pseudo-likelihood gave k = 0.6695 at L = 8,
T = 1.5 (beta 0.6667).
At L = 16, T = 1.5 (60 epochs, seeds 3, 7, 11) it met every target for
every seed, TV(E) 1.5-1.7 times the noise where the independent draw gave
2.9-3.6, and so it did at T_c and 3.5; the tables (also the conditioned
model) are on the benchmark page (round 6). Hence ``draw="auto"``, the
default: the checkerboard draw for a model of one temperature, the
independent draw for a conditioned one, whose c and chi at the held-out
T = 2.0 the checkerboard draw put 12-35 % high (three runs, L = 8 and 16).
"""

from __future__ import annotations

import copy
import hashlib
import time
from pathlib import Path

import numpy as np

from mccore.errors import DivergenceError, FileFormatError, InvalidParameterError
from mccore.rng import child, resolve_seed
from mccore.training import check_resume_settings, run_steps
from mccore.validation import check_int, check_spins

from . import io, losses
from ._torch import deterministic_torch
from .sampling import (
    _STREAM_EPOCH,
    _STREAM_SNAPSHOT,
    checkerboard,
    draw,
    symmetry,
    torch_seed,
)

__all__ = ["TRAINING_OUTPUTS", "LR_SCHEDULES", "fit", "lr_scale", "matching_ramp", "fingerprint",
           "optimizers", "epoch_function", "resume"]

TRAINING_OUTPUTS = ("mean", "straight-through")
LR_SCHEDULES = ("constant", "linear-decay")


def fit(model, torch, spins, temperatures=None, *, callback=None, progress: bool = False,
        checkpoint=None, checkpoint_every: int = 1, resume_run: bool = False) -> None:
    """Train ``model`` (the work of :meth:`IsingGAN.fit <gan.IsingGAN.fit>`, whose
    docstring gives the parameters): check the data, start afresh or resume
    from ``checkpoint``, run the epochs with :func:`mccore.training.run_steps`."""
    spins = check_spins(spins, L=model.L, min_n=max(2, model.pack))
    if model.conditional:
        if temperatures is None:
            raise InvalidParameterError("a conditioned IsingGAN needs the temperature of "
                                        "every configuration")
        temps = np.asarray(temperatures, dtype=np.float64)
        if temps.shape != (spins.shape[0],) or not np.all(np.isfinite(temps)) \
                or not np.all(temps > 0):
            raise InvalidParameterError(
                f"temperatures must be {spins.shape[0]} finite numbers > 0, one per "
                f"configuration, got shape {temps.shape}")
        distinct = np.unique(temps)
        if distinct.size < 2:
            raise InvalidParameterError("a conditioned IsingGAN needs at least 2 distinct "
                                        "training temperatures")
    else:
        if temperatures is not None:
            raise InvalidParameterError("temperatures are only for a conditioned IsingGAN "
                                        "(conditional=True)")
        temps = None
    checkpoint_every = check_int("checkpoint_every", checkpoint_every, minimum=1)
    if resume_run and checkpoint is None:
        raise InvalidParameterError("resume=True needs a checkpoint path")
    model.check_memory()
    data_fingerprint = fingerprint(spins, temps)
    resuming = resume_run and Path(checkpoint).exists()
    with deterministic_torch(model.n_threads):
        if resuming:
            opt_g, opt_d = resume(model, torch, checkpoint, data_fingerprint)
        else:
            model.seed_ = resolve_seed(model.rng)
            if temps is not None:
                model.temperature_range_ = (float(distinct[0]), float(distinct[-1]))
                model.training_temperatures_ = [float(t) for t in distinct]
            model._build(torch)
            model.history_ = model._empty_history()
            model.n_epochs_trained_ = 0
            opt_g, opt_d = optimizers(model, torch)
        model.interrupted_ = model.stopped_early_ = False
        step = epoch_function(model, torch, spins, temps, opt_g, opt_d)
        save = None
        if checkpoint is not None:
            def save(n_done):
                model._write_checkpoint(torch, checkpoint, opt_g, opt_d, data_fingerprint)
        outcome = run_steps(step, start=model.n_epochs_trained_, stop=model.n_epochs,
                            model=model, callback=callback, save_checkpoint=save,
                            checkpoint_every=checkpoint_every, progress=progress,
                            description="GAN fit", unit="epoch")
        model.interrupted_ = outcome.interrupted
        model.stopped_early_ = outcome.stopped_early


def fingerprint(spins: np.ndarray, temperatures) -> str:
    """SHA-256 of the training data (spins, shape, temperatures): a checkpoint
    resumes only on the data it was made with."""
    digest = hashlib.sha256(np.ascontiguousarray(spins, dtype=np.int8).tobytes())
    digest.update(str(spins.shape).encode())
    if temperatures is not None:
        digest.update(np.ascontiguousarray(temperatures, dtype=np.float64).tobytes())
    return digest.hexdigest()


def lr_scale(lr_schedule: str, n_epochs: int, i: int) -> float:
    """Learning-rate factor of epoch ``i`` (0-based) under ``lr_schedule``."""
    if lr_schedule == "constant":
        return 1.0
    return min(1.0, 2.0 * (n_epochs - i) / (n_epochs + 1))


def matching_ramp(warmup: float, i: int, b: int, n_batches: int) -> float:
    """Factor of the matching terms' weights at batch ``b`` of ``n_batches`` in
    epoch ``i`` (0-based): rising linearly from 0 over ``warmup`` epochs, then 1."""
    if warmup <= 0:
        return 1.0
    return min(1.0, (i + b / n_batches) / warmup)


def optimizers(model, torch):
    """Adam for the generator and for the discriminator of ``model``."""
    opt_g = torch.optim.Adam(model._generator.parameters(), lr=model.learning_rate_generator,
                             betas=(model.beta1, model.beta2))
    opt_d = torch.optim.Adam(model._discriminator.parameters(),
                             lr=model.learning_rate_discriminator,
                             betas=(model.beta1, model.beta2))
    return opt_g, opt_d


def _snapshot_inputs(model, torch):
    gen = torch.Generator().manual_seed(torch_seed(child(model.seed_, _STREAM_SNAPSHOT)))
    z = torch.randn(model.n_snapshot, model.latent_size, generator=gen)
    c = None
    if model.conditional:
        lo, hi = model.temperature_range_
        T = np.linspace(lo, hi, model.n_snapshot)
        c = torch.from_numpy(model._scaled(T))
    return z, c, gen


def _generate_batch(model, torch, z, c, gen):
    """Generated configurations as the discriminator sees them in training."""
    if model.draw_mode == "checkerboard":
        a, k = model._generator(z, c)
        mode = "mean" if model.training_output == "mean" else model.generation
        u = torch.rand(a.shape, generator=gen) if mode == "bernoulli" else None
        # the coupling is fitted by the pseudo-likelihood of the data, not by these terms
        x, mean = checkerboard(torch, a, k.detach(), mode, u)
        return symmetry(model, torch, x, gen), mean
    mean = torch.tanh(model._generator(z, c))
    if model.training_output == "straight-through":
        if model.generation == "sign":
            hard = torch.where(mean >= 0, 1.0, -1.0)
        else:
            u = torch.rand(mean.shape, generator=gen)
            hard = torch.where(u < (1 + mean) / 2, 1.0, -1.0)
        x = hard + mean - mean.detach()
    else:
        x = mean
    return symmetry(model, torch, x, gen), mean


def epoch_function(model, torch, spins, temps, opt_g, opt_d):
    """``epoch(i) -> metrics``: one pass over ``spins`` (and ``temps``) for
    :func:`mccore.training.run_steps`; on Ctrl-C the networks and optimizers
    are put back as they were before the epoch."""
    G, D, E = model._generator, model._discriminator, model._generator_ema
    data = torch.from_numpy(spins.astype(np.float32))
    cond = None if temps is None else torch.from_numpy(model._scaled(temps))
    n = data.shape[0]
    targets = None  # (group index per configuration, moment targets, distributions)
    if model.moment_matching > 0 or model.distribution_matching > 0:
        index = (torch.zeros(n, dtype=torch.int64) if temps is None else
                 torch.from_numpy(np.searchsorted(np.unique(temps), temps)))
        targets = (index,
                   losses.moment_targets(torch, data, index) if model.moment_matching else None,
                   losses.marginal_references(torch, data, index)
                   if model.distribution_matching else None)
    # whole packs only (PacGAN): batch_size is a multiple of pack, n may not be
    batch = min(model.batch_size, n - n % model.pack)
    n_batches = n // batch  # the incomplete last batch is dropped (fresh shuffle each epoch)

    def epoch(i: int) -> dict:
        # a consistent state to fall back to if Ctrl-C arrives mid-epoch
        saved = (copy.deepcopy(G.state_dict()), copy.deepcopy(D.state_dict()),
                 copy.deepcopy(opt_g.state_dict()), copy.deepcopy(opt_d.state_dict()),
                 None if E is None else copy.deepcopy(E.state_dict()))
        try:
            return _run_epoch(model, torch, i, data, cond, n, batch, n_batches, opt_g, opt_d,
                              targets)
        except KeyboardInterrupt:
            G.load_state_dict(saved[0])
            D.load_state_dict(saved[1])
            opt_g.load_state_dict(saved[2])
            opt_d.load_state_dict(saved[3])
            if E is not None:
                E.load_state_dict(saved[4])
            raise

    return epoch


def _run_epoch(model, torch, i, data, cond, n, batch, n_batches, opt_g, opt_d,
               targets=None) -> dict:
    G, D = model._generator, model._discriminator
    loss, penalty = model.loss, model.gradient_penalty
    start = time.perf_counter()
    elapsed = model.history_["seconds"][-1] if model.history_["seconds"] else 0.0
    scale = lr_scale(model.lr_schedule, model.n_epochs, i)
    for opt, lr in ((opt_g, model.learning_rate_generator),
                    (opt_d, model.learning_rate_discriminator)):
        for group in opt.param_groups:
            group["lr"] = lr * scale
    epoch_seq = child(model.seed_, _STREAM_EPOCH, i)
    order = torch.from_numpy(np.random.default_rng(epoch_seq).permutation(n))
    gen = torch.Generator().manual_seed(torch_seed(epoch_seq))
    sums = np.zeros(5)
    G.train()
    D.train()
    n_g_steps = 0
    for b in range(n_batches):
        idx = order[b * batch:(b + 1) * batch]
        real = symmetry(model, torch, data[idx], gen)
        c_real = None if cond is None else cond[idx]
        z = torch.randn(batch, model.latent_size, generator=gen)
        c_fake = c_real  # generated at the temperatures of the real batch
        fake, mean = _generate_batch(model, torch, z, c_fake, gen)
        loss_d, logit_real, logit_fake = losses.discriminator_loss(
            torch, loss, D, real, c_real, fake.detach(), c_fake, gen, penalty=penalty,
            label_smoothing=model.label_smoothing)
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        if (b + 1) % model.n_critic == 0:
            score = D(fake, c_fake)
            loss_g = losses.generator_loss(torch, loss, score)
            if model.feature_matching > 0:
                loss_g = loss_g + model.feature_matching * losses.feature_matching(
                    torch, D, fake, c_fake, real, c_real)
            if model.draw_mode == "checkerboard":
                loss_g = loss_g + losses.pseudo_likelihood(
                    torch, real.detach(), G.coupling(c_real, batch))
            if targets is not None:
                group = targets[0][idx]
                ramp = matching_ramp(model.matching_warmup, i, b, n_batches)
                if targets[1] is not None:
                    loss_g = loss_g + ramp * model.moment_matching * losses.moment_matching(
                        torch, fake, targets[1][0][group], targets[1][1][group])
                if targets[2] is not None:
                    loss_g = loss_g + ramp * model.distribution_matching * \
                        losses.distribution_matching(torch, fake, group, targets[2])
            opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
            opt_g.step()
            if model._generator_ema is not None:
                with torch.no_grad():
                    for p_ema, p in zip(model._generator_ema.parameters(), G.parameters()):
                        p_ema.lerp_(p, 1.0 - model.ema_decay)
            n_g_steps += 1
            sums[1] += loss_g.item()
        with torch.no_grad():
            sums[[0, 2, 3, 4]] += [loss_d.item(),
                                   losses.to_probability(torch, loss, logit_real).mean().item(),
                                   losses.to_probability(torch, loss, logit_fake).mean().item(),
                                   mean.mean(dim=(1, 2)).abs().mean().item()]
    means = sums / n_batches
    means[1] = sums[1] / max(n_g_steps, 1)
    if not np.all(np.isfinite(means[:2])):
        raise DivergenceError(f"GAN training diverged at epoch {i + 1}: discriminator "
                              f"loss {means[0]}, generator loss {means[1]}")
    hist = model.history_
    metrics = dict(zip(("loss_discriminator", "loss_generator", "d_real", "d_fake",
                        "abs_magnetization_fake"), (float(v) for v in means)))
    for key, value in metrics.items():
        hist[key].append(value)
    hist["seconds"].append(float(elapsed + time.perf_counter() - start))
    model.n_epochs_trained_ = i + 1
    if model.n_epochs_trained_ in model.snapshot_epochs or \
            model.n_epochs_trained_ == model.n_epochs:
        z, c, snap_gen = _snapshot_inputs(model, torch)
        hist["snapshots"][model.n_epochs_trained_] = draw(model, torch, z, c, snap_gen,
                                                          model.generation)
    return metrics


def resume(model, torch, checkpoint, data_fingerprint):
    """Load the training state of ``checkpoint`` into ``model``; return the optimizers.

    Raises
    ------
    InvalidParameterError
        A model file without training state, other model-defining settings,
        other data, or more epochs than ``model.n_epochs``.
    FileFormatError
        Not a GAN file, or corrupt optimizer state.
    """
    path = Path(checkpoint)
    payload = io.read_payload(torch, path)
    if "training" not in payload:
        raise InvalidParameterError(f"cannot resume: {path} is a model file without "
                                    f"training state (not a checkpoint)")
    stored = io.from_payload(type(model), torch, payload, path)
    if model.rng is not None and not isinstance(model.rng, (np.random.Generator,
                                                            np.random.SeedSequence)):
        model.seed_ = int(model.rng)
    else:
        model.seed_ = stored.seed_  # the interrupted run's seed governs
    saved = stored._model_settings()
    model.temperature_range_ = stored.temperature_range_
    model.training_temperatures_ = stored.training_temperatures_
    check_resume_settings(saved, model._model_settings(), what=str(path))
    if payload["training"].get("data_fingerprint") != data_fingerprint:
        raise InvalidParameterError(f"cannot resume from {path}: it was trained on "
                                    f"different data")
    if stored.n_epochs_trained_ > model.n_epochs:
        raise InvalidParameterError(f"cannot resume from {path}: it already has "
                                    f"{stored.n_epochs_trained_} epochs > n_epochs = "
                                    f"{model.n_epochs}")
    model._generator, model._discriminator = stored._generator, stored._discriminator
    model._generator_ema = stored._generator_ema
    model.history_ = stored.history_
    model.n_epochs_trained_ = stored.n_epochs_trained_
    model.metadata_ = {**stored.metadata_, **model.metadata_}
    opt_g, opt_d = optimizers(model, torch)
    try:
        opt_g.load_state_dict(payload["training"]["optimizer_generator"])
        opt_d.load_state_dict(payload["training"]["optimizer_discriminator"])
    except (KeyError, ValueError, RuntimeError) as exc:
        raise FileFormatError(f"{path}: corrupt optimizer state ({exc})") from None
    return opt_g, opt_d
