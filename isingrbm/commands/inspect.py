"""``isingrbm inspect FILE``: per-temperature summary of a dataset file.

For every temperature: phase, algorithm, tau_int, thinning, samples, and the
observables with error bars (per spin, k_B = J = 1) beside the exact
finite-L values (Kaufman's torus for e and c at any L; full enumeration of
|m|, chi and U4 for L <= 4). ``generate`` prints the same table at its end.

A file that another process is writing (``isingrbm generate`` holds it open)
is read without HDF5's file lock: only the rows counted so far, each checked
against its stored energy and magnetization, and the table says so.
"""

from __future__ import annotations

import math

from . import _common

DESCRIPTION = """\
Print a per-temperature summary of an Ising dataset (HDF5, schema in
datasets/README.md): T, phase, algorithm, tau_int, thinning, number of samples, and
e, c, |m|, chi, U4 with one-standard-error bars (blocking / block jackknife)
beside the exact finite-lattice values (Kaufman's torus: e, c for any L;
exact enumeration: |m|, chi, U4 for L <= 4). Per spin, k_B = J = 1; chi is
the connected susceptibility beta N (<m^2> - <|m|>^2). The file is validated:
foreign, truncated or corrupt files are refused. A file that 'isingrbm
generate' is still writing is summarized from the rows written so far."""

EXAMPLE = "isingrbm inspect datasets/L16.h5            # add --json for a machine-readable summary"


def register(subparsers) -> None:
    parser = _common.add_subcommand(
        subparsers, "inspect", help="per-temperature summary of a dataset with exact values beside",
        description=DESCRIPTION, example=EXAMPLE, func=run)
    parser.add_argument("file", metavar="FILE", help="an isingrbm Ising dataset (.h5)")
    _common.add_common_options(parser)
    for action in parser._actions:            # every subcommand takes --seed; say it is unused
        if "--seed" in action.option_strings:
            action.help = "accepted like every subcommand's, unused: inspect draws no random numbers"


def run(args) -> int:
    import ising

    path = _common.check_input_file(args.file)
    data = ising.load(path, while_written=True)
    summary = summarize(data.ensembles, L=data.L, path=path, root=data.attrs)
    summary["being_written"] = data.being_written
    if args.json:
        _common.emit_json(summary)
    else:
        print(format_table(summary))
    return 0


def _exact(L: int, T: float) -> dict:
    from ising import exact
    values = {}
    finite = exact.finite_lattice(L, T)
    values["energy"] = finite["energy"]
    values["specific_heat"] = finite["specific_heat"]
    if L <= exact.MAX_ENUMERATION_L:
        enum = exact.exact_enumeration(L, T)
        for key in ("abs_magnetization", "magnetization_squared", "susceptibility",
                    "susceptibility_connected", "binder_cumulant"):
            values[key] = enum[key]
    return values


def summarize(ensembles, *, L: int, path=None, root: dict | None = None) -> dict:
    """JSON-able summary: per temperature the observables, exact values and deviations.

    Returns
    -------
    dict
        ``{"file", "L", "source", "seed", "conventions", "temperatures": [row, ...]}``;
        ``seed`` is the file's seed, else the one seed of its temperatures'
        groups (a generated file records it there), a list if they differ,
        None if none is recorded;
        each row has T, phase, algorithm, complete, n_samples, n_target,
        tau_int, thinning, seed, ``observables`` (Estimate dicts), ``exact`` and
        ``deviation_sigmas`` (estimate - exact in standard errors); rows of
        samples made exact by Metropolis-Hastings with an RBM proposal
        (``sample --exact``) also have ``metropolis_hastings``: acceptance
        rate, flip acceptance rate, proposal steps, the unit of tau_int and
        whether the equilibration check passed.
    """
    root = dict(root or {})
    rows = []
    for ens in sorted(ensembles, key=lambda e: e.T):
        attrs = ens.attrs
        row = {"T": ens.T, "phase": ens.phase, "key": ens.key,
               "algorithm": attrs.get("algorithm"), "complete": bool(attrs.get("complete", True)),
               "n_samples": ens.n_samples, "n_target": attrs.get("n_target"),
               "tau_int": attrs.get("tau_int"), "thinning": attrs.get("thinning"),
               "n_chains": attrs.get("n_chains"),
               "equilibration_sweeps": attrs.get("equilibration_sweeps"),
               "seed": _recorded_seed(attrs.get("seed"))}
        if attrs.get("method") == "metropolis-hastings":
            row["metropolis_hastings"] = {
                key: attrs.get(key) for key in ("acceptance_rate", "flip_acceptance_rate",
                                                "proposal_steps", "tau_int_unit",
                                                "equilibration_check_passed")}
        exact_values = _exact(L, ens.T)
        row["exact"] = exact_values
        if ens.n_samples:
            obs = ens.observables()
            row["observables"] = {k: v.to_dict() for k, v in obs.items()}
            row["deviation_sigmas"] = {k: obs[k].deviation(v) for k, v in exact_values.items()
                                       if math.isfinite(obs[k].error) and obs[k].error > 0}
        else:
            row["observables"] = None
            row["deviation_sigmas"] = {}
        rows.append(row)
    seed = _recorded_seed(root.get("seed"))
    if seed is None:          # generated files record the seed of each temperature's group
        seeds = sorted({row["seed"] for row in rows if row["seed"] is not None})
        seed = seeds[0] if len(seeds) == 1 else (seeds or None)
    return {"file": str(path) if path is not None else None, "L": L,
            "source": root.get("source", "monte-carlo"), "seed": seed,
            "conventions": "per spin, k_B = J = 1, periodic L x L lattice; errors are one "
                           "standard error (blocking / block jackknife); exact e, c: "
                           "Kaufman finite torus; exact |m|, chi, U4: enumeration (L <= 4); "
                           "chi = beta N (<m^2> - <|m|>^2)",
            "temperatures": rows}


def _recorded_seed(value):
    """A seed attr as an int, or None where none was recorded (absent, or -1)."""
    try:
        seed = int(value)
    except (TypeError, ValueError):
        return None
    return seed if seed >= 0 else None


def _seed_text(seed) -> str:
    if seed is None:
        return "seed not recorded"
    if isinstance(seed, list):
        return "seeds " + ", ".join(map(str, seed)) + " (per temperature)"
    return f"seed {seed}"


def _fmt(obs: dict | None, key: str) -> str:
    from mcstats.estimate import format_estimate
    return format_estimate(obs[key], missing="-") if obs else "-"


def _rate(value) -> str:
    return "-" if value is None else f"{100 * float(value):.1f} %"


def format_table(summary: dict) -> str:
    """The human table of :func:`summarize` (one line per temperature)."""
    L = summary["L"]
    head = (f"{summary.get('file') or 'ensembles'}: L = {L} periodic, source "
            f"{summary['source']}, {_seed_text(summary.get('seed'))}; per spin, k_B = J = 1")
    cols = ["T", "phase", "algorithm", "tau_int", "thin", "n", "e", "e exact", "c", "c exact",
            "|m|", "chi", "U4"]
    lines = []
    for row in summary["temperatures"]:
        tau = row.get("tau_int") or {}
        tau_text = (f"{max(tau.values()):.3g}" if isinstance(tau, dict) and tau else "-")
        n_text = str(row["n_samples"]) + ("" if row["complete"] else f"/{row['n_target']}*")
        obs = row["observables"]
        ex = row["exact"]
        m_text = _fmt(obs, "abs_magnetization")
        chi_text = _fmt(obs, "susceptibility_connected")
        u4_text = _fmt(obs, "binder_cumulant")
        if "abs_magnetization" in ex:
            m_text += f" ({ex['abs_magnetization']:.4f})"
            chi_text += f" ({ex['susceptibility_connected']:.4f})"
            u4_text += f" ({ex['binder_cumulant']:.4f})"
        lines.append([f"{row['T']:.4f}", row["phase"], str(row["algorithm"]), tau_text,
                      str(row.get("thinning") or "-"), n_text, _fmt(obs, "energy"),
                      f"{ex['energy']:.6f}", _fmt(obs, "specific_heat"),
                      f"{ex['specific_heat']:.5f}", m_text, chi_text, u4_text])
    widths = [max(len(c), *(len(r[i]) for r in lines)) if lines else len(c)
              for i, c in enumerate(cols)]
    out = [head, "  ".join(c.ljust(w) for c, w in zip(cols, widths)).rstrip()]
    out += ["  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() for r in lines]
    notes = ["tau_int: the larger of E and |M|, in sweeps (Wolff: sweep-equivalents); "
             "thin: sweeps between stored samples of a chain",
             "exact e, c: Kaufman finite L x L torus; chi = beta N (<m^2> - <|m|>^2)"]
    if L <= 4:
        notes.append("values in parentheses: exact enumeration")
    for row in summary["temperatures"]:
        mh = row.get("metropolis_hastings")
        if mh:
            check = {True: "passed", False: "FAILED"}.get(mh.get("equilibration_check_passed"),
                                                        "not recorded")
            notes.append(f"T = {row['T']:.4f}: exact RBM Monte Carlo (Metropolis-Hastings, "
                         f"RBM proposal of {mh.get('proposal_steps')} Gibbs steps): acceptance "
                         f"{_rate(mh.get('acceptance_rate'))}, flip acceptance "
                         f"{_rate(mh.get('flip_acceptance_rate'))}, tau_int in "
                         f"{mh.get('tau_int_unit') or 'proposals'}, equilibration check "
                         f"{check}")
    if summary.get("being_written"):
        notes.append(f"*: {summary.get('file')} is being written by another process "
                     "(isingrbm generate holds its lock): the rows written so far")
    elif any(not r["complete"] for r in summary["temperatures"]):
        notes.append("*: incomplete (interrupted run; continue it with generate --resume)")
    return "\n".join(out + notes)
