"""The ground floor of isingrbm: what every other package shares.

- :mod:`mccore.errors`: the exception classes (one hierarchy, one message format);
- :mod:`mccore.validation`: argument checks (``"L must be an integer >= 2, got 1"``)
  and memory estimates against the machine;
- :mod:`mccore.rng`: the ``rng`` argument -> SeedSequence, the recorded seed,
  streams keyed by what a work item is;
- :mod:`mccore.files`: atomic writes and the advisory lock on an output path;
- :mod:`mccore.training`: the one training-loop contract (callback, checkpoints by
  step count and by wall time, resume, Ctrl-C);
- :mod:`mccore.progress`: a progress bar on a terminal, timed lines with the
  remaining time in a log;
- :mod:`mccore.parallel`: MPI launch detection, numba and BLAS thread settings
  as context managers that restore what they changed;
- :mod:`mccore.version`: the software version from the package metadata.

Imports only numpy and the standard library (threadpoolctl, tqdm and, to limit
its BLAS, scipy.linalg lazily);
nothing happens at import.
"""

from .errors import (ChainTooShortError, DivergenceError, FileFormatError,
                     InvalidParameterError, IsingRBMError, IsingRBMWarning,
                     MissingDependencyError, OutputExistsError)
from .version import software_version

__all__ = [
    "IsingRBMError", "InvalidParameterError", "FileFormatError", "OutputExistsError",
    "DivergenceError", "ChainTooShortError", "MissingDependencyError", "IsingRBMWarning",
    "software_version",
]
