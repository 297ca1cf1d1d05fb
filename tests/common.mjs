// The one helper module of the JavaScript tests, shared by the integration
// tests (tests/integration/lib.mjs adds HTTP requests and assertions) and
// the end-to-end tests (tests/e2e/lib.mjs adds Chromium): where the stack
// is, users made with sessionctl, SQL, processes, waiting. They run on the
// Node.js that Debian 12 ships (18.20), so nothing here may rely on a newer
// API.
//
// Environment (set by scripts/test from the stack's env file):
// SESSIOND_URL, PGHOST/PGPORT/PGDATABASE/PGUSER/PGPASSFILE, SESSIONCTL and
// the SESSIOND_*_CMD / PG_RESTART_CMD shell commands.

import assert from 'node:assert/strict';
import { execSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)),
    '..');

// The stack under test; the default is scripts/test's (TEST_HTTP_PORT).
export const BASE = (process.env.SESSIOND_URL ?? 'http://127.0.0.1:18080')
    .replace(/\/+$/, '');
export const ORIGIN = new URL(BASE).origin;
// make test's build: the sanitizer one.
export const SESSIONCTL = process.env.SESSIONCTL ??
    path.join(ROOT, 'build/asan/sessionctl');
export const PASSWORD = 'correct horse battery staple';

// A name no other test uses: letters, digits and '-' (sessionctl's set).
export function uniq(prefix = 'u') {
	return `${prefix}-${randomBytes(6).toString('hex')}`;
}

export function sleep(ms) {
	return new Promise((resolve) => setTimeout(resolve, ms));
}

// Until fn stops throwing (or the time is up: then its last error).
export async function eventually(fn, { timeout = 10000, interval = 100 } = {}) {
	const end = Date.now() + timeout;
	for (;;) {
		try {
			return await fn();
		} catch (err) {
			if (Date.now() > end)
				throw err;
			await sleep(interval);
		}
	}
}

/*
 * The Set-Cookie lines of a fetch() response, one string each. Node 20's
 * Headers has getSetCookie(); Node 18's joins them with ", " in get(). A
 * comma starts a new cookie only where "name=" follows it: the comma inside
 * an Expires date ("Thu, 01 Jan 1970") is followed by a digit and a space.
 */
export function setCookies(res) {
	if (typeof res.headers.getSetCookie === 'function')
		return res.headers.getSetCookie();
	const joined = res.headers.get('set-cookie');
	if (joined === null)
		return [];
	return joined.split(/,\s*(?=[^;,=\s]+=)/);
}

/*
 * Options for a pg Client or Pool: the connection comes from the PG*
 * variables of the stack's env file; the password from its PGPASSFILE,
 * read here (pg's own reading of it is deprecated and warns).
 */
export function pgOptions(extra = {}) {
	const file = process.env.PGPASSFILE;
	let password;
	if (file) {
		try {
			const user = process.env.PGUSER ?? '';
			for (const line of readFileSync(file, 'utf8').split('\n')) {
				const f = line.split(':');
				if (f.length >= 5 && (f[3] === '*' || f[3] === user)) {
					password = f.slice(4).join(':');
					break;
				}
			}
		} catch {
			// No file: a stack run as an ordinary user may need none.
		}
	}
	return password === undefined ? { ...extra } : { password, ...extra };
}

// ---- SQL ---------------------------------------------------------------

let pool;

// One pool per test process; it lets the process exit once idle, and
// closeDb() ends it at once.
export function db() {
	pool ??= new pg.Pool(pgOptions({ max: 4, allowExitOnIdle: true }));
	return pool;
}

// A query; resolves to pg's result ({ rows, rowCount, ... }).
export function sql(text, params) {
	return db().query(text, params);
}

export async function closeDb() {
	if (pool !== undefined) {
		const p = pool;
		pool = undefined;
		await p.end();
	}
}

// ---- Processes ---------------------------------------------------------

// A shell command (the stack's SESSIOND_*_CMD); its output, or a throw.
export function sh(cmd, env = process.env) {
	assert.ok(cmd, 'command is set in the environment');
	return execSync(cmd, { stdio: ['ignore', 'pipe', 'pipe'], env,
	    timeout: 60000 }).toString();
}

// Run sessionctl; input goes to its standard input. Resolves to
// { code, stdout, stderr }.
export function sessionctl(args, input = '', env = process.env) {
	return new Promise((resolve, reject) => {
		const p = spawn(SESSIONCTL, args, { stdio: 'pipe', env });
		let stdout = '', stderr = '';
		p.stdout.on('data', (d) => { stdout += d; });
		p.stderr.on('data', (d) => { stderr += d; });
		p.on('error', reject);
		p.on('close', (code) => resolve({ code, stdout, stderr }));
		// A command that fails before it reads its input closes the
		// pipe: EPIPE here is its answer, not the test's error.
		p.stdin.on('error', (e) => {
			if (e.code !== 'EPIPE')
				reject(e);
		});
		p.stdin.end(input);
	});
}

// ---- Users -------------------------------------------------------------

// A new user made by `sessionctl user add` (password on standard input);
// returns { name, password, id }.
export async function createUserCtl(name = uniq(), password = PASSWORD) {
	const r = await sessionctl(['user', 'add', name], `${password}\n`);
	assert.equal(r.code, 0, `sessionctl user add ${name}: ${r.stderr}`);
	const { rows } = await sql('SELECT id FROM users WHERE username = $1',
	    [name]);
	assert.equal(rows.length, 1);
	return { name, password, id: String(rows[0].id) };
}

let template;

/*
 * A new user with the standard password, { name, password, id }. The
 * first is made by sessionctl; the others copy its password hash, which
 * saves a KDF run (~0.35 s) per user and gives the same row sessionctl
 * would write.
 */
export async function createUser(name = uniq(), password = PASSWORD) {
	if (password !== PASSWORD)
		return createUserCtl(name, password);
	template ??= createUserCtl(uniq('template'));
	const t = await template;
	const { rows } = await sql('INSERT INTO users (username, ' +
	    'password_hash) SELECT $1, password_hash FROM users ' +
	    'WHERE username = $2 RETURNING id', [name, t.name]);
	assert.equal(rows.length, 1);
	return { name, password, id: String(rows[0].id) };
}

// ---- The stack ---------------------------------------------------------

// Wait until /healthz answers 200 (after a restart or reload).
export async function waitHealthy(ms = 15000) {
	await eventually(async () => {
		const r = await fetch(`${BASE}/healthz`);
		await r.text();
		assert.equal(r.status, 200, 'the stack is healthy');
	}, { timeout: ms });
}
