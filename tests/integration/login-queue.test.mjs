// The login queue: nginx lets at most 4 logins per client address and 16
// in all wait for the login pool; the rest are refused at once with 503
// server_busy JSON and Retry-After: 1. sessiond refuses, unhashed, a login
// that would be answered past 2 s, and never hashes one whose client went
// away while it queued. The normal path still works.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { readdirSync, readFileSync } from 'node:fs';
import {
	BASE, api, assertApiHeaders, closeDb, createUser, sleep, uniq,
} from './lib.mjs';
import { sample, scrape } from './metrics.mjs';

after(closeDb);

const PER_ADDRESS = 4;
const TOTAL = 16;

// A wrong password for a name of its own (no throttle counts pile up).
function wrong(from, i = 0) {
	return api('POST', '/api/auth/login/', { from,
	    json: { username: uniq('queue'), password: `wrong ${i}` } });
}

function assertBusy(r) {
	assert.equal(r.status, 503, r.text);
	assert.equal(r.body?.error?.code, 'server_busy', r.text);
	assert.equal(typeof r.body?.error?.message, 'string');
	assert.equal(r.headers.get('retry-after'), '1');
	assertApiHeaders(r, 'server_busy');
}

async function hashes() {
	return sample(await scrape(), 'sessiond_password_hashes_total');
}

test(`a flood from one address: past ${PER_ADDRESS} at once, 503 ` +
    'server_busy JSON with Retry-After, answered at once', async () => {
	const answers = await Promise.all(Array.from({ length: 3 * PER_ADDRESS },
	    (_, i) => wrong('127.0.0.70', i)));
	const busy = answers.filter((r) => r.status === 503);
	const served = answers.filter((r) => r.status !== 503);
	assert.ok(busy.length >= 2 * PER_ADDRESS, `${busy.length} refused`);
	assert.ok(served.length >= 1, 'some are served');
	for (const r of busy) {
		assertBusy(r);
		// Refused by nginx before any hash: well under one KDF run.
		assert.ok(r.ms < 2000, `refused after ${r.ms} ms`);
	}
	for (const r of served)
		assert.equal(r.status, 401, r.text);
});

async function skippedLate() {
	return sample(await scrape(), 'sessiond_logins_total',
	    { outcome: 'busy' }) ?? 0;
}

test(`a flood from many addresses: past ${TOTAL} at once in all, 503; ` +
    'the ones the pool could not answer within 2 s refused unhashed',
    async () => {
	const h0 = await hashes();
	const b0 = await skippedLate();
	const answers = await Promise.all(Array.from({ length: 2 * TOTAL },
	    (_, i) => wrong(`127.0.1.${10 + i}`, i)));
	const busy = answers.filter((r) => r.status === 503);
	const served = answers.filter((r) => r.status !== 503);
	assert.ok(busy.length >= TOTAL, `${busy.length} refused`);
	assert.ok(served.length <= TOTAL);
	for (const r of busy)
		assertBusy(r);
	for (const r of served)
		assert.equal(r.status, 401, r.text);
	// TOTAL hashes (~0.4 s each) are more than the login pool (half of
	// this machine's CPUs) runs in 2 s: sessiond refused the rest ...
	assert.ok(await skippedLate() - b0 >= 1,
	    'sessiond refused the logins it could not answer in time');
	// ... without hashing them: one hash per answer given.
	assert.equal(await hashes() - h0, served.length);
	// Every one answered within the budget (with room for a loaded
	// test machine): without it the last waited for all 16 hashes.
	for (const r of answers)
		assert.ok(r.ms < 3000, `answered after ${r.ms} ms`);
});

test('after a flood, the normal path works: login 200', async () => {
	const u = await createUser();
	await Promise.all(Array.from({ length: 2 * PER_ADDRESS },
	    (_, i) => wrong('127.0.0.71', i)));
	const r = await api('POST', '/api/auth/login/', { from: '127.0.0.71',
	    json: { username: u.name, password: u.password } });
	assert.equal(r.status, 200, r.text);
	assert.ok(r.cookie);
});

/*
 * A login request that the client abandons after ms: resolves when the
 * connection is closed (no answer expected).
 */
function abandoned(from, ms) {
	return new Promise((resolve) => {
		const body = JSON.stringify({ username: uniq('queue'),
		    password: 'wrong' });
		const req = http.request(BASE + '/api/auth/login/', {
		    method: 'POST', localAddress: from, agent: false,
		    headers: { 'Content-Type': 'application/json',
		    'Content-Length': Buffer.byteLength(body) } });
		req.on('error', () => resolve());
		req.on('response', (res) => {
			res.resume();
			res.on('end', resolve);
		});
		req.on('close', resolve);
		req.end(body);
		setTimeout(() => req.destroy(), ms);
	});
}

test('a login whose client left while it queued is never hashed',
    async () => {
	const samples = await scrape();
	const workers = sample(samples, 'sessiond_workers',
	    { pool: 'login' }) ?? 1;
	const before = await hashes();
	// One login per login worker keeps the pool hashing ...
	const busy = Array.from({ length: workers },
	    (_, i) => wrong(`127.0.2.${10 + i}`, i));
	await sleep(100);
	// ... while these queue behind them, and their clients leave.
	const gone = Array.from({ length: 3 },
	    (_, i) => abandoned(`127.0.2.${100 + i}`, 100));
	await Promise.all(gone);
	for (const r of await Promise.all(busy))
		assert.equal(r.status, 401, r.text);
	// The pool reaches the abandoned ones once the hashes are done.
	let idle = false;
	for (let i = 0; i < 50 && !idle; i++) {
		await sleep(100);
		const s = await scrape();
		idle = sample(s, 'sessiond_workers_busy',
		    { pool: 'login' }) === 0 &&
		    (sample(s, 'sessiond_listen_queue', { pool: 'login' }) ??
		    0) === 0;
	}
	await sleep(200);
	assert.equal(await hashes() - before, workers,
	    'only the logins someone waited for were hashed');
});

// The workers of sessiond's master, by process name, with their nice value
// (/proc/PID/stat: field 19).
function workersNice(name) {
	const dir = process.env.STACK_DIR ?? process.env.SESSIOND_STACK_DIR;
	const master = readFileSync(`${dir}/sessiond.pid`, 'utf8').trim();
	const nice = [];
	for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
		let stat;
		try {
			stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
		} catch {
			continue;
		}
		const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
		const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
		if (comm === name && f[1] === master)
			nice.push(Number(f[16]));
	}
	return nice;
}

test('the login workers run login_nice (10) steps nicer than the main pool',
    () => {
	const main = workersNice('sessiond-worker');
	const login = workersNice('sessiond-login');
	assert.ok(main.length >= 1 && login.length >= 1,
	    `workers found: main ${main}, login ${login}`);
	for (const n of login)
		assert.equal(n, main[0] + 10, `login ${login}, main ${main}`);
});
