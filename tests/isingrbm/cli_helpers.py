"""Shared helpers of the ``isingrbm`` command-line tests.

Exact small datasets (independent draws from the Boltzmann distribution by
enumeration, stored in the Monte Carlo schema), a small fitted model, the
house rule for bad input (exactly one ``error:`` line on stderr) and a
snapshot of files that must stay untouched.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ising import exact as ising_exact
from ising.store import DatasetWriter, energy_magnetization
from isingrbm import cli

__all__ = ["boltzmann_spins", "exact_dataset", "fit_model", "one_error_line", "snapshot"]


def boltzmann_spins(rng, L: int, T: float, n: int) -> np.ndarray:
    """``n`` independent exact Boltzmann configurations, int8 (n, L, L)."""
    p = ising_exact.boltzmann_distribution(L, T)
    idx = rng.choice(p.size, size=n, p=p)
    spins = (2 * ((idx[:, None] >> np.arange(L * L)) & 1) - 1).astype(np.int8)
    return spins.reshape(n, L, L)


def exact_dataset(path: Path, *, L=4, temperatures=(1.5, 2.269), n=400, seed=424242) -> Path:
    """A small Monte-Carlo-schema file of exact, independent samples (by default
    the shared L = 4 data: T = 1.5 and 2.269, 400 each), one group per T."""
    rng = np.random.default_rng(seed)
    with DatasetWriter.create(path, L=L, source="monte-carlo") as w:
        for T in temperatures:
            spins = boltzmann_spins(rng, L, T, n)
            E, M = energy_magnetization(spins)
            key = f"T{T:.6g}"
            w.add_group(key, T=T, n_target=n, seed=seed, algorithm="exact-sampling")
            w.append(key, spins, E, M)
            w.mark_complete(key)
    return path


def fit_model(data: Path, out: Path, *, temperature="2.269", hidden=4, epochs=1, seed=1) -> Path:
    """``isingrbm fit`` of a small (poor) model; asserts exit status 0."""
    assert cli.main(["fit", str(data), "--temperature", str(temperature), "--hidden", str(hidden),
                     "--epochs", str(epochs), "--out", str(out), "--seed", str(seed),
                     "--quiet"]) == 0
    return out


def one_error_line(capsys, *fragments, command=None, empty_stdout=False) -> str:
    """The captured stderr is exactly one ``error:`` line (no traceback)
    containing every fragment; with ``command`` it starts ``isingrbm COMMAND: error:``;
    with ``empty_stdout`` nothing went to stdout either. Returns the line."""
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in captured.err, captured.err
    assert "error:" in lines[0], lines[0]
    if command is not None:
        assert lines[0].startswith(f"isingrbm {command}: error:"), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    if empty_stdout:
        assert captured.out == "", captured.out
    return lines[0]


def snapshot(*paths) -> dict:
    """Content and modification time of each file, to show it was left untouched."""
    return {str(p): (p.read_bytes(), p.stat().st_mtime_ns) for p in paths}
