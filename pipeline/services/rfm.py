"""RFM scoring and key-account flagging (SPEC section 7), for the nightly job.

Over the clients with at least one won deal:

- **recency**: days since the last won deal (by close date);
- **frequency**: won deals closed in the last twelve months;
- **monetary**: won revenue closed in the last twelve months (in the default
  currency, like ``spend_12m``).

Each is scored 1–5 by quintile — ``CEIL(CUME_DIST() × 5)`` over the scored
clients, so equal values share a score and 5 is best — exactly as the
dashboards compute it for any day: the scores come from
``reports.kpis.rfm_scores_sql`` and the segment from ``clients.rfm`` (one
definition each). Clients without a won deal are not scored (their scores are
cleared).

Everything is computed and written by two SQL statements (the scores as a CTE
in an ``UPDATE … FROM``, then clearing the rest), which PostgreSQL and SQLite ≥ 3.33 both
run, so 10,000 clients take well under a second and no rows come into Python.
"""

from __future__ import annotations

from datetime import date, datetime

from django.db import connection, transaction
from django.db.models import CharField, Count, Exists, OuterRef, Value
from django.db.models.functions import Cast, Concat
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Notification, Role, User
from accounts.notifications import notify
from clients.models import Client
from clients.rfm import rfm_segment_sql
from pipeline.models import Deal, Stage
from pipeline.services.deals import client_refresh_spend


def _tables() -> dict[str, str]:
    q = connection.ops.quote_name
    return {
        "client": q(Client._meta.db_table),
        "deal": q(Deal._meta.db_table),
        "stage": q(Stage._meta.db_table),
    }


def rfm_score_clients(*, today: date, now: datetime) -> dict[str, int]:
    """Score every client with a won deal and clear the scores of the others.

    The scores are ``reports.kpis.rfm_scores_sql`` as of ``today`` — the same
    definition the dashboards compute for any day — and the segment is
    ``clients.rfm.rfm_segment``, in one ``UPDATE … FROM``.
    """
    from reports.kpis import rfm_scores_sql

    t = _tables()
    scores, score_params = rfm_scores_sql(today)
    ops = connection.ops  # values as the ORM writes them (SQLite keeps dates as text)
    now_db = ops.adapt_datetimefield_value(now)
    score_sql = f"""
        WITH scored AS ({scores}),
        segmented AS (
            SELECT client_id, recency AS r, frequency AS f, monetary AS m,
                   {rfm_segment_sql("recency", "frequency")} AS segment
            FROM scored
        )
        UPDATE {t["client"]}
        SET rfm_recency = segmented.r,
            rfm_frequency = segmented.f,
            rfm_monetary = segmented.m,
            rfm_segment = segmented.segment,
            rfm_scored_at = %s
        FROM segmented
        WHERE {t["client"]}.id = segmented.client_id
    """  # noqa: S608
    # Whoever still has scores but was not stamped just now has no won deal any more.
    clear_sql = f"""
        UPDATE {t["client"]}
        SET rfm_recency = NULL, rfm_frequency = NULL, rfm_monetary = NULL,
            rfm_segment = '', rfm_scored_at = %s
        WHERE rfm_recency IS NOT NULL AND (rfm_scored_at IS NULL OR rfm_scored_at <> %s)
    """  # noqa: S608
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(score_sql, [*score_params, now_db])
        scored = cursor.rowcount
        cursor.execute(clear_sql, [now_db, now_db])
        cleared = cursor.rowcount
        if scored < 0 or cleared < 0:  # SQLite does not count rows of an UPDATE with a CTE
            stamped = Client.objects.filter(rfm_scored_at=now)
            scored = stamped.filter(rfm_recency__isnull=False).count()
            cleared = stamped.filter(rfm_recency__isnull=True).count()
    return {"scored": scored, "cleared": cleared}


def segment_counts() -> dict[str, int]:
    return dict(
        Client.objects.exclude(rfm_segment="")
        .order_by()
        .values("rfm_segment")
        .annotate(n=Count("pk"))
        .values_list("rfm_segment", "n")
    )


# ------------------------------------------------------------------ key accounts
def key_account_alert_key(client_id: int) -> str:
    return f"key_account:{client_id}"


def key_accounts_without_am_unannounced():
    """Key accounts without a dedicated AM whose managers were not told yet."""
    key = Concat(Value("key_account:"), Cast(OuterRef("pk"), CharField()), output_field=CharField())
    return (
        Client.objects.key_accounts()
        .without_account_manager()
        .exclude(Exists(Notification.objects.filter(dedupe_key=key)))
    )


def managers_above(owners: list[User]) -> dict[int, list[User]]:
    """For each owner, the managers on their line (or, with none, the director above)."""
    ancestor_ids = {pk for o in owners for pk in o.ancestor_pks}
    bosses = {
        u.pk: u
        for u in User.objects.filter(
            pk__in=ancestor_ids, is_active=True, role__in=(Role.MANAGER, Role.DIRECTOR)
        )
    }
    result: dict[int, list[User]] = {}
    for owner in owners:
        line = [bosses[pk] for pk in owner.ancestor_pks if pk in bosses]
        managers = [u for u in line if u.role == Role.MANAGER]
        result[owner.pk] = managers or [u for u in line if u.role == Role.DIRECTOR]
    return result


def announce_key_accounts_without_am(*, batch_size: int = 500) -> int:
    """Tell the managers above the owner of each key account without a dedicated AM,
    once per client (key ``key_account:<id>``). Returns the clients announced."""
    announced = 0
    last_pk = 0
    threshold = Client.key_account_threshold()
    while True:
        batch = list(
            key_accounts_without_am_unannounced()
            .filter(pk__gt=last_pk)
            .select_related("owner")
            .order_by("pk")[:batch_size]
        )
        if not batch:
            break
        last_pk = batch[-1].pk
        bosses = managers_above(list({c.owner_id: c.owner for c in batch}.values()))
        for client in batch:
            recipients = bosses.get(client.owner_id) or []
            if not recipients:
                continue
            made = notify(
                recipients=recipients,
                kind="key_account_without_am",
                subject=_("%(client)s is now a key account and has no account manager")
                % {"client": client.name},
                message=_(
                    "%(client)s (owner: %(owner)s) spent %(spend)s CNY in the last twelve "
                    "months, above the key-account threshold of %(threshold)s CNY. Key "
                    "accounts get a dedicated account manager: please assign one."
                )
                % {
                    "client": client.name,
                    "owner": client.owner,
                    "spend": f"{client.spend_12m:,.2f}",
                    "threshold": f"{threshold:,.0f}",
                },
                url=reverse("clients:detail", args=[client.pk]),
                dedupe_key=key_account_alert_key(client.pk),
            )
            if made:
                announced += 1
    return announced


def rfm_nightly(now: datetime) -> dict[str, object]:
    """The nightly job: spend and key-account flags, RFM scores and segments, alerts."""
    today = timezone.localdate(now)
    key_before = Client.objects.key_accounts().count()
    refreshed = client_refresh_spend(None, today=today)
    key_after = Client.objects.key_accounts().count()
    scores = rfm_score_clients(today=today, now=now)
    return {
        "spend_refreshed": refreshed,
        **scores,
        "segments": segment_counts(),
        "key_accounts": key_after,
        "key_accounts_change": key_after - key_before,
        "key_accounts_without_am_announced": announce_key_accounts_without_am(),
    }
