"""Visit reminders, renewal reminders, stale deals and expiry: due on the right local day,
sent once however often the job runs (asserted on notifications, mail and JobRun)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from accounts.models import Notification
from clients.models import Cadence, ClientStatus
from pipeline.models import Activity, ActivityType, Contract, ContractStatus, Deal, Quote
from pipeline.tasks import expire_documents, renewal_reminders, stale_deals, visit_reminders
from pipeline.tests.job_factories import (
    ActivityFactory,
    ClientFactory,
    ContractFactory,
    DealFactory,
    stage,
)
from reports.models import JobRun

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(y: int, m: int, d: int, h: int = 8, mi: int = 0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=SHANGHAI)


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Run a job at a moment (time frozen there), e-mails sent as on commit."""

    def _run(task, when: datetime, slot: str | None = None):
        with (
            time_machine.travel(when, tick=False),
            django_capture_on_commit_callbacks(execute=True),
        ):
            return task.apply(kwargs={"slot_name": slot} if slot else {}).get()

    return _run


def notes(kind: str, user=None):
    qs = Notification.objects.filter(kind=kind)
    return qs.filter(recipient=user) if user else qs


# ------------------------------------------------------------------ visit reminders
@pytest.fixture
def visits(org):
    today = date(2026, 12, 1)
    am_client = ClientFactory(
        owner=org.rep, account_manager=org.am, next_visit_due=today - timedelta(days=3)
    )
    rep_client = ClientFactory(owner=org.rep, next_visit_due=today)
    ClientFactory(owner=org.rep, next_visit_due=today + timedelta(days=1))  # not yet
    ClientFactory(owner=org.rep, cadence=Cadence.ON_DEMAND, next_visit_due=today - timedelta(9))
    ClientFactory(owner=org.peer_rep, status=ClientStatus.LOST, next_visit_due=today)
    peer_client = ClientFactory(owner=org.peer_rep)
    # Planned visits of peer_rep: one today, one just after local midnight (tomorrow)
    # and one just before local midnight yesterday; a done visit today does not count.
    ActivityFactory(client=peer_client, start_at=local(2026, 12, 1, 14), subject="Demo day")
    ActivityFactory(client=peer_client, start_at=local(2026, 12, 2, 0, 30))
    ActivityFactory(client=peer_client, start_at=local(2026, 11, 30, 23, 45))
    ActivityFactory(client=peer_client, start_at=local(2026, 12, 1, 9), status=Activity.Status.DONE)
    ActivityFactory(client=peer_client, start_at=local(2026, 12, 1, 10), type=ActivityType.CALL)
    return {"am_client": am_client, "rep_client": rep_client}


def test_each_person_gets_one_reminder_with_their_due_clients_and_todays_visits(org, visits, run):
    summary = run(visit_reminders, local(2026, 12, 1, 8))
    assert summary == {"people": 3, "reminded": 3, "already_reminded": 0}

    am_note = notes("visit_reminder", org.am).get()
    assert visits["am_client"].name in am_note.body and "overdue since 2026-11-28" in am_note.body
    assert am_note.dedupe_key == "visits:2026-12-01" and am_note.url == "/pipeline/cadence/"

    rep_note = notes("visit_reminder", org.rep).get()
    assert f"{visits['rep_client'].name} — due today" in rep_note.body
    assert visits["am_client"].name not in rep_note.body  # the AM is responsible for that one

    peer_note = notes("visit_reminder", org.peer_rep).get()
    assert "Planned visits today (1)" in peer_note.body and "14:00" in peer_note.body
    assert "00:30" not in peer_note.body and "23:45" not in peer_note.body
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [org.am.email, org.rep.email, org.peer_rep.email]
    )


def test_visit_reminders_twice_a_day_send_nothing_more(org, visits, run):
    run(visit_reminders, local(2026, 12, 1, 8))
    # the same slot again (a second beat) and a manual run later the same day
    assert run(visit_reminders, local(2026, 12, 1, 8, 1)) is None
    assert run(visit_reminders, local(2026, 12, 1, 23, 59), slot="manual-1") == {
        "people": 3,
        "reminded": 0,
        "already_reminded": 3,
    }
    assert notes("visit_reminder").count() == 3 and len(mail.outbox) == 3
    assert list(JobRun.objects.values_list("slot", "status")) == [
        ("manual-1", "ok"),
        ("2026-12-01", "ok"),
    ]


def test_the_reminder_day_is_the_local_day_across_midnight(org, visits, run):
    # 00:05 on 1 December in Shanghai is still 30 November in UTC.
    early = local(2026, 12, 1, 0, 5)
    assert early.astimezone(ZoneInfo("UTC")).day == 30
    run(visit_reminders, early)
    assert JobRun.objects.get().slot == "2026-12-01"
    assert notes("visit_reminder", org.rep).get().dedupe_key == "visits:2026-12-01"
    # Late on the day before, the rep's client was not due yet and no visit was today.
    Notification.objects.all().delete()
    JobRun.objects.all().delete()
    run(visit_reminders, local(2026, 11, 30, 23, 55))
    assert not notes("visit_reminder", org.rep).exists()  # due 1 Dec, not yet
    assert "overdue since" in notes("visit_reminder", org.am).get().body  # due 28 Nov
    assert "23:45" in notes("visit_reminder", org.peer_rep).get().body


def test_the_next_day_reminds_again(org, visits, run):
    run(visit_reminders, local(2026, 12, 1, 8))
    run(visit_reminders, local(2026, 12, 2, 8))
    assert notes("visit_reminder", org.rep).count() == 2
    # the rep's client, due on the 1st and not visited, is overdue on the 2nd
    assert "overdue since 2026-12-01" in notes("visit_reminder", org.rep).first().body


def test_a_logged_visit_takes_the_client_off_the_list(org, visits, run):
    client = visits["rep_client"]
    client.next_visit_due = date(2026, 12, 31)
    client.save()
    run(visit_reminders, local(2026, 12, 1, 8))
    assert not notes("visit_reminder", org.rep).exists()


# ------------------------------------------------------------------ renewal reminders
@pytest.fixture
def contract(org):
    client = ClientFactory(owner=org.rep, account_manager=org.am)
    return ContractFactory(client=client, owner=org.rep, end_date=date(2027, 3, 1))


def days_before(day: date, n: int, hour: int = 9, minute: int = 0) -> datetime:
    d = day - timedelta(days=n)
    return local(d.year, d.month, d.day, hour, minute)


def test_renewal_reminders_at_90_60_and_30_days_once_each(org, contract, run):
    end = contract.end_date
    for n in (120, 91):
        run(renewal_reminders, days_before(end, n))
    assert not notes("renewal_reminder").exists()
    run(renewal_reminders, days_before(end, 90))
    assert {n.recipient for n in notes("renewal_reminder")} == {org.rep, org.am}
    assert notes("renewal_reminder", org.rep).get().dedupe_key == f"renewal:{contract.pk}:90"
    for n in (89, 75, 61):
        run(renewal_reminders, days_before(end, n))
    assert notes("renewal_reminder").count() == 2
    run(renewal_reminders, days_before(end, 60))
    run(renewal_reminders, days_before(end, 45))
    run(renewal_reminders, days_before(end, 30))
    run(renewal_reminders, days_before(end, 1))
    run(renewal_reminders, days_before(end, 0))
    keys = sorted(notes("renewal_reminder", org.am).values_list("dedupe_key", flat=True))
    assert keys == [f"renewal:{contract.pk}:{d}" for d in (30, 60, 90)]
    assert len(mail.outbox) == 6
    assert (
        "ends in 30 days" in notes("renewal_reminder", org.am).get(dedupe_key__endswith=":30").title
    )


def test_a_missed_threshold_is_caught_up_once(org, contract, run):
    end = contract.end_date
    # The job did not run for the 90- and 60-day marks: 55 days before, it reminds once.
    summary = run(renewal_reminders, days_before(end, 55))
    assert summary == {"contracts_reminded": 1, "at_60_days": 1, "notifications": 2}
    run(renewal_reminders, days_before(end, 54), slot="manual-again")
    assert list(notes("renewal_reminder", org.rep).values_list("dedupe_key", flat=True)) == [
        f"renewal:{contract.pk}:60"
    ]
    assert "ends in 55 days" in notes("renewal_reminder", org.rep).get().title


def test_the_threshold_day_is_the_local_day(org, contract, run):
    end = contract.end_date
    # 23:59 on the 61st day before: not yet; 00:01 on the 60th day (still the day
    # before in UTC): now.
    run(renewal_reminders, days_before(end, 61, 23, 59), slot="late")
    assert notes("renewal_reminder").count() == 2  # the 90-day catch-up only
    run(renewal_reminders, days_before(end, 60, 0, 1), slot="early")
    assert notes("renewal_reminder", org.rep).filter(dedupe_key__endswith=":60").exists()


def test_contracts_not_running_or_already_renewing_are_left_alone(org, run):
    client = ClientFactory(owner=org.rep)
    today = date(2026, 12, 1)
    ended = ContractFactory(client=client, end_date=today - timedelta(days=1))
    ContractFactory(client=client, end_date=today + timedelta(days=20), status=ContractStatus.DRAFT)
    ContractFactory(
        client=client, end_date=today + timedelta(days=20), status=ContractStatus.TERMINATED
    )
    renewing = ContractFactory(client=client, end_date=today + timedelta(days=20))
    ContractFactory(
        client=client,
        renews=renewing,
        status=ContractStatus.LEGAL_REVIEW,
        end_date=today + timedelta(days=385),
    )
    assert run(renewal_reminders, local(2026, 12, 1, 9)) == {"contracts_reminded": 0}
    assert not notes("renewal_reminder").exists()
    assert ended.status == ContractStatus.ACTIVE  # expiry is the housekeeping job's


# ------------------------------------------------------------------ stale deals
def make_deal(owner, *, quiet_days: float | None, created_days: float, now: datetime, **kw):
    client = ClientFactory(owner=owner)
    deal = DealFactory(client=client, owner=owner, **kw)
    Deal.objects.filter(pk=deal.pk).update(
        created_at=now - timedelta(days=created_days),
        last_activity_at=None if quiet_days is None else now - timedelta(days=quiet_days),
    )
    return deal


@pytest.fixture
def stale(org):
    monday = local(2026, 11, 30, 9)
    deals = {
        "rep_quiet": make_deal(org.rep, quiet_days=20, created_days=60, now=monday),
        "rep_untouched": make_deal(org.rep, quiet_days=None, created_days=30, now=monday),
        "rep_busy": make_deal(org.rep, quiet_days=5, created_days=60, now=monday),
        "rep_almost": make_deal(org.rep, quiet_days=13.9, created_days=60, now=monday),
        "rep_won": make_deal(
            org.rep, quiet_days=40, created_days=60, now=monday, stage=stage("won")
        ),
        "peer_quiet": make_deal(org.peer_rep, quiet_days=15, created_days=60, now=monday),
    }
    return monday, deals


def test_stale_deals_go_to_the_owner_and_their_manager_once_a_week(org, stale, run):
    monday, deals = stale
    summary = run(stale_deals, monday)
    assert summary == {
        "stale_deals": 3,
        "people": 3,
        "notified": 3,
        "already_notified": 0,
        "days": 14,
    }
    rep_note = notes("stale_deals", org.rep).get()
    assert deals["rep_quiet"].title in rep_note.body
    assert deals["rep_untouched"].title in rep_note.body
    assert deals["rep_busy"].title not in rep_note.body
    assert deals["rep_almost"].title not in rep_note.body
    assert deals["rep_won"].title not in rep_note.body
    assert rep_note.title == "2 open deals without activity for 14 days"
    am_note = notes("stale_deals", org.am).get()  # rep and peer_rep report to the AM
    assert "Deals of the people reporting to you (3)" in am_note.body
    assert "(peer_rep)" in am_note.body
    assert not notes("stale_deals", org.manager).exists()
    # Again on Wednesday and on Sunday night: the same ISO week, nothing more.
    run(stale_deals, local(2026, 12, 2, 9), slot="manual-wed")
    run(stale_deals, local(2026, 12, 6, 23, 59), slot="manual-sun")
    assert notes("stale_deals").count() == 3 and len(mail.outbox) == 3
    # A minute after local midnight it is a new week.
    run(stale_deals, local(2026, 12, 7, 0, 1), slot="manual-mon")
    assert notes("stale_deals").count() == 6
    assert notes("stale_deals", org.rep).filter(dedupe_key="stale_deals:2026-W50").exists()


def test_the_number_of_days_is_a_setting(org, stale, run, settings):
    settings.SALESORG_STALE_DEAL_DAYS = 25
    monday, deals = stale
    summary = run(stale_deals, monday)
    assert summary["stale_deals"] == 1  # only the deal created 30 days ago, never touched
    assert deals["rep_untouched"].title in notes("stale_deals", org.rep).get().body


# ------------------------------------------------------------------ expiry housekeeping
def test_expire_documents_expires_due_quotes_and_ended_contracts_once(org, run):
    client = ClientFactory(owner=org.rep)
    deal = DealFactory(client=client, owner=org.rep)
    today = date(2026, 12, 1)
    due = Quote.objects.create(
        deal=deal,
        number="Q-JOB-1",
        revision=1,
        status=Quote.Status.SENT,
        valid_until=today - timedelta(days=1),
    )
    fresh = Quote.objects.create(
        deal=deal, number="Q-JOB-2", revision=1, status=Quote.Status.SENT, valid_until=today
    )
    ended = ContractFactory(client=client, end_date=today - timedelta(days=1))
    running = ContractFactory(client=client, end_date=today)
    assert run(expire_documents, local(2026, 12, 1, 0, 10)) == {
        "quotes_expired": 1,
        "contracts_expired": 1,
    }
    assert run(expire_documents, local(2026, 12, 1, 12), slot="manual") == {
        "quotes_expired": 0,
        "contracts_expired": 0,
    }
    statuses = {q.pk: q.status for q in Quote.objects.all()}
    assert statuses == {due.pk: Quote.Status.EXPIRED, fresh.pk: Quote.Status.SENT}
    assert Contract.objects.get(pk=ended.pk).status == ContractStatus.EXPIRED
    assert Contract.objects.get(pk=running.pk).status == ContractStatus.ACTIVE
    assert timezone.now()  # time is real again outside the job
