from django.contrib.auth.management import create_permissions
from django.db import migrations

EDITOR_MODELS = ["article", "category", "author", "comment", "commentreport"]


def create_search_index(apps, schema_editor):
    # GIN index over the weighted tsvector; PostgreSQL only (SQLite has no tsvector).
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS articles_article_search_gin "
            "ON articles_article USING gin (search_vector)"
        )


def drop_search_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS articles_article_search_gin")


def create_editors_group(apps, schema_editor):
    """Editors: full rights over the newsroom's content and nothing else."""
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Editors")
    perms = Permission.objects.filter(content_type__app_label="articles", content_type__model__in=EDITOR_MODELS)
    group.permissions.set(perms)


def remove_editors_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name="Editors").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(create_search_index, drop_search_index),
        migrations.RunPython(create_editors_group, remove_editors_group),
    ]
