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

import json
from pathlib import Path

import pytest

pytest.importorskip("torch")

from bit_identity import load_script, skip_unless_versions

from isingrbm import cli

REF = Path(__file__).resolve().parents[1] / "data" / "bit_identical"


# gan fit options added since b6ec560, at the values that reproduce its runs
# (the defaults are now distribution matching and the "auto" draw)
GAN_FIT_ADDED_SINCE = ["--distribution-matching", "0", "--draw", "independent"]


def _references():
    return load_script(REF / "make_app_references.py")


def test_commands_write_the_bits_b6ec560_wrote(tmp_path, monkeypatch):
    refs = _references()
    manifest = json.loads(refs.MANIFEST.read_text())
    skip_unless_versions(manifest["versions"], refs.versions())
    monkeypatch.chdir(tmp_path)
    for name, argv in refs.RUNS:
        argv = list(argv) + (GAN_FIT_ADDED_SINCE if argv[:2] == ["gan", "fit"] else [])
        assert cli.main(argv) == 0, name
    got, want = refs.digests(tmp_path), manifest["outputs"]
    assert sorted(got) == sorted(want)
    for name in want:
        assert got[name] == want[name], name
