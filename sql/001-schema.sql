-- Users, sessions and the audit log.
--
-- Every hot query names user_id first, so that the tables can be
-- distributed by user (unique keys include user_id for the same reason).

CREATE TABLE users (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	username	text NOT NULL UNIQUE
			CHECK (length(username) BETWEEN 1 AND 64),
	password_hash	text NOT NULL,
	disabled_at	timestamptz,
	created_at	timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE sessions (
	id		uuid NOT NULL DEFAULT gen_random_uuid(),
	user_id		bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	token_hash	bytea NOT NULL CHECK (length(token_hash) = 32),
	created_at	timestamptz NOT NULL DEFAULT now(),
	authenticated_at timestamptz NOT NULL DEFAULT now(),
	last_seen_at	timestamptz NOT NULL DEFAULT now(),
	absolute_expires_at timestamptz NOT NULL,
	revoked_at	timestamptz,
	revoke_reason	text CHECK (revoke_reason IN
			('user', 'logout', 'others', 'evicted', 'admin', 'expired')),
	ip		inet,
	user_agent	text NOT NULL DEFAULT '',
	ch_ua		text NOT NULL DEFAULT '',
	ch_platform	text NOT NULL DEFAULT '',
	ch_mobile	text NOT NULL DEFAULT '',
	PRIMARY KEY (id),
	CHECK ((revoked_at IS NULL) = (revoke_reason IS NULL))
);

-- Validation: one index probe by (user, token hash).
CREATE UNIQUE INDEX sessions_user_token ON sessions (user_id, token_hash);
-- Listing a user's active sessions, newest first, and the per-user cap.
CREATE INDEX sessions_user_active ON sessions (user_id, created_at DESC, id DESC)
	WHERE revoked_at IS NULL;
-- Purge of ended sessions.
CREATE INDEX sessions_revoked_at ON sessions (revoked_at)
	WHERE revoked_at IS NOT NULL;
CREATE INDEX sessions_absolute_expires_at ON sessions (absolute_expires_at);

-- No foreign keys: audit rows outlive purged sessions and deleted users.
CREATE TABLE audit_log (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at		timestamptz NOT NULL DEFAULT now(),
	event		text NOT NULL CHECK (event IN
			('session.created', 'session.revoked', 'login.failed')),
	reason		text,
	user_id		bigint,
	username	text,
	session_id	uuid,
	target_session_id uuid,
	ip		inet,
	user_agent	text
);

CREATE INDEX audit_log_user ON audit_log (user_id, id DESC);
-- Login throttling counts recent failures per user name and per IP.
CREATE INDEX audit_log_failed_username ON audit_log (username, at)
	WHERE event = 'login.failed';
CREATE INDEX audit_log_failed_ip ON audit_log (ip, at)
	WHERE event = 'login.failed';

-- Every session event is announced in the transaction that writes it:
-- the trigger makes it impossible to write one without the other.
CREATE FUNCTION audit_notify() RETURNS trigger
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
	    'user_agent', NEW.user_agent)::text);
	RETURN NULL;
END
$$;

CREATE TRIGGER audit_log_notify AFTER INSERT ON audit_log
	FOR EACH ROW WHEN (NEW.event IN ('session.created', 'session.revoked'))
	EXECUTE FUNCTION audit_notify();
