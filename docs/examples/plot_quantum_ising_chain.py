"""
The transverse-field Ising chain with an RBM trial state
========================================================

Variational Monte Carlo for the ground state of
H = -sum_i sz_i sz_{i+1} - h sum_i sx_i on a periodic chain of N = 10 spins
(Pauli matrices, J = 1), with an RBM trial state
log psi(s) = sum_i a_i s_i + sum_j log cosh(b_j + sum_i W_ij s_i) of
alpha = 1 hidden unit per spin, single-spin-flip Metropolis sampling and
stochastic reconfiguration (Carleo & Troyer, Science 355, 602 (2017)). The
exact energy comes from free fermions with antiperiodic momenta
k_n = (2n + 1) pi / N, checked here against exact diagonalization.
"""

import matplotlib.pyplot as plt
import numpy as np

import vmc
from vmc.spins import Lattice, exact_ground_state, free_fermion_energy

N = 10
fields = [0.5, 1.0, 2.0]
results = {h: vmc.run_tfim("chain", N, h, n_iterations=150, n_samples=500, n_threads=1, rng=1)
           for h in fields}

# %%
# The exact references: the free-fermion formula and Lanczos exact
# diagonalization of the 2^10-dimensional Hamiltonian agree; the periodic
# momenta 2 pi n / N, a common slip, do not.

print(f"{'h':>4} {'VMC energy':>22} {'free fermions':>14} {'Lanczos':>12} "
      f"{'rel. error':>11} {'var(E_L)':>9} {'naive k':>9}")
for h, r in results.items():
    exact = free_fermion_energy(N, h)
    lanczos = exact_ground_state(Lattice("chain", N), h)["energy"]
    naive = -np.sum(np.sqrt(1 + h * h - 2 * h * np.cos(2 * np.pi * np.arange(N) / N)))
    print(f"{h:4.1f} {str(r.energy):>22} {exact:14.6f} {lanczos:12.6f} "
          f"{(r.energy.mean - exact) / abs(exact):+11.1e} {r.variance:9.1e} {naive:9.4f}")

# %%
# Convergence: the relative error of each iteration's mean local energy.

fig, ax = plt.subplots(figsize=(6.5, 3.8), layout="constrained")
for h, r in results.items():
    exact = free_fermion_energy(N, h)
    e = np.asarray(r.history["energy"])
    ax.semilogy(np.arange(1, len(e) + 1), np.abs(e - exact) / abs(exact), label=f"h = {h}")
ax.set_xlabel("iteration")
ax.set_ylabel("|E - E_exact| / |E_exact|")
ax.set_title(f"TFIM chain, N = {N}, RBM alpha = 1, SR")
ax.legend(fontsize=8)
plt.show()
