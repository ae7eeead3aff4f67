"""ising.mehta: the Mehta et al. (2019) packed-bit pickles in and out.

The pickles are made here from our own Monte Carlo (L = 8) in the layout of
the published set (np.packbits rows, bit 1 = spin +1, temperatures in
ascending blocks, labels 1 ordered / 0 disordered), since the real set
cannot be downloaded during the tests.
"""

import os
import pickle

import numpy as np
import pytest
from mehta_pickles import TEMPERATURES, L, N, monte_carlo_spins, write_pickle

import ising
from ising import mehta
from ising.store import energy_magnetization, load
from mccore.errors import FileFormatError, InvalidParameterError, OutputExistsError


@pytest.fixture(scope="module")
def monte_carlo():
    return monte_carlo_spins(20260512)


def notebook_spins(packed, L):
    """The published notebooks' reading: unpackbits, reshape(-1, L*L), 0 -> -1."""
    data = np.unpackbits(packed).reshape(-1, L * L).astype(int)
    data[np.where(data == 0)] = -1
    return data.reshape(-1, L, L)


@pytest.fixture
def mehta_files(tmp_path, monte_carlo):
    """The all-T data pickle and labels pickle (1 for T < T_c) with the temperatures file."""
    data = write_pickle(tmp_path / "Ising2DFM_reSample_L8_T=All.pkl",
                        mehta.pack_spins(monte_carlo))
    labels = write_pickle(tmp_path / "Ising2DFM_reSample_L8_T=All_labels.pkl",
                          np.repeat(np.array([1, 0, 0]), N))
    return data, labels


def files_in(folder):
    return sorted(p.name for p in folder.iterdir())


# --------------------------------------------------------------------------
# the bit convention

def test_bit_one_is_spin_up_row_major():
    spins = np.ones((1, 4, 4), dtype=np.int8)
    spins[0, 0, 0] = -1            # first spin: most significant bit of byte 0
    spins[0, 1, 3] = -1            # row 1, column 3: flat index 7, last bit of byte 0
    spins[0, 3, 0] = -1            # flat index 12: bit 4 (from the left) of byte 1
    packed = mehta.pack_spins(spins)
    assert packed.dtype == np.uint8
    assert packed.tolist() == [[0b01111110, 0b11110111]]
    assert np.array_equal(mehta.unpack_spins(packed, 4), spins)


def test_pack_matches_the_notebooks_reading(monte_carlo):
    packed = mehta.pack_spins(monte_carlo)
    assert packed.shape == (3 * N, L * L // 8)
    assert np.array_equal(notebook_spins(packed, L), monte_carlo)


def test_padded_rows_when_L_squared_is_not_a_multiple_of_8(rng):
    spins = rng.choice(np.array([-1, 1], dtype=np.int8), size=(5, 6, 6))
    packed = mehta.pack_spins(spins)
    assert packed.shape == (5, 5)                      # 36 bits -> 5 bytes per row
    assert np.array_equal(mehta.unpack_spins(packed, 6), spins)


# --------------------------------------------------------------------------
# import

def test_import_is_an_ordinary_dataset(tmp_path, mehta_files, monte_carlo):
    data, labels = mehta_files
    out = tmp_path / "mehta.h5"
    summary = ising.import_mehta(data, out, labels=labels, temperatures=TEMPERATURES)
    assert [row["T"] for row in summary["temperatures"]] == list(TEMPERATURES)
    ds = load(out)                                   # validated, energies checked
    assert ds.source == "imported" and ds.L == L
    assert ds.temperatures == list(TEMPERATURES)
    assert [e.phase for e in ds.ensembles] == ["ordered", "critical", "disordered"]
    assert [e.attrs["mehta_label"] for e in ds.ensembles] == [1, 0, 0]
    spins = np.concatenate([e.spins for e in ds.ensembles])
    assert np.array_equal(spins, monte_carlo)
    for e in ds.ensembles:
        energy, magnetization = energy_magnetization(e.spins)
        assert np.array_equal(e.energy, energy) and np.array_equal(e.magnetization,
                                                                    magnetization)
        assert e.complete and e.n_samples == N


def test_imported_observables_against_kaufman(tmp_path, mehta_files):
    """The exact finite-lattice energy is the reference of an imported file too (5 sigma)."""
    data, labels = mehta_files
    out = tmp_path / "mehta.h5"
    ising.import_mehta(data, out, labels=labels, temperatures=TEMPERATURES)
    for e in load(out).ensembles:
        est = e.observables()["energy"]
        exact = ising.finite_lattice(L, e.T)["energy"]
        assert abs(est.mean - exact) < 5 * est.error, (e.T, est, exact)


def test_default_temperatures_of_an_all_file_are_the_published_16(tmp_path, rng):
    spins = rng.choice(np.array([-1, 1], dtype=np.int8), size=(16 * 3, 4, 4))
    path = write_pickle(tmp_path / "Ising2DFM_reSample_L4_T=All.pkl", mehta.pack_spins(spins))
    info = mehta.read_mehta(path)
    assert info["L"] == 4
    assert [b.T for b in info["blocks"]] == [0.25 * k for k in range(1, 17)]
    assert all(b.packed.shape == (3, 2) for b in info["blocks"])


def test_flat_bit_stream_equals_rows(tmp_path, monte_carlo):
    packed = mehta.pack_spins(monte_carlo)
    rows = write_pickle(tmp_path / "rows.pkl", packed)
    flat = write_pickle(tmp_path / "flat.pkl", np.packbits(notebook_bits(monte_carlo)))
    a = mehta.read_mehta(rows, temperatures=TEMPERATURES, L=L)
    b = mehta.read_mehta(flat, temperatures=TEMPERATURES, L=L)
    for x, y in zip(a["blocks"], b["blocks"]):
        assert x.T == y.T and np.array_equal(x.packed, y.packed)


def notebook_bits(spins):
    return ((spins.reshape(-1) + 1) // 2).astype(np.uint8)


def test_per_temperature_files_named_by_T(tmp_path, monte_carlo):
    paths = []
    for k, T in enumerate((1.5, 3.5)):
        block = monte_carlo[[0, 2][k] * N:([0, 2][k] + 1) * N]
        paths.append(write_pickle(tmp_path / f"Ising2DFM_reSample_L8_T={T:.2f}.pkl",
                                  mehta.pack_spins(block)))
    out = tmp_path / "two.h5"
    ising.import_mehta(list(reversed(paths)), out)
    ds = load(out)
    assert ds.temperatures == [1.5, 3.5]
    assert np.array_equal(ds.ensemble(3.5).spins, monte_carlo[2 * N:])
    with pytest.raises(InvalidParameterError, match="agree with the T = 1.50"):
        mehta.read_mehta(paths[0], temperatures=[2.0])


def test_name_without_temperature_needs_temperatures(tmp_path, monte_carlo):
    path = write_pickle(tmp_path / "states.pkl", mehta.pack_spins(monte_carlo))
    with pytest.raises(InvalidParameterError, match="--temperatures"):
        mehta.read_mehta(path)
    with pytest.raises(FileFormatError, match="180 configurations, not a multiple of its 7"):
        mehta.read_mehta(path, temperatures=[1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0])


# --------------------------------------------------------------------------
# the restricted unpickler

class _Evil:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


class _EvalEvil:
    def __reduce__(self):
        return eval, ("__import__('os').system('touch EVAL_MARKER')",)


@pytest.mark.parametrize("protocol", range(0, pickle.HIGHEST_PROTOCOL + 1))
def test_arrays_of_every_protocol_load(tmp_path, protocol, monte_carlo):
    packed = mehta.pack_spins(monte_carlo)
    path = write_pickle(tmp_path / "a.pkl", packed, protocol=protocol)
    got = mehta.load_array_pickle(path)
    assert type(got) is np.ndarray and got.dtype == np.uint8
    assert np.array_equal(got, packed)


def test_python2_numpy_pickle_loads(tmp_path):
    """A pickle as Python 2's NumPy wrote it (the published set dates from then): protocol
    2, ``numpy.core.multiarray._reconstruct``, the array bytes as a Python 2 str."""
    payload = bytes([0b01111110, 0b11110111, 255, 0])

    def string(b):                                  # SHORT_BINSTRING
        return b"U" + bytes([len(b)]) + b

    raw = (b"\x80\x02" + b"cnumpy.core.multiarray\n_reconstruct\n" + b"cnumpy\nndarray\n"
           + b"K\x00\x85" + string(b"b") + b"\x87R"
           + b"(K\x01K\x02K\x02\x86" + b"cnumpy\ndtype\n" + string(b"u1") + b"K\x00K\x01\x87R"
           + b"(K\x03" + string(b"|") + b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb"
           + b"\x89" + string(payload) + b"tb.")
    path = tmp_path / "py2.pkl"
    path.write_bytes(raw)
    got = mehta.load_array_pickle(path)
    assert got.dtype == np.uint8 and got.tolist() == [[0b01111110, 0b11110111], [255, 0]]


@pytest.mark.parametrize("protocol", [0, 2, pickle.HIGHEST_PROTOCOL])
def test_malicious_pickle_is_refused_without_running(tmp_path, protocol, monkeypatch):
    monkeypatch.chdir(tmp_path)
    marker = tmp_path / "MARKER"
    evil = write_pickle(tmp_path / "Ising2DFM_reSample_L8_T=All.pkl", _Evil(marker), protocol)
    with pytest.raises(FileFormatError, match="refused to load the global '(posix|os).system'"):
        ising.import_mehta(evil, tmp_path / "out.h5")
    evil2 = write_pickle(tmp_path / "e2.pkl", _EvalEvil(), protocol)
    with pytest.raises(FileFormatError, match="(builtins|__builtin__).eval"):
        mehta.load_array_pickle(evil2)
    assert not marker.exists() and not (tmp_path / "EVAL_MARKER").exists()
    assert not (tmp_path / "out.h5").exists()


def test_array_with_a_forged_reconstruct_shape_is_refused(tmp_path):
    """NumPy pickles an empty (0,) stub; a pickle asking _reconstruct for more is refused."""
    proto = pickle.dumps(np.zeros(3, dtype=np.uint8), protocol=2)
    forged = proto.replace(b"K\x00\x85", b"J\x00\x00\x00\x10\x85")   # shape (0,) -> (2**28,)
    assert forged != proto
    path = tmp_path / "forged.pkl"
    path.write_bytes(forged)
    with pytest.raises(FileFormatError,
                       match=r"refused an array reconstruction of shape \(268435456,\)"):
        mehta.load_array_pickle(path)


# --------------------------------------------------------------------------
# bad input: refused before anything is written

def _refused(tmp_path, exc, match, paths, **kwargs):
    before = files_in(tmp_path)
    with pytest.raises(exc, match=match):
        ising.import_mehta(paths, tmp_path / "out.h5", **kwargs)
    assert files_in(tmp_path) == before


def test_wrong_dtype(tmp_path, monte_carlo):
    path = write_pickle(tmp_path / "Ising2DFM_reSample_L8_T=All.pkl",
                        mehta.pack_spins(monte_carlo).astype(np.int64))
    _refused(tmp_path, FileFormatError, "dtype int64, expected uint8", path,
             temperatures=TEMPERATURES)


def test_wrong_shape(tmp_path, monte_carlo):
    path = write_pickle(tmp_path / "Ising2DFM_reSample_L8_T=All.pkl",
                        mehta.pack_spins(monte_carlo)[:, :7])
    _refused(tmp_path, FileFormatError, r"shape \(180, 7\), expected \(n, 8\)", path,
             temperatures=TEMPERATURES)
    cube = write_pickle(tmp_path / "cube.pkl", np.zeros((2, 2, 2), dtype=np.uint8))
    _refused(tmp_path, FileFormatError, "has shape", cube, temperatures=[1.0])


@pytest.mark.parametrize("content", [b"", b"not a pickle at all", b"\x80\x04\x95garbage",
                                     b"\x89HDF\r\n\x1a\n" + bytes(100)])
def test_not_a_pickle(tmp_path, content):
    path = tmp_path / "Ising2DFM_reSample_L8_T=All.pkl"
    path.write_bytes(content)
    _refused(tmp_path, FileFormatError, "not a pickle", path)


def test_not_an_array(tmp_path):
    path = write_pickle(tmp_path / "Ising2DFM_reSample_L8_T=All.pkl", [1, 2, 3])
    _refused(tmp_path, FileFormatError, "holds a list", path)


def test_trailing_data(tmp_path, monte_carlo):
    path = tmp_path / "Ising2DFM_reSample_L8_T=All.pkl"
    path.write_bytes(pickle.dumps(mehta.pack_spins(monte_carlo)) + b"extra")
    _refused(tmp_path, FileFormatError, "data after", path, temperatures=TEMPERATURES)


def test_labels_of_the_wrong_length(tmp_path, mehta_files):
    data, _ = mehta_files
    short = write_pickle(tmp_path / "short.pkl", np.ones(3 * N - 1, dtype=np.int64))
    _refused(tmp_path, FileFormatError, "179 labels, the data has 180", data,
             labels=short, temperatures=TEMPERATURES)


def test_labels_must_be_binary_and_constant_per_temperature(tmp_path, mehta_files):
    data, _ = mehta_files
    mixed = np.repeat(np.array([1, 0, 0]), N)
    mixed[N + 5] = 1
    bad = write_pickle(tmp_path / "mixed.pkl", mixed)
    _refused(tmp_path, FileFormatError, "not all equal", data, labels=bad,
             temperatures=TEMPERATURES)
    two = write_pickle(tmp_path / "two.pkl", np.full(3 * N, 2))
    _refused(tmp_path, FileFormatError, "0 \\(disordered\\) or 1", data, labels=two,
             temperatures=TEMPERATURES)
    floats = write_pickle(tmp_path / "floats.pkl", np.ones(3 * N))
    _refused(tmp_path, FileFormatError, "dtype float64", data, labels=floats,
             temperatures=TEMPERATURES)


def test_missing_file(tmp_path, mehta_files):
    data, _ = mehta_files
    _refused(tmp_path, InvalidParameterError, "does not exist", tmp_path / "nope.pkl")
    _refused(tmp_path, InvalidParameterError, "does not exist", data,
             labels=tmp_path / "nope_labels.pkl", temperatures=TEMPERATURES)


def test_existing_output_is_kept(tmp_path, mehta_files):
    data, labels = mehta_files
    out = tmp_path / "out.h5"
    out.write_bytes(b"mine")
    with pytest.raises(OutputExistsError):
        ising.import_mehta(data, out, labels=labels, temperatures=TEMPERATURES)
    assert out.read_bytes() == b"mine"


# --------------------------------------------------------------------------
# export and the round trip

def test_round_trip_is_bit_identical(tmp_path, mehta_files, hdf5_content):
    data, labels = mehta_files
    first = tmp_path / "first.h5"
    ising.import_mehta(data, first, labels=labels, temperatures=TEMPERATURES)
    summary = ising.export_mehta(first, tmp_path / "exported")
    names = mehta.mehta_file_names(L)
    assert files_in(tmp_path / "exported") == sorted(names.values())
    exported = tmp_path / "exported" / names["data"]
    # the published layout: (n, L*L/8) uint8 rows, the notebooks' reading gives the spins
    with open(exported, "rb") as fh:
        raw = pickle.load(fh)
    assert raw.dtype == np.uint8 and raw.shape == (3 * N, L * L // 8)
    assert np.array_equal(notebook_spins(raw, L),
                          np.concatenate([e.spins for e in load(first).ensembles]))
    with open(tmp_path / "exported" / names["labels"], "rb") as fh:
        assert np.array_equal(pickle.load(fh), np.repeat(np.array([1, 0, 0]), N))
    assert summary["temperatures"] == list(TEMPERATURES)
    # import again: the temperatures come from the exported text file
    second = tmp_path / "second.h5"
    ising.import_mehta(exported, second, labels=tmp_path / "exported" / names["labels"])
    a, b = load(first), load(second)
    assert a.temperatures == b.temperatures           # exact floats, T_c included
    for x, y in zip(a.ensembles, b.ensembles):
        assert np.array_equal(x.spins, y.spins)
        for key in ("T", "phase", "mehta_label", "n_written", "source_file", "source_rows"):
            assert x.attrs[key] == y.attrs[key], key
    # and the exported pickles of the re-imported file are the same bytes
    ising.export_mehta(second, tmp_path / "again")
    for name in names.values():
        assert (tmp_path / "again" / name).read_bytes() == \
            (tmp_path / "exported" / name).read_bytes()


def test_export_labels_default_to_onsager(tmp_path, monte_carlo):
    """A Monte Carlo file has no Mehta labels: 1 below T_c, 0 above, as in the published set."""
    path = tmp_path / "mc.h5"
    ising.simulate(4, [2.0, 2.5], 10, rng=5, path=path)
    summary = ising.export_mehta(path, tmp_path / "out")
    assert summary["labels"] == [1, 0]


def test_export_refuses_overwrite_and_unequal_blocks(tmp_path, mehta_files):
    data, labels = mehta_files
    first = tmp_path / "first.h5"
    ising.import_mehta(data, first, labels=labels, temperatures=TEMPERATURES)
    out = tmp_path / "exported"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    ising.export_mehta(first, out)
    stamp = {p.name: p.read_bytes() for p in out.iterdir()}
    with pytest.raises(OutputExistsError, match="--overwrite"):
        ising.export_mehta(first, out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == stamp
    ising.export_mehta(first, out, overwrite=True)
    assert (out / "keep.txt").read_text() == "mine"
    assert not [p for p in out.iterdir() if p.name.startswith(".")]

    uneven = tmp_path / "uneven.h5"
    spins = mehta.unpack_spins(mehta.pack_spins(load(first).ensembles[0].spins), L)
    ising.write_generated(uneven, spins, T=1.0, source="rbm")
    ising.write_generated(uneven, spins[:10], T=2.0, source="rbm", append=True)
    with pytest.raises(InvalidParameterError, match="same number of configurations"):
        ising.export_mehta(uneven, tmp_path / "nothing")
    assert not (tmp_path / "nothing").exists()


def test_export_refuses_a_bad_folder_before_writing(tmp_path, mehta_files):
    """The folder is checked first (mccore.files.check_output_folder): a file, a
    missing parent, an unwritable parent; nothing is created."""
    data, labels = mehta_files
    first = tmp_path / "first.h5"
    ising.import_mehta(data, first, labels=labels, temperatures=TEMPERATURES)
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(InvalidParameterError, match=r"^output .*first\.h5 exists and is not a folder$"):
        ising.export_mehta(first, first)
    with pytest.raises(InvalidParameterError, match=r"^output folder .*no does not exist$"):
        ising.export_mehta(first, tmp_path / "no" / "dir")
    if os.geteuid() != 0:                                      # root may write anywhere
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o500)
        try:
            with pytest.raises(InvalidParameterError, match="is not writable"):
                ising.export_mehta(first, locked / "out")
            assert list(locked.iterdir()) == []
        finally:
            locked.chmod(0o700)
        locked.rmdir()
    assert sorted(p.name for p in tmp_path.iterdir()) == before
