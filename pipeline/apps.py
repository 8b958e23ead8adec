from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PipelineConfig(AppConfig):
    name = "pipeline"
    verbose_name = _("Pipeline")

    def ready(self) -> None:
        # --- deals and leads on the client timeline (pipeline-sales)
        from pipeline.timeline import register_sales_providers

        register_sales_providers()
        # --- end of pipeline-sales
