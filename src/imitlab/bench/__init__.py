"""``imitlab bench``: algorithms x tasks x demo counts x seeds, in worker processes, resumable,
aggregated (mean and IQM with bootstrap intervals) into tables, figures and ``report.md``."""

from imitlab.bench.aggregate import bootstrap_ci, iqm, summarize_records
from imitlab.bench.report import build_report
from imitlab.bench.runner import CellFailed, run_bench

__all__ = ["CellFailed", "bootstrap_ci", "build_report", "iqm", "run_bench", "summarize_records"]
