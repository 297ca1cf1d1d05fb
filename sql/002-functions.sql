-- The session rules that must hold in one transaction: login with the
-- per-user cap, revocation with its audit rows (the trigger on audit_log
-- sends NOTIFY), and recording a session that ended by time. Validation
-- itself is a plain read (fcgi/db.c, ST_CHECK) so that it can run on a
-- standby; its last-seen write happens at most once a minute.
--
-- Logins and revocations of one user take that user's row lock first, so
-- that they serialise per user: the cap stays exact and two "revoke all
-- others" cannot deadlock on each other's session rows.

-- Small helpers, STABLE as their bodies are (timestamptz arithmetic):
-- a function marked more than its body is never inlined, and these sit
-- in every row of every hot query.
CREATE FUNCTION epoch(t timestamptz) RETURNS int8
LANGUAGE sql STABLE PARALLEL SAFE
RETURN floor(extract(epoch FROM t))::int8;

CREATE FUNCTION epoch_us(t timestamptz) RETURNS int8
LANGUAGE sql STABLE PARALLEL SAFE
RETURN (extract(epoch FROM t) * 1000000)::int8;

CREATE FUNCTION from_epoch_us(us int8) RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE
RETURN 'epoch'::timestamptz + us * interval '1 microsecond';

-- When a session ends if nothing else happens: the earlier of the idle
-- deadline and the absolute lifetime. The one definition of "ended by time".
CREATE FUNCTION session_expires(s sessions, idle int) RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE
RETURN least(s.last_seen_at + make_interval(secs => idle),
    s.absolute_expires_at);

-- A session found ended by time is recorded as revoked (reason 'expired')
-- once, with its audit row. Returns whether this call recorded it.
CREATE FUNCTION session_expire(p_user int8, p_id uuid, p_idle int,
    p_ip inet, p_ua text)
RETURNS bool
LANGUAGE sql
BEGIN ATOMIC
	WITH e AS (
		UPDATE sessions s SET revoked_at = now(),
		    revoke_reason = 'expired'
		WHERE s.user_id = p_user AND s.id = p_id
		    AND s.revoked_at IS NULL
		    AND session_expires(s, p_idle) <= now()
		RETURNING s.id),
	a AS (
		INSERT INTO audit_log (event, reason, user_id,
		    target_session_id, ip, user_agent)
		SELECT 'session.revoked', 'expired', p_user, e.id, p_ip, p_ua
		FROM e
		RETURNING 1)
	SELECT count(*) > 0 FROM a;
END;

-- Create a session for an enabled user, audit it, and evict the least
-- recently seen active sessions beyond p_cap. Returns the new row, or
-- nothing when the user is unknown or disabled.
CREATE FUNCTION session_login(p_user int8, p_hash bytea, p_lifetime int,
    p_idle int, p_cap int, p_ip inet, p_ua text, p_ch_ua text,
    p_ch_platform text, p_ch_mobile text)
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
	    user_agent, ch_ua, ch_platform, ch_mobile)
	VALUES (p_user, p_hash, now() + make_interval(secs => p_lifetime),
	    p_ip, p_ua, p_ch_ua, p_ch_platform, p_ch_mobile)
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

-- Revoke one active session of p_user (p_target), or with p_target NULL
-- every active session but p_actor. Returns the ids it revoked: an empty
-- result means there was nothing to revoke (unknown, foreign or ended),
-- or that the acting session itself ended while this waited for the lock
-- (two sessions revoking each other: only the first wins).
CREATE FUNCTION session_revoke(p_user int8, p_actor uuid, p_target uuid,
    p_reason text, p_idle int, p_ip inet, p_ua text)
RETURNS SETOF uuid
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM 1 FROM users WHERE id = p_user FOR NO KEY UPDATE;
	IF p_actor IS NOT NULL THEN
		PERFORM 1 FROM sessions
		    WHERE user_id = p_user AND id = p_actor AND revoked_at IS NULL;
		IF NOT FOUND THEN
			RETURN;
		END IF;
	END IF;
	IF p_target IS NOT NULL THEN
		RETURN QUERY
		WITH r AS (
			UPDATE sessions s SET revoked_at = now(),
			    revoke_reason = p_reason
			WHERE s.user_id = p_user AND s.id = p_target
			    AND s.revoked_at IS NULL
			    AND session_expires(s, p_idle) > now()
			RETURNING s.id)
		INSERT INTO audit_log (event, reason, user_id, session_id,
		    target_session_id, ip, user_agent)
		SELECT 'session.revoked', p_reason, p_user, p_actor, r.id,
		    p_ip, p_ua
		FROM r
		RETURNING target_session_id;
	ELSE
		RETURN QUERY
		WITH r AS (
			UPDATE sessions s SET revoked_at = now(),
			    revoke_reason = p_reason
			WHERE s.user_id = p_user
			    AND s.id IS DISTINCT FROM p_actor
			    AND s.revoked_at IS NULL
			    AND session_expires(s, p_idle) > now()
			RETURNING s.id)
		INSERT INTO audit_log (event, reason, user_id, session_id,
		    target_session_id, ip, user_agent)
		SELECT 'session.revoked', p_reason, p_user, p_actor, r.id,
		    p_ip, p_ua
		FROM r
		RETURNING target_session_id;
	END IF;
END
$$;

-- What login needs before it may spend time on the password: the user
-- (if any) and, per user name and per IP, how many failures the window
-- holds and how many seconds until the oldest of them leaves it.
CREATE FUNCTION login_check(p_username text, p_ip inet, p_window int)
RETURNS TABLE (user_id int8, password_hash text, disabled bool,
    user_failures int8, user_retry int8, ip_failures int8, ip_retry int8)
LANGUAGE sql STABLE
BEGIN ATOMIC
	SELECT u.id, u.password_hash, u.disabled_at IS NOT NULL,
	    fu.n, fu.retry, fi.n, fi.retry
	FROM (SELECT count(*) AS n,
		    ceil(extract(epoch FROM min(a.at) +
		    make_interval(secs => p_window) - now()))::int8 AS retry
		FROM audit_log a
		WHERE a.event = 'login.failed' AND a.username = p_username
		    AND a.at > now() - make_interval(secs => p_window)) fu
	CROSS JOIN (SELECT count(*) AS n,
		    ceil(extract(epoch FROM min(a.at) +
		    make_interval(secs => p_window) - now()))::int8 AS retry
		FROM audit_log a
		WHERE a.event = 'login.failed' AND a.ip = p_ip
		    AND a.at > now() - make_interval(secs => p_window)) fi
	LEFT JOIN users u ON u.username = p_username;
END;
