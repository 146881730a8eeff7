CREATE TABLE "change_markers" (
	"tenant_id" uuid PRIMARY KEY NOT NULL,
	"marker" bigint DEFAULT 0 NOT NULL,
	"changed_xid" "xid8" DEFAULT pg_current_xact_id() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "change_markers" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "cluster_bundles" ADD COLUMN "jws_gzip" "bytea";--> statement-breakpoint
CREATE POLICY "change_markers_tenant_isolation" ON "change_markers" AS PERMISSIVE FOR ALL TO "palisade_app" USING (tenant_id = palisade_current_tenant()) WITH CHECK (tenant_id = palisade_current_tenant());--> statement-breakpoint
CREATE POLICY "change_markers_system_select" ON "change_markers" AS PERMISSIVE FOR SELECT TO "palisade_system" USING (true);