"""Clients (companies) and their contacts: the records everything else hangs off."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from guardian.models import UserObjectPermissionBase
from simple_history.models import HistoricalRecords

from accounts.visibility import FollowsParent, OwnedBy, VisibleQuerySet
from clients.validators import validate_phone, validate_registration_number
from salesorg.lib.concurrency import VersionedModel
from salesorg.lib.normalize import normalize_email, normalize_name, normalize_phone


class ClientStatus(models.TextChoices):
    PROSPECT = "prospect", _("Prospect")
    ACTIVE = "active", pgettext_lazy("client status", "Active")
    DORMANT = "dormant", _("Dormant")
    LOST = "lost", pgettext_lazy("client status", "Lost")


class ClientSource(models.TextChoices):
    SALES_VISIT = "sales_visit", _("Sales visit")
    WEBSITE = "website", _("Website sign-up")
    TRADE_SHOW = "trade_show", _("Trade show")
    REFERRAL = "referral", _("Referral")
    OTHER = "other", pgettext_lazy("source", "Other")


class Segment(models.TextChoices):
    ENTERPRISE = "enterprise", _("Enterprise")
    MID_MARKET = "mid_market", _("Mid-market")
    SMALL_BUSINESS = "small_business", _("Small business")
    PUBLIC_SECTOR = "public_sector", _("Public sector")


class Cadence(models.TextChoices):
    WEEKLY = "weekly", _("Weekly")
    BIWEEKLY = "biweekly", _("Every two weeks")
    MONTHLY = "monthly", _("Monthly")
    QUARTERLY = "quarterly", _("Quarterly")
    ON_DEMAND = "on_demand", _("On demand")


#: Days between visits for each cadence; on-demand clients are never "due".
CADENCE_DAYS: dict[str, int | None] = {
    Cadence.WEEKLY: 7,
    Cadence.BIWEEKLY: 14,
    Cadence.MONTHLY: 30,
    Cadence.QUARTERLY: 91,
    Cadence.ON_DEMAND: None,
}


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=50, unique=True)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ClientQuerySet(VisibleQuerySet["Client"]):
    def key_accounts(self) -> ClientQuerySet:
        return self.filter(is_key_account=True)

    def without_account_manager(self) -> ClientQuerySet:
        return self.filter(account_manager__isnull=True)

    def visit_overdue(self, today: date) -> ClientQuerySet:
        return self.filter(next_visit_due__lt=today)

    def visit_due_by(self, day: date) -> ClientQuerySet:
        return self.filter(next_visit_due__lte=day)


class Client(VersionedModel):
    """A company the department sells to.

    A client is its owner's (usually the rep who found it) and its dedicated
    account manager's. Spend, key-account flag, next visit and RFM scores are
    derived and stored so lists can filter and sort on them at scale.
    """

    name = models.CharField(_("name"), max_length=200)
    name_normalized = models.CharField(max_length=200, editable=False, db_index=True)
    registration_number = models.CharField(
        _("registration number"),
        max_length=18,
        blank=True,
        validators=[validate_registration_number],
        help_text=_("Unified social credit code (统一社会信用代码), 18 characters."),
    )
    external_id = models.CharField(
        _("external id"), max_length=64, blank=True, help_text=_("Id in another system (ERP).")
    )
    industry = models.CharField(_("industry"), max_length=80, blank=True, db_index=True)
    segment = models.CharField(_("segment"), max_length=20, choices=Segment.choices, blank=True)
    region = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("sales region"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        limit_choices_to={"kind": "region"},
    )
    address = models.CharField(_("address"), max_length=255, blank=True)
    city = models.CharField(_("city"), max_length=80, blank=True)
    province = models.CharField(_("province"), max_length=80, blank=True)
    website = models.URLField(_("website"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True, validators=[validate_phone])
    phone_normalized = models.CharField(max_length=20, editable=False, blank=True, db_index=True)
    email = models.EmailField(_("e-mail"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=ClientStatus.choices, default=ClientStatus.PROSPECT
    )
    source = models.CharField(
        _("source"), max_length=20, choices=ClientSource.choices, default=ClientSource.OTHER
    )
    referred_by = models.ForeignKey(
        "self",
        verbose_name=_("referred by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="referrals",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="owned_clients",
    )
    account_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account manager"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="managed_clients",
    )
    cadence = models.CharField(
        _("visit cadence"), max_length=12, choices=Cadence.choices, default=Cadence.MONTHLY
    )
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="clients")
    notes = models.TextField(_("notes"), blank=True)

    # Derived, stored for speed (refreshed by pipeline services and nightly jobs).
    spend_12m = models.DecimalField(
        _("spend, last 12 months"), max_digits=14, decimal_places=2, default=Decimal("0")
    )
    is_key_account = models.BooleanField(_("key account"), default=False)
    last_visit_at = models.DateTimeField(_("last visit"), null=True, blank=True)
    next_visit_due = models.DateField(_("next visit due"), null=True, blank=True)
    rfm_recency = models.PositiveSmallIntegerField(
        _("RFM recency"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    rfm_frequency = models.PositiveSmallIntegerField(
        _("RFM frequency"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    rfm_monetary = models.PositiveSmallIntegerField(
        _("RFM monetary"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    rfm_segment = models.CharField(_("RFM segment"), max_length=30, blank=True)
    rfm_scored_at = models.DateTimeField(_("RFM scored at"), null=True, blank=True)

    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    visibility = OwnedBy("owner", "account_manager")
    objects = ClientQuerySet.as_manager()
    history = HistoricalRecords(
        excluded_fields=["name_normalized", "phone_normalized", "updated_at", "version"],
        m2m_fields=[tags],
    )

    #: Fields support staff may not change (ownership, tier, money); see DESIGN.md.
    PROTECTED_FIELDS = (
        "owner",
        "account_manager",
        "is_key_account",
        "spend_12m",
        "rfm_recency",
        "rfm_frequency",
        "rfm_monetary",
        "rfm_segment",
    )

    class Meta:
        verbose_name = _("client")
        verbose_name_plural = _("clients")
        ordering = ["name", "pk"]
        indexes = [
            models.Index(fields=["owner", "name"], name="client_owner_name_idx"),
            models.Index(fields=["account_manager", "name"], name="client_am_name_idx"),
            models.Index(fields=["next_visit_due"], name="client_next_visit_idx"),
            models.Index(fields=["-spend_12m"], name="client_spend_idx"),
            models.Index(fields=["-updated_at"], name="client_updated_idx"),
            models.Index(fields=["status", "name"], name="client_status_name_idx"),
            # The list's default order: the first page is an index scan, not a sort
            # of every visible client.
            models.Index(fields=["name", "id"], name="client_name_id_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["registration_number"],
                condition=~Q(registration_number=""),
                name="client_unique_registration_number",
                violation_error_message=_("Another client already has this registration number."),
            ),
            models.UniqueConstraint(
                fields=["external_id"],
                condition=~Q(external_id=""),
                name="client_unique_external_id",
                violation_error_message=_("Another client already has this external id."),
            ),
        ]
        permissions = [
            ("share_client", _("Can share a client with another user")),
            ("assign_account_manager", _("Can assign a client's dedicated account manager")),
            ("merge_client", _("Can merge duplicate clients")),
            ("import_client", _("Can import clients")),
            ("export_client", _("Can export clients")),
            ("revert_client", _("Can revert a client to an earlier version")),
            ("change_client_ownership", _("Can change a client's owner, tier and money fields")),
        ]

    def __str__(self) -> str:
        return self.name

    #: How far up a referral chain ``clean`` looks for a loop (chains are short in practice).
    REFERRAL_CHAIN_LIMIT = 50

    def clean(self) -> None:
        """Refuse a referral loop: A referred by B, B (directly or not) referred by A."""
        super().clean()
        if not self.referred_by_id:
            return
        if self.pk and self.referred_by_id == self.pk:
            raise ValidationError({"referred_by": _("A client cannot refer itself.")})
        if not self.pk:
            return  # a new client cannot be anyone's referrer yet
        seen: set[int] = set()
        current: int | None = self.referred_by_id
        for _hop in range(self.REFERRAL_CHAIN_LIMIT):
            current = (
                Client._base_manager.filter(pk=current)
                .values_list("referred_by", flat=True)
                .first()
            )
            if current is None or current in seen:
                return
            if current == self.pk:
                raise ValidationError(
                    {
                        "referred_by": _(
                            "This would make a referral loop: “%(referrer)s” was itself "
                            "referred, directly or through others, by this client."
                        )
                        % {"referrer": self.referred_by}
                    }
                )
            seen.add(current)

    def save(self, *args, **kwargs) -> None:
        self.name_normalized = normalize_name(self.name)
        self.phone_normalized = normalize_phone(self.phone)
        self.registration_number = (self.registration_number or "").strip().upper()
        self.email = normalize_email(self.email)
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("clients:detail", args=[self.pk])

    @property
    def cadence_days(self) -> int | None:
        return CADENCE_DAYS[Cadence(self.cadence)]

    def next_visit_after(self, visited_on: date) -> date | None:
        """When the next visit is due if the last one was on ``visited_on``."""
        days = self.cadence_days
        return visited_on + timedelta(days=days) if days else None

    @property
    def rfm_score(self) -> str:
        if self.rfm_recency is None:
            return ""
        return f"{self.rfm_recency}{self.rfm_frequency}{self.rfm_monetary}"

    @staticmethod
    def key_account_threshold() -> Decimal:
        return Decimal(settings.SALESORG_KEY_ACCOUNT_THRESHOLD)


class ClientUserObjectPermission(UserObjectPermissionBase):
    """Explicit per-client grants (view or change), e.g. a client shared with a rep."""

    content_object = models.ForeignKey(Client, on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        verbose_name = _("client grant")
        verbose_name_plural = _("client grants")


class DecisionRole(models.TextChoices):
    DECISION_MAKER = "decision_maker", _("Decision maker")
    INFLUENCER = "influencer", _("Influencer")
    USER = "user", _("User")
    GATEKEEPER = "gatekeeper", _("Gatekeeper")


class Contact(VersionedModel):
    """A person at a client."""

    client = models.ForeignKey(
        Client, verbose_name=_("client"), on_delete=models.CASCADE, related_name="contacts"
    )
    name = models.CharField(_("name"), max_length=120)
    title = models.CharField(_("title"), max_length=120, blank=True)
    department = models.CharField(_("department"), max_length=120, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True, validators=[validate_phone])
    phone_normalized = models.CharField(max_length=20, editable=False, blank=True, db_index=True)
    email = models.EmailField(_("e-mail"), blank=True, db_index=True)
    wechat_id = models.CharField(_("WeChat ID"), max_length=64, blank=True)
    decision_role = models.CharField(
        _("decision role"), max_length=20, choices=DecisionRole.choices, blank=True
    )
    is_primary = models.BooleanField(_("primary contact"), default=False)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    visibility = FollowsParent("client")
    objects = VisibleQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["phone_normalized", "updated_at", "version"])

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["-is_primary", "name", "pk"]
        indexes = [models.Index(fields=["client", "name"], name="contact_client_name_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["client"],
                condition=Q(is_primary=True),
                name="contact_one_primary_per_client",
                violation_error_message=_("This client already has a primary contact."),
            )
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        self.phone_normalized = normalize_phone(self.phone)
        self.email = normalize_email(self.email)
        super().save(*args, **kwargs)


class SavedFilter(models.Model):
    """A user's named set of list filters (a query string), per list page."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_filters"
    )
    page = models.CharField(_("page"), max_length=40)
    name = models.CharField(_("name"), max_length=80)
    query = models.CharField(_("filters"), max_length=1000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("saved filter")
        verbose_name_plural = _("saved filters")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["user", "page", "name"], name="saved_filter_unique")
        ]

    def __str__(self) -> str:
        return self.name


class ClientImport(models.Model):
    """One upload of clients with contacts: mapping, preview, validation and outcome."""

    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("Uploaded")
        VALIDATED = "validated", _("Validated")
        COMMITTED = "committed", _("Committed")
        FAILED = "failed", _("Failed")

    class Mode(models.TextChoices):
        ALL_OR_NOTHING = "all", _("All rows or nothing")
        VALID_ONLY = "valid", _("Only the valid rows")

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="client_imports"
    )
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True)
    file = models.FileField(_("file"), upload_to="imports/%Y/%m/")
    original_name = models.CharField(_("file name"), max_length=255)
    encoding = models.CharField(_("encoding"), max_length=20, blank=True)
    column_mapping = models.JSONField(_("column mapping"), default=dict, blank=True)
    mode = models.CharField(
        _("mode"), max_length=5, choices=Mode.choices, default=Mode.ALL_OR_NOTHING
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.UPLOADED
    )
    row_count = models.PositiveIntegerField(_("rows"), default=0)
    created_count = models.PositiveIntegerField(_("created"), default=0)
    updated_count = models.PositiveIntegerField(_("updated"), default=0)
    error_count = models.PositiveIntegerField(_("rows with errors"), default=0)
    errors = models.JSONField(_("errors"), default=list, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("client import")
        verbose_name_plural = _("client imports")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.original_name
