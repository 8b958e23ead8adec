"""The public web form: website visitors sign up and become leads, no login.

Defences, cheapest first: a per-IP rate limit counted in the shared cache
(Redis in production, so every web server counts together), a honeypot field
that people never see and bots fill in (their posts are answered as if they
worked and dropped), and the same validation as any lead.

CSRF: the page's own form carries a CSRF token and is checked as usual. A
JSON post (from the company's web site, another origin) cannot carry our
token, so only JSON posts skip the check; that is safe because this view
uses no session or login — a forged post can do nothing a visitor could not.
Browsers may post JSON from the origins in ``SALESORG_WEB_LEAD_ORIGINS``.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, ensure_csrf_cookie
from django.views.decorators.http import require_GET

from pipeline.forms.common import apply_errors
from pipeline.forms.leads import SignupForm
from pipeline.services import leads as services


def client_ip(request: HttpRequest) -> str:
    """The visitor's address; behind our TLS proxy, the one the proxy saw (last hop)."""
    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [h.strip() for h in forwarded.split(",") if h.strip()]
        if hops:
            return hops[-1]
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def rate_key(ip: str) -> str:
    return f"pipeline:signup:{ip}"


def over_rate_limit(ip: str) -> bool:
    """Count this attempt; True once the address has used up its window's allowance."""
    key = rate_key(ip)
    window = settings.SALESORG_WEB_LEAD_RATE_WINDOW
    if cache.add(key, 1, timeout=window):
        count = 1
    else:
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add() and incr()
            cache.set(key, 1, timeout=window)
            count = 1
    return count > settings.SALESORG_WEB_LEAD_RATE_LIMIT


def _cors(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    origin = request.headers.get("Origin", "")
    if origin and origin in settings.SALESORG_WEB_LEAD_ORIGINS:
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
        response["Access-Control-Allow-Headers"] = "Content-Type"
        response["Vary"] = "Origin"
    return response


def _is_json(request: HttpRequest) -> bool:
    return request.content_type == "application/json"


@csrf_exempt
@ensure_csrf_cookie
def lead_signup(request: HttpRequest) -> HttpResponse:
    if request.method == "OPTIONS":
        return _cors(request, HttpResponse(status=204))
    if request.method == "GET":
        return render(
            request,
            "pipeline/signup/form.html",
            {"form": SignupForm(initial={"campaign": request.GET.get("campaign", "")})},
        )
    if request.method != "POST":
        return HttpResponse(status=405, headers={"Allow": "GET, POST, OPTIONS"})

    as_json = _is_json(request)
    if not as_json:
        rejected = CsrfViewMiddleware(lambda r: HttpResponse()).process_view(
            request, lambda r: HttpResponse(), (), {}
        )
        if rejected is not None:
            return rejected
    if over_rate_limit(client_ip(request)):
        message = _("Too many sign-ups from your address. Please try again later.")
        if as_json:
            return _cors(request, JsonResponse({"error": message}, status=429))
        return render(
            request,
            "pipeline/signup/form.html",
            {"form": SignupForm(), "error": message},
            status=429,
        )

    data: Any
    if as_json:
        try:
            data = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError):
            return _cors(request, JsonResponse({"error": _("Send a JSON object.")}, status=400))
        if not isinstance(data, dict):
            return _cors(request, JsonResponse({"error": _("Send a JSON object.")}, status=400))
        data = {k: "" if v is None else str(v) for k, v in data.items()}
    else:
        data = request.POST
    form = SignupForm(data)
    if form.is_spam:
        # Answer like a success so the bot learns nothing; keep nothing.
        if as_json:
            return _cors(request, JsonResponse({"ok": True}, status=201))
        return redirect("pipeline:lead-signup-thanks")
    if form.is_valid():
        fields = {k: form.cleaned_data.get(k, "") for k in ("name", "company", "phone", "email")}
        try:
            services.lead_signup(
                **fields,
                message=form.cleaned_data.get("message", ""),
                campaign=form.cleaned_data.get("campaign", ""),
            )
        except ValidationError as exc:
            apply_errors(form, exc, {"notes": "message"})
        else:
            if as_json:
                return _cors(request, JsonResponse({"ok": True}, status=201))
            return redirect("pipeline:lead-signup-thanks")
    if as_json:
        return _cors(request, JsonResponse({"errors": _error_messages(form)}, status=400))
    return render(request, "pipeline/signup/form.html", {"form": form}, status=400)


def _error_messages(form: SignupForm) -> dict[str, list[str]]:
    return {k: [e["message"] for e in v] for k, v in form.errors.get_json_data().items()}


@require_GET
def lead_signup_thanks(request: HttpRequest) -> HttpResponse:
    return render(request, "pipeline/signup/thanks.html")
