"""From data to trial state: an RBM fitted to sz-basis samples, then refined by VMC.

QuCumber's tomography (Torlai et al., Nature Physics 14, 447 (2018)) for the
positive TFIM ground state: draw configurations from |psi_0(s)|^2 (exact
diagonalization, small N), fit an :class:`rbm.BernoulliRBM` to them (visible
units ``v = (s + 1) / 2``) and use ``psi(s) = sqrt(p_RBM(v))`` as a trial
state. Its fidelity ``|<psi_0|psi>|^2`` and energy ``<psi|H|psi>`` are exact
sums over the 2^N configurations. The refinement optimizes the same RBM's
parameters under H by stochastic reconfiguration with exact expectation
values ("full summation" VMC, as NetKet's FullSumState; no sampling noise):

    log psi(s) = (1/2) (sum_i a_i v_i + sum_j softplus(b_j + sum_i v_i W_ij)),
    O_k = d log psi / d p_k,   grad = 2 (<E_L O> - <E_L><O>),
    (S + shift I) delta = -lr grad.

Small N only (N <= 16): everything is enumerated.
"""

from __future__ import annotations

import numpy as np

from mccore.errors import InvalidParameterError
from mccore.rng import child, recorded_seed, seed_sequence
from mccore.validation import check_float, check_int

from .lattice import Lattice
from .tfim import TFIM
from .exact import exact_ground_state

__all__ = ["tomography_trial_state"]


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


def tomography_trial_state(lattice: Lattice, field: float, *, n_samples: int = 5000,
                           n_hidden: int | None = None, n_epochs: int = 200,
                           n_refine: int = 100, learning_rate: float = 0.05,
                           diag_shift: float = 0.01, rng=None) -> dict:
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
    n_epochs : int
        Training epochs of the RBM.
    n_refine : int
        SR iterations of the refinement (exact expectation values).
    rng : int, SeedSequence, Generator or None

    Returns
    -------
    dict
        ``exact`` (E0), ``fidelity`` / ``energy`` of sqrt(p_RBM) and
        ``refined_fidelity`` / ``refined_energy`` after the refinement,
        ``energies`` (per refinement iteration), ``seed``.
    """
    if not isinstance(lattice, Lattice) or lattice.n_sites > 16:
        raise InvalidParameterError(
            f"tomography enumerates 2^N states and needs a Lattice of at most 16 sites, "
            f"got {lattice!r}")
    n = lattice.n_sites
    n_samples = check_int("n_samples", n_samples, minimum=10)
    n_hidden = check_int("n_hidden", n if n_hidden is None else n_hidden, minimum=1)
    n_refine = check_int("n_refine", n_refine, minimum=0)
    learning_rate = check_float("learning_rate", learning_rate, minimum=0.0, strict_min=True)
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
    from rbm import BernoulliRBM
    model = BernoulliRBM(n_hidden, n_epochs=n_epochs, rng=child(seq, 1))
    model.fit(v_all[idx].astype(np.float64))
    a = np.array(model.visible_bias, dtype=np.float64)
    b = np.array(model.hidden_bias, dtype=np.float64)
    W = np.array(model.weights, dtype=np.float64)

    def evaluate(a, b, W):
        psi, O = _state(v_all, a, b, W)
        return psi, O, float(psi @ (H @ psi)), float((psi0 @ psi) ** 2)

    psi, O, energy, fidelity = evaluate(a, b, W)
    out = {"exact": e0, "fidelity": fidelity, "energy": energy, "n_hidden": n_hidden,
           "n_samples": n_samples, "seed": recorded_seed(seq)}
    params = np.concatenate([a, b, W.ravel()])
    energies = []
    # SR with *exact* expectation values: S and the gradient are weighted by p = |psi|^2
    # over all 2^N states, and the system is solved by LU. vmc.optimizers.SR averages
    # samples with equal weights and solves by Cholesky (or Woodbury), so using it here
    # would change the numbers this function has always returned (not bit-identical).
    for _ in range(n_refine):
        a_, b_ = params[:n], params[n:n + n_hidden]
        W_ = params[n + n_hidden:].reshape(n, n_hidden)
        psi, O, energy_it, _ = evaluate(a_, b_, W_)
        p = psi**2
        e_loc = (H @ psi) / np.where(psi > 0, psi, 1.0)
        o_mean = p @ O
        Oc = O - o_mean
        grad = 2.0 * (p @ (e_loc[:, None] * Oc))
        S = (Oc * p[:, None]).T @ Oc
        S[np.diag_indices_from(S)] += diag_shift
        params = params - learning_rate * np.linalg.solve(S, grad)
        energies.append(energy_it)
    a_, b_ = params[:n], params[n:n + n_hidden]
    W_ = params[n + n_hidden:].reshape(n, n_hidden)
    _, _, refined_energy, refined_fidelity = evaluate(a_, b_, W_)
    out.update(refined_energy=refined_energy, refined_fidelity=refined_fidelity,
               energies=energies)
    return out
