"""The public web form: no login, honeypot, per-IP rate limit (in Redis), validation."""

import json

import pytest
import redis
from django.conf import settings
from django.core.cache import cache
from django.test import Client as HttpClient
from django.test import override_settings
from django.urls import reverse

from pipeline.models import Lead, LeadSource
from pipeline.views.signup import rate_key

pytestmark = pytest.mark.django_db

URL = "/pipeline/signup/"
IP = "203.0.113.7"


@pytest.fixture(autouse=True)
def fresh_rate_limit():
    for ip in (IP, "203.0.113.8", "127.0.0.1"):
        cache.delete(rate_key(ip))
    yield
    for ip in (IP, "203.0.113.8", "127.0.0.1"):
        cache.delete(rate_key(ip))


@pytest.fixture
def visitor():
    return HttpClient(REMOTE_ADDR=IP)


VALID = {
    "name": "Wang Fang",
    "company": "Sunrise Trading",
    "phone": "+86 139 1234 5678",
    "email": "",
    "message": "Please call me about pumps.",
    "campaign": "spring-expo",
    "website": "",
}


def test_the_url_name_and_a_phone_friendly_page_without_login(visitor, org):
    assert reverse("pipeline:lead-signup") == URL
    response = visitor.get(URL + "?campaign=spring-expo")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="viewport"' in html and 'inputmode="tel"' in html
    assert 'name="website"' in html and 'class="so-hp"' in html  # the honeypot, hidden
    assert 'value="spring-expo"' in html and "csrfmiddlewaretoken" in html


def test_a_valid_signup_creates_a_website_lead_and_thanks(visitor, org):
    with override_settings(SALESORG_WEB_LEAD_OWNER="rep"):
        response = visitor.post(URL, VALID)
    assert response.status_code == 302 and response["Location"] == reverse(
        "pipeline:lead-signup-thanks"
    )
    lead = Lead.objects.get()
    assert lead.source == LeadSource.WEBSITE and lead.owner == org.rep
    assert lead.company == "Sunrise Trading" and lead.phone_normalized == "13912345678"
    assert lead.campaign == "spring-expo" and "pumps" in lead.notes
    thanks = visitor.get(response["Location"])
    assert thanks.status_code == 200 and "Thank you" in thanks.content.decode()


def test_the_honeypot_keeps_nothing_but_looks_like_success(visitor, org):
    response = visitor.post(URL, {**VALID, "website": "http://spam.example"})
    assert response.status_code == 302  # a bot learns nothing
    assert not Lead.objects.exists()
    response = visitor.post(
        URL, json.dumps({**VALID, "website": "x"}), content_type="application/json"
    )
    assert response.status_code == 201 and not Lead.objects.exists()


def test_validation_errors_are_shown_and_nothing_is_kept(visitor, org):
    response = visitor.post(URL, {**VALID, "phone": "call me", "email": ""})
    assert response.status_code == 400
    assert "is not a phone number" in response.content.decode()
    response = visitor.post(URL, {**VALID, "phone": "", "email": ""})
    assert response.status_code == 400
    assert "Leave a phone number or an e-mail" in response.content.decode()
    response = visitor.post(URL, {**VALID, "name": ""})
    assert response.status_code == 400
    assert not Lead.objects.exists()


@override_settings(SALESORG_WEB_LEAD_RATE_LIMIT=3, SALESORG_WEB_LEAD_RATE_WINDOW=60)
def test_the_rate_limit_triggers_per_address(visitor, org):
    for i in range(3):
        response = visitor.post(URL, {**VALID, "name": f"Person {i}"})
        assert response.status_code == 302
    blocked = visitor.post(URL, {**VALID, "name": "One too many"})
    assert blocked.status_code == 429 and "Too many sign-ups" in blocked.content.decode()
    blocked_json = visitor.post(URL, json.dumps(VALID), content_type="application/json")
    assert blocked_json.status_code == 429
    assert Lead.objects.count() == 3
    other = HttpClient(REMOTE_ADDR="203.0.113.8").post(URL, {**VALID, "name": "Someone else"})
    assert other.status_code == 302 and Lead.objects.count() == 4
    # counted in the shared cache (Redis), so every web server counts together
    assert cache.get(rate_key(IP)) == 5
    ttl = redis.Redis.from_url(settings.REDIS_URL).ttl(cache.make_key(rate_key(IP)))
    assert 0 < ttl <= 60


def test_json_signup_for_the_company_web_site(visitor, org):
    with override_settings(SALESORG_WEB_LEAD_ORIGINS=["https://www.example.com"]):
        preflight = visitor.options(URL, HTTP_ORIGIN="https://www.example.com")
        assert preflight.status_code == 204
        assert preflight["Access-Control-Allow-Origin"] == "https://www.example.com"
        response = visitor.post(
            URL,
            json.dumps({"name": "Json Person", "email": "JSON@Example.com"}),
            content_type="application/json",
            HTTP_ORIGIN="https://www.example.com",
        )
        assert response.status_code == 201 and response.json() == {"ok": True}
        assert response["Access-Control-Allow-Origin"] == "https://www.example.com"
        stranger = visitor.options(URL, HTTP_ORIGIN="https://evil.example")
        assert "Access-Control-Allow-Origin" not in stranger
    assert Lead.objects.get().email == "json@example.com"
    bad = visitor.post(URL, json.dumps({"name": ""}), content_type="application/json")
    assert bad.status_code == 400 and "name" in bad.json()["errors"]
    assert visitor.post(URL, "[1, 2]", content_type="application/json").status_code == 400


def test_the_page_form_is_csrf_protected_and_json_is_not_needed_to_be(org):
    strict = HttpClient(enforce_csrf_checks=True, REMOTE_ADDR=IP)
    assert strict.post(URL, VALID).status_code == 403
    assert not Lead.objects.exists()
    page = strict.get(URL)
    token = page.cookies["csrftoken"].value
    response = strict.post(URL, {**VALID, "csrfmiddlewaretoken": token})
    assert response.status_code == 302 and Lead.objects.count() == 1
    response = strict.post(
        URL, json.dumps({**VALID, "name": "From the web site"}), content_type="application/json"
    )
    assert response.status_code == 201 and Lead.objects.count() == 2
