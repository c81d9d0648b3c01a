CREATE TABLE "saga_stats_hourly" (
	"started_hour" timestamp with time zone NOT NULL,
	"finished_hour" timestamp with time zone NOT NULL,
	"duration_bucket" smallint NOT NULL,
	"completed" integer DEFAULT 0 NOT NULL,
	"cancelled" integer DEFAULT 0 NOT NULL,
	"compensated" integer DEFAULT 0 NOT NULL,
	"needs_intervention" integer DEFAULT 0 NOT NULL,
	"duration_micros_sum" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "saga_stats_hourly_started_hour_finished_hour_duration_bucket_pk" PRIMARY KEY("started_hour","finished_hour","duration_bucket")
);
--> statement-breakpoint
CREATE TABLE "signal_event_stats_hourly" (
	"hour" timestamp with time zone NOT NULL,
	"type" text NOT NULL,
	"task" text NOT NULL,
	"shard" smallint NOT NULL,
	"count" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "signal_event_stats_hourly_hour_type_task_shard_pk" PRIMARY KEY("hour","type","task","shard")
);
--> statement-breakpoint
-- Hand-written below (drizzle-kit does not generate functions or triggers): the rollups are kept
-- by triggers, in the transaction of the write they summarise, whoever writes.
-- 8 log-spaced buckets per doubling from 1 ms (bucket 0: up to 1 ms; 255: from ~43 days).
-- db/queries/stats-rollup.ts holds the same bounds.
CREATE FUNCTION saga_duration_bucket(seconds float8) RETURNS smallint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN seconds <= 0.001 THEN 0
    ELSE least(255, 1 + floor(8 * ln(seconds / 0.001) / ln(2)))::smallint END
$$;
--> statement-breakpoint
-- Takes the old row's contribution out and puts the new one's in. plpgsql caches the INSERT's plan.
CREATE FUNCTION saga_stats_hourly_trigger() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  r order_fulfillment_sagas;
  sign integer;
BEGIN
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
-- Only a saga that is or was finished counts; steps of in-flight sagas do not fire it.
CREATE TRIGGER sagas_stats_insert AFTER INSERT ON order_fulfillment_sagas FOR EACH ROW
  WHEN (NEW.state IN ('COMPLETED', 'CANCELLED')) EXECUTE FUNCTION saga_stats_hourly_trigger();
--> statement-breakpoint
CREATE TRIGGER sagas_stats_update AFTER UPDATE ON order_fulfillment_sagas FOR EACH ROW
  WHEN ((OLD.state IN ('COMPLETED', 'CANCELLED') OR NEW.state IN ('COMPLETED', 'CANCELLED'))
    AND (OLD.state, OLD.started_at, OLD.completed_at, cardinality(OLD.compensations_done) > 0, OLD.needs_intervention)
      IS DISTINCT FROM (NEW.state, NEW.started_at, NEW.completed_at, cardinality(NEW.compensations_done) > 0, NEW.needs_intervention))
  EXECUTE FUNCTION saga_stats_hourly_trigger();
--> statement-breakpoint
CREATE TRIGGER sagas_stats_delete AFTER DELETE ON order_fulfillment_sagas FOR EACH ROW
  WHEN (OLD.state IN ('COMPLETED', 'CANCELLED')) EXECUTE FUNCTION saga_stats_hourly_trigger();
--> statement-breakpoint
CREATE FUNCTION signal_event_stats_hourly_trigger() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
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
CREATE TRIGGER events_signal_stats AFTER INSERT ON events FOR EACH ROW
  WHEN (NEW.type IN ('order.prescription_failed', 'order.inventory_reservation_failed', 'order.shipment_initiation_failed', 'order.inventory_released', 'order.prescription_cancelled', 'order.cancelled', 'order_fulfillment_saga.attempt_failed', 'order_fulfillment_saga.intervention_required'))
  EXECUTE FUNCTION signal_event_stats_hourly_trigger();
--> statement-breakpoint
-- Set-based rebuilds (bulk loads with triggers off, and the backfill below).
CREATE FUNCTION rebuild_stats_rollups() RETURNS void
LANGUAGE sql AS $$
  TRUNCATE saga_stats_hourly, signal_event_stats_hourly;
  INSERT INTO saga_stats_hourly (started_hour, finished_hour, duration_bucket, completed, cancelled,
    compensated, needs_intervention, duration_micros_sum)
  SELECT date_bin('1 hour', started_at, 'epoch'), date_bin('1 hour', completed_at, 'epoch'),
    saga_duration_bucket(extract(epoch FROM completed_at - started_at)::float8),
    count(*) FILTER (WHERE state = 'COMPLETED'), count(*) FILTER (WHERE state = 'CANCELLED'),
    count(*) FILTER (WHERE cardinality(compensations_done) > 0), count(*) FILTER (WHERE needs_intervention),
    sum(round(extract(epoch FROM completed_at - started_at) * 1000000)::bigint)
  FROM order_fulfillment_sagas WHERE state IN ('COMPLETED', 'CANCELLED') AND completed_at IS NOT NULL
  GROUP BY 1, 2, 3;
  INSERT INTO signal_event_stats_hourly (hour, type, task, shard, count)
  SELECT date_bin('1 hour', recorded_at, 'epoch'), type,
    CASE WHEN type IN ('order_fulfillment_saga.attempt_failed', 'order_fulfillment_saga.intervention_required')
      THEN coalesce(payload->>'task', '') ELSE '' END,
    (position % 4)::smallint, count(*)
  FROM events
  WHERE type IN ('order.prescription_failed', 'order.inventory_reservation_failed', 'order.shipment_initiation_failed', 'order.inventory_released', 'order.prescription_cancelled', 'order.cancelled', 'order_fulfillment_saga.attempt_failed', 'order_fulfillment_saga.intervention_required')
  GROUP BY 1, 2, 3, 4;
$$;
--> statement-breakpoint
SELECT rebuild_stats_rollups();
