"""Random streams keyed by the temperature's value, files of the previous
keying (format 1, made by commit e7ddfee and checked into tests/data/), a
reader that does not demand ``n_written``, and no process-wide state changed
by importing or running the engine."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

import ising
from ising.montecarlo import STREAM_KEYING
from mccore.rng import temperature_key

DATA = Path(__file__).resolve().parents[1] / "data"
OLD_COMPLETE = DATA / "old_format1_L4_complete.h5"
OLD_PARTIAL = DATA / "old_format1_L4_partial.h5"
#: How the two files were made (by the code of e7ddfee): L = 4, T = 2.0 and
#: 3.0, 200 samples, seed 20261202, 4 chains, checkpoint_interval 0; the
#: partial one was interrupted after its third append (12 rows at T = 2.0,
#: T = 3.0 not started).
OLD_RUN = dict(L=4, temperatures=[2.0, 3.0], n_samples=200, rng=20261202, n_chains=4,
               checkpoint_interval=0.0)


def _by_T(ensembles):
    return {round(e.T, 6): e for e in ensembles}


def test_adding_a_temperature_leaves_the_others_unchanged():
    two = _by_T(ising.simulate(4, [2.0, 3.0], 64, rng=11, n_chains=4))
    three = _by_T(ising.simulate(4, [1.5, 2.0, 3.0], 64, rng=11, n_chains=4))
    for T in (2.0, 3.0):
        np.testing.assert_array_equal(two[T].spins, three[T].spins)
        np.testing.assert_array_equal(two[T].energy, three[T].energy)
    # and the streams do depend on the seed
    other = _by_T(ising.simulate(4, [2.0], 64, rng=12, n_chains=4))
    assert not np.array_equal(other[2.0].spins, two[2.0].spins)


def test_keying_is_recorded(tmp_path):
    path = tmp_path / "k.h5"
    ising.simulate(4, [2.0, 3.0], 16, rng=3, n_chains=4, path=path)
    data = ising.load(path)
    assert data.attrs["stream_keying"] == STREAM_KEYING
    for ens in data.ensembles:
        assert list(np.atleast_1d(ens.attrs["seed_spawn_key"])) == [temperature_key(ens.T)]


def test_old_files_load():
    data = ising.load(OLD_COMPLETE)                      # check=True: energies match spins
    assert data.L == 4 and data.temperatures == [2.0, 3.0]
    assert "stream_keying" not in data.attrs               # positional keying
    for ens in data.ensembles:
        assert ens.complete and ens.n_samples == 200
        assert ens.spins.dtype == np.int8 and set(np.unique(ens.spins)) == {-1, 1}
    partial = ising.load(OLD_PARTIAL)
    assert [e.n_samples for e in partial.ensembles] == [12, 0]
    assert not any(e.complete for e in partial.ensembles)


def test_resume_of_an_old_partial_file_continues_exactly(tmp_path):
    """The old partial file, resumed by today's code, ends with exactly the
    rows of the old code's uninterrupted run: the equilibrated temperature
    continues from its checkpoint, the one never started restarts from its
    recorded (positional) spawn key."""
    path = tmp_path / "partial.h5"
    shutil.copy(OLD_PARTIAL, path)
    ising.simulate(**OLD_RUN, path=path, resume=True)
    resumed, reference = ising.load(path), ising.load(OLD_COMPLETE)
    for a, b in zip(resumed.ensembles, reference.ensembles):
        assert a.complete and a.n_samples == 200
        np.testing.assert_array_equal(a.spins, b.spins)
        np.testing.assert_array_equal(a.magnetization, b.magnetization)


def test_resume_without_a_recorded_key_is_refused(tmp_path):
    from mccore.errors import InvalidParameterError
    path = tmp_path / "nokey.h5"
    shutil.copy(OLD_PARTIAL, path)
    with h5py.File(path, "r+") as f:
        del f["samples/T3.000000"].attrs["seed_spawn_key"]
    with pytest.raises(InvalidParameterError, match="seed_spawn_key"):
        ising.simulate(**OLD_RUN, path=path, resume=True)


def test_reader_accepts_groups_without_n_written(tmp_path):
    """``n_written`` is optional in the schema: without it every row counts."""
    path = tmp_path / "plain.h5"
    shutil.copy(OLD_COMPLETE, path)
    with h5py.File(path, "r+") as f:
        for g in f["samples"].values():
            del g.attrs["n_written"]
    data = ising.load(path)
    assert [e.n_samples for e in data.ensembles] == [200, 200]
    np.testing.assert_array_equal(data.ensembles[1].spins,
                                  ising.load(OLD_COMPLETE).ensembles[1].spins)
    # a truncated dataset is still caught
    with h5py.File(path, "r+") as f:
        f["samples/T2.000000/spins"].resize(150, axis=0)
    with pytest.raises(ising.store.FileFormatError, match="truncated"):
        ising.load(path)


def test_no_side_effects_at_import():
    code = ("import os, json; before = dict(os.environ); import numba; "
            "layers = list(numba.config.THREADING_LAYER_PRIORITY); "
            "import ising, ising.kernels, ising.chains, ising.montecarlo; "
            "print(json.dumps([dict(os.environ) == before, "
            "list(numba.config.THREADING_LAYER_PRIORITY) == layers]))")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_THREADING")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False,
                         env=env, cwd=Path(__file__).resolve().parents[2], timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == [True, True]


def test_simulate_restores_numba_threads():
    import numba
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("needs 2 numba threads")
    previous = numba.get_num_threads()
    numba.set_num_threads(2)
    try:
        ising.simulate(4, [2.0], 8, rng=1, n_threads=1)
        assert numba.get_num_threads() == 2
    finally:
        numba.set_num_threads(previous)


def test_threading_layer_chosen_at_the_first_parallel_launch():
    """Importing changes nothing (above); the engine's first parallel launch
    selects a sleeping pool (TBB or workqueue) over OpenMP, unless the user chose."""
    code = ("import numba, numpy as np; from ising.chains import WolffChains; "
            "c = WolffChains(64, 0.5, 4, rng=1); c.sweep(8); print(numba.threading_layer())")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_THREADING")}
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, cwd=root, timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[-1] in ("tbb", "workqueue")
    env["NUMBA_THREADING_LAYER"] = "workqueue"        # the user's choice is kept
    out = subprocess.run([sys.executable, "-c", code + "; import os; "
                          "print(os.environ.get('NUMBA_THREADING_LAYER_PRIORITY'))"],
                         capture_output=True, text=True, env=env, cwd=root, timeout=120,
                         check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[-2:] == ["workqueue", "None"]
