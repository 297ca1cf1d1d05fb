// Kept FastCGI connections, spoken to sessiond's socket directly (the way
// nginx does with fastcgi_keep_conn): many requests over one connection,
// idle kept connections that never hold up a worker, and a reload whose
// new workers take over the old ones' connections. Through nginx: GETs
// over kept upstream connections, the rest one connection each.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import {
	as, assertStatus, closeDb, createUser, insertSessions, login, sh, sleep,
} from './lib.mjs';

after(closeDb);

const STACK_DIR = process.env.STACK_DIR ?? '.run/test';
const SOCK = `${STACK_DIR}/sock/sessiond.sock`;

// One FastCGI record: version 1, type, request id 1, no padding.
function record(type, content = Buffer.alloc(0)) {
	const h = Buffer.from([1, type, 0, 1, content.length >> 8,
	    content.length & 255, 0, 0]);
	return Buffer.concat([h, content]);
}

function nameValue(name, value) {
	const len = (n) => n < 128 ? Buffer.from([n]) :
	    Buffer.from([(n >>> 24) | 128, (n >>> 16) & 255, (n >>> 8) & 255,
		n & 255]);
	const n = Buffer.from(name);
	const v = Buffer.from(value);
	return Buffer.concat([len(n.length), len(v.length), n, v]);
}

// A GET as nginx sends it, asking sessiond to keep the connection.
function request(path, keep = true) {
	const params = Buffer.concat([
		nameValue('REQUEST_METHOD', 'GET'),
		nameValue('PATH_INFO', path),
		nameValue('SCRIPT_NAME', ''),
		nameValue('QUERY_STRING', ''),
		nameValue('REMOTE_ADDR', '127.0.0.1'),
		nameValue('HTTP_HOST', 'localhost'),
	]);
	return Buffer.concat([
		record(1, Buffer.from([0, 1, keep ? 1 : 0, 0, 0, 0, 0, 0])),
		record(4, params), record(4), record(5),
	]);
}

// A FastCGI connection: send() a request, answer() resolves with the
// STDOUT text once FCGI_END_REQUEST arrives; closed says whether the
// server closed it.
function connect() {
	return new Promise((resolve, reject) => {
		const s = net.createConnection(SOCK);
		const c = { s, buf: Buffer.alloc(0), out: '', waiting: null,
		    closed: false };
		s.on('data', (d) => {
			c.buf = Buffer.concat([c.buf, d]);
			while (c.buf.length >= 8) {
				const len = c.buf.readUInt16BE(4);
				const total = 8 + len + c.buf[6];
				if (c.buf.length < total)
					break;
				const type = c.buf[1];
				const body = c.buf.subarray(8, 8 + len);
				c.buf = c.buf.subarray(total);
				if (type === 6)
					c.out += body.toString();
				else if (type === 3 && c.waiting) {
					const w = c.waiting;
					c.waiting = null;
					w(c.out);
					c.out = '';
				}
			}
		});
		s.on('close', () => { c.closed = true; });
		s.on('error', reject);
		s.on('connect', () => resolve(c));
	});
}

function ask(c, path = '/healthz', keep = true, ms = 5000) {
	return new Promise((resolve, reject) => {
		const t = setTimeout(() => reject(new Error(
		    `no answer on a kept connection within ${ms} ms`)), ms);
		c.waiting = (out) => { clearTimeout(t); resolve(out); };
		c.s.write(request(path, keep));
	});
}

function status(out) {
	const m = /^Status: (\d+)/m.exec(out);
	return m ? Number(m[1]) : 200;
}

function workers() {
	const master = readFileSync(`${STACK_DIR}/sessiond.pid`, 'utf8').trim();
	return sh(`pgrep -P ${master} || true`).toString().split('\n')
	    .filter((x) => x !== '').sort();
}

test('one kept connection carries many requests, and stays open', async () => {
	const c = await connect();
	for (let i = 0; i < 300; i++) {
		const out = await ask(c);
		assert.equal(status(out), 200, `request ${i}: ${out}`);
		assert.match(out, /"status": ?"ok"/);
	}
	await sleep(50);
	assert.equal(c.closed, false, 'sessiond closed a kept connection');
	c.s.destroy();
});

test('without FCGI_KEEP_CONN the connection is closed after the answer',
    async () => {
	const c = await connect();
	assert.equal(status(await ask(c, '/healthz', false)), 200);
	for (let i = 0; i < 50 && !c.closed; i++)
		await sleep(20);
	assert.equal(c.closed, true);
});

test('idle kept connections never hold up a worker', async () => {
	// More idle connections than workers, each used once and left.
	const idle = [];
	for (let i = 0; i < 3 * workers().length + 2; i++) {
		const c = await connect();
		assert.equal(status(await ask(c)), 200);
		idle.push(c);
	}
	// A new connection is served at once, and so is every idle one.
	const t0 = Date.now();
	const fresh = await connect();
	assert.equal(status(await ask(fresh, '/healthz', true, 2000)), 200);
	assert.ok(Date.now() - t0 < 2000);
	const outs = await Promise.all(idle.map((c) => ask(c, '/healthz',
	    true, 2000)));
	for (const out of outs)
		assert.equal(status(out), 200);
	for (const c of [...idle, fresh])
		c.s.destroy();
});

test('busy kept connections never starve a new one', async () => {
	// Every worker kept busy: requests back to back on many kept
	// connections, while a new connection asks once.
	const busy = [];
	for (let i = 0; i < 4 * workers().length; i++)
		busy.push(await connect());
	let stop = false;
	const loops = busy.map(async (c) => {
		while (!stop)
			assert.equal(status(await ask(c)), 200);
	});
	await sleep(300);
	const t0 = Date.now();
	const fresh = await connect();
	assert.equal(status(await ask(fresh, '/healthz', true, 3000)), 200);
	const ms = Date.now() - t0;
	stop = true;
	await Promise.all(loops);
	assert.ok(ms < 1000, `the new connection waited ${ms} ms`);
	for (const c of [...busy, fresh])
		c.s.destroy();
});

test('a reload hands kept connections to the new workers', async () => {
	const conns = [];
	for (let i = 0; i < 6; i++) {
		const c = await connect();
		assert.equal(status(await ask(c)), 200);
		conns.push(c);
	}
	const before = workers();
	sh(process.env.SESSIOND_RELOAD_CMD);
	// Wait until every old worker is gone.
	for (let i = 0; i < 100; i++) {
		const now = workers();
		if (!before.some((p) => now.includes(p)))
			break;
		await sleep(50);
	}
	const after_ = workers();
	assert.ok(!before.some((p) => after_.includes(p)),
	    `old workers ${before} still there: ${after_}`);
	for (const [i, c] of conns.entries()) {
		assert.equal(c.closed, false, `connection ${i} was closed`);
		assert.equal(status(await ask(c)), 200, `connection ${i}`);
	}
	for (const c of conns)
		c.s.destroy();
});

test('through nginx: reads over kept connections, writes one each, ' +
    'all answered', async () => {
	const u = await createUser();
	const s = await login(u);
	const others = await insertSessions(u.id, 20);
	const reads = [];
	for (let i = 0; i < 200; i++)
		reads.push(as(s).get('/api/auth/sessions/?limit=50'));
	for (const res of await Promise.all(reads))
		assertStatus(res, 200);
	const dels = await Promise.all(others.map((id) =>
	    as(s).del(`/api/auth/sessions/${id}/`)));
	for (const res of dels)
		assertStatus(res, 204);
	const list = await as(s).get('/api/auth/sessions/');
	assertStatus(list, 200);
	assert.deepEqual(list.body.sessions.map((x) => x.id), [s.session.id]);
});
