"""Lattice symmetry images: invariants kept, the group sampled uniformly."""

import numpy as np
import pytest
from scipy import stats

from ising.lattice import symmetry_images
from ising.store import energy_magnetization
from mccore.errors import InvalidParameterError


def test_images_keep_energy_and_magnetization(rng):
    spins = rng.choice(np.array([-1, 1], dtype=np.int8), size=(200, 6, 6))
    images = symmetry_images(spins, 5, rng=1)
    assert images.shape == (1000, 6, 6) and images.dtype == np.int8
    np.testing.assert_array_equal(images[:200], spins)
    e0, m0 = energy_magnetization(spins)
    e, m = energy_magnetization(images)
    np.testing.assert_array_equal(e.reshape(5, 200), np.broadcast_to(e0, (5, 200)))
    np.testing.assert_array_equal(m.reshape(5, 200), np.broadcast_to(m0, (5, 200)))
    assert np.mean(np.any(images[200:] != np.tile(spins, (4, 1, 1)), axis=(1, 2))) > 0.9


def _group_orbit(config):
    """All 8 L^2 images of one configuration, by explicit composition."""
    L = config.shape[0]
    out = []
    for dx in range(L):
        for dy in range(L):
            t = np.roll(config, (-dx, -dy), axis=(0, 1))
            for reflect in (False, True):
                r = t.T if reflect else t
                for turns in range(4):
                    out.append(np.rot90(r, turns).tobytes())
    return out


def test_group_elements_are_uniform():
    """A 4 x 4 configuration with a trivial stabilizer has 8 x 16 = 128
    distinct images; 64000 random images of it pass a chi-square test of
    uniformity over them
    (a sampler missing the reflections or a translation axis would leave
    cells empty and fail it by hundreds of sigma)."""
    config = np.array([[1, 1, 1, 1], [-1, 1, 1, -1], [-1, 1, 1, -1], [1, 1, 1, -1]],
                      dtype=np.int8)
    orbit = _group_orbit(config)
    index = {key: i for i, key in enumerate(dict.fromkeys(orbit))}
    assert len(index) == 128
    images = symmetry_images(np.repeat(config[None], 64000, axis=0), 2, rng=7)[64000:]
    counts = np.bincount([index[img.tobytes()] for img in images], minlength=128)
    assert stats.chisquare(counts).pvalue > 1e-3


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_bad_image_counts(bad):
    with pytest.raises(InvalidParameterError, match="n_images"):
        symmetry_images(np.ones((2, 4, 4), dtype=np.int8), bad)
    with pytest.raises(InvalidParameterError, match="shape"):
        symmetry_images(np.ones((2, 4, 5), dtype=np.int8), 2)
