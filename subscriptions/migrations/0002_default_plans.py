from django.db import migrations


def create_plans(apps, schema_editor):
    Plan = apps.get_model("subscriptions", "Plan")
    Plan.objects.get_or_create(
        code="weekly",
        defaults={"name": "Weekly", "amount_cents": 50, "interval": "week", "trial_days": 14,
                  "is_default": True, "position": 0},
    )
    Plan.objects.get_or_create(
        code="annual",
        defaults={"name": "Annual", "amount_cents": 2400, "interval": "year", "trial_days": 14,
                  "is_default": False, "position": 1},
    )


class Migration(migrations.Migration):
    dependencies = [("subscriptions", "0001_initial")]

    operations = [migrations.RunPython(create_plans, migrations.RunPython.noop)]
