"""Strict readers for settings that come from the environment.

Every reader fails with ``ImproperlyConfigured`` naming the variable and the
accepted forms, so a typo in a deployment is caught at start-up instead of
surfacing later as odd behaviour.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "", environ: Mapping[str, str] = os.environ) -> str:
    return environ.get(name, default).strip()


def env_bool(name: str, default: bool = False, environ: Mapping[str, str] = os.environ) -> bool:
    if name not in environ:
        return default
    value = environ[name].strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name}={environ[name]!r} is not a boolean; use one of 1/0, true/false, yes/no, on/off."
    )


def env_int(
    name: str, default: int, environ: Mapping[str, str] = os.environ, minimum: int | None = None
) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer.") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value} must be at least {minimum}.")
    return value


def env_list(name: str, default: list[str], environ: Mapping[str, str] = os.environ) -> list[str]:
    raw = environ.get(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


_PG_SCHEMES = {"postgres", "postgresql", "pgsql", "psql"}
_SQLITE_SCHEMES = {"sqlite"}


def parse_database_url(url: str, *, base_dir: Path) -> dict[str, Any]:
    """Turn ``DATABASE_URL`` into a Django ``DATABASES['default']`` entry.

    Only the two databases the project is tested on are accepted, so that a
    MySQL URL fails here rather than at the first query.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL={url!r} is not a valid URL: {exc}.") from None
    scheme = parts.scheme.lower()
    if scheme in _SQLITE_SCHEMES:
        # sqlite:///relative.db, sqlite:////absolute/path.db, sqlite://:memory:
        path = parts.path
        if parts.netloc == ":memory:" or path in {"/:memory:", ":memory:"}:
            name: str | Path = ":memory:"
        elif not path or path == "/":
            raise ImproperlyConfigured(
                f"DATABASE_URL={url!r} names no file; use sqlite:///db.sqlite3 "
                "(relative) or sqlite:////var/lib/salesorg/db.sqlite3 (absolute)."
            )
        else:
            raw = unquote(path[1:])
            name = Path(raw) if raw.startswith("/") else base_dir / raw
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": str(name)}
    if scheme in _PG_SCHEMES:
        dbname = unquote(parts.path.lstrip("/"))
        if not dbname:
            raise ImproperlyConfigured(
                f"DATABASE_URL={url!r} names no database; "
                "use postgres://USER:PASSWORD@HOST:5432/DBNAME."
            )
        options = dict(parse_qsl(parts.query))
        # Persistent connections by default: a new PostgreSQL backend per request
        # (a process fork and cold catalogue caches) cost a dashboard 30–50 ms.
        conn_max_age = options.pop("conn_max_age", "60")
        try:
            max_age = int(conn_max_age)
        except ValueError:
            raise ImproperlyConfigured(
                f"DATABASE_URL option conn_max_age={conn_max_age!r} is not an integer."
            ) from None
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": dbname,
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(port or ""),
            "CONN_MAX_AGE": max_age,
            "CONN_HEALTH_CHECKS": max_age > 0,
            "OPTIONS": options,
        }
    raise ImproperlyConfigured(
        f"DATABASE_URL={url!r} uses the unsupported scheme {scheme or '(none)'!r}; "
        "salesorg runs on PostgreSQL (postgres://USER:PASSWORD@HOST:5432/DBNAME) "
        "or SQLite (sqlite:///db.sqlite3)."
    )


def parse_redis_url(url: str) -> str:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise ImproperlyConfigured(f"REDIS_URL={url!r} is not a valid URL: {exc}.") from None
    if parts.scheme not in {"redis", "rediss"} or not parts.hostname:
        raise ImproperlyConfigured(
            f"REDIS_URL={url!r} must look like redis://HOST:6379/0 (or rediss:// for TLS)."
        )
    return url


def env_int_map(
    name: str,
    keys: tuple[str, ...],
    environ: Mapping[str, str] = os.environ,
    minimum: int | None = None,
) -> dict[str, int]:
    """``"critical=4,high=12"`` → ``{"critical": 4, "high": 12}``.

    Only the given ``keys`` are accepted, each at most once, each with an
    integer: a misspelt key would otherwise be silently ignored and leave the
    default in force.
    """
    raw = environ.get(name, "").strip()
    result: dict[str, int] = {}
    if not raw:
        return result
    form = f"use KEY=HOURS pairs separated by commas, KEY one of {', '.join(keys)}"
    for item in raw.split(","):
        key, sep, value = (part.strip() for part in item.partition("="))
        if not sep or key not in keys:
            raise ImproperlyConfigured(f"{name}={raw!r}: {item.strip()!r} is not valid; {form}.")
        if key in result:
            raise ImproperlyConfigured(f"{name}={raw!r} names {key!r} twice.")
        try:
            number = int(value)
        except ValueError:
            raise ImproperlyConfigured(
                f"{name}={raw!r}: {value!r} for {key!r} is not an integer."
            ) from None
        if minimum is not None and number < minimum:
            raise ImproperlyConfigured(
                f"{name}={raw!r}: {key}={number} must be at least {minimum}."
            )
        result[key] = number
    return result
