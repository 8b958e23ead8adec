"""Survey workflows: templates, campaigns and their e-mails, answers, follow-ups."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail.backends.locmem import EmailBackend
from django.utils import timezone

from accounts.models import Notification
from clients import surveys
from clients.models import (
    Client,
    SurveyCampaign,
    SurveyInvitation,
    SurveyQuestion,
    SurveyTemplate,
)
from clients.survey_jobs import send_campaign
from clients.tests import survey_helpers as h
from clients.tests.factories import ContactFactory
from pipeline.models import Activity, ActivityType, FollowUpReason

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
Q = surveys.QuestionSpec


class FlakyBackend(EmailBackend):
    """The test mailbox, except that addresses with "bounce" fail like a down server."""

    def send_messages(self, messages):
        for message in messages:
            if any("bounce" in address for address in message.to):
                raise OSError("connection refused")
        return super().send_messages(messages)


# ------------------------------------------------------------------ templates
def test_a_custom_template_keeps_its_questions_in_order(org):
    template = surveys.template_save(
        by=org.support,
        name="Onboarding check",
        name_zh="上线检查",
        questions=[
            Q("rating", "How was the training?", "培训怎么样？"),
            Q(
                "choice",
                "Which module do you use most?",
                choices=[{"label": "CRM"}, {"label": "Reports", "label_zh": "报表"}],
            ),
            Q("nps", "Would you recommend us?", required=True),
            Q("text", "Anything else?", required=False),
        ],
    )
    assert not template.is_builtin and template.code.startswith("onboarding-check-")
    questions = list(template.questions.all())
    assert [q.kind for q in questions] == ["rating", "choice", "nps", "text"]
    assert [q.position for q in questions] == [0, 1, 2, 3]
    assert questions[1].choices == [
        {"value": "crm", "label": "CRM", "label_zh": ""},
        {"value": "reports", "label": "Reports", "label_zh": "报表"},
    ]
    assert questions[3].required is False


@pytest.mark.parametrize(
    ("questions", "message"),
    [
        ([], "at least one question"),
        ([Q("choice", "Pick one", choices=[{"label": "Only"}])], "at least two choices"),
        ([Q("nps", "One?"), Q("nps", "Two?")], "at most one 0–10"),
        ([Q("rating", "  ")], "write the question"),
        ([Q("stars", "Huh?")], "choose a kind"),
    ],
)
def test_template_questions_are_checked(org, questions, message):
    with pytest.raises(ValidationError, match=message):
        surveys.template_save(by=org.manager, name="Bad", questions=questions)


def test_built_ins_are_read_only_and_used_templates_keep_their_questions(org, book):
    with pytest.raises(ValidationError, match="Built-in"):
        surveys.template_save(by=org.director, template=h.template("nps"), name="Mine now")
    custom = surveys.template_save(by=org.manager, name="Short", questions=[Q("nps", "Score?")])
    h.invitation(
        SurveyCampaign.objects.create(template=custom, name="c", key="manual:x"),
        book.contacts["rep"],
    )
    with pytest.raises(ValidationError, match="already sent"):
        surveys.template_save(
            by=org.manager, template=custom, name="Short", questions=[Q("nps", "Other?")]
        )
    renamed = surveys.template_save(by=org.manager, template=custom, name="Short and sweet")
    assert renamed.name == "Short and sweet" and renamed.questions.get().text == "Score?"
    with pytest.raises(ValidationError):
        surveys.template_delete(by=org.manager, template=custom)


def test_a_copy_is_custom_and_editable(org):
    copy = surveys.template_copy(by=org.support, template=h.template("quarterly-satisfaction"))
    assert copy.name == "Copy of Quarterly satisfaction survey" and not copy.is_builtin
    assert copy.questions.count() == h.template("quarterly-satisfaction").questions.count()
    surveys.template_delete(by=org.director, template=copy)
    assert not SurveyTemplate.objects.filter(pk=copy.pk).exists()


def test_only_roles_with_the_permission_write_templates(org):
    for user in (org.am, org.rep):
        with pytest.raises(PermissionDenied):
            surveys.template_save(by=user, name="x", questions=[Q("nps", "Score?")])


# ------------------------------------------------------------------ campaigns
def _all_clients():
    return Client.objects.all()


def test_a_campaign_invites_only_contacts_the_sender_sees(org, book):
    for label in book.clients:
        h.primary(book.clients[label])
    campaign = surveys.campaign_create(
        by=org.support, template=h.template("nps"), name="", clients=_all_clients()
    )
    invited = set(campaign.invitations.values_list("client_id", flat=True))
    # support sees the East region: rep, peer_rep and am's clients, not the North ones
    assert invited == {book.clients[k].pk for k in ("rep", "peer_rep", "am")}
    assert campaign.status == SurveyCampaign.Status.DRAFT and campaign.name == "Net promoter score"
    assert campaign.created_by == org.support and campaign.key.startswith("manual:")


def test_primary_or_all_contacts_with_an_email(org, book):
    client = book.clients["am"]
    h.primary(client)
    ContactFactory(client=client, email="")
    extra = ContactFactory(client=client, email="second@example.cn")
    only = Client.objects.filter(pk=client.pk)
    primary = surveys.campaign_create(
        by=org.manager, template=h.template("nps"), name="p", clients=only
    )
    everyone = surveys.campaign_create(
        by=org.manager, template=h.template("nps"), name="a", clients=only, contacts="all"
    )
    assert primary.invitations.count() == 1
    assert set(everyone.invitations.values_list("contact_id", flat=True)) == {
        book.contacts["am"].pk,
        extra.pk,
    }
    count, first, capped = surveys.recipients_preview(only, "all")
    assert (count, capped) == (2, False) and {c.pk for c in first} == {
        book.contacts["am"].pk,
        extra.pk,
    }


def test_nobody_to_invite_is_refused(org, book):
    with pytest.raises(ValidationError, match="No contact"):
        surveys.campaign_create(
            by=org.manager, template=h.template("nps"), name="", clients=Client.objects.none()
        )
    with pytest.raises(PermissionDenied):
        surveys.campaign_create(
            by=org.am, template=h.template("nps"), name="", clients=_all_clients()
        )


def test_sending_happens_after_commit_once_with_signed_bilingual_links(
    org, book, django_capture_on_commit_callbacks
):
    client = book.clients["rep"]
    client.account_manager = org.am
    client.save()
    h.primary(client)
    h.primary(book.clients["am"])
    campaign = surveys.campaign_create(
        by=org.manager, template=h.template("nps"), name="Spring NPS", clients=_all_clients()
    )
    with django_capture_on_commit_callbacks() as callbacks:
        surveys.campaign_send(by=org.manager, campaign=campaign)
    assert len(callbacks) == 1 and mail.outbox == []
    campaign.refresh_from_db()
    assert campaign.status == SurveyCampaign.Status.SENDING

    assert send_campaign.apply(args=[campaign.pk]).get() == 2
    assert send_campaign.apply(args=[campaign.pk]).get() == 0  # a redelivery sends nothing
    assert surveys.send_pending(campaign.pk) == 0
    assert len(mail.outbox) == 2
    campaign.refresh_from_db()
    assert campaign.status == SurveyCampaign.Status.SENT and campaign.sent_at is not None

    message = next(m for m in mail.outbox if m.to == [book.contacts["rep"].email])
    assert message.subject == "Net promoter score · 净推荐值调查"
    assert message.reply_to == [org.am.email]
    assert "We would like your opinion in our survey “Net promoter score”." in message.body
    assert "诚邀您参与我们的“净推荐值调查”。" in message.body
    links = re.findall(r"http://\S+/s/(\S+)/\?lang=(en|zh-hans)", message.body)
    assert [lang for _s, lang in links] == ["en", "zh-hans"]
    invitation = SurveyInvitation.objects.get(contact=book.contacts["rep"])
    assert invitation.sent_at is not None
    assert invitation.expires_at == invitation.sent_at + timedelta(days=30)
    for signed, _lang in links:
        resolved = surveys.resolve_link(signed)
        assert resolved.state is surveys.LinkState.OPEN and resolved.invitation == invitation
    with pytest.raises(ValidationError, match="already"):
        surveys.campaign_send(by=org.manager, campaign=campaign)


def test_a_failed_mail_stays_unsent_for_the_next_run(org, book, settings):
    settings.EMAIL_BACKEND = "clients.tests.test_surveys_services.FlakyBackend"
    campaign = h.campaign("nps", status=SurveyCampaign.Status.SENDING)
    good = h.invitation(campaign, book.contacts["rep"], unsent=True)
    bad_contact = book.contacts["am"]
    bad_contact.email = "bounce@example.cn"
    bad_contact.save()
    bad = h.invitation(campaign, bad_contact, unsent=True)
    assert surveys.send_pending(campaign.pk) == 1
    good.refresh_from_db()
    bad.refresh_from_db()
    assert good.sent_at is not None and bad.sent_at is None
    campaign.refresh_from_db()
    assert campaign.status == SurveyCampaign.Status.SENDING
    bad_contact.email = "fixed@example.cn"
    bad_contact.save()
    assert surveys.send_pending(campaign.pk) == 1
    assert [m.to for m in mail.outbox] == [[book.contacts["rep"].email], ["fixed@example.cn"]]
    campaign.refresh_from_db()
    assert campaign.status == SurveyCampaign.Status.SENT


def test_a_contact_without_email_at_sending_time_is_dropped(org, book):
    campaign = h.campaign("nps", status=SurveyCampaign.Status.SENDING)
    contact = book.contacts["rep"]
    inv = h.invitation(campaign, contact, unsent=True)
    contact.email = ""
    contact.save()
    assert surveys.send_pending(campaign.pk) == 0
    assert not SurveyInvitation.objects.filter(pk=inv.pk).exists()
    campaign.refresh_from_db()
    assert campaign.status == SurveyCampaign.Status.SENT


def test_automatic_campaigns_are_not_sent_by_hand(org, book):
    campaign = h.campaign("nps", key="quarterly:2026-Q1", status=SurveyCampaign.Status.DRAFT)
    with pytest.raises(ValidationError, match="scheduled job"):
        surveys.campaign_send(by=org.director, campaign=campaign)


def test_only_the_creators_line_sends_or_closes(org, book):
    h.primary(book.clients["rep"])
    campaign = surveys.campaign_create(
        by=org.support, template=h.template("nps"), name="", clients=_all_clients()
    )
    with pytest.raises(PermissionDenied):  # peer manager: not their line
        surveys.campaign_close(by=org.peer_manager, campaign=campaign)
    with pytest.raises(PermissionDenied):  # am sees an invited client but may not manage
        surveys.campaign_send(by=org.am, campaign=campaign)
    closed = surveys.campaign_close(by=org.manager, campaign=campaign)
    assert closed.status == SurveyCampaign.Status.CLOSED


# -------------------------------------------------------------------- answers
def test_scores_are_stored_and_a_good_score_needs_no_call(book):
    inv = h.invitation(h.campaign("quarterly-satisfaction"), book.contacts["rep"])
    response = h.answer(inv, nps=9, ratings=[5, 4, 4])
    assert response.nps_score == 9 and str(response.csat_score) == "4.33"
    assert not Activity.objects.exists() and not Notification.objects.exists()
    inv.refresh_from_db()
    assert inv.answered_at == response.submitted_at
    with pytest.raises(surveys.AlreadyAnswered):
        h.answer(inv)


def test_answers_are_validated_by_the_service_too(book):
    inv = h.invitation(h.campaign("post-project-evaluation"), book.contacts["rep"])
    questions = {q.kind: q for q in inv.campaign.template.questions.all()}
    answers = h.answers_for(inv)
    answers[questions[SurveyQuestion.Kind.CHOICE].pk] = "maybe"
    answers[questions[SurveyQuestion.Kind.NPS].pk] = -1
    with pytest.raises(ValidationError) as caught:
        surveys.response_submit(invitation=inv, answers=answers)
    assert set(caught.value.message_dict) == {
        str(questions[SurveyQuestion.Kind.CHOICE].pk),
        str(questions[SurveyQuestion.Kind.NPS].pk),
    }


@pytest.mark.parametrize(("nps", "ratings"), [(6, [5, 5, 5]), (10, [5, 2, 5])])
def test_a_low_score_opens_exactly_one_follow_up_for_the_am(org, book, nps, ratings):
    client = book.clients["rep"]
    client.account_manager = org.am
    client.save()
    inv = h.invitation(h.campaign("quarterly-satisfaction"), book.contacts["rep"])
    friday_afternoon = datetime(2026, 5, 15, 16, 0, tzinfo=SHANGHAI)
    with time_machine.travel(friday_afternoon, tick=False):
        response = h.answer(inv, nps=nps, ratings=ratings)
    follow_up = Activity.objects.get()
    assert follow_up.survey_response == response and follow_up.owner == org.am
    assert follow_up.type == ActivityType.FOLLOW_UP
    assert follow_up.follow_up_reason == FollowUpReason.CARE_CALL
    assert follow_up.status == Activity.Status.PLANNED
    assert follow_up.client == client and follow_up.contact == book.contacts["rep"]
    # two working days after a Friday: Tuesday
    assert timezone.localtime(follow_up.start_at) == datetime(2026, 5, 19, 10, 0, tzinfo=SHANGHAI)
    note = Notification.objects.get()
    assert note.recipient == org.am and note.kind == "survey_low_score"
    assert note.url == f"/clients/surveys/responses/{response.pk}/"
    # asking again changes nothing
    again = surveys.follow_up_low_score(response=response, client=client, now=timezone.now())
    assert again == follow_up
    assert Activity.objects.count() == 1 and Notification.objects.count() == 1


def test_without_an_am_the_owner_gets_the_call(org, book):
    inv = h.invitation(h.campaign("nps"), book.contacts["peer_rep"])
    h.answer(inv, nps=2)
    assert Activity.objects.get().owner == org.peer_rep


def test_working_days_and_quarters():
    from datetime import date

    assert surveys.add_working_days(date(2026, 5, 13), 2) == date(2026, 5, 15)  # Wed → Fri
    assert surveys.add_working_days(date(2026, 5, 16), 2) == date(2026, 5, 19)  # Sat → Tue
    assert surveys.quarter_key(date(2026, 12, 31)) == "2026-Q4"
    assert surveys.quarter_key(date(2027, 1, 1)) == "2027-Q1"
    assert surveys.quarter_bounds(date(2026, 11, 5)) == (date(2026, 10, 1), date(2027, 1, 1))


def test_reminders_are_due_after_the_campaigns_days_and_once(book):
    campaign = h.campaign("nps", remind_after_days=3)
    sent = timezone.now()
    inv = h.invitation(campaign, book.contacts["rep"], sent_at=sent)
    answered = h.invitation(campaign, book.contacts["am"], sent_at=sent)
    h.answer(answered)
    assert not surveys.reminders_due(sent + timedelta(days=2, hours=23)).exists()
    assert list(surveys.reminders_due(sent + timedelta(days=3))) == [inv]
    assert surveys.send_reminders(now=sent + timedelta(days=3)) == 1
    assert surveys.send_reminders(now=sent + timedelta(days=4)) == 0
    assert len(mail.outbox) == 1 and mail.outbox[0].subject.startswith("Reminder:")
    assert "A few days ago" in mail.outbox[0].body


def test_no_reminder_after_expiry_or_for_a_closed_campaign(book):
    closed = h.campaign("nps", status=SurveyCampaign.Status.CLOSED, remind_after_days=1)
    h.invitation(closed, book.contacts["rep"], sent_at=timezone.now() - timedelta(days=5))
    short = h.campaign("nps", remind_after_days=1, expires_after_days=2)
    h.invitation(short, book.contacts["am"], sent_at=timezone.now() - timedelta(days=3))
    assert not surveys.reminders_due(timezone.now()).exists()
