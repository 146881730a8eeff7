-- A change to anything bundles draw on marks the tenant's bundles stale and raises its change marker, holding the
-- tenant's compile lock shared until commit (see lockTenantSources in workers/bundles/bundle.store.ts). This function
-- does all three in one call, so a write can fold them into its own statement (one round trip, not two).
-- They may share one call, where they could not share one plain statement: a VOLATILE function takes a new snapshot
-- for each statement it runs, so the UPDATE's snapshot is taken after the lock was granted and sees the
-- `stale = false` of a compile that held the lock before us. A single statement's snapshot is taken when it starts,
-- before its lock is granted: its mark would find the row still stale, skip it, and the compile would then store the
-- old content as fresh.
-- SECURITY INVOKER: it runs as the caller (palisade_app in a tenant transaction), so row-level security confines both
-- writes to the caller's tenant; named with another tenant it marks nothing, and the marker's insert is refused.
CREATE OR REPLACE FUNCTION palisade_mark_bundles_stale(p_tenant_id text) RETURNS boolean
  LANGUAGE plpgsql VOLATILE
  SET search_path = public, pg_temp
  AS $$
BEGIN
  PERFORM pg_advisory_xact_lock_shared(hashtext('palisade.bundles'), hashtext(p_tenant_id));
  UPDATE cluster_bundles SET stale = true WHERE tenant_id = p_tenant_id::uuid AND stale = false;
  INSERT INTO change_markers (tenant_id, marker, changed_xid) VALUES (p_tenant_id::uuid, 1, pg_current_xact_id())
    ON CONFLICT (tenant_id) DO UPDATE SET marker = change_markers.marker + 1, changed_xid = pg_current_xact_id();
  RETURN true;
END
$$;
