"""Demo organisation: the tree named in DESIGN.md, plus more people for ``--size large``."""

from __future__ import annotations

import zlib
from functools import cache

from django.contrib.auth.hashers import make_password

from accounts.models import NotificationSettings, Role, Team, User
from salesorg.lib.seeding import SeedContext

DEMO_PASSWORD = "demo"


@cache
def _demo_password_hash() -> str:
    # One hash for every demo user: hashing is slow on purpose, the demo needs no secrecy.
    return make_password(DEMO_PASSWORD)


# username, first, last, role, team key, reports_to, title
CORE_PEOPLE = [
    ("director", "Wei", "Wang", Role.DIRECTOR, "company", None, "Sales Director"),
    ("manager1", "Li", "Na", Role.MANAGER, "east", "director", "Sales Manager, East"),
    ("manager2", "Zhang", "Min", Role.MANAGER, "north", "director", "Sales Manager, North"),
    ("am1", "Chen", "Jing", Role.ACCOUNT_MANAGER, "east-a", "manager1", "Key Account Manager"),
    ("am2", "Liu", "Yang", Role.ACCOUNT_MANAGER, "north-a", "manager2", "Key Account Manager"),
    ("rep1", "Zhao", "Lei", Role.REP, "east-a", "am1", "Sales Representative"),
    ("rep2", "Emily", "Sun", Role.REP, "east-a", "am1", "Sales Representative"),
    ("rep3", "Zhou", "Tao", Role.REP, "north-a", "am2", "Sales Representative"),
    ("rep4", "David", "Wu", Role.REP, "north-a", "am2", "Sales Representative"),
    ("support1", "Xu", "Fang", Role.SUPPORT, "east", "manager1", "Sales Assistant"),
]

# key, name, kind, parent key
CORE_TEAMS = [
    ("company", "Salesorg Demo Co.", Team.Kind.COMPANY, None),
    ("east", "East Region", Team.Kind.REGION, "company"),
    ("north", "North Region", Team.Kind.REGION, "company"),
    ("east-a", "East Team A", Team.Kind.TEAM, "east"),
    ("north-a", "North Team A", Team.Kind.TEAM, "north"),
]
TEAM_MANAGERS = {
    "company": "director",
    "east": "manager1",
    "north": "manager2",
    "east-a": "am1",
    "north-a": "am2",
}

FIRST = [
    "Hao",
    "Jun",
    "Ying",
    "Xin",
    "Lin",
    "Qiang",
    "Mei",
    "Bo",
    "Rui",
    "Yan",
    "Peng",
    "Ting",
    "Grace",
    "Kevin",
    "Lucy",
    "Tony",
    "Helen",
    "Jack",
    "Amy",
    "Leo",
]
LAST = [
    "Li",
    "Wang",
    "Zhang",
    "Liu",
    "Chen",
    "Yang",
    "Huang",
    "Zhao",
    "Wu",
    "Zhou",
    "Xu",
    "Sun",
    "Ma",
    "Zhu",
    "Hu",
    "Guo",
    "He",
    "Gao",
    "Lin",
    "Luo",
]


def _team(key: str, name: str, kind: str, parent: Team | None) -> Team:
    team = Team.objects.filter(parent=parent, name=name).first()
    if team is None:
        team = Team(name=name, kind=kind, parent=parent)
        team.save()
    return team


def _person(
    username: str, first: str, last: str, role: str, team: Team, boss: User | None, title: str
) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User(
            username=username,
            first_name=first,
            last_name=last,
            role=role,
            team=team,
            reports_to=boss,
            title=title,
            email=f"{username}@demo.salesorg.example",
            phone=f"+86 138 {zlib.crc32(username.encode()) % 10000:04d} {len(username) * 101:04d}",
        )
        user.password = _demo_password_hash()
        user.save()
    return user


def seed(ctx: SeedContext) -> None:
    teams: dict[str, Team] = {}
    for key, name, kind, parent in CORE_TEAMS:
        teams[key] = _team(key, name, kind, teams.get(parent) if parent else None)
    for username, first, last, role, team_key, boss, title in CORE_PEOPLE:
        ctx.users[username] = _person(
            username,
            first,
            last,
            role,
            teams[team_key],
            ctx.users.get(boss) if boss else None,
            title,
        )
    for key, username in TEAM_MANAGERS.items():
        if teams[key].manager_id is None:
            teams[key].manager = ctx.users[username]
            teams[key].save(update_fields=["manager"])

    # More people: a second team in each core region (small), and two more
    # regions with three teams each (large), so lists and dashboards have depth.
    plan = [("east", "East Team B", "manager1", 2), ("north", "North Team B", "manager2", 2)]
    if ctx.large:
        for region_name, region_key in (("South Region", "south"), ("West Region", "west")):
            teams[region_key] = _team(region_key, region_name, Team.Kind.REGION, teams["company"])
            boss = _person(
                f"manager_{region_key}",
                ctx.rng.choice(FIRST),
                ctx.rng.choice(LAST),
                Role.MANAGER,
                teams[region_key],
                ctx.users["director"],
                f"Sales Manager, {region_name.split()[0]}",
            )
            ctx.users[boss.username] = boss
            if teams[region_key].manager_id is None:
                teams[region_key].manager = boss
                teams[region_key].save(update_fields=["manager"])
            for letter in "ABC":
                plan.append(
                    (region_key, f"{region_name.split()[0]} Team {letter}", boss.username, 6)
                )
        plan = [(r, n, b, 6 if ctx.large else c) for r, n, b, c in plan]
    for region_key, team_name, boss_username, rep_count in plan:
        team = _team(team_name, team_name, Team.Kind.TEAM, teams[region_key])
        slug = team_name.lower().replace(" team ", "").replace(" ", "")
        am = _person(
            f"am_{slug}",
            ctx.rng.choice(FIRST),
            ctx.rng.choice(LAST),
            Role.ACCOUNT_MANAGER,
            team,
            ctx.users[boss_username],
            "Account Manager",
        )
        ctx.users[am.username] = am
        if team.manager_id is None:
            team.manager = am
            team.save(update_fields=["manager"])
        for i in range(1, rep_count + 1):
            rep = _person(
                f"rep_{slug}{i}",
                ctx.rng.choice(FIRST),
                ctx.rng.choice(LAST),
                Role.REP,
                team,
                am,
                "Sales Representative",
            )
            ctx.users[rep.username] = rep
    ctx.log(f"{User.objects.count()} people in {Team.objects.count()} teams")
    # --- notification digest (care-jobs): the regional managers read one summary a day
    for username in ("manager1", "manager2"):
        if username in ctx.users:
            NotificationSettings.objects.get_or_create(
                user=ctx.users[username], defaults={"daily_digest": True}
            )
