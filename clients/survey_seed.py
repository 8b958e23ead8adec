"""Demo survey history for ``seed_demo`` (called from ``pipeline/seed.py`` once the
clients, their projects and 18 months of activities exist).

What it makes, from the stored clients and projects, in bulk:

- a quarterly satisfaction campaign for each quarter of the window
  ("quarterly:2026-Q1" …, the very keys the quarterly job uses, so the job
  finds this quarter's done and e-mails nobody), sent to the then active
  clients' primary contacts;
- a post-project evaluation for each completed project ("project:<id>");
- about half of the contacts answer, within two weeks, some after a
  reminder; each client leans satisfied or not (key accounts a little more
  satisfied), so results differ by client, AM and team;
- a care call (a follow-up activity of the AM, else the owner) for every low
  score, done when its date has passed.

Idempotent: a campaign whose key exists is left alone. Deterministic for a
given ``--seed``: each campaign draws from its own random generator.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Exists, OuterRef
from django.utils import timezone

from clients.models import (
    Client,
    ClientStatus,
    Contact,
    SurveyAnswer,
    SurveyCampaign,
    SurveyInvitation,
    SurveyQuestion,
    SurveyResponse,
    SurveyTemplate,
)
from clients.survey_metrics import is_low_score, response_scores
from clients.surveys import BUILTIN, add_working_days, new_token, quarter_bounds, quarter_key
from salesorg.lib.seeding import SeedContext

Kind = SurveyQuestion.Kind
HISTORY_DAYS = 548
ANSWER_RATE = 0.55
BATCH = 2000
COMMENTS = [
    "Quick answers from our account manager.",
    "Delivery could be faster.",
    "The training for our team was very useful.",
    "Invoices were wrong twice this quarter.",
    "交付及时，服务很好。",
    "希望价格更有竞争力。",
    "客户经理响应很快。",
    "",
]


def _rng(ctx: SeedContext, key: str) -> random.Random:
    return random.Random(zlib.crc32(f"{ctx.seed}:{key}".encode()))


def _mood(client_ref: str, key_account: bool, seed: int) -> float:
    """How satisfied a client tends to be, 0–1; the same for every survey and, keyed
    on the client's external id rather than its database id, for every run."""
    base = random.Random(zlib.crc32(f"{seed}:mood:{client_ref}".encode())).random()
    return min(1.0, base * 0.85 + (0.15 if key_account else 0.05))


def _nps(rng: random.Random, mood: float) -> int:
    return max(0, min(10, round(rng.gauss(3 + mood * 7.5, 1.6))))


def _rating(rng: random.Random, mood: float) -> int:
    return max(1, min(5, round(rng.gauss(1.6 + mood * 3.4, 0.8))))


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def _quarters(now: datetime) -> Iterator[date]:
    """First days of the quarters that start inside the demo window, oldest first."""
    start = timezone.localdate(now) - timedelta(days=HISTORY_DAYS)
    day = quarter_bounds(start)[1]
    today = timezone.localdate(now)
    while day <= today:
        yield day
        day = quarter_bounds(day)[1]


#: (contact id, client id, key account, responsible user id, client's external id)
Recipient = tuple[int, int, bool, int, str]


class _Writer:
    """Collects rows and writes them in batches (ids are needed, so plain bulk_create)."""

    def __init__(self) -> None:
        self.follow_ups: list[Any] = []

    def flush_follow_ups(self) -> None:
        from pipeline.models import Activity

        if self.follow_ups:
            Activity.objects.bulk_create(self.follow_ups, batch_size=BATCH)
            self.follow_ups = []


def _survey(
    ctx: SeedContext,
    writer: _Writer,
    items: list[tuple[SurveyCampaign, list[Recipient], date, str]],
    questions: list[SurveyQuestion],
) -> tuple[int, int]:
    """Invite each item's recipients (contact, client, key account, responsible user)
    on its day; some answer. Written with one bulk insert per table for all items.
    Returns (invited, answered)."""
    from pipeline.models import DEFAULT_DURATION, Activity, ActivityType, FollowUpReason

    now = ctx.now
    invitations = []
    plans = []
    for campaign, recipients, sent_day, seed_key in items:
        rng = _rng(ctx, seed_key)
        sent_at = _at(sent_day, 10)
        if sent_at > now:
            continue
        campaign.sent_at = sent_at
        for contact_id, client_id, key_account, owner_id, client_ref in recipients:
            answer_at = None
            if rng.random() < ANSWER_RATE:
                answer_at = sent_at + timedelta(
                    days=rng.choice([0, 1, 1, 2, 3, 5, 8, 9, 12]), hours=rng.randint(0, 8)
                )
                if answer_at > now:
                    answer_at = None
            reminder_due = sent_at + timedelta(days=campaign.remind_after_days)
            late = answer_at is None or answer_at > reminder_due
            invitations.append(
                SurveyInvitation(
                    campaign=campaign,
                    client_id=client_id,
                    contact_id=contact_id,
                    token=new_token(),
                    sent_at=sent_at,
                    reminded_at=reminder_due if reminder_due <= now and late else None,
                    answered_at=answer_at,
                    expires_at=sent_at + timedelta(days=campaign.expires_after_days),
                )
            )
            plans.append((answer_at, client_id, key_account, owner_id, client_ref, rng))
    SurveyInvitation.objects.bulk_create(invitations, batch_size=BATCH)
    SurveyCampaign.objects.bulk_update([i[0] for i in items], ["sent_at"], batch_size=BATCH)
    responses = []
    answer_sets = []
    for invitation, (answer_at, client_id, key_account, owner_id, client_ref, rng) in zip(
        invitations, plans, strict=True
    ):
        if answer_at is None:
            continue
        mood = _mood(client_ref, key_account, ctx.seed)
        values: list[tuple[SurveyQuestion, Any]] = []
        ratings: list[int] = []
        nps_answer = None
        for question in questions:
            if question.kind == Kind.NPS:
                nps_answer = _nps(rng, mood)
                values.append((question, nps_answer))
            elif question.kind == Kind.RATING:
                rating = _rating(rng, mood)
                ratings.append(rating)
                values.append((question, rating))
            elif question.kind == Kind.CHOICE:
                options = [c["value"] for c in question.choices]
                values.append((question, options[0] if mood > 0.6 else rng.choice(options)))
            elif rng.random() < 0.35:
                values.append((question, rng.choice(COMMENTS)))
        nps_score, csat_score = response_scores(nps_answer, ratings)
        responses.append(
            SurveyResponse(
                invitation=invitation,
                client_id=client_id,
                contact_id=invitation.contact_id,
                submitted_at=answer_at,
                language=rng.choice(["zh-hans", "zh-hans", "en"]),
                nps_score=nps_score,
                csat_score=csat_score,
            )
        )
        answer_sets.append((values, is_low_score(nps_answer, ratings), owner_id, client_id))
    SurveyResponse.objects.bulk_create(responses, batch_size=BATCH)
    answers = []
    for response, (values, low, owner_id, client_id) in zip(responses, answer_sets, strict=True):
        for question, value in values:
            answers.append(
                SurveyAnswer(
                    response=response,
                    question=question,
                    number=value if question.kind in (Kind.NPS, Kind.RATING) else None,
                    choice=value if question.kind == Kind.CHOICE else "",
                    text=value if question.kind == Kind.TEXT else "",
                )
            )
        if low:
            start = _at(add_working_days(timezone.localdate(response.submitted_at), 2), 10)
            done = start <= now
            score = f" (NPS {response.nps_score})" if response.nps_score is not None else ""
            writer.follow_ups.append(
                Activity(
                    type=ActivityType.FOLLOW_UP,
                    status=Activity.Status.DONE if done else Activity.Status.PLANNED,
                    client_id=client_id,
                    contact_id=response.contact_id,
                    owner_id=owner_id,
                    subject=f"Care call: low survey score{score}",
                    start_at=start,
                    duration_minutes=DEFAULT_DURATION[ActivityType.FOLLOW_UP],
                    outcome="Called back; agreed on next steps." if done else "",
                    follow_up_reason=FollowUpReason.CARE_CALL,
                    survey_response=response,
                )
            )
    SurveyAnswer.objects.bulk_create(answers, batch_size=BATCH)
    writer.flush_follow_ups()
    return len(invitations), len(responses)


def _new_campaign(
    key: str, template: SurveyTemplate, name: str, **fields: Any
) -> SurveyCampaign | None:
    if SurveyCampaign.objects.filter(key=key).exists():
        return None
    return SurveyCampaign.objects.create(
        key=key, template=template, name=name, status=SurveyCampaign.Status.SENT, **fields
    )


def _recipients(clients: Any) -> list[Recipient]:
    """Each client's primary contact with an e-mail address, as ``Recipient``s."""
    return [
        (pk, client_id, bool(key), am or owner, ref or str(client_id))
        for pk, client_id, key, am, owner, ref in Contact.objects.filter(
            client__in=clients, is_primary=True
        )
        .exclude(email="")
        .order_by("pk")
        .values_list(
            "pk",
            "client_id",
            "client__is_key_account",
            "client__account_manager_id",
            "client__owner_id",
            "client__external_id",
        )
    ]


def seed(ctx: SeedContext) -> None:
    from pipeline.models import Project

    writer = _Writer()
    invited = answered = campaigns = 0
    quarterly = SurveyTemplate.objects.get(code=BUILTIN["quarterly"])
    quarterly_questions = list(quarterly.questions.all())
    for first_day in _quarters(ctx.now):
        quarter = quarter_key(first_day)
        if _at(add_working_days(first_day, 1), 10) > ctx.now:
            continue  # not sent yet: the quarterly job will
        campaign = _new_campaign(f"quarterly:{quarter}", quarterly, f"{quarterly.name} {quarter}")
        if campaign is None:
            continue
        # the customers of the time: active now, and on the books before the quarter
        clients = Client.objects.filter(
            status=ClientStatus.ACTIVE, created_at__lt=_at(first_day, 0)
        )
        recipients = _recipients(clients.values("pk"))
        counts = _survey(
            ctx,
            writer,
            [(campaign, recipients, add_working_days(first_day, 1), campaign.key)],
            quarterly_questions,
        )
        invited, answered, campaigns = invited + counts[0], answered + counts[1], campaigns + 1

    # one post-project evaluation per completed project, a batch of projects at a time
    template = SurveyTemplate.objects.get(code=BUILTIN["project"])
    questions = list(template.questions.all())
    window = timezone.localdate(ctx.now) - timedelta(days=HISTORY_DAYS)
    done = list(
        Project.objects.filter(
            status=Project.Status.COMPLETED,
            completed_on__isnull=False,
            completed_on__gte=window,
        )
        .exclude(Exists(SurveyCampaign.objects.filter(project=OuterRef("pk"))))
        .order_by("pk")
        .values_list("pk", "name", "client_id", "completed_on")
    )
    # projects finished in the last day or so are left to the post-project job
    done = [row for row in done if _at(add_working_days(row[3], 1), 10) <= ctx.now]
    for start in range(0, len(done), BATCH):
        chunk = done[start : start + BATCH]
        made = SurveyCampaign.objects.bulk_create(
            [
                SurveyCampaign(
                    key=f"project:{pk}",
                    template=template,
                    name=f"{template.name}: {name}"[:200],
                    status=SurveyCampaign.Status.SENT,
                    project_id=pk,
                )
                for pk, name, _client, _day in chunk
            ]
        )
        by_client: dict[int, list[Recipient]] = {}
        for row in _recipients([client for _p, _n, client, _d in chunk]):
            by_client.setdefault(row[1], []).append(row)
        items = []
        for campaign, (_p, name, client, day) in zip(made, chunk, strict=True):
            people = by_client.get(client, [])[:1]
            ref = people[0][4] if people else str(client)
            items.append((campaign, people, add_working_days(day, 1), f"{ref}:{day}:{name}"))
        counts = _survey(ctx, writer, items, questions)
        invited, answered = invited + counts[0], answered + counts[1]
        campaigns += len(made)
    rate = f"{100 * answered // invited}%" if invited else "—"
    ctx.log(f"surveys: {campaigns} campaigns, {invited} invitations, {answered} answers ({rate})")
