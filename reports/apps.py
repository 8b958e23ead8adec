from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("Reports")

    # --- job machinery checks (care-jobs)
    def ready(self) -> None:
        from django.core.checks import register

        from reports.checks import check_visibility_timeout

        register(check_visibility_timeout, "celery")
