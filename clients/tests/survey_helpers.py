"""Building blocks of the survey tests: campaigns, sent invitations, answers."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from clients import surveys
from clients.models import (
    Client,
    Contact,
    SurveyCampaign,
    SurveyInvitation,
    SurveyQuestion,
    SurveyResponse,
    SurveyTemplate,
)

Kind = SurveyQuestion.Kind


def template(code: str = "nps") -> SurveyTemplate:
    return SurveyTemplate.objects.get(code=code)


def campaign(
    code: str = "nps",
    *,
    key: str | None = None,
    status: str = SurveyCampaign.Status.SENT,
    created_by: Any = None,
    remind_after_days: int = 7,
    expires_after_days: int = 30,
    **fields: Any,
) -> SurveyCampaign:
    return SurveyCampaign.objects.create(
        template=template(code),
        name=f"Test {code}",
        key=key or f"{surveys.MANUAL_PREFIX}{surveys.new_token()[:12]}",
        status=status,
        created_by=created_by,
        remind_after_days=remind_after_days,
        expires_after_days=expires_after_days,
        **fields,
    )


def invitation(
    camp: SurveyCampaign,
    contact: Contact,
    *,
    sent_at: datetime | None = None,
    expires_at: datetime | None = None,
    unsent: bool = False,
) -> SurveyInvitation:
    now = timezone.now()
    sent = None if unsent else (sent_at or now)
    return SurveyInvitation.objects.create(
        campaign=camp,
        client=contact.client,
        contact=contact,
        token=surveys.new_token(),
        sent_at=sent,
        expires_at=expires_at or (sent or now) + timedelta(days=camp.expires_after_days),
    )


def link(inv: SurveyInvitation, language: str | None = None) -> str:
    return surveys.answer_path(inv, language)


def answers_for(
    inv: SurveyInvitation,
    *,
    nps: int | None = 9,
    ratings: list[int] | None = None,
    choice: str | None = None,
    text: str = "",
) -> dict[int, Any]:
    """Answers by question id: the NPS question gets ``nps``, rating questions take
    ``ratings`` in order (5 when not given), the first choice, and ``text``."""
    ratings = list(ratings or [])
    out: dict[int, Any] = {}
    for question in inv.campaign.template.questions.all():
        if question.kind == Kind.NPS:
            out[question.pk] = nps
        elif question.kind == Kind.RATING:
            out[question.pk] = ratings.pop(0) if ratings else 5
        elif question.kind == Kind.CHOICE:
            out[question.pk] = choice or question.choices[0]["value"]
        else:
            out[question.pk] = text
    return out


def answer(inv: SurveyInvitation, *, now: datetime | None = None, **kwargs: Any) -> SurveyResponse:
    return surveys.response_submit(
        invitation=inv, answers=answers_for(inv, **kwargs), language="en", now=now
    )


def form_data(inv: SurveyInvitation, **kwargs: Any) -> dict[str, Any]:
    """What the public form posts for these answers (fields named q1, q2…)."""
    by_id = answers_for(inv, **kwargs)
    data = {}
    for index, question in enumerate(inv.campaign.template.questions.all(), start=1):
        value = by_id.get(question.pk)
        data[f"q{index}"] = "" if value is None else value
    return data


def primary(client: Client) -> Contact:
    contact = client.contacts.first()
    Contact.objects.filter(pk=contact.pk).update(is_primary=True)
    contact.refresh_from_db()
    return contact
