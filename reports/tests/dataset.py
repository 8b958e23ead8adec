"""A random but reproducible company history for comparing rollups with live figures.

Sixty days of calls, visits, deals moving through the stages and closing, leads,
complaints and survey answers for everyone in the persona organisation, with
moments spread over the whole local day (midnight and 23:xx included), deals in
two currencies, and one rep moving from East to North half way through.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

import time_machine

from accounts import services as account_services
from reports.tests import factories as f
from reports.tests.factories import at
from tests.personas import Org

OPEN_PATH = ["first_contact", "needs_analysis", "proposal", "negotiation"]


def generate(org: Org, *, start: date, days: int, seed: int, move_on: date | None = None) -> None:
    rng = random.Random(seed)
    people = [org.rep, org.peer_rep, org.am, org.manager, org.peer_am, org.outsider]
    clients = {
        p.pk: [
            f.client(p, account_manager=org.am if rng.random() < 0.3 else None) for _ in range(3)
        ]
        for p in people
    }

    def moment(day: date):
        hour = rng.choice([0, 8, 9, 10, 14, 17, 23])
        return at(day, hour, rng.choice([0, 5, 30, 55]))

    for offset in range(days):
        day = start + timedelta(days=offset)
        if move_on is not None and day == move_on:
            with time_machine.travel(at(day, 12), tick=False):
                account_services.user_update(
                    by=org.director, user=org.rep, team=org.north_team, reports_to=org.peer_am
                )
        for person in people:
            mine = clients[person.pk]
            for _ in range(rng.randint(0, 3)):
                f.activity(
                    person,
                    client_=rng.choice(mine),
                    type=rng.choice(["call", "call", "visit", "demo", "follow_up", "email"]),
                    status=rng.choice(["done", "done", "done", "planned"]),
                    when=moment(day),
                )
            if rng.random() < 0.4:
                created = moment(day)
                steps = rng.randint(0, 4)
                path = []
                when = created
                for code in OPEN_PATH[1 : 1 + steps]:
                    when = when + timedelta(days=rng.randint(0, 6), hours=rng.randint(0, 20))
                    path.append((code, when))
                ending = rng.random()
                if ending < 0.5:
                    when = when + timedelta(days=rng.randint(0, 10), hours=rng.randint(0, 20))
                    path.append(("won" if ending < 0.3 else "lost", when))
                f.deal(
                    person,
                    client_=rng.choice(mine),
                    created=created,
                    path=path,
                    amount=str(rng.randint(1, 90) * 10000),
                    currency="USD" if rng.random() < 0.1 else "CNY",
                    probability=rng.choice([None, 35, 60]),
                )
            if rng.random() < 0.2:
                f.lead(
                    person,
                    created=moment(day),
                    converted=moment(day + timedelta(days=rng.randint(0, 5)))
                    if rng.random() < 0.5
                    else None,
                )
            if rng.random() < 0.1:
                f.complaint(
                    person,
                    client_=rng.choice(mine),
                    received=moment(day),
                    responded_after=rng.choice(
                        [None, timedelta(hours=3), timedelta(hours=23), timedelta(hours=40)]
                    ),
                )
            if rng.random() < 0.15:
                f.survey_response(
                    rng.choice(mine),
                    submitted=moment(day),
                    nps=rng.choice([None, 0, 3, 6, 7, 8, 9, 10]),
                    csat=rng.choice([None, "1", "2.5", "4", "5"]),
                )
