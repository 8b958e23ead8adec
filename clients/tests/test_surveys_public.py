"""The public answer page: one answer per signed link, clear pages for every dead
end, no login, nothing about anyone else."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.test import Client as Browser
from django.utils import timezone

from clients.models import SurveyAnswer, SurveyCampaign, SurveyResponse
from clients.tests import survey_helpers as h

pytestmark = pytest.mark.django_db


@pytest.fixture
def nps_invitation(book):
    return h.invitation(h.campaign("nps"), book.contacts["rep"])


def test_a_link_answers_once_without_login(client, nps_invitation):
    url = h.link(nps_invitation, "en")
    page = client.get(url)
    assert page.status_code == 200
    assert "How likely are you to recommend us" in page.content.decode()
    posted = client.post(url, h.form_data(nps_invitation, nps=10, text="Great support"))
    assert posted.status_code == 302 and "/thanks/" in posted["Location"]
    thanks = client.get(posted["Location"])
    assert thanks.status_code == 200
    assert 'data-testid="survey-thanks"' in thanks.content.decode()

    response = SurveyResponse.objects.get(invitation=nps_invitation)
    assert response.nps_score == 10 and response.csat_score is None
    assert response.client_id == nps_invitation.client_id and response.language == "en"
    stored = SurveyAnswer.objects.filter(response=response).order_by("question__position")
    assert list(stored.values_list("number", "text")) == [(10, ""), (None, "Great support")]

    again = client.get(url)
    assert again.status_code == 200
    assert 'data-testid="survey-answered"' in again.content.decode()
    second = client.post(url, h.form_data(nps_invitation, nps=0))
    assert second.status_code == 409
    assert 'data-testid="survey-answered"' in second.content.decode()
    assert SurveyResponse.objects.filter(invitation=nps_invitation).count() == 1
    assert SurveyResponse.objects.get().nps_score == 10


def test_expired_link_gets_a_clear_page(client, book):
    inv = h.invitation(h.campaign("nps"), book.contacts["rep"])
    with time_machine.travel(inv.expires_at + timedelta(seconds=1)):
        for response in (client.get(h.link(inv)), client.post(h.link(inv), h.form_data(inv))):
            assert response.status_code == 410
            assert 'data-testid="survey-expired"' in response.content.decode()
    assert not SurveyResponse.objects.exists()


def test_a_closed_campaign_takes_no_answers(client, book):
    inv = h.invitation(h.campaign("nps", status=SurveyCampaign.Status.CLOSED), book.contacts["rep"])
    response = client.get(h.link(inv))
    assert response.status_code == 410


@pytest.mark.parametrize(
    "mangle",
    [
        lambda s: s[:-1] + ("A" if s[-1] != "A" else "B"),  # signature changed
        lambda s: ("x" if s[0] != "x" else "y") + s[1:],  # token changed
        lambda s: s.split(".")[0],  # signature cut off
        lambda s: "made-up.link",
    ],
)
def test_tampered_links_get_the_invalid_page(client, nps_invitation, mangle):
    signed = h.link(nps_invitation).split("/")[2]
    url = f"/s/{mangle(signed)}/"
    for response in (client.get(url), client.post(url, h.form_data(nps_invitation))):
        assert response.status_code == 404
        assert 'data-testid="survey-invalid"' in response.content.decode()
    assert not SurveyResponse.objects.exists()


def test_a_signed_token_of_an_unsent_invitation_is_invalid(client, book):
    inv = h.invitation(h.campaign("nps"), book.contacts["rep"], unsent=True)
    assert client.get(h.link(inv)).status_code == 404


def test_the_page_shows_nothing_about_other_clients(client, book):
    """Other clients' names, the contact's own client and any database id stay out."""
    camp = h.campaign("quarterly-satisfaction")
    mine = h.invitation(camp, book.contacts["rep"])
    for label in ("am", "outsider", "peer_rep"):
        h.invitation(camp, book.contacts[label])
    html = client.get(h.link(mine)).content.decode()
    for c in book.clients.values():
        assert c.name not in html
    assert camp.name not in html  # the internal campaign name stays internal
    ids = {str(x) for x in (mine.pk, mine.client_id, mine.contact_id, camp.pk)}
    names = set(re.findall(r'<(?:input|textarea|select)[^>]*\sname="([^"]+)"', html))
    assert names <= {"csrfmiddlewaretoken", "q1", "q2", "q3", "q4", "q5"}
    assert not ({v for v in re.findall(r'value="(\d+)"', html)} - {str(n) for n in range(11)})
    assert not any(f"/{i}/" in html for i in ids)
    assert 'href="/clients/' not in html and "/login/" not in html


def test_the_page_is_bilingual_with_a_switch(client, nps_invitation):
    zh = client.get(h.link(nps_invitation, "zh-hans")).content.decode()
    assert "您向朋友或同事推荐我们的可能性有多大？" in zh
    assert 'lang="zh-hans"' in zh
    assert f'href="{h.link(nps_invitation, "en")}"' in zh
    en = client.get(h.link(nps_invitation, "en")).content.decode()
    assert "How likely are you to recommend us" in en
    # without ?lang= the browser's language decides
    browser_zh = client.get(h.link(nps_invitation), HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    assert "您向朋友或同事推荐" in browser_zh.content.decode()


def test_required_answers_and_ranges_are_checked(client, book):
    inv = h.invitation(h.campaign("quarterly-satisfaction"), book.contacts["rep"])
    url = h.link(inv, "en")
    data = h.form_data(inv)
    data["q1"] = ""  # a required rating left out
    data["q2"] = "6"  # a rating out of 1–5
    data["q4"] = "11"  # NPS out of 0–10
    response = client.post(url, data)
    assert response.status_code == 400
    html = response.content.decode()
    assert html.count('data-testid="survey-field-error"') == 3
    assert "Please answer this question." in html
    assert not SurveyResponse.objects.exists()
    data = h.form_data(inv, ratings=[4, 5, 3], nps=8)
    data["q5"] = ""  # the free text is optional
    assert client.post(url, data).status_code == 302
    response = SurveyResponse.objects.get()
    assert (response.nps_score, str(response.csat_score)) == (8, "4.00")


def test_the_form_is_csrf_protected(book):
    inv = h.invitation(h.campaign("nps"), book.contacts["rep"])
    browser = Browser(enforce_csrf_checks=True)
    assert browser.post(h.link(inv), h.form_data(inv)).status_code == 403
    page = browser.get(h.link(inv))
    token = page.cookies["csrftoken"].value
    data = {**h.form_data(inv), "csrfmiddlewaretoken": token}
    assert browser.post(h.link(inv), data).status_code == 302


def test_pages_are_private_and_never_cached(client, nps_invitation):
    response = client.get(h.link(nps_invitation))
    assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    assert response["Referrer-Policy"] == "same-origin"
    assert "noindex" in response["X-Robots-Tag"]


def test_thanks_before_answering_leads_to_the_form(client, nps_invitation):
    signed = h.link(nps_invitation).split("/")[2]
    response = client.get(f"/s/{signed}/thanks/")
    assert response.status_code == 302 and response["Location"].startswith(f"/s/{signed}/")


def test_a_signed_in_user_sees_the_same_page(login, org, nps_invitation):
    browser = login(org.outsider)
    html = browser.get(h.link(nps_invitation)).content.decode()
    assert "outsider" not in html and 'data-testid="survey-form"' in html


def test_answering_after_expiry_in_the_middle_of_filling_in(client, book):
    inv = h.invitation(h.campaign("nps"), book.contacts["rep"])
    assert client.get(h.link(inv)).status_code == 200
    later = timezone.now() + timedelta(days=31)
    with time_machine.travel(later):
        response = client.post(h.link(inv), h.form_data(inv))
    assert response.status_code == 410
