"""Search and filters of the client list — one definition for the page, the
export and the API, so all three return exactly the same clients.

The filter set always narrows a queryset that already went through
``visible_to(user)``; the choices it offers (owners, account managers) are the
people the user can see.
"""

from __future__ import annotations

import re
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters

from accounts.models import Role, User
from clients.models import Cadence, Client, ClientSource, ClientStatus, Contact, Segment, Tag
from salesorg.lib.normalize import normalize_name, normalize_phone

#: At most this many clients are matched through their contacts' names, phones
#: and e-mails; enough for any search a person reads through.
CONTACT_MATCH_LIMIT = 1000
MAX_TERM = 100
_PHONE_TERM = re.compile(r"[\d\s+()\-.]+")


def _phone_core(term: str) -> str:
    """The digits of a typed phone without country code or trunk zero, so that
    "021-5555-0001", "+86 21 5555 0001" and "2155550001" find the same number
    however it was stored (``phone_normalized`` keeps a landline's 86 or 0)."""
    digits = normalize_phone(term)
    if term.strip().startswith("+86") and digits.startswith("86"):
        digits = digits[2:]
    return digits.lstrip("0")


def search_clients(qs: QuerySet[Client], term: str) -> QuerySet[Client]:
    """Clients whose name (as typed or normalised), registration number, phone or
    e-mail contains ``term``, or who have a contact whose name, phone or e-mail does.

    Every branch is a ``LIKE '%…%'`` that a trigram GIN index serves on
    PostgreSQL (migration 0003). The contacts are matched first into a list of
    client ids: an ``IN (subquery)`` inside the ``OR`` would be planned as a
    hashed SubPlan and force a scan of every client.
    """
    term = (term or "").strip()[:MAX_TERM]
    if not term:
        return qs
    lowered = term.lower()
    condition = (
        Q(name__icontains=term)
        | Q(email__contains=lowered)
        | Q(registration_number__contains=term.upper())
    )
    normalized = normalize_name(term)
    if normalized:
        condition |= Q(name_normalized__contains=normalized)
    digits = _phone_core(term)
    phone_like = len(digits) >= 3 and _PHONE_TERM.fullmatch(term) is not None
    contact_condition = Q(name__icontains=term) | Q(email__contains=lowered)
    if phone_like:
        condition |= Q(phone_normalized__contains=digits)
        contact_condition |= Q(phone_normalized__contains=digits)
    contact_client_ids = list(
        Contact.objects.filter(contact_condition)
        .order_by()
        .values_list("client_id", flat=True)
        .distinct()[:CONTACT_MATCH_LIMIT]
    )
    if contact_client_ids:
        condition |= Q(pk__in=contact_client_ids)
    return qs.filter(condition)


def visible_users(request: Any) -> QuerySet[User]:
    """The choices of an ``owner`` filter: the people the caller sees."""
    if request is None:
        return User.objects.none()
    return User.objects.visible_to(request.user)


class _Deferred(SimpleLazyObject):
    """A queryset built on first use. ``visible_to`` reads the caller's shares at
    once (one query); deferred, a request that neither sends the filter nor
    renders the form does not pay for it. ``all()`` (which the form field calls
    on what it is given) keeps it deferred."""

    def all(self) -> _Deferred:
        return self


def visible_clients(request: Any) -> QuerySet[Client]:
    """The choices of a ``client`` filter: the clients the caller sees."""
    if request is None:
        return Client.objects.none()
    user = request.user
    return _Deferred(lambda: Client.objects.visible_to(user))  # type: ignore[return-value]


def _visible_account_managers(request: Any) -> QuerySet[User]:
    return visible_users(request).filter(role=Role.ACCOUNT_MANAGER)


class ClientFilter(filters.FilterSet):
    search = filters.CharFilter(
        method="filter_search",
        label=_("Search"),
        help_text=_("Name, contact name, phone, e-mail or registration number contains this."),
    )
    status = filters.ChoiceFilter(choices=ClientStatus.choices, label=_("status"))
    key_account = filters.BooleanFilter(field_name="is_key_account", label=_("key account"))
    source = filters.ChoiceFilter(choices=ClientSource.choices, label=_("source"))
    industry = filters.CharFilter(field_name="industry", lookup_expr="iexact", label=_("industry"))
    segment = filters.ChoiceFilter(choices=Segment.choices, label=_("segment"))
    cadence = filters.ChoiceFilter(choices=Cadence.choices, label=_("visit cadence"))
    owner = filters.ModelChoiceFilter(queryset=visible_users, label=_("owner"))
    account_manager = filters.ModelChoiceFilter(
        queryset=_visible_account_managers, label=_("account manager")
    )
    no_account_manager = filters.BooleanFilter(
        field_name="account_manager",
        lookup_expr="isnull",
        label=_("without an account manager"),
    )
    overdue = filters.BooleanFilter(
        method="filter_overdue",
        label=_("visit overdue"),
        help_text=_("The next visit was due before today."),
    )
    tag = filters.ModelChoiceFilter(
        field_name="tags", queryset=Tag.objects.all(), label=_("tag"), distinct=False
    )

    class Meta:
        model = Client
        fields: list[str] = []

    def filter_search(self, qs: QuerySet[Client], name: str, value: str) -> QuerySet[Client]:
        return search_clients(qs, value)

    def filter_overdue(
        self, qs: QuerySet[Client], name: str, value: bool | None
    ) -> QuerySet[Client]:
        if value is None:
            return qs
        today = timezone.localdate()
        if value:
            return qs.filter(next_visit_due__lt=today)
        return qs.filter(Q(next_visit_due__isnull=True) | Q(next_visit_due__gte=today))


def filtered(filterset: ClientFilter) -> QuerySet[Client]:
    """The filtered clients; nothing when a filter value is invalid (an unknown
    owner, a person the user cannot see) rather than silently ignoring it."""
    return filterset.qs if filterset.is_valid() else filterset.queryset.none()


#: The list's sortable columns (page ``?sort=`` and API ``?ordering=``).
SORT_COLUMNS: dict[str, str | tuple[str, ...]] = {
    "name": "name",
    "status": "status",
    "owner": ("owner__last_name", "owner__first_name", "owner__username"),
    "account_manager": ("account_manager__last_name", "account_manager__username"),
    "industry": "industry",
    "next_visit_due": "next_visit_due",
    "spend": "spend_12m",
    "updated": "updated_at",
}
