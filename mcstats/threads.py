"""BLAS thread control, so that stochastic results depend on the seed only.

OpenBLAS's multithreaded matrix products are not bitwise independent of the
thread count for every shape (measured here: a float32 (100 x 256) @
(256 x 64) product differs in the last bit between one and two threads). In
a Markov chain a last-bit difference sooner or later flips a Bernoulli draw
or an accept/reject decision, and two runs with the same seed diverge. Code
whose random draws depend on BLAS results therefore runs inside
:func:`single_threaded_blas` (or is decorated with
:func:`with_single_threaded_blas`). The products involved (minibatch x
layer) are far too small to gain from a second thread anyway.

Uses threadpoolctl (the library scikit-learn and joblib use for this); the
controller is built once, so entering the context costs a few microseconds.
"""

from __future__ import annotations

import functools

__all__ = ["single_threaded_blas", "with_single_threaded_blas"]

_controller = None


def single_threaded_blas():
    """Context manager limiting every loaded BLAS library to one thread."""
    global _controller
    if _controller is None:
        from threadpoolctl import ThreadpoolController
        _controller = ThreadpoolController()
    return _controller.limit(limits=1, user_api="blas")


def with_single_threaded_blas(func):
    """Decorator: run ``func`` inside :func:`single_threaded_blas`."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with single_threaded_blas():
            return func(*args, **kwargs)
    return wrapper
