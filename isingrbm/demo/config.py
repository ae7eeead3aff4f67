"""The sizes of a demo run: :class:`DemoConfig` for the full demo and for ``--quick``.

Sized so that the full demo takes about 4 CPU minutes or less on a fresh
install (numba compilation included) and ``--quick`` a few CPU seconds
with a warm numba cache; the measured times of every stage are recorded in
the demo folder's ``demo.json``. Conventions: k_B = J = 1, per spin.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ising.phases import PHASES

__all__ = ["DemoConfig", "demo_config"]


@dataclass(frozen=True)
class DemoConfig:
    """Sizes of one demo run (the full demo or ``--quick``).

    Attributes
    ----------
    quick : bool
        The smoke-test version: its models are barely trained, so their
        deviations from Monte Carlo say nothing about the methods.
    L : int
        Lattice size of the Monte Carlo data.
    temperatures : tuple of float
        Monte Carlo temperatures (k_B = J = 1), denser near T_c.
    n_samples : int
        Samples per temperature (thinned by the Monte Carlo driver to be
        roughly independent).
    phase_temperatures : dict
        ``phase -> T`` at which an RBM (and a GAN) is trained; each T is one
        of ``temperatures``.
    rbm : dict
        Keyword arguments of ``rbm.BernoulliRBM`` per phase: ``{phase: {...}}``.
    n_generated : int
        Samples drawn from each trained model (Gibbs, exact and GAN alike).
    gibbs_steps : int
        Gibbs steps per approximate RBM sample (independent chains).
    exact : dict
        Keyword arguments of :func:`isingrbm.exact_sampling.exact_samples`
        (``k``: Gibbs steps per proposal; ``n_chains``).
    gan : dict
        Keyword arguments of ``gan.IsingGAN`` plus ``n_epochs`` for fit.
    vmc : dict
        Keyword arguments of ``vmc.run`` shared by both trap runs.
    tfim : dict
        Keyword arguments of ``vmc.run_tfim`` (transverse-field Ising chain).
    """

    quick: bool
    L: int
    temperatures: tuple
    n_samples: int
    phase_temperatures: dict
    rbm: dict
    n_generated: int
    gibbs_steps: int
    exact: dict
    gan: dict
    vmc: dict
    tfim: dict

    def to_dict(self) -> dict:
        data = asdict(self)
        data["temperatures"] = list(self.temperatures)
        return data


def demo_config(quick: bool = False) -> DemoConfig:
    """The settings of the full demo or of ``--quick``."""
    phase_temperatures = {"ordered": 1.5, "critical": 2.269, "disordered": 3.5}
    if quick:
        return DemoConfig(
            quick=True, L=8,
            temperatures=(1.5, 2.0, 2.269, 2.6, 3.5),
            n_samples=400,
            phase_temperatures=phase_temperatures,
            rbm={phase: dict(n_hidden=32, n_epochs=10, batch_size=32) for phase in PHASES},
            n_generated=400, gibbs_steps=100,
            exact=dict(k=1),
            gan=dict(n_epochs=5),
            vmc=dict(n_iterations=30, n_samples=2000, n_hidden=2),
            tfim=dict(size=8, field=1.0, n_iterations=20, n_samples=200),
        )
    return DemoConfig(
        quick=False, L=16,
        temperatures=(1.0, 1.5, 1.8, 2.0, 2.15, 2.269, 2.35, 2.5, 2.75, 3.0, 3.5, 4.0),
        n_samples=3000,
        phase_temperatures=phase_temperatures,
        # The library defaults (CD-5, learning_rate="auto" = 0.0025 at 256 visible
        # units) with 128 hidden units.
        rbm={phase: dict(n_hidden=128, n_epochs=40) for phase in PHASES},
        n_generated=2000, gibbs_steps=200,
        exact=dict(k=1),
        gan=dict(n_epochs=8),
        vmc=dict(n_iterations=100, n_samples=5000, n_hidden=2),
        tfim=dict(size=20, field=1.0, n_iterations=150, n_samples=500),
    )
