from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClientsConfig(AppConfig):
    name = "clients"
    verbose_name = _("Clients")

    def ready(self) -> None:
        # --- clients core: this app's own timeline entries (issue 3) ---
        from clients.timeline_providers import register_providers

        register_providers()
        # --- end clients core ---
        # --- complaints (care-complaints): complaints on the client timeline ---
        from clients import complaint_timeline

        complaint_timeline.register_providers()
        # --- end complaints ---
        # --- satisfaction surveys: answers on the client timeline (care-surveys) ---
        from clients.survey_timeline import survey_entries
        from clients.timeline import register

        register(survey_entries)
        # --- end of surveys ---
