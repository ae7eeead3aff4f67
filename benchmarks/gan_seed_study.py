"""GAN recipes over several model seeds (issue 22): mean and spread per cell.

Per spin, k_B = J = 1, periodic L x L lattice. For every temperature, the
Monte Carlo training and test sets of ``benchmarks/gan_vs_rbm.py`` (the same
seeds, keyed by temperature); for every variant of its ``VARIANTS`` and
every model seed, one GAN is trained on the training set and generates
``n_gen`` configurations, compared by :func:`isingrbm.evaluate.compare` with
the test set (|m|, chi, f(m > 0)) and the exact finite-lattice values (e, c).
The summary gives, per temperature and variant, the mean and the range
(min..max) over the seeds of each relative deviation, and how many seeds
meet each of issue 22's targets (e 1 %, |m| 2 %, c and chi 20 %,
|f(m > 0) - 0.5| <= 0.02, TV(E) at most 3 times its Monte Carlo noise
level; conditioned, at the held-out temperatures: e 2 %, |m| 5 %, chi 30 %).

Usage::

    python benchmarks/gan_seed_study.py --out study.json            # L = 8, 7 variants
    python benchmarks/gan_seed_study.py --shard 1/2 --out a.json     # half the cells
    python benchmarks/gan_seed_study.py --summarize a.json b.json   # the table
    python benchmarks/gan_seed_study.py --summarize a.json b.json --out all.json  # merged
    python benchmarks/gan_seed_study.py --conditioned --epochs 30 --out c.json  # held out
    python benchmarks/gan_seed_study.py --quick       # T = 3.5, 2 variants, 1 seed, small

Records are written to ``--out`` (JSON, atomically) after every model, so
an interrupted study keeps what it measured; a rerun with the same ``--out``
skips the cells already there. Training runs on one torch thread.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import numpy as np

if __package__:
    from . import _harness as harness
    from . import gan_vs_rbm as base
else:
    import _harness as harness
    import gan_vs_rbm as base

STUDY_VARIANTS = ("ns+R1 straight-through", "ns+R1 st, no minibatch-std", "ns+R1 st, pack 2",
                  "ns+R1 st, pack 4", "ns+R1 st, pack 2 + minibatch-std",
                  "ns+R1 st, moment matching", "ns+R1 st, distribution matching")
#: round 4 (issue 22): both matching terms together, the weights scanned at T_c and 3.5
ROUND4_VARIANTS = {
    f"ns+R1 st, moment {mm:g} + distribution {dm:g}": {
        "loss": "nonsaturating", "training_output": "straight-through",
        "moment_matching": mm, "distribution_matching": dm}
    for mm, dm in ((0.1, 1.0), (0.3, 1.0), (0.3, 3.0))}
#: the same options as "ns+R1 st, distribution matching", run after the term took e and
#: |m| at the exact +-1 configuration (round 3's records were made before)
ROUND4_VARIANTS["ns+R1 st, distribution matching, exact levels"] = {
    "loss": "nonsaturating", "training_output": "straight-through",
    "distribution_matching": 1.0}
ROUND4_VARIANTS["ns+R1 st, moment 0.1 + distribution 1, exact levels"] = {
    "loss": "nonsaturating", "training_output": "straight-through",
    "moment_matching": 0.1, "distribution_matching": 1.0}
ROUND4_VARIANTS["ns+R1 st, distribution matching, warm-up 10"] = {
    "loss": "nonsaturating", "training_output": "straight-through",
    "distribution_matching": 1.0, "matching_warmup": 10.0}
#: round 6: the two-stage checkerboard draw (correlated neighbouring spins), with the
#: distribution term of the default recipe
ROUND4_VARIANTS["ns+R1 st, distribution matching, checkerboard"] = {
    "loss": "nonsaturating", "training_output": "straight-through",
    "distribution_matching": 1.0, "draw": "checkerboard"}
#: the draw the rounds before 6 measured, pinned whatever the default
ROUND4_VARIANTS = {name: {"draw": "independent", **kwargs}
                   for name, kwargs in ROUND4_VARIANTS.items()}
#: every recipe the study can run: gan_vs_rbm's and rounds 4 and 6
VARIANTS = {**base.VARIANTS, **ROUND4_VARIANTS}
#: the default recipe at one temperature (distribution matching, the checkerboard draw)
DEFAULT_VARIANT = "ns+R1 st, distribution matching, checkerboard"
#: issue 22's targets: relative deviation per observable (f(m > 0): absolute)
#: and TV(E) at most 3 times the Monte Carlo noise level (the ratio)
TARGETS = {"energy": 0.01, "abs_magnetization": 0.02, "specific_heat": 0.20,
           "susceptibility_connected": 0.20, "fraction_positive": 0.02, "tv_energy": 3.0}
#: ... and those of the conditioned model at held-out temperatures (None: no target)
CONDITIONED_TARGETS = {"energy": 0.02, "abs_magnetization": 0.05, "specific_heat": None,
                       "susceptibility_connected": 0.30, "fraction_positive": 0.02,
                       "tv_energy": None}


def _key(rec) -> tuple:
    return (round(rec["T"], 6), rec["source"], rec["model_seed"], rec.get("conditioned", False))


def _targets(rec) -> dict:
    return CONDITIONED_TARGETS if rec.get("conditioned") else TARGETS


def _meets(value, target) -> bool:
    return target is None or abs(value) <= target


def _write(path: Path, doc: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w") as handle:
        harness.emit(doc, file=handle)
    os.replace(tmp, path)


def _deviations(rec) -> dict:
    out = {}
    for key in base.REPORTED:
        ref = rec[key]["exact"] if rec[key]["exact"] is not None else rec[key]["mc"]
        out[key] = (rec[key]["value"] - ref) / abs(ref)
    out["fraction_positive"] = rec["fraction_positive"]["value"] - 0.5
    tv = rec["distance"]["energy"]
    out["tv_energy"] = tv["value"] / tv["noise"]
    return out


def _line(rec) -> str:
    """One model's deviations: relative ones in per cent, f(m > 0) - 0.5 and TV(E) / noise."""
    return ", ".join(f"{k} {v:.2f}" if k == "tv_energy" else
                     f"{k} {v:+.3f}" if k == "fraction_positive" else f"{k} {100 * v:+.1f} %"
                     for k, v in _deviations(rec).items())


def summarize(records: list[dict], log=print) -> list[dict]:
    """Per (L, T, variant, epochs): mean and range over seeds of every relative deviation
    (a table holds one L; the header names L when there are several)."""
    rows = []
    cells: dict = {}
    for rec in records:
        name = rec["source"] + (" (conditioned)" if rec.get("conditioned") else "")
        if rec.get("conditioned") and rec.get("n_cond", 500) != 500:
            name += f" ({rec['n_cond']} per training T)"
        if rec.get("L", 8) != 8:
            name += f" (L = {rec['L']})"
        cells.setdefault((rec["T"], name, rec["epochs"]), []).append(rec)
    cols = list(TARGETS)
    names = [{"fraction_positive": "f(m>0)-0.5", "tv_energy": "TV(E)/noise"}.get(
        k, base.SYMBOL.get(k, k).replace("|", "\\|")) for k in cols]
    log("| T | variant | epochs | seeds | " + " | ".join(names) + " | seeds meeting all |")
    log("|---|---|---|---|" + "---|" * len(cols) + "---|")
    order = {name: i for i, name in enumerate(STUDY_VARIANTS)}
    for (T, name, epochs), recs in sorted(
            cells.items(), key=lambda kv: (kv[0][0], kv[0][2], order.get(kv[0][1], 99))):
        devs = [_deviations(r) for r in sorted(recs, key=lambda r: r["model_seed"])]
        targets = _targets(recs[0])
        row = {"T": T, "variant": name, "epochs": epochs,
               "seeds": [r["model_seed"] for r in recs]}
        cells_txt = []
        for k in cols:
            v = np.array([d[k] for d in devs])
            row[k] = {"mean": float(v.mean()), "min": float(v.min()), "max": float(v.max()),
                      "n_meeting": int(sum(_meets(x, targets[k]) for x in v))}
            if k == "fraction_positive":
                cells_txt.append(f"{v.mean():+.3f} ({v.min():+.3f}..{v.max():+.3f})")
            elif k == "tv_energy":
                cells_txt.append(f"{v.mean():.1f} ({v.min():.1f}..{v.max():.1f})")
            else:
                cells_txt.append(f"{100 * v.mean():+.1f} "
                                 f"({100 * v.min():+.1f}..{100 * v.max():+.1f})")
        n_all = sum(all(_meets(d[k], targets[k]) for k in cols) for d in devs)
        log(f"| {T:g} | {name} | {epochs} | {len(devs)} | " + " | ".join(cells_txt)
            + f" | {n_all}/{len(devs)} |")
        row["n_meeting_all"] = int(n_all)
        rows.append(row)
    return rows


def main(argv=None) -> int:
    parser = harness.parser(__doc__)
    parser.add_argument("--seed", type=int, default=2026, help="base seed of the Monte Carlo sets")
    parser.add_argument("-L", type=int, default=8)
    parser.add_argument("--temperatures", type=float, nargs="+", default=[3.5, 1.5, 2.269])
    parser.add_argument("--variants", nargs="+", default=list(STUDY_VARIANTS),
                        choices=list(VARIANTS), metavar="NAME")
    parser.add_argument("--model-seeds", type=int, nargs="+", default=[3, 7, 11])
    parser.add_argument("--n-mc", type=int, default=2000,
                        help="Monte Carlo configurations per set (default 2000)")
    parser.add_argument("--n-gen", type=int, default=4000, help="generated per model")
    parser.add_argument("--epochs", type=int, default=20, help="GAN epochs (default 20)")
    parser.add_argument("--conditioned", action="store_true",
                        help="temperature-conditioned models instead: trained on the "
                             "temperatures of gan_vs_rbm.CONDITIONED_TRAIN, evaluated at the "
                             "held-out CONDITIONED_HELD_OUT")
    parser.add_argument("--n-cond", type=int, default=500,
                        help="configurations per training temperature of a conditioned "
                             "model (default 500)")
    parser.add_argument("--shard", default="1/1", help="K/N: run every N-th cell from the K-th")
    parser.add_argument("--out", type=Path, default=None, help="JSON file of the records")
    parser.add_argument("--note", default=None,
                        help="a note stored with every record this run makes (what the run "
                             "is for, e.g. a check apart from the L = 8 study's cells)")
    parser.add_argument("--keep-samples", type=Path, default=None, metavar="DIR",
                        help="also write every model's generated configurations to DIR "
                             "(one .npy per model and temperature; for histograms)")
    parser.add_argument("--summarize", type=Path, nargs="+", default=None, metavar="JSON",
                        help="print the table of existing record files and exit")
    args = parser.parse_args(argv)
    try:
        k, n = (int(x) for x in args.shard.split("/"))
    except ValueError:
        k = n = 0
    if not 1 <= k <= n:
        raise harness.BadSetting(f"--shard must be K/N with 1 <= K <= N, got {args.shard!r}")
    if args.quick:  # about a minute of CPU: the default and the adversarial loss alone
        args.temperatures, args.model_seeds, args.epochs = [3.5], [3], 10
        args.n_mc, args.n_gen = 1000, 2000
        args.variants = [DEFAULT_VARIANT, STUDY_VARIANTS[0]]
    if args.summarize:
        docs = [json.loads(p.read_text()) for p in args.summarize]
        records = [r for doc in docs for r in doc["records"]]
        rows = summarize(records, log=lambda m: print(m, file=sys.stderr if args.json
                                                       else sys.stdout))
        runs = []  # a merged document's runs are taken over, not nested in one more level
        for doc in docs:
            runs += doc["runs"] if "runs" in doc else [
                {k: v for k, v in doc.items() if k != "records"}]
        merged = {"benchmark": "gan_seed_study", "runs": runs, "summary": rows,
                  "records": records}
        if args.out is not None:  # the merged document of the record files
            _write(args.out, merged)
        if args.json:
            harness.emit(merged)
        return 0
    with harness.threads(1):
        records = _run(args)
    summarize(records, log=lambda m: print(m, file=sys.stderr if args.json else sys.stdout))
    if args.json:
        harness.emit(harness.document("gan_seed_study", args, records))
    return 0


def _run(args) -> list[dict]:
    import ising
    from isingrbm import evaluate

    k, n = (int(x) for x in args.shard.split("/"))
    doc = harness.document("gan_seed_study", args, [])
    if args.out is not None and args.out.exists():
        doc["records"] = json.loads(args.out.read_text())["records"]
    done = {_key(r) for r in doc["records"]}
    if args.conditioned:
        cells = [(None, name, s) for s in args.model_seeds for name in args.variants]
    else:
        cells = [(T, name, s) for T in args.temperatures for s in args.model_seeds
                 for name in args.variants]
    mine = [c for i, c in enumerate(cells) if i % n == k - 1]
    if args.conditioned:
        for _, name, model_seed in mine:
            if all((round(T, 6), name, model_seed, True) in done
                   for T in base.CONDITIONED_HELD_OUT):
                continue
            doc["records"] += _conditioned(args, name, model_seed)
            if args.out is not None:
                _write(args.out, doc)
        return doc["records"]
    sets = {}
    for T, name, model_seed in mine:
        if (round(T, 6), name, model_seed, False) in done:
            continue
        seed = args.seed + 100 * (base.TEMPERATURES.index(T) if T in base.TEMPERATURES
                                  else len(base.TEMPERATURES) + args.temperatures.index(T))
        if T not in sets:
            sets[T] = (ising.simulate(args.L, [T], args.n_mc, rng=seed)[0],
                       ising.simulate(args.L, [T], args.n_mc, rng=seed + 1)[0])
        train, test = sets[T]
        cpu = time.process_time()
        (spins,), secs = base._gan(train.spins, args.L, args.epochs, args.n_gen, model_seed,
                                   **VARIANTS[name])
        cpu = time.process_time() - cpu
        _keep(args, spins, T, name, model_seed)
        table = evaluate.compare(test, {name: base._Set(T, spins)}, exact=True, rng=seed + 4)
        (rec,) = base._records(table, T, {name: secs},
                               {"mode": "seed-study", "model_seed": model_seed,
                                "epochs": args.epochs, "n_mc": args.n_mc,
                                "train_cpu_seconds": cpu, "options": VARIANTS[name],
                                **({"note": args.note} if args.note else {})})
        doc["records"].append(rec)
        print(f"T = {T:g} {name} seed {model_seed}: {_line(rec)}; {cpu:.0f} CPU s",
              file=sys.stderr, flush=True)
        if args.out is not None:
            _write(args.out, doc)
    return doc["records"]


def _keep(args, spins, T, name, model_seed) -> None:
    """Write ``spins`` to ``--keep-samples`` (if given), named by L, T, recipe and seed."""
    if args.keep_samples is None:
        return
    args.keep_samples.mkdir(parents=True, exist_ok=True)
    stem = "".join(c if c.isalnum() or c in "+-." else "_" for c in name)
    np.save(args.keep_samples / f"L{args.L}_T{T:g}_{stem}_e{args.epochs}_s{model_seed}.npy",
            spins)


_COND_SETS: dict = {}


def _conditioned(args, name, model_seed) -> list[dict]:
    """One conditioned model of recipe ``name``: its records at the held-out temperatures
    (the Monte Carlo sets of gan_vs_rbm.py's conditioned column)."""
    import ising
    from isingrbm import evaluate

    seed = args.seed + 1000
    key = (args.L, args.n_cond, args.n_mc)
    if key not in _COND_SETS:
        data = ising.simulate(args.L, list(base.CONDITIONED_TRAIN), args.n_cond, rng=seed)
        tests = [ising.simulate(args.L, [T], args.n_mc, rng=seed + 10 + j)[0]
                 for j, T in enumerate(base.CONDITIONED_HELD_OUT)]
        _COND_SETS[key] = (np.concatenate([e.spins for e in data]),
                           np.concatenate([np.full(e.n_samples, e.T) for e in data]), tests)
    spins, temps, tests = _COND_SETS[key]
    cpu = time.process_time()
    outs, secs = base._gan(spins, args.L, args.epochs, args.n_gen, model_seed,
                           temperatures=temps, sample_at=base.CONDITIONED_HELD_OUT,
                           **VARIANTS[name])
    cpu = time.process_time() - cpu
    records = []
    for j, (T, test, generated) in enumerate(zip(base.CONDITIONED_HELD_OUT, tests, outs)):
        _keep(args, generated, T, name + " (conditioned)", model_seed)
        table = evaluate.compare(test, {name: base._Set(T, generated)}, exact=True,
                                 rng=seed + 20 + j)
        (rec,) = base._records(table, T, {name: secs},
                               {"mode": "seed-study", "conditioned": True,
                                "model_seed": model_seed, "epochs": args.epochs,
                                "n_mc": args.n_mc, "n_cond": args.n_cond,
                                "train_cpu_seconds": cpu, "options": VARIANTS[name],
                                **({"note": args.note} if args.note else {})})
        records.append(rec)
        print(f"conditioned, held-out T = {T:g} {name} seed {model_seed}: {_line(rec)}; "
              f"{cpu:.0f} CPU s", file=sys.stderr, flush=True)
    return records


if __name__ == "__main__":
    sys.exit(harness.main(main))
