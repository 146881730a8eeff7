-- Per-check counts move from a row per check into the `checks` map of the tuple's row (check_id ''): rollup rows
-- written per event drop by the number of checks each finding group holds. Every per-check row has its tuple's row
-- (ingest always wrote both), so folding them in keeps every count.
ALTER TABLE "audit_rollups" ADD COLUMN "checks" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
UPDATE "audit_rollups" AS g SET "checks" = c."checks"
FROM (
  SELECT "tenant_id", "granularity", "bucket", "cluster_id", "namespace", "policy_id", "verdict", "severity", "kind", "image", "workload", jsonb_object_agg("check_id", "count") AS "checks"
  FROM "audit_rollups" WHERE "check_id" <> ''
  GROUP BY "tenant_id", "granularity", "bucket", "cluster_id", "namespace", "policy_id", "verdict", "severity", "kind", "image", "workload"
) AS c
WHERE g."check_id" = '' AND g."tenant_id" = c."tenant_id" AND g."granularity" = c."granularity" AND g."bucket" = c."bucket" AND g."cluster_id" = c."cluster_id"
  AND g."namespace" = c."namespace" AND g."policy_id" = c."policy_id" AND g."verdict" = c."verdict" AND g."severity" = c."severity" AND g."kind" = c."kind"
  AND g."image" = c."image" AND g."workload" = c."workload";--> statement-breakpoint
DELETE FROM "audit_rollups" WHERE "check_id" <> '';--> statement-breakpoint
DROP INDEX "audit_rollups_key";--> statement-breakpoint
ALTER TABLE "audit_rollups" DROP COLUMN "check_id";--> statement-breakpoint
CREATE UNIQUE INDEX "audit_rollups_key" ON "audit_rollups" USING btree ("tenant_id","granularity","bucket","cluster_id","namespace","policy_id","verdict","severity","kind","image","workload");
--> statement-breakpoint
-- Room on each page for the new version of a row whose counts an ingest adds to (a HOT update: no index entry).
ALTER TABLE "audit_rollups" SET (fillfactor = 70);
