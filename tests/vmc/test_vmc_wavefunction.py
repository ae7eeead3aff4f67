"""Exact math of the trial wavefunction and the local energy.

Analytic derivatives against central finite differences (with and without
interaction and Jastrow factor, both forms), the RBM marginal written out by
hand, zero variance at the exact free-particle parameters, and the Coulomb
cusp: with c = 1/(D-1) the local energy stays finite as two particles meet.
"""

import math

import numpy as np
import pytest

from mccore.errors import InvalidParameterError
from vmc.trap import Hamiltonian, Wavefunction, cusp_constant


def make_wf(n_particles, n_dims, *, form="sqrt", jastrow_a=None, seed=0, scale=0.5, n_hidden=3):
    return Wavefunction(n_particles, n_dims, n_hidden=n_hidden, omega=0.8, form=form,
                        jastrow_a=jastrow_a, beta=0.7, init_scale=scale, rng=seed)


CASES = [
    # (N, D, form, jastrow_a, interaction)
    (1, 1, "sqrt", None, "none"),
    (2, 2, "sqrt", None, "none"),
    (2, 3, "full", None, "coulomb"),
    (2, 2, "sqrt", 1.0, "coulomb"),
    (3, 3, "full", 0.5, "coulomb"),
    (3, 2, "sqrt", 1.0, "none"),
]


def positions(rng, wf, n=6):
    return rng.normal(scale=1.0, size=(n, wf.n_visible))


def test_log_psi_is_the_rbm_marginal_written_out(rng):
    """F(X) = exp(-sum (X-a)^2/(2 s^2)) prod_j (1 + exp(b_j + sum_i X_i W_ij / s^2)) (issue 4)."""
    for form, f in (("sqrt", 0.5), ("full", 1.0)):
        wf = make_wf(2, 2, form=form, jastrow_a=1.0, seed=3)
        x = positions(rng, wf)
        s2 = wf.sigma**2
        marginal = np.exp(-np.sum((x - wf.a) ** 2 / (2 * s2), axis=1)) * np.prod(
            1.0 + np.exp(wf.b + (x / s2) @ wf.W), axis=1)
        r = np.linalg.norm(x[:, :2] - x[:, 2:], axis=1)
        jastrow = 1.0 * r / (1.0 + wf.beta * r)
        np.testing.assert_allclose(wf.log_psi(x), f * np.log(marginal) + jastrow, rtol=1e-12)


def test_params_are_views_of_the_rbm(rng):
    wf = make_wf(2, 2, seed=1)
    x = positions(rng, wf)
    before = wf.log_psi(x)
    wf.params = wf.params + 0.1
    assert np.shares_memory(wf.params, wf.rbm.weights)
    np.testing.assert_allclose(wf.rbm.visible_bias, wf.a)
    np.testing.assert_allclose(-0.5 * wf.rbm.free_energy(x), wf.log_psi(x), rtol=1e-12)
    assert not np.allclose(before, wf.log_psi(x))


@pytest.mark.parametrize("N,D,form,ja,interaction", CASES)
def test_gradient_and_laplacian_vs_finite_differences(rng, N, D, form, ja, interaction):
    wf = make_wf(N, D, form=form, jastrow_a=ja, seed=N * 10 + D)
    x = positions(rng, wf)
    h = 1e-5
    g_fd = np.empty_like(x)
    lap_fd = np.zeros(x.shape[0])
    h2 = 1e-4
    f0 = wf.log_psi(x)
    for i in range(wf.n_visible):
        e = np.zeros(wf.n_visible)
        e[i] = h
        g_fd[:, i] = (wf.log_psi(x + e) - wf.log_psi(x - e)) / (2 * h)
        e[i] = h2
        lap_fd += (wf.log_psi(x + e) - 2 * f0 + wf.log_psi(x - e)) / h2**2
    np.testing.assert_allclose(wf.grad_log_psi(x), g_fd, rtol=1e-7, atol=1e-8)
    np.testing.assert_allclose(wf.laplacian_log_psi(x), lap_fd, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("N,D,form,ja,interaction", CASES)
def test_parameter_derivatives_vs_finite_differences(rng, N, D, form, ja, interaction):
    wf = make_wf(N, D, form=form, jastrow_a=ja, seed=N * 7 + D)
    x = positions(rng, wf)
    O = wf.log_psi_param_grad(x)
    assert O.shape == (x.shape[0], wf.n_params)
    p0 = wf.params.copy()
    h = 1e-6
    for k in range(wf.n_params):
        p = p0.copy()
        p[k] += h
        wf.params = p
        up = wf.log_psi(x)
        p[k] -= 2 * h
        wf.params = p
        down = wf.log_psi(x)
        wf.params = p0
        np.testing.assert_allclose(O[:, k], (up - down) / (2 * h), rtol=1e-6, atol=1e-8,
                                   err_msg=wf.parameter_names()[k])


@pytest.mark.parametrize("N,D,form,ja,interaction", CASES)
def test_local_energy_vs_finite_differences_of_psi(rng, N, D, form, ja, interaction):
    """E_L = -1/2 (nabla^2 Psi)/Psi + V with the Laplacian of Psi itself by differences."""
    wf = make_wf(N, D, form=form, jastrow_a=ja, seed=N * 5 + D)
    ham = Hamiltonian(N, D, omega=0.8, interaction=interaction)
    x = positions(rng, wf)
    h = 1e-4
    psi0 = np.exp(wf.log_psi(x))
    lap = np.zeros(x.shape[0])
    for i in range(wf.n_visible):
        e = np.zeros(wf.n_visible)
        e[i] = h
        lap += (np.exp(wf.log_psi(x + e)) - 2 * psi0 + np.exp(wf.log_psi(x - e))) / h**2
    r = 0.0
    if interaction == "coulomb":
        X = x.reshape(len(x), N, D)
        r = sum(1.0 / np.linalg.norm(X[:, p] - X[:, q], axis=1)
                for p in range(N) for q in range(p + 1, N))
    expected = -0.5 * lap / psi0 + 0.5 * 0.8**2 * np.sum(x * x, axis=1) + r
    np.testing.assert_allclose(ham.local_energy(wf, x), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("form", ["sqrt", "full"])
@pytest.mark.parametrize("N", [1, 2, 3])
@pytest.mark.parametrize("D", [1, 2, 3])
def test_local_energy_exactly_constant_at_exact_parameters(rng, form, N, D):
    omega = 1.7
    wf = Wavefunction(N, D, n_hidden=2, omega=omega, form=form, init_scale=0.5, rng=1)
    wf.set_free_particle_ground_state()
    ham = Hamiltonian(N, D, omega=omega)
    x = rng.normal(scale=2.0, size=(50, N * D))
    e = ham.local_energy(wf, x)
    np.testing.assert_allclose(e, N * D * omega / 2, rtol=0, atol=1e-12)
    assert ham.exact == N * D * omega / 2


def test_default_sigma_represents_the_ground_state():
    assert np.allclose(Wavefunction(1, 1, omega=2.0, form="sqrt").sigma ** 2, 1 / (2 * 2.0))
    assert np.allclose(Wavefunction(1, 1, omega=2.0, form="full").sigma ** 2, 1 / 2.0)


def test_sigma_one_with_sqrt_form_gives_0625_per_coordinate():
    """sqrt(F) with sigma = 1 and W = 0 is exp(-x^2/4): E = (1/8 + omega^2/2) per coordinate."""
    wf = Wavefunction(2, 2, omega=1.0, form="sqrt", sigma=1.0, rng=0)
    wf.set_free_particle_ground_state()
    x = np.random.default_rng(0).normal(size=(2000, 4))  # |Psi|^2 = exp(-x^2/2): N(0, 1)
    e = Hamiltonian(2, 2).local_energy(wf, x)
    assert abs(e.mean() - 0.625 * 4) < 5 * e.std() / math.sqrt(e.size)


@pytest.mark.parametrize("D", [2, 3])
def test_cusp_constant_cancels_the_coulomb_singularity(D):
    """Two particles at distance r -> 0: E_L stays bounded with c = 1/(D-1), diverges otherwise."""
    c = cusp_constant(D)
    assert c == {2: 1.0, 3: 0.5}[D]
    ham = Hamiltonian(2, D, interaction="coulomb")
    centre = np.array([0.3, -0.2, 0.1][:D])
    direction = np.array([1.0, 0.5, -0.3][:D])
    direction /= np.linalg.norm(direction)

    def e_local(a, r):
        wf = Wavefunction(2, D, n_hidden=2, jastrow_a=a, beta=0.8, init_scale=0.3, rng=4)
        x = np.concatenate([centre + 0.5 * r * direction, centre - 0.5 * r * direction])[None]
        return ham.local_energy(wf, x)[0]

    # with the cusp: E_L(r) has a finite limit (changes by O(r))
    assert abs(e_local(c, 1e-7) - e_local(c, 1e-5)) < 1e-3
    # a wrong constant leaves (1 - c'(D-1))/r: huge at r = 1e-7
    assert abs(e_local(1.5 * c, 1e-7) - e_local(1.5 * c, 1e-5)) > 1e5
    assert abs(e_local(None, 1e-7) - e_local(None, 1e-5)) > 1e5


def test_invalid_arguments():
    with pytest.raises(InvalidParameterError, match="n_particles"):
        Wavefunction(0, 2)
    with pytest.raises(InvalidParameterError, match="n_dims"):
        Wavefunction(1, 4)
    with pytest.raises(InvalidParameterError, match="omega"):
        Wavefunction(1, 1, omega=0.0)
    with pytest.raises(InvalidParameterError, match="n_hidden"):
        Wavefunction(1, 1, n_hidden=0)
    with pytest.raises(InvalidParameterError, match="form"):
        Wavefunction(1, 1, form="half")
    with pytest.raises(InvalidParameterError, match="coulomb"):
        Hamiltonian(2, 1, interaction="coulomb")
    with pytest.raises(InvalidParameterError, match="cusp"):
        cusp_constant(1)
