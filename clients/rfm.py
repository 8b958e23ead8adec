"""The RFM segments (SPEC section 7): their names and the rule that picks one.

Scores are computed in one place, ``reports.kpis.rfm_scores_sql`` (quintiles
by ``CUME_DIST``); the nightly job stores today's on the clients and the
dashboards compute any day's live, so both name a score the same way through
``rfm_segment`` (Python) and ``rfm_segment_sql`` (the same rule in SQL, for
the job's single ``UPDATE``). Recency and frequency decide; monetary value
ranks clients within a segment.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

RFM_SEGMENT_LABELS = {
    "champions": _("Champions"),
    "loyal": _("Loyal"),
    "recent": _("Recent"),
    "at_risk": _("At risk"),
    "hibernating": _("Hibernating"),
    "needs_attention": _("Needs attention"),
}


def rfm_segment(recency: int, frequency: int, monetary: int) -> str:
    """The segment of an R, F, M score (1–5 each); first match wins."""
    del monetary
    if recency >= 4 and frequency >= 4:
        return "champions"  # buy recently and often
    if recency >= 3 and frequency >= 3:
        return "loyal"  # buy regularly
    if recency >= 4:
        return "recent"  # bought lately, not often yet
    if recency <= 2 and frequency >= 3:
        return "at_risk"  # used to buy often, not lately
    if recency <= 2:
        return "hibernating"  # little, and long ago
    return "needs_attention"  # in between: worth a call


def rfm_segment_sql(recency: str, frequency: str) -> str:
    """``rfm_segment`` as a SQL ``CASE`` over the two score columns named."""
    r, f = recency, frequency
    return (
        f"CASE WHEN {r} >= 4 AND {f} >= 4 THEN 'champions' "
        f"WHEN {r} >= 3 AND {f} >= 3 THEN 'loyal' "
        f"WHEN {r} >= 4 THEN 'recent' "
        f"WHEN {r} <= 2 AND {f} >= 3 THEN 'at_risk' "
        f"WHEN {r} <= 2 THEN 'hibernating' "
        "ELSE 'needs_attention' END"
    )
