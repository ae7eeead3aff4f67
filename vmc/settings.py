"""The settings of a VMC run and their rules: one table per physics.

:func:`vmc.trap.run` and :func:`vmc.spins.run_tfim` check their arguments
with these tables (:func:`mccore.validation.check_settings`), and
``isingrbm vmc`` builds its options from the same tables, so each rule and
its message exist once. Keys are the keyword arguments of the run
functions. Light on purpose: nothing of the physics is imported (the
command line's help reads these tables).
"""

from __future__ import annotations

from mccore.validation import Rule

from .optimizers import OPTIMIZERS, SHIFT_SCHEDULES

__all__ = ["RUN_SETTINGS", "TRAP_SETTINGS", "TFIM_SETTINGS", "SCHEDULE_SETTINGS", "OMEGA_RANGE", "INTERACTIONS",
           "JASTROWS", "SAMPLERS", "FORMS", "LATTICES"]

#: the trap frequencies :func:`vmc.trap.run` accepts (see its docstring)
OMEGA_RANGE = (1e-3, 1000)
INTERACTIONS = ("none", "coulomb")
JASTROWS = ("none", "pade")
#: the samplers of the trap (the spin chains have one, Metropolis)
SAMPLERS = ("metropolis", "importance", "gibbs")
FORMS = ("sqrt", "full")
LATTICES = ("chain", "square")

#: the loop's settings, the same for both physics (walkers of the trap = chains of the TFIM)
RUN_SETTINGS = {
    "optimizer": Rule.choice(OPTIMIZERS),
    "n_iterations": Rule.integer(minimum=0),
    "n_samples": Rule.integer(minimum=1),
    "n_final_samples": Rule.integer(minimum=1, optional=True),
    "learning_rate": Rule.number(minimum=0, strict_min=True, optional=True),
    "n_walkers": Rule.integer(minimum=1),
    "n_threads": Rule.integer(minimum=1, optional=True),
}

#: :func:`vmc.trap.run`: particles in a harmonic trap (hbar = m = 1)
TRAP_SETTINGS = {
    "n_particles": Rule.integer(minimum=1),
    "n_dims": Rule.integer(1, 3),
    "omega": Rule.number(*OMEGA_RANGE, why="outside it the arithmetic loses its meaning"),
    "interaction": Rule.choice(INTERACTIONS),
    "n_hidden": Rule.integer(minimum=1),
    "jastrow": Rule.choice(JASTROWS),
    "sampler": Rule.choice(SAMPLERS),
    "form": Rule.choice(FORMS),
}

#: :func:`vmc.spins.run_tfim`: the transverse-field Ising model (J = 1)
TFIM_SETTINGS = {
    "lattice": Rule.choice(LATTICES),
    "size": Rule.integer(minimum=2),
    "field": Rule.number(0, 1_000_000, strict_min=True,
                         why="the RBM trial state is real and positive, which the TFIM ground "
                             "state is only for h > 0"),
    "alpha": Rule.integer(minimum=1),
    "shift_schedule": Rule.choice(SHIFT_SCHEDULES),
    "diag_shift": Rule.number(minimum=0),
    "p_global": Rule.number(0, 1),
    "init_scale": Rule.number(minimum=0),
    "max_change": Rule.number(minimum=0, strict_min=True),
}

#: :func:`vmc.spins.run_tfim`: the tail of a long run and iterate averaging
#: (:class:`vmc.schedule.Schedule`; across settings: :func:`vmc.schedule.check_schedule`)
SCHEDULE_SETTINGS = {
    "tail_iterations": Rule.integer(minimum=0),
    "tail_learning_rate": Rule.number(minimum=0, strict_min=True, optional=True),
    "tail_samples": Rule.integer(minimum=1, optional=True),
    "average_last": Rule.integer(minimum=0),
    "tail_diag_shift": Rule.number(minimum=0, strict_min=True, optional=True),
}
