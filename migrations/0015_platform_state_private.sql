-- platform_state holds installation-wide facts that only the connecting role reads at start (workers/node.ts
-- bootstrap); neither tenant transactions (palisade_app) nor background jobs (palisade_system) need it, so they lose
-- the privileges the default grants gave them. Row-level security (0014) is the second lock; forced like every table.
REVOKE ALL ON TABLE platform_state FROM palisade_app;
--> statement-breakpoint
REVOKE ALL ON TABLE platform_state FROM palisade_system;
--> statement-breakpoint
SELECT palisade_force_rls();
