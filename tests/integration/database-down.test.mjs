// /healthz and the API while PostgreSQL is down: 503 as JSON, quickly;
// back to normal, with the same cookie, once it is up again. Runs last of
// the Node files: it stops the stack's PostgreSQL for a few seconds.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import {
	api, as, assertError, assertStatus, closeDb, createUser, forgeCookie,
	login, sh, sleep, uniq,
} from './lib.mjs';

const restart = process.env.PG_RESTART_CMD;

after(closeDb);

test('database down: 503 JSON quickly, then recovery', {
    skip: restart === undefined ? 'PG_RESTART_CMD not set' : false },
    async () => {
	const u = await createUser(uniq('dbdown'));
	const s = await login(u);
	await closeDb();
	sh(restart.replace(/pg-restart$/, 'pg-stop'));
	try {
		for (const path of ['/healthz', '/healthz/']) {
			const r = await api('GET', path);
			assertError(r, 503, undefined, `${path} with the database down`);
		}
		for (const [m, path, o] of [
			['GET', '/api/users/me/current-session/', { cookie: s.cookie }],
			['GET', '/api/auth/sessions/', { cookie: s.cookie }],
			['POST', '/api/auth/login/', { json: { username: u.name,
			    password: u.password } }],
			['DELETE', '/api/auth/sessions/', { cookie: s.cookie,
			    csrf: s.csrf }],
		]) {
			const r = await api(m, path, o);
			assertError(r, 503, 'database_unavailable', `${m} ${path}`);
			assert.ok(r.ms < 3000, `${m} ${path} took ${r.ms} ms`);
		}
		// Requests that need no database still answer as usual.
		assertError(await api('GET', '/api/nope'), 404, 'not_found');
		assertError(await api('GET', '/api/auth/sessions/'), 401,
		    'not_authenticated');
		// A cookie whose signature fails never reaches the database:
		// 401, not 503.
		const [v1, kid, uid, tok, mac] = s.cookie.split('.');
		const flip = (t) => (t[0] === 'A' ? 'B' : 'A') + t.slice(1);
		for (const cookie of [forgeCookie('unknownkid', u.id),
		    forgeCookie(kid, u.id),
		    [v1, kid, uid, flip(tok), mac].join('.'),
		    [v1, kid, uid, tok, flip(mac)].join('.')]) {
			assertError(await api('GET', '/api/users/me/current-session/',
			    { cookie }), 401, 'not_authenticated', `cookie ${cookie}`);
		}
	} finally {
		sh(restart.replace(/pg-restart$/, 'pg-start'));
	}
	// Workers reconnect by themselves.
	let r;
	for (let i = 0; i < 50; i++) {
		r = await api('GET', '/healthz');
		if (r.status === 200)
			break;
		await sleep(100);
	}
	assertStatus(r, 200, '/healthz after the restart');
	assert.deepEqual(r.body, { status: 'ok' });
	for (let i = 0; i < 4; i++)
		assertStatus(await as(s).get('/api/users/me/current-session/'), 200,
		    'the session survives the restart');
});

// A revocation travels with the session check in one pipeline and is not
// sent twice; a worker whose connection went stale with the restart must
// notice before sending it, not answer 503 to the first request after.
test('revocations right after a PostgreSQL restart succeed', {
    skip: restart === undefined ? 'PG_RESTART_CMD not set' : false },
    async () => {
	const u = await createUser(uniq('dbrst'));
	const a = await login(u);
	const targets = [];
	for (let i = 0; i < 8; i++)
		targets.push(await login(u));
	// Every worker uses its connection once before the restart.
	for (let i = 0; i < 8; i++)
		assertStatus(await as(a).get('/api/auth/sessions/'), 200);
	await closeDb();
	sh(restart);
	for (const t of targets)
		assertStatus(await as(a).del(`/api/auth/sessions/${t.session.id}/`),
		    204, `revoke ${t.session.id} after the restart`);
	const r = await as(a).del('/api/auth/sessions/');
	assertStatus(r, 200);
	assert.deepEqual(r.body, { revoked: 0 });
});
