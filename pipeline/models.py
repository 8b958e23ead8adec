"""The sales pipeline: leads, deals and their stages, activities, products and
quotes, contracts and renewals, delivery projects, targets and events.

Every number on the dashboards is derivable from what is stored here (SPEC
section 7): stage changes are kept as rows, won/lost deals carry their close
date and final amount, contracts their signature and renewal links.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Case, Exists, OuterRef, Q, Subquery, When
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from accounts.visibility import FollowsParent, OwnedBy, VisibleQuerySet
from clients.validators import validate_phone
from salesorg.lib.concurrency import VersionedModel
from salesorg.lib.normalize import normalize_email, normalize_name, normalize_phone

User = settings.AUTH_USER_MODEL
MONEY = {"max_digits": 14, "decimal_places": 2}


class Currency(models.TextChoices):
    CNY = "CNY", _("Chinese yuan (CNY)")
    USD = "USD", _("US dollar (USD)")
    EUR = "EUR", _("Euro (EUR)")
    HKD = "HKD", _("Hong Kong dollar (HKD)")
    JPY = "JPY", _("Japanese yen (JPY)")


# ---------------------------------------------------------------------- events
class Event(models.Model):
    """A trade show, forum, seminar or client event that support staff organise
    and that leads are collected at (a lead's campaign)."""

    class Kind(models.TextChoices):
        TRADE_SHOW = "trade_show", _("Trade show")
        FORUM = "forum", _("Forum")
        SEMINAR = "seminar", _("Seminar")
        WEBINAR = "webinar", _("Webinar")
        CLIENT_EVENT = "client_event", _("Client event")
        CAMPAIGN = "campaign", _("Online campaign")

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    starts_on = models.DateField(_("starts"))
    ends_on = models.DateField(_("ends"), null=True, blank=True)
    venue = models.CharField(_("venue"), max_length=200, blank=True)
    owner = models.ForeignKey(
        User, verbose_name=_("organiser"), on_delete=models.PROTECT, related_name="events"
    )
    budget = models.DecimalField(_("budget"), **MONEY, default=Decimal("0"))
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ["-starts_on", "name"]

    def __str__(self) -> str:
        return self.name


# ----------------------------------------------------------------------- leads
class LeadSource(models.TextChoices):
    SALES_VISIT = "sales_visit", _("Sales visit")
    WEBSITE = "website", _("Website sign-up")
    TRADE_SHOW = "trade_show", _("Trade show")
    REFERRAL = "referral", _("Referral")
    ONLINE_MARKETING = "online_marketing", _("Online marketing")
    COLD_CALL = "cold_call", _("Cold call")
    OTHER = "other", pgettext_lazy("source", "Other")


class LeadStatus(models.TextChoices):
    NEW = "new", _("New")
    CONTACTED = "contacted", _("Contacted")
    QUALIFIED = "qualified", _("Qualified")
    DISQUALIFIED = "disqualified", _("Disqualified")
    CONVERTED = "converted", _("Converted")


class Lead(VersionedModel):
    """A person (and usually a company) who might buy, not yet a client."""

    name = models.CharField(_("name"), max_length=120)
    company = models.CharField(_("company"), max_length=200, blank=True)
    company_normalized = models.CharField(max_length=200, editable=False, blank=True, db_index=True)
    title = models.CharField(_("title"), max_length=120, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True, validators=[validate_phone])
    phone_normalized = models.CharField(max_length=20, editable=False, blank=True, db_index=True)
    email = models.EmailField(_("e-mail"), blank=True, db_index=True)
    wechat_id = models.CharField(_("WeChat ID"), max_length=64, blank=True)
    source = models.CharField(
        _("source"), max_length=20, choices=LeadSource.choices, default=LeadSource.OTHER
    )
    campaign = models.CharField(_("campaign"), max_length=200, blank=True)
    event = models.ForeignKey(
        Event,
        verbose_name=_("event"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="leads",
    )
    owner = models.ForeignKey(
        User, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="leads"
    )
    status = models.CharField(
        _("status"), max_length=15, choices=LeadStatus.choices, default=LeadStatus.NEW
    )
    disqualified_reason = models.CharField(
        _("reason for disqualifying"), max_length=255, blank=True
    )
    notes = models.TextField(_("notes"), blank=True)
    converted_client = models.ForeignKey(
        "clients.Client",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="source_leads",
        verbose_name=_("converted to client"),
    )
    converted_contact = models.ForeignKey(
        "clients.Contact",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="source_leads",
        verbose_name=_("converted to contact"),
    )
    converted_deal = models.OneToOneField(
        "Deal",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="source_lead",
        verbose_name=_("converted to deal"),
    )
    converted_at = models.DateTimeField(_("converted"), null=True, blank=True)
    converted_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    visibility = OwnedBy("owner")
    objects = VisibleQuerySet.as_manager()
    history = HistoricalRecords(
        excluded_fields=["company_normalized", "phone_normalized", "updated_at", "version"]
    )

    class Meta:
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        ordering = ["-created_at", "pk"]
        indexes = [
            models.Index(fields=["owner", "status", "-created_at"], name="lead_owner_status_idx"),
            models.Index(fields=["source", "created_at"], name="lead_source_idx"),
            # reports-kpis: the daily facts count leads by the day they were converted.
            models.Index(
                fields=["converted_at"],
                name="lead_converted_idx",
                condition=Q(converted_at__isnull=False),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="disqualified") | ~Q(disqualified_reason=""),
                name="lead_disqualified_has_reason",
                violation_error_message=_("Say why the lead is disqualified."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.company})" if self.company else self.name

    def save(self, *args, **kwargs) -> None:
        self.company_normalized = normalize_name(self.company)
        self.phone_normalized = normalize_phone(self.phone)
        self.email = normalize_email(self.email)
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("pipeline:lead-detail", args=[self.pk])


# ---------------------------------------------------------------- products
class Product(models.Model):
    """An item of the catalogue; its value stated as feature, advantage, benefit (FAB)."""

    name = models.CharField(_("name"), max_length=200)
    code = models.CharField(_("code"), max_length=40, unique=True)
    category = models.CharField(_("category"), max_length=80, blank=True)
    unit_price = models.DecimalField(
        _("unit price"), **MONEY, validators=[MinValueValidator(Decimal("0"))]
    )
    currency = models.CharField(
        _("currency"), max_length=3, choices=Currency.choices, default=Currency.CNY
    )
    description = models.TextField(_("description"), blank=True)
    feature = models.TextField(_("feature"), blank=True)
    advantage = models.TextField(_("advantage"), blank=True)
    benefit = models.TextField(_("benefit"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class ProductMaterial(models.Model):
    class Kind(models.TextChoices):
        BROCHURE = "brochure", _("Brochure")
        SPEC_SHEET = "spec_sheet", _("Spec sheet")
        CASE_STUDY = "case_study", _("Case study")
        DEMO_DECK = "demo_deck", _("Demo deck")
        TOOLKIT = "toolkit", _("Sales toolkit")

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="materials")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    title = models.CharField(pgettext_lazy("document", "title"), max_length=200)
    file = models.FileField(_("file"), upload_to="materials/%Y/")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("material")
        verbose_name_plural = _("materials")
        ordering = ["kind", "title"]

    def __str__(self) -> str:
        return self.title


# --------------------------------------------------------------------- deals
class Stage(models.Model):
    """A pipeline stage, as data: order, default probability and whether it closes a deal."""

    class Kind(models.TextChoices):
        OPEN = "open", _("Open")
        WON = "won", _("Won")
        LOST = "lost", _("Lost")

    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=60)
    name_zh = models.CharField(_("name (Chinese)"), max_length=60, blank=True)
    order = models.PositiveSmallIntegerField(_("order"))
    probability = models.PositiveSmallIntegerField(
        _("default probability (%)"), validators=[MaxValueValidator(100)]
    )
    kind = models.CharField(_("kind"), max_length=4, choices=Kind.choices, default=Kind.OPEN)
    is_active = models.BooleanField(_("in use"), default=True)

    class Meta:
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        ordering = ["order"]

    def __str__(self) -> str:
        return self.label

    def save(self, *args: object, **kwargs: object) -> None:
        """Reordering a stage (or changing its kind) changes which later moves count as
        moving on: ``moved_on_at`` is recomputed for the deals that were ever in it."""
        before = (
            Stage.objects.filter(pk=self.pk).values_list("order", "kind").first()
            if self.pk
            else None
        )
        super().save(*args, **kwargs)  # type: ignore[arg-type]
        if before is not None and before != (self.order, self.kind):
            DealStageChange.objects.filter(
                deal__in=DealStageChange.objects.filter(to_stage=self).values("deal")
            ).refresh_moved_on()

    @property
    def label(self) -> str:
        """The stage name in the interface language."""
        if self.name_zh and (translation.get_language() or "").startswith("zh"):
            return self.name_zh
        return self.name

    @property
    def is_closed(self) -> bool:
        return self.kind != Stage.Kind.OPEN


class DealQuerySet(VisibleQuerySet["Deal"]):
    def open(self) -> DealQuerySet:
        return self.filter(stage__kind=Stage.Kind.OPEN)

    def won(self) -> DealQuerySet:
        return self.filter(stage__kind=Stage.Kind.WON)

    def lost(self) -> DealQuerySet:
        return self.filter(stage__kind=Stage.Kind.LOST)


class Deal(VersionedModel):
    """An opportunity to sell to a client; it moves through the stages."""

    client = models.ForeignKey(
        "clients.Client", verbose_name=_("client"), on_delete=models.PROTECT, related_name="deals"
    )
    owner = models.ForeignKey(
        User, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="deals"
    )
    title = models.CharField(_("title"), max_length=200)
    amount = models.DecimalField(
        _("amount"), **MONEY, default=Decimal("0"), validators=[MinValueValidator(Decimal("0"))]
    )
    currency = models.CharField(
        _("currency"), max_length=3, choices=Currency.choices, default=Currency.CNY
    )
    stage = models.ForeignKey(
        Stage, verbose_name=_("stage"), on_delete=models.PROTECT, related_name="deals"
    )
    probability = models.PositiveSmallIntegerField(
        _("probability (%)"), validators=[MaxValueValidator(100)]
    )
    expected_close_date = models.DateField(_("expected close"), null=True, blank=True)
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    products = models.ManyToManyField(
        Product, verbose_name=_("products"), blank=True, related_name="deals"
    )
    next_step = models.CharField(_("next step"), max_length=255, blank=True)
    lost_reason = models.CharField(_("reason lost"), max_length=255, blank=True)
    competitor = models.CharField(_("competitor"), max_length=120, blank=True)
    stage_changed_at = models.DateTimeField(_("in this stage since"), null=True, blank=True)
    last_activity_at = models.DateTimeField(_("last activity"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    visibility = OwnedBy("owner", "client__account_manager")
    objects = DealQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["updated_at", "version", "last_activity_at"])

    class Meta:
        verbose_name = _("deal")
        verbose_name_plural = _("deals")
        ordering = ["-updated_at", "pk"]
        indexes = [
            # Covering: a team's open pipeline and its deals' ids come from the index
            # alone (the funnel and stage conversion at 100,000 deals).
            models.Index(
                fields=["owner", "stage"],
                include=["id", "amount", "probability", "currency"],
                name="deal_owner_stage_idx",
            ),
            models.Index(fields=["stage", "-updated_at"], name="deal_stage_updated_idx"),
            models.Index(fields=["client", "stage"], name="deal_client_stage_idx"),
            models.Index(fields=["closed_on"], name="deal_closed_on_idx"),
            models.Index(fields=["expected_close_date"], name="deal_expected_close_idx"),
            models.Index(fields=["-updated_at"], name="deal_updated_idx"),
            # bench: the deal board lists each stage's open deals by expected close date.
            models.Index(
                fields=["stage", "expected_close_date", "id"],
                # Covering: the company's funnel and forecast read the index alone.
                include=["amount", "probability", "currency"],
                name="deal_stage_close_idx",
            ),
            # reports-kpis: today's live figures count the deals created today.
            models.Index(fields=["created_at"], name="deal_created_idx"),
        ]
        permissions = [
            ("move_deal", _("Can move a deal to another stage")),
            ("reassign_deal", _("Can give a deal to another owner")),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("pipeline:deal-detail", args=[self.pk])

    @property
    def weighted_amount(self) -> Decimal:
        return (self.amount * self.probability / 100).quantize(Decimal("0.01"))

    @classmethod
    def from_db(cls, db: Any, field_names: Any, values: Any) -> Deal:
        deal = super().from_db(db, field_names, values)
        deal._stored_owner_id = deal.__dict__.get("owner_id")
        return deal

    def save(self, *args: Any, **kwargs: Any) -> None:
        super().save(*args, **kwargs)
        # The stage changes carry a copy of the owner (``DealStageChange.owner``):
        # a deal given to someone else takes its history along.
        fields = kwargs.get("update_fields")
        if fields is not None and not {"owner", "owner_id"} & set(fields):
            return  # the owner was not written
        owner_id = self.__dict__.get("owner_id")
        if owner_id is not None and owner_id != getattr(self, "_stored_owner_id", owner_id):
            DealStageChange.objects.filter(deal_id=self.pk).exclude(owner_id=owner_id).update(
                owner_id=owner_id
            )
        self._stored_owner_id = owner_id


class DealStageChangeQuerySet(VisibleQuerySet["DealStageChange"]):
    def refresh_moved_on(self) -> int:
        """Recompute ``moved_on_at`` of these changes from their deals' other changes.

        One UPDATE for any number of rows: a deal's new move, the demo seed's
        bulk-loaded histories, or the deals ever in a stage that was reordered.
        """
        entered_open = Stage.objects.filter(pk=OuterRef("to_stage_id"), kind=Stage.Kind.OPEN)
        entered_order = Stage.objects.filter(pk=OuterRef(OuterRef("to_stage_id"))).values("order")
        moved_on = (
            DealStageChange.objects.filter(deal_id=OuterRef("deal_id"))
            .filter(
                Q(changed_at__gt=OuterRef("changed_at"))
                | Q(changed_at=OuterRef("changed_at"), pk__gt=OuterRef("pk"))
            )
            .filter(
                Q(to_stage__kind=Stage.Kind.WON)
                | Q(to_stage__kind=Stage.Kind.OPEN, to_stage__order__gt=Subquery(entered_order))
            )
            .order_by("changed_at", "pk")
            .values("changed_at")[:1]
        )
        return self.update(
            moved_on_at=Case(When(Exists(entered_open), then=Subquery(moved_on)), default=None)
        )


class DealStageChange(models.Model):
    """One move of a deal between stages: cycle times and funnel conversion come from these.

    ``moved_on_at`` is derived: when the deal, having entered this open stage,
    next moved to a further open stage or was won (empty while it has not).
    Stage conversion counts it instead of searching each deal's later moves,
    which at 100,000 deals was most of a manager's dashboard. Saving or
    deleting a change recomputes it for the deal; code that writes changes in
    bulk calls ``refresh_moved_on`` itself.
    """

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.ForeignKey(
        Stage, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="+")
    changed_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField()
    amount = models.DecimalField(**MONEY)
    probability = models.PositiveSmallIntegerField()
    moved_on_at = models.DateTimeField(null=True, blank=True, editable=False)
    #: The deal's owner, copied (``Deal.save`` keeps it equal), so that a team's
    #: moves in a period are read from one index without joining the deals.
    owner = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", editable=False, db_index=False
    )

    visibility = FollowsParent("deal")
    objects = DealStageChangeQuerySet.as_manager()

    class Meta:
        verbose_name = _("stage change")
        verbose_name_plural = _("stage changes")
        ordering = ["changed_at", "pk"]
        indexes = [
            models.Index(fields=["deal", "changed_at"], name="stagechange_deal_idx"),
            models.Index(fields=["to_stage", "changed_at"], name="stagechange_to_idx"),
            # Covering: a period's stage changes for stage conversion, read from the index.
            models.Index(
                fields=["changed_at"],
                include=["deal", "to_stage", "moved_on_at"],
                name="stagechange_changed_idx",
            ),
            # Covering: a team's (its owners') stage changes in a period.
            models.Index(
                fields=["owner", "changed_at"],
                include=["deal", "to_stage", "moved_on_at"],
                name="stagechange_owner_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.deal_id}: {self.from_stage_id} → {self.to_stage_id}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.owner_id is None:
            self.owner_id = Deal.objects.values_list("owner_id", flat=True).get(pk=self.deal_id)
        super().save(*args, **kwargs)  # type: ignore[arg-type]
        DealStageChange.objects.filter(deal_id=self.deal_id).refresh_moved_on()
        self.moved_on_at = (
            DealStageChange.objects.filter(pk=self.pk).values_list("moved_on_at", flat=True).get()
        )

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        deleted = super().delete(*args, **kwargs)  # type: ignore[arg-type]
        DealStageChange.objects.filter(deal_id=self.deal_id).refresh_moved_on()
        return deleted


# --------------------------------------------------------------- activities
class ActivityType(models.TextChoices):
    CALL = "call", _("Call")
    VISIT = "visit", _("Visit")
    DEMO = "demo", _("Demo")
    MEETING = "meeting", _("Meeting")
    EMAIL = "email", _("E-mail")
    FOLLOW_UP = "follow_up", _("Follow-up call")
    OTHER = "other", _("Other")


class FollowUpReason(models.TextChoices):
    AFTER_GO_LIVE = "after_go_live", _("After go-live")
    AFTER_PROBLEM = "after_problem", _("After a solved problem")
    CARE_CALL = "care_call", _("Regular care call")


#: Default duration of a new activity, in minutes (a visit: 45, SPEC section 4).
DEFAULT_DURATION = {
    ActivityType.VISIT: 45,
    ActivityType.MEETING: 60,
    ActivityType.DEMO: 60,
    ActivityType.CALL: 10,
    ActivityType.FOLLOW_UP: 10,
}


class ActivityQuerySet(VisibleQuerySet["Activity"]):
    def done(self) -> ActivityQuerySet:
        return self.filter(status=Activity.Status.DONE)

    def planned(self) -> ActivityQuerySet:
        return self.filter(status=Activity.Status.PLANNED)


class Activity(VersionedModel):
    """A call, visit, demo, meeting or e-mail with a client or a lead."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    type = models.CharField(_("type"), max_length=10, choices=ActivityType.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DONE
    )
    client = models.ForeignKey(
        "clients.Client",
        verbose_name=_("client"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="activities",
    )
    lead = models.ForeignKey(
        Lead,
        verbose_name=_("lead"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="activities",
    )
    deal = models.ForeignKey(
        Deal,
        verbose_name=_("deal"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="activities",
    )
    contact = models.ForeignKey(
        "clients.Contact",
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="activities",
    )
    owner = models.ForeignKey(
        User, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="activities"
    )
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    start_at = models.DateTimeField(_("when"))
    duration_minutes = models.PositiveSmallIntegerField(_("duration (minutes)"), default=30)
    outcome = models.TextField(_("outcome"), blank=True)
    next_step = models.CharField(_("next step"), max_length=255, blank=True)
    follow_up_reason = models.CharField(
        _("follow-up reason"), max_length=20, choices=FollowUpReason.choices, blank=True
    )
    spin_situation = models.TextField(_("situation"), blank=True)
    spin_problem = models.TextField(_("problem"), blank=True)
    spin_implication = models.TextField(_("implication"), blank=True)
    spin_need_payoff = models.TextField(_("need-payoff"), blank=True)
    survey_response = models.ForeignKey(
        "clients.SurveyResponse",
        verbose_name=_("survey response"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="follow_ups",
        help_text=_("The low survey score this follow-up answers."),
    )
    complaint = models.ForeignKey(
        "clients.Complaint",
        verbose_name=_("complaint"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="activities",
    )
    products_demonstrated = models.ManyToManyField(
        Product, verbose_name=_("products demonstrated"), blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    visibility = OwnedBy("owner", grants=False)
    objects = ActivityQuerySet.as_manager()

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        ordering = ["-start_at", "-pk"]
        indexes = [
            models.Index(fields=["owner", "-start_at"], name="activity_owner_start_idx"),
            models.Index(fields=["client", "-start_at"], name="activity_client_start_idx"),
            models.Index(fields=["deal", "-start_at"], name="activity_deal_start_idx"),
            models.Index(fields=["lead", "-start_at"], name="activity_lead_start_idx"),
            models.Index(fields=["-start_at"], name="activity_start_idx"),
            # done (or planned) activities newest first: drill-downs of a period
            models.Index(fields=["status", "-start_at"], name="activity_status_start_idx"),
            models.Index(fields=["type", "status", "start_at"], name="activity_type_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(client__isnull=False) | Q(lead__isnull=False),
                name="activity_has_client_or_lead",
                violation_error_message=_("An activity is with a client or a lead."),
            )
        ]

    def __str__(self) -> str:
        return self.subject or self.get_type_display()

    @property
    def end_at(self):
        return self.start_at + timedelta(minutes=self.duration_minutes)

    @property
    def has_spin(self) -> bool:
        return any(
            (self.spin_situation, self.spin_problem, self.spin_implication, self.spin_need_payoff)
        )


class Objection(models.Model):
    """An objection raised, and how it was handled: listen, confirm, respond, confirm again."""

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="objections")
    objection = models.TextField(_("objection"))
    confirmed_understanding = models.TextField(_("what we confirmed we heard"), blank=True)
    response = models.TextField(_("our response"), blank=True)
    resolved = models.BooleanField(_("client confirmed it is answered"), default=False)

    visibility = FollowsParent("activity")
    objects = VisibleQuerySet.as_manager()

    class Meta:
        verbose_name = _("objection")
        verbose_name_plural = _("objections")
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.objection[:60]


# -------------------------------------------------------------------- quotes
class Quote(VersionedModel):
    """A priced offer on a deal; each revision is a new quote with the same number."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SENT = "sent", _("Sent")
        ACCEPTED = "accepted", _("Accepted")
        REJECTED = "rejected", _("Rejected")
        EXPIRED = "expired", _("Expired")

    class Approval(models.TextChoices):
        NOT_NEEDED = "not_needed", _("Not needed")
        REQUIRED = "required", _("Needs approval")
        PENDING = "pending", _("Waiting for approval")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    deal = models.ForeignKey(
        Deal, verbose_name=_("deal"), on_delete=models.CASCADE, related_name="quotes"
    )
    number = models.CharField(_("number"), max_length=30)
    revision = models.PositiveSmallIntegerField(_("revision"), default=1)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    currency = models.CharField(
        _("currency"), max_length=3, choices=Currency.choices, default=Currency.CNY
    )
    tax_rate = models.DecimalField(
        _("tax rate (%)"), max_digits=5, decimal_places=2, default=Decimal("13.00")
    )
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    notes = models.TextField(_("terms and notes"), blank=True)
    subtotal = models.DecimalField(_("subtotal"), **MONEY, default=Decimal("0"))
    discount_total = models.DecimalField(_("discount"), **MONEY, default=Decimal("0"))
    tax_amount = models.DecimalField(_("tax"), **MONEY, default=Decimal("0"))
    total = models.DecimalField(_("total"), **MONEY, default=Decimal("0"))
    max_discount_percent = models.DecimalField(
        _("largest discount (%)"), max_digits=5, decimal_places=2, default=Decimal("0")
    )
    approval = models.CharField(
        _("discount approval"), max_length=12, choices=Approval.choices, default=Approval.NOT_NEEDED
    )
    created_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    visibility = FollowsParent("deal")
    objects = VisibleQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["updated_at", "version"])

    class Meta:
        verbose_name = _("quote")
        verbose_name_plural = _("quotes")
        ordering = ["-created_at", "pk"]
        # The newest first, read off the index: the list stops after a page
        # instead of joining every quote to its deal and client to sort them.
        indexes = [models.Index(fields=["created_at", "id"], name="quote_created_idx")]
        constraints = [
            models.UniqueConstraint(fields=["number", "revision"], name="quote_number_revision")
        ]
        permissions = [("approve_discount", _("Can approve discounts above the threshold"))]

    def __str__(self) -> str:
        return f"{self.number} r{self.revision}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("pipeline:quote-detail", args=[self.pk])


class QuoteLine(models.Model):
    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(
        Product,
        verbose_name=_("product"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    description = models.CharField(_("description"), max_length=255, blank=True)
    quantity = models.DecimalField(
        _("quantity"),
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    unit_price = models.DecimalField(
        _("unit price"), **MONEY, validators=[MinValueValidator(Decimal("0"))]
    )
    discount_percent = models.DecimalField(
        _("discount (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    position = models.PositiveSmallIntegerField(default=0)

    visibility = FollowsParent("quote")
    objects = VisibleQuerySet.as_manager()

    class Meta:
        verbose_name = _("quote line")
        verbose_name_plural = _("quote lines")
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.description or str(self.product)


class QuoteApproval(models.Model):
    """A request to approve a discount above the threshold, and the manager's answer."""

    class Decision(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="approvals")
    requested_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    approver = models.ForeignKey(
        User, verbose_name=_("approver"), on_delete=models.PROTECT, related_name="quote_approvals"
    )
    discount_percent = models.DecimalField(max_digits=5, decimal_places=2)
    decision = models.CharField(
        _("decision"), max_length=10, choices=Decision.choices, default=Decision.PENDING
    )
    comment = models.TextField(_("comment"), blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    visibility = FollowsParent("quote")
    objects = VisibleQuerySet.as_manager()

    class Meta:
        verbose_name = _("discount approval")
        verbose_name_plural = _("discount approvals")
        ordering = ["-requested_at"]
        indexes = [models.Index(fields=["approver", "decision"], name="approval_approver_idx")]

    def __str__(self) -> str:
        return f"{self.quote} ({self.get_decision_display()})"


# ----------------------------------------------------------------- contracts
class ContractStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    LEGAL_REVIEW = "legal_review", _("Legal review")
    APPROVED = "approved", _("Approved")
    SIGNED = "signed", _("Signed")
    ACTIVE = "active", _("Active")
    EXPIRED = "expired", _("Expired")
    TERMINATED = "terminated", _("Terminated")
    RENEWED = "renewed", _("Renewed")


#: The contract workflow: which status may follow which.
CONTRACT_TRANSITIONS: dict[str, tuple[str, ...]] = {
    ContractStatus.DRAFT: (ContractStatus.LEGAL_REVIEW, ContractStatus.TERMINATED),
    ContractStatus.LEGAL_REVIEW: (
        ContractStatus.APPROVED,
        ContractStatus.DRAFT,
        ContractStatus.TERMINATED,
    ),
    ContractStatus.APPROVED: (ContractStatus.SIGNED, ContractStatus.TERMINATED),
    ContractStatus.SIGNED: (ContractStatus.ACTIVE, ContractStatus.TERMINATED),
    ContractStatus.ACTIVE: (
        ContractStatus.EXPIRED,
        ContractStatus.TERMINATED,
        ContractStatus.RENEWED,
    ),
    ContractStatus.EXPIRED: (ContractStatus.RENEWED,),
    ContractStatus.TERMINATED: (),
    ContractStatus.RENEWED: (),
}


class Contract(VersionedModel):
    client = models.ForeignKey(
        "clients.Client",
        verbose_name=_("client"),
        on_delete=models.PROTECT,
        related_name="contracts",
    )
    deal = models.ForeignKey(
        Deal,
        verbose_name=_("deal"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contracts",
    )
    owner = models.ForeignKey(
        User, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="contracts"
    )
    number = models.CharField(_("number"), max_length=40, unique=True)
    title = models.CharField(pgettext_lazy("document", "title"), max_length=200, blank=True)
    amount = models.DecimalField(_("amount"), **MONEY, validators=[MinValueValidator(Decimal("0"))])
    currency = models.CharField(
        _("currency"), max_length=3, choices=Currency.choices, default=Currency.CNY
    )
    start_date = models.DateField(_("start"))
    end_date = models.DateField(_("end"))
    payment_terms = models.CharField(_("payment terms"), max_length=255, blank=True)
    status = models.CharField(
        _("status"), max_length=15, choices=ContractStatus.choices, default=ContractStatus.DRAFT
    )
    signed_on = models.DateField(_("signed on"), null=True, blank=True)
    renews = models.ForeignKey(
        "self",
        verbose_name=_("renews"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="renewals",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    visibility = OwnedBy("owner", "client__account_manager")
    objects = VisibleQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["updated_at", "version"])

    class Meta:
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        ordering = ["-start_date", "pk"]
        indexes = [
            models.Index(fields=["status", "end_date"], name="contract_status_end_idx"),
            models.Index(fields=["owner", "end_date"], name="contract_owner_end_idx"),
            models.Index(fields=["signed_on"], name="contract_signed_idx"),
            models.Index(fields=["start_date", "id"], name="contract_start_idx"),  # the list
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=models.F("start_date")),
                name="contract_ends_after_start",
                violation_error_message=_("A contract ends after it starts."),
            )
        ]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("pipeline:contract-detail", args=[self.pk])


class ContractFile(models.Model):
    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="files")
    title = models.CharField(pgettext_lazy("document", "title"), max_length=200)
    file = models.FileField(_("file"), upload_to="contracts/%Y/%m/")
    uploaded_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    visibility = FollowsParent("contract")
    objects = VisibleQuerySet.as_manager()

    class Meta:
        verbose_name = _("contract file")
        verbose_name_plural = _("contract files")
        ordering = ["-uploaded_at"]

    def __str__(self) -> str:
        return self.title


# ---------------------------------------------------------- delivery projects
class Project(VersionedModel):
    """Delivering what a won deal sold: milestones with owners and due dates, and tasks."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        IN_PROGRESS = "in_progress", _("In progress")
        ON_HOLD = "on_hold", _("On hold")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")

    client = models.ForeignKey(
        "clients.Client",
        verbose_name=_("client"),
        on_delete=models.PROTECT,
        related_name="projects",
    )
    deal = models.ForeignKey(
        Deal,
        verbose_name=_("deal"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="projects",
    )
    contract = models.ForeignKey(
        Contract,
        verbose_name=_("contract"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="projects",
    )
    owner = models.ForeignKey(
        User, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="projects"
    )
    name = models.CharField(_("name"), max_length=200)
    goals = models.TextField(_("goals"), blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.PLANNED
    )
    start_date = models.DateField(_("start"), null=True, blank=True)
    due_date = models.DateField(_("due"), null=True, blank=True)
    completed_on = models.DateField(_("completed on"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    visibility = OwnedBy("owner", "client__account_manager")
    objects = VisibleQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["updated_at", "version"])

    class Meta:
        verbose_name = _("delivery project")
        verbose_name_plural = _("delivery projects")
        ordering = ["-created_at", "pk"]
        indexes = [models.Index(fields=["created_at", "id"], name="project_created_idx")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("pipeline:project-detail", args=[self.pk])


class Milestone(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        IN_PROGRESS = "in_progress", _("In progress")
        DONE = "done", _("Done")

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="milestones")
    name = models.CharField(_("name"), max_length=200)
    owner = models.ForeignKey(
        User, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="milestones"
    )
    due_date = models.DateField(_("due"))
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.PENDING
    )
    completed_on = models.DateField(_("completed on"), null=True, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    visibility = FollowsParent("project")
    objects = VisibleQuerySet.as_manager()

    class Meta:
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")
        ordering = ["due_date", "position", "pk"]
        indexes = [models.Index(fields=["status", "due_date"], name="milestone_status_due_idx")]

    def __str__(self) -> str:
        return self.name


class Task(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="tasks")
    milestone = models.ForeignKey(
        Milestone, null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks"
    )
    title = models.CharField(pgettext_lazy("document", "title"), max_length=200)
    owner = models.ForeignKey(
        User,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="project_tasks",
    )
    due_date = models.DateField(_("due"), null=True, blank=True)
    done = models.BooleanField(_("done"), default=False)
    done_at = models.DateTimeField(null=True, blank=True)

    visibility = FollowsParent("project")
    objects = VisibleQuerySet.as_manager()

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["done", "due_date", "pk"]

    def __str__(self) -> str:
        return self.title


# ------------------------------------------------------------------- targets
class TargetQuerySet(models.QuerySet["Target"]):
    def visible_to(self, user) -> TargetQuerySet:
        """Targets of the people and teams a user sees, and the company's."""
        from accounts.models import Team

        if not user.is_authenticated or not user.is_active:
            return self.none()
        scope = user.visibility_scope
        if scope.everything:
            return self.all()
        return self.filter(
            Q(user_id__in=sorted(scope.user_ids))
            | Q(team__in=Team.objects.visible_to(user))
            | Q(user__isnull=True, team__isnull=True)
        )


class Target(models.Model):
    """A target for a person, a team or the company over a month, quarter or year."""

    class Period(models.TextChoices):
        MONTH = "month", _("Month")
        QUARTER = "quarter", _("Quarter")
        YEAR = "year", _("Year")

    user = models.ForeignKey(
        User,
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="targets",
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="targets",
    )
    period = models.CharField(_("period"), max_length=7, choices=Period.choices)
    period_start = models.DateField(_("period start"))
    revenue = models.DecimalField(
        _("revenue target"),
        **MONEY,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    calls_per_day = models.PositiveSmallIntegerField(_("calls a day"), null=True, blank=True)
    visits_per_week = models.PositiveSmallIntegerField(_("visits a week"), null=True, blank=True)
    demos_per_week = models.PositiveSmallIntegerField(_("demos a week"), null=True, blank=True)
    set_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    objects = TargetQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        ordering = ["-period_start", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=True) | Q(team__isnull=True), name="target_person_or_team"
            ),
            models.UniqueConstraint(
                fields=["user", "period", "period_start"],
                condition=Q(user__isnull=False),
                name="target_unique_user",
            ),
            models.UniqueConstraint(
                fields=["team", "period", "period_start"],
                condition=Q(team__isnull=False),
                name="target_unique_team",
            ),
            models.UniqueConstraint(
                fields=["period", "period_start"],
                condition=Q(user__isnull=True, team__isnull=True),
                name="target_unique_company",
            ),
        ]
        permissions = [("set_target", _("Can set targets for their subtree"))]

    def __str__(self) -> str:
        who = self.user or self.team or _("Company")
        return f"{who} · {self.get_period_display()} {self.period_start:%Y-%m}"
