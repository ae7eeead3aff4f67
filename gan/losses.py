"""The adversarial losses of :class:`~gan.IsingGAN` (``loss=``).

- ``"nonsaturating"``: the discriminator minimizes binary cross-entropy
  (real target ``label_smoothing``), the generator ``-log D(G(z))``
  (Goodfellow et al. 2014); penalty R1, ``gradient_penalty/2 E_data
  |grad_x D|^2`` (Mescheder et al. 2018).
- ``"wgan-gp"``: Wasserstein critic with the penalty ``gradient_penalty
  E (|grad D(x_hat)| - 1)^2`` on random interpolates (Gulrajani et al. 2017).
- ``"hinge"``: hinge loss (with a spectrally normalized discriminator,
  Miyato et al. 2018); penalty R1 as for "nonsaturating".

With packing (PacGAN) the discriminator scores packs of configurations and
every gradient norm is that of one pack, the discriminator's input.
Plus three optional terms of the generator loss: feature matching (Salimans
et al. 2016), the matching of the global moments of the Ising
configurations (:func:`moment_matching`) and of the distributions of e and
|m| (:func:`distribution_matching`); and the pseudo-likelihood that fits the
coupling of the checkerboard draw (:func:`pseudo_likelihood`). Functions of torch tensors; ``D`` is
the discriminator.
"""

from __future__ import annotations

from .sampling import neighbour_sum

__all__ = ["LOSSES", "MOMENTS", "discriminator_loss", "generator_loss", "to_probability",
           "feature_matching", "global_moments", "moment_targets", "moment_matching",
           "MARGINALS", "marginal_references", "distribution_matching", "pseudo_likelihood"]

LOSSES = ("nonsaturating", "wgan-gp", "hinge")


def discriminator_loss(torch, loss: str, D, real, c_real, fake, c_fake, gen, *,
                       penalty: float, label_smoothing: float):
    """``(loss, logit_real, logit_fake)`` of one discriminator step.

    ``gen`` (a torch.Generator) draws the interpolates of "wgan-gp".
    """
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    relu = torch.nn.functional.relu
    if loss == "wgan-gp":
        logit_real, logit_fake = D(real, c_real), D(fake, c_fake)
        value = logit_fake.mean() - logit_real.mean()
        if penalty > 0:
            eps = torch.rand(real.shape[0], 1, 1, generator=gen)
            x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
            (grad,) = torch.autograd.grad(D(x_hat, c_real).sum(), x_hat, create_graph=True)
            norm = _per_input(grad.pow(2), len(logit_real)).add(1e-12).sqrt()
            value = value + penalty * (norm - 1).pow(2).mean()
        return value, logit_real, logit_fake
    if penalty > 0:
        real = real.requires_grad_(True)
    logit_real, logit_fake = D(real, c_real), D(fake, c_fake)
    if loss == "hinge":
        value = relu(1 - logit_real).mean() + relu(1 + logit_fake).mean()
    else:
        value = (bce(logit_real, torch.full_like(logit_real, label_smoothing))
                 + bce(logit_fake, torch.zeros_like(logit_fake)))
    if penalty > 0:
        (grad,) = torch.autograd.grad(logit_real.sum(), real, create_graph=True)
        value = value + 0.5 * penalty * _per_input(grad.pow(2), len(logit_real)).mean()
    return value, logit_real, logit_fake


def _per_input(squares, n_inputs: int):
    """Squared gradient norms per discriminator input: per configuration, or
    per pack of ``len(squares) // n_inputs`` configurations (PacGAN)."""
    if n_inputs == squares.shape[0]:
        return squares.sum(dim=(1, 2))
    return squares.reshape(n_inputs, -1).sum(dim=1)


def generator_loss(torch, loss: str, score):
    """The generator's loss from the discriminator's ``score`` of generated batches."""
    if loss == "nonsaturating":
        return torch.nn.functional.binary_cross_entropy_with_logits(
            score, torch.ones_like(score))
    return -score.mean()


def to_probability(torch, loss: str, score):
    """A probability for "nonsaturating" (sigmoid of the logit), the score otherwise."""
    return torch.sigmoid(score) if loss == "nonsaturating" else score


def feature_matching(torch, D, fake, c_fake, real, c_real):
    """Squared differences between generated and real batches in the mean and the
    standard deviation of every site-averaged discriminator feature (the real
    features without gradient)."""
    f_fake = D.features(fake, c_fake)
    with torch.no_grad():
        f_real = D.features(real.detach(), c_real)
    return ((f_fake.mean(0) - f_real.mean(0)).pow(2).sum()
            + (f_fake.std(0) - f_real.std(0)).pow(2).sum())


#: the global moments of :func:`global_moments`, in order (per spin)
MOMENTS = ("e", "(e - e0)^2", "|m|", "m^2", "m^4")


def global_moments(torch, x, centre=0.0):
    """``(e, (e - centre)^2, |m|, m^2, m^4)`` of every configuration, shape (B, 5).

    Per spin, k_B = J = 1, periodic lattice: ``e = -(1/N) sum_<ij> x_i x_j``
    (each bond once), ``m = (1/N) sum_i x_i``; ``centre`` (a number or one
    per configuration) is the mean energy of the data, so that the mean of
    the second entry is the variance of e, T^2 / N times the specific heat,
    as the means of |m| and m^2 give chi = N (<m^2> - <|m|>^2) / T.
    Differentiable
    in ``x`` (a straight-through batch passes the gradient on to the mean
    spins). All four are invariant under the global flip and the lattice
    translations.
    """
    n = x.shape[1] * x.shape[2]
    e = -(x * torch.roll(x, -1, 1) + x * torch.roll(x, -1, 2)).sum(dim=(1, 2)) / n
    m = x.mean(dim=(1, 2))
    m2 = m * m
    return torch.stack([e, (e - centre).pow(2), m.abs(), m2, m2 * m2], dim=1)


def moment_targets(torch, data, index):
    """Mean and standard deviation of :func:`global_moments` over the
    configurations ``data`` (n, L, L) of every group ``index`` (n,) in
    0..K-1 (the distinct temperatures of a conditioned model; all 0
    otherwise), each group centred on its own mean energy: two float32
    tensors (K, 5), computed in float64; the first column of the means is
    the centre."""
    data = data.double()
    means, stds = [], []
    for g in range(int(index.max()) + 1):
        group = data[index == g]
        centre = global_moments(torch, group)[:, 0].mean()
        phi = global_moments(torch, group, centre)
        means.append(phi.mean(0))
        stds.append(phi.std(0))
    return torch.stack(means).float(), torch.stack(stds).clamp_min(1e-6).float()


def moment_matching(torch, fake, mean, std):
    """Squared distance between the generated and the training set's global moments.

    ``mean`` and ``std`` (B, 5): the training set's moments (at the
    temperature of each generated configuration; :func:`moment_targets`).
    With ``d`` the deviation of a configuration's moments from ``mean`` in
    units of ``std``, the batch is split in halves and the term is
    ``sum_k mean_1(d_k) * mean_2(d_k)``: an unbiased estimate of ``sum_k (E
    d_k)^2``, zero in expectation when the generated moments are right. (The
    square of one batch mean would add ``Var(d_k) / B``, which rewards a
    generator whose moments vary too little: the failure this term is for.)
    """
    d = (global_moments(torch, fake, mean[:, 0]) - mean) / std
    half = d.shape[0] // 2
    return (d[:half].mean(0) * d[half:2 * half].mean(0)).sum()


#: the observables of :func:`distribution_matching`, in order (per spin)
MARGINALS = ("e", "|m|")


def _marginals(torch, x):
    """``(e, |m|)`` of every configuration, shape (B, 2): the first and third
    column of :func:`global_moments`."""
    return global_moments(torch, x)[:, [0, 2]]


def marginal_references(torch, data, index):
    """The training set's distributions of e and |m| at every group ``index``
    (n,) in 0..K-1 (the temperatures of a conditioned model; all 0
    otherwise), for :func:`distribution_matching`: per group a tuple
    ``(sorted, prefix, self_term)`` of float64 tensors, the values per spin
    (``sorted`` (n_g, 2) ascending per column, ``prefix`` (n_g + 1, 2) their
    cumulative sums from 0, ``self_term`` (2,) the mean of |y - y'| over all
    ordered pairs of the group, i = j included)."""
    values = _marginals(torch, data.double())
    refs = []
    for g in range(int(index.max()) + 1):
        y, _ = torch.sort(values[index == g], dim=0)
        n = y.shape[0]
        prefix = torch.cat([y.new_zeros(1, 2), torch.cumsum(y, 0)])
        rank = torch.arange(1, n + 1, dtype=y.dtype).view(-1, 1)
        self_term = 2 * (y * (2 * rank - n - 1)).sum(0) / n**2
        refs.append((y, prefix, self_term))
    return refs


def distribution_matching(torch, fake, index, refs):
    """Energy (Cramer) distance between the generated and the training set's
    distributions of e and of |m| (per spin), summed over the two.

    ``fake`` (B, L, L), ``index`` (B,) the group of each configuration,
    ``refs`` from :func:`marginal_references`. Per group g with ``B_g >= 2``
    configurations in the batch, ``D_g = 2 E|X - Y| - E|X - X'| - E|Y - Y'|``
    (X generated, Y the training set's values; Szekely's energy distance,
    in 1D twice the Cramer distance, the integral of (F_X - F_Y)^2); E|X - Y|
    is exact over the training set (sorted values and prefix sums), E|X - X'|
    the mean over the batch's distinct pairs, so the estimate is unbiased
    and 0 in expectation when the generated distribution is the training
    set's; the term is ``sum_g (B_g / B) D_g``. Unlike matching moments, the
    gradient of a configuration's value x is ``4 (F_Y(x) - F_X(x)) / B``: it
    moves each configuration towards where the distributions differ, so it
    widens a distribution that is too narrow; and unlike the Wasserstein
    distance of a batch, whose minibatch estimate is biased towards too
    narrow distributions (Bellemare et al. 2017), its minibatch gradient is
    unbiased.
    """
    values = _exact_values(torch, fake.double())
    total = values.new_zeros(())
    batch = values.shape[0]
    for g in torch.unique(index).tolist():
        rows = index == g
        n_g = int(rows.sum())
        if n_g < 2:
            continue
        y, prefix, self_term = refs[g]
        x = values[rows]                                     # (B_g, 2)
        cross = torch.stack([_mean_distance(torch, x[:, k], y[:, k].contiguous(),
                                            prefix[:, k]) for k in range(2)], 1).mean(0)
        pairs = (x.unsqueeze(0) - x.unsqueeze(1)).abs().sum((0, 1)) / (n_g * (n_g - 1))
        total = total + (n_g / batch) * (2 * cross - pairs - self_term).sum()
    return total.to(fake.dtype)


def _exact_values(torch, x):
    """:func:`_marginals` of ``x`` (float64) with the values of the exact +-1
    configuration and the gradient of ``x``. A straight-through batch,
    ``hard + mean - mean.detach()`` in float32, is +-1 only up to rounding,
    and always on the inside (``|x| = 1 - 6e-8``): its e and |m| would sit
    just off the training set's discrete levels (|m| just below 1, e just
    above -2), so a tie would count wholly on one side and the gradient
    would push the configurations at a level outwards by the level's
    probability whatever the generated distribution (at T = 1.5, L = 8 into
    the all-up lattice). Entries within 1e-6 of +-1 are taken as +-1."""
    xd = x.detach()
    snapped = torch.where((xd.abs() - 1).abs() < 1e-6, xd.sign(), xd)
    approx = _marginals(torch, x)
    return approx + (_marginals(torch, snapped) - approx.detach())


def _mean_distance(torch, x, y, prefix):
    """``E_Y |x - Y|`` for every entry of ``x``, exact over the sorted values
    ``y`` (n,) with cumulative sums ``prefix`` (n + 1,), and its derivative
    ``P(Y < x) - P(Y > x)``: a tie with ``y`` counts half on each side, as
    a tie within the batch does (torch's derivative of |0| is 0), so that
    the gradient vanishes in expectation when the distributions agree. (The
    values of e and |m| are discrete: at L = 8, T = 1.5, 70 % of the
    configurations have |m| = 1; one-sided ties would push every generated
    value at an atom up by the atom's probability.)"""
    n = y.shape[0]
    xd = x.detach().contiguous()
    below = torch.searchsorted(y, xd)
    upto = torch.searchsorted(y, xd, right=True)
    value = (xd * (2 * below - n) - 2 * prefix[below] + prefix[n]) / n
    return value + (below + upto - n) / n * (x - xd)


def pseudo_likelihood(torch, x, k):
    """Mean negative log pseudo-likelihood per site (Besag 1975) of the
    configurations ``x`` (B, L, L) in {-1, +1} under the conditionals
    ``P(s_i | rest) = 1 / (1 + exp(-2 s_i k h_i))``, ``h_i`` the sum of the
    four neighbours (periodic) and ``k`` (B, 1, 1) a coupling per
    configuration: ``mean softplus(-2 k s_i h_i)``.

    These are the conditionals of the nearest-neighbour Ising weight with
    ``k = beta`` (k_B = J = 1), of which pseudo-likelihood is a consistent
    estimator, and those of the checkerboard draw's second stage
    (:func:`gan.sampling.checkerboard`); training fits the draw's coupling
    to the training configurations with it (:mod:`gan.training`).
    """
    h = neighbour_sum(torch, x)
    return torch.nn.functional.softplus(-2 * k * x * h).mean()
