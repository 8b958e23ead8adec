"""Hiring, moving, promoting and deactivating people."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts import services
from accounts.models import HandOver, Role, User
from tests.owned_app.models import Notebook

pytestmark = pytest.mark.django_db


def test_a_manager_hires_into_their_own_part(org):
    rep = services.user_create(
        by=org.manager,
        username="newrep",
        role=Role.REP,
        team=org.east_team,
        reports_to=org.am,
        password="S3cure-pass!",
    )
    assert rep.path.startswith(org.manager.path)
    assert rep.check_password("S3cure-pass!")


@pytest.mark.parametrize("field,value_attr", [("reports_to", "peer_am"), ("team", "north_team")])
def test_a_manager_cannot_place_people_elsewhere(org, field, value_attr):
    fields = {"username": "x", "role": Role.REP, "team": org.east_team, "reports_to": org.am}
    fields[field] = getattr(org, value_attr)
    with pytest.raises(ValidationError) as exc:
        services.user_create(by=org.manager, **fields)
    assert field in exc.value.error_dict
    assert not User.objects.filter(username="x").exists()


def test_a_manager_cannot_make_a_director(org):
    with pytest.raises(ValidationError) as exc:
        services.user_create(
            by=org.manager, username="boss", role=Role.DIRECTOR, reports_to=org.manager
        )
    assert "role" in exc.value.error_dict


@pytest.mark.parametrize("actor", ["am", "rep", "support"])
def test_only_managers_and_the_director_manage_people(org, actor):
    with pytest.raises(PermissionDenied):
        services.user_create(by=getattr(org, actor), username="x", role=Role.REP, reports_to=org.am)
    with pytest.raises(PermissionDenied):
        services.user_update(by=getattr(org, actor), user=org.rep, title="Boss")


def test_a_manager_cannot_edit_someone_in_another_region(org):
    with pytest.raises(PermissionDenied):
        services.user_update(by=org.manager, user=org.outsider, title="x")


def test_demoting_someone_with_reports_is_refused_until_they_are_moved(org):
    with pytest.raises(ValidationError, match="report to someone of the same or a lower role"):
        services.user_update(by=org.director, user=org.am, role=Role.REP)


def test_deactivation_hands_everything_to_the_manager(org):
    mine = Notebook.objects.create(title="mine", owner=org.am)
    reviewed = Notebook.objects.create(title="reviewed", owner=org.outsider, reviewer=org.am)

    handover = services.user_deactivate(by=org.manager, user=org.am)

    mine.refresh_from_db()
    reviewed.refresh_from_db()
    assert mine.owner == org.manager and reviewed.reviewer == org.manager
    assert reviewed.owner == org.outsider  # the other owner field is left alone
    for report in (org.rep, org.peer_rep):
        report.refresh_from_db()
        assert report.reports_to == org.manager
        assert report.path == f"{org.manager.path}{report.pk}."
    org.east_team.refresh_from_db()
    assert org.east_team.manager == org.manager
    assert handover.moved == {
        "owned_app.Notebook.owner": 1,
        "owned_app.Notebook.reviewer": 1,
        "direct_reports": 2,
        "teams": 1,
    }
    org.am.refresh_from_db()
    assert not org.am.is_active
    assert HandOver.objects.get().to_user == org.manager


def test_deactivation_to_someone_from_below_who_steps_up(org):
    Notebook.objects.create(title="mine", owner=org.manager)
    services.user_deactivate(by=org.director, user=org.manager, successor=org.am)
    for person in (org.am, org.support, org.rep):
        person.refresh_from_db()
    assert org.am.reports_to == org.director
    assert org.support.reports_to == org.am
    assert org.rep.reports_to == org.am
    assert org.rep.path == f"{org.director.path}{org.am.pk}.{org.rep.pk}."
    assert Notebook.objects.get(title="mine").owner == org.am


def test_deactivation_is_all_or_nothing(org):
    Notebook.objects.create(title="mine", owner=org.am)
    org.peer_am.is_active = False
    org.peer_am.save()
    with pytest.raises(ValidationError):
        services.user_deactivate(by=org.director, user=org.am, successor=org.peer_am)
    assert Notebook.objects.get(title="mine").owner == org.am
    org.am.refresh_from_db()
    assert org.am.is_active


def test_nobody_deactivates_themselves_or_people_outside_their_part(org):
    with pytest.raises(ValidationError):
        services.user_deactivate(by=org.manager, user=org.manager)
    with pytest.raises(PermissionDenied):
        services.user_deactivate(by=org.manager, user=org.outsider)


def test_moves_are_kept_in_history(org):
    services.user_update(by=org.director, user=org.rep, reports_to=org.peer_am, team=org.north_team)
    latest = org.rep.history.first()
    assert latest.reports_to_id == org.peer_am.pk
    assert "director" in latest.history_change_reason
    assert latest.prev_record.reports_to_id == org.am.pk
