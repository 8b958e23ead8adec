"""The staff survey pages: who may open what, what each person sees, the results
figures, and query counts that do not grow with the data."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clients import surveys
from clients.models import Client, SurveyCampaign, SurveyResponse, SurveyTemplate
from clients.tests import survey_helpers as h
from clients.tests.factories import ClientFactory, ContactFactory
from pipeline.models import Activity, ActivityType, FollowUpReason

pytestmark = pytest.mark.django_db

MANAGERS = ("director", "manager", "support", "peer_manager")
EVERYONE = (
    "director",
    "manager",
    "am",
    "rep",
    "peer_rep",
    "support",
    "peer_manager",
    "peer_am",
    "outsider",
)


@pytest.fixture
def east_campaign(org, book):
    """Support's campaign to the rep's and the AM's clients; the rep's client answered."""
    for label in ("rep", "am", "peer_rep"):
        h.primary(book.clients[label])
    campaign = surveys.campaign_create(
        by=org.support,
        template=h.template("nps"),
        name="East NPS",
        clients=Client.objects.filter(pk__in=[book.clients["rep"].pk, book.clients["am"].pk]),
    )
    campaign.invitations.update(sent_at=timezone.now())
    campaign.status = SurveyCampaign.Status.SENT
    campaign.save()
    response = h.answer(campaign.invitations.get(client=book.clients["rep"]), nps=3)
    return campaign, response


def _status(client, url, method="get"):
    return getattr(client, method)(url).status_code


# ----------------------------------------------------------- permission matrix
@pytest.mark.parametrize("who", EVERYONE)
def test_everyone_opens_the_lists_and_results(login, org, who):
    browser = login(getattr(org, who))
    for name in ("survey-list", "survey-template-list", "survey-results", "survey-response-list"):
        assert _status(browser, reverse(f"clients:{name}")) == 200, name


@pytest.mark.parametrize("who", EVERYONE)
def test_who_may_create_campaigns_and_templates(login, org, who):
    browser = login(getattr(org, who))
    expected = 200 if who in MANAGERS else 403
    assert _status(browser, reverse("clients:survey-campaign-create")) == expected
    assert _status(browser, reverse("clients:survey-template-create")) == expected


CAMPAIGN_ACCESS = {
    # creator's line and region, the director, and whoever sees an invited client
    "director": 200,
    "manager": 200,
    "support": 200,
    "am": 200,
    "rep": 200,
    "peer_rep": 404,  # their client was not invited
    "peer_manager": 404,
    "peer_am": 404,
    "outsider": 404,
}


@pytest.mark.parametrize(("who", "expected"), CAMPAIGN_ACCESS.items())
def test_campaign_page_for_each_persona(login, org, book, east_campaign, who, expected):
    campaign, response = east_campaign
    browser = login(getattr(org, who))
    page = browser.get(reverse("clients:survey-campaign-detail", args=[campaign.pk]))
    assert page.status_code == expected
    listed = browser.get(reverse("clients:survey-list")).content.decode()
    assert ("East NPS" in listed) is (expected == 200)
    detail = browser.get(reverse("clients:survey-response-detail", args=[response.pk]))
    sees_response = who in ("director", "manager", "support", "am", "rep")
    assert detail.status_code == (200 if sees_response else 404)
    responses = browser.get(reverse("clients:survey-response-list")).content.decode()
    assert (book.clients["rep"].name in responses) is sees_response


def test_a_rep_sees_only_their_own_recipients_and_counts(login, org, book, east_campaign):
    campaign, _response = east_campaign
    html = (
        login(org.rep)
        .get(reverse("clients:survey-campaign-detail", args=[campaign.pk]))
        .content.decode()
    )
    assert book.clients["rep"].name in html and book.clients["am"].name not in html
    assert 'data-count="invited">1<' in html and 'data-count="answered">1<' in html
    full = (
        login(org.manager)
        .get(reverse("clients:survey-campaign-detail", args=[campaign.pk]))
        .content.decode()
    )
    assert 'data-count="invited">2<' in full and book.clients["am"].name in full


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("manager", 302),
        ("support", 302),
        ("director", 302),
        ("am", 403),
        ("rep", 403),
        ("peer_manager", 404),
        ("outsider", 404),
    ],
)
def test_who_may_close_a_campaign(login, org, east_campaign, who, expected):
    campaign, _response = east_campaign
    url = reverse("clients:survey-campaign-close", args=[campaign.pk])
    assert login(getattr(org, who)).post(url).status_code == expected
    campaign.refresh_from_db()
    assert (campaign.status == SurveyCampaign.Status.CLOSED) is (expected == 302)


def test_a_campaign_is_created_previewed_and_sent_from_the_pages(
    login, org, book, django_capture_on_commit_callbacks
):
    for label in book.clients:
        h.primary(book.clients[label])
    browser = login(org.support)
    data = {
        "template": h.template("nps").pk,
        "name": "Key accounts NPS",
        "audience": "filters",
        "contacts": "primary",
        "remind_after_days": 5,
        "expires_after_days": 20,
        "search": "Firm of",
    }
    preview = browser.post(
        reverse("clients:survey-campaign-create"),
        {**data, "action": "preview"},
        HTTP_HX_REQUEST="true",
    )
    html = preview.content.decode()
    assert "3 contacts will be invited." in html  # support's region: rep, peer_rep, am
    assert book.contacts["outsider"].email not in html
    created = browser.post(reverse("clients:survey-campaign-create"), {**data, "action": "create"})
    campaign = SurveyCampaign.objects.get(name="Key accounts NPS")
    assert created["Location"] == reverse("clients:survey-campaign-detail", args=[campaign.pk])
    assert (campaign.remind_after_days, campaign.expires_after_days) == (5, 20)
    assert campaign.invitations.count() == 3
    with django_capture_on_commit_callbacks() as callbacks:
        sent = browser.post(reverse("clients:survey-campaign-send", args=[campaign.pk]))
    assert sent.status_code == 302 and len(callbacks) == 1
    campaign.refresh_from_db()
    assert campaign.status == SurveyCampaign.Status.SENDING


def test_picking_clients_outside_ones_view_invites_nobody(login, org, book):
    for label in book.clients:
        h.primary(book.clients[label])
    browser = login(org.support)
    response = browser.post(
        reverse("clients:survey-campaign-create"),
        {
            "template": h.template("nps").pk,
            "audience": "clients",
            "clients": [book.clients["outsider"].pk, book.clients["rep"].pk],
            "contacts": "primary",
            "remind_after_days": 7,
            "expires_after_days": 30,
            "action": "create",
        },
    )
    # the outsider's client is not a valid choice for support: the form refuses it
    assert response.status_code == 400
    assert not SurveyCampaign.objects.exists()
    options = browser.get(reverse("clients:survey-client-options"), {"q": "Firm of"})
    assert book.clients["outsider"].name not in options.content.decode()
    assert book.clients["rep"].name in options.content.decode()


def test_templates_are_made_and_edited_on_their_pages(login, org):
    browser = login(org.manager)
    data = {
        "name": "Training feedback",
        "name_zh": "培训反馈",
        "intro": "",
        "intro_zh": "",
        "q-TOTAL_FORMS": "3",
        "q-INITIAL_FORMS": "0",
        "q-MIN_NUM_FORMS": "0",
        "q-MAX_NUM_FORMS": "30",
        "q-0-position": "2",
        "q-0-kind": "text",
        "q-0-text": "Comments?",
        "q-1-position": "1",
        "q-1-kind": "choice",
        "q-1-text": "Which day suited you?",
        "q-1-choices": "Monday | 周一\nFriday | 周五",
        "q-1-required": "on",
    }
    response = browser.post(reverse("clients:survey-template-create"), data)
    template = SurveyTemplate.objects.get(name="Training feedback")
    assert response["Location"] == reverse("clients:survey-template-detail", args=[template.pk])
    assert [(q.kind, q.required) for q in template.questions.all()] == [
        ("choice", True),
        ("text", False),
    ]
    assert template.questions.first().choices[1] == {
        "value": "friday",
        "label": "Friday",
        "label_zh": "周五",
    }
    page = browser.get(reverse("clients:survey-template-edit", args=[template.pk]))
    assert "Monday | 周一" in page.content.decode()
    builtin = h.template("nps")
    assert (
        browser.get(reverse("clients:survey-template-edit", args=[builtin.pk])).status_code == 403
    )
    copied = browser.post(reverse("clients:survey-template-copy", args=[builtin.pk]))
    assert (
        copied.status_code == 302 and SurveyTemplate.objects.filter(is_builtin=False).count() == 2
    )


# ---------------------------------------------------------------------- results
def _follow_up(owner, client, days_ago=1, reason=FollowUpReason.AFTER_GO_LIVE):
    return Activity.objects.create(
        type=ActivityType.FOLLOW_UP,
        status=Activity.Status.DONE,
        client=client,
        owner=owner,
        start_at=timezone.now() - timedelta(days=days_ago),
        follow_up_reason=reason,
    )


def test_results_per_am_team_and_company(login, org, book):
    """rep's client (AM: am) promoter 10 and 9, am's own client detractor 2, the
    outsider's client promoter 10 in the North."""
    rep_client = book.clients["rep"]
    rep_client.account_manager = org.am
    rep_client.save()
    camp = h.campaign("nps")
    extra = ContactFactory(client=rep_client)
    h.answer(h.invitation(camp, book.contacts["rep"]), nps=10)
    h.answer(h.invitation(camp, extra), nps=9)
    h.answer(h.invitation(camp, book.contacts["am"]), nps=2)
    h.invitation(camp, book.contacts["peer_rep"])  # sent, not answered
    h.answer(h.invitation(camp, book.contacts["outsider"]), nps=10)
    _follow_up(org.am, rep_client)
    _follow_up(org.rep, rep_client, reason=FollowUpReason.CARE_CALL)
    _follow_up(org.am, rep_client, days_ago=400)  # outside the period

    manager = login(org.manager)
    company = manager.get(reverse("clients:survey-results"), {"period": "12m"})
    total = company.context["total"]
    # East: 2 promoters, 1 detractor of 3 → NPS 33.3; 3 answered of 4 sent
    assert (total.nps.promoters, total.nps.detractors, total.nps.answers) == (2, 1, 3)
    assert str(total.nps.score) == "33.3"
    assert (total.answered, total.invited, str(total.response_rate)) == (3, 4, "75.0")
    assert total.follow_ups == 2  # the two done follow-up calls in the last 12 months

    per_am = manager.get(reverse("clients:survey-results"), {"period": "12m", "scope": "am"})
    rows = {row.label: row.figures for row in per_am.context["rows"]}
    # rep's client counts for its AM; am's own client (no AM) for its owner, am
    assert str(rows[str(org.am)].nps.score) == "33.3"
    assert rows[str(org.peer_rep)].invited == 1 and rows[str(org.peer_rep)].responses == 0
    assert rows[str(org.am)].follow_ups == 1 and rows[str(org.rep)].follow_ups == 1
    assert str(org.outsider) not in rows

    per_team = manager.get(reverse("clients:survey-results"), {"period": "12m", "scope": "team"})
    teams = {row.label: row.figures for row in per_team.context["rows"]}
    assert teams["East"].nps == teams["East Team"].nps == total.nps
    assert teams["East Team"].follow_ups == 2
    assert "North" not in teams

    director = login(org.director).get(reverse("clients:survey-results"), {"period": "12m"})
    assert director.context["total"].nps.answers == 4
    outsider = login(org.outsider).get(reverse("clients:survey-results"), {"period": "12m"})
    assert outsider.context["total"].nps.answers == 1
    assert str(outsider.context["total"].nps.score) == "100.0"


def test_results_page_and_kpis_round_a_tie_alike(login, org, book):
    """16 answers, one promoter: NPS 6.25; CSAT 66 / 16 = 4.125. The survey results
    page and ``reports.kpis`` round both ties the same way (half up)."""
    from decimal import Decimal

    from reports import kpis
    from reports.kpis import Period, Scope

    camp = h.campaign("quarterly-satisfaction")
    client = book.clients["rep"]
    for i in range(16):
        h.answer(
            h.invitation(camp, ContactFactory(client=client)),
            nps=10 if i == 0 else 7,
            ratings=[5, 5, 5] if i < 2 else [4, 4, 4],
        )
    page = login(org.director).get(reverse("clients:survey-results"), {"period": "quarter"})
    total = page.context["total"]
    quarter = Period.containing("quarter", timezone.localdate())
    nps = kpis.nps(Scope.company(), quarter, source="live")
    csat = kpis.csat(Scope.company(), quarter, source="live")
    assert (total.nps.answers, nps.responses, csat.responses) == (16, 16, 16)
    assert total.nps.score == nps.score == Decimal("6.3")
    assert total.csat.mean == csat.average == Decimal("4.13")


def test_results_per_client_and_csv(login, org, book):
    camp = h.campaign("quarterly-satisfaction")
    h.answer(h.invitation(camp, book.contacts["rep"]), nps=10, ratings=[5, 5, 4])
    h.answer(h.invitation(camp, book.contacts["am"]), nps=5, ratings=[2, 3, 3])
    browser = login(org.am)
    page = browser.get(reverse("clients:survey-results"), {"scope": "client", "sort": "-nps"})
    rows = page.context["rows"]
    assert [r.label for r in rows] == [book.clients["rep"].name, book.clients["am"].name]
    assert [str(r.figures.csat.mean) for r in rows] == ["4.67", "2.67"]
    export = browser.get(reverse("clients:survey-results"), {"scope": "client", "export": "csv"})
    lines = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode("utf-8-sig"))))
    assert lines[0][0] == "Client" and len(lines) == 3
    assert {tuple(line[:1] + line[7:8]) for line in lines[1:]} == {
        (book.clients["rep"].name, "100.0"),
        (book.clients["am"].name, "-100.0"),
    }
    outsider = login(org.outsider).get(reverse("clients:survey-results"), {"scope": "client"})
    assert outsider.context["rows"] == []


def test_periods(login, org, book):
    camp = h.campaign("nps")
    old = h.answer(h.invitation(camp, book.contacts["rep"]), nps=10)
    SurveyResponse.objects.filter(pk=old.pk).update(
        submitted_at=timezone.now() - timedelta(days=200)
    )
    h.answer(h.invitation(camp, book.contacts["am"]), nps=0)
    browser = login(org.am)
    quarter = browser.get(reverse("clients:survey-results")).context["total"]
    assert quarter.nps.answers == 1
    months = browser.get(reverse("clients:survey-results"), {"period": "12m"}).context["total"]
    assert months.nps.answers == 2
    start = (timezone.localdate() - timedelta(days=210)).isoformat()
    end = (timezone.localdate() - timedelta(days=190)).isoformat()
    custom = browser.get(
        reverse("clients:survey-results"), {"period": "custom", "from": start, "to": end}
    ).context["total"]
    assert (custom.nps.answers, str(custom.nps.score)) == (1, "100.0")
    trend = browser.get(reverse("clients:survey-results")).context["trend"]
    assert len(trend) == 6 and sum(r.figures.responses for r in trend) == 2


# ----------------------------------------------------------------- query counts
def _populate(org, n: int) -> SurveyCampaign:
    camp = h.campaign("quarterly-satisfaction", created_by=org.support)
    for i in range(n):
        client = ClientFactory(owner=org.rep, account_manager=org.am if i % 2 else None)
        contact = ContactFactory(client=client)
        inv = h.invitation(camp, contact)
        if i % 3:
            h.answer(inv, nps=i % 11, ratings=[1 + i % 5, 4, 5])
        _follow_up(org.rep if i % 2 else org.am, client)
    return camp


def _count(browser, url, params=None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = browser.get(url, params or {})
        assert response.status_code == 200, url
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
    return len(ctx.captured_queries)


#: Measured for a manager. Every page starts with 7: session, user, permissions (user,
#: groups), the manager's scope, and the client-grant look-up of each ``visible_to``
#: over clients (responses, invitations). Then:
#: - results, company: totals of responses, invitations and follow-ups (by reason),
#:   the quarter trend, the survey picker = 12;
#: - per AM: + the three per-person GROUP BYs and the people's names, less the
#:   response and invitation totals (the per-person rows add up to them) = 14;
#: - per team: + visible users' and teams' paths = 16;
#: - per client: + the capped count, the page of clients, their invitations and
#:   follow-ups = 16; its CSV reads a thousand clients a time;
#: - campaign list: + the capped count, the page, the invitation counts of the page;
#: - response list: + the capped count, the page, the survey picker.
PAGES = {
    "results": ("survey-results", {"period": "12m"}, 12),
    "results per am": ("survey-results", {"period": "12m", "scope": "am"}, 14),
    "results per team": ("survey-results", {"period": "12m", "scope": "team"}, 16),
    "results per client": (
        "survey-results",
        {"period": "12m", "scope": "client", "sort": "-nps"},
        16,
    ),
    "results csv": ("survey-results", {"period": "12m", "scope": "client", "export": "csv"}, 12),
    "campaigns": ("survey-list", {}, 10),
    "responses": ("survey-response-list", {}, 9),
    "low responses": ("survey-response-list", {"band": "low"}, 9),
    "templates": ("survey-template-list", {}, 6),
}


@pytest.mark.parametrize("page", PAGES)
def test_page_queries_do_not_grow_with_the_data(login, org, page):
    name, params, most = PAGES[page]
    browser = login(org.manager)
    _populate(org, 3)
    small = _count(browser, reverse(f"clients:{name}"), params)
    _populate(org, 15)
    large = _count(browser, reverse(f"clients:{name}"), params)
    assert small == large <= most


def test_campaign_page_queries_do_not_grow(login, org):
    browser = login(org.manager)
    small_camp = _populate(org, 3)
    large_camp = _populate(org, 20)
    small = _count(browser, reverse("clients:survey-campaign-detail", args=[small_camp.pk]))
    large = _count(browser, reverse("clients:survey-campaign-detail", args=[large_camp.pk]))
    assert small == large <= 14
    response = SurveyResponse.objects.filter(invitation__campaign=large_camp).first()
    assert _count(browser, reverse("clients:survey-response-detail", args=[response.pk])) <= 12


def test_answers_show_on_the_client_timeline(login, org, book, east_campaign):
    _campaign, response = east_campaign
    html = login(org.am).get(reverse("clients:detail", args=[book.clients["rep"].pk]))
    text = html.content.decode()
    assert "Survey answered: Net promoter score" in text and "NPS 3" in text
    assert reverse("clients:survey-response-detail", args=[response.pk]) in text
