"""RFM scores against hand-computed quintiles, segments, spend and key-account alerts."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail

from accounts.models import Notification
from clients.models import Client
from pipeline.services.rfm import rfm_score_clients
from pipeline.tasks import rfm_scoring
from pipeline.tests.job_factories import ClientFactory, DealFactory, won_deal

pytestmark = pytest.mark.django_db

TODAY = date(2026, 12, 1)
NIGHT = datetime(2026, 12, 1, 2, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    def _run(when: datetime = NIGHT, slot: str | None = None):
        with (
            time_machine.travel(when, tick=False),
            django_capture_on_commit_callbacks(execute=True),
        ):
            return rfm_scoring.apply(kwargs={"slot_name": slot} if slot else {}).get()

    return _run


@pytest.fixture
def book(org):
    """Six clients with won deals, one without, one with stale scores.

    ====== ========== ============= ============== =====
    client last won   won in 12 m   CNY in 12 m    R F M
    ====== ========== ============= ============== =====
    A      2026-11-30 4             4,000,000      5 5 5
    B      2026-10-01 1             500,000        5 2 4
    C      2026-06-01 2             300,000        4 4 3
    D      2026-06-01 3             900,000        4 5 5
    E      2025-12-20 2 (one USD)   50,000         2 4 2
    F      2024-01-01 0             0              1 1 1
    ====== ========== ============= ============== =====

    n = 6, score = ceil(5 × cume_dist), where cume_dist is the share of clients
    at or below the value (ties share the higher): recency F 1/6 E 2/6 C,D 4/6
    B 5/6 A 1, frequency F 1/6 B 2/6 C,E 4/6 D 5/6 A 1, monetary F 1/6 E 2/6
    C 3/6 B 4/6 D 5/6 A 1. A year before 1 December 2026 is 1 December 2025, so
    E's deals of December 2025 count.
    """
    c = {name: ClientFactory(name=f"RFM {name}", owner=org.rep) for name in "ABCDEFGH"}
    for day in (date(2026, 11, 30), date(2026, 9, 1), date(2026, 5, 1), date(2026, 1, 5)):
        won_deal(c["A"], day, 1_000_000)
    won_deal(c["B"], date(2026, 10, 1), 500_000)
    won_deal(c["C"], date(2026, 6, 1), 100_000)
    won_deal(c["C"], date(2026, 2, 1), 200_000)
    won_deal(c["D"], date(2026, 6, 1), 300_000)
    won_deal(c["D"], date(2026, 4, 1), 300_000)
    won_deal(c["D"], date(2026, 3, 1), 300_000)
    won_deal(c["E"], date(2025, 12, 15), 50_000)
    won_deal(c["F"], date(2024, 1, 1), 2_000_000)
    # An open deal scores nothing; a deal won in another currency counts as a won
    # deal but not as money (like spend); one closed after the run's day is ignored.
    DealFactory(client=c["G"], owner=org.rep, amount=Decimal("9000000"))
    won_deal(c["E"], date(2025, 12, 20), 10_000_000, currency="USD")
    won_deal(c["B"], date(2026, 12, 5), 7_000_000)
    Client.objects.filter(pk=c["H"].pk).update(
        rfm_recency=5, rfm_frequency=5, rfm_monetary=5, rfm_segment="champions"
    )
    return c


def scores() -> dict[str, tuple]:
    return {
        c.name.removeprefix("RFM "): (c.rfm_recency, c.rfm_frequency, c.rfm_monetary, c.rfm_segment)
        for c in Client.objects.filter(name__startswith="RFM ")
    }


def test_scores_are_quintiles_of_the_scored_clients(book):
    result = rfm_score_clients(today=TODAY, now=NIGHT)
    assert result == {"scored": 6, "cleared": 1}
    assert scores() == {
        "A": (5, 5, 5, "champions"),
        "B": (5, 2, 4, "recent"),
        "C": (4, 4, 3, "champions"),
        "D": (4, 5, 5, "champions"),
        "E": (2, 4, 2, "at_risk"),
        "F": (1, 1, 1, "hibernating"),
        "G": (None, None, None, ""),
        "H": (None, None, None, ""),
    }


def test_equal_values_get_equal_scores(org):
    x, y, z = (ClientFactory(name=f"RFM {n}", owner=org.rep) for n in "XYZ")
    for day in (date(2026, 1, 10), date(2026, 1, 5), date(2026, 1, 2)):
        won_deal(x, day, 100_000)  # often, long ago
    won_deal(y, date(2026, 6, 1), 100_000)  # once, a while ago
    won_deal(z, date(2026, 11, 20), 50_000)  # twice, recently
    won_deal(z, date(2026, 11, 1), 50_000)
    rfm_score_clients(today=TODAY, now=NIGHT)
    # n = 3: ceil(5 × 1/3) = 2, ceil(5 × 2/3) = 4, 5. Y and Z spent the same: both 2/3.
    assert scores() == {
        "X": (2, 5, 5, "at_risk"),
        "Y": (4, 2, 4, "recent"),
        "Z": (5, 4, 4, "champions"),
    }


def test_the_stored_segment_follows_the_one_rule(org):
    """The job's SQL names every score as ``clients.rfm.rfm_segment`` does."""
    from django.db import connection

    from clients.rfm import rfm_segment, rfm_segment_sql

    combos = [(r, f) for r in range(1, 6) for f in range(1, 6)]
    values = " UNION ALL ".join(f"SELECT {r} AS r, {f} AS f" for r, f in combos)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT r, f, {rfm_segment_sql('r', 'f')} FROM ({values}) x")
        named = {(r, f): segment for r, f, segment in cursor.fetchall()}
    assert named == {(r, f): rfm_segment(r, f, 3) for r, f in combos}
    assert set(named.values()) == {
        "champions",
        "loyal",
        "recent",
        "at_risk",
        "hibernating",
        "needs_attention",
    }


def test_the_nightly_job_refreshes_spend_flags_key_accounts_and_tells_the_manager_once(
    org, book, run
):
    summary = run()
    assert summary["scored"] == 6 and summary["cleared"] == 1
    assert summary["segments"] == {
        "champions": 3,
        "recent": 1,
        "at_risk": 1,
        "hibernating": 1,
    }
    assert summary["key_accounts"] == 1 and summary["key_accounts_without_am_announced"] == 1
    a = Client.objects.get(pk=book["A"].pk)
    assert (a.spend_12m, a.is_key_account) == (Decimal("4000000.00"), True)
    assert Client.objects.get(pk=book["F"].pk).spend_12m == 0  # its deal is older than a year
    alert = Notification.objects.get(kind="key_account_without_am")
    assert alert.recipient == org.manager  # the manager above the owner (rep ← am ← manager)
    assert alert.dedupe_key == f"key_account:{a.pk}" and alert.url == f"/clients/{a.pk}/"
    assert [m.to for m in mail.outbox] == [[org.manager.email]]

    # The next night: same scores, no second alert.
    second = run(datetime(2026, 12, 2, 2, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
    assert second["key_accounts_without_am_announced"] == 0
    assert Notification.objects.filter(kind="key_account_without_am").count() == 1
    assert len(mail.outbox) == 1
    assert JobRun_slots() == ["2026-12-02", "2026-12-01"]


def JobRun_slots() -> list[str]:
    from reports.models import JobRun

    return list(JobRun.objects.filter(job="rfm_scoring").values_list("slot", flat=True))


def test_a_key_account_with_an_account_manager_needs_no_alert(org, book, run):
    Client.objects.filter(pk=book["A"].pk).update(account_manager=org.am)
    summary = run()
    assert summary["key_accounts"] == 1 and summary["key_accounts_without_am_announced"] == 0
    assert not Notification.objects.filter(kind="key_account_without_am").exists()


def test_an_owner_reporting_straight_to_the_director_alerts_the_director(org, run):
    client = ClientFactory(name="Big one", owner=org.manager)
    won_deal(client, date(2026, 11, 1), 2_000_000)
    run()
    assert Notification.objects.get(kind="key_account_without_am").recipient == org.director


def test_scoring_takes_the_same_number_of_queries_for_more_clients(
    org, django_assert_max_num_queries
):
    def add(n: int) -> None:
        for i in range(n):
            client = ClientFactory(owner=org.rep)
            won_deal(client, date(2026, 1 + i % 11, 1 + i % 27), 10_000 * (i + 1))

    add(5)
    with django_assert_max_num_queries(4):
        rfm_score_clients(today=TODAY, now=NIGHT)
    add(40)
    with django_assert_max_num_queries(4):
        assert rfm_score_clients(today=TODAY, now=NIGHT)["scored"] == 45
