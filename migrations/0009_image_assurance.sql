CREATE TABLE "assurance_policies" (
	"tenant_id" uuid NOT NULL,
	"id" uuid PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"spec" jsonb NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp(3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp(3) with time zone DEFAULT now() NOT NULL,
	"created_by" text NOT NULL,
	"updated_by" text NOT NULL,
	"enabled" boolean NOT NULL
);
--> statement-breakpoint
ALTER TABLE "assurance_policies" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "image_scans" (
	"tenant_id" uuid NOT NULL,
	"digest" text NOT NULL,
	"format" text NOT NULL,
	"scanner_name" text NOT NULL,
	"scanner_version" text NOT NULL,
	"scanned_at" timestamp(3) with time zone NOT NULL,
	"received_at" timestamp(3) with time zone DEFAULT now() NOT NULL,
	"reference" text,
	"counts" jsonb NOT NULL,
	"findings" jsonb NOT NULL,
	"received_by" text NOT NULL,
	CONSTRAINT "image_scans_tenant_id_digest_pk" PRIMARY KEY("tenant_id","digest")
);
--> statement-breakpoint
ALTER TABLE "image_scans" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "images" ADD COLUMN "compliance_reasons" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "images" ADD COLUMN "compliant_until" timestamp(3) with time zone;--> statement-breakpoint
ALTER TABLE "images" ADD COLUMN "registry_sync" jsonb;--> statement-breakpoint
ALTER TABLE "registries" ADD COLUMN "credentials" text;--> statement-breakpoint
ALTER TABLE "registries" ADD COLUMN "sync_status" jsonb;--> statement-breakpoint
ALTER TABLE "registries" ADD COLUMN "next_sync_at" timestamp(3) with time zone;--> statement-breakpoint
CREATE UNIQUE INDEX "assurance_policies_tenant_name" ON "assurance_policies" USING btree ("tenant_id","name");--> statement-breakpoint
CREATE INDEX "images_tenant_digest" ON "images" USING btree ("tenant_id",("spec"->>'digest'));--> statement-breakpoint
CREATE INDEX "images_compliant_until" ON "images" USING btree ("compliant_until") WHERE "images"."compliant_until" is not null;--> statement-breakpoint
CREATE INDEX "registries_next_sync" ON "registries" USING btree ("next_sync_at") WHERE "registries"."next_sync_at" is not null;--> statement-breakpoint
CREATE POLICY "images_system_select" ON "images" AS PERMISSIVE FOR SELECT TO "palisade_system" USING (true);--> statement-breakpoint
CREATE POLICY "registries_system_select" ON "registries" AS PERMISSIVE FOR SELECT TO "palisade_system" USING (true);--> statement-breakpoint
CREATE POLICY "assurance_policies_tenant_isolation" ON "assurance_policies" AS PERMISSIVE FOR ALL TO "palisade_app" USING (tenant_id = palisade_current_tenant()) WITH CHECK (tenant_id = palisade_current_tenant());--> statement-breakpoint
CREATE POLICY "image_scans_tenant_isolation" ON "image_scans" AS PERMISSIVE FOR ALL TO "palisade_app" USING (tenant_id = palisade_current_tenant()) WITH CHECK (tenant_id = palisade_current_tenant());