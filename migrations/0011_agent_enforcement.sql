CREATE TABLE "agent_enforcement" (
	"tenant_id" uuid NOT NULL,
	"cluster_id" uuid NOT NULL,
	"component" text NOT NULL,
	"instance" text NOT NULL,
	"sections" jsonb NOT NULL,
	"detect_only" jsonb NOT NULL,
	"reported_at" timestamp(3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "agent_enforcement_cluster_id_component_instance_pk" PRIMARY KEY("cluster_id","component","instance")
);
--> statement-breakpoint
ALTER TABLE "agent_enforcement" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "agent_enforcement" ADD CONSTRAINT "agent_enforcement_cluster_id_clusters_id_fk" FOREIGN KEY ("cluster_id") REFERENCES "public"."clusters"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "agent_enforcement_tenant" ON "agent_enforcement" USING btree ("tenant_id");--> statement-breakpoint
CREATE POLICY "agent_enforcement_tenant_isolation" ON "agent_enforcement" AS PERMISSIVE FOR ALL TO "palisade_app" USING (tenant_id = palisade_current_tenant()) WITH CHECK (tenant_id = palisade_current_tenant());