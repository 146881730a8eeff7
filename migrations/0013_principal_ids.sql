-- Principals were recorded as `apiKey:<first 12 characters of the secret>`, which gave a short chosen key away whole to
-- anyone who could read createdBy/updatedBy/changedBy. They are named by key id now (`apiKey:<id>`); this renames what
-- was recorded before. A name that no key of the same tenant matches unambiguously (the key was deleted, or two keys
-- share a start) becomes `apiKey:unknown`: better lose the attribution than keep part of a secret. Row-level security is
-- lifted for the owner while it runs (FORCE would hide every row from it) and forced again at the end.
DO $$
DECLARE c record;
BEGIN
  FOR c IN SELECT col.table_name, col.column_name FROM information_schema.columns col
           WHERE col.table_schema = 'public' AND col.column_name IN ('created_by', 'updated_by', 'changed_by')
             AND EXISTS (SELECT 1 FROM information_schema.columns t WHERE t.table_schema = 'public'
                         AND t.table_name = col.table_name AND t.column_name = 'tenant_id')
  LOOP
    EXECUTE format('ALTER TABLE public.%I NO FORCE ROW LEVEL SECURITY', c.table_name);
    EXECUTE format($q$
      UPDATE public.%1$I t SET %2$I = coalesce(
        (SELECT CASE WHEN count(*) = 1 THEN 'apiKey:' || min(k.id::text) END FROM public.api_keys k
          WHERE k.tenant_id = t.tenant_id AND 'apiKey:' || k.prefix = t.%2$I),
        'apiKey:unknown')
      WHERE t.%2$I LIKE 'apiKey:%%'
        AND t.%2$I !~ '^apiKey:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'$q$, c.table_name, c.column_name);
  END LOOP;
END
$$;
--> statement-breakpoint
SELECT palisade_force_rls();
