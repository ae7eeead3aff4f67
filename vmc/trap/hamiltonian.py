"""Particles in an isotropic harmonic trap, optionally with Coulomb repulsion.

    H = sum_p ( -1/2 nabla_p^2 + 1/2 omega^2 r_p^2 ) + sum_{p<q} 1/r_pq

in units hbar = m = 1 (energies in units of hbar omega only when omega = 1).
The local energy of a trial wavefunction is

    E_L(x) = -1/2 sum_i [ d^2 log Psi / dx_i^2 + (d log Psi / dx_i)^2 ] + V(x).
"""

from __future__ import annotations

import numpy as np

from mccore.errors import InvalidParameterError
from mccore.validation import check_choice, check_float, check_int

from ..settings import INTERACTIONS

__all__ = ["Hamiltonian", "INTERACTIONS", "check_interaction", "exact_energy"]


def check_interaction(interaction: str, n_particles: int, n_dims: int) -> str:
    """``interaction`` if it is one of :data:`INTERACTIONS` and defined for N particles
    in D dimensions (Coulomb needs D >= 2: 1/r is not integrable in 1D)."""
    check_choice("interaction", interaction, INTERACTIONS)
    if interaction == "coulomb" and n_dims == 1 and n_particles > 1:
        raise InvalidParameterError(
            "interaction 'coulomb' needs dims 2 or 3 (1/r is not integrable in 1D), got dims 1")
    return interaction


def exact_energy(n_particles: int, n_dims: int, omega: float, interaction: str) -> float | None:
    """Exact ground-state energy where one is known, else ``None``.

    * no interaction: ``N D omega / 2`` (any N, D; bosonic/symmetric ground state);
    * two electrons (opposite spins) with Coulomb repulsion: 3.0 for D = 2,
      omega = 1 and 2.0 for D = 3, omega = 1/2 (Taut, PRA 48, 3561 (1993)).
    """
    if interaction == "none":
        return n_particles * n_dims * omega / 2.0
    if n_particles == 1:
        return n_dims * omega / 2.0
    if n_particles == 2 and n_dims == 2 and omega == 1.0:
        return 3.0
    if n_particles == 2 and n_dims == 3 and omega == 0.5:
        return 2.0
    return None


class Hamiltonian:
    """Trap Hamiltonian with optional Coulomb interaction.

    Parameters
    ----------
    n_particles : int
        N >= 1.
    n_dims : int
        D in 1..3 (Coulomb needs D >= 2: 1/r is not integrable in 1D).
    omega : float
        Trap frequency (> 0).
    interaction : {"none", "coulomb"}
    """

    def __init__(self, n_particles: int, n_dims: int, *, omega: float = 1.0,
                 interaction: str = "none"):
        self.n_particles = check_int("n_particles", n_particles, minimum=1)
        self.n_dims = check_int("n_dims", n_dims, minimum=1, maximum=3)
        self.omega = check_float("omega", omega, minimum=0.0, strict_min=True)
        self.interaction = check_interaction(interaction, self.n_particles, self.n_dims)

    def check_wavefunction(self, wf) -> None:
        """Raise InvalidParameterError unless ``wf`` has this Hamiltonian's (N, D)."""
        if (self.n_particles, self.n_dims) != (wf.n_particles, wf.n_dims):
            raise InvalidParameterError(
                "hamiltonian and wavefunction disagree on (n_particles, n_dims): "
                f"{(self.n_particles, self.n_dims)} vs {(wf.n_particles, wf.n_dims)}")

    @property
    def exact(self) -> float | None:
        """Exact ground-state energy, or ``None`` where unknown (see :func:`exact_energy`)."""
        return exact_energy(self.n_particles, self.n_dims, self.omega, self.interaction)

    def potential(self, x) -> np.ndarray:
        """Trap plus interaction energy ``V(x)`` (n_walkers,) for ``x`` (n_walkers, N*D)."""
        x = np.asarray(x, dtype=np.float64)
        v = 0.5 * self.omega**2 * np.sum(x * x, axis=1)
        if self.interaction == "coulomb" and self.n_particles > 1:
            X = x.reshape(x.shape[0], self.n_particles, self.n_dims)
            iu = np.triu_indices(self.n_particles, 1)
            diff = X[:, iu[0], :] - X[:, iu[1], :]
            r = np.sqrt(np.sum(diff * diff, axis=-1))
            with np.errstate(divide="ignore"):
                v = v + np.sum(1.0 / r, axis=1)
        return v

    def local_energy(self, wf, x) -> np.ndarray:
        """``E_L = -1/2 (lap log Psi + |grad log Psi|^2) + V`` (n_walkers,).

        Parameters
        ----------
        wf : vmc.trap.Wavefunction
        x : ndarray (n_walkers, N*D)
        """
        g = wf.grad_log_psi(x)
        kinetic = -0.5 * (wf.laplacian_log_psi(x) + np.sum(g * g, axis=1))
        return kinetic + self.potential(x)
