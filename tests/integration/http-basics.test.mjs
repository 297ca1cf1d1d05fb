// Section 3's generic rules: health check, routing, trailing slashes, the
// headers of every answer (nginx's own errors included), body size and
// type, malformed JSON, and the order in which the checks run.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
	api, as, assertApiHeaders, assertError, assertStatus, clearIpFailures,
	closeDb, createUser, login, uniq, BASE, ORIGIN,
} from './lib.mjs';

const SOME_ID = '0b6c6f4e-9a3b-4c1e-8d2f-5e6a7b8c9d0e';
let user, s;

before(async () => {
	await clearIpFailures();
	user = await createUser(uniq('basics'));
	s = await login(user);
});

after(closeDb);

test('/healthz and /healthz/ answer 200 {"status":"ok"}', async () => {
	for (const path of ['/healthz', '/healthz/']) {
		const r = await api('GET', path);
		assertStatus(r, 200, path);
		assert.deepEqual(r.body, { status: 'ok' });
	}
});

test('every path answers the same with or without the trailing slash',
    async () => {
	const a = as(s);
	for (const path of ['/api/users/me/current-session',
	    '/api/auth/sessions', `/api/auth/sessions/${s.session.id}/status`,
	    '/api/auth/audit']) {
		const r1 = await a.get(path);
		const r2 = await a.get(`${path}/`);
		assertStatus(r1, 200, path);
		assertStatus(r2, 200, `${path}/`);
		assert.deepEqual(Object.keys(r1.body), Object.keys(r2.body));
	}
	// POST and DELETE paths: the slashless forms route too.
	const u = await createUser(uniq('slash'));
	const r = await api('POST', '/api/auth/login', {
	    json: { username: u.name, password: u.password } });
	assertStatus(r, 200, 'login without slash');
	const t = { cookie: r.cookie, csrf: r.body.csrf_token };
	const other = await login(u);
	assertStatus(await as(t).post('/api/auth/reauth',
	    { json: { password: u.password } }), 204, 'reauth without slash');
	assertStatus(await as(t).del(`/api/auth/sessions/${other.session.id}`),
	    204, 'revoke without slash');
	const r3 = await as(t).del('/api/auth/sessions');
	assertStatus(r3, 200, 'revoke others without slash');
	assert.deepEqual(r3.body, { revoked: 0 });
	assertStatus(await as(t).post('/api/auth/logout'), 204,
	    'logout without slash');
});

test('unknown API paths give 404 not_found', async () => {
	for (const path of ['/api/', '/api/nope', '/api/auth/', '/api/auth',
	    '/api/auth/sessions/x/y/z', '/api/users/me',
	    `/api/auth/sessions/${SOME_ID}/status/extra`,
	    '/api/auth/loginx', '/api/auth/session']) {
		assertError(await api('GET', path, { cookie: s.cookie }), 404,
		    'not_found', path);
	}
	// Route before everything else: no cookie, no CSRF, still 404.
	assertError(await api('DELETE', '/api/nope'), 404, 'not_found');
	assertError(await api('POST', '/api/nope', { body: 'x',
	    type: 'text/plain' }), 404, 'not_found');
});

test('a known path with the wrong method gives 405 with Allow', async () => {
	const cases = [
		['GET', '/api/auth/login/', ['POST']],
		['PUT', '/api/auth/login/', ['POST']],
		['GET', '/api/auth/logout/', ['POST']],
		['GET', '/api/auth/reauth/', ['POST']],
		['POST', '/api/users/me/current-session/', ['GET']],
		['DELETE', '/api/users/me/current-session/', ['GET']],
		['POST', '/api/auth/sessions/', ['GET', 'DELETE']],
		['PATCH', '/api/auth/sessions', ['GET', 'DELETE']],
		['GET', `/api/auth/sessions/${SOME_ID}/`, ['DELETE']],
		['PUT', `/api/auth/sessions/${SOME_ID}`, ['DELETE']],
		['DELETE', `/api/auth/sessions/${SOME_ID}/status/`, ['GET']],
		['POST', '/api/auth/audit/', ['GET']],
		['POST', '/healthz', ['GET']],
	];
	for (const [m, path, allow] of cases) {
		const r = await api(m, path);
		assertError(r, 405, 'method_not_allowed', `${m} ${path}`);
		const got = (r.headers.get('allow') ?? '').split(',')
		    .map((x) => x.trim()).filter(Boolean).sort();
		assert.deepEqual(got, [...allow].sort(), `Allow of ${m} ${path}`);
	}
});

test('nginx-made errors are JSON with the API headers', async () => {
	// 413: body over 16 KiB, refused by nginx before sessiond.
	const big = await api('POST', '/api/auth/login/', {
	    json: `{"username":"x","password":"${'a'.repeat(17000)}"}` });
	assertError(big, 413, 'payload_too_large', '413 from nginx');
	const big2 = await api('DELETE', '/api/auth/sessions/', {
	    body: 'x'.repeat(20000), type: 'text/plain' });
	assertError(big2, 413, 'payload_too_large', '413 DELETE from nginx');
});

test('nginx-made errors before routing are JSON too (414, 494)',
    async () => {
	// 414: a request line longer than nginx's buffers.
	const long = await api('GET', `/api/${'a'.repeat(9000)}`);
	assert.equal(long.status, 414);
	assertError(long, 414, undefined, 'long URI');
	// 400 (494): a header larger than nginx's buffers.
	const hdr = await api('GET', '/api/auth/sessions/', {
	    headers: { 'X-Big': 'b'.repeat(9000) } });
	assertError(hdr, 400, undefined, 'header too large');
});

test('bodies: 16384 bytes accepted, 16385 give 413', async () => {
	const u = await createUser(uniq('size'));
	const json = JSON.stringify({ username: u.name, password: u.password });
	// Trailing whitespace after the value is valid JSON.
	const exact = json + ' '.repeat(16384 - Buffer.byteLength(json));
	assert.equal(Buffer.byteLength(exact), 16384);
	const ok = await api('POST', '/api/auth/login/', { json: exact });
	assertStatus(ok, 200, '16384-byte login');
	const over = await api('POST', '/api/auth/login/', { json: `${exact} ` });
	assertError(over, 413, 'payload_too_large', '16385-byte login');
	// Also on an endpoint that takes no body, and with a session.
	const r = await as(s).post('/api/auth/reauth/', {
	    json: JSON.stringify({ password: 'x' }) + ' '.repeat(16400) });
	assertError(r, 413, 'payload_too_large', 'reauth 16k+');
});

test('a body that is not application/json gives 415', async () => {
	const body = JSON.stringify({ username: 'nobody', password: 'x' });
	for (const type of ['text/plain', 'application/x-www-form-urlencoded',
	    'multipart/form-data; boundary=x', 'application/jsonx']) {
		assertError(await api('POST', '/api/auth/login/', { body, type }),
		    415, 'unsupported_media_type', type);
	}
	// No Content-Type at all.
	const r = await fetch(`${BASE}/api/auth/login/`, { method: 'POST',
	    body: new Uint8Array(Buffer.from(body)) });
	assert.equal(r.status, 415);
	await r.text();
	// The parameters of application/json are fine.
	const u = await createUser(uniq('ctype'));
	assertStatus(await api('POST', '/api/auth/login/', {
	    json: { username: u.name, password: u.password },
	    type: 'application/json; charset=utf-8' }), 200, 'charset');
	// reauth: 415 too.
	assertError(await as(s).post('/api/auth/reauth/', { body: 'password=x',
	    type: 'text/plain' }), 415, 'unsupported_media_type', 'reauth');
});

test('malformed JSON gives 400 invalid_json', async () => {
	const bad = [
		'', '{', '{"username": "a", "password": "b"', 'null', '[]', '"s"',
		'42', '{"username": "a", "password": "b"} x',
		'{"username": "a", "password": "b"}{}',
		'{username: "a", password: "b"}',
		"{'username': 'a', 'password': 'b'}",
		'{"username": "a", "password": "b",}',
		// duplicate keys
		'{"username": "a", "password": "b", "password": "c"}',
		'{"username": "a", "username": "a", "password": "b"}',
		// unknown keys
		'{"username": "a", "password": "b", "remember": true}',
		'{"username": "a", "password": "b", "": 1}',
		// missing keys
		'{"username": "a"}', '{"password": "b"}', '{}',
		// wrong types
		'{"username": 1, "password": "b"}',
		'{"username": "a", "password": null}',
		'{"username": "a", "password": ["b"]}',
		'{"username": {"a": 1}, "password": "b"}',
		'{"username": "a", "password": true}',
		// empty strings
		'{"username": "", "password": "b"}',
		// invalid UTF-8 and NUL
		Buffer.from('{"username": "\xff", "password": "b"}', 'latin1'),
		'{"username": "a\\u0000b", "password": "b"}',
	];
	for (const body of bad) {
		const r = await api('POST', '/api/auth/login/', { body,
		    type: 'application/json' });
		assertError(r, 400, 'invalid_json', `login body ${body}`);
	}
	for (const body of ['{}', '{"password": 1}', '{"password": "a", ' +
	    '"password": "a"}', '{"password": "a", "username": "b"}', '[',
	    '{"pass": "x"}']) {
		const r = await as(s).post('/api/auth/reauth/', { body,
		    type: 'application/json' });
		assertError(r, 400, 'invalid_json', `reauth body ${body}`);
	}
});

test('check order: route, body, session, CSRF, recent auth', async () => {
	// Body before session: no cookie, bad body on reauth.
	assertError(await api('POST', '/api/auth/reauth/', { body: 'x',
	    type: 'text/plain' }), 415, 'unsupported_media_type',
	    'reauth 415 before 401');
	assertError(await api('POST', '/api/auth/reauth/', { json: '{' }), 400,
	    'invalid_json', 'reauth invalid_json before 401');
	// Session before CSRF: no cookie and no token give 401, not 403.
	assertError(await api('POST', '/api/auth/logout/'), 401,
	    'not_authenticated', 'logout without cookie nor token');
	assertError(await api('DELETE', `/api/auth/sessions/${SOME_ID}/`), 401,
	    'not_authenticated', 'delete without cookie nor token');
	assertError(await api('DELETE', '/api/auth/sessions/'), 401,
	    'not_authenticated', 'delete others without cookie nor token');
	assertError(await api('POST', '/api/auth/logout/', {
	    origin: 'https://evil.example' }), 401, 'not_authenticated',
	    'cross-site logout without cookie');
	assertError(await api('POST', '/api/auth/reauth/', {
	    json: { password: 'x' } }), 401, 'not_authenticated',
	    'reauth without cookie');
	// Body before the Origin rule on login.
	assertError(await api('POST', '/api/auth/login/', { body: 'x',
	    type: 'text/plain', origin: 'https://evil.example' }), 415,
	    'unsupported_media_type', 'login 415 before origin');
	assertError(await api('POST', '/api/auth/login/', { json: '{"a":',
	    origin: 'https://evil.example' }), 400, 'invalid_json',
	    'login invalid_json before origin');
	// Method before session: 405 without a cookie.
	assertError(await api('PUT', '/api/auth/sessions/'), 405,
	    'method_not_allowed');
	// A malformed id with no session: 401 (session before the handler).
	assertError(await api('GET', '/api/auth/sessions/nope/status/'), 401,
	    'not_authenticated');
	// CSRF before recent auth and before the handler's 400/404.
	const a = as({ cookie: s.cookie });
	assertError(await a.del('/api/auth/sessions/nope/'), 403,
	    'csrf_failed', 'bad id without token');
	assertError(await a.del(`/api/auth/sessions/${SOME_ID}/`), 403,
	    'csrf_failed', 'unknown id without token');
});

test('unauthenticated GETs give 401 not_authenticated', async () => {
	for (const path of ['/api/users/me/current-session/',
	    '/api/auth/sessions/', `/api/auth/sessions/${SOME_ID}/status/`,
	    '/api/auth/audit/']) {
		assertError(await api('GET', path), 401, 'not_authenticated',
		    path);
		for (const cookie of ['', 'garbage', 'v1.', 'v1.a.b.c.d',
		    `${s.cookie}x`, s.cookie.slice(0, -1)])
			assertError(await api('GET', path, { cookie }), 401,
			    'not_authenticated', `${path} cookie ${cookie}`);
	}
});

test('same-origin Origin is accepted on unsafe requests', async () => {
	const u = await createUser(uniq('origin'));
	const r = await api('POST', '/api/auth/login/', { origin: ORIGIN,
	    json: { username: u.name, password: u.password },
	    headers: { 'Sec-Fetch-Site': 'same-origin' } });
	assertStatus(r, 200, 'same-origin login');
	assertApiHeaders(r);
});
