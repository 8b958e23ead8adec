"""The organisation: people, their roles, teams and the reporting tree."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from accounts.tree import TreeNode, path_pks

if TYPE_CHECKING:
    from accounts.visibility import Scope


class Role(models.TextChoices):
    DIRECTOR = "director", _("Sales director")
    MANAGER = "manager", _("Sales manager")
    ACCOUNT_MANAGER = "account_manager", _("Account manager")
    REP = "rep", _("Sales rep")
    SUPPORT = "support", _("Sales support")


#: Who may be placed under whom: a role's manager must hold one of these roles.
#: Support staff report to a manager or the director; everyone else one level up
#: the pyramid or higher.
ROLE_RANK = {
    Role.DIRECTOR: 0,
    Role.MANAGER: 1,
    Role.ACCOUNT_MANAGER: 2,
    Role.REP: 3,
    Role.SUPPORT: 3,
}


class TeamQuerySet(models.QuerySet["Team"]):
    def visible_to(self, user: User) -> TeamQuerySet:
        """Teams on the line of any user the caller may see (and their ancestors)."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.sees_everything:
            return self.all()
        team_paths = (
            User.objects.visible_to(user)
            .exclude(team__isnull=True)
            .values_list("team__path", flat=True)
            .distinct()
        )
        pks = {pk for path in team_paths for pk in path_pks(path)}
        return self.filter(pk__in=pks)


class Team(TreeNode):
    """A node of the company → region → team tree, each with a manager."""

    class Kind(models.TextChoices):
        COMPANY = "company", _("Company")
        REGION = "region", _("Region")
        TEAM = "team", _("Team")

    parent_field = "parent"

    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.TEAM)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("part of"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("manager"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_teams",
    )

    objects = TeamQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["path"])

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["path"]
        indexes = [
            models.Index(fields=["path"], name="team_path_idx", opclasses=["varchar_pattern_ops"])
        ]
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="team_unique_name_in_parent"),
        ]

    def __str__(self) -> str:
        return self.name

    _allowed_parent_kind = {Kind.COMPANY: None, Kind.REGION: Kind.COMPANY, Kind.TEAM: Kind.REGION}

    def clean(self) -> None:
        super().clean()
        expected = self._allowed_parent_kind[Team.Kind(self.kind)]
        parent_kind = self.parent.kind if self.parent_id else None
        if expected is None and self.parent_id:
            raise ValidationError({"parent": _("The company is the top of the tree.")})
        if expected is not None and parent_kind != expected:
            raise ValidationError(
                {
                    "parent": _("A %(kind)s must be part of a %(parent)s.")
                    % {"kind": self.get_kind_display(), "parent": Team.Kind(expected).label}
                }
            )

    @property
    def region(self) -> Team | None:
        """The region this team is in (itself for a region)."""
        if self.kind == Team.Kind.REGION:
            return self
        if self.kind == Team.Kind.COMPANY:
            return None
        return Team.objects.filter(pk__in=self.ancestor_pks, kind=Team.Kind.REGION).first()


class UserQuerySet(models.QuerySet["User"]):
    def visible_to(self, user: User) -> UserQuerySet:
        """The people a user may see: themselves, everyone below them, their own
        line up to the director and, for support staff, everyone in their region."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.sees_everything:
            return self.all()
        condition = Q(path__startswith=user.path) | Q(pk__in=user.ancestor_pks)
        region = user.region if user.role == Role.SUPPORT else None
        if region is not None:
            condition |= Q(team__path__startswith=region.path)
        return self.filter(condition)

    def active(self) -> UserQuerySet:
        return self.filter(is_active=True)


class UserManager(DjangoUserManager.from_queryset(UserQuerySet)):  # type: ignore[misc]
    pass


class User(TreeNode, AbstractUser):
    """A member of the sales department.

    ``reports_to`` is the reporting line; ``path`` materialises it so that
    visibility ("me and everyone below me") is one indexed query.
    """

    parent_field = "reports_to"

    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.REP)
    team = models.ForeignKey(
        Team,
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )
    reports_to = models.ForeignKey(
        "self",
        verbose_name=_("reports to"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="direct_reports",
    )
    title = models.CharField(_("job title"), max_length=120, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)

    objects = UserManager()
    history = HistoricalRecords(excluded_fields=["password", "last_login", "path"])

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["path"]
        indexes = [
            models.Index(fields=["path"], name="user_path_idx", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["role"], name="user_role_idx"),
        ]
        permissions = [
            ("manage_users", _("Can create, edit and deactivate users in their subtree")),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    def clean(self) -> None:
        super().clean()
        if self.reports_to_id and self.reports_to_id == self.pk:
            raise ValidationError({"reports_to": _("Nobody reports to themselves.")})
        if self.role == Role.DIRECTOR and self.reports_to_id:
            raise ValidationError({"reports_to": _("The sales director reports to nobody here.")})
        if self.role != Role.DIRECTOR and not self.reports_to_id and not self.is_superuser:
            raise ValidationError(
                {"reports_to": _("Everyone but the director reports to someone.")}
            )
        if self.reports_to_id:
            # Read the boss's role fresh: the instance in memory may predate a promotion.
            boss_role = Role(User.objects.values_list("role", flat=True).get(pk=self.reports_to_id))
            if ROLE_RANK[boss_role] >= ROLE_RANK[Role(self.role)] and boss_role != Role.DIRECTOR:
                raise ValidationError(
                    {
                        "reports_to": _(
                            "Someone with the role “%(role)s” cannot report to a “%(boss)s”."
                        )
                        % {"role": self.get_role_display(), "boss": boss_role.label}
                    }
                )

    def refresh_from_db(self, *args: object, **kwargs: object) -> None:
        super().refresh_from_db(*args, **kwargs)  # type: ignore[arg-type]
        for cached in ("visibility_scope", "region", "_visibility_parent_ids"):
            self.__dict__.pop(cached, None)

    @property
    def sees_everything(self) -> bool:
        return self.is_active and (self.role == Role.DIRECTOR or self.is_superuser)

    @cached_property
    def region(self) -> Team | None:
        return self.team.region if self.team_id else None

    @cached_property
    def visibility_scope(self) -> Scope:
        """Who this user's visibility covers; computed once per request."""
        from accounts.visibility import Scope

        return Scope.for_user(self)

    @property
    def is_manager_or_director(self) -> bool:
        return self.role in {Role.MANAGER, Role.DIRECTOR} or self.is_superuser

    def line(self) -> UserQuerySet:
        """This user's line up to the top, root first."""
        return User.objects.filter(pk__in=path_pks(self.path)).order_by("path")


class HandOver(models.Model):
    """Record of a deactivation: whose records went to whom, and how many."""

    from_user = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="handovers_given", verbose_name=_("from")
    )
    to_user = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="handovers_received", verbose_name=_("to")
    )
    by = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="handovers_made", verbose_name=_("by")
    )
    at = models.DateTimeField(_("at"), auto_now_add=True)
    moved = models.JSONField(_("records moved"), default=dict)

    class Meta:
        verbose_name = _("hand-over")
        verbose_name_plural = _("hand-overs")
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.from_user} → {self.to_user}"


class NotificationQuerySet(models.QuerySet["Notification"]):
    def visible_to(self, user: User) -> NotificationQuerySet:
        """Notifications are personal: each person sees only their own."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        return self.filter(recipient=user)

    def unread(self) -> NotificationQuerySet:
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    """Something a person should know about, with a link to the record.

    ``dedupe_key`` makes senders idempotent: a job that runs twice (retry,
    second beat) finds the row it made the first time and sends nothing more.
    """

    recipient = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(_("kind"), max_length=40, db_index=True)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("message"), blank=True)
    url = models.CharField(_("link"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("e-mailed"), null=True, blank=True)
    dedupe_key = models.CharField(max_length=120, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(
                fields=["recipient", "read_at", "-created_at"], name="notification_inbox_idx"
            ),
            models.Index(fields=["emailed_at", "created_at"], name="notification_mail_idx"),
            # jobs ask "was this sent to anyone yet?" by key alone (e.g. "key_account:42")
            models.Index(
                fields=["dedupe_key"], condition=~Q(dedupe_key=""), name="notification_key_idx"
            ),
        ]
        constraints = [
            # Only a real key makes a notification unique per person: without one
            # (the empty string), anyone may receive any number of notifications.
            models.UniqueConstraint(
                fields=["recipient", "dedupe_key"],
                condition=~Q(dedupe_key=""),
                name="notification_once_per_key",
            )
        ]

    def __str__(self) -> str:
        return self.title


class NotificationPreference(models.Model):
    """A person's choice of channels for one kind of notification (default: both)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notification_prefs")
    kind = models.CharField(_("kind"), max_length=40)
    in_app = models.BooleanField(_("in salesorg"), default=True)
    email = models.BooleanField(_("by e-mail"), default=True)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="notification_pref_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.kind}"


class NotificationSettings(models.Model):
    """Per-person delivery settings: a daily digest instead of single e-mails."""

    user = models.OneToOneField(
        User, on_delete=models.CASCADE, related_name="notification_settings"
    )
    daily_digest = models.BooleanField(
        _("daily digest"),
        default=False,
        help_text=_("One summary e-mail a day instead of an e-mail per notification."),
    )
    last_digest_on = models.DateField(_("last digest"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification settings")
        verbose_name_plural = _("notification settings")

    def __str__(self) -> str:
        return str(self.user)
