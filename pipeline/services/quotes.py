"""Quotes: the arithmetic, numbering, revisions, discount approval and status changes.

Every write to a quote goes through a function here, so the pages and the API
apply one set of rules:

- money is ``Decimal``; each line is rounded to the fen (0.01, half up) and the
  rounded lines are summed; tax is charged on the discounted subtotal;
- a quote's stored totals are recomputed from its lines by ``quote_recalculate``
  (or, inside a write, by ``_apply_totals`` before the one versioned save);
- a discount above ``SALESORG_DISCOUNT_APPROVAL_THRESHOLD`` % needs the deal
  owner's nearest manager holding ``pipeline.approve_discount`` to approve it
  before the quote can be sent;
- only the latest revision of a draft quote is editable; "new revision" copies
  a quote under the same number with ``revision + 1`` and leaves the old one as
  it was.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Protocol

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.notifications import notify
from pipeline.models import Deal, Product, Quote, QuoteApproval, QuoteLine, Stage
from pipeline.services.numbering import next_number
from salesorg.lib.concurrency import StaleWrite

FEN = Decimal("0.01")
HUNDRED = Decimal("100")
APPROVE_PERM = "pipeline.approve_discount"


# ------------------------------------------------------------------ arithmetic
def to_fen(value: Decimal) -> Decimal:
    """Round money to the fen, half up (0.005 → 0.01), as invoices in China are."""
    return value.quantize(FEN, rounding=ROUND_HALF_UP)


class PricedLine(Protocol):
    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal


@dataclass(frozen=True)
class LineAmounts:
    gross: Decimal  # quantity × unit price, rounded
    discount: Decimal  # gross × discount %, rounded
    net: Decimal  # gross − discount


@dataclass(frozen=True)
class QuoteTotals:
    subtotal: Decimal  # Σ gross
    discount_total: Decimal  # Σ line discounts
    net: Decimal  # subtotal − discount_total
    tax_amount: Decimal  # net × tax rate, rounded
    total: Decimal  # net + tax
    max_discount_percent: Decimal


def line_amounts(quantity: Decimal, unit_price: Decimal, discount_percent: Decimal) -> LineAmounts:
    """One line's money: the gross and the discount are each rounded to the fen."""
    gross = to_fen(Decimal(quantity) * Decimal(unit_price))
    discount = to_fen(gross * Decimal(discount_percent) / HUNDRED)
    return LineAmounts(gross=gross, discount=discount, net=gross - discount)


def compute_totals(lines: Iterable[PricedLine], tax_rate: Decimal) -> QuoteTotals:
    """A quote's totals from its lines: rounded per line, then summed; tax on the net."""
    subtotal = discount_total = Decimal("0.00")
    max_discount = Decimal("0.00")
    for line in lines:
        amounts = line_amounts(line.quantity, line.unit_price, line.discount_percent)
        subtotal += amounts.gross
        discount_total += amounts.discount
        max_discount = max(max_discount, Decimal(line.discount_percent))
    net = subtotal - discount_total
    tax = to_fen(net * Decimal(tax_rate) / HUNDRED)
    return QuoteTotals(
        subtotal=subtotal,
        discount_total=discount_total,
        net=net,
        tax_amount=tax,
        total=net + tax,
        max_discount_percent=max_discount.quantize(FEN),
    )


def discount_threshold() -> Decimal:
    return Decimal(settings.SALESORG_DISCOUNT_APPROVAL_THRESHOLD)


# --------------------------------------------------------------------- reading
def latest_revisions(qs: QuerySet[Quote]) -> QuerySet[Quote]:
    """Only the newest revision of each quote number (one indexed anti-join)."""
    newer = Quote.objects.filter(number=OuterRef("number"), revision__gt=OuterRef("revision"))
    return qs.filter(~Exists(newer))


def is_latest_revision(quote: Quote) -> bool:
    return not Quote.objects.filter(number=quote.number, revision__gt=quote.revision).exists()


def editable_reason(quote: Quote, *, latest: bool | None = None) -> str:
    """Why the quote's lines and terms cannot be changed now ("" when they can)."""
    if quote.status != Quote.Status.DRAFT:
        return _("Only a draft quote can be changed; make a new revision instead.")
    if latest is None:
        latest = is_latest_revision(quote)
    if not latest:
        return _("This is an older revision; it stays as it was. Change the newest revision.")
    if quote.approval == Quote.Approval.PENDING:
        return _("The discount is waiting for approval; wait for the decision before changing it.")
    return ""


def send_blocker(quote: Quote, *, has_lines: bool | None = None) -> str:
    """Why the quote cannot be sent now ("" when it can)."""
    if quote.status != Quote.Status.DRAFT:
        return _("Only a draft quote can be sent.")
    if has_lines is None:
        has_lines = quote.lines.exists()
    if not has_lines:
        return _("Add at least one line before sending the quote.")
    blockers = {
        Quote.Approval.REQUIRED: _(
            "A discount above %(threshold)s%% needs a manager's approval before the quote is sent."
        )
        % {"threshold": discount_threshold()},
        Quote.Approval.PENDING: _("The discount is still waiting for approval."),
        Quote.Approval.REJECTED: _(
            "The discount was rejected; lower it or ask for approval again before sending."
        ),
    }
    return str(blockers.get(quote.approval, ""))


# ------------------------------------------------------------------ approvers
def find_approver(owner: User) -> User | None:
    """The nearest active person above ``owner`` who may approve discounts (one query)."""
    ancestors = owner.ancestor_pks
    if not ancestors:
        return None
    app_label, codename = APPROVE_PERM.split(".")
    perm = Permission.objects.filter(content_type__app_label=app_label, codename=codename)
    role_groups = Group.objects.filter(permissions__in=perm).values("name")
    candidates = (
        User.objects.filter(pk__in=ancestors, is_active=True)
        .filter(
            Q(is_superuser=True)
            | Q(role__in=role_groups)
            | Q(groups__permissions__in=perm)
            | Q(user_permissions__in=perm)
        )
        .distinct()
    )
    # The nearest is the one with the longest path.
    return max(candidates, key=lambda u: len(u.path), default=None)


def may_decide(approval: QuoteApproval, user: User) -> bool:
    """The assigned approver, or anyone above them who may approve discounts."""
    if not user.is_active or not user.has_perm(APPROVE_PERM):
        return False
    if user.pk == approval.approver_id or user.is_superuser:
        return True
    return approval.approver.path.startswith(user.path)


# ---------------------------------------------------------------------- writes
@dataclass(frozen=True)
class LineData:
    """One line as a form or the API hands it over (unit price may default to the product's)."""

    product: Product | None
    description: str
    quantity: Decimal
    unit_price: Decimal | None
    discount_percent: Decimal


def _line_data(raw: LineData | Mapping[str, Any]) -> LineData:
    if isinstance(raw, LineData):
        return raw
    return LineData(
        product=raw.get("product"),
        description=(raw.get("description") or "").strip(),
        quantity=raw.get("quantity"),  # type: ignore[arg-type]
        unit_price=raw.get("unit_price"),
        discount_percent=raw.get("discount_percent") or Decimal("0"),
    )


def _build_lines(
    quote: Quote, raw_lines: Sequence[LineData | Mapping[str, Any]]
) -> list[QuoteLine]:
    lines: list[QuoteLine] = []
    errors: list[str] = []
    for position, raw in enumerate(raw_lines, start=1):
        data = _line_data(raw)
        unit_price = data.unit_price
        if unit_price is None and data.product is not None:
            unit_price = data.product.unit_price
        problems = []
        if data.product is None and not data.description:
            problems.append(_("choose a product or describe the item"))
        if unit_price is None:
            problems.append(_("give a unit price"))
        elif unit_price < 0:
            problems.append(_("the unit price cannot be negative"))
        if data.quantity is None or data.quantity <= 0:
            problems.append(_("the quantity must be more than zero"))
        if not Decimal("0") <= Decimal(data.discount_percent) <= HUNDRED:
            problems.append(_("the discount is between 0 and 100%"))
        if problems:
            errors.append(
                _("Line %(n)s: %(problems)s.") % {"n": position, "problems": "; ".join(problems)}
            )
            continue
        lines.append(
            QuoteLine(
                quote=quote,
                product=data.product,
                description=data.description or (data.product.name if data.product else ""),
                quantity=data.quantity,
                unit_price=unit_price,
                discount_percent=data.discount_percent,
                position=position,
            )
        )
    if errors:
        raise ValidationError({"lines": errors})
    return lines


def _replace_lines(quote: Quote, raw_lines: Sequence[LineData | Mapping[str, Any]]) -> None:
    lines = _build_lines(quote, raw_lines)
    quote.lines.all().delete()
    QuoteLine.objects.bulk_create(lines)


def _approved_percent(quote: Quote) -> Decimal | None:
    return (
        quote.approvals.filter(decision=QuoteApproval.Decision.APPROVED)
        .order_by("-decided_at", "-pk")
        .values_list("discount_percent", flat=True)
        .first()
    )


def _approval_after_change(quote: Quote, max_discount: Decimal) -> str:
    """What the quote's approval state is once its largest discount is ``max_discount``."""
    if max_discount <= discount_threshold():
        return Quote.Approval.NOT_NEEDED
    if quote.approval == Quote.Approval.PENDING:
        return Quote.Approval.PENDING
    if quote.approval == Quote.Approval.APPROVED:
        approved = _approved_percent(quote)
        if approved is not None and max_discount <= approved:
            return Quote.Approval.APPROVED
    if quote.approval == Quote.Approval.REJECTED:
        return Quote.Approval.REJECTED
    return Quote.Approval.REQUIRED


def _apply_totals(quote: Quote, lines: Sequence[QuoteLine] | None = None) -> QuoteTotals:
    """Set the stored totals and the approval state from ``lines`` (default: the saved ones)."""
    totals = compute_totals(quote.lines.all() if lines is None else lines, quote.tax_rate)
    quote.subtotal = totals.subtotal
    quote.discount_total = totals.discount_total
    quote.tax_amount = totals.tax_amount
    quote.total = totals.total
    quote.max_discount_percent = totals.max_discount_percent
    quote.approval = _approval_after_change(quote, totals.max_discount_percent)
    return totals


TOTAL_FIELDS = [
    "subtotal",
    "discount_total",
    "tax_amount",
    "total",
    "max_discount_percent",
    "approval",
    "updated_at",
]


@transaction.atomic
def quote_recalculate(*, quote: Quote) -> QuoteTotals:
    """Recompute and store a quote's totals and approval state from its lines.

    The one place the stored totals are written; a quote's number on every
    list and dashboard is what this computed.
    """
    totals = _apply_totals(quote)
    quote.save(update_fields=TOTAL_FIELDS)
    return totals


def _require(user: User, perm: str) -> None:
    if not user.has_perm(perm):
        raise PermissionDenied


def _locked(quote: Quote, expected_version: int | None = None) -> Quote:
    """The quote re-read under a row lock; ``StaleWrite`` if it moved past ``expected_version``.

    Every write works on this fresh copy, so a stale instance held by the
    caller can never overwrite someone else's change.
    """
    fresh = (
        Quote.objects.select_for_update(of=("self",))
        .select_related("deal__owner", "deal__client")
        .get(pk=quote.pk)
    )
    if expected_version is not None and fresh.version != expected_version:
        raise StaleWrite(fresh)
    return fresh


HEADER_FIELDS = ("valid_until", "tax_rate", "currency", "notes")


def _check_header(header: Mapping[str, Any]) -> None:
    unknown = set(header) - set(HEADER_FIELDS)
    if unknown:
        raise TypeError(f"Not quote header fields: {sorted(unknown)}")
    tax_rate = header.get("tax_rate")
    if tax_rate is not None and not Decimal("0") <= Decimal(tax_rate) <= HUNDRED:
        raise ValidationError({"tax_rate": _("The tax rate is between 0 and 100%.")})


@transaction.atomic
def quote_create(
    *,
    deal: Deal,
    by: User,
    lines: Sequence[LineData | Mapping[str, Any]] = (),
    valid_until: date | None = None,
    tax_rate: Decimal | None = None,
    currency: str | None = None,
    notes: str = "",
) -> Quote:
    """A new draft quote (revision 1, a fresh number) on ``deal``."""
    _require(by, "pipeline.add_quote")
    if deal.stage.kind == Stage.Kind.LOST:
        raise ValidationError(_("A lost deal gets no new quotes."))
    header = {"valid_until": valid_until, "tax_rate": tax_rate, "currency": currency}
    _check_header({k: v for k, v in header.items() if v is not None})
    quote = Quote(
        deal=deal,
        number=next_number(Quote, "Q"),
        revision=1,
        currency=currency or deal.currency,
        valid_until=valid_until
        or timezone.localdate() + timedelta(days=settings.SALESORG_QUOTE_VALIDITY_DAYS),
        notes=notes,
        created_by=by,
    )
    if tax_rate is not None:
        quote.tax_rate = tax_rate
    built = _build_lines(quote, lines)
    _apply_totals(quote, built)
    quote.save()  # one save, so the history starts with the quote as it was made
    QuoteLine.objects.bulk_create(built)
    return quote


@transaction.atomic
def quote_update(
    *,
    quote: Quote,
    by: User,
    expected_version: int | None,
    lines: Sequence[LineData | Mapping[str, Any]] | None = None,
    **header: Any,
) -> Quote:
    """Change a draft's terms and (when given) replace its lines; one versioned save."""
    _require(by, "pipeline.change_quote")
    _check_header(header)
    quote = _locked(quote, expected_version)
    reason = editable_reason(quote)
    if reason:
        raise ValidationError(reason)
    for name, value in header.items():
        setattr(quote, name, value)
    if lines is not None:
        _replace_lines(quote, lines)
    _apply_totals(quote)
    quote.save_versioned(expected_version=quote.version)
    return quote


@transaction.atomic
def quote_delete(*, quote: Quote, by: User) -> None:
    """Only a draft may be deleted; what was sent to a client stays on record."""
    _require(by, "pipeline.delete_quote")
    if quote.status != Quote.Status.DRAFT:
        raise ValidationError(_("Only a draft quote can be deleted."))
    quote.delete()


@transaction.atomic
def quote_revise(*, quote: Quote, by: User) -> Quote:
    """A new draft revision of ``quote``: same number, revision + 1, the lines copied.

    The old revision is left untouched (read-only from now on); the new one
    needs its own discount approval.
    """
    _require(by, "pipeline.add_quote")
    revisions = list(
        Quote.objects.select_for_update().filter(number=quote.number).order_by("-revision")
    )
    if revisions[0].pk != quote.pk:
        raise ValidationError(
            _("Revision %(revision)s is newer; revise that one.")
            % {"revision": revisions[0].revision}
        )
    quote = revisions[0]
    if quote.status == Quote.Status.ACCEPTED:
        raise ValidationError(_("The client accepted this quote; it is not revised any more."))
    new = Quote(
        deal=quote.deal,
        number=quote.number,
        revision=quote.revision + 1,
        currency=quote.currency,
        tax_rate=quote.tax_rate,
        valid_until=max(
            quote.valid_until or timezone.localdate(),
            timezone.localdate() + timedelta(days=settings.SALESORG_QUOTE_VALIDITY_DAYS),
        ),
        notes=quote.notes,
        created_by=by,
    )
    lines = [
        QuoteLine(
            quote=new,
            product_id=line.product_id,
            description=line.description,
            quantity=line.quantity,
            unit_price=line.unit_price,
            discount_percent=line.discount_percent,
            position=line.position,
        )
        for line in quote.lines.all()
    ]
    _apply_totals(new, lines)
    new.save()
    QuoteLine.objects.bulk_create(lines)
    return new


# --------------------------------------------------------------- approval flow
@transaction.atomic
def quote_request_approval(
    *, quote: Quote, by: User, expected_version: int | None = None, note: str = ""
) -> QuoteApproval:
    """Ask the deal owner's manager to approve the quote's discount; they are notified."""
    _require(by, "pipeline.add_quoteapproval")
    quote = _locked(quote, expected_version)
    if quote.status != Quote.Status.DRAFT or not is_latest_revision(quote):
        raise ValidationError(_("Only the newest draft of a quote goes for approval."))
    if quote.approval not in (Quote.Approval.REQUIRED, Quote.Approval.REJECTED):
        messages = {
            Quote.Approval.NOT_NEEDED: _("No discount on this quote needs approval."),
            Quote.Approval.PENDING: _("The discount is already waiting for approval."),
            Quote.Approval.APPROVED: _("The discount is already approved."),
        }
        raise ValidationError(messages[quote.approval])
    owner = quote.deal.owner
    approver = find_approver(owner)
    if approver is None:
        if not by.has_perm(APPROVE_PERM):
            raise ValidationError(
                _("Nobody above %(owner)s may approve discounts; ask an administrator.")
                % {"owner": owner}
            )
        approver = by  # the top of the tree approves their own deal's discount
    approval = QuoteApproval.objects.create(
        quote=quote,
        requested_by=by,
        approver=approver,
        discount_percent=quote.max_discount_percent,
        comment=note,
    )
    quote.approval = Quote.Approval.PENDING
    quote.save_versioned(expected_version=quote.version)
    notify(
        recipients=[approver],
        kind="quote_approval_requested",
        subject=_("Discount approval requested: %(quote)s") % {"quote": quote},
        message=_(
            "%(who)s asks you to approve a %(discount)s%% discount on quote %(quote)s "
            "for %(client)s (total %(total)s %(currency)s)."
        )
        % {
            "who": by,
            "discount": quote.max_discount_percent,
            "quote": quote,
            "client": quote.deal.client,
            "total": quote.total,
            "currency": quote.currency,
        },
        url=quote.get_absolute_url(),
    )
    return approval


@transaction.atomic
def _decide(*, quote: Quote, by: User, approve: bool, comment: str) -> QuoteApproval:
    _require(by, APPROVE_PERM)
    quote = _locked(quote)
    approval = (
        quote.approvals.select_for_update()
        .select_related("approver", "requested_by")
        .filter(decision=QuoteApproval.Decision.PENDING)
        .order_by("-requested_at", "-pk")
        .first()
    )
    if approval is None or quote.approval != Quote.Approval.PENDING:
        raise ValidationError(_("This quote is not waiting for a discount approval."))
    if not may_decide(approval, by):
        raise PermissionDenied(
            _("%(approver)s decides on this discount.") % {"approver": approval.approver}
        )
    comment = (comment or "").strip()
    if not approve and not comment:
        raise ValidationError({"comment": _("Say why the discount is rejected.")})
    approval.decision = (
        QuoteApproval.Decision.APPROVED if approve else QuoteApproval.Decision.REJECTED
    )
    approval.comment = "\n\n".join(part for part in (approval.comment, comment) if part)
    approval.decided_at = timezone.now()
    if approval.approver_id != by.pk:
        approval.approver = by
    approval.save()
    quote.approval = Quote.Approval.APPROVED if approve else Quote.Approval.REJECTED
    quote.save_versioned(expected_version=quote.version)
    verdict = _("approved") if approve else _("rejected")
    notify(
        recipients=[approval.requested_by, quote.deal.owner],
        kind="quote_approval_decided",
        subject=_("Discount %(verdict)s: %(quote)s") % {"verdict": verdict, "quote": quote},
        message=_("%(who)s %(verdict)s the %(discount)s%% discount on quote %(quote)s.")
        % {"who": by, "verdict": verdict, "discount": approval.discount_percent, "quote": quote}
        + (f"\n\n{comment}" if comment else ""),
        url=quote.get_absolute_url(),
    )
    return approval


def quote_approve(*, quote: Quote, by: User, comment: str = "") -> QuoteApproval:
    """The manager approves the pending discount; the rep may then send the quote."""
    return _decide(quote=quote, by=by, approve=True, comment=comment)


def quote_reject(*, quote: Quote, by: User, comment: str) -> QuoteApproval:
    """The manager rejects the pending discount (with a reason); the quote stays unsendable."""
    return _decide(quote=quote, by=by, approve=False, comment=comment)


# ------------------------------------------------------------------ statuses
#: Which status a quote may move to from each status (by the named actions below).
QUOTE_TRANSITIONS: dict[str, tuple[str, ...]] = {
    Quote.Status.DRAFT: (Quote.Status.SENT,),
    Quote.Status.SENT: (Quote.Status.ACCEPTED, Quote.Status.REJECTED, Quote.Status.EXPIRED),
    Quote.Status.ACCEPTED: (),
    Quote.Status.REJECTED: (),
    Quote.Status.EXPIRED: (),
}


def _move(quote: Quote, to: str, by: User, expected_version: int | None) -> Quote:
    _require(by, "pipeline.change_quote")
    quote = _locked(quote, expected_version)
    if to == Quote.Status.SENT:
        blocker = send_blocker(quote)
        if not blocker and not is_latest_revision(quote):
            blocker = _("This is an older revision; send the newest one.")
        if blocker:
            raise ValidationError(blocker)
        quote.sent_at = timezone.now()
    if to not in QUOTE_TRANSITIONS[quote.status]:
        raise ValidationError(
            _("A quote that is “%(from)s” cannot become “%(to)s”.")
            % {"from": quote.get_status_display(), "to": Quote.Status(to).label}
        )
    quote.status = to
    quote.save_versioned(expected_version=quote.version)
    return quote


@transaction.atomic
def quote_send(*, quote: Quote, by: User, expected_version: int | None = None) -> Quote:
    """Mark the quote sent to the client; refused while a discount lacks approval."""
    return _move(quote, Quote.Status.SENT, by, expected_version)


@transaction.atomic
def quote_accept(*, quote: Quote, by: User, expected_version: int | None = None) -> Quote:
    """The client accepted the quote."""
    return _move(quote, Quote.Status.ACCEPTED, by, expected_version)


@transaction.atomic
def quote_decline(*, quote: Quote, by: User, expected_version: int | None = None) -> Quote:
    """The client turned the quote down (status "rejected")."""
    return _move(quote, Quote.Status.REJECTED, by, expected_version)


@transaction.atomic
def quote_expire(*, quote: Quote, by: User, expected_version: int | None = None) -> Quote:
    """The quote lapsed without an answer."""
    return _move(quote, Quote.Status.EXPIRED, by, expected_version)


@transaction.atomic
def quotes_expire_due(*, today: date | None = None) -> int:
    """Mark sent quotes past their validity expired; idempotent, for the scheduled jobs."""
    today = today or timezone.localdate()
    due = Quote.objects.filter(status=Quote.Status.SENT, valid_until__lt=today)
    return due.update(
        status=Quote.Status.EXPIRED, version=F("version") + 1, updated_at=timezone.now()
    )
