"""The settings of :func:`ising.simulate` and their rules, declared once.

:func:`ising.montecarlo.check_run_settings` (called by :func:`ising.simulate`)
checks a run's arguments with :data:`SIMULATE_SETTINGS`, and ``isingrbm
generate`` reads its flags with the same rules, so each rule and its message
exist once. Keys are the keyword arguments of :func:`ising.simulate`; the
rule of ``temperatures`` is that of each temperature (> 0, k_B = J = 1).
Checks across values (distinct temperatures, a finite beta = 1/T, the
thread count of this machine, memory) are :func:`check_temperatures` and
:func:`ising.montecarlo.check_run_settings`.
"""

from __future__ import annotations

import math

import numpy as np

from mccore.errors import InvalidParameterError
from mccore.validation import COUNT, POSITIVE, Rule

from .store import group_key
from .temperature_run import ALGORITHMS

__all__ = ["SIMULATE_SETTINGS", "check_temperatures"]

#: the rules of :func:`ising.simulate`'s settings
SIMULATE_SETTINGS = {
    "L": Rule.integer(minimum=2),
    "temperatures": POSITIVE,
    "n_samples": COUNT,
    "algorithm": Rule.choice(ALGORITHMS),
    "n_threads": Rule.integer(minimum=1, optional=True),
    "n_chains": Rule.integer(minimum=1, optional=True),
    "checkpoint_interval": Rule.number(minimum=0),
}


def check_temperatures(temperatures) -> list[float]:
    """At least one temperature, each > 0 with a finite beta = 1/T, distinct to 6
    decimals (the group keys of the dataset file); returned in ascending order.

    >>> check_temperatures([3.0, 1.5])
    [1.5, 3.0]
    """
    temps = np.atleast_1d(np.asarray(temperatures, dtype=object))
    if temps.size == 0:
        raise InvalidParameterError("temperatures must be at least one number > 0, got none")
    values = []
    for t in temps.ravel():
        T = SIMULATE_SETTINGS["temperatures"].check("temperature", t)
        if not math.isfinite(1.0 / T):
            raise InvalidParameterError(
                f"temperatures must give a finite beta = 1/T, got {t!r} (beta = inf)")
        values.append(T)
    values.sort()
    keys = [group_key(v) for v in values]
    if len(set(keys)) != len(keys):
        raise InvalidParameterError(
            "temperatures must be distinct (to 6 decimals), got "
            f"{', '.join(f'{v:g}' for v in values)}")
    return values
