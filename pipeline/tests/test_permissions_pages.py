"""Permission matrix of the lead, deal and stage pages: every persona, every page and action.

The records: the rep's lead and deal (East) and the outsider's (North). Outsiders
get 404 — never 403, which would confirm the record exists — and never see the
other region's records in lists, exports, the board or the duplicate check.
"""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from pipeline.models import Deal, Lead, LeadStatus
from pipeline.tests.factories import ClientFactory, DealFactory, LeadFactory, stage

pytestmark = pytest.mark.django_db

PERSONAS = [
    "director",
    "manager",
    "am",
    "rep",
    "peer_rep",
    "support",
    "peer_manager",
    "peer_am",
    "outsider",
]
#: who sees the rep's records, and the outsider's
SEES_EAST = {"director", "manager", "am", "rep", "support"}
SEES_NORTH = {"director", "peer_manager", "peer_am", "outsider"}
#: who may change (and move) the rep's deal; support only reads deals
CHANGES_EAST_DEAL = {"director", "manager", "am", "rep"}
#: who may change the rep's lead: support keeps leads in order too
CHANGES_EAST_LEAD = SEES_EAST
CONVERTS_EAST_LEAD = CHANGES_EAST_DEAL


@pytest.fixture
def records(org):
    east_client = ClientFactory(owner=org.rep, name="East Client")
    north_client = ClientFactory(owner=org.outsider, name="North Client")
    return {
        "east_lead": LeadFactory(owner=org.rep, name="East Lead", company="East Prospect"),
        "north_lead": LeadFactory(owner=org.outsider, name="North Lead", company="East Prospect"),
        "east_deal": DealFactory(owner=org.rep, client=east_client, title="East Deal"),
        "north_deal": DealFactory(owner=org.outsider, client=north_client, title="North Deal"),
    }


def _expected(persona, allowed, visible=SEES_EAST):
    if persona in allowed:
        return "ok"
    return "forbidden" if persona in visible else "missing"


def _status(code):
    return {200: "ok", 302: "ok", 403: "forbidden", 404: "missing"}.get(code, code)


def _body(response):
    if hasattr(response, "streaming_content"):
        return b"".join(response.streaming_content).decode("utf-8-sig")
    return response.content.decode()


# ------------------------------------------------------------------------ lists
@pytest.mark.parametrize("persona", PERSONAS)
def test_lists_exports_and_board_show_exactly_the_visible_records(login, org, records, persona):
    client = login(getattr(org, persona))
    leads = _body(client.get(reverse("pipeline:lead-list")))
    lead_csv = _body(client.get(reverse("pipeline:lead-list") + "?export=csv"))
    deals = _body(client.get(reverse("pipeline:deal-list")))
    deal_csv = _body(client.get(reverse("pipeline:deal-list") + "?export=csv"))
    board = _body(client.get(reverse("pipeline:deal-board")))
    for html in (leads, lead_csv):
        assert ("East Lead" in html) == (persona in SEES_EAST)
        assert ("North Lead" in html) == (persona in SEES_NORTH)
    for html in (deals, deal_csv, board):
        assert ("East Deal" in html) == (persona in SEES_EAST)
        assert ("North Deal" in html) == (persona in SEES_NORTH)


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_duplicate_check_and_client_picker_show_only_visible_records(
    login, org, records, persona
):
    client = login(getattr(org, persona))
    html = _body(client.get(reverse("pipeline:lead-duplicates") + "?company=East+Prospect"))
    assert (f'data-duplicate-lead="{records["east_lead"].pk}"' in html) == (persona in SEES_EAST)
    assert (f'data-duplicate-lead="{records["north_lead"].pk}"' in html) == (persona in SEES_NORTH)
    html = _body(client.get(reverse("pipeline:client-options") + "?q=Client"))
    assert ("East Client" in html) == (persona in SEES_EAST)
    assert ("North Client" in html) == (persona in SEES_NORTH)


# ------------------------------------------------------------------------ leads
@pytest.mark.parametrize("persona", PERSONAS)
def test_lead_pages_per_persona(login, org, records, persona):
    client = login(getattr(org, persona))
    lead = records["east_lead"]
    detail = client.get(reverse("pipeline:lead-detail", args=[lead.pk]))
    assert _status(detail.status_code) == _expected(persona, SEES_EAST)
    edit = client.get(reverse("pipeline:lead-edit", args=[lead.pk]))
    assert _status(edit.status_code) == _expected(persona, CHANGES_EAST_LEAD)
    convert = client.get(reverse("pipeline:lead-convert", args=[lead.pk]))
    assert _status(convert.status_code) == _expected(persona, CONVERTS_EAST_LEAD)
    # the other region's lead is simply not there
    other = client.get(reverse("pipeline:lead-detail", args=[records["north_lead"].pk]))
    assert _status(other.status_code) == ("ok" if persona in SEES_NORTH else "missing")


@pytest.mark.parametrize("persona", PERSONAS)
def test_lead_edit_and_status_change_per_persona(login, org, records, persona):
    client = login(getattr(org, persona))
    lead = records["east_lead"]
    response = client.post(
        reverse("pipeline:lead-edit", args=[lead.pk]),
        {
            "name": "East Lead",
            "company": "East Prospect",
            "source": "trade_show",
            "status": "contacted",
            "title": f"by {persona}",
            "version": lead.version,
        },
    )
    assert _status(response.status_code) == _expected(persona, CHANGES_EAST_LEAD)
    lead.refresh_from_db()
    assert (lead.title == f"by {persona}") == (persona in CHANGES_EAST_LEAD)
    response = client.post(
        reverse("pipeline:lead-status", args=[lead.pk]),
        {"status": "disqualified", "reason": "Too small", "version": lead.version},
    )
    assert _status(response.status_code) == _expected(persona, CHANGES_EAST_LEAD)
    lead.refresh_from_db()
    assert (lead.status == LeadStatus.DISQUALIFIED) == (persona in CHANGES_EAST_LEAD)


@pytest.mark.parametrize("persona", PERSONAS)
def test_lead_conversion_per_persona(login, org, records, persona):
    client = login(getattr(org, persona))
    lead = records["east_lead"]
    response = client.post(
        reverse("pipeline:lead-convert", args=[lead.pk]),
        {
            "client_choice": "new",
            "client_name": "East Prospect",
            "deal_title": "First order",
            "amount": "1000",
            "currency": "CNY",
        },
    )
    assert _status(response.status_code) == _expected(persona, CONVERTS_EAST_LEAD)
    lead.refresh_from_db()
    assert (lead.status == LeadStatus.CONVERTED) == (persona in CONVERTS_EAST_LEAD)
    if persona in CONVERTS_EAST_LEAD:
        assert response["Location"] == reverse(
            "pipeline:deal-detail", args=[lead.converted_deal_id]
        )


@pytest.mark.parametrize("persona", PERSONAS)
def test_lead_create_is_for_everyone_with_add_lead(login, org, persona):
    client = login(getattr(org, persona))
    assert client.get(reverse("pipeline:lead-create")).status_code == 200
    response = client.post(
        reverse("pipeline:lead-create"),
        {"name": f"New from {persona}", "source": "cold_call", "status": "new"},
    )
    assert response.status_code == 302
    assert Lead.objects.get(name=f"New from {persona}").owner == getattr(org, persona)


# ------------------------------------------------------------------------ deals
@pytest.mark.parametrize("persona", PERSONAS)
def test_deal_pages_per_persona(login, org, records, persona):
    client = login(getattr(org, persona))
    deal = records["east_deal"]
    detail = client.get(reverse("pipeline:deal-detail", args=[deal.pk]))
    assert _status(detail.status_code) == _expected(persona, SEES_EAST)
    for name in ("pipeline:deal-edit", "pipeline:deal-won", "pipeline:deal-lost"):
        response = client.get(reverse(name, args=[deal.pk]))
        assert _status(response.status_code) == _expected(persona, CHANGES_EAST_DEAL), name
    other = client.get(reverse("pipeline:deal-detail", args=[records["north_deal"].pk]))
    assert _status(other.status_code) == ("ok" if persona in SEES_NORTH else "missing")


@pytest.mark.parametrize("persona", PERSONAS)
def test_deal_edit_per_persona(login, org, records, persona):
    client = login(getattr(org, persona))
    deal = records["east_deal"]
    response = client.post(
        reverse("pipeline:deal-edit", args=[deal.pk]),
        {
            "title": f"East Deal by {persona}",
            "amount": "2000",
            "currency": "CNY",
            "version": deal.version,
        },
    )
    assert _status(response.status_code) == _expected(persona, CHANGES_EAST_DEAL)
    deal.refresh_from_db()
    assert (deal.title == f"East Deal by {persona}") == (persona in CHANGES_EAST_DEAL)


@pytest.mark.parametrize("persona", PERSONAS)
def test_deal_move_won_lost_reopen_per_persona(login, org, records, persona):
    client = login(getattr(org, persona))
    deal = records["east_deal"]
    expected = _expected(persona, CHANGES_EAST_DEAL)
    response = client.post(
        reverse("pipeline:deal-move", args=[deal.pk]),
        {"stage": stage("proposal").pk, "version": deal.version},
    )
    assert _status(response.status_code) == expected
    deal.refresh_from_db()
    assert (deal.stage.code == "proposal") == (persona in CHANGES_EAST_DEAL)

    response = client.post(
        reverse("pipeline:deal-won", args=[deal.pk]),
        {"closed_on": timezone.localdate().isoformat(), "amount": "5000", "version": deal.version},
    )
    assert _status(response.status_code) == expected
    deal.refresh_from_db()
    assert (deal.stage.code == "won") == (persona in CHANGES_EAST_DEAL)

    response = client.post(
        reverse("pipeline:deal-reopen", args=[deal.pk]), {"version": deal.version}
    )
    assert _status(response.status_code) == expected
    deal.refresh_from_db()
    if persona in CHANGES_EAST_DEAL:
        assert deal.stage.code == "proposal"

    response = client.post(
        reverse("pipeline:deal-lost", args=[deal.pk]),
        {"lost_reason": "Price", "competitor": "Acme", "version": deal.version},
    )
    assert _status(response.status_code) == expected
    deal.refresh_from_db()
    assert (deal.stage.code == "lost") == (persona in CHANGES_EAST_DEAL)


@pytest.mark.parametrize("persona", PERSONAS)
def test_deal_create_per_persona(login, org, records, persona):
    client = login(getattr(org, persona))
    east_client = records["east_deal"].client
    may_add = persona != "support"
    response = client.get(reverse("pipeline:deal-create"))
    assert response.status_code == (200 if may_add else 403)
    response = client.post(
        reverse("pipeline:deal-create"),
        {"title": f"New by {persona}", "client": east_client.pk, "amount": "10", "currency": "CNY"},
    )
    created = Deal.objects.filter(title=f"New by {persona}").first()
    if not may_add:
        assert response.status_code == 403 and created is None
    elif persona in SEES_EAST:
        assert response.status_code == 302 and created.owner == getattr(org, persona)
        assert created.stage.code == "first_contact" and created.probability == 10
    else:  # a client they cannot see is no choice at all
        assert response.status_code == 200 and created is None


@pytest.mark.parametrize("persona", PERSONAS)
def test_delete_pages_per_persona(login, org, records, persona):
    client = login(getattr(org, persona))
    deletes_deals, deletes_leads = {"director", "manager"}, {"director", "manager", "am"}
    lead, deal = records["east_lead"], records["east_deal"]
    for name, obj, allowed in (
        ("pipeline:lead-delete", lead, deletes_leads),
        ("pipeline:deal-delete", deal, deletes_deals),
    ):
        url = reverse(name, args=[obj.pk])
        assert _status(client.get(url).status_code) == _expected(persona, allowed), name
        assert _status(client.post(url).status_code) == _expected(persona, allowed), name
        assert type(obj).objects.filter(pk=obj.pk).exists() == (persona not in allowed)
    for obj in (records["north_lead"], records["north_deal"]):
        name = "pipeline:lead-delete" if isinstance(obj, Lead) else "pipeline:deal-delete"
        if persona not in SEES_NORTH:
            assert client.post(reverse(name, args=[obj.pk])).status_code == 404


# ----------------------------------------------------------------------- stages
@pytest.mark.parametrize("persona", PERSONAS)
def test_only_the_director_edits_stages(login, org, persona):
    client = login(getattr(org, persona))
    response = client.get(reverse("pipeline:stage-list"))
    assert response.status_code == 200
    negotiation = stage("negotiation")
    data = {"action": "save"}
    for s in negotiation.__class__.objects.all():
        prefix = f"s{s.pk}"
        data |= {
            f"{prefix}-name": s.name,
            f"{prefix}-name_zh": s.name_zh,
            f"{prefix}-order": s.order,
            f"{prefix}-probability": 70 if s.pk == negotiation.pk else s.probability,
            f"{prefix}-is_active": "on" if s.is_active else "",
        }
    response = client.post(reverse("pipeline:stage-list"), data)
    negotiation.refresh_from_db()
    added = client.post(
        reverse("pipeline:stage-list"),
        {"action": "add", "new-name": "Trial", "new-order": 35, "new-probability": 60},
    )
    trial = negotiation.__class__.objects.filter(name="Trial").first()
    if persona == "director":
        assert response.status_code == 302 and negotiation.probability == 70
        assert added.status_code == 302 and trial.kind == "open" and trial.is_active
        board = client.get(reverse("pipeline:deal-board")).content.decode()
        assert 'data-testid="column-trial"' in board
    else:
        assert response.status_code == 403 and negotiation.probability == 75
        assert added.status_code == 403 and trial is None


def test_money_is_shown_in_yuan_with_separators(login, org, records):
    deal = records["east_deal"]
    Deal.objects.filter(pk=deal.pk).update(amount=Decimal("1234567.89"))
    html = _body(login(org.rep).get(reverse("pipeline:deal-detail", args=[deal.pk])))
    assert "¥1,234,567.89" in html
