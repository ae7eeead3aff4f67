"""The HDF5 store: schema of DESIGN.md section 3, round trips, crash-safe
appends (counter bumped last, double-buffered checkpoints) and refusal of
foreign, truncated and corrupt files."""

import h5py
import numpy as np
import pytest

from ising import store
from mccore.errors import FileFormatError, InvalidParameterError, OutputExistsError


def random_spins(rng, n, L):
    return rng.choice(np.array([-1, 1], dtype=np.int8), size=(n, L, L))


def test_energy_magnetization_reference(rng):
    """Against an explicit loop over sites (right and lower neighbours, periodic)."""
    spins = random_spins(rng, 5, 3)
    E, M = store.energy_magnetization(spins)
    for s, e, m in zip(spins.astype(int), E, M):
        want = -sum(s[i, j] * (s[i, (j + 1) % 3] + s[(i + 1) % 3, j])
                    for i in range(3) for j in range(3))
        assert e == want and m == s.sum()
    # L = 2: each neighbouring pair is joined by two bonds; all up gives -2N = -8
    assert store.energy_magnetization(np.ones((1, 2, 2), np.int8))[0][0] == -8


def test_schema_written_exactly(tmp_path, rng):
    path = tmp_path / "gen.h5"
    spins = random_spins(rng, 40, 4)
    store.write_generated(path, spins, T=2.5, source="rbm", seed=7,
                          provenance={"model_file": "m.h5", "model_hash": "abc", "extra": [1, 2]})
    with h5py.File(path, "r") as f:
        a = f.attrs
        assert a["format"] == "isingrbm-ising" and a["format_version"] == 1
        assert a["L"] == 4 and a["lattice"] == "square" and a["boundary"] == "periodic"
        assert a["J"] == 1.0 and a["source"] == "rbm"
        assert "created" in a and "software_version" in a
        (key,) = list(f["samples"])
        g = f["samples"][key]
        for name in ("T", "beta", "phase", "complete", "n_target", "seed", "algorithm",
                     "thinning", "equilibration_sweeps", "tau_int"):
            assert name in g.attrs, name
        assert g.attrs["T"] == 2.5 and g.attrs["beta"] == 0.4 and g.attrs["complete"]
        assert g.attrs["phase"] == "disordered" and g.attrs["model_file"] == "m.h5"
        ds = g["spins"]
        assert ds.dtype == np.int8 and ds.shape == (40, 4, 4)
        assert ds.chunks is not None and ds.compression == "gzip" and ds.maxshape[0] is None
        assert g["energy"].dtype == np.float64 and g["magnetization"].dtype == np.float64


def test_round_trip(tmp_path, rng):
    path = tmp_path / "gen.h5"
    a, b = random_spins(rng, 30, 4), random_spins(rng, 20, 4)
    store.write_generated(path, a, T=3.0, source="gan", seed=1)
    store.write_generated(path, b, T=1.5, source="gan", seed=2, append=True)
    data = store.load(path)
    assert data.L == 4 and data.source == "gan" and data.temperatures == [1.5, 3.0]
    ens = data.ensemble(3.0)
    np.testing.assert_array_equal(ens.spins, a)
    E, M = store.energy_magnetization(a)
    np.testing.assert_array_equal(ens.energy, E)
    np.testing.assert_array_equal(ens.magnetization, M)
    assert ens.phase == "disordered" and ens.beta == pytest.approx(1 / 3)
    assert data.ensemble_for_phase("ordered").T == 1.5
    assert set(ens.observables()) >= {"energy", "specific_heat", "binder_cumulant"}
    with pytest.raises(InvalidParameterError, match="1.5, 3"):
        data.ensemble(2.0)
    with pytest.raises(InvalidParameterError):
        data.ensemble_for_phase("critical")


def test_write_generated_refuses(tmp_path, rng):
    path = tmp_path / "gen.h5"
    spins = random_spins(rng, 10, 4)
    store.write_generated(path, spins, T=2.0, source="rbm")
    before = path.read_bytes()
    with pytest.raises(OutputExistsError):
        store.write_generated(path, spins, T=3.0, source="rbm")
    with pytest.raises(InvalidParameterError):           # same T again
        store.write_generated(path, spins, T=2.0, source="rbm", append=True)
    with pytest.raises(InvalidParameterError):           # other L
        store.write_generated(path, random_spins(rng, 10, 5), T=3.0, source="rbm", append=True)
    with pytest.raises(InvalidParameterError):
        store.write_generated(path, spins * 2, T=3.0, source="rbm", overwrite=True)
    with pytest.raises(InvalidParameterError):
        store.write_generated(path, spins, T=-1.0, source="rbm", overwrite=True)
    with pytest.raises(InvalidParameterError):
        store.write_generated(path, spins, T=2.0, source="monte-carlo", overwrite=True)
    assert path.read_bytes() == before


def test_append_counter_and_checkpoint_slots(tmp_path, rng):
    """Readers see only counted rows; the valid checkpoint is the one matching the count."""
    path = tmp_path / "run.h5"
    with store.DatasetWriter.create(path, L=3) as w:
        w.add_group("T2", T=2.0, n_target=10, seed=1, algorithm="metropolis")
        w.save_checkpoint("T2", {"state": np.arange(3), "rng": {"x": 1}})
        s = random_spins(rng, 4, 3)
        w.append("T2", s, *store.energy_magnetization(s), checkpoint={"state": np.arange(4)})
        assert w.n_written("T2") == 4
        np.testing.assert_array_equal(w.checkpoint("T2")["state"], np.arange(4))
        # simulate a crash after rows + checkpoint were written but before the counter bump
        g = w._f["samples"]["T2"]
        s2 = random_spins(rng, 3, 3)
        for name, rows in zip(("spins", "energy", "magnetization"),
                              (s2, *store.energy_magnetization(s2))):
            g[name].resize(7, axis=0)
            g[name][4:7] = rows
        w._write_checkpoint(g, 4, 7, {"state": np.arange(7)})
    data = store.load(path)
    assert data.ensembles[0].n_samples == 4
    np.testing.assert_array_equal(data.ensembles[0].spins, s)
    with store.DatasetWriter.open(path) as w:
        np.testing.assert_array_equal(w.checkpoint("T2")["state"], np.arange(4))
        s3 = random_spins(rng, 2, 3)
        w.append("T2", s3, *store.energy_magnetization(s3), checkpoint={"state": np.arange(6)})
        np.testing.assert_array_equal(w.checkpoint("T2")["state"], np.arange(6))
    ens = store.load(path).ensembles[0]
    np.testing.assert_array_equal(ens.spins, np.concatenate([s, s3]))
    assert not ens.complete


def test_foreign_and_missing_files(tmp_path, foreign_files):
    text, other = foreign_files
    with pytest.raises(FileFormatError, match="notes.h5: is not an HDF5 file"):
        store.load(text)
    with pytest.raises(FileFormatError, match="other.h5: / has format='isingrbm-rbm'"):
        store.load(other)
    with pytest.raises(InvalidParameterError, match="does not exist"):
        store.load(tmp_path / "missing.h5")


def test_truncated_file(tmp_path, rng):
    path = tmp_path / "gen.h5"
    store.write_generated(path, random_spins(rng, 500, 8), T=2.0, source="rbm")
    data = path.read_bytes()
    cut = tmp_path / "cut.h5"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(FileFormatError, match="cut.h5"):
        store.load(cut)


@pytest.mark.parametrize("damage, where", [
    (lambda f, g: g["spins"].attrs.__setitem__("x", 1) or g.__delitem__("energy"),
     "/samples/T2.000000/energy is missing"),
    (lambda f, g: g.attrs.__setitem__("n_written", 999), "truncated"),
    (lambda f, g: f.attrs.__setitem__("format_version", 99), "format_version=99"),
    (lambda f, g: g.attrs.__delitem__("T"), "lacks the attr 'T'"),
    (lambda f, g: (g.__delitem__("spins"),
                   g.create_dataset("spins", data=np.zeros((20, 4, 4)))), "dtype float64"),
])
def test_corrupt_schema_names_file_and_path(tmp_path, rng, damage, where):
    path = tmp_path / "gen.h5"
    store.write_generated(path, random_spins(rng, 20, 4), T=2.0, source="rbm")
    with h5py.File(path, "r+") as f:
        damage(f, f["samples"]["T2.000000"])
    with pytest.raises(FileFormatError) as info:
        store.load(path)
    assert "gen.h5" in str(info.value) and where in str(info.value)


def test_silent_corruption_of_rows_detected(tmp_path, rng):
    path = tmp_path / "gen.h5"
    store.write_generated(path, random_spins(rng, 20, 4), T=2.0, source="rbm")
    with h5py.File(path, "r+") as f:
        f["samples/T2.000000/energy"][5] = 123.0
    with pytest.raises(FileFormatError, match=r"/samples/T2.000000/energy does not match .* row 5"):
        store.load(path)
    with h5py.File(path, "r+") as f:
        f["samples/T2.000000/spins"][3, 0, 0] = 0
    with pytest.raises(FileFormatError, match="outside"):
        store.load(path)


def test_corrupted_bytes_rejected(tmp_path, rng):
    """Overwriting the middle of the file (chunk data) gives a FileFormatError, not a crash."""
    path = tmp_path / "gen.h5"
    store.write_generated(path, random_spins(rng, 2000, 8), T=2.0, source="rbm")
    raw = bytearray(path.read_bytes())
    mid = len(raw) // 2
    raw[mid:mid + 4096] = b"\xff" * 4096
    bad = tmp_path / "bad.h5"
    bad.write_bytes(bytes(raw))
    with pytest.raises(FileFormatError, match="bad.h5"):
        store.load(bad)
