"""
Phase classification on the Mehta et al. Ising set: RBM features, T_c located
=============================================================================

Mehta et al. ("A high-bias, low-variance introduction to machine learning
for physicists", Physics Reports 810 (2019), notebook 6) publish 2D Ising
configurations at T = 0.25, 0.50, ..., 4.00 (L = 40, 10^4 each) as pickled
``np.packbits`` arrays, with labels 1 (ordered, T < T_c) and 0 (disordered),
and classify the phase with logistic regression, training on the ordered
(T < 2.0) and disordered (T > 2.5) states and testing on the critical
region in between. Here the same with a scikit-learn
:class:`~sklearn.pipeline.Pipeline`: the RBM (:class:`rbm.BernoulliRBM`) as
feature extractor, then :class:`~sklearn.linear_model.LogisticRegression`.

The real file cannot be downloaded while the documentation is built, so
this example first makes a small file *in the same format* (L = 16,
200 configurations per temperature) from a quick Monte Carlo run and
``isingrbm export mehta``. With the published set, download
``Ising2DFM_reSample_L40_T=All.pkl`` and ``Ising2DFM_reSample_L40_T=All_labels.pkl``
from https://physics.bu.edu/~pankajm/ML-Review-Datasets/isingMC/ and read
them the same way (``read_mehta("Ising2DFM_reSample_L40_T=All.pkl",
labels="Ising2DFM_reSample_L40_T=All_labels.pkl")``: the name says
"T=All", so the 16 published temperatures are used), or convert them once
with ``isingrbm import mehta Ising2DFM_reSample_L40_T=All.pkl --labels
Ising2DFM_reSample_L40_T=All_labels.pkl --out mehta.h5``. Pickles are read
with a restricted unpickler that accepts NumPy arrays only (a pickle can
otherwise run any code when loaded).
"""

import shutil
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

import ising
import rbm
from ising.mehta import read_mehta, unpack_spins
from isingrbm import cli

workdir = Path(tempfile.mkdtemp())
temperatures = [0.25 * k for k in range(1, 17)]          # the published 16
ising.simulate(16, temperatures, 200, rng=2019, path=workdir / "L16.h5")
cli.main(["export", "mehta", str(workdir / "L16.h5"), "--out", str(workdir / "mehta"),
          "--quiet"])
print(sorted(p.name for p in (workdir / "mehta").iterdir()))

# %%
# Reading the Mehta-format file: per temperature block the packed rows
# (bit 1 = spin +1, row-major) and the label, read with the restricted
# unpickler. ``np.unpackbits(data).reshape(-1, L * L)`` with 0 -> -1, as in
# the published notebooks, gives the same spins.

data = read_mehta(workdir / "mehta" / "Ising2DFM_reSample_L16_T=All.pkl",
                  labels=workdir / "mehta" / "Ising2DFM_reSample_L16_T=All_labels.pkl")
L = data["L"]
X = np.concatenate([unpack_spins(block.packed, L) for block in data["blocks"]])
T = np.concatenate([np.full(len(block.packed), block.T) for block in data["blocks"]])
y = np.concatenate([np.full(len(block.packed), block.label) for block in data["blocks"]])
shutil.rmtree(workdir)
print(f"L = {L}: {len(X)} configurations, {len(data['blocks'])} temperatures, "
      f"labels 1 (ordered) at T <= {T[y == 1].max():g}")

# %%
# Mehta et al.'s split: train on half of the ordered (T < 2.0) and
# disordered (T > 2.5) configurations, test on the other half and on the
# critical region 2.0 <= T <= 2.5, which the classifier never sees.
#
# Two pipelines, the same RBM (16 hidden units) and logistic regression.
# The first feeds the visible units ``v = (s + 1) / 2`` as they are. The
# second first fixes the sign of each configuration so that m >= 0: the
# zero-field Ising energy is unchanged by s -> -s, so nothing physical is
# lost, but an ordered state is then "mostly up" instead of "mostly up *or*
# mostly down", which is a linear question; without it, ordered states lie
# on both sides of the disordered ones and a linear read-out of features
# that inherit the symmetry can hardly separate them.


def visible(spins):
    """(n, L, L) spins -> (n, L*L) visible units in {0, 1}."""
    return ising.spins_to_visible(spins)


def sign_fixed(spins):
    """The same after s -> -s for configurations with m < 0."""
    flip = np.where(spins.reshape(len(spins), -1).sum(axis=1) < 0, -1, 1).astype(np.int8)
    return ising.spins_to_visible(spins * flip[:, None, None])


rng = np.random.default_rng(0)
known = np.flatnonzero((T < 2.0) | (T > 2.5))
train = rng.permutation(known)[: len(known) // 2]
test = np.setdiff1d(np.arange(len(X)), train)
held_out = test[(T[test] < 2.0) | (T[test] > 2.5)]

curves = {}
for name, prepare in (("raw spins", visible), ("sign fixed (m >= 0)", sign_fixed)):
    classifier = Pipeline([
        ("visible", FunctionTransformer(prepare)),
        ("rbm", rbm.BernoulliRBM(n_hidden=16, n_epochs=20, rng=1)),
        ("logistic", LogisticRegression(max_iter=1000)),
    ]).fit(X[train], y[train])
    accuracy = classifier.score(X[held_out], y[held_out])
    p_ordered = np.array([classifier.predict_proba(X[test][T[test] == t])[:, 1].mean()
                          for t in temperatures])
    curves[name] = p_ordered
    print(f"{name:>20}: test accuracy away from T_c {100 * accuracy:.1f} %")

# %%
# Where P(ordered) = 1/2, by linear interpolation between the two
# temperatures around the crossing, beside the exact T_c of the infinite
# lattice. On an L = 16 lattice the transition is rounded and shifted
# upward by finite-size effects of order 1/L, and the grid of temperatures
# is 0.25 wide, so agreement within a few per cent is what to expect.

print(f"exact T_c = 2 / ln(1 + sqrt 2) = {ising.T_C:.4f}")
for name, p in curves.items():
    below = np.flatnonzero(p < 0.5)
    if p[0] < 0.5 or not below.size:
        print(f"{name:>20}: P(ordered) never crosses 1/2 from above (no boundary found)")
        continue
    i = int(below[0])
    t0, t1 = temperatures[i - 1], temperatures[i]
    crossing = t0 + (p[i - 1] - 0.5) * (t1 - t0) / (p[i - 1] - p[i])
    print(f"{name:>20}: P(ordered) = 1/2 at T = {crossing:.3f} "
          f"({100 * (crossing / ising.T_C - 1):+.1f} % from T_c)")

# %%

fig, ax = plt.subplots(figsize=(6.5, 3.8), layout="constrained")
for name, p in curves.items():
    ax.plot(temperatures, p, "o-", ms=3, label=name)
ax.axvspan(2.0, 2.5, color="0.9", zorder=0, label="not trained on")
ax.axvline(ising.T_C, color="0.5", ls="--", label="exact T_c")
ax.axhline(0.5, color="0.8", lw=0.8)
ax.set_xlabel("T")
ax.set_ylabel("P(ordered), mean over test samples")
ax.set_title(f"RBM features + logistic regression, Mehta-format data, L = {L}")
ax.legend(fontsize=8)
plt.show()
