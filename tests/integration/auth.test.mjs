// Login, logout, the current session, re-authentication, the cookie and
// its signature, CSRF and the Origin rule, login throttling.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
	api, as, assertError, assertSessionShape, assertStatus,
	clearIpFailures, closeDb, createUser, epoch, forgeCookie, login, sql,
	uniq, ORIGIN, TIME_RE,
} from './lib.mjs';

const EVIL = 'https://evil.example';

before(clearIpFailures);
after(async () => {
	await clearIpFailures();
	await closeDb();
});

// The parts of a cookie value: v1.<kid>.<uid>.<token>.<mac>.
function cookieParts(v) {
	const [v1, kid, uid, token, mac] = v.split('.');
	return { v1, kid, uid, token, mac };
}

// The server's signing keys, as the stack wrote them (kid -> Buffer).
function serverKeys() {
	const keys = [];
	for (const line of readFileSync(`${process.env.STACK_DIR}/keys`, 'utf8')
	    .split('\n')) {
		const t = line.trim();
		if (t === '' || t.startsWith('#'))
			continue;
		const i = t.indexOf(':');
		keys.push({ kid: t.slice(0, i),
		    key: Buffer.from(t.slice(i + 1), 'base64url') });
	}
	return keys;
}

function sign(kid, key, uid, token) {
	const text = `v1.${kid}.${uid}.${token}`;
	return `${text}.${createHmac('sha256', key).update(text)
	    .digest('base64url')}`;
}

test('login: 200 with the session, the CSRF token and the cookie',
    async () => {
	const u = await createUser(uniq('login'));
	const t0 = Math.floor(Date.now() / 1000);
	const r = await api('POST', '/api/auth/login/', {
	    json: { username: u.name, password: u.password },
	    headers: { 'User-Agent': 'Mozilla/5.0 (X11; Linux x86_64; ' +
	    'rv:133.0) Gecko/20100101 Firefox/133.0' } });
	assertStatus(r, 200, 'login');
	assert.deepEqual(Object.keys(r.body).sort(), ['csrf_token', 'session']);
	assert.equal(typeof r.body.csrf_token, 'string');
	assert.ok(r.body.csrf_token.length >= 32);
	const s = r.body.session;
	assertSessionShape(s);
	assert.equal(s.current, true);
	assert.equal(s.ip, '127.0.0.1');
	assert.equal(s.browser, 'Firefox 133');
	assert.equal(s.os, 'Linux');
	assert.equal(s.device, 'Desktop');
	const now = Math.floor(Date.now() / 1000);
	for (const k of ['created_at', 'last_seen_at', 'authenticated_at']) {
		assert.ok(epoch(s[k]) >= t0 - 2 && epoch(s[k]) <= now + 2, k);
	}
	// Idle timeout (1 day) is sooner than the absolute lifetime (30 d).
	assert.ok(Math.abs(epoch(s.expires_at) - (epoch(s.last_seen_at) +
	    86400)) <= 1, `expires_at ${s.expires_at}`);

	// The cookie: HttpOnly, SameSite=Lax, Path=/, not Secure over HTTP.
	const attrs = r.setCookie.split(';').map((x) => x.trim().toLowerCase());
	assert.ok(attrs.includes('httponly'), r.setCookie);
	assert.ok(attrs.includes('samesite=lax'), r.setCookie);
	assert.ok(attrs.includes('path=/'), r.setCookie);
	assert.ok(!attrs.includes('secure'), r.setCookie);

	// The token: 256 bits, not the id, stored only as its SHA-256.
	const c = cookieParts(r.cookie);
	assert.equal(c.v1, 'v1');
	assert.equal(c.uid, u.id);
	const token = Buffer.from(c.token, 'base64url');
	assert.ok(token.length >= 32, 'token of at least 256 bits');
	assert.ok(!r.cookie.includes(s.id));
	assert.ok(!r.cookie.includes(s.id.replaceAll('-', '')));
	const { rows } = await sql('SELECT * FROM sessions WHERE id = $1',
	    [s.id]);
	assert.equal(rows.length, 1);
	assert.equal(String(rows[0].user_id), u.id);
	assert.deepEqual(rows[0].token_hash,
	    createHash('sha256').update(token).digest());
	const stored = JSON.stringify(await sql(
	    'SELECT * FROM sessions WHERE user_id = $1', [u.id]));
	assert.ok(!stored.includes(c.token));
	assert.ok(!stored.includes(token.toString('hex')));

	// One session.created audit row, about this session.
	const a = await sql("SELECT * FROM audit_log WHERE user_id = $1 " +
	    "AND event = 'session.created'", [u.id]);
	assert.equal(a.rows.length, 1);
	assert.equal(a.rows[0].target_session_id, s.id);
	assert.equal(a.rows[0].session_id, s.id);
	assert.equal(a.rows[0].ip, '127.0.0.1');
});

test('login: a new session every time, whatever cookie came in', async () => {
	const u = await createUser(uniq('fixation'));
	const a = await login(u);
	const b = await login(u, { cookie: a.cookie });
	assert.notEqual(a.session.id, b.session.id);
	assert.notEqual(a.cookie, b.cookie);
	assert.notEqual(a.csrf, b.csrf);
	// A planted, unknown cookie is replaced too.
	const c = await login(u, { cookie: forgeCookie('x', u.id) });
	assert.notEqual(c.session.id, b.session.id);
	for (const s of [a, b, c]) {
		const r = await as(s).get('/api/users/me/current-session/');
		assertStatus(r, 200);
		assert.equal(r.body.session.id, s.session.id);
	}
});

test('login: client-sent forwarding headers do not change the ip',
    async () => {
	const u = await createUser(uniq('xff'));
	const s = await login(u, { headers: {
	    'X-Forwarded-For': '203.0.113.7', 'X-Real-IP': '203.0.113.8',
	    Forwarded: 'for=203.0.113.9' } });
	assert.equal(s.session.ip, '127.0.0.1');
	const r = await as(s).get('/api/users/me/current-session/', {
	    headers: { 'X-Forwarded-For': '198.51.100.1' } });
	assert.equal(r.body.session.ip, '127.0.0.1');
});

test('a user agent holding <script> comes back verbatim as a JSON string',
    async () => {
	const ua = '<script>alert("x")</script><img src=x onerror=alert(1)> ' +
	    "&amp; ' \\ /";
	const u = await createUser(uniq('xss'));
	const s = await login(u, { headers: { 'User-Agent': ua } });
	assert.equal(s.session.user_agent, ua);
	assert.equal(s.session.browser, 'Unknown');
	const cur = await as(s).get('/api/users/me/current-session/', {
	    headers: { 'User-Agent': ua } });
	assert.equal(typeof cur.body.session.user_agent, 'string');
	assert.equal(cur.body.session.user_agent, ua);
	const list = await as(s).get('/api/auth/sessions/', {
	    headers: { 'User-Agent': ua } });
	assert.equal(list.body.sessions[0].user_agent, ua);
	const audit = await as(s).get('/api/auth/audit/', {
	    headers: { 'User-Agent': ua } });
	assert.equal(audit.body.events[0].user_agent, ua);
	// The raw answer is JSON text, not HTML: parsed back, it is the same.
	assert.match(list.headers.get('content-type'), /^application\/json/);
	assert.ok(list.text.includes('<script>'), 'no HTML escaping in JSON');
});

test('login: unknown user and wrong password give the same 401',
    async () => {
	const u = await createUser(uniq('creds'));
	const wrong = await api('POST', '/api/auth/login/', {
	    json: { username: u.name, password: 'not the password' } });
	const unknown = await api('POST', '/api/auth/login/', {
	    json: { username: uniq('ghost'), password: 'not the password' } });
	const wrong2 = await api('POST', '/api/auth/login/', {
	    json: { username: u.name, password: 'also not it' } });
	const unknown2 = await api('POST', '/api/auth/login/', {
	    json: { username: uniq('ghost'), password: u.password } });
	for (const r of [wrong, unknown, wrong2, unknown2]) {
		assertError(r, 401, 'invalid_credentials');
		assert.equal(r.setCookie, undefined, 'no cookie on failure');
	}
	assert.equal(wrong.text, unknown.text);
	const names = (r) => [...r.headers.keys()].filter((k) => k !== 'date')
	    .sort();
	assert.deepEqual(names(wrong), names(unknown));
	for (const k of names(wrong))
		if (k !== 'date')
			assert.equal(wrong.headers.get(k), unknown.headers.get(k), k);
	// About the same time: both run the password KDF.
	const tw = Math.min(wrong.ms, wrong2.ms);
	const tu = Math.min(unknown.ms, unknown2.ms);
	assert.ok(tu > tw * 0.3 && tw > tu * 0.3,
	    `wrong password ${tw} ms, unknown user ${tu} ms`);
	// The failures are audited, and belong to the existing user.
	const { rows } = await sql("SELECT count(*)::int AS n FROM audit_log " +
	    "WHERE event = 'login.failed' AND user_id = $1", [u.id]);
	assert.equal(rows[0].n, 2);
});

test('login throttling: 10 failures per user name and IP, then 429 with ' +
    'Retry-After', async () => {
	const u = await createUser(uniq('throttle'));
	const other = await createUser(uniq('bystander'));
	for (let i = 0; i < 10; i++) {
		const r = await api('POST', '/api/auth/login/', {
		    json: { username: u.name, password: `wrong ${i}` } });
		assertError(r, 401, 'invalid_credentials', `failure ${i + 1}`);
	}
	// Now even the right password is refused, quickly.
	const r = await api('POST', '/api/auth/login/', {
	    json: { username: u.name, password: u.password } });
	assertError(r, 429, 'too_many_requests', 'after 10 failures');
	const ra = r.headers.get('retry-after');
	assert.match(ra ?? '', /^\d+$/, `Retry-After: ${ra}`);
	assert.ok(Number(ra) >= 1 && Number(ra) <= 900, `Retry-After ${ra}`);
	assert.equal(r.setCookie, undefined);
	// A throttled attempt is not one more failure.
	const { rows } = await sql("SELECT count(*)::int AS n FROM audit_log " +
	    "WHERE event = 'login.failed' AND username = $1", [u.name]);
	assert.equal(rows[0].n, 10);
	// Per user name: another user from the same address still gets in.
	await login(other);
	// Once the failures leave the window, login works again.
	await sql("UPDATE auth_failures SET at = at - interval '16 minutes' " +
	    'WHERE username = $1', [u.name]);
	await login(u);
});

test('login throttling: 100 failures per client IP', async () => {
	const u = await createUser(uniq('ipthrottle'));
	await sql('INSERT INTO auth_failures (username, ip) ' +
	    "SELECT 'ipflood-' || g, '127.0.0.1' " +
	    'FROM generate_series(1, 100) g');
	try {
		const r = await api('POST', '/api/auth/login/', {
		    json: { username: u.name, password: u.password } });
		assertError(r, 429, 'too_many_requests', 'IP over its limit');
		assert.match(r.headers.get('retry-after') ?? '', /^\d+$/);
	} finally {
		await clearIpFailures();
	}
	await login(u);
});

test('logout: 204, cookie cleared, the session refused afterwards',
    async () => {
	const u = await createUser(uniq('logout'));
	const s = await login(u);
	const keep = await login(u);
	const r = await as(s).post('/api/auth/logout/');
	assert.equal(r.status, 204);
	assert.equal(r.text, '');
	assert.equal(r.headers.get('cache-control'), 'no-store');
	assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
	assert.equal(r.cookie, '', `cleared: ${r.setCookie}`);
	assert.match(r.setCookie, /Max-Age=0|Expires=Thu, 01 Jan 1970/i);
	assert.match(r.setCookie, /Path=\//);
	assertError(await as(s).get('/api/users/me/current-session/'), 401,
	    'not_authenticated', 'after logout');
	assertError(await as(s).post('/api/auth/logout/'), 401,
	    'not_authenticated', 'second logout');
	// Reason logout, audited; the other session is untouched.
	const { rows } = await sql("SELECT * FROM audit_log WHERE " +
	    "event = 'session.revoked' AND target_session_id = $1", [s.session.id]);
	assert.equal(rows.length, 1);
	assert.equal(rows[0].reason, 'logout');
	assert.equal(rows[0].session_id, s.session.id);
	const st = await as(keep).get(
	    `/api/auth/sessions/${s.session.id}/status/`);
	assertStatus(st, 200);
	assert.equal(st.body.status, 'revoked');
	assertStatus(await as(keep).get('/api/users/me/current-session/'), 200);
});

test('logout needs the CSRF token and the Origin rule', async () => {
	const u = await createUser(uniq('logoutcsrf'));
	const s = await login(u);
	const other = await login(u);
	assertError(await api('POST', '/api/auth/logout/', { cookie: s.cookie }),
	    403, 'csrf_failed', 'no token');
	assertError(await api('POST', '/api/auth/logout/', { cookie: s.cookie,
	    csrf: 'x'.repeat(s.csrf.length) }), 403, 'csrf_failed', 'wrong');
	assertError(await api('POST', '/api/auth/logout/', { cookie: s.cookie,
	    csrf: other.csrf }), 403, 'csrf_failed', 'another session\'s');
	assertError(await api('POST', '/api/auth/logout/', { cookie: s.cookie,
	    csrf: '' }), 403, 'csrf_failed', 'empty');
	assertError(await api('POST', '/api/auth/logout/', { cookie: s.cookie,
	    csrf: s.csrf.slice(0, -1) }), 403, 'csrf_failed', 'truncated');
	assertError(await as(s).post('/api/auth/logout/', { origin: EVIL }),
	    403, 'csrf_failed', 'cross-site Origin');
	assertError(await as(s).post('/api/auth/logout/', {
	    headers: { 'Sec-Fetch-Site': 'cross-site' } }), 403, 'csrf_failed',
	    'Sec-Fetch-Site cross-site');
	// None of those ended it.
	assertStatus(await as(s).get('/api/users/me/current-session/'), 200);
	assert.equal((await as(s).post('/api/auth/logout/', {
	    origin: ORIGIN })).status, 204);
});

test('login obeys the Origin rule, needs no CSRF token', async () => {
	const u = await createUser(uniq('loginorigin'));
	const creds = { username: u.name, password: u.password };
	for (const origin of [EVIL, 'null', 'http://127.0.0.1.evil.example',
	    ORIGIN.replace('http:', 'https:'), `${ORIGIN}0`,
	    'http://localhost:1']) {
		const r = await api('POST', '/api/auth/login/', { json: creds,
		    origin });
		assertError(r, 403, 'csrf_failed', `Origin ${origin}`);
		assert.equal(r.setCookie, undefined);
	}
	const r = await api('POST', '/api/auth/login/', { json: creds,
	    headers: { 'Sec-Fetch-Site': 'cross-site' } });
	assertError(r, 403, 'csrf_failed', 'Sec-Fetch-Site: cross-site');
	// Same origin, or none of these headers (curl, scripts): allowed.
	await login(u);
	assertStatus(await api('POST', '/api/auth/login/', { json: creds,
	    origin: ORIGIN, headers: { 'Sec-Fetch-Site': 'same-origin' } }), 200);
	assertStatus(await api('POST', '/api/auth/login/', { json: creds,
	    headers: { 'Sec-Fetch-Site': 'none' } }), 200);
	// The refused attempts were not failures of the user's password.
	const { rows } = await sql("SELECT count(*)::int AS n FROM audit_log " +
	    "WHERE event = 'login.failed' AND username = $1", [u.name]);
	assert.equal(rows[0].n, 0);
});

test('current session: user, session and CSRF token', async () => {
	const u = await createUser(uniq('current'));
	const s = await login(u);
	const r = await as(s).get('/api/users/me/current-session/');
	assertStatus(r, 200);
	assert.deepEqual(Object.keys(r.body).sort(),
	    ['csrf_token', 'session', 'user']);
	assert.deepEqual(Object.keys(r.body.user).sort(), ['id', 'username']);
	assert.equal(String(r.body.user.id), u.id);
	assert.equal(r.body.user.username, u.name);
	assert.equal(r.body.csrf_token, s.csrf);
	assertSessionShape(r.body.session);
	assert.equal(r.body.session.id, s.session.id);
	assert.equal(r.body.session.current, true);
	assert.equal(r.body.session.created_at, s.session.created_at);
	assert.equal(r.body.session.authenticated_at,
	    s.session.authenticated_at);
	// A GET needs no token and ignores Origin.
	assertStatus(await as(s).get('/api/users/me/current-session/', {
	    origin: EVIL }), 200);
});

test('a forged, tampered or foreign cookie gives 401', async () => {
	const u = await createUser(uniq('forge'));
	const v = await createUser(uniq('victim'));
	const s = await login(u);
	const vs = await login(v);
	const c = cookieParts(s.cookie);
	const flip = (t, i) => t.slice(0, i) +
	    (t[i] === 'A' ? 'B' : 'A') + t.slice(i + 1);
	const bad = [
		forgeCookie('zz-unknown', u.id),
		forgeCookie(c.kid, u.id),	// our kid, someone else's key
		`v1.${c.kid}.${c.uid}.${flip(c.token, 5)}.${c.mac}`,
		`v1.${c.kid}.${c.uid}.${c.token}.${flip(c.mac, 3)}`,
		`v1.${c.kid}.${v.id}.${c.token}.${c.mac}`,
		`v1.other.${c.uid}.${c.token}.${c.mac}`,
		`v2.${c.kid}.${c.uid}.${c.token}.${c.mac}`,
		`${s.cookie}.x`,
		`v1.${c.kid}.${c.uid}.${c.token}`,
	];
	for (const cookie of bad) {
		const r = await api('GET', '/api/users/me/current-session/',
		    { cookie });
		assertError(r, 401, 'not_authenticated', `cookie ${cookie}`);
	}
	// Signed with the server's key but naming another user, or a token
	// that has no session: the signature passes, the lookup does not.
	const keys = serverKeys();
	assert.ok(keys.length >= 1);
	const k = keys.find((x) => x.kid === c.kid);
	assert.ok(k, 'the cookie names a server key');
	assert.equal(sign(k.kid, k.key, c.uid, c.token), s.cookie,
	    'the cookie format is the documented one');
	for (const cookie of [sign(k.kid, k.key, v.id, c.token),
	    sign(k.kid, k.key, u.id, randomBytes(32).toString('base64url')),
	    sign(k.kid, k.key, u.id, cookieParts(vs.cookie).token)]) {
		assertError(await api('GET', '/api/users/me/current-session/',
		    { cookie }), 401, 'not_authenticated', 'well-signed, no session');
	}
	// Two cookies of our name in one header: refused, not guessed at.
	const r = await fetch(`${process.env.SESSIOND_URL}` +
	    '/api/users/me/current-session/', { headers: {
	    Cookie: `sid=${vs.cookie}; sid=${s.cookie}` } });
	assert.equal(r.status, 401);
	await r.text();
	// The real ones still work.
	assertStatus(await as(s).get('/api/users/me/current-session/'), 200);
});

test('a session past the re-auth window gets 403 reauth_required until ' +
    'it re-authenticates', async () => {
	const u = await createUser(uniq('reauth'));
	const s = await login(u);
	const o1 = await login(u);
	const o2 = await login(u);
	await sql("UPDATE sessions SET authenticated_at = now() - " +
	    "interval '16 minutes' WHERE id = $1", [s.session.id]);
	const cur = await as(s).get('/api/users/me/current-session/');
	assert.ok(epoch(cur.body.session.authenticated_at) <
	    Date.now() / 1000 - 15 * 60);
	assertError(await as(s).del(`/api/auth/sessions/${o1.session.id}/`),
	    403, 'reauth_required', 'revoke another');
	assertError(await as(s).del('/api/auth/sessions/'), 403,
	    'reauth_required', 'revoke all others');
	// CSRF is checked before recent auth.
	assertError(await api('DELETE', `/api/auth/sessions/${o1.session.id}/`,
	    { cookie: s.cookie }), 403, 'csrf_failed');
	// Nothing was revoked.
	assertStatus(await as(o1).get('/api/users/me/current-session/'), 200);
	// Re-auth: CSRF needed; a wrong password is 401 and audited.
	assertError(await api('POST', '/api/auth/reauth/', { cookie: s.cookie,
	    json: { password: u.password } }), 403, 'csrf_failed');
	const bad = await as(s).post('/api/auth/reauth/', {
	    json: { password: 'wrong password' } });
	assertError(bad, 401, 'invalid_credentials', 'wrong password');
	const { rows } = await sql("SELECT * FROM audit_log WHERE user_id = $1 " +
	    "AND event = 'login.failed'", [u.id]);
	assert.equal(rows.length, 1);
	assert.equal(rows[0].session_id, s.session.id);
	// A failed re-auth does not end the session.
	assertError(await as(s).del('/api/auth/sessions/'), 403,
	    'reauth_required', 'still');
	const ok = await as(s).post('/api/auth/reauth/', {
	    json: { password: u.password } });
	assert.equal(ok.status, 204, ok.text);
	const cur2 = await as(s).get('/api/users/me/current-session/');
	assert.ok(epoch(cur2.body.session.authenticated_at) >=
	    Date.now() / 1000 - 5);
	assert.equal(cur2.body.session.created_at, s.session.created_at);
	assert.equal((await as(s).del(`/api/auth/sessions/${o1.session.id}/`))
	    .status, 204);
	// Revoking one's own session never needs recent auth.
	await sql("UPDATE sessions SET authenticated_at = now() - " +
	    "interval '1 hour' WHERE id = $1", [o2.session.id]);
	assertError(await as(o2).del(`/api/auth/sessions/${s.session.id}/`),
	    403, 'reauth_required');
	const self = await as(o2).del(`/api/auth/sessions/${o2.session.id}/`);
	assert.equal(self.status, 204, self.text);
	assert.equal(self.cookie, '', 'revoking the current session clears ' +
	    'the cookie');
	assertError(await as(o2).get('/api/users/me/current-session/'), 401,
	    'not_authenticated');
	await sql("UPDATE sessions SET authenticated_at = now() - " +
	    "interval '1 hour' WHERE id = $1", [s.session.id]);
	assert.equal((await as(s).post('/api/auth/logout/')).status, 204,
	    'logout needs no recent auth');
});

test('re-auth failures are throttled per session: 5, then 429; ' +
    'other sessions and logins are not', async () => {
	const u = await createUser(uniq('reauththrottle'));
	const s = await login(u);
	const other = await login(u);
	// Four earlier re-auth failures (written as the server counts them,
	// to save four KDF runs), then the fifth for real.
	await sql('INSERT INTO auth_failures (username, ip, session_id) ' +
	    "SELECT $1, '127.0.0.1', $2 FROM generate_series(1, 4)",
	    [u.name, s.session.id]);
	assertError(await as(s).post('/api/auth/reauth/', {
	    json: { password: 'wrong' } }), 401, 'invalid_credentials');
	const r = await as(s).post('/api/auth/reauth/', {
	    json: { password: u.password } });
	assertError(r, 429, 'too_many_requests', 're-auth after 5 failures');
	assert.match(r.headers.get('retry-after') ?? '', /^\d+$/);
	// The password form of that session shares its budget.
	assertError(await as(s).post('/api/auth/password/', {
	    json: { current_password: u.password,
	    new_password: 'zebra quill morning' } }), 429, 'too_many_requests',
	    'password form after 5 re-auth failures');
	// Another session of the user re-authenticates, and logins work.
	assert.equal((await as(other).post('/api/auth/reauth/', {
	    json: { password: u.password } })).status, 204);
	await login(u);
	// The session itself is still valid.
	assertStatus(await as(s).get('/api/users/me/current-session/'), 200);
});

test('timestamps are RFC 3339 UTC with second precision', async () => {
	const u = await createUser(uniq('time'));
	const s = await login(u);
	const r = await as(s).get('/api/users/me/current-session/');
	for (const k of ['created_at', 'last_seen_at', 'expires_at',
	    'authenticated_at'])
		assert.match(r.body.session[k], TIME_RE, k);
	const { rows } = await sql('SELECT extract(epoch FROM created_at) ' +
	    'AS c FROM sessions WHERE id = $1', [s.session.id]);
	assert.equal(epoch(r.body.session.created_at),
	    Math.floor(Number(rows[0].c)));
});

test('browser, OS and device from the user agent, refined by client hints',
    async () => {
	const u = await createUser(uniq('hints'));
	const chrome = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) ' +
	    'AppleWebKit/537.36 (KHTML, like Gecko) Chrome/133.0.0.0 ' +
	    'Safari/537.36';
	const plain = await login(u, { headers: { 'User-Agent': chrome } });
	assert.deepEqual([plain.session.browser, plain.session.os,
	    plain.session.device], ['Chrome 133', 'Windows', 'Desktop']);
	// An Edge on Android that sends a reduced desktop-looking agent but
	// tells the truth in its hints.
	const s = await login(u, { headers: { 'User-Agent': chrome,
	    'Sec-CH-UA': '"Not(A:Brand";v="99", "Microsoft Edge";v="133", ' +
	    '"Chromium";v="133"',
	    'Sec-CH-UA-Platform': '"Android"', 'Sec-CH-UA-Mobile': '?1' } });
	assert.equal(s.session.browser, 'Edge 133');
	assert.equal(s.session.os, 'Android');
	assert.equal(s.session.device, 'Phone');
	assert.equal(s.session.user_agent, chrome);
	// The list shows the same for that session.
	const list = await as(plain).get('/api/auth/sessions/');
	const x = list.body.sessions.find((y) => y.id === s.session.id);
	assert.deepEqual([x.browser, x.os, x.device],
	    ['Edge 133', 'Android', 'Phone']);
	const none = await login(u, { headers: { 'User-Agent': '' } });
	assert.deepEqual([none.session.browser, none.session.os,
	    none.session.device], ['Unknown', 'Unknown', 'Unknown']);
});
