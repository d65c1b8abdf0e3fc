"""Benchmark: `export quarter` against openpyxl write-only writing the same cells with no formatting.

Builds the synthetic city of the quarterly-forms benchmark (300 departments × 400 tasks, one
year) in a throw-away SQLite file (or BENCH_DATABASE_URL), then runs, each in a fresh process
so that peak memory is its own:

1. ``export``: the quarter workbook exactly as ``flask export quarter`` makes it (queries,
   formatting, streaming) and saved to a file;
2. ``plain``: the same cell values, read back from that file beforehand, written by openpyxl in
   write-only mode with no formatting at all, and saved.

It prints each one's time and peak memory (RSS), and the ratios. Targets (issue 19): at most
1.0× the plain time, peak memory under 200 MB.

    .venv/bin/python bench/export.py [--departments 300 --tasks 400 --runs 3]
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _peak_mb():
    """Return this process's peak resident memory in MB.

    Linux keeps ``ru_maxrss`` across ``exec``: a child started by the parent that built the city
    would report the parent's peak. The high-water mark of the process's own memory does not.
    """
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_export(out, year, quarter):
    """Make the quarter workbook as the CLI does; print its time and this process's peak memory."""
    from config import Config
    from tracker import create_app
    from tracker.exports.operations import export_workbook

    app = create_app(Config)
    with app.app_context():
        started = time.perf_counter()
        _, workbook = export_workbook("quarter", year, quarter=quarter)
        workbook.save(out)
        elapsed = time.perf_counter() - started
    print(json.dumps({"seconds": elapsed, "peak_mb": _peak_mb()}))


def child_plain(source, out):
    """Write ``source``'s cell values with write-only openpyxl and no formatting; print time and peak memory."""
    from openpyxl import Workbook, load_workbook

    book = load_workbook(source, read_only=True)
    sheets = [(sheet.title, list(sheet.iter_rows(values_only=True))) for sheet in book.worksheets]
    book.close()
    started = time.perf_counter()
    workbook = Workbook(write_only=True)
    for title, rows in sheets:
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    workbook.save(out)
    elapsed = time.perf_counter() - started
    cells = sum(len(rows) * (len(rows[0]) if rows else 0) for _, rows in sheets)
    print(json.dumps({"seconds": elapsed, "peak_mb": _peak_mb(), "cells": cells}))


def _run(*args):
    result = subprocess.run(
        [sys.executable, __file__, *args], capture_output=True, text=True, check=True, env=os.environ.copy()
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main():
    """Build the city, time both ways of writing the quarter several times, print medians and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--departments", type=int, default=300)
    parser.add_argument("--tasks", type=int, default=400)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="tracker-bench-export-"))
    os.environ["TRACKER_INSTANCE_DIR"] = str(workdir)
    os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{workdir / 'bench.sqlite3'}"

    from flask_migrate import upgrade

    from config import Config
    from tracker import create_app
    from tracker.demo import build_city
    from tracker.extensions import db
    from tracker.models import PeriodKind, ReportingPeriod

    app = create_app(Config)
    with app.app_context():
        upgrade()
        started = time.perf_counter()
        plan = build_city(args.departments, args.tasks, 1)[-1]
        quarter = (
            ReportingPeriod.query.filter_by(plan_id=plan.id, kind=PeriodKind.QUARTER)
            .order_by(ReportingPeriod.number)
            .first()
            .number
        )
        year = plan.year
        print(
            f"built {args.departments} departments × {args.tasks} tasks in {time.perf_counter() - started:.0f} s "
            f"({db.engine.dialect.name}); exporting {year} Q{quarter}"
        )

    exported, plain = workdir / "quarter.xlsx", workdir / "plain.xlsx"
    export_runs = [_run("--child-export", str(exported), str(year), str(quarter)) for _ in range(args.runs)]
    plain_runs = [_run("--child-plain", str(exported), str(plain)) for _ in range(args.runs)]
    export_s = statistics.median(r["seconds"] for r in export_runs)
    plain_s = statistics.median(r["seconds"] for r in plain_runs)
    export_mb = max(r["peak_mb"] for r in export_runs)
    plain_mb = max(r["peak_mb"] for r in plain_runs)
    print(f"cells written: {plain_runs[0]['cells']:,} ({exported.stat().st_size / 1e6:.1f} MB file)")
    print(f"export quarter : {export_s:6.2f} s   peak {export_mb:6.0f} MB")
    print(f"plain write-only: {plain_s:6.2f} s   peak {plain_mb:6.0f} MB")
    print(f"ratio: time {export_s / plain_s:.2f}× (target ≤ 1.0×); export peak {export_mb:.0f} MB (target < 200 MB)")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child-export":
        child_export(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif len(sys.argv) > 1 and sys.argv[1] == "--child-plain":
        child_plain(sys.argv[2], sys.argv[3])
    else:
        main()
