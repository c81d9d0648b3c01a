CREATE TABLE "events" (
	"position" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "events_position_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"stream_id" text NOT NULL,
	"version" integer NOT NULL,
	"type" text NOT NULL,
	"payload" jsonb NOT NULL,
	"metadata" jsonb NOT NULL,
	"idempotency_key" text,
	"recorded_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "events_version_positive" CHECK ("events"."version" >= 1)
);
--> statement-breakpoint
CREATE TABLE "fault_injections" (
	"task" text PRIMARY KEY NOT NULL,
	"failure_rate" real DEFAULT 0 NOT NULL,
	"transient_rate" real DEFAULT 0 NOT NULL,
	"latency_ms" integer DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "faults_failure_rate_range" CHECK ("fault_injections"."failure_rate" between 0 and 1),
	CONSTRAINT "faults_transient_rate_range" CHECK ("fault_injections"."transient_rate" between 0 and 1),
	CONSTRAINT "faults_rates_sum" CHECK ("fault_injections"."failure_rate" + "fault_injections"."transient_rate" <= 1),
	CONSTRAINT "faults_latency_range" CHECK ("fault_injections"."latency_ms" between 0 and 60000)
);
--> statement-breakpoint
CREATE TABLE "inventory_items" (
	"sku" text PRIMARY KEY NOT NULL,
	"on_hand" integer NOT NULL,
	"reserved" integer DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "inventory_on_hand_nonnegative" CHECK ("inventory_items"."on_hand" >= 0),
	CONSTRAINT "inventory_reserved_nonnegative" CHECK ("inventory_items"."reserved" >= 0),
	CONSTRAINT "inventory_reserved_within_on_hand" CHECK ("inventory_items"."reserved" <= "inventory_items"."on_hand")
);
--> statement-breakpoint
CREATE TABLE "inventory_reservations" (
	"saga_id" uuid NOT NULL,
	"sku" text NOT NULL,
	"quantity" integer NOT NULL,
	"status" text NOT NULL,
	"reserved_at" timestamp with time zone NOT NULL,
	"released_at" timestamp with time zone,
	CONSTRAINT "inventory_reservations_saga_id_sku_pk" PRIMARY KEY("saga_id","sku"),
	CONSTRAINT "reservations_quantity_positive" CHECK ("inventory_reservations"."quantity" > 0),
	CONSTRAINT "reservations_status_valid" CHECK ("inventory_reservations"."status" in ('active', 'released'))
);
--> statement-breakpoint
CREATE TABLE "medications" (
	"sku" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"requires_prescription" boolean NOT NULL,
	"max_quantity_per_order" integer NOT NULL,
	CONSTRAINT "medications_max_quantity_positive" CHECK ("medications"."max_quantity_per_order" > 0)
);
--> statement-breakpoint
CREATE TABLE "order_fulfillment_sagas" (
	"saga_id" uuid PRIMARY KEY NOT NULL,
	"order_id" text NOT NULL,
	"patient_id" text NOT NULL,
	"state" text NOT NULL,
	"current_task" text,
	"completed_steps" text[] NOT NULL,
	"compensations_done" text[] NOT NULL,
	"failed_step" text,
	"failure_reason" text,
	"needs_intervention" boolean DEFAULT false NOT NULL,
	"intervention_reason" text,
	"intervention_since" timestamp with time zone,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"started_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	"completed_at" timestamp with time zone,
	"version" integer NOT NULL,
	"order_version" integer NOT NULL,
	"last_position" bigint NOT NULL,
	CONSTRAINT "sagas_state_valid" CHECK (state in ('PENDING_PRESCRIPTION', 'PENDING_INVENTORY_RESERVATION', 'PENDING_SHIPMENT', 'COMPLETED', 'CANCELLED_PRESCRIPTION_FAILED', 'CANCELLED_INVENTORY_FAILED', 'CANCELLED_SHIPMENT_FAILED', 'CANCELLED')),
	CONSTRAINT "sagas_attempts_nonnegative" CHECK ("order_fulfillment_sagas"."attempts" >= 0)
);
--> statement-breakpoint
CREATE TABLE "orders" (
	"order_id" text PRIMARY KEY NOT NULL,
	"saga_id" uuid NOT NULL,
	"patient_id" text NOT NULL,
	"prescriber_id" text,
	"medications" jsonb NOT NULL,
	"shipping_address" jsonb NOT NULL,
	"status" text NOT NULL,
	"idempotency_key" text,
	"request_hash" text,
	"created_at" timestamp with time zone NOT NULL,
	"cancelled_at" timestamp with time zone,
	CONSTRAINT "orders_status_valid" CHECK ("orders"."status" in ('created', 'cancelled'))
);
--> statement-breakpoint
CREATE TABLE "prescriptions" (
	"prescription_id" text PRIMARY KEY NOT NULL,
	"order_id" text NOT NULL,
	"saga_id" uuid NOT NULL,
	"prescriber_id" text,
	"status" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"cancelled_at" timestamp with time zone,
	CONSTRAINT "prescriptions_status_valid" CHECK ("prescriptions"."status" in ('active', 'cancelled'))
);
--> statement-breakpoint
CREATE TABLE "shipments" (
	"shipment_id" text PRIMARY KEY NOT NULL,
	"order_id" text NOT NULL,
	"saga_id" uuid NOT NULL,
	"carrier_reference" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "worker_heartbeats" (
	"pool_id" text PRIMARY KEY NOT NULL,
	"worker_ids" text[] NOT NULL,
	"hostname" text NOT NULL,
	"pid" integer NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_seen_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "inventory_items" ADD CONSTRAINT "inventory_items_sku_medications_sku_fk" FOREIGN KEY ("sku") REFERENCES "public"."medications"("sku") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "inventory_reservations" ADD CONSTRAINT "inventory_reservations_sku_inventory_items_sku_fk" FOREIGN KEY ("sku") REFERENCES "public"."inventory_items"("sku") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "events_stream_version_key" ON "events" USING btree ("stream_id","version");--> statement-breakpoint
CREATE UNIQUE INDEX "events_idempotency_key" ON "events" USING btree ("idempotency_key");--> statement-breakpoint
CREATE INDEX "reservations_active_sku_idx" ON "inventory_reservations" USING btree ("sku") WHERE "inventory_reservations"."status" = 'active';--> statement-breakpoint
CREATE UNIQUE INDEX "sagas_order_id_key" ON "order_fulfillment_sagas" USING btree ("order_id");--> statement-breakpoint
CREATE INDEX "sagas_started_at_idx" ON "order_fulfillment_sagas" USING btree ("started_at" DESC NULLS LAST,"saga_id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "sagas_state_started_at_idx" ON "order_fulfillment_sagas" USING btree ("state","started_at" DESC NULLS LAST,"saga_id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "sagas_patient_id_idx" ON "order_fulfillment_sagas" USING btree ("patient_id");--> statement-breakpoint
CREATE INDEX "sagas_needs_intervention_idx" ON "order_fulfillment_sagas" USING btree ("intervention_since") WHERE "order_fulfillment_sagas"."needs_intervention";--> statement-breakpoint
CREATE INDEX "sagas_in_flight_updated_at_idx" ON "order_fulfillment_sagas" USING btree ("updated_at") WHERE "order_fulfillment_sagas"."state" not in ('COMPLETED', 'CANCELLED');--> statement-breakpoint
CREATE UNIQUE INDEX "orders_saga_id_key" ON "orders" USING btree ("saga_id");--> statement-breakpoint
CREATE UNIQUE INDEX "orders_idempotency_key" ON "orders" USING btree ("idempotency_key");--> statement-breakpoint
CREATE UNIQUE INDEX "prescriptions_order_id_key" ON "prescriptions" USING btree ("order_id");--> statement-breakpoint
CREATE UNIQUE INDEX "shipments_order_id_key" ON "shipments" USING btree ("order_id");