"""Fixtures for the KPI tests: an organisation that existed before the records."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from tests.personas import Org, build_org


@pytest.fixture
def past_org(db: None) -> Org:
    """The personas, hired 500 days ago: the tree's history starts before any record.

    (The ``org`` fixture hires everyone today; a move dated in the past would
    then come before the hiring in the history.)
    """
    with time_machine.travel(timezone.now() - timedelta(days=500), tick=False):
        return build_org()
