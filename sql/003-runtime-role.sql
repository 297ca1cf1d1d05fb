-- Least privilege in the database. The role that owns the schema (it runs
-- this migration) is for sessionctl: migrations, purge, user and session
-- administration. sessiond and sessiond-notifier log in as a member of the
-- group role sessiond_runtime, which gets only what they use:
--
--   users      SELECT                 (login, session check)
--   sessions   SELECT, UPDATE         (touch, re-auth, expiry)
--   audit_log  SELECT, INSERT         (append-only: no UPDATE, DELETE or
--                                      TRUNCATE)
--
-- and EXECUTE on the functions. session_login and session_revoke lock the
-- user's row (FOR NO KEY UPDATE, against a concurrent disable), which
-- would need UPDATE on users: they run as the owner instead (SECURITY
-- DEFINER, with a fixed search_path), and only sessiond_runtime may call
-- them. Only the owner may alter a table, drop or disable the trigger
-- that sends NOTIFY, or delete a row: a compromised worker cannot rewrite
-- the audit trail. The superuser creates the group role before the first
-- migrate (docs/deploy.md): the owner needs no CREATEROLE.
--
-- A later migration that adds a table or a column the service writes
-- grants it to sessiond_runtime in the same file, and one that replaces
-- session_login or session_revoke repeats the ALTER FUNCTION below
-- (CREATE OR REPLACE makes a function SECURITY INVOKER again).
DO $$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'sessiond_runtime')
	THEN
		RAISE EXCEPTION 'role sessiond_runtime does not exist: as the '
		    'superuser, CREATE ROLE sessiond_runtime NOLOGIN and grant '
		    'it to the role sessiond logs in as (docs/deploy.md)';
	END IF;
END
$$;

REVOKE ALL ON users, sessions, audit_log, schema_migrations FROM PUBLIC;
GRANT SELECT ON users TO sessiond_runtime;
GRANT SELECT, UPDATE ON sessions TO sessiond_runtime;
GRANT SELECT, INSERT ON audit_log TO sessiond_runtime;

ALTER FUNCTION session_login(int8, bytea, int, int, int, inet, text, text,
    text, text) SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION session_revoke(int8, uuid, uuid, text, int, inet, text)
    SECURITY DEFINER SET search_path = public, pg_temp;
REVOKE EXECUTE ON FUNCTION session_login(int8, bytea, int, int, int, inet,
    text, text, text, text), session_revoke(int8, uuid, uuid, text, int,
    inet, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION session_login(int8, bytea, int, int, int, inet,
    text, text, text, text), session_revoke(int8, uuid, uuid, text, int,
    inet, text) TO sessiond_runtime;
