from django.apps import AppConfig


class GrowthConfig(AppConfig):
    name = "growth"
    verbose_name = "Growth: offers, gifts and where readers come from"

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (connects the receivers)
