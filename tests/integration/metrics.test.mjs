// sessiond's Prometheus metrics (metrics_listen): the counters equal
// nginx's access log for the same requests, logins count by outcome,
// revocations by reason, the text format parses, and the listener is
// loopback only and answers nothing but GET /metrics.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import {
	api, as, assertStatus, closeDb, createUser, login, sleep, uniq,
} from './lib.mjs';
import {
	ACCESS_LOG, METRICS_URL, delta, logCounts, logOffset, requestCounts,
	sample, scrape, sorted,
} from './metrics.mjs';

const skip = METRICS_URL === undefined || ACCESS_LOG === undefined ?
    'SESSIOND_METRICS_URL or STACK_DIR not set' : false;

after(closeDb);

// Scrape until the counters equal the access log (a worker counts a
// request just after its answer has gone out), or give up after 3 s.
async function settled(before, offset) {
	let got, want;
	for (let i = 0; i < 30; i++) {
		got = delta(requestCounts(await scrape()), before);
		want = logCounts(offset);
		if (JSON.stringify(sorted(got)) === JSON.stringify(sorted(want)))
			break;
		await sleep(100);
	}
	return { got: sorted(got), want: sorted(want) };
}

test('request counters equal nginx access log', { skip }, async () => {
	const u = await createUser(uniq('metrics'));
	const before = requestCounts(await scrape());
	const offset = logOffset();

	await api('GET', '/healthz');
	await api('GET', '/healthz/');
	await api('POST', '/api/auth/login/', { json: { username: u.name,
	    password: 'wrong password, surely' } });
	await api('POST', '/api/auth/login/', { json: '{"username":' });
	const s = await login(u);
	const s2 = await login(u);
	await as(s).get('/api/users/me/current-session/');
	await as(s).get('/api/auth/sessions/?limit=5');
	await as(s).get('/api/auth/sessions/?limit=0');
	await as(s).get(`/api/auth/sessions/${s2.session.id}/status/`);
	await as(s).get('/api/auth/audit/');
	await api('GET', '/api/auth/sessions/');
	await api('GET', '/api/no/such/thing');
	await api('PUT', '/api/auth/sessions/');
	assertStatus(await as(s).del(`/api/auth/sessions/${s2.session.id}/`),
	    204);
	await as(s).del('/api/auth/sessions/');
	await as(s).post('/api/auth/logout/');

	const { got, want } = await settled(before, offset);
	assert.deepEqual(got, want);
	// What this test sent, as sessiond labels it.
	assert.equal(want['health 2xx'], 2);
	assert.equal(want['login 2xx'], 2);
	assert.equal(want['login 4xx'], 2);
	assert.equal(want['list 4xx'], 2);
	assert.equal(want['none 4xx'], 2);
	assert.equal(want['revoke 2xx'], 1);
	assert.equal(want['revoke_others 2xx'], 1);
	assert.equal(want['logout 2xx'], 1);
});

test('outcomes, reasons and histograms', { skip }, async () => {
	const u = await createUser(uniq('metrics'));
	const a = await scrape();
	await api('POST', '/api/auth/login/', { json: { username: u.name,
	    password: 'not the password at all' } });
	const s = await login(u);
	const s2 = await login(u);
	const s3 = await login(u);
	await as(s).del(`/api/auth/sessions/${s2.session.id}/`);
	await as(s).del('/api/auth/sessions/');
	await as(s).post('/api/auth/logout/');
	await sleep(200);
	const b = await scrape();
	const d = (name, labels) => sample(b, name, labels) -
	    sample(a, name, labels);

	assert.equal(d('sessiond_logins_total', { outcome: 'success' }), 3);
	assert.equal(d('sessiond_logins_total', { outcome: 'wrong_password' }),
	    1);
	assert.equal(d('sessiond_sessions_revoked_total', { reason: 'user' }),
	    1);
	assert.equal(d('sessiond_sessions_revoked_total', { reason: 'others' }),
	    1, `s3 (${s3.session.id}) revoked as one of the others`);
	assert.equal(d('sessiond_sessions_revoked_total', { reason: 'logout' }),
	    1);
	// Histograms: cumulative, +Inf equals the count, 2 s is a bucket.
	for (const route of ['login', 'revoke', 'logout']) {
		const count = sample(b, 'sessiond_request_duration_seconds_count',
		    { route });
		assert.equal(sample(b, 'sessiond_request_duration_seconds_bucket',
		    { route, le: '+Inf' }), count);
		assert.ok(sample(b, 'sessiond_request_duration_seconds_bucket',
		    { route, le: '2' }) <= count);
	}
	assert.ok(d('sessiond_db_round_trip_seconds_count') >= 6);
	// Both pools are there and summed: logins went to the login pool.
	assert.ok(sample(b, 'sessiond_workers', { pool: 'main' }) >= 1);
	assert.ok(sample(b, 'sessiond_workers', { pool: 'login' }) >= 1);
	assert.ok(d('sessiond_queue_wait_seconds_count', { pool: 'login' }) >=
	    4);
	assert.equal(sample(b, 'sessiond_database_up'), 1);
	assert.equal(sample(b, 'sessiond_build_info'), 1);
});

test('the metrics listener: loopback, GET /metrics only', { skip },
    async () => {
	const url = new URL(METRICS_URL);
	assert.equal(url.hostname, '127.0.0.1');
	const res = await fetch(METRICS_URL);
	assert.equal(res.status, 200);
	assert.match(res.headers.get('content-type'),
	    /^text\/plain; version=0\.0\.4/);
	const text = await res.text();
	assert.match(text, /^# HELP sessiond_build_info /);
	assert.doesNotMatch(text, /user_id=|session_id=/);
	for (const [m, path, status] of [['GET', '/', 404],
	    ['GET', '/metrics/x', 404], ['POST', '/metrics', 405],
	    ['DELETE', '/metrics', 405]]) {
		const r = await fetch(url.origin + path, { method: m });
		await r.text();
		assert.equal(r.status, status, `${m} ${path}`);
	}
	// The public site does not serve them.
	const pub = await api('GET', '/metrics');
	assert.doesNotMatch(pub.text, /sessiond_requests_total/);
	const pub2 = await api('GET', '/api/metrics');
	assert.equal(pub2.status, 404);
});
