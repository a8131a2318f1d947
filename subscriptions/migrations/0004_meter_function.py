"""The meter's PostgreSQL function: meter.consume() in one round trip.

Same steps as the portable path in subscriptions/meter.py — record the read,
take the reader's credit, take the per-IP credit — with the same all-or-nothing
rule: a refused credit rolls back everything the call did (the inner block is a
savepoint; RAISE undoes it, the function's variables survive). Called as one
statement, so in autocommit it is its own transaction: no BEGIN/COMMIT round
trips. Other databases (SQLite for a first local run) use the Python path.
"""

from django.db import migrations

from newsroom.db.migrations import sql_on_postgresql

CREATE = r"""
CREATE OR REPLACE FUNCTION subscriptions_meter_consume(
    p_reader varchar, p_ip varchar, p_day date, p_article bigint, p_limit integer, p_ip_limit integer,
    OUT granted boolean, OUT already_read boolean, OUT used integer, OUT by_ip_backstop boolean
) LANGUAGE plpgsql AS $fn$
BEGIN
    granted := false; already_read := false; used := 0; by_ip_backstop := false;
    BEGIN
        INSERT INTO subscriptions_meterread (reader, day, article_id) VALUES (p_reader, p_day, p_article)
            ON CONFLICT (reader, day, article_id) DO NOTHING;
        IF NOT FOUND THEN
            -- Already read today: full text, no cost.
            SELECT d.count INTO used FROM subscriptions_meterday d WHERE d.reader = p_reader AND d.day = p_day;
            granted := true; already_read := true; used := coalesce(used, 0);
            RETURN;
        END IF;
        IF p_limit <= 0 THEN
            RAISE EXCEPTION 'no free articles';
        END IF;
        INSERT INTO subscriptions_meterday AS d (reader, day, count) VALUES (p_reader, p_day, 1)
            ON CONFLICT (reader, day) DO UPDATE SET count = d.count + 1 WHERE d.count < p_limit
            RETURNING d.count INTO used;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'allowance spent';
        END IF;
        IF p_ip_limit > 0 THEN
            INSERT INTO subscriptions_meterday AS d (reader, day, count) VALUES (p_ip, p_day, 1)
                ON CONFLICT (reader, day) DO UPDATE SET count = d.count + 1 WHERE d.count < p_ip_limit;
            IF NOT FOUND THEN
                by_ip_backstop := true;
                RAISE EXCEPTION 'per-IP backstop reached';
            END IF;
        END IF;
        granted := true;
    EXCEPTION WHEN raise_exception THEN
        granted := false; used := 0;
    END;
END
$fn$;
"""

DROP = "DROP FUNCTION IF EXISTS subscriptions_meter_consume(varchar, varchar, date, bigint, integer, integer);"


class Migration(migrations.Migration):
    dependencies = [("subscriptions", "0003_subscriptions_outlive_deleted_accounts")]

    operations = [sql_on_postgresql(CREATE, DROP)]
