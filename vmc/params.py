"""The flat parameter vector every VMC wavefunction exposes to the driver and optimizers."""

from __future__ import annotations

import numpy as np

from mccore.errors import InvalidParameterError

__all__ = ["FlatParameters"]


class FlatParameters:
    """Mixin: ``params`` is one float64 vector (``self._params``) that the
    wavefunction's named parameters view; assigning copies into it in place."""

    @property
    def params(self) -> np.ndarray:
        """The flat parameter vector (the array itself; the named parameters are views)."""
        return self._params

    @params.setter
    def params(self, value):
        value = np.asarray(value, dtype=np.float64)
        if value.shape != self._params.shape:
            raise InvalidParameterError(
                f"params must have shape {self._params.shape}, got {value.shape}")
        self._params[:] = value

    @property
    def n_params(self) -> int:
        return self._params.size
