from django.apps import AppConfig


class NewsletterConfig(AppConfig):
    name = "newsletter"
    verbose_name = "Newsletters"

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (connects the welcome emails' receivers)
