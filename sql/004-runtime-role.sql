-- Least privilege in the database. The role that owns the schema (it runs
-- this migration) is for sessionctl: migrations, purge, user and session
-- administration. sessiond and sessiond-notifier log in as a member of the
-- group role sessiond_runtime, which gets only what they use:
--
--   users          SELECT           (session check)
--   sessions       SELECT, UPDATE   (session check, touch, expiry)
--   audit_log      SELECT, INSERT   (expiry; the notifier's catch-up).
--                                   Append-only: no UPDATE, DELETE or
--                                   TRUNCATE
--   auth_failures  SELECT, DELETE   (a right password takes its row back)
--
-- The steps that lock a user's row (FOR NO KEY UPDATE, against a
-- concurrent disable or password change), reserve a throttle slot or
-- change a password run as the owner instead (SECURITY DEFINER, with a
-- fixed search_path), and only sessiond_runtime may call them: a worker
-- can do what they do, with their checks, and nothing beside. Only the
-- owner may alter a table, drop or disable the trigger that sends NOTIFY,
-- or delete an audit row: a compromised worker cannot rewrite the audit
-- trail. The superuser creates the group role before the first migrate
-- (docs/deploy.md): the owner needs no CREATEROLE.
--
-- A later migration that adds a table or a column the service uses
-- grants it to sessiond_runtime in the same file, and one that replaces a
-- function below repeats its ALTER FUNCTION, REVOKE and GRANT (CREATE OR
-- REPLACE makes a function SECURITY INVOKER again).
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

REVOKE ALL ON users, sessions, audit_log, auth_failures, schema_migrations
    FROM PUBLIC;
GRANT SELECT ON users TO sessiond_runtime;
GRANT SELECT, UPDATE ON sessions TO sessiond_runtime;
GRANT SELECT, INSERT ON audit_log TO sessiond_runtime;
GRANT SELECT, DELETE ON auth_failures TO sessiond_runtime;

DO $$
DECLARE
	f regprocedure;
BEGIN
	FOREACH f IN ARRAY ARRAY[
	    'session_login(int8, bytea, int, int, int, inet, text, text, text,
		text, uuid)',
	    'session_revoke(int8, uuid, uuid, text, int, inet, text)',
	    'auth_begin(text, inet, uuid, int8, uuid, int, int[])',
	    'auth_login(int8, text, int8, bytea, int, int, int, inet, text,
		text, text, text, uuid)',
	    'auth_failed(int8, text, int8, text, uuid, inet, text)',
	    'auth_reauth(int8, int8, uuid, inet, text)',
	    'password_change(int8, int8, uuid, text, bool, inet, text)'
	]::regprocedure[] LOOP
		EXECUTE format('ALTER FUNCTION %s SECURITY DEFINER '
		    'SET search_path = public, pg_temp', f);
		EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', f);
		EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO sessiond_runtime',
		    f);
	END LOOP;
END
$$;
