-- Reserved: migration 014 belongs to another branch of issue 14. This stand-in only keeps the numbers
-- contiguous on the rotation branch, which the runner requires; it is dropped when the branches merge
-- (placeholder for another branch; dropped at merge).
SELECT 1;
