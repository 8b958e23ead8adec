"""Demo quotes, contracts with renewals, and delivery projects for ``seed_demo``.

``seed_delivery(ctx)`` works from the deals already in the database (the
pipeline seeder makes them first) and is meant to be called at the end of
``pipeline/seed.py``. It is idempotent: a deal that already has quotes, a
contract or a project is left alone. Everything is written with bulk inserts,
so ``--size large`` (100,000 deals) takes seconds, not hours.

The shape follows the SPEC's figures: about 85% of contracts that reached
their end were renewed, a quote per deal that got to the proposal stage, some
discounts above the approval threshold (approved, a few rejected), projects
with milestones and tasks, some of them overdue.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Exists, F, Max, OuterRef
from django.utils import timezone

from pipeline.models import (
    Contract,
    ContractStatus,
    Deal,
    Milestone,
    Product,
    Project,
    Quote,
    QuoteApproval,
    QuoteLine,
    Stage,
    Task,
)
from pipeline.services.quotes import compute_totals, discount_threshold, find_approver

RENEWAL_SHARE = 0.85
PROJECT_SHARE = 0.5
MILESTONES = ("Kick-off", "Design", "Build", "Go-live")
BATCH = 2000


class _Numbers:
    """Next free ``<letter>-YYYYMM-NNNN`` per month, read once per prefix."""

    def __init__(self, model: type[Quote] | type[Contract], letter: str) -> None:
        self.model, self.letter = model, letter
        self.next: dict[str, int] = {}

    def __call__(self, day: date) -> str:
        prefix = f"{self.letter}-{day:%Y%m}-"
        if prefix not in self.next:
            last = self.model._base_manager.filter(number__startswith=prefix).aggregate(
                m=Max("number")
            )["m"]
            self.next[prefix] = int(last[len(prefix) :]) + 1 if last else 1
        sequence = self.next[prefix]
        self.next[prefix] += 1
        return f"{prefix}{sequence:04d}"


def _day(value: Any, fallback: date) -> date:
    if value is None:
        return fallback
    return timezone.localtime(value).date() if hasattr(value, "tzinfo") else value


def seed_delivery(ctx: Any) -> None:
    rng, today = ctx.rng, timezone.localdate()
    deals = list(
        Deal.objects.filter(stage__order__gte=Stage.objects.get(code="proposal").order)
        .exclude(Exists(Quote.objects.filter(deal=OuterRef("pk"))))
        .select_related("stage", "client", "owner")
        .order_by("pk")
    )
    products = list(Product.objects.filter(is_active=True)[:50])
    _seed_quotes(ctx, deals, products, today)
    won = [
        d
        for d in Deal.objects.won()
        .select_related("client__account_manager", "owner")
        .exclude(Exists(Contract.objects.filter(deal=OuterRef("pk"))))
        .order_by("pk")
    ]
    _seed_contracts(ctx, won, today)
    _seed_projects(ctx, [d for d in won if rng.random() < PROJECT_SHARE], today)


# ------------------------------------------------------------------- quotes
def _seed_quotes(ctx: Any, deals: list[Deal], products: list[Product], today: date) -> None:
    rng = ctx.rng
    numbers = _Numbers(Quote, "Q")
    threshold = discount_threshold()
    approvers: dict[int, Any] = {}
    quotes: list[Quote] = []
    lines_by_quote: list[list[QuoteLine]] = []
    for deal in deals:
        created = _day(deal.created_at, today) + timedelta(days=rng.randint(3, 20))
        created = min(created, today)
        lines = []
        for position in range(1, rng.randint(1, 4) + 1):
            product = rng.choice(products) if products and rng.random() < 0.8 else None
            price = product.unit_price if product else Decimal(rng.randrange(2000, 80000, 500))
            discount = Decimal(rng.choice((0, 0, 0, 5, 8, 10, 12, 15, 20)))
            lines.append(
                QuoteLine(
                    product=product,
                    description=product.name if product else "Implementation services",
                    quantity=Decimal(rng.randint(1, 20)),
                    unit_price=price,
                    discount_percent=discount,
                    position=position,
                )
            )
        totals = compute_totals(lines, Decimal("13"))
        stage_kind = deal.stage.kind
        status = {
            Stage.Kind.WON: Quote.Status.ACCEPTED,
            Stage.Kind.LOST: Quote.Status.REJECTED,
        }.get(stage_kind, rng.choice((Quote.Status.DRAFT, Quote.Status.SENT, Quote.Status.SENT)))
        needs = totals.max_discount_percent > threshold
        approval = Quote.Approval.NOT_NEEDED
        if needs:
            if status == Quote.Status.DRAFT:
                approval = rng.choice(
                    (Quote.Approval.REQUIRED, Quote.Approval.PENDING, Quote.Approval.REJECTED)
                )
            else:
                approval = Quote.Approval.APPROVED
        quotes.append(
            Quote(
                deal=deal,
                number=numbers(created),
                currency=deal.currency,
                valid_until=created + timedelta(days=settings.SALESORG_QUOTE_VALIDITY_DAYS),
                subtotal=totals.subtotal,
                discount_total=totals.discount_total,
                tax_amount=totals.tax_amount,
                total=totals.total,
                max_discount_percent=totals.max_discount_percent,
                approval=approval,
                status=status,
                created_by=deal.owner,
                sent_at=None
                if status == Quote.Status.DRAFT
                else timezone.make_aware(datetime.combine(created, time(10))),
            )
        )
        lines_by_quote.append(lines)
    Quote.objects.bulk_create(quotes, batch_size=BATCH)
    all_lines, approvals = [], []
    for quote, lines in zip(quotes, lines_by_quote, strict=True):
        for line in lines:
            line.quote = quote
            all_lines.append(line)
        if quote.approval in (
            Quote.Approval.PENDING,
            Quote.Approval.APPROVED,
            Quote.Approval.REJECTED,
        ):
            owner = quote.deal.owner
            if owner.pk not in approvers:
                approvers[owner.pk] = find_approver(owner) or owner
            decision = {
                Quote.Approval.PENDING: QuoteApproval.Decision.PENDING,
                Quote.Approval.APPROVED: QuoteApproval.Decision.APPROVED,
                Quote.Approval.REJECTED: QuoteApproval.Decision.REJECTED,
            }[quote.approval]
            approvals.append(
                QuoteApproval(
                    quote=quote,
                    requested_by=owner,
                    approver=approvers[owner.pk],
                    discount_percent=quote.max_discount_percent,
                    decision=decision,
                    comment="" if decision != "rejected" else "Keep it at 10% or less.",
                    decided_at=None if decision == "pending" else quote.sent_at or ctx.now,
                )
            )
    QuoteLine.objects.bulk_create(all_lines, batch_size=BATCH)
    QuoteApproval.objects.bulk_create(approvals, batch_size=BATCH)
    # Backdate the creation to when the deal was quoted (auto_now_add set "now").
    Quote.objects.filter(pk__in=[q.pk for q in quotes], sent_at__isnull=False).update(
        created_at=F("sent_at")
    )
    ctx.log(f"{len(quotes)} quotes with {len(all_lines)} lines, {len(approvals)} approvals")


# ---------------------------------------------------------------- contracts
def _owner(deal: Deal) -> Any:
    manager = deal.client.account_manager
    return manager if manager is not None and manager.is_active else deal.owner


def _seed_contracts(ctx: Any, won: list[Deal], today: date) -> None:
    rng = ctx.rng
    numbers = _Numbers(Contract, "C")
    first: list[Contract] = []
    for deal in won:
        start = _day(deal.closed_on, today) + timedelta(days=rng.randint(5, 25))
        end = start + timedelta(days=364)
        if start > today:
            status = rng.choice(
                (
                    ContractStatus.DRAFT,
                    ContractStatus.LEGAL_REVIEW,
                    ContractStatus.APPROVED,
                    ContractStatus.SIGNED,
                )
            )
        elif end < today:
            status = ContractStatus.EXPIRED
        else:
            status = ContractStatus.ACTIVE
        signed = status in (ContractStatus.SIGNED, ContractStatus.ACTIVE, ContractStatus.EXPIRED)
        first.append(
            Contract(
                client=deal.client,
                deal=deal,
                owner=_owner(deal),
                number=numbers(min(start, today)),
                title=deal.title,
                amount=deal.amount,
                currency=deal.currency,
                start_date=start,
                end_date=end,
                payment_terms=rng.choice(
                    ("30% on signature, 70% on go-live", "Quarterly", "Yearly in advance")
                ),
                status=status,
                signed_on=start - timedelta(days=rng.randint(1, 10)) if signed else None,
            )
        )
    Contract.objects.bulk_create(first, batch_size=BATCH)
    # Contracts that ran to their end: about 85% renewed (a signed renewal), in chains.
    renewals: list[Contract] = []
    renewed_pks: list[int] = []
    pending = [c for c in first if c.status == ContractStatus.EXPIRED]
    while pending:
        wave: list[Contract] = []
        for old in pending:
            if rng.random() >= RENEWAL_SHARE:
                continue
            start = old.end_date + timedelta(days=1)
            end = start + timedelta(days=364)
            status = ContractStatus.EXPIRED if end < today else ContractStatus.ACTIVE
            wave.append(
                Contract(
                    client=old.client,
                    deal=old.deal,
                    owner=old.owner,
                    number=numbers(min(start, today)),
                    title=old.title,
                    amount=(old.amount * Decimal(rng.choice(("1.00", "1.05", "1.10")))).quantize(
                        Decimal("0.01")
                    ),
                    currency=old.currency,
                    start_date=start,
                    end_date=end,
                    payment_terms=old.payment_terms,
                    status=status,
                    signed_on=start - timedelta(days=rng.randint(5, 20)),
                    renews=old,
                )
            )
            renewed_pks.append(old.pk)
        Contract.objects.bulk_create(wave, batch_size=BATCH)
        renewals.extend(wave)
        pending = [c for c in wave if c.status == ContractStatus.EXPIRED]
    Contract.objects.filter(pk__in=renewed_pks).update(status=ContractStatus.RENEWED)
    ctx.log(f"{len(first)} contracts, {len(renewals)} renewals")


# ----------------------------------------------------------------- projects
def _seed_projects(ctx: Any, won: list[Deal], today: date) -> None:
    rng = ctx.rng
    contract_of = dict(
        Contract.objects.filter(deal__in=won, renews__isnull=True).values_list("deal_id", "pk")
    )
    projects: list[Project] = []
    for deal in won:
        start = _day(deal.closed_on, today) + timedelta(days=rng.randint(7, 30))
        due = start + timedelta(days=rng.choice((60, 90, 120, 180)))
        projects.append(
            Project(
                client=deal.client,
                deal=deal,
                contract_id=contract_of.get(deal.pk),
                owner=_owner(deal),
                name=f"{deal.title} – delivery",
                goals="Go live on time; users trained; first value within a quarter.",
                start_date=start,
                due_date=due,
                status=Project.Status.PLANNED if start > today else Project.Status.IN_PROGRESS,
            )
        )
    Project.objects.bulk_create(projects, batch_size=BATCH)
    milestones: list[Milestone] = []
    for project in projects:
        step = (project.due_date - project.start_date) / len(MILESTONES)
        for index, name in enumerate(MILESTONES, start=1):
            due = project.start_date + step * index
            done = due < today and rng.random() < 0.9
            milestones.append(
                Milestone(
                    project=project,
                    name=name,
                    owner=project.owner,
                    due_date=due,
                    status=Milestone.Status.DONE if done else Milestone.Status.PENDING,
                    completed_on=due if done else None,
                    position=index,
                )
            )
    Milestone.objects.bulk_create(milestones, batch_size=BATCH)
    tasks = [
        Task(
            project=m.project,
            milestone=m,
            title=f"{m.name}: {what}",
            owner=m.owner,
            due_date=m.due_date - timedelta(days=3),
            done=m.status == Milestone.Status.DONE,
            done_at=ctx.now if m.status == Milestone.Status.DONE else None,
        )
        for m in milestones
        for what in ("prepare", "sign off")
    ]
    Task.objects.bulk_create(tasks, batch_size=BATCH)
    open_by_project: dict[int, int] = defaultdict(int)
    for m in milestones:
        if m.status != Milestone.Status.DONE:
            open_by_project[m.project.pk] += 1
    finished = [p.pk for p in projects if p.due_date < today and not open_by_project[p.pk]]
    Project.objects.filter(pk__in=finished).update(
        status=Project.Status.COMPLETED, completed_on=F("due_date")
    )
    ctx.log(f"{len(projects)} projects ({len(finished)} completed), {len(milestones)} milestones")
