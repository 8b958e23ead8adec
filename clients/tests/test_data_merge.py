"""Merging duplicate clients: every related record moves, nothing is lost.

The central test does not list the relations: it finds every foreign key to
``Client`` in the installed models and creates one row of each for the
duplicate (and the survivor), so a model a later issue adds (complaints,
surveys…) is covered the day it appears.
"""

from __future__ import annotations

import itertools
import uuid
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import models
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalChanges

from accounts.models import User
from clients.merge import client_merge, client_relations, plan_merge
from clients.models import Client, ClientUserObjectPermission, Contact, Tag
from clients.tests.data_factories import ClientFactory, ContactFactory, uscc

pytestmark = pytest.mark.django_db


_counter = itertools.count(1)


def _discovered_relations() -> set[tuple[type[models.Model], str]]:
    """Every concrete FK to Client in the installed models, history tables aside."""
    found = set()
    for model in apps.get_models(include_auto_created=True):
        if issubclass(model, HistoricalChanges):
            continue
        for f in model._meta.concrete_fields:
            if isinstance(f, models.ForeignKey) and f.related_model is Client:
                found.add((model, f.name))
    return found


def _value(model: type[models.Model], f: models.Field, org, user: User) -> Any:
    """A valid value for a required field of any model (a tiny autofixture)."""
    n = next(_counter)
    if isinstance(f, models.ForeignKey):
        target = f.related_model
        if target is User:
            return user
        if target is Client:
            return ClientFactory(owner=org.rep)
        if target is Permission:
            return Permission.objects.get(content_type__app_label="clients", codename="view_client")
        if target is ContentType:
            return ContentType.objects.get_for_model(Client)
        return _make(target, {}, org, user)
    if f.choices:
        return f.choices[0][0]
    if isinstance(f, models.EmailField):
        return f"x{n}@example.com"
    if isinstance(f, models.CharField | models.TextField):
        return f"x{n}"[: f.max_length] if f.max_length else f"x{n}"
    if isinstance(f, models.DecimalField):
        return Decimal("1")
    if isinstance(f, models.IntegerField):
        return 1
    if isinstance(f, models.DateTimeField):
        return timezone.now()
    if isinstance(f, models.DateField):
        return date.today()
    if isinstance(f, models.BooleanField):
        return False
    if isinstance(f, models.JSONField):
        return {}
    if isinstance(f, models.FileField):
        return f"test/{n}.txt"
    if isinstance(f, models.UUIDField):
        return uuid.uuid4()
    pytest.fail(f"teach the merge test a value for {model.__name__}.{f.name} ({type(f).__name__})")


def _make(model: type[models.Model], fixed: dict[str, Any], org, user: User) -> models.Model:
    kwargs = dict(fixed)
    for f in model._meta.concrete_fields:
        if f.primary_key or f.name in kwargs or f.attname in kwargs:
            continue
        if f.null or f.has_default() or getattr(f, "auto_now", False):
            continue
        if getattr(f, "auto_now_add", False):
            continue
        if f.blank and f.empty_strings_allowed and not isinstance(f, models.ForeignKey):
            continue
        kwargs[f.name] = _value(model, f, org, user)
    obj = model(**kwargs)
    obj.save()
    return obj


@pytest.fixture
def pair(org):
    survivor = ClientFactory(
        name="Huadong Logistics Co., Ltd.",
        owner=org.rep,
        industry="",
        registration_number="",
        phone="021 5555 0001",
        notes="Survivor's notes.",
    )
    duplicate = ClientFactory(
        name="HUADONG LOGISTICS",
        owner=org.peer_rep,
        account_manager=org.am,
        industry="Logistics",
        registration_number=uscc(7),
        phone="021 6666 0002",
        website="https://huadong.example",
        notes="Duplicate's notes.",
        spend_12m=Decimal("1500000"),
        is_key_account=True,
    )
    return survivor, duplicate


def test_the_merge_knows_every_relation_to_client():
    """``client_relations`` finds the same FKs as a scan of every installed model."""
    assert {(r.model, r.field.name) for r in client_relations()} == _discovered_relations()


def test_every_related_record_moves_and_nothing_is_lost(org, pair):
    survivor, duplicate = pair
    made: dict[tuple[type[models.Model], str], dict[str, models.Model]] = {}
    for model, name in sorted(_discovered_relations(), key=lambda r: (r[0]._meta.label, r[1])):
        rows = {}
        # Different users on each side, so no two rows are identical links.
        for owner_key, client, user in (
            ("duplicate", duplicate, org.rep),
            ("survivor", survivor, org.am),
        ):
            rows[owner_key] = _make(model, {name: client}, org, user)
        made[(model, name)] = rows
    # A link the survivor has as well (same tag, same grant) is kept once, not twice.
    vip = Tag.objects.create(name="vip")
    survivor.tags.add(vip)
    duplicate.tags.add(vip)
    view = Permission.objects.get(content_type__app_label="clients", codename="view_client")
    for client in (survivor, duplicate):
        ClientUserObjectPermission.objects.create(
            user=org.outsider, permission=view, content_object=client
        )
    counts_before = {model: model._base_manager.count() for model, _name in _discovered_relations()}

    client_merge(survivor=survivor, duplicates=[duplicate], by=org.support)

    assert not Client.objects.filter(pk=duplicate.pk).exists()
    for (model, name), rows in made.items():
        attname = model._meta.get_field(name).attname
        for owner_key, row in rows.items():
            stored = model._base_manager.filter(pk=row.pk).values_list(attname, flat=True)
            assert list(stored) == [survivor.pk], f"{model.__name__}.{name} of the {owner_key}"
    for model, before in counts_before.items():
        after = model._base_manager.count()
        if model is Client:
            assert after == before - 1
        elif model is Client.tags.through:
            assert after == before - 1, "the identical tag link is dropped"
        elif model is ClientUserObjectPermission:
            # The identical grant is dropped; the duplicate's former owner gets one.
            assert after == before - 1 + 1
            assert ClientUserObjectPermission.objects.filter(
                content_object=survivor, user=org.peer_rep
            ).exists()
        else:
            assert after == before, f"{model.__name__} lost rows"
    assert survivor.tags.filter(name="vip").count() == 1
    assert (
        ClientUserObjectPermission.objects.filter(
            content_object=survivor, user=org.outsider, permission=view
        ).count()
        == 1
    )


def test_fills_empty_fields_only_keeps_one_primary_contact_and_the_history(org, pair):
    survivor, duplicate = pair
    keep = ContactFactory(client=survivor, name="Wang", is_primary=True)
    other = ContactFactory(client=duplicate, name="Li", is_primary=True)
    referred = ClientFactory(owner=org.rep, referred_by=duplicate)
    survivor.referred_by = duplicate
    survivor.save()

    merged = client_merge(survivor=survivor, duplicates=[duplicate], by=org.support)

    assert merged.industry == "Logistics"  # was empty
    assert merged.registration_number == uscc(7)  # was empty
    assert merged.website == "https://huadong.example"
    assert merged.phone == "021 5555 0001"  # not overwritten
    assert merged.owner == org.rep  # ownership stays the survivor's
    assert merged.account_manager == org.am  # filled: the survivor had none
    assert "Survivor's notes." in merged.notes and "Duplicate's notes." in merged.notes
    assert merged.spend_12m == Decimal("1500000") and merged.is_key_account
    assert merged.referred_by is None  # would have referred itself
    referred.refresh_from_db()
    assert referred.referred_by_id == merged.pk
    primaries = list(Contact.objects.filter(client=merged, is_primary=True))
    assert primaries == [keep]
    assert set(merged.contacts.values_list("name", flat=True)) == {"Wang", "Li"}
    other.refresh_from_db()
    assert other.client_id == merged.pk and not other.is_primary

    latest = merged.history.first()
    assert "HUADONG LOGISTICS" in latest.history_change_reason
    assert f"#{duplicate.pk}" in latest.history_change_reason
    assert latest.history_user == org.support
    gone = Client.history.filter(id=duplicate.pk)
    assert gone.count() >= 2  # its creation and its deletion stay
    assert gone.first().history_type == "-"
    assert "Huadong Logistics" in gone.first().history_change_reason
    moved = other.history.first()
    assert moved.client_id == merged.pk and "merged" in moved.history_change_reason
    # The former owner of the duplicate keeps seeing the client they worked on.
    assert Client.objects.visible_to(org.peer_rep).filter(pk=merged.pk).exists()


def test_merging_several_at_once(org):
    survivor = ClientFactory(name="Acme", owner=org.rep)
    dups = [ClientFactory(name=f"ACME Ltd {i}", owner=org.rep) for i in range(3)]
    for dup in dups:
        ContactFactory(client=dup)
    client_merge(survivor=survivor, duplicates=dups, by=org.manager)
    assert survivor.contacts.count() == 3
    assert not Client.objects.filter(pk__in=[d.pk for d in dups]).exists()


def test_plan_says_what_moves(org, pair):
    survivor, duplicate = pair
    ContactFactory.create_batch(2, client=duplicate)
    plan = plan_merge(survivor=survivor, duplicates=[duplicate])
    moves = {m.relation.model: m.count for m in plan.moves}
    assert moves[Contact] == 2
    assert {f.field for f in plan.fills} >= {"industry", "registration_number", "website"}
    assert "phone" not in {f.field for f in plan.fills}
    assert plan.access_kept == [org.peer_rep]


def test_the_service_checks_permission_and_visibility(org, pair):
    survivor, duplicate = pair
    with pytest.raises(PermissionDenied):
        client_merge(survivor=survivor, duplicates=[duplicate], by=org.rep)
    north = ClientFactory(owner=org.outsider)
    with pytest.raises(Exception, match="not visible"):
        client_merge(survivor=survivor, duplicates=[north], by=org.support)
    assert Client.objects.filter(pk=north.pk).exists()


# ---------------------------------------------------------------- the page
def _merge_url(*clients, survivor=None) -> str:
    query = "&".join(f"ids={c.pk}" for c in clients)
    if survivor:
        query += f"&survivor={survivor.pk}"
    return f"{reverse('clients:merge')}?{query}"


def test_support_previews_and_merges(login, org, pair):
    survivor, duplicate = pair
    ContactFactory(client=duplicate, name="Li Lei")
    client = login(org.support)
    response = client.get(_merge_url(survivor, duplicate, survivor=survivor))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="merge-preview"' in html and "Logistics" in html
    response = client.post(
        reverse("clients:merge"),
        {"ids": [survivor.pk, duplicate.pk], "survivor": survivor.pk, "next": "/clients/quality/"},
    )
    assert response.status_code == 302 and response["Location"] == "/clients/quality/"
    assert not Client.objects.filter(pk=duplicate.pk).exists()
    assert survivor.contacts.filter(name="Li Lei").exists()


@pytest.mark.parametrize("persona", ["rep", "peer_rep", "am", "outsider", "peer_am"])
def test_reps_and_account_managers_cannot_merge(login, org, pair, persona):
    survivor, duplicate = pair
    client = login(getattr(org, persona))
    assert client.get(_merge_url(survivor, duplicate)).status_code == 403
    response = client.post(
        reverse("clients:merge"), {"ids": [survivor.pk, duplicate.pk], "survivor": survivor.pk}
    )
    assert response.status_code == 403
    assert Client.objects.filter(pk=duplicate.pk).exists()


def test_merge_urls_of_other_regions_answer_404(login, org, pair):
    survivor, duplicate = pair
    client = login(org.peer_manager)  # may merge, but in the North
    assert client.get(_merge_url(survivor, duplicate)).status_code == 404
    response = client.post(
        reverse("clients:merge"), {"ids": [survivor.pk, duplicate.pk], "survivor": survivor.pk}
    )
    assert response.status_code == 404
    north = ClientFactory(owner=org.outsider)
    # One invisible id among visible ones is a 404 too.
    assert login(org.support).get(_merge_url(survivor, north)).status_code == 404
    assert Client.objects.filter(pk__in=[survivor.pk, duplicate.pk, north.pk]).count() == 3


def test_a_one_per_client_record_it_cannot_resolve_stops_the_merge(org, pair, monkeypatch):
    """Without the primary-contact rule, two primaries are a conflict: nothing changes."""
    from clients import merge

    survivor, duplicate = pair
    ContactFactory(client=survivor, is_primary=True)
    theirs = ContactFactory(client=duplicate, is_primary=True)
    monkeypatch.setattr(merge, "HANDLED_CONSTRAINTS", set())
    plan = plan_merge(survivor=survivor, duplicates=[duplicate])
    assert plan.conflicts and "Contacts" in plan.conflicts[0]
    with pytest.raises(merge.MergeConflict):
        client_merge(survivor=survivor, duplicates=[duplicate], by=org.support)
    theirs.refresh_from_db()
    assert theirs.client_id == duplicate.pk and theirs.is_primary
    assert Client.objects.filter(pk=duplicate.pk).exists()
