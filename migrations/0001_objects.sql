CREATE TABLE "api_keys" (
	"tenant_id" uuid NOT NULL,
	"id" uuid PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"spec" jsonb NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp(3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp(3) with time zone DEFAULT now() NOT NULL,
	"created_by" text NOT NULL,
	"updated_by" text NOT NULL,
	"prefix" text NOT NULL,
	"key_hash" text NOT NULL,
	"expires_at" timestamp(3) with time zone,
	"revoked_at" timestamp(3) with time zone,
	"last_used_at" timestamp(3) with time zone
);
--> statement-breakpoint
ALTER TABLE "api_keys" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "file_threat_protection_settings" (
	"tenant_id" uuid PRIMARY KEY NOT NULL,
	"spec" jsonb NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"updated_at" timestamp(3) with time zone DEFAULT now() NOT NULL,
	"updated_by" text NOT NULL
);
--> statement-breakpoint
ALTER TABLE "file_threat_protection_settings" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "platform_state" (
	"key" text PRIMARY KEY NOT NULL,
	"value" jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "roles" (
	"tenant_id" uuid NOT NULL,
	"id" uuid PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"spec" jsonb NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp(3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp(3) with time zone DEFAULT now() NOT NULL,
	"created_by" text NOT NULL,
	"updated_by" text NOT NULL,
	"rights" jsonb NOT NULL,
	"builtin" boolean DEFAULT false NOT NULL
);
--> statement-breakpoint
ALTER TABLE "roles" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "runtime_policy_revisions" (
	"tenant_id" uuid NOT NULL,
	"policy_id" uuid NOT NULL,
	"revision" integer NOT NULL,
	"action" text NOT NULL,
	"document" jsonb NOT NULL,
	"changes" jsonb NOT NULL,
	"changed_at" timestamp(3) with time zone DEFAULT now() NOT NULL,
	"changed_by" text NOT NULL,
	CONSTRAINT "runtime_policy_revisions_policy_id_revision_pk" PRIMARY KEY("policy_id","revision")
);
--> statement-breakpoint
ALTER TABLE "runtime_policy_revisions" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "tenants" (
	"id" uuid PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"created_at" timestamp(3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "tenants" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "clusters" (
	"tenant_id" uuid NOT NULL,
	"id" uuid PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"spec" jsonb NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp(3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp(3) with time zone DEFAULT now() NOT NULL,
	"created_by" text NOT NULL,
	"updated_by" text NOT NULL
);
--> statement-breakpoint
ALTER TABLE "clusters" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "images" (
	"tenant_id" uuid NOT NULL,
	"id" uuid PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"spec" jsonb NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp(3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp(3) with time zone DEFAULT now() NOT NULL,
	"created_by" text NOT NULL,
	"updated_by" text NOT NULL,
	"compliance" text NOT NULL,
	"last_scan_at" timestamp(3) with time zone
);
--> statement-breakpoint
ALTER TABLE "images" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "registries" (
	"tenant_id" uuid NOT NULL,
	"id" uuid PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"spec" jsonb NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp(3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp(3) with time zone DEFAULT now() NOT NULL,
	"created_by" text NOT NULL,
	"updated_by" text NOT NULL
);
--> statement-breakpoint
ALTER TABLE "registries" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "runtime_policies" (
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
	"mode" text NOT NULL
);
--> statement-breakpoint
ALTER TABLE "runtime_policies" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "runtime_policy_references" (
	"tenant_id" uuid NOT NULL,
	"policy_id" uuid NOT NULL,
	"target_kind" text NOT NULL,
	"target_id" uuid NOT NULL
);
--> statement-breakpoint
ALTER TABLE "runtime_policy_references" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "runtime_profiles" (
	"tenant_id" uuid NOT NULL,
	"id" uuid PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"spec" jsonb NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp(3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp(3) with time zone DEFAULT now() NOT NULL,
	"created_by" text NOT NULL,
	"updated_by" text NOT NULL
);
--> statement-breakpoint
ALTER TABLE "runtime_profiles" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "scopes" (
	"tenant_id" uuid NOT NULL,
	"id" uuid PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"spec" jsonb NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp(3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp(3) with time zone DEFAULT now() NOT NULL,
	"created_by" text NOT NULL,
	"updated_by" text NOT NULL,
	"global" boolean DEFAULT false NOT NULL
);
--> statement-breakpoint
ALTER TABLE "scopes" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "signature_validators" (
	"tenant_id" uuid NOT NULL,
	"id" uuid PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"spec" jsonb NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp(3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp(3) with time zone DEFAULT now() NOT NULL,
	"created_by" text NOT NULL,
	"updated_by" text NOT NULL
);
--> statement-breakpoint
ALTER TABLE "signature_validators" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "runtime_policy_references" ADD CONSTRAINT "runtime_policy_references_policy_id_runtime_policies_id_fk" FOREIGN KEY ("policy_id") REFERENCES "public"."runtime_policies"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "api_keys_tenant_name" ON "api_keys" USING btree ("tenant_id","name");--> statement-breakpoint
CREATE UNIQUE INDEX "api_keys_key_hash" ON "api_keys" USING btree ("key_hash");--> statement-breakpoint
CREATE UNIQUE INDEX "roles_tenant_name" ON "roles" USING btree ("tenant_id","name");--> statement-breakpoint
CREATE UNIQUE INDEX "tenants_name" ON "tenants" USING btree ("name");--> statement-breakpoint
CREATE UNIQUE INDEX "clusters_tenant_name" ON "clusters" USING btree ("tenant_id","name");--> statement-breakpoint
CREATE UNIQUE INDEX "images_tenant_name" ON "images" USING btree ("tenant_id","name");--> statement-breakpoint
CREATE UNIQUE INDEX "registries_tenant_name" ON "registries" USING btree ("tenant_id","name");--> statement-breakpoint
CREATE UNIQUE INDEX "runtime_policies_tenant_name" ON "runtime_policies" USING btree ("tenant_id","name");--> statement-breakpoint
CREATE INDEX "runtime_policy_references_target" ON "runtime_policy_references" USING btree ("tenant_id","target_kind","target_id");--> statement-breakpoint
CREATE INDEX "runtime_policy_references_policy" ON "runtime_policy_references" USING btree ("policy_id");--> statement-breakpoint
CREATE UNIQUE INDEX "runtime_profiles_tenant_name" ON "runtime_profiles" USING btree ("tenant_id","name");--> statement-breakpoint
CREATE UNIQUE INDEX "scopes_tenant_name" ON "scopes" USING btree ("tenant_id","name");--> statement-breakpoint
CREATE UNIQUE INDEX "signature_validators_tenant_name" ON "signature_validators" USING btree ("tenant_id","name");--> statement-breakpoint
CREATE POLICY "api_keys_tenant_isolation" ON "api_keys" AS PERMISSIVE FOR ALL TO "palisade_app" USING (tenant_id = palisade_current_tenant()) WITH CHECK (tenant_id = palisade_current_tenant());--> statement-breakpoint
CREATE POLICY "api_keys_by_secret" ON "api_keys" AS PERMISSIVE FOR SELECT TO "palisade_app" USING (key_hash = nullif(current_setting('app.key_hash', true), ''));--> statement-breakpoint
CREATE POLICY "api_keys_touch_by_secret" ON "api_keys" AS PERMISSIVE FOR UPDATE TO "palisade_app" USING (key_hash = nullif(current_setting('app.key_hash', true), '')) WITH CHECK (key_hash = nullif(current_setting('app.key_hash', true), ''));--> statement-breakpoint
CREATE POLICY "file_threat_protection_settings_tenant_isolation" ON "file_threat_protection_settings" AS PERMISSIVE FOR ALL TO "palisade_app" USING (tenant_id = palisade_current_tenant()) WITH CHECK (tenant_id = palisade_current_tenant());--> statement-breakpoint
CREATE POLICY "roles_tenant_isolation" ON "roles" AS PERMISSIVE FOR ALL TO "palisade_app" USING (tenant_id = palisade_current_tenant()) WITH CHECK (tenant_id = palisade_current_tenant());--> statement-breakpoint
CREATE POLICY "runtime_policy_revisions_tenant_isolation" ON "runtime_policy_revisions" AS PERMISSIVE FOR ALL TO "palisade_app" USING (tenant_id = palisade_current_tenant()) WITH CHECK (tenant_id = palisade_current_tenant());--> statement-breakpoint
CREATE POLICY "tenants_tenant_isolation" ON "tenants" AS PERMISSIVE FOR ALL TO "palisade_app" USING (id = palisade_current_tenant()) WITH CHECK (id = palisade_current_tenant());--> statement-breakpoint
CREATE POLICY "clusters_tenant_isolation" ON "clusters" AS PERMISSIVE FOR ALL TO "palisade_app" USING (tenant_id = palisade_current_tenant()) WITH CHECK (tenant_id = palisade_current_tenant());--> statement-breakpoint
CREATE POLICY "images_tenant_isolation" ON "images" AS PERMISSIVE FOR ALL TO "palisade_app" USING (tenant_id = palisade_current_tenant()) WITH CHECK (tenant_id = palisade_current_tenant());--> statement-breakpoint
CREATE POLICY "registries_tenant_isolation" ON "registries" AS PERMISSIVE FOR ALL TO "palisade_app" USING (tenant_id = palisade_current_tenant()) WITH CHECK (tenant_id = palisade_current_tenant());--> statement-breakpoint
CREATE POLICY "runtime_policies_tenant_isolation" ON "runtime_policies" AS PERMISSIVE FOR ALL TO "palisade_app" USING (tenant_id = palisade_current_tenant()) WITH CHECK (tenant_id = palisade_current_tenant());--> statement-breakpoint
CREATE POLICY "runtime_policy_references_tenant_isolation" ON "runtime_policy_references" AS PERMISSIVE FOR ALL TO "palisade_app" USING (tenant_id = palisade_current_tenant()) WITH CHECK (tenant_id = palisade_current_tenant());--> statement-breakpoint
CREATE POLICY "runtime_profiles_tenant_isolation" ON "runtime_profiles" AS PERMISSIVE FOR ALL TO "palisade_app" USING (tenant_id = palisade_current_tenant()) WITH CHECK (tenant_id = palisade_current_tenant());--> statement-breakpoint
CREATE POLICY "scopes_tenant_isolation" ON "scopes" AS PERMISSIVE FOR ALL TO "palisade_app" USING (tenant_id = palisade_current_tenant()) WITH CHECK (tenant_id = palisade_current_tenant());--> statement-breakpoint
CREATE POLICY "signature_validators_tenant_isolation" ON "signature_validators" AS PERMISSIVE FOR ALL TO "palisade_app" USING (tenant_id = palisade_current_tenant()) WITH CHECK (tenant_id = palisade_current_tenant());