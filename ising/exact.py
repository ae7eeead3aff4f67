"""Exact results for the 2D Ising model on the square lattice.

Conventions: ferromagnetic coupling J = 1, k_B = 1, zero field; the energy is
``E = -sum_<ij> s_i s_j`` over the 2N bonds of the periodic L x L lattice
(each site with its right and lower neighbour; for L = 2 each neighbouring
pair is joined by two bonds). Intensive quantities are *per spin*; the
specific heat is ``c = beta^2 (<E^2> - <E>^2) / N``, the susceptibility
``chi = beta (<M^2> - <|M|>^2) / N`` (key ``susceptibility_connected``; the
one the tables and plots call chi, finite on both sides of T_c) and
``beta <M^2> / N`` (key ``susceptibility``), the Binder cumulant
``U4 = 1 - <M^4> / (3 <M^2>^2)``.

Three families of results:

* Onsager's infinite-lattice solution (``onsager_*``) and Yang's spontaneous
  magnetization, vectorized over T;
* the exact partition function of the finite L x L torus (Kaufman 1949,
  Ferdinand & Fisher 1969), :func:`finite_lattice`, exact for every L >= 2;
* brute-force enumeration of all ``2^(L*L)`` states for L <= 4
  (:func:`enumerate_states`, :func:`exact_enumeration`,
  :func:`boltzmann_distribution`).

References
----------
L. Onsager, Phys. Rev. 65, 117 (1944); C. N. Yang, Phys. Rev. 85, 808 (1952);
B. Kaufman, Phys. Rev. 76, 1232 (1949); A. E. Ferdinand and M. E. Fisher,
Phys. Rev. 185, 832 (1969).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from scipy import integrate, special

from mccore.errors import InvalidParameterError

__all__ = [
    "T_C", "BETA_C", "MAX_ENUMERATION_L",
    "onsager_energy", "onsager_specific_heat", "onsager_free_energy",
    "spontaneous_magnetization", "finite_lattice", "enumerate_states",
    "exact_enumeration", "boltzmann_distribution",
]

#: Critical temperature of the infinite square lattice, ``2 / ln(1 + sqrt 2)``.
T_C = 2.0 / math.log(1.0 + math.sqrt(2.0))
#: Critical inverse temperature ``ln(1 + sqrt 2) / 2``.
BETA_C = 1.0 / T_C
#: Largest L for which all ``2^(L*L)`` states are enumerated.
MAX_ENUMERATION_L = 4


# --------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------

def _check_temperature(T) -> np.ndarray:
    arr = np.asarray(T, dtype=np.float64)
    if not np.all(np.isfinite(arr) & (arr > 0)):
        raise InvalidParameterError(f"T must be a finite number > 0, got {T!r}")
    return arr


def _check_size(L, max_L: int | None = None) -> int:
    if isinstance(L, (bool, np.bool_)) or not isinstance(L, (int, np.integer)) or L < 2:
        raise InvalidParameterError(f"L must be an integer >= 2, got {L!r}")
    if max_L is not None and L > max_L:
        raise InvalidParameterError(
            f"L must be an integer in [2, {max_L}] for exact enumeration, got {L!r}")
    return int(L)


def _scalar_or_array(value: np.ndarray, like: np.ndarray):
    return float(value) if like.ndim == 0 else value


# --------------------------------------------------------------------------
# Onsager (infinite lattice)
# --------------------------------------------------------------------------

def _onsager_parts(T):
    T = _check_temperature(T)
    K = 1.0 / T
    s2, c2 = np.sinh(2 * K), np.cosh(2 * K)
    kappa = np.minimum(2.0 * s2 / c2**2, 1.0)   # elliptic modulus, <= 1
    t2 = np.tanh(2 * K) ** 2
    return T, K, s2, c2, kappa, t2


def onsager_energy(T):
    """Internal energy per spin of the infinite lattice (Onsager).

    Parameters
    ----------
    T : float or array_like
        Temperature(s) > 0 (k_B = J = 1).

    Returns
    -------
    e : float or ndarray
        ``e = -coth(2K) [1 + (2/pi) (2 tanh^2(2K) - 1) K1(kappa)]`` with
        ``K = 1/T``, ``kappa = 2 sinh(2K) / cosh^2(2K)`` and ``K1`` the
        complete elliptic integral of the first kind. ``e(T_c) = -sqrt 2``.
    """
    T, K, s2, c2, kappa, t2 = _onsager_parts(T)
    factor = 2.0 * t2 - 1.0
    with np.errstate(invalid="ignore"):
        ell = special.ellipk(kappa**2)             # scipy takes m = kappa^2
        term = np.where((factor == 0.0) | (kappa >= 1.0), 0.0, factor * ell)
    e = -(c2 / s2) * (1.0 + (2.0 / np.pi) * term)
    return _scalar_or_array(e, T)


def onsager_specific_heat(T):
    """Specific heat per spin of the infinite lattice (Onsager).

    Returns
    -------
    c : float or ndarray
        ``c = -K^2 de/dK`` with ``e`` of :func:`onsager_energy`, differentiated
        analytically (``dK1/dkappa = E1 / (kappa (1 - kappa^2)) - K1 / kappa``,
        ``K1``, ``E1`` complete elliptic integrals of the first and second
        kind); ``inf`` at exactly T_c, where c diverges logarithmically.
    """
    T, K, s2, c2, kappa, t2 = _onsager_parts(T)
    t = np.sqrt(t2)
    coth = c2 / s2
    g = 2.0 * t2 - 1.0
    dcoth = -2.0 / s2**2
    dg = 8.0 * t * (1.0 - t2)
    dkappa = 4.0 * (c2**2 - 2.0 * s2**2) / c2**3
    m = kappa**2
    with np.errstate(invalid="ignore", divide="ignore"):
        k1 = special.ellipk(m)
        e1 = special.ellipe(m)
        dk1 = e1 / (kappa * (1.0 - m)) - k1 / kappa
        de = (-dcoth * (1.0 + (2.0 / np.pi) * g * k1)
              - coth * (2.0 / np.pi) * (dg * k1 + g * dk1 * dkappa))
        c = -K**2 * de
    c = np.where(m >= 1.0, np.inf, c)
    return _scalar_or_array(c, T)


def onsager_free_energy(T):
    """Free energy per spin of the infinite lattice (Onsager).

    Returns
    -------
    f : float or ndarray
        ``-beta f = ln(2 cosh 2K) + (1/pi) int_0^{pi/2}
        ln[(1 + sqrt(1 - kappa^2 sin^2 theta)) / 2] dtheta``, evaluated by
        adaptive quadrature (scipy.integrate.quad, relative accuracy 1e-13).
    """
    T, K, s2, c2, kappa, t2 = _onsager_parts(T)
    out = np.empty(T.shape, dtype=np.float64)
    for idx in np.ndindex(T.shape):
        k2 = float(kappa[idx]) ** 2

        def integrand(theta, k2=k2):
            return math.log(0.5 * (1.0 + math.sqrt(max(0.0, 1.0 - k2 * math.sin(theta) ** 2))))

        value, _ = integrate.quad(integrand, 0.0, math.pi / 2, epsabs=1e-14, epsrel=1e-13,
                                  limit=200)
        minus_beta_f = math.log(2.0 * float(c2[idx])) + value / math.pi
        out[idx] = -float(T[idx]) * minus_beta_f
    return _scalar_or_array(out, T)


def spontaneous_magnetization(T):
    """Spontaneous magnetization per spin (Yang 1952), infinite lattice.

    Returns
    -------
    m : float or ndarray
        ``(1 - sinh(2/T)^-4)^(1/8)`` for ``T < T_c``, 0 for ``T >= T_c``.
    """
    T = _check_temperature(T)
    with np.errstate(over="ignore"):
        base = 1.0 - np.sinh(2.0 / T) ** -4.0
    m = np.where(T < T_C, np.clip(base, 0.0, None) ** 0.125, 0.0)
    return _scalar_or_array(m, T)


# --------------------------------------------------------------------------
# exact finite torus (Kaufman / Ferdinand-Fisher)
# --------------------------------------------------------------------------

def _log_2cosh(x):
    return np.logaddexp(x, -x)


def _log_2sinh(x):
    # x > 0 assumed
    return x + np.log(-np.expm1(-2.0 * x))


def _kaufman_one(L: int, K: float) -> tuple[float, float, float]:
    """ln Z, d lnZ/dK and d^2 lnZ/dK^2 of the L x L torus at coupling K."""
    n = m = L
    s2, c2 = math.sinh(2 * K), math.cosh(2 * K)
    # C(K) = cosh 2K coth 2K and its K-derivatives
    C = c2 * c2 / s2
    dC = 2.0 * c2 * (1.0 - 1.0 / s2**2)
    d2C = 4.0 * s2 - 4.0 / s2 + 8.0 * c2**2 / s2**3

    def gammas(ls):
        ls = np.asarray(ls, dtype=np.float64)
        ch = C - np.cos(np.pi * ls / n)            # cosh(gamma_l) > 1 for l >= 1
        g = np.arccosh(ch)
        sh = np.sinh(g)
        dg = dC / sh
        d2g = (d2C - ch * dg**2) / sh
        return g, dg, d2g

    # gamma_0 carries its sign: 2K + ln tanh K (< 0 above T_c, > 0 below)
    g0 = 2.0 * K + math.log(math.tanh(K))
    dg0 = 2.0 + 2.0 / s2
    d2g0 = -4.0 * c2 / s2**2

    odd = gammas(2 * np.arange(n) + 1)
    even = gammas(2 * np.arange(1, n))          # l = 2, 4, ..., 2n-2 (l = 0 apart)

    def log_product(g, dg, d2g, kind):
        """b, b', b'' of ln prod_r 2 f(m gamma_r / 2), f = cosh or sinh (args > 0)."""
        x, dx, d2x = 0.5 * m * g, 0.5 * m * dg, 0.5 * m * d2g
        # x >= m/2 arccosh(2 - cos(pi/n)) > 1 here; 1/cosh^2 = 4 e^-2x / (1 + e^-2x)^2
        q = np.exp(-2.0 * x)
        if kind == "cosh":
            b = np.sum(_log_2cosh(x))
            d1 = np.tanh(x)
            d2 = 4.0 * q / (1.0 + q) ** 2
        else:
            b = np.sum(_log_2sinh(x))
            d1 = 1.0 / np.tanh(x)
            d2 = -4.0 * q / (1.0 - q) ** 2
        return float(b), float(np.sum(d1 * dx)), float(np.sum(d2 * dx**2 + d1 * d2x))

    # Each Z_i = A_i(K) exp(b_i(K)); only Z_4 has a prefactor that may vanish
    # or be negative (2 sinh(m gamma_0 / 2)); Z_3's gamma_0 factor is a cosh.
    x0, dx0, d2x0 = 0.5 * m * g0, 0.5 * m * dg0, 0.5 * m * d2g0
    terms = []  # (A, A', A'', b, b', b'')
    terms.append((1.0, 0.0, 0.0) + log_product(*odd, "cosh"))
    terms.append((1.0, 0.0, 0.0) + log_product(*odd, "sinh"))
    b3 = log_product(*even, "cosh")
    l0 = float(_log_2cosh(x0))
    q0 = math.exp(-2.0 * abs(x0))
    t0, sech2 = math.tanh(x0), 4.0 * q0 / (1.0 + q0) ** 2
    terms.append((1.0, 0.0, 0.0, b3[0] + l0, b3[1] + t0 * dx0,
                  b3[2] + sech2 * dx0**2 + t0 * d2x0))
    b4 = log_product(*even, "sinh")
    # 2 sinh(x0) and its derivatives, scaled by exp(-|x0|) to stay finite
    scale = abs(x0)
    e_p, e_m = math.exp(x0 - scale), math.exp(-x0 - scale)
    sh0, ch0 = e_p - e_m, e_p + e_m               # 2 sinh x0, 2 cosh x0 times e^-|x0|
    terms.append((sh0, ch0 * dx0, sh0 * dx0**2 + ch0 * d2x0, b4[0] + scale, b4[1], b4[2]))

    ref = max(t[3] for t in terms)
    S = dS = d2S = 0.0
    for A, dA, d2A, b, db, d2b in terms:
        w = math.exp(b - ref)
        S += A * w
        dS += (dA + A * db) * w
        d2S += (d2A + 2.0 * dA * db + A * (d2b + db * db)) * w
    N = n * m
    log_z = -math.log(2.0) + 0.5 * N * math.log(2.0 * s2) + ref + math.log(S)
    dlog_z = N * c2 / s2 + dS / S
    d2log_z = -2.0 * N / s2**2 + d2S / S - (dS / S) ** 2
    return log_z, dlog_z, d2log_z


def finite_lattice(L: int, T) -> dict:
    """Exact thermodynamics of the periodic L x L lattice (Kaufman).

    Parameters
    ----------
    L : int
        Linear size, >= 2.
    T : float or array_like
        Temperature(s) > 0 (k_B = J = 1).

    Returns
    -------
    dict
        ``"energy"`` e = <E>/N, ``"specific_heat"`` c = beta^2 var(E)/N,
        ``"free_energy"`` f = -T ln Z / N (all per spin), and
        ``"log_partition"`` ln Z (total). Floats for scalar T, arrays otherwise.

    Notes
    -----
    With ``K = beta J`` (Ferdinand & Fisher 1969, eq. 2.1-2.5, n = m = L)::

        Z = 1/2 (2 sinh 2K)^(N/2) (Z1 + Z2 + Z3 + Z4)
        Z1 = prod_{r=0}^{L-1} 2 cosh(L gamma_{2r+1} / 2)
        Z2 = prod_{r=0}^{L-1} 2 sinh(L gamma_{2r+1} / 2)
        Z3 = prod_{r=0}^{L-1} 2 cosh(L gamma_{2r} / 2)
        Z4 = prod_{r=0}^{L-1} 2 sinh(L gamma_{2r} / 2)
        cosh gamma_l = cosh 2K coth 2K - cos(pi l / L)   (gamma_l > 0, l >= 1)
        gamma_0 = 2K + ln tanh K

    ``gamma_0`` keeps its sign (negative above T_c, zero at T_c, positive
    below), so Z4 changes sign at T_c. Everything is computed in log space
    (no overflow for any L), and e and c come from the analytic first and
    second K-derivatives of ln Z, so they are exact to rounding; the term
    ``2 sinh(L gamma_0 / 2)`` is kept as a prefactor (never divided by), which
    keeps c finite and accurate at and around T_c.
    """
    L = _check_size(L)
    T_arr = _check_temperature(T)
    flat = T_arr.ravel()
    out = {k: np.empty(flat.shape) for k in ("energy", "specific_heat", "free_energy",
                                             "log_partition")}
    N = L * L
    for i, t in enumerate(flat):
        K = 1.0 / float(t)
        log_z, d1, d2 = _kaufman_one(L, K)
        out["log_partition"][i] = log_z
        out["energy"][i] = -d1 / N
        out["specific_heat"][i] = K * K * d2 / N
        out["free_energy"][i] = -float(t) * log_z / N
    return {k: _scalar_or_array(v.reshape(T_arr.shape), T_arr) for k, v in out.items()}


# --------------------------------------------------------------------------
# exact enumeration (L <= 4)
# --------------------------------------------------------------------------

@lru_cache(maxsize=8)
def _enumerate(L: int) -> tuple[np.ndarray, np.ndarray]:
    N = L * L
    index = np.arange(2**N, dtype=np.int64)
    bits = (index[:, None] >> np.arange(N, dtype=np.int64)) & 1
    spins = (2 * bits - 1).astype(np.int8).reshape(-1, L, L)
    s = spins.astype(np.int64)
    bonds = s * np.roll(s, -1, axis=2) + s * np.roll(s, -1, axis=1)
    energies = -bonds.sum(axis=(1, 2)).astype(np.float64)
    magnetizations = s.sum(axis=(1, 2)).astype(np.float64)
    energies.flags.writeable = False
    magnetizations.flags.writeable = False
    return energies, magnetizations


def enumerate_states(L: int) -> tuple[np.ndarray, np.ndarray]:
    """Total energy and magnetization of every state of the L x L torus.

    Parameters
    ----------
    L : int
        2 <= L <= 4 (``2^(L*L)`` states, 65536 at L = 4).

    Returns
    -------
    energies, magnetizations : ndarray, shape (2^N,), float64
        Total ``E = -sum_<ij> s_i s_j`` (2N bonds) and ``M = sum_i s_i``.
        State ``i`` has spin ``+1`` at site ``k`` (row-major) iff bit ``k`` of
        ``i`` is set -- the same order as RBM visible units ``v_k = bit k``.
        The arrays are read-only (cached).
    """
    return _enumerate(_check_size(L, MAX_ENUMERATION_L))


def _log_weights(L: int, T: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    T = float(_check_temperature(T))
    energies, magnetizations = enumerate_states(L)
    log_w = -energies / T
    log_w = log_w - log_w.max()
    p = np.exp(log_w)
    p /= p.sum()
    return p, energies, magnetizations


def boltzmann_distribution(L: int, T: float) -> np.ndarray:
    """Exact Boltzmann probabilities of all ``2^(L*L)`` states (L <= 4).

    Returns
    -------
    p : ndarray, shape (2^N,), float64
        ``exp(-E_i / T) / Z`` in the state order of :func:`enumerate_states`.
    """
    return _log_weights(L, T)[0]


def exact_enumeration(L: int, T: float) -> dict:
    """Exact canonical averages by summing over all states (L <= 4).

    Returns
    -------
    dict of float
        Per spin: ``"energy"`` <E>/N, ``"abs_magnetization"`` <|M|>/N,
        ``"magnetization_squared"`` <M^2>/N^2, ``"specific_heat"``
        beta^2 (<E^2>-<E>^2)/N, ``"susceptibility"`` beta <M^2>/N,
        ``"susceptibility_connected"`` beta (<M^2>-<|M|>^2)/N, and the
        ``"binder_cumulant"`` 1 - <M^4>/(3 <M^2>^2); also ``"log_partition"``
        ln Z and ``"free_energy"`` -T ln Z / N.
    """
    p, E, M = _log_weights(L, T)
    T = float(T)
    beta = 1.0 / T
    N = L * L
    mean_e = float(p @ E)
    var_e = float(p @ (E - mean_e) ** 2)
    abs_m = float(p @ np.abs(M))
    m2 = float(p @ M**2)
    m4 = float(p @ M**4)
    log_w = -E / T
    top = log_w.max()
    log_z = float(top + np.log(np.sum(np.exp(log_w - top))))
    return {
        "energy": mean_e / N,
        "abs_magnetization": abs_m / N,
        "magnetization_squared": m2 / N**2,
        "specific_heat": beta**2 * var_e / N,
        "susceptibility": beta * m2 / N,
        "susceptibility_connected": beta * (m2 - abs_m**2) / N,
        "binder_cumulant": 1.0 - m4 / (3.0 * m2**2),
        "log_partition": log_z,
        "free_energy": -T * log_z / N,
    }
