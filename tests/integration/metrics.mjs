// Helpers of the metrics tests: scraping sessiond's metrics_listen,
// reading nginx's access log, and naming a request's route the way
// sessiond's route table does (fcgi/route.c).

import { readFileSync, statSync } from 'node:fs';

export const METRICS_URL = process.env.SESSIOND_METRICS_URL;
export const ACCESS_LOG = process.env.STACK_DIR ?
    `${process.env.STACK_DIR}/nginx-access.log` : undefined;

const UUID = '[0-9A-Fa-f-]+';
const ROUTES = [
	['GET', /^\/healthz$/, 'health'],
	['POST', /^\/api\/auth\/login$/, 'login'],
	['POST', /^\/api\/auth\/logout$/, 'logout'],
	['POST', /^\/api\/auth\/reauth$/, 'reauth'],
	['POST', /^\/api\/auth\/password$/, 'password'],
	['GET', /^\/api\/users\/me\/current-session$/, 'current'],
	['GET', /^\/api\/auth\/sessions$/, 'list'],
	['DELETE', /^\/api\/auth\/sessions$/, 'revoke_others'],
	['GET', new RegExp(`^/api/auth/sessions/${UUID}/status$`), 'status'],
	['DELETE', /^\/api\/auth\/sessions\/[^/]+$/, 'revoke'],
	['GET', /^\/api\/auth\/audit$/, 'audit'],
];

// The route label sessiond gives METHOD PATH; "none" when no route
// matches (404, 405).
export function routeOf(method, path) {
	let p = path.split('?')[0];
	if (p.length > 1 && p.endsWith('/'))
		p = p.slice(0, -1);
	for (const [m, re, name] of ROUTES)
		if (m === method && re.test(p))
			return name;
	return 'none';
}

/*
 * Parse the Prometheus text format: [{ name, labels, value }]. Throws on
 * a line that is neither a comment nor a sample.
 */
export function parseMetrics(text) {
	const out = [];
	for (const line of text.split('\n')) {
		if (line === '' || line.startsWith('#'))
			continue;
		const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/
		    .exec(line);
		if (m === null)
			throw new Error(`not a sample: ${line}`);
		const labels = {};
		for (const l of (m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g))
			labels[l[1]] = l[2];
		out.push({ name: m[1], labels, value: Number(m[3]) });
	}
	return out;
}

export async function scrape() {
	const res = await fetch(METRICS_URL);
	const text = await res.text();
	if (res.status !== 200)
		throw new Error(`scrape: ${res.status} ${text}`);
	return parseMetrics(text);
}

// sessiond_requests_total as a Map "route status" -> count.
export function requestCounts(samples) {
	const m = new Map();
	for (const s of samples)
		if (s.name === 'sessiond_requests_total')
			m.set(`${s.labels.route} ${s.labels.status}`, s.value);
	return m;
}

// The value of one sample (name and every label given), or undefined.
export function sample(samples, name, labels = {}) {
	const s = samples.find((x) => x.name === name &&
	    Object.entries(labels).every(([k, v]) => x.labels[k] === v));
	return s?.value;
}

// Where the access log ends now.
export function logOffset() {
	return statSync(ACCESS_LOG).size;
}

/*
 * The requests nginx logged after offset that it handed to sessiond (the
 * API and the health check), counted as a Map "route status" -> n with
 * sessiond's route labels and status classes.
 */
export function logCounts(offset) {
	const text = readFileSync(ACCESS_LOG).subarray(offset).toString();
	const m = new Map();
	for (const line of text.split('\n')) {
		const r = /"([A-Z]+) (\S+) HTTP\/[0-9.]+" (\d{3}) /.exec(line);
		if (r === null)
			continue;
		const path = r[2].split('?')[0];
		if (!/^\/(api\/|healthz\/?$)/.test(path))
			continue;
		const key = `${routeOf(r[1], path)} ${r[3][0]}xx`;
		m.set(key, (m.get(key) ?? 0) + 1);
	}
	return m;
}

// after - before, for every key of either, without the zeros.
export function delta(after, before) {
	const d = new Map();
	for (const [k, v] of after) {
		const n = v - (before.get(k) ?? 0);
		if (n !== 0)
			d.set(k, n);
	}
	return d;
}

export function sorted(map) {
	return Object.fromEntries([...map].sort());
}
