"""Figures of the GAN baseline: losses, sample grids during training, the latent space.

Each function takes a trained :class:`gan.IsingGAN` and returns a
:class:`matplotlib.figure.Figure` in the style of every figure of the
workbench (:mod:`isingrbm.plots.style`: Agg canvas, no pyplot). Magnetization
m = (1/N) sum_i s_i per spin; spins are drawn black = +1, white = -1 and
every figure of spins carries that key.
"""

from __future__ import annotations

import numpy as np

from .style import add_spin_key, new_figure, show_spins

__all__ = ["close", "latent_exploration", "loss_history", "training_samples"]


def _title_T(model, temperature=None) -> str:
    if getattr(model, "conditional", False):
        lo, hi = model.temperature_range_
        where = f"T = {temperature:g}, " if temperature is not None else ""
        return f"{where}conditioned on T in [{lo:g}, {hi:g}]"
    return f"T = {model.metadata_.get('T', '?')}"


def close(fig) -> None:
    """Release a figure made here (they are not registered with pyplot)."""
    fig.clear()


def _show(ax, spins, title=None):
    show_spins(ax, spins, title, fontsize=7)


def loss_history(model):
    """Discriminator and generator losses and mean D outputs per epoch."""
    hist = model.history_
    epochs = np.arange(1, len(hist["loss_discriminator"]) + 1)
    fig = new_figure(figsize=(8, 3.2), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2)
    ax1.plot(epochs, hist["loss_discriminator"], label="discriminator")
    ax1.plot(epochs, hist["loss_generator"], label="generator (-log D(G(z)))")
    ax1.axhline(2 * np.log(2), color="0.6", lw=0.8, ls="--", label="D = 1/2 everywhere")
    ax1.set_xlabel("epoch")
    ax1.set_ylabel("loss (batch mean)")
    ax1.legend(fontsize=7)
    ax2.plot(epochs, hist["d_real"], label="D(real)")
    ax2.plot(epochs, hist["d_fake"], label="D(generated)")
    ax2.plot(epochs, hist["abs_magnetization_fake"], label="|m| of generated means")
    ax2.set_xlabel("epoch")
    ax2.set_ylim(0, 1)
    ax2.legend(fontsize=7)
    fig.suptitle(f"GAN training, L = {model.L}, {_title_T(model)}", fontsize=9)
    return fig


def training_samples(model, *, n_show: int = 8):
    """Grid: one row per snapshot epoch, the same latent vectors in every row."""
    snaps = model.history_["snapshots"]
    epochs = sorted(snaps)
    if not epochs:
        fig = new_figure(figsize=(4, 1))
        fig.text(0.5, 0.5, "no snapshots recorded", ha="center", va="center")
        return fig
    n_snap = snaps[epochs[0]].shape[0]
    n_show = min(n_show, n_snap)
    # evenly spread over the snapshot set (a conditioned model's spans its temperature range)
    columns = np.unique(np.linspace(0, n_snap - 1, n_show).round().astype(int))
    n_show = len(columns)
    fig = new_figure(figsize=(1.1 * n_show, 1.2 * len(epochs)), layout="constrained")
    axes = np.atleast_2d(fig.subplots(len(epochs), n_show, squeeze=False))
    for r, epoch in enumerate(epochs):
        for c, k in enumerate(columns):
            s = snaps[epoch][k]
            title = f"m={s.mean():+.2f}"
            if getattr(model, "conditional", False):
                lo, hi = model.temperature_range_
                title = f"T={np.linspace(lo, hi, n_snap)[k]:.2f}\n" + title
            _show(axes[r, c], s, title)
        axes[r, 0].set_ylabel(f"epoch {epoch}", fontsize=8)
    what = "fixed latent vectors"
    if getattr(model, "conditional", False):
        lo, hi = model.temperature_range_
        what += f"; columns span T = {lo:g} to {hi:g}"
    fig.suptitle(f"Generated configurations during training ({what}; no symmetry applied)",
                 fontsize=9)
    add_spin_key(fig, loc="outside lower right")
    return fig


def latent_exploration(model, *, rng=0, temperature=None, n_steps: int = 9,
                       n_hist: int = 500):
    """Interpolation between two latent vectors, and scaled latent means and widths.

    Row 1: configurations along the straight line z(t) = (1 - t) z0 + t z1.
    Row 2: latent widths scaled, z = s * z0 for s in [0, 3] (s = 1 is the
    training distribution). Right panels: magnetization m along the
    interpolation (mean spin tanh(a) averaged over sites, and a Bernoulli
    draw), and the distribution of m of ``n_hist`` samples for latent noise
    N(mu, s^2) with shifted means and scaled widths. Raw generator output:
    the random global sign and translation of :meth:`gan.IsingGAN.sample` are
    not applied, so the latent space's own structure shows. A conditioned
    model is explored at ``temperature`` (default: the middle of its
    training range), and gets a third row: the same latent vector z0 at
    temperatures across the training range, with the mean |m| of ``n_hist``
    latent draws against T.
    """
    from mccore.rng import stream

    if getattr(model, "conditional", False) and temperature is None:
        temperature = 0.5 * sum(model.temperature_range_)
    rng = stream(rng, 0)
    z0, z1 = model.latent_vectors(2, rng=int(rng.integers(2**32)))
    ts = np.linspace(0, 1, n_steps)
    path = np.array([(1 - t) * z0 + t * z1 for t in ts], dtype=np.float32)
    scales = np.linspace(0, 3, n_steps)
    scaled = np.array([s * z0 for s in scales], dtype=np.float32)
    draw_seed = int(rng.integers(2**32))
    kw = {"temperature": temperature} if getattr(model, "conditional", False) else {}
    path_spins = model.generate(path, mode=model.generation, rng=draw_seed, **kw)
    path_mean = model.generate(path, mode="mean", **kw).mean(axis=(1, 2))
    scaled_spins = model.generate(scaled, mode=model.generation, rng=draw_seed, **kw)

    conditional = getattr(model, "conditional", False)
    n_rows = 3 if conditional else 2
    fig = new_figure(figsize=(1.0 * n_steps + 4.5, 2.6 * n_rows), layout="constrained")
    grid = fig.add_gridspec(n_rows, n_steps + 4)
    for i in range(n_steps):
        _show(fig.add_subplot(grid[0, i]), path_spins[i],
              f"t={ts[i]:.2f}\nm={path_spins[i].mean():+.2f}")
        _show(fig.add_subplot(grid[1, i]), scaled_spins[i],
              f"s={scales[i]:.2f}\nm={scaled_spins[i].mean():+.2f}")
    ax = fig.add_subplot(grid[0, n_steps:])
    ax.plot(ts, path_mean, "o-", label="mean of tanh(a)")
    ax.plot(ts, path_spins.mean(axis=(1, 2)), "s--", label=f"drawn ({model.generation})")
    ax.set_xlabel("interpolation t")
    ax.set_ylabel("m")
    ax.set_ylim(-1.05, 1.05)
    ax.legend(fontsize=7)
    ax = fig.add_subplot(grid[1, n_steps:])
    base = model.latent_vectors(n_hist, rng=int(rng.integers(2**32)))
    bins = np.linspace(-1, 1, 41)
    for mu, s in ((0.0, 1.0), (0.0, 0.5), (0.0, 2.0), (1.0, 1.0), (-1.0, 1.0)):
        m = model.generate((mu + s * base).astype(np.float32), mode=model.generation,
                           rng=draw_seed, **kw).mean(axis=(1, 2))
        ax.hist(m, bins=bins, histtype="step", label=f"z ~ N({mu:g}, {s:g}^2)")
    ax.set_xlabel("m per spin")
    ax.set_ylabel("count")
    ax.legend(fontsize=6)
    rows = "top, interpolation z0 -> z1; middle, scaled widths s * z0"
    if conditional:
        lo, hi = model.temperature_range_
        temps = np.linspace(lo, hi, n_steps)
        along = np.concatenate([model.generate(z0[None], mode=model.generation,
                                               rng=draw_seed, temperature=float(t))
                                for t in temps])
        for i in range(n_steps):
            _show(fig.add_subplot(grid[2, i]), along[i],
                  f"T={temps[i]:.2f}\nm={along[i].mean():+.2f}")
        ax = fig.add_subplot(grid[2, n_steps:])
        abs_m = [np.abs(model.generate(base, mode=model.generation, rng=draw_seed,
                                       temperature=float(t)).mean(axis=(1, 2))).mean()
                 for t in temps]
        ax.plot(temps, abs_m, "o-", label=f"mean |m|, {n_hist} latent draws")
        for t in model.training_temperatures_:
            ax.axvline(t, color="0.8", lw=0.8)
        ax.set_xlabel("T (grey: training temperatures)")
        ax.set_ylabel("|m|")
        ax.set_ylim(0, 1.05)
        ax.legend(fontsize=6)
        rows += "; bottom, z0 across temperatures"
    else:
        rows = rows.replace("middle", "bottom")
    fig.suptitle(f"GAN latent space, L = {model.L}, {_title_T(model, temperature)}: {rows}",
                 fontsize=9)
    add_spin_key(fig, loc="outside lower right")
    return fig
