CREATE TABLE "audit" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"trigger" text NOT NULL,
	"sweep_id" text,
	"job_id" text,
	"customer_id" text,
	"workspace_id" uuid,
	"action" text NOT NULL,
	"before" jsonb,
	"after" jsonb,
	"outcome" text NOT NULL,
	"attempts" integer DEFAULT 1 NOT NULL,
	"message" text,
	"destructive" boolean DEFAULT false NOT NULL
);
--> statement-breakpoint
CREATE TABLE "customer_event_marks" (
	"customer_id" text PRIMARY KEY NOT NULL,
	"last_event_at" timestamp with time zone NOT NULL,
	"last_event_id" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "customer_links" (
	"customer_id" text PRIMARY KEY NOT NULL,
	"workspace_id" uuid NOT NULL,
	"workspace_name" text NOT NULL,
	"linked_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_seen_at" timestamp with time zone,
	"delete_due_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "customers" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"status" text DEFAULT 'active' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "customers_status_check" CHECK ("customers"."status" in ('active','inactive','deleted'))
);
--> statement-breakpoint
CREATE TABLE "holds" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"sweep_id" text,
	"customer_id" text,
	"action" text NOT NULL,
	"workspace_id" uuid,
	"state" text DEFAULT 'held' NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"decided_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "orphans" (
	"workspace_id" uuid PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"status" text NOT NULL,
	"sweep_id" text NOT NULL,
	"seen_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sweep_changes" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"sweep_id" text NOT NULL,
	"customer_id" text,
	"action" text NOT NULL,
	"workspace_id" uuid,
	"from_state" text,
	"to_state" text,
	"held" boolean DEFAULT false NOT NULL,
	"queued" boolean DEFAULT false NOT NULL
);
--> statement-breakpoint
CREATE UNLOGGED TABLE "sweep_workspaces" (
	"sweep_id" text NOT NULL,
	"workspace_id" uuid NOT NULL,
	"name" text NOT NULL,
	"status" text NOT NULL,
	CONSTRAINT "sweep_workspaces_sweep_id_workspace_id_pk" PRIMARY KEY("sweep_id","workspace_id")
);
--> statement-breakpoint
CREATE TABLE "sweeps" (
	"id" text PRIMARY KEY NOT NULL,
	"trigger" text NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"listed_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"outcome" text DEFAULT 'running' NOT NULL,
	"counts" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"error" text
);
--> statement-breakpoint
CREATE TABLE "sync_state" (
	"subject" text PRIMARY KEY NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"outcome" text NOT NULL,
	"kind" text,
	"reason" text,
	"attempts" integer DEFAULT 1 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "webhook_events" (
	"source" text NOT NULL,
	"event_id" text NOT NULL,
	"type" text NOT NULL,
	"customer_id" text,
	"occurred_at" timestamp with time zone NOT NULL,
	"received_at" timestamp with time zone NOT NULL,
	"result" text NOT NULL,
	CONSTRAINT "webhook_events_source_event_id_pk" PRIMARY KEY("source","event_id")
);
--> statement-breakpoint
ALTER TABLE "customer_links" ADD CONSTRAINT "customer_links_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "audit_customer_idx" ON "audit" USING btree ("customer_id","at");--> statement-breakpoint
CREATE INDEX "audit_destructive_idx" ON "audit" USING btree ("at") WHERE "audit"."destructive";--> statement-breakpoint
CREATE UNIQUE INDEX "customer_links_workspace_id_key" ON "customer_links" USING btree ("workspace_id");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "customers_name_idx" ON "customers" USING btree ("name");--> statement-breakpoint
CREATE INDEX "holds_customer_idx" ON "holds" USING btree ("customer_id","state");--> statement-breakpoint
CREATE UNIQUE INDEX "holds_one_open_per_subject_action" ON "holds" USING btree (coalesce("customer_id", "workspace_id"::text),"action") WHERE "holds"."state" in ('held', 'approved');--> statement-breakpoint
CREATE INDEX "sweep_changes_sweep_idx" ON "sweep_changes" USING btree ("sweep_id","customer_id");--> statement-breakpoint
CREATE INDEX "sweep_workspaces_name_idx" ON "sweep_workspaces" USING btree ("sweep_id","name");--> statement-breakpoint
CREATE INDEX "sweeps_started_at_idx" ON "sweeps" USING btree ("started_at");--> statement-breakpoint
CREATE INDEX "sync_state_failed_idx" ON "sync_state" USING btree ("at") WHERE "sync_state"."outcome" = 'failed';--> statement-breakpoint
CREATE INDEX "webhook_events_received_idx" ON "webhook_events" USING btree ("received_at");