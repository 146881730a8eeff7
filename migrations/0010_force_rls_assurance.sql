-- Force row-level security on the tables this release adds (see 0002).
SELECT palisade_force_rls();
--> statement-breakpoint
-- The background jobs (registry sync, the compliance recompute) find due registries and lapsed images across
-- tenants as palisade_system; these tables predate the role's default privileges (0005), so grant reads here. Its
-- row policies (0009) allow SELECT only; the work itself runs per tenant as palisade_app.
GRANT SELECT ON registries, images TO palisade_system;
