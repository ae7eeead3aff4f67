"""Demo stage 8: the report, ``DIR/report/report.{md,html}`` with its figures.

Built by :func:`isingrbm.report.build_report` from the result files alone
(``isingrbm report DIR`` rebuilds it at will).
"""

from __future__ import annotations

__all__ = ["run"]


def run(ctx):
    from isingrbm import report

    written = report.build_report(ctx.paths.root)
    return list(written.values()), {k: ctx.paths.relative(v) for k, v in written.items()}
