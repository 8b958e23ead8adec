"""Pages of the organisation: sign-in, profile, org chart and user management."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts import services
from accounts.forms import DeactivateForm, ProfileForm, UserForm
from accounts.models import Role, Team, User
from salesorg.lib.export import csv_response
from salesorg.lib.listing import apply_sort, paginate


def role_home_url(user: User) -> str:
    return reverse("reports:home", kwargs={"role": user.role})


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """``/``: each person lands on their own role's home page."""
    return redirect(role_home_url(request.user))


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


# ------------------------------------------------------------------------ profile
@login_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = ProfileForm(request.POST or None, instance=user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Your profile was saved."))
        return redirect("accounts:profile")
    return render(
        request,
        "accounts/profile.html",
        {"form": form, "line": user.line().select_related("team"), "person": user},
    )


# ---------------------------------------------------------------------- org chart
@dataclass
class OrgNode:
    user: User
    children: list[OrgNode] = field(default_factory=list)


def _build_tree(people: list[User]) -> list[OrgNode]:
    """Nest people ordered by path; anyone whose manager is not shown is a root."""
    nodes = {p.pk: OrgNode(p) for p in people}
    roots: list[OrgNode] = []
    for person in people:
        parent = nodes.get(person.reports_to_id) if person.reports_to_id else None
        (parent.children if parent else roots).append(nodes[person.pk])
    return roots


@login_required
def org_chart(request: HttpRequest) -> HttpResponse:
    """The director sees the company, a manager their part, others their own line."""
    user = request.user
    people = User.objects.active().select_related("team")
    if user.sees_everything:
        scope_label = _("The whole company")
    elif user.role == Role.MANAGER:
        people = people.filter(Q(path__startswith=user.path) | Q(pk__in=user.ancestor_pks))
        scope_label = _("Your part of the organisation")
    else:
        people = people.filter(pk__in=[*user.ancestor_pks, user.pk])
        scope_label = _("Your line up to the director")
    people_list = list(people.order_by("path"))
    team_ids = {p.team_id for p in people_list if p.team_id}
    teams = Team.objects.visible_to(user).select_related("manager", "parent")
    if not user.sees_everything:
        ancestor_ids = {pk for t in Team.objects.filter(pk__in=team_ids) for pk in t.ancestor_pks}
        teams = teams.filter(pk__in=team_ids | ancestor_ids)
    return render(
        request,
        "accounts/org_chart.html",
        {
            "tree": _build_tree(people_list),
            "teams": teams.order_by("path"),
            "scope_label": scope_label,
            "headcount": len(people_list),
        },
    )


# ----------------------------------------------------------------------- people
USER_SORT = {
    "name": ("last_name", "first_name", "username"),
    "role": "role",
    "team": "team__name",
    "reports_to": ("reports_to__last_name", "reports_to__username"),
    "joined": "date_joined",
}


def _filtered_users(request: HttpRequest):
    qs = User.objects.visible_to(request.user).select_related("team", "reports_to")
    q = request.GET.get("q", "").strip()
    if q:
        qs = qs.filter(
            Q(username__icontains=q)
            | Q(first_name__icontains=q)
            | Q(last_name__icontains=q)
            | Q(email__icontains=q)
            | Q(phone__icontains=q)
        )
    role = request.GET.get("role")
    if role in Role.values:
        qs = qs.filter(role=role)
    team = request.GET.get("team")
    if team and team.isdigit():
        qs = qs.filter(team__path__startswith=Team.objects.filter(pk=team).values("path")[:1])
    status = request.GET.get("status", "active")
    if status == "active":
        qs = qs.filter(is_active=True)
    elif status == "inactive":
        qs = qs.filter(is_active=False)
    return qs


@login_required
def user_list(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("accounts.view_user"):
        raise PermissionDenied
    qs, sort = apply_sort(request, _filtered_users(request), USER_SORT, "name")
    if request.GET.get("export") == "csv":
        return csv_response(
            "people",
            [
                _("Username"),
                _("Name"),
                _("E-mail"),
                _("Phone"),
                _("Role"),
                _("Team"),
                _("Reports to"),
                _("Active"),
            ],
            (
                (
                    u.username,
                    u.get_full_name(),
                    u.email,
                    u.phone,
                    u.get_role_display(),
                    u.team.name if u.team else "",
                    str(u.reports_to or ""),
                    _("yes") if u.is_active else _("no"),
                )
                for u in qs.iterator(chunk_size=500)
            ),
        )
    page = paginate(request, qs)
    manageable = set(
        services.manageable_users(request.user)
        .filter(pk__in=[u.pk for u in page])
        .values_list("pk", flat=True)
    )
    return render(
        request,
        "accounts/user_list.html",
        {
            "page": page,
            "sort": sort,
            "manageable": manageable,
            "roles": Role.choices,
            "teams": Team.objects.visible_to(request.user).order_by("path"),
            "can_create": services.can_manage_users(request.user),
        },
    )


def _visible_user(request: HttpRequest, pk: int) -> User:
    return get_object_or_404(
        User.objects.visible_to(request.user).select_related("team", "reports_to"), pk=pk
    )


def _manageable_user(request: HttpRequest, pk: int) -> User:
    """404 when the person is not visible at all, 403 when visible but not theirs to manage."""
    person = _visible_user(request, pk)
    if not services.manageable_users(request.user).filter(pk=person.pk).exists():
        raise PermissionDenied
    return person


@login_required
def user_detail(request: HttpRequest, pk: int) -> HttpResponse:
    person = _visible_user(request, pk)
    return render(
        request,
        "accounts/user_detail.html",
        {
            "person": person,
            "line": person.line().select_related("team"),
            "direct_reports": User.objects.visible_to(request.user)
            .filter(reports_to=person, is_active=True)
            .select_related("team"),
            "can_manage": services.manageable_users(request.user).filter(pk=person.pk).exists(),
            "handovers": person.handovers_given.select_related("to_user", "by")[:5],
        },
    )


def _apply_errors(form: UserForm | DeactivateForm, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc)


@login_required
@require_http_methods(["GET", "POST"])
def user_create(request: HttpRequest) -> HttpResponse:
    if not services.can_manage_users(request.user):
        raise PermissionDenied
    form = UserForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "password"}
        try:
            person = services.user_create(
                by=request.user, password=form.cleaned_data.get("password"), **data
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("%(user)s was added.") % {"user": person})
            return redirect("accounts:user-detail", pk=person.pk)
    return render(request, "accounts/user_form.html", {"form": form, "person": None})


@login_required
@require_http_methods(["GET", "POST"])
def user_edit(request: HttpRequest, pk: int) -> HttpResponse:
    person = _manageable_user(request, pk)
    form = UserForm(request.POST or None, instance=person, actor=request.user)
    if request.method == "POST" and form.is_valid():
        changes = {k: form.cleaned_data[k] for k in services.EDITABLE_FIELDS}
        try:
            services.user_update(by=request.user, user=person, **changes)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("%(user)s was saved.") % {"user": person})
            return redirect("accounts:user-detail", pk=person.pk)
    return render(request, "accounts/user_form.html", {"form": form, "person": person})


@login_required
@require_http_methods(["GET", "POST"])
def user_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    person = _manageable_user(request, pk)
    form = DeactivateForm(request.POST or None, actor=request.user, user=person)
    if request.method == "POST" and form.is_valid():
        try:
            handover = services.user_deactivate(
                by=request.user, user=person, successor=form.cleaned_data["successor"]
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(
                request,
                _("%(user)s was deactivated; %(count)s records went to %(successor)s.")
                % {
                    "user": person,
                    "count": sum(handover.moved.values()),
                    "successor": handover.to_user,
                },
            )
            return redirect("accounts:user-detail", pk=person.pk)
    return render(request, "accounts/user_deactivate.html", {"form": form, "person": person})
