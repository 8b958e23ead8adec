"""The sales support dashboard: the state of the client records, imports, events, surveys.

SPEC section 5: support staff keep client records accurate and complete (find
and merge duplicates, bulk import), organise events and run the satisfaction
surveys. Each figure links to the page where the work is done (the
data-quality page filtered to what the number counts, the import, the event,
the campaign). The lists are in ``support_data`` — one query each.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.urls import reverse
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _

from clients import quality
from clients.models import ClientImport, SurveyCampaign
from reports.dashboards import support_data as data
from reports.dashboards.params import DashboardParams
from reports.dashboards.widgets import (
    Badge,
    Chart,
    Dashboard,
    Link,
    Section,
    Table,
    Tile,
    count,
    money,
    pct,
)

IMPORT_TONES = {
    ClientImport.Status.UPLOADED: "secondary",
    ClientImport.Status.VALIDATED: "info",
    ClientImport.Status.COMMITTED: "success",
    ClientImport.Status.FAILED: "danger",
}
CAMPAIGN_TONES = {SurveyCampaign.Status.SENDING: "info", SurveyCampaign.Status.SENT: "primary"}

#: Campaigns drawn in the chart (the table lists more).
CHART_CAMPAIGNS = 8


def _url(name: str, *args: object, **query: object) -> str:
    url = reverse(name, args=args)
    return f"{url}?{urlencode(query)}" if query else url


def quality_url(show: str, key: str) -> str:
    """The data-quality page showing what a tile counts (``missing=…`` or ``kind=…``)."""
    field = "missing" if show == "incomplete" else "kind"
    return _url("clients:quality", show=show, **{field: key})


def build(params: DashboardParams) -> Dashboard:
    """Tiles for the record quality and the period's work, then one section per duty."""
    viewer = params.viewer
    clients = data.scoped_clients(viewer, params.scope)
    counts = data.quality_counts(clients)
    missing, duplicates = counts.missing, counts.duplicates
    imports = data.import_history(viewer, params.scope, params.period)
    events = data.upcoming_events(params.today)
    campaigns = data.active_campaigns(viewer, params.scope, clients)

    may_clean = viewer.has_perm("clients.merge_client")
    may_import = viewer.has_perm("clients.import_client")
    may_see_events = viewer.has_perm("pipeline.view_event")
    may_see_surveys = viewer.has_perm("clients.view_surveycampaign")

    dashboard = Dashboard(role="support", title=_("Sales support"))
    dashboard.tiles = _tiles(
        params, missing, duplicates, imports, events, campaigns, may_clean, may_import
    )
    dashboard.sections = [
        _quality_section(missing, duplicates, may_clean),
        _import_section(params, imports, may_import),
        _event_section(events, may_see_events),
        _survey_section(campaigns, may_see_surveys),
    ]
    return dashboard


# ------------------------------------------------------------------------- tiles
def _tiles(
    params: DashboardParams,
    missing: dict[str, int],
    duplicates: dict[str, int],
    imports: data.ImportHistory,
    events: data.UpcomingEvents,
    campaigns: list[data.CampaignStatus],
    may_clean: bool,
    may_import: bool,
) -> list[Tile]:
    def clean(url: str) -> str:
        return url if may_clean else ""

    tiles = [
        Tile(
            "incomplete",
            _("Incomplete records"),
            count(missing["any"]),
            url=clean(quality_url("incomplete", "any")),
            detail=_("lacking a phone, e-mail, industry or contact"),
            tone="warning" if missing["any"] else "success",
        )
    ]
    for key, label in quality.MISSING.items():
        tiles.append(
            Tile(
                f"missing-{key}",
                str(label),
                count(missing[key]),
                url=clean(quality_url("incomplete", key)),
            )
        )
    groups = sum(duplicates.values())
    worst = max(duplicates, key=lambda k: duplicates[k]) if groups else "name"
    tiles.append(
        Tile(
            "duplicates",
            _("Duplicate candidates"),
            count(groups),
            url=clean(quality_url("duplicates", worst)),
            detail=_("groups of records that may be one client"),
            tone="warning" if groups else "success",
        )
    )
    sent = sum(c.sent for c in campaigns)
    answered = sum(c.answered for c in campaigns)
    rate = data.response_rate(answered, sent)
    tiles += [
        Tile(
            "imports",
            _("Imports in the period"),
            count(imports.in_period),
            url=_url("clients:import") if may_import else "",
            detail=_("%(rows)s rows with errors") % {"rows": count(imports.rows_failed)},
            tone="danger" if imports.failed_in_period else "",
        ),
        Tile(
            "events",
            _("Events in the next %(days)s days") % {"days": data.EVENT_DAYS},
            count(events.total),
            url=_url("pipeline:event-list", when="upcoming", sort="starts"),
            detail=_("budget %(amount)s") % {"amount": money(events.budget)},
        ),
        Tile(
            "survey-response",
            _("Survey response rate"),
            pct(rate),
            url=_url("clients:survey-list", status=SurveyCampaign.Status.SENT),
            detail=_("%(answered)s answered of %(sent)s sent, %(n)s active campaigns")
            % {"answered": count(answered), "sent": count(sent), "n": count(len(campaigns))},
            progress=rate,
        ),
    ]
    return tiles


# ---------------------------------------------------------------------- sections
def _quality_section(
    missing: dict[str, int], duplicates: dict[str, int], may_clean: bool
) -> Section:
    lacking = list(quality.MISSING.items())
    chart = Chart(
        key="incomplete",
        title=_("Incomplete records by what they lack"),
        kind="bar",
        labels=[str(label) for _key, label in lacking],
        datasets=[{"label": _("Clients"), "data": [missing[key] for key, _label in lacking]}],
        urls=[quality_url("incomplete", key) for key, _label in lacking] if may_clean else [],
        horizontal=True,
        height=180,
    )

    def cell(text: str, url: str) -> Link | str:
        return Link(text, url) if may_clean else text

    rows: list[list[object]] = [
        [cell(str(label), quality_url("incomplete", key)), _("Incomplete"), missing[key]]
        for key, label in lacking
    ]
    rows += [
        [cell(str(label), quality_url("duplicates", key)), _("Duplicates"), duplicates[key]]
        for key, label in quality.DUPLICATE_KINDS.items()
    ]
    table = Table(
        key="quality",
        title=_("Checks"),
        header=[_("Check"), _("Kind"), _("Clients or groups")],
        rows=rows,
        numeric=frozenset({2}),
    )
    return Section(
        key="quality",
        title=_("Data quality"),
        widgets=[chart, table],
        note=_(
            "Client records of the people in this scope that you maintain. Duplicates "
            "count groups of records sharing a name, registration number, phone or e-mail."
        ),
        link=Link(_("Open data quality"), reverse("clients:quality")) if may_clean else None,
    )


def _import_section(
    params: DashboardParams, imports: data.ImportHistory, may_import: bool
) -> Section:
    rows = []
    for imp in imports.rows:
        name = imp.original_name
        rows.append(
            [
                date_format(localtime(imp.created_at), "SHORT_DATETIME_FORMAT"),
                Link(name, reverse("clients:import-detail", args=[imp.pk])) if may_import else name,
                str(imp.created_by),
                Badge(imp.get_status_display(), IMPORT_TONES.get(imp.status, "secondary")),
                imp.row_count,
                imp.created_count,
                imp.updated_count,
                imp.error_count,
            ]
        )
    oldest_first = list(reversed(imports.rows))
    chart = Chart(
        key="imports",
        title=_("Rows of the latest imports"),
        kind="bar",
        labels=[
            f"{date_format(localtime(i.created_at), 'SHORT_DATE_FORMAT')} {i.original_name}"[:40]
            for i in oldest_first
        ],
        datasets=[
            {"label": _("Clients created"), "data": [i.created_count for i in oldest_first]},
            {"label": _("Clients updated"), "data": [i.updated_count for i in oldest_first]},
            {"label": _("Rows with errors"), "data": [i.error_count for i in oldest_first]},
        ],
        urls=[reverse("clients:import-detail", args=[i.pk]) for i in oldest_first]
        if may_import
        else [],
        stacked=True,
        height=200,
    )
    table = Table(
        key="imports",
        title=_("Latest imports"),
        header=[
            _("Uploaded"),
            _("File"),
            _("By"),
            _("Status"),
            _("Rows"),
            _("Clients created"),
            _("Clients updated"),
            _("Rows with errors"),
        ],
        rows=rows,
        numeric=frozenset({4, 5, 6, 7}),
        empty=_("No imports by the people in this scope."),
        more_url=reverse("clients:import") if may_import and imports.total > len(rows) else "",
    )
    note = _(
        "In %(period)s: %(n)s imports, %(created)s clients created, %(updated)s updated, "
        "%(failed)s rows with errors."
    ) % {
        "period": params.period.label,
        "n": count(imports.in_period),
        "created": count(imports.rows_created),
        "updated": count(imports.rows_updated),
        "failed": count(imports.rows_failed),
    }
    return Section(
        key="imports",
        title=_("Import history"),
        widgets=[chart, table],
        note=note,
        link=Link(_("Import clients"), reverse("clients:import")) if may_import else None,
    )


def _event_section(events: data.UpcomingEvents, may_see: bool) -> Section:
    rows = []
    for event in events.rows:
        url = _url("pipeline:event-list", q=event.name, when="upcoming")
        rows.append(
            [
                date_format(event.starts_on, "SHORT_DATE_FORMAT"),
                date_format(event.ends_on, "SHORT_DATE_FORMAT") if event.ends_on else None,
                Link(event.name, url) if may_see else event.name,
                event.get_kind_display(),
                event.venue,
                str(event.owner),
                money(event.budget),
            ]
        )
    table = Table(
        key="events",
        title="",
        header=[
            _("Starts"),
            _("Ends on"),
            _("Event"),
            _("Kind"),
            _("Venue"),
            _("Organiser"),
            _("Budget"),
        ],
        rows=rows,
        numeric=frozenset({6}),
        empty=_("No events in the next %(days)s days.") % {"days": data.EVENT_DAYS},
        more_url=_url("pipeline:event-list", when="upcoming", sort="starts")
        if may_see and events.total > len(rows)
        else "",
    )
    return Section(
        key="events",
        title=_("Upcoming events"),
        widgets=[table],
        note=_("The company's events running in the next %(days)s days.")
        % {"days": data.EVENT_DAYS},
        link=Link(_("All events"), _url("pipeline:event-list", when="upcoming", sort="starts"))
        if may_see
        else None,
    )


def _survey_section(campaigns: list[data.CampaignStatus], may_see: bool) -> Section:
    def campaign_url(status: data.CampaignStatus) -> str:
        return reverse("clients:survey-campaign-detail", args=[status.campaign.pk])

    rows = []
    for status in campaigns[: data.CAMPAIGN_ROWS]:
        c = status.campaign
        rows.append(
            [
                Link(c.name, campaign_url(status)) if may_see else c.name,
                Badge(c.get_status_display(), CAMPAIGN_TONES.get(c.status, "secondary")),
                date_format(localtime(c.sent_at), "SHORT_DATE_FORMAT") if c.sent_at else None,
                status.invited,
                status.sent,
                status.answered,
                pct(status.response_rate),
            ]
        )
    # The campaigns with the most invitations sent (the latest first among equals).
    charted = sorted(campaigns, key=lambda s: -s.sent)[:CHART_CAMPAIGNS]
    chart = Chart(
        key="surveys",
        title=_("Sent and answered, largest campaigns"),
        kind="bar",
        labels=[_short_name(s.campaign) for s in charted],
        datasets=[
            {"label": _("Sent"), "data": [s.sent for s in charted]},
            {"label": _("Answered"), "data": [s.answered for s in charted]},
        ],
        urls=[campaign_url(s) for s in charted] if may_see else [],
        horizontal=True,
        height=max(160, 40 * len(charted)),
    )
    table = Table(
        key="campaigns",
        title="",
        header=[
            _("Survey campaign"),
            _("Status"),
            _("Sent on"),
            _("Invited"),
            _("Sent"),
            _("Answered"),
            _("Response rate"),
        ],
        rows=rows,
        numeric=frozenset({3, 4, 5, 6}),
        empty=_("No survey campaign is collecting answers from clients in this scope."),
        more_url=_url("clients:survey-list", status=SurveyCampaign.Status.SENT)
        if may_see and len(campaigns) > len(rows)
        else "",
    )
    return Section(
        key="surveys",
        title=_("Survey campaigns"),
        widgets=[chart, table],
        note=_(
            "Campaigns still collecting answers (an invitation is open and unexpired); "
            "counts are the invitations to clients in this scope. Response rate: answered "
            "÷ sent."
        ),
        link=Link(_("All campaigns"), reverse("clients:survey-list")) if may_see else None,
    )


def _short_name(campaign: SurveyCampaign) -> str:
    """The campaign's name without its survey's ("Post-project evaluation: …"), for a label."""
    prefix = f"{campaign.template}: "
    name = campaign.name.removeprefix(prefix) if campaign.name != prefix else campaign.name
    return name if len(name) <= 40 else name[:39] + "…"
