-- A user's revocation in one call, sent in one pipeline with the request's
-- session check: one round trip. The acting session is found by its
-- token's hash as the session check finds it (live: not revoked, not
-- past its idle or absolute end), the re-authentication rule is applied
-- to it, and only then session_revoke (002) ends the target (or every
-- other session when p_target is NULL), writing the audit rows whose
-- trigger sends the NOTIFYs, all in the caller's transaction.
--
-- One row per outcome: ('not_authenticated', NULL) when the acting
-- session is not live, ('reauth_required', NULL) when it last proved its
-- password longer than p_window seconds ago (0: no rule; ending one's own
-- session never needs it), else one ('revoked', id) per session ended,
-- none when nothing was.
CREATE FUNCTION session_revoke_by_token(p_user int8, p_token bytea,
    p_target uuid, p_reason text, p_idle int, p_window int, p_ip inet,
    p_ua text)
RETURNS TABLE (outcome text, revoked uuid)
LANGUAGE plpgsql AS $$
DECLARE
	v_actor uuid;
	v_auth timestamptz;
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
	IF p_window > 0 AND p_target IS DISTINCT FROM v_actor
	    AND now() - v_auth > make_interval(secs => p_window) THEN
		RETURN QUERY SELECT 'reauth_required'::text, NULL::uuid;
		RETURN;
	END IF;
	RETURN QUERY SELECT 'revoked'::text, r.id
	FROM session_revoke(p_user, v_actor, p_target, p_reason, p_idle,
	    p_ip, p_ua) AS r(id);
END
$$;

ALTER FUNCTION session_revoke_by_token(int8, bytea, uuid, text, int, int,
    inet, text) SECURITY DEFINER SET search_path = public, pg_temp;
REVOKE EXECUTE ON FUNCTION session_revoke_by_token(int8, bytea, uuid, text,
    int, int, inet, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION session_revoke_by_token(int8, bytea, uuid, text,
    int, int, inet, text) TO sessiond_runtime;
