"""``/api/v1/surveys/``, ``/api/v1/survey-templates/`` and ``/api/v1/survey-responses/``."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clients import surveys
from clients.models import Client, SurveyCampaign
from clients.tests import survey_helpers as h
from clients.tests.factories import ClientFactory, ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def east_campaign(org, book):
    for label in ("rep", "am"):
        h.primary(book.clients[label])
    campaign = surveys.campaign_create(
        by=org.support,
        template=h.template("quarterly-satisfaction"),
        name="East quarterly",
        clients=Client.objects.filter(pk__in=[book.clients["rep"].pk, book.clients["am"].pk]),
    )
    campaign.invitations.update(sent_at=timezone.now())
    response = h.answer(
        campaign.invitations.get(client=book.clients["rep"]), nps=6, ratings=[4, 4, 2]
    )
    return campaign, response


def _results(api_client, url, **params):
    response = api_client.get(url, params)
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_templates_are_readable_with_their_questions(api, org):
    rows = _results(api(org.rep), "/api/v1/survey-templates/", code="nps")
    assert len(rows) == 1 and rows[0]["is_builtin"] is True
    assert [q["kind"] for q in rows[0]["questions"]] == ["nps", "text"]
    assert api(org.rep).post("/api/v1/survey-templates/", {}).status_code == 405
    assert api().get("/api/v1/survey-templates/").status_code in (401, 403)


CAMPAIGN_READERS = {
    "director": True,
    "manager": True,
    "support": True,
    "am": True,
    "rep": True,
    "peer_rep": False,
    "peer_manager": False,
    "peer_am": False,
    "outsider": False,
}


@pytest.mark.parametrize(("who", "sees"), CAMPAIGN_READERS.items())
def test_campaigns_and_responses_for_each_persona(api, org, book, east_campaign, who, sees):
    campaign, response = east_campaign
    client = api(getattr(org, who))
    assert [c["id"] for c in _results(client, "/api/v1/surveys/")] == (
        [campaign.pk] if sees else []
    )
    detail = client.get(f"/api/v1/surveys/{campaign.pk}/")
    assert detail.status_code == (200 if sees else 404)
    responses = _results(client, "/api/v1/survey-responses/")
    assert [r["id"] for r in responses] == ([response.pk] if sees else [])
    one = client.get(f"/api/v1/survey-responses/{response.pk}/")
    assert one.status_code == (200 if sees else 404)
    summary = client.get("/api/v1/survey-responses/summary/").json()
    assert summary["responses"] == (1 if sees else 0)


def test_counts_cover_only_the_clients_one_sees(api, org, east_campaign):
    campaign, _response = east_campaign
    rep_view = api(org.rep).get(f"/api/v1/surveys/{campaign.pk}/").json()
    assert rep_view["counts"] == {
        "invited": 1,
        "sent": 1,
        "reminded": 0,
        "answered": 1,
        "expired": 0,
    }
    manager_view = _results(api(org.manager), "/api/v1/surveys/")[0]
    assert manager_view["counts"]["invited"] == 2 and manager_view["template"] == (
        "quarterly-satisfaction"
    )


def test_a_response_carries_its_scores_and_answers(api, org, east_campaign):
    campaign, response = east_campaign
    body = api(org.am).get(f"/api/v1/survey-responses/{response.pk}/").json()
    assert body["nps_score"] == 6 and body["nps_category"] == "detractor"
    assert body["csat_score"] == "3.33" and body["campaign"] == campaign.pk
    assert body["survey"] == "quarterly-satisfaction"
    # the optional free text was left blank: no answer row for it
    assert [a["kind"] for a in body["answers"]] == ["rating", "rating", "rating", "nps"]
    assert [a["number"] for a in body["answers"][:4]] == [4, 4, 2, 6]
    summary = api(org.am).get("/api/v1/survey-responses/summary/", {"survey": "nps"}).json()
    assert summary["responses"] == 0
    summary = api(org.am).get("/api/v1/survey-responses/summary/").json()
    assert summary == {
        "responses": 1,
        "promoters": 0,
        "passives": 0,
        "detractors": 1,
        "nps": "-100.0",
        "csat_mean": "3.33",
        "satisfied_share": "0.0",
    }


@pytest.mark.parametrize(
    ("who", "expected"),
    [("support", 201), ("manager", 201), ("director", 201), ("am", 403), ("rep", 403)],
)
def test_who_may_create_a_campaign(
    api, org, book, who, expected, django_capture_on_commit_callbacks
):
    for label in book.clients:
        h.primary(book.clients[label])
    with django_capture_on_commit_callbacks() as callbacks:
        response = api(getattr(org, who)).post(
            "/api/v1/surveys/",
            {
                "template": "nps",
                "name": "API NPS",
                "clients": [c.pk for c in book.clients.values()],
                "send": True,
            },
            format="json",
        )
    assert response.status_code == expected, response.content
    if expected == 201:
        body = response.json()
        assert body["status"] == "sending" and len(callbacks) == 1
        campaign = SurveyCampaign.objects.get(pk=body["id"])
        visible = set(Client.objects.visible_to(getattr(org, who)).values_list("pk", flat=True))
        invited = set(campaign.invitations.values_list("client_id", flat=True))
        assert invited and invited <= visible
        assert body["counts"]["invited"] == len(invited)
    else:
        assert not SurveyCampaign.objects.exists()


def test_create_by_client_filters_then_send_and_close(api, org, book):
    for label in book.clients:
        h.primary(book.clients[label])
    caller = api(org.manager)
    created = caller.post(
        "/api/v1/surveys/",
        {"template": "nps", "client_filters": {"search": "Firm of am"}},
        format="json",
    ).json()
    assert created["status"] == "draft" and created["counts"]["invited"] == 1
    nobody = caller.post(
        "/api/v1/surveys/",
        {"template": "nps", "client_filters": {"owner": str(org.outsider.pk)}},
        format="json",
    )
    assert nobody.status_code == 400  # a person the manager does not see: no clients
    assert api(org.am).post(f"/api/v1/surveys/{created['id']}/send/").status_code == 403
    assert api(org.outsider).post(f"/api/v1/surveys/{created['id']}/send/").status_code == 404
    sent = caller.post(f"/api/v1/surveys/{created['id']}/send/")
    assert sent.status_code == 200 and sent.json()["status"] == "sending"
    again = caller.post(f"/api/v1/surveys/{created['id']}/send/")
    assert again.status_code == 400
    closed = caller.post(f"/api/v1/surveys/{created['id']}/close/")
    assert closed.json()["status"] == "closed"
    assert caller.delete(f"/api/v1/surveys/{created['id']}/").status_code == 405


def test_the_schema_documents_the_survey_endpoints(api, org):
    schema = api(org.rep).get("/api/schema/", HTTP_ACCEPT="application/json").json()
    for path in (
        "/api/v1/surveys/",
        "/api/v1/surveys/{id}/send/",
        "/api/v1/survey-responses/",
        "/api/v1/survey-responses/summary/",
        "/api/v1/survey-templates/",
    ):
        assert path in schema["paths"], path


def _populate(org, n: int) -> None:
    camp = h.campaign("quarterly-satisfaction", created_by=org.support)
    for i in range(n):
        client = ClientFactory(owner=org.rep)
        inv = h.invitation(camp, ContactFactory(client=client))
        h.answer(inv, nps=i % 11, ratings=[3, 4, 5])
        h.campaign("nps", created_by=org.support)


@pytest.mark.parametrize(
    ("url", "most"),
    [
        # after the first request (which loads the caller's permissions and scope):
        # client grants, the capped count, the page, then the page's invitation
        # counts / the answers with their questions / the questions
        ("/api/v1/surveys/", 5),  # grants twice: campaigns, then invitations
        ("/api/v1/survey-responses/", 4),
        ("/api/v1/survey-templates/", 3),
    ],
)
def test_api_list_queries_do_not_grow(api, org, url, most):
    caller = api(org.manager)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert caller.get(url).status_code == 200
        return len(ctx.captured_queries)

    count()  # the first request also loads the caller's permissions and scope
    _populate(org, 2)
    small = count()
    _populate(org, 10)
    assert small == count() <= most
