"""``isingrbm report``: rebuild the report of a demo folder from its result files.

Reads ``DIR/demo.json`` and the result files the demo wrote (datasets,
models, JSON tables, VMC results) and writes ``DIR/report/report.html``,
``DIR/report/report.md`` and the PNG figures, without recomputing anything.
"""

from __future__ import annotations

from . import _common

EXAMPLE = "isingrbm report demo-run     # writes demo-run/report/report.{html,md}"


def register(subparsers) -> None:
    parser = _common.add_subcommand(
        subparsers, "report",
        help="rebuild the demo report (HTML, Markdown, figures) from existing results",
        description=__doc__.strip(), example=EXAMPLE, func=run)
    parser.add_argument("directory", metavar="DIR", help="a folder written by 'isingrbm demo'")
    _common.add_common_options(parser)


def run(args) -> int:
    from isingrbm import report

    written = report.build_report(args.directory)
    _common.info(args, f"isingrbm report: wrote {written['html']} and {written['markdown']} "
                       f"({sum(k.startswith('figure:') for k in written)} figures)")
    if args.json:
        _common.emit_json({"directory": args.directory,
                           **{k: str(v) for k, v in written.items()}})
    return 0
