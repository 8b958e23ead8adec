"""Fixtures shared by every app's tests."""

from __future__ import annotations

import pytest
from django.utils import translation

from tests.personas import Org, build_org
from tests.reference_data import ensure as ensure_reference_data


def _uses_db(request: pytest.FixtureRequest) -> bool:
    return request.node.get_closest_marker("django_db") is not None or bool(
        {"db", "transactional_db", "live_server"} & set(request.fixturenames)
    )


@pytest.fixture(autouse=True)
def _reference_data(request: pytest.FixtureRequest, django_db_setup, django_db_blocker) -> None:
    """Make sure what the data migrations made is there before each database test.

    A transactional test (a real worker, threads, the browser's live server)
    ends with a flush that empties every table; whichever test runs next on
    that database — in whatever order xdist hands them out — finds the role
    groups, stages and survey templates restored.
    """
    if not _uses_db(request):
        return
    with django_db_blocker.unblock():
        ensure_reference_data()


@pytest.fixture(autouse=True)
def _english() -> None:
    """Each test starts in English: a request in Chinese leaves Chinese active in
    this thread (LocaleMiddleware activates the language and nothing resets it)."""
    translation.activate("en")


@pytest.fixture(autouse=True)
def _fresh_permissions() -> None:
    """Permission sets and reference data cached by an earlier test (rolled back
    since) are not reused."""
    from accounts.backends import forget_permissions
    from salesorg.lib import refcache

    forget_permissions()
    refcache.forget()


@pytest.fixture
def org(db: None) -> Org:
    return build_org()


@pytest.fixture
def login(client):
    """``login(user)`` signs the test client in as ``user`` and returns it."""

    def _login(user):
        client.force_login(user)
        # As after a first page in production: the permission set is in the
        # cache (accounts.backends), so query counts measure the page itself.
        type(user).objects.get(pk=user.pk).get_all_permissions()
        return client

    return _login
