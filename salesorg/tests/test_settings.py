"""Settings fail loudly and clearly on bad environment values."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from salesorg.env import env_bool, env_int, parse_database_url, parse_redis_url

BASE = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "url,message",
    [
        ("mysql://root@localhost/db", "unsupported scheme 'mysql'"),
        ("postgres://localhost:notaport/db", "is not a valid URL"),
        ("postgres://localhost:5432/", "names no database"),
        ("sqlite://", "names no file"),
        ("just-a-word", "unsupported scheme '(none)'"),
    ],
)
def test_bad_database_urls_are_explained(url, message):
    with pytest.raises(ImproperlyConfigured, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_database_url(url, base_dir=BASE)


def test_good_database_urls():
    pg = parse_database_url(
        "postgres://u:p%40ss@db.example:6543/sales?conn_max_age=60", base_dir=BASE
    )
    assert pg["ENGINE"] == "django.db.backends.postgresql"
    assert (pg["NAME"], pg["USER"], pg["PASSWORD"], pg["HOST"], pg["PORT"]) == (
        "sales",
        "u",
        "p@ss",
        "db.example",
        "6543",
    )
    assert pg["CONN_MAX_AGE"] == 60 and pg["CONN_HEALTH_CHECKS"]
    default = parse_database_url("postgres://db.example/sales", base_dir=BASE)
    assert default["CONN_MAX_AGE"] == 60 and default["CONN_HEALTH_CHECKS"]
    per_request = parse_database_url("postgres://db.example/sales?conn_max_age=0", base_dir=BASE)
    assert per_request["CONN_MAX_AGE"] == 0 and not per_request["CONN_HEALTH_CHECKS"]
    lite = parse_database_url("sqlite:///var/x.sqlite3", base_dir=BASE)
    assert lite["NAME"] == str(BASE / "var/x.sqlite3")
    assert parse_database_url("sqlite:////tmp/x.db", base_dir=BASE)["NAME"] == "/tmp/x.db"


def test_strict_scalars():
    assert env_bool("X", environ={"X": "yes"}) is True
    assert env_bool("X", default=True, environ={}) is True
    with pytest.raises(ImproperlyConfigured, match="X='maybe' is not a boolean"):
        env_bool("X", environ={"X": "maybe"})
    with pytest.raises(ImproperlyConfigured, match="is not an integer"):
        env_int("N", 1, environ={"N": "ten"})
    with pytest.raises(ImproperlyConfigured, match="must be at least 1"):
        env_int("N", 1, environ={"N": "0"}, minimum=1)
    with pytest.raises(ImproperlyConfigured, match="must look like redis://"):
        parse_redis_url("http://localhost:6379")


def _start(env_overrides: dict[str, str]) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE"}}
    env.update({"DJANGO_SETTINGS_MODULE": "salesorg.settings", **env_overrides})
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=BASE,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_product_refuses_to_start_with_a_bad_database_url():
    result = _start({"DATABASE_URL": "mysql://root@localhost/sales", "SECRET_KEY": "x" * 50})
    assert result.returncode != 0
    assert (
        "DATABASE_URL='mysql://root@localhost/sales' uses the unsupported scheme" in result.stderr
    )


def _run(args: list[str], env_overrides: dict[str, str]) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE"}}
    env.update({"DJANGO_SETTINGS_MODULE": "salesorg.settings", **env_overrides})
    return subprocess.run(
        [sys.executable, *args], cwd=BASE, env=env, capture_output=True, text=True, timeout=60
    )


def test_the_web_process_freezes_what_it_loaded_at_start():
    """The garbage collector leaves the loaded code alone (``salesorg/wsgi.py``)."""
    env = {"DEBUG": "0", "SECRET_KEY": "k" * 50, "ALLOWED_HOSTS": "crm.example.com"}
    code = "import gc, salesorg.wsgi; print(gc.get_freeze_count())"
    web = _run(["-c", code], env)
    assert web.returncode == 0, web.stderr
    assert int(web.stdout.strip()) > 50_000  # the apps, their views and Django


def test_the_product_refuses_to_start_without_a_secret_key_in_production():
    env = {"DEBUG": "0", "SECRET_KEY": "", "ALLOWED_HOSTS": "crm.example.com"}
    web = _run(["-c", "import salesorg.wsgi"], env)  # what gunicorn and runserver load
    assert web.returncode != 0
    assert "SECRET_KEY is not set" in web.stderr
    deploy = _run(["manage.py", "check", "--deploy"], env)
    assert deploy.returncode != 0
    assert "salesorg.E001" in deploy.stderr and "SECRET_KEY is not set" in deploy.stderr
    # Commands that sign nothing still run where no key is configured (CI, a build).
    schema = _run(["manage.py", "makemigrations", "--check", "--dry-run"], env)
    assert schema.returncode == 0, schema.stderr
    assert "No changes detected" in schema.stdout


def test_deploy_check_is_clean_when_configured_for_production():
    env = {
        "DEBUG": "0",
        "SECRET_KEY": "a-long-random-production-key-" + "k3y" * 20,
        "ALLOWED_HOSTS": "crm.example.com",
    }
    # Not what the test process set for itself: the browser tests' async switch
    # (``tests/e2e/conftest.py``) stays set for the rest of their worker's session.
    own = {"DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    full = {k: v for k, v in os.environ.items() if k not in own}
    full.update({"DJANGO_SETTINGS_MODULE": "salesorg.settings", **env})
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE,
        env=full,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
