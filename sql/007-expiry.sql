-- One definition of "expired" and of "purged", in SQL, for sessiond (one
-- session, found ended when it is used) and for sessionctl purge (every
-- such session, in batches) alike: a session that time has ended is
-- revoked with reason 'expired' as of the moment it ended
-- (session_expires, 002), with its audit row; a session that ended more
-- than the retention period ago is deleted, its audit rows kept.

CREATE OR REPLACE FUNCTION session_expire(p_user int8, p_id uuid,
    p_idle int, p_ip inet, p_ua text)
RETURNS bool
LANGUAGE sql
BEGIN ATOMIC
	WITH e AS (
		UPDATE sessions s SET revoked_at = session_expires(s, p_idle),
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

-- Up to p_limit sessions of any user that time has ended, recorded as
-- session_expire records one (the actor named 'sessionctl'). Sessions
-- another transaction holds are left for the next batch. Returns how
-- many.
CREATE FUNCTION sessions_expire(p_idle int, p_limit int)
RETURNS int
LANGUAGE sql
BEGIN ATOMIC
	WITH e AS (
		UPDATE sessions s SET revoked_at = session_expires(s, p_idle),
		    revoke_reason = 'expired'
		WHERE s.id IN (
			SELECT c.id FROM sessions c
			WHERE c.revoked_at IS NULL
			    AND session_expires(c, p_idle) <= now()
			LIMIT p_limit FOR UPDATE SKIP LOCKED)
		    AND s.revoked_at IS NULL
		RETURNING s.id, s.user_id),
	a AS (
		INSERT INTO audit_log (event, reason, user_id,
		    target_session_id, user_agent)
		SELECT 'session.revoked', 'expired', e.user_id, e.id,
		    'sessionctl'
		FROM e
		RETURNING 1)
	SELECT count(*)::int FROM a;
END;

-- Up to p_limit sessions that ended (revoked or expired) more than p_days
-- ago, deleted; audit_log keeps their rows. Returns how many.
CREATE FUNCTION sessions_purge(p_days int, p_limit int)
RETURNS int
LANGUAGE sql
BEGIN ATOMIC
	WITH d AS (
		DELETE FROM sessions WHERE id IN (
			SELECT id FROM sessions
			WHERE revoked_at < now() - make_interval(days => p_days)
			LIMIT p_limit)
		RETURNING 1)
	SELECT count(*)::int FROM d;
END;

-- sessionctl's, which runs as the owner: the service has no use for them.
REVOKE EXECUTE ON FUNCTION sessions_expire(int, int) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION sessions_purge(int, int) FROM PUBLIC;
