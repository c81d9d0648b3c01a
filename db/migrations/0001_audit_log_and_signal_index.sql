CREATE TABLE "audit_log" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "audit_log_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"actor" text NOT NULL,
	"role" text NOT NULL,
	"action" text NOT NULL,
	"target" text,
	"reason" text,
	"before" jsonb,
	"after" jsonb,
	"request_id" text,
	CONSTRAINT "audit_log_role_valid" CHECK (role in ('operator', 'viewer', 'anonymous'))
);
--> statement-breakpoint
CREATE INDEX "audit_log_action_id_idx" ON "audit_log" USING btree ("action","id");--> statement-breakpoint
CREATE INDEX "audit_log_target_id_idx" ON "audit_log" USING btree ("target","id");--> statement-breakpoint
CREATE INDEX "events_signal_type_recorded_at_idx" ON "events" USING btree ("type","recorded_at") WHERE type in ('order.prescription_failed', 'order.inventory_reservation_failed', 'order.shipment_initiation_failed', 'order.inventory_released', 'order.prescription_cancelled', 'order.cancelled', 'order_fulfillment_saga.attempt_failed', 'order_fulfillment_saga.intervention_required');