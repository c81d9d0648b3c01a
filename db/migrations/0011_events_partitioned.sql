-- The event store, partitioned by month of the saga's start (docs/history.md). Drizzle-kit
-- does not model partitioning, so this migration is written by hand; its snapshot records the
-- parent table's shape (db/schema.ts). An existing store is copied into the partitioned table,
-- every event keeping its position.

-- First day (UTC) of the month a saga started: the partition key of its events.
CREATE FUNCTION saga_month(started_at timestamptz) RETURNS date
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN date_trunc('month', started_at AT TIME ZONE 'UTC')::date;
--> statement-breakpoint
-- The partition holding the events of sagas started in `month` (a first day of a month).
CREATE FUNCTION event_partition_name(month date) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN 'events_' || to_char(month, 'YYYY"m"MM');
--> statement-breakpoint
-- Creates the partition of `month` unless it exists; true when it created it. Events that were
-- stored in the default partition meanwhile (no partition for their month then) move into it.
-- Serialised by a transaction advisory lock: every worker calls this at start and daily.
CREATE FUNCTION create_event_partition(month date) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
  lo date := saga_month(month::timestamp AT TIME ZONE 'UTC');
  hi date := (lo + interval '1 month')::date;
  name text := event_partition_name(lo);
BEGIN
  PERFORM pg_advisory_xact_lock(7201652011);
  IF to_regclass(format('public.%I', name)) IS NOT NULL THEN
    RETURN false;
  END IF;
  IF EXISTS (SELECT 1 FROM events_default WHERE saga_month >= lo AND saga_month < hi) THEN
    -- A partition cannot be created over rows the default partition holds: move them first.
    EXECUTE format('CREATE TABLE public.%I (LIKE events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', name);
    EXECUTE format('WITH moved AS (DELETE FROM events_default WHERE saga_month >= %L AND saga_month < %L RETURNING *)
      INSERT INTO public.%I SELECT * FROM moved', lo, hi, name);
    EXECUTE format('ALTER TABLE events ATTACH PARTITION public.%I FOR VALUES FROM (%L) TO (%L)', name, lo, hi);
  ELSE
    EXECUTE format('CREATE TABLE public.%I PARTITION OF events FOR VALUES FROM (%L) TO (%L)', name, lo, hi);
  END IF;
  RETURN true;
END
$$;
--> statement-breakpoint
-- The partitions of this month and the next `months_ahead` (the worker keeps them ahead of
-- time); returns how many it created.
CREATE FUNCTION ensure_event_partitions(months_ahead integer) RETURNS integer
LANGUAGE sql AS $$
  SELECT count(*) FILTER (WHERE create_event_partition(m::date))::int
  FROM generate_series(saga_month(now())::timestamp,
    saga_month(now())::timestamp + make_interval(months => months_ahead), interval '1 month') m;
$$;
--> statement-breakpoint
ALTER TABLE "events" RENAME TO "events_unpartitioned";
--> statement-breakpoint
ALTER SEQUENCE "events_position_seq" RENAME TO "events_unpartitioned_position_seq";
--> statement-breakpoint
ALTER TABLE "events_unpartitioned" RENAME CONSTRAINT "events_pkey" TO "events_unpartitioned_pkey";
--> statement-breakpoint
ALTER TABLE "events_unpartitioned" RENAME CONSTRAINT "events_version_positive" TO "events_unpartitioned_version_positive";
--> statement-breakpoint
DROP INDEX "events_stream_version_key";
--> statement-breakpoint
DROP INDEX "events_idempotency_key";
--> statement-breakpoint
DROP INDEX "events_signal_type_recorded_at_idx";
--> statement-breakpoint
-- Fixed-width columns first (no alignment padding), then the variable ones.
CREATE TABLE "events" (
	"position" bigint GENERATED ALWAYS AS IDENTITY (sequence name "events_position_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"saga_month" date NOT NULL,
	"version" integer NOT NULL,
	"recorded_at" timestamp with time zone DEFAULT now() NOT NULL,
	"stream_id" text NOT NULL,
	"type" text NOT NULL,
	"payload" jsonb NOT NULL,
	"metadata" jsonb NOT NULL,
	"idempotency_key" text,
	CONSTRAINT "events_pkey" PRIMARY KEY("position","saga_month"),
	CONSTRAINT "events_version_positive" CHECK ("events"."version" >= 1)
) PARTITION BY RANGE ("saga_month");
--> statement-breakpoint
CREATE UNIQUE INDEX "events_stream_version_key" ON "events" USING btree ("stream_id","version","saga_month");
--> statement-breakpoint
CREATE UNIQUE INDEX "events_idempotency_key" ON "events" USING btree ("idempotency_key","saga_month");
--> statement-breakpoint
CREATE INDEX "events_signal_type_recorded_at_idx" ON "events" USING btree ("type","recorded_at") WHERE event_type_is_signal("events"."type");
--> statement-breakpoint
-- Whatever has no partition of its own (a clock far off, a month not created yet) lands here:
-- an append never fails for want of a partition.
CREATE TABLE "events_default" PARTITION OF "events" DEFAULT;
--> statement-breakpoint
-- One partition per month the stored sagas started in, and this month and the next three.
SELECT create_event_partition(m) FROM (
  SELECT DISTINCT saga_month(started_at) AS m FROM order_fulfillment_sagas
  UNION SELECT saga_month(recorded_at) FROM events_unpartitioned e
  WHERE NOT EXISTS (SELECT 1 FROM order_fulfillment_sagas s WHERE s.saga_id::text = e.metadata->>'correlationId')
) months;
--> statement-breakpoint
SELECT ensure_event_partitions(3);
--> statement-breakpoint
-- Each event takes its saga's start month (metadata.correlationId is the saga id). An event
-- whose saga row is gone (none should be) takes its own month: no saga reads it.
INSERT INTO events ("position", "saga_month", "version", "recorded_at", "stream_id", "type", "payload", "metadata", "idempotency_key")
OVERRIDING SYSTEM VALUE
SELECT e."position", saga_month(coalesce(s.started_at, e.recorded_at)), e."version", e."recorded_at", e."stream_id", e."type", e."payload", e."metadata", e."idempotency_key"
FROM events_unpartitioned e
LEFT JOIN order_fulfillment_sagas s ON s.saga_id::text = e.metadata->>'correlationId'
ORDER BY e."position";
--> statement-breakpoint
-- Positions go on from where the old store's sequence stood (a fresh store starts at 1).
SELECT setval('events_position_seq', n) FROM (
  SELECT greatest((SELECT max("position") FROM events), (SELECT last_value FROM events_unpartitioned_position_seq WHERE is_called)) AS n
) last WHERE n IS NOT NULL;
--> statement-breakpoint
DROP TABLE "events_unpartitioned";
--> statement-breakpoint
CREATE TRIGGER events_signal_stats AFTER INSERT ON events FOR EACH ROW
  WHEN (event_type_is_signal(NEW.type)) EXECUTE FUNCTION signal_event_stats_hourly_trigger();
