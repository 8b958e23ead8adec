"""``python -m tests.bench.run``: measure every endpoint as every persona.

Run by ``make bench`` (``scripts/bench``) against a gunicorn server started with
``SALESORG_BENCH_HEADERS=1``; the figures come from the server's own headers
(``X-Server-Time-Ms``, ``X-Query-Count``), not from client-side timing. Pages
are requested with a session (a real sign-in through the login form), the API
with a token from ``/api/v1/auth/token/``. For each endpoint and persona it
sends ``--warmup`` requests, then ``--requests`` measured ones, one at a time,
and writes ``bench-results/bench-<timestamp>.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import statistics
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

RESULTS = Path(os.environ.get("BENCH_RESULTS_DIR", "bench-results"))


# ------------------------------------------------------------------ http
@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass
class Agent:
    """A minimal HTTP client with a cookie jar (sessions) or a token (API)."""

    base: str
    token: str = ""
    cookies: dict[str, str] = field(default_factory=dict)

    def request(
        self, method: str, path: str, form: dict[str, str] | None = None, accept: str = "text/html"
    ) -> Reply:
        parts = urlsplit(self.base)
        conn = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=120)
        headers = {"Accept": accept, "Host": parts.netloc}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if self.token:
            headers["Authorization"] = f"Token {self.token}"
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            if "csrftoken" in self.cookies:
                headers["X-CSRFToken"] = self.cookies["csrftoken"]
                headers["Referer"] = self.base + path
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            for name, value in response.getheaders():
                if name.lower() == "set-cookie":
                    for morsel in SimpleCookie(value).values():
                        self.cookies[morsel.key] = morsel.value
            return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, data)
        finally:
            conn.close()


def sign_in(base: str, username: str, password: str) -> tuple[Agent, Agent]:
    """A session agent (through the login form) and a token agent for ``username``."""
    from django.urls import reverse

    browser = Agent(base)
    login = reverse("accounts:login")
    browser.request("GET", login)
    reply = browser.request(
        "POST",
        login,
        form={
            "csrfmiddlewaretoken": browser.cookies.get("csrftoken", ""),
            "username": username,
            "password": password,
        },
    )
    if reply.status != 302 or "sessionid" not in browser.cookies:
        raise SystemExit(f"Could not sign in as {username} (HTTP {reply.status}).")
    api = Agent(base)
    reply = api.request(
        "POST",
        reverse("api-token"),
        form={"username": username, "password": password},
        accept="application/json",
    )
    if reply.status != 200:
        raise SystemExit(f"Could not get an API token for {username} (HTTP {reply.status}).")
    api.token = json.loads(reply.body)["token"]
    return browser, api


# ------------------------------------------------------------------ measuring
def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def url_for(endpoint: Any, user: Any) -> tuple[str | None, str]:
    """The URL to measure for this persona, or None and why it is skipped."""
    from django.urls import NoReverseMatch, Resolver404, resolve, reverse

    if endpoint.target.startswith("/"):
        probe = endpoint.target.replace("{}", "1")
        try:
            resolve(probe)
        except Resolver404:
            return None, f"{endpoint.target} does not exist yet"
        args = endpoint.args(user) if endpoint.args else ()
        if args is None:
            return None, "no record visible to this persona"
        return endpoint.target.format(*args) + endpoint.query, ""
    if not _url_name_exists(endpoint.target):
        return None, f"URL name {endpoint.target} does not exist yet"
    args = endpoint.args(user) if endpoint.args else ()
    if args is None:
        return None, "no record visible to this persona"
    try:
        return reverse(endpoint.target, args=list(args)) + endpoint.query, ""
    except NoReverseMatch as exc:
        return None, f"cannot build the URL: {exc}"


def _url_name_exists(name: str) -> bool:
    from django.urls import get_resolver

    resolver = get_resolver()
    *namespaces, view = name.split(":")
    for namespace in namespaces:
        if namespace not in resolver.namespace_dict:
            return False
        resolver = resolver.namespace_dict[namespace][1]
    return view in resolver.reverse_dict


def measure(agent: Agent, url: str, accept: str, warmup: int, requests: int) -> dict[str, Any]:
    for _ in range(warmup):
        agent.request("GET", url, accept=accept)
    times, queries, query_ms, statuses, sizes = [], [], [], Counter(), []
    for _ in range(requests):
        reply = agent.request("GET", url, accept=accept)
        if "x-server-time-ms" not in reply.headers:
            raise SystemExit(
                "The server sends no X-Server-Time-Ms header: start it with "
                "SALESORG_BENCH_HEADERS=1 (make bench does)."
            )
        times.append(float(reply.headers["x-server-time-ms"]))
        queries.append(int(reply.headers["x-query-count"]))
        query_ms.append(float(reply.headers.get("x-query-time-ms", "0")))
        statuses[reply.status] += 1
        sizes.append(len(reply.body))
    return {
        "status": statuses.most_common(1)[0][0],
        "statuses": dict(statuses),
        "n": len(times),
        "p50": percentile(times, 50),
        "p95": percentile(times, 95),
        "p99": percentile(times, 99),
        "mean": round(statistics.mean(times), 2),
        "max": max(times),
        "queries": int(statistics.median(queries)),
        "queries_max": max(queries),
        "query_ms_p50": percentile(query_ms, 50),
        "bytes": int(statistics.median(sizes)),
    }


# ------------------------------------------------------------------ report
def dataset() -> dict[str, Any]:
    from django.db import connection

    from accounts.models import User
    from clients.models import Client, Contact
    from pipeline.models import Activity, Deal, Lead

    return {
        "database": connection.settings_dict["NAME"],
        "vendor": connection.vendor,
        "users": User.objects.count(),
        "clients": Client.objects.count(),
        "contacts": Contact.objects.count(),
        "leads": Lead.objects.count(),
        "deals": Deal.objects.count(),
        "activities": Activity.objects.count(),
    }


def git_commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
    except OSError:
        return ""


def markdown(report: dict[str, Any]) -> str:
    meta, data = report["meta"], report["dataset"]
    lines = [
        f"# salesorg benchmark — {meta['started']}",
        "",
        f"- commit `{meta['commit']}`, server {meta['base_url']} ({meta['server']})",
        f"- database `{data['database']}`: {data['clients']:,} clients, {data['contacts']:,} "
        f"contacts, {data['leads']:,} leads, {data['deals']:,} deals, "
        f"{data['activities']:,} activities, {data['users']} people",
        f"- {meta['requests']} measured requests per endpoint and persona, after "
        f"{meta['warmup']} warm-up requests, one at a time",
        "- times are server time in ms (`X-Server-Time-Ms`: first middleware to response), "
        "queries the SQL statements per request (`X-Query-Count`, median)",
        f"- machine load (1-minute average) {meta['load_average'][1]} at the start, "
        f"{meta['load_average'][0]} at the end, on {meta['cpus']} CPUs: other work on the "
        "machine inflates the times, not the query counts",
    ]
    seed = report.get("seed")
    if seed:
        lines.append(
            f"- `seed_demo --size large` took **{seed['seconds']:.0f} s** ({seed['at']}, "
            f"seed {seed.get('seed')}){' — reused this run' if seed.get('reused') else ''}"
        )
    lines += [
        "",
        "Targets (issue 3): list and detail pages p95 ≤ 100 ms at 10,000 clients, API lists "
        "p95 ≤ 100 ms. ✗ marks a p95 above its target.",
        "",
        "| endpoint | persona | status | p50 | p95 | p99 | queries | target p95 |",
        "|---|---|---|---:|---:|---:|---:|---|",
    ]
    for r in report["results"]:
        target = r["target_ms"]
        mark = "" if target is None else ("✓ " if r["p95"] <= target else "✗ ") + f"{target:g}"
        queries = str(r["queries"]) + (
            f" (≤{r['queries_max']})" if r["queries_max"] != r["queries"] else ""
        )
        lines.append(
            f"| {r['endpoint']} | {r['persona']} | {r['status']} | {r['p50']:.1f} | "
            f"{r['p95']:.1f} | {r['p99']:.1f} | {queries} | {mark} |"
        )
    if report["skipped"]:
        lines += ["", "## Skipped", ""]
        for s in report["skipped"]:
            who = f" ({', '.join(s['personas'])})" if s.get("personas") else ""
            lines.append(f"- {s['endpoint']}{who}: {s['reason']}")
    imp = report.get("import")
    if imp:
        lines += ["", "## Client import (10,000 rows)", ""]
        if "skipped" in imp:
            lines.append(f"Skipped: {imp['skipped']}.")
        else:
            lines.append(
                f"`{imp['function']}` on `{imp['file']}`: **{imp.get('seconds')} s** "
                f"(target ≤ 30 s, rolled back afterwards); "
                + ", ".join(
                    f"{k} {imp[k]}"
                    for k in (
                        "status",
                        "row_count",
                        "created_count",
                        "updated_count",
                        "error_count",
                    )
                    if k in imp
                )
                + (f"; error: {imp['error']}" if "error" in imp else "")
            )
    plans = report.get("explain") or []
    if plans:
        lines += [
            "",
            "## Visibility queries (EXPLAIN ANALYZE)",
            "",
            "| persona | query | ms | indexes used | sequential scans |",
            "|---|---|---:|---|---|",
        ]
        for p in plans:
            lines.append(
                f"| {p['persona']} | {p['query']} | {p['ms']} | {', '.join(p['indexes']) or '—'} "
                f"| {', '.join(p['seq_scans']) or '—'} |"
            )
        lines += ["", "<details><summary>Plans</summary>", ""]
        for p in plans:
            lines += [f"**{p['persona']} — {p['query']}**", "", "```", p["plan"], "```", ""]
        lines.append("</details>")
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--base-url", default=os.environ.get("BENCH_BASE_URL", "http://127.0.0.1:8765")
    )
    parser.add_argument("--requests", type=int, default=int(os.environ.get("BENCH_REQUESTS", 50)))
    parser.add_argument("--warmup", type=int, default=int(os.environ.get("BENCH_WARMUP", 5)))
    parser.add_argument(
        "--only", default="", help="measure only endpoints whose name contains this"
    )
    parser.add_argument("--personas", default="", help="comma-separated usernames")
    parser.add_argument("--password", default="demo")
    parser.add_argument("--no-import", action="store_true", help="skip the 10,000-row import")
    parser.add_argument("--no-explain", action="store_true", help="skip EXPLAIN of visibility")
    parser.add_argument("--server", default=os.environ.get("BENCH_SERVER", "gunicorn"))
    options = parser.parse_args(argv)

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesorg.settings")
    django.setup()
    from accounts.models import User
    from tests.bench import endpoints as catalogue

    started = datetime.now(UTC)
    load_start = round(os.getloadavg()[0], 2)
    wanted = [p for p in options.personas.split(",") if p] or list(catalogue.PERSONAS)
    agents = {name: sign_in(options.base_url, name, options.password) for name in wanted}
    users = {u.username: u for u in User.objects.filter(username__in=wanted)}
    results, skipped = [], {}
    for endpoint in catalogue.ENDPOINTS:
        if options.only and options.only not in endpoint.name:
            continue
        for persona in endpoint.personas:
            if persona not in agents:
                continue
            url, reason = url_for(endpoint, users[persona])
            if url is None:
                entry = skipped.setdefault((endpoint.name, reason), [])
                entry.append(persona)
                continue
            browser, api = agents[persona]
            agent, accept = (
                (api, "application/json") if endpoint.kind == "api" else (browser, "text/html")
            )
            figures = measure(agent, url, accept, options.warmup, options.requests)
            row = {"endpoint": endpoint.name, "persona": persona, "url": url, "kind": endpoint.kind,
                   "target_ms": endpoint.target_ms, **figures}  # fmt: skip
            results.append(row)
            print(
                f"{endpoint.name:28} {persona:9} {figures['status']} p50 {figures['p50']:7.1f} "
                f"p95 {figures['p95']:7.1f} p99 {figures['p99']:7.1f} ms  {figures['queries']:3} q",
                flush=True,
            )
    every = set(wanted)
    report: dict[str, Any] = {
        "meta": {
            "started": started.isoformat(timespec="seconds"),
            "base_url": options.base_url,
            "server": options.server,
            "requests": options.requests,
            "warmup": options.warmup,
            "commit": git_commit(),
            "load_average": [round(os.getloadavg()[0], 2), load_start],
            "cpus": os.cpu_count(),
        },
        "dataset": dataset(),
        "results": results,
        "skipped": [
            {"endpoint": name, "reason": reason, "personas": [] if set(who) >= every else who}
            for (name, reason), who in skipped.items()
        ],
    }
    seed_record = RESULTS / "seed-large.json"
    if seed_record.exists():
        seed = json.loads(seed_record.read_text())
        seed.pop("log", None)
        seed["reused"] = os.environ.get("BENCH_SEEDED_NOW") != "1"
        report["seed"] = seed
    if not options.no_import:
        from tests.bench.importing import time_import, write_csv

        owners = list(
            User.objects.filter(role__in=["rep", "account_manager"], is_active=True)
            .order_by("username")
            .values_list("username", flat=True)
        )
        path = write_csv(RESULTS / "import-10000.csv", 10_000, owners=owners)
        report["import"] = time_import(path)
        print(f"client import: {report['import']}", flush=True)
    if not options.no_explain:
        from tests.bench.explain import explain_all

        report["explain"] = explain_all()
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = started.strftime("%Y%m%d-%H%M%S")
    json_path = RESULTS / f"bench-{stamp}.json"
    json_path.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str))
    md_path = RESULTS / f"bench-{stamp}.md"
    md_path.write_text(markdown(report))
    over = [r for r in results if r["target_ms"] is not None and r["p95"] > r["target_ms"]]
    print(f"\n==> {len(results)} measurements, {len(over)} above target; {md_path} and {json_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
