"""The complaint SLA settings: hours per severity, parsed strictly from the environment."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from clients.models import Severity
from salesorg.env import env_int_map

BASE = Path(__file__).resolve().parents[2]
KEYS = ("low", "medium", "high", "critical")


def test_the_settings_know_every_severity():
    """settings.py cannot import the models; its list must match them."""
    assert set(KEYS) == set(Severity.values)
    assert settings.SALESORG_COMPLAINT_SLA_HOURS == 24
    assert settings.SALESORG_COMPLAINT_SLA_HOURS_BY_SEVERITY == {}


def test_hours_per_severity_are_parsed():
    parse = env_int_map
    assert parse("X", KEYS, environ={}) == {}
    assert parse("X", KEYS, environ={"X": " "}) == {}
    assert parse("X", KEYS, environ={"X": "critical=4, high = 12"}) == {"critical": 4, "high": 12}


@pytest.mark.parametrize(
    "raw,message",
    [
        ("urgent=4", "'urgent=4' is not valid"),
        ("critical:4", "'critical:4' is not valid"),
        ("critical=4,", "'' is not valid"),
        ("critical=four", "'four' for 'critical' is not an integer"),
        ("critical=0", "critical=0 must be at least 1"),
        ("high=4,high=5", "names 'high' twice"),
    ],
)
def test_bad_values_are_explained(raw, message):
    name = "SALESORG_COMPLAINT_SLA_HOURS_BY_SEVERITY"
    with pytest.raises(ImproperlyConfigured, match=message):
        env_int_map(name, KEYS, environ={name: raw}, minimum=1)


def _check(env_overrides: dict[str, str]) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update({"DJANGO_SETTINGS_MODULE": "salesorg.settings", "DEBUG": "1", **env_overrides})
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings;"
            "print(settings.SALESORG_COMPLAINT_SLA_HOURS,"
            " sorted(settings.SALESORG_COMPLAINT_SLA_HOURS_BY_SEVERITY.items()))",
        ],
        cwd=BASE,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_product_reads_them_and_refuses_a_typo():
    good = _check(
        {
            "SALESORG_COMPLAINT_SLA_HOURS": "48",
            "SALESORG_COMPLAINT_SLA_HOURS_BY_SEVERITY": "critical=4,high=12",
        }
    )
    assert good.returncode == 0, good.stderr
    assert good.stdout.strip() == "48 [('critical', 4), ('high', 12)]"
    bad = _check({"SALESORG_COMPLAINT_SLA_HOURS_BY_SEVERITY": "criticle=4"})
    assert bad.returncode != 0
    assert "SALESORG_COMPLAINT_SLA_HOURS_BY_SEVERITY='criticle=4'" in bad.stderr
