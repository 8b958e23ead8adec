"""Satisfaction surveys: templates, campaigns, e-mailed links, answers, follow-ups.

The flow (SPEC sections 2 and 3, issue 5):

1. A **template** holds ordered, bilingual questions (0–10 NPS, 1–5 rating,
   single choice, free text). Four are built in; people with the permission
   make their own. A template already used by a campaign keeps its questions
   (answers point at them); copy it to change them.
2. A **campaign** invites a set of contacts: one ``SurveyInvitation`` per
   contact (unique per campaign), each with a random token. Sending is a
   Celery task enqueued on commit that e-mails the unsent invitations in
   batches; an invitation with ``sent_at`` is never sent again, so a retry or a
   second worker repeats nothing. Automatic campaigns (``survey_jobs``) are
   keyed ("quarterly:2026-Q4", "project:42", "complaint:7") so each exists once.
3. The e-mailed link carries the token **signed** (``django.core.signing``), so
   a changed character is refused before the database is asked; the
   invitation's ``expires_at`` ends it. The public page (``survey_public``) takes
   one answer per link.
4. A **response** stores its NPS and CSAT for reporting (``survey_metrics``); a
   low score opens a planned follow-up call for the client's account manager
   and notifies them.
"""

from __future__ import annotations

import enum
import logging
import secrets
import smtplib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, models, transaction
from django.db.models import Count, Q, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from accounts.notifications import notify
from accounts.visibility import access_for
from clients.models import (
    Client,
    Contact,
    SurveyAnswer,
    SurveyCampaign,
    SurveyInvitation,
    SurveyQuestion,
    SurveyResponse,
    SurveyTemplate,
)
from clients.survey_metrics import is_low_score, response_scores

logger = logging.getLogger(__name__)

SIGNING_SALT = "clients.surveys.invitation"
#: Invitations e-mailed (or reminded) per database round trip; memory stays flat.
SEND_BATCH = 200
#: Invitations inserted per INSERT when a campaign is made.
INVITE_BATCH = 1000
#: A low score's follow-up call is due this many working days later.
FOLLOW_UP_WORKING_DAYS = 2
FOLLOW_UP_HOUR = 10
MAX_QUESTIONS = 30
MAX_TEXT_ANSWER = 2000
#: The built-in templates the jobs use (migration 0006).
BUILTIN = {
    "quarterly": "quarterly-satisfaction",
    "project": "post-project-evaluation",
    "complaint": "post-complaint-follow-up",
    "nps": "nps",
}
LANGUAGES = ("en", "zh-hans")
#: Keys of campaigns people make; automatic ones are "quarterly:", "project:", "complaint:".
MANUAL_PREFIX = "manual:"
NOTIFY_KIND = "survey_low_score"

Kind = SurveyQuestion.Kind


# ---------------------------------------------------------------------- helpers
def _require(user: User, perm: str) -> None:
    if not user.has_perm(perm):
        raise PermissionDenied


def in_language(text: str, text_zh: str, language: str) -> str:
    """The Chinese text on a Chinese page when there is one, else the English."""
    return text_zh if language.startswith("zh") and text_zh else text


def add_working_days(day: date, days: int) -> date:
    """``days`` working days (Monday–Friday) after ``day``."""
    while days > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            days -= 1
    return day


def quarter_of(day: date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


def quarter_key(day: date) -> str:
    """ "2026-Q4" for a local date in October–December 2026."""
    year, quarter = quarter_of(day)
    return f"{year}-Q{quarter}"


def quarter_bounds(day: date) -> tuple[date, date]:
    """First day of ``day``'s quarter and first day of the next one."""
    year, quarter = quarter_of(day)
    start = date(year, 3 * quarter - 2, 1)
    end = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
    return start, end


def new_token() -> str:
    return secrets.token_urlsafe(24)


# ---------------------------------------------------------------- signed links
def _signer() -> signing.Signer:
    return signing.Signer(salt=SIGNING_SALT, sep=".")


def sign_token(token: str) -> str:
    return _signer().sign(token)


def answer_path(invitation: SurveyInvitation, language: str | None = None) -> str:
    path = reverse("survey:answer", args=[sign_token(invitation.token)])
    return f"{path}?lang={language}" if language else path


def answer_url(invitation: SurveyInvitation, language: str | None = None) -> str:
    return f"{settings.SALESORG_BASE_URL.rstrip('/')}{answer_path(invitation, language)}"


class LinkState(enum.Enum):
    OPEN = "open"
    ANSWERED = "answered"
    EXPIRED = "expired"
    INVALID = "invalid"


@dataclass(frozen=True)
class Link:
    state: LinkState
    invitation: SurveyInvitation | None = None


def resolve_link(signed: str, *, now: datetime | None = None) -> Link:
    """What a public link leads to: its invitation, or why it leads nowhere.

    A tampered or made-up link fails the signature check (no query at all); a
    signed token of an invitation that no longer exists or was never sent is
    just as invalid. Closed campaigns count as expired.
    """
    now = now or timezone.now()
    try:
        token = _signer().unsign(signed)
    except signing.BadSignature:
        return Link(LinkState.INVALID)
    invitation = (
        SurveyInvitation.objects.select_related("campaign__template", "contact")
        .filter(token=token, sent_at__isnull=False)
        .first()
    )
    if invitation is None:
        return Link(LinkState.INVALID)
    if invitation.answered_at is not None:
        return Link(LinkState.ANSWERED, invitation)
    if invitation.expires_at <= now or invitation.campaign.status == SurveyCampaign.Status.CLOSED:
        return Link(LinkState.EXPIRED, invitation)
    return Link(LinkState.OPEN, invitation)


# -------------------------------------------------------------------- templates
@dataclass
class QuestionSpec:
    kind: str
    text: str
    text_zh: str = ""
    required: bool = True
    #: for single choice: [{"value": ..., "label": ..., "label_zh": ...}]
    choices: list[dict[str, str]] = field(default_factory=list)


def template_in_use(template: SurveyTemplate) -> bool:
    return template.campaigns.exists()


def _clean_questions(questions: Sequence[QuestionSpec]) -> list[QuestionSpec]:
    errors: list[str] = []
    cleaned: list[QuestionSpec] = []
    if not questions:
        raise ValidationError({"questions": _("A survey needs at least one question.")})
    if len(questions) > MAX_QUESTIONS:
        raise ValidationError(
            {"questions": _("A survey has at most %(max)d questions.") % {"max": MAX_QUESTIONS}}
        )
    for number, spec in enumerate(questions, start=1):
        text = (spec.text or "").strip()
        if spec.kind not in Kind.values:
            errors.append(_("Question %(n)d: choose a kind.") % {"n": number})
        if not text:
            errors.append(_("Question %(n)d: write the question.") % {"n": number})
        choices: list[dict[str, str]] = []
        if spec.kind == Kind.CHOICE:
            seen: set[str] = set()
            for choice in spec.choices:
                label = (choice.get("label") or "").strip()
                if not label:
                    continue
                value = (choice.get("value") or slugify(label) or f"c{len(choices) + 1}")[:100]
                while value in seen:
                    value = f"{value}-{len(choices) + 1}"[:100]
                seen.add(value)
                label_zh = (choice.get("label_zh") or "").strip()
                choices.append({"value": value, "label": label, "label_zh": label_zh})
            if len(choices) < 2:
                errors.append(_("Question %(n)d: give at least two choices.") % {"n": number})
        cleaned.append(
            QuestionSpec(
                kind=spec.kind,
                text=text[:300],
                text_zh=(spec.text_zh or "").strip()[:300],
                required=bool(spec.required),
                choices=choices,
            )
        )
    if sum(1 for q in cleaned if q.kind == Kind.NPS) > 1:
        errors.append(_("A survey has at most one 0–10 recommendation question."))
    if errors:
        raise ValidationError({"questions": errors})
    return cleaned


def _unique_code(name: str) -> str:
    base = slugify(name)[:28] or "survey"
    return f"{base}-{secrets.token_hex(3)}"


@transaction.atomic
def template_save(
    *,
    by: User,
    template: SurveyTemplate | None = None,
    name: str,
    name_zh: str = "",
    intro: str = "",
    intro_zh: str = "",
    questions: Sequence[QuestionSpec] | None = None,
) -> SurveyTemplate:
    """Create a custom template or change one (built-ins are read-only).

    ``questions`` replaces the whole list, in order; ``None`` keeps it. A
    template that a campaign used keeps its questions: its answers refer to them.
    """
    if template is None:
        _require(by, "clients.add_surveytemplate")
        if questions is None:
            raise ValidationError({"questions": _("A survey needs at least one question.")})
    else:
        _require(by, "clients.change_surveytemplate")
        template = SurveyTemplate.objects.select_for_update().get(pk=template.pk)
        if template.is_builtin:
            raise ValidationError(_("Built-in surveys cannot be changed; copy one instead."))
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Give the survey a name.")})
    cleaned = _clean_questions(questions) if questions is not None else None
    if template is None:
        template = SurveyTemplate(code=_unique_code(name), is_builtin=False)
    elif cleaned is not None and template_in_use(template):
        raise ValidationError(
            {
                "questions": _(
                    "This survey was already sent, so its questions stay as they are; "
                    "copy it to ask different ones."
                )
            }
        )
    template.name = name[:120]
    template.name_zh = (name_zh or "").strip()[:120]
    template.intro = (intro or "").strip()
    template.intro_zh = (intro_zh or "").strip()
    template.save()
    if cleaned is not None:
        template.questions.all().delete()
        SurveyQuestion.objects.bulk_create(
            SurveyQuestion(
                template=template,
                position=position,
                kind=spec.kind,
                text=spec.text,
                text_zh=spec.text_zh,
                choices=spec.choices,
                required=spec.required,
            )
            for position, spec in enumerate(cleaned)
        )
    return template


@transaction.atomic
def template_copy(*, by: User, template: SurveyTemplate) -> SurveyTemplate:
    """A custom copy of any template, questions included, to adapt."""
    return template_save(
        by=by,
        name=_("Copy of %(name)s") % {"name": template.name},
        name_zh=f"{template.name_zh}（副本）" if template.name_zh else "",
        intro=template.intro,
        intro_zh=template.intro_zh,
        questions=[
            QuestionSpec(q.kind, q.text, q.text_zh, q.required, list(q.choices or []))
            for q in template.questions.all()
        ],
    )


@transaction.atomic
def template_delete(*, by: User, template: SurveyTemplate) -> None:
    _require(by, "clients.delete_surveytemplate")
    if template.is_builtin or template_in_use(template):
        raise ValidationError(_("Only a custom survey that was never sent can be deleted."))
    template.delete()


# -------------------------------------------------------------------- audience
class ContactChoice(models.TextChoices):
    PRIMARY = "primary", gettext_lazy("Each client's primary contact")
    ALL = "all", gettext_lazy("All contacts with an e-mail address")


def audience_contacts(clients: QuerySet[Client], contacts: str) -> QuerySet[Contact]:
    """The contacts a campaign reaches at ``clients``: those with an e-mail
    address, only each client's primary contact unless ``contacts`` is "all".

    ``clients`` must already be limited to what the sender sees.
    """
    qs = Contact.objects.filter(client__in=clients.order_by().values("pk")).exclude(email="")
    if contacts != ContactChoice.ALL.value:
        qs = qs.filter(is_primary=True)
    return qs.order_by("pk")


def invite(
    campaign: SurveyCampaign,
    contacts: QuerySet[Contact],
    *,
    now: datetime | None = None,
    batch_size: int = INVITE_BATCH,
) -> int:
    """Invite ``contacts`` to ``campaign`` in batches; contacts already invited are
    skipped (unique per campaign), so this can be run again to finish the job.

    Reads the contacts by ascending id a batch at a time (memory stays flat).
    Returns how many invitations were added.
    """
    now = now or timezone.now()
    expires = now + timedelta(days=campaign.expires_after_days)
    added = 0
    last = 0
    while True:
        rows = list(
            contacts.filter(pk__gt=last).order_by("pk").values_list("pk", "client_id")[:batch_size]
        )
        if not rows:
            return added
        last = rows[-1][0]
        already = set(
            SurveyInvitation.objects.filter(
                campaign=campaign, contact_id__in=[pk for pk, _c in rows]
            ).values_list("contact_id", flat=True)
        )
        new = [
            SurveyInvitation(
                campaign=campaign,
                client_id=client_id,
                contact_id=pk,
                token=new_token(),
                expires_at=expires,
            )
            for pk, client_id in rows
            if pk not in already
        ]
        SurveyInvitation.objects.bulk_create(new, ignore_conflicts=True)
        added += len(new)


# -------------------------------------------------------------------- campaigns
def campaign_access(user: User, campaign: SurveyCampaign) -> bool:
    """May ``user`` send or close ``campaign``?"""
    return access_for(user, campaign).can_change


@transaction.atomic
def campaign_create(
    *,
    by: User,
    template: SurveyTemplate,
    name: str,
    clients: QuerySet[Client],
    contacts: str = ContactChoice.PRIMARY.value,
    remind_after_days: int = 7,
    expires_after_days: int = 30,
) -> SurveyCampaign:
    """A draft campaign with an invitation for each contact of ``clients``; sent with
    ``campaign_send``. Only the clients ``by`` sees are invited: ``clients`` is
    narrowed to them here, whatever the caller passed."""
    _require(by, "clients.add_surveycampaign")
    clients = clients.model.objects.visible_to(by).filter(pk__in=clients.values("pk"))
    name = (name or "").strip() or template.name
    if not 0 < expires_after_days <= 365:
        raise ValidationError({"expires_after_days": _("Links expire after 1 to 365 days.")})
    if not 0 < remind_after_days < expires_after_days:
        raise ValidationError(
            {"remind_after_days": _("Remind after at least one day and before the links expire.")}
        )
    recipients = audience_contacts(clients, contacts)
    if not recipients.exists():
        raise ValidationError(_("No contact with an e-mail address matches; nobody to invite."))
    campaign = SurveyCampaign.objects.create(
        template=template,
        name=name[:200],
        key=f"{MANUAL_PREFIX}{secrets.token_hex(8)}",
        created_by=by,
        remind_after_days=remind_after_days,
        expires_after_days=expires_after_days,
    )
    invite(campaign, recipients)
    return campaign


def recipients_preview(
    clients: QuerySet[Client], contacts: str, limit: int = 20
) -> tuple[int, list[Contact], bool]:
    """How many contacts a campaign would reach (counted up to a cap) and the first few."""
    from salesorg.lib.pagination import COUNT_CAP

    qs = audience_contacts(clients, contacts)
    count = qs.order_by()[: COUNT_CAP + 1].count()
    first = list(qs.select_related("client").order_by("client__name", "name", "pk")[:limit])
    return min(count, COUNT_CAP), first, count > COUNT_CAP


def _enqueue_sending(campaign_id: int) -> None:
    from clients.survey_jobs import send_campaign

    send_campaign.delay_on_commit(campaign_id)


@transaction.atomic
def campaign_send(*, by: User, campaign: SurveyCampaign) -> SurveyCampaign:
    """Start sending a draft campaign; the e-mails go out from a worker, after commit."""
    _require(by, "clients.change_surveycampaign")
    campaign = SurveyCampaign.objects.select_for_update().get(pk=campaign.pk)
    if not campaign_access(by, campaign):
        raise PermissionDenied
    if campaign.status != SurveyCampaign.Status.DRAFT:
        raise ValidationError(_("This campaign is already being sent or was sent."))
    if not campaign.key.startswith(MANUAL_PREFIX):
        raise ValidationError(_("Automatic campaigns are sent by their scheduled job."))
    campaign.status = SurveyCampaign.Status.SENDING
    campaign.save(update_fields=["status"])
    _enqueue_sending(campaign.pk)
    return campaign


@transaction.atomic
def campaign_close(*, by: User, campaign: SurveyCampaign) -> SurveyCampaign:
    """Close a campaign: its links stop taking answers, no more reminders go out."""
    _require(by, "clients.change_surveycampaign")
    campaign = SurveyCampaign.objects.select_for_update().get(pk=campaign.pk)
    if not campaign_access(by, campaign):
        raise PermissionDenied
    if campaign.status == SurveyCampaign.Status.CLOSED:
        return campaign
    campaign.status = SurveyCampaign.Status.CLOSED
    campaign.save(update_fields=["status"])
    return campaign


def campaign_count_aggregates(now: datetime) -> dict[str, Count]:
    """Invited, sent (e-mailed), reminded, answered and expired (unanswered) invitations."""
    return {
        "invited": Count("pk"),
        "sent": Count("pk", filter=Q(sent_at__isnull=False)),
        "reminded": Count("pk", filter=Q(reminded_at__isnull=False)),
        "answered": Count("pk", filter=Q(answered_at__isnull=False)),
        "expired": Count("pk", filter=Q(answered_at__isnull=True, expires_at__lte=now)),
    }


def campaign_counts(invitations: QuerySet[SurveyInvitation], now: datetime) -> dict[str, int]:
    """The counts of ``campaign_count_aggregates`` over ``invitations``, in one query."""
    return invitations.order_by().aggregate(**campaign_count_aggregates(now))


def campaign_counts_by_campaign(
    user: User, campaign_ids: Iterable[int], now: datetime | None = None
) -> dict[int, dict[str, Any]]:
    """``campaign_counts`` for each of ``campaign_ids``, over the invitations ``user``
    sees, in one grouped query; a campaign without visible invitations is left out."""
    return {
        row["campaign"]: row
        for row in SurveyInvitation.objects.visible_to(user)
        .filter(campaign_id__in=list(campaign_ids))
        .values("campaign")
        .annotate(**campaign_count_aggregates(now or timezone.now()))
        .order_by()
    }


# -------------------------------------------------------------------- e-mail
def _email_language_order() -> list[str]:
    first = "zh-hans" if settings.LANGUAGE_CODE.lower().startswith("zh") else "en"
    return [first, *(lang for lang in LANGUAGES if lang != first)]


def invitation_email(
    invitation: SurveyInvitation, *, reminder: bool = False, connection: Any = None
) -> EmailMessage:
    """The invitation (or reminder) in English and Chinese, each part with its own
    link that opens the page in that language."""
    campaign = invitation.campaign
    template = campaign.template
    parts = []
    subjects = []
    for language in _email_language_order():
        with translation.override(language):
            survey_name = in_language(template.name, template.name_zh, language)
            subjects.append(survey_name)
            parts.append(
                render_to_string(
                    "clients/surveys/email/invitation.txt",
                    {
                        "contact": invitation.contact,
                        "survey_name": survey_name,
                        "intro": in_language(template.intro, template.intro_zh, language),
                        "url": answer_url(invitation, language),
                        "expires_at": invitation.expires_at,
                        "reminder": reminder,
                        "company": settings.SALESORG_COMPANY_NAME,
                    },
                ).strip()
            )
    subject = " · ".join(dict.fromkeys(subjects))
    if reminder:
        with translation.override(_email_language_order()[0]):
            subject = _("Reminder: %(subject)s") % {"subject": subject}
    reply_to = []
    client = invitation.client
    responsible = client.account_manager or client.owner
    if responsible is not None and responsible.email:
        reply_to = [responsible.email]
    return EmailMessage(
        subject=subject,
        body="\n\n――――――――\n\n".join(parts) + "\n",
        to=[invitation.contact.email],
        reply_to=reply_to,
        connection=connection,
    )


def _deliver(invitation_id: int, *, now: datetime, reminder: bool, connection: Any) -> bool | None:
    """E-mail one invitation (or its reminder) exactly once.

    The row is locked (``SKIP LOCKED``: another worker on it means it is being
    sent) and re-checked, the mail goes out, and ``sent_at``/``reminded_at`` is
    written in the same transaction: a failed mail leaves the invitation as it
    was for the next run. True: sent; False: nothing to do; None: mail failed.
    """
    qs = SurveyInvitation.objects.select_related(
        "campaign__template", "contact", "client__account_manager", "client__owner"
    ).select_for_update(skip_locked=True, of=("self",))
    if reminder:
        qs = qs.filter(
            sent_at__isnull=False,
            reminded_at__isnull=True,
            answered_at__isnull=True,
            expires_at__gt=now,
        )
    else:
        qs = qs.filter(sent_at__isnull=True)
    try:
        with transaction.atomic():
            invitation = qs.filter(pk=invitation_id).first()
            if invitation is None:
                return False
            if not invitation.contact.email:
                if not reminder:  # nobody to write to: the invitation goes
                    invitation.delete()
                return False
            if not reminder:
                invitation.sent_at = now
                invitation.expires_at = now + timedelta(days=invitation.campaign.expires_after_days)
            invitation_email(invitation, reminder=reminder, connection=connection).send()
            if reminder:
                invitation.reminded_at = now
                invitation.save(update_fields=["reminded_at"])
            else:
                invitation.save(update_fields=["sent_at", "expires_at"])
    except (smtplib.SMTPException, OSError):
        logger.exception("survey e-mail for invitation %s failed; it stays unsent", invitation_id)
        return None
    return True


def send_pending(
    campaign_id: int, *, now: datetime | None = None, batch_size: int = SEND_BATCH
) -> int:
    """E-mail every unsent invitation of a campaign that is being sent; mark the
    campaign sent when none is left. Safe to run twice or in two workers at once."""
    now = now or timezone.now()
    status = SurveyCampaign.objects.filter(pk=campaign_id).values_list("status", flat=True).first()
    if status != SurveyCampaign.Status.SENDING:
        return 0
    sent = 0
    last = 0
    with get_connection() as connection:
        while True:
            ids = list(
                SurveyInvitation.objects.filter(
                    campaign_id=campaign_id, sent_at__isnull=True, pk__gt=last
                )
                .order_by("pk")
                .values_list("pk", flat=True)[:batch_size]
            )
            if not ids:
                break
            last = ids[-1]
            for pk in ids:
                sent += bool(_deliver(pk, now=now, reminder=False, connection=connection))
    if not SurveyInvitation.objects.filter(campaign_id=campaign_id, sent_at__isnull=True).exists():
        SurveyCampaign.objects.filter(pk=campaign_id, status=SurveyCampaign.Status.SENDING).update(
            status=SurveyCampaign.Status.SENT, sent_at=now
        )
    return sent


def reminders_due(now: datetime) -> QuerySet[SurveyInvitation]:
    """Invitations sent at least their campaign's ``remind_after_days`` ago, not
    answered, not reminded yet and not expired, in campaigns still open."""
    open_campaigns = SurveyCampaign.objects.filter(
        status__in=[SurveyCampaign.Status.SENDING, SurveyCampaign.Status.SENT]
    )
    condition = Q(pk__in=[])
    for days in open_campaigns.order_by().values_list("remind_after_days", flat=True).distinct():
        condition |= Q(campaign__remind_after_days=days, sent_at__lte=now - timedelta(days=days))
    return SurveyInvitation.objects.filter(
        condition,
        campaign__in=open_campaigns,
        sent_at__isnull=False,
        reminded_at__isnull=True,
        answered_at__isnull=True,
        expires_at__gt=now,
    )


def send_reminders(*, now: datetime | None = None, batch_size: int = SEND_BATCH) -> int:
    """Remind each due non-respondent once (``reminded_at``), in batches."""
    now = now or timezone.now()
    reminded = 0
    last = 0
    due = reminders_due(now)
    with get_connection() as connection:
        while True:
            ids = list(
                due.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:batch_size]
            )
            if not ids:
                return reminded
            last = ids[-1]
            for pk in ids:
                reminded += bool(_deliver(pk, now=now, reminder=True, connection=connection))


# ------------------------------------------------------------- automatic ones
def first_contact_with_email(client_id: int, preferred: Contact | None = None) -> Contact | None:
    """Who gets an automatic survey: the given contact, else the primary one, else
    any contact of the client with an e-mail address."""
    if preferred is not None and preferred.email:
        return preferred
    return (
        Contact.objects.filter(client_id=client_id)
        .exclude(email="")
        .order_by("-is_primary", "name", "pk")
        .first()
    )


@transaction.atomic
def keyed_campaign(
    *,
    key: str,
    template_code: str,
    name: str,
    recipients: Iterable[Contact] = (),
    **fields: Any,
) -> tuple[SurveyCampaign, bool]:
    """The automatic campaign ``key`` with its invitations, made once.

    Made and invited in one transaction, marked "sending" so the sender picks
    it up; a second call (a rerun, a second worker) finds it and adds nothing.
    """
    existing = SurveyCampaign.objects.filter(key=key).first()
    if existing is not None:
        return existing, False
    template = SurveyTemplate.objects.get(code=template_code)
    try:
        with transaction.atomic():
            campaign = SurveyCampaign.objects.create(
                key=key,
                template=template,
                name=name[:200],
                status=SurveyCampaign.Status.SENDING,
                **fields,
            )
    except IntegrityError:  # another run made it a moment ago
        return SurveyCampaign.objects.get(key=key), False
    people = [c for c in recipients if c is not None and c.email]
    if people:
        invite(campaign, Contact.objects.filter(pk__in=[c.pk for c in people]))
    else:
        # nobody to ask: the campaign is done, so the job does not look again
        campaign.status = SurveyCampaign.Status.SENT
        campaign.sent_at = timezone.now()
        campaign.save(update_fields=["status", "sent_at"])
    return campaign, True


def unfinished_campaigns(prefix: str) -> QuerySet[SurveyCampaign]:
    """Automatic campaigns of one kind still being sent (a run was interrupted)."""
    return SurveyCampaign.objects.filter(
        key__startswith=prefix, status=SurveyCampaign.Status.SENDING
    ).order_by("pk")


# ---------------------------------------------------------------------- answers
class AlreadyAnswered(Exception):
    pass


class LinkExpired(Exception):
    pass


def validate_answers(
    questions: Sequence[SurveyQuestion], values: Mapping[int, Any]
) -> dict[int, Any]:
    """Check each answer against its question (required, range, known choice);
    return the answers by question id, blanks left out."""
    errors: dict[str, list[str]] = {}
    cleaned: dict[int, Any] = {}
    for question in questions:
        raw = values.get(question.pk)
        blank = raw is None or (isinstance(raw, str) and not raw.strip())
        if blank:
            if question.required:
                errors.setdefault(str(question.pk), []).append(_("Please answer this question."))
            continue
        if question.kind in (Kind.NPS, Kind.RATING):
            low, high = (0, 10) if question.kind == Kind.NPS else (1, 5)
            try:
                number = int(raw)
            except (TypeError, ValueError):
                number = None
            if number is None or not low <= number <= high:
                errors.setdefault(str(question.pk), []).append(
                    _("Choose a number from %(low)d to %(high)d.") % {"low": low, "high": high}
                )
                continue
            cleaned[question.pk] = number
        elif question.kind == Kind.CHOICE:
            allowed = {c.get("value") for c in question.choices or []}
            if raw not in allowed:
                errors.setdefault(str(question.pk), []).append(_("Choose one of the options."))
                continue
            cleaned[question.pk] = raw
        else:
            cleaned[question.pk] = str(raw).strip()[:MAX_TEXT_ANSWER]
    if errors:
        raise ValidationError(errors)
    return cleaned


@transaction.atomic
def response_submit(
    *,
    invitation: SurveyInvitation,
    answers: Mapping[int, Any],
    language: str = "",
    now: datetime | None = None,
) -> SurveyResponse:
    """Store one contact's answers, once; a low score opens a follow-up.

    The invitation row is locked, so of two submits at the same moment one
    stores its answers and the other finds the link used (``AlreadyAnswered``).
    """
    now = now or timezone.now()
    invitation = (
        SurveyInvitation.objects.select_for_update(of=("self",))
        .select_related("campaign__template", "client__account_manager", "client__owner")
        .get(pk=invitation.pk)
    )
    if invitation.answered_at is not None:
        raise AlreadyAnswered
    if invitation.expires_at <= now or invitation.campaign.status == SurveyCampaign.Status.CLOSED:
        raise LinkExpired
    questions = list(invitation.campaign.template.questions.all())
    cleaned = validate_answers(questions, answers)
    nps_answer = next(
        (cleaned[q.pk] for q in questions if q.kind == Kind.NPS and q.pk in cleaned), None
    )
    ratings = [cleaned[q.pk] for q in questions if q.kind == Kind.RATING and q.pk in cleaned]
    nps_score, csat_score = response_scores(nps_answer, ratings)
    response = SurveyResponse.objects.create(
        invitation=invitation,
        client_id=invitation.client_id,
        contact_id=invitation.contact_id,
        submitted_at=now,
        language=language[:10],
        nps_score=nps_score,
        csat_score=csat_score,
    )
    SurveyAnswer.objects.bulk_create(
        SurveyAnswer(
            response=response,
            question=question,
            number=cleaned[question.pk] if question.kind in (Kind.NPS, Kind.RATING) else None,
            choice=cleaned[question.pk] if question.kind == Kind.CHOICE else "",
            text=cleaned[question.pk] if question.kind == Kind.TEXT else "",
        )
        for question in questions
        if question.pk in cleaned
    )
    invitation.answered_at = now
    invitation.save(update_fields=["answered_at"])
    if is_low_score(nps_score, ratings):
        follow_up_low_score(response=response, client=invitation.client, now=now)
    return response


def follow_up_low_score(*, response: SurveyResponse, client: Client, now: datetime) -> Any:
    """A planned care call for the client's account manager (else its owner), due
    in two working days and linked to the response, and a notification. Once per
    response: a second call finds the first follow-up."""
    from pipeline.models import DEFAULT_DURATION, Activity, ActivityType, FollowUpReason

    existing = Activity.objects.filter(survey_response=response).first()
    if existing is not None:
        return existing
    owner = client.account_manager if client.account_manager_id else client.owner
    if client.account_manager_id and not client.account_manager.is_active:
        owner = client.owner
    due_day = add_working_days(timezone.localdate(now), FOLLOW_UP_WORKING_DAYS)
    start = timezone.make_aware(datetime.combine(due_day, time(FOLLOW_UP_HOUR)))
    with translation.override(settings.LANGUAGE_CODE):
        scores = describe_scores(response)
        subject = _("Care call: low survey score (%(scores)s)") % {"scores": scores}
        activity = Activity.objects.create(
            type=ActivityType.FOLLOW_UP,
            status=Activity.Status.PLANNED,
            client=client,
            contact_id=response.contact_id,
            owner=owner,
            subject=subject[:200],
            start_at=start,
            duration_minutes=DEFAULT_DURATION[ActivityType.FOLLOW_UP],
            follow_up_reason=FollowUpReason.CARE_CALL,
            survey_response=response,
            next_step=_("Call the client about their survey answers."),
        )
        notify(
            recipients=[owner],
            kind=NOTIFY_KIND,
            subject=_("Low survey score from %(client)s") % {"client": client.name},
            message=_(
                "%(client)s answered a survey with %(scores)s. A care call is planned "
                "for you on %(day)s."
            )
            % {"client": client.name, "scores": scores, "day": due_day.isoformat()},
            url=reverse("clients:survey-response-detail", args=[response.pk]),
            dedupe_key=f"survey-low:{response.pk}",
        )
    return activity


def describe_scores(response: SurveyResponse) -> str:
    parts = []
    if response.nps_score is not None:
        parts.append(_("NPS %(score)d") % {"score": response.nps_score})
    if response.csat_score is not None:
        parts.append(_("CSAT %(score)s") % {"score": response.csat_score})
    return ", ".join(parts) or "—"
