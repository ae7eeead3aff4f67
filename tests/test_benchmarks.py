"""The benchmarks' shared harness, and that importing a benchmark does nothing.

No timing is asserted: the harness's statistics run on a synthetic function
with scripted clocks, so every expected value is known before the run.
"""

from __future__ import annotations

import argparse
import importlib
import io
import json
import math
import os
import sys
from pathlib import Path

import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
MODULES = sorted(p.stem for p in BENCHMARKS.glob("*.py"))
SCRIPTS = [name for name in MODULES if not name.startswith("_")]


@pytest.fixture
def on_path(monkeypatch):
    """The benchmarks folder on sys.path, as ``python benchmarks/NAME.py`` has it.

    The modules are imported afresh and forgotten after; the environment is
    restored even if a module changed it (which the import test reports).
    """
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    for name in MODULES:
        monkeypatch.delitem(sys.modules, name, raising=False)
    environ = dict(os.environ)
    yield
    for name in MODULES:
        sys.modules.pop(name, None)
    os.environ.clear()
    os.environ.update(environ)


@pytest.fixture
def harness(on_path):
    return importlib.import_module("_harness")


def _listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name != "__pycache__")


@pytest.mark.parametrize("name", MODULES)
def test_import_has_no_side_effects(name, on_path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["pytest", "--not-a-benchmark-option"])
    environ, path, files = dict(os.environ), list(sys.path), _listing(BENCHMARKS)
    module = importlib.import_module(name)
    assert dict(os.environ) == environ
    assert sys.path == path
    assert list(tmp_path.iterdir()) == []
    assert _listing(BENCHMARKS) == files
    assert sys.argv == ["pytest", "--not-a-benchmark-option"]
    if not name.startswith("_"):
        assert callable(module.main)


@pytest.mark.parametrize("name", SCRIPTS)
def test_every_benchmark_takes_quick_and_json(name, on_path, capsys):
    module = importlib.import_module(name)
    with pytest.raises(SystemExit) as stop:
        module.main(["--help"])
    assert stop.value.code == 0
    usage = capsys.readouterr().out
    assert "--quick" in usage and "--json" in usage


def _scripted(values):
    it = iter(values)
    return lambda: next(it)


def test_measure_warms_up_untimed_and_takes_medians_per_unit(harness):
    calls = []
    # wall durations 1, 3, 2 and CPU durations 2, 1, 4 over the three timed calls;
    # a warm-up call that read a clock would exhaust the script
    wall = _scripted([0.0, 1.0, 10.0, 13.0, 20.0, 22.0])
    cpu = _scripted([0.0, 2.0, 5.0, 6.0, 9.0, 13.0])
    timing = harness.measure(lambda: calls.append(1), repeats=3, warmup=2, work=4,
                             clocks=(wall, cpu))
    assert len(calls) == 5
    assert timing == harness.Timing(wall=0.5, cpu=0.5, repeats=3)
    assert timing.as_dict("ns per unit", 1e9) == {"unit": "ns per unit", "wall": 0.5e9,
                                                  "cpu": 0.5e9, "repeats": 3}


def test_measure_takes_the_work_a_call_returns(harness):
    work = iter([10, np.int64(20), 5.0])
    wall = _scripted([0.0, 1.0, 1.0, 5.0, 5.0, 6.0])       # 0.1, 0.2, 0.2 per unit
    cpu = _scripted([0.0, 3.0, 3.0, 4.0, 4.0, 5.0])        # 0.3, 0.05, 0.2 per unit
    timing = harness.measure(lambda: next(work), repeats=3, warmup=0, work=None,
                             clocks=(wall, cpu))
    assert timing.wall == pytest.approx(0.2)
    assert timing.cpu == pytest.approx(0.2)


def test_measure_runs_a_real_function_warmup_plus_repeats_times(harness):
    calls = []
    timing = harness.measure(lambda: calls.append(sum(range(100))), repeats=4, warmup=1)
    assert len(calls) == 5 and timing.repeats == 4


@pytest.mark.parametrize("kwargs", [{"work": None}, {"work": 0}, {"work": True},
                                    {"repeats": 0}, {"warmup": -1}])
def test_measure_refuses_unusable_settings(harness, kwargs):
    with pytest.raises(ValueError):
        harness.measure(lambda: object(), **kwargs)


def test_speedup_is_peer_time_over_ours(harness):
    ours = harness.Timing(wall=1.0, cpu=2.0, repeats=3)
    peer = harness.Timing(wall=4.0, cpu=3.0, repeats=3)
    assert harness.speedup(ours, peer) == {"wall": 4.0, "cpu": 1.5}
    zero = harness.speedup(harness.Timing(0.0, 1.0, 1), peer)
    assert math.isnan(zero["wall"]) and zero["cpu"] == 3.0


def test_document_is_one_json_record_with_machine_and_conditions(harness):
    args = argparse.Namespace(quick=True, json=True, seed=3)
    records = [{"x": np.float64(1.5), "bad": float("nan"), "arr": np.arange(2)}]
    out = io.StringIO()
    harness.emit(harness.document("synthetic", args, records, targets=["met"]), file=out)
    doc = json.loads(out.getvalue())
    assert doc["benchmark"] == "synthetic"
    assert doc["records"] == [{"x": 1.5, "bad": None, "arr": [0, 1]}]
    assert doc["targets"] == ["met"]
    assert doc["conditions"]["quick"] is True and doc["conditions"]["seed"] == 3
    assert "set_for_measurements" in doc["conditions"]["thread_counts"]
    machine = doc["machine"]
    assert machine["cores"] == os.cpu_count()
    assert machine["versions"]["numpy"] == np.__version__
    assert machine["cpu"] and machine["date"].startswith("20")


def test_missing_peer_is_one_line_naming_the_install_and_status_2(harness, monkeypatch,
                                                                  capsys):
    monkeypatch.setitem(harness.PEERS, "nothing",
                        ("isingrbm_no_such_module", "a test peer", "pip install nothing"))
    with pytest.raises(harness.MissingPeer, match="pip install nothing"):
        harness.peer("nothing")
    assert harness.main(lambda argv: harness.peer("nothing")) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "pip install nothing" in lines[0]


def test_threads_sets_numba_and_blas_for_the_block_and_restores(harness):
    import numba
    from threadpoolctl import threadpool_info

    before = (numba.get_num_threads(), threadpool_info())
    with harness.threads(1):
        assert numba.get_num_threads() == 1
        assert all(lib["num_threads"] == 1 for lib in threadpool_info())
    assert (numba.get_num_threads(), threadpool_info()) == before
    with pytest.raises(harness.BadSetting, match="NUMBA_NUM_THREADS"):
        with harness.threads(numba.config.NUMBA_NUM_THREADS + 1):
            pass
