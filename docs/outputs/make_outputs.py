"""Run the commands whose output and timings the documentation shows, and write them down.

Every example output and timing in the README and in the guide pages that
include ``docs/outputs/*`` comes from this script, never from a hand::

    python docs/outputs/make_outputs.py            # the guide's example outputs (~30 CPU s)
    python docs/outputs/make_outputs.py --tour     # and the README tour's timings (~2 CPU min)
    python docs/outputs/make_outputs.py --demo     # and the demo's timings (~10 CPU minutes)
    python docs/outputs/make_outputs.py --render   # only re-render README/docs/--help
                                                   # from docs/outputs/demo_timing.json

Example outputs: each entry of :data:`EXAMPLES` runs its commands in a
temporary folder, exactly as the page shows them (same seeds), and writes
the last command's stdout to ``docs/outputs/<name>.txt``, which the page
includes (``{literalinclude}``). ``tests/isingrbm/test_doc_outputs.py`` reruns
them and fails when a file no longer agrees with a fresh run (within the
statistics: estimates within a few standard errors, exact values to the
printed digits).

Tour timings (``--tour``): every ``isingrbm`` command of the README's
one-screen tour, in order, in one temporary folder (so the tour is proven
to chain without a dead end), each timed (CPU = user + system); recorded in
``docs/outputs/tour_timing.json`` and rendered into the README below the
tour (``tests/isingrbm/test_demo_timing.py`` checks that the README's
commands are the recorded ones and each took at most 2 CPU minutes).

Demo timings (``--demo``): the full demo on a fresh install (numba's cache
in an empty temporary folder, so every kernel is compiled), again with that
cache warm, and ``--quick`` warm; each time the CPU time (user + system,
``resource.getrusage`` of the child, imports included) and the per-stage
records of the run's own ``demo.json`` (CPU and numba-compile seconds). The
record goes to ``docs/outputs/demo_timing.json`` with the machine, its load
and the commit, and is rendered into the README's Performance row, the
table in ``docs/guide/demo.md`` and ``isingrbm demo --help``
(``tests/isingrbm/test_demo_timing.py`` checks that they agree with the
record and that the record is of the demo's present settings).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

OUTPUTS = Path(__file__).resolve().parent
ROOT = OUTPUTS.parents[1]
TIMING = OUTPUTS / "demo_timing.json"
TOUR_TIMING = OUTPUTS / "tour_timing.json"
README = ROOT / "README.md"
DEMO_PAGE = ROOT / "docs" / "guide" / "demo.md"
DEMO_COMMAND = ROOT / "isingrbm" / "commands" / "demo.py"

#: name -> (folders to create, commands; the last one's stdout is the output shown).
EXAMPLES = {
    # docs/guide/ising_data.md
    "generate_L16": (["datasets"], [
        "isingrbm generate --size 16 --temperatures 1.5 2.269 3.0 --samples 10000 "
        "--out datasets/L16.h5 --seed 1",
    ]),
    # docs/guide/evaluation.md and docs/getting_started.md
    "evaluate_L4": ([], [
        "isingrbm generate --size 4 --temperatures 1.5 2.269 3.5 --samples 20000 "
        "--out L4.h5 --seed 1",
        "isingrbm fit L4.h5 --temperature 2.269 --hidden 16 --out rbm_T2.269.h5 --seed 2",
        "isingrbm sample rbm_T2.269.h5 --samples 20000 --out gen_T2.269.h5 --seed 3",
        "isingrbm evaluate L4.h5 gen_T2.269.h5 --plots figures/",
    ]),
    # docs/guide/tomography.md
    "tomography_chain10": ([], [
        "isingrbm tomography --lattice chain --size 10 --field 1 --samples 10000 --hidden 10 "
        "--refine-iterations 300 --learning-rate 0.1 --seed 1 --out tomo.h5",
    ]),
}


def _env(extra: dict | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["MPLBACKEND"] = "Agg"
    env.update(extra or {})
    return env


def _argv(command: str) -> list[str]:
    words = command.split()
    assert words[0] == "isingrbm", command
    return [sys.executable, "-m", "isingrbm", *words[1:]]


def run_example(name: str, folder: Path) -> str:
    """Run example ``name`` in ``folder``; the stdout of its last command."""
    dirs, commands = EXAMPLES[name]
    for d in dirs:
        (folder / d).mkdir(parents=True, exist_ok=True)
    out = ""
    for command in commands:
        done = subprocess.run(_argv(command) + ["--quiet"], cwd=folder, env=_env(),
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{command} failed ({done.returncode}): {done.stderr.strip()}")
        out = done.stdout
    return out


def write_examples(names=None) -> None:
    for name in names or EXAMPLES:
        with tempfile.TemporaryDirectory() as tmp:
            text = run_example(name, Path(tmp))
        (OUTPUTS / f"{name}.txt").write_text(text, encoding="utf-8")
        print(f"wrote docs/outputs/{name}.txt", file=sys.stderr)


# --------------------------------------------------------------------------
# the README tour


def tour_commands(readme: str | None = None) -> list[str]:
    """The ``isingrbm`` command lines of the README's one-screen tour, in order."""
    readme = README.read_text(encoding="utf-8") if readme is None else readme
    section = readme.split("## A one-screen tour", 1)[1].split("\n## ", 1)[0]
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", section, re.S):
        commands += [line.strip() for line in block.splitlines()
                     if line.strip().startswith("isingrbm ")]
    return commands


def measure_tour() -> dict:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip()
    record = {"measured": dt.datetime.now(dt.timezone.utc).isoformat(timespec="minutes"),
              "commit": commit, "machine": _machine(), "load_before": os.getloadavg(),
              "commands": []}
    with tempfile.TemporaryDirectory() as tmp:
        for command in tour_commands():
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            done = subprocess.run(_argv(command) + ["--quiet"], cwd=tmp, env=_env(),
                                  capture_output=True, text=True, check=False)
            wall = time.perf_counter() - start
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if done.returncode != 0:
                raise RuntimeError(f"tour dead end: {command} failed: {done.stderr.strip()}")
            record["commands"].append({
                "command": command, "wall_seconds": round(wall, 1),
                "cpu_seconds": round((after.ru_utime - before.ru_utime)
                                     + (after.ru_stime - before.ru_stime), 1)})
    record["load_after"] = os.getloadavg()
    TOUR_TIMING.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {TOUR_TIMING.relative_to(ROOT)}", file=sys.stderr)
    return record


def tour_text(record: dict) -> str:
    """The README's line of measured tour times."""
    parts = []
    for entry in record["commands"]:
        words = entry["command"].split()
        name = " ".join(words[1:3]) if words[1] in ("gan", "vmc") else words[1]
        if words[1] == "sample" and "--exact" in words:
            name = "sample --exact"
        if words[1] == "vmc":
            name = "vmc tfim" if "tfim" in words else "vmc trap"
        parts.append(f"{name} {entry['cpu_seconds']:.0f}")
    m = record["machine"]
    return (f"CPU seconds of each tour command, run in order by "
            f"`python docs/outputs/make_outputs.py --tour` ({record['measured'][:10]}, "
            f"{m['cores']} cores of {m['cpu']}): " + ", ".join(parts) + ".")


# --------------------------------------------------------------------------
# the demo's timings


def _timed_demo(out: Path, *, quick: bool, cache: Path) -> dict:
    """Run ``isingrbm demo`` once; its CPU time and its demo.json stage records."""
    argv = [sys.executable, "-m", "isingrbm", "demo", "--out", str(out), "--seed", "1",
            "--quiet"] + (["--quick"] if quick else [])
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, env=_env({"NUMBA_CACHE_DIR": str(cache)}), check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    manifest = json.loads((out / "demo.json").read_text())
    stages = {name: {k: rec.get(k) for k in ("seconds", "cpu_seconds", "compile_seconds",
                                              "compile_cpu_seconds", "compiled_signatures")}
              for name, rec in manifest["stages"].items()}
    return {"cpu_seconds": round((after.ru_utime - before.ru_utime)
                                 + (after.ru_stime - before.ru_stime), 1),
            "wall_seconds": round(wall, 1),
            "gan": not (manifest["stages"].get("gan", {}).get("summary") or {}).get("skipped"),
            "stages": stages}


def _machine() -> dict:
    model = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": model, "cores": os.cpu_count(), "python": platform.python_version(),
            "system": platform.system()}


def measure_demo() -> dict:
    from isingrbm.demo import demo_config

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip()
    record = {"measured": dt.datetime.now(dt.timezone.utc).isoformat(timespec="minutes"),
              "commit": commit, "machine": _machine(), "load_before": os.getloadavg(),
              "config": {"full": demo_config(False).to_dict(),
                         "quick": demo_config(True).to_dict()},
              "runs": {}}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        cache = tmp / "numba-cache"
        cache.mkdir()
        record["runs"]["full_fresh_install"] = _timed_demo(tmp / "cold", quick=False,
                                                           cache=cache)
        record["runs"]["full_warm_cache"] = _timed_demo(tmp / "warm", quick=False, cache=cache)
        record["runs"]["quick_warm_cache"] = _timed_demo(tmp / "quick", quick=True, cache=cache)
        shutil.rmtree(cache, ignore_errors=True)
    record["load_after"] = os.getloadavg()
    TIMING.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {TIMING.relative_to(ROOT)}", file=sys.stderr)
    return record


def _compile(run: dict) -> float:
    return sum((s.get("compile_cpu_seconds") or 0.0) for s in run["stages"].values())


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} CPU minutes"


def readme_row(record: dict) -> str:
    """The README Performance table's demo row."""
    cold, warm = record["runs"]["full_fresh_install"], record["runs"]["full_warm_cache"]
    quick = record["runs"]["quick_warm_cache"]
    return (f"| Full demo (`isingrbm demo`), CPU time: fresh install (numba compile included) "
            f"/ warm cache / `--quick` | {_minutes(cold['cpu_seconds'])} (compiling "
            f"{_compile(cold):.0f} s) / {_minutes(warm['cpu_seconds'])} / "
            f"{quick['cpu_seconds']:.0f} s | - | "
            f"`python docs/outputs/make_outputs.py --demo` |")


def help_texts(record: dict) -> tuple[str, str]:
    """``isingrbm demo --help``'s measured figures: (full, quick)."""
    cold, warm = record["runs"]["full_fresh_install"], record["runs"]["full_warm_cache"]
    quick = record["runs"]["quick_warm_cache"]
    return (f"{_minutes(cold['cpu_seconds'])} on a fresh install (compiling included), "
            f"{warm['cpu_seconds'] / 60:.1f} warm",
            f"{quick['cpu_seconds']:.0f} CPU s with a warm cache")


def demo_table(record: dict) -> str:
    """The Markdown table of ``docs/guide/demo.md``."""
    runs = record["runs"]
    names = list(runs["full_fresh_install"]["stages"])
    head = ("| stage | fresh install: CPU s (of which compiling) | warm cache: CPU s | "
            "`--quick`, warm: CPU s |")
    lines = [head, "|---|---|---|---|"]
    for name in names:
        cells = []
        for key in ("full_fresh_install", "full_warm_cache", "quick_warm_cache"):
            stage = runs[key]["stages"].get(name) or {}
            cpu = stage.get("cpu_seconds")
            text = "-" if cpu is None else f"{cpu:.1f}"
            if key == "full_fresh_install" and stage.get("compile_cpu_seconds"):
                text += f" ({stage['compile_cpu_seconds']:.1f})"
            cells.append(text)
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    totals = [f"{runs[k]['cpu_seconds']:.0f}" for k in
              ("full_fresh_install", "full_warm_cache", "quick_warm_cache")]
    lines.append(f"| **whole command** (imports included) | **{totals[0]}** "
                 f"({_compile(runs['full_fresh_install']):.0f}) | **{totals[1]}** | "
                 f"**{totals[2]}** |")
    m = record["machine"]
    load = ", ".join(f"{x:.1f}" for x in record["load_before"])
    lines.append("")
    lines.append(f"Measured {record['measured']} at commit {record['commit']} on {m['cpu']} "
                 f"({m['cores']} cores, load average {load} before the runs; "
                 f"GAN {'included' if runs['full_fresh_install']['gan'] else 'skipped'}) by "
                 "`python docs/outputs/make_outputs.py --demo`. CPU time is user + system "
                 "time of the process, all threads; on 2 idle cores the wall time is about "
                 "this or less. A fresh install is simulated with numba's cache in an empty "
                 "folder.")
    return "\n".join(lines)


BEGIN, END = "<!-- demo-timing: begin (generated) -->", "<!-- demo-timing: end -->"
TOUR_BEGIN, TOUR_END = "<!-- tour-timing: begin (generated) -->", "<!-- tour-timing: end -->"


def _replace_block(text: str, block: str, begin: str = BEGIN, end: str = END) -> str:
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.S)
    if not pattern.search(text):
        raise RuntimeError(f"no {begin} ... {end} block")
    return pattern.sub(lambda _: f"{begin}\n{block}\n{end}", text)


def render_tour(record: dict) -> None:
    README.write_text(_replace_block(README.read_text(encoding="utf-8"), tour_text(record),
                                     TOUR_BEGIN, TOUR_END), encoding="utf-8")
    print("rendered the tour timing into README.md", file=sys.stderr)


def render(record: dict) -> None:
    """Write the measured figures into the README, the demo page and --help."""
    readme = README.read_text(encoding="utf-8")
    readme = re.sub(r"^\| Full demo.*\|$", lambda _: readme_row(record), readme, count=1,
                    flags=re.M)
    README.write_text(readme, encoding="utf-8")
    DEMO_PAGE.write_text(_replace_block(DEMO_PAGE.read_text(encoding="utf-8"),
                                        demo_table(record)), encoding="utf-8")
    full, quick = help_texts(record)
    code = DEMO_COMMAND.read_text(encoding="utf-8")
    code = re.sub(r'^MEASURED_FULL = ".*"$', lambda _: f"MEASURED_FULL = {full!r}".replace(
        "'", '"'), code, count=1, flags=re.M)
    code = re.sub(r'^MEASURED_QUICK = ".*"$', lambda _: f"MEASURED_QUICK = {quick!r}".replace(
        "'", '"'), code, count=1, flags=re.M)
    DEMO_COMMAND.write_text(code, encoding="utf-8")
    print("rendered README.md, docs/guide/demo.md, isingrbm/commands/demo.py", file=sys.stderr)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--demo", action="store_true", help="also measure the demo (minutes)")
    parser.add_argument("--tour", action="store_true",
                        help="also run and time the README tour (minutes)")
    parser.add_argument("--render", action="store_true",
                        help="only render the recorded timings into README/docs/--help")
    args = parser.parse_args(argv)
    if args.render:
        render(json.loads(TIMING.read_text()))
        render_tour(json.loads(TOUR_TIMING.read_text()))
        return 0
    write_examples()
    if args.tour:
        render_tour(measure_tour())
    if args.demo:
        render(measure_demo())
    return 0


if __name__ == "__main__":
    sys.exit(main())
