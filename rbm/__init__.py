"""Restricted Boltzmann machines: generic, arrays in, arrays out.

``BernoulliRBM`` (binary visible and hidden units) and
``GaussianBernoulliRBM`` (real visible units with per-unit width sigma),
trained by CD-k, persistent CD or parallel tempering with SGD/Adam; exact
(``<= 25`` units in the smaller layer) and AIS partition functions; HDF5
model files (``save``/``load``). Both are scikit-learn estimators
(``BaseEstimator``, ``TransformerMixin``: ``fit(X, y=None)``, ``transform``,
``score``, ``clone``, ``Pipeline``, ``GridSearchCV``, and scikit-learn's
``check_estimator``); their training lives in :mod:`rbm.training`, model
files in :mod:`rbm.io` with the kind -> class registry in
:mod:`rbm.registry`; ``BernoulliRBM(translation_tied=(L, L))`` ties the
parameters under the translations of a periodic lattice (:mod:`rbm.tying`).
Knows nothing of Ising.

>>> import numpy as np, rbm
>>> X = (np.random.default_rng(0).random((500, 9)) < 0.3).astype(np.uint8)
>>> model = rbm.BernoulliRBM(n_hidden=4, n_epochs=2, rng=0).fit(X)
>>> model.weights.shape
(9, 4)
"""

from .bernoulli import BernoulliRBM
from .gaussian import GaussianBernoulliRBM
from .registry import load, save

__all__ = ["BernoulliRBM", "GaussianBernoulliRBM", "save", "load"]
