"""The example outputs the guide shows are what the documented commands print.

``docs/outputs/make_outputs.py`` runs each documented command (same seed)
and writes its output to ``docs/outputs/<name>.txt``, which the pages
include. Here each example is run again and compared cell by cell with the
file: an estimate ``mean ± error`` within 4 combined standard errors (the
same seed gives the same numbers; the tolerance lets a change of the
random streams through but not a change of the physics or a hand-edited
number), an exact value or a label exactly, any other number (tau_int, TV
distances, counts, percentages) within 35 % or 4 noise spreads. A page must
include its file instead of showing a hand-written copy.
"""

from __future__ import annotations

import importlib.util
import math
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OUTPUTS = ROOT / "docs" / "outputs"

_spec = importlib.util.spec_from_file_location("make_outputs", OUTPUTS / "make_outputs.py")
make_outputs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_outputs)

#: page -> the example outputs it includes
PAGES = {"docs/guide/ising_data.md": ["generate_L16"], "docs/guide/evaluation.md": ["evaluate_L4"],
         "docs/guide/tomography.md": ["tomography_chain10"]}

_ESTIMATE = re.compile(r"(-?\d+\.?\d*(?:e[-+]?\d+)?) ± (\d+\.?\d*(?:e[-+]?\d+)?)")
_NUMBER = re.compile(r"(?P<value>[-+]?\d+\.?\d*(?:e[-+]?\d+)?)(?P<unit>%|s)?")


def _cells(line: str):
    """Split a table line into estimates (mean, error) and the other tokens."""
    estimates = [(float(m), float(e)) for m, e in _ESTIMATE.findall(line)]
    rest = [w for w in re.split(r"[\s,/()]+", _ESTIMATE.sub(" ", line)) if w]
    return estimates, rest


def _significant(text: str) -> int:
    digits = text.lstrip("+-").split("e")[0].replace(".", "").lstrip("0")
    return len(digits)


def _close(a, b, spread: float | None) -> bool:
    """Two other numbers agree within the statistics (sigma units: 4; percent: 5 points)."""
    x, y = float(a["value"]), float(b["value"])
    if a["unit"] != b["unit"]:
        return False
    if a["unit"] == "s":                      # a deviation in standard errors
        return abs(x - y) <= 4.0
    tolerance = max(0.35 * max(abs(x), abs(y)), 4 * spread if spread else 0.0,
                    5.0 if a["unit"] == "%" else 0.0, 1e-12)
    return abs(x - y) <= tolerance


def compare(shown: str, fresh: str) -> list[str]:
    """Differences beyond the statistics between a shown output and a fresh run's."""
    problems = []
    a_lines, b_lines = shown.strip().splitlines(), fresh.strip().splitlines()
    if len(a_lines) != len(b_lines):
        return [f"{len(a_lines)} lines shown, {len(b_lines)} printed"]
    for a, b in zip(a_lines, b_lines):
        (ea, ra), (eb, rb) = _cells(a), _cells(b)
        if len(ea) != len(eb) or len(ra) != len(rb):
            problems.append(f"layout differs:\n  shown: {a}\n  run:   {b}")
            continue
        for (ma, sa), (mb, sb) in zip(ea, eb):
            if abs(ma - mb) > 4 * math.hypot(sa, sb) + 1e-12:
                problems.append(f"{ma} ± {sa} shown, {mb} ± {sb} printed:\n  {b}")
        # "0.0766 (noise 0.00837 +- 0.003)": the spread after "+-" bounds that line's numbers
        spreads = re.findall(r"\+- (\d+\.?\d*(?:e[-+]?\d+)?)", b)
        spread = max(map(float, spreads)) if spreads else None
        for wa, wb in zip(ra, rb):
            if wa == wb:
                continue
            na, nb = _NUMBER.fullmatch(wa), _NUMBER.fullmatch(wb)
            # exact values (and sizes) are printed with >= 5 significant digits
            exact = na is not None and not na["unit"] and _significant(na["value"]) >= 5
            if na and nb and not exact and _close(na, nb, spread):
                continue
            problems.append(f"{wa!r} shown, {wb!r} printed:\n  {b}")
    return problems


def test_compare_catches_a_hand_edited_number_and_passes_statistics():
    line = "1.5000  ordered  wolff  1.12  3  10000  -1.95110 ± 0.00042  -1.951117  0.1959 ± 0.0032"
    assert compare(line, line) == []
    # a fresh stream: within the errors, tau_int within 35 %
    assert compare(line, line.replace("-1.95110", "-1.95140").replace("1.12", "1.20")) == []
    # the old page's kind of drift: an exact value or an estimate off by many errors
    assert compare(line, line.replace("-1.951117", "-1.951200"))
    assert compare(line, line.replace("-1.95110", "-1.94000"))
    assert compare(line, line.replace("1.12", "3.03"))


@pytest.mark.parametrize("page", sorted(PAGES))
def test_pages_include_the_generated_outputs(page):
    text = (ROOT / page).read_text(encoding="utf-8")
    for name in PAGES[page]:
        assert f"```{{literalinclude}} ../outputs/{name}.txt" in text, (page, name)
    assert not _ESTIMATE.search(text), f"{page} shows a hand-written estimate"


@pytest.mark.parametrize("name", sorted(make_outputs.EXAMPLES))
def test_shown_output_is_what_the_command_prints(name, tmp_path):
    shown = (OUTPUTS / f"{name}.txt").read_text(encoding="utf-8")
    fresh = make_outputs.run_example(name, tmp_path)
    problems = compare(shown, fresh)
    assert not problems, (f"docs/outputs/{name}.txt no longer matches a run; rerun "
                          "'python docs/outputs/make_outputs.py':\n" + "\n".join(problems))
