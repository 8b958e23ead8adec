"""Survey answers on the client timeline (registered in ``ClientsConfig.ready()``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from clients.surveys import describe_scores, in_language
from clients.timeline import TimelineEntry

if TYPE_CHECKING:
    from accounts.models import User
    from clients.models import Client


def survey_entries(client: Client, user: User, limit: int) -> Iterable[TimelineEntry]:
    """Each survey the client's contacts answered, with its NPS and CSAT (one query).

    A response is visible exactly when its client is (``FollowsParent("client")``),
    and ``timeline_for`` has checked the client once for every provider; so this
    reads the client's responses directly rather than pay a second grant look-up.
    """
    from clients.models import SurveyResponse

    language = get_language() or ""
    responses = (
        SurveyResponse.objects.filter(client=client)
        .select_related("invitation__campaign__template", "contact")
        .order_by("-submitted_at", "-pk")[:limit]
    )
    for response in responses:
        template = response.invitation.campaign.template
        yield TimelineEntry(
            at=response.submitted_at,
            kind="survey",
            title=_("Survey answered: %(survey)s")
            % {"survey": in_language(template.name, template.name_zh, language)},
            url=reverse("clients:survey-response-detail", args=[response.pk]),
            summary=describe_scores(response),
            icon="☺",
            actor=str(response.contact or ""),
        )
