from django.apps import AppConfig


class OwnedAppConfig(AppConfig):
    name = "tests.owned_app"
    label = "owned_app"
