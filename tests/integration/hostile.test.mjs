// Hostile input over HTTP, through nginx, on raw sockets (fetch and curl
// would normalise much of it): a few hundred requests with broken framing,
// oversized or binary headers, malformed JSON, SQL and shell
// metacharacters in every field, path tricks, odd methods, and every
// endpoint with and without a valid session.
//
// Every answer on an /api/ path must be a 4xx (or the documented success)
// with a JSON body and the API's headers: never a 5xx, never HTML, never a
// reflected header. Afterwards the service still answers /healthz, no
// worker died, and the database holds exactly the writes the successful
// requests made: no users, no sessions beyond the logins that succeeded,
// one audit row per change and no change without its row.
//
// Sessions are minted by SQL (a login costs an scrypt hash); only a few
// cases reach the password check. Their login.failed rows (from
// 127.0.0.1) are deleted before and after, so the per-IP throttle of
// other tests never trips.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import {
	BASE, PASSWORD, clearIpFailures, closeDb, createUser, sql, uniq,
} from './lib.mjs';

const URL_ = new URL(BASE);
const HOST = URL_.hostname;
const PORT = Number(URL_.port || 80);
const HOSTPORT = URL_.host;
const SOME_ID = '0b6c6f4e-9a3b-4c1e-8d2f-5e6a7b8c9d0e';
const PWNED = '/tmp/sessiond-hostile-pwned';
const STACK_DIR = process.env.STACK_DIR ?? process.env.SESSIOND_STACK_DIR;

assert.equal(HOST, '127.0.0.1', 'hostile tests only ever talk to 127.0.0.1');

// ---------------------------------------------------------------- keys

function readConfigValue(name) {
	const path = process.env.SESSIOND_CONFIG ??
	    (STACK_DIR ? `${STACK_DIR}/sessiond.conf` : undefined);
	assert.ok(path, 'SESSIOND_CONFIG or STACK_DIR must be set');
	for (const line of readFileSync(path, 'utf8').split('\n')) {
		const m = line.match(/^\s*([a-z_]+)\s*=\s*(.*?)\s*$/);
		if (m && m[1] === name)
			return m[2];
	}
	return undefined;
}

function primaryKey() {
	const file = readConfigValue('keys_file');
	const line = readFileSync(file, 'utf8').split('\n')
	    .map((l) => l.trim()).find((l) => l !== '' && !l.startsWith('#'));
	const i = line.indexOf(':');
	return { kid: line.slice(0, i),
	    key: Buffer.from(line.slice(i + 1), 'base64url') };
}

let KEY;
const MINTED = new Set();
const SECRETS = [PASSWORD];	// must never show up in a log

function signCookie(uid, token, key = KEY) {
	const text = `v1.${key.kid}.${uid}.${token.toString('base64url')}`;
	const mac = createHmac('sha256', key.key).update(text)
	    .digest('base64url');
	return `${text}.${mac}`;
}

function csrfOf(token) {
	return createHmac('sha256', token).update('csrf').digest('base64url');
}

/*
 * A session of user uid inserted directly, with the cookie and CSRF token
 * a login would have given. opts: seenAgo, authAgo (seconds), revoked.
 */
async function mint(uid, opts = {}) {
	const token = randomBytes(32);
	const hash = createHash('sha256').update(token).digest();
	const { rows } = await sql(
	    'INSERT INTO sessions (user_id, token_hash, created_at, ' +
	    'authenticated_at, last_seen_at, absolute_expires_at, ip, ' +
	    'user_agent, revoked_at, revoke_reason) ' +
	    "VALUES ($1, $2, now() - $3 * interval '1 second', " +
	    "now() - $4 * interval '1 second', " +
	    "now() - $3 * interval '1 second', now() + interval '30 days', " +
	    "'192.0.2.9', 'minted', " +
	    "CASE WHEN $5 THEN now() END, CASE WHEN $5 THEN 'admin' END) " +
	    'RETURNING id',
	    [uid, hash, opts.seenAgo ?? 0, opts.authAgo ?? 0,
	    opts.revoked ?? false]);
	MINTED.add(rows[0].id);
	SECRETS.push(token.toString('base64url'), csrfOf(token));
	return { id: rows[0].id, uid, token, cookie: signCookie(uid, token),
	    csrf: csrfOf(token) };
}

// ------------------------------------------------------------ raw HTTP

function toBuf(v) {
	return Buffer.isBuffer(v) ? v : Buffer.from(String(v), 'utf8');
}

/*
 * A request as bytes. r: method, target, version, headers ([name, value]
 * with value a string (UTF-8) or Buffer (as is)), body (string or
 * Buffer), host (false: no Host), close (false: no Connection: close),
 * length (false: no Content-Length added for a body).
 */
function build(r) {
	const parts = [Buffer.from(`${r.method ?? 'GET'} `, 'latin1'),
	    toBuf(r.target), Buffer.from(` ${r.version ?? 'HTTP/1.1'}\r\n`)];
	const headers = [];
	if (r.host !== false)
		headers.push(['Host', HOSTPORT]);
	headers.push(...(r.headers ?? []));
	const body = r.body === undefined ? undefined : toBuf(r.body);
	if (body !== undefined && r.length !== false && !headers.some(([k]) =>
	    /^(content-length|transfer-encoding)$/i.test(k)))
		headers.push(['Content-Length', String(body.length)]);
	if (r.close !== false)
		headers.push(['Connection', 'close']);
	for (const [k, v] of headers)
		parts.push(toBuf(k), Buffer.from(': '), toBuf(v),
		    Buffer.from('\r\n'));
	parts.push(Buffer.from('\r\n'));
	if (body !== undefined)
		parts.push(body);
	return Buffer.concat(parts);
}

/*
 * Send bytes on a new connection and read until the server closes it or
 * opts.enough(data) says the answers are all in (nginx lingers for a
 * few seconds after an early 413). opts.halfClose ends our side after
 * writing; opts.ms bounds the wait.
 */
function exchange(bytes, opts = {}) {
	return new Promise((resolve) => {
		const s = net.connect(PORT, HOST);
		const chunks = [];
		let done = false;
		const finish = (extra) => {
			if (done)
				return;
			done = true;
			clearTimeout(timer);
			s.destroy();
			resolve({ data: Buffer.concat(chunks), ...extra });
		};
		const timer = setTimeout(() => finish({ timeout: true }),
		    opts.ms ?? 15000);
		s.on('data', (d) => {
			chunks.push(d);
			if (opts.enough?.(Buffer.concat(chunks)))
				finish({});
		});
		s.on('error', (e) => finish({ error: e.code }));
		s.on('close', () => finish({}));
		s.on('connect', () => {
			s.write(bytes);
			if (opts.halfClose)
				s.end();
		});
	});
}

function dechunk(buf, off) {
	const out = [];
	for (;;) {
		const eol = buf.indexOf('\r\n', off);
		if (eol < 0)
			return { body: Buffer.concat(out), end: buf.length };
		const size = parseInt(buf.toString('latin1', off, eol)
		    .split(';')[0], 16);
		off = eol + 2;
		if (!(size > 0)) {
			const tail = buf.indexOf('\r\n\r\n', off - 2);
			return { body: Buffer.concat(out), complete: tail >= 0,
			    end: tail < 0 ? buf.length : tail + 4 };
		}
		out.push(buf.subarray(off, off + size));
		off += size + 2;
	}
}

/*
 * The answers in data, interim (1xx) ones skipped. head: the first
 * request was HEAD (no body follows its headers). An answer that does not
 * start with a status line (HTTP/0.9) comes back as { http09, body }.
 */
function parseAnswers(data, head = false) {
	const out = [];
	let off = 0;
	if (data.length > 0 && !data.toString('latin1', 0, 5).startsWith('HTTP/'))
		return [{ http09: true, status: 0, headers: new Map(),
		    body: data }];
	while (off < data.length) {
		const end = data.indexOf('\r\n\r\n', off);
		if (end < 0)
			break;
		const lines = data.toString('latin1', off, end).split('\r\n');
		const m = lines[0].match(/^HTTP\/\d\.\d (\d{3})/);
		if (!m)
			break;
		const status = Number(m[1]);
		const headers = new Map();
		for (const l of lines.slice(1)) {
			const i = l.indexOf(':');
			const k = l.slice(0, i).trim().toLowerCase();
			const v = l.slice(i + 1).trim();
			headers.set(k, [...(headers.get(k) ?? []), v]);
		}
		off = end + 4;
		if (status < 200)
			continue;
		let body = Buffer.alloc(0), complete = true;
		if (!(head && out.length === 0) && status !== 204 &&
		    status !== 304) {
			const te = (headers.get('transfer-encoding') ?? [])
			    .join(',');
			const cl = headers.get('content-length');
			if (/chunked/i.test(te)) {
				const d = dechunk(data, off);
				body = d.body;
				off = d.end;
				complete = d.complete === true;
			} else if (cl !== undefined) {
				body = data.subarray(off, off + Number(cl[0]));
				off += Number(cl[0]);
				complete = off <= data.length;
			} else {
				body = data.subarray(off);
				off = data.length;
				complete = false;	// until the server closes
			}
		}
		out.push({ status, headers, body, complete });
	}
	return out;
}

function hdr(a, name) {
	return (a.headers.get(name) ?? [])[0];
}

// Where nginx will route a request target: decoded, dot segments and
// repeated slashes resolved. null when it climbs above the root.
function routedPath(target) {
	let t = Buffer.isBuffer(target) ? target.toString('latin1') : target;
	if (/^https?:\/\//i.test(t))
		t = t.replace(/^https?:\/\/[^/]*/i, '');
	t = t.split('?')[0];
	const dec = t.replace(/%([0-9a-fA-F]{2})/g,
	    (_, h) => String.fromCharCode(parseInt(h, 16)));
	const segs = [];
	for (const s of dec.split('/').slice(1)) {
		if (s === '.' || s === '')
			continue;
		if (s === '..') {
			if (segs.length === 0)
				return null;
			segs.pop();
			continue;
		}
		segs.push(s);
	}
	return `/${segs.join('/')}${dec.endsWith('/') && segs.length ? '/' : ''}`;
}

function isApiPath(target) {
	const p = routedPath(target);
	return p === null || p.startsWith('/api/') || p === '/api' ||
	    /^\/healthz\/?$/.test(p);
}

// ----------------------------------------------------------- bookkeeping

const state = {
	cases: 0,
	failures: [],
	credFailures: 0,	// answers invalid_credentials: one row each
	created: new Set(),	// sessions made by logins that succeeded
	revoked: new Map(),	// session id -> reason, revoked on purpose
};

function describe(a) {
	if (a === undefined)
		return 'no answer';
	const body = a.body.toString('utf8').replace(/\s+/g, ' ').slice(0, 200);
	return `${a.status} ${body}`;
}

/*
 * Problems with answer a to case c. c.want: the status or statuses
 * accepted (default any 4xx), c.code: the error code, c.page: the target
 * is not an API path (then only: no 5xx, no reflected header).
 */
function problems(c, a) {
	const p = [];
	if (a.http09) {
		// HTTP/0.9 has no status line nor headers: JSON still.
		if (/<html/i.test(a.body.toString('latin1')))
			p.push('HTML answer');
		try {
			JSON.parse(a.body.toString('utf8'));
		} catch {
			p.push('HTTP/0.9 answer is not JSON');
		}
		return p;
	}
	if (a.status >= 500)
		p.push(`5xx`);
	for (const k of a.headers.keys())
		if (/injected/i.test(k))
			p.push(`reflected header ${k}`);
	for (const k of a.headers.keys())
		if (k.startsWith('access-control-'))
			p.push(`CORS header ${k}`);
	for (const v of a.headers.get('set-cookie') ?? [])
		if (!/^(__Host-)?(sid|did)=/.test(v))
			p.push(`foreign Set-Cookie ${v}`);
	if (c.page)
		return p;
	const want = c.want === undefined ? null : [c.want].flat();
	if (want ? !want.includes(a.status) : a.status < 400 || a.status > 499)
		p.push(`status ${a.status}, want ${want ?? '4xx'}`);
	if (!/^application\/json\b/.test(hdr(a, 'content-type') ?? ''))
		p.push(`Content-Type ${hdr(a, 'content-type')}`);
	if (hdr(a, 'cache-control') !== 'no-store')
		p.push(`Cache-Control ${hdr(a, 'cache-control')}`);
	if (hdr(a, 'x-content-type-options') !== 'nosniff')
		p.push('no X-Content-Type-Options: nosniff');
	const text = a.body.toString('utf8');
	if (/<html|<!doctype/i.test(text))
		p.push('HTML body');
	if (c.head || a.status === 204) {
		if (a.body.length > 0 && !c.head)
			p.push('body on 204');
		return p;
	}
	let j;
	try {
		j = JSON.parse(text);
	} catch {
		p.push('body is not JSON');
		return p;
	}
	a.json = j;
	if (a.status >= 400) {
		if (!j || typeof j.error !== 'object' || Object.keys(j).length !==
		    1 || !/^[a-z]+(_[a-z]+)*$/.test(j.error.code ?? '') ||
		    typeof j.error.message !== 'string')
			p.push('error body not in the contract\'s shape');
		else if (c.code !== undefined && ![c.code].flat()
		    .includes(j.error.code))
			p.push(`code ${j.error.code}, want ${c.code}`);
		if (j.error?.code === 'invalid_credentials')
			state.credFailures++;
	}
	if (a.status === 405 && c.allow !== false && !hdr(a, 'allow'))
		p.push('405 without Allow');
	return p;
}

/*
 * Run one case: c.req (request fields for build()) or c.raw (bytes).
 * Returns the first answer (undefined when none came back).
 */
async function run(c) {
	state.cases++;
	const bytes = c.raw ?? build(c.req);
	const target = c.req?.target ?? c.target ?? '/api/';
	if (c.page === undefined)
		c.page = !isApiPath(target);
	if (c.head === undefined)
		c.head = /^HEAD$/.test(c.req?.method ?? '');
	const t0 = Date.now();
	const got = await exchange(bytes, { halfClose: c.halfClose,
	    enough: (d) => parseAnswers(d, c.head).filter((a) => a.complete)
	    .length >= (c.answers ?? 1) });
	if (process.env.HOSTILE_SLOW && Date.now() - t0 > 1000)
		console.log(`# slow: ${c.name} ${Date.now() - t0} ms`);
	const answers = parseAnswers(got.data, c.head);
	const p = [];
	if (answers.length === 0) {
		if (!c.noAnswerOk)
			p.push(got.timeout ? 'timed out' : 'no answer');
	} else {
		for (const a of answers.slice(0, c.answers ?? 1))
			p.push(...problems(c, a));
		if (c.answers !== undefined && answers.length < c.answers)
			p.push(`${answers.length} answers, want ${c.answers}`);
	}
	const a = answers[0];
	if (p.length === 0 && c.then)
		c.then(a);
	if (p.length > 0) {
		const line = `not ok - ${c.name}: ${describe(a)} [${p.join('; ')}]`;
		state.failures.push(line);
		console.log(line);
	}
	return a;
}

async function family(cases) {
	const before = state.failures.length;
	for (const c of cases)
		await run(c);
	const mine = state.failures.slice(before);
	assert.equal(mine.length, 0, mine.join('\n'));
}

// ---------------------------------------------------------- fixtures

let A, B, V1, V2, P;	// A acts, B is foreign, V* are guessed, P for paths
let sA, sAfresh, sB, sStale, sRevoked, sExpired, sP, pOthers;
let startAudit, startUsers, workerLines, snapshot;

const PAYLOADS = [
	"' OR '1'='1",
	"'; DROP TABLE sessions; --",
	'" OR 1=1 --',
	'1); SELECT pg_sleep(5); --',
	`$(touch ${PWNED})`,
	`\`touch ${PWNED}\``,
	`| touch ${PWNED}`,
	`; touch ${PWNED} #`,
	'../../../../etc/passwd',
	'%00%0d%0a%2e%2e',
	'${jndi:ldap://127.0.0.1/a} {{7*7}} %s%n',
	'<script>alert(1)</script>\\"\u202e\u00e9\u{1f600}',
];

function auth(s, csrf = true) {
	const h = [['Cookie', `sid=${s.cookie}`]];
	if (csrf)
		h.push(['X-CSRF-Token', s.csrf]);
	return h;
}

function jsonReq(target, body, headers = []) {
	return { method: 'POST', target, body,
	    headers: [['Content-Type', 'application/json'], ...headers] };
}

function workerDeaths() {
	if (!STACK_DIR || !existsSync(`${STACK_DIR}/sessiond.log`))
		return 0;
	return readFileSync(`${STACK_DIR}/sessiond.log`, 'utf8').split('\n')
	    .filter((l) => /worker (died|exited)|AddressSanitizer|runtime error/
	    .test(l)).length;
}

before(async () => {
	KEY = primaryKey();
	rmSync(PWNED, { force: true });
	await clearIpFailures();
	A = await createUser(uniq('hostile-a'));
	B = await createUser(uniq('hostile-b'));
	V1 = await createUser(uniq('hostile-v'));
	V2 = await createUser(uniq('hostile-v'));
	P = await createUser(uniq('hostile-p'));
	sA = await mint(A.id);
	sAfresh = await mint(A.id);
	sB = await mint(B.id);
	sStale = await mint(A.id, { authAgo: 7200 });
	sRevoked = await mint(A.id, { revoked: true });
	// Idle for two days: its next use ends it (reason "expired").
	sExpired = await mint(A.id, { seenAgo: 2 * 86400 });
	sP = await mint(P.id);
	pOthers = [await mint(P.id), await mint(P.id), await mint(P.id)];
	startAudit = Number((await sql(
	    'SELECT coalesce(max(id), 0) AS m FROM audit_log')).rows[0].m);
	startUsers = Number((await sql('SELECT count(*) AS n FROM users'))
	    .rows[0].n);
	snapshot = new Map((await sql(
	    'SELECT id, revoked_at IS NOT NULL AS r FROM sessions ' +
	    'WHERE user_id = ANY($1::int8[])', [[A.id, B.id, V1.id, V2.id, P.id]]))
	    .rows.map((r) => [r.id, r.r]));
	workerLines = workerDeaths();
});

after(async () => {
	await clearIpFailures();
	await closeDb();
	console.log(`${state.failures.length === 0 ? 'ok' : 'not ok'} - ` +
	    `${state.cases} hostile cases, ${state.failures.length} failed`);
});

// -------------------------------------------------------------- cases

// A password change whose current password is wrong: never a change.
const PASSWORD_BODY =
    '{"current_password": "x", "new_password": "zebra quill morning tea"}';

const ENDPOINTS = [
	['POST', '/api/auth/login/'],
	['POST', '/api/auth/logout/'],
	['POST', '/api/auth/reauth/'],
	['POST', '/api/auth/password/'],
	['GET', '/api/users/me/current-session/'],
	['GET', '/api/auth/sessions/'],
	['DELETE', '/api/auth/sessions/'],
	['GET', `/api/auth/sessions/${SOME_ID}/status/`],
	['DELETE', `/api/auth/sessions/${SOME_ID}/`],
	['GET', '/api/auth/audit/'],
	['GET', '/healthz'],
];

test('methods: TRACE, OPTIONS, HEAD, PATCH, PUT, CONNECT and others',
    async () => {
	const paths = [...new Set(ENDPOINTS.map(([, p]) => p)),
	    '/api/nope/', '/api/'];
	const methods = ['TRACE', 'OPTIONS', 'HEAD', 'PATCH', 'PUT',
	    'CONNECT', 'PROPFIND', 'BREW', 'get', 'G\u00c9T'];
	const cases = [];
	for (const path of paths) {
		const known = ENDPOINTS.some(([, p]) => p === path);
		for (const m of methods) {
			for (const withSession of [false, true]) {
				const c = { name: `${m} ${path}` +
				    (withSession ? ' with session' : ''),
				    req: { method: m, target: path,
				    headers: withSession ? auth(sA) : [] } };
				if (m === 'get' || m === 'G\u00c9T') {
					c.want = 400;	// nginx: bad method
				} else if (m === 'TRACE' || m === 'CONNECT') {
					c.want = 405;	// nginx refuses these
					c.allow = false;
				} else if (known) {
					c.want = 405;
					c.code = 'method_not_allowed';
				} else {
					c.want = 404;
					c.code = 'not_found';
				}
				cases.push(c);
			}
		}
	}
	await family(cases);
});

test('headers: oversized, binary, control bytes, folded, duplicated',
    async () => {
	const big = 'b'.repeat(9000);
	const cases = [];
	for (const [m, p] of ENDPOINTS) {
		cases.push({ name: `9000-byte header on ${m} ${p}`,
		    req: { method: m, target: p, headers: [['X-Big', big]] },
		    want: 400 });
		cases.push({ name: `9000-byte Cookie on ${m} ${p}`,
		    req: { method: m, target: p,
		    headers: [['Cookie', `sid=${big}`]] }, want: 400 });
	}
	const get = '/api/users/me/current-session/';
	const many = Array.from({ length: 100 }, (_, i) =>
	    [`X-H${i}`, 'v'.repeat(100)]);
	const tooMany = Array.from({ length: 400 }, (_, i) =>
	    [`X-H${i}`, 'v'.repeat(100)]);
	const bin = (s) => Buffer.from(s, 'latin1');
	cases.push(
	    { name: '100 headers, valid session', want: 200,
		req: { target: get, headers: [...auth(sA), ...many] } },
	    { name: '400 headers (over the buffers)', want: 400,
		req: { target: get, headers: [...auth(sA), ...tooMany] } },
	    { name: 'Cookie header of 5000 bytes around a valid sid',
		want: 401, code: 'not_authenticated', req: { target: get,
		headers: [['Cookie', `a=${'x'.repeat(5000)}; sid=${sA.cookie}`]] } },
	    { name: 'sid of 600 bytes', want: 401, req: { target: get,
		headers: [['Cookie', `sid=${'A'.repeat(600)}`]] } },
	    { name: 'two sid cookies', want: 401, req: { target: get,
		headers: [['Cookie', `sid=${sA.cookie}; sid=${sB.cookie}`]] } },
	    // Browsers send one Cookie header (HTTP/2 crumbs are joined by
	    // nginx); with two, nginx 1.22 hands sessiond the first.
	    { name: 'two Cookie headers with sid', want: [200, 401],
		req: { target: get, headers: [['Cookie', `sid=${sA.cookie}`],
		['Cookie', `sid=${sB.cookie}`]] } },
	    { name: '150 cookies', want: 200, req: { target: get,
		headers: [['Cookie', Array.from({ length: 150 }, (_, i) =>
		`c${i}=1`).join('; ') + `; sid=${sA.cookie}`]] } },
	    { name: 'NUL in User-Agent', want: 400, req: { target: get,
		headers: [...auth(sA), ['User-Agent', bin('a\0b')]] } },
	    { name: 'NUL in Cookie', want: 400, req: { target: get,
		headers: [['Cookie', bin(`sid=${sA.cookie}\0`)]] } },
	    { name: 'bare CR in a header', want: 400, req: { target: get,
		headers: [...auth(sA), ['X-A', bin('a\rb')]] } },
	    { name: 'folded header line', want: 400, req: { target: get,
		headers: [...auth(sA), ['X-A', bin('a\r\n folded')]] } },
	    { name: 'header line without colon', want: [400, 401],
		raw: bin(`GET ${get} HTTP/1.1\r\nHost: ${HOSTPORT}\r\n` +
		'NoColonHere\r\nConnection: close\r\n\r\n'), target: get },
	    { name: 'invalid header name', want: [200, 400],
		req: { target: get, headers: [...auth(sA),
		['X Bad(Name)', 'v']] } },
	    { name: 'two Host headers', want: 400, req: { target: get,
		headers: [['Host', 'a'], ...auth(sA)] } },
	    { name: 'no Host on HTTP/1.1', want: 400,
		req: { target: get, host: false } },
	    { name: 'Host with a space', want: 400,
		req: { target: get, host: false, headers: [['Host', 'a b']] } },
	    { name: 'HTTP/1.0 without Host', want: 401,
		req: { target: get, host: false, version: 'HTTP/1.0' } },
	    { name: 'HTTP/2.0 request line', want: 400,
		req: { target: get, version: 'HTTP/2.0' } },
	    { name: 'HTTP/9.9 request line', want: 400,
		req: { target: get, version: 'HTTP/9.9' } },
	    { name: 'HTTP/0.9 request', target: get,
		raw: bin(`GET ${get}\r\n`) },
	    { name: 'not HTTP at all', target: get,
		raw: bin('\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n'),
		want: 400, noAnswerOk: true },
	);
	// Control bytes, invalid UTF-8 and overlong encodings in the values
	// sessiond stores: a session last seen 2 minutes ago takes the
	// request's user agent and client hints, so these reach the
	// database. Each answers 200; the list then renders them all.
	const nasty = [
		bin('\x01\x02\x1b[31mred\x7f'), bin('\xff\xfe\xfd'),
		bin('\xc0\xaf\xe0\x80\xaf'), bin('\xed\xa0\x80 surrogate'),
		bin('\xf4\x90\x80\x80 beyond'), bin('\xc3 truncated'),
		bin('a'.repeat(7000)), Buffer.from('\u202e\u{1f600}\u00e9'),
	];
	for (const [i, v] of nasty.entries()) {
		for (const h of ['User-Agent', 'Sec-CH-UA', 'Sec-CH-UA-Platform',
		    'Sec-CH-UA-Mobile']) {
			const s = await mint(A.id, { seenAgo: 120 });
			cases.push({ name: `${h} #${i} stored on touch`,
			    want: 200, req: { target: get,
			    headers: [...auth(s), [h, v]] } });
		}
	}
	cases.push({ name: 'the list renders every stored value', want: 200,
	    req: { target: '/api/auth/sessions/?limit=100',
	    headers: auth(sA) }, then: (a) => {
		assert.ok(a.json.sessions.length >= 32);
	} });
	await family(cases);
	const { rows } = await sql("SELECT count(*) AS n FROM sessions WHERE " +
	    "user_id = $1 AND (user_agent ~ '[\\x01-\\x1f\\x7f]' OR " +
	    "ch_ua ~ '[\\x01-\\x1f\\x7f]' OR length(user_agent) > 512)",
	    [A.id]);
	assert.equal(Number(rows[0].n), 0, 'stored values are cleaned');
});

test('metacharacters in every field', async () => {
	const cases = [];
	const enc = encodeURIComponent;
	const get = '/api/users/me/current-session/';
	// Header-safe forms (no CR, LF or NUL).
	for (const [i, p] of PAYLOADS.entries()) {
		const tag = `payload #${i}`;
		// JSON fields: these reach the KDF (same work for unknown users).
		cases.push({ name: `username ${tag}`, want: 401,
		    code: 'invalid_credentials', req: jsonReq('/api/auth/login/',
		    JSON.stringify({ username: p, password: 'x' })) });
		// The password only meets scrypt: a third of them is enough.
		const victim = i % 2 ? V1 : V2;
		if (i % 3 === 0)
			cases.push({ name: `password ${tag}`, want: 401,
			    code: 'invalid_credentials', req: jsonReq(
			    '/api/auth/login/', JSON.stringify({
			    username: victim.name, password: p })) });
		// Query parameters.
		for (const path of ['/api/auth/sessions/', '/api/auth/audit/']) {
			cases.push({ name: `cursor ${tag} on ${path}`, want: 400,
			    code: 'invalid_cursor', req: { target:
			    `${path}?cursor=${enc(p)}`, headers: auth(sA) } });
			cases.push({ name: `limit ${tag} on ${path}`, want: 400,
			    code: 'invalid_limit', req: { target:
			    `${path}?limit=${enc(p)}`, headers: auth(sA) } });
			cases.push({ name: `raw query ${tag} on ${path}`,
			    want: [200, 400], req: { target:
			    `${path}?${p.replace(/[\s#]/g, '+')}`,
			    headers: auth(sA) } });
		}
		// The path's session id, encoded and raw.
		for (const id of [enc(p), p.replace(/[\s#?]/g, '_')]) {
			const t1 = `/api/auth/sessions/${id}/status/`;
			const t2 = `/api/auth/sessions/${id}/`;
			const route1 = routedPath(t1), route2 = routedPath(t2);
			const one = (r) => r !== null &&
			    /^\/api\/auth\/sessions\/[^/]+\/?(status\/?)?$/.test(r);
			cases.push({ name: `path id ${tag} (${id === p ? 'raw' :
			    'encoded'}) status`, req: { target: t1,
			    headers: auth(sA) },
			    want: one(route1) ? 400 : [400, 404, 405],
			    code: one(route1) ? ['invalid_session_id',
			    'bad_request'] : undefined });
			cases.push({ name: `path id ${tag} (${id === p ? 'raw' :
			    'encoded'}) delete`, req: { method: 'DELETE',
			    target: t2, headers: auth(sA) },
			    want: one(route2) ? 400 : [400, 404, 405] });
		}
		// Headers sessiond reads.
		for (const h of ['User-Agent', 'Sec-CH-UA', 'Sec-CH-UA-Platform',
		    'Sec-CH-UA-Mobile', 'X-Forwarded-For', 'X-Real-IP',
		    'Forwarded']) {
			cases.push({ name: `${h} ${tag}`, want: 200,
			    req: { target: get, headers: [...auth(sA),
			    [h, p]] } });
		}
		cases.push({ name: `X-CSRF-Token ${tag}`, want: 403,
		    code: 'csrf_failed', req: { method: 'DELETE',
		    target: `/api/auth/sessions/${sB.id}/`, headers: [
		    ['Cookie', `sid=${sA.cookie}`], ['X-CSRF-Token', p]] } });
		cases.push({ name: `Origin ${tag} on delete`, want: 403,
		    code: 'csrf_failed', req: { method: 'DELETE',
		    target: `/api/auth/sessions/${sB.id}/`,
		    headers: [...auth(sA), ['Origin', p]] } });
		cases.push({ name: `Origin ${tag} on login`, want: 403,
		    code: 'csrf_failed', req: jsonReq('/api/auth/login/',
		    JSON.stringify({ username: A.name, password: 'x' }),
		    [['Origin', p]]) });
		cases.push({ name: `Sec-Fetch-Site ${tag} on logout`, want: 403,
		    code: 'csrf_failed', req: { method: 'POST',
		    target: '/api/auth/logout/', headers: [...auth(sA),
		    ['Sec-Fetch-Site', p]] } });
		cases.push({ name: `Cookie sid ${tag}`, want: [400, 401],
		    req: { target: get, headers: [['Cookie', `sid=${p}`]] } });
		cases.push({ name: `Cookie header ${tag}`, want: [400, 401],
		    req: { target: get, headers: [['Cookie', p]] } });
		cases.push({ name: `Host ${tag}`, want: [400, 401], req: {
		    target: get, host: false, headers: [['Host', p]] } });
		cases.push({ name: `Content-Type ${tag} on login`, want: 415,
		    req: { method: 'POST', target: '/api/auth/login/',
		    body: '{}', headers: [['Content-Type', p]] } });
	}
	// CRLF where a value could be reflected into a header.
	for (const t of [
		'/api/auth/sessions/%0d%0aX-Injected:%201/status/',
		'/api/auth/sessions/?cursor=%0d%0aX-Injected:%201',
		'/api/auth/sessions/?limit=1%0d%0aX-Injected:%201',
		'/api/nope%0d%0aX-Injected:%201',
		'/api/auth/login%0d%0aSet-Cookie:%20x=1',
	]) {
		cases.push({ name: `CRLF in ${t}`, req: { target: t,
		    headers: auth(sA) } });
	}
	await family(cases);
	assert.ok(!existsSync(PWNED), `${PWNED} exists: a shell ran input`);
	const { rows } = await sql("SELECT to_regclass('sessions') IS NOT NULL " +
	    "AND to_regclass('users') IS NOT NULL AS ok");
	assert.ok(rows[0].ok, 'tables still there');
});

test('JSON: invalid UTF-8, overlong forms, nesting, numbers, types, keys',
    async () => {
	const bin = (s) => Buffer.from(s, 'latin1');
	const u = (name, extra = '') =>
	    `{"username": "${name}", "password": "x"${extra}}`;
	const bad = [
		// invalid UTF-8 and overlong encodings
		bin('{"username": "\xff", "password": "x"}'),
		bin('{"username": "\xc3", "password": "x"}'),
		bin('{"username": "\xc0\xaf", "password": "x"}'),
		bin('{"username": "\xe0\x80\xaf", "password": "x"}'),
		bin('{"username": "\xf0\x80\x80\xaf", "password": "x"}'),
		bin('{"username": "\xed\xa0\x80", "password": "x"}'),
		bin('{"username": "\xf4\x90\x80\x80", "password": "x"}'),
		bin('{"username": "a", "password": "\xfe\xff"}'),
		bin('{"\xc1\xb5sername": "a", "password": "x"}'),
		bin('\xef\xbb\xbf{"username": "a", "password": "x"}'),
		Buffer.from(u('a'), 'utf16le'),
		// NUL, raw and escaped
		bin('{"username": "a\0", "password": "x"}'),
		bin('{"username": "a", "password": "x"}\0'),
		u('a\\u0000b'), '{"username": "a", "password": "\\u0000"}',
		// controls unescaped inside strings
		bin('{"username": "a\x01", "password": "x"}'),
		bin('{"username": "a\nb", "password": "x"}'),
		// nesting
		'['.repeat(10000), '{"a":'.repeat(3000),
		`{"username": ${'['.repeat(100)}"a"${']'.repeat(100)}, ` +
		    '"password": "x"}',
		u('a', ', "x": {"y": {"z": {"w": {}}}}'),
		// numbers and literals
		'{"username": 1e999999, "password": "x"}',
		'{"username": -0, "password": "x"}',
		`{"username": ${'9'.repeat(5000)}, "password": "x"}`,
		'{"username": NaN, "password": "x"}',
		'{"username": Infinity, "password": "x"}',
		'{"username": 0x10, "password": "x"}',
		'{"username": .5, "password": "x"}',
		'{"username": 01, "password": "x"}',
		u('a', ', "n": 1e999'),
		// types
		'{"username": true, "password": "x"}',
		'{"username": null, "password": "x"}',
		'{"username": ["a"], "password": "x"}',
		'{"username": {"$ne": null}, "password": {"$ne": null}}',
		'{"username": "a", "password": 12345}',
		'{"username": "a", "password": false}',
		'[{"username": "a", "password": "x"}]',
		'"{\\"username\\": \\"a\\"}"',
		// keys
		u('a', ', "username": "b"'),
		'{"\\u0075sername": "a", "username": "b", "password": "x"}',
		'{"username": "a", "pass\\u0077ord": "x", "password": "y"}',
		'{"Username": "a", "password": "x"}',
		'{"username ": "a", "password": "x"}',
		u('a', ', "__proto__": {}'),
		u('a', ', "": ""'),
		// syntax
		'{"username": "a", "password": "x"} /* c */',
		'{"username": "a", // c\n "password": "x"}',
		"{'username': 'a', 'password': 'x'}",
		'{"username": "a" "password": "x"}',
		'{"username": "a",, "password": "x"}',
		'{"username": "a\\x41", "password": "x"}',
		'{"username": "a\\u00", "password": "x"}',
		'{"username": "a", "password": "x"',
		'{"username": "a", "password": "x"}}',
		'{"username": "a", "password": "x"}\n{}',
		// lengths
		u('a'.repeat(65)),
		`{"username": "a", "password": "${'p'.repeat(1025)}"}`,
		u(''),
	];
	const cases = [];
	for (const [i, body] of bad.entries()) {
		cases.push({ name: `login body #${i}: ` +
		    toBuf(body).toString('latin1').slice(0, 60),
		    want: 400, code: 'invalid_json',
		    req: jsonReq('/api/auth/login/', body) });
	}
	const badReauth = [
		bin('{"password": "\xff"}'), bin('{"password": "\xc0\xaf"}'),
		bin('{"password": "\xe0\x80\xaf"}'),
		bin('{"password": "\xed\xa0\x80"}'),
		bin('{"password": "x\0"}'), '{"password": "x\u0000"}',
		bin('{"password": "a\x01"}'), '['.repeat(10000),
		'{"password": [[[[["x"]]]]]}', '{"password": 1e999999}',
		'{"password": NaN}', '{"password": null}',
		'{"password": {"$ne": null}}', '{"password": "x", "password": "x"}',
		'{"password": "x", "\u0070assword": "y"}',
		'{"password": "x", "username": "a"}', '{"Password": "x"}',
		'{"password": "x"} /**/', '{"password": "x"', '{}',
		`{"password": "${'p'.repeat(1025)}"}`, '{"password": ""}',
		Buffer.from('{"password": "x"}', 'utf16le'),
	];
	for (const [i, body] of badReauth.entries()) {
		cases.push({ name: `reauth body #${i}: ` +
		    toBuf(body).toString('latin1').slice(0, 60),
		    want: 400, code: 'invalid_json',
		    req: jsonReq('/api/auth/reauth/', body, auth(sA)) });
	}
	// Escaped forms json-c accepts: lone surrogates become U+FFFD.
	// Unknown user names, so these reach the KDF: 401, nothing stored.
	for (const name of ['\\ud800', '\\udc00x', '\\ud83d\\u0041',
	    'a\\u0001b', '\\u202e\\ufeff']) {
		cases.push({ name: `escaped username ${name}`, want: [400, 401],
		    req: jsonReq('/api/auth/login/', u(name)) });
	}
	// Content types.
	for (const [type, want] of [
		['application/json-patch+json', 415], ['application/jsonp', 415],
		['text/json', 415], ['application/x-json', 415],
		['application/json\x00', 400], ['', 415],
		['application/json; charset=utf-16', 400],
		['APPLICATION/JSON', 400], ['multipart/form-data; boundary=x', 415],
	]) {
		cases.push({ name: `Content-Type ${JSON.stringify(type)}`, want,
		    req: { method: 'POST', target: '/api/auth/login/',
		    body: '{"username": 1}',
		    headers: [['Content-Type', bin(type)]] } });
	}
	cases.push({ name: 'two Content-Type headers', want: [400, 415],
	    req: { method: 'POST', target: '/api/auth/login/',
	    body: '{"username": 1}', headers: [['Content-Type', 'text/plain'],
	    ['Content-Type', 'application/json']] } });
	await family(cases);
});

test('paths: %2e%2e, %2f, //, /./, %00, overlong and case tricks',
    async () => {
	const ups = '%2e%2e/'.repeat(6);
	const targets = [
		'/api/auth/sessions/%2e%2e/', '/api/auth/%2e%2e/auth/sessions/',
		'/api/auth/sessions/..%2f', '/api/auth%2fsessions/',
		'/api//auth//sessions//', '/api/./auth/./sessions/./',
		'/api/auth/sessions/%00/status/', '/api/auth/sessions%00/',
		'/api/auth/sessions/%252e%252e/status/',
		'/api/auth/sessions/%c0%ae%c0%ae/status/',
		'/api/auth/sessions/%e0%80%ae/status/',
		'/api/auth/sessions/\\..\\/status/',
		'/api/auth/sessions/;/status/',
		`/api/auth/sessions/${SOME_ID};x=1/status/`,
		`/api/auth/sessions/${SOME_ID}%20/status/`,
		`/api/auth/sessions/${SOME_ID.toUpperCase()}/status/`,
		`/api/auth/sessions/{${SOME_ID}}/status/`,
		`/api/auth/sessions/${SOME_ID.replace(/-/g, '')}/status/`,
		`/api/auth/sessions/${SOME_ID}0/status/`,
		`/api/auth/sessions/${'a'.repeat(300)}/status/`,
		`/api/${'x/'.repeat(200)}`,
		'/api/auth/login/..', '/api/auth/login/.',
		`/api/${ups}etc/passwd`, '/api/../login', '/api/%2e%2e/login',
		'/%61pi/auth/sessions/', '/API/auth/sessions/',
		'/api/auth/sessions/?limit=1&limit=2',
		'/api/auth/sessions/?cursor=&limit=1',
		`/api/auth/sessions/?${'a=1&'.repeat(200)}`,
		'/api/auth/sessions/#frag', '/api/auth/sessions/?#',
		`http://${HOSTPORT}/api/auth/sessions/`,
		'http://evil.example/api/auth/sessions/',
		'/api/auth/sessions/%', '/api/auth/sessions/%zz/status/',
		'/api/auth/sessions/%ff%fe/status/', '/api/\u00e9/',
		'/healthz/..', '/healthz%2f', '/healthz/x',
	];
	// As user P, whose other sessions a path that resolves to "revoke
	// all others" may end: that is a legitimate request, counted here.
	let revokedOthers = 0;
	const cases = [];
	for (const t of targets) {
		for (const withSession of [false, true]) {
			cases.push({ name: `GET ${t}` + (withSession ?
			    ' with session' : ''), want: [200, 400, 401, 404, 405],
			    req: { target: t, headers: withSession ? auth(sP) :
			    [] } });
		}
		cases.push({ name: `DELETE ${t} with session`,
		    want: [200, 400, 403, 404, 405], req: { method: 'DELETE',
		    target: t, headers: auth(sP) }, then: (a) => {
			if (a.status === 200)
				revokedOthers += a.json.revoked;
		} });
	}
	for (const t of ['*', 'api/auth/sessions/', '//', '/\x7f', '/a b']) {
		cases.push({ name: `request target ${JSON.stringify(t)}`,
		    want: 400, target: t, raw: Buffer.from(
		    `GET ${t} HTTP/1.1\r\nHost: ${HOSTPORT}\r\n` +
		    'Connection: close\r\n\r\n', 'latin1') });
	}
	await family(cases);
	assert.equal(revokedOthers, pOthers.length,
	    '"revoke all others" via //, /./ ended P\'s other sessions once');
	for (const s of pOthers)
		state.revoked.set(s.id, 'others');
});

test('framing: Content-Length mismatches, chunked, Expect, pipelining',
    async () => {
	const login = '/api/auth/login/';
	const good = JSON.stringify({ username: A.name, password: 'wrong' });
	const ct = ['Content-Type', 'application/json'];
	const bin = (s) => Buffer.from(s, 'latin1');
	const head = (extra) => bin(`POST ${login} HTTP/1.1\r\n` +
	    `Host: ${HOSTPORT}\r\nContent-Type: application/json\r\n` +
	    `${extra}Connection: close\r\n\r\n`);
	const chunked = (chunks) => Buffer.concat([head(
	    'Transfer-Encoding: chunked\r\n'), bin(chunks)]);
	const hexlen = (s) => Buffer.byteLength(s).toString(16);
	const smuggled = bin('GET /api/auth/sessions/ HTTP/1.1\r\nHost: x\r\n' +
	    '\r\n');
	const cases = [
		{ name: 'Content-Length shorter than the body', want: 400,
		    code: 'invalid_json', raw: Buffer.concat([head(
		    'Content-Length: 10\r\n'), bin(good)]), target: login },
		{ name: 'Content-Length longer than the body, half-closed',
		    noAnswerOk: true, halfClose: true, want: 400,
		    raw: Buffer.concat([head('Content-Length: 100\r\n'),
		    bin(good)]), target: login },
		{ name: 'Content-Length 0', want: 400, code: 'invalid_json',
		    raw: head('Content-Length: 0\r\n'), target: login },
		{ name: 'Content-Length -1', want: 400,
		    raw: head('Content-Length: -1\r\n'), target: login },
		{ name: 'Content-Length +5', want: 400,
		    raw: Buffer.concat([head('Content-Length: +5\r\n'),
		    bin('{}   ')]), target: login },
		{ name: 'Content-Length 0x10', want: 400,
		    raw: head('Content-Length: 0x10\r\n'), target: login },
		{ name: 'Content-Length 1e3', want: 400,
		    raw: head('Content-Length: 1e3\r\n'), target: login },
		{ name: 'Content-Length huge', want: [400, 413],
		    raw: head(`Content-Length: ${'9'.repeat(30)}\r\n`),
		    target: login },
		{ name: 'Content-Length 17000, no body sent', want: 413,
		    raw: head('Content-Length: 17000\r\n'), target: login },
		{ name: 'two different Content-Length', want: 400,
		    raw: Buffer.concat([head('Content-Length: 2\r\n' +
		    'Content-Length: 3\r\n'), bin('{}')]), target: login },
		{ name: 'two equal Content-Length', want: 400,
		    raw: Buffer.concat([head('Content-Length: 2\r\n' +
		    'Content-Length: 2\r\n'), bin('{}')]), target: login },
		{ name: 'Content-Length with chunked', want: 400,
		    raw: Buffer.concat([head('Content-Length: 2\r\n' +
		    'Transfer-Encoding: chunked\r\n'), bin('2\r\n{}\r\n0\r\n\r\n')]),
		    target: login },
		{ name: 'Transfer-Encoding gzip', want: 400,
		    raw: head('Transfer-Encoding: gzip\r\n'), target: login },
		{ name: 'Transfer-Encoding chunked, gzip', want: 400,
		    raw: head('Transfer-Encoding: chunked, gzip\r\n'),
		    target: login },
		{ name: 'chunked login (wrong password)', want: 401,
		    code: 'invalid_credentials',
		    raw: chunked(`${hexlen(good)}\r\n${good}\r\n0\r\n\r\n`),
		    target: login },
		{ name: 'chunked in one-byte chunks', want: 400,
		    code: 'invalid_json', raw: chunked([...'{"a":1}']
		    .map((ch) => `1\r\n${ch}\r\n`).join('') + '0\r\n\r\n'),
		    target: login },
		{ name: 'chunk extensions and trailers', want: 400,
		    code: 'invalid_json', raw: chunked('7;ext=1;x="y"\r\n' +
		    '{"a":1}\r\n0\r\nX-Trailer: 1\r\n\r\n'), target: login },
		{ name: 'bad chunk size', want: 400,
		    raw: chunked(`zz\r\n${good}\r\n0\r\n\r\n`), target: login },
		{ name: 'negative chunk size', want: 400,
		    raw: chunked('-1\r\n{}\r\n0\r\n\r\n'), target: login },
		{ name: 'huge chunk size', want: [400, 413],
		    raw: chunked(`${'f'.repeat(20)}\r\n{}\r\n0\r\n\r\n`),
		    target: login },
		{ name: 'chunked body over 16 KiB', want: 413,
		    raw: chunked(`${(9000).toString(16)}\r\n${' '.repeat(9000)}` +
		    `\r\n${(9000).toString(16)}\r\n${' '.repeat(9000)}\r\n` +
		    '0\r\n\r\n'), target: login },
		{ name: 'chunked, truncated, half-closed', noAnswerOk: true,
		    halfClose: true, want: 400,
		    raw: chunked('ff\r\n{"a":'), target: login },
		{ name: 'Expect: 100-continue', want: 401,
		    code: 'invalid_credentials', raw: Buffer.concat([head(
		    'Expect: 100-continue\r\nContent-Length: ' +
		    `${Buffer.byteLength(good)}\r\n`), bin(good)]),
		    target: login },
		{ name: 'Expect: 100-continue over 16 KiB', want: 413,
		    raw: head('Expect: 100-continue\r\nContent-Length: 20000\r\n'),
		    target: login },
		{ name: 'Expect: bogus', want: [400, 417], raw: Buffer.concat([
		    head('Expect: bogus\r\nContent-Length: 2\r\n'), bin('{}')]),
		    target: login },
		{ name: 'body on GET, with session', want: 200, req: {
		    target: '/api/auth/sessions/', headers: [...auth(sA), ct],
		    body: '{"x": 1}' } },
		{ name: 'body on DELETE of an unknown id', want: 404,
		    code: 'session_not_found', req: { method: 'DELETE',
		    target: `/api/auth/sessions/${SOME_ID}/`,
		    headers: [...auth(sA), ct], body: '{"x": ' } },
		{ name: 'body of 16 KiB on logout (no JSON expected)',
		    want: 403, req: { method: 'POST',
		    target: '/api/auth/logout/', headers: [['Cookie',
		    `sid=${sA.cookie}`], ct], body: ' '.repeat(16384) } },
		{ name: 'pipelined: healthz then sessions', answers: 2,
		    want: [200, 401], target: '/api/auth/sessions/',
		    raw: bin(`GET /healthz HTTP/1.1\r\nHost: ${HOSTPORT}\r\n\r\n` +
		    `GET /api/auth/sessions/ HTTP/1.1\r\nHost: ${HOSTPORT}\r\n` +
		    'Connection: close\r\n\r\n') },
		{ name: 'smuggling: CL body holding a second request',
		    want: 400, code: 'invalid_json', answers: 1,
		    raw: Buffer.concat([head(`Content-Length: ${smuggled.length}` +
		    '\r\n'), smuggled]), target: login },
		{ name: 'request line with tabs', want: 400, target: login,
		    raw: bin(`GET\t/api/auth/sessions/\tHTTP/1.1\r\nHost: x\r\n` +
		    'Connection: close\r\n\r\n') },
		{ name: 'LF-only line ends', want: 401, target: login,
		    raw: bin(`GET /api/auth/sessions/ HTTP/1.1\nHost: x\n` +
		    'Connection: close\n\n') },
	];
	await family(cases);
});

test('every endpoint with and without a valid session', async () => {
	const other = await mint(A.id);
	const logout = await mint(A.id);
	const forged = (() => {
		const k = { kid: KEY.kid, key: randomBytes(32) };
		return signCookie(A.id, randomBytes(32), k);
	})();
	const wrongUid = (() => {
		const c = signCookie(A.id, sA.token);
		return c.replace(`.${A.id}.`, `.${B.id}.`);
	})();
	const unknownKid = signCookie(A.id, sA.token,
	    { kid: 'nokey', key: KEY.key });
	const cookies = [
		['no cookie', null], ['empty', ''], ['forged', forged],
		['uid swapped', wrongUid], ['unknown kid', unknownKid],
		['revoked', sRevoked.cookie], ['truncated', sA.cookie.slice(0, -2)],
		['one mac character changed', sA.cookie.slice(0, -5) +
		    (sA.cookie.at(-5) === 'A' ? 'B' : 'A') + sA.cookie.slice(-4)],
		['token character changed', sA.cookie.replace(/\.(.)([^.]*)\.([^.]*)$/,
		    (_, c, t, m) => `.${c === 'A' ? 'B' : 'A'}${t}.${m}`)],
		['padded', `${sA.cookie}=`], ['quoted', `"${sA.cookie}"`],
		['__Host- name on http', null, `__Host-sid=${sA.cookie}`],
	];
	const cases = [];
	const noSession = {
		'/api/auth/login/': [415, 'unsupported_media_type'],
		'/healthz': [200],
	};
	for (const [m, p] of ENDPOINTS) {
		for (const [label, value, raw] of cookies) {
			const headers = [];
			const extra = {};
			if (p === '/api/auth/reauth/') {
				headers.push(['Content-Type', 'application/json']);
				extra.body = '{"password": "x"}';
			}
			if (p === '/api/auth/password/') {
				headers.push(['Content-Type', 'application/json']);
				extra.body = PASSWORD_BODY;
			}
			if (raw)
				headers.push(['Cookie', raw]);
			else if (value !== null)
				headers.push(['Cookie', `sid=${value}`]);
			headers.push(['X-CSRF-Token', sA.csrf]);
			const [want, code] = noSession[p] ??
			    [401, 'not_authenticated'];
			cases.push({ name: `${m} ${p}, cookie ${label}`, want, code,
			    req: { method: m, target: p, headers, ...extra } });
		}
	}
	const self = `/api/auth/sessions/${sA.id}/`;
	cases.push(
	    // The expired session: its first use ends it, with an audit row.
	    { name: 'expired session', want: 401, code: 'not_authenticated',
		req: { target: '/api/auth/sessions/', headers: auth(sExpired) },
		then: () => state.revoked.set(sExpired.id, 'expired') },
	    { name: 'expired session again', want: 401,
		req: { target: '/api/auth/sessions/', headers: auth(sExpired) } },
	    // CSRF and Origin on every unsafe endpoint.
	    ...[['POST', '/api/auth/logout/'], ['DELETE', '/api/auth/sessions/'],
		['DELETE', self], ['POST', '/api/auth/reauth/'],
		['POST', '/api/auth/password/']].flatMap(
		([m, p]) => {
		const body = p.includes('reauth') ?
		    { body: '{"password": "x"}' } :
		    p.includes('password') ? { body: PASSWORD_BODY } : {};
		const ctj = p.includes('reauth') || p.includes('password') ?
		    [['Content-Type', 'application/json']] : [];
		return [
			{ name: `${m} ${p} without CSRF`, want: 403,
			    code: 'csrf_failed', req: { method: m, target: p,
			    headers: [...auth(sA, false), ...ctj], ...body } },
			{ name: `${m} ${p} with B's CSRF`, want: 403,
			    code: 'csrf_failed', req: { method: m, target: p,
			    headers: [...auth(sA, false), ['X-CSRF-Token',
			    sB.csrf], ...ctj], ...body } },
			{ name: `${m} ${p} with two CSRF headers`, want: 403,
			    code: 'csrf_failed', req: { method: m, target: p,
			    headers: [['X-CSRF-Token', 'x'], ...auth(sA),
			    ...ctj], ...body } },
			{ name: `${m} ${p} cross-site Origin`, want: 403,
			    code: 'csrf_failed', req: { method: m, target: p,
			    headers: [...auth(sA), ['Origin',
			    'http://evil.example'], ...ctj], ...body } },
			{ name: `${m} ${p} Origin null`, want: 403,
			    code: 'csrf_failed', req: { method: m, target: p,
			    headers: [...auth(sA), ['Origin', 'null'], ...ctj],
			    ...body } },
			{ name: `${m} ${p} Sec-Fetch-Site cross-site`,
			    want: 403, code: 'csrf_failed', req: { method: m,
			    target: p, headers: [...auth(sA), ['Sec-Fetch-Site',
			    'cross-site'], ...ctj], ...body } },
			{ name: `${m} ${p} Sec-Fetch-Site same-site`,
			    want: 403, code: 'csrf_failed', req: { method: m,
			    target: p, headers: [...auth(sA), ['Sec-Fetch-Site',
			    'same-site'], ...ctj], ...body } },
		];
	}),
	    // Another user's session: exactly like an unknown one.
	    { name: 'status of B\'s session', want: 404,
		code: 'session_not_found', req: { target:
		`/api/auth/sessions/${sB.id}/status/`, headers: auth(sA) } },
	    { name: 'revoke B\'s session', want: 404, code: 'session_not_found',
		req: { method: 'DELETE', target: `/api/auth/sessions/${sB.id}/`,
		headers: auth(sA) } },
	    { name: 'revoke an unknown id', want: 404,
		code: 'session_not_found', req: { method: 'DELETE',
		target: `/api/auth/sessions/${SOME_ID}/`, headers: auth(sA) } },
	    { name: 'revoke a revoked session', want: 404,
		code: 'session_not_found', req: { method: 'DELETE',
		target: `/api/auth/sessions/${sRevoked.id}/`,
		headers: auth(sA) } },
	    { name: 'status of a revoked session', want: 200, req: { target:
		`/api/auth/sessions/${sRevoked.id}/status/`, headers: auth(sA) },
		then: (a) => assert.equal(a.json.status, 'revoked') },
	    // Recent authentication.
	    { name: 'stale session revokes another', want: 403,
		code: 'reauth_required', req: { method: 'DELETE',
		target: `/api/auth/sessions/${other.id}/`,
		headers: auth(sStale) } },
	    { name: 'stale session revokes all others', want: 403,
		code: 'reauth_required', req: { method: 'DELETE',
		target: '/api/auth/sessions/', headers: auth(sStale) } },
	    { name: 'reauth with a wrong password', want: 401,
		code: 'invalid_credentials', req: jsonReq('/api/auth/reauth/',
		'{"password": "wrong"}', auth(sStale)) },
	    // The writes that may succeed, recorded for the final check.
	    { name: 'revoke another own session', want: 204,
		req: { method: 'DELETE', target: `/api/auth/sessions/${other.id}/`,
		headers: auth(sAfresh) },
		then: () => state.revoked.set(other.id, 'user') },
	    { name: 'revoke it again', want: 404, code: 'session_not_found',
		req: { method: 'DELETE', target: `/api/auth/sessions/${other.id}/`,
		headers: auth(sAfresh) } },
	    { name: 'logout', want: 204, req: { method: 'POST',
		target: '/api/auth/logout/', headers: auth(logout) },
		then: () => state.revoked.set(logout.id, 'logout') },
	    { name: 'after logout', want: 401, req: {
		target: '/api/users/me/current-session/', headers: auth(logout) } },
	    { name: 'current session', want: 200, req: {
		target: '/api/users/me/current-session/', headers: auth(sA) } },
	    { name: 'audit', want: 200, req: { target: '/api/auth/audit/',
		headers: auth(sA) } },
	);
	// Logins that succeed with hostile user agents and client hints.
	for (const [i, ua] of [Buffer.from('\x01\xff\xc0\xaf<img src=x ' +
	    'onerror=alert(1)>', 'latin1'), Buffer.from("'; DROP TABLE " +
	    'users; --'), Buffer.from(`$(touch ${PWNED})`)].entries()) {
		cases.push({ name: `login with hostile agent #${i}`, want: 200,
		    req: jsonReq('/api/auth/login/', JSON.stringify({
		    username: A.name, password: PASSWORD }), [['User-Agent', ua],
		    ['Sec-CH-UA', ua], ['Sec-CH-UA-Platform', ua],
		    ['Sec-CH-UA-Mobile', ua], ['Cookie', `sid=${sA.cookie}`]]),
		    then: (a) => {
			state.created.add(a.json.session.id);
			assert.notEqual(a.json.session.id, sA.id);
		} });
	}
	await family(cases);
});

test('afterwards: service up, no worker died, no partial write',
    async () => {
	const h = await run({ name: 'healthz after', want: 200,
	    req: { target: '/healthz' } });
	assert.equal(h?.status, 200);
	assert.equal(workerDeaths(), workerLines,
	    'no worker died and no sanitizer report during the run');
	assert.ok(!existsSync(PWNED), `${PWNED} exists`);

	// No token, CSRF token or password in any log of the stack.
	if (STACK_DIR) {
		for (const f of readdirSync(STACK_DIR).filter((n) =>
		    n.endsWith('.log'))) {
			const text = readFileSync(`${STACK_DIR}/${f}`, 'latin1');
			for (const secret of SECRETS)
				assert.ok(!text.includes(secret),
				    `${f} holds a secret`);
		}
	}

	// No users created.
	const { rows: [u] } = await sql('SELECT count(*) AS n FROM users');
	assert.equal(Number(u.n), startUsers, 'no users created');

	// Sessions of our users: new ones only from the logins that
	// succeeded (and the ones minted here), revoked ones only those
	// revoked on purpose.
	const ids = [A.id, B.id, V1.id, V2.id, P.id];
	const { rows: sess } = await sql(
	    'SELECT id, user_id, revoked_at IS NOT NULL AS r, revoke_reason ' +
	    'FROM sessions WHERE user_id = ANY($1::int8[])', [ids]);
	const mintedIds = MINTED;
	const created = sess.filter((s) => !snapshot.has(s.id) &&
	    !mintedIds.has(s.id)).map((s) => s.id).sort();
	assert.deepEqual(created, [...state.created].sort(),
	    'new sessions are exactly the successful logins');
	const newlyRevoked = new Map(sess.filter((s) => s.r &&
	    !(snapshot.get(s.id) ?? false) && !(s.id === sRevoked.id))
	    .map((s) => [s.id, s.revoke_reason]));
	assert.deepEqual([...newlyRevoked].sort(),
	    [...state.revoked].sort(), 'revoked exactly what we revoked');
	assert.ok(!sess.find((s) => s.id === sB.id).r,
	    'B\'s session untouched');

	// Audit rows since the start.
	const { rows: audit } = await sql(
	    'SELECT a.id, a.event, a.reason, a.user_id, a.target_session_id, ' +
	    'a.ip, s.id AS sid, s.revoked_at IS NOT NULL AS revoked, ' +
	    's.revoke_reason FROM audit_log a LEFT JOIN sessions s ON ' +
	    's.id = a.target_session_id WHERE a.id > $1 AND ' +
	    '(a.user_id = ANY($2::int8[]) OR a.user_id IS NULL)',
	    [startAudit, ids]);
	const createdRows = audit.filter((r) => r.event === 'session.created');
	assert.deepEqual(createdRows.map((r) => r.target_session_id).sort(),
	    [...state.created].sort(), 'one session.created per login');
	for (const r of createdRows)
		assert.ok(r.sid, `session.created ${r.id} has its session`);
	const revokedRows = audit.filter((r) => r.event === 'session.revoked');
	assert.deepEqual(revokedRows.map((r) =>
	    [r.target_session_id, r.reason]).sort(),
	    [...state.revoked].sort(), 'one session.revoked per revocation');
	for (const r of revokedRows)
		assert.ok(r.revoked && r.revoke_reason === r.reason,
		    `session.revoked ${r.id} matches its session`);
	const failed = audit.filter((r) => r.event === 'login.failed');
	assert.equal(failed.length, state.credFailures,
	    'one login.failed per invalid_credentials answer');
	for (const r of failed)
		assert.equal(r.ip, '127.0.0.1');

	// Globally, for everything written since the start.
	const { rows: [orphans] } = await sql(
	    "SELECT count(*) FILTER (WHERE a.event = 'session.created' AND " +
	    's.id IS NULL) AS created, ' +
	    "count(*) FILTER (WHERE a.event = 'session.revoked' AND " +
	    '(s.id IS NULL OR s.revoked_at IS NULL)) AS revoked ' +
	    'FROM audit_log a LEFT JOIN sessions s ON ' +
	    's.id = a.target_session_id WHERE a.id > $1', [startAudit]);
	assert.equal(Number(orphans.created), 0, 'no orphan session.created');
	assert.equal(Number(orphans.revoked), 0, 'no orphan session.revoked');
	const { rows: [unaudited] } = await sql(
	    'SELECT count(*) AS n FROM sessions s WHERE s.user_id = ' +
	    'ANY($1::int8[]) AND NOT s.id = ANY($2::uuid[]) AND NOT EXISTS (' +
	    "SELECT 1 FROM audit_log a WHERE a.event = 'session.created' " +
	    'AND a.target_session_id = s.id)', [ids, [...MINTED]]);
	assert.equal(Number(unaudited.n), 0, 'every login has its audit row');
});
