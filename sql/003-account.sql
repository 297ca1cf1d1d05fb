-- Taking back an account: throttling that nobody else can spend, device
-- cookies, password changes, and the audit events that go with them.
--
-- Failed password checks are counted in auth_failures, not in audit_log.
-- An attempt reserves its row before the password is checked, under a
-- lock on the user name (and, for a login, on the client IP), so that the
-- check and the count are one step: concurrent guesses never get more
-- tries than the limit. A right password takes its row back; a throttled
-- attempt writes nothing.
--
-- Device cookies (OWASP's scheme): the cookie "did" carries a random
-- device id signed with the server key for one user. A browser that
-- holds one for the user it signs in as has its own failure budget,
-- instead of the budgets that strangers can spend (the user name over all
-- addresses, the user name from one address). sessions.device_id is the
-- device id the session was signed in with.

ALTER TABLE audit_log DROP CONSTRAINT audit_log_event_check;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_event_check CHECK (event IN
	('session.created', 'session.revoked', 'login.failed',
	 'session.reauthenticated', 'password.changed'));
ALTER TABLE sessions DROP CONSTRAINT sessions_revoke_reason_check;
ALTER TABLE sessions ADD CONSTRAINT sessions_revoke_reason_check CHECK
	(revoke_reason IN ('user', 'logout', 'others', 'evicted', 'admin',
	 'expired', 'password_changed'));
ALTER TABLE sessions ADD COLUMN device_id uuid;

DROP TRIGGER audit_log_notify ON audit_log;
CREATE TRIGGER audit_log_notify AFTER INSERT ON audit_log
	FOR EACH ROW WHEN (NEW.event IN ('session.created', 'session.revoked',
	    'password.changed'))
	EXECUTE FUNCTION audit_notify();

-- The throttle no longer reads audit_log.
DROP INDEX audit_log_failed_username;
DROP INDEX audit_log_failed_ip;
DROP FUNCTION login_check(text, inet, int);

-- One row per failed (or not yet decided) password check.
CREATE TABLE auth_failures (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at		timestamptz NOT NULL DEFAULT now(),
	username	text NOT NULL,
	ip		inet,
	device_id	uuid,		-- a valid device cookie of this user
	session_id	uuid		-- re-auth and password change
);
CREATE INDEX auth_failures_username ON auth_failures (username, at);
CREATE INDEX auth_failures_ip ON auth_failures (ip, at)
	WHERE session_id IS NULL;
CREATE INDEX auth_failures_session ON auth_failures (session_id, at)
	WHERE session_id IS NOT NULL;

-- Seconds until failures (newest first, at most p_limit of them) fall
-- below p_limit: when the p_limit-th newest leaves the window. 0 when
-- there are fewer.
CREATE FUNCTION auth_retry(p_ats timestamptz[], p_limit int, p_window int)
RETURNS int8
LANGUAGE sql STABLE
RETURN CASE WHEN coalesce(cardinality(p_ats), 0) < p_limit THEN 0
	ELSE greatest(1, ceil(extract(epoch FROM p_ats[p_limit] +
	    make_interval(secs => p_window) - now())))::int8 END;

-- Before a password is checked: the user (if any), and either a reserved
-- failure (attempt > 0) or how long to wait (retry > 0).
--
-- A login (p_session NULL) is limited per client IP, and then either per
-- device (p_device_uid/p_device: a verified device cookie, which counts
-- only for its own user) or, without one, per user name and IP and per
-- user name over all IPs. Re-auth and the password form (p_session set)
-- are limited per session only: nothing a stranger does can block them.
-- Their failures still count towards the user name's limit.
--
-- p_lim: {user name and IP, IP, user name, device, session}.
CREATE FUNCTION auth_begin(p_username text, p_ip inet, p_session uuid,
    p_device_uid int8, p_device uuid, p_window int, p_lim int[])
RETURNS TABLE (attempt int8, user_id int8, password_hash text,
    disabled bool, device_known bool, retry int8)
LANGUAGE plpgsql AS $$
DECLARE
	u	users;
	since	timestamptz := now() - make_interval(secs => p_window);
	dev	uuid;
	r	int8 := 0;
BEGIN
	-- One lock per user name, then one per IP, always in that order.
	PERFORM pg_advisory_xact_lock(hashtextextended('auth:u:' ||
	    p_username, 0));
	SELECT * INTO u FROM users WHERE username = p_username;
	IF u.id IS NOT NULL AND p_device_uid = u.id THEN
		dev := p_device;
	END IF;
	IF p_session IS NOT NULL THEN
		r := auth_retry(ARRAY(SELECT f.at FROM auth_failures f
		    WHERE f.session_id = p_session AND f.at > since
		    ORDER BY f.at DESC LIMIT p_lim[5]), p_lim[5], p_window);
	ELSE
		PERFORM pg_advisory_xact_lock(hashtextextended('auth:i:' ||
		    coalesce(host(p_ip), ''), 0));
		r := auth_retry(ARRAY(SELECT f.at FROM auth_failures f
		    WHERE f.ip = p_ip AND f.session_id IS NULL AND f.at > since
		    ORDER BY f.at DESC LIMIT p_lim[2]), p_lim[2], p_window);
		IF dev IS NOT NULL THEN
			r := greatest(r, auth_retry(ARRAY(SELECT f.at
			    FROM auth_failures f
			    WHERE f.username = p_username AND f.device_id = dev
				AND f.session_id IS NULL AND f.at > since
			    ORDER BY f.at DESC LIMIT p_lim[4]), p_lim[4],
			    p_window));
		ELSE
			r := greatest(r, auth_retry(ARRAY(SELECT f.at
			    FROM auth_failures f
			    WHERE f.username = p_username AND f.ip = p_ip
				AND f.session_id IS NULL AND f.at > since
			    ORDER BY f.at DESC LIMIT p_lim[1]), p_lim[1],
			    p_window));
			r := greatest(r, auth_retry(ARRAY(SELECT f.at
			    FROM auth_failures f
			    WHERE f.username = p_username AND f.at > since
			    ORDER BY f.at DESC LIMIT p_lim[3]), p_lim[3],
			    p_window));
		END IF;
	END IF;
	IF r > 0 THEN
		RETURN QUERY SELECT 0::int8, coalesce(u.id, 0), u.password_hash,
		    coalesce(u.disabled_at IS NOT NULL, false), dev IS NOT NULL,
		    r;
		RETURN;
	END IF;
	RETURN QUERY WITH f AS (
		INSERT INTO auth_failures (username, ip, device_id, session_id)
		VALUES (p_username, p_ip, dev, p_session) RETURNING id)
	SELECT f.id, coalesce(u.id, 0), u.password_hash,
	    coalesce(u.disabled_at IS NOT NULL, false), dev IS NOT NULL,
	    0::int8
	FROM f;
END
$$;

-- Session creation now records the device id of the browser.
DROP FUNCTION session_login(int8, bytea, int, int, int, inet, text, text,
    text, text);
CREATE FUNCTION session_login(p_user int8, p_hash bytea, p_lifetime int,
    p_idle int, p_cap int, p_ip inet, p_ua text, p_ch_ua text,
    p_ch_platform text, p_ch_mobile text, p_device uuid)
RETURNS SETOF sessions
LANGUAGE plpgsql AS $$
DECLARE
	s	sessions;
BEGIN
	PERFORM 1 FROM users WHERE id = p_user AND disabled_at IS NULL
	    FOR NO KEY UPDATE;
	IF NOT FOUND THEN
		RETURN;
	END IF;
	INSERT INTO sessions (user_id, token_hash, absolute_expires_at, ip,
	    user_agent, ch_ua, ch_platform, ch_mobile, device_id)
	VALUES (p_user, p_hash, now() + make_interval(secs => p_lifetime),
	    p_ip, p_ua, p_ch_ua, p_ch_platform, p_ch_mobile, p_device)
	RETURNING * INTO s;
	INSERT INTO audit_log (event, user_id, session_id, target_session_id,
	    ip, user_agent)
	VALUES ('session.created', p_user, s.id, s.id, p_ip, p_ua);

	WITH evicted AS (
		UPDATE sessions SET revoked_at = now(), revoke_reason = 'evicted'
		WHERE user_id = p_user AND id IN (
			SELECT id FROM sessions c
			WHERE c.user_id = p_user AND c.revoked_at IS NULL
			    AND session_expires(c, p_idle) > now()
			ORDER BY c.last_seen_at DESC, c.created_at DESC
			OFFSET p_cap)
		RETURNING id)
	INSERT INTO audit_log (event, reason, user_id, session_id,
	    target_session_id, ip, user_agent)
	SELECT 'session.revoked', 'evicted', p_user, s.id, evicted.id, p_ip,
	    p_ua
	FROM evicted;

	RETURN NEXT s;
END
$$;

-- A login with the right password: the reserved failure taken back, and
-- the session as session_login makes it, provided the password checked
-- is still the user's (a password change in between wins).
CREATE FUNCTION auth_login(p_attempt int8, p_pw_hash text, p_user int8,
    p_hash bytea, p_lifetime int, p_idle int, p_cap int, p_ip inet,
    p_ua text, p_ch_ua text, p_ch_platform text, p_ch_mobile text,
    p_device uuid)
RETURNS SETOF sessions
LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM auth_failures WHERE id = p_attempt;
	PERFORM 1 FROM users WHERE id = p_user AND password_hash = p_pw_hash;
	IF NOT FOUND THEN
		RETURN;
	END IF;
	RETURN QUERY SELECT * FROM session_login(p_user, p_hash, p_lifetime,
	    p_idle, p_cap, p_ip, p_ua, p_ch_ua, p_ch_platform, p_ch_mobile,
	    p_device);
END
$$;

-- A wrong password: the reserved failure stays, and is audited.
CREATE FUNCTION auth_failed(p_attempt int8, p_reason text, p_user int8,
    p_username text, p_session uuid, p_ip inet, p_ua text)
RETURNS void
LANGUAGE sql
BEGIN ATOMIC
	INSERT INTO audit_log (event, reason, user_id, username, session_id,
	    ip, user_agent)
	VALUES ('login.failed', p_reason, nullif(p_user, 0), p_username,
	    p_session, p_ip, p_ua);
END;

-- A re-auth with the right password: the session counts as freshly
-- authenticated, audited. False when the session ended meanwhile.
CREATE FUNCTION auth_reauth(p_attempt int8, p_user int8, p_session uuid,
    p_ip inet, p_ua text)
RETURNS bool
LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM auth_failures WHERE id = p_attempt;
	UPDATE sessions SET authenticated_at = now()
	WHERE user_id = p_user AND id = p_session AND revoked_at IS NULL;
	IF NOT FOUND THEN
		RETURN false;
	END IF;
	INSERT INTO audit_log (event, user_id, session_id, target_session_id,
	    ip, user_agent)
	VALUES ('session.reauthenticated', p_user, p_session, p_session, p_ip,
	    p_ua);
	RETURN true;
END
$$;

-- A new password hash for p_user, with its audit rows and NOTIFYs in one
-- transaction. From a session (p_session): that session stays and counts
-- as freshly authenticated; the others end (reason password_changed) when
-- p_others. From sessionctl (p_session NULL): every session ends and both
-- events carry reason admin. Returns how many sessions ended, or NULL
-- when the acting session ended meanwhile (then nothing changed).
CREATE FUNCTION password_change(p_attempt int8, p_user int8,
    p_session uuid, p_pw_hash text, p_others bool, p_ip inet, p_ua text)
RETURNS int8
LANGUAGE plpgsql AS $$
DECLARE
	n	int8 := 0;
	why	text := CASE WHEN p_session IS NULL THEN 'admin'
			ELSE 'password_changed' END;
BEGIN
	DELETE FROM auth_failures WHERE id = p_attempt;
	PERFORM 1 FROM users WHERE id = p_user FOR NO KEY UPDATE;
	IF p_session IS NOT NULL THEN
		UPDATE sessions SET authenticated_at = now()
		WHERE user_id = p_user AND id = p_session
		    AND revoked_at IS NULL;
		IF NOT FOUND THEN
			RETURN NULL;
		END IF;
	END IF;
	UPDATE users SET password_hash = p_pw_hash WHERE id = p_user;
	INSERT INTO audit_log (event, reason, user_id, session_id,
	    target_session_id, ip, user_agent)
	VALUES ('password.changed', CASE WHEN p_session IS NULL THEN 'admin'
	    END, p_user, p_session, p_session, p_ip, p_ua);
	IF p_session IS NULL OR p_others THEN
		WITH r AS (
			UPDATE sessions s SET revoked_at = now(),
			    revoke_reason = why
			WHERE s.user_id = p_user AND s.revoked_at IS NULL
			    AND s.id IS DISTINCT FROM p_session
			RETURNING s.id)
		INSERT INTO audit_log (event, reason, user_id, session_id,
		    target_session_id, ip, user_agent)
		SELECT 'session.revoked', why, p_user, p_session, r.id, p_ip,
		    p_ua
		FROM r;
		GET DIAGNOSTICS n = ROW_COUNT;
	END IF;
	RETURN n;
END
$$;
