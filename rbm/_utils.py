"""Validation and random-number helpers shared by the ``rbm`` modules (private).

Every public entry point validates once, here; inner code trusts its inputs.
Messages follow the house format: name, allowed set, received value.
"""

from __future__ import annotations

import numbers

import numpy as np

from mccore.errors import InvalidParameterError

__all__ = ["check_rng", "check_int", "check_float", "check_choice", "check_bool",
           "check_data", "softplus", "sigmoid"]


def check_rng(rng) -> np.random.Generator:
    """Coerce ``rng`` (Generator, int seed or None) to a ``numpy.random.Generator``."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or (isinstance(rng, numbers.Integral) and not isinstance(rng, bool)
                       and rng >= 0):
        return np.random.default_rng(rng)
    if isinstance(rng, np.random.SeedSequence):
        return np.random.default_rng(rng)
    raise InvalidParameterError(
        f"rng must be a numpy.random.Generator, a non-negative int seed or None, got {rng!r}")


def check_int(name: str, value, *, minimum: int | None = None,
              maximum: int | None = None, allow_none: bool = False):
    """Validate an integer hyperparameter and return it as ``int``."""
    if value is None and allow_none:
        return None
    ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if ok and minimum is not None and value < minimum:
        ok = False
    if ok and maximum is not None and value > maximum:
        ok = False
    if not ok:
        rng_text = ""
        if minimum is not None and maximum is not None:
            rng_text = f" in [{minimum}, {maximum}]"
        elif minimum is not None:
            rng_text = f" >= {minimum}"
        elif maximum is not None:
            rng_text = f" <= {maximum}"
        raise InvalidParameterError(f"{name} must be an integer{rng_text}, got {value!r}")
    return int(value)


def check_float(name: str, value, *, minimum: float | None = None,
                maximum: float | None = None, strict_min: bool = False,
                strict_max: bool = False, allow_none: bool = False):
    """Validate a finite real hyperparameter and return it as ``float``."""
    if value is None and allow_none:
        return None
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if ok:
        value = float(value)
        ok = np.isfinite(value)
    if ok and minimum is not None:
        ok = value > minimum if strict_min else value >= minimum
    if ok and maximum is not None:
        ok = value < maximum if strict_max else value <= maximum
    if not ok:
        parts = []
        if minimum is not None:
            parts.append(f"{'>' if strict_min else '>='} {minimum}")
        if maximum is not None:
            parts.append(f"{'<' if strict_max else '<='} {maximum}")
        bound = (" " + " and ".join(parts)) if parts else ""
        raise InvalidParameterError(f"{name} must be a finite number{bound}, got {value!r}")
    return value


def check_choice(name: str, value, choices):
    """Validate that ``value`` is one of ``choices``."""
    if value not in choices:
        allowed = ", ".join(repr(c) for c in choices)
        raise InvalidParameterError(f"{name} must be one of {allowed}, got {value!r}")
    return value


def check_bool(name: str, value) -> bool:
    """Validate a boolean flag."""
    if not isinstance(value, (bool, np.bool_)):
        raise InvalidParameterError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def check_data(X, *, name: str = "X", n_features: int | None = None,
               binary: bool = False, min_samples: int = 1,
               dtype=np.float64) -> np.ndarray:
    """Validate a data matrix ``(n_samples, n_features)``.

    Parameters
    ----------
    X : array_like
        The data.
    name : str
        Name used in error messages.
    n_features : int or None
        Required number of columns (the model's ``n_visible``), if known.
    binary : bool
        Require every entry to be 0 or 1.
    min_samples : int
        Minimum number of rows.
    dtype : numpy dtype
        Returned dtype.

    Raises
    ------
    InvalidParameterError
        Wrong shape, non-numeric, NaN/inf, or non-binary entries.
    """
    try:
        arr = np.asarray(X)
    except Exception as exc:  # pragma: no cover - exotic inputs
        raise InvalidParameterError(f"{name} must be a 2-D numeric array: {exc}") from None
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number)
                                   or arr.dtype == np.bool_):
        raise InvalidParameterError(f"{name} must be a 2-D numeric array, got dtype {arr.dtype}")
    if arr.ndim != 2:
        raise InvalidParameterError(
            f"{name} must have shape (n_samples, n_visible), got shape {arr.shape}")
    if arr.shape[0] < min_samples:
        raise InvalidParameterError(
            f"{name} must have at least {min_samples} row(s), got {arr.shape[0]}")
    if n_features is not None and arr.shape[1] != n_features:
        raise InvalidParameterError(
            f"{name} must have {n_features} columns (n_visible of the model), "
            f"got {arr.shape[1]}")
    if arr.shape[1] < 1:
        raise InvalidParameterError(f"{name} must have at least one column, got 0")
    # validate the values as given, before any conversion (0.5 -> uint8 would be 0)
    exact_ints = arr.dtype == np.bool_ or np.issubdtype(arr.dtype, np.integer)
    if not exact_ints and not np.all(np.isfinite(arr)):
        raise InvalidParameterError(f"{name} must be finite, got NaN or inf entries")
    if binary:
        if arr.dtype == np.bool_:
            ok = True
        elif np.issubdtype(arr.dtype, np.unsignedinteger):
            ok = arr.size == 0 or arr.max() <= 1
        else:
            ok = np.all((arr == 0) | (arr == 1))
        if not ok:
            bad = arr[(arr != 0) & (arr != 1)][0]
            raise InvalidParameterError(
                f"{name} must be binary with entries in {{0, 1}}, got the value {bad!r}")
    return arr.astype(dtype, copy=False)


def softplus(x: np.ndarray) -> np.ndarray:
    """``log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|))``, without overflow.

    Same values as ``numpy.logaddexp(0, x)`` (to rounding), 2x (float64) to
    12x (float32) faster: NumPy's ``exp``/``log1p`` are SIMD, ``logaddexp``
    is not. Keeps the float dtype of ``x``.
    """
    x = np.asarray(x)
    if x.ndim == 0:
        return np.logaddexp(0.0, x)
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)
    out = np.abs(x)
    np.negative(out, out=out)
    np.exp(out, out=out)
    np.log1p(out, out=out)
    out += np.maximum(x, 0.0, dtype=x.dtype)
    return out


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function ``1 / (1 + exp(-x))`` (``scipy.special.expit``: no overflow)."""
    from scipy.special import expit
    return expit(x)
