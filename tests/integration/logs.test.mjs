/*
 * The log an operator reads: a failed request is one line, and the line
 * parses as logfmt even when PostgreSQL's message holds quotes, a
 * backslash and a newline. The failure is real: a trigger on this test's
 * own user makes PostgreSQL refuse the revoke.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { api, closeDb, createUser, login, sql, uniq } from './lib.mjs';

const STACK_DIR = process.env.STACK_DIR ?? process.env.SESSIOND_STACK_DIR;
const LOG = `${STACK_DIR}/sessiond.log`;

after(closeDb);

/* key=value pairs of one line after its "level=", or null if it does not parse. */
function logfmt(line) {
	const start = line.indexOf('level=');
	if (start < 0)
		return null;
	const re = /([A-Za-z_]+)=("(?:[^"\\]|\\.)*"|[^\s"=]+)(?: |$)/y;
	const kv = {};
	re.lastIndex = start;
	while (re.lastIndex < line.length) {
		const m = re.exec(line);
		if (m === null)
			return null;
		kv[m[1]] = m[2].startsWith('"') ?
		    m[2].slice(1, -1).replace(/\\(x[0-9a-f]{2}|.)/g, (_, e) =>
			e === 'n' ? '\n' : e === 't' ? '\t' : e === 'r' ? '\r' :
			e.startsWith('x') && e.length === 3 ?
			String.fromCharCode(parseInt(e.slice(1), 16)) : e) :
		    m[2];
	}
	return kv;
}

async function waitFor(fn, ms = 5000) {
	const until = Date.now() + ms;
	for (;;) {
		const v = fn();
		if (v || Date.now() > until)
			return v;
		await new Promise((r) => setTimeout(r, 50));
	}
}

test('a failed query is one 5xx line that parses, quotes and all',
    { skip: !STACK_DIR || !existsSync(LOG) ? 'no stack log' : false },
    async () => {
	const user = await createUser(uniq('log'));
	const a = await login(user), b = await login(user);
	const fn = `pg_temp_fail_${user.id}`;
	const message = 'no "revoke" here \\ on\nline two';
	const from = statSync(LOG).size;
	await sql(`CREATE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql ` +
	    `AS $$BEGIN RAISE EXCEPTION '%', $m$${message}$m$; END$$`);
	await sql(`CREATE TRIGGER ${fn} BEFORE UPDATE ON sessions FOR EACH ` +
	    `ROW WHEN (OLD.user_id = ${Number(user.id)}) EXECUTE FUNCTION ` +
	    `${fn}()`);
	let r;
	try {
		r = await api('DELETE', `/api/auth/sessions/${b.session.id}/`,
		    { cookie: a.cookie, csrf: a.csrf });
	} finally {
		await sql(`DROP TRIGGER ${fn} ON sessions`);
		await sql(`DROP FUNCTION ${fn}()`);
	}
	assert.equal(r.status, 500);
	assert.equal(r.body.error.code, 'internal_error');

	const fresh = () => readFileSync(LOG, 'utf8').slice(from).split('\n')
	    .filter((l) => l.includes('level=error'));
	const lines = await waitFor(() => {
		const l = fresh();
		return l.length > 0 ? l : null;
	}) ?? [];
	// Give a second line, if there were one, the time to arrive.
	await new Promise((res) => setTimeout(res, 300));
	assert.deepEqual(fresh(), lines);
	assert.equal(lines.length, 1, lines.join('\n'));
	const kv = logfmt(lines[0]);
	assert.ok(kv, `does not parse: ${lines[0]}`);
	assert.equal(kv.level, 'error');
	assert.equal(kv.msg, 'request failed');
	assert.equal(kv.status, '500');
	assert.equal(kv.cause, 'query failed');
	assert.equal(kv.sqlstate, 'P0001');
	assert.match(kv.route, /revoke/);
	assert.ok(kv.error.includes(message), kv.error);
});
