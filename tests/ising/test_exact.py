"""Exact results: Kaufman's finite torus vs brute-force enumeration, vs
Onsager/Yang for large L and the published values of REFERENCES.md."""

import math

import numpy as np
import pytest

from ising import exact
from mccore.errors import InvalidParameterError

TEMPERATURES = [0.5, 1.0, 1.5, 2.0, exact.T_C, 2.269, 2.5, 3.0, 5.0, 20.0]


def test_critical_temperature():
    assert exact.T_C == pytest.approx(2.269185314213022, abs=1e-14)
    assert math.sinh(2 / exact.T_C) == pytest.approx(1.0, abs=1e-14)


@pytest.mark.parametrize("L", [2, 3, 4])
def test_enumeration_basics(L):
    """Independent facts: 2^N states, two ground states at E = -2N, flip symmetry,
    and the documented state order (state 1 = only site 0 up)."""
    E, M = exact.enumerate_states(L)
    N = L * L
    assert E.shape == M.shape == (2**N,)
    assert E.min() == -2 * N and np.sum(E == -2 * N) == 2
    assert M[0] == -N and M[-1] == N and M[1] == 2 - N
    flipped = (2**N - 1) - np.arange(2**N)          # complementing all bits flips all spins
    np.testing.assert_array_equal(E[flipped], E)
    np.testing.assert_array_equal(M[flipped], -M)
    assert E.sum() == 0.0                            # every bond averages to zero


def test_enumeration_state_order_matches_visible_units():
    """State i <-> v_k = bit k of i, through the one spins<->visible conversion."""
    from ising.lattice import visible_to_spins
    L = 3
    E, M = exact.enumerate_states(L)
    idx = np.array([0, 1, 5, 37, 300, 511])
    bits = ((idx[:, None] >> np.arange(L * L)) & 1).astype(np.uint8)
    spins = visible_to_spins(bits, L).astype(np.int64)
    energy = -np.sum(spins * (np.roll(spins, -1, 1) + np.roll(spins, -1, 2)), axis=(1, 2))
    np.testing.assert_array_equal(E[idx], energy)
    np.testing.assert_array_equal(M[idx], spins.sum(axis=(1, 2)))


@pytest.mark.parametrize("L", [2, 3, 4])
@pytest.mark.parametrize("T", TEMPERATURES)
def test_kaufman_equals_enumeration(L, T):
    """ln Z, e, c and f of the Kaufman formula agree with enumeration to 1e-10."""
    kaufman = exact.finite_lattice(L, T)
    enum = exact.exact_enumeration(L, T)
    for key in ("log_partition", "energy", "specific_heat", "free_energy"):
        assert kaufman[key] == pytest.approx(enum[key], rel=1e-10, abs=1e-10), key


def test_boltzmann_distribution():
    L, T = 3, 2.0
    p = exact.boltzmann_distribution(L, T)
    E, _ = exact.enumerate_states(L)
    assert p.sum() == pytest.approx(1.0, abs=1e-14)
    i, j = int(np.argmin(E)), int(np.argmax(E))
    assert p[i] / p[j] == pytest.approx(math.exp(-(E[i] - E[j]) / T), rel=1e-12)
    Z = math.exp(exact.finite_lattice(L, T)["log_partition"])
    assert p[i] == pytest.approx(math.exp(-E[i] / T) / Z, rel=1e-10)


def test_enumeration_observable_definitions():
    """The per-spin conventions, checked on L = 2 by an explicit loop over 16 states."""
    L, T = 2, 1.7
    Es, Ms = [], []
    for i in range(16):
        s = np.array([1 if (i >> k) & 1 else -1 for k in range(4)]).reshape(2, 2)
        Es.append(-sum(s[r, c] * (s[r, (c + 1) % 2] + s[(r + 1) % 2, c])
                       for r in range(2) for c in range(2)))
        Ms.append(s.sum())
    Es, Ms = np.array(Es, float), np.array(Ms, float)
    w = np.exp(-Es / T)
    w /= w.sum()
    got = exact.exact_enumeration(L, T)
    avg = lambda x: float(w @ x)  # noqa: E731
    assert got["energy"] == pytest.approx(avg(Es) / 4, rel=1e-13)
    assert got["abs_magnetization"] == pytest.approx(avg(abs(Ms)) / 4, rel=1e-13)
    assert got["specific_heat"] == pytest.approx((avg(Es**2) - avg(Es) ** 2) / T**2 / 4, rel=1e-12)
    assert got["susceptibility"] == pytest.approx(avg(Ms**2) / T / 4, rel=1e-13)
    assert got["susceptibility_connected"] == pytest.approx(
        (avg(Ms**2) - avg(abs(Ms)) ** 2) / T / 4, rel=1e-12)
    assert got["binder_cumulant"] == pytest.approx(
        1 - avg(Ms**4) / (3 * avg(Ms**2) ** 2), rel=1e-13)


def test_published_values_at_T2():
    """REFERENCES.md: at T = 2.0, e = -1.745564575, m = 0.911319378, c = 0.724871."""
    assert exact.onsager_energy(2.0) == pytest.approx(-1.745564575, abs=1e-9)
    assert exact.spontaneous_magnetization(2.0) == pytest.approx(0.911319378, abs=1e-9)
    assert exact.onsager_specific_heat(2.0) == pytest.approx(0.724871, abs=1e-6)


@pytest.mark.parametrize("T", [1.0, 1.5, 2.0, 2.6, 3.0, 5.0])
def test_kaufman_large_L_equals_onsager(T):
    """Away from T_c finite-size corrections vanish exponentially: L = 512."""
    fin = exact.finite_lattice(512, T)
    assert fin["energy"] == pytest.approx(exact.onsager_energy(T), abs=1e-10)
    assert fin["specific_heat"] == pytest.approx(exact.onsager_specific_heat(T), rel=1e-8)
    # below T_c, ln Z contains ln 2 from the two ordered states: f differs by -T ln2 / N
    shift = -T * math.log(2) / 512**2 if T < exact.T_C else 0.0
    assert fin["free_energy"] == pytest.approx(exact.onsager_free_energy(T) + shift, abs=1e-9)


def test_critical_specific_heat_grows_logarithmically():
    """c(T_c, L) ~ (8/pi) K_c^2 ln L = 0.4945 ln L (Ferdinand & Fisher)."""
    slope = (8 / math.pi) * (1 / exact.T_C) ** 2
    assert slope == pytest.approx(0.4945, abs=1e-4)
    c256, c1024 = (exact.finite_lattice(L, exact.T_C)["specific_heat"] for L in (256, 1024))
    assert (c1024 - c256) / math.log(4) == pytest.approx(slope, abs=1e-3)
    assert exact.finite_lattice(4096, exact.T_C)["specific_heat"] > c1024   # no overflow


@pytest.mark.parametrize("T", [1.2, 2.0, 2.5, 4.0])
def test_onsager_derivatives(T):
    """c = de/dT and e = d(beta f)/d beta by central differences (h = 1e-5)."""
    h = 1e-5
    de_dT = (exact.onsager_energy(T + h) - exact.onsager_energy(T - h)) / (2 * h)
    assert exact.onsager_specific_heat(T) == pytest.approx(de_dT, rel=1e-7)
    bf = lambda b: b * exact.onsager_free_energy(1 / b)  # noqa: E731
    b = 1 / T
    assert exact.onsager_energy(T) == pytest.approx((bf(b + h) - bf(b - h)) / (2 * h), abs=1e-7)


@pytest.mark.parametrize("L", [5, 16, 64])
@pytest.mark.parametrize("T", [1.5, 2.269, 3.0])
def test_kaufman_specific_heat_is_the_energy_derivative(L, T):
    h = 1e-5
    e = lambda t: exact.finite_lattice(L, t)["energy"]  # noqa: E731
    assert exact.finite_lattice(L, T)["specific_heat"] == pytest.approx(
        (e(T + h) - e(T - h)) / (2 * h), rel=1e-6)


def test_limits_and_vectorization():
    T = np.array([0.5, 2.0, exact.T_C, 3.0])
    e = exact.onsager_energy(T)
    assert e.shape == (4,)
    assert e[0] == pytest.approx(-2.0, abs=1e-6)
    assert e[2] == pytest.approx(-math.sqrt(2), abs=1e-12)
    assert np.isinf(exact.onsager_specific_heat(exact.T_C))
    assert exact.spontaneous_magnetization(3.0) == 0.0
    assert exact.spontaneous_magnetization(0.5) == pytest.approx(1.0, abs=1e-6)
    fin = exact.finite_lattice(8, T)
    assert fin["energy"].shape == (4,)
    assert fin["energy"][1] == pytest.approx(exact.finite_lattice(8, 2.0)["energy"], abs=1e-15)


@pytest.mark.parametrize("call", [
    lambda: exact.finite_lattice(1, 2.0),
    lambda: exact.finite_lattice(2.5, 2.0),
    lambda: exact.finite_lattice(4, 0.0),
    lambda: exact.finite_lattice(4, float("nan")),
    lambda: exact.onsager_energy(-1.0),
    lambda: exact.enumerate_states(5),
    lambda: exact.exact_enumeration(4, float("inf")),
])
def test_invalid_input(call):
    with pytest.raises(InvalidParameterError):
        call()
