CREATE TABLE "archived_sagas" (
	"saga_id" uuid PRIMARY KEY NOT NULL,
	"order_id" text NOT NULL,
	"state" text NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"completed_at" timestamp with time zone NOT NULL,
	"compensated" boolean NOT NULL,
	"needs_intervention" boolean NOT NULL,
	"events" integer NOT NULL,
	"archive_file" text NOT NULL,
	"archived_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "archived_sagas_order_id_key" ON "archived_sagas" USING btree ("order_id");--> statement-breakpoint
CREATE INDEX "archived_sagas_archive_file_idx" ON "archived_sagas" USING btree ("archive_file");--> statement-breakpoint
CREATE INDEX "archived_sagas_started_at_idx" ON "archived_sagas" USING btree ("started_at");
--> statement-breakpoint
-- Hand-written below (drizzle-kit does not generate functions or triggers).
-- Archiving and restoring move finished sagas between the hot tables and archive files without
-- changing what they count for: they run with `SET LOCAL rxsaga.rollups = 'off'`, and the saga
-- trigger leaves the rollups alone. Replay sets it too and rebuilds once at the end.
CREATE OR REPLACE FUNCTION saga_stats_hourly_trigger() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  r order_fulfillment_sagas;
  sign integer;
BEGIN
  IF current_setting('rxsaga.rollups', true) = 'off' THEN RETURN NULL; END IF;
  FOREACH sign IN ARRAY CASE TG_OP WHEN 'INSERT' THEN ARRAY[1] WHEN 'DELETE' THEN ARRAY[-1] ELSE ARRAY[-1, 1] END LOOP
    IF sign = -1 THEN r := OLD; ELSE r := NEW; END IF;
    CONTINUE WHEN r.state NOT IN ('COMPLETED', 'CANCELLED') OR r.completed_at IS NULL;
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
CREATE OR REPLACE FUNCTION signal_event_stats_hourly_trigger() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('rxsaga.rollups', true) = 'off' THEN RETURN NULL; END IF;
  INSERT INTO signal_event_stats_hourly AS s (hour, type, task, shard, count)
  VALUES (date_bin('1 hour', NEW.recorded_at, 'epoch'), NEW.type,
    CASE WHEN NEW.type IN ('order_fulfillment_saga.attempt_failed', 'order_fulfillment_saga.intervention_required')
      THEN coalesce(NEW.payload->>'task', '') ELSE '' END,
    (NEW.position % 4)::smallint, 1)
  ON CONFLICT (hour, type, task, shard) DO UPDATE SET count = s.count + 1;
  RETURN NULL;
END
$$;
--> statement-breakpoint
-- The finished-saga rollup from scratch: hot finished sagas and archived ones alike.
CREATE FUNCTION rebuild_saga_stats_rollup() RETURNS void
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
    FROM order_fulfillment_sagas WHERE state IN ('COMPLETED', 'CANCELLED') AND completed_at IS NOT NULL
    UNION ALL
    SELECT started_at, completed_at, state, compensated, needs_intervention FROM archived_sagas
  ) f
  GROUP BY 1, 2, 3;
$$;
--> statement-breakpoint
-- Signal-event counts are rebuilt from the event table, which no longer holds archived sagas'
-- events: with an archive, a full rebuild would lose them, so it refuses.
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
  WHERE type IN ('order.prescription_failed', 'order.inventory_reservation_failed', 'order.shipment_initiation_failed', 'order.inventory_released', 'order.prescription_cancelled', 'order.cancelled', 'order_fulfillment_saga.attempt_failed', 'order_fulfillment_saga.intervention_required')
  GROUP BY 1, 2, 3, 4;
END
$$;
