"""GAN against RBM against Monte Carlo on the same Ising data, and the GAN recipe ablation.

Per spin, k_B = J = 1, periodic L x L lattice. Three modes:

default (``--quick``: smaller)
    For T in {1.5, 2.269, 3.5}: Monte Carlo (``ising.simulate``) makes a
    training set and an independent test set; an :class:`rbm.BernoulliRBM`
    (``isingrbm fit``'s defaults: the estimator's defaults, ``--hidden``
    units) and a :class:`gan.IsingGAN` (the chosen recipe, see RECIPE) are
    trained on the training set, each timed; each generates ``n_gen``
    configurations, and the same RBM also serves as the proposal of
    Metropolis-Hastings (``isingrbm sample --exact``: exact Boltzmann
    samples, its time column the sampling time, its acceptance and tau_int
    printed); :func:`isingrbm.evaluate.compare` puts Monte Carlo
    training set (what finite samples alone allow), RBM and GAN beside the
    Monte Carlo test set and the exact finite-lattice (Kaufman) e and c:
    e, |m|, c, chi with errors, TV distances of the E and M histograms with
    their noise level, the fraction with m > 0, distinct configurations.
    Then one temperature-conditioned GAN is trained on CONDITIONED_TRAIN
    (all temperatures at once) and generates at the held-out temperatures
    CONDITIONED_HELD_OUT, compared with the exact e and c.
``--ablation``
    The measurement that chose RECIPE: every variant of VARIANTS (loss x
    what the discriminator sees in training x generation rule) trained on
    the same data at each temperature, its e and c against the exact
    finite-lattice values and its |m|, chi against the Monte Carlo test set.

No claim that any model wins: the table decides, and every number is
printed whether it is good or bad. The training wall time of each model on
the machine it ran on is printed beside it.

Usage::

    python benchmarks/gan_vs_rbm.py                   # full run, L = 16 (about an hour)
    python benchmarks/gan_vs_rbm.py --quick           # L = 8, small sets (minutes)
    python benchmarks/gan_vs_rbm.py --ablation -L 8   # the recipe ablation
    python benchmarks/gan_vs_rbm.py --json            # JSON records on stdout

``--json`` prints the JSON document of ``benchmarks/_harness.py`` (machine,
conditions, records). numba and BLAS run on one thread (``harness.threads``).
"""

from __future__ import annotations

import json
import math
import sys
import time

import numpy as np

if __package__:
    from . import _harness as harness
else:
    import _harness as harness

TEMPERATURES = (1.5, 2.269, 3.5)
CONDITIONED_TRAIN = (1.5, 1.75, 2.269, 2.4, 2.8, 3.1, 3.5)
CONDITIONED_HELD_OUT = (2.0, 2.6)
REPORTED = ("energy", "abs_magnetization", "specific_heat", "susceptibility_connected")
SYMBOL = {"energy": "e", "abs_magnetization": "|m|", "specific_heat": "c",
          "susceptibility_connected": "chi"}

#: The recipe the ablations chose: IsingGAN's defaults (spelled out where the
#: ablation compared them; ``distribution_matching=1`` and ``draw="auto"`` since
#: the seed studies, docs/benchmarks/gan.md). The committed L = 16 GAN records
#: are of this recipe; those made before it (``superseded_gan_records`` of the
#: results file) are reproduced by ``--gan-option distribution_matching=0
#: --gan-option 'draw="independent"'``.
RECIPE = {"loss": "nonsaturating", "training_output": "straight-through",
          "generation": "bernoulli", "distribution_matching": 1.0, "draw": "auto"}

#: The ablation's variants: name -> IsingGAN keyword arguments. Every variant
#: was measured with the independent draw and without the distribution term
#: unless it names it, so those settings are pinned (below) whatever the default.
VARIANTS = {
    "ns+R1 mean/bernoulli": {"loss": "nonsaturating", "training_output": "mean",
                             "generation": "bernoulli"},
    "ns+R1 mean/sign": {"loss": "nonsaturating", "training_output": "mean",
                        "generation": "sign"},
    "ns+R1 straight-through": {"loss": "nonsaturating", "training_output": "straight-through"},
    "wgan-gp straight-through": {"loss": "wgan-gp", "training_output": "straight-through",
                                 "gradient_penalty": 10.0, "beta1": 0.0, "beta2": 0.9},
    "hinge+SN straight-through": {"loss": "hinge", "training_output": "straight-through",
                                  "gradient_penalty": 0.0},
    "ns+R1 straight-through sign": {"loss": "nonsaturating",
                                    "training_output": "straight-through",
                                    "generation": "sign", "noise_channels": 4},
    "ns+R1 st, bond maps": {"loss": "nonsaturating", "training_output": "straight-through",
                            "bond_features": True},
    "ns+R1 st, perceptron head": {"loss": "nonsaturating",
                                  "training_output": "straight-through", "head_hidden": 64},
    "ns+R1 st, feature matching": {"loss": "nonsaturating",
                                   "training_output": "straight-through",
                                   "feature_matching": 1.0},
    # issue 22: remedies for too-alike samples (the default has minibatch_std=True)
    "ns+R1 st, no minibatch-std": {"loss": "nonsaturating",
                                   "training_output": "straight-through",
                                   "minibatch_std": False},
    "ns+R1 st, pack 2": {"loss": "nonsaturating", "training_output": "straight-through",
                         "pack": 2, "minibatch_std": False},
    "ns+R1 st, pack 4": {"loss": "nonsaturating", "training_output": "straight-through",
                         "pack": 4, "minibatch_std": False},
    "ns+R1 st, pack 2 + minibatch-std": {"loss": "nonsaturating",
                                         "training_output": "straight-through", "pack": 2,
                                         "minibatch_std": True},
    # issue 22, round 2: the generator loss matches the global moments (gan.losses)
    "ns+R1 st, moment matching": {"loss": "nonsaturating",
                                  "training_output": "straight-through",
                                  "moment_matching": 1.0},
    # issue 22, round 3: the energy distance of the e and |m| distributions (gan.losses)
    "ns+R1 st, distribution matching": {"loss": "nonsaturating",
                                        "training_output": "straight-through",
                                        "distribution_matching": 1.0},
    "ns+R1 st, moment + distribution matching": {"loss": "nonsaturating",
                                                 "training_output": "straight-through",
                                                 "moment_matching": 1.0,
                                                 "distribution_matching": 1.0},
}
VARIANTS = {name: {"distribution_matching": 0.0, "draw": "independent", **kwargs}
            for name, kwargs in VARIANTS.items()}


def _config(args) -> dict:
    if args.quick:
        cfg = {"L": 8, "n_mc": 2000, "n_gen": 4000, "n_steps": 200, "hidden": 64,
               "rbm_epochs": None, "gan_epochs": 40, "n_cond": 600, "cond_epochs": 30}
    else:
        # GAN epochs sized to the budget of <= 15 minutes of training per
        # model on one core (8.4 s per epoch of 10^4 configurations at L = 16;
        # the conditioned model sees 7 x 5000 configurations per epoch)
        cfg = {"L": 16, "n_mc": 10000, "n_gen": 10000, "n_steps": 1000, "hidden": 256,
               "rbm_epochs": None, "gan_epochs": 60, "n_cond": 5000, "cond_epochs": 25}
    if args.L is not None:
        cfg["L"] = args.L
    if args.n_mc is not None:
        cfg["n_mc"] = cfg["n_gen"] = args.n_mc
    if args.gan_epochs is not None:
        cfg["gan_epochs"] = cfg["cond_epochs"] = args.gan_epochs
    if args.rbm_epochs is not None:
        cfg["rbm_epochs"] = args.rbm_epochs
    return cfg


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
    return visible_to_spins(np.rint(V).astype(np.uint8), train.L), seconds, model


def _rbm_exact(model, T, n_gen, seed):
    """The same RBM as Metropolis-Hastings proposal: exact Boltzmann samples."""
    from isingrbm.exact_sampling import exact_samples

    start = time.perf_counter()
    result = exact_samples(model, n_gen, T=T, rng=seed)
    return result.spins, time.perf_counter() - start, result


def _gan(spins, L, epochs, n_gen, seed, temperatures=None, sample_at=(None,), **kwargs):
    import gan

    model = gan.IsingGAN(L, n_epochs=epochs, rng=seed, conditional=temperatures is not None,
                         **kwargs)
    start = time.perf_counter()
    model.fit(spins, temperatures)
    seconds = time.perf_counter() - start
    out = [model.sample(n_gen, rng=seed + 1, temperature=T) for T in sample_at]
    return out, seconds


def _records(table, T, seconds, extra=None) -> list[dict]:
    out = []
    exact = table.get("exact") or {}
    for label in table["sources"]:
        if label == table["reference"]:
            continue
        rec = {"benchmark": "gan_vs_rbm", "L": table["L"], "T": T, "source": label,
               "n_samples": table["n_samples"][label], "train_seconds": seconds.get(label)}
        rec.update(extra or {})
        for key in REPORTED:
            est = table["observables"][label][key]
            ref = table["observables"][table["reference"]][key]
            rec[key] = {"value": est.mean, "error": est.error, "mc": ref.mean,
                        "mc_error": ref.error, "exact": exact.get(key),
                        "sigma": table["deviation"][label][key],
                        "relative": table["relative_deviation"][label][key]}
        frac = table["fraction_positive"][label]
        rec["fraction_positive"] = {"value": frac.mean, "error": frac.error}
        rec["distance"] = {k: {"value": v["value"], "noise": v["noise"], "excess": v["excess"]}
                           for k, v in table["distance"][label].items()}
        rec["distinct"] = table["distinct"][label]
        out.append(rec)
    return out


def _fmt(x, err=None):
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    return f"{x:.4f}" if err is None else f"{x:.4f}({1e4 * err:.0f})"


def _rel(x, ref):
    if ref is None or x is None or ref == 0:
        return "n/a"
    return f"{100 * (x - ref) / abs(ref):+.1f}%"


def _print_rows(log, T, table, recs):
    mc = table["observables"][table["reference"]]
    exact = table.get("exact") or {}
    log(f"{T:6.3f} {'exact':26}" + "".join(
        f" {_fmt(exact.get(k)) if k in exact else '-':>16}" for k in REPORTED))
    log(f"{T:6.3f} {'MC test':26}" + "".join(f" {_fmt(mc[k].mean, mc[k].error):>16}"
                                            for k in REPORTED))
    for rec in recs:
        dist = rec["distance"]
        log(f"{T:6.3f} {rec['source'][:26]:26}"
            + "".join(f" {_fmt(rec[k]['value'], rec[k]['error']):>16}" for k in REPORTED)
            + f" {_fmt(rec['fraction_positive']['value']):>7}"
            + f" {dist['energy']['value']:6.3f}/{dist['energy']['noise']:5.3f}"
            + f" {rec['distinct']:6d} {rec['train_seconds'] or 0:7.1f}")
        rel = [(_rel(rec[k]["value"], rec[k]["exact"] if rec[k]["exact"] is not None
                     else rec[k]["mc"])) for k in REPORTED]
        log(f"{'':6} {'  relative to exact/MC':26}" + "".join(f" {r:>16}" for r in rel))


def _header(log):
    log(f"{'T':>6} {'source':26}" + "".join(f" {SYMBOL[k]:>16}" for k in REPORTED)
        + f" {'f(m>0)':>7} {'TV(E)/noise':>12} {'distinct':>6} {'time s':>7}")


def main(argv=None) -> int:
    parser = harness.parser(__doc__)
    parser.add_argument("--ablation", action="store_true", help="the GAN recipe ablation")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("-L", type=int, default=None, help="override: lattice side")
    parser.add_argument("--temperatures", type=float, nargs="+", default=list(TEMPERATURES))
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS),
                        help="ablation variants to run (names of VARIANTS)")
    parser.add_argument("--n-mc", type=int, default=None,
                        help="override: Monte Carlo samples per set (and generated samples)")
    parser.add_argument("--gan-epochs", type=int, default=None, help="override: GAN epochs")
    parser.add_argument("--rbm-epochs", type=int, default=None, help="override: RBM epochs")
    parser.add_argument("--gan-learning-rate", type=float, default=None,
                        help="override: Adam step size of both GAN networks")
    parser.add_argument("--gan-option", action="append", default=[], metavar="NAME=JSON",
                        help="override: an IsingGAN keyword of the recipe, e.g. "
                             "head_hidden=64 (repeatable)")
    parser.add_argument("--skip-rbm", action="store_true", help="no RBM columns")
    parser.add_argument("--skip-rbm-exact", action="store_true",
                        help="no exact RBM Monte Carlo column (the RBM as Metropolis-Hastings "
                             "proposal)")
    parser.add_argument("--skip-gan", action="store_true",
                        help="no per-temperature GAN column (e.g. taken from --ablation)")
    parser.add_argument("--skip-conditioned", action="store_true",
                        help="no temperature-conditioned GAN")
    parser.add_argument("--only-conditioned", action="store_true",
                        help="only the temperature-conditioned GAN")
    parser.add_argument("--conditioned-at", type=float, nargs="+",
                        default=list(CONDITIONED_HELD_OUT),
                        help="temperatures the conditioned GAN is evaluated at (default: the "
                             "held-out ones)")
    parser.add_argument("--n-cond", type=int, default=None,
                        help="override: Monte Carlo samples per training temperature of the "
                             "conditioned GAN")
    args = parser.parse_args(argv)
    with harness.threads(1):
        records = _run(args)
    if args.json:
        harness.emit(harness.document("gan_vs_rbm", args, records))
    return 0


def _run(args) -> list[dict]:
    """Every column of the command line, printed as it is measured; the records."""
    import ising
    from isingrbm import evaluate

    cfg = _config(args)
    L = cfg["L"]
    log = (lambda msg: print(msg, file=sys.stderr, flush=True)) if args.json else \
        (lambda msg: print(msg, flush=True))
    records = []
    mode = "ablation" if args.ablation else "benchmark"
    log(f"# GAN {mode}, L = {L}, {cfg['n_mc']} MC samples per set, {cfg['n_gen']} generated, "
        f"GAN {cfg['gan_epochs']} epochs; per spin, k_B = J = 1; errors in parentheses "
        f"(units of the last digits); TV(E) with its Monte Carlo noise level")
    if args.n_cond is not None:
        cfg["n_cond"] = args.n_cond
    recipe = dict(RECIPE)
    for option in args.gan_option:
        name, _, value = option.partition("=")
        recipe[name.strip()] = json.loads(value)
    if args.gan_learning_rate is not None:
        recipe.update(learning_rate_generator=args.gan_learning_rate,
                      learning_rate_discriminator=args.gan_learning_rate)
    for i, T in enumerate([] if args.only_conditioned else args.temperatures):
        # keyed by the temperature, so that a run over a subset of TEMPERATURES
        # (e.g. one column per process) makes the same Monte Carlo sets
        seed = args.seed + 100 * (TEMPERATURES.index(T) if T in TEMPERATURES
                                  else len(TEMPERATURES) + i)
        start = time.perf_counter()
        train = ising.simulate(L, [T], cfg["n_mc"], rng=seed)[0]
        test = ising.simulate(L, [T], cfg["n_mc"], rng=seed + 1)[0]
        mc_seconds = (time.perf_counter() - start) / 2
        generated, seconds = {}, {}
        if args.ablation:
            for name in args.variants:
                (spins,), secs = _gan(train.spins, L, cfg["gan_epochs"], cfg["n_gen"], seed + 3,
                                      **VARIANTS[name])
                generated[name], seconds[name] = _Set(T, spins), secs
        else:
            generated["MC train"], seconds["MC train"] = _Set(T, train.spins), mc_seconds
            if not args.skip_rbm:
                spins, seconds["RBM"], rbm_model = _rbm(train, cfg, seed + 2)
                generated["RBM"] = _Set(T, spins)
                if not args.skip_rbm_exact:
                    spins, secs, mh = _rbm_exact(rbm_model, T, cfg["n_gen"], seed + 5)
                    generated["RBM + MH (exact)"] = _Set(T, spins)
                    # the sampling time: the model is the RBM column's
                    seconds["RBM + MH (exact)"] = secs
                    log(f"# T = {T:g}: RBM + MH: acceptance {mh.acceptance_rate:.3f}, "
                        f"tau_int {max(mh.tau_int.values()):.1f} proposals, thinning "
                        f"{mh.thinning}, {secs:.0f} s for {cfg['n_gen']} samples")
            if not args.skip_gan:
                (spins,), seconds["GAN"] = _gan(train.spins, L, cfg["gan_epochs"],
                                                cfg["n_gen"], seed + 3, **recipe)
                generated["GAN"] = _Set(T, spins)
        table = evaluate.compare(test, generated, exact=True, rng=seed + 4)
        recs = _records(table, T, seconds, {"mode": mode})
        records += recs
        log("")
        _header(log)
        _print_rows(log, T, table, recs)
    if not args.ablation and not args.skip_conditioned:
        seed = args.seed + 1000
        data = ising.simulate(L, list(CONDITIONED_TRAIN), cfg["n_cond"], rng=seed)
        spins = np.concatenate([e.spins for e in data])
        temps = np.concatenate([np.full(e.n_samples, e.T) for e in data])
        outs, secs = _gan(spins, L, cfg["cond_epochs"], cfg["n_gen"], seed + 3,
                          temperatures=temps, sample_at=args.conditioned_at, **recipe)
        log(f"\n# temperature-conditioned GAN: trained on T = "
            f"{', '.join(f'{t:g}' for t in CONDITIONED_TRAIN)} ({cfg['n_cond']} each, "
            f"{cfg['cond_epochs']} epochs, {secs:.0f} s); held out: "
            f"{', '.join(f'{t:g}' for t in CONDITIONED_HELD_OUT)}")
        _header(log)
        for j, (T, spins) in enumerate(zip(args.conditioned_at, outs)):
            test = ising.simulate(L, [T], cfg["n_mc"], rng=seed + 10 + j)[0]
            table = evaluate.compare(test, {"conditioned GAN": _Set(T, spins)}, exact=True,
                                     rng=seed + 20 + j)
            recs = _records(table, T, {"conditioned GAN": secs},
                            {"mode": "conditioned",
                             "held_out": min(abs(T - t) for t in CONDITIONED_TRAIN) > 1e-9})
            records += recs
            _print_rows(log, T, table, recs)
    return records


if __name__ == "__main__":
    sys.exit(harness.main(main))
