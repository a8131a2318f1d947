from django.apps import AppConfig


class ArticlesConfig(AppConfig):
    name = "articles"
    verbose_name = "Newsroom"

    def ready(self) -> None:
        from newsroom import checks  # noqa: F401  (registers the deploy checks)

        from . import receivers  # noqa: F401  (connects the receivers)
