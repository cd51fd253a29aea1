-- PostgreSQL's 0011 adds a server-side function for one ledger posting per round trip.
-- SQLite runs in-process (no round trips to save): nothing to do, the numbering stays aligned.
SELECT 1;
