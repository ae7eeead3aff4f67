"""From data to trial state: an RBM fitted to sz-basis samples, then refined by VMC.

QuCumber's tomography (Torlai et al., Nature Physics 14, 447 (2018)) for the
positive TFIM ground state: draw configurations from |psi_0(s)|^2 (exact
diagonalization, small N), fit an RBM to them (visible units
``v = (s + 1) / 2``) and use ``psi(s) = sqrt(p_RBM(v))`` as a trial state.
Its fidelity ``|<psi_0|psi>|^2`` and energy ``<psi|H|psi>`` (total, J = 1)
are exact sums over the 2^N configurations.

Training (``training``)
    ``"exact"`` (default): maximum likelihood with the *exact* gradient. At
    N <= 16 every visible configuration is enumerated, so the empirical
    distribution q(v) of the samples (a histogram over 2^N states) and the
    model's p(v) = exp(-F(v)) / Z are known exactly, and

        L = sum_v q(v) log p(v),   dL/dtheta = sum_v (q(v) - p(v)) d(-F(v))/dtheta,

    maximized by L-BFGS (scipy) to convergence: no sampling noise in the
    negative phase, no learning-rate schedule to tune, no CD bias.
    ``"cd"``: :class:`rbm.BernoulliRBM`'s stochastic training (``n_epochs``),
    as QuCumber trains.

Symmetrization (``symmetrize``, default True)
    The Hamiltonian commutes with the lattice translations and the global
    flip ``s -> -s``, and the ground state is unique, so ``|psi_0|^2`` is
    invariant under them. The histogram q(v) is replaced by its average over
    that group (20 elements on a chain of 10): the same 10^4 measurements,
    with the prior knowledge of the symmetries. Without it the
    maximum-likelihood RBM fits the sampling noise (N = 10, h = 1, 10^4
    samples, 10 hidden units: fidelity 0.9961 raw, 0.9997 symmetrized).

The refinement (:class:`ExactRefinement`) optimizes the same RBM's
parameters under H by stochastic reconfiguration with exact expectation
values ("full summation" VMC, as NetKet's FullSumState; no sampling noise):

    log psi(s) = (1/2) (sum_i a_i v_i + sum_j softplus(b_j + sum_i v_i W_ij)),
    O_k = d log psi / d p_k,   grad = 2 (<E_L O> - <E_L><O>),
    (S + shift I) delta = -lr grad.

Each step depends on the parameters alone (BLAS on one thread, so not on the
machine's thread count either), so a run checkpointed after k
steps (:func:`save_tomography`) and resumed continues bit for bit. The
settings and their rules are :data:`TOMOGRAPHY_SETTINGS` (``isingrbm
tomography`` builds its options from them); small lattices only
(:data:`MAX_SITES`): everything is enumerated.
"""

from __future__ import annotations

import io
import json
import math
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from mccore.errors import FileFormatError, InvalidParameterError
from mccore.parallel import with_single_threaded_blas
from mccore.rng import child, recorded_seed, seed_sequence
from mccore.validation import Rule, check_int, check_memory, check_settings

from ..settings import LATTICES, TFIM_SETTINGS
from .exact import exact_ground_state
from .lattice import Lattice
from .tfim import TFIM

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "MAX_SITES",
    "TOMOGRAPHY_SETTINGS",
    "TRAININGS",
    "ExactRefinement",
    "check_tomography_settings",
    "fit_rbm_exact_likelihood",
    "load_tomography",
    "save_tomography",
    "symmetrized_histogram",
    "tomography_memory_estimate",
    "tomography_trial_state",
]

#: the ways :func:`tomography_trial_state` trains the RBM
TRAININGS = ("exact", "cd")
#: the most sites tomography takes: it enumerates all 2^N configurations
MAX_SITES = 16

#: the settings of :func:`tomography_trial_state` (``lattice`` and ``size`` are those of its
#: Lattice) and their rules; across settings: :func:`check_tomography_settings`
TOMOGRAPHY_SETTINGS = {
    "lattice": Rule.choice(LATTICES),
    "size": Rule.integer(minimum=2),
    "field": TFIM_SETTINGS["field"],
    "n_samples": Rule.integer(minimum=10),
    "n_hidden": Rule.integer(minimum=1, optional=True),
    "training": Rule.choice(TRAININGS),
    "symmetrize": Rule.boolean(),
    "n_epochs": Rule.integer(minimum=1),
    "max_iter": Rule.integer(minimum=1),
    "n_refine": Rule.integer(minimum=0),
    "learning_rate": Rule.number(minimum=0, strict_min=True),
    "diag_shift": Rule.number(minimum=0),
}

#: the result file's format (:func:`save_tomography`)
FORMAT = "isingrbm-tomography"
FORMAT_VERSION = 1


def _n_sites(kind: str, size: int) -> int:
    return size if kind == "chain" else size * size


def tomography_memory_estimate(n_sites: int, n_hidden: int, n_samples: int, training: str,
                               symmetrize: bool, n_translations: int) -> float:
    """Bytes the run needs at most: four (2^N, P) float64 arrays of the refinement
    (P = N + M + N M parameters), S, the samples, and CD's symmetrized copy of the data."""
    n_params = n_sites + n_hidden + n_sites * n_hidden
    total = 8.0 * (4 * 2.0**n_sites * n_params + n_params**2 + n_samples * (2 + n_sites))
    if training == "cd":
        total += 16.0 * n_samples * n_sites * (2 * n_translations if symmetrize else 1)
    return total


def check_tomography_settings(**settings) -> dict:
    """Every setting checked by its rule in :data:`TOMOGRAPHY_SETTINGS`, then across them:
    at most :data:`MAX_SITES` sites, and the run's memory.

    Returns the checked values (``n_hidden`` None becomes the number of sites when
    ``lattice`` and ``size`` are given).
    """
    values = check_settings(TOMOGRAPHY_SETTINGS, **settings)
    if "lattice" in values and "size" in values:
        kind, size = values["lattice"], values["size"]
        n = _n_sites(kind, size)
        if n > MAX_SITES:
            raise InvalidParameterError(
                f"size {size} of lattice {kind!r} has {n} sites; tomography enumerates all "
                f"2^N configurations and takes at most {MAX_SITES} sites (chain size <= "
                f"{MAX_SITES}, square size <= {math.isqrt(MAX_SITES)})")
        if values.get("n_hidden") is None and "n_hidden" in values:
            values["n_hidden"] = n
        if {"n_hidden", "n_samples", "training", "symmetrize"} <= set(values):
            check_memory(f"size {size} of lattice {kind!r} with n_hidden {values['n_hidden']} "
                         f"and n_samples {values['n_samples']}",
                         tomography_memory_estimate(n, values["n_hidden"], values["n_samples"],
                                                    values["training"], values["symmetrize"], n))
    return values


def _softplus(x):
    return np.logaddexp(0.0, x)


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _log_psi_and_o(v, a, b, W):
    x = b + v @ W
    log_psi = 0.5 * (v @ a + _softplus(x).sum(axis=1))
    sig = _sigmoid(x)
    n = v.shape[0]
    O = 0.5 * np.concatenate([v, sig, (v[:, :, None] * sig[:, None, :]).reshape(n, -1)],
                             axis=1)
    return log_psi, O


def _state(v, a, b, W):
    log_psi, O = _log_psi_and_o(v, a, b, W)
    psi = np.exp(log_psi - log_psi.max())
    return psi / np.linalg.norm(psi), O


def _basis_index(s) -> np.ndarray:
    """Index of configurations ``s`` (n, N) in :meth:`TFIM.basis` (bit i set <=> s_i = -1)."""
    return ((np.asarray(s) < 0).astype(np.int64) << np.arange(s.shape[1], dtype=np.int64)).sum(1)


def symmetrized_histogram(lattice: Lattice, s) -> np.ndarray:
    """The empirical distribution of configurations ``s`` (n, N) over the 2^N basis
    states, averaged over the lattice translations and the global flip.

    Returns
    -------
    ndarray (2^N,)
        ``q[k]``, normalized to 1, in the order of :meth:`TFIM.basis`.
    """
    n = lattice.n_sites
    q = np.bincount(_basis_index(s), minlength=1 << n).astype(np.float64)
    q /= q.sum()
    basis = TFIM.basis(n)
    out = np.zeros_like(q)
    for perm in lattice.translations:
        moved = basis[:, perm]
        out += q[_basis_index(moved)] + q[_basis_index(-moved)]
    return out / (2 * len(lattice.translations))


def fit_rbm_exact_likelihood(q, n_hidden: int, *, init_scale: float = 0.1,
                             max_iter: int = 500, tol: float = 1e-9, rng=None) -> dict:
    """Maximum-likelihood Bernoulli RBM for a distribution ``q`` over all 2^N binary states.

    Parameters
    ----------
    q : array (2^N,)
        Target probabilities in the order of :meth:`TFIM.basis` (visible
        units ``v = (s + 1) / 2``), N <= 16.
    n_hidden : int
    init_scale : float
        Standard deviation of the initial weights (biases start at 0).
    max_iter, tol
        L-BFGS-B's iteration limit and projected-gradient tolerance. The
        limit doubles as early stopping: on 10^4 samples (N = 10, h = 1,
        symmetrized) 500 iterations gave fidelities 0.99977 / 0.99972
        (seeds 1 / 3), 3000 gave 0.99981 / 0.99959.
    rng : int, SeedSequence, Generator or None
        Draws the initial weights.

    Returns
    -------
    dict
        ``visible_bias`` (N,), ``hidden_bias`` (n_hidden,), ``weights``
        (N, n_hidden), ``log_likelihood`` (sum_v q log p, nats),
        ``n_iterations``, ``converged``.
    """
    import scipy.optimize

    q = np.asarray(q, dtype=np.float64)
    n = round(np.log2(q.size))
    if q.ndim != 1 or q.size != 1 << n or n > MAX_SITES:
        raise InvalidParameterError(
            f"q must be a distribution over 2^N states with N <= {MAX_SITES}, got shape {q.shape}")
    n_hidden = check_int("n_hidden", n_hidden, minimum=1)
    v = (TFIM.basis(n) + 1.0) / 2.0
    gen = np.random.default_rng(seed_sequence(rng))
    x0 = np.concatenate([np.zeros(n + n_hidden), init_scale * gen.normal(size=n * n_hidden)])

    def minus_log_likelihood(params):
        a, b, W = params[:n], params[n:n + n_hidden], params[n + n_hidden:].reshape(n, -1)
        x = b + v @ W
        neg_f = v @ a + _softplus(x).sum(axis=1)
        log_z = np.logaddexp.reduce(neg_f)
        d = q - np.exp(neg_f - log_z)
        grad = np.concatenate([d @ v, d @ _sigmoid(x), (v.T @ (d[:, None] * _sigmoid(x))).ravel()])
        return log_z - q @ neg_f, -grad

    res = scipy.optimize.minimize(minus_log_likelihood, x0, jac=True, method="L-BFGS-B",
                                  options={"maxiter": max_iter, "gtol": tol, "ftol": 0.0})
    p = res.x
    return {"visible_bias": p[:n], "hidden_bias": p[n:n + n_hidden],
            "weights": p[n + n_hidden:].reshape(n, n_hidden), "log_likelihood": -float(res.fun),
            "n_iterations": int(res.nit), "converged": bool(res.success)}


class ExactRefinement:
    """Stochastic reconfiguration of an RBM trial state with exact expectation values.

    Builds H, the exact ground state ``psi_0`` (Lanczos, made positive and
    normalized) and its energy :attr:`exact` for ``lattice`` at ``field``
    (total, J = 1). :meth:`step` takes parameters ``(a, b, W.ravel())`` (the
    {0, 1} visible units) to the next ones; it depends on them alone.
    """

    def __init__(self, lattice: Lattice, field: float, n_hidden: int, *,
                 learning_rate: float = 0.05, diag_shift: float = 0.01):
        import scipy.sparse.linalg

        self.n_sites, self.n_hidden = lattice.n_sites, n_hidden
        self.learning_rate, self.diag_shift = learning_rate, diag_shift
        self.H = TFIM(lattice, field).sparse_matrix()
        self.exact = exact_ground_state(lattice, field)["energy"]
        dim = self.H.shape[0]
        _, vecs = scipy.sparse.linalg.eigsh(self.H, k=1, which="SA",
                                            v0=np.ones(dim) / np.sqrt(dim))
        psi0 = np.abs(vecs[:, 0])
        self.psi0 = psi0 / np.linalg.norm(psi0)
        self.v = (TFIM.basis(self.n_sites) + 1.0) / 2.0

    def unpack(self, params):
        """``(a, b, W)`` of the flat parameters."""
        n, m = self.n_sites, self.n_hidden
        return params[:n], params[n:n + m], params[n + m:].reshape(n, m)

    def evaluate(self, params):
        """``(psi, O, energy, fidelity)``: the normalized trial state, its log-derivatives,
        ``<psi|H|psi>`` and ``|<psi_0|psi>|^2``."""
        psi, O = _state(self.v, *self.unpack(params))
        return psi, O, float(psi @ (self.H @ psi)), float((self.psi0 @ psi) ** 2)

    def step(self, params):
        """``(new_params, energy, fidelity)``, energy and fidelity at ``params`` (before
        the step)."""
        psi, O, energy, fidelity = self.evaluate(params)
        # S and the gradient are weighted by p = |psi|^2 over all 2^N states, and the system
        # is solved by LU (vmc.optimizers.SR averages samples with equal weights)
        p = psi**2
        e_loc = (self.H @ psi) / np.where(psi > 0, psi, 1.0)
        Oc = O - p @ O
        grad = 2.0 * (p @ (e_loc[:, None] * Oc))
        S = (Oc * p[:, None]).T @ Oc
        S[np.diag_indices_from(S)] += self.diag_shift
        return params - self.learning_rate * np.linalg.solve(S, grad), energy, fidelity


def _fit(lattice, psi0, seq, *, n_samples, n_hidden, training, symmetrize, n_epochs,
         max_iter):
    """Draw the samples from ``|psi_0|^2`` and train the RBM: (params, iterations, samples)."""
    s_all = TFIM.basis(lattice.n_sites)
    draw = np.random.default_rng(child(seq, 0))
    idx = draw.choice(psi0.size, size=n_samples, p=psi0**2 / np.sum(psi0**2))
    if training == "exact":
        if symmetrize:
            q = symmetrized_histogram(lattice, s_all[idx])
        else:
            q = np.bincount(idx, minlength=psi0.size) / n_samples
        fit = fit_rbm_exact_likelihood(q, n_hidden, max_iter=max_iter, rng=child(seq, 1))
        a, b, W = fit["visible_bias"], fit["hidden_bias"], fit["weights"]
        train_iterations = fit["n_iterations"]
    else:
        from rbm import BernoulliRBM
        data = s_all[idx]
        if symmetrize:
            images = [data[:, perm] for perm in lattice.translations]
            data = np.concatenate(images + [-x for x in images])
        model = BernoulliRBM(n_hidden, n_epochs=n_epochs, rng=child(seq, 1))
        model.fit((data + 1.0) / 2.0)
        a = np.array(model.visible_bias, dtype=np.float64)
        b = np.array(model.hidden_bias, dtype=np.float64)
        W = np.array(model.weights, dtype=np.float64)
        train_iterations = n_epochs
    return np.concatenate([a, b, W.ravel()]), train_iterations, s_all[idx].astype(np.int8)


@with_single_threaded_blas
def tomography_trial_state(lattice: Lattice, field: float, *, n_samples: int = 5000,
                           n_hidden: int | None = None, training: str = "exact",
                           symmetrize: bool = True, n_epochs: int = 200,
                           max_iter: int = 500, n_refine: int = 100,
                           learning_rate: float = 0.05, diag_shift: float = 0.01,
                           rng=None, checkpoint=None, resume_from=None,
                           progress: bool = False, checkpoint_every: int = 50) -> dict:
    """Fit an RBM to ground-state samples, report its fidelity and energy, refine by VMC.

    Parameters
    ----------
    lattice : vmc.spins.Lattice
        At most :data:`MAX_SITES` (16) sites.
    field : float
        h > 0.
    n_samples : int
        sz-basis samples drawn from the exact |psi_0|^2.
    n_hidden : int or None
        Hidden units (default N).
    training : {"exact", "cd"}
        Exact-gradient maximum likelihood (L-BFGS, up to ``max_iter``
        iterations) or :class:`rbm.BernoulliRBM`'s stochastic training
        (``n_epochs`` epochs); see the module docstring.
    symmetrize : bool
        Average the data over the translations and the global flip.
    n_epochs : int
        Training epochs of ``training="cd"``.
    max_iter : int
        L-BFGS iterations of ``training="exact"``.
    n_refine : int
        SR iterations of the refinement (exact expectation values), in all
        (those of a resumed run included).
    learning_rate, diag_shift : float
        SR's imaginary-time step and diagonal shift.
    rng : int, SeedSequence, Generator or None
        None when resuming: the seed ``resume_from`` records.
    checkpoint : path or None
        Where the state is saved (:func:`save_tomography`, status
        ``"partial"``, written atomically) after the fit, every
        ``checkpoint_every`` SR steps, every few minutes, after the last step
        and on Ctrl-C (:func:`mccore.training.run_steps`).
    resume_from : path, dict or None
        A checkpoint or finished result (path, or :func:`load_tomography`'s
        dict) to continue: the fit is not redone and the refinement goes on
        to ``n_refine`` iterations, bit for bit as without the interruption.
        Every other setting (and the seed) must match.
    progress : bool
        A progress bar on stderr.

    BLAS runs on one thread during the call (OpenBLAS's sums change in the last bits
    with its thread count): the numbers depend on the settings and the seed alone.

    Returns
    -------
    dict
        ``exact`` (E0), ``fidelity`` / ``energy`` / ``kl`` (KL(|psi_0|^2 ||
        p_RBM), nats) of sqrt(p_RBM), ``refined_fidelity`` /
        ``refined_energy`` after the refinement, ``energies`` and
        ``fidelities`` (per refinement iteration, before its step),
        ``training``, ``symmetrize``, ``n_hidden``, ``n_samples``,
        ``train_iterations`` (L-BFGS iterations or epochs), ``samples``
        (the measurements, (n_samples, N) int8 in {-1, +1}), ``seed``,
        ``initial_params`` and ``params`` (fitted and refined ``(a, b,
        W.ravel())``), ``iterations`` (SR steps done), ``status``
        (``"complete"``, or ``"interrupted"`` by Ctrl-C: the checkpoint holds
        the state), ``settings`` (every setting above and the seed).
    """
    from mccore.training import check_resume_settings, run_steps

    if not isinstance(lattice, Lattice) or lattice.n_sites > MAX_SITES:
        raise InvalidParameterError(
            f"tomography enumerates 2^N states and needs a Lattice of at most {MAX_SITES} "
            f"sites, got {lattice!r}")
    settings = check_tomography_settings(
        lattice=lattice.kind, size=lattice.size, field=field, n_samples=n_samples,
        n_hidden=n_hidden, training=training, symmetrize=symmetrize, n_epochs=n_epochs,
        max_iter=max_iter, n_refine=n_refine, learning_rate=learning_rate,
        diag_shift=diag_shift)
    if resume_from is not None and not isinstance(resume_from, dict):
        resume_from = load_tomography(resume_from)
    if resume_from is not None and rng is None:
        seq = seed_sequence(resume_from["settings"]["seed"])
    else:
        seq = seed_sequence(rng)
    settings["seed"] = recorded_seed(seq)
    if resume_from is not None:
        check_resume_settings({k: v for k, v in resume_from["settings"].items()
                               if k != "n_refine"},
                              {k: v for k, v in settings.items() if k != "n_refine"},
                              what="the resumed tomography run")
    refinement = ExactRefinement(lattice, settings["field"], settings["n_hidden"],
                                 learning_rate=settings["learning_rate"],
                                 diag_shift=settings["diag_shift"])
    fit_keys = ("n_samples", "n_hidden", "training", "symmetrize", "n_epochs", "max_iter")
    if resume_from is not None:
        initial, train_iterations = resume_from["initial_params"], resume_from["train_iterations"]
        samples = resume_from["samples"]
        start = resume_from["iterations"]
        at = (start, np.array(resume_from["params"], dtype=np.float64))
        energies, fidelities = list(resume_from["energies"]), list(resume_from["fidelities"])
    else:
        initial, train_iterations, samples = _fit(
            lattice, refinement.psi0, seq, **{k: settings[k] for k in fit_keys})
        start, at, energies, fidelities = 0, (0, initial), [], []
    psi, _, energy, fidelity = refinement.evaluate(initial)
    p0 = refinement.psi0**2
    keep = p0 > 0
    kl = float(np.sum(p0[keep] * (np.log(p0[keep]) - np.log(psi[keep] ** 2))))
    out = {"exact": refinement.exact, "fidelity": fidelity, "energy": energy, "kl": kl,
           "training": settings["training"], "symmetrize": settings["symmetrize"],
           "n_hidden": settings["n_hidden"], "n_samples": settings["n_samples"],
           "train_iterations": train_iterations, "samples": samples, "seed": settings["seed"],
           "initial_params": initial, "settings": settings}
    state = {"at": at, "saved": None}

    def result(status):
        done, params = state["at"]
        _, _, refined_energy, refined_fidelity = refinement.evaluate(params)
        return dict(out, refined_energy=refined_energy, refined_fidelity=refined_fidelity,
                    energies=energies[:done], fidelities=fidelities[:done], params=params,
                    iterations=done, status=status)

    def save(_n_done=None):
        if checkpoint is not None:
            from mccore.files import atomic_path

            current = result("partial")
            with atomic_path(Path(checkpoint)) as tmp:
                save_tomography(current, tmp)
            state["saved"] = current["iterations"]

    def step(i):
        done, params = state["at"]
        new, energy_it, fidelity_it = refinement.step(params)
        energies[done:] = [energy_it]
        fidelities[done:] = [fidelity_it]
        state["at"] = (done + 1, new)    # one store: an interrupt leaves a whole step or none
        return {"energy": energy_it, "fidelity": fidelity_it}

    if resume_from is None:
        save()                           # the fit is not redone on resume
    outcome = run_steps(step, start=start, stop=max(start, settings["n_refine"]),
                        save_checkpoint=save, checkpoint_every=checkpoint_every,
                        progress=progress, description="tomography", unit="iteration")
    if outcome.interrupted and checkpoint is not None and state["saved"] != state["at"][0]:
        save()                           # interrupted after a step's store, before its count
    return result("interrupted" if outcome.interrupted else "complete")


def save_tomography(result: dict, path) -> Path:
    """Write a result of :func:`tomography_trial_state` to an HDF5 file at ``path``.

    Layout (format ``"isingrbm-tomography"``, version 1)::

        /                attrs: format, format_version, status ("complete" | "partial"
                                (a checkpoint) | "interrupted"), iterations (SR steps
                                done), exact, fidelity, energy, kl (fitted state),
                                refined_fidelity, refined_energy, train_iterations,
                                settings (JSON: every setting and the seed), created,
                                software_version
        visible_bias, hidden_bias, weights      the refined RBM ({0, 1} visible units)
        initial/visible_bias, hidden_bias, weights   the fitted RBM
        samples          (n_samples, N) int8 in {-1, +1}, the measurements
        history/energy, history/fidelity   per SR iteration, before its step

    The file is built in memory and written with plain file I/O (a full disk
    gives one ``OSError``, never a half-written HDF5 file); the caller makes
    the write atomic (a temporary path, then a rename).
    """
    import h5py

    from mccore.version import software_version
    from vmc.result import write_bytes

    n, m = result["samples"].shape[1], int(result["n_hidden"])
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as h5:
        a = h5.attrs
        a["format"], a["format_version"] = FORMAT, FORMAT_VERSION
        a["status"], a["iterations"] = result["status"], int(result["iterations"])
        for key in ("exact", "fidelity", "energy", "kl", "refined_fidelity", "refined_energy"):
            a[key] = float(result[key])
        a["train_iterations"] = int(result["train_iterations"])
        a["settings"] = json.dumps(result["settings"])
        a["created"] = datetime.now(timezone.utc).isoformat()
        a["software_version"] = software_version()
        for group, params in ((h5, result["params"]), (h5.create_group("initial"),
                                                       result["initial_params"])):
            params = np.asarray(params, dtype=np.float64)
            group.create_dataset("visible_bias", data=params[:n])
            group.create_dataset("hidden_bias", data=params[n:n + m])
            group.create_dataset("weights", data=params[n + m:].reshape(n, m))
        h5.create_dataset("samples", data=np.asarray(result["samples"], dtype=np.int8),
                          compression="gzip")
        history = h5.create_group("history")
        history.create_dataset("energy", data=np.asarray(result["energies"], dtype=np.float64))
        history.create_dataset("fidelity",
                               data=np.asarray(result["fidelities"], dtype=np.float64))
    path = Path(path)
    write_bytes(path, buffer.getbuffer())
    return path


def load_tomography(path) -> dict:
    """Read a file of :func:`save_tomography`: the dict :func:`tomography_trial_state`
    returns (``status`` as stored), plus ``created`` and ``software_version``.

    Raises
    ------
    FileFormatError
        Not an HDF5 file, or not an ``isingrbm-tomography`` file of a known version.
    """
    from vmc.result import open_versioned_hdf5

    path = Path(path)
    with open_versioned_hdf5(path, FORMAT, FORMAT_VERSION) as h5:
        a = h5.attrs
        try:
            settings = json.loads(a["settings"])
            out = {key: float(a[key]) for key in ("exact", "fidelity", "energy", "kl",
                                                  "refined_fidelity", "refined_energy")}

            def params(group):
                return np.concatenate([group["visible_bias"][()], group["hidden_bias"][()],
                                       group["weights"][()].ravel()])

            out.update(
                status=str(a["status"]), iterations=int(a["iterations"]),
                train_iterations=int(a["train_iterations"]), settings=settings,
                training=settings["training"], symmetrize=settings["symmetrize"],
                n_hidden=settings["n_hidden"], n_samples=settings["n_samples"],
                seed=settings["seed"], params=params(h5), initial_params=params(h5["initial"]),
                samples=h5["samples"][()], energies=h5["history/energy"][()].tolist(),
                fidelities=h5["history/fidelity"][()].tolist(), created=str(a["created"]),
                software_version=str(a["software_version"]))
        except (KeyError, ValueError, TypeError) as exc:
            raise FileFormatError(f"{path}: corrupt {FORMAT} file ({exc})") from None
    return out
