// The user's sessions: list and its pagination, status, revoking one or
// all others (concurrently too), expiry by time, last-seen updates, the
// per-user cap, and the audit list.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { pgOptions } from '../common.mjs';
import {
	api, as, assertError, assertSessionShape, assertStatus,
	clearIpFailures, closeDb, createUser, epoch, insertSessions, login,
	revokedRows, sleep, sql, uniq, TIME_RE,
} from './lib.mjs';

before(clearIpFailures);
after(closeDb);

// All pages of the list, with the given page size.
async function traverse(s, limit) {
	const seen = [];
	let cursor = null;
	let pages = 0;
	do {
		const q = `?limit=${limit}` + (cursor ?
		    `&cursor=${encodeURIComponent(cursor)}` : '');
		const r = await as(s).get(`/api/auth/sessions/${q}`);
		assertStatus(r, 200, `page ${pages}`);
		assert.deepEqual(Object.keys(r.body).sort(),
		    ['next_cursor', 'sessions']);
		assert.ok(r.body.sessions.length <= limit);
		if (r.body.next_cursor !== null) {
			assert.equal(r.body.sessions.length, limit);
			assert.equal(typeof r.body.next_cursor, 'string');
		}
		seen.push(...r.body.sessions);
		cursor = r.body.next_cursor;
		pages++;
		assert.ok(pages < 100, 'the traversal ends');
	} while (cursor !== null);
	return { seen, pages };
}

// Same status, same body, same headers but Date: indistinguishable.
function assertSameAnswer(a, b, what) {
	assert.equal(a.status, b.status, what);
	assert.equal(a.text, b.text, what);
	const names = (r) => [...r.headers.keys()].filter((k) => k !== 'date')
	    .sort();
	assert.deepEqual(names(a), names(b), what);
	for (const k of names(a))
		assert.equal(a.headers.get(k), b.headers.get(k), `${what}: ${k}`);
}

test('list: the active sessions, newest first, current marked',
    async () => {
	const u = await createUser(uniq('list'));
	const s1 = await login(u);
	const s2 = await login(u, { headers: { 'User-Agent': 'Mozilla/5.0 ' +
	    '(iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 ' +
	    '(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1' } });
	const [ended] = await insertSessions(u.id, 1, { ago: () => 300 });
	await sql("UPDATE sessions SET revoked_at = now(), revoke_reason = " +
	    "'user' WHERE id = $1", [ended]);
	await insertSessions(u.id, 1, { ago: () => 90000 });	// idle-expired
	const r = await as(s1).get('/api/auth/sessions/');
	assertStatus(r, 200);
	assert.equal(r.body.next_cursor, null);
	assert.deepEqual(r.body.sessions.map((x) => x.id),
	    [s2.session.id, s1.session.id]);
	for (const x of r.body.sessions)
		assertSessionShape(x);
	assert.deepEqual(r.body.sessions.map((x) => x.current), [false, true]);
	const phone = r.body.sessions[0];
	assert.equal(phone.os, 'iOS');
	assert.equal(phone.device, 'Phone');
	assert.match(phone.browser, /^Safari/);
	// From the other session, the other one is current.
	const r2 = await as(s2).get('/api/auth/sessions');
	assert.deepEqual(r2.body.sessions.map((x) => x.current), [true, false]);
	// Another user sees none of these.
	const w = await login(await createUser(uniq('listother')));
	const r3 = await as(w).get('/api/auth/sessions/');
	assert.deepEqual(r3.body.sessions.map((x) => x.id), [w.session.id]);
});

test('list: bad limit or cursor gives 400', async () => {
	const u = await createUser(uniq('limits'));
	const s = await login(u);
	for (const q of ['limit=0', 'limit=101', 'limit=abc', 'limit=-1',
	    'limit=1.5', 'limit=', 'limit', 'limit=1e2', 'limit=%201',
	    'limit=0x10', 'limit=99999999999999999999999', 'limit=5&limit=6']) {
		assertError(await as(s).get(`/api/auth/sessions/?${q}`), 400,
		    'invalid_limit', q);
	}
	for (const q of ['limit=1', 'limit=100', 'limit=050', 'other=1'])
		assertStatus(await as(s).get(`/api/auth/sessions/?${q}`), 200, q);
	for (const q of ['cursor=', 'cursor=abc', 'cursor=' + 'A'.repeat(200),
	    'cursor=%00', 'cursor=a&cursor=b']) {
		assertError(await as(s).get(`/api/auth/sessions/?${q}`), 400,
		    'invalid_cursor', q);
	}
	// The audit list: same rules.
	assertError(await as(s).get('/api/auth/audit/?limit=0'), 400,
	    'invalid_limit');
	assertError(await as(s).get('/api/auth/audit/?cursor=abc'), 400,
	    'invalid_cursor');
});

test('list: full traversal returns every session exactly once, newest ' +
    'created_at first; cursors are tamper-proof and per user', async () => {
	const u = await createUser(uniq('pages'));
	const s = await login(u);
	// 23 more: distinct ages, and a group of 6 with one created_at.
	const ages = [];
	for (let i = 0; i < 17; i++)
		ages.push(60 * (i + 1));
	for (let i = 0; i < 6; i++)
		ages.push(60 * 5 + 30);
	await insertSessions(u.id, ages.length, { created: (i) => ages[i],
	    ago: () => 10 });
	const { rows } = await sql('SELECT id::text, ' +
	    'extract(epoch FROM created_at)::numeric AS us FROM sessions ' +
	    'WHERE user_id = $1', [u.id]);
	assert.equal(rows.length, 24);
	const created = Object.fromEntries(rows.map((x) => [x.id,
	    Number(x.us)]));
	// Default limit 50: one page, newest created_at first (to the
	// microsecond; ties in any order, but always the same one).
	const all = await as(s).get('/api/auth/sessions/');
	assert.equal(all.body.sessions.length, 24);
	assert.equal(all.body.next_cursor, null);
	const want = all.body.sessions.map((x) => x.id);
	assert.deepEqual([...want].sort(), Object.keys(created).sort());
	for (let i = 1; i < want.length; i++)
		assert.ok(created[want[i - 1]] >= created[want[i]],
		    `order at ${i}`);
	assert.equal(want[0], s.session.id, 'the login is the newest');
	for (const limit of [1, 4, 7, 24, 100]) {
		const { seen, pages } = await traverse(s, limit);
		assert.deepEqual(seen.map((x) => x.id), want, `limit ${limit}`);
		assert.equal(pages, Math.max(1, Math.ceil(24 / limit)),
		    `pages at limit ${limit}`);
	}

	// A session revoked between pages does not shift the others.
	const p1 = await as(s).get('/api/auth/sessions/?limit=5');
	const gone = p1.body.sessions[4].id;
	await sql("UPDATE sessions SET revoked_at = now(), revoke_reason = " +
	    "'admin' WHERE id = $1", [gone]);
	const p2 = await as(s).get('/api/auth/sessions/?limit=5&cursor=' +
	    encodeURIComponent(p1.body.next_cursor));
	assert.deepEqual(p2.body.sessions.map((x) => x.id), want.slice(5, 10));

	// Tampered cursors: every byte matters.
	const c = p1.body.next_cursor;
	for (const i of [0, 3, Math.floor(c.length / 2), c.length - 1]) {
		const t = c.slice(0, i) + (c[i] === 'A' ? 'B' : 'A') +
		    c.slice(i + 1);
		assertError(await as(s).get('/api/auth/sessions/?limit=5&cursor=' +
		    encodeURIComponent(t)), 400, 'invalid_cursor', `byte ${i}`);
	}
	assertError(await as(s).get('/api/auth/sessions/?cursor=' +
	    encodeURIComponent(c.slice(0, -2))), 400, 'invalid_cursor');
	// Another user's cursor: refused.
	const other = await login(await createUser(uniq('pagesother')));
	assertError(await as(other).get('/api/auth/sessions/?limit=5&cursor=' +
	    encodeURIComponent(c)), 400, 'invalid_cursor', 'cursor of user A');
	// An audit cursor is not a list cursor.
	assert.equal((await as(s).del(`/api/auth/sessions/${want[1]}/`))
	    .status, 204);
	const au = await as(s).get('/api/auth/audit/?limit=1');
	assert.equal(typeof au.body.next_cursor, 'string');
	assertError(await as(s).get('/api/auth/sessions/?cursor=' +
	    encodeURIComponent(au.body.next_cursor)), 400, 'invalid_cursor',
	    'audit cursor on the list');
	assertError(await as(s).get('/api/auth/audit/?cursor=' +
	    encodeURIComponent(c)), 400, 'invalid_cursor',
	    'list cursor on the audit');
});

test('status: own sessions active, revoked, expired; foreign or unknown ' +
    '404; malformed 400', async () => {
	const u = await createUser(uniq('status'));
	const s = await login(u);
	const [rev, idle, abs] = await insertSessions(u.id, 3, {
	    ago: () => 30 });
	await sql("UPDATE sessions SET revoked_at = now() - interval '1 hour', " +
	    "revoke_reason = 'user' WHERE id = $1", [rev]);
	await sql("UPDATE sessions SET last_seen_at = now() - " +
	    "interval '25 hours' WHERE id = $1", [idle]);
	await sql("UPDATE sessions SET absolute_expires_at = now() - " +
	    "interval '1 second' WHERE id = $1", [abs]);
	const get = (id) => as(s).get(`/api/auth/sessions/${id}/status/`);

	const a = await get(s.session.id);
	assertStatus(a, 200);
	assert.deepEqual(a.body, { id: s.session.id, status: 'active',
	    revoked_at: null });
	const r = await get(rev);
	assertStatus(r, 200);
	assert.equal(r.body.id, rev);
	assert.equal(r.body.status, 'revoked');
	assert.match(r.body.revoked_at, TIME_RE);
	assert.ok(Math.abs(epoch(r.body.revoked_at) -
	    (Date.now() / 1000 - 3600)) < 10);
	for (const id of [idle, abs]) {
		const e = await get(id);
		assertStatus(e, 200);
		assert.equal(e.body.id, id);
		assert.equal(e.body.status, 'expired');
		assert.deepEqual(Object.keys(e.body).sort(),
		    ['id', 'revoked_at', 'status']);
	}

	// Another user's session answers exactly like one that never existed.
	const v = await createUser(uniq('statusother'));
	const vs = await login(v);
	const foreign = await get(vs.session.id);
	const unknown = await get(randomUUID());
	assertError(foreign, 404, 'session_not_found', 'foreign');
	assertError(unknown, 404, 'session_not_found', 'unknown');
	assertSameAnswer(foreign, unknown, 'status foreign vs unknown');

	for (const id of ['nope', '123', `${s.session.id}0`,
	    s.session.id.slice(0, -1), s.session.id.replaceAll('-', ''),
	    `{${s.session.id}}`, s.session.id.replace(/[0-9a-f]$/, 'g'),
	    '%20' + s.session.id.slice(3), 'x'.repeat(200)]) {
		assertError(await get(id), 400, 'invalid_session_id', id);
	}
});

test('revoke one: 204, refused on the next request, audited; foreign ' +
    'and unknown ids answer alike', async () => {
	const u = await createUser(uniq('revoke'));
	const s = await login(u);
	const t = await login(u);
	const r = await as(s).del(`/api/auth/sessions/${t.session.id}/`);
	assert.equal(r.status, 204, r.text);
	assert.equal(r.text, '');
	assert.equal(r.setCookie, undefined, 'the actor keeps its cookie');
	assertError(await as(t).get('/api/users/me/current-session/'), 401,
	    'not_authenticated', 'revoked cookie, next request');
	assertError(await as(t).get('/api/auth/sessions/'), 401,
	    'not_authenticated');
	const rows = await revokedRows([t.session.id]);
	assert.equal(rows.length, 1);
	assert.equal(rows[0].reason, 'user');
	assert.equal(String(rows[0].user_id), u.id);
	assert.equal(rows[0].session_id, s.session.id);
	assert.equal(rows[0].ip, '127.0.0.1');
	const st = await as(s).get(`/api/auth/sessions/${t.session.id}/status`);
	assert.equal(st.body.status, 'revoked');
	// Already ended, another user's, or unknown: one and the same 404.
	const v = await login(await createUser(uniq('revokeother')));
	const [idle] = await insertSessions(u.id, 1, { ago: () => 90000 });
	const again = await as(s).del(`/api/auth/sessions/${t.session.id}/`);
	const foreign = await as(s).del(`/api/auth/sessions/${v.session.id}/`);
	const unknown = await as(s).del(`/api/auth/sessions/${randomUUID()}/`);
	const expired = await as(s).del(`/api/auth/sessions/${idle}/`);
	for (const [x, what] of [[again, 'again'], [foreign, 'foreign'],
	    [unknown, 'unknown'], [expired, 'expired']])
		assertError(x, 404, 'session_not_found', what);
	assertSameAnswer(foreign, unknown, 'delete foreign vs unknown');
	assertSameAnswer(again, unknown, 'delete ended vs unknown');
	// The other user's session is untouched.
	assertStatus(await as(v).get('/api/users/me/current-session/'), 200);
	assert.equal((await revokedRows([v.session.id])).length, 0);
	assertError(await as(s).del('/api/auth/sessions/not-an-id/'), 400,
	    'invalid_session_id');
	assertError(await as(s).del(`/api/auth/sessions/${s.session.id}x/`),
	    400, 'invalid_session_id');
	// Revoking the current session: 204, the cookie cleared.
	const self = await as(s).del(`/api/auth/sessions/${s.session.id}`);
	assert.equal(self.status, 204);
	assert.equal(self.cookie, '');
	assertError(await as(s).get('/api/auth/sessions/'), 401,
	    'not_authenticated');
	assert.equal((await revokedRows([s.session.id]))[0].reason, 'user');
});

test('revoke all others: {"revoked": N}, the current one kept', async () => {
	const u = await createUser(uniq('others'));
	const s = await login(u);
	const o = await login(u);
	const extra = await insertSessions(u.id, 3, { ago: () => 100 });
	const [ended] = await insertSessions(u.id, 1, { ago: () => 100 });
	await sql("UPDATE sessions SET revoked_at = now(), revoke_reason = " +
	    "'admin' WHERE id = $1", [ended]);
	const [idle] = await insertSessions(u.id, 1, { ago: () => 90000 });
	const v = await login(await createUser(uniq('othersother')));
	const r = await as(s).del('/api/auth/sessions/');
	assertStatus(r, 200);
	assert.deepEqual(r.body, { revoked: 4 });
	assert.equal(r.setCookie, undefined);
	assertStatus(await as(s).get('/api/users/me/current-session/'), 200);
	assertError(await as(o).get('/api/users/me/current-session/'), 401,
	    'not_authenticated');
	const list = await as(s).get('/api/auth/sessions/');
	assert.deepEqual(list.body.sessions.map((x) => x.id), [s.session.id]);
	const rows = await revokedRows([o.session.id, ...extra, ended, idle]);
	assert.equal(rows.length, 4, 'ended ones are not counted');
	for (const x of rows) {
		assert.equal(x.reason, 'others');
		assert.equal(x.session_id, s.session.id);
	}
	assertStatus(await as(v).get('/api/users/me/current-session/'), 200);
	const again = await as(s).del('/api/auth/sessions');
	assert.deepEqual(again.body, { revoked: 0 });
	// CSRF needed.
	assertError(await api('DELETE', '/api/auth/sessions/', {
	    cookie: s.cookie }), 403, 'csrf_failed');
	assertError(await as(s).del('/api/auth/sessions/', {
	    origin: 'https://evil.example' }), 403, 'csrf_failed');
	assertError(await as(s).del('/api/auth/sessions/', {
	    headers: { 'Sec-Fetch-Site': 'cross-site' } }), 403, 'csrf_failed');
});

test('8 concurrent DELETEs of one session: exactly one 204, one audit row',
    async () => {
	const u = await createUser(uniq('race'));
	const s = await login(u);
	const [target] = await insertSessions(u.id, 1);
	const answers = await Promise.all(Array.from({ length: 8 }, () =>
	    as(s).del(`/api/auth/sessions/${target}/`)));
	const codes = answers.map((x) => x.status).sort();
	assert.deepEqual(codes, [204, 404, 404, 404, 404, 404, 404, 404],
	    answers.map((x) => `${x.status} ${x.text}`).join(' | '));
	for (const x of answers.filter((y) => y.status === 404))
		assertError(x, 404, 'session_not_found');
	assert.equal((await revokedRows([target])).length, 1);
});

test('after a burst of mixed operations, audit rows equal revocations',
    async () => {
	const u = await createUser(uniq('burst'));
	const a = await login(u);
	const b = await login(u);
	const ids = await insertSessions(u.id, 30, { ago: (i) => i });
	const ops = [];
	// Each inserted session revoked by two racing DELETEs, from a or b.
	for (const [i, id] of ids.slice(0, 20).entries()) {
		ops.push(['one', as(i % 2 ? a : b).del(`/api/auth/sessions/${id}/`)]);
		ops.push(['one', as(i % 2 ? b : a).del(`/api/auth/sessions/${id}/`)]);
	}
	// Reads in between, and two "all others" from a.
	for (let i = 0; i < 10; i++)
		ops.push(['read', as(a).get('/api/auth/sessions/?limit=100')]);
	ops.push(['others', as(a).del('/api/auth/sessions/')]);
	ops.push(['others', as(a).del('/api/auth/sessions/')]);
	const results = await Promise.all(ops.map(async ([k, p]) => [k, await p]));
	let revocations = 0;
	for (const [kind, r] of results) {
		if (kind === 'one') {
			assert.ok([204, 404, 401].includes(r.status), r.text);
			if (r.status === 204)
				revocations++;
		} else if (kind === 'others') {
			assertStatus(r, 200);
			revocations += r.body.revoked;
		} else {
			assert.ok([200, 401].includes(r.status), r.text);
		}
	}
	// b may have been revoked by a's "all others" before it acted.
	const late = await as(b).del(`/api/auth/sessions/${a.session.id}/`);
	assert.equal(late.status, 401, 'b was revoked');
	const { rows } = await sql("SELECT count(*)::int AS n, " +
	    'count(DISTINCT target_session_id)::int AS d FROM audit_log ' +
	    "WHERE user_id = $1 AND event = 'session.revoked'", [u.id]);
	const revoked = await sql('SELECT count(*)::int AS n FROM sessions ' +
	    'WHERE user_id = $1 AND revoked_at IS NOT NULL', [u.id]);
	assert.equal(rows[0].n, revocations, 'audit rows = revocations');
	assert.equal(rows[0].d, rows[0].n, 'each session revoked once');
	assert.equal(revoked.rows[0].n, revocations);
	// Everything but a is gone: 30 inserted and b.
	assert.equal(revocations, 31);
	const list = await as(a).get('/api/auth/sessions/');
	assert.deepEqual(list.body.sessions.map((x) => x.id), [a.session.id]);
});

test('expires_at is the earlier of the idle deadline and the absolute ' +
    'lifetime', async () => {
	const u = await createUser(uniq('expires'));
	const s = await login(u);
	const [idleSoon, absSoon] = await insertSessions(u.id, 2, {
	    ago: () => 10 });
	// Seen 20 hours ago: the idle deadline (4 h from now) comes first.
	await sql("UPDATE sessions SET last_seen_at = now() - " +
	    "interval '20 hours' WHERE id = $1", [idleSoon]);
	// Absolute end in one hour: before the idle deadline (~24 h).
	await sql("UPDATE sessions SET absolute_expires_at = now() + " +
	    "interval '1 hour' WHERE id = $1", [absSoon]);
	const { rows } = await sql('SELECT id::text, ' +
	    'extract(epoch FROM last_seen_at)::float8 AS seen, ' +
	    'extract(epoch FROM absolute_expires_at)::float8 AS abs ' +
	    'FROM sessions WHERE user_id = $1', [u.id]);
	const db = Object.fromEntries(rows.map((x) => [x.id, x]));
	const list = await as(s).get('/api/auth/sessions/');
	const got = Object.fromEntries(list.body.sessions.map((x) => [x.id, x]));
	const near = (t, want, what) => assert.ok(Math.abs(epoch(t) - want) <= 1,
	    `${what}: ${t} vs ${new Date(want * 1000).toISOString()}`);
	near(got[idleSoon].expires_at, db[idleSoon].seen + 86400, 'idle first');
	near(got[idleSoon].last_seen_at, db[idleSoon].seen, 'last_seen_at');
	near(got[absSoon].expires_at, db[absSoon].abs, 'absolute first');
	near(got[s.session.id].expires_at, db[s.session.id].seen + 86400,
	    'fresh session');
});

test('an idle-expired session is refused, recorded as revoked (expired)',
    async () => {
	const u = await createUser(uniq('idle'));
	const s = await login(u);
	const keep = await login(u);
	await sql("UPDATE sessions SET last_seen_at = now() - " +
	    "interval '24 hours 1 second' WHERE id = $1", [s.session.id]);
	assertError(await as(s).get('/api/users/me/current-session/'), 401,
	    'not_authenticated', 'idle-expired');
	const rows = await revokedRows([s.session.id]);
	assert.equal(rows.length, 1);
	assert.equal(rows[0].reason, 'expired');
	assert.equal(String(rows[0].user_id), u.id);
	const db = await sql('SELECT revoke_reason FROM sessions WHERE id = $1',
	    [s.session.id]);
	assert.equal(db.rows[0].revoke_reason, 'expired');
	// Once only, and no way back.
	assertError(await as(s).get('/api/auth/sessions/'), 401,
	    'not_authenticated');
	assertError(await as(s).post('/api/auth/logout/'), 401,
	    'not_authenticated');
	assert.equal((await revokedRows([s.session.id])).length, 1);
	const st = await as(keep).get(
	    `/api/auth/sessions/${s.session.id}/status/`);
	assert.equal(st.body.status, 'expired');
	// Just inside the idle timeout: still valid (and touched).
	await sql("UPDATE sessions SET last_seen_at = now() - " +
	    "interval '23 hours 59 minutes' WHERE id = $1", [keep.session.id]);
	assertStatus(await as(keep).get('/api/users/me/current-session/'), 200);
});

test('a session past its absolute lifetime is refused', async () => {
	const u = await createUser(uniq('absolute'));
	const s = await login(u);
	await sql("UPDATE sessions SET absolute_expires_at = now() - " +
	    "interval '1 second' WHERE id = $1", [s.session.id]);
	assertError(await as(s).get('/api/auth/sessions/'), 401,
	    'not_authenticated');
	const rows = await revokedRows([s.session.id]);
	assert.equal(rows.length, 1);
	assert.equal(rows[0].reason, 'expired');
});

test('requests keep last_seen_at, ip and user agent current, writing at ' +
    'most once a minute', async () => {
	const u = await createUser(uniq('touch'));
	const s = await login(u, { headers: { 'User-Agent': 'Touch/1' } });
	const read = async () => (await sql('SELECT user_agent, ' +
	    'extract(epoch FROM last_seen_at)::float8 AS seen, host(ip) AS ip ' +
	    'FROM sessions WHERE id = $1', [s.session.id])).rows[0];
	// Within the minute: no write.
	await as(s).get('/api/users/me/current-session/', {
	    headers: { 'User-Agent': 'Touch/2' } });
	assert.equal((await read()).user_agent, 'Touch/1');
	await sql("UPDATE sessions SET last_seen_at = now() - " +
	    "interval '2 minutes', ip = '192.0.2.9' WHERE id = $1",
	    [s.session.id]);
	const r = await as(s).get('/api/users/me/current-session/', {
	    headers: { 'User-Agent': 'Touch/3' } });
	assert.ok(Math.abs(epoch(r.body.session.last_seen_at) -
	    Date.now() / 1000) <= 2, 'the answer shows the new last_seen_at');
	let row = await read();
	assert.equal(row.user_agent, 'Touch/3');
	assert.equal(row.ip, '127.0.0.1');
	assert.ok(Math.abs(row.seen - Date.now() / 1000) <= 2);
	// The next request in the same minute does not write.
	await as(s).get('/api/auth/sessions/', {
	    headers: { 'User-Agent': 'Touch/4' } });
	row = await read();
	assert.equal(row.user_agent, 'Touch/3');
});

test('audit list: own events, newest first, paginated', async () => {
	const u = await createUser(uniq('audit'));
	const bad = await api('POST', '/api/auth/login/', {
	    json: { username: u.name, password: 'wrong password' },
	    headers: { 'User-Agent': 'Failed/1' } });
	assertError(bad, 401, 'invalid_credentials');
	const s = await login(u, { headers: { 'User-Agent': 'Audit/1' } });
	const t = await login(u);
	assert.equal((await as(s).del(`/api/auth/sessions/${t.session.id}/`))
	    .status, 204);
	const other = await login(await createUser(uniq('auditother')));
	const r = await as(s).get('/api/auth/audit/');
	assertStatus(r, 200);
	assert.deepEqual(Object.keys(r.body).sort(), ['events', 'next_cursor']);
	assert.equal(r.body.next_cursor, null);
	const ev = r.body.events;
	assert.deepEqual(ev.map((e) => [e.event, e.reason]), [
		['session.revoked', 'user'],
		['session.created', null],
		['session.created', null],
		['login.failed', 'login'],
	]);
	for (const e of ev) {
		for (const k of ['id', 'at', 'event', 'reason', 'session_id',
		    'target_session_id', 'ip', 'user_agent'])
			assert.ok(k in e, `event has ${k}`);
		assert.match(e.at, TIME_RE);
		assert.equal(e.ip, '127.0.0.1');
	}
	assert.equal(ev[0].session_id, s.session.id);
	assert.equal(ev[0].target_session_id, t.session.id);
	assert.equal(ev[1].target_session_id, t.session.id);
	assert.equal(ev[2].target_session_id, s.session.id);
	assert.equal(ev[2].user_agent, 'Audit/1');
	assert.equal(ev[3].user_agent, 'Failed/1');
	assert.equal(ev[3].target_session_id, null);
	// Pages of one, then a cursor that another user may not use.
	const seen = [];
	let cursor = null;
	do {
		const p = await as(s).get('/api/auth/audit/?limit=1' + (cursor ?
		    `&cursor=${encodeURIComponent(cursor)}` : ''));
		assertStatus(p, 200);
		seen.push(...p.body.events.map((e) => e.id));
		cursor = p.body.next_cursor;
		if (cursor !== null && seen.length === 1)
			assertError(await as(other).get('/api/auth/audit/?cursor=' +
			    encodeURIComponent(cursor)), 400, 'invalid_cursor');
	} while (cursor !== null);
	assert.deepEqual(seen, ev.map((e) => e.id));
	// The other user sees only their own.
	const o = await as(other).get('/api/auth/audit/');
	assert.deepEqual(o.body.events.map((e) => e.event), ['session.created']);
});

test('two sessions revoking each other at once: only one succeeds',
    async (t) => {
	const u = await createUser(uniq('mutual'));
	const a = await login(u);
	const b = await login(u);
	// Hold the user's row lock so that both requests pass their session
	// check, then queue up behind it; release, and let them race.
	const holder = new pg.Client(pgOptions());
	await holder.connect();
	let ra, rb;
	try {
		await holder.query('BEGIN');
		await holder.query('SELECT 1 FROM users WHERE id = $1 FOR UPDATE',
		    [u.id]);
		const pa = as(a).del(`/api/auth/sessions/${b.session.id}/`);
		const pb = as(b).del('/api/auth/sessions/');
		let waiting = 0;
		for (let i = 0; i < 50 && waiting < 2; i++) {
			await sleep(100);
			waiting = (await sql('SELECT count(*)::int AS n FROM ' +
			    'pg_stat_activity WHERE datname = current_database() ' +
			    "AND wait_event_type = 'Lock' AND pid <> $1",
			    [holder.processID])).rows[0].n;
		}
		await holder.query('COMMIT');
		[ra, rb] = await Promise.all([pa, pb]);
		if (waiting < 2) {
			t.skip('fewer than two sessiond workers');
			return;
		}
	} finally {
		await holder.end();
	}
	const active = (await sql('SELECT id::text FROM sessions WHERE ' +
	    'user_id = $1 AND revoked_at IS NULL', [u.id])).rows.map((x) => x.id);
	assert.equal(active.length, 1, `a: ${ra.status} ${ra.text}, ` +
	    `b: ${rb.status} ${rb.text}, active: ${active}`);
	const rows = await sql("SELECT count(*)::int AS n FROM audit_log " +
	    "WHERE user_id = $1 AND event = 'session.revoked'", [u.id]);
	assert.equal(rows.rows[0].n, 1);
});
