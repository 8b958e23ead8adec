"""Fixtures shared by every app's tests."""

from __future__ import annotations

import pytest

from tests.personas import Org, build_org
from tests.reference_data import restore

_state = {"flushed": False}


def _is_transactional(request: pytest.FixtureRequest) -> bool:
    marker = request.node.get_closest_marker("django_db")
    if marker is not None and marker.kwargs.get("transaction"):
        return True
    return bool({"transactional_db", "live_server"} & set(request.fixturenames))


@pytest.fixture(autouse=True)
def _reference_data_after_flush(request: pytest.FixtureRequest, django_db_blocker):
    """After a transactional test flushed the database, restore what migrations made."""
    uses_db = request.node.get_closest_marker("django_db") is not None or bool(
        {"db", "transactional_db", "live_server"} & set(request.fixturenames)
    )
    if _state["flushed"] and uses_db:
        with django_db_blocker.unblock():
            restore()
        _state["flushed"] = False
    yield
    if _is_transactional(request):
        _state["flushed"] = True


@pytest.fixture
def org(db: None) -> Org:
    return build_org()


@pytest.fixture
def login(client):
    """``login(user)`` signs the test client in as ``user`` and returns it."""

    def _login(user):
        client.force_login(user)
        return client

    return _login
