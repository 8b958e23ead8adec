"""Demo clients and contacts for ``seed_demo``.

Each demo client is generated from its own index (``DEMO-000042`` is client
42, stored as its ``external_id``) with a random generator seeded by
``(--seed, index)``. So:

- the same ``--seed`` gives the same companies, whatever existed before;
- running twice adds nothing (existing indexes are skipped), and running
  ``--size large`` on a small demo completes it to 10,000 clients;
- every generated company name is unique (names are built from word parts by a
  bijection of the index), so the only duplicate candidates support staff find
  are the ones planted on purpose (``DEMO-D…``: the same company written
  differently, with the same phone and e-mail).

Lifecycle, tier and dates are planned here; ``pipeline/seed.py`` reads them back
from the stored rows (status, dedicated AM, creation date) to write a history
that matches.
"""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from accounts.models import Role, Team, User
from clients import demo_vocab as V
from clients.models import (
    Cadence,
    Client,
    ClientSource,
    ClientStatus,
    ClientUserObjectPermission,
    Contact,
    Segment,
    Tag,
)
from clients.validators import uscc_check_char
from salesorg.lib.bulkload import BulkLoader
from salesorg.lib.normalize import normalize_email, normalize_name, normalize_phone
from salesorg.lib.seeding import SeedContext

#: How many demo clients each size has (duplicates planted on top).
CLIENT_COUNT = {"small": 360, "large": 10_000}
#: Days of history the demo covers (18 months).
HISTORY_DAYS = 548
EXTERNAL_PREFIX = "DEMO-"
DUPLICATE_PREFIX = "DEMO-D"

# Lifecycle of a client over the demo window; pipeline/seed.py writes the history.
EXISTING = "existing"  # a customer before the window
NEW_WON = "new_won"  # a prospect in the window that became a customer
PROSPECT = "prospect"  # visited in the window, not (yet) won
COLD = "cold"  # found in the window, hardly worked yet
LOST = "lost"  # worked in the window and lost


def window_start(now: datetime) -> datetime:
    return now - timedelta(days=HISTORY_DAYS)


def _weighted(rng: random.Random, options: list[tuple[Any, float]]) -> Any:
    total = sum(w for _, w in options)
    pick = rng.random() * total
    for value, weight in options:
        pick -= weight
        if pick < 0:
            return value
    return options[-1][0]


# ------------------------------------------------------------------ names
_ZH_PAIRS = [(a, b) for a in V.ZH_CORE for b in V.ZH_CORE if a != b]
_EN_PAIRS = [(a, b) for a in V.EN_WORDS for b in V.EN_WORDS if a != b]
_ZH_SPACE = len(_ZH_PAIRS) * len(V.ZH_INDUSTRY)
_EN_SPACE = len(_EN_PAIRS) * len(V.EN_INDUSTRY)
_STEP = 7919  # prime: index → combination is a bijection within each space


def company_name(
    index: int, english: bool, rng: random.Random, city: tuple, seed: int = 0
) -> dict[str, str]:
    """A unique company name (and its web domain and industry) for ``index``.

    Index → word combination is a bijection for a given ``seed`` (an offset
    shifts it), so names never repeat within a demo and differ between seeds.
    """
    city_en, city_zh = city[0], city[1]
    offset = zlib.crc32(str(seed).encode())
    if english:
        combo = (index * _STEP + offset) % _EN_SPACE
        (w1, w2), (ind_word, industry) = (
            _EN_PAIRS[combo // len(V.EN_INDUSTRY)],
            V.EN_INDUSTRY[combo % len(V.EN_INDUSTRY)],
        )
        style = rng.random()
        if style < 0.45:
            name = f"{city_en} {w1} {w2} {ind_word} Co., Ltd."
        elif style < 0.75:
            name = f"{w1} {w2} {ind_word} ({city_en}) Co., Ltd."
        else:
            name = f"{w1}{w2.lower()} {ind_word} Limited"
        domain = f"{w1}{w2}{ind_word.split()[0]}".lower() + rng.choice([".com", ".com.cn"])
        return {"name": name, "domain": domain, "industry": industry}
    combo = (index * _STEP + offset) % _ZH_SPACE
    (c1, c2), (ind_zh, slug, industry) = (
        _ZH_PAIRS[combo // len(V.ZH_INDUSTRY)],
        V.ZH_INDUSTRY[combo % len(V.ZH_INDUSTRY)],
    )
    form = _weighted(rng, V.ZH_FORMS)
    prefix = city_zh if rng.random() < 0.7 else ""
    name = f"{prefix}{c1[0]}{c2[0]}{ind_zh}{form}"
    domain = f"{c1[1]}{c2[1]}-{slug}" + rng.choice([".com.cn", ".cn", ".com"])
    return {"name": name, "domain": domain, "industry": industry}


def public_name(index: int, rng: random.Random, city: tuple, seed: int = 0) -> dict[str, str]:
    combo = (index * _STEP + zlib.crc32(str(seed).encode())) % len(_ZH_PAIRS)
    c1, c2 = _ZH_PAIRS[combo]
    pattern, industry = rng.choice(V.ZH_PUBLIC)
    name = pattern.format(city=city[1], core=f"{c1[0]}{c2[0]}")
    return {"name": name, "domain": f"{c1[1]}{c2[1]}.org.cn", "industry": industry}


def org_code_check(digits8: str) -> str:
    """Check character of a national organisation code (GB 11714)."""
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    value = 11 - sum(int(c) * w for c, w in zip(digits8, weights, strict=True)) % 11
    return {10: "X", 11: "0"}.get(value, str(value))


def uscc(index: int, division: str, public: bool = False) -> str:
    """A valid, unique unified social credit code for client ``index``."""
    serial = f"{(index * _STEP) % 90_000_000 + 10_000_000:08d}"
    first17 = ("12" if public else "91") + division + serial + org_code_check(serial)
    return first17 + uscc_check_char(first17)


def landline(index: int, area: str, salt: int = 0) -> str:
    number = (index * 7877 + salt * 1_000_003 + 2_345_678) % 10_000_000
    return f"{area}-{5 + number % 4}{number:07d}"[: len(area) + 9]


def mobile(serial: int) -> str:
    number = (serial * 104_729 + 12_345_678) % 100_000_000
    prefix = ("138", "139", "136", "186", "158", "187", "135", "177")[serial % 8]
    digits = f"{prefix}{number:08d}"
    return f"{digits[:3]} {digits[3:7]} {digits[7:]}"


def person(rng: random.Random, english_name: bool) -> tuple[str, str]:
    """(display name, e-mail local part) of a contact."""
    surname_zh, surname = rng.choice(V.SURNAMES)
    given_zh, given = rng.choice(V.GIVEN_NAMES)
    if english_name:
        first = rng.choice(V.ENGLISH_GIVEN)
        return f"{first} {surname}", f"{first}.{surname}".lower()
    return f"{surname_zh}{given_zh}", f"{given}.{surname}".lower()


# ------------------------------------------------------------------ owners
@dataclass(frozen=True)
class Owner:
    id: int
    username: str
    role: str
    region_id: int | None
    region_name: str
    am_id: int | None  # the account manager of their team (themselves for an AM)


def demo_owners(ctx: SeedContext) -> list[Owner]:
    """Reps and AMs of the demo tree, with their region, in a stable order."""
    people = sorted(
        (u for u in ctx.users.values() if u.role in (Role.REP, Role.ACCOUNT_MANAGER)),
        key=lambda u: u.username,
    )
    users = {
        u.pk: u for u in User.objects.filter(pk__in=[p.pk for p in people]).select_related("team")
    }
    regions = list(Team.objects.filter(kind=Team.Kind.REGION))
    by_id = {u.pk: u for u in ctx.users.values()}
    owners = []
    for p in people:
        user = users[p.pk]
        team_path = user.team.path if user.team_id else ""
        region = next((r for r in regions if team_path.startswith(r.path)), None)
        if user.role == Role.ACCOUNT_MANAGER:
            am_id = user.pk
        else:
            boss = by_id.get(user.reports_to_id)
            am_id = boss.pk if boss is not None and boss.role == Role.ACCOUNT_MANAGER else None
        owners.append(
            Owner(
                id=user.pk,
                username=user.username,
                role=user.role,
                region_id=region.pk if region else None,
                region_name=region.name.split()[0] if region else "",
                am_id=am_id,
            )
        )
    return owners


# ------------------------------------------------------------------ plans
@dataclass
class ContactPlan:
    name: str
    title: str
    department: str
    phone: str
    email: str
    wechat_id: str
    decision_role: str
    is_primary: bool
    notes: str = ""


@dataclass
class ClientPlan:
    index: int
    external_id: str
    lifecycle: str
    key: bool
    name: str
    registration_number: str
    industry: str
    segment: str
    owner: Owner
    account_manager_id: int | None
    region_id: int | None
    address: str
    city: str
    province: str
    website: str
    phone: str
    email: str
    status: str
    source: str
    cadence: str
    created_at: datetime
    tags: list[str]
    notes: str
    contacts: list[ContactPlan] = field(default_factory=list)
    wants_referrer: bool = False
    referred_by_id: int | None = None
    duplicate: ClientPlan | None = None


class ClientPlanner:
    """Plans client ``index`` from ``(seed, index)`` alone."""

    def __init__(self, ctx: SeedContext, owners: list[Owner]) -> None:
        if not owners:
            raise RuntimeError("The demo clients need the demo reps and AMs (accounts seed).")
        self.seed = ctx.seed
        self.now = ctx.now
        self.start = window_start(ctx.now)
        self.owners = owners
        self.weights = [(o, 3.0 if o.role == Role.REP else 1.5) for o in owners]
        self.duplicate_rate = 0.03 if not ctx.large else 0.01

    def rng(self, index: int, part: str = "client") -> random.Random:
        return random.Random(f"{self.seed}/{part}/{index}")

    def plan(self, index: int) -> ClientPlan:
        rng = self.rng(index)
        owner: Owner = _weighted(rng, self.weights)
        cities = V.CITIES.get(owner.region_name) or [c for cs in V.CITIES.values() for c in cs]
        city = rng.choice(cities)
        segment = _weighted(
            rng,
            [
                (Segment.ENTERPRISE, 20),
                (Segment.MID_MARKET, 35),
                (Segment.SMALL_BUSINESS, 30),
                (Segment.PUBLIC_SECTOR, 15),
            ],
        )
        public = segment == Segment.PUBLIC_SECTOR
        english = not public and rng.random() < 0.3
        company = (
            public_name(index, rng, city, self.seed)
            if public
            else company_name(index, english, rng, city, self.seed)
        )

        lifecycle = _weighted(
            rng, [(EXISTING, 40), (NEW_WON, 15), (PROSPECT, 28), (COLD, 12), (LOST, 5)]
        )
        key = lifecycle == EXISTING and rng.random() < (
            0.5 if segment in (Segment.ENTERPRISE, Segment.PUBLIC_SECTOR) else 0.15
        )
        if lifecycle == EXISTING:
            status = ClientStatus.ACTIVE if key or rng.random() < 0.78 else ClientStatus.DORMANT
            created_at = self.now - timedelta(days=rng.uniform(HISTORY_DAYS + 20, 2200))
        else:
            status = {
                NEW_WON: ClientStatus.ACTIVE,
                PROSPECT: ClientStatus.PROSPECT,
                COLD: ClientStatus.PROSPECT,
                LOST: ClientStatus.LOST,
            }[lifecycle]
            # More new clients recently: the business is growing.
            span = HISTORY_DAYS - (30 if lifecycle in (NEW_WON, LOST) else 0)
            created_at = self.start + timedelta(days=span * rng.random() ** 0.7)
        created_at = created_at.replace(microsecond=0)

        source = _weighted(
            rng,
            [
                (ClientSource.SALES_VISIT, 30),
                (ClientSource.WEBSITE, 20),
                (ClientSource.TRADE_SHOW, 20),
                (ClientSource.REFERRAL, 15),
                (ClientSource.OTHER, 15),
            ],
        )
        if key:
            cadence = _weighted(rng, [(Cadence.WEEKLY, 45), (Cadence.BIWEEKLY, 55)])
        elif status == ClientStatus.ACTIVE:
            cadence = _weighted(
                rng, [(Cadence.BIWEEKLY, 20), (Cadence.MONTHLY, 50), (Cadence.QUARTERLY, 30)]
            )
        elif status == ClientStatus.DORMANT:
            cadence = _weighted(rng, [(Cadence.QUARTERLY, 60), (Cadence.ON_DEMAND, 40)])
        elif status == ClientStatus.LOST:
            cadence = Cadence.ON_DEMAND
        else:
            cadence = _weighted(
                rng, [(Cadence.MONTHLY, 35), (Cadence.QUARTERLY, 30), (Cadence.ON_DEMAND, 35)]
            )
        # Key accounts get a dedicated AM; a few are still waiting for one.
        account_manager_id = owner.am_id if key and rng.random() < 0.9 else None

        district_zh, district_en = rng.choice(V.DISTRICTS[city[0]])
        street_zh, street_en = rng.choice(V.STREETS)
        number = rng.randint(1, 999)
        address = (
            f"No. {number} {street_en}, {district_en} District, {city[0]}"
            if english
            else f"{city[1]}市{district_zh}{street_zh}{number}号"
        )
        has_uscc = rng.random() < (0.65 if english else 0.85)
        plan = ClientPlan(
            index=index,
            external_id=f"{EXTERNAL_PREFIX}{index:06d}",
            lifecycle=lifecycle,
            key=key,
            name=company["name"],
            registration_number=uscc(index, city[4], public) if has_uscc else "",
            industry=company["industry"],
            segment=segment,
            owner=owner,
            account_manager_id=account_manager_id,
            region_id=owner.region_id,
            address=address,
            city=city[0],
            province=city[2],
            website=f"https://www.{company['domain']}" if rng.random() < 0.8 else "",
            phone=landline(index, city[3]),
            email=f"{rng.choice(['info', 'sales', 'contact', 'service'])}@{company['domain']}",
            status=status,
            source=source,
            cadence=cadence,
            created_at=created_at,
            tags=[],
            notes=rng.choice(V.CLIENT_NOTES) if rng.random() < 0.25 else "",
            wants_referrer=source == ClientSource.REFERRAL,
        )
        tag_count = _weighted(rng, [(0, 45), (1, 35), (2, 15), (3, 5)])
        plan.tags = rng.sample(V.TAGS, tag_count)
        if key and "Strategic" not in plan.tags:
            plan.tags.append("Strategic")

        contact_count = (
            rng.randint(3, 5) if key else _weighted(rng, [(1, 35), (2, 35), (3, 20), (4, 10)])
        )
        plan.contacts = self._contacts(rng, index, contact_count, english, company["domain"])

        # Records support staff have to complete.
        if rng.random() < 0.07:
            gap = rng.choice(["phone", "email", "industry", "contacts", "phone+email"])
            if "phone" in gap:
                plan.phone = ""
            if "email" in gap:
                plan.email = ""
            if gap == "industry":
                plan.industry = ""
            if gap == "contacts":
                plan.contacts = []
        if rng.random() < self.duplicate_rate and plan.contacts:
            plan.duplicate = self._duplicate(rng, plan)
        return plan

    def _contacts(
        self, rng: random.Random, index: int, count: int, english: bool, domain: str
    ) -> list[ContactPlan]:
        contacts = []
        roles = rng.sample(V.CONTACT_ROLES, count)
        roles.sort(key=lambda r: r[4] != "decision_maker")  # a decision maker first, if any
        seen: set[str] = set()
        for k, (title_zh, title_en, dept_zh, dept_en, decision_role) in enumerate(roles):
            name, local = person(rng, english_name=english or rng.random() < 0.15)
            if local in seen:
                local = f"{local}{k}"
            seen.add(local)
            missing_phone = rng.random() < 0.05
            contacts.append(
                ContactPlan(
                    name=name,
                    title=title_en if english else title_zh,
                    department=dept_en if english else dept_zh,
                    phone="" if missing_phone else mobile(index * 8 + k),
                    email=f"{local}@{domain}" if rng.random() < 0.9 else "",
                    wechat_id=f"wx_{local.replace('.', '_')}" if rng.random() < 0.6 else "",
                    decision_role=decision_role if rng.random() < 0.9 else "",
                    is_primary=k == 0,
                )
            )
        return contacts

    def _duplicate(self, rng: random.Random, base: ClientPlan) -> ClientPlan:
        """The same company entered again by someone else, written differently."""
        name = base.name
        if name.endswith("Co., Ltd."):
            variant = name.replace("Co., Ltd.", "Company Limited").upper()
        elif name.endswith("Limited"):
            variant = name.removesuffix("Limited") + "Ltd"
        else:
            for form, _ in sorted(V.ZH_FORMS, key=lambda f: -len(f[0])):
                if name.endswith(form):
                    variant = name.removesuffix(form) + rng.choice(["", "有限公司", "公司"])
                    if variant == name:
                        variant = name.removesuffix(form)
                    break
            else:
                variant = f"{name}（总部）"
        peers = [o for o in self.owners if o.region_id == base.owner.region_id and o != base.owner]
        owner = rng.choice(peers) if peers else base.owner
        contact = base.contacts[0]
        phone = base.phone.replace("-", " ") if base.phone else ""
        return ClientPlan(
            index=base.index,
            external_id=f"{DUPLICATE_PREFIX}{base.index:06d}",
            lifecycle=COLD,
            key=False,
            name=variant,
            registration_number="",
            industry=base.industry if rng.random() < 0.5 else "",
            segment=base.segment,
            owner=owner,
            account_manager_id=None,
            region_id=base.region_id,
            address=base.address if rng.random() < 0.5 else "",
            city=base.city,
            province=base.province,
            website="",
            phone=phone,
            email=base.email,
            status=ClientStatus.PROSPECT,
            source=rng.choice([ClientSource.WEBSITE, ClientSource.TRADE_SHOW, ClientSource.OTHER]),
            cadence=Cadence.ON_DEMAND,
            created_at=min(
                self.now - timedelta(days=1),
                max(base.created_at, self.start) + timedelta(days=rng.randint(20, 200)),
            ).replace(microsecond=0),
            tags=[],
            notes="",
            contacts=[
                ContactPlan(
                    name=contact.name,
                    title=contact.title,
                    department="",
                    phone=contact.phone.replace(" ", "") if contact.phone else "",
                    email=contact.email,
                    wechat_id="",
                    decision_role="",
                    is_primary=True,
                )
            ],
        )


# ------------------------------------------------------------------ writing
CLIENT_COLUMNS = [
    "id", "name", "name_normalized", "registration_number", "external_id", "industry",
    "segment", "region", "address", "city", "province", "website", "phone",
    "phone_normalized", "email", "status", "source", "referred_by", "owner",
    "account_manager", "cadence", "notes", "spend_12m", "is_key_account", "rfm_segment",
    "created_at", "updated_at", "created_by", "version",
]  # fmt: skip
CONTACT_COLUMNS = [
    "id", "client", "name", "title", "department", "phone", "phone_normalized", "email",
    "wechat_id", "decision_role", "is_primary", "notes", "created_at", "updated_at", "version",
]  # fmt: skip


def _client_row(plan: ClientPlan, pk: int, now: datetime) -> tuple:
    updated = min(now, plan.created_at + timedelta(days=(plan.index % 97) * 3))
    return (
        pk, plan.name, normalize_name(plan.name), plan.registration_number, plan.external_id,
        plan.industry, plan.segment, plan.region_id, plan.address, plan.city, plan.province,
        plan.website, plan.phone, normalize_phone(plan.phone), normalize_email(plan.email),
        plan.status, plan.source, plan.referred_by_id, plan.owner.id, plan.account_manager_id,
        plan.cadence, plan.notes, 0, False, "", plan.created_at, updated, plan.owner.id, 1,
    )  # fmt: skip


def seed(ctx: SeedContext) -> None:
    owners = demo_owners(ctx)
    planner = ClientPlanner(ctx, owners)
    target = CLIENT_COUNT[ctx.size]
    existing = dict(
        Client.objects.filter(external_id__startswith=EXTERNAL_PREFIX).values_list(
            "external_id", "id"
        )
    )
    tags = _tags()
    loader = BulkLoader()
    clients = loader.table("client", Client, CLIENT_COLUMNS)
    client_history = loader.history("client_history", clients)
    contacts = loader.table("contact", Contact, CONTACT_COLUMNS)
    contact_history = loader.history("contact_history", contacts)
    client_tags = loader.table("client_tags", Client.tags.through, ["client_id", "tag_id"])

    # Referrers are earlier customers in the same region (never a loop).
    referrers: dict[int | None, list[int]] = {}
    for region_id, pk in Client.objects.filter(
        external_id__startswith=EXTERNAL_PREFIX,
        status=ClientStatus.ACTIVE,
        created_at__lt=window_start(ctx.now),
    ).values_list("region_id", "id"):
        referrers.setdefault(region_id, []).append(pk)

    made = 0
    chunk = 500
    for begin in range(0, target, chunk):
        plans = []
        for index in range(begin, min(begin + chunk, target)):
            plan = planner.plan(index)
            if plan.external_id not in existing:
                plans.append(plan)
            if plan.duplicate is not None and plan.duplicate.external_id not in existing:
                plans.append(plan.duplicate)
        if not plans:
            continue
        ids = loader.ids.take(Client, len(plans))
        contact_ids = iter(loader.ids.take(Contact, sum(len(p.contacts) for p in plans)))
        for plan, pk in zip(plans, ids, strict=True):
            rng = planner.rng(plan.index, "referral")
            pool = referrers.get(plan.region_id) or [i for ids_ in referrers.values() for i in ids_]
            if plan.wants_referrer:
                if pool:
                    plan.referred_by_id = rng.choice(pool)
                else:
                    plan.source = ClientSource.OTHER
            row = _client_row(plan, pk, ctx.now)
            clients.add(row)
            client_history.add(row, at=plan.created_at, user_id=plan.owner.id)
            if plan.status == ClientStatus.ACTIVE and plan.lifecycle == EXISTING:
                referrers.setdefault(plan.region_id, []).append(pk)
            for tag in plan.tags:
                client_tags.add((pk, tags[tag]))
            for contact in plan.contacts:
                at = plan.created_at + timedelta(hours=rng.randint(0, 72))
                at = min(at, ctx.now)
                contact_row = (
                    next(contact_ids), pk, contact.name, contact.title, contact.department,
                    contact.phone, normalize_phone(contact.phone), normalize_email(contact.email),
                    contact.wechat_id, contact.decision_role, contact.is_primary, contact.notes,
                    at, at, 1,
                )  # fmt: skip
                contacts.add(contact_row)
                contact_history.add(contact_row, at=at, user_id=plan.owner.id)
            existing[plan.external_id] = pk
            made += 1
        loader.flush()
    loader.flush()
    _share_examples(ctx)
    # --- complaints (care-complaints)
    from clients.complaint_seed import seed_complaints

    seed_complaints(ctx)
    # --- end complaints
    demo = Client.objects.filter(external_id__startswith=EXTERNAL_PREFIX).count()
    ctx.log(f"{made} clients added ({demo} demo clients, {Contact.objects.count()} contacts)")


def _tags() -> dict[str, int]:
    existing = dict(Tag.objects.filter(name__in=V.TAGS).values_list("name", "id"))
    missing = [Tag(name=name) for name in V.TAGS if name not in existing]
    if missing:
        Tag.objects.bulk_create(missing, ignore_conflicts=True)
        existing = dict(Tag.objects.filter(name__in=V.TAGS).values_list("name", "id"))
    return existing


def _share_examples(ctx: SeedContext) -> None:
    """A few explicit grants, so sharing shows up in the demo: rep2 shares one of
    their clients with rep1 (view), and manager2 one of North's with am1 (change)."""
    from django.contrib.auth.models import Permission

    grants = [("rep2", "rep1", "view_client"), ("rep3", "am1", "change_client")]
    for owner_name, to_name, codename in grants:
        owner, to = ctx.users.get(owner_name), ctx.users.get(to_name)
        if owner is None or to is None:
            continue
        client = (
            Client.objects.filter(external_id__startswith=EXTERNAL_PREFIX, owner=owner)
            .order_by("external_id")
            .first()
        )
        if client is None:
            continue
        permission = Permission.objects.get(codename=codename, content_type__app_label="clients")
        ClientUserObjectPermission.objects.get_or_create(
            user=to, permission=permission, content_object=client
        )
