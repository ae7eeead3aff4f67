"""Same seeds give bit-identical datasets as before the store/montecarlo split,
and the dataset files written then still load.

The references (tests/data/bit_identical/) were made at b6ec560 by
``tests/data/bit_identical/make_references.py``; its docstring says how.
Floating-point bit patterns are tied to the library versions, so the
comparisons skip when numpy or numba differ from the recorded ones (the
files must still load whatever the versions).
"""

import json
from pathlib import Path

import numpy as np
import pytest
from bit_identity import load_script, skip_unless_recorded_versions

import ising

REF = Path(__file__).resolve().parents[1] / "data" / "bit_identical"
MANIFEST = json.loads((REF / "manifest.json").read_text())


refs = load_script(REF / "make_references.py")


def _same_versions():
    skip_unless_recorded_versions(MANIFEST["versions"], "numpy", "numba")


@pytest.mark.parametrize("name", sorted(refs.ISING_RUNS))
def test_old_dataset_files_load(name):
    data = ising.load(REF / f"ising_{name}_L8.h5")
    assert data.L == 8 and data.source == "monte-carlo"
    run = refs.ISING_RUNS[name]
    assert data.temperatures == pytest.approx(sorted(run["temperatures"]))
    for ens in data.ensembles:
        assert ens.complete and ens.n_samples == run["n_samples"]
        assert ens.attrs["algorithm"] == run["algorithm"]
    # the file holds exactly what the old code returned
    assert refs.ising_digests(data.ensembles) == MANIFEST["ising"][name]


@pytest.mark.parametrize("name", sorted(refs.ISING_RUNS))
def test_simulate_to_file_is_bit_identical(name, tmp_path):
    _same_versions()
    run = dict(refs.ISING_RUNS[name])
    path = tmp_path / "out.h5"
    ens = ising.simulate(run.pop("L"), run.pop("temperatures"), run.pop("n_samples"),
                         path=path, checkpoint_interval=0.0, **run)
    assert refs.ising_digests(ens) == MANIFEST["ising"][name]
    assert refs.ising_digests(ising.load(path).ensembles) == MANIFEST["ising"][name]
    old, new = ising.load(REF / f"ising_{name}_L8.h5"), ising.load(path)
    skip = {"created", "software_version"}
    assert {k: v for k, v in new.attrs.items() if k not in skip} == \
        {k: v for k, v in old.attrs.items() if k not in skip}
    for a, b in zip(old.ensembles, new.ensembles):
        assert _plain(a.attrs) == _plain(b.attrs)


def _plain(attrs: dict) -> dict:
    return {k: v.tolist() if isinstance(v, np.ndarray) else v for k, v in attrs.items()}


def test_simulate_in_memory_is_bit_identical():
    _same_versions()
    run = dict(refs.ISING_RUNS["metropolis"])
    ens = ising.simulate(run.pop("L"), run.pop("temperatures"), run.pop("n_samples"), **run)
    assert refs.ising_digests(ens) == MANIFEST["ising"]["metropolis"]


def test_write_generated_is_bit_identical(tmp_path):
    spins = ising.load(REF / "ising_metropolis_L8.h5").ensembles[0].spins
    path = tmp_path / "gen.h5"
    ising.write_generated(path, spins[:16], **refs.GENERATED)
    new, old = ising.load(path), ising.load(REF / "generated_L8.h5")
    assert refs.ising_digests(new.ensembles) == MANIFEST["ising"]["generated"]
    assert refs.ising_digests(old.ensembles) == MANIFEST["ising"]["generated"]
    skip = {"created", "software_version"}
    assert {k: v for k, v in new.attrs.items() if k not in skip} == \
        {k: v for k, v in old.attrs.items() if k not in skip}
    assert new.ensembles[0].attrs == old.ensembles[0].attrs
