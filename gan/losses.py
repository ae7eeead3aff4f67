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
Plus the optional feature-matching term of the generator (Salimans et al.
2016). Functions of torch tensors; ``D`` is the discriminator.
"""

from __future__ import annotations

__all__ = ["LOSSES", "discriminator_loss", "generator_loss", "to_probability",
           "feature_matching"]

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
