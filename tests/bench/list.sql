-- pgbench: the database work of one GET /api/auth/sessions/, the ceiling
-- for the list scenario (scripts/bench, docs/performance.md).
--
-- A line "@ST_NAME arg ..." stands for that statement of fcgi/db.c: the
-- bench script puts its SQL there, with $1, $2, ... replaced by the
-- arguments (pgbench variables, which -M prepared sends as parameters).
-- So this runs exactly the statements sessiond prepares, the same way:
-- the session check and the list in one pipeline (one round trip, one
-- implicit transaction), with the values a request of the wrk scenario
-- sends. -D gives idle, touch, limit, before_us, before_id and i=0.
--
-- Client c acts as user bench-list-<c+1>, session 1, looked up once
-- (on its first transaction, \gset keeps it for the following ones).
\if :i = 0
\set n :client_id + 1
SELECT s.user_id AS uid, s.token_hash AS hash FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.username = 'bench-list-' || :n::text AND s.id = bench.session_id(s.user_id, 1) \gset
\endif
\set i :i + 1
\startpipeline
@ST_CHECK :uid :hash :idle :touch
@ST_LIST :uid :limit :idle :before_us :before_id
\endpipeline
