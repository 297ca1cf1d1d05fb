// Section 1's admin CLI against the running stack: user add / disable /
// enable, sessions list / revoke, purge, migrate; failures exit non-zero
// with one line on standard error.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
	api, as, assertError, assertStatus, clearIpFailures, closeDb,
	createUser, createUserCtl, insertSessions, login, revokedRows,
	sessionctl, sql, uniq,
} from './lib.mjs';

before(clearIpFailures);
after(closeDb);

// A failed command: non-zero exit, exactly one line on stderr.
function assertFails(r, what, pattern) {
	assert.notEqual(r.code, 0, `${what}: exit ${r.code}`);
	const lines = r.stderr.split('\n').filter((l) => l !== '');
	assert.equal(lines.length, 1, `${what}: stderr ${JSON.stringify(
	    r.stderr)}`);
	if (pattern)
		assert.match(lines[0], pattern, what);
}

test('user add: password from standard input; errors on one line',
    async () => {
	const name = uniq('ctladd');
	const pw = 'a password with spaces and ünïcode';
	const r = await sessionctl(['user', 'add', name], `${pw}\n`);
	assert.equal(r.code, 0, r.stderr);
	assert.ok(!r.stdout.includes(pw) && !r.stderr.includes(pw));
	const { rows } = await sql('SELECT password_hash FROM users ' +
	    'WHERE username = $1', [name]);
	assert.equal(rows.length, 1);
	assert.ok(!rows[0].password_hash.includes(pw), 'stored hashed');
	await login({ name, password: pw });
	assertError(await api('POST', '/api/auth/login/', {
	    json: { username: name, password: `${pw}\n` } }), 401,
	    'invalid_credentials', 'the newline is not part of it');

	assertFails(await sessionctl(['user', 'add', name], 'another pw 1\n'),
	    'duplicate user', /exists/);
	assertFails(await sessionctl(['user', 'add', 'bad name!'],
	    'password-1\n'), 'bad name');
	assertFails(await sessionctl(['user', 'add', 'x'.repeat(65)],
	    'password-1\n'), 'name too long');
	assertFails(await sessionctl(['user', 'add', uniq('short')], 'short\n'),
	    'password too short');
	assertFails(await sessionctl(['user', 'add', uniq('empty')], ''),
	    'no password');
	// Nothing was created by the failures.
	const n = await sql("SELECT count(*)::int AS n FROM users WHERE " +
	    "username LIKE 'short-%' OR username LIKE 'empty-%' " +
	    "OR username = 'bad name!'");
	assert.equal(n.rows[0].n, 0);
});

test('sessions list and sessions revoke (reason admin)', async () => {
	const u = await createUser(uniq('ctllist'));
	const a = await login(u);
	const b = await login(u);
	const [gone] = await insertSessions(u.id, 1, { ago: () => 90000 });
	const r = await sessionctl(['sessions', 'list', u.name]);
	assert.equal(r.code, 0, r.stderr);
	assert.ok(r.stdout.includes(a.session.id), r.stdout);
	assert.ok(r.stdout.includes(b.session.id), r.stdout);
	assert.ok(!r.stdout.includes(gone), 'ended sessions are not listed');
	assertFails(await sessionctl(['sessions', 'list', uniq('nobody')]),
	    'list of an unknown user');

	const x = await sessionctl(['sessions', 'revoke', b.session.id]);
	assert.equal(x.code, 0, x.stderr);
	assertError(await as(b).get('/api/users/me/current-session/'), 401,
	    'not_authenticated', 'revoked by the admin');
	assertStatus(await as(a).get('/api/users/me/current-session/'), 200);
	const rows = await revokedRows([b.session.id]);
	assert.equal(rows.length, 1);
	assert.equal(rows[0].reason, 'admin');
	assert.equal(String(rows[0].user_id), u.id);
	const st = await as(a).get(`/api/auth/sessions/${b.session.id}/status/`);
	assert.equal(st.body.status, 'revoked');
	const after = await sessionctl(['sessions', 'list', u.name]);
	assert.ok(!after.stdout.includes(b.session.id));

	assertFails(await sessionctl(['sessions', 'revoke', b.session.id]),
	    'revoke twice');
	assertFails(await sessionctl(['sessions', 'revoke', randomUUID()]),
	    'revoke unknown');
	assertFails(await sessionctl(['sessions', 'revoke', 'not-a-uuid']),
	    'revoke malformed');
	assert.equal((await revokedRows([b.session.id])).length, 1);
});

test('user disable revokes every session and blocks login; enable ' +
    'undoes the block', async () => {
	const u = await createUser(uniq('ctldisable'));
	const a = await login(u);
	const b = await login(u);
	const r = await sessionctl(['user', 'disable', u.name]);
	assert.equal(r.code, 0, r.stderr);
	for (const s of [a, b])
		assertError(await as(s).get('/api/users/me/current-session/'), 401,
		    'not_authenticated', 'after disable');
	const rows = await revokedRows([a.session.id, b.session.id]);
	assert.deepEqual(rows.map((x) => x.reason), ['admin', 'admin']);
	const refused = await api('POST', '/api/auth/login/', {
	    json: { username: u.name, password: u.password } });
	assert.ok([401, 403].includes(refused.status), refused.text);
	assertError(refused, refused.status, undefined, 'disabled login');
	assert.equal(refused.setCookie, undefined);
	const n = await sql('SELECT count(*)::int AS n FROM sessions ' +
	    'WHERE user_id = $1 AND revoked_at IS NULL', [u.id]);
	assert.equal(n.rows[0].n, 0);
	// Disabling twice is harmless.
	assert.equal((await sessionctl(['user', 'disable', u.name])).code, 0);

	const e = await sessionctl(['user', 'enable', u.name]);
	assert.equal(e.code, 0, e.stderr);
	const c = await login(u);
	assertStatus(await as(c).get('/api/users/me/current-session/'), 200);
	// The old sessions stay revoked.
	assertError(await as(a).get('/api/users/me/current-session/'), 401,
	    'not_authenticated');
	assertFails(await sessionctl(['user', 'disable', uniq('nobody')]),
	    'disable unknown');
	assertFails(await sessionctl(['user', 'enable', uniq('nobody')]),
	    'enable unknown');
});

test('purge: deletes sessions ended before the retention period, keeps ' +
    'their audit rows, records expired ones', async () => {
	const u = await createUser(uniq('ctlpurge'));
	const s = await login(u);
	const old = await login(u);
	const [recent, idle, active] = await insertSessions(u.id, 3, {
	    ago: () => 60 });
	assert.equal((await as(s).del(`/api/auth/sessions/${old.session.id}/`))
	    .status, 204);
	await sql("UPDATE sessions SET revoked_at = now() - interval '40 days' " +
	    'WHERE id = $1', [old.session.id]);
	await sql("UPDATE sessions SET revoked_at = now() - interval '1 day', " +
	    "revoke_reason = 'user' WHERE id = $1", [recent]);
	await sql("UPDATE sessions SET last_seen_at = now() - " +
	    "interval '3 days' WHERE id = $1", [idle]);
	const auditBefore = await sql('SELECT count(*)::int AS n FROM ' +
	    'audit_log WHERE user_id = $1', [u.id]);

	const r = await sessionctl(['purge']);
	assert.equal(r.code, 0, r.stderr);
	const { rows } = await sql('SELECT id::text, revoke_reason FROM ' +
	    'sessions WHERE user_id = $1', [u.id]);
	const got = Object.fromEntries(rows.map((x) => [x.id, x.revoke_reason]));
	assert.ok(!(old.session.id in got), 'ended 40 days ago: deleted');
	assert.equal(got[recent], 'user', 'ended yesterday: kept');
	assert.equal(got[idle], 'expired', 'idle-expired: recorded');
	assert.equal(got[active], null, 'active: untouched');
	assert.equal(got[s.session.id], null);
	// Audit rows stay, and the expiry got one.
	assert.equal((await revokedRows([old.session.id])).length, 1);
	const ex = await revokedRows([idle]);
	assert.equal(ex.length, 1);
	assert.equal(ex[0].reason, 'expired');
	const auditAfter = await sql('SELECT count(*)::int AS n FROM ' +
	    'audit_log WHERE user_id = $1', [u.id]);
	assert.equal(auditAfter.rows[0].n, auditBefore.rows[0].n + 1);
	assertStatus(await as(s).get('/api/users/me/current-session/'), 200);
	// A second purge has nothing left to do.
	assert.equal((await sessionctl(['purge'])).code, 0);
	assert.equal((await revokedRows([idle])).length, 1);
});

// One rule for "expired" (sql/007-expiry.sql): a session that time ended
// is recorded as revoked at the moment it ended, whether sessiond finds it
// in use or sessionctl purge finds it, never at the moment it was noticed.
test('expired: the same moment whether sessiond or purge records it', async () => {
	const u = await createUser(uniq('ctlexpiry'));
	const used = await login(u);
	const [idle] = await insertSessions(u.id, 1, { ago: () => 3 * 86400 });
	await sql("UPDATE sessions SET last_seen_at = now() - interval '3 days' " +
	    'WHERE id = $1', [used.session.id]);
	// sessiond finds one in use (idle_timeout is a day: 2 days ago).
	assertError(await as(used).get('/api/users/me/current-session/'), 401,
	    'not_authenticated');
	// purge finds the other.
	const r = await sessionctl(['purge']);
	assert.equal(r.code, 0, r.stderr);
	const { rows } = await sql('SELECT id::text, revoke_reason, ' +
	    'extract(epoch FROM revoked_at - (last_seen_at + ' +
	    "interval '1 day'))::float8 AS off FROM sessions " +
	    'WHERE id = ANY($1::uuid[]) ORDER BY id', [[used.session.id, idle]]);
	assert.equal(rows.length, 2);
	for (const row of rows) {
		assert.equal(row.revoke_reason, 'expired', row.id);
		assert.ok(Math.abs(row.off) < 1,
		    `${row.id}: revoked when it expired (off by ${row.off} s)`);
	}
});

test('migrate twice is a no-op', async () => {
	const before1 = await sql('SELECT version, applied_at FROM ' +
	    'schema_migrations ORDER BY version');
	const fns = await sql("SELECT count(*)::int AS n FROM pg_proc " +
	    "WHERE pronamespace = 'public'::regnamespace");
	for (let i = 0; i < 2; i++) {
		const r = await sessionctl(['migrate']);
		assert.equal(r.code, 0, r.stderr);
	}
	const after1 = await sql('SELECT version, applied_at FROM ' +
	    'schema_migrations ORDER BY version');
	assert.deepEqual(after1.rows, before1.rows);
	assert.ok(before1.rows.length >= 2);
	const fns2 = await sql("SELECT count(*)::int AS n FROM pg_proc " +
	    "WHERE pronamespace = 'public'::regnamespace");
	assert.equal(fns2.rows[0].n, fns.rows[0].n);
	// And the service still works.
	await login(await createUser(uniq('ctlmigrate')));
});

test('a database it cannot reach: non-zero exit, one line', async () => {
	// sessionctl connects with admin_database when it is set (the
	// stack sets it: the schema's owner), else with database.
	const nowhere = 'host=/nonexistent port=1 dbname=x user=x ' +
	    'connect_timeout=2';
	const env = { ...process.env, SESSIOND_DATABASE: nowhere,
	    SESSIOND_ADMIN_DATABASE: nowhere };
	for (const args of [['sessions', 'list', 'someone'], ['purge'],
	    ['migrate'], ['user', 'disable', 'someone']]) {
		const r = await sessionctl(args, '', env);
		assertFails(r, args.join(' '));
	}
	const r = await sessionctl(['user', 'add', uniq('nodb')], 'password-1\n',
	    env);
	assertFails(r, 'user add');
	// Sanity: the helper for users made by sessionctl still works.
	const u = await createUserCtl(uniq('ctlok'));
	await login(u);
});
