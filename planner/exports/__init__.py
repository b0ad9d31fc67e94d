"""Exports of an approved plan: file formats, the inputs they read, the CRM file and the change report."""

from planner.exports.change_report import change_report, write_change_report
from planner.exports.formats import EXPORT_FORMATS, export_plan

__all__ = ["EXPORT_FORMATS", "change_report", "export_plan", "write_change_report"]
