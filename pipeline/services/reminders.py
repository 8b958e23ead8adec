"""What the scheduled reminders tell people: visits due, renewals, stale deals.

Each function takes the moment the job runs (``now``), works out from the
database what is due on that local day (Asia/Shanghai by default) and sends
one notification per person or item with a dedupe key, so a second run — a
retry, a second beat, a redelivery after a worker died — sends nothing more.
They read in SQL (counts and the first few rows per person with a window
function) and walk people and contracts in batches, so memory stays flat with
10,000 clients.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db.models import (
    Case,
    CharField,
    Count,
    DateTimeField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
    Window,
)
from django.db.models.functions import Cast, Coalesce, Concat, RowNumber
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import Notification, User
from accounts.notifications import notify
from clients.models import Cadence, Client, ClientStatus
from pipeline.models import Activity, ActivityType, Contract, ContractStatus, Deal

#: How many clients, visits or deals one notification lists by name; the rest are counted.
LISTED = 10
#: People (or contracts) handled per batch.
BATCH = 500


def local_day(now: datetime) -> date:
    return timezone.localdate(now)


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The start of ``day`` and of the next day, in the local time zone."""
    start = timezone.make_aware(datetime.combine(day, time.min))
    return start, timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))


def iso_week(day: date) -> str:
    year, week, _weekday = day.isocalendar()
    return f"{year}-W{week:02d}"


def _batches(ids: list[int], size: int = BATCH) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def _already_told(people: list[int], key: str) -> set[int]:
    """Of these people, who already has the notification with this key (one query)."""
    return set(
        Notification.objects.filter(recipient__in=people, dedupe_key=key).values_list(
            "recipient_id", flat=True
        )
    )


def _first_rows(qs: QuerySet[Any], partition: str, order: list[Any], fields: list[str]) -> dict:
    """The first ``LISTED`` rows of each ``partition`` value, in one query."""
    ranked = qs.annotate(
        row_rank=Window(RowNumber(), partition_by=[F(partition)], order_by=order)
    ).filter(row_rank__lte=LISTED)
    grouped: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in ranked.values(partition, *fields, "row_rank").order_by(partition, "row_rank"):
        grouped[row[partition]].append(row)
    return grouped


def _more(total: int, listed: int) -> list[str]:
    if total <= listed:
        return []
    rest = total - listed
    return [ngettext("…and %(count)d more.", "…and %(count)d more.", rest) % {"count": rest}]


# ---------------------------------------------------------------- visit reminders
def clients_due_for_visit(today: date) -> QuerySet[Client]:
    """Clients whose cadence visit is due today or overdue, each with the person
    responsible for the visit (``person``: the dedicated AM, else the owner)."""
    return (
        Client.objects.filter(next_visit_due__lte=today)
        .exclude(cadence=Cadence.ON_DEMAND)
        .exclude(status=ClientStatus.LOST)
        .annotate(person=Coalesce("account_manager", "owner"))
    )


def planned_visits(day: date) -> QuerySet[Activity]:
    start, end = day_bounds(day)
    return Activity.objects.filter(
        type=ActivityType.VISIT,
        status=Activity.Status.PLANNED,
        start_at__gte=start,
        start_at__lt=end,
    )


def send_visit_reminders(now: datetime) -> dict[str, int]:
    """One notification per person a day: their clients due or overdue for a visit
    and their planned visits today (dedupe key ``visits:<date>``)."""
    today = local_day(now)
    key = f"visits:{today.isoformat()}"
    due = clients_due_for_visit(today)
    visits = planned_visits(today)
    due_counts = {
        row["person"]: row
        for row in due.order_by()
        .values("person")
        .annotate(n=Count("pk"), overdue=Count("pk", filter=Q(next_visit_due__lt=today)))
    }
    visit_counts = dict(
        visits.order_by().values("owner").annotate(n=Count("pk")).values_list("owner", "n")
    )
    people = sorted(set(due_counts) | set(visit_counts))
    sent = already = 0
    for batch in _batches(people):
        told = _already_told(batch, key)
        already += len(told)
        todo = [pk for pk in batch if pk not in told]
        if not todo:
            continue
        clients = _first_rows(
            due.filter(person__in=todo),
            "person",
            [F("next_visit_due").asc(), F("name").asc()],
            ["pk", "name", "next_visit_due"],
        )
        planned = _first_rows(
            visits.filter(owner__in=todo),
            "owner",
            [F("start_at").asc()],
            ["start_at", "subject", "client__name", "lead__company"],
        )
        for user in User.objects.filter(pk__in=todo, is_active=True):
            counts = due_counts.get(user.pk, {"n": 0, "overdue": 0})
            subject, message = _visit_text(
                today,
                counts,
                clients.get(user.pk, []),
                visit_counts.get(user.pk, 0),
                planned.get(user.pk, []),
            )
            url = reverse("pipeline:cadence" if counts["n"] else "pipeline:activity-calendar")
            if notify(
                recipients=[user],
                kind="visit_reminder",
                subject=subject,
                message=message,
                url=url,
                dedupe_key=key,
            ):
                sent += 1
    return {"people": len(people), "reminded": sent, "already_reminded": already}


def _visit_text(
    today: date,
    counts: dict[str, int],
    clients: list[dict[str, Any]],
    visit_total: int,
    planned: list[dict[str, Any]],
) -> tuple[str, str]:
    due_total = counts["n"]
    parts = []
    if due_total:
        parts.append(
            ngettext(
                "%(count)d client due for a visit",
                "%(count)d clients due for a visit",
                due_total,
            )
            % {"count": due_total}
        )
    if visit_total:
        parts.append(
            ngettext(
                "%(count)d visit planned today",
                "%(count)d visits planned today",
                visit_total,
            )
            % {"count": visit_total}
        )
    subject = _("Visits for %(day)s: %(what)s") % {
        "day": today.isoformat(),
        "what": ", ".join(parts),
    }
    lines: list[str] = []
    if due_total:
        lines.append(
            _("Clients due or overdue for a visit (%(count)d, %(overdue)d overdue):")
            % {"count": due_total, "overdue": counts["overdue"]}
        )
        for row in clients:
            when = row["next_visit_due"]
            state = (
                _("overdue since %(day)s") % {"day": when.isoformat()}
                if when < today
                else _("due today")
            )
            lines.append(f"- {row['name']} — {state}")
        lines += _more(due_total, len(clients))
    if visit_total:
        if lines:
            lines.append("")
        lines.append(_("Planned visits today (%(count)d):") % {"count": visit_total})
        for row in planned:
            at = timezone.localtime(row["start_at"]).strftime("%H:%M")
            who = row["client__name"] or row["lead__company"] or ""
            subject_line = f" — {row['subject']}" if row["subject"] else ""
            lines.append(f"- {at} {who}{subject_line}")
        lines += _more(visit_total, len(planned))
    return subject, "\n".join(lines)


# ---------------------------------------------------------------- renewals
#: Days before a contract's end when its people are reminded, tightest first.
RENEWAL_THRESHOLDS = (30, 60, 90)


def contracts_to_renew(today: date) -> QuerySet[Contract]:
    """Running contracts ending within the widest threshold that have no renewal
    under way, each with the tightest threshold it has passed and its dedupe key."""
    widest = max(RENEWAL_THRESHOLDS)
    renewal_under_way = Contract.objects.filter(renews=OuterRef("pk")).exclude(
        status=ContractStatus.TERMINATED
    )
    threshold = Case(
        *(
            When(end_date__lte=today + timedelta(days=days), then=Value(days))
            for days in sorted(RENEWAL_THRESHOLDS)
        ),
        output_field=IntegerField(),
    )
    return (
        Contract.objects.filter(
            status__in=(ContractStatus.SIGNED, ContractStatus.ACTIVE),
            end_date__gte=today,
            end_date__lte=today + timedelta(days=widest),
        )
        .exclude(Exists(renewal_under_way))
        .annotate(threshold=threshold)
        .annotate(
            reminder_key=Concat(
                Value("renewal:"),
                Cast("pk", CharField()),
                Value(":"),
                Cast("threshold", CharField()),
                output_field=CharField(),
            )
        )
    )


def send_renewal_reminders(now: datetime) -> dict[str, int]:
    """Remind a contract's owner and its client's AM at 90, 60 and 30 days before
    its end, once per contract and threshold (key ``renewal:<id>:<days>``).

    A contract is reminded at the tightest threshold it has passed, so if the
    job did not run on the day a threshold was crossed the next run catches up
    (with one reminder, not one for each threshold missed).
    """
    today = local_day(now)
    pending = contracts_to_renew(today).exclude(
        Exists(Notification.objects.filter(dedupe_key=OuterRef("reminder_key")))
    )
    counts: dict[str, int] = defaultdict(int)
    last_pk = 0
    while True:
        batch = list(
            pending.filter(pk__gt=last_pk)
            .select_related("client", "client__account_manager", "owner")
            .order_by("pk")[:BATCH]
        )
        if not batch:
            break
        last_pk = batch[-1].pk
        for contract in batch:
            days_left = (contract.end_date - today).days
            people = [contract.owner]
            if contract.client.account_manager is not None:
                people.append(contract.client.account_manager)
            made = notify(
                recipients=people,
                kind="renewal_reminder",
                subject=ngettext(
                    "Contract %(number)s with %(client)s ends in %(days)d day",
                    "Contract %(number)s with %(client)s ends in %(days)d days",
                    days_left,
                )
                % {"number": contract.number, "client": contract.client.name, "days": days_left},
                message=_(
                    "Contract %(number)s (%(title)s) with %(client)s ends on %(end)s. "
                    "Time to prepare its renewal."
                )
                % {
                    "number": contract.number,
                    "title": contract.title or "—",
                    "client": contract.client.name,
                    "end": contract.end_date.isoformat(),
                },
                url=contract.get_absolute_url(),
                dedupe_key=contract.reminder_key,
            )
            if made:
                counts[f"at_{contract.threshold}_days"] += 1
                counts["notifications"] += len(made)
    return {
        "contracts_reminded": sum(v for k, v in counts.items() if k.startswith("at_")),
        **counts,
    }


# ---------------------------------------------------------------- stale deals
def stale_open_deals(
    now: datetime, days: int | None = None, *, base: QuerySet[Deal] | None = None
) -> QuerySet[Deal]:
    """Open deals with no activity (or, never touched, no creation) in ``days`` days.

    ``base``: the deals to look among (e.g. ``Deal.objects.visible_to(user)``).
    """
    days = settings.SALESORG_STALE_DEAL_DAYS if days is None else days
    return (
        (Deal.objects.all() if base is None else base)
        .open()
        .annotate(
            quiet_since=Coalesce("last_activity_at", "created_at", output_field=DateTimeField())
        )
        .filter(quiet_since__lt=now - timedelta(days=days))
    )


def send_stale_deal_alerts(now: datetime) -> dict[str, int]:
    """Once a week, each owner of stale deals and each owner's manager (the person
    they report to) gets one summary (key ``stale_deals:<ISO week>``)."""
    days = settings.SALESORG_STALE_DEAL_DAYS
    today = local_day(now)
    key = f"stale_deals:{iso_week(today)}"
    stale = stale_open_deals(now, days).filter(owner__is_active=True)
    own = dict(stale.order_by().values("owner").annotate(n=Count("pk")).values_list("owner", "n"))
    team = dict(
        stale.filter(owner__reports_to__isnull=False)
        .order_by()
        .values("owner__reports_to")
        .annotate(n=Count("pk"))
        .values_list("owner__reports_to", "n")
    )
    people = sorted(set(own) | set(team))
    fields = ["pk", "title", "client__name", "quiet_since", "owner__username"]
    sent = already = 0
    for batch in _batches(people):
        told = _already_told(batch, key)
        already += len(told)
        todo = [pk for pk in batch if pk not in told]
        if not todo:
            continue
        order = [F("quiet_since").asc(), F("pk").asc()]
        own_rows = _first_rows(stale.filter(owner__in=todo), "owner", order, fields)
        team_rows = _first_rows(
            stale.filter(owner__reports_to__in=todo), "owner__reports_to", order, fields
        )
        for user in User.objects.filter(pk__in=todo, is_active=True):
            n_own, n_team = own.get(user.pk, 0), team.get(user.pk, 0)
            subject, message = _stale_text(
                days, n_own, own_rows.get(user.pk, []), n_team, team_rows.get(user.pk, []), now
            )
            scope = "mine" if n_own and not n_team else "team"
            url = f"{reverse('pipeline:deal-list')}?state=open&scope={scope}&sort=updated"
            if notify(
                recipients=[user],
                kind="stale_deals",
                subject=subject,
                message=message,
                url=url,
                dedupe_key=key,
            ):
                sent += 1
    return {
        "stale_deals": sum(own.values()),
        "people": len(people),
        "notified": sent,
        "already_notified": already,
        "days": days,
    }


def _stale_text(
    days: int,
    n_own: int,
    own_rows: list[dict[str, Any]],
    n_team: int,
    team_rows: list[dict[str, Any]],
    now: datetime,
) -> tuple[str, str]:
    total = n_own + n_team
    subject = ngettext(
        "%(count)d open deal without activity for %(days)d days",
        "%(count)d open deals without activity for %(days)d days",
        total,
    ) % {"count": total, "days": days}

    def line(row: dict[str, Any], with_owner: bool) -> str:
        quiet = (now - row["quiet_since"]).days
        who = f" ({row['owner__username']})" if with_owner else ""
        return "- " + _("%(deal)s — %(client)s%(who)s, quiet for %(days)d days") % {
            "deal": row["title"],
            "client": row["client__name"],
            "who": who,
            "days": quiet,
        }

    lines: list[str] = []
    if n_own:
        lines.append(_("Your deals (%(count)d):") % {"count": n_own})
        lines += [line(r, False) for r in own_rows]
        lines += _more(n_own, len(own_rows))
    if n_team:
        if lines:
            lines.append("")
        lines.append(_("Deals of the people reporting to you (%(count)d):") % {"count": n_team})
        lines += [line(r, True) for r in team_rows]
        lines += _more(n_team, len(team_rows))
    return subject, "\n".join(lines)
