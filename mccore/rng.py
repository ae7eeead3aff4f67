"""Randomness: one convention for every package.

Every function and class that draws takes ``rng``: an int seed, a
:class:`numpy.random.SeedSequence`, a :class:`numpy.random.Generator`, or
None (fresh entropy, which is then recorded). This module turns any of
those into a :class:`~numpy.random.SeedSequence` once, and derives
independent streams from it *keyed by what a work item is* (a temperature's
value, a chain index, a walker), never by its position in a list, so a
result depends on the seed only: not on thread or MPI rank counts, nor on
which other work items run beside it.

The helpers, one job each:

* :func:`resolve_seed` -- at the top of a run (a command, the app's
  pipeline, a model's ``fit``): the user's ``rng`` to the one int seed the
  run records and derives everything from;
* :func:`seed_sequence` -- inside the library: an ``rng`` argument to the
  SeedSequence whose streams a function uses, and :func:`recorded_seed`,
  what to record for it;
* :func:`child` and :func:`stream` -- the SeedSequence and the Generator of
  one work item, keyed by what the item is; :func:`temperature_key` -- the
  key of a temperature.

>>> seq = seed_sequence(7)
>>> recorded_seed(seq)
7
>>> a = stream(seq, temperature_key(2.269))
>>> b = stream(7, temperature_key(2.269))
>>> bool(a.integers(1 << 30) == b.integers(1 << 30))
True
"""

from __future__ import annotations

import numbers

import numpy as np

from .errors import InvalidParameterError

__all__ = ["child", "recorded_seed", "resolve_seed", "seed_sequence", "stream", "temperature_key"]

_SEED_LIMIT = 2**63


def _fresh_seed() -> int:
    """A new non-negative int seed from the operating system's entropy."""
    return int(np.random.SeedSequence().entropy % _SEED_LIMIT)


def seed_sequence(rng) -> np.random.SeedSequence:
    """Resolve an ``rng`` argument to a SeedSequence.

    Parameters
    ----------
    rng : int, SeedSequence, Generator or None
        int >= 0: that seed. SeedSequence: used as it is. Generator: one
        63-bit seed is drawn from it (so the Generator is advanced, as any
        use of a Generator would). None: fresh entropy, recorded (see
        :func:`recorded_seed`).

    Raises
    ------
    InvalidParameterError
        Anything else (negative ints, bools, floats, strings).
    """
    if isinstance(rng, np.random.SeedSequence):
        return rng
    if rng is None:
        return np.random.SeedSequence(_fresh_seed())
    if isinstance(rng, np.random.Generator):
        return np.random.SeedSequence(int(rng.integers(_SEED_LIMIT)))
    if isinstance(rng, numbers.Integral) and not isinstance(rng, (bool, np.bool_)) and rng >= 0:
        return np.random.SeedSequence(int(rng))
    raise InvalidParameterError(
        "rng must be an integer >= 0, a numpy SeedSequence or Generator, or None, "
        f"got {rng!r}")


def recorded_seed(seq: np.random.SeedSequence) -> int | list[int]:
    """The integer seed to record in outputs for ``seq``.

    For a SeedSequence made by :func:`seed_sequence` from an int or from
    None, this is that int, and ``seed_sequence(recorded_seed(seq))``
    reproduces ``seq``. A spawned child (non-empty ``spawn_key``) records
    its root entropy; the key must then be recorded beside it. A
    SeedSequence made from a list of ints records that list.
    """
    entropy = seq.entropy
    if isinstance(entropy, (list, tuple, np.ndarray)):
        return [int(word) for word in np.asarray(entropy, dtype=object).ravel()]
    return int(entropy)


def resolve_seed(rng) -> int:
    """The one int seed a run uses and records for an ``rng`` argument.

    An int is used as it is and None draws fresh entropy; a Generator, a
    spawned or a list-seeded SeedSequence is turned into an int drawn from
    it, so that the recorded int alone reproduces every stream of the run.

    >>> resolve_seed(42)
    42
    """
    seq = seed_sequence(rng)
    if not seq.spawn_key and isinstance(seq.entropy, int):
        return int(seq.entropy)
    return int(seq.generate_state(2, dtype=np.uint64)[0] % _SEED_LIMIT)


def child(seq, *key: int) -> np.random.SeedSequence:
    """The SeedSequence of the work item ``key`` (ints >= 0) under ``seq``."""
    seq = seed_sequence(seq)
    return np.random.SeedSequence(seq.entropy, spawn_key=tuple(seq.spawn_key) + tuple(
        int(k) for k in key), pool_size=seq.pool_size)


def stream(rng, *key: int) -> np.random.Generator:
    """A Generator for the work item ``key`` under ``rng`` (see :func:`child`).

    Without a key it is ``rng`` itself as a Generator: a Generator is used as
    it is (as scikit-learn's ``check_random_state`` does), anything else is
    resolved by :func:`seed_sequence`.
    """
    if not key and isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(child(rng, *key))


def temperature_key(T: float) -> int:
    """The stream key of temperature ``T``: its value in micro-units, ``round(T * 1e6)``.

    Keys by value, so adding a temperature to a run leaves every other
    temperature's stream unchanged. Two temperatures closer than 5e-7 share
    a key (and a store group name refuses them anyway).
    """
    return int(round(float(T) * 1e6))
