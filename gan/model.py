"""``IsingGAN``: a generative adversarial network for L x L periodic spin lattices.

Arrays in, arrays out: ``fit`` takes spins ``(n, L, L)`` int8 in {-1, +1}
(and, for a temperature-conditioned model, the temperature of each
configuration), ``sample`` returns the same. Nothing here reads files of
Monte Carlo data or computes observables; the ``isingrbm gan`` command does
that. PyTorch is imported lazily (see :mod:`gan._torch`).

The class holds the hyperparameters, the networks (:mod:`gan.networks`) and
the fitted state; the work is split by job: :mod:`gan.hyperparameters`
(their names and checks), :mod:`gan.training` (the training loop, resume,
and the measurements behind the default recipe), :mod:`gan.losses`,
:mod:`gan.inference` (running a fitted model: the temperature check,
sample, generate, discriminate), :mod:`gan.sampling` (streams, symmetry
operations, draws) and :mod:`gan.io` (the model file and the migration of
old ones).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mccore.errors import InvalidParameterError, OutputExistsError
from mccore.rng import child
from mccore.validation import check_memory
from mccore.validation import check_spins as _check_spins

from . import inference, training
from ._torch import require_torch
from .hyperparameters import PARAMS, RESUMABLE_CHANGES, check_params
from .io import (
    FORMAT,
    FORMAT_VERSION,
    checkpoint_payload,
    from_payload,
    payload,
    read_payload,
    write_payload,
)
from .sampling import _STREAM_INIT, BLOCK, torch_seed

__all__ = ["FORMAT", "FORMAT_VERSION", "IsingGAN", "check_spins"]


def check_spins(spins, L: int, name: str = "spins") -> np.ndarray:
    """Validate configurations ``(n, L, L)``, n >= 2, with values in {-1, +1}; return int8."""
    return _check_spins(spins, L=L, min_n=2, name=name)


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
        Non-saturating GAN loss with the R1 penalty, Wasserstein critic with
        the gradient penalty on interpolates, or hinge loss with a spectrally
        normalized discriminator and R1 (formulas: :mod:`gan.losses`).
    n_critic : int
        Discriminator steps per generator step.
    label_smoothing : float
        Target of the discriminator for real configurations in the
        non-saturating loss, in (0.5, 1]; 1 disables it.
    gradient_penalty : float
        Weight of the gradient penalty (see ``loss``); 0 disables it.
    minibatch_std : bool
        Give the discriminator the minibatch standard deviation feature
        (Karras et al. 2018), a defence against mode collapse: the standard
        deviation over the batch (of configurations, or of packs) of every
        site-averaged feature, averaged over the features, appended as one
        more input of the head.
    pack : int
        PacGAN packing (Lin et al. 2018), 1 to 8: the discriminator judges
        packs of ``pack`` configurations jointly (stacked as input channels),
        real packs against generated packs, so that a generator whose
        samples are too alike is penalized by construction. 1 (the default)
        is the plain discriminator. ``batch_size`` (configurations per step)
        must be a multiple of ``pack``.
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
        of ``n_epochs``, then fall linearly, epoch by epoch, to ``2 /
        (n_epochs + 1)`` of their initial value in the last epoch, so that
        the oscillation of adversarial training dies out (why:
        :mod:`gan.training`); "constant": no decay.
    feature_matching : float
        Weight of the feature-matching term of the generator loss
        (:func:`gan.losses.feature_matching`; 0 disables).
    moment_matching : float
        Weight of a generator-loss term that matches the mean of e, (e -
        <e>)^2, |m|, m^2 and m^4 of generated batches to the training set's
        (at each training temperature): the variances behind c and chi
        (:func:`gan.losses.moment_matching`; 0 disables).
    distribution_matching : float
        Weight of a generator-loss term, the energy distance between the
        generated and the training set's distributions of e and |m| (at each
        training temperature; :func:`gan.losses.distribution_matching`; 0
        disables). Default 1: it keeps the spread of |m| (chi) that the
        adversarial loss alone loses near and above T_c (why: :mod:`gan.training`).
        Model files written before the option existed load with 0.
    matching_warmup : float
        Epochs over which the weights of the two matching terms rise linearly
        from 0 to ``moment_matching`` and ``distribution_matching`` (step by
        step; 0: full weight from the first step). In the L = 8 seed study
        (one seed, before the rounding fix of the distribution term) it did
        not prevent the freeze at T = 1.5 that the fix removed (why:
        :mod:`gan.training`); an option.
    draw : {"auto", "independent", "checkerboard"}
        How the spins of a configuration are drawn given the generator's
        output. "auto" (the default): "checkerboard" for a model of one
        temperature, "independent" for a temperature-conditioned one (where
        the checkerboard draw was not better: its c and chi at the held-out
        T = 2.0 came out 12-35 % high; the documentation's GAN benchmark
        page, round 6); :attr:`draw_mode` is the draw in effect.
        "independent": every spin on its own from its mean spin
        ``tanh(a_i)``. "checkerboard": two stages
        (:func:`gan.sampling.checkerboard`): the sites with ``i + j`` even
        from ``tanh(a_i)``, then every other site from ``tanh(k h_i)``,
        ``h_i`` the sum of its drawn neighbours: the conditional of the
        nearest-neighbour Ising weight, whose second sublattice is
        independent given the first, so that the generator makes only the
        first sublattice and a pair of neighbouring flipped spins costs it no
        more than one flip (the independent draw makes such pairs too rarely
        at low T; the measurements: the documentation's GAN benchmark page,
        round 6). The coupling ``k`` (one learned number; for a conditioned
        model a function of the temperature) is fitted by the
        pseudo-likelihood of the training configurations
        (:func:`gan.losses.pseudo_likelihood`; for Ising data a consistent
        estimate of beta), not by the adversarial loss. With "sign"
        generation each stage takes the sign of its mean; the mean spins
        (``generate(mode="mean")``, ``training_output="mean"``) are the mean
        field (``h`` from the neighbours' mean spins). Model files written
        before the option existed load as "independent".
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
        means; with the checkerboard draw including the pseudo-likelihood),
        ``d_real``, ``d_fake`` (mean discriminator output on real and
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
    Between training temperatures the model interpolates (its measured
    accuracy at held-out temperatures: :mod:`gan.training`); outside the
    range it is not asked to generate.

    Generation: the generator gives the mean spin ``x_i = tanh(a_i)`` of
    every site; ``generation="bernoulli"`` draws each spin independently
    with ``P(s_i = +1) = (1 + x_i) / 2``, ``"sign"`` takes ``sign(x_i)``
    (with ``draw="checkerboard"`` the second sublattice's mean spins depend
    on the first's drawn spins; see ``draw``).

    The recipe (the defaults: non-saturating loss with the R1 penalty of
    weight 10, straight-through training output, Bernoulli generation,
    learning rate 5e-4 with the linear decay, label smoothing 0.9, weight
    average 0.995, the distribution-matching term of weight 1) and the
    measurements that chose it are in :mod:`gan.training`.

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
                 bond_features: bool = False, head_hidden: int = 0, pack: int = 1,
                 moment_matching: float = 0.0, distribution_matching: float = 1.0,
                 matching_warmup: float = 0.0, draw: str = "auto",
                 n_threads: int | None = 1, rng=None):
        args = {name: value for name, value in locals().items() if name != "self"}
        for name, value in check_params(args).items():
            setattr(self, name, value)
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
        params = {name: getattr(self, name) for name in PARAMS}
        params["snapshot_epochs"] = list(self.snapshot_epochs)
        return params

    def _model_settings(self) -> dict:
        """The settings that define the model and its streams (checked on resume)."""
        settings = {k: v for k, v in self.get_params().items()
                    if k not in RESUMABLE_CHANGES and k != "rng"}
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
        from .networks import build

        self._generator, self._discriminator, self._generator_ema = build(
            self, torch_seed(child(self.seed_, _STREAM_INIT)))

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
    def draw_mode(self) -> str:
        """The draw in effect: ``draw``, with "auto" resolved ("checkerboard" for a
        model of one temperature, "independent" for a conditioned one)."""
        if self.draw != "auto":
            return self.draw
        return "independent" if self.conditional else "checkerboard"

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
        return inference.check_temperature(self, temperature)

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
        training.fit(self, require_torch(), spins, temperatures, callback=callback,
                     progress=progress, checkpoint=checkpoint,
                     checkpoint_every=checkpoint_every, resume_run=resume)
        return self

    # ------------------------------------------------------------------
    # generation

    def sample_memory_estimate(self, n_samples: int) -> float:
        """Bytes that :meth:`sample` needs for ``n_samples`` configurations, roughly."""
        per_block = BLOCK * (self.latent_size + 2 * self.L * self.L
                              + 8 * self.channels * self.L * self.L) * 4.0
        return float(n_samples) * self.L * self.L + per_block

    def sample(self, n_samples: int, *, rng=None, temperature=None, mode: str | None = None,
               batch_size: int = 1024) -> np.ndarray:
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
        return inference.sample(self, require_torch(), n_samples, rng=rng,
                                temperature=temperature, mode=mode, batch_size=batch_size)

    def latent_vectors(self, n: int, *, rng=None) -> np.ndarray:
        """Standard-normal latent vectors (n, latent_size) float32, for exploration."""
        return inference.latent_vectors(self, n, rng=rng)

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
        return inference.generate(self, require_torch(), latent, temperature=temperature,
                                  mode=mode, rng=rng)

    def discriminate(self, spins, *, temperature=None) -> np.ndarray:
        """Discriminator output for each configuration, (n,) float64.

        A probability that the configuration is real for the non-saturating
        loss, a score otherwise. With ``pack > 1`` consecutive groups of
        ``pack`` configurations are judged together and every member gets
        its pack's output (n must be a multiple of ``pack``). Evaluated one
        configuration (pack) at a time when the minibatch feature is on, so
        the answer does not depend on the other configurations (packs).
        """
        return inference.discriminate(self, require_torch(), spins, temperature=temperature)

    # ------------------------------------------------------------------
    # files

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
        write_payload(torch, payload(self, torch), path)
        return path

    def _write_checkpoint(self, torch, path, opt_g, opt_d, fingerprint):
        write_payload(torch, checkpoint_payload(self, torch, opt_g, opt_d, fingerprint),
                       Path(path))

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
        return from_payload(cls, torch, read_payload(torch, path), path)

    def __repr__(self) -> str:
        fitted = f", trained {self.n_epochs_trained_} epochs" if self.is_fitted else ""
        cond = ", conditional=True" if self.conditional else ""
        return (f"IsingGAN(L={self.L}, latent_dim={self.latent_dim}, channels={self.channels}, "
                f"n_layers={self.n_layers}, loss={self.loss!r}{cond}, seed={self.seed_}"
                f"{fitted})")

