CREATE TABLE "audit_events" (
	"tenant_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"cluster_id" uuid NOT NULL,
	"time" timestamp(3) with time zone NOT NULL,
	"received_at" timestamp(3) with time zone DEFAULT now() NOT NULL,
	"kind" text NOT NULL,
	"verdict" text NOT NULL,
	"mode" text,
	"severity" text NOT NULL,
	"policy_id" uuid,
	"check_ids" text[] NOT NULL,
	"namespace" text,
	"image" text,
	"event" jsonb NOT NULL,
	CONSTRAINT "audit_events_tenant_id_id_pk" PRIMARY KEY("tenant_id","id")
);
--> statement-breakpoint
ALTER TABLE "audit_events" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "audit_rollups" (
	"tenant_id" uuid NOT NULL,
	"granularity" text NOT NULL,
	"bucket" timestamp(3) with time zone NOT NULL,
	"cluster_id" text NOT NULL,
	"namespace" text NOT NULL,
	"policy_id" text NOT NULL,
	"check_id" text NOT NULL,
	"verdict" text NOT NULL,
	"severity" text NOT NULL,
	"kind" text NOT NULL,
	"image" text NOT NULL,
	"workload" text NOT NULL,
	"count" bigint NOT NULL
);
--> statement-breakpoint
ALTER TABLE "audit_rollups" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "tenant_settings" (
	"tenant_id" uuid PRIMARY KEY NOT NULL,
	"audit_retention_days" integer DEFAULT 90 NOT NULL,
	"updated_at" timestamp(3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "tenant_settings" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "webhook_deliveries" (
	"tenant_id" uuid NOT NULL,
	"id" text PRIMARY KEY NOT NULL,
	"webhook_id" uuid NOT NULL,
	"event_type" text NOT NULL,
	"payload" jsonb NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp(3) with time zone DEFAULT now() NOT NULL,
	"last_attempt_at" timestamp(3) with time zone,
	"last_status_code" integer,
	"last_error" text,
	"created_at" timestamp(3) with time zone DEFAULT now() NOT NULL,
	"delivered_at" timestamp(3) with time zone
);
--> statement-breakpoint
ALTER TABLE "webhook_deliveries" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "webhooks" (
	"tenant_id" uuid NOT NULL,
	"id" uuid PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"spec" jsonb NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp(3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp(3) with time zone DEFAULT now() NOT NULL,
	"created_by" text NOT NULL,
	"updated_by" text NOT NULL,
	"enabled" boolean NOT NULL,
	"secret" text NOT NULL,
	"previous_secret" text,
	"previous_secret_expires_at" timestamp(3) with time zone,
	"disabled_reason" text
);
--> statement-breakpoint
ALTER TABLE "webhooks" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_webhook_id_webhooks_id_fk" FOREIGN KEY ("webhook_id") REFERENCES "public"."webhooks"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "audit_events_tenant_time" ON "audit_events" USING btree ("tenant_id","time");--> statement-breakpoint
CREATE INDEX "audit_events_tenant_cluster_time" ON "audit_events" USING btree ("tenant_id","cluster_id","time");--> statement-breakpoint
CREATE UNIQUE INDEX "audit_rollups_key" ON "audit_rollups" USING btree ("tenant_id","granularity","bucket","cluster_id","namespace","policy_id","check_id","verdict","severity","kind","image","workload");--> statement-breakpoint
CREATE INDEX "webhook_deliveries_due" ON "webhook_deliveries" USING btree ("status","next_attempt_at");--> statement-breakpoint
CREATE INDEX "webhook_deliveries_webhook" ON "webhook_deliveries" USING btree ("tenant_id","webhook_id","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "webhooks_tenant_name" ON "webhooks" USING btree ("tenant_id","name");--> statement-breakpoint
CREATE POLICY "audit_events_tenant_isolation" ON "audit_events" AS PERMISSIVE FOR ALL TO "palisade_app" USING (tenant_id = palisade_current_tenant()) WITH CHECK (tenant_id = palisade_current_tenant());--> statement-breakpoint
CREATE POLICY "audit_events_system_delete" ON "audit_events" AS PERMISSIVE FOR DELETE TO "palisade_system" USING (true);--> statement-breakpoint
CREATE POLICY "audit_events_system_select" ON "audit_events" AS PERMISSIVE FOR SELECT TO "palisade_system" USING (true);--> statement-breakpoint
CREATE POLICY "audit_rollups_tenant_isolation" ON "audit_rollups" AS PERMISSIVE FOR ALL TO "palisade_app" USING (tenant_id = palisade_current_tenant()) WITH CHECK (tenant_id = palisade_current_tenant());--> statement-breakpoint
CREATE POLICY "tenant_settings_tenant_isolation" ON "tenant_settings" AS PERMISSIVE FOR ALL TO "palisade_app" USING (tenant_id = palisade_current_tenant()) WITH CHECK (tenant_id = palisade_current_tenant());--> statement-breakpoint
CREATE POLICY "tenant_settings_system_select" ON "tenant_settings" AS PERMISSIVE FOR SELECT TO "palisade_system" USING (true);--> statement-breakpoint
CREATE POLICY "webhook_deliveries_tenant_isolation" ON "webhook_deliveries" AS PERMISSIVE FOR ALL TO "palisade_app" USING (tenant_id = palisade_current_tenant()) WITH CHECK (tenant_id = palisade_current_tenant());--> statement-breakpoint
CREATE POLICY "webhook_deliveries_system_all" ON "webhook_deliveries" AS PERMISSIVE FOR ALL TO "palisade_system" USING (true) WITH CHECK (true);--> statement-breakpoint
CREATE POLICY "webhooks_tenant_isolation" ON "webhooks" AS PERMISSIVE FOR ALL TO "palisade_app" USING (tenant_id = palisade_current_tenant()) WITH CHECK (tenant_id = palisade_current_tenant());--> statement-breakpoint
CREATE POLICY "webhooks_system_all" ON "webhooks" AS PERMISSIVE FOR ALL TO "palisade_system" USING (true) WITH CHECK (true);