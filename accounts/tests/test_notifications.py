"""notify(): in-app rows, e-mail after commit, preferences, digest, idempotence."""

import pytest
from django.core import mail

from accounts.models import Notification, NotificationPreference, NotificationSettings
from accounts.notifications import notify

pytestmark = pytest.mark.django_db


def _notify(recipients, **extra):
    return notify(
        recipients=recipients,
        kind="test_kind",
        subject="Hello",
        message="Body",
        url="/clients/1/",
        **extra,
    )


def test_each_recipient_gets_a_row_and_an_email_after_commit(
    org, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        created = _notify([org.rep, org.am, org.rep])
    assert {n.recipient for n in created} == {org.rep, org.am}
    assert sorted(m.to[0] for m in mail.outbox) == sorted([org.rep.email, org.am.email])
    assert "http://127.0.0.1:8000/clients/1/" in mail.outbox[0].body
    assert Notification.objects.filter(emailed_at__isnull=False).count() == 2


def test_nothing_is_sent_when_the_transaction_rolls_back(org, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _notify([org.rep])
    assert len(callbacks) == 1 and mail.outbox == []


def test_a_dedupe_key_makes_it_once_per_person(org, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _notify([org.rep], dedupe_key="renewal:1:90")
        again = _notify([org.rep, org.am], dedupe_key="renewal:1:90")
    assert [n.recipient for n in again] == [org.am]
    assert Notification.objects.filter(recipient=org.rep).count() == 1
    assert len(mail.outbox) == 2


def test_preferences_and_digest_are_respected(org, django_capture_on_commit_callbacks):
    NotificationPreference.objects.create(user=org.rep, kind="test_kind", email=False)
    NotificationPreference.objects.create(user=org.am, kind="test_kind", in_app=False)
    NotificationSettings.objects.create(user=org.manager, daily_digest=True)
    with django_capture_on_commit_callbacks(execute=True):
        _notify([org.rep, org.am, org.manager])
    assert [m.to for m in mail.outbox] == [[org.am.email]]
    assert Notification.objects.get(recipient=org.am).read_at is not None  # not shown in app
    assert Notification.objects.get(recipient=org.rep).read_at is None


def test_inactive_people_are_left_out(org):
    org.rep.is_active = False
    org.rep.save()
    assert _notify([org.rep]) == []


def test_each_person_sees_only_their_own(org):
    _notify([org.rep, org.am])
    assert list(Notification.objects.visible_to(org.rep).values_list("recipient", flat=True)) == [
        org.rep.pk
    ]
    assert not Notification.objects.visible_to(org.manager).exists()
