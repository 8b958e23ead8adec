"""Contracts: created from won deals, moved strictly along ``CONTRACT_TRANSITIONS``,
renewed, and measured (renewal rate, SPEC section 7).

Renewal bookkeeping (docs/decisions/0002-contract-renewals.md): "renew" makes a
new *draft* contract whose ``renews`` points at the old one, dated from the day
after the old end date. The old contract becomes *renewed* only when the new
one is **signed** — a renewal that is drafted but never signed is not a
renewal. So the renewal rate for a period is

    contracts with status "renewed" ÷ contracts that reached their end date
    in the period (status active, expired or renewed; drafts and terminated
    contracts never ran to their end)

and both counts are one SQL aggregate (``renewal_rate``, defined in
``reports.kpis.renewal_counts``).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from pipeline.models import (
    CONTRACT_TRANSITIONS,
    Contract,
    ContractFile,
    ContractStatus,
    Deal,
    Stage,
)
from pipeline.services.numbering import next_number
from reports import kpis
from reports.kpis import RenewalRate, renewal_counts
from salesorg.lib.concurrency import StaleWrite

#: Statuses in which the terms (amount, dates, payment terms) may still change.
EDITABLE_STATUSES = (ContractStatus.DRAFT, ContractStatus.LEGAL_REVIEW)
#: Statuses a contract can be renewed from.
RENEWABLE_STATUSES = (ContractStatus.SIGNED, ContractStatus.ACTIVE, ContractStatus.EXPIRED)
EDITABLE_FIELDS = ("title", "amount", "currency", "start_date", "end_date", "payment_terms")


def _require(user: User, perm: str) -> None:
    if not user.has_perm(perm):
        raise PermissionDenied


def _locked(contract: Contract, expected_version: int | None = None) -> Contract:
    fresh = (
        Contract.objects.select_for_update(of=("self",))
        .select_related("client", "renews")
        .get(pk=contract.pk)
    )
    if expected_version is not None and fresh.version != expected_version:
        raise StaleWrite(fresh)
    return fresh


def default_owner(deal: Deal) -> User:
    """The client's account manager keeps the contract; without one, the deal's owner."""
    manager = deal.client.account_manager
    return manager if manager is not None and manager.is_active else deal.owner


def _check_dates(start: date, end: date) -> None:
    if end < start:
        raise ValidationError({"end_date": _("A contract ends after it starts.")})


# ---------------------------------------------------------------------- create
@transaction.atomic
def contract_create_from_deal(
    *,
    deal: Deal,
    by: User,
    start_date: date,
    end_date: date,
    amount: Decimal | None = None,
    currency: str | None = None,
    payment_terms: str = "",
    title: str = "",
) -> Contract:
    """A draft contract for a won deal: its client, amount and currency by default."""
    _require(by, "pipeline.add_contract")
    if deal.stage.kind != Stage.Kind.WON:
        raise ValidationError(_("A contract is made from a won deal; this deal is not won yet."))
    _check_dates(start_date, end_date)
    contract = Contract(
        client=deal.client,
        deal=deal,
        owner=default_owner(deal),
        number=next_number(Contract, "C"),
        title=title or deal.title,
        amount=deal.amount if amount is None else amount,
        currency=currency or deal.currency,
        start_date=start_date,
        end_date=end_date,
        payment_terms=payment_terms,
    )
    contract.full_clean(exclude=["number"])
    contract.save()
    return contract


@transaction.atomic
def contract_update(
    *, contract: Contract, by: User, expected_version: int | None, **fields: Any
) -> Contract:
    """Change the terms while the contract is a draft or in legal review."""
    _require(by, "pipeline.change_contract")
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"Not editable contract fields: {sorted(unknown)}")
    contract = _locked(contract, expected_version)
    if contract.status not in EDITABLE_STATUSES:
        raise ValidationError(
            _("The terms of a contract that is “%(status)s” cannot change.")
            % {"status": contract.get_status_display()}
        )
    for name, value in fields.items():
        setattr(contract, name, value)
    _check_dates(contract.start_date, contract.end_date)
    contract.save_versioned(expected_version=contract.version)
    return contract


@transaction.atomic
def contract_delete(*, contract: Contract, by: User) -> None:
    _require(by, "pipeline.delete_contract")
    if contract.status != ContractStatus.DRAFT:
        raise ValidationError(_("Only a draft contract can be deleted; terminate it instead."))
    contract.delete()


# ----------------------------------------------------------------- transitions
def allowed_transitions(contract: Contract) -> tuple[str, ...]:
    """The statuses the contract may move to by hand now.

    "Renewed" is not among them: it follows from signing the renewal contract.
    """
    return tuple(s for s in CONTRACT_TRANSITIONS[contract.status] if s != ContractStatus.RENEWED)


@transaction.atomic
def contract_transition(
    *,
    contract: Contract,
    to_status: str,
    by: User,
    expected_version: int | None = None,
    signed_on: date | None = None,
) -> Contract:
    """Move a contract one step along the workflow, or refuse with a clear message.

    Signing sets ``signed_on`` (today unless given). Signing a renewal marks
    the contract it renews "renewed".
    """
    _require(by, "pipeline.change_contract")
    contract = _locked(contract, expected_version)
    if to_status not in ContractStatus.values:
        raise ValidationError(
            {"status": _("“%(status)s” is not a contract status.") % {"status": to_status}}
        )
    allowed = CONTRACT_TRANSITIONS[contract.status]
    if to_status not in allowed:
        names = ", ".join(str(ContractStatus(s).label) for s in allowed) or _("none")
        raise ValidationError(
            {
                "status": _(
                    "A contract that is “%(from)s” cannot become “%(to)s”. "
                    "Possible next steps: %(allowed)s."
                )
                % {
                    "from": contract.get_status_display(),
                    "to": ContractStatus(to_status).label,
                    "allowed": names,
                }
            }
        )
    if (
        to_status == ContractStatus.RENEWED
        and not contract.renewals.filter(signed_on__isnull=False)
        .exclude(status=ContractStatus.TERMINATED)
        .exists()
    ):
        raise ValidationError(
            {"status": _("A contract becomes “renewed” when its renewal contract is signed.")}
        )
    contract.status = to_status
    if to_status == ContractStatus.SIGNED:
        contract.signed_on = signed_on or timezone.localdate()
    contract.save_versioned(expected_version=contract.version)
    if to_status == ContractStatus.SIGNED and contract.renews_id:
        _mark_renewed(contract.renews_id)
    return contract


def _mark_renewed(old_pk: int) -> None:
    old = Contract.objects.select_for_update().get(pk=old_pk)
    if ContractStatus.RENEWED in CONTRACT_TRANSITIONS[old.status]:
        old.status = ContractStatus.RENEWED
        old.save_versioned(expected_version=old.version)


# ---------------------------------------------------------------------- renew
def open_renewal(contract: Contract) -> Contract | None:
    """A renewal already in the making (not terminated)."""
    return contract.renewals.exclude(status=ContractStatus.TERMINATED).order_by("-pk").first()


@transaction.atomic
def contract_renew(
    *,
    contract: Contract,
    by: User,
    start_date: date | None = None,
    end_date: date | None = None,
    amount: Decimal | None = None,
    payment_terms: str | None = None,
) -> Contract:
    """A new draft contract renewing ``contract``, dated on from its end date.

    By default it starts the day after the old one ends, runs as long, and
    keeps the amount and payment terms; the old contract is marked renewed
    when this one is signed.
    """
    _require(by, "pipeline.add_contract")
    old = _locked(contract)
    if old.status not in RENEWABLE_STATUSES:
        raise ValidationError(
            _("A contract that is “%(status)s” cannot be renewed.")
            % {"status": old.get_status_display()}
        )
    existing = open_renewal(old)
    if existing is not None:
        raise ValidationError(
            _("This contract already has a renewal in progress: %(number)s.")
            % {"number": existing.number}
        )
    start = start_date or old.end_date + timedelta(days=1)
    end = end_date or start + (old.end_date - old.start_date)
    _check_dates(start, end)
    manager = old.client.account_manager
    renewal = Contract(
        client=old.client,
        deal=old.deal,
        owner=manager if manager is not None and manager.is_active else old.owner,
        number=next_number(Contract, "C"),
        title=old.title,
        amount=old.amount if amount is None else amount,
        currency=old.currency,
        start_date=start,
        end_date=end,
        payment_terms=old.payment_terms if payment_terms is None else payment_terms,
        renews=old,
    )
    renewal.full_clean(exclude=["number"])
    renewal.save()
    return renewal


# ---------------------------------------------------------------------- files
def max_file_bytes() -> int:
    return settings.SALESORG_CONTRACT_FILE_MAX_MB * 1024 * 1024


@transaction.atomic
def contract_attach_file(
    *, contract: Contract, by: User, file: UploadedFile, title: str = ""
) -> ContractFile:
    """Keep a signed copy, an annex or the legal review notes with the contract."""
    _require(by, "pipeline.add_contractfile")
    if file.size is not None and file.size > max_file_bytes():
        raise ValidationError(
            {
                "file": _("The file is larger than %(mb)s MB.")
                % {"mb": settings.SALESORG_CONTRACT_FILE_MAX_MB}
            }
        )
    return ContractFile.objects.create(
        contract=contract, title=(title or file.name or "")[:200], file=file, uploaded_by=by
    )


@transaction.atomic
def contract_file_delete(*, contract_file: ContractFile, by: User) -> None:
    _require(by, "pipeline.delete_contractfile")
    contract_file.file.delete(save=False)
    contract_file.delete()


# ---------------------------------------------------------------- jobs, KPIs
@transaction.atomic
def contracts_expire_ended(*, today: date | None = None) -> int:
    """Active contracts past their end date become expired; idempotent, for scheduled jobs."""
    today = today or timezone.localdate()
    return Contract.objects.filter(status=ContractStatus.ACTIVE, end_date__lt=today).update(
        status=ContractStatus.EXPIRED, version=F("version") + 1, updated_at=timezone.now()
    )


def ending_within(qs: QuerySet[Contract], days: int, *, today: date | None = None) -> QuerySet:
    """Contracts still running that end in the next ``days`` days (the renewal list)."""
    today = today or timezone.localdate()
    return qs.filter(
        status__in=(ContractStatus.SIGNED, ContractStatus.ACTIVE),
        end_date__gte=today,
        end_date__lte=today + timedelta(days=days),
    )


def renewal_rate(qs: QuerySet[Contract], *, start: date, end: date) -> RenewalRate:
    """SPEC section 7: contracts renewed ÷ contracts that expired in [start, end].

    ``qs`` is already scoped (``Contract.objects.visible_to(user)``, or a
    person's or team's contracts); one aggregate query. The definition is
    ``reports.kpis.renewal_counts``, shared with the reports.
    """
    return renewal_counts(qs, kpis.Period.custom(start, end))
