// Section 4: NOTIFY session_events, one per login and per revoked session,
// with the contract's fields, each matching its audit row; and the
// per-user cap (eviction), which is announced the same way.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
	api, as, assertError, assertStatus, clearIpFailures, closeDb,
	createUser, epoch, insertSessions, listenEvents, login, revokedRows,
	sessionctl, sql, uniq,
} from './lib.mjs';

const FIELDS = ['at', 'event', 'ip', 'location', 'reason', 'session_id',
    'user_agent', 'user_id'];
let listener;

before(async () => {
	await clearIpFailures();
	listener = await listenEvents();
});

after(async () => {
	await listener.end();
	await closeDb();
});

const eventsOf = (uid, want, ms) => listener.of(uid, want, ms);

function assertPayload(e, what) {
	for (const k of FIELDS)
		assert.ok(k in e, `${what}: payload has ${k}: ${JSON.stringify(e)}`);
	assert.match(e.at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, what);
	assert.ok(Math.abs(epoch(e.at) - Date.now() / 1000) < 30, what);
}

// Every notification has its audit row: same event, reason and target.
async function assertAudited(uid, evs) {
	const { rows } = await sql("SELECT event, reason, " +
	    'target_session_id::text AS t FROM audit_log WHERE user_id = $1 ' +
	    "AND event <> 'login.failed' ORDER BY id", [uid]);
	const key = (e, r, t) => `${e}/${r ?? ''}/${t}`;
	assert.deepEqual(evs.map((e) => key(e.event, e.reason, e.session_id))
	    .sort(), rows.map((r) => key(r.event, r.reason, r.t)).sort());
}

test('a LISTEN client gets one NOTIFY per login and per revoked session',
    async () => {
	const u = await createUser(uniq('notify'));
	const ua = 'Notify/1.0 "quoted" <b>';
	const a = await login(u, { headers: { 'User-Agent': ua } });
	let evs = await eventsOf(u.id, 1);
	assert.equal(evs.length, 1, JSON.stringify(evs));
	assertPayload(evs[0], 'session.created');
	assert.equal(evs[0].event, 'session.created');
	assert.equal(evs[0].reason, null);
	assert.equal(evs[0].session_id, a.session.id);
	assert.equal(String(evs[0].user_id), u.id);
	assert.equal(evs[0].ip, '127.0.0.1');
	assert.equal(evs[0].user_agent, ua);

	// A failed login is audited but not announced.
	assertError(await api('POST', '/api/auth/login/', {
	    json: { username: u.name, password: 'wrong password' } }), 401,
	    'invalid_credentials');
	const b = await login(u);
	const c = await login(u);
	const d = await login(u);
	evs = await eventsOf(u.id, 4);
	assert.equal(evs.length, 4, JSON.stringify(evs));
	assert.deepEqual(evs.slice(1).map((e) => [e.event, e.session_id]),
	    [b, c, d].map((s) => ['session.created', s.session.id]));

	// Revoke one: reason user, about the revoked session.
	assert.equal((await as(a).del(`/api/auth/sessions/${b.session.id}/`))
	    .status, 204);
	evs = await eventsOf(u.id, 5);
	assert.equal(evs.length, 5);
	assertPayload(evs[4], 'revoke');
	assert.deepEqual([evs[4].event, evs[4].reason, evs[4].session_id],
	    ['session.revoked', 'user', b.session.id]);
	// Losers of a race announce nothing.
	assertError(await as(a).del(`/api/auth/sessions/${b.session.id}/`), 404,
	    'session_not_found');
	// All others: one per session.
	const r = await as(a).del('/api/auth/sessions/');
	assert.deepEqual(r.body, { revoked: 2 });
	evs = await eventsOf(u.id, 7);
	assert.equal(evs.length, 7);
	assert.deepEqual(evs.slice(5).map((e) => e.reason), ['others', 'others']);
	assert.deepEqual(evs.slice(5).map((e) => e.session_id).sort(),
	    [c.session.id, d.session.id].sort());
	// Logout.
	assert.equal((await as(a).post('/api/auth/logout/')).status, 204);
	evs = await eventsOf(u.id, 8);
	assert.equal(evs.length, 8);
	assert.deepEqual([evs[7].reason, evs[7].session_id],
	    ['logout', a.session.id]);
	for (const e of evs)
		assertPayload(e, e.event);
	await assertAudited(u.id, evs);
});

test('expiry and admin revocation are announced too', async () => {
	const u = await createUser(uniq('notifyexp'));
	const a = await login(u);
	const b = await login(u);
	await sql("UPDATE sessions SET last_seen_at = now() - " +
	    "interval '2 days' WHERE id = $1", [a.session.id]);
	assertError(await as(a).get('/api/auth/sessions/'), 401,
	    'not_authenticated');
	let evs = await eventsOf(u.id, 3);
	assert.equal(evs.length, 3, JSON.stringify(evs));
	assert.deepEqual([evs[2].event, evs[2].reason, evs[2].session_id],
	    ['session.revoked', 'expired', a.session.id]);
	// Asking again records nothing more.
	assertError(await as(a).get('/api/auth/sessions/'), 401,
	    'not_authenticated');
	const x = await sessionctl(['sessions', 'revoke', b.session.id]);
	assert.equal(x.code, 0, x.stderr);
	evs = await eventsOf(u.id, 4);
	assert.equal(evs.length, 4, JSON.stringify(evs));
	assert.deepEqual([evs[3].event, evs[3].reason, evs[3].session_id],
	    ['session.revoked', 'admin', b.session.id]);
	assertError(await as(b).get('/api/users/me/current-session/'), 401,
	    'not_authenticated');
	for (const e of evs)
		assertPayload(e, e.event);
	await assertAudited(u.id, evs);
});

test('per-user cap: a login past 100 active sessions evicts the least ' +
    'recently seen, with audit row and NOTIFY', async () => {
	const u = await createUser(uniq('cap'));
	// 100 active sessions seen 10 s, 20 s, ... 1000 s ago, and one that
	// is idle-expired already (it does not count and is not evicted).
	const ids = await insertSessions(u.id, 100, {
	    ago: (i) => 10 * (i + 1) });
	const [stale] = await insertSessions(u.id, 1, { ago: () => 90000 });
	const s = await login(u);
	const evs = await eventsOf(u.id, 2);
	assert.equal(evs.length, 2, JSON.stringify(evs));
	assert.deepEqual(evs.map((e) => [e.event, e.reason, e.session_id]), [
		['session.created', null, s.session.id],
		['session.revoked', 'evicted', ids[99]],
	]);
	const rows = await revokedRows([ids[99]]);
	assert.equal(rows.length, 1);
	assert.equal(rows[0].reason, 'evicted');
	assert.equal(rows[0].session_id, s.session.id);
	const { rows: st } = await sql('SELECT id::text, revoke_reason ' +
	    'FROM sessions WHERE user_id = $1', [u.id]);
	const reason = Object.fromEntries(st.map((x) => [x.id, x.revoke_reason]));
	assert.equal(reason[ids[99]], 'evicted');
	assert.equal(reason[stale], null, 'an idle-expired one is not evicted');
	for (const id of ids.slice(0, 99))
		assert.equal(reason[id], null);
	// 100 active: the new one and the 99 most recently seen.
	const list = await as(s).get('/api/auth/sessions/?limit=100');
	assertStatus(list, 200);
	assert.equal(list.body.sessions.length, 100);
	assert.ok(list.body.sessions.some((x) => x.id === s.session.id));
	assert.ok(!list.body.sessions.some((x) => x.id === ids[99]));
	assert.equal(list.body.next_cursor, null);
	await assertAudited(u.id, evs);
});
