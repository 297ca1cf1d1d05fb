// A real scrape: Debian's Prometheus server, on loopback, scrapes the test
// stack's metrics_listen every second and evaluates
// monitoring/sessiond.rules.yml every second. Traffic through nginx, then
// a database outage: over Prometheus's HTTP API, the request counts equal
// nginx's access log, the error-ratio rule rises during the outage, and
// its alert (and the database's) goes pending. Stops PostgreSQL for a few
// seconds, so it runs among the last of the Node files.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
	api, as, closeDb, createUser, login, sh, sleep, uniq, waitHealthy,
} from './lib.mjs';
import { ACCESS_LOG, METRICS_URL, logCounts, logOffset, sorted } from
    './metrics.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const RULES = join(ROOT, 'monitoring/sessiond.rules.yml');
const restart = process.env.PG_RESTART_CMD;
const skip = METRICS_URL === undefined || ACCESS_LOG === undefined ||
    restart === undefined ?
    'SESSIOND_METRICS_URL, STACK_DIR or PG_RESTART_CMD not set' : false;

let prom, dir;

after(async () => {
	await closeDb();
	if (prom !== undefined && prom.exitCode === null) {
		prom.kill('SIGTERM');
		await new Promise((r) => prom.once('exit', r));
	}
	if (dir !== undefined)
		rmSync(dir, { recursive: true, force: true });
});

// A loopback port nobody listens on now.
function freePort() {
	return new Promise((res, rej) => {
		const srv = createServer();
		srv.once('error', rej);
		srv.listen(0, '127.0.0.1', () => {
			const { port } = srv.address();
			srv.close(() => res(port));
		});
	});
}

let API;

async function query(q, time) {
	const url = new URL(`${API}/api/v1/query`);
	url.searchParams.set('query', q);
	if (time !== undefined)
		url.searchParams.set('time', String(time));
	const r = await fetch(url);
	const body = await r.json();
	assert.equal(body.status, 'success', `${q}: ${JSON.stringify(body)}`);
	return body.data.result;
}

async function waitFor(what, fn, ms = 20000) {
	const until = Date.now() + ms;
	let last;
	while (Date.now() < until) {
		try {
			if ((last = await fn()))
				return last;
		} catch (e) {
			last = e;
		}
		await sleep(250);
	}
	throw new Error(`timed out waiting for ${what} (last: ${last})`);
}

// sessiond_requests_total at time t, as "route status" -> count.
async function countsAt(t) {
	const m = new Map();
	for (const r of await query('sessiond_requests_total', t))
		m.set(`${r.metric.route} ${r.metric.status}`, Number(r.value[1]));
	return m;
}

function deltaOf(after, before) {
	const d = new Map();
	for (const [k, v] of after)
		if (v - (before.get(k) ?? 0) !== 0)
			d.set(k, v - (before.get(k) ?? 0));
	return d;
}

// Let at least two scrapes pass with no traffic; returns the time.
async function quiet() {
	await sleep(2500);
	return Date.now() / 1000;
}

test('Prometheus scrapes sessiond; the rules see an outage', { skip,
    timeout: 120000 }, async () => {
	const port = await freePort();
	API = `http://127.0.0.1:${port}`;
	dir = mkdtempSync(join(tmpdir(), 'sessiond-prom-'));
	const target = new URL(METRICS_URL);
	writeFileSync(join(dir, 'prometheus.yml'), [
		'global:',
		'  scrape_interval: 1s',
		'  evaluation_interval: 1s',
		'rule_files:',
		`  - ${RULES}`,
		'scrape_configs:',
		'  - job_name: sessiond',
		'    static_configs:',
		`      - targets: ['${target.host}']`,
		'',
	].join('\n'));
	prom = spawn('prometheus', [
		`--config.file=${join(dir, 'prometheus.yml')}`,
		`--storage.tsdb.path=${join(dir, 'data')}`,
		`--web.listen-address=127.0.0.1:${port}`,
		'--log.level=warn',
	], { stdio: ['ignore', 'ignore', 'pipe'] });
	let log = '';
	prom.stderr.on('data', (b) => { log += b; });
	await waitFor('Prometheus to scrape sessiond', async () => {
		const r = await query('up{job="sessiond"}');
		return r.length === 1 && r[0].value[1] === '1';
	}).catch((e) => { throw new Error(`${e.message}\n${log}`); });

	// Traffic, bracketed by quiet scrapes: the increase equals the log.
	const u = await createUser(uniq('prom'));
	const t0 = await quiet();
	const offset = logOffset();
	const s = await login(u);
	for (let i = 0; i < 20; i++) {
		await as(s).get('/api/auth/sessions/');
		await as(s).get('/api/users/me/current-session/');
		await api('GET', '/healthz');
	}
	await api('GET', '/api/auth/sessions/');
	await api('POST', '/api/auth/login/', { json: { username: u.name,
	    password: 'wrong, wrong, wrong' } });
	const t1 = await quiet();
	const want = sorted(logCounts(offset));
	const got = sorted(deltaOf(await countsAt(t1), await countsAt(t0)));
	assert.deepEqual(got, want);
	assert.equal(want['list 2xx'], 20);
	assert.equal(want['health 2xx'], 20);

	// Before the outage: no 5xx in the window.
	const before = await query('sessiond:request_errors:ratio_rate5m');
	assert.equal(before.length, 1);
	assert.equal(Number(before[0].value[1]), 0);

	const reconnects = Number((await query(
	    'sessiond_db_reconnects_total'))[0].value[1]);
	await closeDb();
	sh(restart.replace(/pg-restart$/, 'pg-stop'));
	let ratio, alerts;
	try {
		// Requests keep coming; every one now fails with 503.
		const until = Date.now() + 20000;
		while (Date.now() < until) {
			await as(s).get('/api/auth/sessions/');
			await api('GET', '/healthz');
			const r = await query('sessiond:request_errors:ratio_rate5m');
			ratio = r.length === 1 ? Number(r[0].value[1]) : undefined;
			const a = await fetch(`${API}/api/v1/alerts`);
			alerts = (await a.json()).data.alerts;
			if (ratio > 0.01 &&
			    alerts.some((x) => x.labels.alertname ===
			    'SessiondHighErrorRate' && x.state === 'pending') &&
			    alerts.some((x) => x.labels.alertname ===
			    'SessiondDatabaseUnavailable'))
				break;
			await sleep(200);
		}
	} finally {
		sh(restart.replace(/pg-restart$/, 'pg-start'));
	}
	assert.ok(ratio > 0.01, `error ratio ${ratio} rose above 1 %`);
	const high = alerts.find((x) =>
	    x.labels.alertname === 'SessiondHighErrorRate');
	assert.equal(high?.state, 'pending', JSON.stringify(alerts));
	assert.equal(high.labels.severity, 'critical');
	assert.ok(alerts.some((x) =>
	    x.labels.alertname === 'SessiondDatabaseUnavailable'),
	    JSON.stringify(alerts));
	// Prometheus saw the database go: the scrape's ping and the errors.
	const down = await query('min_over_time(sessiond_database_up[1m])');
	assert.equal(down[0].value[1], '0');
	const dbu = await query('increase(sessiond_request_errors_total' +
	    '{code="database_unavailable"}[1m])');
	assert.ok(Number(dbu[0].value[1]) > 0);

	// Back: the workers reconnect, and the reconnection is counted.
	await waitHealthy();
	await waitFor('a reconnect in Prometheus', async () => {
		const r = await query('sessiond_db_reconnects_total');
		return r.length === 1 && Number(r[0].value[1]) > reconnects;
	});
});
