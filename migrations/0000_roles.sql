-- The role tenant transactions switch to (SET LOCAL ROLE). Roles are cluster-wide, so create it only once.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'palisade_app') THEN
    CREATE ROLE palisade_app NOLOGIN NOSUPERUSER NOBYPASSRLS;
  END IF;
END
$$;
--> statement-breakpoint
DO $$
BEGIN
  EXECUTE format('GRANT palisade_app TO %I', current_user);
EXCEPTION WHEN others THEN
  -- already a member, or the migrating user is a superuser (who may SET ROLE to anything)
  NULL;
END
$$;
--> statement-breakpoint
GRANT USAGE ON SCHEMA public TO palisade_app;
--> statement-breakpoint
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO palisade_app;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION palisade_current_tenant() RETURNS uuid
  LANGUAGE sql STABLE
  AS $$ SELECT nullif(current_setting('app.tenant_id', true), '')::uuid $$;
