"""The meter's credits and the paywall-view counter moved to Redis
(subscriptions/counters.py); without Redis they are plain transactions from
Python. The two database functions that made them cheaper in PostgreSQL —
the meter in one call (0004) and the counter committed without a disk flush
(0005) — have no caller left. Reversing this migration puts them back.
"""

import importlib

from django.db import migrations

from newsroom.db.migrations import sql_on_postgresql

meter_function = importlib.import_module("subscriptions.migrations.0004_meter_function")
counter_function = importlib.import_module("subscriptions.migrations.0005_stat_bump_without_flush")


class Migration(migrations.Migration):
    dependencies = [("subscriptions", "0008_feed_token")]

    operations = [
        sql_on_postgresql(meter_function.DROP, meter_function.CREATE),
        sql_on_postgresql(counter_function.DROP, counter_function.CREATE),
    ]
