"""The complaint SLA check, every 15 minutes (``jobs.complaint_sla``).

Thin on purpose: the work is ``clients.complaints.complaints_escalate_overdue``,
which is idempotent per complaint and level; the decorator claims the
quarter-hour slot in ``JobRun`` so a second beat or a duplicate send does
nothing, and records the summary for the operations page.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from clients.complaints import complaints_escalate_overdue
from reports.jobs import quarter_hour_slot, scheduled_job


@scheduled_job("complaint_sla", slot=quarter_hour_slot)
def complaint_sla(now: datetime) -> dict[str, Any]:
    """Escalate unanswered complaints past their first-response deadline."""
    return complaints_escalate_overdue(now)
