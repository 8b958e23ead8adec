"""Clients (companies) and their contacts: the records everything else hangs off."""

from __future__ import annotations

from datetime import date, datetime, timedelta
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

from accounts.visibility import FollowsParent, OwnedBy, Relation, Rule, VisibleQuerySet
from clients.rfm import RFM_SEGMENT_LABELS as RFM_SEGMENT_LABELS
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

    @property
    def rfm_segment_label(self) -> str:
        """The segment in the interface language (an unknown one as stored)."""
        return str(RFM_SEGMENT_LABELS.get(self.rfm_segment, self.rfm_segment))

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


# ------------------------------------------------------------------ complaints
class ComplaintChannel(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("E-mail")
    VISIT = "visit", _("Visit")
    WEB = "web", _("Web")
    OTHER = "other", _("Other")


class ComplaintCategory(models.TextChoices):
    PRODUCT = "product", _("Product quality")
    DELIVERY = "delivery", _("Delivery and implementation")
    SERVICE = "service", _("Service and support")
    BILLING = "billing", _("Billing and contract")
    STAFF = "staff", _("Staff conduct")
    OTHER = "other", _("Other")


class Severity(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")


class ComplaintStatus(models.TextChoices):
    OPEN = "open", _("Open")
    RESPONDED = "responded", _("Responded")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


def overdue_q(now: datetime) -> Q:
    """The one "overdue" rule: no first response, still open (or responded) and
    past the SLA deadline.

    ``status`` and ``sla_due_at`` are NOT NULL and ``first_response_at`` is only
    tested for NULL, so the condition is never unknown: it means the same in a
    filter, an exclude and a boolean annotation.
    """
    return Q(
        first_response_at__isnull=True,
        status__in=[ComplaintStatus.OPEN, ComplaintStatus.RESPONDED],
        sla_due_at__lt=now,
    )


class ComplaintQuerySet(VisibleQuerySet["Complaint"]):
    def unanswered(self) -> ComplaintQuerySet:
        return self.filter(first_response_at__isnull=True).exclude(
            status__in=[ComplaintStatus.RESOLVED, ComplaintStatus.CLOSED]
        )

    def overdue(self, now: datetime) -> ComplaintQuerySet:
        """No first response and past the SLA deadline (``overdue_q``)."""
        return self.filter(overdue_q(now))


class Complaint(VersionedModel):
    """A client's complaint, with a first-response SLA and an escalation path.

    The owner is the client's account manager (else its owner). Without a
    first response by ``sla_due_at`` it escalates to the owner's manager, then
    to the director; each step is a ``ComplaintEscalation`` row.
    """

    client = models.ForeignKey(
        Client, verbose_name=_("client"), on_delete=models.CASCADE, related_name="complaints"
    )
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="complaints",
    )
    channel = models.CharField(
        _("channel"),
        max_length=10,
        choices=ComplaintChannel.choices,
        default=ComplaintChannel.PHONE,
    )
    category = models.CharField(
        _("category"),
        max_length=10,
        choices=ComplaintCategory.choices,
        default=ComplaintCategory.SERVICE,
    )
    severity = models.CharField(
        _("severity"), max_length=10, choices=Severity.choices, default=Severity.MEDIUM
    )
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="complaints",
    )
    logged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("logged by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    received_at = models.DateTimeField(_("received"))
    sla_due_at = models.DateTimeField(_("first response due"))
    first_response_at = models.DateTimeField(_("first response"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    resolution = models.TextField(_("resolution"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=ComplaintStatus.choices, default=ComplaintStatus.OPEN
    )
    escalation_level = models.PositiveSmallIntegerField(
        _("escalation level"),
        default=0,
        help_text=_("0: with the owner; 1: escalated to their manager; 2: to the director."),
    )
    reopened_count = models.PositiveSmallIntegerField(_("times reopened"), default=0)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    visibility = OwnedBy("owner", "client__account_manager")
    objects = ComplaintQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["updated_at", "version"])

    class Meta:
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")
        ordering = ["-received_at", "pk"]
        indexes = [
            models.Index(fields=["status", "sla_due_at"], name="complaint_status_sla_idx"),
            models.Index(fields=["owner", "status"], name="complaint_owner_status_idx"),
            models.Index(fields=["client", "-received_at"], name="complaint_client_idx"),
            models.Index(fields=["received_at"], name="complaint_received_idx"),
        ]
        permissions = [("reassign_complaint", _("Can give a complaint to another owner"))]

    def __str__(self) -> str:
        return self.subject

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("clients:complaint-detail", args=[self.pk])

    @property
    def answered_within_sla(self) -> bool | None:
        if self.first_response_at is None:
            return None
        return self.first_response_at <= self.sla_due_at


class ComplaintEntry(models.Model):
    """One line of a complaint's conversation and response log."""

    class Kind(models.TextChoices):
        NOTE = "note", _("Internal note")
        RESPONSE = "response", _("Response to the client")
        STATUS = "status", _("Status change")
        ESCALATION = "escalation", _("Escalation")

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="entries")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.NOTE)
    text = models.TextField(_("text"))
    at = models.DateTimeField(_("at"))

    visibility = FollowsParent("complaint")
    objects = VisibleQuerySet.as_manager()

    class Meta:
        verbose_name = _("complaint entry")
        verbose_name_plural = _("complaint entries")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return self.text[:60]


class ComplaintEscalation(models.Model):
    """One escalation step; unique per level, so a re-run of the SLA job escalates once."""

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="escalations")
    level = models.PositiveSmallIntegerField(_("level"))
    escalated_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("escalated to"),
        on_delete=models.PROTECT,
        related_name="escalated_complaints",
    )
    at = models.DateTimeField(_("at"))
    reason = models.CharField(_("reason"), max_length=255)

    visibility = FollowsParent("complaint")
    objects = VisibleQuerySet.as_manager()

    class Meta:
        verbose_name = _("escalation")
        verbose_name_plural = _("escalations")
        ordering = ["level"]
        constraints = [
            models.UniqueConstraint(fields=["complaint", "level"], name="escalation_once_per_level")
        ]

    def __str__(self) -> str:
        return f"{self.complaint_id} → L{self.level}"


# --------------------------------------------------------------------- surveys
class SurveyKind(models.TextChoices):
    QUARTERLY = "quarterly", _("Quarterly satisfaction")
    POST_PROJECT = "post_project", _("Post-project evaluation")
    POST_COMPLAINT = "post_complaint", _("Post-complaint follow-up")
    NPS = "nps", _("Net promoter score")
    CUSTOM = "custom", _("Custom")


class SurveyTemplate(models.Model):
    code = models.SlugField(_("code"), max_length=40, unique=True)
    kind = models.CharField(
        _("kind"), max_length=15, choices=SurveyKind.choices, default=SurveyKind.CUSTOM
    )
    name = models.CharField(_("name"), max_length=120)
    name_zh = models.CharField(_("name (Chinese)"), max_length=120, blank=True)
    intro = models.TextField(_("introduction"), blank=True)
    intro_zh = models.TextField(_("introduction (Chinese)"), blank=True)
    is_builtin = models.BooleanField(_("built in"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("survey template")
        verbose_name_plural = _("survey templates")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SurveyQuestion(models.Model):
    class Kind(models.TextChoices):
        NPS = "nps", _("0–10 likelihood to recommend (NPS)")
        RATING = "rating", _("1–5 rating")
        CHOICE = "choice", _("Single choice")
        TEXT = "text", _("Free text")

    template = models.ForeignKey(SurveyTemplate, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    text = models.CharField(_("question"), max_length=300)
    text_zh = models.CharField(_("question (Chinese)"), max_length=300, blank=True)
    #: for single choice: [{"value": "...", "label": "...", "label_zh": "..."}]
    choices = models.JSONField(_("choices"), default=list, blank=True)
    required = models.BooleanField(_("required"), default=True)

    class Meta:
        verbose_name = _("survey question")
        verbose_name_plural = _("survey questions")
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.text


class CampaignVisibility(Rule):
    """Who sees a survey campaign: the director; the line (and, for support staff,
    the region) of whoever created it; and anyone who sees a client invited in it.

    A campaign is company-wide data with many clients' invitations, so seeing it
    through one of them is read-only (counts and lists on its page are still
    limited to the invitations of clients the reader sees); changing it (send,
    close) is for its creator's line.
    """

    def filter(self, qs: models.QuerySet, user) -> models.QuerySet:  # type: ignore[override]
        scope = user.visibility_scope
        if scope.everything:
            return qs
        invited = SurveyInvitation.objects.filter(
            campaign=models.OuterRef("pk"), client__in=Client.objects.visible_to(user)
        )
        return qs.filter(Q(created_by__in=sorted(scope.user_ids)) | Q(models.Exists(invited)))

    def relation(self, obj: models.Model, user) -> tuple[Relation, set[str]]:  # type: ignore[override]
        scope = user.visibility_scope
        if scope.everything:
            return Relation.COMPANY, set()
        creator = getattr(obj, "created_by_id", None)
        if creator in scope.line_ids:
            return Relation.LINE, set()
        if creator in scope.region_ids:
            return Relation.REGION, set()
        if SurveyInvitation.objects.filter(
            campaign=obj, client__in=Client.objects.visible_to(user)
        ).exists():
            return Relation.GRANT, set()  # seen through an invited client: read-only
        return Relation.NONE, set()


class SurveyCampaign(models.Model):
    """One sending of a survey to a set of contacts.

    ``key`` makes automatic campaigns idempotent: "quarterly:2026-Q4",
    "project:42", "complaint:7" can each exist once, so a job that runs twice
    creates (and sends) nothing twice.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        CLOSED = "closed", _("Closed")

    template = models.ForeignKey(
        SurveyTemplate, verbose_name=_("survey"), on_delete=models.PROTECT, related_name="campaigns"
    )
    name = models.CharField(_("name"), max_length=200)
    key = models.CharField(_("key"), max_length=80, unique=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    remind_after_days = models.PositiveSmallIntegerField(_("remind after (days)"), default=7)
    expires_after_days = models.PositiveSmallIntegerField(
        _("links expire after (days)"), default=30
    )
    project = models.ForeignKey(
        "pipeline.Project",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="survey_campaigns",
    )
    complaint = models.ForeignKey(
        Complaint, null=True, blank=True, on_delete=models.SET_NULL, related_name="survey_campaigns"
    )

    visibility = CampaignVisibility()
    objects = VisibleQuerySet.as_manager()

    class Meta:
        verbose_name = _("survey campaign")
        verbose_name_plural = _("survey campaigns")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name


class SurveyInvitation(models.Model):
    """One contact's link to answer one campaign (unique: at most once per campaign)."""

    campaign = models.ForeignKey(
        SurveyCampaign, on_delete=models.CASCADE, related_name="invitations"
    )
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="survey_invitations")
    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="survey_invitations"
    )
    token = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("reminded"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"))

    visibility = FollowsParent("client")
    objects = VisibleQuerySet.as_manager()

    class Meta:
        verbose_name = _("survey invitation")
        verbose_name_plural = _("survey invitations")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "contact"], name="invitation_once_per_campaign"
            )
        ]
        indexes = [
            models.Index(
                fields=["sent_at", "answered_at", "reminded_at"], name="invitation_reminder_idx"
            ),
            # the links still open (unanswered, not yet expired): the support
            # dashboard's campaigns "collecting answers"
            models.Index(
                fields=["expires_at"],
                name="invitation_open_idx",
                condition=models.Q(answered_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign} → {self.contact}"


class SurveyResponse(models.Model):
    """A submitted answer set; NPS and CSAT are stored for fast reporting."""

    invitation = models.OneToOneField(
        SurveyInvitation, on_delete=models.CASCADE, related_name="response"
    )
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="survey_responses")
    contact = models.ForeignKey(
        Contact, null=True, on_delete=models.SET_NULL, related_name="survey_responses"
    )
    submitted_at = models.DateTimeField(_("submitted"), db_index=True)
    language = models.CharField(max_length=10, blank=True)
    nps_score = models.PositiveSmallIntegerField(
        _("NPS score"), null=True, blank=True, validators=[MaxValueValidator(10)]
    )
    csat_score = models.DecimalField(
        _("CSAT score"), max_digits=3, decimal_places=2, null=True, blank=True
    )

    visibility = FollowsParent("client")
    objects = VisibleQuerySet.as_manager()

    class Meta:
        verbose_name = _("survey response")
        verbose_name_plural = _("survey responses")
        ordering = ["-submitted_at"]
        indexes = [models.Index(fields=["client", "submitted_at"], name="response_client_idx")]

    def __str__(self) -> str:
        return f"{self.client} {self.submitted_at:%Y-%m-%d}"


class SurveyAnswer(models.Model):
    response = models.ForeignKey(SurveyResponse, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(SurveyQuestion, on_delete=models.PROTECT, related_name="+")
    number = models.SmallIntegerField(null=True, blank=True)
    choice = models.CharField(max_length=100, blank=True)
    text = models.TextField(blank=True)

    visibility = FollowsParent("response")
    objects = VisibleQuerySet.as_manager()

    class Meta:
        verbose_name = _("survey answer")
        verbose_name_plural = _("survey answers")
        constraints = [models.UniqueConstraint(fields=["response", "question"], name="answer_once")]

    def __str__(self) -> str:
        return f"{self.question_id}: {self.number or self.choice or self.text[:30]}"
