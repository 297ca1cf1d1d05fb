-- Logout in one round trip, as a revocation (008): the session a logout
-- ends is the acting one, whose id only its token tells, so with the
-- reason 'logout' session_revoke_by_token ends the session it found by
-- the token (p_target is not read). Ending one's own session needs no
-- re-authentication. Otherwise as in 008.

CREATE OR REPLACE FUNCTION session_revoke_by_token(p_user int8,
    p_token bytea, p_target uuid, p_reason text, p_idle int, p_window int,
    p_ip inet, p_ua text)
RETURNS TABLE (outcome text, revoked uuid)
LANGUAGE plpgsql AS $$
DECLARE
	v_actor uuid;
	v_auth timestamptz;
	v_target uuid := p_target;
BEGIN
	-- As session_revoke: revocations of one user serialise here, so the
	-- actor found live below stays live until this transaction ends.
	PERFORM 1 FROM users WHERE id = p_user FOR NO KEY UPDATE;
	SELECT s.id, s.authenticated_at INTO v_actor, v_auth
	FROM sessions s
	WHERE s.user_id = p_user AND s.token_hash = p_token
	    AND s.revoked_at IS NULL AND session_expires(s, p_idle) > now();
	IF NOT FOUND THEN
		RETURN QUERY SELECT 'not_authenticated'::text, NULL::uuid;
		RETURN;
	END IF;
	IF p_reason = 'logout' THEN
		v_target := v_actor;
	END IF;
	IF p_window > 0 AND v_target IS DISTINCT FROM v_actor
	    AND now() - v_auth > make_interval(secs => p_window) THEN
		RETURN QUERY SELECT 'reauth_required'::text, NULL::uuid;
		RETURN;
	END IF;
	RETURN QUERY SELECT 'revoked'::text, r.id
	FROM session_revoke(p_user, v_actor, v_target, p_reason, p_idle,
	    p_ip, p_ua) AS r(id);
END
$$;

-- CREATE OR REPLACE resets these: set them again.
ALTER FUNCTION session_revoke_by_token(int8, bytea, uuid, text, int, int,
    inet, text) SECURITY DEFINER SET search_path = public, pg_temp;
