// The HTTP integration tests' helpers: requests through nginx, logins,
// assertions on answers, events, restarts with other settings; and, from
// tests/common.mjs (shared with the end-to-end tests), where the stack is,
// users, SQL and processes. Environment: as tests/common.mjs, and
// SESSIOND_CONFIG, STACK_DIR.

import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import http from 'node:http';
import { randomBytes, createHmac } from 'node:crypto';
import pg from 'pg';
import {
	BASE, closeDb, pgOptions, setCookies, sh, sleep, sql, waitHealthy,
} from '../common.mjs';

export {
	BASE, ORIGIN, PASSWORD, SESSIONCTL, closeDb, createUser, createUserCtl,
	db, eventually, sessionctl, sh, sleep, sql, uniq, waitHealthy,
} from '../common.mjs';

export const UUID_RE =
    /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const TIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

/*
 * One HTTP request. opts: cookie (value of sid), device (value of the
 * device cookie did), csrf, json (object or raw string sent as
 * application/json), body (raw), type (Content-Type), headers, origin
 * (false: none; default: none), from (a 127.0.0.x source address: nginx
 * sees another client). Returns { status, headers, text, body (parsed
 * JSON or null), cookie (new sid value, '' when cleared, undefined when
 * not set), setCookie (raw header), device (new did value), setDevice
 * (its raw header) }.
 */
export async function api(method, path, opts = {}) {
	const headers = { ...(opts.headers ?? {}) };
	const cookies = [];
	if (opts.cookie !== undefined)
		cookies.push(`sid=${opts.cookie}`);
	if (opts.device !== undefined)
		cookies.push(`did=${opts.device}`);
	if (cookies.length > 0)
		headers.Cookie = cookies.join('; ');
	if (opts.csrf !== undefined)
		headers['X-CSRF-Token'] = opts.csrf;
	if (opts.origin)
		headers.Origin = opts.origin;
	let body;
	if (opts.json !== undefined) {
		body = typeof opts.json === 'string' ? opts.json :
		    JSON.stringify(opts.json);
		headers['Content-Type'] ??= 'application/json';
	} else if (opts.body !== undefined) {
		body = opts.body;
	}
	if (opts.type !== undefined)
		headers['Content-Type'] = opts.type;
	const t0 = performance.now();
	const res = await send(method, BASE + path, headers, body, opts.from);
	const ms = performance.now() - t0;
	let parsed = null;
	try {
		parsed = res.text === '' ? null : JSON.parse(res.text);
	} catch {
		parsed = undefined;
	}
	const sc = res.setCookies.find((c) => c.startsWith('sid='));
	const dc = res.setCookies.find((c) => c.startsWith('did='));
	return {
		status: res.status,
		headers: res.headers,
		text: res.text,
		body: parsed,
		setCookie: sc,
		cookie: sc === undefined ? undefined :
		    sc.slice(4).split(';')[0],
		setDevice: dc,
		device: dc === undefined ? undefined : dc.slice(4).split(';')[0],
		ms,
	};
}

/*
 * The request itself: with fetch, or from a chosen source address with
 * node:http (fetch cannot pick one). Resolves { status, headers (a
 * Headers), setCookies, text }.
 */
async function send(method, url, headers, body, from) {
	if (from === undefined) {
		const res = await fetch(url, { method, headers, body,
		    redirect: 'manual' });
		return { status: res.status, headers: res.headers,
		    setCookies: setCookies(res),
		    text: await res.text() };
	}
	return new Promise((resolve, reject) => {
		const req = http.request(url, { method, headers,
		    localAddress: from, agent: false }, (res) => {
			const chunks = [];
			res.on('data', (c) => chunks.push(c));
			res.on('end', () => {
				const h = new Headers();
				for (const [k, v] of Object.entries(res.headers))
					if (k !== 'set-cookie')
						h.set(k, Array.isArray(v) ?
						    v.join(', ') : v);
				resolve({ status: res.statusCode, headers: h,
				    setCookies: res.headers['set-cookie'] ?? [],
				    text: Buffer.concat(chunks).toString() });
			});
			res.on('error', reject);
		});
		req.on('error', reject);
		req.end(body);
	});
}

// The headers every API answer carries, errors included.
export function assertApiHeaders(res, what = '') {
	const ct = res.headers.get('content-type') ?? '';
	assert.match(ct, /^application\/json\b/,
	    `Content-Type of ${what}: ${ct}`);
	assert.equal(res.headers.get('cache-control'), 'no-store',
	    `Cache-Control of ${what}`);
	assert.equal(res.headers.get('x-content-type-options'), 'nosniff',
	    `X-Content-Type-Options of ${what}`);
}

// An error answer: status, code, the contract's shape and headers.
export function assertError(res, status, code, what = '') {
	const label = `${what} (got ${res.status} ${res.text.trim()})`;
	assert.equal(res.status, status, label);
	assertApiHeaders(res, label);
	assert.ok(res.body && typeof res.body === 'object', label);
	assert.deepEqual(Object.keys(res.body), ['error'], label);
	assert.deepEqual(Object.keys(res.body.error).sort(),
	    ['code', 'message'], label);
	if (code !== undefined)
		assert.equal(res.body.error.code, code, label);
	assert.match(res.body.error.code, /^[a-z]+(_[a-z]+)*$/, label);
	assert.equal(typeof res.body.error.message, 'string', label);
	assert.ok(res.body.error.message.length > 0, label);
}

export function assertStatus(res, status, what = '') {
	assert.equal(res.status, status,
	    `${what}: got ${res.status} ${res.text.trim()}`);
	assertApiHeaders(res, what);
}

/*
 * Log in; asserts success. Returns { cookie, csrf, session, res }.
 * opts.headers adds request headers (User-Agent, ...).
 */
export async function login(user, opts = {}) {
	const res = await api('POST', '/api/auth/login/', {
		json: { username: user.name, password: user.password },
		headers: opts.headers,
		cookie: opts.cookie,
	});
	assertStatus(res, 200, `login ${user.name}`);
	assert.ok(res.cookie, 'login sets the cookie');
	return { cookie: res.cookie, csrf: res.body.csrf_token,
	    session: res.body.session, res };
}

// Requests as a logged-in session s ({ cookie, csrf }).
export function as(s) {
	return {
		get: (path, o = {}) => api('GET', path, { cookie: s.cookie,
		    ...o }),
		post: (path, o = {}) => api('POST', path, { cookie: s.cookie,
		    csrf: s.csrf, ...o }),
		del: (path, o = {}) => api('DELETE', path, { cookie: s.cookie,
		    csrf: s.csrf, ...o }),
	};
}

// Forget this machine's failed logins (the throttle's counts, not the
// audit rows), so that the per-IP throttle (100 per window, and most tests
// come from 127.0.0.1) never trips by accident.
export async function clearIpFailures() {
	await sql("DELETE FROM auth_failures WHERE ip << '127.0.0.0/8'");
}

/*
 * Insert n active sessions of user id directly. opts: ago(i) gives the
 * last_seen_at age in seconds of the i-th (default 0), created(i) the
 * created_at age in seconds (default ago(i)). Returns the ids in order.
 */
export async function insertSessions(uid, n, opts = {}) {
	const ago = opts.ago ?? (() => 0);
	const created = opts.created ?? ago;
	const ids = [];
	for (let i = 0; i < n; i++)
		ids.push([created(i), ago(i)]);
	const { rows } = await sql(
	    'INSERT INTO sessions (user_id, token_hash, created_at, ' +
	    'authenticated_at, last_seen_at, absolute_expires_at, ip, ' +
	    'user_agent) ' +
	    'SELECT $1, sha256(gen_random_uuid()::text::bytea), ' +
	    "now() - c * interval '1 second', " +
	    "now() - c * interval '1 second', " +
	    "now() - a * interval '1 second', now() + interval '30 days', " +
	    "'192.0.2.1', 'inserted' " +
	    'FROM unnest($2::int[], $3::int[]) WITH ORDINALITY AS t(c, a, o) ' +
	    'ORDER BY o RETURNING id',
	    [uid, ids.map((x) => x[0]), ids.map((x) => x[1])]);
	return rows.map((r) => r.id);
}

// The session.revoked audit rows about target session ids.
export async function revokedRows(ids) {
	const { rows } = await sql(
	    "SELECT * FROM audit_log WHERE event = 'session.revoked' " +
	    'AND target_session_id = ANY($1::uuid[]) ORDER BY id', [ids]);
	return rows;
}

// Parse an RFC 3339 UTC timestamp of the API into epoch seconds.
export function epoch(t) {
	assert.match(t, TIME_RE);
	return Date.parse(t) / 1000;
}

// A session object of the API, checked against the contract.
export function assertSessionShape(s, what = 'session') {
	assert.deepEqual(Object.keys(s).sort(), ['authenticated_at', 'browser',
	    'created_at', 'current', 'device', 'expires_at', 'id', 'ip',
	    'last_seen_at', 'location', 'os', 'user_agent'], what);
	assert.match(s.id, UUID_RE, what);
	assert.equal(typeof s.current, 'boolean', what);
	for (const k of ['created_at', 'last_seen_at', 'expires_at',
	    'authenticated_at'])
		assert.match(s[k], TIME_RE, `${what}.${k}`);
	for (const k of ['user_agent', 'browser', 'os', 'device'])
		assert.equal(typeof s[k], 'string', `${what}.${k}`);
	assert.ok(s.ip === null || typeof s.ip === 'string', what);
	assert.ok(s.location === null || typeof s.location === 'string', what);
}

// A cookie value signed with a key of our own ("v1.kid.uid.token.mac").
export function forgeCookie(kid, uid, key = randomBytes(32)) {
	const tok = randomBytes(32).toString('base64url');
	const text = `v1.${kid}.${uid}.${tok}`;
	const mac = createHmac('sha256', key).update(text).digest('base64url');
	return `${text}.${mac}`;
}

/*
 * LISTEN session_events. Returns { events (every payload so far), of(uid,
 * want, ms): user uid's payloads once want of them came (or ms passed),
 * after a little longer to catch any extra one, end() }.
 */
export async function listenEvents() {
	const events = [];
	const client = new pg.Client(pgOptions());
	await client.connect();
	client.on('notification', (n) => {
		if (n.channel === 'session_events')
			events.push(JSON.parse(n.payload));
	});
	await client.query('LISTEN session_events');
	const of = async (uid, want, ms = 3000) => {
		const mine = () => events.filter((e) => String(e.user_id) ===
		    String(uid));
		const until = Date.now() + ms;
		while (mine().length < want && Date.now() < until)
			await sleep(20);
		await sleep(150);
		return mine();
	};
	return { events, of, end: () => client.end() };
}

/*
 * Run this file's tests against sessiond restarted with extra settings
 * (SESSIOND_* environment), and restart it without them afterwards.
 * Returns the reason to skip (no stop/start commands), or false.
 */
export function withSettings(settings) {
	const stop = process.env.SESSIOND_STOP_CMD;
	const start = process.env.SESSIOND_START_CMD;
	const skip = stop === undefined || start === undefined ?
	    'SESSIOND_STOP_CMD / SESSIOND_START_CMD not set' : false;
	async function restart(env) {
		sh(stop);
		sh(start, env);
		await waitHealthy();
	}
	before(async () => {
		if (skip)
			return;
		await clearIpFailures();
		await restart({ ...process.env, ...settings });
	});
	after(async () => {
		if (!skip) {
			const env = { ...process.env };
			for (const k of Object.keys(settings))
				delete env[k];
			await restart(env);
			await clearIpFailures();
		}
		await closeDb();
	});
	return skip;
}
