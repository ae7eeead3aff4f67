"""The cost of exact samples from an RBM: Metropolis-Hastings with the RBM as proposal
beside checkerboard Metropolis and Wolff, measured in the same run (issues 12, 22).

For every L and T (k_B = J = 1, periodic L x L lattice):

1. Monte Carlo (``ising.simulate``, "auto") makes a training set of
   ``--train-samples`` configurations, and an RBM is trained on it with
   ``isingrbm fit``'s recipe in-process (:func:`isingrbm.pipeline.fit_rbm`:
   its symmetry images, the estimator's defaults except ``--hidden``, by
   default 2N = one hidden unit per bond, the size of the exact
   representation, and the ``--epochs``, ``--method``, ``--k-train``,
   ``--learning-rate`` given here, and rbm.BernoulliRBM's ``--weight-decay``,
   ``--optimizer``, ``--momentum``, ``--batch-size``, ``--final-lr-fraction``
   and ``--average-fraction``, which fit does not expose; a model's cache
   name records every one changed from its default; ``--translation-tied``
   ties the parameters under the lattice translations as ``isingrbm fit
   --translation-tied`` does, ``alpha = hidden / L^2`` filters, the exact
   representation at alpha = 2). Several ``--epochs`` make a training
   curve: each stage extends the run of the last from its checkpoint (the
   learning-rate schedule and averaging window laid over the new total, as
   ``rbm`` documents), its cumulative training CPU time and the acceptance
   of the proposal (k = 1 and the largest k, no local sweep,
   ``--curve-proposals`` proposals) are reported, and the benchmark uses the
   last stage. ``--models DIR`` keeps models, checkpoints and training times
   so that a rerun trains nothing again.
2. For every k (block-Gibbs steps per proposal), every number of local
   Metropolis sweeps after a proposal (``--local-sweeps``, default 0 and 1)
   and each setting of the symmetry moves (``--symmetry-moves``: "flip" =
   global flip with probability 1/2, the default of ``sample --exact``;
   "all" = the flip and a random lattice translation; "none";
   :mod:`isingrbm.exact_moves`), ``--chains`` chains built exactly as
   ``sample --exact`` builds them (:func:`isingrbm.exact_moves.exact_chain`)
   target the Ising Boltzmann distribution: after ``n_eq`` proposals, a
   series of ``--proposals`` proposals (capped by ``--proposal-budget`` for
   large k L^2) records E and M of every chain.
3. Checkerboard Metropolis and Wolff chains (:mod:`ising.chains`; one step
   a sweep, Wolff's a sweep-equivalent of clusters), with the same number
   of chains, record ``--sweeps`` sweeps.

All series of one (L, T) advance in ``--blocks`` blocks, taking turns, each
block timed by :func:`_harness.measure` (CPU and wall); a step's cost is the
median over the blocks, so the load of the shared machine falls on every
method alike. Reported per method: the acceptance rate, tau_int of E, |M|
and the signed M (Sokal window, in steps; E and |M| also in wall seconds of
the batch of chains), CPU and wall time per step per chain, effectively
independent samples per CPU second ``1 / (max(tau_E, tau_|M|) * CPU
seconds per step per chain)`` (and per wall second), and e, |m|, c, chi
(connected, beta N (<m^2> - <|m|>^2)) with blocking/jackknife errors
(:func:`ising.measure`); e and c as z-scores against the exact
finite-lattice values (Kaufman, :func:`ising.finite_lattice`), |m| and chi
against the Monte Carlo run of the algorithm ``ising`` picks for T.
Everything runs with single-threaded BLAS and numba threads (CPU time is
the fair cost on a shared machine; wall time is reported too).

Targets (issues 12, 22): every MH observable within 3 sigma of its
reference; at L = 16 and the best k, acceptance >= 50 % and tau_int(|M|) <=
5 proposals at T = 1.5 and 3.5, acceptance >= 20 % at T_c; the proposal
step at least 3x faster than the 60 us CPU per proposal per chain of the
NumPy calibration at L = 8, k = 20 (that calibration: 64 hidden units; here
2N = 128 unless ``--hidden``). The target lines also give, per cell, the
best RBM variant's effectively independent samples per CPU second over the
better of Metropolis and Wolff.

Usage::

    python benchmarks/rbm_mcmc.py --quick          # L = 8, short series (about a minute)
    python benchmarks/rbm_mcmc.py                  # L = 8, 16, 32 (hours on 2 cores)
    python benchmarks/rbm_mcmc.py --quick --json   # JSON records on stdout
    python benchmarks/rbm_mcmc.py --sizes 16 --temperatures 3.5 --epochs 10 20 40 \
        --curve-only --models /tmp/models        # acceptance against training epochs
    python benchmarks/rbm_mcmc.py --markdown a.json,b.json   # tables of saved records

``--json`` prints the JSON document of ``benchmarks/_harness.py`` (machine,
conditions, records) with the target lines under ``"targets"`` and the
training curve under ``"training_curve"``.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import sys
import tempfile
import time

import numpy as np

if __package__:
    from . import _harness as harness
else:
    import _harness as harness

TEMPERATURES = (1.5, 2.269, 3.5)
SIZES = (8, 16, 32)
KS = (1, 5, 20)
#: method-name suffix of each symmetry_moves setting
_SUFFIX = {"all": " sym", "flip": " flip", "none": ""}
CALIBRATION_US = 60.0      # NumPy calibration, L = 8, k = 20, per proposal per chain (CPU)


def _tau(series) -> tuple[float, bool]:
    from mcstats import integrated_time
    tau = integrated_time(series, quiet=True)
    return float(tau), bool(series.shape[1] >= 50 * tau)


def _observables(E, M, L, T) -> dict:
    from ising import measure
    est = measure(E.ravel(), M.ravel(), L=L, T=T)
    keys = {"energy": "e", "abs_magnetization": "abs_m", "specific_heat": "c",
            "susceptibility_connected": "chi"}
    return {short: (float(est[k].mean), float(est[k].error)) for k, short in keys.items()}


def _z(value, error, ref, ref_error=0.0) -> float:
    err = math.hypot(error, ref_error)
    return float("nan") if err == 0 else (value - ref) / err


class _Series:
    """One method's chains, advanced in timed blocks (:func:`harness.measure`, CPU and wall
    per step per chain) while E and M of every chain are recorded after every step."""

    def __init__(self, name, n_chains, n_steps, fields):
        self.name, self.fields = name, fields
        self.E = np.empty((n_chains, n_steps))
        self.M = np.empty((n_chains, n_steps))
        self.done, self.timings = 0, []

    def block(self, n) -> None:
        n = min(n, self.E.shape[1] - self.done)
        if n > 0:
            self.timings.append(harness.measure(lambda: self.advance(n), repeats=1, warmup=0,
                                                work=n * self.E.shape[0]))
            self.done += n

    def record(self, L, T) -> dict:
        E, M = self.E, self.M
        tau_e, ok_e = _tau(E)
        tau_m, ok_m = _tau(np.abs(M))
        tau_signed, _ = _tau(M)
        tau = max(tau_e, tau_m)
        wall = statistics.median(t.wall for t in self.timings)
        cpu = statistics.median(t.cpu for t in self.timings)
        return {"method": self.name, **self.fields, "n_steps": E.shape[1],
                "n_chains": E.shape[0], "blocks": len(self.timings),
                "tau_signed_m": tau_signed, "tau_e": tau_e, "tau_m": tau_m,
                "tau_reliable": ok_e and ok_m,
                "tau_e_seconds": tau_e * wall * E.shape[0],
                "tau_m_seconds": tau_m * wall * E.shape[0],
                "cpu_us_per_step_per_chain": cpu * 1e6,
                "wall_us_per_step_per_chain": wall * 1e6,
                "ess_per_second": 1.0 / (tau * wall), "ess_per_cpu_second": 1.0 / (tau * cpu),
                "observables": _observables(E, M, L, T)}


class MonteCarloSeries(_Series):
    """Checkerboard Metropolis or Wolff chains (:mod:`ising.chains`), one step a sweep."""

    def __init__(self, algorithm, L, T, n_chains, n_sweeps, seed):
        from ising import T_C
        from ising.chains import MetropolisChains, WolffChains
        super().__init__(algorithm, n_chains, n_sweeps, {"unit": "sweep"})
        cls = WolffChains if algorithm == "wolff" else MetropolisChains
        self.chains = cls(L, 1.0 / T, n_chains, rng=seed,
                          start="up" if T < T_C else "random")
        self.chains.sweep(max(100, n_sweeps // 5))

    def advance(self, n) -> None:
        for t in range(self.done, self.done + n):
            self.chains.sweep(1)
            self.E[:, t] = self.chains.energy()
            self.M[:, t] = self.chains.magnetization()


class ExactRBMSeries(_Series):
    """The chains of ``sample --exact`` (:func:`isingrbm.exact_moves.exact_chain`), one
    step a proposal (k block-Gibbs steps, MH, symmetry moves, local sweeps)."""

    def __init__(self, model, L, T, k, n_chains, n_proposals, seed, *, local_sweeps=0,
                 symmetry_moves="flip"):
        from isingrbm.exact_sampling import WARM_START_STEPS, exact_chain
        super().__init__(f"rbm k={k} sw={local_sweeps}{_SUFFIX[symmetry_moves]}", n_chains,
                         n_proposals, {"k": k, "local_sweeps": local_sweeps,
                                       "symmetry_moves": symmetry_moves, "unit": "proposal"})
        self.N, self.T = L * L, T
        self.mh = exact_chain(model, L, T, n_chains, k=k, local_sweeps=local_sweeps,
                              symmetry_moves=symmetry_moves, rng=seed)
        self.mh.warm_start(WARM_START_STEPS)
        self.mh.run(max(100, n_proposals // 5))
        self.start = self.mh.n_accepted.copy(), self.mh.n_proposed

    def advance(self, n) -> None:
        col = iter(range(self.done, self.done + n))

        def record(s):
            t = next(col)
            self.E[:, t] = np.rint(-self.T * s.log_target_values)
            self.M[:, t] = 2.0 * s.visible.sum(axis=1, dtype=np.int64) - self.N
        self.mh.run(n, callback=record)

    def record(self, L, T) -> dict:
        accepted = (self.mh.n_accepted - self.start[0]).sum()
        proposed = (self.mh.n_proposed - self.start[1]) * self.E.shape[0]
        return {**super().record(L, T), "acceptance": float(accepted / proposed)}


def measure(series, L, T, blocks) -> list[dict]:
    """Advance all ``series`` block by block, taking turns (the load of a shared machine
    falls on all alike), and return their records; timings are medians over blocks."""
    for _ in range(blocks):
        for s in series:
            s.block(math.ceil(s.E.shape[1] / blocks))
    return [s.record(L, T) for s in series]


def _model_tag(L, T, args) -> str:
    hidden = args.hidden or 2 * L * L
    lr = "auto" if args.learning_rate is None else f"{args.learning_rate:g}"
    wd = f"_wd{args.weight_decay:g}" if args.weight_decay else ""
    extra = "".join(f"_{short}{getattr(args, name)}" for name, (short, default)
                    in TRAINING_EXTRAS.items() if getattr(args, name) != default)
    tied = "_tied" if args.translation_tied else ""
    return (f"L{L}_T{T:g}_h{hidden}{tied}_n{args.train_samples}_a{args.augment}_{args.method}"
            f"{args.k_train}_lr{lr}{wd}{extra}_s{args.seed}")


#: rbm.BernoulliRBM settings the benchmark can change (not isingrbm fit flags):
#: parameter -> (tag abbreviation, BernoulliRBM's default); a model's tag names those changed
TRAINING_EXTRAS = {"optimizer": ("opt", "adam"), "momentum": ("mom", 0.5),
                   "batch_size": ("bs", 100), "final_lr_fraction": ("flr", 0.03),
                   "average_fraction": ("avg", 0.25)}


def train(L, T, args, folder) -> list[tuple[object, dict]]:
    """The RBM of (L, T) after each number of epochs in ``args.epochs``: ``[(model, info)]``.

    ``isingrbm fit``'s recipe in-process (:func:`isingrbm.pipeline.fit_rbm`'s
    data, symmetry images and estimator), keeping the training checkpoint so
    that each later stage *extends* the run (rbm.training: the learning-rate
    schedule and the averaging window are laid over the new total from the
    epoch reached); a single stage is exactly ``isingrbm fit --epochs E``.
    Models, checkpoints and cumulative training times are kept in ``folder``
    (``--models``), so a rerun with the same settings trains nothing again.
    """
    import ising
    import rbm
    from isingrbm.pipeline.rbm_steps import training_data, training_units
    hidden = args.hidden or 2 * L * L
    tag = _model_tag(L, T, args)
    data = os.path.join(folder, f"data_L{L}_T{T:g}_n{args.train_samples}_s{args.seed}.h5")
    if not os.path.exists(data):
        ising.simulate(L, [T], args.train_samples, rng=args.seed, path=data)
    log_path = os.path.join(folder, tag + ".json")
    log = {}
    if os.path.exists(log_path):
        with open(log_path) as f:
            log = json.load(f)
    X_train = None
    stages = []
    settings = {"n_hidden": hidden, "method": args.method, "k": args.k_train,
                "weight_decay": args.weight_decay,
                **{name: getattr(args, name) for name in TRAINING_EXTRAS}}
    if args.learning_rate is not None:
        settings["learning_rate"] = args.learning_rate
    if args.translation_tied:
        settings["translation_tied"] = (L, L)
    for epochs in sorted(args.epochs):
        path = os.path.join(folder, f"{tag}_e{epochs}.h5")
        if str(epochs) not in log or not os.path.exists(path):
            if X_train is None:
                ensemble = training_data(data, temperature=T)[1]
                X_train = training_units(ensemble, seed=args.seed, augment=args.augment)[1]
            done = max([int(e) for e in log if int(e) < epochs], default=0)
            cpu, wall = time.process_time(), time.perf_counter()
            model = rbm.BernoulliRBM(**settings, n_epochs=epochs, rng=args.seed)
            model.fit(X_train, checkpoint=os.path.join(folder, tag + ".checkpoint"),
                      resume=done > 0)
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            previous = log.get(str(done), {"cpu_seconds": 0.0, "wall_seconds": 0.0})
            _save(model, path)
            log[str(epochs)] = {"extended_from": done,
                                "cpu_seconds": previous["cpu_seconds"] + cpu,
                                "wall_seconds": previous["wall_seconds"] + wall}
            with open(log_path + ".tmp", "w") as f:
                json.dump(log, f)
            os.replace(log_path + ".tmp", log_path)
        info = {"hidden": hidden, "epochs": epochs, "augment": args.augment,
                "train_samples": args.train_samples, "method": args.method, "k": args.k_train,
                "learning_rate": args.learning_rate or "auto",
                "weight_decay": args.weight_decay,
                **{name: getattr(args, name) for name in TRAINING_EXTRAS},
                "translation_tied": bool(args.translation_tied),
                "extended_from": log[str(epochs)].get(
                    "extended_from", max([int(e) for e in log if int(e) < epochs], default=0)),
                "training_seconds": log[str(epochs)]["wall_seconds"],
                "training_cpu_seconds": log[str(epochs)]["cpu_seconds"]}
        stages.append((rbm.load(path), info))
    return stages


def _save(model, path) -> None:
    import rbm
    rbm.save(model, path + ".tmp.h5", overwrite=True)
    os.replace(path + ".tmp.h5", path)


def _proposals(args, L, k) -> int:
    """The MH series length: --proposals, scaled down by --proposal-budget at large k L^2."""
    if not args.proposal_budget:
        return args.proposals
    cost = (2 * k + 1) * (L * L) ** 2          # products per proposal (2 L^2 hidden units)
    return max(500, min(args.proposals, int(args.proposal_budget / cost)))


def training_curve(L, T, stages, args) -> list[dict]:
    """Acceptance of the proposal (k = 1 and ``args.ks``' largest, no local sweep, the flip)
    after each training stage: ``--curve-proposals`` proposals of ``--chains`` chains."""
    out = []
    for model, info in stages:
        row = {"L": L, "T": T, "training": info, "acceptance": {}}
        for k in sorted({1, max(args.ks)}):
            series = ExactRBMSeries(model, L, T, k, args.chains, args.curve_proposals,
                                    args.seed + k)
            row["acceptance"][str(k)] = measure([series], L, T, 1)[0]["acceptance"]
        out.append(row)
        print(f"curve L = {L}, T = {T:g}: {info['epochs']:4d} epochs, "
              f"{info['training_cpu_seconds']:7.1f} s CPU training: acceptance "
              + ", ".join(f"k={k} {a:.3f}" for k, a in row["acceptance"].items()),
              file=sys.stderr if args.json else sys.stdout, flush=True)
    return out


def run(args) -> tuple[list[dict], list[dict]]:
    from ising import finite_lattice, resolve_algorithm

    records, curve = [], []
    with tempfile.TemporaryDirectory() as scratch, harness.threads(1):
        folder = args.models or scratch
        for L in args.sizes:
            for T in args.temperatures:
                stages = train(L, T, args, folder)
                if len(stages) > 1 or args.curve_only:
                    curve += training_curve(L, T, stages, args)
                if args.curve_only:
                    continue
                model, info = stages[-1]
                exact = finite_lattice(L, T)
                series = [MonteCarloSeries(alg, L, T, args.chains, args.sweeps, args.seed)
                          for alg in ("metropolis", "wolff")]
                series += [ExactRBMSeries(model, L, T, k, args.chains, _proposals(args, L, k),
                                          args.seed + k, local_sweeps=sweeps,
                                          symmetry_moves=sym)
                           for k in args.ks for sweeps in args.local_sweeps
                           for sym in args.symmetry_moves]
                rows = measure(series, L, T, args.blocks)
                ref = rows[("metropolis", "wolff").index(resolve_algorithm(T))]["observables"]
                for row in rows:
                    obs = row["observables"]
                    row["z"] = {
                        "e": _z(*obs["e"], float(exact["energy"])),
                        "c": _z(*obs["c"], float(exact["specific_heat"])),
                        "abs_m": _z(*obs["abs_m"], *ref["abs_m"]),
                        "chi": _z(*obs["chi"], *ref["chi"]),
                    }
                    row.update({"L": L, "T": T, "training": info})
                    records.append(row)
                _print_block(L, T, info, exact, rows, file=sys.stderr if args.json else
                             sys.stdout)
    return records, curve


def _print_block(L, T, info, exact, rows, file) -> None:
    tied = " (translation-tied)" if info.get("translation_tied") else ""
    print(f"\nL = {L}, T = {T:g}: RBM {info['hidden']} hidden{tied}, {info['epochs']} epochs, "
          f"augment {info['augment']}, {info['train_samples']} MC samples; training "
          f"{info['training_seconds']:.1f} s wall ({info['training_cpu_seconds']:.1f} s CPU); "
          f"exact e = {float(exact['energy']):.5f}, c = {float(exact['specific_heat']):.4f}",
          file=file)
    print(f"{'method':<20}{'acc':>6}{'tau_E':>8}{'tau_|M|':>9}{'tau_M':>8}{'unit':>9}"
          f"{'us/chain':>10}{'ESS/cpu-s':>10}{'e':>10}{'z_e':>6}{'|m|':>8}{'z_m':>6}{'c':>8}"
          f"{'z_c':>6}{'chi':>8}{'z_chi':>6}", file=file)
    for r in rows:
        o, z = r["observables"], r["z"]
        acc = f"{r['acceptance']:.3f}" if "acceptance" in r else "-"
        flag = "" if r["tau_reliable"] else "*"
        print(f"{r['method']:<20}{acc:>6}{r['tau_e']:>8.2f}{r['tau_m']:>8.2f}{flag:1}"
              f"{r['tau_signed_m']:>8.1f}{r['unit']:>9}"
              f"{r['cpu_us_per_step_per_chain']:>10.1f}{r['ess_per_cpu_second']:>10.0f}"
              f"{o['e'][0]:>10.5f}{z['e']:>6.1f}{o['abs_m'][0]:>8.4f}{z['abs_m']:>6.1f}"
              f"{o['c'][0]:>8.3f}{z['c']:>6.1f}{o['chi'][0]:>8.3f}{z['chi']:>6.1f}", file=file)


def markdown(records) -> str:
    """The records as one Markdown table (for the README)."""
    head = ("| L | T | method | acceptance | tau_E | tau_\\|M\\| | tau_M | unit "
            "| us CPU / step / chain | ESS / CPU s | z(e) | z(\\|m\\|) | z(c) | z(chi) |")
    lines = [head, "|" + "---|" * 14]
    for r in records:
        acc = f"{r['acceptance']:.2f}" if "acceptance" in r else "-"
        star = "" if r["tau_reliable"] else "*"
        z = r["z"]
        tied = " tied" if r.get("training", {}).get("translation_tied") and "k" in r else ""
        lines.append(
            f"| {r['L']} | {r['T']:g} | {r['method']}{tied} | {acc} | {r['tau_e']:.1f}{star} | "
            f"{r['tau_m']:.1f}{star} | {r['tau_signed_m']:.0f} | {r['unit']} | "
            f"{r['cpu_us_per_step_per_chain']:.1f} | "
            f"{r['ess_per_cpu_second']:.0f} | {z['e']:.1f} | {z['abs_m']:.1f} | {z['c']:.1f} | "
            f"{z['chi']:.1f} |")
    return "\n".join(lines)


def curve_markdown(curve) -> str:
    """The training curve as a Markdown table."""
    ks = sorted({k for c in curve for k in c["acceptance"]}, key=int)
    lines = ["| L | T | hidden | method | learning rate | training configurations | epochs "
             "| training CPU s | " + " | ".join(f"acceptance k={k}" for k in ks) + " |",
             "|" + "---|" * (8 + len(ks))]
    for c in curve:
        t = c["training"]
        acc = " | ".join(f"{c['acceptance'][k]:.2f}" if k in c["acceptance"] else "-"
                         for k in ks)
        changed = ["translation-tied"] if t.get("translation_tied") else []
        changed += [f"weight decay {t['weight_decay']:g}"] if t.get("weight_decay") else []
        changed += [f"{name.replace('_', ' ')} {t[name]}" for name, (_, default)
                    in TRAINING_EXTRAS.items() if t.get(name, default) != default]
        method = ", ".join([f"{t['method']}-{t['k']}"] + changed)
        lines.append(f"| {c['L']} | {c['T']:g} | {t['hidden']} | {method} | "
                     f"{t['learning_rate']} | {t['train_samples']} x {t['augment']} | "
                     f"{t['epochs']} | {t['training_cpu_seconds']:.0f} | {acc} |")
    return "\n".join(lines)


def targets(records) -> list[str]:
    lines = []
    mh = [r for r in records if r["unit"] == "proposal"]
    bad = [(r["L"], r["T"], r["method"], key, round(v, 1)) for r in mh for key, v in r["z"].items()
           if math.isfinite(v) and abs(v) > 3]
    lines.append(f"every MH observable within 3 sigma: {'met' if not bad else 'NOT met ' + str(bad)}")
    for L in sorted({r["L"] for r in mh}):
        for T in sorted({r["T"] for r in mh if r["L"] == L}):
            rows = [r for r in mh if r["L"] == L and r["T"] == T]
            best = max(rows, key=lambda r: r["ess_per_cpu_second"])
            line = (f"L = {L}, T = {T:g}: best {best['method']} (acceptance "
                    f"{best['acceptance']:.2f}, tau_|M| {best['tau_m']:.1f} proposals, "
                    f"{best['ess_per_cpu_second']:.0f} ESS per CPU s)")
            mc = [r for r in records if r["L"] == L and r["T"] == T and r["unit"] == "sweep"]
            if mc:
                peer = max(mc, key=lambda r: r["ess_per_cpu_second"])
                line += (f"; {best['ess_per_cpu_second'] / peer['ess_per_cpu_second']:.3g}x "
                         f"the independent samples per CPU s of {peer['method']}")
            for sym in _SUFFIX:
                part = [r for r in rows if r["symmetry_moves"] == sym]
                if part and len(part) < len(rows):
                    b = max(part, key=lambda r: r["ess_per_cpu_second"])
                    line += (f"; best with symmetry moves '{sym}': "
                             f"{b['method']} {b['ess_per_cpu_second']:.0f}")
            if L == 16:
                if abs(T - 2.269) < 0.01:
                    line += f"; target acceptance >= 0.2: {'met' if best['acceptance'] >= 0.2 else 'NOT met'}"
                else:
                    ok = best["acceptance"] >= 0.5 and best["tau_m"] <= 5
                    line += f"; target acceptance >= 0.5 and tau_|M| <= 5: {'met' if ok else 'NOT met'}"
            lines.append(line)
    k20 = [r["cpu_us_per_step_per_chain"] for r in mh if r["L"] == 8 and r["k"] == 20]
    if k20:
        speed = CALIBRATION_US / max(k20)
        lines.append(f"L = 8, k = 20: {min(k20):.1f}-{max(k20):.1f} us CPU per proposal per chain, "
                     f"{speed:.1f}x the {CALIBRATION_US:g} us calibration (target 3x: "
                     f"{'met' if speed >= 3 else 'NOT met'})")
    return lines


#: the options of main(): flag -> argparse keywords
OPTIONS = {
    "--markdown": dict(metavar="JSON", help="print the Markdown tables of saved --json "
                       "outputs (comma-separated) and exit"),
    "--sizes": dict(type=int, nargs="+", help="L (default: 8, 16, 32; --quick: 8)"),
    "--temperatures": dict(type=float, nargs="+", default=list(TEMPERATURES)),
    "--ks": dict(type=int, nargs="+", default=list(KS), help="block-Gibbs steps per proposal"),
    "--local-sweeps": dict(type=int, nargs="+", default=[0, 1],
                           help="Metropolis sweeps after every proposal (default: 0 and 1)"),
    "--symmetry-moves": dict(nargs="+", choices=tuple(_SUFFIX),
                             help="moves between proposals (isingrbm.exact_moves): 'flip', "
                                  "'all' = flip + random translation, 'none' (default: all "
                                  "three; --quick: flip)"),
    "--proposal-budget": dict(type=float, help="cap the MH series at this many (2k+1) L^4 "
                              "products (>= 500 proposals); default: no cap"),
    "--chains": dict(type=int, default=64),
    "--blocks": dict(type=int, default=5, help="timed blocks of every series, taken in turns "
                     "by all methods of a cell; timings are their medians"),
    "--proposals": dict(type=int, help="MH series length (default 6000; --quick 1500)"),
    "--sweeps": dict(type=int, help="Monte Carlo series length (default 6000; --quick 1500)"),
    "--train-samples": dict(type=int, help="Monte Carlo training configurations (default "
                            "10000; --quick 2000)"),
    "--augment": dict(type=int, default=16, help="symmetry images per configuration"),
    "--hidden": dict(type=int, help="hidden units (default 2 L^2)"),
    "--epochs": dict(type=int, nargs="+", help="training epochs (default 80; --quick 10 20); "
                     "several: a training curve, each stage extending the last, the "
                     "benchmark using the last"),
    "--method": dict(choices=("cd", "pcd", "pt"), default="cd",
                     help="negative phase of the training (fit's default: cd)"),
    "--k-train": dict(type=int, default=5, help="CD/PCD steps (fit's default: 5)"),
    "--learning-rate": dict(type=float, help="initial learning rate (fit's default: auto)"),
    "--weight-decay": dict(type=float, default=0.0, help="L2 penalty on the internal weights "
                           "(rbm.BernoulliRBM's weight_decay; not an isingrbm fit flag; "
                           "default 0)"),
    "--optimizer": dict(choices=("adam", "sgd"), default="adam",
                        help="rbm.BernoulliRBM's optimizer (default adam; sgd uses --momentum)"),
    "--momentum": dict(type=float, default=0.5, help="SGD momentum (default 0.5)"),
    "--batch-size": dict(type=int, default=100, help="minibatch size (default 100)"),
    "--final-lr-fraction": dict(type=float, default=0.03, help="final over initial "
                                "learning rate of the linear schedule (default 0.03)"),
    "--average-fraction": dict(type=float, default=0.25, help="parameters averaged over "
                               "the last this fraction of the epochs (default 0.25)"),
    "--translation-tied": dict(action="store_true", help="tie the RBM under the lattice "
                               "translations (isingrbm fit --translation-tied; --hidden a "
                               "multiple of L^2)"),
    "--models": dict(help="folder that keeps trained models and training times (a rerun "
                     "trains nothing again; default: a temporary folder)"),
    "--curve-only": dict(action="store_true", help="only the training curve"),
    "--curve-proposals": dict(type=int, default=400,
                              help="proposals per chain of each training-curve point"),
    "--seed": dict(type=int, default=12),
}


def _check(args) -> None:
    """Refuse settings the run cannot honour before anything is made (one line, status 2)."""
    for flag, values, minimum in (("--sizes", args.sizes, 2), ("--ks", args.ks, 1),
                                  ("--local-sweeps", args.local_sweeps, 0),
                                  ("--epochs", args.epochs, 1), ("--chains", [args.chains], 1),
                                  ("--blocks", [args.blocks], 1),
                                  ("--proposals", [args.proposals], 1),
                                  ("--sweeps", [args.sweeps], 1),
                                  ("--train-samples", [args.train_samples], 2),
                                  ("--augment", [args.augment], 1),
                                  ("--k-train", [args.k_train], 1),
                                  ("--batch-size", [args.batch_size], 1),
                                  ("--curve-proposals", [args.curve_proposals], 1)):
        if any(v < minimum for v in values):
            raise harness.BadSetting(f"{flag} must be >= {minimum}, got {values}")
    for flag, value, ok, span in (("--momentum", args.momentum, 0 <= args.momentum < 1,
                                   "[0, 1)"),
                                  ("--final-lr-fraction", args.final_lr_fraction,
                                   0 < args.final_lr_fraction <= 1, "(0, 1]"),
                                  ("--average-fraction", args.average_fraction,
                                   0 <= args.average_fraction <= 1, "[0, 1]")):
        if not ok:
            raise harness.BadSetting(f"{flag} must be in {span}, got {value}")
    if args.hidden is not None and args.hidden < 1:
        raise harness.BadSetting(f"--hidden must be >= 1, got {args.hidden}")
    if args.translation_tied and args.hidden is not None:
        bad = [L for L in args.sizes if args.hidden % (L * L)]
        if bad:
            raise harness.BadSetting(f"--hidden must be a multiple of L^2 with "
                                     f"--translation-tied, got {args.hidden} for L = {bad}")
    if args.models and not os.path.isdir(args.models):
        raise harness.BadSetting(f"--models must be an existing folder, got {args.models!r}")


def main(argv=None) -> int:
    parser = harness.parser(__doc__)
    for flag, keywords in OPTIONS.items():
        parser.add_argument(flag, **keywords)
    args = parser.parse_args(argv)
    if args.markdown:
        records, curve = [], []
        for path in args.markdown.split(","):
            with open(path) as f:
                saved = json.load(f)
            records += saved["records"]
            curve += saved.get("training_curve", [])
        print(markdown(records))
        if curve:
            print("\n" + curve_markdown(curve))
        for line in targets(records):
            print(f"- {line}")
        return 0
    if args.sizes is None:
        args.sizes = [8] if args.quick else list(SIZES)
    if args.epochs is None:
        args.epochs = [10, 20] if args.quick else [80]
    args.symmetry_moves = args.symmetry_moves or (["flip"] if args.quick else list(_SUFFIX))
    args.proposals = args.proposals or (1500 if args.quick else 6000)
    args.sweeps = args.sweeps or (1500 if args.quick else 6000)
    args.train_samples = args.train_samples or (2000 if args.quick else 10000)
    _check(args)
    start = time.perf_counter()
    records, curve = run(args)
    summary = targets(records)
    out = sys.stderr if args.json else sys.stdout
    print("\n(* tau_int from a series shorter than 50 tau: a lower bound)", file=out)
    for line in summary:
        print(line, file=out)
    print(f"total {time.perf_counter() - start:.0f} s", file=out)
    if args.json:
        harness.emit(harness.document("rbm_mcmc", args, records, targets=summary,
                                      training_curve=curve))
    return 0


if __name__ == "__main__":
    sys.exit(harness.main(main))
