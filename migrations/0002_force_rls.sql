-- Owners bypass row-level security unless it is forced; force it on every table that enables it, so the
-- connecting role (Neon's owner role in production) is held to the tenant policies too. Migrations that add
-- tables call palisade_force_rls() again.
CREATE OR REPLACE FUNCTION palisade_force_rls() RETURNS void LANGUAGE plpgsql AS $$
DECLARE t record;
BEGIN
  FOR t IN SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relrowsecurity AND NOT c.relforcerowsecurity
  LOOP
    EXECUTE format('ALTER TABLE public.%I FORCE ROW LEVEL SECURITY', t.relname);
  END LOOP;
END
$$;
--> statement-breakpoint
SELECT palisade_force_rls();
