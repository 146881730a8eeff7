CREATE TABLE "file_signature_sets" (
	"tenant_id" uuid NOT NULL,
	"id" uuid PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"spec" jsonb NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp(3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp(3) with time zone DEFAULT now() NOT NULL,
	"created_by" text NOT NULL,
	"updated_by" text NOT NULL,
	"signatures" jsonb NOT NULL,
	"signature_count" integer NOT NULL,
	"digest" text NOT NULL
);
--> statement-breakpoint
ALTER TABLE "file_signature_sets" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "file_signatures_effective" (
	"tenant_id" uuid PRIMARY KEY NOT NULL,
	"version" integer NOT NULL,
	"digest" text NOT NULL,
	"content" text NOT NULL,
	"signature_count" integer NOT NULL,
	"bytes" integer NOT NULL,
	"jws" text,
	"kid" text,
	"issued_at" timestamp(3) with time zone,
	"expires_at" timestamp(3) with time zone,
	"updated_at" timestamp(3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "file_signatures_effective" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE UNIQUE INDEX "file_signature_sets_tenant_name" ON "file_signature_sets" USING btree ("tenant_id","name");--> statement-breakpoint
CREATE POLICY "file_signature_sets_tenant_isolation" ON "file_signature_sets" AS PERMISSIVE FOR ALL TO "palisade_app" USING (tenant_id = palisade_current_tenant()) WITH CHECK (tenant_id = palisade_current_tenant());--> statement-breakpoint
CREATE POLICY "file_signatures_effective_tenant_isolation" ON "file_signatures_effective" AS PERMISSIVE FOR ALL TO "palisade_app" USING (tenant_id = palisade_current_tenant()) WITH CHECK (tenant_id = palisade_current_tenant());