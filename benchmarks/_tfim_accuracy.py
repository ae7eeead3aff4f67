"""The accuracy study of ``benchmarks/tfim.py``: staged SR runs, NetKet's beside, tables.

A recipe is written as phases, ``"500x1000@0.05,300x2000@0.05:0.003"``:
500 iterations of 1000 samples at learning rate 0.05, then a tail of 300
iterations of 2000 samples with the rate decaying geometrically to 0.003;
the final estimate is at the mean of the parameters of the last iterations
(Polyak averaging). These are the schedule options of
:func:`vmc.spins.run_tfim` and ``isingrbm vmc --system tfim``
(:class:`vmc.schedule.Schedule`; :func:`schedule_options` translates):
:func:`staged_run` builds the pieces ``run_tfim`` builds (public classes of
:mod:`vmc.spins`, :func:`vmc.optimizers.make_optimizer`,
:class:`vmc.driver.VMC` with the same trust region), so that it can also
start from given parameters (a warm start), and runs the driver once with
that schedule; without a warm start it computes what the command line
computes with the same options and seed. A case checkpoints (``PREFIX.h5``)
and a rerun continues where it stopped; a finished case is stored as
``PREFIX.json`` and reused (:func:`cached`). :func:`netket_staged` runs the
same phases with NetKet; :func:`command_line_run` runs the command line
itself (under ``mpiexec -n K``), as a user would; :func:`frontier_markdown` and
:func:`accuracy_figure` present the results. Convention: J = 1, energies
total, Pauli matrices; relative errors are ``(E - E_ref) / |E_ref|``
(signed: > 0 is above the reference).
"""

from __future__ import annotations

import dataclasses
import math
import os
import sys
import time

import numpy as np


@dataclasses.dataclass(frozen=True)
class Phase:
    """``iterations`` SR steps of ``samples`` samples, the learning rate going
    geometrically from ``lr_from`` to ``lr_to`` (None: constant)."""

    iterations: int
    samples: int
    lr_from: float
    lr_to: float | None = None

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def parse_phases(text: str) -> list[Phase]:
    """``"1000x1000@0.05,500x4000@0.05:0.005"`` -> phases (iterations x samples @ lr[:lr_end])."""
    phases = []
    for part in text.split(","):
        shape, _, rate = part.partition("@")
        it, _, ns = shape.partition("x")
        lo, _, hi = rate.partition(":")
        phases.append(Phase(int(it), int(ns), float(lo), float(hi) if hi else None))
    if not phases or any(p.iterations < 0 or p.samples < 1 or p.lr_from <= 0 for p in phases):
        raise ValueError(f"bad phases {text!r}")
    schedule_options(phases, 0)     # the shapes the library's schedule has
    return phases


def schedule_options(phases, average: int) -> dict:
    """The options of :func:`vmc.spins.run_tfim` (and ``isingrbm vmc``) of a recipe: a
    phase at a constant rate followed by a tail starting at the same rate, or one phase
    (constant, or all of it a tail: ``"300x2000@0.02:0.002"``)."""
    first = phases[0]
    if len(phases) == 1 and first.lr_to not in (None, first.lr_from):
        phases = [Phase(0, first.samples, first.lr_from), first]
    first, tail = phases[0], phases[1:]
    if len(phases) > 2 or first.lr_to not in (None, first.lr_from) or \
            (tail and tail[0].lr_from != first.lr_from):
        raise ValueError("a recipe is a constant phase and at most one tail starting at "
                         f"its rate, got {phases}")
    opts = {"n_iterations": sum(p.iterations for p in phases), "n_samples": first.samples,
            "learning_rate": first.lr_from, "average_last": average}
    if tail:
        opts.update(tail_iterations=tail[0].iterations,
                    tail_samples=tail[0].samples if tail[0].samples != first.samples else None,
                    tail_learning_rate=tail[0].lr_to)
    return opts


def staged_run(lattice: str, size: int, field: float, *, alpha: int, phases, seed: int,
               final_samples: int, average: int = 0, symmetric: bool = True,
               diag_shift: float = 0.01, shift_schedule: str = "constant", n_chains: int = 16,
               prefix: str | None = None, init_params=None, log=None,
               tail_diag_shift: float | None = None) -> dict:
    """Run the recipe ``phases`` (:func:`schedule_options`) on one driver; the final
    estimate at the last parameters, or at their mean over the last ``average`` iterations.
    ``tail_diag_shift``: SR's shift decays geometrically over the tail from ``diag_shift``
    to it (:class:`vmc.schedule.Schedule`; None: constant).

    Returns a dict: energy, error (blocking), variance of E_L, V-score
    ``N Var(E_L) / E^2``, exact (or None), relative error and its sigma,
    energies per iteration, CPU and wall seconds (this process, this call;
    iterations resumed from a checkpoint are not re-counted), status.
    """
    from vmc.driver import VMC
    from vmc.optimizers import make_optimizer
    from vmc.result import VMCResult
    from vmc.schedule import Schedule
    from vmc.spins import (Lattice, SpinMetropolisSampler, TFIM, exact_energy,
                           make_spin_wavefunction)
    from vmc.spins.runner import MAX_CHANGE_PER_SITE
    from mccore.rng import child, seed_sequence

    w0, c0 = time.perf_counter(), time.process_time()
    opts = schedule_options(phases, average)
    n_iterations = opts.pop("n_iterations")
    schedule = Schedule(n_iterations, diag_shift=diag_shift, tail_diag_shift=tail_diag_shift,
                        **opts)
    lat = Lattice(lattice, size)
    ham = TFIM(lat, field)
    exact, method = exact_energy(lat, field)
    ham.exact = exact
    seq = seed_sequence(seed)
    wf = make_spin_wavefunction(lat, alpha, symmetric=symmetric, rng=child(seq, 0))
    sampler = SpinMetropolisSampler(n_chains, n_threads=1, rng=child(seq, 1))
    opt = make_optimizer("sr", schedule.learning_rate, diag_shift=diag_shift,
                         shift_schedule=shift_schedule)
    if init_params is not None:     # a warm start (a resumed run restores its own)
        wf.params = np.asarray(init_params, dtype=np.float64)
    driver = VMC(ham, wf, sampler, opt, max_change=MAX_CHANGE_PER_SITE * lat.n_sites)
    settings = {"system": "tfim", "lattice": lattice, "size": size, "field": field,
                "alpha": alpha, "symmetric": symmetric, "seed": seed,
                "phases": [p.as_dict() for p in phases], "diag_shift": diag_shift,
                "shift_schedule": shift_schedule, **schedule.settings()}
    path = None if prefix is None else f"{prefix}.h5"
    previous = VMCResult.load(path) if path is not None and os.path.exists(path) else None
    start = 0 if previous is None else int(previous.resume_state["iterations"])

    def progress(step):
        if log is not None and step.step % 100 == 0:
            log(f"  it {step.step}: E {step.metrics['energy']:.6f} "
                f"lr {opt.learning_rate:.4g} shift {opt.diag_shift:.3g}")

    w1, c1 = time.perf_counter(), time.process_time()
    final = driver.run(n_iterations, n_samples=schedule.n_samples,
                       n_final_samples=final_samples, callback=progress, settings=settings,
                       notes=schedule.notes(), checkpoint=path, resume_from=previous,
                       schedule=schedule)
    if final.status == "interrupted":   # Ctrl-C / SIGTERM: the checkpoint is written
        raise KeyboardInterrupt("interrupted; rerun to continue")
    done_here = n_iterations - start
    w1, c1 = time.perf_counter() - w1, time.process_time() - c1
    e, err = final.energy.mean, final.energy.error
    rec = {"energy": e, "error": err, "variance": final.variance,
           "v_score": lat.n_sites * final.variance / e**2 if e else float("nan"),
           "exact": exact, "exact_method": method if exact is not None else None,
           "energies": [float(x) for x in final.history["energy"]], "status": final.status,
           "n_params": wf.n_params, "acceptance": final.acceptance,
           "cpu_s": time.process_time() - c0, "wall_s": time.perf_counter() - w0,
           "cpu_iter_s": c1 / max(done_here, 1), "wall_iter_s": w1 / max(done_here, 1)}
    if exact is not None:
        rec["relative_error"] = (e - exact) / abs(exact)
        rec["relative_error_sigma"] = err / abs(exact)
    rec["params"] = wf.params.tolist()
    return rec


def widen_symmetric(params, n_sites: int, alpha: int, seed: int, scale: float = 0.01):
    """Parameters ``[a, b (alpha), w (alpha x N)]`` of a symmetric RBM extended to
    ``alpha`` filters: the given filters kept, the new ones small and random."""
    p = np.asarray(params, dtype=np.float64)
    old = (p.size - 1) // (n_sites + 1)
    rng = np.random.default_rng(seed)
    b = np.concatenate([p[1:1 + old], scale * rng.standard_normal(alpha - old)])
    w = np.concatenate([p[1 + old:].reshape(old, n_sites),
                        scale * rng.standard_normal((alpha - old, n_sites))])
    return np.concatenate([p[:1], b, w.ravel()])


def cached(prefix: str | None, run, phases, stored_only: bool = False) -> dict | None:
    """``run()``'s record, stored as ``PREFIX.json``; a stored record is returned as it is
    (its per-iteration energies read back from the phases' checkpoints if it lacks them).
    ``stored_only``: None instead of running a case that has no stored record."""
    import json

    from vmc.result import VMCResult

    path = None if prefix is None else f"{prefix}.json"
    if path is not None and os.path.exists(path):
        with open(path) as fh:
            rec = json.load(fh)
        if "energies" not in rec:
            rec["energies"] = []
            for k in range(len(phases)):
                if os.path.exists(f"{prefix}.p{k}.h5"):
                    hist = VMCResult.load(f"{prefix}.p{k}.h5").history["energy"]
                    rec["energies"].extend(float(e) for e in hist)
        rec["cached"] = True
        return rec
    if stored_only:
        return None
    rec = run()
    if path is not None:
        tmp = f"{path}.tmp"
        with open(tmp, "w") as fh:
            json.dump(rec, fh)
        os.replace(tmp, path)
    return rec


def netket_staged(nk, harness, lattice: str, size: int, field: float, *, alpha: int, phases,
                  seed: int, final_samples: int, average: int = 0, diag_shift: float = 0.01,
                  shift_schedule: str = "constant", n_chains: int = 16, log=None) -> dict:
    """The same phases with NetKet's translation-symmetric RBM (``RBMSymm``), its local
    Metropolis sampler (16 chains, 5 discarded sweeps), SGD + SR with the same constant
    diagonal shift, the learning rate as an optax schedule of the same shape, the
    samples per iteration set per phase, and the same parameter average."""
    import jax
    import jax.numpy as jnp

    w0, c0 = time.perf_counter(), time.process_time()
    graph, hilbert, ham = harness.netket_tfim(lattice, size, field)
    model = nk.models.RBMSymm(symmetries=graph.translation_group(), alpha=alpha,
                              param_dtype=float)
    sampler = nk.sampler.MetropolisLocal(hilbert, n_chains=n_chains)
    state = nk.vqs.MCState(sampler, model, n_samples=phases[0].samples, n_discard_per_chain=5,
                           seed=seed, sampler_seed=seed + 1)
    starts = np.cumsum([0] + [p.iterations for p in phases])

    def schedule(count):
        lr = jnp.asarray(phases[0].lr_from)
        for p, s in zip(phases, starts[:-1]):
            end = p.lr_from if p.lr_to is None else p.lr_to
            k = jnp.clip(count - s, 0, max(p.iterations - 1, 1))
            frac = k / max(p.iterations - 1, 1)
            lr = jnp.where(count >= s, p.lr_from * (end / p.lr_from) ** frac, lr)
        return lr

    if shift_schedule == "carleo":   # our (S_kk (1 + lambda(p)) + shift), as NetKet spells it
        sr = nk.optimizer.SR(diag_shift=diag_shift,
                             diag_scale=lambda p: jnp.maximum(100.0 * 0.9 ** p, 1e-4))
    else:
        sr = nk.optimizer.SR(diag_shift=diag_shift)
    driver = nk.driver.VMC(ham, nk.optimizer.Sgd(learning_rate=schedule),
                           variational_state=state, preconditioner=sr)
    energies, kept = [], []
    total = int(starts[-1])

    def keep(step, log_data, drv):
        done = drv.step_count
        if average > 0 and done > total - average:
            kept.append(jax.tree_util.tree_map(np.asarray, drv.state.parameters))
        if log is not None and done % 100 == 0:
            log(f"  netket it {done}: E {float(np.real(log_data['Energy'].mean)):.6f}")
        return True

    w1, c1 = time.perf_counter(), time.process_time()
    for phase in phases:
        state.n_samples = phase.samples
        out = nk.logging.RuntimeLog()
        driver.run(n_iter=phase.iterations, out=out, show_progress=False, callback=keep)
        energies.extend(float(e) for e in np.asarray(out.data["Energy"]["Mean"]).real)
    w1, c1 = time.perf_counter() - w1, time.process_time() - c1
    if kept:
        state.parameters = jax.tree_util.tree_map(lambda *a: np.mean(a, axis=0), *kept)
    state.n_samples = final_samples
    final = state.expect(ham)
    e = float(np.real(final.mean))
    var = float(np.real(final.variance))
    n_sites = graph.n_nodes
    return {"energy": e, "error": float(final.error_of_mean), "variance": var,
            "v_score": n_sites * var / e**2 if e else float("nan"), "energies": energies,
            "n_params": int(state.n_parameters),
            "cpu_s": time.process_time() - c0, "wall_s": time.perf_counter() - w0,
            "cpu_iter_s": c1 / max(total, 1), "wall_iter_s": w1 / max(total, 1)}


def relative(value: float, reference: float | None) -> float:
    """``(value - reference) / |reference|``; NaN when the reference is 0 or missing."""
    if reference is None or reference == 0 or not math.isfinite(reference):
        return float("nan")
    return (value - reference) / abs(reference)


def phase_tails(energies, phases, exact, window=100) -> list:
    """Per phase: the relative error of the mean per-iteration energy over its last
    ``window`` iterations, with the naive standard error (a rough look at what each
    phase gained; the per-iteration energies are of the moving parameters)."""
    out, start = [], 0
    e = np.asarray(energies)
    for p in phases:
        tail = e[start + max(p.iterations - window, 0):start + p.iterations]
        start += p.iterations
        if tail.size > 1:
            out.append({"relative_error": (tail.mean() - exact) / abs(exact),
                        "sigma": tail.std(ddof=1) / np.sqrt(tail.size) / abs(exact),
                        "iterations": int(tail.size)})
    return out


def frontier_markdown(front) -> str:
    """The frontier cases as a markdown table (the docs page includes it)."""
    lines = ["| case | reference | ours: E | rel. error | V-score | recipe | CPU s | "
             "anchor: rel. error (V-score) |", "|---|---|---|---|---|---|---|---|"]
    for r in front:
        shape = f"chain N = {r['size']}" if r["lattice"] == "chain" else \
            f"{r['size']} × {r['size']}"
        ref = "-" if r.get("reference") is None else \
            f"{r['reference']:.6f} ({r['reference_method']})"
        rel = "-" if r.get("relative_error") is None else \
            f"{r['relative_error']:.1e} ± {r['relative_error_sigma']:.1e}"
        a = r.get("anchor") or {}
        anchor = "-" if a.get("relative_error") is None else \
            f"{a['what']}: {a['relative_error']:.1e}" + \
            (f" ({a['v_score']:.1e})" if a.get("v_score") else "")
        recipe = (f"{r['phases']}, average of the last {r['average']}, "
                  f"{r['final_samples']} final samples, shift {r['shift_schedule']}")
        if r.get("warm_start"):
            recipe += f", started from the parameters of {r['warm_start']}"
        n = r["size"] if r["lattice"] == "chain" else r["size"] ** 2
        lines.append(f"| {shape}, h = {r['field']:g}, α = {r['alpha']} | {ref} | "
                     f"{r['energy']:.5f} ± {r['error']:.5f} ({r['energy'] / n:.7f} per site) "
                     f"| {rel} | {r['v_score']:.1e} | "
                     f"{recipe} | {r['cpu_s']:.0f} | {anchor} |")
    return "\n".join(lines) + "\n"


def accuracy_figure(rows, front, path):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 3.8))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 2, 1)
    for k, field in enumerate(sorted({r["field"] for r in rows})):
        for side, style in (("ours", "-o"), ("netket", "--s")):
            pts = [(r["alpha"], abs(r[side]["relative_error"]), r[side]["relative_error_sigma"])
                   for r in rows if r["field"] == field and side in r]
            if pts:
                a, e, s = zip(*pts)
                ax.errorbar(a, e, yerr=s, fmt=style, color=f"C{k}", capsize=2,
                            label=f"h = {field:g}, {'ours' if side == 'ours' else 'NetKet'}")
    ax.set_yscale("log")
    ax.set_xscale("log", base=2)
    ax.set_xticks([1, 2, 4], ["1", "2", "4"])
    ax.set_xlabel("alpha (filters)")
    ax.set_ylabel("|E - E0| / |E0|")
    ax.set_title("chain N = 80, symmetric RBM, equal settings", fontsize=9)
    ax.legend(fontsize=7)
    ax = fig.add_subplot(1, 2, 2)
    for k, r in enumerate(front):
        if r.get("reference") is None or not r.get("energies"):
            continue
        e = np.asarray(r["energies"])
        ax.semilogy(np.arange(1, e.size + 1), np.abs(e - r["reference"]) / abs(r["reference"]),
                    color=f"C{k}", lw=0.7,
                    label=f"{r['lattice']} {r['size']} h={r['field']:g} a={r['alpha']}")
        ax.axhline(abs(r["relative_error"]), color=f"C{k}", ls=":", lw=1)
    ax.set_xlabel("iteration")
    ax.set_ylabel("per-iteration |E - E0| / |E0|; dotted: final")
    ax.set_title("accuracy runs (staged recipe)", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def tail_block_means(energies, n_tail: int, exact: float, block: int = 100) -> list:
    """[first iteration, mean, naive standard error] of the relative error of every
    ``block`` iterations of the last ``n_tail`` per-iteration energies: the level a
    tail settles at, of which a run's final figure is one draw."""
    energies = np.asarray(energies, dtype=float)
    tail = (energies[energies.size - n_tail:] - exact) / abs(exact)
    return [[k, float(tail[k:k + block].mean()),
             float(tail[k:k + block].std(ddof=1) / np.sqrt(tail[k:k + block].size))]
            for k in range(0, tail.size - 1, block)]


def _mpiexec() -> str | None:
    """The venv's mpiexec (pip's mpich) if there is one, else the one on PATH."""
    import shutil

    beside = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    return beside if os.access(beside, os.X_OK) else shutil.which("mpiexec")


def command_line_run(options: str, ranks: int, out: str) -> dict:
    """``[mpiexec -n ranks] isingrbm vmc OPTIONS --json --out OUT --resume`` in a subprocess.

    Wall time and the CPU time of every process it started (``os.times``'
    children), the ``--json`` summary, and the mean per-iteration energy of every
    100 tail iterations from the file's ``history/energy`` (the level the tail
    settles at, of which the final figure is one draw). ``--resume``: a rerun
    after an interruption continues from OUT's checkpoint (the wall time is then
    the rerun's).
    """
    import json
    import shlex
    import subprocess

    import h5py

    cmd = [sys.executable, "-m", "isingrbm", "vmc", *shlex.split(options), "--json",
           "--out", out, "--resume", "--quiet"]
    if ranks > 1:
        mpiexec = _mpiexec()
        if mpiexec is None:
            raise RuntimeError("more than one rank needs mpiexec: pip install mpi4py mpich")
        cmd = [mpiexec, "-n", str(ranks), *cmd]
    load = list(os.getloadavg())
    before, start = os.times(), time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    after = os.times()
    if done.returncode != 0:
        raise RuntimeError(f"{shlex.join(cmd)} exited {done.returncode}: {done.stderr[-2000:]}")
    summary = json.loads(done.stdout)
    words = shlex.split(options)
    n_tail = int(words[words.index("--tail-iterations") + 1])
    n_sites = int(words[words.index("--size") + 1])  # a chain
    with h5py.File(out, "r") as f:
        energies = f["history/energy"][...]
    blocks = tail_block_means(energies, n_tail, summary["exact"])
    keep = ("energy", "error", "variance", "exact", "relative_error", "relative_error_sigma",
            "acceptance", "status", "iterations", "n_samples")
    cpu = (after.children_user - before.children_user
           + after.children_system - before.children_system)
    return dict({k: summary[k] for k in keep}, command=f"isingrbm vmc {options}", ranks=ranks,
                n_params=int(summary["parameters"]["n_params"]),
                n_sites=n_sites, v_score=n_sites * summary["variance"] / summary["energy"] ** 2,
                wall_s=wall, cpu_s=cpu, tail_block_means=blocks, load_average_start=load,
                load_average_end=list(os.getloadavg()))
