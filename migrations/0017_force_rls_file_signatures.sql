-- Force row-level security on the tables this release adds (file_signature_sets, file_signatures_effective; see 0002).
SELECT palisade_force_rls();
