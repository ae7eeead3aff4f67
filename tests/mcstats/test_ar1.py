"""mcstats on series with known answers: AR(1) and i.i.d. Gaussians.

For the stationary AR(1) process ``x_t = a x_{t-1} + sqrt(1 - a^2) eps_t``
(unit variance) the autocorrelation is ``rho(t) = a^t``, so
``tau_int = (1 + a) / (1 - a)``, and the variance of the mean of ``n``
samples is exactly ``(1/n) [1 + 2 sum_{k=1}^{n-1} (1 - k/n) a^k]``.
"""

import math

import numpy as np
import pytest
from scipy.signal import lfilter

from mccore.errors import ChainTooShortError
from mcstats import bootstrap, estimate, integrated_time, jackknife


def ar1(a, n, rng, n_series=None):
    """Stationary unit-variance AR(1) series, shape (n,) or (n_series, n)."""
    shape = (n,) if n_series is None else (n_series, n)
    eps = rng.standard_normal(shape)
    b = math.sqrt(1.0 - a * a)
    eps[..., 0] /= b                 # x_0 = eps_0 ~ N(0, 1): stationary start
    return lfilter([b], [1.0, -a], eps, axis=-1)


def exact_var_of_mean(a, n):
    k = np.arange(1, n)
    return (1.0 + 2.0 * np.sum((1.0 - k / n) * a**k)) / n


@pytest.mark.parametrize("a", [0.5, 0.9])
def test_integrated_time_of_ar1(a, rng):
    """tau_int = (1+a)/(1-a) within 4 sigma of Sokal's variance estimate.

    var(tau_hat) ~ 2 (2M + 1) tau^2 / n with window M ~ 5 tau (Sokal 1996);
    n = 2^20 gives a relative standard error of ~1.9% at a = 0.9 (tau = 19),
    and the truncation bias 2 a^(M+1)/(1-a) is below 1e-4 there.
    """
    n = 2**20
    x = ar1(a, n, rng)
    exact = (1 + a) / (1 - a)
    tau = integrated_time(x)
    window = 5 * exact
    sigma = exact * math.sqrt(2 * (2 * window + 1) / n)
    assert abs(tau - exact) < 4 * sigma, (tau, exact, sigma)


def test_integrated_time_several_chains(rng):
    """Chains given as (n_chains, n_steps) share one tau (same 4-sigma rule)."""
    a, n_chains, n = 0.8, 16, 2**16
    x = ar1(a, n, rng, n_series=n_chains)
    exact = (1 + a) / (1 - a)
    sigma = exact * math.sqrt(2 * (2 * 5 * exact + 1) / (n * n_chains))
    assert abs(integrated_time(x) - exact) < 4 * sigma


def test_integrated_time_refuses_short_series(rng):
    """A series shorter than 50 tau (tau = 199 at a = 0.99, n = 2000) is refused."""
    x = ar1(0.99, 2000, rng)
    with pytest.raises(ChainTooShortError) as info:
        integrated_time(x)
    assert info.value.tau > 10
    assert integrated_time(x, quiet=True) == pytest.approx(info.value.tau)


@pytest.mark.parametrize("a", [0.5, 0.9, 0.97])
def test_blocking_error_of_ar1_mean_is_unbiased(a, rng):
    """The blocking error matches the exact standard error of the AR(1) mean.

    400 independent series (a = 0.5, 0.9, 0.97: tau = 3, 19, 66; n = 2^14):
    the mean of error^2 must equal the exact var(mean) within 4 standard
    errors of that mean (taken from the 400 values). The naive error (tau
    ignored) is sqrt(tau) = 1.7-8x too small, and plain blocking at Jonsson's
    level (without mcstats' lag-1 correction) was 10-25% low in error^2:
    both fail.
    """
    n, reps = 2**14, 400
    series = ar1(a, n, rng, n_series=reps)
    exact = exact_var_of_mean(a, n)
    estimates = [estimate(x) for x in series]
    err2 = np.array([e.error**2 for e in estimates])
    assert abs(err2.mean() - exact) < 4 * err2.std(ddof=1) / math.sqrt(reps), (err2.mean(), exact)


def test_blocking_error_of_independent_samples(rng):
    """For i.i.d. N(0,1) the error is sigma/sqrt(n) (within 4 sd of the mean of 400 error^2)."""
    n, reps = 4096, 400
    err2 = np.array([estimate(x).error ** 2 for x in rng.standard_normal((reps, n))])
    assert abs(err2.mean() - 1.0 / n) < 4 * err2.std(ddof=1) / math.sqrt(reps)


def _variance(means):
    return means[1] - means[0] ** 2


@pytest.mark.parametrize("method", ["jackknife", "bootstrap"])
def test_resampling_error_of_a_derived_quantity(method, rng):
    """Block jackknife/bootstrap of the variance <x^2> - <x>^2 of N(1, 2^2) data.

    The true value is sigma^2 = 4 and the exact standard error of the sample
    variance is sqrt(2 sigma^4 / (n - 1)). Over 300 replicas of n = 4096: the
    (bias-corrected) estimates average to 4 within 4 standard errors, and the
    mean of error^2 equals the exact variance within 4 standard errors.
    """
    n, reps, sigma = 4096, 300, 2.0
    values, err2 = [], []
    for _ in range(reps):
        x = 1.0 + sigma * rng.standard_normal(n)
        cols = np.column_stack([x, x * x])
        if method == "jackknife":
            est = jackknife(_variance, cols, n_blocks=64)
        else:
            est = bootstrap(_variance, cols, n_blocks=64, n_resamples=200, rng=rng)
        values.append(est.mean)
        err2.append(est.error**2)
    values, err2 = np.array(values), np.array(err2)
    exact_var = 2 * sigma**4 / (n - 1)
    se = math.sqrt(exact_var / reps)
    # the bootstrap returns f(full means), biased by -sigma^2/n = -0.001 (0.8 se)
    assert abs(values.mean() - sigma**2) < 4 * se + (sigma**2 / n if method == "bootstrap" else 0)
    assert abs(err2.mean() - exact_var) < 4 * err2.std(ddof=1) / math.sqrt(reps)


def test_jackknife_on_correlated_series(rng):
    """Block jackknife of the mean of AR(1) (a = 0.9) on 64 blocks of 256.

    For the linear f(means) = mean the delete-one-block jackknife variance is
    exactly s_b^2 / (n_b - 1) (s_b^2 the plug-in variance of the block
    means), whose expectation is (v(b) - v(n)) / (n_b - 1) with v(b) the exact
    variance of the mean of b consecutive AR(1) values. Over 300 series of
    2^14 the mean of error^2 must match within 4 standard errors; and it must
    lie within 10% of the exact var(mean) (blocks of 256 >> tau = 19 leave a
    predicted ~4% correlation deficit).
    """
    a, n, reps, n_blocks = 0.9, 2**14, 300, 64
    b = n // n_blocks
    series = ar1(a, n, rng, n_series=reps)
    err2 = np.array([jackknife(lambda mu: mu[0], x, n_blocks=n_blocks).error ** 2
                     for x in series])
    expected = (exact_var_of_mean(a, b) - exact_var_of_mean(a, n)) / (n_blocks - 1)
    assert abs(err2.mean() - expected) < 4 * err2.std(ddof=1) / math.sqrt(reps)
    assert abs(expected / exact_var_of_mean(a, n) - 1.0) < 0.10
