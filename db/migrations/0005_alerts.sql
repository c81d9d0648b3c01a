CREATE TABLE "alert_deliveries" (
	"delivery_id" uuid PRIMARY KEY NOT NULL,
	"alert_id" uuid,
	"change" text NOT NULL,
	"url" text NOT NULL,
	"body" text NOT NULL,
	"status" text NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone NOT NULL,
	"lease_until" timestamp with time zone,
	"leased_by" text,
	"last_attempt_at" timestamp with time zone,
	"last_status" integer,
	"last_error" text,
	"created_at" timestamp with time zone NOT NULL,
	"delivered_at" timestamp with time zone,
	CONSTRAINT "alert_deliveries_change_valid" CHECK (change in ('firing', 'resolved', 'test')),
	CONSTRAINT "alert_deliveries_status_valid" CHECK (status in ('pending', 'delivered')),
	CONSTRAINT "alert_deliveries_test_has_no_alert" CHECK (("alert_deliveries"."change" = 'test') = ("alert_deliveries"."alert_id" is null))
);
--> statement-breakpoint
CREATE TABLE "alert_evaluator" (
	"id" smallint PRIMARY KEY NOT NULL,
	"last_evaluated_at" timestamp with time zone,
	"evaluated_by" text,
	"evaluations" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "alert_evaluator_single_row" CHECK ("alert_evaluator"."id" = 1)
);
--> statement-breakpoint
CREATE TABLE "alerts" (
	"alert_id" uuid PRIMARY KEY NOT NULL,
	"rule" text NOT NULL,
	"severity" text NOT NULL,
	"summary" text NOT NULL,
	"status" text NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"resolved_at" timestamp with time zone,
	CONSTRAINT "alerts_status_valid" CHECK (status in ('firing', 'resolved')),
	CONSTRAINT "alerts_resolved_at_iff_resolved" CHECK (("alerts"."status" = 'resolved') = ("alerts"."resolved_at" is not null))
);
--> statement-breakpoint
ALTER TABLE "alert_deliveries" ADD CONSTRAINT "alert_deliveries_alert_id_alerts_alert_id_fk" FOREIGN KEY ("alert_id") REFERENCES "public"."alerts"("alert_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "alert_deliveries_change_url_key" ON "alert_deliveries" USING btree ("alert_id","change","url");--> statement-breakpoint
CREATE INDEX "alert_deliveries_due_idx" ON "alert_deliveries" USING btree ("next_attempt_at") WHERE "alert_deliveries"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "alert_deliveries_created_at_idx" ON "alert_deliveries" USING btree ("created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE UNIQUE INDEX "alerts_one_firing_per_rule" ON "alerts" USING btree ("rule") WHERE "alerts"."status" = 'firing';--> statement-breakpoint
CREATE INDEX "alerts_started_at_idx" ON "alerts" USING btree ("started_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "sagas_completed_at_idx" ON "order_fulfillment_sagas" USING btree ("completed_at") WHERE "order_fulfillment_sagas"."completed_at" is not null;--> statement-breakpoint
-- ---- hand-written (keep below the generated statements) ----
-- The evaluator's single row (db/alerts.ts claims an evaluation by updating it).
INSERT INTO "alert_evaluator" ("id") VALUES (1) ON CONFLICT DO NOTHING;
