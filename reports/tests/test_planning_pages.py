"""The shared edit and delete pages and the "review overdue" flag."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from reports import planning
from reports.models import Risk, SkillAssessment
from reports.tests.factories_planning import RiskFactory, SkillAssessmentFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("status", "days", "overdue"),
    [
        (Risk.Status.OPEN, -1, True),
        (Risk.Status.MONITORING, -1, True),
        (Risk.Status.CLOSED, -1, False),
        (Risk.Status.OPEN, 0, False),
    ],
)
def test_review_overdue_matches_the_overdue_filter(org, status, days, overdue):
    today = timezone.localdate()
    risk = RiskFactory(
        created_by=org.manager, owner=org.rep, status=status, review_date=today + timedelta(days)
    )
    assert planning.review_overdue(risk, today) is overdue
    listed = planning.overdue_reviews(Risk.objects.all(), today).filter(pk=risk.pk)
    assert listed.exists() is overdue


def test_risk_pages_mark_an_overdue_review(login, org):
    today = timezone.localdate()
    late = RiskFactory(created_by=org.manager, owner=org.rep, review_date=today - timedelta(1))
    closed = RiskFactory(
        created_by=org.manager,
        owner=org.rep,
        review_date=today - timedelta(1),
        status=Risk.Status.CLOSED,
    )
    client = login(org.manager)
    html = client.get(reverse("reports:risk-list") + "?status=").content.decode()
    assert f'data-risk="{late.pk}" class="overdue-row"' in html
    assert f'data-risk="{closed.pk}">' in html
    assert 'data-testid="review-overdue"' in client.get(late.get_absolute_url()).content.decode()
    assert (
        'data-testid="review-overdue"' not in client.get(closed.get_absolute_url()).content.decode()
    )


def test_edit_page_title_and_cancel(login, org):
    risk = RiskFactory(created_by=org.manager, owner=org.rep, title="Churn")
    response = login(org.manager).get(reverse("reports:risk-edit", args=[risk.pk]))
    assert response.status_code == 200
    assert response.context["title"] == "Edit Churn"
    assert response.context["cancel"] == risk.get_absolute_url()


def test_skill_delete_goes_back_to_the_person(login, org):
    assessment = SkillAssessmentFactory(person=org.rep)
    client = login(org.manager)
    response = client.post(reverse("reports:skill-delete", args=[assessment.pk]))
    assert response.status_code == 302
    assert response.url == reverse("reports:skill-person", args=[org.rep.pk])
    assert not SkillAssessment.objects.filter(pk=assessment.pk).exists()
    mine = SkillAssessmentFactory(person=org.manager)
    assert login(org.manager).post(reverse("reports:skill-delete", args=[mine.pk])).status_code in (
        403,
        404,
    )
