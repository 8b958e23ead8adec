"""``seed_demo`` makes the demo company other tools rely on (DESIGN.md)."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from accounts.models import Role, Team, User

pytestmark = pytest.mark.django_db

TREE = {
    "director": (None, Role.DIRECTOR),
    "manager1": ("director", Role.MANAGER),
    "manager2": ("director", Role.MANAGER),
    "am1": ("manager1", Role.ACCOUNT_MANAGER),
    "am2": ("manager2", Role.ACCOUNT_MANAGER),
    "rep1": ("am1", Role.REP),
    "rep2": ("am1", Role.REP),
    "rep3": ("am2", Role.REP),
    "rep4": ("am2", Role.REP),
    "support1": ("manager1", Role.SUPPORT),
}


def test_refuses_to_run_with_debug_off():
    with pytest.raises(CommandError, match="refuses to run with DEBUG off"):
        call_command("seed_demo", "--until", "accounts", stdout=StringIO())
    assert not User.objects.exists()


@override_settings(DEBUG=True)
def test_makes_the_documented_tree_and_is_idempotent():
    call_command("seed_demo", "--until", "accounts", stdout=StringIO())
    counts = (User.objects.count(), Team.objects.count())
    for username, (boss, role) in TREE.items():
        user = User.objects.get(username=username)
        assert user.role == role
        assert (user.reports_to.username if user.reports_to else None) == boss
        assert user.check_password("demo")
    assert User.objects.get(username="manager1").team.name == "East Region"
    assert User.objects.get(username="manager2").team.name == "North Region"
    assert User.objects.get(username="support1").region.name == "East Region"
    call_command("seed_demo", "--until", "accounts", stdout=StringIO())
    assert (User.objects.count(), Team.objects.count()) == counts


def test_force_runs_with_debug_off():
    call_command("seed_demo", "--force", "--until", "accounts", stdout=StringIO())
    assert User.objects.filter(username="rep4").exists()
