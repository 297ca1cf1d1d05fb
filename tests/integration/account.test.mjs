// Taking back an account (issue 12): device cookies, throttling that a
// stranger cannot use to lock the owner out, the password change, and
// `sessionctl user passwd`. The attacker, the owner and the thief talk from
// different loopback addresses (127.0.0.x): nginx sees different clients.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { pgOptions } from '../common.mjs';
import {
	api, as, assertError, assertStatus, clearIpFailures, closeDb,
	createUser, createUserCtl, epoch, login, sessionctl, sql, uniq, UUID_RE,
} from './lib.mjs';

const NEW_PASSWORD = 'zebra quill morning tea';

before(clearIpFailures);
after(async () => {
	await clearIpFailures();
	await closeDb();
});

// Log in from a source address, with an optional device cookie; asserts
// success. Returns { cookie, csrf, session, device, res }.
async function loginFrom(user, from, device, password = user.password) {
	const res = await api('POST', '/api/auth/login/', { from, device,
	    json: { username: user.name, password } });
	assertStatus(res, 200, `login ${user.name} from ${from}`);
	return { cookie: res.cookie, csrf: res.body.csrf_token,
	    session: res.body.session, device: res.device, res };
}

function wrongLogin(name, from, device, i = 0) {
	return api('POST', '/api/auth/login/', { from, device,
	    json: { username: name, password: `wrong guess ${i}` } });
}

// The failures the throttle counts for a user name.
async function failures(name) {
	const { rows } = await sql('SELECT count(*)::int AS n FROM ' +
	    'auth_failures WHERE username = $1', [name]);
	return rows[0].n;
}

async function loginFailedRows(uid) {
	const { rows } = await sql("SELECT count(*)::int AS n FROM audit_log " +
	    "WHERE event = 'login.failed' AND user_id = $1", [uid]);
	return rows[0].n;
}

test('the device cookie: set at login, signed for the user, kept at logout',
    async () => {
	const u = await createUser(uniq('device'));
	const a = await login(u);
	const set = a.res.setDevice;
	assert.ok(set, 'login sets the device cookie');
	const attrs = set.split(';').map((x) => x.trim().toLowerCase());
	assert.ok(attrs.includes('httponly'), set);
	assert.ok(attrs.includes('samesite=lax'), set);
	assert.ok(attrs.includes('path=/'), set);
	assert.ok(!attrs.includes('secure'), 'not Secure over plain HTTP');
	assert.ok(attrs.includes('max-age=31536000'), `one year: ${set}`);
	const [ver, , uid, id, mac] = a.res.device.split('.');
	assert.equal(ver, 'd1');
	assert.equal(uid, u.id);
	assert.equal(Buffer.from(id, 'base64url').length, 16);
	assert.equal(Buffer.from(mac, 'base64url').length, 32);
	// The session records which device it was made on.
	const { rows } = await sql('SELECT device_id FROM sessions ' +
	    'WHERE id = $1', [a.session.id]);
	assert.match(rows[0].device_id, UUID_RE);
	assert.equal(Buffer.from(rows[0].device_id.replaceAll('-', ''), 'hex')
	    .toString('base64url'), id);
	// A browser that holds it keeps its device id at the next login.
	const b = await api('POST', '/api/auth/login/', { device: a.res.device,
	    json: { username: u.name, password: u.password } });
	assertStatus(b, 200);
	assert.equal(b.device.split('.')[3], id);
	// Logout clears the session cookie only.
	const out = await as({ cookie: b.cookie, csrf: b.body.csrf_token })
	    .post('/api/auth/logout/');
	assert.equal(out.status, 204);
	assert.equal(out.cookie, '');
	assert.equal(out.setDevice, undefined, 'logout keeps the device cookie');
	// Another user's device cookie counts as none: a new id.
	const v = await createUser(uniq('device2'));
	const c = await api('POST', '/api/auth/login/', { device: a.res.device,
	    json: { username: v.name, password: v.password } });
	assertStatus(c, 200);
	assert.notEqual(c.device.split('.')[3], id);
	assert.equal(c.device.split('.')[2], v.id);
});

test('a flood of wrong passwords from 6 addresses: the owner re-auths and ' +
    'revokes the thief; a known browser signs in, a new one gets 429',
    async () => {
	const owner = await createUser(uniq('owner'));
	// The owner's browser, signed in before the attack.
	const mine = await loginFrom(owner, '127.0.0.2');
	// The thief knows the password and signs in from elsewhere.
	const thief = await loginFrom(owner, '127.0.0.3');
	// The owner's sign-in is older than the re-auth window.
	await sql("UPDATE sessions SET authenticated_at = now() - " +
	    "interval '1 hour' WHERE id = $1", [mine.session.id]);
	assertError(await as(mine).del(`/api/auth/sessions/${thief.session.id}/`),
	    403, 'reauth_required');

	// The flood: most of it as the server counts it (saving 46 KDF
	// runs), the rest for real, 2 guesses from each of 6 addresses
	// while the owner re-authenticates.
	const addrs = ['127.0.0.10', '127.0.0.11', '127.0.0.12', '127.0.0.13',
	    '127.0.0.14', '127.0.0.15'];
	await sql('INSERT INTO auth_failures (username, ip) ' +
	    'SELECT $1, $2::inet + (g % 6) FROM generate_series(1, 46) g',
	    [owner.name, '127.0.0.10']);
	const flood = [];
	for (let i = 0; i < 2; i++)
		for (const from of addrs)
			flood.push(wrongLogin(owner.name, from, undefined, i));
	const reauth = as(mine).post('/api/auth/reauth/', {
	    json: { password: owner.password }, from: '127.0.0.2' });
	const [answers, ra] = await Promise.all([Promise.all(flood), reauth]);
	assert.equal(ra.status, 204, `owner's re-auth: ${ra.text}`);
	// The flood got 4 more tries, then 429, with no more rows.
	const codes = answers.map((r) => r.status).sort();
	assert.deepEqual(codes, [...Array(4).fill(401), ...Array(8).fill(429)],
	    `flood answers ${codes}`);
	assert.equal(await failures(owner.name), 50);
	assert.equal(await loginFailedRows(owner.id), 4,
	    'throttled attempts are not written one by one');

	// The owner throws the thief out.
	assert.equal((await as(mine).del(
	    `/api/auth/sessions/${thief.session.id}/`)).status, 204);
	assertError(await as(thief).get('/api/users/me/current-session/'), 401,
	    'not_authenticated', "the thief's cookie");

	// A fresh browser with the right password: 429, with Retry-After.
	const fresh = await api('POST', '/api/auth/login/', {
	    from: '127.0.0.20',
	    json: { username: owner.name, password: owner.password } });
	assertError(fresh, 429, 'too_many_requests', 'a new browser');
	assert.match(fresh.headers.get('retry-after') ?? '', /^\d+$/);
	assert.equal(fresh.setCookie, undefined);
	// A tampered device cookie is worth nothing.
	const d = mine.device;
	const bad = d.slice(0, -2) + (d.at(-2) === 'A' ? 'B' : 'A') + d.at(-1);
	assertError(await api('POST', '/api/auth/login/', { from: '127.0.0.2',
	    device: bad, json: { username: owner.name,
	    password: owner.password } }), 429, 'too_many_requests',
	    'tampered device cookie');
	// The owner's browser, with its device cookie, signs in.
	const again = await loginFrom(owner, '127.0.0.2', mine.device);
	assert.equal(again.session.ip, '127.0.0.2');
});

test('a device cookie has its own budget of 10 failures', async () => {
	const u = await createUser(uniq('devbudget'));
	const known = await loginFrom(u, '127.0.0.30');
	for (let i = 0; i < 10; i++)
		assertError(await wrongLogin(u.name, '127.0.0.30', known.device, i),
		    401, 'invalid_credentials', `failure ${i + 1}`);
	assertError(await api('POST', '/api/auth/login/', { from: '127.0.0.30',
	    device: known.device,
	    json: { username: u.name, password: u.password } }), 429,
	    'too_many_requests', 'the device spent its budget');
	// Its failures still count for the user name at that address, so a
	// browser there without a cookie is held back too.
	assertError(await api('POST', '/api/auth/login/', { from: '127.0.0.30',
	    json: { username: u.name, password: u.password } }), 429,
	    'too_many_requests', 'same name, same address, no cookie');
	// From another address, a browser without a cookie gets in.
	await loginFrom(u, '127.0.0.31');
});

test('a stranger cannot block re-auth: the per-IP and per-name limits ' +
    'never apply to it', async () => {
	const u = await createUser(uniq('noblock'));
	const s = await loginFrom(u, '127.0.0.40');
	await sql('INSERT INTO auth_failures (username, ip) ' +
	    "SELECT $1, '127.0.0.40' FROM generate_series(1, 60)", [u.name]);
	await sql('INSERT INTO auth_failures (username, ip) ' +
	    "SELECT 'someone-' || g, '127.0.0.40' FROM generate_series(1, 100) g");
	assertError(await api('POST', '/api/auth/login/', { from: '127.0.0.40',
	    json: { username: u.name, password: u.password } }), 429,
	    'too_many_requests', 'login from that address');
	const r = await as(s).post('/api/auth/reauth/', { from: '127.0.0.40',
	    json: { password: u.password } });
	assert.equal(r.status, 204, r.text);
	// Audited as session.reauthenticated.
	const { rows } = await sql("SELECT * FROM audit_log WHERE user_id = $1 " +
	    "AND event = 'session.reauthenticated'", [u.id]);
	assert.equal(rows.length, 1);
	assert.equal(rows[0].session_id, s.session.id);
	assert.equal(rows[0].target_session_id, s.session.id);
	assert.equal(rows[0].ip, '127.0.0.40');
	const audit = await as(s).get('/api/auth/audit/');
	assert.equal(audit.body.events[0].event, 'session.reauthenticated');
	await sql("DELETE FROM auth_failures WHERE ip = '127.0.0.40'");
});

test('password change: 204; the others end at once, the current one stays ' +
    'and is freshly authenticated; the old password stops working',
    async () => {
	const u = await createUserCtl(uniq('pwchange'));
	const me = await login(u);
	const other1 = await login(u);
	const other2 = await login(u);
	await sql("UPDATE sessions SET authenticated_at = now() - " +
	    "interval '1 hour' WHERE id = $1", [me.session.id]);
	const client = new pg.Client(pgOptions());
	await client.connect();
	const notes = [];
	client.on('notification', (n) => notes.push(JSON.parse(n.payload)));
	await client.query('LISTEN session_events');
	try {
		const r = await as(me).post('/api/auth/password/', {
		    json: { current_password: u.password,
		    new_password: NEW_PASSWORD } });
		assert.equal(r.status, 204, r.text);
		assert.equal(r.text, '');
		for (const o of [other1, other2])
			assertError(await as(o).get(
			    '/api/users/me/current-session/'), 401,
			    'not_authenticated', 'another session');
		const cur = await as(me).get('/api/users/me/current-session/');
		assertStatus(cur, 200);
		assert.ok(epoch(cur.body.session.authenticated_at) >=
		    Date.now() / 1000 - 5, 'freshly authenticated');
		assertError(await api('POST', '/api/auth/login/', {
		    json: { username: u.name, password: u.password } }), 401,
		    'invalid_credentials', 'the old password');
		await login({ ...u, password: NEW_PASSWORD });
		// Audit rows: password.changed, then one revocation each.
		const { rows } = await sql('SELECT * FROM audit_log ' +
		    "WHERE user_id = $1 AND event IN ('password.changed', " +
		    "'session.revoked') ORDER BY id", [u.id]);
		assert.equal(rows.length, 3);
		assert.equal(rows[0].event, 'password.changed');
		assert.equal(rows[0].reason, null);
		assert.equal(rows[0].session_id, me.session.id);
		for (const x of rows.slice(1)) {
			assert.equal(x.reason, 'password_changed');
			assert.equal(x.session_id, me.session.id);
		}
		assert.deepEqual(rows.slice(1).map((x) => x.target_session_id)
		    .sort(), [other1.session.id, other2.session.id].sort());
		// Their NOTIFYs, sent with the change.
		for (let i = 0; i < 50 && notes.length < 4; i++)
			await new Promise((res) => setTimeout(res, 20));
		const ev = notes.map((n) => `${n.event}/${n.reason}`);
		assert.ok(ev.includes('password.changed/null'), ev.join());
		assert.equal(ev.filter((e) => e ===
		    'session.revoked/password_changed').length, 2, ev.join());
	} finally {
		await client.end();
	}
});

test('password change with sign_out_others false keeps the other sessions',
    async () => {
	const u = await createUserCtl(uniq('pwkeep'));
	const me = await login(u);
	const other = await login(u);
	const r = await as(me).post('/api/auth/password/', {
	    json: { current_password: u.password, new_password: NEW_PASSWORD,
	    sign_out_others: false } });
	assert.equal(r.status, 204, r.text);
	assertStatus(await as(other).get('/api/users/me/current-session/'), 200);
	const { rows } = await sql("SELECT count(*)::int AS n FROM audit_log " +
	    "WHERE user_id = $1 AND event = 'session.revoked'", [u.id]);
	assert.equal(rows[0].n, 0);
});

test('password change: every rule and error', async () => {
	const u = await createUser(uniq('pwrules'));
	const s = await login(u);
	const post = (json, o = {}) => as(s).post('/api/auth/password/',
	    { json, ...o });
	const weak = [
		['short pass', /at least 12/],
		['x'.repeat(129), /at most 128/],
		[u.name, /user name/],
		[`my name is ${u.name.toUpperCase()}!`, /user name/],
		[u.password, /differ from the current/],
		['password1234', /commonly used/],
		['Dragon2024!!', /commonly used/],
		['abcdefghijklmn', /too simple/],
		['hippopotamus', /dictionary word/],
	];
	for (const [pw, message] of weak) {
		const r = await post({ current_password: u.password,
		    new_password: pw });
		assertError(r, 400, 'weak_password', `"${pw}"`);
		assert.match(r.body.error.message, message, pw);
	}
	// Code points, not bytes: 12 Cyrillic letters and a space pass.
	const ok = await post({ current_password: u.password,
	    new_password: 'жёлтый дождь' });
	assert.equal(ok.status, 204, ok.text);
	// Refused rules did not count as failed guesses.
	const { rows } = await sql('SELECT count(*)::int AS n FROM ' +
	    'auth_failures WHERE session_id = $1', [s.session.id]);
	assert.equal(rows[0].n, 0);
	const cur = 'жёлтый дождь';
	// Wrong current password: 401, audited with reason "password".
	assertError(await post({ current_password: 'not it at all',
	    new_password: NEW_PASSWORD }), 401, 'invalid_credentials');
	const a = await sql("SELECT reason FROM audit_log WHERE user_id = $1 " +
	    "AND event = 'login.failed'", [u.id]);
	assert.deepEqual(a.rows.map((x) => x.reason), ['password']);
	// Malformed bodies.
	for (const json of [{}, { current_password: cur },
	    { new_password: NEW_PASSWORD },
	    { current_password: cur, new_password: NEW_PASSWORD,
	      sign_out_others: 'yes' },
	    { current_password: cur, new_password: NEW_PASSWORD, extra: 1 },
	    { current_password: 1, new_password: NEW_PASSWORD }])
		assertError(await post(json), 400, 'invalid_json',
		    JSON.stringify(json));
	// CSRF and session.
	assertError(await api('POST', '/api/auth/password/', {
	    cookie: s.cookie, json: { current_password: cur,
	    new_password: NEW_PASSWORD } }), 403, 'csrf_failed');
	assertError(await api('POST', '/api/auth/password/', {
	    json: { current_password: cur, new_password: NEW_PASSWORD } }),
	    401, 'not_authenticated');
	const m = await api('GET', '/api/auth/password/', { cookie: s.cookie });
	assertError(m, 405, 'method_not_allowed');
	assert.equal(m.headers.get('allow'), 'POST');
	// Without the trailing slash too.
	assert.equal((await as(s).post('/api/auth/password', { json: {
	    current_password: cur, new_password: NEW_PASSWORD } })).status,
	    204);
});

test('sessionctl user passwd: the rules, every session ends (admin)',
    async () => {
	const u = await createUserCtl(uniq('ctlpw'));
	const a = await login(u);
	const b = await login(u);
	for (const [pw, msg] of [['short', /at least 12/],
	    ['password1234', /commonly used/], [u.password, /differ/]]) {
		const r = await sessionctl(['user', 'passwd', u.name], `${pw}\n`);
		assert.notEqual(r.code, 0, pw);
		assert.match(r.stderr, msg);
		assert.equal(r.stderr.trim().split('\n').length, 1);
	}
	const none = await sessionctl(['user', 'passwd', uniq('nobody')],
	    `${NEW_PASSWORD}\n`);
	assert.notEqual(none.code, 0);
	assert.match(none.stderr, /no user/);
	assertStatus(await as(a).get('/api/users/me/current-session/'), 200);
	const r = await sessionctl(['user', 'passwd', u.name],
	    `${NEW_PASSWORD}\n`);
	assert.equal(r.code, 0, r.stderr);
	for (const s of [a, b])
		assertError(await as(s).get('/api/users/me/current-session/'),
		    401, 'not_authenticated');
	const { rows } = await sql('SELECT event, reason FROM audit_log ' +
	    "WHERE user_id = $1 AND event IN ('password.changed', " +
	    "'session.revoked') ORDER BY id", [u.id]);
	assert.deepEqual(rows, [{ event: 'password.changed', reason: 'admin' },
	    { event: 'session.revoked', reason: 'admin' },
	    { event: 'session.revoked', reason: 'admin' }]);
	await login({ ...u, password: NEW_PASSWORD });
});

test('sessionctl purge forgets failed passwords older than the window',
    async () => {
	const name = uniq('purgefail');
	await sql('INSERT INTO auth_failures (username, ip, at) VALUES ' +
	    "($1, '127.0.0.60', now() - interval '16 minutes'), " +
	    "($1, '127.0.0.60', now())", [name]);
	const r = await sessionctl(['purge']);
	assert.equal(r.code, 0, r.stderr);
	assert.equal(await failures(name), 1);
	await sql('DELETE FROM auth_failures WHERE username = $1', [name]);
});
