-- scripts/bench: helpers that seed users and sessions with SQL, not through
-- the API (a login costs a password hash; the benchmark needs hundreds of
-- thousands of sessions). Not a pgbench script: psql runs it once, as the
-- superuser, in the benchmark's own database (.run/bench), never elsewhere.
--
-- A seeded session of user u, number k, is deterministic:
--   token       = sha256('bench:<u>:<k>')          (the 256-bit secret)
--   token_hash  = sha256(token)                     (what sessiond looks up)
--   id          = md5('bench-session:<u>:<k>')      (its uuid)
-- and bench.cookie(u, k) signs the cookie exactly as fcgi/cookie.c does:
--   "v1.<kid>.<u>.<b64url token>.<b64url HMAC-SHA256(key, the rest)>"
-- with the key scripts/bench puts into bench.key from the stack's keys
-- file. bench.csrf(u, k) is base64url(HMAC-SHA256(token, "csrf")).

CREATE EXTENSION IF NOT EXISTS pgcrypto;
CREATE SCHEMA IF NOT EXISTS bench;
-- pgbench connects as sessiond's role and calls bench.session_id.
GRANT USAGE ON SCHEMA bench TO PUBLIC;

CREATE TABLE IF NOT EXISTS bench.key (kid text NOT NULL, secret bytea NOT NULL);

CREATE OR REPLACE FUNCTION bench.b64url(b bytea) RETURNS text
LANGUAGE sql IMMUTABLE
RETURN translate(encode(b, 'base64'), E'+/=\n', '-_');

CREATE OR REPLACE FUNCTION bench.b64url_decode(s text) RETURNS bytea
LANGUAGE sql IMMUTABLE
RETURN decode(translate(s, '-_', '+/') ||
    repeat('=', (4 - length(s) % 4) % 4), 'base64');

CREATE OR REPLACE FUNCTION bench.token(u int8, k int) RETURNS bytea
LANGUAGE sql IMMUTABLE
RETURN sha256(convert_to('bench:' || u || ':' || k, 'UTF8'));

CREATE OR REPLACE FUNCTION bench.session_id(u int8, k int) RETURNS uuid
LANGUAGE sql IMMUTABLE
RETURN md5('bench-session:' || u || ':' || k)::uuid;

CREATE OR REPLACE FUNCTION bench.cookie(u int8, k int) RETURNS text
LANGUAGE sql STABLE
BEGIN ATOMIC
	SELECT m || '.' || bench.b64url(hmac(convert_to(m, 'UTF8'), secret,
	    'sha256'))
	FROM (SELECT 'v1.' || kid || '.' || u || '.' ||
		bench.b64url(bench.token(u, k)) AS m, secret
	    FROM bench.key LIMIT 1) x;
END;

CREATE OR REPLACE FUNCTION bench.csrf(u int8, k int) RETURNS text
LANGUAGE sql IMMUTABLE
RETURN bench.b64url(hmac('csrf'::bytea, bench.token(u, k), 'sha256'));

-- The user agents seeded sessions carry (sessiond parses them for the list).
CREATE OR REPLACE FUNCTION bench.ua(k int) RETURNS text
LANGUAGE sql IMMUTABLE
RETURN (ARRAY[
    'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1',
    'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36',
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91'
    ])[1 + k % 5];

-- Users <prefix>-1 .. <prefix>-n with the given password hash (any text
-- for users who never log in). Returns how many it created.
CREATE OR REPLACE FUNCTION bench.users(prefix text, n int, hash text)
RETURNS int8
LANGUAGE sql
BEGIN ATOMIC
	WITH i AS (
		INSERT INTO users (username, password_hash)
		SELECT prefix || '-' || g, hash FROM generate_series(1, n) g
		RETURNING 1)
	SELECT count(*) FROM i;
END;

-- Sessions k = k_from .. k_to for every user <prefix>-*: active, last seen
-- two minutes ago (so the first request of each writes last-seen once),
-- authenticated an hour ago, or now when fresh (revoking others needs a
-- recent login). Session k was created k minutes ago.
CREATE OR REPLACE FUNCTION bench.sessions(prefix text, k_from int, k_to int,
    fresh bool DEFAULT false)
RETURNS int8
LANGUAGE sql
BEGIN ATOMIC
	WITH i AS (
		INSERT INTO sessions (id, user_id, token_hash, created_at,
		    authenticated_at, last_seen_at, absolute_expires_at, ip,
		    user_agent)
		SELECT bench.session_id(u.id, k), u.id,
		    sha256(bench.token(u.id, k)),
		    now() - k * interval '1 minute',
		    CASE WHEN fresh THEN now() ELSE now() - interval '1 hour' END,
		    now() - interval '2 minutes', now() + interval '30 days',
		    ('192.0.2.' || (1 + k % 250))::inet, bench.ua(k)
		FROM users u CROSS JOIN generate_series(k_from, k_to) k
		WHERE u.username LIKE prefix || '-%'
		RETURNING 1)
	SELECT count(*) FROM i;
END;

-- Other users' sessions until the table holds n rows: 100 per user, one in
-- four of them ended (as a real table holds until purge removes them).
CREATE OR REPLACE FUNCTION bench.fill(n int8) RETURNS int8
LANGUAGE plpgsql AS $$
DECLARE
	have	int8;
	need	int8;
	first	int8;
	nusers	int8;
	last_id	int8;
BEGIN
	SELECT count(*) INTO have FROM sessions;
	need := n - have;
	IF need <= 0 THEN
		RETURN 0;
	END IF;
	SELECT count(*) INTO first FROM users WHERE username LIKE 'bench-fill-%';
	nusers := (need + 99) / 100;
	SELECT coalesce(max(id), 0) INTO last_id FROM users;
	INSERT INTO users (username, password_hash)
	SELECT 'bench-fill-' || g, 'x'
	FROM generate_series(first + 1, first + nusers) g;
	INSERT INTO sessions (user_id, token_hash, created_at, authenticated_at,
	    last_seen_at, absolute_expires_at, revoked_at, revoke_reason, ip,
	    user_agent)
	SELECT u.id, sha256(int8send(u.id * 1000 + k)),
	    now() - k * interval '1 hour', now() - k * interval '1 hour',
	    now() - k * interval '1 minute', now() + interval '20 days',
	    CASE WHEN k % 4 = 0 THEN now() - interval '1 day' END,
	    CASE WHEN k % 4 = 0 THEN 'user' END,
	    ('198.51.100.' || (1 + k % 250))::inet, bench.ua(k::int)
	FROM users u CROSS JOIN generate_series(1, 100) k
	WHERE u.id > last_id
	LIMIT need;
	RETURN need;
END
$$;
