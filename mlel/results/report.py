"""The console summary of a merge (rich tables): totals, merged runs by task/model/hardware, skipped folders."""

from __future__ import annotations

import os

from mlel.results.merge import MergeReport


def print_report(report: MergeReport, output_dir, archive_dir=None, console=None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = console or Console(width=max(110, Console().width), soft_wrap=False)
    totals = Table(title="merge summary", show_header=True)
    for name in ("merged", "already merged", "skipped", "archived"):
        totals.add_column(name, justify="right")
    totals.add_row(str(report.merged), str(report.present), str(len(report.skipped)),
                   str(report.archived) if archive_dir else "-")
    console.print(totals)
    if report.by_group:
        groups = Table(title="merged now, by task / model / hardware")
        for name in ("task", "model", "hardware", "runs"):
            groups.add_column(name, justify="right" if name == "runs" else "left")
        for (task, model, hardware), n in sorted(report.by_group.items()):
            groups.add_row(task, model, hardware, str(n))
        console.print(groups)
    if report.skipped:
        skipped = Table(title="skipped folders")
        skipped.add_column("folder", overflow="fold")
        skipped.add_column("reason", overflow="fold")
        for folder, reason in report.skipped:
            skipped.add_row(str(folder), reason)
        console.print(skipped)
    console.print(f"results in {os.path.abspath(output_dir)}"
                  + (f", archives in {os.path.abspath(archive_dir)}" if archive_dir else ""))
