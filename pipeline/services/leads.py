"""Leads: entry with a duplicate check, status changes, conversion and web sign-ups.

Conversion is the one workflow that touches four tables: it creates (or
reuses) the client, creates the contact and the first deal, and links all
three on the lead — in one transaction, with the lead's row locked, so that a
failure halfway leaves nothing behind and a second click (or a retried API
call) returns the same records instead of making new ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role, User
from accounts.visibility import access_for, get_for_user
from clients.models import Client, ClientSource, ClientStatus, Contact
from pipeline.models import Activity, ActivityType, Deal, Lead, LeadSource, LeadStatus
from pipeline.services.activities import client_refresh_last_visit
from pipeline.services.deals import assignable_owners, deal_insert, first_stage
from salesorg.lib.concurrency import StaleWrite
from salesorg.lib.normalize import normalize_email, normalize_name, normalize_phone

#: Fields a person edits on a lead form (status and conversion have their own workflows).
LEAD_EDITABLE = (
    "name",
    "company",
    "title",
    "phone",
    "email",
    "wechat_id",
    "source",
    "campaign",
    "event",
    "owner",
    "notes",
)
#: Status a person sets directly; "disqualified" needs a reason, "converted" a conversion.
MANUAL_STATUSES = (LeadStatus.NEW, LeadStatus.CONTACTED, LeadStatus.QUALIFIED)
#: A shorter phone number matches too much to call it a duplicate.
_MIN_PHONE_DIGITS = 6


# ------------------------------------------------------------------- duplicates
@dataclass(frozen=True)
class Duplicates:
    """Clients and leads that look like the one being entered, among those the user sees."""

    clients: list[Client] = field(default_factory=list)
    leads: list[Lead] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.clients or self.leads)


def lead_duplicates(
    *,
    user: User,
    company: str = "",
    phone: str = "",
    email: str = "",
    exclude_lead: int | None = None,
    limit: int = 10,
) -> Duplicates:
    """Look for the same company, phone or e-mail among visible clients, contacts and leads.

    Matching uses the stored normalised forms ("上海华为有限公司" = "上海华为",
    "+86 138-0000-0000" = "13800000000"), so each check is an index lookup.
    Records the user may not see are never shown, not even as a count.
    """
    name_n = normalize_name(company)
    phone_n = normalize_phone(phone)
    phone_n = phone_n if len(phone_n) >= _MIN_PHONE_DIGITS else ""
    email_n = normalize_email(email)

    client_q, contact_q, lead_q = Q(), Q(), Q()
    if name_n:
        client_q |= Q(name_normalized=name_n)
        lead_q |= Q(company_normalized=name_n)
    if phone_n:
        client_q |= Q(phone_normalized=phone_n)
        contact_q |= Q(phone_normalized=phone_n)
        lead_q |= Q(phone_normalized=phone_n)
    if email_n:
        client_q |= Q(email=email_n)
        contact_q |= Q(email=email_n)
        lead_q |= Q(email=email_n)
    if not lead_q:
        return Duplicates()
    if contact_q:
        client_q |= Q(pk__in=Contact.objects.filter(contact_q).values("client_id"))
    clients = list(
        Client.objects.visible_to(user)
        .filter(client_q)
        .select_related("owner")
        .order_by("name", "pk")[:limit]
    )
    leads = Lead.objects.visible_to(user).filter(lead_q).select_related("owner")
    if exclude_lead is not None:
        leads = leads.exclude(pk=exclude_lead)
    return Duplicates(clients=clients, leads=list(leads.order_by("-created_at", "pk")[:limit]))


# ------------------------------------------------------------------- create/edit
def _check_lead_owner(by: User, owner: User) -> None:
    if owner.pk != by.pk and not assignable_owners(by).filter(pk=owner.pk).exists():
        raise ValidationError({"owner": _("Choose an active person in your part of the team.")})


def _save(lead: Lead, by: User | None) -> None:
    if by is not None:
        lead._history_user = by  # type: ignore[attr-defined]
    if lead._state.adding:
        lead.save()
    else:
        lead.save_versioned(expected_version=lead.version)


@transaction.atomic
def lead_create(
    *, by: User, owner: User | None = None, status: str = LeadStatus.NEW, **fields: Any
) -> Lead:
    """Enter a lead; the duplicate check is the page's job, before it calls this."""
    if not by.has_perm("pipeline.add_lead"):
        raise PermissionDenied
    unknown = set(fields) - set(LEAD_EDITABLE)
    if unknown:
        raise ValidationError(
            _("These fields cannot be set here: %(fields)s")
            % {"fields": ", ".join(sorted(unknown))}
        )
    if status not in MANUAL_STATUSES:
        raise ValidationError({"status": _("A new lead is new, contacted or qualified.")})
    owner = owner or by
    _check_lead_owner(by, owner)
    lead = Lead(owner=owner, status=status, **fields)
    lead.full_clean()
    _save(lead, by)
    return lead


def _locked(by: User, lead: Lead, expected_version: int | None) -> Lead:
    # No joins in a locking query (see ``deals._locked``).
    access = get_for_user(by, Lead.objects.all(), for_change=True, pk=lead.pk)
    if not (by.has_perm("pipeline.change_lead") and access.can_change):
        raise PermissionDenied
    locked = access.obj
    if expected_version is not None and locked.version != expected_version:
        raise StaleWrite(locked)
    return locked


@transaction.atomic
def lead_update(*, by: User, lead: Lead, expected_version: int | None, **changes: Any) -> Lead:
    """Edit a lead's details; a converted lead is kept as it was converted."""
    unknown = set(changes) - set(LEAD_EDITABLE) - {"status"}
    if unknown:
        raise ValidationError(
            _("These fields cannot be changed here: %(fields)s")
            % {"fields": ", ".join(sorted(unknown))}
        )
    locked = _locked(by, lead, expected_version)
    if locked.status == LeadStatus.CONVERTED:
        raise ValidationError(
            _("A converted lead is kept as it was; edit its client, contact or deal instead.")
        )
    if "owner" in changes and changes["owner"].pk != locked.owner_id:
        _check_lead_owner(by, changes["owner"])
    status = changes.pop("status", None)
    if status is not None and status != locked.status:
        if status not in MANUAL_STATUSES:
            raise ValidationError(
                {"status": _("Disqualify or convert a lead with its own action.")}
            )
        locked.status = status
        locked.disqualified_reason = ""
    for name, value in changes.items():
        setattr(locked, name, value)
    locked.full_clean()
    _save(locked, by)
    return locked


@transaction.atomic
def lead_set_status(
    *, by: User, lead: Lead, status: str, reason: str = "", expected_version: int | None
) -> Lead:
    """Contacted, qualified, back to new, or disqualified (which needs a reason)."""
    locked = _locked(by, lead, expected_version)
    if locked.status == LeadStatus.CONVERTED:
        raise ValidationError(_("This lead is converted; its status no longer changes."))
    if status == LeadStatus.DISQUALIFIED:
        reason = (reason or "").strip()
        if not reason:
            raise ValidationError({"reason": _("Say why the lead is disqualified.")})
        locked.disqualified_reason = reason
    elif status in MANUAL_STATUSES:
        locked.disqualified_reason = ""
    else:
        raise ValidationError({"status": _("Convert a lead with the conversion.")})
    locked.status = status
    locked.full_clean()
    _save(locked, by)
    return locked


def lead_disqualify(*, by: User, lead: Lead, reason: str, expected_version: int | None) -> Lead:
    return lead_set_status(
        by=by,
        lead=lead,
        status=LeadStatus.DISQUALIFIED,
        reason=reason,
        expected_version=expected_version,
    )


@transaction.atomic
def lead_delete(*, by: User, lead: Lead) -> None:
    """Delete a lead entered by mistake; one with a history is disqualified instead.

    A converted lead is where its client came from, and a lead's calls and
    visits would be deleted with it, so both are refused.
    """
    access = get_for_user(by, Lead.objects.all(), for_change=True, pk=lead.pk)
    if not (by.has_perm("pipeline.delete_lead") and access.can_delete):
        raise PermissionDenied
    locked = access.obj
    if locked.status == LeadStatus.CONVERTED or locked.activities.exists():
        raise ValidationError(
            _("This lead has a history (activities or a conversion); disqualify it instead.")
        )
    locked._history_user = by  # type: ignore[attr-defined]
    locked.delete()


# -------------------------------------------------------------------- conversion
_CLIENT_SOURCE = {
    LeadSource.SALES_VISIT: ClientSource.SALES_VISIT,
    LeadSource.WEBSITE: ClientSource.WEBSITE,
    LeadSource.TRADE_SHOW: ClientSource.TRADE_SHOW,
    LeadSource.REFERRAL: ClientSource.REFERRAL,
}


@dataclass(frozen=True)
class Conversion:
    lead: Lead
    client: Client | None
    contact: Contact | None
    deal: Deal | None
    #: False when the lead was converted already and nothing new was made
    created: bool


def default_deal_title(lead: Lead) -> str:
    return _("%(company)s — first deal") % {"company": lead.company or lead.name}


@transaction.atomic
def lead_convert(
    *,
    lead: Lead,
    by: User,
    client: Client | None = None,
    client_name: str = "",
    deal_title: str = "",
    amount: Decimal = Decimal("0"),
    currency: str = settings.DEFAULT_CURRENCY,
    expected_close_date: date | None = None,
) -> Conversion:
    """Turn a lead into a client (or use ``client``), a contact and a deal, all at once.

    ``client`` is an existing client the actor sees (the duplicate the page
    found); otherwise a new prospect client is made, owned like the lead. The
    contact is the lead's person; the deal starts in the first stage and
    belongs to the lead's owner. Everything happens in this one transaction:
    if any part is invalid nothing is kept. Converting a converted lead returns
    its records and creates nothing.
    """
    locked = _locked(by, lead, None)
    if locked.status == LeadStatus.CONVERTED:
        done = Lead.objects.select_related(
            "converted_client", "converted_contact", "converted_deal"
        ).get(pk=locked.pk)
        return Conversion(
            lead=done,
            client=done.converted_client,
            contact=done.converted_contact,
            deal=done.converted_deal,
            created=False,
        )
    if not by.has_perm("pipeline.add_deal"):
        raise PermissionDenied
    if locked.status == LeadStatus.DISQUALIFIED:
        raise ValidationError(
            _("A disqualified lead is not converted; set it back to qualified first.")
        )
    now = timezone.now()

    if client is not None:
        if not Client.objects.visible_to(by).filter(pk=client.pk).exists():
            raise ValidationError({"client": _("Choose a client you can see.")})
    else:
        if not by.has_perm("clients.add_client"):
            raise PermissionDenied
        client = Client(
            name=(client_name or locked.company or locked.name).strip(),
            owner=locked.owner,
            source=_CLIENT_SOURCE.get(LeadSource(locked.source), ClientSource.OTHER),
            status=ClientStatus.PROSPECT,
            created_by=by,
            notes=_("Converted from lead “%(lead)s”.") % {"lead": locked},
        )
        client.full_clean()
        client._history_user = by  # type: ignore[attr-defined]
        client.save()

    contact = Contact(
        client=client,
        name=locked.name,
        title=locked.title,
        phone=locked.phone,
        email=locked.email,
        wechat_id=locked.wechat_id,
        is_primary=not client.contacts.filter(is_primary=True).exists(),
    )
    contact.full_clean()
    contact._history_user = by  # type: ignore[attr-defined]
    contact.save()

    deal = deal_insert(
        by=by,
        client=client,
        owner=locked.owner,
        title=deal_title or default_deal_title(locked),
        amount=amount,
        currency=currency,
        stage=first_stage(),
        expected_close_date=expected_close_date,
    )

    # The lead's calls and visits become part of the client's history too; a
    # done visit among them is the client's last visit when it is the newest.
    moved = Activity.objects.filter(lead=locked, client__isnull=True)
    visited = moved.filter(type=ActivityType.VISIT, status=Activity.Status.DONE).exists()
    moved.update(client=client)
    if visited:
        client_refresh_last_visit(client_id=client.pk)

    locked.status = LeadStatus.CONVERTED
    locked.disqualified_reason = ""
    locked.converted_client = client
    locked.converted_contact = contact
    locked.converted_deal = deal
    locked.converted_at = now
    locked.converted_by = by
    _save(locked, by)
    return Conversion(lead=locked, client=client, contact=contact, deal=deal, created=True)


# --------------------------------------------------------------------- web form
def web_lead_owner() -> User:
    """Who gets a lead from the public web form.

    ``SALESORG_WEB_LEAD_OWNER`` (a username) when it names an active user;
    otherwise round-robin among active reps: the rep whose last website lead
    is the oldest (or who has none) gets the next one, which needs no state
    beyond the leads themselves and works across several web servers. With
    no active rep at all, the director.
    """
    username = settings.SALESORG_WEB_LEAD_OWNER
    if username:
        owner = User.objects.filter(username=username, is_active=True).first()
        if owner is not None:
            return owner
    rep = (
        User.objects.filter(role=Role.REP, is_active=True)
        .annotate(
            last_web_lead=Max("leads__created_at", filter=Q(leads__source=LeadSource.WEBSITE))
        )
        .order_by(F("last_web_lead").asc(nulls_first=True), "pk")
        .first()
    )
    if rep is not None:
        return rep
    fallback = (
        User.objects.filter(is_active=True)
        .filter(Q(role=Role.DIRECTOR) | Q(is_superuser=True))
        .order_by("pk")
        .first()
    )
    if fallback is None:
        raise ValidationError(_("Nobody can take this sign-up right now."))
    return fallback


@transaction.atomic
def lead_signup(
    *,
    name: str,
    company: str = "",
    phone: str = "",
    email: str = "",
    message: str = "",
    campaign: str = "",
) -> Lead:
    """A website sign-up becomes a new lead with source "website sign-up"."""
    from accounts.notifications import notify

    if not (phone or email):
        raise ValidationError(_("Leave a phone number or an e-mail address so we can reach you."))
    owner = web_lead_owner()
    lead = Lead(
        name=name,
        company=company,
        phone=phone,
        email=email,
        notes=message,
        campaign=campaign,
        source=LeadSource.WEBSITE,
        status=LeadStatus.NEW,
        owner=owner,
    )
    lead.full_clean()
    lead.save()
    notify(
        recipients=[owner],
        kind="web_lead",
        subject=_("New website sign-up: %(lead)s") % {"lead": lead},
        message=_("%(lead)s signed up on the website and is now your lead.") % {"lead": lead},
        url=lead.get_absolute_url(),
    )
    return lead


def lead_can_convert(user: User, lead: Lead) -> bool:
    return (
        lead.status not in (LeadStatus.CONVERTED, LeadStatus.DISQUALIFIED)
        and user.has_perm("pipeline.add_deal")
        and user.has_perm("pipeline.change_lead")
        and access_for(user, lead).can_change
    )
