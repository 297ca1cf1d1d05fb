-- Where each session is: the approximate place of its IP ("City,
-- Country", or the country alone), which the worker looks up in the
-- operator's GeoIP database when the session is created and when its IP
-- changes. Stored with the session, copied into the audit rows written
-- about it and into their NOTIFY payloads.

ALTER TABLE sessions ADD COLUMN location text;
ALTER TABLE audit_log ADD COLUMN location text;

-- The login statement names the new session's place without the login
-- function having to carry it: located() passes the address through and
-- notes the place for this transaction, and the row trigger below takes
-- it from there. Arguments are evaluated before the function they are
-- passed to, so the note is always there when the row is written.
CREATE FUNCTION located(p_ip inet, p_location text) RETURNS inet
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
	PERFORM set_config('sessiond.location', coalesce(p_location, ''),
	    true);
	RETURN p_ip;
END
$$;

CREATE FUNCTION session_location() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.location IS NULL THEN
		NEW.location := nullif(current_setting('sessiond.location',
		    true), '');
	END IF;
	RETURN NEW;
END
$$;

CREATE TRIGGER sessions_location BEFORE INSERT ON sessions
	FOR EACH ROW EXECUTE FUNCTION session_location();

-- An audit row's place is that of its IP: the acting session's (or, for a
-- new or expired session, the session's own) while it is at that address.
CREATE FUNCTION audit_location() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.location IS NULL AND NEW.ip IS NOT NULL THEN
		SELECT s.location INTO NEW.location FROM sessions s
		WHERE s.user_id = NEW.user_id
		    AND s.id = coalesce(NEW.session_id, NEW.target_session_id)
		    AND s.ip = NEW.ip;
	END IF;
	RETURN NEW;
END
$$;

CREATE TRIGGER audit_log_location BEFORE INSERT ON audit_log
	FOR EACH ROW EXECUTE FUNCTION audit_location();

CREATE OR REPLACE FUNCTION audit_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('session_events', json_build_object(
	    'id', NEW.id::text,
	    'event', NEW.event,
	    'reason', NEW.reason,
	    'user_id', NEW.user_id::text,
	    'session_id', NEW.target_session_id,
	    'at', to_char(NEW.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
	    'ip', host(NEW.ip),
	    'user_agent', NEW.user_agent,
	    'location', NEW.location)::text);
	RETURN NULL;
END
$$;
