"""Seeing runs: rollout videos (:mod:`imitlab.report.video`) and HTML reports
(:mod:`imitlab.report.html`), with figures in one style (:mod:`imitlab.report.style`,
:mod:`imitlab.report.plots`) from a run directory's records (:mod:`imitlab.report.runs`)."""

from imitlab.report.html import build_report
from imitlab.report.video import record_video, write_run_video

__all__ = ["build_report", "record_video", "write_run_video"]
