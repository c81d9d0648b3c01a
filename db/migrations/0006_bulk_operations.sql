CREATE TABLE "bulk_operation_items" (
	"operation_id" uuid NOT NULL,
	"saga_id" uuid NOT NULL,
	"position" integer NOT NULL,
	"outcome" text,
	"message" text,
	"processed_at" timestamp with time zone,
	CONSTRAINT "bulk_operation_items_operation_id_saga_id_pk" PRIMARY KEY("operation_id","saga_id"),
	CONSTRAINT "bulk_operation_items_outcome_valid" CHECK ("bulk_operation_items"."outcome" is null or outcome in ('succeeded', 'skipped', 'failed'))
);
--> statement-breakpoint
CREATE TABLE "bulk_operations" (
	"operation_id" uuid PRIMARY KEY NOT NULL,
	"action" text NOT NULL,
	"reason" text NOT NULL,
	"actor" text NOT NULL,
	"role" text NOT NULL,
	"request_id" text,
	"filter" jsonb NOT NULL,
	"status" text NOT NULL,
	"total" integer NOT NULL,
	"succeeded" integer,
	"skipped" integer,
	"failed" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	CONSTRAINT "bulk_operations_action_valid" CHECK (action in ('retry', 'cancel')),
	CONSTRAINT "bulk_operations_status_valid" CHECK (status in ('running', 'done', 'cancelled'))
);
--> statement-breakpoint
ALTER TABLE "bulk_operation_items" ADD CONSTRAINT "bulk_operation_items_operation_id_bulk_operations_operation_id_fk" FOREIGN KEY ("operation_id") REFERENCES "public"."bulk_operations"("operation_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "bulk_operation_items_pending_idx" ON "bulk_operation_items" USING btree ("operation_id","position") WHERE "bulk_operation_items"."outcome" is null;--> statement-breakpoint
CREATE INDEX "bulk_operations_created_at_idx" ON "bulk_operations" USING btree ("created_at" DESC NULLS LAST,"operation_id" DESC NULLS LAST);