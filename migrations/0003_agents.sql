CREATE TABLE "cluster_bundles" (
	"tenant_id" uuid NOT NULL,
	"cluster_id" uuid PRIMARY KEY NOT NULL,
	"revision" integer DEFAULT 0 NOT NULL,
	"digest" text,
	"content" text,
	"jws" text,
	"kid" text,
	"issued_at" timestamp(3) with time zone,
	"expires_at" timestamp(3) with time zone,
	"stale" boolean DEFAULT true NOT NULL
);
--> statement-breakpoint
ALTER TABLE "cluster_bundles" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "cluster_credentials" (
	"tenant_id" uuid NOT NULL,
	"id" uuid PRIMARY KEY NOT NULL,
	"cluster_id" uuid NOT NULL,
	"prefix" text NOT NULL,
	"secret_hash" text NOT NULL,
	"created_at" timestamp(3) with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp(3) with time zone,
	"revoked_at" timestamp(3) with time zone,
	"last_used_at" timestamp(3) with time zone
);
--> statement-breakpoint
ALTER TABLE "cluster_credentials" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "cluster_status" (
	"tenant_id" uuid NOT NULL,
	"cluster_id" uuid PRIMARY KEY NOT NULL,
	"status" jsonb NOT NULL,
	"reported_at" timestamp(3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "cluster_status" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "enrollment_tokens" (
	"tenant_id" uuid NOT NULL,
	"id" uuid PRIMARY KEY NOT NULL,
	"cluster_id" uuid NOT NULL,
	"token_hash" text NOT NULL,
	"expires_at" timestamp(3) with time zone NOT NULL,
	"used_at" timestamp(3) with time zone,
	"created_at" timestamp(3) with time zone DEFAULT now() NOT NULL,
	"created_by" text NOT NULL
);
--> statement-breakpoint
ALTER TABLE "enrollment_tokens" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "cluster_bundles" ADD CONSTRAINT "cluster_bundles_cluster_id_clusters_id_fk" FOREIGN KEY ("cluster_id") REFERENCES "public"."clusters"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "cluster_credentials" ADD CONSTRAINT "cluster_credentials_cluster_id_clusters_id_fk" FOREIGN KEY ("cluster_id") REFERENCES "public"."clusters"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "cluster_status" ADD CONSTRAINT "cluster_status_cluster_id_clusters_id_fk" FOREIGN KEY ("cluster_id") REFERENCES "public"."clusters"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "enrollment_tokens" ADD CONSTRAINT "enrollment_tokens_cluster_id_clusters_id_fk" FOREIGN KEY ("cluster_id") REFERENCES "public"."clusters"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "cluster_bundles_tenant" ON "cluster_bundles" USING btree ("tenant_id");--> statement-breakpoint
CREATE UNIQUE INDEX "cluster_credentials_hash" ON "cluster_credentials" USING btree ("secret_hash");--> statement-breakpoint
CREATE INDEX "cluster_credentials_cluster" ON "cluster_credentials" USING btree ("tenant_id","cluster_id");--> statement-breakpoint
CREATE UNIQUE INDEX "enrollment_tokens_hash" ON "enrollment_tokens" USING btree ("token_hash");--> statement-breakpoint
CREATE POLICY "cluster_bundles_tenant_isolation" ON "cluster_bundles" AS PERMISSIVE FOR ALL TO "palisade_app" USING (tenant_id = palisade_current_tenant()) WITH CHECK (tenant_id = palisade_current_tenant());--> statement-breakpoint
CREATE POLICY "cluster_credentials_tenant_isolation" ON "cluster_credentials" AS PERMISSIVE FOR ALL TO "palisade_app" USING (tenant_id = palisade_current_tenant()) WITH CHECK (tenant_id = palisade_current_tenant());--> statement-breakpoint
CREATE POLICY "cluster_credentials_by_secret" ON "cluster_credentials" AS PERMISSIVE FOR SELECT TO "palisade_app" USING (secret_hash = nullif(current_setting('app.key_hash', true), ''));--> statement-breakpoint
CREATE POLICY "cluster_credentials_touch_by_secret" ON "cluster_credentials" AS PERMISSIVE FOR UPDATE TO "palisade_app" USING (secret_hash = nullif(current_setting('app.key_hash', true), '')) WITH CHECK (secret_hash = nullif(current_setting('app.key_hash', true), ''));--> statement-breakpoint
CREATE POLICY "cluster_status_tenant_isolation" ON "cluster_status" AS PERMISSIVE FOR ALL TO "palisade_app" USING (tenant_id = palisade_current_tenant()) WITH CHECK (tenant_id = palisade_current_tenant());--> statement-breakpoint
CREATE POLICY "enrollment_tokens_tenant_isolation" ON "enrollment_tokens" AS PERMISSIVE FOR ALL TO "palisade_app" USING (tenant_id = palisade_current_tenant()) WITH CHECK (tenant_id = palisade_current_tenant());--> statement-breakpoint
CREATE POLICY "enrollment_tokens_by_secret" ON "enrollment_tokens" AS PERMISSIVE FOR SELECT TO "palisade_app" USING (token_hash = nullif(current_setting('app.key_hash', true), ''));--> statement-breakpoint
CREATE POLICY "enrollment_tokens_touch_by_secret" ON "enrollment_tokens" AS PERMISSIVE FOR UPDATE TO "palisade_app" USING (token_hash = nullif(current_setting('app.key_hash', true), '')) WITH CHECK (token_hash = nullif(current_setting('app.key_hash', true), ''));