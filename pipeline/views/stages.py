"""Stage management: the director orders stages and sets their default probability."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from pipeline.forms.common import apply_errors
from pipeline.forms.deals import NewStageForm, StageForm
from pipeline.models import Stage
from pipeline.services import deals as services


@login_required
@require_http_methods(["GET", "POST"])
def stage_list(request: HttpRequest) -> HttpResponse:
    """Everyone who sees deals may read the stages; those with ``change_stage`` edit them."""
    user = request.user
    if not user.has_perm("pipeline.view_stage"):
        raise PermissionDenied
    can_change = user.has_perm("pipeline.change_stage")
    can_add = user.has_perm("pipeline.add_stage")
    stages = list(Stage.objects.annotate(deal_count=Count("deals")).order_by("order", "pk"))
    post = request.POST if request.method == "POST" else None
    action = request.POST.get("action") if post else None
    if post is not None and not (can_change if action == "save" else can_add):
        raise PermissionDenied
    forms = [
        StageForm(post if action == "save" else None, instance=s, prefix=f"s{s.pk}") for s in stages
    ]
    new_form = NewStageForm(
        post if action == "add" else None,
        prefix="new",
        initial={"order": (stages[-1].order + 1) if stages else 10, "probability": 50},
    )
    if action == "save" and all(f.is_valid() for f in forms):
        try:
            with transaction.atomic():  # all rows or none
                for form in forms:
                    if form.has_changed():
                        try:
                            services.stage_update(by=user, stage=form.instance, **form.cleaned_data)
                        except ValidationError as exc:
                            apply_errors(form, exc)
                            raise
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("The stages were saved."))
            return redirect("pipeline:stage-list")
    if action == "add" and new_form.is_valid():
        try:
            stage = services.stage_create(by=user, **new_form.cleaned_data)
        except ValidationError as exc:
            apply_errors(new_form, exc)
        else:
            messages.success(request, _("Stage “%(stage)s” was added.") % {"stage": stage})
            return redirect("pipeline:stage-list")
    return render(
        request,
        "pipeline/stages/list.html",
        {
            "rows": list(zip(stages, forms, strict=True)),
            "new_form": new_form,
            "can_change": can_change,
            "can_add": can_add,
        },
    )
