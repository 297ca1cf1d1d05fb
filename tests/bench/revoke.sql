-- pgbench: the database work of one DELETE /api/auth/sessions/<id>/, the
-- ceiling for the revoke scenario: the session check and the revocation
-- in one pipeline, one round trip, as sessiond sends them
-- (db_queue_revoke): session_revoke_by_token finds the acting session by
-- its token again, applies the re-auth rule, revokes, writes the audit
-- row, and the trigger sends the NOTIFY. "@ST_NAME arg ..." lines: see
-- list.sql.
--
-- Client c acts as user bench-pgrevoke-<c+1>, session 1 (freshly
-- authenticated), and revokes that user's sessions 2, 3, 4, ... one per
-- transaction. pgbench variables are numbers, so the target's id is
-- computed in the statement from the counter (bench.session_id, an md5:
-- about a microsecond) where sessiond sends the id as a parameter.
\if :i = 0
\set n :client_id + 1
SELECT s.user_id AS uid, s.token_hash AS hash FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.username = 'bench-pgrevoke-' || :n::text AND s.id = bench.session_id(s.user_id, 1) \gset
\endif
\set i :i + 1
\startpipeline
@ST_CHECK :uid :hash :idle :touch
@ST_REVOKE_TOKEN :uid :hash bench.session_id(:uid,:i+1) :reason :idle :window :ip :ua
\endpipeline
