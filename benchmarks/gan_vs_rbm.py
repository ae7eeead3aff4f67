"""GAN against RBM against Monte Carlo on the same Ising data (issue 5 target).

For L = 16 and T in {1.5, 2.269, 3.5} (k_B = J = 1, per spin):

1. Monte Carlo (``ising.simulate``, "auto" algorithm) makes a training set and
   an independent test set of the same size (different seeds);
2. an :class:`rbm.BernoulliRBM` (its default training settings, ``--hidden``
   units) and a :class:`gan.IsingGAN` (its defaults, ``--epochs``) are
   trained on the training set, each timed (training wall time on this
   machine, one process);
3. each model generates ``n_gen`` configurations (RBM: independent Gibbs
   chains of ``n_steps`` steps; GAN: independent latent draws);
4. :func:`isingrbm.evaluate.compare` puts Monte Carlo *training* set (the
   baseline: what finite samples alone allow), RBM and GAN beside the Monte
   Carlo *test* set: e, |m|, c, chi (connected) with errors, histogram
   distances of E and M (total variation, with their noise level), the
   fraction of configurations with m > 0, distinct configurations and
   verbatim copies of the test set.

No claim that either model wins: the table decides, and every number is
printed whether it is good or bad.

Usage::

    python benchmarks/gan_vs_rbm.py            # full run (long: tens of minutes on 2 cores)
    python benchmarks/gan_vs_rbm.py --quick    # small sets, few epochs (minutes)
    python benchmarks/gan_vs_rbm.py --json     # one JSON list of records on stdout
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

import numpy as np

TEMPERATURES = (1.5, 2.269, 3.5)
REPORTED = ("energy", "abs_magnetization", "specific_heat", "susceptibility_connected")
SYMBOL = {"energy": "e", "abs_magnetization": "|m|", "specific_heat": "c",
          "susceptibility_connected": "chi"}


def _config(quick: bool) -> dict:
    if quick:
        return {"L": 16, "n_mc": 1000, "n_gen": 1000, "n_steps": 200, "hidden": 64,
                "rbm_epochs": 20, "gan_epochs": 8}
    return {"L": 16, "n_mc": 5000, "n_gen": 5000, "n_steps": 1000, "hidden": 256,
            "rbm_epochs": None, "gan_epochs": 30}


class _Set:
    """A minimal ensemble (T, L, spins, energy, magnetization) for compare()."""

    def __init__(self, T, spins):
        from ising.store import energy_magnetization
        self.T = float(T)
        self.L = int(spins.shape[1])
        self.spins = np.asarray(spins, dtype=np.int8)
        self.energy, self.magnetization = energy_magnetization(self.spins)


def _rbm(train, cfg, seed):
    import rbm
    from ising.lattice import spins_to_visible, visible_to_spins

    settings = {"n_hidden": cfg["hidden"]}
    if cfg["rbm_epochs"] is not None:
        settings["n_epochs"] = cfg["rbm_epochs"]
    model = rbm.BernoulliRBM(**settings, rng=seed)
    start = time.perf_counter()
    model.fit(spins_to_visible(train.spins))
    seconds = time.perf_counter() - start
    V = model.sample(cfg["n_gen"], n_steps=cfg["n_steps"], rng=seed + 1)
    return visible_to_spins(np.rint(V).astype(np.uint8), train.L), seconds


def _gan(train, cfg, seed):
    import gan

    model = gan.IsingGAN(train.L, n_epochs=cfg["gan_epochs"], seed=seed)
    start = time.perf_counter()
    model.fit(train.spins)
    seconds = time.perf_counter() - start
    return model.sample(cfg["n_gen"], seed=seed + 1), seconds


def _records(table, T, seconds) -> list[dict]:
    out = []
    for label in table["sources"]:
        if label == table["reference"]:
            continue
        rec = {"benchmark": "gan_vs_rbm", "L": table["L"], "T": T, "source": label,
               "n_samples": table["n_samples"][label],
               "train_seconds": seconds.get(label)}
        for key in REPORTED:
            est, ref = table["observables"][label][key], table["observables"][table["reference"]][key]
            rec[key] = {"value": est.mean, "error": est.error, "mc": ref.mean,
                        "mc_error": ref.error, "sigma": table["deviation"][label][key],
                        "relative": table["relative_deviation"][label][key]}
        frac = table["fraction_positive"][label]
        rec["fraction_positive"] = {"value": frac.mean, "error": frac.error}
        rec["distance"] = {k: {"value": v["value"], "noise": v["noise"], "excess": v["excess"]}
                           for k, v in table["distance"][label].items()}
        rec["distinct"] = table["distinct"][label]
        rec["in_reference"] = table["in_reference"][label]
        out.append(rec)
    return out


def _fmt(x, err=None):
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    return f"{x:.4f}" if err is None else f"{x:.4f}({1e4 * err:.0f})"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sets, few epochs")
    parser.add_argument("--json", action="store_true", help="one JSON list of records on stdout")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--temperatures", type=float, nargs="+", default=list(TEMPERATURES))
    parser.add_argument("--n-mc", type=int, default=None,
                        help="override: Monte Carlo samples per set (and generated samples)")
    parser.add_argument("--gan-epochs", type=int, default=None, help="override: GAN epochs")
    parser.add_argument("--rbm-epochs", type=int, default=None, help="override: RBM epochs")
    args = parser.parse_args(argv)
    os.environ.setdefault("NUMBA_NUM_THREADS", "1")

    import ising
    from isingrbm import evaluate

    cfg = _config(args.quick)
    if args.n_mc is not None:
        cfg["n_mc"] = cfg["n_gen"] = args.n_mc
    if args.gan_epochs is not None:
        cfg["gan_epochs"] = args.gan_epochs
    if args.rbm_epochs is not None:
        cfg["rbm_epochs"] = args.rbm_epochs
    log = (lambda msg: print(msg, file=sys.stderr)) if args.json else print
    log(f"# GAN vs RBM vs Monte Carlo, L = {cfg['L']}, {cfg['n_mc']} MC samples per set, "
        f"{cfg['n_gen']} generated; RBM {cfg['hidden']} hidden "
        f"({cfg['rbm_epochs'] or 'default'} epochs, {cfg['n_steps']} Gibbs steps); "
        f"GAN {cfg['gan_epochs']} epochs; per spin, k_B = J = 1")
    records = []
    for i, T in enumerate(args.temperatures):
        seed = args.seed + 100 * i
        start = time.perf_counter()
        train = ising.simulate(cfg["L"], [T], cfg["n_mc"], rng=seed)[0]
        test = ising.simulate(cfg["L"], [T], cfg["n_mc"], rng=seed + 1)[0]
        mc_seconds = time.perf_counter() - start
        rbm_spins, rbm_seconds = _rbm(train, cfg, seed + 2)
        gan_spins, gan_seconds = _gan(train, cfg, seed + 3)
        generated = {"MC train": _Set(T, train.spins), "RBM": _Set(T, rbm_spins),
                     "GAN": _Set(T, gan_spins)}
        table = evaluate.compare(test, generated, exact=True)
        seconds = {"MC train": mc_seconds / 2, "RBM": rbm_seconds, "GAN": gan_seconds}
        recs = _records(table, T, seconds)
        records += recs
        log("")
        log(evaluate.format_table(table))
        log(f"training wall time: RBM {rbm_seconds:.1f} s, GAN {gan_seconds:.1f} s "
            f"(Monte Carlo {mc_seconds / 2:.1f} s per set)")
        header = f"{'T':>6} {'source':9}" + "".join(f" {SYMBOL[k]:>16}" for k in REPORTED) + \
            f" {'f(m>0)':>12} {'TV(E)':>7} {'TV(M)':>7} {'distinct':>9} {'train s':>8}"
        log(header)
        mc = table["observables"][table["reference"]]
        log(f"{T:6.3f} {'MC test':9}" + "".join(f" {_fmt(mc[k].mean, mc[k].error):>16}"
                                               for k in REPORTED))
        for rec in recs:
            dist = rec["distance"]
            log(f"{T:6.3f} {rec['source']:9}"
                + "".join(f" {_fmt(rec[k]['value'], rec[k]['error']):>16}" for k in REPORTED)
                + f" {_fmt(rec['fraction_positive']['value']):>12}"
                + f" {dist['energy']['value']:7.3f} {dist['magnetization']['value']:7.3f}"
                + f" {rec['distinct']:9d} {rec['train_seconds'] or 0:8.1f}")
    if args.json:
        json.dump(records, sys.stdout, indent=1, default=float, allow_nan=True)
        sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
