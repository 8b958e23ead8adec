"""``salesorg.lib.sql``: ``DateTrunc`` (a date's week, month or quarter) and ``JSONWithout``."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db.models.functions import TruncMonth

from accounts.tests.factories import UserFactory
from pipeline.models import Target
from reports.models import WeeklyReport
from reports.tests.factories_planning import WeeklyReportFactory
from salesorg.lib.sql import DateTrunc, JSONWithout

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("kind", "day", "first"),
    [
        ("month", date(2026, 3, 31), date(2026, 3, 1)),
        ("month", date(2026, 1, 1), date(2026, 1, 1)),
        ("quarter", date(2026, 6, 30), date(2026, 4, 1)),
        ("quarter", date(2026, 10, 1), date(2026, 10, 1)),
        ("week", date(2026, 11, 29), date(2026, 11, 23)),  # a Sunday: its Monday
        ("week", date(2027, 1, 1), date(2026, 12, 28)),  # across the new year
    ],
)
def test_a_date_is_truncated_to_the_first_day_of_its_bucket(kind, day, first):
    Target.objects.create(period="month", period_start=day, revenue=1)
    row = Target.objects.annotate(bucket=DateTrunc("period_start", kind)).get()
    assert row.bucket == first
    assert isinstance(row.bucket, date) and not isinstance(row.bucket, datetime)


def test_every_day_of_a_year_lands_where_django_s_own_truncation_puts_it():
    start = date(2026, 1, 1)
    Target.objects.bulk_create(
        Target(period="month", period_start=start + timedelta(days=i), revenue=1, team=None)
        for i in range(0, 365, 7)
    )
    ours = dict(
        Target.objects.annotate(b=DateTrunc("period_start", "month")).values_list("pk", "b")
    )
    django = dict(Target.objects.annotate(b=TruncMonth("period_start")).values_list("pk", "b"))
    assert ours == django and len(ours) == 53


def test_a_moment_keeps_django_s_zone_aware_truncation():
    """A ``DateTimeField`` is a ``DateField`` too: its day depends on the zone, so
    it is left to Django (here 1 December 00:30 in Shanghai is still 30 November UTC)."""
    from accounts.models import User

    moment = datetime(2026, 12, 1, 0, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    user = User.objects.create(username="u1", path="1")
    User.objects.filter(pk=user.pk).update(date_joined=moment)
    row = User.objects.annotate(bucket=DateTrunc("date_joined", "month")).get(pk=user.pk)
    assert row.bucket == date(2026, 12, 1)


def test_json_without_drops_the_named_keys_and_keeps_the_rest():
    report = WeeklyReportFactory(owner=UserFactory())
    figures = {"won_count": 2, "activities": {"call": 3}, "moves": [{"deal_id": 1}], "visits": []}
    WeeklyReport.objects.filter(pk=report.pk).update(figures=figures)
    row = WeeklyReport.objects.annotate(
        summary=JSONWithout("figures", "moves", "visits", "closed")  # "closed" is not there
    ).get(pk=report.pk)
    assert row.summary == {"won_count": 2, "activities": {"call": 3}}
    assert row.figures == figures
