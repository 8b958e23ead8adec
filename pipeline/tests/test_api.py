"""The leads, deals and stages API: permission matrix, actions, conflicts, schema."""

from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from pipeline.models import Deal, DealStageChange, Lead, LeadStatus, Stage
from pipeline.tests.factories import ClientFactory, DealFactory, LeadFactory, stage
from pipeline.tests.test_permissions_pages import (
    CHANGES_EAST_DEAL,
    CHANGES_EAST_LEAD,
    CONVERTS_EAST_LEAD,
    PERSONAS,
    SEES_EAST,
    SEES_NORTH,
)

pytestmark = pytest.mark.django_db

#: delete needs the role's delete permission: leadership for deals, AMs too for leads
DELETES_EAST_DEAL = {"director", "manager"}
DELETES_EAST_LEAD = {"director", "manager", "am"}
#: whose role has no delete permission at all: they get 403 for any id (existing or
#: not, visible or not), which tells them nothing about the record


@pytest.fixture
def api():
    def _api(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return _api


@pytest.fixture
def records(org):
    east_client = ClientFactory(owner=org.rep, name="East Client")
    north_client = ClientFactory(owner=org.outsider, name="North Client")
    return {
        "east_lead": LeadFactory(owner=org.rep, name="East Lead"),
        "north_lead": LeadFactory(owner=org.outsider, name="North Lead"),
        "east_deal": DealFactory(owner=org.rep, client=east_client, title="East Deal"),
        "north_deal": DealFactory(owner=org.outsider, client=north_client, title="North Deal"),
    }


def _outcome(status, persona, allowed, visible=SEES_EAST):
    expected = "ok" if persona in allowed else ("forbidden" if persona in visible else "missing")
    got = (
        "ok"
        if status in (200, 201, 204)
        else {403: "forbidden", 404: "missing"}.get(status, status)
    )
    return got, expected


# ------------------------------------------------------------------------ leads
@pytest.mark.parametrize("persona", PERSONAS)
def test_lead_api_matrix(api, org, records, persona):
    client = api(getattr(org, persona))
    names = {r["name"] for r in client.get("/api/v1/leads/").json()["results"]}
    assert ("East Lead" in names) == (persona in SEES_EAST)
    assert ("North Lead" in names) == (persona in SEES_NORTH)
    lead = records["east_lead"]
    url = f"/api/v1/leads/{lead.pk}/"
    got, expected = _outcome(client.get(url).status_code, persona, SEES_EAST)
    assert got == expected

    response = client.patch(url, {"title": persona, "version": lead.version}, format="json")
    got, expected = _outcome(response.status_code, persona, CHANGES_EAST_LEAD)
    assert got == expected
    lead.refresh_from_db()
    assert (lead.title == persona) == (persona in CHANGES_EAST_LEAD)

    response = client.post(
        f"{url}disqualify/", {"reason": "Tiny", "version": lead.version}, format="json"
    )
    got, expected = _outcome(response.status_code, persona, CHANGES_EAST_LEAD)
    assert got == expected
    lead.refresh_from_db()
    if persona in CHANGES_EAST_LEAD:
        assert lead.status == LeadStatus.DISQUALIFIED
        lead.status, lead.disqualified_reason = LeadStatus.QUALIFIED, ""
        lead.save()

    response = client.post(f"{url}convert/", {"deal_title": "From API"}, format="json")
    got, expected = _outcome(response.status_code, persona, CONVERTS_EAST_LEAD)
    assert got == expected
    lead.refresh_from_db()
    assert (lead.status == LeadStatus.CONVERTED) == (persona in CONVERTS_EAST_LEAD)

    spare = LeadFactory(owner=org.rep, name="Entered by mistake")
    response = client.delete(f"/api/v1/leads/{spare.pk}/")
    got, expected = _outcome(response.status_code, persona, DELETES_EAST_LEAD, SEES_EAST)
    assert got == expected
    assert Lead.objects.filter(pk=spare.pk).exists() == (persona not in DELETES_EAST_LEAD)
    if persona in DELETES_EAST_LEAD:  # a converted lead keeps its history
        assert client.delete(url).status_code == 400


@pytest.mark.parametrize("persona", PERSONAS)
def test_lead_api_create(api, org, persona):
    response = api(getattr(org, persona)).post(
        "/api/v1/leads/", {"name": "Api Lead", "source": "referral"}, format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["owner"] == getattr(org, persona).pk and body["status"] == "new"


def test_lead_status_changes_only_through_actions(api, org, records):
    lead = records["east_lead"]
    client = api(org.rep)
    response = client.patch(
        f"/api/v1/leads/{lead.pk}/",
        {"status": "converted", "version": lead.version},
        format="json",
    )
    assert response.status_code == 400 and "status" in response.json()
    response = client.patch(
        f"/api/v1/leads/{lead.pk}/", {"status": "qualified", "version": 1}, format="json"
    )
    assert response.status_code == 200 and response.json()["status"] == "qualified"
    stale = client.patch(f"/api/v1/leads/{lead.pk}/", {"title": "x", "version": 1}, format="json")
    assert stale.status_code == 409
    created_converted = client.post(
        "/api/v1/leads/", {"name": "Shortcut", "status": "converted"}, format="json"
    )
    assert created_converted.status_code == 400 and "status" in created_converted.json()
    missing_reason = client.post(
        f"/api/v1/leads/{lead.pk}/disqualify/", {"reason": "", "version": 2}, format="json"
    )
    assert missing_reason.status_code == 400


def test_lead_convert_via_api_is_idempotent_and_can_use_a_visible_client(api, org, records):
    lead = records["east_lead"]
    client = api(org.rep)
    foreign = records["north_deal"].client
    refused = client.post(
        f"/api/v1/leads/{lead.pk}/convert/", {"client": foreign.pk}, format="json"
    )
    assert refused.status_code == 400 and "client" in refused.json()
    own = records["east_deal"].client
    first = client.post(
        f"/api/v1/leads/{lead.pk}/convert/",
        {"client": own.pk, "deal_title": "Second deal", "amount": "300.50"},
        format="json",
    )
    assert first.status_code == 201, first.json()
    body = first.json()
    assert body["created"] and body["client"] == own.pk
    assert body["deal"]["title"] == "Second deal" and body["deal"]["amount"] == "300.50"
    assert body["lead"]["status"] == "converted" and body["lead"]["converted_deal"]
    again = client.post(f"/api/v1/leads/{lead.pk}/convert/", {}, format="json")
    assert again.status_code == 200 and not again.json()["created"]
    assert again.json()["deal"]["id"] == body["deal"]["id"]
    assert Deal.objects.filter(client=own).count() == 2


def test_lead_duplicates_endpoint_lists_only_visible_records(api, org, records):
    body = (
        api(org.rep).get("/api/v1/leads/duplicates/", {"email": records["east_lead"].email}).json()
    )
    assert [x["id"] for x in body["leads"]] == [records["east_lead"].pk]
    body = (
        api(org.rep).get("/api/v1/leads/duplicates/", {"email": records["north_lead"].email}).json()
    )
    assert body == {"clients": [], "leads": []}


# ------------------------------------------------------------------------ deals
@pytest.mark.parametrize("persona", PERSONAS)
def test_deal_api_matrix(api, org, records, persona):
    client = api(getattr(org, persona))
    titles = {r["title"] for r in client.get("/api/v1/deals/").json()["results"]}
    assert ("East Deal" in titles) == (persona in SEES_EAST)
    assert ("North Deal" in titles) == (persona in SEES_NORTH)
    deal = records["east_deal"]
    url = f"/api/v1/deals/{deal.pk}/"
    got, expected = _outcome(client.get(url).status_code, persona, SEES_EAST)
    assert got == expected

    def check(response, allowed=CHANGES_EAST_DEAL):
        got, expected = _outcome(response.status_code, persona, allowed)
        assert got == expected, response.content

    check(client.patch(url, {"next_step": persona, "version": deal.version}, format="json"))
    deal.refresh_from_db()
    check(
        client.post(
            f"{url}move/", {"stage": stage("proposal").pk, "version": deal.version}, format="json"
        )
    )
    deal.refresh_from_db()
    check(
        client.post(
            f"{url}won/",
            {
                "closed_on": timezone.localdate().isoformat(),
                "amount": "999",
                "version": deal.version,
            },
            format="json",
        )
    )
    deal.refresh_from_db()
    check(client.post(f"{url}reopen/", {"version": deal.version}, format="json"))
    deal.refresh_from_db()
    check(
        client.post(
            f"{url}lost/",
            {"reason": "Price", "competitor": "Acme", "version": deal.version},
            format="json",
        )
    )
    deal.refresh_from_db()
    codes = list(
        DealStageChange.objects.filter(deal=deal)
        .order_by("pk")
        .values_list("to_stage__code", flat=True)
    )
    if persona in CHANGES_EAST_DEAL:
        assert codes == ["first_contact", "proposal", "won", "proposal", "lost"]
        assert deal.next_step == persona and deal.lost_reason == "Price"
    else:
        assert codes == ["first_contact"] and deal.next_step == ""
    got, expected = _outcome(
        client.delete(url).status_code,
        persona,
        DELETES_EAST_DEAL,
        SEES_EAST,
    )
    assert got == expected
    assert Deal.objects.filter(pk=deal.pk).exists() == (persona not in DELETES_EAST_DEAL)


@pytest.mark.parametrize("persona", PERSONAS)
def test_deal_api_create(api, org, records, persona):
    east_client = records["east_deal"].client
    response = api(getattr(org, persona)).post(
        "/api/v1/deals/",
        {"title": "Api deal", "client": east_client.pk, "amount": "10.00"},
        format="json",
    )
    if persona == "support":
        assert response.status_code == 403
    elif persona in SEES_EAST:
        assert response.status_code == 201, response.json()
        body = response.json()
        assert body["stage_code"] == "first_contact" and body["probability"] == 10
        assert body["currency"] == "CNY" and body["owner"] == getattr(org, persona).pk
        assert DealStageChange.objects.filter(deal_id=body["id"]).count() == 1
    else:
        assert response.status_code == 400 and "client" in response.json()


def test_the_stage_is_never_patched_and_actions_need_what_they_need(api, org, records):
    deal = records["east_deal"]
    client = api(org.rep)
    url = f"/api/v1/deals/{deal.pk}/"
    response = client.patch(url, {"stage": stage("won").pk, "version": 1}, format="json")
    assert response.status_code == 400 and "stage" in response.json()
    response = client.patch(url, {"title": "No version"}, format="json")
    assert response.status_code == 400 and "version" in response.json()
    response = client.post(f"{url}won/", {"version": 1}, format="json")
    assert response.status_code == 400
    assert {"closed_on", "amount"} <= set(response.json())
    response = client.post(f"{url}lost/", {"version": 1}, format="json")
    assert response.status_code == 400 and "reason" in response.json()
    response = client.post(f"{url}move/", {"stage": stage("won").pk, "version": 1}, format="json")
    assert response.status_code == 400  # closing is what won and lost are for
    response = client.post(f"{url}reopen/", {"version": 1}, format="json")
    assert response.status_code == 400  # it is open
    deal.refresh_from_db()
    assert deal.stage.code == "first_contact" and deal.version == 1


def test_a_stale_version_answers_409_and_changes_nothing(api, org, records):
    deal = records["east_deal"]
    url = f"/api/v1/deals/{deal.pk}/"
    first = api(org.rep).post(
        f"{url}move/", {"stage": stage("proposal").pk, "version": 1}, format="json"
    )
    assert first.status_code == 200 and first.json()["version"] == 2
    second = api(org.am).post(
        f"{url}move/", {"stage": stage("negotiation").pk, "version": 1}, format="json"
    )
    assert second.status_code == 409 and "changed" in second.json()["detail"]
    third = api(org.am).patch(url, {"amount": "1", "version": 1}, format="json")
    assert third.status_code == 409
    deal.refresh_from_db()
    assert deal.stage.code == "proposal" and deal.amount == Decimal("100000.00")


def test_won_via_api_updates_the_client_spend(api, org, records):
    deal = records["east_deal"]
    response = api(org.rep).post(
        f"/api/v1/deals/{deal.pk}/won/",
        {"closed_on": timezone.localdate().isoformat(), "amount": "1500000", "version": 1},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["stage_kind"] == "won" and body["closed_on"] == timezone.localdate().isoformat()
    deal.client.refresh_from_db()
    assert deal.client.spend_12m == Decimal("1500000") and deal.client.is_key_account


def test_deal_filters(api, org, records):
    client = api(org.director)
    won = DealFactory(owner=org.rep, stage=stage("won"), closed_on=timezone.localdate())
    ids = {r["id"] for r in client.get("/api/v1/deals/", {"state": "won"}).json()["results"]}
    assert ids == {won.pk}
    ids = {
        r["id"] for r in client.get("/api/v1/deals/", {"owner": org.outsider.pk}).json()["results"]
    }
    assert ids == {records["north_deal"].pk}
    assert client.get("/api/v1/deals/", {"amount_min": "200000"}).json()["results"] == []


@pytest.mark.parametrize("field", ["client", "owner"])
def test_filtering_deals_by_a_hidden_id_answers_like_an_unknown_id(api, org, records, field):
    deal = records["east_deal"]
    hidden = deal.client_id if field == "client" else org.rep.pk
    client = api(org.outsider)
    unknown = client.get("/api/v1/deals/", {field: 999999})
    probed = client.get("/api/v1/deals/", {field: hidden})
    assert unknown.status_code == probed.status_code == 400
    assert unknown.json() == probed.json()
    north = records["north_deal"]
    own = north.client_id if field == "client" else org.outsider.pk
    response = client.get("/api/v1/deals/", {field: own})
    assert response.status_code == 200
    assert [d["id"] for d in response.json()["results"]] == [north.pk]


def test_the_browsable_deal_api_offers_only_visible_clients(api, org, records):
    response = api(org.outsider).get("/api/v1/deals/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    html = response.content.decode()
    assert "North Client" in html
    assert "East Client" not in html


# ----------------------------------------------------------------------- stages
@pytest.mark.parametrize("persona", PERSONAS)
def test_stages_are_read_by_all_and_written_by_the_director(api, org, persona):
    client = api(getattr(org, persona))
    body = client.get("/api/v1/stages/").json()
    assert [s["code"] for s in body][:2] == ["first_contact", "needs_analysis"]
    negotiation = stage("negotiation")
    patch = client.patch(f"/api/v1/stages/{negotiation.pk}/", {"probability": 70}, format="json")
    create = client.post(
        "/api/v1/stages/", {"name": "Trial", "order": 35, "probability": 60}, format="json"
    )
    if persona == "director":
        assert patch.status_code == 200 and patch.json()["probability"] == 70
        assert create.status_code == 201 and create.json()["kind"] == "open"
        trial = create.json()["id"]
        assert client.delete(f"/api/v1/stages/{trial}/").status_code == 204
        assert client.delete(f"/api/v1/stages/{stage('won').pk}/").status_code == 400
    else:
        assert patch.status_code == 403 and create.status_code == 403
        assert client.delete(f"/api/v1/stages/{negotiation.pk}/").status_code == 403
        assert not Stage.objects.filter(name="Trial").exists()


def test_a_stage_with_deals_is_retired_not_deleted(api, org, records):
    response = api(org.director).delete(f"/api/v1/stages/{stage('first_contact').pk}/")
    assert response.status_code == 400


# ----------------------------------------------------------------------- schema
def test_the_openapi_schema_describes_the_actions(api, org):
    response = api(org.rep).get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    paths = schema["paths"]
    for path in (
        "/api/v1/leads/",
        "/api/v1/leads/{id}/convert/",
        "/api/v1/leads/{id}/disqualify/",
        "/api/v1/leads/duplicates/",
        "/api/v1/deals/",
        "/api/v1/deals/{id}/move/",
        "/api/v1/deals/{id}/won/",
        "/api/v1/deals/{id}/lost/",
        "/api/v1/deals/{id}/reopen/",
        "/api/v1/stages/",
    ):
        assert path in paths, path
    won = paths["/api/v1/deals/{id}/won/"]["post"]
    assert set(won["responses"]) >= {"200", "400", "403", "404", "409"}
    ref = won["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert set(schema["components"]["schemas"][ref]["required"]) == {
        "closed_on",
        "amount",
        "version",
    }
    convert = paths["/api/v1/leads/{id}/convert/"]["post"]
    assert set(convert["responses"]) >= {"200", "201"}
