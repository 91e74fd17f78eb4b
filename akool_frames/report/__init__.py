"""What a run did and what a campaign would cost, at a glance: ``af.report`` over a result frame or the ledger,
``af.forecast`` over a sheet of planned rows; rendered as text, a chart, HTML, or a sheet."""

from __future__ import annotations

from ._forecast import forecast
from ._report import Report, report

__all__ = ["Report", "forecast", "report"]
