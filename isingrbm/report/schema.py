"""The structure of every JSON result the report reads, checked before it is used.

A JSON result of the right shape but the wrong types (``{"tables": [1]}``)
is refused in one line naming the file and the first wrong entry
(:class:`mccore.errors.FileFormatError`), never a traceback. One small
structural checker, and one schema per kind of result:

``evaluate``
    ``isingrbm evaluate --json``: ``tables`` (compare tables), ``data``,
    ``labels``, ``generated``.
``demo-evaluation``, ``demo-monte-carlo``, ``demo-vmc``, ...
    a demo's ``results/evaluation.json``, ``monte_carlo.json``, ``vmc.json``,
    ``exact_sampling.json`` (``demo-exact-sampling``) and ``tfim.json``
    (``demo-tfim``).
``vmc``
    ``isingrbm vmc --json``: ``energy``, ``error``, ``parameters``, ...
"""

from __future__ import annotations

from mccore.errors import FileFormatError

__all__ = ["SCHEMAS", "check", "classify"]


class Nullable:
    """``spec`` or JSON ``null``."""

    def __init__(self, spec):
        self.spec = spec


class MapOf:
    """An object whose keys are free and whose values all match ``spec``."""

    def __init__(self, spec):
        self.spec = spec


class ListOf:
    """A list whose items all match ``spec`` (at least ``min_items`` of them)."""

    def __init__(self, spec, min_items: int = 0):
        self.spec = spec
        self.min_items = min_items


NUMBER = "number"    # int or float, not bool
BOOLEAN = "boolean"
INTEGER = "integer"  # int, not bool
TEXT = "string"
OBJECT = "object"    # any object

_NAMES = {BOOLEAN: "true or false", NUMBER: "a number", INTEGER: "an integer", TEXT: "a string",
          OBJECT: "an object"}


def _type_name(value) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "true/false",
            type(None): "null", int: "an integer", float: "a number"}.get(type(value),
                                                                         type(value).__name__)


def _describe(spec) -> str:
    if isinstance(spec, Nullable):
        return _describe(spec.spec) + " or null"
    if isinstance(spec, MapOf) or isinstance(spec, dict):
        return "an object"
    if isinstance(spec, ListOf):
        return "a list" + (" (not empty)" if spec.min_items else "")
    return _NAMES[spec]


def _fail(where: str, spec, value, nullable: bool):
    what = _describe(spec) + (" or null" if nullable else "")
    raise _Mismatch(f"{where or 'the file'} must be {what}, got {_type_name(value)}")


def _join(where: str, key) -> str:
    return f"{where}.{key}" if where else str(key)


class _Mismatch(Exception):
    pass


def _check(value, spec, where: str, nullable: bool = False) -> None:
    if isinstance(spec, Nullable):
        if value is not None:
            _check(value, spec.spec, where, nullable=True)
        return
    if isinstance(spec, dict):
        if not isinstance(value, dict):
            _fail(where, spec, value, nullable)
        for key, sub in spec.items():
            optional = key.endswith("?")
            name = key.rstrip("?")
            if name not in value:
                if optional:
                    continue
                raise _Mismatch(f"{where or 'the file'} has no {name!r}")
            _check(value[name], sub, _join(where, name))
        return
    if isinstance(spec, MapOf):
        if not isinstance(value, dict):
            _fail(where, spec, value, nullable)
        for key, item in value.items():
            _check(item, spec.spec, _join(where, key))
        return
    if isinstance(spec, ListOf):
        if not isinstance(value, list) or len(value) < spec.min_items:
            _fail(where, spec, value, nullable)
        for i, item in enumerate(value):
            _check(item, spec.spec, f"{where}[{i}]")
        return
    ok = {BOOLEAN: isinstance(value, bool),
          NUMBER: isinstance(value, (int, float)) and not isinstance(value, bool),
          INTEGER: isinstance(value, int) and not isinstance(value, bool),
          TEXT: isinstance(value, str),
          OBJECT: isinstance(value, dict)}[spec]
    if not ok:
        _fail(where, spec, value, nullable)


#: An Estimate as JSON (``Estimate.to_dict``): NaN is written as null.
ESTIMATE = {"mean": Nullable(NUMBER), "error?": Nullable(NUMBER)}

#: The observables a Monte Carlo row must hold (the columns of its table).
MONTE_CARLO_OBSERVABLES = ("energy", "specific_heat", "abs_magnetization",
                           "susceptibility_connected", "susceptibility", "binder_cumulant")

#: One table of :func:`isingrbm.evaluate.compare` (the fields the report reads).
COMPARE_TABLE = {
    "T": NUMBER,
    "L": INTEGER,
    "phase?": Nullable(TEXT),
    "sources": ListOf(TEXT, min_items=1),
    "observables": MapOf(MapOf(Nullable(ESTIMATE))),
    "exact?": Nullable(MapOf(Nullable(NUMBER))),
    "deviation?": Nullable(MapOf(MapOf(Nullable(NUMBER)))),
    "fraction_positive?": Nullable(MapOf(Nullable(ESTIMATE))),
    "distance?": Nullable(MapOf(MapOf(Nullable({"value?": Nullable(NUMBER),
                                                "noise?": Nullable(NUMBER)})))),
    "distinct?": Nullable(MapOf(Nullable(INTEGER))),
    "n_samples?": Nullable(MapOf(Nullable(INTEGER))),
}

MONTE_CARLO_ROW = {
    "temperature": NUMBER,
    "phase?": Nullable(TEXT),
    "n_samples": INTEGER,
    "algorithm?": Nullable(TEXT),
    "observables": dict({name: ESTIMATE for name in MONTE_CARLO_OBSERVABLES}),
    "exact_finite": {"energy": Nullable(NUMBER), "specific_heat": Nullable(NUMBER)},
    "exact_infinite": {"abs_magnetization": Nullable(NUMBER)},
}

VMC_RUN = {
    "label": TEXT,
    "energy": ESTIMATE,
    "exact?": Nullable(NUMBER),
    "variance?": Nullable(NUMBER),
    "acceptance?": Nullable(NUMBER),
    "file": TEXT,
}

#: One phase of a demo's results/exact_sampling.json.
EXACT_SAMPLING_PHASE = {
    "temperature": NUMBER,
    "file": TEXT,
    "acceptance_rate": Nullable(NUMBER),
    "tau_int?": Nullable(MapOf(Nullable(NUMBER))),
    "thinning?": Nullable(INTEGER),
    "proposal_steps?": Nullable(INTEGER),
    "local_sweeps?": Nullable(INTEGER),
    "equilibration_check_passed?": Nullable(BOOLEAN),
}

#: kind -> schema of the whole file.
SCHEMAS = {
    "demo-evaluation": {"L": INTEGER, "phases": MapOf({
        "temperature": NUMBER, "table": COMPARE_TABLE, "files": MapOf(TEXT)})},
    "evaluate": {"tables": ListOf(COMPARE_TABLE, min_items=1), "data?": Nullable(TEXT),
                 "labels?": Nullable(ListOf(TEXT)), "generated?": Nullable(ListOf(TEXT))},
    "demo-monte-carlo": {"L": INTEGER, "data_file?": TEXT,
                         "temperatures": ListOf(MONTE_CARLO_ROW, min_items=1)},
    "demo-vmc": {"runs": MapOf(VMC_RUN), "system?": Nullable(TEXT)},
    "demo-exact-sampling": {"phases": MapOf(EXACT_SAMPLING_PHASE), "method?": Nullable(TEXT)},
    "demo-tfim": {"system": TEXT, "size": INTEGER, "field": NUMBER, "file": TEXT,
                  "energy": ESTIMATE, "exact?": Nullable(NUMBER), "exact_method?": Nullable(TEXT),
                  "relative_error?": Nullable(NUMBER), "relative_error_sigma?": Nullable(NUMBER),
                  "variance?": Nullable(NUMBER), "acceptance?": Nullable(NUMBER),
                  "iterations?": Nullable(INTEGER)},
    "vmc": {"energy": NUMBER, "error?": Nullable(NUMBER), "parameters": OBJECT,
            "exact?": Nullable(NUMBER), "variance?": Nullable(NUMBER),
            "acceptance?": Nullable(NUMBER), "out?": Nullable(TEXT)},
}

#: The parts of a demo manifest (``demo.json``) that its report reads.
DEMO_MANIFEST = {
    "seed?": Nullable(INTEGER),
    "config": {"L": INTEGER, "temperatures": ListOf(NUMBER), "n_samples": INTEGER,
               "phase_temperatures": MapOf(NUMBER), "n_generated": INTEGER},
    "stages": MapOf({"seconds?": Nullable(NUMBER), "cpu_seconds?": Nullable(NUMBER)}),
}
SCHEMAS["demo-manifest"] = DEMO_MANIFEST

_WHAT = {"demo-manifest": "a demo manifest",
         "demo-evaluation": "a demo's results/evaluation.json",
         "evaluate": "an 'isingrbm evaluate --json' result",
         "demo-monte-carlo": "a demo's results/monte_carlo.json",
         "demo-vmc": "a demo's results/vmc.json",
         "demo-exact-sampling": "a demo's results/exact_sampling.json",
         "demo-tfim": "a demo's results/tfim.json",
         "vmc": "an 'isingrbm vmc --json' result"}


def classify(obj, manifest_format: str) -> str:
    """The kind of a JSON result by its keys ("" if none; "demo-manifest" for a manifest)."""
    if not isinstance(obj, dict):
        return ""
    if obj.get("format") == manifest_format:
        return "demo-manifest"
    if "phases" in obj and "L" in obj:
        return "demo-evaluation"
    if "phases" in obj and "lattice_size" in obj:
        return "demo-exact-sampling"
    if "lattice" in obj and "field" in obj and "energy" in obj:
        return "demo-tfim"
    if "tables" in obj:
        return "evaluate"
    if "temperatures" in obj and "L" in obj:
        return "demo-monte-carlo"
    if "runs" in obj:
        return "demo-vmc"
    if "energy" in obj and "parameters" in obj:
        return "vmc"
    return ""


def check(obj, kind: str, path) -> None:
    """Refuse (FileFormatError naming ``path``) a result that does not match its schema."""
    try:
        _check(obj, SCHEMAS[kind], "")
    except _Mismatch as exc:
        raise FileFormatError(
            f"{path}: not a valid result file ({_WHAT[kind]}): {exc}") from None
