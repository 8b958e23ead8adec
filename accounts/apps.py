from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Organisation")

    def ready(self) -> None:
        from accounts.backends import connect_signals
        from accounts.models import Team
        from salesorg.lib import refcache

        connect_signals()
        refcache.watch(Team)  # the regions the company's figures split into
