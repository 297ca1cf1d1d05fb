// The configurable limits of sections 2 and 3, with sessiond restarted
// under other settings (SESSIOND_* environment overrides): the per-user
// cap, the idle timeout and absolute lifetime, the re-auth window (0 turns
// it off) and the per-user login limit. The stack is restarted with its
// defaults afterwards.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
	api, as, assertError, assertStatus, createUser, epoch, login,
	revokedRows, sql, uniq, withSettings,
} from './lib.mjs';

const SETTINGS = {
	SESSIOND_MAX_SESSIONS: '3',
	SESSIOND_IDLE_TIMEOUT: '120',
	SESSIOND_ABSOLUTE_LIFETIME: '600',
	SESSIOND_REAUTH_WINDOW: '0',
	SESSIOND_LOGIN_MAX_PER_USER: '3',
};
const skip = withSettings(SETTINGS);

test('max_sessions: the login past the cap evicts the least recently seen',
    { skip }, async () => {
	const u = await createUser(uniq('cap3'));
	const a = await login(u);
	const b = await login(u);
	const c = await login(u);
	// b is the least recently seen.
	await sql("UPDATE sessions SET last_seen_at = now() - " +
	    "interval '30 seconds' WHERE id = $1", [b.session.id]);
	const d = await login(u);
	assertError(await as(b).get('/api/users/me/current-session/'), 401,
	    'not_authenticated', 'evicted');
	const rows = await revokedRows([b.session.id]);
	assert.equal(rows.length, 1);
	assert.equal(rows[0].reason, 'evicted');
	assert.equal(rows[0].session_id, d.session.id);
	const list = await as(d).get('/api/auth/sessions/');
	assert.deepEqual(list.body.sessions.map((x) => x.id).sort(),
	    [a.session.id, c.session.id, d.session.id].sort());
});

test('idle_timeout and absolute_lifetime: expires_at, Max-Age, expiry',
    { skip }, async () => {
	const u = await createUser(uniq('idle120'));
	const s = await login(u);
	assert.match(s.res.setCookie, /Max-Age=600\b/i);
	assert.equal(epoch(s.session.expires_at),
	    epoch(s.session.last_seen_at) + 120);
	// Seen 100 s ago: the idle deadline (20 s ahead) is still first.
	// The deadline as the database set it: no wall clock in the test,
	// however long the next login takes on a busy machine.
	const { rows } = await sql("UPDATE sessions SET last_seen_at = now() - " +
	    "interval '100 seconds', absolute_expires_at = now() + " +
	    "interval '10 seconds' WHERE id = $1 " +
	    "RETURNING floor(extract(epoch FROM absolute_expires_at))::int8 " +
	    "AS abs", [s.session.id]);
	const t = await login(u);
	const list = await as(t).get('/api/auth/sessions/');
	const x = list.body.sessions.find((y) => y.id === s.session.id);
	if (x !== undefined) {
		assert.equal(epoch(x.expires_at), Number(rows[0].abs),
		    `absolute first: ${x.expires_at}`);
	} else {
		// The login outlasted the 10 s: then the session has ended.
		const { rows: r2 } = await sql("SELECT now() >= " +
		    "to_timestamp($1) AS ended", [rows[0].abs]);
		assert.ok(r2[0].ended, 'listed as ended before its deadline');
	}
	await sql("UPDATE sessions SET last_seen_at = now() - " +
	    "interval '121 seconds', absolute_expires_at = now() + " +
	    "interval '1 hour' WHERE id = $1", [s.session.id]);
	assertError(await as(s).get('/api/users/me/current-session/'), 401,
	    'not_authenticated', 'idle past 120 s');
	assert.equal((await revokedRows([s.session.id]))[0].reason, 'expired');
});

test('reauth_window 0 turns the recent-auth rule off', { skip },
    async () => {
	const u = await createUser(uniq('noreauth'));
	const a = await login(u);
	const b = await login(u);
	const c = await login(u);
	await sql("UPDATE sessions SET authenticated_at = now() - " +
	    "interval '1 day' WHERE id = $1", [a.session.id]);
	assert.equal((await as(a).del(`/api/auth/sessions/${b.session.id}/`))
	    .status, 204);
	const r = await as(a).del('/api/auth/sessions/');
	assertStatus(r, 200);
	assert.deepEqual(r.body, { revoked: 1 });
	assertError(await as(c).get('/api/auth/sessions/'), 401,
	    'not_authenticated');
});

test('login_max_per_user: 3 failures, then 429', { skip }, async () => {
	const u = await createUser(uniq('max3'));
	for (let i = 0; i < 3; i++)
		assertError(await api('POST', '/api/auth/login/', {
		    json: { username: u.name, password: `wrong ${i}` } }), 401,
		    'invalid_credentials');
	const r = await api('POST', '/api/auth/login/', {
	    json: { username: u.name, password: u.password } });
	assertError(r, 429, 'too_many_requests');
	assert.match(r.headers.get('retry-after') ?? '', /^\d+$/);
});
