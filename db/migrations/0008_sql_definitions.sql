-- Hand-written (drizzle-kit --custom). What SQL knows of two TypeScript definitions, each said
-- once: the terminal saga states (TERMINAL_STATES, lib/saga/model.ts) and the signal event types
-- (SIGNAL_EVENT_TYPES, db/schema.ts). Queries, triggers, the rollup rebuild and the partial
-- indexes all call these; db/sql-definitions.int.test.ts checks them against the constants.
-- IMMUTABLE single-expression SQL functions are inlined by the planner, so a query's
-- `not saga_state_is_terminal(state)` still matches an index predicate written the same way.
CREATE FUNCTION saga_state_is_terminal(state text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT state IN ('COMPLETED', 'CANCELLED')
$$;
--> statement-breakpoint
CREATE FUNCTION event_type_is_signal(type text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT type IN ('order.prescription_failed', 'order.inventory_reservation_failed',
    'order.shipment_initiation_failed', 'order.inventory_released', 'order.prescription_cancelled',
    'order.cancelled', 'order_fulfillment_saga.attempt_failed',
    'order_fulfillment_saga.intervention_required')
$$;
--> statement-breakpoint
-- The rollup trigger and rebuilds as 0007_archived_sagas left them, now through the two definitions.
CREATE OR REPLACE FUNCTION saga_stats_hourly_trigger() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  r order_fulfillment_sagas;
  sign integer;
BEGIN
  IF current_setting('rxsaga.rollups', true) = 'off' THEN RETURN NULL; END IF;
  FOREACH sign IN ARRAY CASE TG_OP WHEN 'INSERT' THEN ARRAY[1] WHEN 'DELETE' THEN ARRAY[-1] ELSE ARRAY[-1, 1] END LOOP
    IF sign = -1 THEN r := OLD; ELSE r := NEW; END IF;
    CONTINUE WHEN NOT saga_state_is_terminal(r.state) OR r.completed_at IS NULL;
    INSERT INTO saga_stats_hourly AS s (started_hour, finished_hour, duration_bucket, completed, cancelled,
      compensated, needs_intervention, duration_micros_sum)
    VALUES (date_bin('1 hour', r.started_at, 'epoch'), date_bin('1 hour', r.completed_at, 'epoch'),
      saga_duration_bucket(extract(epoch FROM r.completed_at - r.started_at)::float8),
      sign * (r.state = 'COMPLETED')::int, sign * (r.state = 'CANCELLED')::int,
      sign * (cardinality(r.compensations_done) > 0)::int, sign * r.needs_intervention::int,
      sign * round(extract(epoch FROM r.completed_at - r.started_at) * 1000000)::bigint)
    ON CONFLICT (started_hour, finished_hour, duration_bucket) DO UPDATE SET
      completed = s.completed + excluded.completed,
      cancelled = s.cancelled + excluded.cancelled,
      compensated = s.compensated + excluded.compensated,
      needs_intervention = s.needs_intervention + excluded.needs_intervention,
      duration_micros_sum = s.duration_micros_sum + excluded.duration_micros_sum;
  END LOOP;
  RETURN NULL;
END
$$;
--> statement-breakpoint
DROP TRIGGER sagas_stats_insert ON order_fulfillment_sagas;
--> statement-breakpoint
DROP TRIGGER sagas_stats_update ON order_fulfillment_sagas;
--> statement-breakpoint
DROP TRIGGER sagas_stats_delete ON order_fulfillment_sagas;
--> statement-breakpoint
DROP TRIGGER events_signal_stats ON events;
--> statement-breakpoint
CREATE TRIGGER sagas_stats_insert AFTER INSERT ON order_fulfillment_sagas FOR EACH ROW
  WHEN (saga_state_is_terminal(NEW.state)) EXECUTE FUNCTION saga_stats_hourly_trigger();
--> statement-breakpoint
CREATE TRIGGER sagas_stats_update AFTER UPDATE ON order_fulfillment_sagas FOR EACH ROW
  WHEN ((saga_state_is_terminal(OLD.state) OR saga_state_is_terminal(NEW.state))
    AND (OLD.state, OLD.started_at, OLD.completed_at, cardinality(OLD.compensations_done) > 0, OLD.needs_intervention)
      IS DISTINCT FROM (NEW.state, NEW.started_at, NEW.completed_at, cardinality(NEW.compensations_done) > 0, NEW.needs_intervention))
  EXECUTE FUNCTION saga_stats_hourly_trigger();
--> statement-breakpoint
CREATE TRIGGER sagas_stats_delete AFTER DELETE ON order_fulfillment_sagas FOR EACH ROW
  WHEN (saga_state_is_terminal(OLD.state)) EXECUTE FUNCTION saga_stats_hourly_trigger();
--> statement-breakpoint
CREATE TRIGGER events_signal_stats AFTER INSERT ON events FOR EACH ROW
  WHEN (event_type_is_signal(NEW.type)) EXECUTE FUNCTION signal_event_stats_hourly_trigger();
--> statement-breakpoint
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
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION rebuild_stats_rollups() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM archived_sagas) THEN
    RAISE EXCEPTION 'rebuild_stats_rollups(): archived sagas exist, whose signal events are no longer in the event table; use rebuild_saga_stats_rollup()';
  END IF;
  PERFORM rebuild_saga_stats_rollup();
  TRUNCATE signal_event_stats_hourly;
  INSERT INTO signal_event_stats_hourly (hour, type, task, shard, count)
  SELECT date_bin('1 hour', recorded_at, 'epoch'), type,
    CASE WHEN type IN ('order_fulfillment_saga.attempt_failed', 'order_fulfillment_saga.intervention_required')
      THEN coalesce(payload->>'task', '') ELSE '' END,
    (position % 4)::smallint, count(*)
  FROM events
  WHERE event_type_is_signal(type)
  GROUP BY 1, 2, 3, 4;
END
$$;
