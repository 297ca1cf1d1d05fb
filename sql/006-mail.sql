-- Security alerts: the address a user's alerts go to, and whether a
-- sign-in came from a new device (a browser that held no valid device
-- cookie of that user), which the notifier mails about.

-- The address rule is mail.c's (mail_addr_ok), enforced again here so
-- that no writer can store one that could break a mail header.
ALTER TABLE users ADD COLUMN email text CHECK (length(email) <= 254 AND
	email ~ '^[A-Za-z0-9!#$%&''*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&''*+/=?^_`{|}~-]+)*@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$');

ALTER TABLE audit_log ADD COLUMN new_device boolean;

-- The login statement says whether the device is new the way it names
-- the place (located(), 005): device_noted() passes the device id
-- through and notes the flag for this transaction, and the row trigger
-- below puts it on the session.created row, whose NOTIFY carries it.
CREATE FUNCTION device_noted(p_device uuid, p_new boolean) RETURNS uuid
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
	PERFORM set_config('sessiond.new_device', coalesce(p_new::text, ''),
	    true);
	RETURN p_device;
END
$$;

CREATE FUNCTION audit_new_device() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.event = 'session.created' AND NEW.new_device IS NULL THEN
		NEW.new_device := nullif(current_setting('sessiond.new_device',
		    true), '')::boolean;
	END IF;
	RETURN NEW;
END
$$;

CREATE TRIGGER audit_log_new_device BEFORE INSERT ON audit_log
	FOR EACH ROW EXECUTE FUNCTION audit_new_device();

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
	    'location', NEW.location,
	    'new_device', NEW.new_device)::text);
	RETURN NULL;
END
$$;
