"""The director opens the dashboard: the charts draw, a number opens its records,
a bar of the funnel opens that stage's deals, and the scope picker narrows the page
to a region."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Team, User
from clients.models import Client
from pipeline.models import Deal, Stage

pytestmark = pytest.mark.browser


def _deal(owner: User, title: str, stage: str, amount: str, **fields) -> Deal:
    client = Client.objects.create(name=f"{title} Ltd", owner=owner)
    stage_ = Stage.objects.get(code=stage)
    fields.setdefault("probability", stage_.probability)
    return Deal.objects.create(
        client=client, owner=owner, title=title, amount=Decimal(amount), stage=stage_, **fields
    )


def test_the_director_reads_the_dashboard_and_drills_down(page, demo_company):
    today = timezone.localdate()
    rep = User.objects.get(username="rep1")
    won = _deal(rep, "Pump retrofit", "won", "250000", closed_on=today)
    _deal(
        rep,
        "Boiler upgrade",
        "negotiation",
        "480000",
        expected_close_date=today + timedelta(days=20),
        probability=75,
    )

    page.goto("/login/")
    page.fill("#id_username", "director")
    page.fill("#id_password", "demo")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/dashboard/director/$"))

    # every chart with data draws
    for key in ("revenue", "funnel", "forecast"):
        page.wait_for_selector(f"#chart-{key}[data-ready='1']")
    assert page.get_by_test_id("tile-month-value").inner_text() == "¥250,000"
    # the forecast's tile and chart both sit inside their section's card
    forecast = page.get_by_test_id("section-forecast").locator(".card").first.bounding_box()
    chart = page.locator("#chart-forecast").bounding_box()
    assert page.get_by_test_id("tile-forecast-total-value").inner_text().startswith("¥")
    assert (
        forecast["y"] < chart["y"]
        and chart["y"] + chart["height"] <= forecast["y"] + forecast["height"]
    )

    # the month's won revenue opens the deal behind it
    page.get_by_test_id("tile-month-value").click()
    page.wait_for_url(re.compile(r"/dashboard/records/won-revenue/"))
    table = page.get_by_test_id("records-table")
    assert won.title in table.inner_text()
    assert table.locator("tbody tr").count() == 1
    page.go_back()

    # a bar of the funnel opens the deals in that stage
    page.wait_for_selector("#chart-funnel[data-ready='1']")
    page.locator("#chart-funnel").scroll_into_view_if_needed()
    negotiation = page.evaluate(
        """() => {
          const chart = document.getElementById('chart-funnel').chart;
          const i = chart.data.labels.findIndex((l) => l.startsWith('Negotiation'));
          const bar = chart.getDatasetMeta(0).data[i];
          const box = chart.canvas.getBoundingClientRect();
          return {x: box.left + bar.x - 5, y: box.top + bar.y};
        }"""
    )
    page.mouse.click(negotiation["x"], negotiation["y"])
    page.wait_for_url(re.compile(r"/dashboard/records/funnel/.*stage="))
    assert "Boiler upgrade" in page.get_by_test_id("records-table").inner_text()
    page.go_back()

    # the scope picker narrows the page to a region with no sales: the tile reads ¥0
    other = Team.objects.filter(kind="region").exclude(pk=rep.team.parent_id).first()
    page.get_by_test_id("scope-picker").select_option(f"team:{other.pk}")
    page.wait_for_url(re.compile(rf"scope=team(%3A|:){other.pk}"))
    assert page.get_by_test_id("tile-month-value").inner_text() == "¥0"
    assert page.get_by_test_id("scope-picker").input_value() == f"team:{other.pk}"

    # the previous period is one click away
    label = page.get_by_test_id("period-label").inner_text()
    page.get_by_test_id("period-prev").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("period-label").inner_text() != label
    assert page.console_errors == []
