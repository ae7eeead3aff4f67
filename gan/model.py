"""``IsingGAN``: a generative adversarial network for L x L periodic spin lattices.

Arrays in, arrays out: ``fit`` takes spins ``(n, L, L)`` int8 in {-1, +1},
``sample`` returns the same. Nothing here knows about temperatures, files of
Monte Carlo data or observables; the ``isingrbm gan`` command does that.
PyTorch is imported lazily (see :mod:`gan._torch`).
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path

import numpy as np

from mccore.errors import (DivergenceError, FileFormatError, InvalidParameterError,
                            OutputExistsError)

from ._torch import deterministic_torch, require_torch

__all__ = ["IsingGAN", "FORMAT", "FORMAT_VERSION"]

FORMAT = "isingrbm-gan"
FORMAT_VERSION = 1
GENERATION_MODES = ("bernoulli", "sign")

# Hyperparameters that may change when training is resumed from a checkpoint
# (the rest define the model and the random streams and must match).
_RESUMABLE_CHANGES = ("n_epochs", "snapshot_epochs", "n_threads")

# Spawn keys of the independent random streams derived from ``seed``.
_STREAM_INIT, _STREAM_EPOCH, _STREAM_SNAPSHOT = 0, 1, 2


def _check_int(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise InvalidParameterError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_float(name: str, value, low: float, high: float, *, low_open: bool = True,
                 high_open: bool = False) -> float:
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if ok:
        value = float(value)
        ok = (math.isfinite(value) and (value > low if low_open else value >= low)
              and (value < high if high_open else value <= high))
    if not ok:
        lo = "(" if low_open else "["
        hi = ")" if high_open else "]"
        raise InvalidParameterError(f"{name} must be a number in {lo}{low:g}, {high:g}{hi}, "
                                    f"got {value!r}")
    return value


def _resolve_seed(seed) -> int:
    if seed is None:
        return int(np.random.SeedSequence().entropy % (2**63))
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(0, 2**63))
    return _check_int("seed", seed, 0)


def _stream_seed(seed: int, *key: int) -> int:
    """A 63-bit seed for the independent stream ``key`` of ``seed``."""
    state = np.random.SeedSequence(seed, spawn_key=key).generate_state(2, dtype=np.uint32)
    return int((int(state[0]) << 31) ^ int(state[1])) & (2**63 - 1)


def check_spins(spins, L: int, name: str = "spins") -> np.ndarray:
    """Validate configurations ``(n, L, L)`` with values in {-1, +1}; return int8."""
    arr = np.asarray(spins)
    if arr.ndim != 3 or arr.shape[1:] != (L, L):
        raise InvalidParameterError(f"{name} must have shape (n, {L}, {L}), got {arr.shape}")
    if arr.shape[0] < 2:
        raise InvalidParameterError(f"{name} must hold at least 2 configurations, "
                                    f"got {arr.shape[0]}")
    if not np.all((arr == 1) | (arr == -1)):
        raise InvalidParameterError(f"{name} must contain only -1 and +1")
    return arr.astype(np.int8, copy=False)


def _fingerprint(spins: np.ndarray) -> str:
    import hashlib
    digest = hashlib.sha256(np.ascontiguousarray(spins, dtype=np.int8).tobytes())
    digest.update(str(spins.shape).encode())
    return digest.hexdigest()


class IsingGAN:
    """Generative adversarial network for L x L periodic Ising configurations.

    Parameters
    ----------
    L : int
        Lattice side (>= 2); configurations are ``(n, L, L)`` in {-1, +1}.
    latent_dim : int
        Dimension of the global standard-normal latent vector.
    noise_channels : int
        Per-site standard-normal noise channels fed to the generator's
        convolutions (see Notes). A latent vector has ``latent_size =
        latent_dim + noise_channels * L * L`` entries.
    channels : int
        Hidden feature channels (generator; first discriminator layer).
    n_layers : int
        Convolutions per network (see :mod:`gan.networks`).
    n_epochs : int
        Passes over the training configurations.
    batch_size : int
        Configurations per discriminator/generator step.
    learning_rate_generator, learning_rate_discriminator : float
        Adam step sizes.
    beta1, beta2 : float
        Adam moment decay rates (beta1 = 0.5 as in DCGAN, Radford et al. 2016).
    label_smoothing : float
        Target of the discriminator for real configurations, in (0.5, 1];
        0.9 is one-sided label smoothing (Salimans et al. 2016), 1 disables it.
    gradient_penalty : float
        Weight gamma of the R1 penalty ``gamma/2 E_data |grad_x D-logit|^2``
        on real configurations (Mescheder et al. 2018); 0 disables it.
    minibatch_std : bool
        Give the discriminator the minibatch standard deviation feature
        (Karras et al. 2018), a defence against mode collapse.
    generation : {"bernoulli", "sign"}
        How :meth:`sample` turns the generator's mean spins into +-1 (see Notes).
    snapshot_epochs : sequence of int
        Epochs (1-based) after which ``n_snapshot`` configurations from a fixed
        set of latent vectors are kept in ``history_["snapshots"]``, for the
        figure of sample grids during training. The last epoch is always kept.
    n_snapshot : int
        Configurations per snapshot.
    n_threads : int or None
        PyTorch intra-op threads during fit/sample (default 1; None: leave
        as is). One thread is the default because on a loaded 2-core machine
        two OpenMP threads were 10-40x slower per step than one.
        Results are reproducible for a fixed thread count; see Notes.
    seed : int, numpy.random.Generator or None
        Seed of every random stream (weight initialisation, shuffling, latent
        noise). None draws fresh entropy; the seed used is ``seed_``.

    Attributes
    ----------
    seed_ : int
        The seed in use (recorded in model files).
    history_ : dict
        Per-epoch lists: ``loss_discriminator``, ``loss_generator`` (batch
        means), ``d_real``, ``d_fake`` (mean discriminator probability on real
        and generated configurations), ``abs_magnetization_fake`` (mean
        |sum tanh(a)| / N of the generated batch), ``seconds`` (cumulative wall
        time); ``snapshots`` (dict epoch -> int8 (n_snapshot, L, L)).
    n_epochs_trained_ : int
    metadata_ : dict
        Free provenance (data file, temperature, ...) stored in the model file.

    Notes
    -----
    Value function (Goodfellow et al. 2014):
    ``V(D, G) = E_data log D(x) + E_z log(1 - D(G(z)))``. The discriminator
    ascends V (binary cross-entropy with the real target ``label_smoothing``);
    the generator uses the non-saturating loss ``-E_z log D(G(z))``. One
    discriminator step then one generator step per batch (the generator step
    reuses the batch's latent vectors), Adam for both.

    Stabilizers, and why (measured at L = 8, T = 1.5 and 3.5, 2000 Monte
    Carlo configurations): with a global latent vector only, every variant we
    tried (plain, one-sided label smoothing, minibatch-std, instance noise,
    a straight-through Bernoulli output, a relaxed-Bernoulli output, a
    Z2-symmetrized discriminator) collapsed to (almost) all-up lattices at
    T = 3.5 (e = -2.0 against -0.67) or to uncorrelated noise (e ~ 0). Two
    changes made it work: per-site noise channels (local randomness, which a
    circular convolution turns into a translation-invariant random field,
    while the global vector sets large-scale features such as the sign of m)
    and the R1 penalty on the discriminator (it damped the oscillation of the
    generated magnetization between epochs). With both, T = 3.5 gave e =
    -0.694 vs -0.666 and |m| = 0.275 vs 0.249, T = 1.5 gave e = -1.952 vs
    -1.953, |m| = 0.975 vs 0.987 and 50 % of samples with m > 0.

    The generator output during training is ``x = tanh(a)`` in (-1, 1), read
    as the mean spin of each site. At generation each spin is drawn
    independently, ``P(s_i = +1) = (1 + x_i) / 2`` (``generation="bernoulli"``,
    the default). Why not ``sign(x)``: the discriminator judged ``x``, and
    independent Bernoulli draws keep exactly what it judged in the mean,
    ``E[s_i | z] = x_i`` and, the Ising energy being a sum of products of
    *different* sites, ``E[E(s) | z] = E(x)``; sign() pushes every uncertain
    site to +-1 together with its neighbours and so biases the energy and
    |m| towards order wherever the generator is not saturated. Where the
    generator is saturated (|x| -> 1) both rules agree. ``"sign"`` is kept for
    comparison; in the measurements above sign() gave e = -1.975 (T = 1.5) and
    -0.703 (T = 3.5) against Bernoulli's -1.952 and -0.694 (Monte Carlo
    -1.953 and -0.666).

    Reproducibility: all randomness comes from ``seed`` through
    ``SeedSequence`` streams keyed by purpose and epoch, so an interrupted
    training resumed from its checkpoint ends in exactly the weights of an
    uninterrupted one. Fit and sample run under
    ``torch.use_deterministic_algorithms(True)``; global torch RNG state is not
    used (weights are initialised inside ``torch.random.fork_rng``). CPU
    floating-point reductions may be split differently for different thread
    counts, so bitwise equality is promised for a fixed ``n_threads``.
    """

    def __init__(self, L: int, *, latent_dim: int = 32, noise_channels: int = 2,
                 channels: int = 16, n_layers: int = 3, n_epochs: int = 30,
                 batch_size: int = 32, learning_rate_generator: float = 2e-4,
                 learning_rate_discriminator: float = 2e-4,
                 beta1: float = 0.5, beta2: float = 0.999, label_smoothing: float = 0.9,
                 gradient_penalty: float = 1.0, minibatch_std: bool = True,
                 generation: str = "bernoulli", snapshot_epochs=(), n_snapshot: int = 16,
                 n_threads: int | None = 1, seed=None):
        self.L = _check_int("L", L, 2)
        self.latent_dim = _check_int("latent_dim", latent_dim, 1)
        self.noise_channels = _check_int("noise_channels", noise_channels, 0)
        self.channels = _check_int("channels", channels, 1)
        self.n_layers = _check_int("n_layers", n_layers, 1)
        self.n_epochs = _check_int("n_epochs", n_epochs, 1)
        self.batch_size = _check_int("batch_size", batch_size, 2)
        self.learning_rate_generator = _check_float("learning_rate_generator",
                                                    learning_rate_generator, 0.0, 1.0)
        self.learning_rate_discriminator = _check_float("learning_rate_discriminator",
                                                        learning_rate_discriminator, 0.0, 1.0)
        self.beta1 = _check_float("beta1", beta1, 0.0, 1.0, low_open=False, high_open=True)
        self.beta2 = _check_float("beta2", beta2, 0.0, 1.0, low_open=False, high_open=True)
        self.label_smoothing = _check_float("label_smoothing", label_smoothing, 0.5, 1.0)
        self.gradient_penalty = _check_float("gradient_penalty", gradient_penalty, 0.0, 1e6,
                                             low_open=False)
        if not isinstance(minibatch_std, (bool, np.bool_)):
            raise InvalidParameterError(f"minibatch_std must be True or False, "
                                        f"got {minibatch_std!r}")
        self.minibatch_std = bool(minibatch_std)
        if generation not in GENERATION_MODES:
            raise InvalidParameterError(f"generation must be one of {GENERATION_MODES}, "
                                        f"got {generation!r}")
        self.generation = generation
        try:
            epochs = tuple(sorted({_check_int("snapshot epoch", e, 1) for e in snapshot_epochs}))
        except TypeError:
            raise InvalidParameterError(f"snapshot_epochs must be a sequence of integers >= 1, "
                                        f"got {snapshot_epochs!r}") from None
        self.snapshot_epochs = epochs
        self.n_snapshot = _check_int("n_snapshot", n_snapshot, 1)
        self.n_threads = None if n_threads is None else _check_int("n_threads", n_threads, 1)
        self.seed_ = _resolve_seed(seed)
        self.history_: dict = self._empty_history()
        self.n_epochs_trained_ = 0
        self.metadata_: dict = {}
        self._generator = None
        self._discriminator = None

    # ------------------------------------------------------------------
    # hyperparameters and networks

    def get_params(self) -> dict:
        """Hyperparameters as plain Python values (``seed`` is ``seed_``)."""
        return {
            "L": self.L, "latent_dim": self.latent_dim, "channels": self.channels,
            "n_layers": self.n_layers, "n_epochs": self.n_epochs, "batch_size": self.batch_size,
            "learning_rate_generator": self.learning_rate_generator,
            "learning_rate_discriminator": self.learning_rate_discriminator,
            "beta1": self.beta1, "beta2": self.beta2, "label_smoothing": self.label_smoothing,
            "noise_channels": self.noise_channels, "gradient_penalty": self.gradient_penalty,
            "minibatch_std": self.minibatch_std, "generation": self.generation,
            "snapshot_epochs": list(self.snapshot_epochs), "n_snapshot": self.n_snapshot,
            "n_threads": self.n_threads, "seed": self.seed_,
        }

    @staticmethod
    def _empty_history() -> dict:
        keys = ("loss_discriminator", "loss_generator", "d_real", "d_fake",
                "abs_magnetization_fake", "seconds")
        history: dict = {key: [] for key in keys}
        history["snapshots"] = {}
        return history

    def _build(self, torch):
        from .networks import Discriminator, Generator

        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(_stream_seed(self.seed_, _STREAM_INIT))
            self._generator = Generator(self.L, self.latent_dim, self.channels, self.n_layers,
                                        self.noise_channels)
            self._discriminator = Discriminator(self.L, self.channels, self.n_layers,
                                                self.minibatch_std)

    def _require_fitted(self):
        if self._generator is None:
            raise InvalidParameterError("this IsingGAN is not fitted yet; call fit() or load()")

    @property
    def latent_size(self) -> int:
        """Length of a latent vector: latent_dim + noise_channels * L * L."""
        return self.latent_dim + self.noise_channels * self.L * self.L

    @property
    def is_fitted(self) -> bool:
        """True once the model has been trained (or loaded)."""
        return self._generator is not None

    # ------------------------------------------------------------------
    # training

    def fit(self, spins, *, callback=None, progress: bool = False, checkpoint=None,
            checkpoint_every: int = 1, resume: bool = False) -> "IsingGAN":
        """Train on configurations ``spins`` (n, L, L) in {-1, +1}.

        Parameters
        ----------
        spins : array_like, shape (n, L, L), values in {-1, +1}
        callback : callable, optional
            ``callback(epoch, history)`` after every epoch (1-based epoch).
        progress : bool
            Show a progress bar over epochs (tqdm).
        checkpoint : path, optional
            File that receives the full training state (weights, Adam moments,
            history) every ``checkpoint_every`` epochs and after the last one.
        checkpoint_every : int
        resume : bool
            Continue from ``checkpoint`` (which must exist and have been made
            with the same data and the same hyperparameters, except
            ``n_epochs``, ``snapshot_epochs`` and ``n_threads``); training goes
            on up to ``n_epochs``.

        Returns
        -------
        self

        Raises
        ------
        MissingDependencyError
            PyTorch is not installed.
        InvalidParameterError
            Bad spins, or a checkpoint that does not belong to this run.
        DivergenceError
            A loss became NaN or infinite.
        """
        torch = require_torch()
        spins = check_spins(spins, self.L)
        checkpoint_every = _check_int("checkpoint_every", checkpoint_every, 1)
        if resume and checkpoint is None:
            raise InvalidParameterError("resume=True needs a checkpoint path")
        fingerprint = _fingerprint(spins)
        with deterministic_torch(self.n_threads):
            if resume:
                opt_g, opt_d = self._resume(torch, checkpoint, fingerprint)
            else:
                self._build(torch)
                self.history_ = self._empty_history()
                self.n_epochs_trained_ = 0
                opt_g, opt_d = self._optimizers(torch)
            self._train(torch, spins, opt_g, opt_d, fingerprint=fingerprint,
                        callback=callback, progress=progress, checkpoint=checkpoint,
                        checkpoint_every=checkpoint_every)
        return self

    def _optimizers(self, torch):
        opt_g = torch.optim.Adam(self._generator.parameters(), lr=self.learning_rate_generator,
                                 betas=(self.beta1, self.beta2))
        opt_d = torch.optim.Adam(self._discriminator.parameters(),
                                 lr=self.learning_rate_discriminator,
                                 betas=(self.beta1, self.beta2))
        return opt_g, opt_d

    def _snapshot_latent(self, torch):
        gen = torch.Generator().manual_seed(_stream_seed(self.seed_, _STREAM_SNAPSHOT))
        z = torch.randn(self.n_snapshot, self.latent_size, generator=gen)
        return z, gen

    def _train(self, torch, spins, opt_g, opt_d, *, fingerprint, callback, progress,
               checkpoint, checkpoint_every):
        bce = torch.nn.functional.binary_cross_entropy_with_logits
        G, D = self._generator, self._discriminator
        data = torch.from_numpy(spins.astype(np.float32))
        n = data.shape[0]
        batch = min(self.batch_size, n)
        n_batches = n // batch  # the incomplete last batch is dropped (fresh shuffle each epoch)
        epochs = range(self.n_epochs_trained_, self.n_epochs)
        bar = None
        if progress:
            from tqdm.auto import tqdm
            bar = tqdm(total=self.n_epochs, initial=self.n_epochs_trained_, unit="epoch",
                       desc="GAN fit")
        elapsed = self.history_["seconds"][-1] if self.history_["seconds"] else 0.0
        try:
            for epoch in epochs:
                start = time.perf_counter()
                epoch_seed = _stream_seed(self.seed_, _STREAM_EPOCH, epoch)
                order = torch.from_numpy(np.random.default_rng(epoch_seed).permutation(n))
                gen = torch.Generator().manual_seed(epoch_seed)
                sums = np.zeros(5)
                G.train()
                D.train()
                for b in range(n_batches):
                    real = data[order[b * batch:(b + 1) * batch]]
                    z = torch.randn(batch, self.latent_size, generator=gen)
                    fake = torch.tanh(G(z))
                    if self.gradient_penalty > 0:
                        real.requires_grad_(True)
                    logit_real = D(real)
                    logit_fake = D(fake.detach())
                    loss_d = (bce(logit_real, torch.full_like(logit_real, self.label_smoothing))
                              + bce(logit_fake, torch.zeros_like(logit_fake)))
                    if self.gradient_penalty > 0:
                        (grad_real,) = torch.autograd.grad(logit_real.sum(), real,
                                                           create_graph=True)
                        loss_d = loss_d + 0.5 * self.gradient_penalty * \
                            grad_real.pow(2).sum(dim=(1, 2)).mean()
                    opt_d.zero_grad(set_to_none=True)
                    loss_d.backward()
                    opt_d.step()
                    # generator step, non-saturating: descend -log D(G(z))
                    logit_gen = D(fake)
                    loss_g = bce(logit_gen, torch.ones_like(logit_gen))
                    opt_g.zero_grad(set_to_none=True)
                    loss_g.backward()
                    opt_g.step()
                    with torch.no_grad():
                        sums += [loss_d.item(), loss_g.item(),
                                 torch.sigmoid(logit_real).mean().item(),
                                 torch.sigmoid(logit_fake).mean().item(),
                                 fake.mean(dim=(1, 2)).abs().mean().item()]
                means = sums / n_batches
                if not np.all(np.isfinite(means[:2])):
                    raise DivergenceError(f"GAN training diverged at epoch {epoch + 1}: "
                                          f"discriminator loss {means[0]}, generator loss "
                                          f"{means[1]}")
                elapsed += time.perf_counter() - start
                hist = self.history_
                for key, value in zip(("loss_discriminator", "loss_generator", "d_real",
                                       "d_fake", "abs_magnetization_fake"), means):
                    hist[key].append(float(value))
                hist["seconds"].append(float(elapsed))
                self.n_epochs_trained_ = epoch + 1
                if self.n_epochs_trained_ in self.snapshot_epochs or \
                        self.n_epochs_trained_ == self.n_epochs:
                    z, snap_gen = self._snapshot_latent(torch)
                    hist["snapshots"][self.n_epochs_trained_] = self._draw(
                        torch, z, snap_gen, self.generation)
                if checkpoint is not None and (self.n_epochs_trained_ % checkpoint_every == 0
                                               or self.n_epochs_trained_ == self.n_epochs):
                    self._write_checkpoint(torch, checkpoint, opt_g, opt_d, fingerprint)
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(loss_d=f"{means[0]:.3f}", loss_g=f"{means[1]:.3f}")
                if callback is not None:
                    callback(self.n_epochs_trained_, self.history_)
        finally:
            if bar is not None:
                bar.close()

    # ------------------------------------------------------------------
    # generation

    def _draw(self, torch, z, gen, mode, uniform=None):
        """Spins (int8 numpy) from latent vectors ``z`` (torch).

        The Bernoulli draws use ``uniform`` (same shape as the output) if
        given, else fresh uniforms from the torch generator ``gen``.
        """
        self._generator.eval()
        with torch.no_grad():
            x = torch.tanh(self._generator(z))
            if mode == "sign":
                s = torch.where(x >= 0, 1, -1)
            elif mode == "bernoulli":
                u = torch.rand(x.shape, generator=gen) if uniform is None else uniform
                s = torch.where(u < (1 + x) / 2, 1, -1)
            else:  # "mean"
                return x.numpy().astype(np.float64)
        return s.to(torch.int8).numpy()

    def sample(self, n_samples: int, *, seed=None, mode: str | None = None,
               batch_size: int = 1024) -> np.ndarray:
        """Draw ``n_samples`` configurations (n_samples, L, L) int8 in {-1, +1}.

        Parameters
        ----------
        n_samples : int
        seed : int, numpy.random.Generator or None
            Seed of the latent vectors and Bernoulli draws (None: fresh entropy).
            The same seed gives the same configurations for any ``batch_size``.
        mode : {"bernoulli", "sign"} or None
            Overrides the model's ``generation`` rule (see the class Notes).
        batch_size : int
            Configurations generated per forward pass (memory only).
        """
        torch = require_torch()
        self._require_fitted()
        n_samples = _check_int("n_samples", n_samples, 1)
        batch_size = _check_int("batch_size", batch_size, 1)
        mode = self.generation if mode is None else mode
        if mode not in GENERATION_MODES:
            raise InvalidParameterError(f"mode must be one of {GENERATION_MODES}, got {mode!r}")
        seed = _resolve_seed(seed)
        out = np.empty((n_samples, self.L, self.L), dtype=np.int8)
        with deterministic_torch(self.n_threads):
            # one stream per block of 1024 samples, so batch_size does not matter
            for start in range(0, n_samples, 1024):
                stop = min(start + 1024, n_samples)
                gen = torch.Generator().manual_seed(_stream_seed(seed, start // 1024))
                z = torch.randn(stop - start, self.latent_size, generator=gen)
                u = torch.rand(stop - start, self.L, self.L, generator=gen)
                for s0 in range(0, stop - start, batch_size):
                    s1 = min(s0 + batch_size, stop - start)
                    out[start + s0:start + s1] = self._draw(torch, z[s0:s1], gen, mode,
                                                            uniform=u[s0:s1])
        return out

    def latent_vectors(self, n: int, *, seed=None) -> np.ndarray:
        """Standard-normal latent vectors (n, latent_dim) float32, for exploration."""
        n = _check_int("n", n, 1)
        rng = np.random.default_rng(_resolve_seed(seed))
        return rng.standard_normal((n, self.latent_size)).astype(np.float32)

    def generate(self, latent, *, mode: str = "mean", seed=None) -> np.ndarray:
        """Generator output for given latent vectors.

        Parameters
        ----------
        latent : array_like, shape (n, latent_dim)
        mode : {"mean", "bernoulli", "sign"}
            "mean": the mean spins tanh(a) as float64 (n, L, L); otherwise
            spins int8 drawn with that rule.
        seed : int or None
            Seed of the Bernoulli draws.
        """
        torch = require_torch()
        self._require_fitted()
        if mode not in ("mean",) + GENERATION_MODES:
            raise InvalidParameterError(f"mode must be one of {('mean',) + GENERATION_MODES}, "
                                        f"got {mode!r}")
        z = np.asarray(latent, dtype=np.float32)
        if z.ndim != 2 or z.shape[1] != self.latent_size:
            raise InvalidParameterError(f"latent must have shape (n, {self.latent_size}), "
                                        f"got {z.shape}")
        with deterministic_torch(self.n_threads):
            gen = torch.Generator().manual_seed(_resolve_seed(seed))
            return self._draw(torch, torch.from_numpy(np.ascontiguousarray(z)), gen, mode)

    def discriminate(self, spins) -> np.ndarray:
        """Discriminator probability D(x) that each configuration is real, (n,) float64.

        Evaluated one configuration at a time when the minibatch feature is on,
        so the answer does not depend on the other configurations.
        """
        torch = require_torch()
        self._require_fitted()
        arr = np.asarray(spins, dtype=np.float32)
        if arr.ndim != 3 or arr.shape[1:] != (self.L, self.L):
            raise InvalidParameterError(f"spins must have shape (n, {self.L}, {self.L}), "
                                        f"got {arr.shape}")
        with deterministic_torch(self.n_threads), torch.no_grad():
            self._discriminator.eval()
            x = torch.from_numpy(arr)
            if self.minibatch_std:
                logits = torch.cat([self._discriminator(x[i:i + 1]) for i in range(len(x))])
            else:
                logits = self._discriminator(x)
            return torch.sigmoid(logits).double().numpy()

    # ------------------------------------------------------------------
    # files

    def _payload(self, torch) -> dict:
        self._require_fitted()
        hist = self.history_
        snap_epochs = sorted(hist["snapshots"])
        history = {key: torch.tensor(hist[key], dtype=torch.float64)
                   for key in hist if key != "snapshots"}
        history["snapshot_epochs"] = torch.tensor(snap_epochs, dtype=torch.int64)
        if snap_epochs:
            history["snapshots"] = torch.from_numpy(
                np.stack([hist["snapshots"][e] for e in snap_epochs]).astype(np.int8))
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "hyperparameters": json.dumps(self.get_params()),
            "metadata": json.dumps(self.metadata_),
            "n_epochs_trained": int(self.n_epochs_trained_),
            "generator": self._generator.state_dict(),
            "discriminator": self._discriminator.state_dict(),
            "history": history,
        }

    def save(self, path, *, metadata: dict | None = None, overwrite: bool = False) -> Path:
        """Write the model (weights, hyperparameters, history, metadata) to ``path``.

        The file is a PyTorch zip archive of tensors, strings and numbers only,
        read back with ``torch.load(weights_only=True)`` (no code executed).

        Parameters
        ----------
        path : path
        metadata : dict, optional
            JSON-serializable provenance (data file, temperature, ...), merged
            into ``metadata_`` and stored.
        overwrite : bool
            Replace an existing file.
        """
        torch = require_torch()
        path = Path(path)
        if path.exists() and not overwrite:
            raise OutputExistsError(f"output {path} exists; pass overwrite=True to replace it")
        if metadata:
            self.metadata_ = {**self.metadata_, **metadata}
        _atomic_torch_save(torch, self._payload(torch), path)
        return path

    def _write_checkpoint(self, torch, path, opt_g, opt_d, fingerprint):
        payload = self._payload(torch)
        payload["training"] = {"optimizer_generator": opt_g.state_dict(),
                               "optimizer_discriminator": opt_d.state_dict(),
                               "data_fingerprint": fingerprint}
        _atomic_torch_save(torch, payload, Path(path))

    @classmethod
    def load(cls, path) -> "IsingGAN":
        """Read a model (or checkpoint) file written by :meth:`save`.

        Raises
        ------
        MissingDependencyError
            PyTorch is not installed.
        FileFormatError
            The file is not an isingrbm GAN model (foreign, corrupt, other version).
        """
        torch = require_torch()
        payload = _read_payload(torch, path)
        return cls._from_payload(torch, payload, path)

    @classmethod
    def _from_payload(cls, torch, payload, path) -> "IsingGAN":
        try:
            params = json.loads(payload["hyperparameters"])
            seed = params.pop("seed")
            model = cls(**params, seed=seed)
            model.metadata_ = json.loads(payload["metadata"])
            model._build(torch)
            model._generator.load_state_dict(payload["generator"])
            model._discriminator.load_state_dict(payload["discriminator"])
            model.n_epochs_trained_ = int(payload["n_epochs_trained"])
            hist = payload["history"]
            history = cls._empty_history()
            for key in history:
                if key != "snapshots":
                    history[key] = [float(v) for v in hist[key].tolist()]
            epochs = [int(e) for e in hist["snapshot_epochs"].tolist()]
            for i, epoch in enumerate(epochs):
                history["snapshots"][epoch] = hist["snapshots"][i].numpy().astype(np.int8)
            model.history_ = history
        except (KeyError, TypeError, ValueError, RuntimeError, AttributeError,
                IndexError) as exc:
            raise FileFormatError(f"{path}: not a valid {FORMAT} file "
                                  f"({type(exc).__name__}: {exc})") from None
        return model

    def _resume(self, torch, checkpoint, fingerprint):
        path = Path(checkpoint)
        if not path.exists():
            raise InvalidParameterError(f"cannot resume: checkpoint {path} does not exist")
        payload = _read_payload(torch, path)
        if "training" not in payload:
            raise InvalidParameterError(f"cannot resume: {path} is a model file without "
                                        f"training state (not a checkpoint)")
        stored = self._from_payload(torch, payload, path)
        mine, theirs = self.get_params(), stored.get_params()
        changed = sorted(k for k in mine if k not in _RESUMABLE_CHANGES and mine[k] != theirs[k])
        if changed:
            detail = ", ".join(f"{k}={theirs[k]!r} (now {mine[k]!r})" for k in changed)
            raise InvalidParameterError(f"cannot resume from {path}: it was made with {detail}")
        training = payload["training"]
        if training.get("data_fingerprint") != fingerprint:
            raise InvalidParameterError(f"cannot resume from {path}: it was trained on "
                                        f"different data")
        if stored.n_epochs_trained_ > self.n_epochs:
            raise InvalidParameterError(f"cannot resume from {path}: it already has "
                                        f"{stored.n_epochs_trained_} epochs > n_epochs = "
                                        f"{self.n_epochs}")
        self._generator, self._discriminator = stored._generator, stored._discriminator
        self.history_ = stored.history_
        self.n_epochs_trained_ = stored.n_epochs_trained_
        self.metadata_ = {**stored.metadata_, **self.metadata_}
        opt_g, opt_d = self._optimizers(torch)
        try:
            opt_g.load_state_dict(training["optimizer_generator"])
            opt_d.load_state_dict(training["optimizer_discriminator"])
        except (KeyError, ValueError, RuntimeError) as exc:
            raise FileFormatError(f"{path}: corrupt optimizer state ({exc})") from None
        return opt_g, opt_d

    def __repr__(self) -> str:
        fitted = f", trained {self.n_epochs_trained_} epochs" if self.is_fitted else ""
        return (f"IsingGAN(L={self.L}, latent_dim={self.latent_dim}, channels={self.channels}, "
                f"n_layers={self.n_layers}, seed={self.seed_}{fitted})")


def _atomic_torch_save(torch, payload: dict, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        torch.save(payload, tmp)
        os.replace(tmp, path)
    except BaseException:
        if tmp.exists():
            tmp.unlink()
        raise


def _read_payload(torch, path) -> dict:
    import pickle
    import zipfile

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(2, "No such file or directory", str(path))
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, zipfile.BadZipFile,
            ValueError, AttributeError, TypeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise FileFormatError(f"{path}: not a readable {FORMAT} file ({first})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise FileFormatError(f"{path}: not an {FORMAT} file (format attribute missing or "
                              f"different)")
    if payload.get("format_version") != FORMAT_VERSION:
        raise FileFormatError(f"{path}: {FORMAT} format_version "
                              f"{payload.get('format_version')!r} is not supported "
                              f"(expected {FORMAT_VERSION})")
    return payload
