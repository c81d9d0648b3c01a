CREATE TABLE "metric_counter_deltas" (
	"name" text NOT NULL,
	"value" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "metric_counters" (
	"name" text PRIMARY KEY NOT NULL,
	"value" bigint NOT NULL
);
--> statement-breakpoint
DROP INDEX "sagas_in_flight_updated_at_idx";--> statement-breakpoint
CREATE INDEX "sagas_in_flight_updated_at_idx" ON "order_fulfillment_sagas" USING btree ("updated_at","state","started_at","needs_intervention") WHERE not saga_state_is_terminal("order_fulfillment_sagas"."state");
--> statement-breakpoint
-- Hand-written below (drizzle-kit does not generate functions or triggers). The all-time figures
-- of /api/metrics as counters (db/schema.ts metricCounters): a scrape reads a few dozen rows,
-- not every saga and signal event, and archiving, which deletes hot rows under
-- `rxsaga.rollups = 'off'`, changes none of them.
-- Which bucket of the Prometheus duration histogram `seconds` falls in: the index of the first
-- of DURATION_BUCKETS (db/queries/metrics.ts) that is ≥ seconds, their count when none is.
-- db/sql-definitions.int.test.ts checks it against the constant.
CREATE FUNCTION saga_metrics_duration_bucket(seconds float8) RETURNS smallint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT count(*)::smallint FROM unnest('{0.5,1,2,5,10,30,60,120,300,600,1800,3600}'::float8[]) le
  WHERE le < seconds
$$;
--> statement-breakpoint
-- What one saga row counts for, times `sign` (1: in, -1: out): the definitions of the old
-- scrape query over the saga table (started: every saga; completed / cancelled by state; the
-- histogram over sagas with a completion time).
CREATE FUNCTION saga_metric_deltas(saga_state text, saga_started_at timestamptz,
  saga_completed_at timestamptz, sign integer) RETURNS TABLE (name text, value bigint)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT 'sagas_started', sign::bigint
  UNION ALL SELECT 'sagas_completed', sign WHERE saga_state = 'COMPLETED'
  UNION ALL SELECT 'sagas_cancelled', sign WHERE saga_state = 'CANCELLED'
  UNION ALL SELECT 'duration_bucket:' || saga_metrics_duration_bucket(
      extract(epoch FROM saga_completed_at - saga_started_at)::float8), sign
    WHERE saga_completed_at IS NOT NULL
  UNION ALL SELECT 'duration_micros',
      sign * round(extract(epoch FROM saga_completed_at - saga_started_at) * 1000000)::bigint
    WHERE saga_completed_at IS NOT NULL
$$;
--> statement-breakpoint
-- The counter of a signal event: by type, and the task a retry or an escalation names.
CREATE FUNCTION signal_metric_name(type text, payload jsonb) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT 'signal:' || type || ':' || CASE WHEN type IN ('order_fulfillment_saga.attempt_failed',
    'order_fulfillment_saga.intervention_required') THEN coalesce(payload->>'task', '') ELSE '' END
$$;
--> statement-breakpoint
-- A row's old contribution out, its new one in, as appended deltas: no row lock that another
-- writer waits for (an upsert of one counter row would serialise every saga's transaction).
CREATE FUNCTION metric_counters_saga_trigger() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('rxsaga.rollups', true) = 'off' THEN RETURN NULL; END IF;
  INSERT INTO metric_counter_deltas (name, value)
  SELECT d.name, sum(d.value) FROM (
    SELECT * FROM saga_metric_deltas(OLD.state, OLD.started_at, OLD.completed_at, -1) WHERE TG_OP <> 'INSERT'
    UNION ALL
    SELECT * FROM saga_metric_deltas(NEW.state, NEW.started_at, NEW.completed_at, 1) WHERE TG_OP <> 'DELETE'
  ) d
  GROUP BY d.name HAVING sum(d.value) <> 0;
  RETURN NULL;
END
$$;
--> statement-breakpoint
-- Archive and restore move thousands of rows a batch with the counters off: the WHEN clauses
-- skip the call altogether then (the function checks again for the other writers).
CREATE TRIGGER sagas_metric_counters_insert AFTER INSERT ON order_fulfillment_sagas FOR EACH ROW
  WHEN (current_setting('rxsaga.rollups', true) IS DISTINCT FROM 'off')
  EXECUTE FUNCTION metric_counters_saga_trigger();
--> statement-breakpoint
-- A step of an in-flight saga changes nothing counted: only a change of state, start or
-- completion time of a saga that is or was finished fires it.
CREATE TRIGGER sagas_metric_counters_update AFTER UPDATE ON order_fulfillment_sagas FOR EACH ROW
  WHEN ((OLD.state, OLD.started_at, OLD.completed_at) IS DISTINCT FROM (NEW.state, NEW.started_at, NEW.completed_at)
    AND (saga_state_is_terminal(OLD.state) OR saga_state_is_terminal(NEW.state)
      OR OLD.completed_at IS NOT NULL OR NEW.completed_at IS NOT NULL))
  EXECUTE FUNCTION metric_counters_saga_trigger();
--> statement-breakpoint
CREATE TRIGGER sagas_metric_counters_delete AFTER DELETE ON order_fulfillment_sagas FOR EACH ROW
  WHEN (current_setting('rxsaga.rollups', true) IS DISTINCT FROM 'off')
  EXECUTE FUNCTION metric_counters_saga_trigger();
--> statement-breakpoint
CREATE FUNCTION metric_counters_signal_trigger() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('rxsaga.rollups', true) = 'off' THEN RETURN NULL; END IF;
  INSERT INTO metric_counter_deltas (name, value) VALUES (signal_metric_name(NEW.type, NEW.payload), 1);
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER events_signal_metric_counters AFTER INSERT ON events FOR EACH ROW
  WHEN (event_type_is_signal(NEW.type) AND current_setting('rxsaga.rollups', true) IS DISTINCT FROM 'off')
  EXECUTE FUNCTION metric_counters_signal_trigger();
--> statement-breakpoint
-- Folds the deltas into the counters; returns how many it folded (0 when another compaction
-- holds the lock). One statement: a scrape sees the deltas or the counters they became, never
-- both or neither.
CREATE FUNCTION compact_metric_counters() RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  n integer;
BEGIN
  IF NOT pg_try_advisory_xact_lock(7201652013) THEN RETURN 0; END IF;
  WITH moved AS (DELETE FROM metric_counter_deltas RETURNING name, value),
  folded AS (
    INSERT INTO metric_counters AS c (name, value)
    SELECT name, sum(value) FROM moved GROUP BY name ORDER BY name
    ON CONFLICT (name) DO UPDATE SET value = c.value + excluded.value)
  SELECT count(*)::int INTO n FROM moved;
  RETURN n;
END
$$;
--> statement-breakpoint
-- From scratch: hot and archived sagas, and the signal-event rollup (which keeps archived
-- sagas' events: the event table no longer holds them).
CREATE FUNCTION rebuild_metric_counters() RETURNS void
LANGUAGE sql AS $$
  TRUNCATE metric_counters, metric_counter_deltas;
  INSERT INTO metric_counters (name, value)
  SELECT d.name, sum(d.value) FROM (
    SELECT state, started_at, completed_at FROM order_fulfillment_sagas
    UNION ALL SELECT state, started_at, completed_at FROM archived_sagas
  ) s, saga_metric_deltas(s.state, s.started_at, s.completed_at, 1) d
  GROUP BY 1
  UNION ALL
  SELECT 'signal:' || type || ':' || task, sum(count) FROM signal_event_stats_hourly GROUP BY 1;
$$;
--> statement-breakpoint
-- The rebuilds as 0008_sql_definitions left them, now with the counters (replay calls the first,
-- the bench loader the second).
CREATE OR REPLACE FUNCTION rebuild_saga_stats_rollup() RETURNS void
LANGUAGE sql AS $$
  TRUNCATE saga_stats_hourly;
  INSERT INTO saga_stats_hourly (started_hour, finished_hour, duration_bucket, completed, cancelled,
    compensated, needs_intervention, duration_micros_sum)
  SELECT date_bin('1 hour', started_at, 'epoch'), date_bin('1 hour', completed_at, 'epoch'),
    saga_duration_bucket(extract(epoch FROM completed_at - started_at)::float8),
    count(*) FILTER (WHERE state = 'COMPLETED'), count(*) FILTER (WHERE state = 'CANCELLED'),
    count(*) FILTER (WHERE compensated), count(*) FILTER (WHERE needs_intervention),
    sum(round(extract(epoch FROM completed_at - started_at) * 1000000)::bigint)
  FROM (
    SELECT started_at, completed_at, state, cardinality(compensations_done) > 0 AS compensated, needs_intervention
    FROM order_fulfillment_sagas WHERE saga_state_is_terminal(state) AND completed_at IS NOT NULL
    UNION ALL
    SELECT started_at, completed_at, state, compensated, needs_intervention FROM archived_sagas
  ) f
  GROUP BY 1, 2, 3;
  SELECT rebuild_metric_counters();
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION rebuild_stats_rollups() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM archived_sagas) THEN
    RAISE EXCEPTION 'rebuild_stats_rollups(): archived sagas exist, whose signal events are no longer in the event table; use rebuild_saga_stats_rollup()';
  END IF;
  TRUNCATE signal_event_stats_hourly;
  INSERT INTO signal_event_stats_hourly (hour, type, task, shard, count)
  SELECT date_bin('1 hour', recorded_at, 'epoch'), type,
    CASE WHEN type IN ('order_fulfillment_saga.attempt_failed', 'order_fulfillment_saga.intervention_required')
      THEN coalesce(payload->>'task', '') ELSE '' END,
    (position % 4)::smallint, count(*)
  FROM events
  WHERE event_type_is_signal(type)
  GROUP BY 1, 2, 3, 4;
  -- Last: the counters read the signal rollup just rebuilt.
  PERFORM rebuild_saga_stats_rollup();
END
$$;
--> statement-breakpoint
SELECT rebuild_metric_counters();
