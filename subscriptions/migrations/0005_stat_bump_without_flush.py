"""A dashboard counter raised without waiting for the WAL flush (stats.count_page_view).

Paywall views all raise one row per day. In autocommit each raise is its own
transaction, and the row lock is held until the commit has been flushed to
disk, so every paywall view in the site would queue behind the previous one's
disk sync. `synchronous_commit = off`, local to this one-statement transaction,
commits without waiting for the flush: the lock is held for microseconds. The
cost: a PostgreSQL crash can lose the last moments of these counts. Billing
counters never come here (they are raised inside their own transactions).
"""

from django.db import migrations

from newsroom.db.migrations import sql_on_postgresql

CREATE = r"""
CREATE OR REPLACE FUNCTION subscriptions_bump_stat_without_flush(p_day date, p_name varchar, p_by integer)
RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
    PERFORM set_config('synchronous_commit', 'off', true);
    INSERT INTO subscriptions_dailystat AS s (day, name, value) VALUES (p_day, p_name, p_by)
        ON CONFLICT (day, name) DO UPDATE SET value = s.value + p_by;
END
$fn$;
"""

DROP = "DROP FUNCTION IF EXISTS subscriptions_bump_stat_without_flush(date, varchar, integer);"


class Migration(migrations.Migration):
    dependencies = [("subscriptions", "0004_meter_function")]

    operations = [sql_on_postgresql(CREATE, DROP)]
