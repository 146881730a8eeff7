-- One statement per cache miss of an agent poll, with row-level security intact: each function runs as the role
-- that owns it (SECURITY DEFINER), so palisade_agent_state sees what palisade_app may see (the credential its hash
-- names, then that tenant's rows) and palisade_markers_since what palisade_system may (markers of every tenant).
-- Each function gives app.key_hash and app.tenant_id back the values they had when it was called. Not with
-- function-level SET clauses: Postgres lets only a superuser put a custom setting in one, and the role that runs the
-- migrations on Neon is not one.
CREATE OR REPLACE FUNCTION palisade_agent_state(p_key_hash text, p_now timestamptz) RETURNS jsonb
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = public, pg_temp
  AS $$
DECLARE
  cred record;
  state jsonb;
  caller_key_hash text := coalesce(current_setting('app.key_hash', true), '');
  caller_tenant_id text := coalesce(current_setting('app.tenant_id', true), '');
BEGIN
  PERFORM set_config('app.key_hash', p_key_hash, true);
  SELECT c.id, c.tenant_id, c.cluster_id, c.revoked_at, c.expires_at INTO cred FROM cluster_credentials c WHERE c.secret_hash = p_key_hash;
  IF NOT FOUND OR cred.revoked_at IS NOT NULL OR (cred.expires_at IS NOT NULL AND cred.expires_at <= p_now) THEN
    PERFORM set_config('app.key_hash', caller_key_hash, true);
    RETURN NULL;
  END IF;
  -- Last use, at most one write a minute per credential (as before).
  UPDATE cluster_credentials SET last_used_at = p_now
    WHERE secret_hash = p_key_hash AND (last_used_at IS NULL OR last_used_at < p_now - interval '60 seconds');
  PERFORM set_config('app.key_hash', '', true);
  PERFORM set_config('app.tenant_id', cred.tenant_id::text, true);
  state := jsonb_build_object(
    'tenantId', cred.tenant_id,
    'clusterId', cred.cluster_id,
    'credentialId', cred.id,
    'credentialExpiresAt', cred.expires_at,
    'marker', coalesce((SELECT m.marker FROM change_markers m WHERE m.tenant_id = cred.tenant_id), 0),
    'bundle', (SELECT jsonb_build_object('revision', b.revision, 'digest', b.digest, 'kid', b.kid, 'issuedAt', b.issued_at, 'expiresAt', b.expires_at, 'stale', b.stale, 'signed', b.jws IS NOT NULL)
               FROM cluster_bundles b WHERE b.tenant_id = cred.tenant_id AND b.cluster_id = cred.cluster_id));
  PERFORM set_config('app.key_hash', caller_key_hash, true);
  PERFORM set_config('app.tenant_id', caller_tenant_id, true);
  RETURN state;
END
$$;
--> statement-breakpoint
-- Markers written by transactions at or after `p_since` (a watermark this function returned before; '0' for all),
-- and the next watermark: the oldest transaction still running at this snapshot, so a change committing later is
-- read next time even though its marker was written before this read.
CREATE OR REPLACE FUNCTION palisade_markers_since(p_since xid8) RETURNS jsonb
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = public, pg_temp
  AS $$
  SELECT jsonb_build_object(
    'watermark', pg_snapshot_xmin(pg_current_snapshot())::text,
    'markers', coalesce((SELECT jsonb_agg(jsonb_build_array(m.tenant_id, m.marker)) FROM change_markers m WHERE m.changed_xid >= p_since), '[]'::jsonb))
$$;
--> statement-breakpoint
-- A new owner needs CREATE on the schema while ownership passes (a superuser needs nothing); it keeps none after.
GRANT CREATE ON SCHEMA public TO palisade_app, palisade_system;
--> statement-breakpoint
ALTER FUNCTION palisade_agent_state(text, timestamptz) OWNER TO palisade_app;
--> statement-breakpoint
ALTER FUNCTION palisade_markers_since(xid8) OWNER TO palisade_system;
--> statement-breakpoint
REVOKE CREATE ON SCHEMA public FROM palisade_app, palisade_system;
--> statement-breakpoint
SELECT palisade_force_rls();
--> statement-breakpoint
-- Last use of credentials an instance answered from its caches, written in batches (at most once a minute each):
-- the console shows it as the agent's last poll. Each hash is set in turn so the by-secret policies apply.
CREATE OR REPLACE FUNCTION palisade_touch_credentials(p_hashes text[], p_now timestamptz) RETURNS integer
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = public, pg_temp
  AS $$
DECLARE
  h text;
  touched integer := 0;
  n integer;
  caller_key_hash text := coalesce(current_setting('app.key_hash', true), '');
BEGIN
  FOREACH h IN ARRAY p_hashes LOOP
    PERFORM set_config('app.key_hash', h, true);
    UPDATE cluster_credentials SET last_used_at = p_now
      WHERE secret_hash = h AND revoked_at IS NULL AND (last_used_at IS NULL OR last_used_at < p_now - interval '60 seconds');
    GET DIAGNOSTICS n = ROW_COUNT;
    touched := touched + n;
  END LOOP;
  PERFORM set_config('app.key_hash', caller_key_hash, true);
  RETURN touched;
END
$$;
--> statement-breakpoint
GRANT CREATE ON SCHEMA public TO palisade_app;
--> statement-breakpoint
ALTER FUNCTION palisade_touch_credentials(text[], timestamptz) OWNER TO palisade_app;
--> statement-breakpoint
REVOKE CREATE ON SCHEMA public FROM palisade_app;
