"""From data to trial state: an RBM fitted to sz-basis samples, then refined by VMC.

QuCumber's tomography (Torlai et al., Nature Physics 14, 447 (2018)) for the
positive TFIM ground state: draw configurations from |psi_0(s)|^2 (exact
diagonalization, small N), fit an RBM to them (visible units
``v = (s + 1) / 2``) and use ``psi(s) = sqrt(p_RBM(v))`` as a trial state.
Its fidelity ``|<psi_0|psi>|^2`` and energy ``<psi|H|psi>`` are exact sums
over the 2^N configurations.

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

The refinement optimizes the same RBM's parameters under H by stochastic
reconfiguration with exact expectation values ("full summation" VMC, as
NetKet's FullSumState; no sampling noise):

    log psi(s) = (1/2) (sum_i a_i v_i + sum_j softplus(b_j + sum_i v_i W_ij)),
    O_k = d log psi / d p_k,   grad = 2 (<E_L O> - <E_L><O>),
    (S + shift I) delta = -lr grad.

Small N only (N <= 16): everything is enumerated.
"""

from __future__ import annotations

import numpy as np

from mccore.errors import InvalidParameterError
from mccore.rng import child, recorded_seed, seed_sequence
from mccore.validation import check_bool, check_choice, check_float, check_int

from .exact import exact_ground_state
from .lattice import Lattice
from .tfim import TFIM

__all__ = ["TRAININGS", "fit_rbm_exact_likelihood", "symmetrized_histogram",
           "tomography_trial_state"]

#: the ways :func:`tomography_trial_state` trains the RBM
TRAININGS = ("exact", "cd")


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
    if q.ndim != 1 or q.size != 1 << n or n > 16:
        raise InvalidParameterError(
            f"q must be a distribution over 2^N states with N <= 16, got shape {q.shape}")
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


def tomography_trial_state(lattice: Lattice, field: float, *, n_samples: int = 5000,
                           n_hidden: int | None = None, training: str = "exact",
                           symmetrize: bool = True, n_epochs: int = 200,
                           max_iter: int = 500, n_refine: int = 100,
                           learning_rate: float = 0.05, diag_shift: float = 0.01,
                           rng=None) -> dict:
    """Fit an RBM to ground-state samples, report its fidelity and energy, refine by VMC.

    Parameters
    ----------
    lattice : vmc.spins.Lattice
        At most 16 sites.
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
        SR iterations of the refinement (exact expectation values).
    learning_rate, diag_shift : float
        SR's imaginary-time step and diagonal shift.
    rng : int, SeedSequence, Generator or None

    Returns
    -------
    dict
        ``exact`` (E0), ``fidelity`` / ``energy`` / ``kl`` (KL(|psi_0|^2 ||
        p_RBM), nats) of sqrt(p_RBM), ``refined_fidelity`` /
        ``refined_energy`` after the refinement, ``energies`` and
        ``fidelities`` (per refinement iteration, before its step),
        ``training``, ``symmetrize``, ``n_hidden``, ``n_samples``,
        ``train_iterations`` (L-BFGS iterations or epochs), ``samples``
        (the measurements, (n_samples, N) int8 in {-1, +1}), ``seed``.
    """
    if not isinstance(lattice, Lattice) or lattice.n_sites > 16:
        raise InvalidParameterError(
            f"tomography enumerates 2^N states and needs a Lattice of at most 16 sites, "
            f"got {lattice!r}")
    n = lattice.n_sites
    n_samples = check_int("n_samples", n_samples, minimum=10)
    n_hidden = check_int("n_hidden", n if n_hidden is None else n_hidden, minimum=1)
    training = check_choice("training", training, TRAININGS)
    symmetrize = check_bool("symmetrize", symmetrize)
    n_epochs = check_int("n_epochs", n_epochs, minimum=1)
    max_iter = check_int("max_iter", max_iter, minimum=1)
    n_refine = check_int("n_refine", n_refine, minimum=0)
    learning_rate = check_float("learning_rate", learning_rate, minimum=0.0, strict_min=True)
    diag_shift = check_float("diag_shift", diag_shift, minimum=0.0)
    seq = seed_sequence(rng)
    ham = TFIM(lattice, field)
    H = ham.sparse_matrix()
    import scipy.sparse.linalg
    e0 = exact_ground_state(lattice, field)["energy"]
    _, vecs = scipy.sparse.linalg.eigsh(H, k=1, which="SA",
                                        v0=np.ones(H.shape[0]) / np.sqrt(H.shape[0]))
    psi0 = np.abs(vecs[:, 0])
    psi0 /= np.linalg.norm(psi0)
    s_all = TFIM.basis(n)
    v_all = (s_all + 1.0) / 2.0
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

    def evaluate(a, b, W):
        psi, O = _state(v_all, a, b, W)
        return psi, O, float(psi @ (H @ psi)), float((psi0 @ psi) ** 2)

    psi, O, energy, fidelity = evaluate(a, b, W)
    p0 = psi0**2
    keep = p0 > 0
    kl = float(np.sum(p0[keep] * (np.log(p0[keep]) - np.log(psi[keep] ** 2))))
    out = {"exact": e0, "fidelity": fidelity, "energy": energy, "kl": kl,
           "training": training, "symmetrize": symmetrize, "n_hidden": n_hidden,
           "n_samples": n_samples, "train_iterations": train_iterations,
           "samples": s_all[idx].astype(np.int8), "seed": recorded_seed(seq)}
    params = np.concatenate([a, b, W.ravel()])
    energies, fidelities = [], []
    # SR with *exact* expectation values: S and the gradient are weighted by p = |psi|^2
    # over all 2^N states, and the system is solved by LU (vmc.optimizers.SR averages
    # samples with equal weights).
    for _ in range(n_refine):
        a_, b_ = params[:n], params[n:n + n_hidden]
        W_ = params[n + n_hidden:].reshape(n, n_hidden)
        psi, O, energy_it, fidelity_it = evaluate(a_, b_, W_)
        p = psi**2
        e_loc = (H @ psi) / np.where(psi > 0, psi, 1.0)
        o_mean = p @ O
        Oc = O - o_mean
        grad = 2.0 * (p @ (e_loc[:, None] * Oc))
        S = (Oc * p[:, None]).T @ Oc
        S[np.diag_indices_from(S)] += diag_shift
        params = params - learning_rate * np.linalg.solve(S, grad)
        energies.append(energy_it)
        fidelities.append(fidelity_it)
    a_, b_ = params[:n], params[n:n + n_hidden]
    W_ = params[n + n_hidden:].reshape(n, n_hidden)
    _, _, refined_energy, refined_fidelity = evaluate(a_, b_, W_)
    out.update(refined_energy=refined_energy, refined_fidelity=refined_fidelity,
               energies=energies, fidelities=fidelities)
    return out
