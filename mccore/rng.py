"""Randomness: one convention for every package.

Every function and class that draws takes ``rng``: an int seed, a
:class:`numpy.random.SeedSequence`, a :class:`numpy.random.Generator`, or
None (fresh entropy, which is then recorded). This module turns any of
those into a :class:`~numpy.random.SeedSequence` once, and derives
independent streams from it *keyed by what a work item is* (a temperature's
value, a chain index, a walker), never by its position in a list, so a
result depends on the seed only: not on thread or MPI rank counts, nor on
which other work items run beside it.

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

__all__ = ["seed_sequence", "recorded_seed", "resolve_seed", "stream", "child",
           "temperature_key", "as_generator"]

_SEED_LIMIT = 2**63


def _fresh_seed() -> int:
    """A new non-negative int seed from the operating system's entropy (``resolve_seed(None)``)."""
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


def stream(seq, *key: int) -> np.random.Generator:
    """A Generator for the work item ``key`` under ``seq`` (see :func:`child`)."""
    return np.random.default_rng(child(seq, *key))


def as_generator(rng) -> np.random.Generator:
    """A Generator for ``rng``: a Generator is returned as it is, else resolved."""
    if isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(seed_sequence(rng))


def temperature_key(T: float) -> int:
    """The stream key of temperature ``T``: its value in micro-units, ``round(T * 1e6)``.

    Keys by value, so adding a temperature to a run leaves every other
    temperature's stream unchanged. Two temperatures closer than 5e-7 share
    a key (and a store group name refuses them anyway).
    """
    return int(round(float(T) * 1e6))


def __getattr__(name):
    # deprecated names kept importable for one release
    if name == "fresh_seed":
        import warnings

        warnings.warn("mccore.rng.fresh_seed is deprecated; use resolve_seed(None)",
                      DeprecationWarning, stacklevel=2)
        return _fresh_seed
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
