"""Fixtures shared by every app's tests."""

from __future__ import annotations

import pytest

from tests.personas import Org, build_org


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
