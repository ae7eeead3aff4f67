"""Optimization to exact energies, the interacting benchmark, divergence, Ctrl-C, files."""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import vmc
from mccore.errors import (DivergenceError, FileFormatError, InvalidParameterError,
                            IsingRBMWarning, OutputExistsError)
from vmc import VMC, VMCResult, make_optimizer
from vmc.trap import Hamiltonian, Wavefunction, make_sampler


def _initial_energy(result):
    return result.history["energy"][0]


@pytest.mark.parametrize("sampler", ["metropolis", "importance", "gibbs"])
@pytest.mark.parametrize("n_particles", [1, 2])
@pytest.mark.parametrize("n_dims", [1, 2, 3])
def test_free_particles_reach_exact_energy(sampler, n_particles, n_dims):
    """From random parameters (scale 0.3, initial E - E0 > 0.01) SR reaches
    E0 = N D omega / 2 within 1e-4 and var(E_L) < 1e-6."""
    omega = 0.8
    exact = n_particles * n_dims * omega / 2
    result = vmc.run(n_particles, n_dims, omega=omega, sampler=sampler, optimizer="sr",
                     n_iterations=80, n_samples=2000, init_scale=0.3, rng=100 + n_dims,
                     n_threads=1)
    assert result.exact == exact
    assert _initial_energy(result) - exact > 0.01
    assert abs(result.energy.mean - exact) < 1e-4, result.energy
    assert result.variance < 1e-6
    assert result.status == "complete" and result.iterations == 80


def test_full_form_reaches_exact_energy():
    result = vmc.run(2, 2, omega=1.3, form="full", sampler="metropolis", n_iterations=80,
                     n_samples=2000, init_scale=0.3, rng=5, n_threads=1)
    assert abs(result.energy.mean - 2.6) < 1e-4 and result.variance < 1e-6


@pytest.mark.parametrize("seed", [6, 7, 8])
def test_sgd_reaches_exact_energy(seed):
    """SGD reaches E0 = N D omega / 2 = 2 (N = D = 2, omega = 1, M = 2 hidden units).

    The step is chosen from the stability analysis (vmc.trap.sgd_stable_rate):
    near the minimum the Hessian's largest eigenvalue is omega^2 (1 + sum_j s(b_j)^2)
    <= omega^2 (1 + M) = 3, so lr = 0.5 keeps lr * lambda_max <= 1.5, a 25 % margin
    below the bound 2 for every value of the flat, drifting b. (The old lr = 1.0 was
    stable only while sum_j s(b_j)^2 < 1: seeds 7 and 8 diverge with it, seed 6 on
    other library versions.) Several seeds: the physics, not one trajectory. With the
    4000 final samples the blocking error is < 3e-4, so a bias of 1.2e-3 fails."""
    lr = 0.5
    assert lr * 3 <= 0.75 * 2 and vmc.trap.sgd_stable_rate(1.0, 2) == pytest.approx(2 / 3)
    result = vmc.run(2, 2, optimizer="sgd", learning_rate=lr, sampler="importance",
                     n_iterations=300, n_samples=1000, init_scale=0.3, rng=seed, n_threads=1)
    assert _initial_energy(result) - 2.0 > 0.01
    assert result.energy.error < 3e-4
    assert abs(result.energy.mean - 2.0) < 4 * result.energy.error, result.energy
    assert result.variance < 1e-3 and result.variance < result.history["variance"][0] / 100


def test_sgd_hessian_bound_matches_quadrature():
    """The stability analysis behind sgd_stable_rate, checked independently: the Hessian
    of the quadrature energy (1 particle, 1D, omega = 1.3, a = W = 0, b = (-1, 2)) by
    central finite differences has largest eigenvalue omega^2 (1 + sum_j s(b_j)^2) and
    is flat along b."""
    omega = 1.3
    wf = Wavefunction(1, 1, n_hidden=2, omega=omega, rng=3)
    ham = Hamiltonian(1, 1, omega=omega)
    grid = np.linspace(-8, 8, 16001)
    p0 = np.zeros(wf.n_params)
    names = wf.parameter_names()
    b_index = [i for i, n in enumerate(names) if n.startswith("b")]
    p0[b_index] = [-1.0, 2.0]

    def energy(params):
        wf.params = params
        rho = np.exp(2 * wf.log_psi(grid[:, None]))
        e = ham.local_energy(wf, grid[:, None])
        return np.trapezoid(rho * e, grid) / np.trapezoid(rho, grid)

    h = 1e-3
    n = wf.n_params
    hess = np.empty((n, n))
    for k in range(n):
        for m in range(n):
            d = np.zeros(n)
            d2 = np.zeros(n)
            d[k] = h
            d2[m] = h
            hess[k, m] = (energy(p0 + d + d2) - energy(p0 + d - d2) - energy(p0 - d + d2)
                          + energy(p0 - d - d2)) / (4 * h * h)
    s = 1 / (1 + np.exp(-p0[b_index]))
    expected = omega**2 * (1 + np.sum(s**2))
    assert np.max(np.linalg.eigvalsh((hess + hess.T) / 2)) == pytest.approx(expected, rel=1e-3)
    assert np.max(np.abs(hess[np.ix_(b_index, b_index)])) < 1e-4


def test_adam_gets_within_1e3():
    """Adam (decaying rate) gets within 1e-3 but, unlike SR and SGD, not to variance 1e-6
    in 400 iterations: it escapes along the flat valley b -> -inf (hidden units off)
    instead of W -> 0."""
    result = vmc.run(2, 2, optimizer="adam", learning_rate=0.2, sampler="importance",
                     n_iterations=400, n_samples=1000, init_scale=0.3, rng=6, n_threads=1)
    assert _initial_energy(result) - 2.0 > 0.01
    assert abs(result.energy.mean - 2.0) < 1e-3, result.energy
    assert result.variance < 1e-3


def test_gibbs_with_sigma_one_cannot_reach_ground_state():
    """Psi = sqrt(F) with sigma = 1: |Psi|^2 has width 1 at W = 0 (energy 0.625 N D),
    the RBM cannot narrow it enough; the energy stays near 0.625 N D, far above 0.5 N D."""
    result = vmc.run(1, 2, sampler="gibbs", sigma=1.0, n_iterations=60, n_samples=2000,
                     rng=7, n_threads=1)
    assert result.energy.mean > 0.6 * 2
    assert result.energy.mean < 0.625 * 2 + 4 * result.energy.error


@pytest.mark.slow
def test_two_electrons_2d_with_jastrow():
    """Taut's exact 3.0 (N=2, D=2, omega=1). RBM x Pade-Jastrow, target 3.0000-3.0002
    (reference implementation 3.00003(1), literature 3.00002(2)): variational, so
    E >= 3 - 4 sigma, and E - 3 < 2e-4. 300 iterations x 10^4 samples, 4 x 10^5 final
    samples (sigma ~ 3e-5, so a bias of 2e-4 = 7 sigma fails)."""
    result = vmc.run(2, 2, interaction="coulomb", jastrow="pade", n_iterations=300,
                     n_samples=10_000, n_final_samples=400_000, rng=11, n_threads=1)
    assert result.exact == 3.0
    assert result.energy.error < 4e-5
    assert result.energy.mean > 3.0 - 4 * result.energy.error, result.energy
    assert result.energy.mean - 3.0 < 2e-4, result.energy
    assert not result.notes


@pytest.mark.slow
def test_two_electrons_2d_rbm_only_between_bounds():
    """Without the cusp: above 3 (variational, no cusp) and well below the best product of
    Gaussians 2 + sqrt(pi/2) = 3.2533 (the RBM's W = 0, a = 0 state)."""
    result = vmc.run(2, 2, interaction="coulomb", n_iterations=150, n_samples=5000,
                     n_final_samples=80_000, rng=12, n_threads=1)
    assert result.energy.mean - 3.0 > 0.02
    assert result.energy.mean < 2 + math.sqrt(math.pi / 2) - 0.1
    assert result.notes and "unreliable" in result.notes[0]


def test_same_seed_same_result_and_thread_independent():
    kw = dict(n_iterations=5, n_samples=500, init_scale=0.3, rng=3)
    a = vmc.run(2, 2, n_threads=1, **kw)
    b = vmc.run(2, 2, n_threads=2, **kw)
    np.testing.assert_array_equal(a.params, b.params)
    np.testing.assert_array_equal(a.local_energy, b.local_energy)
    assert a.energy == b.energy


def test_divergence_keeps_last_good_parameters():
    with pytest.raises(DivergenceError, match="smaller learning rate") as info:
        vmc.run(2, 2, optimizer="sgd", learning_rate=1e6, n_iterations=50, n_samples=500,
                init_scale=0.3, rng=4, n_threads=1)
    err = info.value
    assert np.all(np.isfinite(err.last_good_params))
    partial = err.partial_result
    assert partial.status == "diverged"
    np.testing.assert_array_equal(partial.params, err.last_good_params)


def test_ctrl_c_returns_partial_result():
    def interrupt(step):
        if step.step == 3:
            raise KeyboardInterrupt

    result = vmc.run(1, 1, n_iterations=50, n_samples=500, rng=4, callback=interrupt,
                     n_threads=1)
    assert result.status == "interrupted"
    assert result.iterations == 3
    assert np.isfinite(result.energy.mean)
    assert len(result.history["energy"]) == 3


def test_callback_can_stop_early():
    result = vmc.run(1, 1, n_iterations=50, n_samples=500, rng=4, n_threads=1,
                     callback=lambda step: step.step == 5)
    assert result.iterations == 5 and result.status == "complete"


def test_sr_matrix_is_covariance_of_log_derivatives(rng):
    O = rng.normal(size=(400, 6)) + 3.0
    Oc = O - O.mean(axis=0)
    sr = make_optimizer("sr", 0.1, diag_shift=0.0)
    np.testing.assert_allclose(sr.s_matrix(Oc), np.cov(O, rowvar=False, bias=True), rtol=1e-12)
    grad = rng.normal(size=6)
    delta = make_optimizer("sr", 0.1, diag_shift=0.01).step(grad, Oc)
    np.testing.assert_allclose((np.cov(O, rowvar=False, bias=True) + 0.01 * np.eye(6)) @ delta,
                               -0.1 * grad, rtol=1e-9)


def test_adam_and_sgd_descend():
    grad = np.array([1.0, -2.0])
    assert np.all(make_optimizer("sgd", 0.1).step(grad) == -0.1 * grad)
    delta = make_optimizer("adam", 0.01).step(grad)
    np.testing.assert_allclose(delta, -0.01 * np.sign(grad), rtol=1e-6)


def test_driver_gradient_matches_finite_difference_of_energy():
    """2(<E_L O> - <E_L><O>) vs the change of the quadrature energy (1D, one particle)."""
    wf = Wavefunction(1, 1, n_hidden=2, init_scale=0.5, rng=3)
    ham = Hamiltonian(1, 1)
    grid = np.linspace(-9, 9, 40001)

    def energy(params):
        wf.params = params
        rho = np.exp(2 * wf.log_psi(grid[:, None]))
        return np.trapezoid(rho * ham.local_energy(wf, grid[:, None]), grid) / np.trapezoid(rho, grid)

    p0 = wf.params.copy()
    wf.params = p0
    rho = np.exp(2 * wf.log_psi(grid[:, None]))
    w = rho / rho.sum()
    driver = VMC(ham, wf, make_sampler("metropolis", 1), make_optimizer("sr"))
    # weighted statistics via the driver's formula on the grid
    e = ham.local_energy(wf, grid[:, None])
    O = wf.log_psi_param_grad(grid[:, None])
    grad = 2 * (w @ (e[:, None] * O) - (w @ e) * (w @ O))
    for k in range(wf.n_params):
        h = 1e-5
        up, down = p0.copy(), p0.copy()
        up[k] += h
        down[k] -= h
        fd = (energy(up) - energy(down)) / (2 * h)
        assert abs(grad[k] - fd) < 1e-6 + 1e-5 * abs(fd), (k, grad[k], fd)
    assert driver.wavefunction is wf


def test_result_file_round_trip(tmp_path):
    result = vmc.run(2, 2, interaction="coulomb", jastrow="pade", n_iterations=4,
                     n_samples=500, rng=8, n_threads=1)
    path = result.save(tmp_path / "r.h5")
    back = VMCResult.load(path)
    assert back.energy == result.energy
    assert back.parameters == result.parameters
    assert back.parameter_names == result.parameter_names
    np.testing.assert_array_equal(back.params, result.params)
    for key in result.history:
        np.testing.assert_array_equal(back.history[key], result.history[key])
    np.testing.assert_array_equal(back.local_energy, result.local_energy)
    assert back.to_dict() == result.to_dict()
    with pytest.raises(OutputExistsError):
        result.save(path)


def test_foreign_files_are_refused(foreign_files):
    text, other = foreign_files
    with pytest.raises(FileFormatError, match="notes.h5"):
        VMCResult.load(text)
    with pytest.raises(FileFormatError, match="format"):
        VMCResult.load(other)


@pytest.mark.parametrize("kwargs,match", [
    (dict(n_particles=0, n_dims=2), "n_particles"),
    (dict(n_particles=1, n_dims=4), "n_dims"),
    (dict(n_particles=1, n_dims=2, omega=-1.0), "omega"),
    (dict(n_particles=1, n_dims=2, n_hidden=0), "n_hidden"),
    (dict(n_particles=1, n_dims=2, sampler="hmc"), "sampler"),
    (dict(n_particles=1, n_dims=2, optimizer="lbfgs"), "optimizer"),
    (dict(n_particles=2, n_dims=2, jastrow="pade"), "coulomb"),
    (dict(n_particles=2, n_dims=1, interaction="coulomb"), "coulomb"),
    (dict(n_particles=2, n_dims=2, interaction="coulomb", jastrow="pade", sampler="gibbs"),
     "gibbs"),
])
def test_run_validates(kwargs, match):
    n, d = kwargs.pop("n_particles"), kwargs.pop("n_dims")
    with pytest.raises(InvalidParameterError, match=match):
        vmc.run(n, d, n_iterations=1, n_samples=100, rng=0, **kwargs)


@pytest.mark.slow
def test_rbm_only_energy_matches_iid_draws_from_the_exact_mixture():
    """Independent route to <H>: |Psi|^2 = the RBM marginal is a Gaussian mixture
    (rbm.GaussianBernoulliRBM.mixture), so draw 10^6 iid samples from it and average
    1/2 |grad log Psi|^2 + V (the kinetic energy by parts, no Laplacian). 3D, omega = 1/2,
    where <1/r^2> is finite and error bars are reliable. Within 4 combined sigma."""
    result = vmc.run(2, 3, omega=0.5, interaction="coulomb", n_iterations=60, n_samples=5000,
                     n_final_samples=200_000, rng=13, n_threads=1)
    wf = Wavefunction(2, 3, n_hidden=2, omega=0.5, rng=0)
    wf.params = result.params
    weights, means, sigma = wf.rbm.mixture()
    rng = np.random.default_rng(99)
    n = 1_000_000
    x = means[rng.choice(weights.size, size=n, p=weights)] + sigma * rng.standard_normal((n, 6))
    g = wf.grad_log_psi(x)
    e = 0.5 * np.sum(g * g, axis=1) + Hamiltonian(2, 3, omega=0.5,
                                                   interaction="coulomb").potential(x)
    err = e.std() / math.sqrt(n)
    assert abs(result.energy.mean - e.mean()) < 4 * math.hypot(result.energy.error, err)
    assert result.energy.error < 2e-3
    assert 2.0 < result.energy.mean < 2.06  # above the exact 2 (no cusp), optimized


@settings(max_examples=40, deadline=None)
@given(n=st.integers(-3, 3), d=st.integers(-1, 5),
       omega=st.one_of(st.floats(-2, 0), st.just(float("nan")), st.just(float("inf"))),
       hidden=st.integers(-2, 0))
def test_invalid_settings_always_raise(n, d, omega, hidden):
    """Any of N < 1, D outside 1..3, omega <= 0 / nan / inf, hidden < 1 is refused."""
    with pytest.raises(InvalidParameterError):
        vmc.run(n, d, omega=omega, n_hidden=hidden, n_iterations=1, n_samples=10, rng=0)
    with pytest.raises(InvalidParameterError):
        vmc.run(1, 1, omega=omega, n_iterations=1, n_samples=10, rng=0)
    with pytest.raises(InvalidParameterError):
        vmc.run(1, 1, n_hidden=hidden, n_iterations=1, n_samples=10, rng=0)


def test_sr_warns_when_samples_do_not_exceed_parameters():
    with pytest.warns(IsingRBMWarning, match="n_samples"):
        vmc.run(2, 3, n_hidden=4, n_iterations=2, n_samples=16, n_walkers=16, rng=0,
                n_threads=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", IsingRBMWarning)
        vmc.run(1, 1, n_iterations=2, n_samples=500, rng=0, n_threads=1)


# ------------------------------------------------------------ issue 11: rng, resume
def test_generator_rng_records_a_seed_that_reproduces_the_run():
    """A Generator yields one drawn int seed (mccore.rng.seed_sequence), recorded; that
    recorded seed reruns the same numbers."""
    kw = dict(n_iterations=3, n_samples=400, rng=None, n_threads=1)
    kw["rng"] = np.random.default_rng(42)
    a = vmc.run(1, 2, **kw)
    seed = a.parameters["seed"]
    assert isinstance(seed, int) and seed >= 0
    kw["rng"] = seed
    b = vmc.run(1, 2, **kw)
    np.testing.assert_array_equal(a.params, b.params)
    assert a.energy == b.energy
    fresh = vmc.run(1, 2, n_iterations=1, n_samples=100, rng=None, n_threads=1)
    assert isinstance(fresh.parameters["seed"], int)


@pytest.mark.parametrize("optimizer", ["sr", "adam", "sgd"])
def test_interrupted_run_resumes_to_the_uninterrupted_result(tmp_path, optimizer):
    """Ctrl-C after 4 of 9 iterations leaves a checkpoint; resuming gives exactly the
    numbers of the uninterrupted run (walkers, streams and optimizer moments restored)."""
    kw = dict(optimizer=optimizer, n_iterations=9, n_samples=300, init_scale=0.3, rng=21,
              n_threads=1)
    whole = vmc.run(2, 2, **kw)
    ck = tmp_path / "run.checkpoint"

    def interrupt(step):
        if step.step == 4:
            raise KeyboardInterrupt

    partial = vmc.run(2, 2, checkpoint=ck, checkpoint_every=3, callback=interrupt, **kw)
    assert partial.status == "interrupted" and partial.iterations == 4
    assert VMCResult.load(ck).iterations == 4
    resumed = vmc.run(2, 2, checkpoint=ck, resume=True, **dict(kw, rng=None))
    assert resumed.iterations == 9 and resumed.parameters["seed"] == 21
    np.testing.assert_array_equal(resumed.params, whole.params)
    np.testing.assert_array_equal(resumed.local_energy, whole.local_energy)
    np.testing.assert_array_equal(resumed.history["energy"], whole.history["energy"])


def test_finished_run_extends_and_settings_must_match(tmp_path):
    """A finished run resumes to more iterations (SR keeps no state, so 6 then 10 equals a
    10-iteration run); a changed model-defining setting is refused with its name."""
    kw = dict(n_samples=300, init_scale=0.3, rng=5, n_threads=1)
    ck = tmp_path / "c.h5"
    first = vmc.run(1, 2, n_iterations=6, checkpoint=ck, **kw)
    assert first.status == "complete" and VMCResult.load(ck).iterations == 6
    extended = vmc.run(1, 2, n_iterations=10, checkpoint=ck, resume=True, **kw)
    direct = vmc.run(1, 2, n_iterations=10, **kw)
    assert extended.iterations == 10
    np.testing.assert_array_equal(extended.params, direct.params)
    with pytest.raises(InvalidParameterError, match="hidden was 2, now 3"):
        vmc.run(1, 2, n_iterations=12, n_hidden=3, checkpoint=ck, resume=True, **kw)
    # the one resume-seed rule (mccore.training.resume_seed), as fit and gan fit
    with pytest.raises(InvalidParameterError,
                       match=r"^rng must match the interrupted run's seed 5 to resume, got 6$"):
        vmc.run(1, 2, n_iterations=12, checkpoint=ck, resume=True, **dict(kw, rng=6))
    # resume without a checkpoint starts fresh
    fresh = vmc.run(1, 2, n_iterations=6, checkpoint=tmp_path / "none.h5", resume=True, **kw)
    np.testing.assert_array_equal(fresh.params, first.params)


def test_omega_range_is_stated_and_enforced():
    """Issue 10 #14: omega = 1e-300 squares to 0 (it printed 1.61e-300 +- 0)."""
    for omega in (1e-300, 1e300, 1e-4, 2e3):
        with pytest.raises(InvalidParameterError, match=r"omega must be a number in \[0.001, 1000\]"):
            vmc.run(1, 1, omega=omega, n_iterations=1, n_samples=10, rng=0)


def test_memory_estimate_refuses_huge_runs():
    with pytest.raises(InvalidParameterError, match="memory"):
        vmc.run(1, 1, n_walkers=10**10, n_iterations=1, n_samples=10, rng=0)
    with pytest.raises(InvalidParameterError, match="memory"):
        vmc.run(1, 1, n_hidden=10**9, n_iterations=1, n_samples=10, rng=0)


def test_stuck_trap_walkers_make_an_unhealthy_result():
    """A Metropolis step of 1e4 trap widths (no burn-in to tune it) is never accepted:
    the result says "unhealthy" with the reason, never "complete"."""
    wf = Wavefunction(2, 2, n_hidden=2, init_scale=0.1, rng=1)
    sampler = make_sampler("metropolis", 8, step=1e4, n_burn_in=0, rng=2)
    result = VMC(Hamiltonian(2, 2), wf, sampler, make_optimizer("sr")).run(
        0, n_samples=800, n_final_samples=800)
    assert result.status == "unhealthy"
    assert result.acceptance < 1e-3
    assert any("stuck" in p for p in result.health["problems"])
    assert "UNHEALTHY RESULT" in result.summary()


def test_health_checks():
    from vmc.health import assess

    rng = np.random.default_rng(0)
    mixed = rng.normal(size=(8, 100))
    assert assess(mixed, 0.5, 0.01)["ok"]
    # an exact eigenstate: constant E_L, any R-hat, zero error: healthy unless suspect
    assert assess(np.full((8, 100), 2.0), 0.5, 0.0)["ok"]
    assert not assess(np.full((8, 100), 2.0), 0.5, 0.0, zero_error_suspect=True)["ok"]
    # chains that disagree
    shifted = mixed + np.arange(8)[:, None]
    assert any("R-hat" in p for p in assess(shifted, 0.5, 0.01)["problems"])
    # fewer accepted moves per walker than one per site in 100 sweeps
    assert not assess(mixed, 0.009, 0.01)["ok"] and assess(mixed, 0.011, 0.01)["ok"]
    assert not assess(mixed, 0.5, float("nan"))["ok"]
