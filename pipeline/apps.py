from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PipelineConfig(AppConfig):
    name = "pipeline"
    verbose_name = _("Pipeline")

    def ready(self) -> None:
        # Registers the pipeline's client-timeline providers (clients.timeline).
        from pipeline import timeline  # noqa: F401
