"""``isingrbm fit --translation-tied``: the RBM tied under the lattice translations.

The flag takes the lattice (L, L) from DATA; the model file records it and its
parameters are tied (rbm.tying); --hidden not a multiple of L^2 is one line,
exit status 2, nothing written.
"""

from __future__ import annotations

import json

import numpy as np
from cli_helpers import one_error_line

import rbm
from isingrbm import cli
from rbm.tying import TranslationTying


def test_fit_translation_tied_writes_a_tied_model(tmp_path, data_file, capsys):
    out = tmp_path / "tied.h5"
    code = cli.main(["fit", str(data_file), "--temperature", "2.269", "--hidden", "32",
                     "--epochs", "2", "--translation-tied", "--out", str(out), "--seed", "3",
                     "--quiet", "--json"])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["hyperparameters"]["translation_tied"] == [4, 4]
    model = rbm.load(out)
    assert model.translation_tied == (4, 4)
    tying = TranslationTying((4, 4), 32)
    assert tying.is_tied(model.weights, model.visible_bias, model.hidden_bias)
    assert not np.allclose(model.weights, model.weights[0, 0])


def test_fit_translation_tied_refuses_hidden_not_a_multiple_of_the_sites(tmp_path, data_file,
                                                                         capsys):
    out = tmp_path / "tied.h5"
    code = cli.main(["fit", str(data_file), "--temperature", "2.269", "--hidden", "20",
                     "--translation-tied", "--out", str(out)])
    assert code == 2
    one_error_line(capsys, "--hidden must be a multiple of the 16 sites",
                   "--translation-tied (L = 4)", "20", command="fit")
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [data_file]
