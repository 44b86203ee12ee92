-- Placeholder: the number belongs to another branch of issue 14 (replay, attempt records), which brings its own
-- file. Migrations must be numbered without gaps, so this stands in for it here; drop it when merging.
SELECT 1;
