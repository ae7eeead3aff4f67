"""First contact: the installed ``isingrbm`` command, run from outside the repository.

``python -m pytest`` puts the repository root first on ``sys.path``, so the
in-process CLI tests cannot see an installation whose packages do not
import (for example site-packages folders left behind by an earlier
non-editable install, holding only numba's cache, which then shadow the
editable packages as empty namespace packages). These tests run the console
script and the interpreter in a subprocess from a temporary folder, as a
user would after the README's Quickstart.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGES = ("mccore", "mcstats", "ising", "rbm", "vmc", "gan", "isingrbm")
REPO = Path(__file__).resolve().parents[1]


def _script() -> str:
    """The ``isingrbm`` console script of this interpreter's environment."""
    candidate = Path(sys.executable).with_name("isingrbm")
    found = str(candidate) if candidate.exists() else shutil.which("isingrbm")
    if found is None:
        pytest.skip("the isingrbm console script is not installed in this environment")
    return found


def _clean_env() -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["MPLBACKEND"] = "Agg"
    return env


def test_every_package_imports_as_a_regular_package_from_outside(tmp_path):
    """Each top-level package resolves to a folder with an ``__init__.py``.

    A namespace package here (``__file__`` None) is the shadowing defect:
    ``import ising`` then succeeds but ``ising.load`` does not exist.
    """
    code = ("import importlib, json; "
            f"print(json.dumps({{n: getattr(importlib.import_module(n), '__file__', None) "
            f"for n in {PACKAGES!r}}}))")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=_clean_env(),
                         capture_output=True, text=True, timeout=120, check=True)
    files = json.loads(out.stdout)
    for name, file in files.items():
        assert file is not None, f"{name} imports as a namespace package (shadowed install)"
        assert Path(file).name == "__init__.py", (name, file)


def test_installed_script_runs_from_another_directory(tmp_path):
    """``--version``, ``generate`` and ``inspect`` through the console script."""
    script = _script()
    env = _clean_env()
    version = subprocess.run([script, "--version"], cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=120)
    assert version.returncode == 0, version.stderr
    assert version.stdout.startswith("isingrbm ")

    out = tmp_path / "tiny.h5"
    generated = subprocess.run(
        [script, "generate", "--size", "4", "--temperatures", "3.0", "--samples", "40",
         "--out", str(out), "--seed", "1", "--quiet"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert generated.returncode == 0, generated.stderr
    assert out.is_file()

    inspected = subprocess.run([script, "inspect", str(out), "--json"], cwd=tmp_path,
                               env=env, capture_output=True, text=True, timeout=300)
    assert inspected.returncode == 0, inspected.stderr
    json.loads(inspected.stdout)


def test_bad_input_through_the_script_is_one_line_and_status_2(tmp_path):
    """A refusal from the installed script: exit 2, one stderr line, no file made."""
    script = _script()
    out = tmp_path / "x.h5"
    result = subprocess.run(
        [script, "generate", "--size", "1", "--temperatures", "2.0", "--samples", "10",
         "--out", str(out)], cwd=tmp_path, env=_clean_env(), capture_output=True,
        text=True, timeout=120)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not out.exists()


def test_ci_runs_the_readme_quickstart_lines_verbatim():
    """The two Quickstart lines of the README are the ones ``.ci/run`` executes."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Quickstart", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    lines = [line for line in block.strip().splitlines() if line.strip()]
    assert len(lines) == 2
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    for line in lines:
        assert line in ci, f"README Quickstart line not run verbatim by .ci/run: {line}"
