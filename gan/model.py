"""``IsingGAN``: a generative adversarial network for L x L periodic spin lattices.

Arrays in, arrays out: ``fit`` takes spins ``(n, L, L)`` int8 in {-1, +1}
(and, for a temperature-conditioned model, the temperature of each
configuration), ``sample`` returns the same. Nothing here reads files of
Monte Carlo data or computes observables; the ``isingrbm gan`` command does
that. PyTorch is imported lazily (see :mod:`gan._torch`).
"""

from __future__ import annotations

import errno
import hashlib
import io
import json
import time
import warnings
from pathlib import Path

import numpy as np

from mccore.errors import (
    DivergenceError,
    FileFormatError,
    InvalidParameterError,
    OutputExistsError,
)
from mccore.files import atomic_path
from mccore.rng import child, recorded_seed, seed_sequence
from mccore.training import check_resume_settings, run_steps
from mccore.validation import (
    check_bool,
    check_choice,
    check_float,
    check_int,
    check_memory,
)

from ._torch import deterministic_torch, require_torch

__all__ = ["FORMAT", "FORMAT_VERSION", "IsingGAN", "check_spins"]

FORMAT = "isingrbm-gan"
FORMAT_VERSION = 2
GENERATION_MODES = ("bernoulli", "sign")
LOSSES = ("nonsaturating", "wgan-gp", "hinge")
TRAINING_OUTPUTS = ("mean", "straight-through")
LR_SCHEDULES = ("constant", "linear-decay")

# Hyperparameters that may change when training is resumed from a checkpoint;
# the rest define the model and its random streams and must match.
_RESUMABLE_CHANGES = ("n_epochs", "snapshot_epochs", "n_threads")

# Spawn keys of the independent random streams derived from the seed.
_STREAM_INIT, _STREAM_EPOCH, _STREAM_SNAPSHOT, _STREAM_SAMPLE, _STREAM_LATENT = 0, 1, 2, 3, 4
_BLOCK = 1024  # sample() draws one stream per block of this many configurations

# Settings of models written by format version 1 (before symmetrization,
# conditioning and the choice of loss existed): they load with these.
_V1_DEFAULTS = {"loss": "nonsaturating", "n_critic": 1, "training_output": "mean",
                "label_smoothing": 0.9,
                "ema_decay": 0.0,
                "symmetrize": False, "random_translation": False, "conditional": False}
# Settings of format-2 files written before the learning-rate schedule and the
# ablation options existed (applied to format-1 files too).
_V2_DEFAULTS = {"bond_features": False, "head_hidden": 0, "lr_schedule": "constant",
                "feature_matching": 0.0}


def _torch_seed(seq) -> int:
    """A 63-bit seed for a torch.Generator from a SeedSequence."""
    state = seq.generate_state(2, dtype=np.uint32)
    return int((int(state[0]) << 31) ^ int(state[1])) & (2**63 - 1)


def _resolve_seed(rng) -> int:
    """The int seed a fit uses for ``rng`` (resolved once by :mod:`mccore.rng`).

    An int (or None, fresh entropy) is used as it is; a spawned or list-seeded
    SeedSequence, or a Generator, is turned into an int drawn from it, so that
    the recorded ``seed_`` alone reproduces every stream.
    """
    seq = seed_sequence(rng)
    if not seq.spawn_key and isinstance(seq.entropy, int):
        return recorded_seed(seq)
    return int(seq.generate_state(2, dtype=np.uint64)[0] % (2**63))


def _check_rng_type(rng):
    """Refuse what :func:`mccore.rng.seed_sequence` would refuse, without drawing."""
    if rng is None or isinstance(rng, (np.random.Generator, np.random.SeedSequence)):
        return rng
    check_int("rng", rng, minimum=0)
    return rng


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


def _fingerprint(spins: np.ndarray, temperatures) -> str:
    digest = hashlib.sha256(np.ascontiguousarray(spins, dtype=np.int8).tobytes())
    digest.update(str(spins.shape).encode())
    if temperatures is not None:
        digest.update(np.ascontiguousarray(temperatures, dtype=np.float64).tobytes())
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
        convolutions. A latent vector has ``latent_size = latent_dim +
        noise_channels * L * L`` entries.
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
        Adam moment decay rates.
    loss : {"nonsaturating", "wgan-gp", "hinge"}
        "nonsaturating": the discriminator minimizes binary cross-entropy,
        the generator ``-log D(G(z))`` (Goodfellow et al. 2014), with the R1
        penalty ``gradient_penalty/2 E_data |grad_x D|^2`` (Mescheder et al.
        2018). "wgan-gp": Wasserstein critic with the gradient penalty
        ``gradient_penalty E (|grad D(x_hat)| - 1)^2`` on random
        interpolates (Gulrajani et al. 2017). "hinge": hinge loss with a
        spectrally normalized discriminator (Miyato et al. 2018); the
        penalty is then R1 as for "nonsaturating".
    n_critic : int
        Discriminator steps per generator step.
    label_smoothing : float
        Target of the discriminator for real configurations in the
        non-saturating loss, in (0.5, 1]; 1 disables it.
    gradient_penalty : float
        Weight of the gradient penalty (see ``loss``); 0 disables it.
    minibatch_std : bool
        Give the discriminator the minibatch standard deviation feature
        (Karras et al. 2018), a defence against mode collapse.
    training_output : {"mean", "straight-through"}
        What the discriminator sees of a generated configuration during
        training: the mean spins ``tanh(a)`` ("mean"), or spins drawn from
        them, ``P(s_i = +1) = (1 + tanh a_i) / 2``, with the straight-through
        gradient of the mean ("straight-through": the discriminator judges
        exactly the +-1 configurations that :meth:`sample` returns).
    generation : {"bernoulli", "sign"}
        How :meth:`sample` turns mean spins into +-1 (see Notes).
    symmetrize : bool
        Give every generated configuration a uniformly random global sign
        (training and sampling), so that the Z2 symmetry s -> -s of the
        zero-field Ising weight holds exactly: P(m > 0) = 1/2 whatever the
        network learned. Real configurations get random signs too in
        training (an exact symmetry of their distribution).
    random_translation : bool
        Also translate every generated (and, in training, real)
        configuration by a uniformly random lattice vector, an exact symmetry
        of the periodic lattice.
    conditional : bool
        Temperature-conditioned model: :meth:`fit` takes the temperature of
        every configuration and :meth:`sample` a temperature inside the
        training range (see Notes).
    snapshot_epochs : sequence of int
        Epochs (1-based) after which ``n_snapshot`` configurations from a fixed
        set of latent vectors are kept in ``history_["snapshots"]``. The last
        epoch is always kept.
    n_snapshot : int
        Configurations per snapshot.
    ema_decay : float
        Samples come from an exponential moving average of the generator's
        weights, updated after every generator step with this decay (0: the
        last weights). The average smooths the epoch-to-epoch oscillation of
        adversarial training (Yazici et al. 2019, "The unusual effectiveness
        of averaging in GAN training").
    lr_schedule : {"linear-decay", "constant"}
        "linear-decay": both learning rates stay constant for the first half
        of ``n_epochs`` and then fall linearly, epoch by epoch, to
        ``2 / (n_epochs + 1)`` of their initial value in the last epoch, so
        that the oscillation of adversarial training dies out and the model
        ends where training settled instead of wherever the last epoch left
        it (see Notes); "constant": no decay.
    feature_matching : float
        Weight of a feature-matching term in the generator loss (Salimans et
        al. 2016): the squared differences between real and generated
        batches in the mean and the standard deviation of every
        site-averaged discriminator feature (0 disables).
    bond_features : bool
        Give the discriminator the bond variables ``s_i s_j`` (right and
        lower neighbour) as two more input maps (an ablation variant).
    head_hidden : int
        Hidden units of a perceptron head of the discriminator (0: linear;
        an ablation variant).
    n_threads : int or None
        PyTorch intra-op threads during fit/sample (default 1; None: leave as
        is). Results are reproducible for a fixed thread count.
    rng : int, numpy.random.SeedSequence, numpy.random.Generator or None
        Randomness (see :mod:`mccore.rng`), stored untouched. Every
        :meth:`fit` resolves it to a seed (None: fresh entropy) recorded as
        ``seed_``; weight initialisation, shuffling and latent noise are
        independent streams of that seed.

    Attributes
    ----------
    seed_ : int
        The seed the last :meth:`fit` used (recorded in model files).
    history_ : dict
        Per-epoch lists: ``loss_discriminator``, ``loss_generator`` (batch
        means), ``d_real``, ``d_fake`` (mean discriminator output on real and
        generated configurations: a probability for "nonsaturating", a score
        otherwise), ``abs_magnetization_fake`` (mean |m| of the generated
        mean spins), ``seconds`` (cumulative wall time); ``snapshots`` (dict
        epoch -> int8 (n_snapshot, L, L)).
    n_epochs_trained_ : int
    interrupted_ : bool
        The last fit was ended by Ctrl-C (the result is partial; a
        checkpoint, if one was asked for, holds the last completed epoch).
    stopped_early_ : bool
        A callback stopped the last fit.
    temperature_range_ : tuple of float or None
        (lowest, highest) training temperature of a conditioned model.
    training_temperatures_ : list of float
        The distinct training temperatures of a conditioned model.
    metadata_ : dict
        Free provenance (data file, temperature, ...) stored in the model file.

    Notes
    -----
    Physics conventions: k_B = J = 1, magnetization per spin m = (1/N) sum s_i.

    Symmetries: the zero-field Ising weight on the periodic lattice is
    invariant under the global flip and the lattice translations. With
    ``symmetrize`` (and ``random_translation``) :meth:`sample` applies a
    uniformly random element of that group to every configuration, so the
    sampled distribution is exactly invariant, whatever the network learned.
    Rotations and reflections are not applied.

    Temperature conditioning: the condition is the scaled temperature
    ``c = (2 T - T_lo - T_hi) / (T_hi - T_lo)`` in [-1, 1] over the training
    range, given to the generator (with z and as a constant input map) and
    to the discriminator (as an input map and a feature of its head).
    Between training temperatures the model interpolates; outside the
    range it is not asked to generate. Measured (``benchmarks/gan_vs_rbm.py``:
    L = 16, 5000 Monte Carlo configurations at each of T = 1.5, 1.75,
    2.269, 2.4, 2.8, 3.1, 3.5, 25 epochs, 14.5 minutes, the defaults): at
    the held-out T = 2.0, e is 0.2 % below the exact finite-lattice value
    and chi 14 % below Monte Carlo; at T = 2.6, just above T_c of this
    lattice, e is 3.2 % above and chi 87 % below (the magnetization
    distribution is far too narrow). At L = 8 (500 per temperature, 30
    epochs) two model seeds of three were within 0.3 % at both.

    Generation: the generator gives the mean spin ``x_i = tanh(a_i)`` of
    every site; ``generation="bernoulli"`` draws each spin independently
    with ``P(s_i = +1) = (1 + x_i) / 2``, ``"sign"`` takes ``sign(x_i)``.

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
    the discriminator judges the +-1 configurations that :meth:`sample`
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

    Reproducibility: all randomness comes from the seed through
    SeedSequence streams keyed by purpose and epoch (and, in sampling, by
    block of 1024 configurations), so an interrupted training resumed from
    its checkpoint ends in exactly the weights of an uninterrupted one, and
    the same ``rng`` gives the same samples for any ``batch_size``. Fit and
    sample run under ``torch.use_deterministic_algorithms(True)`` and never
    touch torch's global RNG (weights are initialised inside
    ``torch.random.fork_rng``). Floating-point reductions may be split
    differently for different thread counts, so bitwise equality is
    promised for a fixed ``n_threads``.
    """

    def __init__(self, L: int, *, latent_dim: int = 32, noise_channels: int = 2,
                 channels: int = 16, n_layers: int = 3, n_epochs: int = 30,
                 batch_size: int = 32, learning_rate_generator: float = 5e-4,
                 learning_rate_discriminator: float = 5e-4,
                 beta1: float = 0.5, beta2: float = 0.999, loss: str = "nonsaturating",
                 n_critic: int = 1, label_smoothing: float = 0.9,
                 gradient_penalty: float = 10.0, minibatch_std: bool = True,
                 training_output: str = "straight-through", generation: str = "bernoulli",
                 symmetrize: bool = True, random_translation: bool = True,
                 conditional: bool = False, snapshot_epochs=(), n_snapshot: int = 16,
                 ema_decay: float = 0.995, lr_schedule: str = "linear-decay",
                 feature_matching: float = 0.0,
                 bond_features: bool = False, head_hidden: int = 0,
                 n_threads: int | None = 1, rng=None, seed=None):
        self.L = check_int("L", L, minimum=2)
        self.latent_dim = check_int("latent_dim", latent_dim, minimum=1)
        self.noise_channels = check_int("noise_channels", noise_channels, minimum=0)
        self.channels = check_int("channels", channels, minimum=1)
        self.n_layers = check_int("n_layers", n_layers, minimum=1)
        self.n_epochs = check_int("n_epochs", n_epochs, minimum=1)
        self.batch_size = check_int("batch_size", batch_size, minimum=2)
        self.learning_rate_generator = check_float(
            "learning_rate_generator", learning_rate_generator, minimum=0, maximum=1,
            strict_min=True)
        self.learning_rate_discriminator = check_float(
            "learning_rate_discriminator", learning_rate_discriminator, minimum=0, maximum=1,
            strict_min=True)
        self.beta1 = check_float("beta1", beta1, minimum=0, maximum=1, strict_max=True)
        self.beta2 = check_float("beta2", beta2, minimum=0, maximum=1, strict_max=True)
        self.loss = check_choice("loss", loss, LOSSES)
        self.n_critic = check_int("n_critic", n_critic, minimum=1)
        self.label_smoothing = check_float("label_smoothing", label_smoothing, minimum=0.5,
                                           maximum=1, strict_min=True)
        self.gradient_penalty = check_float("gradient_penalty", gradient_penalty, minimum=0,
                                            maximum=1e6)
        self.minibatch_std = check_bool("minibatch_std", minibatch_std)
        self.training_output = check_choice("training_output", training_output,
                                            TRAINING_OUTPUTS)
        self.generation = check_choice("generation", generation, GENERATION_MODES)
        self.symmetrize = check_bool("symmetrize", symmetrize)
        self.random_translation = check_bool("random_translation", random_translation)
        self.conditional = check_bool("conditional", conditional)
        try:
            epochs = tuple(sorted({check_int("snapshot epoch", e, minimum=1)
                                   for e in snapshot_epochs}))
        except TypeError:
            raise InvalidParameterError(f"snapshot_epochs must be a sequence of integers >= 1, "
                                        f"got {snapshot_epochs!r}") from None
        self.snapshot_epochs = epochs
        self.n_snapshot = check_int("n_snapshot", n_snapshot, minimum=1)
        self.ema_decay = check_float("ema_decay", ema_decay, minimum=0, maximum=1,
                                     strict_max=True)
        self.lr_schedule = check_choice("lr_schedule", lr_schedule, LR_SCHEDULES)
        self.feature_matching = check_float("feature_matching", feature_matching, minimum=0,
                                            maximum=1e6)
        self.bond_features = check_bool("bond_features", bond_features)
        self.head_hidden = check_int("head_hidden", head_hidden, minimum=0)
        self.n_threads = check_int("n_threads", n_threads, minimum=1, allow_none=True)
        if seed is not None:
            warnings.warn("IsingGAN(seed=...) is deprecated; pass rng=... (the one randomness "
                          "convention, see mccore.rng)", DeprecationWarning, stacklevel=2)
            if rng is None:
                rng = seed
        self.rng = _check_rng_type(rng)
        self.seed_ = None
        self.history_: dict = self._empty_history()
        self.n_epochs_trained_ = 0
        self.interrupted_ = False
        self.stopped_early_ = False
        self.temperature_range_ = None
        self.training_temperatures_: list = []
        self.metadata_: dict = {}
        self._generator = None
        self._generator_ema = None
        self._discriminator = None

    # ------------------------------------------------------------------
    # hyperparameters and networks

    def get_params(self) -> dict:
        """Hyperparameters as plain Python values (``rng`` as given to the constructor)."""
        return {
            "L": self.L, "latent_dim": self.latent_dim, "channels": self.channels,
            "n_layers": self.n_layers, "n_epochs": self.n_epochs, "batch_size": self.batch_size,
            "learning_rate_generator": self.learning_rate_generator,
            "learning_rate_discriminator": self.learning_rate_discriminator,
            "beta1": self.beta1, "beta2": self.beta2, "loss": self.loss,
            "n_critic": self.n_critic, "label_smoothing": self.label_smoothing,
            "noise_channels": self.noise_channels, "gradient_penalty": self.gradient_penalty,
            "minibatch_std": self.minibatch_std, "training_output": self.training_output,
            "generation": self.generation, "symmetrize": self.symmetrize,
            "random_translation": self.random_translation, "conditional": self.conditional,
            "snapshot_epochs": list(self.snapshot_epochs), "n_snapshot": self.n_snapshot,
            "ema_decay": self.ema_decay, "lr_schedule": self.lr_schedule,
            "feature_matching": self.feature_matching,
            "bond_features": self.bond_features,
            "head_hidden": self.head_hidden,
            "n_threads": self.n_threads, "rng": self.rng,
        }

    def _model_settings(self) -> dict:
        """The settings that define the model and its streams (checked on resume)."""
        settings = {k: v for k, v in self.get_params().items()
                    if k not in _RESUMABLE_CHANGES and k != "rng"}
        settings["seed"] = self.seed_
        return settings

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
            torch.manual_seed(_torch_seed(child(self.seed_, _STREAM_INIT)))
            self._generator = Generator(self.L, self.latent_dim, self.channels, self.n_layers,
                                        self.noise_channels, self.conditional)
            self._discriminator = Discriminator(self.L, self.channels, self.n_layers,
                                                self.minibatch_std, self.conditional,
                                                spectral_norm=self.loss == "hinge",
                                                bond_features=self.bond_features,
                                                head_hidden=self.head_hidden)
        self._generator_ema = None
        if self.ema_decay > 0:
            import copy
            self._generator_ema = copy.deepcopy(self._generator)
            self._generator_ema.requires_grad_(False)

    def _sampler(self):
        """The generator that makes samples: the weight average if there is one."""
        return self._generator if self._generator_ema is None else self._generator_ema

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

    def memory_estimate(self) -> float:
        """Bytes that training needs, roughly (parameters, Adam state, activations)."""
        L2, c = self.L * self.L, self.channels
        params_g = (self.latent_dim + 1) * c * L2 + self.n_layers * 9 * (c + 3) * c
        params_d = sum(9 * (c * 2**k) ** 2 * 2 for k in range(self.n_layers)) + 64 * c
        activations = self.batch_size * (self.latent_size + 8 * c * L2) * 4.0
        return 4.0 * 4 * (params_g + params_d) + 3 * activations

    def check_memory(self) -> None:
        """Refuse (InvalidParameterError) settings whose training would not fit in memory."""
        check_memory(f"a GAN with L = {self.L}, latent_dim = {self.latent_dim}, "
                     f"channels = {self.channels}, batch_size = {self.batch_size}",
                     self.memory_estimate())

    # ------------------------------------------------------------------
    # conditioning

    def _scaled(self, temperatures) -> np.ndarray:
        lo, hi = self.temperature_range_
        T = np.asarray(temperatures, dtype=np.float64)
        if hi == lo:
            return np.zeros_like(T, dtype=np.float32)
        return ((2 * T - lo - hi) / (hi - lo)).astype(np.float32)

    def check_temperature(self, temperature) -> float | None:
        """The temperature to generate at: required for a conditioned model, in range.

        Raises
        ------
        InvalidParameterError
            A conditioned model without a temperature, one outside the training
            range, or a temperature given to an unconditioned model.
        """
        if not self.conditional:
            if temperature is not None:
                raise InvalidParameterError(
                    "temperature is only for a temperature-conditioned GAN; this model was "
                    "trained at one temperature")
            return None
        if temperature is None:
            raise InvalidParameterError("a temperature-conditioned GAN needs a temperature")
        T = check_float("temperature", temperature, minimum=0, strict_min=True)
        if self.temperature_range_ is not None:
            lo, hi = self.temperature_range_
            if not (lo - 1e-9 <= T <= hi + 1e-9):
                raise InvalidParameterError(
                    f"temperature must be in the training range [{lo:g}, {hi:g}] "
                    f"(the conditioned GAN interpolates, it does not extrapolate), got {T:g}")
        return T

    # ------------------------------------------------------------------
    # training

    def fit(self, spins, temperatures=None, *, callback=None, progress: bool = False,
            checkpoint=None, checkpoint_every: int = 1, resume: bool = False) -> IsingGAN:
        """Train on configurations ``spins`` (n, L, L) in {-1, +1}.

        Parameters
        ----------
        spins : array_like, shape (n, L, L), values in {-1, +1}
        temperatures : array_like, shape (n,), optional
            Temperature of every configuration (k_B = J = 1); required for a
            conditioned model (at least two distinct values), refused otherwise.
        callback : callable, optional
            ``callback(step: mccore.training.TrainingStep) -> bool | None``
            after every epoch; True stops training (``stopped_early_``).
        progress : bool
            Show a progress bar over epochs (tqdm, on stderr).
        checkpoint : path, optional
            File that receives the full training state (weights, Adam moments,
            history) every ``checkpoint_every`` epochs, after the last one and
            on Ctrl-C.
        checkpoint_every : int
        resume : bool
            Continue from ``checkpoint`` if it exists (a missing checkpoint
            starts afresh). It must have been made with the same data and the
            same model-defining settings; ``n_epochs`` may be larger (the run
            is extended; with ``lr_schedule="linear-decay"`` the epochs
            already done keep the schedule they had, so the result differs
            from a run planned that long), and a checkpoint that already has
            ``n_epochs`` epochs is accepted as it is.

        Returns
        -------
        self
            On Ctrl-C the partial result, with ``interrupted_`` set.

        Raises
        ------
        MissingDependencyError
            PyTorch is not installed.
        InvalidParameterError
            Bad spins or temperatures, too little memory, or a checkpoint that
            does not belong to this run.
        DivergenceError
            A loss became NaN or infinite.
        """
        torch = require_torch()
        spins = check_spins(spins, self.L)
        if self.conditional:
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
        if resume and checkpoint is None:
            raise InvalidParameterError("resume=True needs a checkpoint path")
        self.check_memory()
        fingerprint = _fingerprint(spins, temps)
        resuming = resume and Path(checkpoint).exists()
        with deterministic_torch(self.n_threads):
            if resuming:
                opt_g, opt_d = self._resume(torch, checkpoint, fingerprint)
            else:
                self.seed_ = _resolve_seed(self.rng)
                if temps is not None:
                    self.temperature_range_ = (float(distinct[0]), float(distinct[-1]))
                    self.training_temperatures_ = [float(t) for t in distinct]
                self._build(torch)
                self.history_ = self._empty_history()
                self.n_epochs_trained_ = 0
                opt_g, opt_d = self._optimizers(torch)
            self.interrupted_ = self.stopped_early_ = False
            step = self._epoch_function(torch, spins, temps, opt_g, opt_d)
            save = None
            if checkpoint is not None:
                def save(n_done):
                    self._write_checkpoint(torch, checkpoint, opt_g, opt_d, fingerprint)
            outcome = run_steps(step, start=self.n_epochs_trained_, stop=self.n_epochs,
                                model=self, callback=callback, save_checkpoint=save,
                                checkpoint_every=checkpoint_every, progress=progress,
                                description="GAN fit", unit="epoch")
            self.interrupted_ = outcome.interrupted
            self.stopped_early_ = outcome.stopped_early
        return self

    def _optimizers(self, torch):
        opt_g = torch.optim.Adam(self._generator.parameters(), lr=self.learning_rate_generator,
                                 betas=(self.beta1, self.beta2))
        opt_d = torch.optim.Adam(self._discriminator.parameters(),
                                 lr=self.learning_rate_discriminator,
                                 betas=(self.beta1, self.beta2))
        return opt_g, opt_d

    def _snapshot_inputs(self, torch):
        gen = torch.Generator().manual_seed(_torch_seed(child(self.seed_, _STREAM_SNAPSHOT)))
        z = torch.randn(self.n_snapshot, self.latent_size, generator=gen)
        c = None
        if self.conditional:
            lo, hi = self.temperature_range_
            T = np.linspace(lo, hi, self.n_snapshot)
            c = torch.from_numpy(self._scaled(T))
        return z, c, gen

    def _symmetry(self, torch, x, gen):
        """Apply a random global sign (and translation) to each configuration of ``x``."""
        if self.symmetrize:
            sign = torch.randint(0, 2, (x.shape[0],), generator=gen).to(x.dtype) * 2 - 1
            x = x * sign.view(-1, 1, 1)
        if self.random_translation:
            shifts = torch.randint(0, self.L, (x.shape[0], 2), generator=gen)
            idx = torch.arange(self.L)
            rows = (idx.view(1, -1) - shifts[:, :1]) % self.L          # (B, L)
            cols = (idx.view(1, -1) - shifts[:, 1:]) % self.L
            x = x.gather(1, rows.unsqueeze(2).expand(-1, -1, self.L))
            x = x.gather(2, cols.unsqueeze(1).expand(-1, self.L, -1))
        return x

    def _generate_batch(self, torch, z, c, gen):
        """Generated configurations as the discriminator sees them in training."""
        mean = torch.tanh(self._generator(z, c))
        if self.training_output == "straight-through":
            if self.generation == "sign":
                hard = torch.where(mean >= 0, 1.0, -1.0)
            else:
                u = torch.rand(mean.shape, generator=gen)
                hard = torch.where(u < (1 + mean) / 2, 1.0, -1.0)
            x = hard + mean - mean.detach()
        else:
            x = mean
        return self._symmetry(torch, x, gen), mean

    def _epoch_function(self, torch, spins, temps, opt_g, opt_d):
        import copy

        bce = torch.nn.functional.binary_cross_entropy_with_logits
        relu = torch.nn.functional.relu
        G, D, E = self._generator, self._discriminator, self._generator_ema
        data = torch.from_numpy(spins.astype(np.float32))
        cond = None if temps is None else torch.from_numpy(self._scaled(temps))
        n = data.shape[0]
        batch = min(self.batch_size, n)
        n_batches = n // batch  # the incomplete last batch is dropped (fresh shuffle each epoch)
        penalty = self.gradient_penalty

        def d_loss(real, c_real, fake, c_fake, gen):
            if self.loss == "wgan-gp":
                logit_real, logit_fake = D(real, c_real), D(fake, c_fake)
                loss = logit_fake.mean() - logit_real.mean()
                if penalty > 0:
                    eps = torch.rand(real.shape[0], 1, 1, generator=gen)
                    x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
                    (grad,) = torch.autograd.grad(D(x_hat, c_real).sum(), x_hat,
                                                  create_graph=True)
                    norm = grad.pow(2).sum(dim=(1, 2)).add(1e-12).sqrt()
                    loss = loss + penalty * (norm - 1).pow(2).mean()
                return loss, logit_real, logit_fake
            if penalty > 0:
                real = real.requires_grad_(True)
            logit_real, logit_fake = D(real, c_real), D(fake, c_fake)
            if self.loss == "hinge":
                loss = relu(1 - logit_real).mean() + relu(1 + logit_fake).mean()
            else:
                loss = (bce(logit_real, torch.full_like(logit_real, self.label_smoothing))
                        + bce(logit_fake, torch.zeros_like(logit_fake)))
            if penalty > 0:
                (grad,) = torch.autograd.grad(logit_real.sum(), real, create_graph=True)
                loss = loss + 0.5 * penalty * grad.pow(2).sum(dim=(1, 2)).mean()
            return loss, logit_real, logit_fake

        def g_loss(score):
            if self.loss == "nonsaturating":
                return bce(score, torch.ones_like(score))
            return -score.mean()

        def to_prob(score):
            return torch.sigmoid(score) if self.loss == "nonsaturating" else score

        def epoch(i: int) -> dict:
            # a consistent state to fall back to if Ctrl-C arrives mid-epoch
            saved = (copy.deepcopy(G.state_dict()), copy.deepcopy(D.state_dict()),
                     copy.deepcopy(opt_g.state_dict()), copy.deepcopy(opt_d.state_dict()),
                     None if E is None else copy.deepcopy(E.state_dict()))
            try:
                return self._run_epoch(torch, i, data, cond, n, batch, n_batches, d_loss,
                                       g_loss, to_prob, opt_g, opt_d)
            except KeyboardInterrupt:
                G.load_state_dict(saved[0])
                D.load_state_dict(saved[1])
                opt_g.load_state_dict(saved[2])
                opt_d.load_state_dict(saved[3])
                if E is not None:
                    E.load_state_dict(saved[4])
                raise

        return epoch

    def _lr_scale(self, i: int) -> float:
        """Learning-rate factor of epoch ``i`` (0-based) under ``lr_schedule``."""
        if self.lr_schedule == "constant":
            return 1.0
        return min(1.0, 2.0 * (self.n_epochs - i) / (self.n_epochs + 1))

    def _run_epoch(self, torch, i, data, cond, n, batch, n_batches, d_loss, g_loss, to_prob,
                   opt_g, opt_d) -> dict:
        G, D = self._generator, self._discriminator
        start = time.perf_counter()
        elapsed = self.history_["seconds"][-1] if self.history_["seconds"] else 0.0
        scale = self._lr_scale(i)
        for opt, lr in ((opt_g, self.learning_rate_generator),
                        (opt_d, self.learning_rate_discriminator)):
            for group in opt.param_groups:
                group["lr"] = lr * scale
        epoch_seq = child(self.seed_, _STREAM_EPOCH, i)
        order = torch.from_numpy(np.random.default_rng(epoch_seq).permutation(n))
        gen = torch.Generator().manual_seed(_torch_seed(epoch_seq))
        sums = np.zeros(5)
        G.train()
        D.train()
        n_g_steps = 0
        for b in range(n_batches):
            idx = order[b * batch:(b + 1) * batch]
            real = self._symmetry(torch, data[idx], gen)
            c_real = None if cond is None else cond[idx]
            z = torch.randn(batch, self.latent_size, generator=gen)
            c_fake = c_real  # generated at the temperatures of the real batch
            fake, mean = self._generate_batch(torch, z, c_fake, gen)
            loss_d, logit_real, logit_fake = d_loss(real, c_real, fake.detach(), c_fake, gen)
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()
            if (b + 1) % self.n_critic == 0:
                score = D(fake, c_fake)
                loss_g = g_loss(score)
                if self.feature_matching > 0:
                    f_fake = D.features(fake, c_fake)
                    with torch.no_grad():
                        f_real = D.features(real.detach(), c_real)
                    loss_g = loss_g + self.feature_matching * (
                        (f_fake.mean(0) - f_real.mean(0)).pow(2).sum()
                        + (f_fake.std(0) - f_real.std(0)).pow(2).sum())
                opt_g.zero_grad(set_to_none=True)
                loss_g.backward()
                opt_g.step()
                if self._generator_ema is not None:
                    with torch.no_grad():
                        for p_ema, p in zip(self._generator_ema.parameters(),
                                            G.parameters()):
                            p_ema.lerp_(p, 1.0 - self.ema_decay)
                n_g_steps += 1
                sums[1] += loss_g.item()
            with torch.no_grad():
                sums[[0, 2, 3, 4]] += [loss_d.item(), to_prob(logit_real).mean().item(),
                                       to_prob(logit_fake).mean().item(),
                                       mean.mean(dim=(1, 2)).abs().mean().item()]
        means = sums / n_batches
        means[1] = sums[1] / max(n_g_steps, 1)
        if not np.all(np.isfinite(means[:2])):
            raise DivergenceError(f"GAN training diverged at epoch {i + 1}: discriminator "
                                  f"loss {means[0]}, generator loss {means[1]}")
        hist = self.history_
        metrics = dict(zip(("loss_discriminator", "loss_generator", "d_real", "d_fake",
                            "abs_magnetization_fake"), (float(v) for v in means)))
        for key, value in metrics.items():
            hist[key].append(value)
        hist["seconds"].append(float(elapsed + time.perf_counter() - start))
        self.n_epochs_trained_ = i + 1
        if self.n_epochs_trained_ in self.snapshot_epochs or \
                self.n_epochs_trained_ == self.n_epochs:
            z, c, snap_gen = self._snapshot_inputs(torch)
            hist["snapshots"][self.n_epochs_trained_] = self._draw(torch, z, c, snap_gen,
                                                                   self.generation)
        return metrics

    # ------------------------------------------------------------------
    # generation

    def _draw(self, torch, z, c, gen, mode, uniform=None):
        """Spins (int8 numpy) from latent vectors ``z`` (torch), no symmetry applied.

        The Bernoulli draws use ``uniform`` (same shape as the output) if
        given, else fresh uniforms from the torch generator ``gen``.
        """
        generator = self._sampler()
        generator.eval()
        with torch.no_grad():
            x = torch.tanh(generator(z, c))
            if mode == "sign":
                s = torch.where(x >= 0, 1, -1)
            elif mode == "bernoulli":
                u = torch.rand(x.shape, generator=gen) if uniform is None else uniform
                s = torch.where(u < (1 + x) / 2, 1, -1)
            else:  # "mean"
                return x.numpy().astype(np.float64)
        return s.to(torch.int8).numpy()

    def _condition(self, torch, temperature, n):
        if not self.conditional:
            return None
        return torch.full((n,), float(self._scaled(temperature)), dtype=torch.float32)

    def sample_memory_estimate(self, n_samples: int) -> float:
        """Bytes that :meth:`sample` needs for ``n_samples`` configurations, roughly."""
        per_block = _BLOCK * (self.latent_size + 2 * self.L * self.L
                              + 8 * self.channels * self.L * self.L) * 4.0
        return float(n_samples) * self.L * self.L + per_block

    def sample(self, n_samples: int, *, rng=None, temperature=None, mode: str | None = None,
               batch_size: int = 1024, seed=None) -> np.ndarray:
        """Draw ``n_samples`` configurations (n_samples, L, L) int8 in {-1, +1}.

        Parameters
        ----------
        n_samples : int
        rng : int, SeedSequence, Generator or None
            Randomness of the latent vectors, the spin draws and the symmetry
            operations; None uses the model's ``rng`` (so a model made with an
            int gives the same samples every call, as scikit-learn's
            ``random_state``; None there: fresh entropy). The same ``rng``
            gives the same configurations for any ``batch_size``.
        temperature : float, optional
            For a conditioned model: the temperature (k_B = J = 1) to generate
            at, inside the training range.
        mode : {"bernoulli", "sign"} or None
            Overrides the model's ``generation`` rule.
        batch_size : int
            Configurations generated per forward pass (memory only).
        """
        torch = require_torch()
        self._require_fitted()
        n_samples = check_int("n_samples", n_samples, minimum=1)
        batch_size = check_int("batch_size", batch_size, minimum=1)
        mode = self.generation if mode is None else check_choice("mode", mode,
                                                                   GENERATION_MODES)
        T = self.check_temperature(temperature)
        check_memory(f"{n_samples} samples of L = {self.L}",
                     self.sample_memory_estimate(n_samples))
        if seed is not None:
            warnings.warn("sample(seed=...) is deprecated; pass rng=...", DeprecationWarning,
                          stacklevel=2)
            rng = seed if rng is None else rng
        seq = seed_sequence(self.rng if rng is None else rng)
        out = np.empty((n_samples, self.L, self.L), dtype=np.int8)
        with deterministic_torch(self.n_threads):
            for start in range(0, n_samples, _BLOCK):
                stop = min(start + _BLOCK, n_samples)
                m = stop - start
                gen = torch.Generator().manual_seed(
                    _torch_seed(child(seq, _STREAM_SAMPLE, start // _BLOCK)))
                z = torch.randn(m, self.latent_size, generator=gen)
                u = torch.rand(m, self.L, self.L, generator=gen)
                c = self._condition(torch, T, m)
                block = np.empty((m, self.L, self.L), dtype=np.int8)
                for s0 in range(0, m, batch_size):
                    s1 = min(s0 + batch_size, m)
                    block[s0:s1] = self._draw(torch, z[s0:s1], None if c is None else c[s0:s1],
                                              gen, mode, uniform=u[s0:s1])
                out[start:stop] = self._symmetry(torch, torch.from_numpy(block), gen).numpy()
        return out

    def latent_vectors(self, n: int, *, rng=None) -> np.ndarray:
        """Standard-normal latent vectors (n, latent_size) float32, for exploration."""
        n = check_int("n", n, minimum=1)
        seq = seed_sequence(self.rng if rng is None else rng)
        gen = np.random.default_rng(child(seq, _STREAM_LATENT))
        return gen.standard_normal((n, self.latent_size)).astype(np.float32)

    def generate(self, latent, *, temperature=None, mode: str = "mean", rng=None) -> np.ndarray:
        """Generator output for given latent vectors, without the symmetry operations.

        Parameters
        ----------
        latent : array_like, shape (n, latent_size)
        temperature : float or array_like of shape (n,), optional
            For a conditioned model (inside the training range).
        mode : {"mean", "bernoulli", "sign"}
            "mean": the mean spins tanh(a) as float64 (n, L, L); otherwise
            spins int8 drawn with that rule.
        rng : int, SeedSequence, Generator or None
            Randomness of the Bernoulli draws (None: the model's ``rng``).
        """
        torch = require_torch()
        self._require_fitted()
        check_choice("mode", mode, ("mean",) + GENERATION_MODES)
        z = np.asarray(latent, dtype=np.float32)
        if z.ndim != 2 or z.shape[1] != self.latent_size:
            raise InvalidParameterError(f"latent must have shape (n, {self.latent_size}), "
                                        f"got {z.shape}")
        c = None
        if self.conditional:
            T = np.broadcast_to(np.asarray(temperature if temperature is not None else np.nan,
                                           dtype=np.float64), (z.shape[0],))
            for t in np.unique(T):
                self.check_temperature(None if np.isnan(t) else float(t))
        else:
            self.check_temperature(temperature)
        seq = seed_sequence(self.rng if rng is None else rng)
        with deterministic_torch(self.n_threads):
            if self.conditional:
                c = torch.from_numpy(self._scaled(T))
            gen = torch.Generator().manual_seed(_torch_seed(child(seq, _STREAM_SAMPLE)))
            return self._draw(torch, torch.from_numpy(np.ascontiguousarray(z)), c, gen, mode)

    def discriminate(self, spins, *, temperature=None) -> np.ndarray:
        """Discriminator output for each configuration, (n,) float64.

        A probability that the configuration is real for the non-saturating
        loss, a score otherwise. Evaluated one configuration at a time when
        the minibatch feature is on, so the answer does not depend on the
        other configurations.
        """
        torch = require_torch()
        self._require_fitted()
        arr = np.asarray(spins, dtype=np.float32)
        if arr.ndim != 3 or arr.shape[1:] != (self.L, self.L):
            raise InvalidParameterError(f"spins must have shape (n, {self.L}, {self.L}), "
                                        f"got {arr.shape}")
        T = self.check_temperature(temperature)
        with deterministic_torch(self.n_threads), torch.no_grad():
            self._discriminator.eval()
            x = torch.from_numpy(arr)
            c = self._condition(torch, T, len(x))
            if self.minibatch_std:
                logits = torch.cat([self._discriminator(
                    x[i:i + 1], None if c is None else c[i:i + 1]) for i in range(len(x))])
            else:
                logits = self._discriminator(x, c)
            if self.loss == "nonsaturating":
                logits = torch.sigmoid(logits)
            return logits.double().numpy()

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
        params = self.get_params()
        params["rng"] = self.seed_
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "hyperparameters": json.dumps(params),
            "metadata": json.dumps(self.metadata_),
            "training_temperatures": json.dumps(self.training_temperatures_),
            "n_epochs_trained": int(self.n_epochs_trained_),
            "generator": self._generator.state_dict(),
            **({} if self._generator_ema is None
               else {"generator_ema": self._generator_ema.state_dict()}),
            "discriminator": self._discriminator.state_dict(),
            "history": history,
        }

    def save(self, path, *, metadata: dict | None = None, overwrite: bool = False) -> Path:
        """Write the model (weights, hyperparameters, history, metadata) to ``path``.

        The file is a PyTorch zip archive of tensors, strings and numbers only,
        read back with ``torch.load(weights_only=True)`` (no code executed),
        written to a temporary file and moved into place (nothing is left
        behind if the write fails; a full disk raises
        ``OSError(ENOSPC, "No space left on device")``).

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
        _write_payload(torch, self._payload(torch), path)
        return path

    def _write_checkpoint(self, torch, path, opt_g, opt_d, fingerprint):
        payload = self._payload(torch)
        payload["training"] = {"optimizer_generator": opt_g.state_dict(),
                               "optimizer_discriminator": opt_d.state_dict(),
                               "data_fingerprint": fingerprint}
        _write_payload(torch, payload, Path(path))

    @classmethod
    def load(cls, path) -> IsingGAN:
        """Read a model (or checkpoint) file written by :meth:`save`.

        Raises
        ------
        MissingDependencyError
            PyTorch is not installed.
        FileFormatError
            The file is not a GAN model file (foreign, corrupt, other version).
        """
        torch = require_torch()
        payload = _read_payload(torch, path)
        return cls._from_payload(torch, payload, path)

    @classmethod
    def _from_payload(cls, torch, payload, path) -> IsingGAN:
        try:
            params = json.loads(payload["hyperparameters"])
            if payload["format_version"] == 1:
                params = {**_V1_DEFAULTS, **params}
                params["rng"] = params.pop("seed")
            params = {**_V2_DEFAULTS, **params}
            seed = params.pop("rng")
            model = cls(**params, rng=seed)
            model.seed_ = seed
            model.metadata_ = json.loads(payload["metadata"])
            temps = json.loads(payload.get("training_temperatures", "[]"))
            model.training_temperatures_ = [float(t) for t in temps]
            if model.conditional:
                model.temperature_range_ = (min(temps), max(temps))
            model._build(torch)
            model._generator.load_state_dict(_generator_state(payload["generator"],
                                                              model.n_layers))
            if model._generator_ema is not None:
                model._generator_ema.load_state_dict(payload["generator_ema"])
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
            raise FileFormatError(f"{path}: not a valid GAN model file "
                                  f"({type(exc).__name__}: {exc})") from None
        return model

    def _resume(self, torch, checkpoint, fingerprint):
        path = Path(checkpoint)
        payload = _read_payload(torch, path)
        if "training" not in payload:
            raise InvalidParameterError(f"cannot resume: {path} is a model file without "
                                        f"training state (not a checkpoint)")
        stored = self._from_payload(torch, payload, path)
        if self.rng is not None and not isinstance(self.rng, (np.random.Generator,
                                                              np.random.SeedSequence)):
            self.seed_ = int(self.rng)
        else:
            self.seed_ = stored.seed_  # the interrupted run's seed governs
        saved = stored._model_settings()
        self.temperature_range_ = stored.temperature_range_
        self.training_temperatures_ = stored.training_temperatures_
        check_resume_settings(saved, self._model_settings(), what=str(path))
        if payload["training"].get("data_fingerprint") != fingerprint:
            raise InvalidParameterError(f"cannot resume from {path}: it was trained on "
                                        f"different data")
        if stored.n_epochs_trained_ > self.n_epochs:
            raise InvalidParameterError(f"cannot resume from {path}: it already has "
                                        f"{stored.n_epochs_trained_} epochs > n_epochs = "
                                        f"{self.n_epochs}")
        self._generator, self._discriminator = stored._generator, stored._discriminator
        self._generator_ema = stored._generator_ema
        self.history_ = stored.history_
        self.n_epochs_trained_ = stored.n_epochs_trained_
        self.metadata_ = {**stored.metadata_, **self.metadata_}
        opt_g, opt_d = self._optimizers(torch)
        try:
            opt_g.load_state_dict(payload["training"]["optimizer_generator"])
            opt_d.load_state_dict(payload["training"]["optimizer_discriminator"])
        except (KeyError, ValueError, RuntimeError) as exc:
            raise FileFormatError(f"{path}: corrupt optimizer state ({exc})") from None
        return opt_g, opt_d

    def __repr__(self) -> str:
        fitted = f", trained {self.n_epochs_trained_} epochs" if self.is_fitted else ""
        cond = ", conditional=True" if self.conditional else ""
        return (f"IsingGAN(L={self.L}, latent_dim={self.latent_dim}, channels={self.channels}, "
                f"n_layers={self.n_layers}, loss={self.loss!r}{cond}, seed={self.seed_}"
                f"{fitted})")


def _generator_state(state: dict, n_layers: int) -> dict:
    """Rename the generator weights of files written before the condition map
    entered every layer (``body.{2k}`` -> ``convs.{k}``, the last -> ``out``)."""
    if not any(key.startswith("body.") for key in state):
        return state
    renamed = {}
    for key, value in state.items():
        if key.startswith("body."):
            _, index, name = key.split(".", 2)
            k = int(index) // 2
            key = f"out.{name}" if k == n_layers else f"convs.{k}.{name}"
        renamed[key] = value
    return renamed


def _write_payload(torch, payload: dict, path: Path) -> None:
    """Serialize in memory, then write atomically (mccore.files.atomic_path).

    A full disk becomes ``OSError(ENOSPC, "No space left on device", path)``
    (torch's own writer reports it as an opaque RuntimeError), and the
    temporary file is removed.
    """
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    data = buffer.getbuffer()
    try:
        with atomic_path(path) as tmp, open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise OSError(errno.ENOSPC, "No space left on device", str(path)) from None
        raise


def _read_payload(torch, path) -> dict:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(2, "No such file or directory", str(path))
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except (KeyboardInterrupt, MemoryError):
        raise
    except Exception as exc:  # noqa: BLE001 - any failure to parse means "not ours"
        text = str(exc).strip()
        first = text.splitlines()[0] if text else type(exc).__name__
        raise FileFormatError(f"{path}: not a GAN model file ({first[:120]})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise FileFormatError(f"{path}: not a GAN model file (format attribute missing or "
                              f"different)")
    if payload.get("format_version") not in (1, FORMAT_VERSION):
        raise FileFormatError(f"{path}: GAN model format_version "
                              f"{payload.get('format_version')!r} is not supported "
                              f"(expected 1 or {FORMAT_VERSION})")
    return payload
