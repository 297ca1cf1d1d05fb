// Concurrent revocations through nginx: many clients ending overlapping
// sets of one user's sessions at once, "sign out all others" racing
// single revokes, and several "all others" at the same instant.
//
// What must hold (section 3 and 4 of the contract): every session is
// ended at most once, with exactly one session.revoked audit row; each
// single revoke that ended a session got the one 204 for it, each "all
// others" reported exactly the rows it wrote; no client sees a 5xx (no
// deadlock, no serialisation failure surfacing); and no session acted
// after it had itself been revoked.
//
// Sessions are minted by SQL with the cookie and CSRF token computed
// here (a login costs an scrypt hash each).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { api, closeDb, createUser, sleep, sql, uniq } from './lib.mjs';

const STACK_DIR = process.env.STACK_DIR ?? process.env.SESSIOND_STACK_DIR;

function configValue(name) {
	const path = process.env.SESSIOND_CONFIG ?? `${STACK_DIR}/sessiond.conf`;
	for (const line of readFileSync(path, 'utf8').split('\n')) {
		const m = line.match(/^\s*([a-z_]+)\s*=\s*(.*?)\s*$/);
		if (m && m[1] === name)
			return m[2];
	}
	return undefined;
}

let KEY;

function primaryKey() {
	const line = readFileSync(configValue('keys_file'), 'utf8').split('\n')
	    .map((l) => l.trim()).find((l) => l !== '' && !l.startsWith('#'));
	const i = line.indexOf(':');
	return { kid: line.slice(0, i),
	    key: Buffer.from(line.slice(i + 1), 'base64url') };
}

// n fresh sessions of user uid, with their cookies and CSRF tokens.
async function mint(uid, n) {
	const tokens = Array.from({ length: n }, () => randomBytes(32));
	const { rows } = await sql(
	    'INSERT INTO sessions (user_id, token_hash, created_at, ' +
	    'authenticated_at, last_seen_at, absolute_expires_at, ip, ' +
	    'user_agent) SELECT $1, h, now() - o * interval \'1 ms\', now(), ' +
	    "now(), now() + interval '30 days', '192.0.2.1', 'minted' " +
	    'FROM unnest($2::bytea[]) WITH ORDINALITY AS t(h, o) ' +
	    'ORDER BY o RETURNING id',
	    [uid, tokens.map((t) => createHash('sha256').update(t).digest())]);
	return rows.map((r, i) => {
		const text = `v1.${KEY.kid}.${uid}.` +
		    tokens[i].toString('base64url');
		const mac = createHmac('sha256', KEY.key).update(text)
		    .digest('base64url');
		return { id: r.id, cookie: `${text}.${mac}`,
		    csrf: createHmac('sha256', tokens[i]).update('csrf')
		    .digest('base64url') };
	});
}

function shuffle(a) {
	const b = [...a];
	for (let i = b.length - 1; i > 0; i--) {
		const j = Math.floor(Math.random() * (i + 1));
		[b[i], b[j]] = [b[j], b[i]];
	}
	return b;
}

// DELETE as session s: one target, or every other (target null).
async function revoke(s, target) {
	const path = target === null ? '/api/auth/sessions/' :
	    `/api/auth/sessions/${target}/`;
	const r = await api('DELETE', path, { cookie: s.cookie, csrf: s.csrf });
	return { actor: s.id, target, status: r.status, body: r.body,
	    text: r.text, ct: r.headers.get('content-type') };
}

function logLines(re) {
	const f = `${STACK_DIR}/sessiond.log`;
	if (!STACK_DIR || !existsSync(f))
		return 0;
	return readFileSync(f, 'utf8').split('\n').filter((l) => re.test(l))
	    .length;
}

const DB_TROUBLE = /query failed|deadlock|40P01|40001|worker (died|exited)|Sanitizer|runtime error/;

/*
 * What the database says about user uid's sessions after a run: the
 * contract's invariants, checked against the answers the clients got.
 */
async function checkOutcome(uid, sessions, results, label) {
	const ids = sessions.map((s) => s.id);
	const { rows: sess } = await sql(
	    'SELECT id, revoked_at IS NOT NULL AS revoked, revoke_reason ' +
	    'FROM sessions WHERE user_id = $1 AND id = ANY($2::uuid[])',
	    [uid, ids]);
	const { rows: audit } = await sql(
	    'SELECT id, reason, session_id, target_session_id ' +
	    "FROM audit_log WHERE event = 'session.revoked' AND user_id = $1 " +
	    'AND target_session_id = ANY($2::uuid[]) ORDER BY id',
	    [uid, ids]);

	// Answers: only these statuses, always JSON, never 5xx.
	const bad = results.filter((r) => ![200, 204, 401, 404]
	    .includes(r.status) || (r.status !== 204 &&
	    !/^application\/json\b/.test(r.ct ?? '')));
	assert.deepEqual(bad.map((r) => `${r.status} ${r.text}`), [],
	    `${label}: unexpected answers`);

	// At most one 204 per session, and never for an "all others".
	const wins = new Map();
	for (const r of results.filter((x) => x.status === 204)) {
		assert.notEqual(r.target, null);
		assert.ok(!wins.has(r.target),
		    `${label}: two 204s for ${r.target}`);
		wins.set(r.target, r.actor);
	}

	// One audit row per ended session, none for the others.
	const rowsFor = new Map();
	for (const a of audit)
		rowsFor.set(a.target_session_id,
		    [...(rowsFor.get(a.target_session_id) ?? []), a]);
	for (const s of sess) {
		const n = (rowsFor.get(s.id) ?? []).length;
		assert.equal(n, s.revoked ? 1 : 0,
		    `${label}: ${s.id} revoked=${s.revoked} has ${n} rows`);
		if (s.revoked)
			assert.equal(rowsFor.get(s.id)[0].reason, s.revoke_reason);
	}

	// Reason "user" rows are exactly the 204s, actor included.
	const userRows = audit.filter((a) => a.reason === 'user');
	assert.deepEqual(new Map(userRows.map((a) => [a.target_session_id,
	    a.session_id])), wins, `${label}: 204s match the audit rows`);

	// Each "all others" answered exactly the number of rows it wrote.
	const others = new Map();
	for (const a of audit.filter((x) => x.reason === 'others'))
		others.set(a.session_id, (others.get(a.session_id) ?? 0) + 1);
	const said = new Map();
	for (const r of results.filter((x) => x.target === null &&
	    x.status === 200)) {
		assert.equal(typeof r.body?.revoked, 'number');
		said.set(r.actor, (said.get(r.actor) ?? 0) + r.body.revoked);
	}
	for (const [actor, n] of said)
		assert.equal(others.get(actor) ?? 0, n,
		    `${label}: "all others" of ${actor} said ${n}`);
	for (const [actor, n] of others)
		assert.equal(said.get(actor), n,
		    `${label}: ${n} rows of ${actor} without its 200`);
	assert.deepEqual(audit.map((a) => a.reason).filter((r) =>
	    r !== 'user' && r !== 'others'), [], `${label}: other reasons`);

	// No session acted after its own revocation: audit ids are assigned
	// under the user's row lock, so they order one user's revocations.
	const revokedAt = new Map(audit.map((a) => [a.target_session_id,
	    Number(a.id)]));
	for (const a of audit) {
		const end = revokedAt.get(a.session_id);
		assert.ok(end === undefined || Number(a.id) < end,
		    `${label}: ${a.session_id} revoked ${a.target_session_id} ` +
		    'after it had been revoked itself');
	}
	return { revoked: sess.filter((s) => s.revoked).length,
	    rows: audit.length };
}

function tally(results) {
	const t = {};
	for (const r of results) {
		const k = `${r.target === null ? 'others' : 'one'}:${r.status}`;
		t[k] = (t[k] ?? 0) + 1;
	}
	return Object.entries(t).sort().map(([k, v]) => `${k}=${v}`).join(' ');
}

let troubleBefore;

before(() => {
	KEY = primaryKey();
	troubleBefore = logLines(DB_TROUBLE);
});

after(closeDb);

test('8 clients revoke overlapping sets while 2 sessions revoke all others',
    async () => {
	for (const delay of [150, 400, 900])
		await overlap(delay);
});

/*
 * One user, 40 sessions: 8 clients each revoke 15 random others one after
 * the other, while 2 more sessions send "all others" after delay ms (5 ms
 * apart, so that they race each other too).
 */
async function overlap(delay) {
	const user = await createUser(uniq('conc'));
	const S = await mint(user.id, 40);
	const singles = S.slice(0, 8), allers = S.slice(8, 10);
	const t0 = performance.now();
	const jobs = singles.map(async (actor) => {
		// 15 of the other 39, in a random order: they overlap.
		const targets = shuffle(S.filter((s) => s !== actor))
		    .slice(0, 15);
		const out = [];
		for (const t of targets)
			out.push(await revoke(actor, t.id));
		return out;
	});
	for (const [i, actor] of allers.entries()) {
		jobs.push((async () => {
			await sleep(delay + 5 * i);
			return [await revoke(actor, null)];
		})());
	}
	const results = (await Promise.all(jobs)).flat();
	const ms = Math.round(performance.now() - t0);
	const label = `overlap, "all others" after ${delay} ms`;
	const got = await checkOutcome(user.id, S, results, label);
	// An "all others" that ended anything ended everything else, and
	// nobody could act afterwards: its session is the one left.
	const win = results.find((r) => r.target === null &&
	    r.status === 200 && r.body.revoked > 0);
	if (win !== undefined) {
		assert.equal(got.revoked, S.length - 1, label);
		const { rows } = await sql('SELECT id FROM sessions WHERE ' +
		    'user_id = $1 AND revoked_at IS NULL', [user.id]);
		assert.deepEqual(rows.map((r) => r.id), [win.actor], label);
	}
	console.log(`# ${label}: ${results.length} requests in ${ms} ms, ` +
	    `${got.revoked} sessions ended, ${got.rows} audit rows; ` +
	    tally(results));
}

test('two to four concurrent revokes of one session: exactly one 204',
    async () => {
	const user = await createUser(uniq('conc-pair'));
	const S = await mint(user.id, 34);
	const actors = S.slice(0, 4), targets = S.slice(4);
	const results = [];
	const t0 = performance.now();
	for (const [i, t] of targets.entries()) {
		const k = 2 + (i % 3);
		const round = await Promise.all(actors.slice(0, k)
		    .map((a) => revoke(a, t.id)));
		assert.equal(round.filter((r) => r.status === 204).length, 1,
		    `one 204 for ${t.id}: ${round.map((r) => r.status)}`);
		results.push(...round);
	}
	const ms = Math.round(performance.now() - t0);
	const got = await checkOutcome(user.id, S, results, 'pairs');
	assert.equal(got.revoked, targets.length);
	console.log(`# pairs: ${results.length} requests in ${ms} ms, ` +
	    `${got.revoked} sessions ended; ${tally(results)}`);
});

test('ten "sign out all others" at the same instant', async () => {
	const user = await createUser(uniq('conc-all'));
	const S = await mint(user.id, 30);
	const actors = S.slice(0, 10);
	const t0 = performance.now();
	const results = await Promise.all(actors.map((a) => revoke(a, null)));
	const ms = Math.round(performance.now() - t0);
	const got = await checkOutcome(user.id, S, results, 'all-others');
	// Exactly one session survives: the first "all others" to take the
	// user's lock ended every other one, the rest acted too late.
	assert.equal(got.revoked, S.length - 1);
	const winners = results.filter((r) => r.status === 200 &&
	    r.body.revoked > 0);
	assert.equal(winners.length, 1, tally(results));
	assert.equal(winners[0].body.revoked, S.length - 1);
	const { rows } = await sql('SELECT id FROM sessions WHERE user_id = $1 ' +
	    'AND revoked_at IS NULL', [user.id]);
	assert.deepEqual(rows.map((r) => r.id), [winners[0].actor]);
	console.log(`# all-others: ${results.length} requests in ${ms} ms; ` +
	    tally(results));
});

test('single revokes, "all others" and logouts mixed, three rounds',
    async () => {
	for (let round = 0; round < 3; round++) {
		const user = await createUser(uniq('conc-mix'));
		const S = await mint(user.id, 24);
		const jobs = [];
		for (const [i, s] of S.entries()) {
			const kind = i % 6;
			jobs.push((async () => {
				await sleep(Math.random() * 40);
				if (kind === 0)
					return revoke(s, null);
				if (kind === 1) {
					const r = await api('POST',
					    '/api/auth/logout/', { cookie: s.cookie,
					    csrf: s.csrf });
					return { actor: s.id, target: s.id,
					    status: r.status, body: r.body,
					    text: r.text, logout: true,
					    ct: r.headers.get('content-type') };
				}
				return revoke(s, S[(i * 7 + 5) % S.length].id);
			})());
		}
		const results = await Promise.all(jobs);
		const bad = results.filter((r) => r.status >= 500 ||
		    ![200, 204, 401, 404].includes(r.status));
		assert.deepEqual(bad.map((r) => `${r.status} ${r.text}`), []);
		// Per session at most one end and exactly one row per end.
		const { rows } = await sql(
		    'SELECT s.id, s.revoked_at IS NOT NULL AS revoked, ' +
		    "(SELECT count(*) FROM audit_log a WHERE a.event = " +
		    "'session.revoked' AND a.target_session_id = s.id) AS n " +
		    'FROM sessions s WHERE s.user_id = $1', [user.id]);
		for (const r of rows)
			assert.equal(Number(r.n), r.revoked ? 1 : 0,
			    `round ${round}: ${r.id}`);
		// Each 204 of a DELETE is one revocation: no two for one
		// target, each with its "user" row. A logout answers 204
		// whenever its session is over afterwards, also when a
		// concurrent revoke ended it first (then the row is theirs).
		const { rows: audit } = await sql(
		    'SELECT a.session_id, a.target_session_id, a.reason FROM ' +
		    "audit_log a WHERE a.event = 'session.revoked' AND " +
		    'a.user_id = $1', [user.id]);
		const byTarget = new Map(audit.map((a) => [a.target_session_id,
		    a]));
		const seen = new Set();
		for (const r of results.filter((x) => x.status === 204)) {
			const row = byTarget.get(r.target);
			assert.ok(row, `204 for ${r.target} without its row`);
			if (r.logout)
				continue;
			assert.ok(!seen.has(r.target), `two 204s for ${r.target}`);
			seen.add(r.target);
			assert.deepEqual([row.reason, row.session_id],
			    ['user', r.actor], `row of the 204 for ${r.target}`);
		}
		for (const a of audit.filter((x) => x.reason === 'user'))
			assert.ok(seen.has(a.target_session_id),
			    `"user" row for ${a.target_session_id} without its 204`);
	}
});

test('no deadlock, failed query or crash in the service log', () => {
	assert.equal(logLines(DB_TROUBLE), troubleBefore,
	    'sessiond.log gained query failures, deadlocks or crashes');
});
