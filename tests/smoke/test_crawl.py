"""Every page a demo user can reach by clicking works, on PostgreSQL and on SQLite.

Each role signs in and follows the links the pages show them (breadth-first,
within salesorg), as a curious new user would. A link the product shows must
not lead to an error, a 403 or a 404: those are bugs in what we show, or
queries that break on one of the two databases (``scripts/test`` runs this file
a second time on SQLite, the embedded default).
"""

from __future__ import annotations

import re
from collections import deque
from io import StringIO
from urllib.parse import urljoin, urlsplit

import pytest
from django.core.management import call_command

from accounts.models import User

pytestmark = pytest.mark.django_db

ROLES = ["director", "manager1", "am1", "rep1", "support1"]
MAX_PAGES = 150
#: links not to follow: they change state, leave the app, or only download data
SKIP = re.compile(
    r"^/(logout|i18n|admin|api|static|media)/|[?&]export=|/download/|/print/|\.csv$|\.xlsx$"
)
HREF = re.compile(r'href="([^"#]+)"')


def _links(html: str, base: str) -> list[str]:
    found = []
    for raw in HREF.findall(html):
        url = urljoin(base, raw.replace("&amp;", "&"))
        parts = urlsplit(url)
        if parts.netloc and parts.netloc != "testserver":
            continue
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if path.startswith("/") and not SKIP.search(path):
            found.append(path)
    return found


def _crawl(client) -> tuple[int, list[tuple[str, int]], set[str]]:
    queue: deque[str] = deque(["/"])
    seen: set[str] = {"/"}
    variants: dict[str, int] = {}
    broken: list[tuple[str, int]] = []
    visited = 0
    while queue and visited < MAX_PAGES:
        url = queue.popleft()
        response = client.get(url, follow=True)
        visited += 1
        if response.status_code != 200:
            broken.append((url, response.status_code))
            continue
        if "text/html" not in response.get("Content-Type", ""):
            continue
        for link in _links(response.content.decode(), response.request["PATH_INFO"]):
            path = link.split("?")[0]
            # Sorting, filtering and paging links: a couple of variants per page is enough.
            if link in seen or variants.get(path, 0) >= 2:
                continue
            variants[path] = variants.get(path, 0) + 1
            seen.add(link)
            queue.append(link)
    return visited, broken, seen


def _api_problems(client) -> list[tuple[str, int]]:
    endpoints = client.get("/api/v1/", HTTP_ACCEPT="application/json").json()
    assert len(endpoints) >= 10
    return [
        (name, response.status_code)
        for name, url in endpoints.items()
        if (response := client.get(url, HTTP_ACCEPT="application/json")).status_code != 200
    ]


def test_every_link_and_api_list_works_for_each_role(client):
    # One seeding for all roles: the small demo company with 18 months of history.
    call_command("seed_demo", "--force", stdout=StringIO())
    problems = {}
    for username in ROLES:
        client.force_login(User.objects.get(username=username))
        visited, broken, seen = _crawl(client)
        assert visited >= 20, f"{username} reached only {visited} pages"
        assert "/pipeline/deals/board/" in seen or username == "support1", username
        broken += _api_problems(client)
        if broken:
            problems[username] = broken
    assert problems == {}, "links and API lists that do not work for these roles"
