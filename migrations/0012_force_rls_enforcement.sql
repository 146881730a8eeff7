-- Force row-level security on the table this release adds (agent_enforcement; see 0002).
SELECT palisade_force_rls();
