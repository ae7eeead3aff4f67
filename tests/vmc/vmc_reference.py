"""Slow references for the vmc kernels: the same algorithms, written plainly.

* :class:`Xoshiro` is xoshiro256** in Python integers (the kernels' stream).
* The samplers recompute ``log Psi`` and ``grad log Psi`` of the *whole*
  configuration with :class:`vmc.trap.Wavefunction` at every move (no incremental
  updates, no shared code with the kernels), drawing the same random numbers
  in the same order. Given the same stream they must produce the same chain.
"""

from __future__ import annotations

import math

import numpy as np

_MASK = (1 << 64) - 1


def _rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & _MASK


# Twin by design of vmc/streams.py (_next_u64, uniform): the same generator in Python integers
class Xoshiro:
    """xoshiro256** (Blackman & Vigna) on a 4-word state."""

    def __init__(self, state):
        self.s = [int(v) for v in state]

    def next(self) -> int:
        s = self.s
        result = (_rotl((s[1] * 5) & _MASK, 7) * 9) & _MASK
        t = (s[1] << 17) & _MASK
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = _rotl(s[3], 45)
        return result

    def uniform(self) -> float:
        return (self.next() >> 11) * (1.0 / 9007199254740992.0)

    def normal_pair(self):
        u1 = 1.0 - self.uniform()
        u2 = self.uniform()
        r = math.sqrt(-2.0 * math.log(u1))
        return r * math.cos(2.0 * math.pi * u2), r * math.sin(2.0 * math.pi * u2)


def _log_psi(wf, x):
    return float(wf.log_psi(x[None, :])[0])


def _one_particle_moves(wf, x0, state, n_steps, propose):
    """Moves of one particle at a time, in order, ``n_steps`` sweeps; ``propose(rng, x,
    sl)`` returns the trial ``y`` and log A(x -> y) for the particle's coordinates
    ``sl``; accepted if the next uniform draw is below ``exp(log A)``."""
    rng = Xoshiro(state)
    N, D = wf.n_particles, wf.n_dims
    x = np.array(x0, dtype=float)
    out, accepted = [], 0
    for _ in range(n_steps):
        for p in range(N):
            y, log_a = propose(rng, x, slice(p * D, (p + 1) * D))
            if rng.uniform() < math.exp(log_a):
                x = y
                accepted += 1
        out.append(x.copy())
    return np.array(out), accepted


def metropolis(wf, x0, state, step, n_steps):
    """Brute-force Metropolis of one walker; returns (positions (n_steps, n_visible), n_accepted)."""

    def propose(rng, x, sl):
        y = x.copy()
        for i in range(sl.start, sl.stop):
            y[i] = x[i] + step * (2.0 * rng.uniform() - 1.0)
        return y, 2.0 * (_log_psi(wf, y) - _log_psi(wf, x))

    return _one_particle_moves(wf, x0, state, n_steps, propose)


def importance(wf, x0, state, dt, n_steps):
    """Langevin Metropolis-Hastings of one walker (D_diffusion = 1/2, F = 2 grad log Psi)."""
    D = wf.n_dims

    def propose(rng, x, sl):
        force_x = 2.0 * wf.grad_log_psi(x[None, :])[0][sl]
        noise = []
        for _d in range(0, D, 2):
            noise.extend(rng.normal_pair())
        noise = np.array(noise[:D])
        y = x.copy()
        y[sl] = x[sl] + 0.5 * force_x * dt + math.sqrt(dt) * noise
        force_y = 2.0 * wf.grad_log_psi(y[None, :])[0][sl]
        # G(y|x) = exp(-(y - x - D dt F(x))^2 / (4 D dt)), D = 1/2
        log_g_fwd = -np.sum((y[sl] - x[sl] - 0.5 * dt * force_x) ** 2) / (2.0 * dt)
        log_g_back = -np.sum((x[sl] - y[sl] - 0.5 * dt * force_y) ** 2) / (2.0 * dt)
        return y, 2.0 * (_log_psi(wf, y) - _log_psi(wf, x)) + log_g_back - log_g_fwd

    return _one_particle_moves(wf, x0, state, n_steps, propose)


def gibbs(wf, x0, state, n_steps):
    """Block Gibbs of one walker through the RBM's own conditionals."""
    rng = Xoshiro(state)
    rbm = wf.rbm
    x = np.array(x0, dtype=float)
    out = []
    for _ in range(n_steps):
        p = rbm.hidden_probability(x[None, :])[0]
        h = np.array([1.0 if rng.uniform() < pj else 0.0 for pj in p])
        mean = rbm.visible_mean(h[None, :])[0]
        z = []
        for _i in range(0, x.size, 2):
            z.extend(rng.normal_pair())
        x = mean + rbm.sigma * np.array(z[:x.size])
        out.append(x.copy())
    return np.array(out)


def central_differences(wf, f, h):
    """``(f() at params + h e_k  -  f() at params - h e_k) / 2h`` for every parameter k,
    stacked on the last axis; the parameters are restored after."""
    p0 = wf.params.copy()
    out = []
    try:
        for k in range(wf.n_params):
            up, down = p0.copy(), p0.copy()
            up[k] += h
            down[k] -= h
            wf.params = up
            f_up = f()
            wf.params = down
            out.append((f_up - f()) / (2 * h))
    finally:
        wf.params = p0
    return np.stack(out, axis=-1)


def assert_log_derivatives_match_finite_differences(wf, spins, *, h, atol, rtol=1e-6):
    """``wf.log_psi_param_grad(spins)`` equals central differences of ``wf.log_psi``."""
    fd = central_differences(wf, lambda: wf.log_psi(spins), h)
    np.testing.assert_allclose(wf.log_psi_param_grad(spins), fd, rtol=rtol, atol=atol)


def exact_expectations(ham, wf, s):
    """Exact |psi|^2 weights ``p``, ``log psi``, energy, gradient ``2 <(E_L - E) O_c>``,
    metric ``S = <O_c O_c^T>`` and centred log-derivatives ``O_c`` over the basis ``s``."""
    lp = wf.log_psi(s)
    p = np.exp(2 * (lp - lp.max()))
    p /= p.sum()
    e = ham.local_energy(wf, s)
    O = wf.log_psi_param_grad(s)
    energy = p @ e
    O_c = O - p @ O
    grad = 2 * (p * (e - energy)) @ O_c
    S = (O_c * p[:, None]).T @ O_c
    return p, lp, energy, grad, S, O_c
