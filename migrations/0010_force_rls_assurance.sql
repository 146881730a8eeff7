-- Force row-level security on the tables this release adds (see 0002).
SELECT palisade_force_rls();
