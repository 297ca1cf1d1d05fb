-- pgbench: the database work of one GET /api/users/me/current-session/,
-- the ceiling for the current-session scenario: the session check alone,
-- one statement. "@ST_NAME arg ..." lines: see list.sql.
\if :i = 0
\set n :client_id + 1
SELECT s.user_id AS uid, s.token_hash AS hash FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.username = 'bench-list-' || :n::text AND s.id = bench.session_id(s.user_id, 1) \gset
\endif
\set i :i + 1
@ST_CHECK :uid :hash :idle :touch
