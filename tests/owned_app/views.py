"""Minimal pages over the test model, written the way every real page is."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, JsonResponse

from accounts.visibility import get_for_user
from tests.owned_app.models import Notebook, Page


@login_required
def notebook_list(request: HttpRequest) -> JsonResponse:
    titles = list(
        Notebook.objects.visible_to(request.user).order_by("title").values_list("title", flat=True)
    )
    return JsonResponse({"titles": titles})


@login_required
def notebook_detail(request: HttpRequest, pk: int) -> JsonResponse:
    access = get_for_user(request.user, Notebook, pk=pk)
    return JsonResponse(
        {
            "title": access.obj.title,
            "can_change": access.can_change,
            "relation": access.relation.name,
        }
    )


@login_required
def page_detail(request: HttpRequest, pk: int) -> JsonResponse:
    access = get_for_user(request.user, Page, pk=pk)
    return JsonResponse({"text": access.obj.text, "can_change": access.can_change})
