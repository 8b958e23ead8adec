"""The public answer page: ``/s/<signed token>/``, no login.

What the contact sees is their own survey and nothing else: no client names,
no ids (fields are named by position), no menu. The link's token is signed,
so a tampered or invented link is refused before any query; expired, closed,
already answered and invalid links each get a plain page that says so. The
form is CSRF-protected like every other form (the page sets the cookie).

The language comes from ``?lang=`` (the e-mail links carry it), else the
browser's; a switch at the top of the page changes it. Responses are never
cached and send no referrer to other sites, so the link does not travel further.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect, ensure_csrf_cookie
from django.views.decorators.http import require_GET, require_http_methods

from clients import surveys
from clients.survey_forms import AnswerForm
from clients.surveys import Link, LinkState

STATUS = {LinkState.INVALID: 404, LinkState.EXPIRED: 410, LinkState.ANSWERED: 200}


def _private(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        # never to another site; "no-referrer" would make browsers post Origin: null,
        # which the CSRF check rightly refuses
        response["Referrer-Policy"] = "same-origin"
        response["X-Robots-Tag"] = "noindex, nofollow"
        return response

    return never_cache(wrapped)


def _language(request: HttpRequest) -> str:
    chosen = request.GET.get("lang", "")
    if chosen not in surveys.LANGUAGES:
        chosen = "zh-hans" if (translation.get_language() or "").startswith("zh") else "en"
    translation.activate(chosen)
    request.LANGUAGE_CODE = chosen
    return chosen


def _context(request: HttpRequest, signed: str, language: str, **extra: Any) -> dict[str, Any]:
    here = reverse("survey:answer", args=[signed])
    return {
        "language": language,
        "switch": [
            (code, name, f"{here}?lang={code}", code == language)
            for code, name in (("en", "English"), ("zh-hans", "简体中文"))
        ],
        "company": settings.SALESORG_COMPANY_NAME,
        **extra,
    }


def _dead_end(
    request: HttpRequest, signed: str, link: Link, language: str, *, status: int | None = None
) -> HttpResponse:
    template = {
        LinkState.INVALID: "clients/surveys/public/invalid.html",
        LinkState.EXPIRED: "clients/surveys/public/expired.html",
        LinkState.ANSWERED: "clients/surveys/public/answered.html",
    }[link.state]
    return render(
        request,
        template,
        _context(request, signed, language),
        status=status or STATUS[link.state],
    )


@_private
@csrf_protect
@ensure_csrf_cookie
@require_http_methods(["GET", "POST"])
def answer(request: HttpRequest, signed: str) -> HttpResponse:
    language = _language(request)
    link = surveys.resolve_link(signed)
    if link.state is not LinkState.OPEN:
        posted_again = request.method == "POST" and link.state is LinkState.ANSWERED
        return _dead_end(request, signed, link, language, status=409 if posted_again else None)
    invitation = link.invitation
    assert invitation is not None
    template = invitation.campaign.template
    questions = list(template.questions.all())
    form = AnswerForm(
        request.POST if request.method == "POST" else None, questions=questions, language=language
    )
    if request.method == "POST" and form.is_valid():
        try:
            surveys.response_submit(
                invitation=invitation, answers=form.answers(), language=language
            )
        except surveys.AlreadyAnswered:
            return _dead_end(request, signed, Link(LinkState.ANSWERED), language, status=409)
        except surveys.LinkExpired:
            return _dead_end(request, signed, Link(LinkState.EXPIRED), language)
        except ValidationError as exc:
            for key, errors in exc.message_dict.items():
                name = form.field_name_of(int(key)) if key.isdigit() else None
                form.add_error(name, errors)
        else:
            return redirect(f"{reverse('survey:thanks', args=[signed])}?lang={language}")
    return render(
        request,
        "clients/surveys/public/form.html",
        _context(
            request,
            signed,
            language,
            form=form,
            title=surveys.in_language(template.name, template.name_zh, language),
            intro=surveys.in_language(template.intro, template.intro_zh, language),
            action=f"{reverse('survey:answer', args=[signed])}?lang={language}",
        ),
        status=400 if request.method == "POST" else 200,
    )


@_private
@require_GET
def thanks(request: HttpRequest, signed: str) -> HttpResponse:
    language = _language(request)
    link = surveys.resolve_link(signed)
    if link.state is LinkState.OPEN:
        return redirect(f"{reverse('survey:answer', args=[signed])}?lang={language}")
    if link.state is not LinkState.ANSWERED:
        return _dead_end(request, signed, link, language)
    return render(
        request, "clients/surveys/public/thanks.html", _context(request, signed, language)
    )


app_name = "survey"
urlpatterns = [
    path("<str:signed>/", answer, name="answer"),
    path("<str:signed>/thanks/", thanks, name="thanks"),
]
