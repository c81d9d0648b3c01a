CREATE TABLE "paused_sagas" (
	"saga_id" uuid PRIMARY KEY NOT NULL,
	"task" text NOT NULL,
	"paused_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "task_pauses" (
	"task" text PRIMARY KEY NOT NULL,
	"reason" text NOT NULL,
	"paused_by" text NOT NULL,
	"paused_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "paused_sagas_task_paused_at_idx" ON "paused_sagas" USING btree ("task","paused_at","saga_id");