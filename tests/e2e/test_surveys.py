"""A client's contact answers an NPS survey on a phone, from the e-mailed link."""

import re

import pytest

from tests.e2e.conftest import PHONE

pytestmark = pytest.mark.browser


def _fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_a_contact_answers_an_nps_survey_on_a_phone(phone_page, demo_company):
    from django.core import mail

    from accounts.models import User
    from clients import services, surveys
    from clients.models import Client, SurveyResponse, SurveyTemplate

    am = User.objects.get(username="am1")
    client = services.client_create(by=am, name="Lakeside Foods Ltd")
    services.client_create(by=am, name="Another Client Co")
    client.contacts.create(name="Zhou Jie", email="zhou.jie@lakeside.example.cn", is_primary=True)
    support = User.objects.get(username="support1")
    campaign = surveys.campaign_create(
        by=support,
        template=SurveyTemplate.objects.get(code="nps"),
        name="Spring NPS",
        clients=Client.objects.filter(pk=client.pk),
    )
    campaign.status = campaign.Status.SENDING
    campaign.save()
    assert surveys.send_pending(campaign.pk) == 1
    link = re.search(r"http://\S+(/s/\S+/\?lang=zh-hans)", mail.outbox[0].body).group(1)

    page = phone_page
    page.goto(link)  # the Chinese link first, then switch to English
    assert "您向朋友或同事推荐我们的可能性有多大" in page.get_by_test_id("survey-form").inner_text()
    page.get_by_test_id("survey-language").get_by_role("link", name="English").click()
    page.wait_for_url(re.compile(r"lang=en$"))
    form = page.get_by_test_id("survey-form")
    assert "How likely are you to recommend us" in form.inner_text()
    assert "Lakeside" not in page.content() and "Another Client" not in page.content()
    assert _fits_the_screen(page)

    page.get_by_test_id("survey-submit").click()  # nothing chosen yet
    assert page.get_by_test_id("survey-field-error").count() == 1
    page.locator("label", has_text=re.compile(r"^9$")).click()
    page.get_by_role("textbox").fill("Quick answers from our account manager.")
    page.get_by_test_id("survey-submit").click()
    page.get_by_test_id("survey-thanks").wait_for()
    assert _fits_the_screen(page)

    response = SurveyResponse.objects.get()
    assert response.nps_score == 9 and response.client == client and response.language == "en"
    page.goto(link)
    assert page.get_by_test_id("survey-answered").is_visible()
    assert SurveyResponse.objects.count() == 1
