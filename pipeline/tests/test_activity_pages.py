"""The activity pages as each persona uses them: list, export, forms, quick log,
calendar, cadence and the autocomplete — and what outsiders do not see."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from clients.models import Cadence
from pipeline.models import Activity, ActivityType
from pipeline.tests.activity_factories import ActivityFactory, ClientFactory, DealFactory

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
PERSONAS = (
    "director",
    "manager",
    "am",
    "rep",
    "peer_rep",
    "support",
    "peer_manager",
    "peer_am",
    "outsider",
)

#: Whose activities each persona sees (their own line; support: their region).
SEES = {
    "director": set(PERSONAS),
    "manager": {"manager", "am", "rep", "peer_rep", "support"},
    "am": {"am", "rep", "peer_rep"},
    "rep": {"rep"},
    "peer_rep": {"peer_rep"},
    "support": {"manager", "am", "rep", "peer_rep", "support"},
    "peer_manager": {"peer_manager", "peer_am", "outsider"},
    "peer_am": {"peer_am", "outsider"},
    "outsider": {"outsider"},
}
#: Who may change (and delete) the rep's activity.
CHANGES_REPS = {"director", "manager", "am", "rep"}


@pytest.fixture
def one_each(org):
    """One done call per persona, on a client of their own, subject "subject-<name>"."""
    made = {}
    for name, user in org.all().items():
        client = ClientFactory(owner=user, name=f"Client of {name}")
        made[name] = ActivityFactory(client=client, owner=user, subject=f"subject-{name}")
    return made


def _subjects(html: str) -> set[str]:
    return {name for name in PERSONAS if f"subject-{name}<" in html or f"subject-{name}," in html}


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_list_and_export_show_exactly_what_the_persona_sees(login, org, one_each, persona):
    client = login(getattr(org, persona))
    html = client.get(reverse("pipeline:activity-list")).content.decode()
    assert _subjects(html) == SEES[persona]
    response = client.get(reverse("pipeline:activity-list") + "?export=csv")
    csv = b"".join(response.streaming_content).decode("utf-8-sig")
    assert {name for name in PERSONAS if f"subject-{name}," in csv} == SEES[persona]


@pytest.mark.parametrize("persona", PERSONAS)
def test_one_activity_pages_follow_visibility_and_role(login, org, one_each, persona):
    client = login(getattr(org, persona))
    activity = one_each["rep"]
    detail = client.get(reverse("pipeline:activity-detail", args=[activity.pk]))
    assert detail.status_code == (200 if "rep" in SEES[persona] else 404)
    edit = client.get(reverse("pipeline:activity-edit", args=[activity.pk]))
    delete = client.get(reverse("pipeline:activity-delete", args=[activity.pk]))
    complete = client.post(
        reverse("pipeline:activity-complete", args=[activity.pk]), {"version": 1}
    )
    if "rep" not in SEES[persona]:
        assert edit.status_code == delete.status_code == complete.status_code == 404
    elif persona in CHANGES_REPS:
        assert edit.status_code == delete.status_code == 200
        assert complete.status_code == 302  # refused politely: it is done already
    else:
        assert edit.status_code == delete.status_code == complete.status_code == 403
    create = client.get(reverse("pipeline:activity-create"))
    quick = client.get(reverse("pipeline:activity-quick"))
    assert create.status_code == quick.status_code == (403 if persona == "support" else 200)


def test_pages_require_sign_in(client, org):
    for name in (
        "activity-list",
        "activity-quick",
        "activity-calendar",
        "cadence",
        "activity-create",
    ):
        response = client.get(reverse(f"pipeline:{name}"))
        assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_list_filters(login, org):
    client_a = ClientFactory(owner=org.rep, name="Alpha")
    client_b = ClientFactory(owner=org.rep, name="Beta")
    ActivityFactory(
        client=client_a,
        type=ActivityType.VISIT,
        subject="v-alpha",
        start_at=datetime(2026, 5, 4, 10, tzinfo=SHANGHAI),
    )
    ActivityFactory(
        client=client_b,
        type=ActivityType.CALL,
        subject="c-beta",
        start_at=datetime(2026, 5, 6, 10, tzinfo=SHANGHAI),
    )
    ActivityFactory(
        client=client_b,
        type=ActivityType.VISIT,
        subject="p-beta",
        status=Activity.Status.PLANNED,
        start_at=datetime(2026, 5, 8, 10, tzinfo=SHANGHAI),
    )
    web = login(org.rep)

    def shown(query: str) -> set[str]:
        html = web.get(reverse("pipeline:activity-list") + query).content.decode()
        return {s for s in ("v-alpha", "c-beta", "p-beta") if s in html}

    assert shown("") == {"v-alpha", "c-beta", "p-beta"}
    assert shown("?type=visit") == {"v-alpha", "p-beta"}
    assert shown("?status=planned") == {"p-beta"}
    assert shown(f"?client={client_b.pk}") == {"c-beta", "p-beta"}
    assert shown("?from=2026-05-05&to=2026-05-06") == {"c-beta"}
    assert shown("?q=alpha") == {"v-alpha"}
    html = web.get(reverse("pipeline:activity-list") + "?sort=-client").content.decode()
    assert html.index("c-beta") < html.index("v-alpha")


def test_logging_an_activity_with_spin_and_objections_on_the_full_form(login, org):
    customer = ClientFactory(owner=org.rep, cadence=Cadence.WEEKLY)
    deal = DealFactory(client=customer)
    web = login(org.rep)
    response = web.post(
        reverse("pipeline:activity-create"),
        {
            "type": "visit",
            "status": "done",
            "client": customer.pk,
            "deal": deal.pk,
            "start_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "outcome": "Walked the plant",
            "spin_situation": "Two lines",
            "spin_problem": "Downtime",
            "objections-TOTAL_FORMS": "2",
            "objections-INITIAL_FORMS": "0",
            "objections-0-objection": "Price",
            "objections-0-confirmed_understanding": "Budget is fixed",
            "objections-0-response": "Stage payments",
            "objections-0-resolved": "on",
            "objections-1-objection": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    activity = Activity.objects.get()
    assert activity.duration_minutes == 45 and activity.deal == deal
    assert activity.spin_problem == "Downtime"
    assert [(o.objection, o.resolved) for o in activity.objections.all()] == [("Price", True)]
    page = web.get(response["Location"]).content.decode()
    assert "Downtime" in page and "Stage payments" in page
    customer.refresh_from_db()
    assert customer.next_visit_due == timezone.localdate() + timedelta(days=7)


def test_the_form_refuses_someone_elses_client_and_keeps_input(login, org):
    other = ClientFactory(owner=org.outsider)
    web = login(org.rep)
    response = web.post(
        reverse("pipeline:activity-create"),
        {
            "type": "call",
            "status": "done",
            "client": other.pk,
            "start_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "outcome": "my careful notes",
            "objections-TOTAL_FORMS": "0",
            "objections-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert "my careful notes" in response.content.decode()
    assert not Activity.objects.exists()


def test_a_stale_edit_is_refused_with_the_users_input_kept(login, org):
    activity = ActivityFactory(client=ClientFactory(owner=org.rep), outcome="first")
    Activity.objects.filter(pk=activity.pk).update(version=2)
    web = login(org.rep)
    response = web.post(
        reverse("pipeline:activity-edit", args=[activity.pk]),
        {
            "version": 1,
            "type": "call",
            "status": "done",
            "client": activity.client_id,
            "start_at": timezone.localtime(activity.start_at).strftime("%Y-%m-%dT%H:%M"),
            "outcome": "my late change",
            "objections-TOTAL_FORMS": "0",
            "objections-INITIAL_FORMS": "0",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Someone else changed this record" in html and "my late change" in html
    activity.refresh_from_db()
    assert activity.outcome == "first"


def test_quick_log_creates_a_done_visit_in_one_post(login, org):
    customer = ClientFactory(owner=org.rep, cadence=Cadence.BIWEEKLY)
    web = login(org.rep)
    with time_machine.travel(datetime(2026, 6, 1, 0, 20, tzinfo=SHANGHAI), tick=False):
        response = web.post(
            reverse("pipeline:activity-quick"),
            {
                "type": "visit",
                "client": customer.pk,
                "outcome": "Signed up for a trial",
                "next_step": "Send the contract",
                "spin_need_payoff": "Saves a shift",
            },
        )
    assert response.status_code == 302
    activity = Activity.objects.get()
    assert activity.status == Activity.Status.DONE and activity.type == ActivityType.VISIT
    assert activity.owner == org.rep and activity.duration_minutes == 45
    assert activity.spin_need_payoff == "Saves a shift"
    customer.refresh_from_db()
    assert customer.next_visit_due == date(2026, 6, 15)
    page = web.get(response["Location"]).content.decode()
    assert "is saved" in page and f"?client={customer.pk}" in page


def test_quick_log_offers_recent_clients_and_drops_spin_for_calls(login, org):
    recent = ClientFactory(owner=org.rep, name="Recently Called")
    ActivityFactory(client=recent)
    ActivityFactory(client=ClientFactory(owner=org.outsider, name="Not Mine"), owner=org.outsider)
    web = login(org.rep)
    html = web.get(reverse("pipeline:activity-quick")).content.decode()
    assert "Recently Called" in html and "Not Mine" not in html
    web.post(
        reverse("pipeline:activity-quick"),
        {
            "type": "call",
            "client": recent.pk,
            "outcome": "ok",
            "spin_problem": "typed then switched",
        },
    )
    latest = Activity.objects.filter(owner=org.rep).order_by("-pk").first()
    assert latest.type == "call" and latest.spin_problem == ""


def test_autocomplete_offers_only_visible_clients(login, org):
    ClientFactory(owner=org.rep, name="Acme East")
    ClientFactory(owner=org.outsider, name="Acme North")
    for persona, expected in (
        ("rep", {"Acme East"}),
        ("outsider", {"Acme North"}),
        ("peer_rep", set()),
        ("director", {"Acme East", "Acme North"}),
    ):
        html = (
            login(getattr(org, persona))
            .get(reverse("pipeline:activity-pick-client") + "?q=acme")
            .content.decode()
        )
        assert {n for n in ("Acme East", "Acme North") if n in html} == expected, persona


def test_deal_and_contact_choices_follow_the_chosen_client(login, org):
    mine = ClientFactory(owner=org.rep)
    DealFactory(client=mine, title="Mine deal")
    hidden = ClientFactory(owner=org.outsider)
    DealFactory(client=hidden, title="Hidden deal")
    web = login(org.rep)
    html = web.get(reverse("pipeline:activity-links") + f"?client={mine.pk}").content.decode()
    assert "Mine deal" in html
    html = web.get(reverse("pipeline:activity-links") + f"?client={hidden.pk}").content.decode()
    assert "Hidden deal" not in html


def test_marking_done_from_the_list_with_htmx(login, org):
    customer = ClientFactory(owner=org.rep, cadence=Cadence.WEEKLY)
    planned = ActivityFactory(
        client=customer,
        type="visit",
        status="planned",
        start_at=timezone.now() - timedelta(minutes=5),
    )
    web = login(org.rep)
    response = web.post(
        reverse("pipeline:activity-complete", args=[planned.pk]),
        {"version": planned.version},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert 'data-testid="status">Done<' in response.content.decode()
    customer.refresh_from_db()
    # the visit's own day (five minutes ago may be yesterday just after midnight)
    assert customer.next_visit_due == timezone.localdate(planned.start_at) + timedelta(days=7)
    stale = web.post(
        reverse("pipeline:activity-complete", args=[planned.pk]),
        {"version": planned.version},
        HTTP_HX_REQUEST="true",
    )
    assert "Only a planned activity" in stale.content.decode()


def test_marking_done_without_htmx_returns_only_to_this_site(login, org):
    planned = ActivityFactory(client=ClientFactory(owner=org.rep), status="planned")
    web = login(org.rep)
    response = web.post(
        reverse("pipeline:activity-complete", args=[planned.pk]),
        {"version": planned.version, "next": "https://evil.example/phish"},
    )
    assert response["Location"] == reverse("pipeline:activity-detail", args=[planned.pk])
    planned.refresh_from_db()
    assert planned.status == "done"


def test_deleting_an_activity(login, org):
    activity = ActivityFactory(client=ClientFactory(owner=org.rep))
    web = login(org.rep)
    assert web.post(reverse("pipeline:activity-delete", args=[activity.pk])).status_code == 302
    assert not Activity.objects.exists()


# ------------------------------------------------------------------ calendar
def test_the_week_calendar(login, org):
    week_monday = datetime(2026, 6, 8, tzinfo=SHANGHAI)
    mine = ActivityFactory(
        client=ClientFactory(owner=org.rep, name="Rep Visit Co"),
        type="visit",
        status="planned",
        start_at=week_monday + timedelta(days=2, hours=10),
    )
    ActivityFactory(
        client=ClientFactory(owner=org.peer_rep, name="Peer Visit Co"),
        type="meeting",
        status="planned",
        start_at=week_monday + timedelta(days=3, hours=9),
    )
    ActivityFactory(
        client=ClientFactory(owner=org.outsider, name="Outsider Visit Co"),
        type="visit",
        status="planned",
        start_at=week_monday + timedelta(days=3, hours=9),
    )
    ActivityFactory(
        client=ClientFactory(owner=org.rep, name="Just A Call Co"),
        type="call",
        start_at=week_monday + timedelta(days=1, hours=9),
    )
    ActivityFactory(
        client=ClientFactory(owner=org.rep, name="Next Week Co"),
        type="visit",
        status="planned",
        start_at=week_monday + timedelta(days=7, hours=0, minutes=10),
    )
    url = reverse("pipeline:activity-calendar")

    def names(user, query):
        html = login(user).get(url + query).content.decode()
        return {
            n
            for n in (
                "Rep Visit Co",
                "Peer Visit Co",
                "Outsider Visit Co",
                "Just A Call Co",
                "Next Week Co",
            )
            if n in html
        }, html

    shown, html = names(org.rep, "?week=2026-W24")
    assert shown == {"Rep Visit Co"}
    assert 'data-day="2026-06-10"' in html and "2026-W23" in html and "2026-W25" in html
    assert names(org.am, "?week=2026-W24&who=team")[0] == {"Rep Visit Co", "Peer Visit Co"}
    assert names(org.am, "?week=2026-W24")[0] == set()  # the AM's own week is empty
    assert names(org.am, f"?week=2026-W24&who=team&owner={org.peer_rep.pk}")[0] == {"Peer Visit Co"}
    assert names(org.outsider, "?week=2026-W24&who=team")[0] == {"Outsider Visit Co"}
    assert names(org.rep, "?week=2026-W25")[0] == {"Next Week Co"}
    assert names(org.rep, "?week=nonsense")[1].count("week-day") >= 7
    assert mine.pk


# ------------------------------------------------------------------- cadence
def test_the_cadence_page_counts_and_lists_by_status(login, org):
    today = date(2026, 6, 10)  # a Wednesday

    def make(name, owner, **fields):
        return ClientFactory(
            name=name,
            owner=owner,
            account_manager=org.am if owner != org.outsider else None,
            **fields,
        )

    make("Overdue Co", org.rep, next_visit_due=today - timedelta(days=2))
    make("Due Sunday Co", org.rep, next_visit_due=date(2026, 6, 14))
    make("Later Co", org.rep, next_visit_due=date(2026, 6, 15))
    make("Never Co", org.rep, next_visit_due=None)
    make("Whenever Co", org.rep, cadence=Cadence.ON_DEMAND, next_visit_due=None)
    make("Outsider Overdue Co", org.outsider, next_visit_due=today - timedelta(days=9))
    with time_machine.travel(datetime(2026, 6, 10, 9, tzinfo=SHANGHAI), tick=False):
        web = login(org.am)
        html = web.get(reverse("pipeline:cadence")).content.decode()
        for key, count in (
            ("overdue", 1),
            ("week", 1),
            ("later", 1),
            ("never", 1),
            ("on_demand", 1),
        ):
            assert f'data-testid="count-{key}">{count}<' in html, key
        assert "Overdue Co" in html and "Later Co" not in html and "Outsider" not in html
        assert "Log visit" in html
        assert (
            "Due Sunday Co"
            in web.get(reverse("pipeline:cadence") + "?status=week").content.decode()
        )
        csv = b"".join(
            web.get(reverse("pipeline:cadence") + "?status=later&export=csv").streaming_content
        ).decode("utf-8-sig")
        assert "Later Co" in csv and "Overdue" not in csv
        outsider_html = (
            login(org.outsider).get(reverse("pipeline:cadence") + "?who=all").content.decode()
        )
        assert (
            "Outsider Overdue Co" in outsider_html
            and "Overdue Co<" not in outsider_html.replace("Outsider Overdue Co<", "")
        )
        peer = login(org.peer_rep).get(reverse("pipeline:cadence") + "?who=all").content.decode()
        assert 'data-testid="count-overdue">0<' in peer
