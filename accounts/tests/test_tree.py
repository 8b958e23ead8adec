"""The reporting tree: paths stay right when people are hired, moved and promoted."""

import pytest
from django.core.exceptions import ValidationError

from accounts.models import Role, User
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_paths_follow_the_reporting_line(org):
    assert org.director.path == f"{org.director.pk}."
    assert org.rep.path == f"{org.director.pk}.{org.manager.pk}.{org.am.pk}.{org.rep.pk}."
    assert org.rep.ancestor_pks == [org.director.pk, org.manager.pk, org.am.pk]


def test_subtree_is_everyone_at_or_below(org):
    assert set(org.manager.subtree().values_list("username", flat=True)) == {
        "manager",
        "am",
        "rep",
        "peer_rep",
        "support",
    }
    assert set(org.rep.subtree().values_list("username", flat=True)) == {"rep"}


def test_moving_a_manager_moves_their_whole_subtree(org):
    org.am.reports_to = org.peer_manager
    org.am.save()
    org.rep.refresh_from_db()
    assert org.rep.path == (f"{org.director.pk}.{org.peer_manager.pk}.{org.am.pk}.{org.rep.pk}.")
    assert set(org.peer_manager.subtree().values_list("username", flat=True)) >= {
        "am",
        "rep",
        "peer_rep",
    }
    assert "rep" not in set(org.manager.subtree().values_list("username", flat=True))


def test_a_move_uses_the_parents_current_path_not_a_stale_copy(org):
    stale_am = User.objects.get(pk=org.am.pk)
    org.am.reports_to = org.peer_manager
    org.am.save()
    newcomer = UserFactory(role=Role.REP, reports_to=stale_am)
    assert newcomer.path.startswith(f"{org.director.pk}.{org.peer_manager.pk}.{org.am.pk}.")


def test_a_loop_is_refused(org):
    org.manager.reports_to = org.rep
    with pytest.raises(ValidationError):
        org.manager.full_clean()
    with pytest.raises(ValidationError):
        org.manager.save()
    org.manager.refresh_from_db()
    assert org.manager.reports_to_id == org.director.pk


def test_saving_unrelated_fields_does_not_touch_the_tree(org, django_assert_num_queries):
    org.rep.phone = "+86 21 5555 0000"
    # one UPDATE of the row, one INSERT of its history record
    with django_assert_num_queries(2):
        org.rep.save()


def test_role_rank_is_checked(org):
    org.rep.reports_to = org.peer_rep
    with pytest.raises(ValidationError, match="cannot report to"):
        org.rep.full_clean()
