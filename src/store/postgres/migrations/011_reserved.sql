-- Empty on purpose. Version 011 was held for a branch that landed later under a higher number; databases
-- already record this version, so it stays, doing nothing, and keeps the numbers contiguous.
SELECT 1;
