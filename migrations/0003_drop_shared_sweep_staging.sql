-- Each sweep now stages its listing in a table of its own (sweep_listing_<time>_<hash>), indexed
-- after the load and dropped at the end: the shared table is no longer used.
DROP TABLE IF EXISTS "sweep_workspaces" CASCADE;
