"""Same seeds, same bits: the command line end to end against outputs made at b6ec560.

``generate -> fit -> sample`` and ``gan fit -> gan sample`` (plain and
temperature-conditioned), tiny and seeded, are run with the current code and
every array of their outputs (datasets, RBM parameters and history) and the
GAN's loss history must equal what b6ec560 wrote, before the pipeline was
split and the GAN commands went through it. The references
(tests/data/bit_identical/app_manifest.json) were made by
``tests/data/bit_identical/make_app_references.py``; its docstring says how.
Floating-point bit patterns are tied to the library versions, so the test
skips, naming the difference, when numpy, numba, scipy, scikit-learn or
torch differ from the recorded ones.
"""

import importlib.util
import json
from pathlib import Path

import pytest

pytest.importorskip("torch")

from isingrbm import cli

REF = Path(__file__).resolve().parents[1] / "data" / "bit_identical"


def _references():
    spec = importlib.util.spec_from_file_location("make_app_references",
                                                  REF / "make_app_references.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_commands_write_the_bits_b6ec560_wrote(tmp_path, monkeypatch):
    refs = _references()
    manifest = json.loads(refs.MANIFEST.read_text())
    now = refs.versions()
    differing = [f"{k} {v} recorded, {now.get(k)} installed"
                 for k, v in manifest["versions"].items() if now.get(k) != v]
    if differing:
        pytest.skip("bit patterns are tied to library versions: " + "; ".join(differing))
    monkeypatch.chdir(tmp_path)
    for name, argv in refs.RUNS:
        assert cli.main(list(argv)) == 0, name
    got, want = refs.digests(tmp_path), manifest["outputs"]
    assert sorted(got) == sorted(want)
    for name in want:
        assert got[name] == want[name], name
