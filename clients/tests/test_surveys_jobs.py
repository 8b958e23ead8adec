"""The survey jobs: run twice, same outcome; nothing e-mailed twice; quarters of the
Shanghai calendar; reminders on time; interrupted work finished by the next run."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from clients import surveys
from clients.models import ClientStatus, Complaint, SurveyCampaign, SurveyInvitation
from clients.survey_jobs import (
    survey_post_complaint,
    survey_post_project,
    survey_quarterly,
    survey_reminders,
)
from clients.tests import survey_helpers as h
from clients.tests.factories import ContactFactory
from pipeline.models import Project
from reports.models import JobRun

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _run(job, task_id: str = "t1", slot: str | None = None):
    kwargs = {"slot_name": slot} if slot else {}
    return job.apply(kwargs=kwargs, task_id=task_id).get()


@pytest.fixture
def active_book(book):
    """Every client active with a primary contact; one extra non-primary contact each."""
    for label, client in book.clients.items():
        client.status = ClientStatus.ACTIVE
        client.save()
        h.primary(client)
        ContactFactory(client=client, email=f"second.{label}@example.cn")
    return book


def _outbox_to() -> list[str]:
    return sorted(address for m in mail.outbox for address in m.to)


# ------------------------------------------------------------------ quarterly
def test_quarterly_survey_goes_to_active_primary_contacts_once(active_book):
    dormant = active_book.clients["north_am"]
    dormant.status = ClientStatus.DORMANT
    dormant.save()
    with time_machine.travel(datetime(2026, 10, 8, 9, 0, tzinfo=SHANGHAI), tick=False):
        first = _run(survey_quarterly, "a")
        assert first == {"campaign": "quarterly:2026-Q4", "created": True, "invited": 4, "sent": 4}
        assert _run(survey_quarterly, "b") is None  # same slot, another task: nothing
        # a manual re-run under another slot name does the work again and finds it done
        assert _run(survey_quarterly, "c", slot="manual-1") == {
            "campaign": "quarterly:2026-Q4",
            "created": False,
            "invited": 0,
            "sent": 0,
        }
    with time_machine.travel(datetime(2026, 10, 9, 9, 0, tzinfo=SHANGHAI), tick=False):
        assert _run(survey_quarterly, "d")["sent"] == 0
    expected = sorted(active_book.contacts[k].email for k in ("rep", "peer_rep", "am", "outsider"))
    assert _outbox_to() == expected
    campaign = SurveyCampaign.objects.get()
    assert campaign.key == "quarterly:2026-Q4" and campaign.status == SurveyCampaign.Status.SENT
    assert campaign.invitations.count() == 4
    runs = JobRun.objects.filter(job="survey_quarterly").order_by("slot")
    assert [(r.slot, r.status) for r in runs] == [
        ("2026-10-08", JobRun.Status.OK),
        ("2026-10-09", JobRun.Status.OK),
        ("manual-1", JobRun.Status.OK),
    ]
    assert runs[0].summary["sent"] == 4


@pytest.mark.parametrize(
    ("moment", "quarter"),
    [
        # 23:59 on 31 March in Shanghai is still Q1, though it is 15:59 UTC
        (datetime(2026, 3, 31, 23, 59, tzinfo=SHANGHAI), "2026-Q1"),
        # 00:01 on 1 April in Shanghai is Q2, though UTC still says 31 March
        (datetime(2026, 4, 1, 0, 1, tzinfo=SHANGHAI), "2026-Q2"),
        (datetime(2026, 12, 31, 23, 30, tzinfo=SHANGHAI), "2026-Q4"),
        (datetime(2027, 1, 1, 0, 30, tzinfo=SHANGHAI), "2027-Q1"),
    ],
)
def test_quarters_follow_the_shanghai_calendar(active_book, moment, quarter):
    with time_machine.travel(moment, tick=False):
        assert _run(survey_quarterly)["campaign"] == f"quarterly:{quarter}"


def test_each_quarter_surveys_again_across_midnight(active_book):
    with time_machine.travel(datetime(2026, 3, 31, 23, 50, tzinfo=SHANGHAI), tick=False):
        _run(survey_quarterly, "q1")
    with time_machine.travel(datetime(2026, 4, 1, 0, 10, tzinfo=SHANGHAI), tick=False):
        _run(survey_quarterly, "q2")
    assert sorted(SurveyCampaign.objects.values_list("key", flat=True)) == [
        "quarterly:2026-Q1",
        "quarterly:2026-Q2",
    ]
    assert len(mail.outbox) == 10  # five active clients, once per quarter
    assert SurveyInvitation.objects.values("contact").distinct().count() == 5


def test_an_interrupted_quarterly_run_is_finished_by_the_next(active_book):
    """The first run died after inviting two contacts (campaign still a draft)."""
    moment = datetime(2026, 7, 2, 9, 0, tzinfo=SHANGHAI)
    with time_machine.travel(moment, tick=False):
        from clients.survey_jobs import quarterly_campaign

        campaign, _made = quarterly_campaign(timezone.now())
        for label in ("rep", "am"):
            h.invitation(campaign, active_book.contacts[label], unsent=True)
        summary = _run(survey_quarterly)
    assert summary["invited"] == 3 and summary["sent"] == 5
    assert SurveyInvitation.objects.filter(sent_at__isnull=True).count() == 0
    assert len(mail.outbox) == 5


# ---------------------------------------------------------------- post-project
def _completed_project(client, owner, on: date) -> Project:
    from pipeline.tests.delivery.factories import ProjectFactory

    return ProjectFactory(
        client=client, owner=owner, status=Project.Status.COMPLETED, completed_on=on
    )


def test_post_project_survey_once_per_completed_project(org, active_book):
    today = timezone.localdate()
    done = _completed_project(active_book.clients["am"], org.am, today)
    old = _completed_project(active_book.clients["rep"], org.am, today - timedelta(days=90))
    from pipeline.tests.delivery.factories import ProjectFactory

    ProjectFactory(client=active_book.clients["rep"], owner=org.am)  # still running
    first = _run(survey_post_project, "a", slot="s1")
    second = _run(survey_post_project, "b", slot="s2")
    assert first == {"campaigns": 1, "without_contact": 0, "sent": 1}
    assert second == {"campaigns": 0, "without_contact": 0, "sent": 0}
    campaign = SurveyCampaign.objects.get()
    assert campaign.key == f"project:{done.pk}" and campaign.project == done
    assert campaign.template.code == "post-project-evaluation"
    assert _outbox_to() == [active_book.contacts["am"].email]
    assert not SurveyCampaign.objects.filter(project=old).exists()
    assert JobRun.objects.filter(job="survey_post_project").count() == 2


def test_a_project_whose_client_has_no_email_is_not_looked_at_again(org, book):
    client = book.clients["am"]
    client.contacts.update(email="")
    _completed_project(client, org.am, timezone.localdate())
    assert _run(survey_post_project, "a", slot="s1")["without_contact"] == 1
    assert _run(survey_post_project, "b", slot="s2")["campaigns"] == 0
    assert mail.outbox == []
    assert SurveyCampaign.objects.get().status == SurveyCampaign.Status.SENT


def test_post_project_finishes_a_campaign_left_unsent(org, active_book):
    project = _completed_project(active_book.clients["am"], org.am, timezone.localdate())
    campaign, made = surveys.keyed_campaign(
        key=f"project:{project.pk}",
        template_code="post-project-evaluation",
        name="x",
        recipients=[active_book.contacts["am"]],
        project=project,
    )
    assert made and campaign.status == SurveyCampaign.Status.SENDING and mail.outbox == []
    assert _run(survey_post_project) == {"campaigns": 0, "without_contact": 0, "sent": 1}
    assert len(mail.outbox) == 1


# -------------------------------------------------------------- post-complaint
def _complaint(client, owner, contact=None, resolved_at=None) -> Complaint:
    now = timezone.now()
    return Complaint.objects.create(
        client=client,
        contact=contact,
        owner=owner,
        subject="Late delivery",
        description="Two weeks late.",
        received_at=now - timedelta(days=3),
        sla_due_at=now - timedelta(days=2),
        resolved_at=resolved_at,
        status="resolved" if resolved_at else "open",
    )


def test_post_complaint_survey_goes_to_the_complainant_once(org, active_book):
    client = active_book.clients["rep"]
    complainant = ContactFactory(client=client, email="angry@example.cn")
    resolved = _complaint(client, org.am, complainant, resolved_at=timezone.now())
    _complaint(client, org.am)  # still open
    assert _run(survey_post_complaint, "a", slot="s1") == {
        "campaigns": 1,
        "without_contact": 0,
        "sent": 1,
    }
    assert _run(survey_post_complaint, "b", slot="s2")["campaigns"] == 0
    campaign = SurveyCampaign.objects.get()
    assert campaign.key == f"complaint:{resolved.pk}" and campaign.complaint == resolved
    assert _outbox_to() == ["angry@example.cn"]


# ------------------------------------------------------------------ reminders
def test_reminders_go_once_after_the_campaigns_days(org, active_book):
    sent = datetime(2026, 5, 4, 10, 0, tzinfo=SHANGHAI)
    campaign = h.campaign("nps", remind_after_days=7, expires_after_days=30)
    waiting = h.invitation(campaign, active_book.contacts["rep"], sent_at=sent)
    answered = h.invitation(campaign, active_book.contacts["am"], sent_at=sent)
    with time_machine.travel(sent + timedelta(days=1), tick=False):
        h.answer(answered)
    # 9:00 on the 7th day after: not yet seven full days
    with time_machine.travel(datetime(2026, 5, 11, 9, 0, tzinfo=SHANGHAI), tick=False):
        assert _run(survey_reminders, "a") == {"finished_sending": 0, "reminded": 0}
    with time_machine.travel(datetime(2026, 5, 12, 9, 0, tzinfo=SHANGHAI), tick=False):
        assert _run(survey_reminders, "b") == {"finished_sending": 0, "reminded": 1}
        assert _run(survey_reminders, "c") is None  # the same day's slot, again
        assert _run(survey_reminders, "d", slot="manual") == {
            "finished_sending": 0,
            "reminded": 0,
        }
    with time_machine.travel(datetime(2026, 5, 13, 9, 0, tzinfo=SHANGHAI), tick=False):
        assert _run(survey_reminders, "e")["reminded"] == 0
    assert [m.to for m in mail.outbox] == [[active_book.contacts["rep"].email]]
    waiting.refresh_from_db()
    assert waiting.reminded_at == datetime(2026, 5, 12, 9, 0, tzinfo=SHANGHAI)


def test_the_reminder_job_finishes_a_campaign_whose_sending_was_lost(org, active_book):
    campaign = h.campaign("nps", status=SurveyCampaign.Status.SENDING)
    h.invitation(campaign, active_book.contacts["rep"], unsent=True)
    assert _run(survey_reminders)["finished_sending"] == 1
    campaign.refresh_from_db()
    assert campaign.status == SurveyCampaign.Status.SENT and len(mail.outbox) == 1
