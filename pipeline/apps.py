from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PipelineConfig(AppConfig):
    name = "pipeline"
    verbose_name = _("Pipeline")

    def ready(self) -> None:
        # Register the pipeline's providers on the client timeline.
        from pipeline import timeline  # noqa: F401
        from pipeline.models import Stage
        from salesorg.lib import refcache

        refcache.watch(Stage)
