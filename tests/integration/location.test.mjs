// Section 3: a session's `location`, from the test stack's GeoIP database
// of documentation ranges (tests/geoip/make-test-db.pl). The test stack's
// nginx takes the client address from X-Test-Client-Address (loopback
// only); the forwarding headers stay ignored (auth.test.mjs).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
	as, assertSessionShape, assertStatus, clearIpFailures, closeDb,
	createUser, eventually, listenEvents, login, sh, sql, uniq,
	waitHealthy,
} from './lib.mjs';

const MAKE_DB = new URL('../geoip/make-test-db.pl', import.meta.url)
    .pathname;
const from = (ip, more = {}) => ({ 'X-Test-Client-Address': ip, ...more });
let listener;

before(async () => {
	await clearIpFailures();
	listener = await listenEvents();
});

after(async () => {
	await listener.end();
	await closeDb();
});

test('a session from a known address has its city and country', async () => {
	const u = await createUser(uniq('loc'));
	const s = await login(u, { headers: from('192.0.2.10') });
	assertSessionShape(s.session, 'login');
	assert.equal(s.session.ip, '192.0.2.10');
	assert.equal(s.session.location, 'Berlin, Germany');
	let r = await as(s).get('/api/users/me/current-session/',
	    { headers: from('192.0.2.10') });
	assertStatus(r, 200);
	assert.equal(r.body.session.location, 'Berlin, Germany');
	r = await as(s).get('/api/auth/sessions/',
	    { headers: from('192.0.2.10') });
	assertStatus(r, 200);
	assert.equal(r.body.sessions[0].location, 'Berlin, Germany');
	// Stored with the session, copied into its audit row.
	const { rows } = await sql('SELECT location FROM sessions WHERE ' +
	    'id = $1', [s.session.id]);
	assert.equal(rows[0].location, 'Berlin, Germany');
	r = await as(s).get('/api/auth/audit/', { headers: from('192.0.2.10') });
	assertStatus(r, 200);
	const created = r.body.events.find((e) => e.event ===
	    'session.created');
	assert.equal(created.location, 'Berlin, Germany');
	assert.equal(created.ip, '192.0.2.10');
	// And into the NOTIFY payload.
	const evs = await listener.of(u.id, 1);
	assert.equal(evs[0].event, 'session.created');
	assert.equal(evs[0].location, 'Berlin, Germany');
});

test('the country alone where the database names no city; IPv6 too',
    async () => {
	const u = await createUser(uniq('loc'));
	const a = await login(u, { headers: from('198.51.100.77') });
	assert.equal(a.session.location, 'Japan');
	const b = await login(u, { headers: from('2001:db8::5') });
	assert.equal(b.session.ip, '2001:db8::5');
	assert.equal(b.session.location, 'Paris, France');
});

test('null for loopback, private and unknown addresses', async () => {
	const u = await createUser(uniq('loc'));
	for (const ip of [undefined, '10.0.0.1', '192.168.1.20', '8.8.8.8',
	    'fd00::1']) {
		const s = await login(u, { headers: ip ? from(ip) : {} });
		assert.equal(s.session.ip, ip ?? '127.0.0.1');
		assert.equal(s.session.location, null, `from ${ip}`);
	}
});

test('client-sent forwarding headers are still ignored', async () => {
	const u = await createUser(uniq('loc'));
	const s = await login(u, { headers: { 'X-Forwarded-For': '192.0.2.1',
	    'X-Real-IP': '192.0.2.1', Forwarded: 'for=192.0.2.1' } });
	assert.equal(s.session.ip, '127.0.0.1');
	assert.equal(s.session.location, null);
});

test('a hostile place name comes back as text, with no line breaks',
    async () => {
	const u = await createUser(uniq('loc'));
	const s = await login(u, { headers: from('203.0.113.5') });
	assert.match(s.session.location,
	    /^<img src=x onerror=alert\(1\)>\?\?Bcc: x@example\.com\?Town, Nowhere$/);
});

test('the place follows the IP when it changes, and only then', async () => {
	const u = await createUser(uniq('loc'));
	const s = await login(u, { headers: from('192.0.2.10') });
	// The place is looked up when the IP changes, not per request: a
	// stored place is kept while the IP stays the same.
	await sql("UPDATE sessions SET location = 'Kept', last_seen_at = " +
	    "now() - interval '5 minutes' WHERE id = $1", [s.session.id]);
	let r = await as(s).get('/api/users/me/current-session/',
	    { headers: from('192.0.2.10') });
	assertStatus(r, 200);
	assert.equal(r.body.session.location, 'Kept');
	// A new address (at the next last-seen write): its own place.
	await sql("UPDATE sessions SET last_seen_at = now() - " +
	    "interval '5 minutes' WHERE id = $1", [s.session.id]);
	r = await as(s).get('/api/users/me/current-session/',
	    { headers: from('198.51.100.3') });
	assertStatus(r, 200);
	assert.equal(r.body.session.ip, '198.51.100.3');
	assert.equal(r.body.session.location, 'Japan');
	const { rows } = await sql('SELECT host(ip) AS ip, location FROM ' +
	    'sessions WHERE id = $1', [s.session.id]);
	assert.deepEqual(rows[0], { ip: '198.51.100.3', location: 'Japan' });
	// Moving to an address with no place clears it.
	await sql("UPDATE sessions SET last_seen_at = now() - " +
	    "interval '5 minutes' WHERE id = $1", [s.session.id]);
	r = await as(s).get('/api/users/me/current-session/',
	    { headers: from('10.9.8.7') });
	assertStatus(r, 200);
	assert.equal(r.body.session.location, null);
	r = await as(s).get('/api/auth/sessions/', { headers: from('10.9.8.7') });
	assertStatus(r, 200);
	assert.equal(r.body.sessions[0].location, null);
});

test('a revocation is audited and announced with the actor\'s place',
    async () => {
	const u = await createUser(uniq('loc'));
	const a = await login(u, { headers: from('192.0.2.10') });
	const b = await login(u, { headers: from('198.51.100.3') });
	const r = await as(b).del(`/api/auth/sessions/${a.session.id}/`,
	    { headers: from('198.51.100.3') });
	assertStatus(r, 204);
	const { rows } = await sql("SELECT location FROM audit_log WHERE " +
	    "event = 'session.revoked' AND target_session_id = $1",
	    [a.session.id]);
	assert.deepEqual(rows, [{ location: 'Japan' }]);
	const evs = await listener.of(u.id, 3);
	const revoked = evs.find((e) => e.event === 'session.revoked');
	assert.equal(revoked.location, 'Japan');
});

test('a reload (SIGHUP) re-opens the GeoIP database', async () => {
	const dir = process.env.SESSIOND_STACK_DIR;
	const reload = process.env.SESSIOND_RELOAD_CMD;
	assert.ok(dir && reload, 'run by scripts/test');
	const db = `${dir}/geoip.mmdb`;
	const swap = (moved) => {
		sh(`perl ${MAKE_DB} ${db}.new ${moved}`);
		sh(`mv -f ${db}.new ${db}`);
		sh(reload);
	};
	const u = await createUser(uniq('loc'));
	const placeNow = async () => (await login(u,
	    { headers: from('192.0.2.10') })).session.location;
	try {
		swap('moved');
		await waitHealthy();
		await eventually(async () =>
		    assert.equal(await placeNow(), 'Hamburg, Germany'));
	} finally {
		swap('');
		await waitHealthy();
		await eventually(async () =>
		    assert.equal(await placeNow(), 'Berlin, Germany'));
	}
});
