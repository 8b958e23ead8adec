from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def stamp_last_login(sender: Any, user: Any, **kwargs: Any) -> None:
    """Record the sign-in without saving the person.

    Django's own receiver saves the user, which writes a history entry per
    sign-in (the person's history read as a list of logins) and so changes
    the organisation's history marker, rebuilding the KPI placements on the
    next report. A sign-in is not a change to the person.
    """
    from django.utils import timezone

    user.last_login = timezone.now()
    type(user)._default_manager.filter(pk=user.pk).update(last_login=user.last_login)


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Organisation")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in
        from django.core.checks import Tags, register

        from accounts.backends import connect_signals
        from accounts.models import Team
        from salesorg.lib import refcache
        from salesorg.startup import check_secret_key

        connect_signals()
        register(check_secret_key, Tags.security, deploy=True)
        refcache.watch(Team)  # the regions the company's figures split into
        user_logged_in.disconnect(dispatch_uid="update_last_login")
        user_logged_in.connect(stamp_last_login, dispatch_uid="salesorg_stamp_last_login")
