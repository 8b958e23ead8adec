"""The rep's weekly sales report: the figures it fills in, submitting,
commenting (with notifications both ways), one report a week, and the API.

The hand-made week is ISO week 2026-W48: Monday 23 November 00:00 to Monday
30 November 00:00 in Asia/Shanghai, i.e. Sunday 22 November 16:00 UTC to
Sunday 29 November 16:00 UTC — so something on "Sunday the 29th, 17:00 UTC"
belongs to the *next* week, and "Sunday the 22nd, 16:30 UTC" to this one.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.test import override_settings
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import Notification, Role, User
from pipeline.models import Activity, DealStageChange, Lead
from pipeline.tests.factories import ClientFactory, DealFactory, LeadFactory, stage
from reports import weekly
from reports.models import WeeklyReport
from reports.tests.factories_planning import WeeklyReportFactory

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
UTC = ZoneInfo("UTC")
MONDAY = date(2026, 11, 23)
#: "now" for these tests: Sunday evening of the week, local time
NOW = datetime(2026, 11, 29, 23, 40, tzinfo=SHANGHAI)
BEFORE = datetime(2026, 11, 1, 10, 0, tzinfo=SHANGHAI)


def local(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def _activity(owner, client, type_, at, status=Activity.Status.DONE, **extra) -> Activity:
    return Activity.objects.create(
        type=type_, status=status, client=client, owner=owner, start_at=at, **extra
    )


def _lead(owner, source: str, at: datetime) -> Lead:
    lead = LeadFactory(owner=owner, source=source)
    Lead.objects.filter(pk=lead.pk).update(created_at=at)
    return lead


@pytest.fixture
def week(org, frozen):
    """The rep's hand-made week, with things just outside it on both sides."""
    rep = org.rep
    client = ClientFactory(owner=rep, name="Hangzhou Pumps")
    # activities: 3 calls, 1 follow-up, 2 visits, 1 e-mail inside the week
    _activity(rep, client, "call", local(23, 0, 5))  # Monday 00:05 local = Sunday UTC
    _activity(rep, client, "call", local(25, 10))
    _activity(rep, client, "call", datetime(2026, 11, 22, 16, 30, tzinfo=UTC))  # Mon 00:30 local
    _activity(rep, client, "follow_up", local(26, 15))
    _activity(rep, client, "visit", local(24, 9), subject="Plant tour", outcome="Wants a quote")
    _activity(rep, client, "visit", local(29, 23, 30))  # Sunday 23:30 local: still this week
    _activity(rep, client, "email", local(27, 11))
    # outside: before Monday 00:00 local, at/after next Monday 00:00 local, not done, not theirs
    _activity(rep, client, "call", local(22, 23, 55))
    _activity(rep, client, "visit", datetime(2026, 11, 29, 17, 0, tzinfo=UTC))  # Mon 01:00 local
    _activity(rep, client, "visit", local(27, 14), status=Activity.Status.PLANNED)
    _activity(rep, client, "visit", local(27, 16), status=Activity.Status.CANCELLED)
    _activity(org.peer_rep, client, "demo", local(25, 14))

    # deals: one created this week and moved on; one moved twice; results
    fresh = DealFactory(owner=rep, client=client, title="New pumps", stage_changed_at=local(24, 9))
    DealStageChange.objects.create(
        deal=fresh,
        from_stage=stage("first_contact"),
        to_stage=stage("needs_analysis"),
        changed_by=rep,
        changed_at=local(26, 10),
        amount=Decimal("80000"),
        probability=20,
    )
    older = DealFactory(owner=rep, client=client, title="Valves", stage_changed_at=BEFORE)
    DealStageChange.objects.create(  # before the week: not a move of this week
        deal=older,
        from_stage=stage("first_contact"),
        to_stage=stage("proposal"),
        changed_by=rep,
        changed_at=local(22, 23, 59),
        amount=Decimal("1"),
        probability=50,
    )
    DealStageChange.objects.create(
        deal=older,
        from_stage=stage("proposal"),
        to_stage=stage("negotiation"),
        changed_by=rep,
        changed_at=local(29, 23, 59),
        amount=Decimal("1"),
        probability=70,
    )
    DealFactory(
        owner=rep,
        client=client,
        title="Won big",
        stage=stage("won"),
        amount=Decimal("120000.50"),
        closed_on=date(2026, 11, 29),
        stage_changed_at=BEFORE,
    )
    DealFactory(
        owner=rep,
        client=client,
        title="Won small",
        stage=stage("won"),
        amount=Decimal("30000"),
        closed_on=MONDAY,
        stage_changed_at=BEFORE,
    )
    DealFactory(  # won in dollars: counted, not added to the yuan
        owner=rep,
        client=client,
        title="Won abroad",
        stage=stage("won"),
        amount=Decimal("9999"),
        currency="USD",
        closed_on=date(2026, 11, 25),
        stage_changed_at=BEFORE,
    )
    DealFactory(
        owner=rep,
        client=client,
        title="Lost one",
        stage=stage("lost"),
        amount=Decimal("50000"),
        closed_on=date(2026, 11, 24),
        lost_reason="Price",
        stage_changed_at=BEFORE,
    )
    DealFactory(  # closed next Monday: next week's
        owner=rep,
        client=client,
        stage=stage("won"),
        amount=Decimal("777"),
        closed_on=date(2026, 11, 30),
        stage_changed_at=BEFORE,
    )
    DealFactory(  # closed the Sunday before
        owner=rep,
        client=client,
        stage=stage("lost"),
        amount=Decimal("666"),
        closed_on=date(2026, 11, 22),
        stage_changed_at=BEFORE,
    )
    # leads: two this week, one on each side of it
    _lead(rep, "trade_show", local(23, 8))
    _lead(rep, "website", datetime(2026, 11, 29, 15, 59, tzinfo=UTC))  # Sunday 23:59 local
    _lead(rep, "website", local(22, 23, 59))
    _lead(rep, "referral", datetime(2026, 11, 29, 16, 0, tzinfo=UTC))  # next Monday 00:00
    return client


def test_the_figures_of_a_hand_made_week(org, week):
    f = weekly.week_figures(owner=org.rep, week_start=MONDAY, viewer=org.rep)
    assert f.activities == {"call": 3, "follow_up": 1, "visit": 2, "email": 1}
    assert (f.calls, f.visit_count, f.activities_total) == (4, 2, 7)
    assert [v["subject"] for v in f.visits] == ["Plant tour", ""]
    assert f.visits[0]["outcome"] == "Wants a quote"
    assert f.visits[1]["at"].startswith("2026-11-29T23:30")
    assert f.deals_created == 1
    assert f.moves_count == 2
    assert [m["deal"] for m in f.moves] == ["New pumps", "Valves"]
    assert (f.won_count, f.won_total) == (3, Decimal("150000.50"))
    assert (f.lost_count, f.lost_total) == (1, Decimal("50000.00"))
    assert {d["deal"] for d in f.closed} == {"Won big", "Won small", "Won abroad", "Lost one"}
    assert f.leads_count == 2
    assert f.leads_by_source == {"trade_show": 1, "website": 1}


def test_the_week_boundaries_follow_the_local_calendar(org, week):
    start, end = weekly.week_bounds(MONDAY)
    assert start == datetime(2026, 11, 22, 16, 0, tzinfo=UTC)
    assert end == datetime(2026, 11, 29, 16, 0, tzinfo=UTC)
    following = weekly.week_figures(owner=org.rep, week_start=date(2026, 11, 30), viewer=org.rep)
    assert following.activities == {"visit": 1}
    assert following.leads_count == 1
    assert (following.won_count, following.won_total) == (1, Decimal("777.00"))
    before = weekly.week_figures(owner=org.rep, week_start=date(2026, 11, 16), viewer=org.rep)
    assert before.activities == {"call": 1}
    assert before.lost_count == 1


def test_parse_week_and_labels():
    assert weekly.parse_week("2026-W48") == MONDAY
    assert weekly.parse_week("2026-11-27") == MONDAY
    assert weekly.parse_week("2026-W60") is None
    assert weekly.parse_week("nonsense") is None
    assert weekly.week_label(MONDAY) == "2026-W48"
    assert weekly.week_label(date(2027, 1, 1) - timedelta(days=4)) == "2026-W53"


def test_the_page_shows_the_live_figures_and_the_manager_sees_the_frozen_ones(login, org, week):
    client = login(org.rep)
    html = client.get(reverse("reports:weekly-report")).content.decode()
    assert 'data-testid="week-label">2026-W48' in html
    assert 'data-testid="fig-calls">4<' in html
    assert 'data-testid="fig-visits">2<' in html
    assert 'data-testid="fig-won">3<' in html
    assert "¥150,001" in html  # whole yuan
    assert 'data-testid="fig-moves">2<' in html
    assert "First contact → Needs analysis" in html


def test_draft_submit_comment_with_notifications_both_ways(login, org, week):
    url = reverse("reports:weekly-report")
    rep = login(org.rep)
    response = rep.post(
        url,
        {
            "customer_feedback": "Hangzhou Pumps liked the demo",
            "market_info": "Steel prices up",
            "competitor_news": "Rival X cut prices 10%",
            "next_week_forecast": "Close Valves",
            "forecast_amount": "80000",
            "action": "save",
        },
    )
    assert response.status_code == 302
    report = WeeklyReport.objects.get(owner=org.rep, week_start=MONDAY)
    assert report.status == WeeklyReport.Status.DRAFT
    assert report.figures == {}
    # the manager sees it as a draft in the team's week; peer_rep is missing
    team = login(org.am).get(reverse("reports:weekly-team") + "?week=2026-W48")
    html = team.content.decode()
    assert f'data-person="{org.rep.pk}" data-status="draft"' in html
    assert f'data-person="{org.peer_rep.pk}" data-status="missing"' in html

    rep = login(org.rep)
    response = rep.post(
        url,
        {
            "customer_feedback": "Hangzhou Pumps liked the demo",
            "market_info": "Steel prices up",
            "competitor_news": "Rival X cut prices 10%",
            "next_week_forecast": "Close Valves",
            "forecast_amount": "80000",
            "version": report.version,
            "action": "submit",
        },
    )
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.status == WeeklyReport.Status.SUBMITTED
    assert report.submitted_at is not None
    assert report.figures["activities"]["call"] == 3
    # the rep's manager (their AM in this tree) is told
    note = Notification.objects.get(recipient=org.am, kind="weekly_report_submitted")
    assert note.url == report.get_absolute_url()
    assert not Notification.objects.filter(recipient=org.manager).exists()

    # read-only now: another save changes nothing
    response = rep.post(url, {"customer_feedback": "changed", "action": "save"})
    report.refresh_from_db()
    assert report.customer_feedback == "Hangzhou Pumps liked the demo"
    # frozen figures: a call logged afterwards is not in the submitted report
    _activity(org.rep, week, "call", local(28, 9))
    html = login(org.manager).get(report.get_absolute_url()).content.decode()
    assert 'data-testid="fig-calls">4<' in html
    assert "Rival X cut prices 10%" in html

    # the manager above comments; the rep is told
    am = login(org.am)
    response = am.post(
        reverse("reports:weekly-report-comment", args=[report.pk]),
        {"body": "Good week — push Valves."},
    )
    assert response.status_code == 302
    assert Notification.objects.filter(recipient=org.rep, kind="weekly_report_comment").count() == 1
    # the rep sees the comment and answers; their manager is told
    html = login(org.rep).get(reverse("reports:weekly-report") + "?week=2026-W48").content
    assert "Good week — push Valves." in html.decode()
    response = login(org.rep).post(
        reverse("reports:weekly-report-comment", args=[report.pk]), {"body": "Will do."}
    )
    assert response.status_code == 302
    assert Notification.objects.filter(recipient=org.am, kind="weekly_report_comment").count() == 1
    # the team's week now shows the report as submitted
    html = login(org.am).get(reverse("reports:weekly-team") + "?week=2026-W48").content.decode()
    assert f'data-person="{org.rep.pk}" data-status="submitted"' in html
    assert 'data-testid="count-submitted">1<' in html
    assert 'data-testid="count-missing">1<' in html


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("director", 302),
        ("manager", 302),
        ("am", 302),
        ("rep", 302),
        ("peer_rep", 404),
        ("support", 403),  # reads the region's reports, does not comment
        ("peer_manager", 404),
        ("outsider", 404),
    ],
)
def test_who_may_comment(login, org, frozen, persona, expected):
    report = WeeklyReportFactory(owner=org.rep, week_start=MONDAY)
    weekly.report_submit(by=org.rep, report=report, expected_version=report.version)
    response = login(getattr(org, persona)).post(
        reverse("reports:weekly-report-comment", args=[report.pk]), {"body": "Hello"}
    )
    assert response.status_code == expected
    assert report.comments.exists() == (expected == 302)


def test_a_draft_takes_no_comments(org, frozen):
    report = WeeklyReportFactory(owner=org.rep, week_start=MONDAY)
    with pytest.raises(ValidationError):
        weekly.report_comment(by=org.am, report=report, body="Too early")


def test_one_report_per_rep_per_week(org, frozen):
    first = weekly.report_save(by=org.rep, week_start=MONDAY, customer_feedback="a")
    again = weekly.report_save(
        by=org.rep,
        week_start=date(2026, 11, 27),
        expected_version=first.version,
        customer_feedback="b",
    )
    assert again.pk == first.pk
    assert WeeklyReport.objects.filter(owner=org.rep).count() == 1
    with pytest.raises(IntegrityError), transaction.atomic():
        WeeklyReport.objects.create(owner=org.rep, week_start=MONDAY)
    # another rep, same week: their own report
    assert weekly.report_save(by=org.peer_rep, week_start=MONDAY).pk != first.pk


def test_a_future_week_cannot_be_reported(org, frozen):
    with pytest.raises(ValidationError):
        weekly.report_save(by=org.rep, week_start=date(2026, 11, 30))


def test_only_the_owner_writes_and_submits(org, frozen):
    report = WeeklyReportFactory(owner=org.rep, week_start=MONDAY)
    for someone in (org.am, org.manager, org.director):
        with pytest.raises(PermissionDenied):
            weekly.report_update(
                by=someone, report=report, expected_version=None, customer_feedback="x"
            )
        with pytest.raises(PermissionDenied):
            weekly.report_submit(by=someone, report=report, expected_version=None)


def test_reporters_missing_lists_who_has_not_submitted(org, frozen):
    report = WeeklyReportFactory(owner=org.rep, week_start=MONDAY)
    assert {u.username for u in weekly.reporters_missing(MONDAY)} == {
        "rep",
        "peer_rep",
        "outsider",
    }
    weekly.report_submit(by=org.rep, report=report, expected_version=report.version)
    assert {u.username for u in weekly.reporters_missing(MONDAY)} == {"peer_rep", "outsider"}


@override_settings(SALESORG_WEEKLY_REPORT_ROLES=(Role.REP, Role.ACCOUNT_MANAGER))
def test_the_team_page_lists_only_people_whose_reports_one_may_see(login, org, frozen):
    """A rep sees their account manager as a user, but not the AM's weekly report
    status: the team page lists the people of ``WeeklyReport.visible_to``."""
    WeeklyReportFactory(owner=org.am, week_start=MONDAY)
    assert User.objects.visible_to(org.rep).filter(pk=org.am.pk).exists()
    assert not WeeklyReport.objects.visible_to(org.rep).filter(owner=org.am).exists()
    assert set(weekly.reporters(org.rep)) == {org.rep}

    team = login(org.rep).get(reverse("reports:weekly-team") + "?week=2026-W48")
    html = team.content.decode()
    assert f'data-person="{org.rep.pk}"' in html
    assert f'data-person="{org.am.pk}"' not in html
    assert team.context["summary"] == {"total": 1, "submitted": 0, "draft": 0, "missing": 1}
    csv = login(org.rep).get(reverse("reports:weekly-team") + "?week=2026-W48&export=csv")
    assert str(org.am) not in b"".join(csv.streaming_content).decode()

    # the manager above them sees both, and the AM's draft
    html = login(org.manager).get(reverse("reports:weekly-team") + "?week=2026-W48")
    html = html.content.decode()
    assert f'data-person="{org.am.pk}" data-status="draft"' in html
    assert f'data-person="{org.rep.pk}" data-status="missing"' in html


def test_the_team_export_reads_the_frozen_figures(login, org, week):
    report = WeeklyReportFactory(owner=org.rep, week_start=MONDAY)
    weekly.report_submit(by=org.rep, report=report, expected_version=report.version)
    response = login(org.manager).get(reverse("reports:weekly-team") + "?week=2026-W48&export=csv")
    rows = b"".join(response.streaming_content).decode().splitlines()
    rep_row = next(row for row in rows if row.startswith(str(org.rep)))
    assert rep_row.endswith(",Submitted,2026-11-29 23:40,4,2,3,150000.50")


# ----------------------------------------------------------------------------- API
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
SEES_REP = {"director", "manager", "am", "rep", "support"}
SEES_OUTSIDER = {"director", "peer_manager", "peer_am", "outsider"}


def _api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _status(code: int) -> str:
    return {200: "ok", 201: "ok", 204: "ok", 403: "forbidden", 404: "missing"}.get(code, str(code))


@pytest.mark.parametrize("persona", PERSONAS)
def test_api_list_and_retrieve(org, frozen, persona):
    mine = WeeklyReportFactory(owner=org.rep, week_start=MONDAY)
    north = WeeklyReportFactory(owner=org.outsider, week_start=MONDAY)
    client = _api(getattr(org, persona))
    ids = {row["id"] for row in client.get("/api/v1/weekly-reports/").json()["results"]}
    assert (mine.pk in ids) == (persona in SEES_REP)
    assert (north.pk in ids) == (persona in SEES_OUTSIDER)
    got = _status(client.get(f"/api/v1/weekly-reports/{mine.pk}/").status_code)
    assert got == ("ok" if persona in SEES_REP else "missing")


@pytest.mark.parametrize("persona", PERSONAS)
def test_api_create_update_submit_delete(org, frozen, persona):
    user = getattr(org, persona)
    client = _api(user)
    created = client.post(
        "/api/v1/weekly-reports/", {"week_start": "2026-11-25", "market_info": "m"}
    )
    writers = {"am", "rep", "peer_rep", "peer_am", "outsider"}  # reps and AMs report
    assert _status(created.status_code) == ("ok" if persona in writers else "forbidden")
    if persona in writers:
        assert created.json()["week"] == "2026-W48"
        assert created.json()["owner"] == user.pk
        duplicate = client.post("/api/v1/weekly-reports/", {"week_start": "2026-11-23"})
        assert duplicate.status_code == 400

    report = WeeklyReportFactory(owner=org.rep, week_start=MONDAY - timedelta(days=7))
    patch = client.patch(
        f"/api/v1/weekly-reports/{report.pk}/",
        {"customer_feedback": "edited", "version": report.version},
        format="json",
    )
    expected = "ok" if persona == "rep" else "forbidden" if persona in SEES_REP else "missing"
    assert _status(patch.status_code) == expected
    report.refresh_from_db()
    submit = client.post(f"/api/v1/weekly-reports/{report.pk}/submit/", {"version": report.version})
    assert _status(submit.status_code) == expected
    if persona == "rep":
        assert submit.json()["status"] == "submitted"
        assert submit.json()["figures"]["activities"] == {}
        again = client.patch(
            f"/api/v1/weekly-reports/{report.pk}/",
            {"customer_feedback": "late", "version": submit.json()["version"]},
            format="json",
        )
        assert again.status_code == 400
    draft = WeeklyReportFactory(owner=org.rep, week_start=MONDAY - timedelta(days=14))
    delete = client.delete(f"/api/v1/weekly-reports/{draft.pk}/")
    assert _status(delete.status_code) == expected
    assert WeeklyReport.objects.filter(pk=draft.pk).exists() == (persona != "rep")


def test_api_comments_and_live_figures(org, week):
    report = WeeklyReportFactory(owner=org.rep, week_start=MONDAY)
    rep = _api(org.rep)
    detail = rep.get(f"/api/v1/weekly-reports/{report.pk}/").json()
    assert detail["figures"]["activities"]["call"] == 3
    assert rep.get("/api/v1/weekly-reports/").json()["results"][0]["figures"] is None
    rep.post(f"/api/v1/weekly-reports/{report.pk}/submit/", {"version": report.version})
    am = _api(org.am)
    response = am.post(f"/api/v1/weekly-reports/{report.pk}/comments/", {"body": "Nice"})
    assert response.status_code == 201
    assert [c["body"] for c in rep.get(f"/api/v1/weekly-reports/{report.pk}/comments/").json()] == [
        "Nice"
    ]
    assert (
        _api(org.support)
        .post(f"/api/v1/weekly-reports/{report.pk}/comments/", {"body": "x"})
        .status_code
        == 403
    )
    assert (
        _api(org.outsider).get(f"/api/v1/weekly-reports/{report.pk}/comments/").status_code == 404
    )
    week_filter = rep.get("/api/v1/weekly-reports/?week=2026-W48").json()["results"]
    assert [r["id"] for r in week_filter] == [report.pk]


def test_api_list_gives_the_counts_and_the_single_record_the_listed_records(
    org, week, django_assert_max_num_queries
):
    """A list row carries the submitted figures' counts and totals; the visits,
    moves and closed deals behind them come with the single record."""
    report = WeeklyReportFactory(owner=org.rep, week_start=MONDAY)
    rep = _api(org.rep)
    rep.post(f"/api/v1/weekly-reports/{report.pk}/submit/", {"version": report.version})
    for earlier in range(1, 4):  # more submitted reports: the list reads no figures per row
        weekly.report_submit(
            by=org.rep,
            report=WeeklyReportFactory(owner=org.rep, week_start=MONDAY - timedelta(weeks=earlier)),
            expected_version=1,
        )
    manager = _api(org.manager)
    with django_assert_max_num_queries(8):
        rows = manager.get(f"/api/v1/weekly-reports/?owner={org.rep.pk}").json()["results"]
    assert len(rows) == 4
    listed = next(r for r in rows if r["id"] == report.pk)["figures"]
    single = manager.get(f"/api/v1/weekly-reports/{report.pk}/").json()["figures"]
    assert (
        listed["activities"]
        == single["activities"]
        == {"call": 3, "follow_up": 1, "visit": 2, "email": 1}
    )
    assert listed["moves_count"] == single["moves_count"] == len(single["moves"]) > 0
    assert listed["won_amount"] == single["won_amount"]
    assert single["visits"][0]["subject"] == "Plant tour"
    assert single["closed"]
    assert not {"visits", "moves", "closed"} & set(listed)
    assert {k: v for k, v in single.items() if k not in ("visits", "moves", "closed")} == listed


@pytest.mark.parametrize(
    ("url", "title"),
    [
        ("/dashboard/weekly-report/", "销售周报"),
        ("/dashboard/weekly-reports/team/", "团队销售周报"),
        ("/dashboard/plans/", "销售计划"),
        ("/dashboard/risks/", "风险登记"),
        ("/dashboard/team/skills/", "团队技能矩阵"),
        ("/dashboard/team/reviews/", "绩效评估"),
        ("/dashboard/improvements/", "改进措施"),
        ("/dashboard/research/analyses/", "市场分析"),
    ],
)
def test_the_pages_speak_chinese(login, org, week, url, title):
    user = org.rep if url == "/dashboard/weekly-report/" else org.manager
    client = login(user)
    client.cookies["django_language"] = "zh-hans"
    html = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert f"<title>{title}" in html
