"""Survey work that runs without anyone clicking (SPEC section 6).

- ``clients.survey_send_campaign``: e-mails a campaign's unsent invitations
  (enqueued on commit when someone sends a campaign).
- ``jobs.survey_quarterly`` (daily): the quarter's satisfaction survey to every
  active client's primary contact — one campaign per quarter
  ("quarterly:2026-Q4", quarters of the local calendar), made and sent by the
  first run in the quarter; later runs find it done.
- ``jobs.survey_post_project`` (hourly): a post-project evaluation for each
  delivery project completed lately without one ("project:<id>").
- ``jobs.survey_post_complaint`` (hourly): a follow-up survey for each complaint
  resolved lately without one ("complaint:<id>").
- ``jobs.survey_reminders`` (daily): one reminder to each non-respondent once
  their campaign's ``remind_after_days`` have passed; also finishes sending any
  campaign whose sending was interrupted.

Every job is idempotent: campaigns are unique by key, invitations unique per
campaign and contact, and an invitation with ``sent_at`` (or ``reminded_at``)
is never e-mailed again. They read in batches by ascending id, so memory stays
flat, and an interrupted run leaves nothing half-done that the next run does
not finish.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from clients import surveys
from clients.models import Client, ClientStatus, Complaint, SurveyCampaign, SurveyTemplate
from reports.jobs import daily_slot, hourly_slot, scheduled_job

#: Projects and complaints looked at per query.
ITEM_BATCH = 100


@shared_task(
    name="clients.survey_send_campaign",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    soft_time_limit=25 * 60,
    time_limit=30 * 60,
)
def send_campaign(campaign_id: int) -> int:
    """E-mail a campaign's unsent invitations (idempotent; safe to redeliver)."""
    return surveys.send_pending(campaign_id)


def lookback_start(now: datetime) -> datetime:
    """Projects completed and complaints resolved since then get a survey; older
    ones (before the jobs ran, or a long outage) are left alone."""
    return now - timedelta(days=settings.SALESORG_SURVEY_LOOKBACK_DAYS)


def _finish(prefix: str, now: datetime) -> int:
    """Send what interrupted runs left unsent in campaigns keyed ``prefix``."""
    sent = 0
    last = 0
    while True:
        ids = list(
            surveys.unfinished_campaigns(prefix)
            .filter(pk__gt=last)
            .values_list("pk", flat=True)[:ITEM_BATCH]
        )
        if not ids:
            return sent
        last = ids[-1]
        for pk in ids:
            sent += surveys.send_pending(pk, now=now)


# ---------------------------------------------------------------- quarterly
def quarterly_campaign(now: datetime) -> tuple[SurveyCampaign, bool]:
    """The campaign of ``now``'s quarter (local time), made as a draft if missing."""
    quarter = surveys.quarter_key(timezone.localdate(now))
    key = f"quarterly:{quarter}"
    campaign = SurveyCampaign.objects.filter(key=key).first()
    if campaign is not None:
        return campaign, False
    template = SurveyTemplate.objects.get(code=surveys.BUILTIN["quarterly"])
    try:
        with transaction.atomic():
            return (
                SurveyCampaign.objects.create(
                    key=key,
                    template=template,
                    name=f"{template.name} {quarter}",
                    status=SurveyCampaign.Status.DRAFT,
                ),
                True,
            )
    except IntegrityError:
        return SurveyCampaign.objects.get(key=key), False


@scheduled_job("survey_quarterly", slot=daily_slot)
def survey_quarterly(now: datetime) -> dict[str, Any]:
    """Invite active clients' primary contacts (the campaign stays a draft until
    all are invited, so an interrupted run resumes inviting), then send."""
    campaign, created = quarterly_campaign(now)
    invited = 0
    if campaign.status == SurveyCampaign.Status.DRAFT:
        recipients = surveys.audience_contacts(
            Client.objects.filter(status=ClientStatus.ACTIVE), surveys.ContactChoice.PRIMARY.value
        )
        invited = surveys.invite(campaign, recipients, now=now)
        SurveyCampaign.objects.filter(pk=campaign.pk, status=SurveyCampaign.Status.DRAFT).update(
            status=SurveyCampaign.Status.SENDING
        )
    sent = surveys.send_pending(campaign.pk, now=now)
    return {"campaign": campaign.key, "created": created, "invited": invited, "sent": sent}


# ---------------------------------------------------------------- post-project
@scheduled_job("survey_post_project", slot=hourly_slot)
def survey_post_project(now: datetime) -> dict[str, Any]:
    from pipeline.models import Project

    template = SurveyTemplate.objects.get(code=surveys.BUILTIN["project"])
    due = Project.objects.filter(
        status=Project.Status.COMPLETED,
        completed_on__isnull=False,
        completed_on__gte=timezone.localdate(lookback_start(now)),
    ).exclude(Exists(SurveyCampaign.objects.filter(project=OuterRef("pk"))))
    created = without_contact = 0
    last = 0
    while True:
        batch = list(due.filter(pk__gt=last).select_related("client").order_by("pk")[:ITEM_BATCH])
        if not batch:
            break
        last = batch[-1].pk
        for project in batch:
            contact = surveys.first_contact_with_email(project.client_id)
            _campaign, made = surveys.keyed_campaign(
                key=f"project:{project.pk}",
                template_code=template.code,
                name=f"{template.name}: {project.name}",
                recipients=[contact] if contact else [],
                project=project,
            )
            created += made
            without_contact += made and contact is None
    sent = _finish("project:", now)
    return {"campaigns": created, "without_contact": without_contact, "sent": sent}


# -------------------------------------------------------------- post-complaint
@scheduled_job("survey_post_complaint", slot=hourly_slot)
def survey_post_complaint(now: datetime) -> dict[str, Any]:
    template = SurveyTemplate.objects.get(code=surveys.BUILTIN["complaint"])
    due = Complaint.objects.filter(
        resolved_at__isnull=False, resolved_at__gte=lookback_start(now), resolved_at__lte=now
    ).exclude(Exists(SurveyCampaign.objects.filter(complaint=OuterRef("pk"))))
    created = without_contact = 0
    last = 0
    while True:
        batch = list(due.filter(pk__gt=last).select_related("contact").order_by("pk")[:ITEM_BATCH])
        if not batch:
            break
        last = batch[-1].pk
        for complaint in batch:
            contact = surveys.first_contact_with_email(complaint.client_id, complaint.contact)
            _campaign, made = surveys.keyed_campaign(
                key=f"complaint:{complaint.pk}",
                template_code=template.code,
                name=f"{template.name}: {complaint.subject}",
                recipients=[contact] if contact else [],
                complaint=complaint,
            )
            created += made
            without_contact += made and contact is None
    sent = _finish("complaint:", now)
    return {"campaigns": created, "without_contact": without_contact, "sent": sent}


# ------------------------------------------------------------------- reminders
@scheduled_job("survey_reminders", slot=daily_slot)
def survey_reminders(now: datetime) -> dict[str, Any]:
    finished = _finish("", now)
    reminded = surveys.send_reminders(now=now)
    return {"finished_sending": finished, "reminded": reminded}
