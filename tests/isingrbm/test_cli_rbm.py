"""``isingrbm fit / sample / evaluate`` in-process via ``cli.main``.

Bad input: exit status 2, exactly one line on stderr naming the problem,
nothing written or overwritten, and no computation started. One end-to-end
run at L = 4: generate -> fit -> sample -> evaluate, checking the generated
file's schema and provenance, the JSON summaries, and the physics of the
trained model against the exact L = 4 values.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import h5py
import numpy as np
import pytest
from cli_helpers import exact_dataset, fit_model, one_error_line, snapshot

from ising import exact as ising_exact
from ising.store import load
from isingrbm import cli


@pytest.fixture
def model_file(tmp_path, data_file):
    return fit_model(data_file, tmp_path / "model.h5")


# --------------------------------------------------------------------------
# fit: bad input


def test_fit_temperature_not_in_file_names_available(tmp_path, data_file, capsys):
    out = tmp_path / "m.h5"
    code = cli.main(["fit", str(data_file), "--temperature", "3.0", "--hidden", "4",
                     "--out", str(out)])
    assert code == 2
    one_error_line(capsys, "1.5", "2.269", "3")
    assert not out.exists()


@pytest.mark.parametrize("hidden", ["0", "-3"])
def test_fit_hidden_below_one(tmp_path, data_file, capsys, hidden):
    out = tmp_path / "m.h5"
    code = cli.main(["fit", str(data_file), "--temperature", "1.5", "--hidden", hidden,
                     "--out", str(out)])
    assert code == 2
    one_error_line(capsys, "--hidden", ">= 1", hidden)
    assert not out.exists()


def test_fit_refuses_existing_output(tmp_path, data_file, capsys):
    out = tmp_path / "m.h5"
    out.write_bytes(b"precious")
    before = snapshot(out)
    code = cli.main(["fit", str(data_file), "--temperature", "1.5", "--hidden", "4",
                     "--out", str(out)])
    assert code == 2
    one_error_line(capsys, "exists", "--overwrite")
    assert snapshot(out) == before
    assert not Path(str(out) + ".checkpoint").exists()


def test_fit_model_file_as_data_is_a_format_error(tmp_path, model_file, capsys):
    out = tmp_path / "m2.h5"
    code = cli.main(["fit", str(model_file), "--temperature", "2.269", "--hidden", "4",
                     "--out", str(out)])
    assert code == 2
    one_error_line(capsys, model_file.name)
    assert not out.exists()


def test_fit_missing_data_file(tmp_path, capsys):
    code = cli.main(["fit", str(tmp_path / "nope.h5"), "--temperature", "1.5", "--hidden",
                     "4", "--out", str(tmp_path / "m.h5")])
    assert code == 2
    one_error_line(capsys, "nope.h5", "does not exist")


def test_fit_generated_file_as_data_is_refused(tmp_path, model_file, capsys):
    gen = tmp_path / "gen.h5"
    assert cli.main(["sample", str(model_file), "--samples", "20", "--steps", "2",
                     "--out", str(gen), "--seed", "3", "--quiet"]) == 0
    code = cli.main(["fit", str(gen), "--temperature", "2.269", "--hidden", "4",
                     "--out", str(tmp_path / "m3.h5")])
    assert code == 2
    one_error_line(capsys, "Monte Carlo", "rbm")


# --------------------------------------------------------------------------
# sample: bad input


@pytest.mark.parametrize("n", ["0", "-5"])
def test_sample_nonpositive_count(tmp_path, model_file, capsys, n):
    out = tmp_path / "g.h5"
    code = cli.main(["sample", str(model_file), "--samples", n, "--out", str(out)])
    assert code == 2
    one_error_line(capsys, "--samples", ">= 1")
    assert not out.exists()


def test_sample_data_file_as_model_is_a_format_error(tmp_path, data_file, capsys):
    out = tmp_path / "g.h5"
    before = snapshot(data_file)
    code = cli.main(["sample", str(data_file), "--samples", "10", "--out", str(out)])
    assert code == 2
    one_error_line(capsys, data_file.name)
    assert not out.exists()
    assert snapshot(data_file) == before


def test_sample_refuses_existing_output(tmp_path, model_file, data_file, capsys):
    before = snapshot(data_file)
    code = cli.main(["sample", str(model_file), "--samples", "10", "--out", str(data_file)])
    assert code == 2
    one_error_line(capsys, "exists", "--overwrite")
    assert snapshot(data_file) == before


# --------------------------------------------------------------------------
# evaluate: bad input


def test_evaluate_model_file_as_data(model_file, capsys):
    code = cli.main(["evaluate", str(model_file)])
    assert code == 2
    one_error_line(capsys, model_file.name)


def test_evaluate_generated_temperature_not_in_data(tmp_path, model_file, capsys):
    other = exact_dataset(tmp_path / "other.h5", temperatures=(1.5, 3.5))
    gen = tmp_path / "gen.h5"
    assert cli.main(["sample", str(model_file), "--samples", "20", "--steps", "2",
                     "--out", str(gen), "--seed", "3", "--quiet"]) == 0
    code = cli.main(["evaluate", str(other), str(gen)])
    assert code == 2
    one_error_line(capsys, "gen.h5", "2.269", "available: 1.5, 3.5")


def test_evaluate_refuses_existing_figures(tmp_path, data_file, capsys):
    plots = tmp_path / "figs"
    plots.mkdir()
    target = plots / "observables_vs_T.png"
    target.write_bytes(b"old")
    code = cli.main(["evaluate", str(data_file), "--plots", str(plots)])
    assert code == 2
    one_error_line(capsys, "observables_vs_T.png", "--overwrite")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in plots.iterdir()) == ["observables_vs_T.png"]


# --------------------------------------------------------------------------
# end to end


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _model_exact_distribution(model, L):
    """The trained model's own exact p(E) and p(M) by enumerating its 2^16 visible states."""
    E, M = ising_exact.enumerate_states(L)
    states = ((np.arange(2 ** (L * L))[:, None] >> np.arange(L * L)) & 1).astype(np.uint8)
    log_w = -np.asarray(model.free_energy(states), dtype=np.float64)
    p = np.exp(log_w - log_w.max())
    p /= p.sum()
    return p, E, M


def _chi_square_p_value(samples, p_states, values):
    """Pearson chi-square of sampled levels vs the exact level probabilities (bins >= 5)."""
    from scipy import stats

    levels, inverse = np.unique(values, return_inverse=True)
    expected_p = np.bincount(inverse, weights=p_states, minlength=levels.size)
    counts = np.array([np.sum(samples == v) for v in levels], dtype=float)
    assert counts.sum() == samples.size          # every sampled level is a lattice level
    n = samples.size
    order = np.argsort(expected_p)               # pool the rarest levels into one bin
    exp_sorted, obs_sorted = expected_p[order] * n, counts[order]
    cut = np.searchsorted(np.cumsum(exp_sorted), 5.0) + 1
    exp_bins = np.concatenate([[exp_sorted[:cut].sum()], exp_sorted[cut:]])
    obs_bins = np.concatenate([[obs_sorted[:cut].sum()], obs_sorted[cut:]])
    stat = np.sum((obs_bins - exp_bins) ** 2 / exp_bins)
    return stats.chi2.sf(stat, df=exp_bins.size - 1)


def test_end_to_end_generate_fit_sample_evaluate(tmp_path, capsys):
    """L = 4, T = 2.269: every stage through cli.main, files and JSON checked.

    The physics check is of the *sample* stage, independent of how well the
    short training went: the model's own distribution is known exactly at
    L = 4 (2^16 visible states, p ~ exp(-F(v))), and the sampled E and M
    histograms must pass a chi-square test against it (p > 1e-3 at a fixed
    seed; 8000 samples resolve a 1 % shift of the probability of the
    ground-state level).
    """
    import rbm
    from ising.lattice import spins_to_visible
    from rbm.bernoulli import data_hash

    data, model_path, gen = tmp_path / "data.h5", tmp_path / "model.h5", tmp_path / "gen.h5"
    assert cli.main(["generate", "--size", "4", "--temperatures", "2.269", "--samples", "2000",
                     "--out", str(data), "--seed", "11", "--quiet"]) == 0
    capsys.readouterr()

    assert cli.main(["fit", str(data), "--phase", "critical", "--hidden", "16", "--epochs",
                     "10", "--out", str(model_path), "--seed", "12", "--quiet", "--json"]) == 0
    fit_summary = json.loads(capsys.readouterr().out)
    assert fit_summary["temperature"] == pytest.approx(2.269)
    assert fit_summary["epochs_done"] == 10 and fit_summary["n_hidden"] == 16

    model = rbm.load(model_path)
    meta = model.metadata_
    dataset = load(data)
    assert meta["data_file"] == str(data.resolve())
    assert meta["temperature"] == pytest.approx(2.269) and meta["phase"] == "critical"
    assert meta["L"] == 4 and meta["seed"] == 12
    assert meta["data_hash"] == data_hash(spins_to_visible(dataset.ensemble(2.269).spins))
    assert not (tmp_path / "model.h5.checkpoint").exists()

    assert cli.main(["sample", str(model_path), "--samples", "8000", "--steps", "100",
                     "--out", str(gen), "--seed", "13", "--quiet", "--json"]) == 0
    sample_summary = json.loads(capsys.readouterr().out)
    assert sample_summary["n_samples"] == 8000

    # schema and provenance of the generated file
    with h5py.File(gen, "r") as f:
        assert f.attrs["format"] == "isingrbm-ising" and int(f.attrs["format_version"]) == 1
        assert f.attrs["source"] == "rbm" and int(f.attrs["L"]) == 4
        (key,) = f["samples"].keys()
        g = f["samples"][key]
        assert g["spins"].dtype == np.int8 and g["spins"].shape == (8000, 4, 4)
        assert float(g.attrs["T"]) == pytest.approx(2.269)
        assert g.attrs["model_file"] == str(model_path.resolve())
        assert g.attrs["model_hash"] == _sha256(model_path)
        assert g.attrs["data_hash"] == meta["data_hash"]
        assert int(g.attrs["n_steps"]) == 100 and int(g.attrs["seed"]) == 13
    generated = load(gen).ensemble(2.269)          # validates spins, E and M
    assert set(np.unique(generated.spins)) == {-1, 1}

    # the samples follow the model's own exact distribution
    p, E, M = _model_exact_distribution(model, 4)
    assert _chi_square_p_value(generated.energy, p, E) > 1e-3
    assert _chi_square_p_value(generated.magnetization, p, M) > 1e-3

    # chains started from training configurations reach the same distribution
    gen_data_init = tmp_path / "gen_data_init.h5"
    assert cli.main(["sample", str(model_path), "--samples", "8000", "--steps", "100",
                     "--init", "data", "--out", str(gen_data_init), "--seed", "14",
                     "--quiet"]) == 0
    from_data = load(gen_data_init).ensemble(2.269)
    assert from_data.attrs["init"] == "data"
    assert _chi_square_p_value(from_data.energy, p, E) > 1e-3
    assert _chi_square_p_value(from_data.magnetization, p, M) > 1e-3

    plots = tmp_path / "figs"
    assert cli.main(["evaluate", str(data), str(gen), "--plots", str(plots), "--json",
                     "--quiet"]) == 0
    out = capsys.readouterr().out
    summary = json.loads(out)
    (table,) = summary["tables"]
    assert table["sources"] == ["Monte Carlo", "RBM"] and summary["labels"] == ["RBM"]
    assert table["observables"]["RBM"]["energy"]["mean"] == pytest.approx(
        generated.energy.mean() / 16, rel=1e-12)
    assert table["exact"]["energy"] == pytest.approx(
        ising_exact.exact_enumeration(4, 2.269)["energy"], rel=1e-10)
    # the model's own weight of the m > 0 mode (from its free energy), vs enumeration
    p_plus, p_minus = p[M > 0].sum(), p[M < 0].sum()
    exact_weight = p_plus / (p_plus + p_minus)
    m_gen = generated.magnetization
    V_plus = spins_to_visible(generated.spins[m_gen > 0])
    w = np.exp(model.free_energy(V_plus) - model.free_energy(1 - V_plus))
    sigma = exact_weight * (1 - exact_weight) * w.std(ddof=1) / (w.mean() * np.sqrt(w.size))
    weight = table["model_fraction_positive"]["RBM"]["from_plus"]
    assert abs(weight - exact_weight) < 4 * sigma, (weight, exact_weight, sigma)
    assert sorted(p.name for p in plots.iterdir()) == [
        "distributions_T2.269.png", "observables_vs_T.png", "samples_T2.269.png"]

    # without --json the tables go to stdout as text
    assert cli.main(["evaluate", str(data), str(gen)]) == 0
    text = capsys.readouterr().out
    assert text.startswith("T = 2.269 (critical), L = 4") and "RBM (n=8000)" in text


def test_fit_resume_continues_an_interrupted_run(tmp_path, data_file, capsys, monkeypatch):
    """Interrupted (Ctrl-C) after 2 of 4 epochs, ``--resume`` trains only the 2 missing
    epochs and ends bit for bit where an uninterrupted run ends."""
    import rbm

    args = ["fit", str(data_file), "--temperature", "1.5", "--hidden", "4", "--epochs", "4",
            "--quiet"]
    whole = tmp_path / "whole.h5"
    assert cli.main(args + ["--out", str(whole), "--seed", "5"]) == 0

    out = tmp_path / "resumed.h5"
    checkpoint = tmp_path / "resumed.h5.checkpoint"
    from rbm.epochs import RECIPES

    recipe = RECIPES["bernoulli"]
    original_epoch = recipe.epoch
    calls = []

    def interrupted_epoch(*a, **k):
        if len(calls) == 2:
            raise KeyboardInterrupt
        calls.append(1)
        return original_epoch(*a, **k)

    monkeypatch.setattr(recipe, "epoch", staticmethod(interrupted_epoch))
    assert cli.main(args + ["--out", str(out), "--seed", "5"]) == 130
    monkeypatch.setattr(recipe, "epoch", staticmethod(original_epoch))
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "isingrbm fit: interrupted" in err[0] and "--resume" in err[0]
    assert checkpoint.exists() and not out.exists()

    # without --resume the leftover checkpoint is not silently discarded
    assert cli.main(args + ["--out", str(out)]) == 2
    one_error_line(capsys, "checkpoint", "--resume")
    # a different seed cannot continue it
    assert cli.main(args + ["--out", str(out), "--resume", "--seed", "6"]) == 2
    one_error_line(capsys, "--seed", "5")
    assert checkpoint.exists() and not out.exists()

    calls.clear()

    def counting_epoch(*a, **k):
        calls.append(1)
        return original_epoch(*a, **k)

    monkeypatch.setattr(recipe, "epoch", staticmethod(counting_epoch))
    assert cli.main(args + ["--out", str(out), "--resume"]) == 0   # seed from the checkpoint
    assert len(calls) == 2
    assert not checkpoint.exists()
    a, b = rbm.load(whole), rbm.load(out)
    np.testing.assert_array_equal(a.weights, b.weights)
    np.testing.assert_array_equal(a.visible_bias, b.visible_bias)
    np.testing.assert_array_equal(a.hidden_bias, b.hidden_bias)
    assert b.metadata_["seed"] == 5

    # resuming a finished model reports it complete (exit 0) and trains nothing
    before = out.read_bytes()
    calls.clear()
    assert cli.main(args + ["--out", str(out), "--resume"]) == 0
    assert calls == [] and out.read_bytes() == before


def test_evaluate_column_labels_are_unique():
    from types import SimpleNamespace

    from isingrbm.commands.evaluate import _labels

    files = [SimpleNamespace(source="rbm", path=Path("a/g.h5")),
             SimpleNamespace(source="rbm", path=Path("b/g.h5")),
             SimpleNamespace(source="gan", path=Path("x.h5")),
             SimpleNamespace(source="rbm", path=Path("c/h.h5"))]
    assert _labels(files) == ["RBM:g#1", "RBM:g#2", "GAN", "RBM:h"]
    assert _labels(files[2:3]) == ["GAN"]


def test_sample_init_data_needs_the_recorded_training_data(tmp_path, data_file, model_file,
                                                           capsys):
    out = tmp_path / "g.h5"
    # same file name, different content: refused by the data hash
    exact_dataset(data_file, seed=424243)   # not the shared data's seed 424242
    code = cli.main(["sample", str(model_file), "--samples", "10", "--init", "data",
                     "--out", str(out)])
    assert code == 2
    one_error_line(capsys, "--init data", "hash")
    data_file.unlink()
    code = cli.main(["sample", str(model_file), "--samples", "10", "--init", "data",
                     "--out", str(out)])
    assert code == 2
    one_error_line(capsys, "--init data", "does not exist")
    assert not out.exists()


def test_fit_augment_records_images_and_rejects_bad_counts(tmp_path, data_file, capsys):
    import rbm

    out = tmp_path / "aug.h5"
    assert cli.main(["fit", str(data_file), "--temperature", "2.269", "--hidden", "4",
                     "--epochs", "1", "--augment", "3", "--out", str(out), "--seed", "1",
                     "--quiet"]) == 0
    meta = rbm.load(out).metadata_
    assert meta["symmetry_images"] == 3 and meta["n_samples"] == 400
    bad = tmp_path / "bad.h5"
    assert cli.main(["fit", str(data_file), "--temperature", "2.269", "--hidden", "4",
                     "--augment", "0", "--out", str(bad)]) == 2
    one_error_line(capsys, "--augment must be an integer >= 1")
    assert not bad.exists()
