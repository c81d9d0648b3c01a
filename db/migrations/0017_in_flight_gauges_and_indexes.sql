-- Generated (the two in-flight indexes), then hand-written. The gauges a scrape and the alert
-- evaluator read — sagas waiting for a human, of them the stalled ones, sagas in flight — as
-- metric counters kept by the saga trigger, like the all-time counters of 0013: counting them
-- through their partial indexes cost a heap visit per flagged saga (≈ 1 s cold, 0.3 s warm at
-- 60,000 flagged sagas in a 3 M history), so the scrape grew with the sagas left waiting. In
-- flight needs no counter of its own: it is sagas_started − sagas_completed − sagas_cancelled
-- (archive and restore move finished sagas only, and leave every counter alone).
-- Writers wait for this migration to commit, so no flag changes between the trigger's
-- replacement and the initial count below.
LOCK TABLE order_fulfillment_sagas IN SHARE ROW EXCLUSIVE MODE;
--> statement-breakpoint
-- The in-flight index by last progress keeps only what the stall detector and the oldest-in-flight
-- age read; the stats' in-flight counts get their own, by start, so a window reads the in-flight
-- sagas that started in it, not every saga still waiting for a human (db/schema.ts).
DROP INDEX "sagas_in_flight_updated_at_idx";--> statement-breakpoint
CREATE INDEX "sagas_in_flight_started_at_idx" ON "order_fulfillment_sagas" USING btree ("started_at","state","needs_intervention") WHERE not saga_state_is_terminal("order_fulfillment_sagas"."state");--> statement-breakpoint
CREATE INDEX "sagas_in_flight_updated_at_idx" ON "order_fulfillment_sagas" USING btree ("updated_at","needs_intervention") WHERE not saga_state_is_terminal("order_fulfillment_sagas"."state");
--> statement-breakpoint
-- What a saga's intervention flag counts for, times `sign`; a stalled saga is one the stall
-- detector flagged (jobs/sweeper.ts flagStalledSagas: its reason starts with "stalled:").
CREATE FUNCTION saga_gauge_deltas(needs_intervention boolean, intervention_reason text,
  sign integer) RETURNS TABLE (name text, value bigint)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT 'sagas_needing_intervention', sign::bigint WHERE needs_intervention
  UNION ALL SELECT 'sagas_stalled', sign
    WHERE needs_intervention AND intervention_reason LIKE 'stalled:%'
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION metric_counters_saga_trigger() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('rxsaga.rollups', true) = 'off' THEN RETURN NULL; END IF;
  IF TG_OP = 'INSERT' AND NEW.completed_at IS NULL AND NOT saga_state_is_terminal(NEW.state)
    AND NOT NEW.needs_intervention THEN
    INSERT INTO metric_counter_deltas (name, value) VALUES ('sagas_started', 1);
    RETURN NULL;
  END IF;
  INSERT INTO metric_counter_deltas (name, value)
  SELECT d.name, sum(d.value) FROM (
    SELECT * FROM saga_metric_deltas(OLD.state, OLD.started_at, OLD.completed_at, -1) WHERE TG_OP <> 'INSERT'
    UNION ALL
    SELECT * FROM saga_gauge_deltas(OLD.needs_intervention, OLD.intervention_reason, -1) WHERE TG_OP <> 'INSERT'
    UNION ALL
    SELECT * FROM saga_metric_deltas(NEW.state, NEW.started_at, NEW.completed_at, 1) WHERE TG_OP <> 'DELETE'
    UNION ALL
    SELECT * FROM saga_gauge_deltas(NEW.needs_intervention, NEW.intervention_reason, 1) WHERE TG_OP <> 'DELETE'
  ) d
  GROUP BY d.name HAVING sum(d.value) <> 0;
  RETURN NULL;
END
$$;
--> statement-breakpoint
DROP TRIGGER sagas_metric_counters_update ON order_fulfillment_sagas;
--> statement-breakpoint
-- As in 0013, plus a change of the intervention flag (or of its being a stall), which a step of
-- an in-flight saga rarely makes: an ordinary step still fires nothing.
CREATE TRIGGER sagas_metric_counters_update AFTER UPDATE ON order_fulfillment_sagas FOR EACH ROW
  WHEN (((OLD.state, OLD.started_at, OLD.completed_at) IS DISTINCT FROM (NEW.state, NEW.started_at, NEW.completed_at)
      AND (saga_state_is_terminal(OLD.state) OR saga_state_is_terminal(NEW.state)
        OR OLD.completed_at IS NOT NULL OR NEW.completed_at IS NOT NULL))
    OR (OLD.needs_intervention, coalesce(OLD.intervention_reason LIKE 'stalled:%', false))
      IS DISTINCT FROM (NEW.needs_intervention, coalesce(NEW.intervention_reason LIKE 'stalled:%', false)))
  EXECUTE FUNCTION metric_counters_saga_trigger();
--> statement-breakpoint
-- From scratch, as in 0013, plus the gauges (flagged sagas are in flight, so never archived).
CREATE OR REPLACE FUNCTION rebuild_metric_counters() RETURNS void
LANGUAGE sql AS $$
  TRUNCATE metric_counters, metric_counter_deltas;
  INSERT INTO metric_counters (name, value)
  SELECT d.name, sum(d.value) FROM (
    SELECT state, started_at, completed_at FROM order_fulfillment_sagas
    UNION ALL SELECT state, started_at, completed_at FROM archived_sagas
  ) s, saga_metric_deltas(s.state, s.started_at, s.completed_at, 1) d
  GROUP BY 1
  UNION ALL
  SELECT g.name, sum(g.value) FROM order_fulfillment_sagas s,
    saga_gauge_deltas(s.needs_intervention, s.intervention_reason, 1) g
  WHERE s.needs_intervention
  GROUP BY 1
  UNION ALL
  SELECT 'signal:' || type || ':' || task, sum(count) FROM signal_event_stats_hourly GROUP BY 1;
$$;
--> statement-breakpoint
INSERT INTO metric_counter_deltas (name, value)
SELECT g.name, sum(g.value) FROM order_fulfillment_sagas s,
  saga_gauge_deltas(s.needs_intervention, s.intervention_reason, 1) g
WHERE s.needs_intervention
GROUP BY 1;
