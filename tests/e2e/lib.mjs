// Shared helpers for the end-to-end tests: Chromium through playwright-core,
// users through sessionctl, SQL through pg, against the stack that
// scripts/test started (SESSIOND_URL, PG*, SESSIONCTL, SESSIOND_STOP_CMD,
// SESSIOND_START_CMD, E2E_SCREENSHOTS).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';
import { BASE, ROOT, setCookies, sql } from '../common.mjs';

export {
	BASE, createUser, eventually, sql, uniq,
} from '../common.mjs';

const require = createRequire(import.meta.url);

export const SCREENSHOTS = process.env.E2E_SCREENSHOTS ??
    path.join(ROOT, 'build/screenshots');
fs.mkdirSync(SCREENSHOTS, { recursive: true });

export const SESSIONS_PATH = '/settings/sessions';

// User agents the API parses into browser / OS / device.
export const UA = {
	firefoxWindows: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) ' +
	    'Gecko/20100101 Firefox/133.0',
	safariIphone: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) ' +
	    'AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 ' +
	    'Safari/604.1',
	edgeMac: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) ' +
	    'AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 ' +
	    'Safari/537.36 Edg/131.0.0.0',
	xss: '<img src=x onerror=window.__xss=1>',
};

const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic',
	'--no-first-run', '--disable-background-networking',
	'--disable-component-update', '--disable-sync',
	'--disable-dev-shm-usage'];

export function launch() {
	return chromium.launch({
		executablePath: '/usr/bin/chromium',
		headless: true,
		args: CHROMIUM_ARGS,
	});
}

export const DESKTOP = { width: 1280, height: 900 };
export const PHONE = { width: 390, height: 844 };

export async function newContext(browser, opts = {}) {
	// Chromium sends client hints whatever the user agent says; for a
	// phone's user agent, say "mobile" as a phone's browser would.
	if (/iPhone|Android.*Mobile/.test(opts.userAgent ?? ''))
		opts = { ...opts, extraHTTPHeaders: { 'sec-ch-ua-mobile': '?1', ...opts.extraHTTPHeaders } };
	const ctx = await browser.newContext({
		baseURL: BASE,
		viewport: DESKTOP,
		locale: 'en-GB',
		timezoneId: 'UTC',
		...opts,
	});
	ctx.setDefaultTimeout(10000);
	ctx.setDefaultNavigationTimeout(15000);
	return ctx;
}

// A page that records script errors and CSP violations; assertClean()
// fails the test if there were any.
export async function newPage(ctx) {
	const page = await ctx.newPage();
	const problems = [];
	page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
	page.on('console', (msg) => {
		const t = msg.text();
		if (/Content Security Policy|Refused to (load|execute|apply|connect|frame)/i.test(t))
			problems.push(`CSP: ${t}`);
	});
	page.assertClean = () => assert.deepEqual(problems, [],
	    'no script errors or CSP violations');
	return page;
}

// ---- Processes, users, SQL ------------------------------------------

export { sh as shell } from '../common.mjs';

// Make a session's last sign-in older than the re-auth window (15 min).
export async function makeAuthOld(sessionId) {
	const { rows } = await sql("UPDATE sessions SET authenticated_at = " +
	    "now() - interval '1 hour' WHERE id = $1 RETURNING id", [sessionId]);
	assert.equal(rows.length, 1, 'session found');
}

export async function sessionRow(sessionId) {
	const { rows } = await sql('SELECT id::text, revoked_at, revoke_reason ' +
	    'FROM sessions WHERE id = $1', [sessionId]);
	return rows[0] ?? null;
}

// ---- The API from Node ----------------------------------------------

export async function apiLogin(user, { userAgent } = {}) {
	const headers = { 'Content-Type': 'application/json' };
	if (userAgent !== undefined) headers['User-Agent'] = userAgent;
	const res = await fetch(`${BASE}/api/auth/login/`, {
		method: 'POST',
		headers,
		body: JSON.stringify({ username: user.name, password: user.password }),
	});
	const body = await res.json();
	assert.equal(res.status, 200, `login: ${JSON.stringify(body)}`);
	const cookie = setCookies(res).map((c) => c.split(';')[0])
	    .find((c) => !c.endsWith('='));
	assert.ok(cookie, 'login set a cookie');
	return { cookie, csrf: body.csrf_token, session: body.session };
}

export async function apiCall(auth, method, urlPath, body) {
	const headers = { Cookie: auth.cookie, 'X-CSRF-Token': auth.csrf };
	if (body !== undefined) headers['Content-Type'] = 'application/json';
	const res = await fetch(`${BASE}${urlPath}`, {
		method,
		headers,
		body: body === undefined ? undefined : JSON.stringify(body),
	});
	const text = await res.text();
	return { status: res.status, body: text ? JSON.parse(text) : null };
}

// ---- Pages ----------------------------------------------------------

// Sign in through the login form; lands on `next` or the sessions page.
export async function signIn(page, user, { next } = {}) {
	const q = next === undefined ? '' : `?next=${encodeURIComponent(next)}`;
	await page.goto(`/login${q}`);
	await page.getByLabel('Username').fill(user.name);
	await page.getByLabel('Password').fill(user.password);
	await Promise.all([
		page.waitForURL((u) => u.pathname !== '/login'),
		page.getByRole('button', { name: 'Sign in' }).click(),
	]);
}

// The current session's id, as the page's own API sees it.
export async function currentSessionId(page) {
	return page.evaluate(async () => {
		const r = await fetch('/api/users/me/current-session/');
		return r.ok ? (await r.json()).session.id : null;
	});
}

export async function waitForList(page) {
	await page.locator('#sessions-list:not([hidden])').waitFor();
	await page.locator('#sessions-card[aria-busy="false"]').waitFor();
}

export function sessionRows(page) {
	return page.locator('#sessions-list > li.session');
}

export function sessionRowById(page, id) {
	return page.locator(`#sessions-list > li[data-session-id="${id}"]`);
}

export function liveRegion(page) {
	return page.locator('#announcer');
}

export function dialog(page) {
	return page.locator('#revoke-dialog');
}

// Which element has focus: its id, or tag and text.
export function focused(page) {
	return page.evaluate(() => {
		const a = document.activeElement;
		if (a === null) return null;
		return {
			id: a.id,
			tag: a.tagName.toLowerCase(),
			text: a.textContent.trim(),
			session: a.closest('[data-session-id]')?.dataset.sessionId ?? null,
			inDialog: a.closest('dialog') !== null,
		};
	});
}

export async function shot(page, name, { fullPage = true } = {}) {
	const file = path.join(SCREENSHOTS, `${name}.png`);
	await page.screenshot({ path: file, fullPage, animations: 'disabled' });
	return file;
}

// ---- Accessibility --------------------------------------------------

const AXE_SOURCE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

// Run axe-core (WCAG 2.x A and AA, and best practices) on the page as it
// is. The source goes in through page.evaluate, which the page's CSP does
// not govern, so the pages keep their real CSP during the check.
export async function checkA11y(page, label) {
	if (!(await page.evaluate(() => typeof window.axe === 'object'))) {
		await page.evaluate(AXE_SOURCE);
	}
	const result = await page.evaluate(() => window.axe.run(document, {
		runOnly: {
			type: 'tag',
			values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa',
				'wcag22aa', 'best-practice'],
		},
		resultTypes: ['violations'],
	}));
	const found = result.violations.map((v) => ({
		rule: v.id,
		impact: v.impact,
		help: v.help,
		nodes: v.nodes.slice(0, 5).map((n) => `${n.target.join(' ')}: ${n.failureSummary}`),
	}));
	assert.deepEqual(found, [], `axe violations (${label})`);
}
