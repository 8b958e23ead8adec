"""The daily digest: one e-mail a day with what was not e-mailed yet, never twice."""

from __future__ import annotations

from datetime import datetime
from smtplib import SMTPException
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend

from accounts.models import Notification, NotificationPreference, NotificationSettings
from accounts.notifications import notify
from accounts.tasks import notification_digest
from reports.models import JobRun

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")


class BrokenBackend(BaseEmailBackend):
    """A mail server that is down."""

    def send_messages(self, email_messages):
        raise SMTPException("mail server down")


def local(d: int, h: int, mi: int = 0) -> datetime:
    return datetime(2026, 12, d, h, mi, tzinfo=SHANGHAI)


@pytest.fixture
def at(django_capture_on_commit_callbacks):
    """Do something at a moment, with e-mails sent as on commit."""

    class At:
        def notify(self, when, recipients, title, kind="web_lead"):
            with (
                time_machine.travel(when, tick=False),
                django_capture_on_commit_callbacks(execute=True),
            ):
                notify(recipients=recipients, kind=kind, subject=title, message="m", url="/x/")

        def digest(self, when, slot=None):
            with (
                time_machine.travel(when, tick=False),
                django_capture_on_commit_callbacks(execute=True),
            ):
                return notification_digest.apply(kwargs={"slot_name": slot} if slot else {}).get()

    return At()


@pytest.fixture
def digest_reader(org):
    NotificationSettings.objects.create(user=org.manager, daily_digest=True)
    return org.manager


def test_digest_readers_get_one_summary_at_the_end_of_the_day(org, digest_reader, at):
    at.notify(local(1, 9), [org.manager, org.rep], "Morning news")
    at.notify(local(1, 14), [org.manager], "Afternoon news")
    assert [m.to for m in mail.outbox] == [[org.rep.email]]  # the rep gets single mails
    mail.outbox.clear()

    summary = at.digest(local(1, 18))
    assert summary == {"digests_sent": 1, "notifications_summarised": 2, "nothing_new": 0}
    (message,) = mail.outbox
    assert message.to == [org.manager.email]
    assert message.subject == "salesorg: 2 notifications on 2026-12-01"
    assert message.body.index("09:00 Morning news") < message.body.index("14:00 Afternoon news")
    assert "http://127.0.0.1:8000/notifications/preferences/" in message.body
    assert not Notification.objects.filter(recipient=org.manager, emailed_at__isnull=True).exists()

    # Twice the same day (the same slot, or a manual run): nothing more.
    assert at.digest(local(1, 18, 1)) is None
    assert at.digest(local(1, 22), slot="manual")["digests_sent"] == 0
    assert len(mail.outbox) == 1


def test_what_arrives_after_the_digest_goes_in_the_next_one(org, digest_reader, at):
    at.notify(local(1, 9), [org.manager], "First day")
    at.digest(local(1, 18))
    at.notify(local(1, 20), [org.manager], "Evening news")
    at.notify(local(2, 0, 5), [org.manager], "After midnight")
    at.digest(local(2, 18))
    assert len(mail.outbox) == 2
    second = mail.outbox[1].body
    assert "Evening news" in second and "After midnight" in second and "First day" not in second
    assert list(JobRun.objects.values_list("slot", flat=True)) == ["2026-12-02", "2026-12-01"]


def test_muted_kinds_and_old_news_stay_out(org, digest_reader, at):
    NotificationPreference.objects.create(user=org.manager, kind="stale_deals", email=False)
    at.notify(local(1, 10), [org.manager], "Muted", kind="stale_deals")
    at.notify(local(1, 11), [org.manager], "Wanted")
    Notification.objects.create(recipient=org.manager, kind="web_lead", title="Weeks ago")
    Notification.objects.filter(title="Weeks ago").update(
        created_at=local(1, 9).replace(day=1, month=11)
    )
    at.digest(local(1, 18))
    body = mail.outbox[0].body
    assert "Wanted" in body and "Muted" not in body and "Weeks ago" not in body


def test_nothing_new_means_no_mail(org, digest_reader, at):
    assert at.digest(local(1, 18)) == {
        "digests_sent": 0,
        "notifications_summarised": 0,
        "nothing_new": 1,
    }
    assert mail.outbox == []


def test_a_failed_mail_is_recorded_and_sent_by_the_next_run(org, digest_reader, at, settings):
    NotificationSettings.objects.create(user=org.am, daily_digest=True)
    at.notify(local(1, 9), [org.manager, org.am], "News")
    settings.EMAIL_BACKEND = "accounts.tests.test_notification_digest.BrokenBackend"
    with pytest.raises(RuntimeError, match="2 digest"):
        at.digest(local(1, 18))
    run = JobRun.objects.get()
    assert run.status == JobRun.Status.FAILED and "mail server down" not in run.summary
    assert Notification.objects.filter(emailed_at__isnull=True).count() == 2
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    # The retry (a new task for the same day's slot) takes the failed run over.
    assert at.digest(local(1, 18, 30))["digests_sent"] == 2
    assert sorted(m.to[0] for m in mail.outbox) == sorted([org.manager.email, org.am.email])
    run.refresh_from_db()
    assert (run.status, run.attempts) == (JobRun.Status.OK, 2)
