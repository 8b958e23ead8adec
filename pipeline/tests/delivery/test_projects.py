"""Delivery projects: created from won deals, progress in SQL, milestones, tasks,
the timeline, overdue milestones for the AM and their manager, completion."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from pipeline.models import Milestone, Project, Task
from pipeline.services import projects as service
from pipeline.tests.delivery.factories import (
    ClientFactory,
    DealFactory,
    MilestoneFactory,
    ProjectFactory,
    TaskFactory,
)

pytestmark = pytest.mark.django_db

TODAY = date.today()


@pytest.fixture
def won(org):
    client = ClientFactory(owner=org.rep, account_manager=org.am)
    return DealFactory(client=client, owner=org.rep, won=True, title="ERP roll-out")


@pytest.fixture
def project(org, won):
    return ProjectFactory(client=won.client, deal=won, owner=org.am)


def progress_of(project: Project) -> Project:
    return service.with_progress(Project.objects.filter(pk=project.pk)).get()


def test_a_project_follows_a_won_deal(org, won):
    project = service.project_create_from_deal(deal=won, by=org.am, goals="Live by Q3")
    assert (project.client, project.deal, project.owner) == (won.client, won, org.am)
    assert (project.name, project.status, project.start_date) == (
        "ERP roll-out",
        Project.Status.PLANNED,
        timezone.localdate(),
    )
    open_deal = DealFactory(client=won.client, owner=org.rep)
    with pytest.raises(ValidationError, match="won deal"):
        service.project_create_from_deal(deal=open_deal, by=org.am)


def test_the_contract_must_be_the_same_clients(org, won):
    from pipeline.tests.delivery.factories import ContractFactory

    other = ContractFactory(client=ClientFactory(owner=org.am), owner=org.am)
    with pytest.raises(ValidationError, match="same client"):
        service.project_create_from_deal(deal=won, by=org.am, contract=other)


def test_progress_counts_done_tasks_and_milestones(org, project):
    assert progress_of(project).progress == 0
    m1 = MilestoneFactory(project=project, status=Milestone.Status.DONE)
    MilestoneFactory(project=project)
    TaskFactory(project=project, milestone=m1, done=True)
    TaskFactory(project=project)
    TaskFactory(project=project)
    TaskFactory(project=project, done=True)
    row = progress_of(project)
    assert (row.tasks_done, row.tasks_total, row.milestones_done, row.milestones_total) == (
        2,
        4,
        1,
        2,
    )
    assert row.progress == 50  # 3 of 6
    TaskFactory(project=project)
    assert progress_of(project).progress == 42  # 3 of 7, rounded down
    project.status = Project.Status.COMPLETED
    project.save()
    assert progress_of(project).progress == 100


def test_progress_is_one_query_for_a_whole_list(org, project, django_assert_num_queries):
    for p in [project, *ProjectFactory.create_batch(4, client=project.client, owner=org.am)]:
        MilestoneFactory.create_batch(3, project=p)
        TaskFactory.create_batch(5, project=p, done=True)
    with django_assert_num_queries(1):
        rows = list(service.with_progress(Project.objects.all()))
    assert {r.progress for r in rows} == {62}  # 5 of 8


def test_milestone_done_records_the_day_and_reopening_clears_it(org, project):
    milestone = MilestoneFactory(project=project)
    done = service.milestone_save(project=project, by=org.am, milestone=milestone, status="done")
    assert done.completed_on == timezone.localdate()
    again = service.milestone_save(project=project, by=org.am, milestone=done, status="done")
    assert again.completed_on == timezone.localdate()
    reopened = service.milestone_save(
        project=project, by=org.am, milestone=milestone, status="in_progress"
    )
    assert reopened.completed_on is None


def test_a_task_only_goes_under_a_milestone_of_its_project(org, project):
    foreign = MilestoneFactory(project=ProjectFactory(client=project.client, owner=org.am))
    with pytest.raises(ValidationError):
        service.task_save(project=project, by=org.am, title="x", milestone=foreign)


def test_completing_sets_the_date_and_calls_the_survey_hook_after_commit(
    org, project, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        done = service.project_complete(project=project, by=org.am)
    assert done.completed_on == timezone.localdate()
    assert [cb.__qualname__ for cb in callbacks] == ["project_transition.<locals>.<lambda>"]
    with pytest.raises(ValidationError, match="cannot become"):
        service.project_transition(project=done, to_status="in_progress", by=org.am)
    with pytest.raises(ValidationError, match="not changed any more"):
        service.milestone_save(project=done, by=org.am, name="late", owner=org.am, due_date=TODAY)


def test_status_moves(org, project):
    held = service.project_transition(project=project, to_status="on_hold", by=org.am)
    with pytest.raises(ValidationError, match="cannot become"):
        service.project_transition(project=held, to_status="completed", by=org.am)
    resumed = service.project_transition(project=held, to_status="in_progress", by=org.am)
    assert resumed.status == Project.Status.IN_PROGRESS


# ----------------------------------------------------------------------- pages
def test_the_project_page_adds_milestones_and_tasks(login, org, project):
    client = login(org.am)
    client.post(
        reverse("pipeline:milestone-create", args=[project.pk]),
        {
            "m-name": "Go-live",
            "m-owner": org.rep.pk,
            "m-due_date": "2030-03-01",
            "m-status": "pending",
        },
    )
    milestone = project.milestones.get()
    assert (milestone.name, milestone.owner) == ("Go-live", org.rep)
    client.post(
        reverse("pipeline:task-create", args=[project.pk]),
        {"t-title": "Data migration", "t-milestone": milestone.pk, "t-owner": org.am.pk},
    )
    task = project.tasks.get()
    assert task.milestone == milestone
    response = client.post(
        reverse("pipeline:task-toggle", args=[task.pk]), {"done": "1"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert f'id="task-{task.pk}"' in response.content.decode()
    assert "<html" not in response.content.decode()
    task.refresh_from_db()
    assert task.done and task.done_at is not None
    page = client.get(project.get_absolute_url()).content.decode()
    assert "Data migration" in page and "1 of 1 tasks and 0 of 1 milestones done" in page
    assert "50%" in page


def test_the_project_list_shows_progress_and_filters_overdue(login, org, project):
    calm = ProjectFactory(client=project.client, owner=org.am, name="Calm project")
    MilestoneFactory(project=project, due_date=TODAY - timedelta(days=2))
    TaskFactory(project=calm, done=True)
    client = login(org.manager)
    html = client.get(reverse("pipeline:project-list")).content.decode()
    assert f'data-project="{project.pk}"' in html and f'data-project="{calm.pk}"' in html
    assert "100%" in html
    html = client.get(reverse("pipeline:project-list"), {"overdue": "1"}).content.decode()
    assert f'data-project="{project.pk}"' in html and f'data-project="{calm.pk}"' not in html
    html = client.get(reverse("pipeline:project-list"), {"sort": "-progress"}).content.decode()
    assert html.index(f'data-project="{calm.pk}"') < html.index(f'data-project="{project.pk}"')


def test_overdue_milestones_reach_the_am_and_their_manager_only(login, org, project):
    late = MilestoneFactory(project=project, due_date=TODAY - timedelta(days=5), name="Late one")
    MilestoneFactory(
        project=project,
        due_date=TODAY - timedelta(days=5),
        status=Milestone.Status.DONE,
        name="Done one",
    )
    MilestoneFactory(project=project, due_date=TODAY + timedelta(days=5), name="Future one")
    finished = ProjectFactory(client=project.client, owner=org.am, status=Project.Status.COMPLETED)
    MilestoneFactory(project=finished, due_date=TODAY - timedelta(days=5), name="Closed one")
    url = reverse("pipeline:milestones-overdue")
    for persona in ("am", "manager", "director"):
        html = login(getattr(org, persona)).get(url).content.decode()
        assert f'data-milestone="{late.pk}"' in html, persona
        for name in ("Done one", "Future one", "Closed one"):
            assert name not in html, (persona, name)
    for persona in ("peer_manager", "peer_am", "outsider", "peer_rep"):
        html = login(getattr(org, persona)).get(url).content.decode()
        assert "Late one" not in html, persona


def test_the_timeline_highlights_overdue_milestones(login, org, project):
    MilestoneFactory(
        project=project,
        name="Design",
        due_date=TODAY - timedelta(days=20),
        status=Milestone.Status.DONE,
    )
    MilestoneFactory(project=project, name="Build", due_date=TODAY - timedelta(days=2))
    MilestoneFactory(project=project, name="Launch", due_date=TODAY + timedelta(days=30))
    html = login(org.am).get(reverse("pipeline:project-timeline", args=[project.pk])).content
    html = html.decode()
    items = html[html.index('data-testid="timeline"') :]
    assert items.index("Design") < items.index("Build") < items.index("Launch")
    assert items.count('data-overdue="1"') == 1
    overdue = items[items.index('data-overdue="1"') :]
    assert overdue.index("Build") < overdue.index("Launch")
    assert 'data-testid="timeline-horizontal"' in html


def test_a_milestone_edit_needs_the_right_to_change_the_project(login, org, project):
    milestone = MilestoneFactory(project=project)
    assert (
        login(org.support).get(reverse("pipeline:milestone-edit", args=[milestone.pk])).status_code
        == 403
    )
    assert (
        login(org.outsider).get(reverse("pipeline:milestone-edit", args=[milestone.pk])).status_code
        == 404
    )
    response = login(org.am).post(
        reverse("pipeline:milestone-edit", args=[milestone.pk]),
        {"name": "Renamed", "owner": org.am.pk, "due_date": "2030-01-01", "status": "done"},
    )
    assert response.status_code == 302
    milestone.refresh_from_db()
    assert (milestone.name, milestone.completed_on) == ("Renamed", timezone.localdate())


# -------------------------------------------------------------------------- API
def test_the_api_reports_progress_and_completes(org, project):
    api = APIClient()
    api.force_authenticate(org.am)
    base = f"/api/v1/projects/{project.pk}"
    m = api.post(
        f"{base}/milestones/",
        {"name": "UAT", "owner": org.am.pk, "due_date": "2030-01-01"},
        format="json",
    )
    assert m.status_code == 201
    t = api.post(
        f"{base}/tasks/", {"title": "Test plan", "milestone": m.json()["id"]}, format="json"
    )
    assert t.status_code == 201 and t.json()["project"] == project.pk
    api.patch(f"{base}/tasks/{t.json()['id']}/", {"done": True}, format="json")
    body = api.get(f"{base}/").json()
    assert body["progress"] == 50
    assert (
        api.patch(
            f"{base}/", {"status": "completed", "version": body["version"]}, format="json"
        ).json()["status"]
        == project.status
    )  # read-only field
    done = api.post(f"{base}/transition/", {"status": "completed"}, format="json")
    assert done.status_code == 200
    assert done.json()["completed_on"] == timezone.localdate().isoformat()
    assert done.json()["progress"] == 100
    refused = api.post(f"{base}/transition/", {"status": "planned"}, format="json")
    assert refused.status_code == 400
    assert Task.objects.get(pk=t.json()["id"]).done
