// faults/load.mjs: the loads of test_faults.sh that need more than wrk.
//
//   node load.mjs revoke   --user NAME [--sessions N] [--duration S]
//                          [--concurrency C] [--kill-every MS]
//   node load.mjs pgrestart --user NAME [--restarts N] [--concurrency C]
//
// revoke: N sessions of NAME are written straight into the database with
// cookies signed here under the first key of the keys file; C clients
// revoke them, one DELETE /api/auth/sessions/<own id>/ per session with its
// CSRF token, for S seconds while a random worker gets SIGKILL every MS
// milliseconds. A LISTEN client counts the NOTIFYs. Every 204 must be one
// revoked session, one audit row and one NOTIFY; requests broken by a
// kill are retried afterwards and must be accounted for too.
//
// pgrestart: authenticated GETs (and /healthz) from C clients while
// PG_RESTART_CMD restarts PostgreSQL N times: only 200 or a JSON 503
// database_unavailable, and every worker serving again within 2 s of the
// database being back.
//
// Prints "ok - ..." / "not ok - ..." lines; exits 1 on a failure.
//
// Environment: SESSIOND_URL, STACK_DIR, PG* (the stack's), PG_RESTART_CMD,
// SESSIOND_CONFIG.

import { spawn } from 'node:child_process';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import pg from 'pg';
import { pgOptions } from '../../common.mjs';

const URL_BASE = new URL(process.env.SESSIOND_URL ?? 'http://127.0.0.1:18585');
if (URL_BASE.hostname !== '127.0.0.1')
	throw new Error('faults run against 127.0.0.1 only');
const STACK_DIR = process.env.STACK_DIR;

let failures = 0;
function ok(msg) { console.log(`ok - ${msg}`); }
function notOk(msg) { console.log(`not ok - ${msg}`); failures++; }
function check(cond, msg) { if (cond) ok(msg); else notOk(msg); }
function note(msg) { console.log(`# ${msg}`); }
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.now();

function args() {
	const a = { _: process.argv[2] };
	for (let i = 3; i < process.argv.length; i += 2)
		a[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
	return a;
}

const b64url = (buf) => buf.toString('base64url');

// The keys file named by the configuration; its first key signs.
function primaryKey() {
	const conf = process.env.SESSIOND_CONFIG ??
	    `${STACK_DIR}/sessiond.conf`;
	let path = `${STACK_DIR}/keys`;
	for (const line of readFileSync(conf, 'utf8').split('\n')) {
		const m = line.match(/^\s*keys_file\s*=\s*(.*?)\s*$/);
		if (m) path = m[1];
	}
	for (const line of readFileSync(path, 'utf8').split('\n')) {
		const m = line.trim().match(/^([A-Za-z0-9_-]{1,16}):(\S+)$/);
		if (m)
			return { kid: m[1],
			    secret: Buffer.from(m[2], 'base64url') };
	}
	throw new Error(`no key in ${path}`);
}

// cookie.h: "v1.<kid>.<uid>.<token>.<mac>", csrf = HMAC(token, "csrf").
function mint(key, uid) {
	const token = randomBytes(32);
	const text = `v1.${key.kid}.${uid}.${b64url(token)}`;
	const mac = createHmac('sha256', key.secret).update(text).digest();
	return {
		cookie: `${text}.${b64url(mac)}`,
		csrf: b64url(createHmac('sha256', token).update('csrf')
		    .digest()),
		hash: createHash('sha256').update(token).digest('hex'),
	};
}

async function pgClient() {
	const c = new pg.Client(pgOptions());
	await c.connect();
	return c;
}

// Insert n active sessions of uid; returns [{ id, cookie, csrf }].
async function makeSessions(db, key, uid, n) {
	const out = [];
	for (let done = 0; done < n; done += 2000) {
		const batch = [];
		for (let i = 0; i < Math.min(2000, n - done); i++)
			batch.push(mint(key, uid));
		const byHash = new Map(batch.map((s) => [s.hash, s]));
		const r = await db.query(`INSERT INTO sessions (user_id,
		    token_hash, absolute_expires_at, user_agent)
		    SELECT $1, decode(h, 'hex'), now() + interval '1 day',
		    'faults/load.mjs' FROM unnest($2::text[]) h
		    RETURNING id, encode(token_hash, 'hex') AS h`,
		    [uid, batch.map((s) => s.hash)]);
		for (const row of r.rows)
			out.push({ ...byHash.get(row.h), id: row.id });
	}
	return out;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

// One request; resolves { status, type, body, ms } or { error, ms }.
function request(method, path, headers = {}, timeoutMs = 15000) {
	const t0 = now();
	return new Promise((resolve) => {
		const req = http.request({ host: URL_BASE.hostname,
		    port: URL_BASE.port, method, path, agent, headers,
		    timeout: timeoutMs }, (res) => {
			const chunks = [];
			res.on('data', (c) => chunks.push(c));
			res.on('end', () => resolve({ status: res.statusCode,
			    type: res.headers['content-type'] ?? '',
			    body: Buffer.concat(chunks).toString(),
			    t0, t1: now(), ms: now() - t0 }));
			res.on('error', (e) => resolve({ error: e.code ??
			    e.message, t0, t1: now(), ms: now() - t0 }));
		});
		req.on('timeout', () => req.destroy(new Error('timeout')));
		req.on('error', (e) => resolve({ error: e.code ?? e.message,
		    t0, t1: now(), ms: now() - t0 }));
		req.end();
	});
}

function errorCode(r) {
	try {
		return JSON.parse(r.body).error.code;
	} catch {
		return null;
	}
}

function describe(r) {
	if (r.error !== undefined)
		return `connection error ${r.error}`;
	return `${r.status} ${r.type} ` +
	    r.body.slice(0, 80).replace(/\s+/g, ' ');
}

function masterPid() {
	return Number(readFileSync(`${STACK_DIR}/sessiond.pid`, 'utf8').trim());
}

function procState(pid) {
	try {
		const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
		return s.slice(s.lastIndexOf(')') + 2, s.lastIndexOf(')') + 3);
	} catch {
		return null;
	}
}

// The master's live children (zombies not counted).
function workers(master) {
	let text;
	try {
		text = readFileSync(`/proc/${master}/task/${master}/children`,
		    'utf8');
	} catch {
		return [];
	}
	return text.trim().split(/\s+/).filter(Boolean).map(Number)
	    .filter((p) => { const s = procState(p); return s && s !== 'Z'; })
	    .filter((p) => comm(p) === 'sessiond-worker');
}

/*
 * The main pool's workers are named sessiond-worker; the login pool's
 * (sessiond-login) see no request here and reconnect on their next login.
 */
function comm(pid) {
	try {
		return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
	} catch {
		return '';
	}
}

async function userId(db, name) {
	const r = await db.query('SELECT id FROM users WHERE username = $1',
	    [name]);
	if (r.rows.length !== 1)
		throw new Error(`no user ${name}`);
	return Number(r.rows[0].id);
}

/*
 * Every `every` ms, SIGKILL a random worker and time its replacement (a
 * child that was not there before, as many children as before). Runs
 * until stop() is called; inflight() says how many requests the clients
 * have open at the moment of the kill.
 */
function killer(every, inflight) {
	const master = masterPid();
	const kills = [];
	let running = true;
	const start = now();
	const loop = (async () => {
		for (let tick = 1; running; tick++) {
			/* A steady beat: one kill per period, however long the
			 * previous replacement took. */
			await sleep(Math.max(0, start + tick * every - now()));
			if (!running)
				break;
			const before = workers(master);
			if (before.length === 0)
				continue;
			const victim = before[Math.floor(Math.random() *
			    before.length)];
			const k = { pid: victim, inflight: inflight(),
			    restartMs: null, age: null };
			try {
				process.kill(victim, 'SIGKILL');
			} catch {
				continue;
			}
			const t0 = now();
			kills.push(k);
			while (now() - t0 < 10000) {
				const cur = workers(master);
				if (cur.some((p) => !before.includes(p)) &&
				    cur.length >= before.length &&
				    !cur.includes(victim)) {
					k.restartMs = now() - t0;
					break;
				}
				await sleep(5);
			}
		}
	})();
	return {
		kills,
		async stop() { running = false; await loop; },
	};
}

async function revoke(a) {
	const n = Number(a.sessions ?? 3000);
	const duration = Number(a.duration ?? 8) * 1000;
	const conc = Number(a.concurrency ?? 8);
	const every = Number(a['kill-every'] ?? 1000);
	const db = await pgClient();
	const uid = await userId(db, a.user);
	const key = primaryKey();
	const sessions = await makeSessions(db, key, uid, n);
	const auditBefore = Number((await db.query(
	    'SELECT coalesce(max(id), 0) AS m FROM audit_log')).rows[0].m);

	// NOTIFYs about this user's revocations, by revoked session.
	const listener = await pgClient();
	const notified = new Map();
	let notifyTotal = 0;
	listener.on('notification', (m) => {
		let p;
		try {
			p = JSON.parse(m.payload);
		} catch {
			return;
		}
		if (p.event !== 'session.revoked' || String(p.user_id) !==
		    String(uid))
			return;
		notifyTotal++;
		notified.set(p.session_id,
		    (notified.get(p.session_id) ?? 0) + 1);
	});
	await listener.query('LISTEN session_events');

	const del = (s) => request('DELETE', `/api/auth/sessions/${s.id}/`,
	    { Cookie: `sid=${s.cookie}`, 'X-CSRF-Token': s.csrf });
	let next = 0, inflight = 0, requests = 0;
	const ok204 = new Set(), failed = [], unexpected = [];
	const t0 = now();
	const kill = killer(every, () => inflight);
	const client = async () => {
		while (now() - t0 < duration && next < sessions.length) {
			const s = sessions[next++];
			inflight++;
			const r = await del(s);
			inflight--;
			requests++;
			if (r.status === 204)
				ok204.add(s.id);
			else if (r.error !== undefined || (r.status === 502 &&
			    /^application\/json/.test(r.type) && errorCode(r)))
				failed.push({ s, r });
			else
				unexpected.push({ s, r });
		}
	};
	await Promise.all(Array.from({ length: conc }, client));
	const elapsed = now() - t0;
	await kill.stop();

	// What a broken request did: if the database shows the session
	// revoked, it committed before the kill broke the answer (the
	// backend finishes the statement of a client that died); if not, it
	// never ran and a retry now must revoke it (204).
	const retry204 = new Set(), committed = new Set();
	for (const { s } of failed) {
		const q = await db.query(`SELECT revoked_at IS NOT NULL AS r
		    FROM sessions WHERE user_id = $1 AND id = $2`, [uid, s.id]);
		if (q.rows[0]?.r) {
			committed.add(s.id);
			continue;
		}
		let r;
		for (let i = 0; i < 20; i++) {
			r = await del(s);
			if (r.error === undefined && r.status !== 502)
				break;
			await sleep(100);
		}
		if (r.status === 204)
			retry204.add(s.id);
		else
			unexpected.push({ s, r });
	}

	const audit = async () => (await db.query(`SELECT
	    target_session_id AS id, count(*)::int AS n FROM audit_log
	    WHERE id > $1 AND user_id = $2 AND event = 'session.revoked'
	    GROUP BY 1`, [auditBefore, uid])).rows;
	let rows = await audit();
	const auditTotal = () => rows.reduce((x, r) => x + r.n, 0);
	for (let t = now(); now() - t < 10000 && notifyTotal <
	    auditTotal(); )
		await sleep(100);
	await sleep(300);	/* anything extra would show up now */
	rows = await audit();
	const revokedDb = new Set((await db.query(`SELECT id FROM sessions
	    WHERE user_id = $1 AND revoked_at IS NOT NULL`, [uid])).rows
	    .map((r) => r.id));
	await listener.end();
	await db.end();

	const kills = kill.kills;
	const restarts = kills.map((k) => k.restartMs);
	const notRestarted = restarts.filter((x) => x === null).length;
	const maxRestart = Math.max(0, ...restarts.filter((x) => x !== null));
	const inflightSum = kills.reduce((x, k) => x + k.inflight, 0);
	const busyKills = kills.filter((k) => k.inflight > 0).length;
	const byAudit = new Map(rows.map((r) => [r.id, r.n]));
	const answered = new Set([...ok204, ...retry204]);
	const accounted = new Set([...answered, ...committed]);
	const lost = [...answered].filter((id) => !revokedDb.has(id) ||
	    byAudit.get(id) !== 1 || notified.get(id) !== 1);
	const extra = [...revokedDb].filter((id) => !accounted.has(id));
	const dupAudit = rows.filter((r) => r.n !== 1).length;
	const dupNotify = [...notified.values()].filter((x) => x !== 1).length;
	const revoked = revokedDb.size;

	note(`${requests} requests in ${(elapsed / 1000).toFixed(1)} s ` +
	    `(${Math.round(requests / elapsed * 1000)}/s), ${kills.length} ` +
	    `kills, restart times ms: ${restarts.map((x) => x === null ?
	    'never' : Math.round(x)).join(' ')}`);
	for (const u of unexpected.slice(0, 5))
		note(`unexpected answer for ${u.s.id}: ${describe(u.r)}`);
	check(kills.length >= Math.max(1, Math.floor(elapsed / every) - 1) &&
	    notRestarted === 0 && maxRestart <= 1000,
	    `kill -9 workers: ${kills.length} workers killed, every one ` +
	    `replaced by the master within ${Math.round(maxRestart)} ms ` +
	    `(limit 1000 ms)`);
	check(unexpected.length === 0 && failed.length <= busyKills,
	    `kill -9 workers: ${requests} requests, ${failed.length} failed ` +
	    `(connection error or JSON 502; limit ${busyKills}: ` +
	    `${kills.length} kills with ${inflightSum} requests in flight), ` +
	    `${unexpected.length} other answers`);
	check(lost.length === 0 && extra.length === 0 && dupAudit === 0 &&
	    dupNotify === 0 && revoked === auditTotal() &&
	    revoked === notifyTotal && revoked === accounted.size &&
	    ok204.size > 0,
	    `kill -9 workers: no revocation lost: ${ok204.size} answered ` +
	    `204 + ${committed.size} committed before a kill broke the ` +
	    'answer ' +
	    `+ ${retry204.size} revoked on retry = ${revoked} revoked = ` +
	    `${auditTotal()} audit rows = ${notifyTotal} NOTIFYs` +
	    (lost.length + extra.length + dupAudit + dupNotify > 0 ?
	    ` (lost ${lost.length}, unaccounted ${extra.length}, ` +
	    `duplicate audit ${dupAudit}, duplicate NOTIFY ${dupNotify})` :
	    ''));
}

function runCmd(cmd) {
	return new Promise((resolve) => {
		const p = spawn('sh', ['-c', cmd], { stdio: ['ignore', 'ignore',
		    'inherit'] });
		p.on('exit', (code) => resolve(code));
	});
}

async function sessiondConns() {
	let c;
	try {
		c = await pgClient();
		const r = await c.query(`SELECT count(*)::int AS n FROM
		    pg_stat_activity WHERE application_name = 'sessiond'`);
		return r.rows[0].n;
	} catch {
		return -1;
	} finally {
		if (c)
			await c.end().catch(() => {});
	}
}

async function pgrestart(a) {
	const restarts = Number(a.restarts ?? 1);
	const conc = Number(a.concurrency ?? 8);
	const cmd = process.env.PG_RESTART_CMD;
	if (!cmd) {
		notOk('pg restart: PG_RESTART_CMD is not set');
		return;
	}
	const db = await pgClient();
	const uid = await userId(db, a.user);
	const nwrites = Number(a.writes ?? 3000);
	const [s, ...victims] = await makeSessions(db, primaryKey(), uid,
	    1 + nwrites);
	await db.end();
	const nw = workers(masterPid()).length;
	const paths = ['/api/users/me/current-session/', '/api/auth/sessions/',
	    `/api/auth/sessions/${s.id}/status/`];
	const log = [];
	let running = true;
	const client = async (i) => {
		for (let k = i; running; k++) {
			const path = paths[k % paths.length];
			const r = await request('GET', path,
			    { Cookie: `sid=${s.cookie}` });
			r.path = path;
			log.push(r);
		}
	};
	// One client revokes sessions meanwhile: writes are not retried on
	// a new connection, and must fail as cleanly as reads.
	const revoked = new Set();
	const writer = async () => {
		for (const v of victims) {
			if (!running)
				break;
			const r = await request('DELETE',
			    `/api/auth/sessions/${v.id}/`, { Cookie:
			    `sid=${v.cookie}`, 'X-CSRF-Token': v.csrf });
			r.path = 'DELETE /api/auth/sessions/<id>/';
			log.push(r);
			if (r.status === 204)
				revoked.add(v.id);
		}
	};
	const clients = [writer(), ...Array.from({ length: conc },
	    (_, i) => client(i))];
	const health = [];
	const healthLoop = (async () => {
		while (running) {
			const r = await request('GET', '/healthz');
			r.path = '/healthz';
			health.push(r);
			log.push(r);
			await sleep(20);
		}
	})();

	const rounds = [];
	for (let i = 0; i < restarts; i++) {
		await sleep(1000);
		const down = now();
		const code = await runCmd(cmd);
		const up = now();
		// Recovered: healthz 200 and one connection per worker.
		let conns = -1, connsAt = null, healthAt = null;
		while (now() - up < 10000) {
			const h = health.find((x) => x.t0 >= up &&
			    x.status === 200);
			if (healthAt === null && h !== undefined)
				healthAt = h.t1;
			if (connsAt === null &&
			    (conns = await sessiondConns()) >= nw)
				connsAt = now();
			if (healthAt !== null && connsAt !== null)
				break;
			await sleep(20);
		}
		await sleep(2500);
		rounds.push({ down, up, code, healthAt, connsAt, conns });
	}
	running = false;
	await Promise.all(clients);
	await healthLoop;

	const db2 = await pgClient();
	const inDb = new Set((await db2.query(`SELECT id FROM sessions
	    WHERE user_id = $1 AND revoked_at IS NOT NULL`, [uid])).rows
	    .map((r) => r.id));
	await db2.end();
	const lost = [...revoked].filter((id) => !inDb.has(id)).length;

	let bad = [], ok503 = 0, ok200 = 0, max503 = 0;
	for (const r of log) {
		if (r.status === 200 || (r.status === 204 &&
		    r.path.startsWith('DELETE'))) {
			ok200++;
		} else if (r.status === 503 &&
		    /^application\/json/.test(r.type) &&
		    errorCode(r) === 'database_unavailable') {
			ok503++;
			max503 = Math.max(max503, r.ms);
		} else {
			bad.push(r);
		}
	}
	for (const r of bad.slice(0, 5))
		note(`bad answer on ${r.path}: ${describe(r)}`);
	const worst = { rec: 0 };
	let roundsOk = true;
	for (const [i, rd] of rounds.entries()) {
		// The last failed answer to a request sent after the restart
		// command returned, and when each check passed, from "up".
		const next = rounds[i + 1]?.down ?? Infinity;
		const late = log.filter((r) => r.t0 >= rd.up && r.t0 < next &&
		    r.status !== 200 && r.status !== 204);
		const lastBad = late.length ?
		    Math.max(...late.map((r) => r.t1)) - rd.up : 0;
		const rec = Math.max(lastBad, (rd.healthAt ?? Infinity) - rd.up,
		    (rd.connsAt ?? Infinity) - rd.up);
		note(`restart ${i + 1}: down for ` +
		    `${Math.round(rd.up - rd.down)} ms (exit ${rd.code}); ` +
		    '/healthz 200 after ' +
		    `${Math.round((rd.healthAt ?? NaN) - rd.up)} ms, ${nw} ` +
		    `database connections after ` +
		    `${Math.round((rd.connsAt ?? NaN) - rd.up)} ms, last ` +
		    'error ' +
		    `${Math.round(lastBad)} ms after it was back`);
		if (rd.code !== 0 || !(rec <= 2000))
			roundsOk = false;
		worst.rec = Math.max(worst.rec, rec);
	}
	const downMs = Math.round(Math.max(...rounds.map((r) =>
	    r.up - r.down)));
	check(bad.length === 0 && ok503 > 0 && lost === 0,
	    `pg restart${restarts > 1 ? ` x${restarts}` : ''}: ${log.length} ` +
	    `requests (reads and ${revoked.size} revocations, ${lost} of ` +
	    `them not in the database), ${ok200} x 200/204, ${ok503} x 503 ` +
	    'JSON database_unavailable while down (slowest ' +
	    `${Math.round(max503)} ms), ${bad.length} failed (other status, ` +
	    'HTML, connection error)');
	check(roundsOk, `pg restart: every worker serving again ` +
	    `${Math.round(worst.rec)} ms after PostgreSQL was back (limit ` +
	    `2000 ms; down up to ${downMs} ms; ${nw} workers, one database ` +
	    'connection each; no worker stuck)');
}

const a = args();
try {
	if (a._ === 'revoke')
		await revoke(a);
	else if (a._ === 'pgrestart')
		await pgrestart(a);
	else
		throw new Error('usage: load.mjs revoke|pgrestart --user NAME');
} catch (e) {
	notOk(`${a._}: ${e.stack ?? e}`);
}
agent.destroy();
process.exit(failures > 0 ? 1 : 0);
