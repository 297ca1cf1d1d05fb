// Revocation in one round trip (sql/008-revoke.sql): the session check and
// the revocation, with the re-auth rule, audit rows and NOTIFYs, travel in
// one pipeline. A revocation is a write sent before the worker's own
// checks, so a request those checks refuse must change nothing.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import {
	as, assertError, assertStatus, clearIpFailures, closeDb, createUser,
	listenEvents, login, revokedRows, sql, uniq,
} from './lib.mjs';
import { METRICS_URL, sample, scrape } from './metrics.mjs';

after(closeDb);

const roundTrips = async () => sample(await scrape(),
    'sessiond_db_round_trip_seconds_count');

async function live(ids) {
	const { rows } = await sql('SELECT id::text FROM sessions WHERE ' +
	    'id = ANY($1::uuid[]) AND revoked_at IS NULL ORDER BY id', [ids]);
	return rows.map((r) => r.id);
}

test('revoking one session or all others, and logout, is one round trip',
    { skip: METRICS_URL ? false : 'SESSIOND_METRICS_URL not set' },
    async () => {
	await clearIpFailures();
	const u = await createUser(uniq('rt'));
	const a = await login(u), b = await login(u), c = await login(u);
	let n0 = await roundTrips();
	assertStatus(await as(a).del(`/api/auth/sessions/${b.session.id}/`),
	    204);
	assert.equal(await roundTrips() - n0, 1, 'DELETE one');
	n0 = await roundTrips();
	const r = await as(a).del('/api/auth/sessions/');
	assertStatus(r, 200);
	assert.deepEqual(r.body, { revoked: 1 });
	assert.equal(await roundTrips() - n0, 1, 'DELETE all others');
	assert.deepEqual(await live([a.session.id, c.session.id]),
	    [a.session.id]);
	n0 = await roundTrips();
	assertStatus(await as(a).post('/api/auth/logout/'), 204);
	assert.equal(await roundTrips() - n0, 1, 'logout');
	assert.deepEqual(await live([a.session.id]), []);
	assertStatus(await as(a).get('/api/users/me/current-session/'), 401);
});

test('a revocation writes its audit rows and NOTIFYs, once each',
    async () => {
	const listener = await listenEvents();
	const u = await createUser(uniq('rvk'));
	const a = await login(u), b = await login(u), c = await login(u);
	const d = await login(u);
	await listener.of(u.id, 4);
	const ua = 'Revoker/1.0';
	assertStatus(await as(a).del(`/api/auth/sessions/${b.session.id}/`,
	    { headers: { 'User-Agent': ua } }), 204);
	const r = await as(a).del('/api/auth/sessions/',
	    { headers: { 'User-Agent': ua } });
	assert.deepEqual(r.body, { revoked: 2 });
	const rows = await revokedRows([b.session.id, c.session.id,
	    d.session.id]);
	assert.deepEqual(rows.map((x) => [x.target_session_id, x.reason])
	    .sort(), [[b.session.id, 'user'], [c.session.id, 'others'],
	    [d.session.id, 'others']].sort());
	for (const x of rows) {
		assert.equal(x.session_id, a.session.id);
		assert.equal(x.user_agent, ua);
		assert.equal(x.ip, '127.0.0.1');
	}
	const evs = (await listener.of(u.id, 7))
	    .filter((e) => e.event === 'session.revoked');
	await listener.end();
	assert.deepEqual(evs.map((e) => [e.session_id, e.reason]).sort(),
	    rows.map((x) => [x.target_session_id, x.reason]).sort());
});

test('a refused revocation changes nothing: CSRF, Origin, re-auth',
    async () => {
	const u = await createUser(uniq('rvn'));
	const a = await login(u), b = await login(u);
	const path = `/api/auth/sessions/${b.session.id}/`;
	assertError(await as(a).del(path, { csrf: 'x'.repeat(43) }), 403,
	    'csrf_failed');
	assertError(await as(a).del(path, { csrf: undefined }), 403,
	    'csrf_failed');
	assertError(await as(a).del(path,
	    { origin: 'https://evil.example' }), 403, 'csrf_failed');
	assertError(await as(a).del('/api/auth/sessions/',
	    { origin: 'https://evil.example' }), 403, 'csrf_failed');
	assertError(await as(a).del('/api/auth/sessions/',
	    { headers: { 'Sec-Fetch-Site': 'cross-site' } }), 403,
	    'csrf_failed');
	await sql("UPDATE sessions SET authenticated_at = now() - " +
	    "interval '1 hour' WHERE id = $1", [a.session.id]);
	assertError(await as(a).del(path), 403, 'reauth_required');
	assertError(await as(a).del('/api/auth/sessions/'), 403,
	    'reauth_required');
	assert.deepEqual(await live([a.session.id, b.session.id]),
	    [a.session.id, b.session.id].sort());
	assert.deepEqual(await revokedRows([a.session.id, b.session.id]), []);
	// Ending one's own session never needs it.
	const self = await as(a).del(`/api/auth/sessions/${a.session.id}/`);
	assertStatus(self, 204);
	assert.equal(self.cookie, '');
	assert.deepEqual(await live([a.session.id, b.session.id]),
	    [b.session.id]);
});

test('a revoked or malformed request keeps the contract order',
    async () => {
	const u = await createUser(uniq('rvo'));
	const a = await login(u), b = await login(u);
	// A malformed id is the handler's 400, after CSRF's 403.
	assertError(await as(a).del('/api/auth/sessions/nope/',
	    { csrf: 'x'.repeat(43) }), 403, 'csrf_failed');
	assertError(await as(a).del('/api/auth/sessions/nope/'), 400,
	    'invalid_session_id');
	// An ended acting session is 401 before CSRF, and revokes nothing.
	await sql('UPDATE sessions SET revoked_at = now(), ' +
	    "revoke_reason = 'admin' WHERE id = $1", [a.session.id]);
	assertError(await as(a).del(`/api/auth/sessions/${b.session.id}/`,
	    { csrf: 'x'.repeat(43) }), 401, 'not_authenticated');
	assertError(await as(a).del(`/api/auth/sessions/${b.session.id}/`),
	    401, 'not_authenticated');
	assertError(await as(a).del('/api/auth/sessions/'), 401,
	    'not_authenticated');
	assert.deepEqual(await live([b.session.id]), [b.session.id]);
});
