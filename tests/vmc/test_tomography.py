"""From data to trial state: an RBM fitted to exact ground-state samples (Torlai et al.)."""

import pytest

from mccore.errors import InvalidParameterError
from vmc.spins import Lattice, tomography_trial_state


@pytest.mark.parametrize("seed", [1, 2])
def test_tomography_state_is_close_and_refinement_improves_it(seed):
    """N = 8 chain, h = 1, 5000 samples, 8 hidden units: sqrt(p_RBM) has fidelity > 0.98
    with the exact ground state and an energy within 1 % of E0 (and >= E0: exact sums,
    the variational principle holds to rounding); 60 SR steps with exact expectations
    lower the energy and raise the fidelity."""
    r = tomography_trial_state(Lattice("chain", 8), 1.0, n_epochs=100, n_refine=60, rng=seed)
    e0 = r["exact"]
    assert r["fidelity"] > 0.98
    assert e0 - 1e-9 <= r["energy"] < e0 + 0.01 * abs(e0)
    assert e0 - 1e-9 <= r["refined_energy"] < r["energy"]
    assert r["refined_fidelity"] > r["fidelity"]
    assert r["seed"] == seed


def test_tomography_refuses_large_lattices():
    with pytest.raises(InvalidParameterError, match="16 sites"):
        tomography_trial_state(Lattice("chain", 20), 1.0)
