"""NumPy arrays from untrusted pickle files: a restricted unpickler.

Pickles can run any code when loaded. :class:`RestrictedUnpickler` builds
NumPy arrays and nothing else, and :func:`load_array_pickle` reads one array
from a file with it (used by :mod:`ising.mehta` for the published pickles of
Mehta et al., re-exported there).
"""

from __future__ import annotations

import codecs
import pickle
from pathlib import Path

import numpy as np

from mccore.errors import FileFormatError, InvalidParameterError

__all__ = ["RestrictedUnpickler", "load_array_pickle"]


def _numpy_globals() -> dict:
    """The globals a pickled NumPy array needs, under their old and new module names."""
    try:
        from numpy._core import multiarray, numeric
    except ImportError:  # NumPy < 2
        from numpy.core import multiarray, numeric

    def _reconstruct(subtype, shape, dtype):
        # NumPy always pickles an empty (0,) stub that __setstate__ fills from the
        # pickle's own bytes; another shape could allocate without bound
        if subtype is not np.ndarray or tuple(shape) != (0,):
            raise pickle.UnpicklingError(
                f"refused an array reconstruction of shape {shape!r} (NumPy writes (0,))")
        return multiarray._reconstruct(subtype, shape, dtype)

    def _encode(obj, encoding="utf-8", errors="strict"):
        # protocol-2 pickles written by Python 3 spell bytes as _codecs.encode(str, "latin1")
        if encoding not in ("latin1", "latin-1"):
            raise pickle.UnpicklingError(f"refused the encoding {encoding!r}")
        return codecs.encode(obj, encoding, errors)

    table = {("numpy", "ndarray"): np.ndarray, ("numpy", "dtype"): np.dtype,
             ("_codecs", "encode"): _encode}
    for module in ("numpy.core.multiarray", "numpy._core.multiarray"):
        table[(module, "_reconstruct")] = _reconstruct
    for module in ("numpy.core.numeric", "numpy._core.numeric"):
        table[(module, "_frombuffer")] = numeric._frombuffer
    return table


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that builds NumPy arrays and nothing else.

    ``find_class`` resolves only ``numpy.ndarray``, ``numpy.dtype``,
    ``numpy[._]core.multiarray._reconstruct`` (with the empty stub shape
    NumPy writes), ``numpy[._]core.numeric._frombuffer`` (protocol 5) and
    ``_codecs.encode`` with the latin-1 encoding (protocol 2); any other
    global (``os.system``, ``builtins.eval``, ...) raises
    ``pickle.UnpicklingError`` before it is called. Strings of Python 2
    pickles are decoded as latin-1, as NumPy requires.
    """

    def __init__(self, file):
        super().__init__(file, encoding="latin1")
        self._allowed = _numpy_globals()

    def find_class(self, module, name):
        try:
            return self._allowed[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"refused to load the global '{module}.{name}'") \
                from None

    def persistent_load(self, pid):
        raise pickle.UnpicklingError("refused a persistent reference")


def load_array_pickle(path, *, what: str = "data") -> np.ndarray:
    """Read one NumPy array from a pickle file with :class:`RestrictedUnpickler`.

    Parameters
    ----------
    path : str or Path
    what : str
        What the file should hold ("data", "labels"), for the messages.

    Returns
    -------
    ndarray
        Exactly an ``ndarray`` (no subclass); dtype and shape are checked by
        the caller.

    Raises
    ------
    InvalidParameterError
        The file does not exist or is not a regular file.
    FileFormatError
        Not a pickle, a pickle of anything but one NumPy array, a pickle that
        names a global other than the NumPy ones (no code of it runs), or
        data after the array.
    """
    path = Path(path)
    if not path.exists():
        raise InvalidParameterError(f"input file {path} does not exist")
    if not path.is_file():
        raise InvalidParameterError(f"input {path} is not a regular file")
    with open(path, "rb") as fh:
        try:
            obj = RestrictedUnpickler(fh).load()
        except pickle.UnpicklingError as exc:
            text = " ".join(str(exc).split())
            if text.startswith("refused"):
                raise FileFormatError(
                    f"{path.name}: not a safe {what} pickle ({text}; only NumPy arrays are "
                    "accepted, nothing in the file was run)") from None
            raise FileFormatError(f"{path.name}: is not a pickle file ({text})") from None
        except Exception as exc:  # noqa: BLE001 - any parse failure of untrusted bytes
            text = " ".join(str(exc).split()) or type(exc).__name__
            raise FileFormatError(f"{path.name}: is not a pickle of a NumPy array ({text})") \
                from None
        trailing = fh.read(1)
    if type(obj) is not np.ndarray:
        raise FileFormatError(f"{path.name}: holds a {type(obj).__name__}, expected the {what} "
                              "as a NumPy array")
    if trailing:
        raise FileFormatError(f"{path.name}: has data after the pickled array")
    return obj
