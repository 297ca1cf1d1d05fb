// Active Sessions: listing, revoking through the dialog (mouse and
// keyboard), cancelling, signing out all others, this device, sessions
// that ended meanwhile, hostile user agents, pagination, small screens.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
	BASE, DESKTOP, PHONE, SESSIONS_PATH, UA, apiCall, apiLogin, checkA11y,
	createUser, currentSessionId, dialog, eventually, focused, launch,
	liveRegion, newContext, newPage, sessionRowById, sessionRows, sessionRow,
	shot, signIn, sql, waitForList,
} from './lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

// A user signed in from `n` browser contexts; pages[0] is the one acting.
async function signedIn(n, { agents = [undefined, UA.firefoxWindows, UA.safariIphone] } = {}) {
	const user = await createUser();
	const contexts = [];
	const pages = [];
	const ids = [];
	for (let i = 0; i < n; i++) {
		const ctx = await newContext(browser,
		    agents[i] !== undefined ? { userAgent: agents[i] } : {});
		const page = await newPage(ctx);
		await signIn(page, user);
		contexts.push(ctx);
		pages.push(page);
		ids.push(await currentSessionId(page));
	}
	const close = () => Promise.all(contexts.map((c) => c.close()));
	return { user, contexts, pages, ids, close };
}

async function liveText(page, re) {
	await eventually(async () => {
		const t = (await liveRegion(page).textContent()).trim();
		assert.match(t, re);
	});
}

async function rowIds(page) {
	return sessionRows(page).evaluateAll((lis) => lis.map((li) => li.dataset.sessionId));
}

function revokeButton(page, id) {
	return sessionRowById(page, id).getByRole('button', { name: /^Revoke/ });
}

async function noHorizontalScroll(page) {
	const { scroll, client } = await page.evaluate(() => ({
		scroll: document.documentElement.scrollWidth,
		client: document.documentElement.clientWidth,
	}));
	assert.ok(scroll <= client, `no horizontal scrolling (${scroll} > ${client})`);
}

describe('Active Sessions', () => {
	test('sign in, see two sessions, revoke the second through the dialog', async () => {
		const user = await createUser();
		const ctx1 = await newContext(browser);
		const p1 = await newPage(ctx1);
		await signIn(p1, user);
		assert.equal(new URL(p1.url()).pathname, SESSIONS_PATH);
		await waitForList(p1);

		// Only this device: the list holds it, the empty state says so.
		assert.equal(await sessionRows(p1).count(), 1);
		const only = sessionRows(p1).first();
		assert.match(await only.textContent(), /This device/);
		assert.ok(await p1.locator('#sessions-empty').isVisible(), 'empty state shown');
		assert.match(await p1.locator('#sessions-empty').textContent(),
		    /only signed in on this device/);
		assert.ok(await p1.locator('#revoke-others').isHidden(),
		    'no "sign out all others" with nothing to sign out');
		await p1.locator('#activity-list:not([hidden])').waitFor();
		await shot(p1, 'sessions-only-this-device');
		await checkA11y(p1, 'sessions page, only this device');

		// A second browser signs in.
		const ctx2 = await newContext(browser, { userAgent: UA.firefoxWindows });
		const p2 = await newPage(ctx2);
		await signIn(p2, user);
		const id1 = await currentSessionId(p1);
		const id2 = await currentSessionId(p2);

		await p1.reload();
		await waitForList(p1);
		assert.deepEqual(await rowIds(p1), [id2, id1], 'two sessions, newest first');
		const row2 = sessionRowById(p1, id2);
		const text2 = await row2.textContent();
		assert.match(text2, /Firefox 133 on Windows/);
		assert.match(text2, /Desktop/);
		assert.match(text2, /127\.0\.0\.1/);
		assert.doesNotMatch(text2, /This device/);
		assert.match(await sessionRowById(p1, id1).textContent(), /This device/);
		// Relative times, with the exact time in datetime and title.
		const times = await row2.locator('time').evaluateAll((ts) => ts.map((t) => ({
			datetime: t.getAttribute('datetime'),
			title: t.getAttribute('title'),
			text: t.textContent,
		})));
		assert.equal(times.length, 2, 'started and last active');
		for (const t of times) {
			assert.match(t.datetime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
			assert.match(t.title, /\d{4}/);
			assert.match(t.text, /^(just now|\d+ \w+ ago)$/);
		}
		// Table-like semantics: labelled values.
		assert.deepEqual(await row2.locator('dt').allTextContents(),
		    ['Device', 'IP address', 'Started', 'Last active']);
		assert.ok(await p1.locator('#revoke-others').isVisible());
		await p1.locator('#activity-list:not([hidden])').waitFor();
		assert.match(await p1.locator('#activity-list').textContent(), /Signed in/);
		await shot(p1, 'sessions-list');
		await checkA11y(p1, 'sessions page, list');

		// Revoke the second one through the dialog.
		const statusSeen = p1.waitForResponse((r) => r.url().includes(`/${id2}/status`));
		await revokeButton(p1, id2).click();
		await statusSeen;
		const dlg = dialog(p1);
		assert.ok(await dlg.isVisible(), 'dialog open');
		assert.equal(await dlg.evaluate((d) => d.open && d.matches(':modal')), true);
		assert.equal(await dlg.getByRole('heading').textContent(),
		    'Revoke Firefox 133 on Windows?');
		assert.match(await dlg.textContent(), /127\.0\.0\.1/);
		assert.equal((await focused(p1)).inDialog, true, 'focus moved into the dialog');
		await shot(p1, 'sessions-dialog', { fullPage: false });
		await checkA11y(p1, 'sessions page, dialog open');

		await dlg.getByRole('button', { name: 'Confirm' }).click();
		await dlg.waitFor({ state: 'hidden' });
		await eventually(async () => assert.deepEqual(await rowIds(p1), [id1]));
		await liveText(p1, /^Signed out Firefox 133 on Windows \(127\.0\.0\.1\)\.$/);
		assert.equal(await liveRegion(p1).getAttribute('aria-live'), 'polite');
		assert.equal(await liveRegion(p1).getAttribute('role'), 'status');
		assert.equal((await focused(p1)).id, 'sessions-heading',
		    'focus on the list heading once the revoked row is gone');
		assert.ok(await p1.locator('#sessions-empty').isVisible());
		const row = await sessionRow(id2);
		assert.ok(row.revoked_at !== null, 'revoked in the database');
		assert.equal(row.revoke_reason, 'user');
		await eventually(async () => assert.match(
		    await p1.locator('#activity-list').textContent(),
		    /Revoked a session from this device/));
		await shot(p1, 'sessions-after-revoke');

		// The second browser's next page load lands on the sign-in page.
		await p2.reload();
		await p2.waitForURL((u) => u.pathname === '/login');
		assert.equal(new URL(p2.url()).searchParams.get('next'), SESSIONS_PATH);

		p1.assertClean();
		p2.assertClean();
		await ctx1.close();
		await ctx2.close();
	});

	test('the same flow by keyboard only', async () => {
		const user = await createUser();
		const ctx2 = await newContext(browser, { userAgent: UA.safariIphone });
		const p2 = await newPage(ctx2);
		await signIn(p2, user);
		const id2 = await currentSessionId(p2);

		const ctx1 = await newContext(browser);
		const p1 = await newPage(ctx1);
		await p1.goto('/login');
		// The username field has focus on arrival.
		assert.equal((await focused(p1)).id, 'username');
		await p1.keyboard.type(user.name);
		await p1.keyboard.press('Tab');
		assert.equal((await focused(p1)).id, 'password');
		await p1.keyboard.type(user.password);
		await Promise.all([
			p1.waitForURL((u) => u.pathname === SESSIONS_PATH),
			p1.keyboard.press('Enter'),
		]);
		await waitForList(p1);
		assert.equal(await sessionRows(p1).count(), 2);

		// Tab to the second session's Revoke button.
		let f;
		for (let i = 0; i < 30; i++) {
			await p1.keyboard.press('Tab');
			f = await focused(p1);
			if (f.session === id2 && f.tag === 'button') break;
		}
		assert.equal(f.session, id2, 'reached the Revoke button by Tab');
		assert.match(f.text, /^Revoke/);
		// The focus ring is visible.
		const outline = await p1.evaluate(() => {
			const s = getComputedStyle(document.activeElement);
			return { style: s.outlineStyle, width: parseFloat(s.outlineWidth) };
		});
		assert.notEqual(outline.style, 'none');
		assert.ok(outline.width >= 2, 'focus outline at least 2px');
		await shot(p1, 'sessions-keyboard-focus', { fullPage: false });

		await p1.keyboard.press('Enter');
		const dlg = dialog(p1);
		await dlg.waitFor();
		assert.match(await dlg.getByRole('heading').textContent(), /Safari 17 on iOS/);
		f = await focused(p1);
		assert.equal(f.id, 'dialog-cancel', 'the safe choice has focus first');
		await p1.keyboard.press('Tab');
		f = await focused(p1);
		assert.equal(f.id, 'dialog-confirm');
		await p1.keyboard.press('Enter');
		await dlg.waitFor({ state: 'hidden' });
		await eventually(async () => assert.equal(await sessionRows(p1).count(), 1));
		await liveText(p1, /^Signed out Safari 17 on iOS \(127\.0\.0\.1\)\.$/);
		assert.equal((await sessionRow(id2)).revoke_reason, 'user');

		await p2.reload();
		await p2.waitForURL((u) => u.pathname === '/login');
		p1.assertClean();
		await ctx1.close();
		await ctx2.close();
	});

	test('Cancel and Escape leave the session active and give focus back', async () => {
		const s = await signedIn(2);
		const [p1] = s.pages;
		const id2 = s.ids[1];
		await p1.reload();
		await waitForList(p1);
		const dlg = dialog(p1);
		const btn = revokeButton(p1, id2);

		// Cancel, by mouse.
		await btn.click();
		await dlg.waitFor();
		await dlg.getByRole('button', { name: 'Cancel' }).click();
		await dlg.waitFor({ state: 'hidden' });
		let f = await focused(p1);
		assert.equal(f.session, id2, 'focus back on the Revoke button');
		assert.match(f.text, /^Revoke/);

		// Escape, by keyboard from the button that has focus again.
		await p1.keyboard.press('Enter');
		await dlg.waitFor();
		// Focus stays inside the modal dialog, whatever Tab does.
		for (let i = 0; i < 6; i++) {
			await p1.keyboard.press(i % 2 ? 'Shift+Tab' : 'Tab');
			f = await focused(p1);
			assert.ok(f.inDialog || f.tag === 'body',
			    `focus kept inside the dialog (on ${f.tag}#${f.id})`);
			assert.notEqual(f.session, id2);
		}
		await dlg.getByRole('button', { name: 'Cancel' }).focus();
		await p1.keyboard.press('Escape');
		await dlg.waitFor({ state: 'hidden' });
		f = await focused(p1);
		assert.equal(f.session, id2, 'focus back on the Revoke button after Escape');

		// Nothing happened.
		assert.equal((await sessionRow(id2)).revoked_at, null);
		assert.equal(await sessionRows(p1).count(), 2);
		await s.pages[1].reload();
		await waitForList(s.pages[1]);
		assert.equal(new URL(s.pages[1].url()).pathname, SESSIONS_PATH);
		p1.assertClean();
		await s.close();
	});

	test('"Sign out all other sessions" with three browsers', async () => {
		const s = await signedIn(3);
		const [p1, p2, p3] = s.pages;
		await p1.reload();
		await waitForList(p1);
		assert.equal(await sessionRows(p1).count(), 3);

		const opener = p1.getByRole('button', { name: 'Sign out all other sessions' });
		await opener.click();
		const dlg = dialog(p1);
		await dlg.waitFor();
		assert.equal(await dlg.getByRole('heading').textContent(),
		    'Sign out all other sessions?');
		assert.match(await dlg.textContent(), /2 sessions/);
		await shot(p1, 'sessions-dialog-all-others', { fullPage: false });
		await dlg.getByRole('button', { name: 'Confirm' }).click();
		await dlg.waitFor({ state: 'hidden' });
		await eventually(async () => assert.deepEqual(await rowIds(p1), [s.ids[0]]));
		await liveText(p1, /^Signed out 2 other sessions\./);
		assert.ok(await p1.locator('#sessions-empty').isVisible());
		assert.equal((await focused(p1)).id, 'sessions-heading');
		for (const id of s.ids.slice(1))
			assert.equal((await sessionRow(id)).revoke_reason, 'others');
		assert.equal((await sessionRow(s.ids[0])).revoked_at, null);
		await eventually(async () => assert.match(
		    await p1.locator('#activity-list').textContent(),
		    /Signed out of 2 other sessions/));

		for (const p of [p2, p3]) {
			await p.reload();
			await p.waitForURL((u) => u.pathname === '/login');
		}
		p1.assertClean();
		await s.close();
	});

	test('revoking this device signs out and goes to /login', async () => {
		const s = await signedIn(2);
		const [p1] = s.pages;
		await p1.reload();
		await waitForList(p1);
		await revokeButton(p1, s.ids[0]).click();
		const dlg = dialog(p1);
		await dlg.waitFor();
		assert.match(await dlg.getByRole('heading').textContent(), /\(this device\)\?$/);
		assert.match(await dlg.textContent(), /signs you out here/);
		await Promise.all([
			p1.waitForURL((u) => u.pathname === '/login'),
			dlg.getByRole('button', { name: 'Confirm' }).click(),
		]);
		await p1.locator('#login-notice').getByText('You have signed out.').waitFor();
		assert.equal((await sessionRow(s.ids[0])).revoke_reason, 'user');
		assert.equal((await sessionRow(s.ids[1])).revoked_at, null);
		// The cookie is gone: the sessions page sends us back.
		await p1.goto(SESSIONS_PATH);
		await p1.waitForURL((u) => u.pathname === '/login');
		p1.assertClean();
		await s.close();
	});

	test('the Sign out button ends this session', async () => {
		const s = await signedIn(1);
		const [p1] = s.pages;
		await waitForList(p1);
		assert.equal(await p1.locator('#account-name').textContent(), s.user.name);
		await Promise.all([
			p1.waitForURL((u) => u.pathname === '/login'),
			p1.getByRole('button', { name: 'Sign out', exact: true }).click(),
		]);
		assert.equal((await sessionRow(s.ids[0])).revoke_reason, 'logout');
		p1.assertClean();
		await s.close();
	});

	test('a session that ended meanwhile is reported, before and on Confirm', async () => {
		const s = await signedIn(3);
		const [p1] = s.pages;
		const [, id2, id3] = s.ids;
		await p1.reload();
		await waitForList(p1);
		const dlg = dialog(p1);

		// Ended before the dialog opened: the status check says so.
		const other = await apiLogin(s.user);
		const del = await apiCall(other, 'DELETE', `/api/auth/sessions/${id2}/`);
		assert.equal(del.status, 204);
		await revokeButton(p1, id2).click();
		await dlg.waitFor();
		await dlg.getByText(/already signed out/).waitFor();
		assert.ok(await dlg.getByRole('button', { name: 'Confirm' }).isHidden());
		await shot(p1, 'sessions-dialog-already-ended', { fullPage: false });
		await checkA11y(p1, 'dialog, session already ended');
		await dlg.getByRole('button', { name: 'Close' }).click();
		await dlg.waitFor({ state: 'hidden' });
		// The list reloads without it (and now shows the extra login).
		await eventually(async () => {
			const ids = await rowIds(p1);
			assert.ok(!ids.includes(id2), 'ended session gone from the list');
			assert.ok(ids.includes(other.session.id));
		});

		// Ends between the status check and Confirm: the 404 is reported.
		const statusSeen = p1.waitForResponse((r) => r.url().includes(`/${id3}/status`));
		await revokeButton(p1, id3).click();
		await dlg.waitFor();
		assert.equal((await (await statusSeen).json()).status, 'active');
		const gone = await apiCall(other, 'DELETE', `/api/auth/sessions/${id3}/`);
		assert.equal(gone.status, 204);
		const answer = p1.waitForResponse((r) => r.request().method() === 'DELETE');
		await dlg.getByRole('button', { name: 'Confirm' }).click();
		assert.equal((await answer).status(), 404);
		await dlg.getByText(/already signed out/).waitFor();
		await liveText(p1, /already signed out/);
		assert.ok(await p1.url().endsWith(SESSIONS_PATH), 'still on the page');
		await p1.keyboard.press('Escape');
		await dlg.waitFor({ state: 'hidden' });
		await eventually(async () => assert.ok(!(await rowIds(p1)).includes(id3)));
		p1.assertClean();
		await s.close();
	});

	test('a hostile user agent shows as text and never runs', async () => {
		const user = await createUser();
		// One from Node with that User-Agent header, one from a browser
		// whose own user agent it is.
		const fromNode = await apiLogin(user, { userAgent: UA.xss });
		const ctx = await newContext(browser, { userAgent: UA.xss });
		const page = await newPage(ctx);
		await signIn(page, user);
		await waitForList(page);
		await page.locator('#activity-list:not([hidden])').waitFor();
		await page.waitForTimeout(300);	// time for any onerror to fire

		assert.equal(await page.evaluate(() => window.__xss), undefined);
		assert.equal(await page.locator('img[src="x"]').count(), 0, 'no injected image');
		const row = sessionRowById(page, fromNode.session.id);
		assert.equal(await row.locator('.f-ua').textContent(), UA.xss);
		assert.match(await page.locator('#sessions-list').innerText(),
		    /<img src=x onerror=window\.__xss=1>/);
		// The browser's own session: Chromium's client hints name the
		// browser, and the raw user agent is kept, as text, in the title.
		const mine = sessionRowById(page, await currentSessionId(page));
		assert.equal(await mine.locator('.session-name').getAttribute('title'), UA.xss);
		assert.equal(await page.evaluate(() => window.__xss), undefined);
		await shot(page, 'sessions-hostile-user-agent');

		// The dialog names it as text too.
		await row.getByRole('button', { name: /^Revoke/ }).click();
		await dialog(page).waitFor();
		await page.waitForTimeout(200);
		assert.equal(await page.evaluate(() => window.__xss), undefined);
		assert.equal(await page.locator('img[src="x"]').count(), 0);
		page.assertClean();
		await ctx.close();
	});

	test('the whole list loads through the API\'s pagination', async () => {
		const user = await createUser();
		const ctx = await newContext(browser);
		const page = await newPage(ctx);
		await signIn(page, user);
		// 120 more sessions, straight into the table (after signing in:
		// a login past the cap of 100 would evict the oldest).
		await sql(`INSERT INTO sessions (user_id, token_hash, created_at,
		    authenticated_at, last_seen_at, absolute_expires_at, ip, user_agent)
		    SELECT u.id, sha256(convert_to(gen_random_uuid()::text, 'UTF8')),
		        now() - make_interval(mins => g), now() - make_interval(mins => g),
		        now() - make_interval(mins => g), now() + interval '1 day',
		        '198.51.100.7', $2
		    FROM users u, generate_series(1, 120) g WHERE u.username = $1`,
		    [user.name, UA.edgeMac]);
		const listCalls = [];
		page.on('request', (r) => {
			if (r.url().includes('/api/auth/sessions/?'))
				listCalls.push(new URL(r.url()).searchParams);
		});
		await page.reload();
		await waitForList(page);
		assert.equal(await sessionRows(page).count(), 121);
		assert.ok(listCalls.length >= 2, 'more than one page requested');
		assert.ok(listCalls.some((q) => q.has('cursor')), 'followed next_cursor');
		const want = (await sql(`SELECT s.id::text FROM sessions s JOIN users u
		    ON u.id = s.user_id WHERE u.username = $1 AND s.revoked_at IS NULL
		    ORDER BY s.created_at DESC, s.id DESC`, [user.name])).rows
		    .map((r) => r.id);
		assert.deepEqual(await rowIds(page), want, 'every session, newest first');
		assert.match(await sessionRows(page).first().textContent(), /This device/);
		assert.match(await sessionRows(page).last().textContent(), /2 hours ago/);
		page.assertClean();
		await ctx.close();
	});

	test('phone width and 200% zoom', async () => {
		const s = await signedIn(3);
		const [p1] = s.pages;

		await p1.setViewportSize(PHONE);
		await p1.reload();
		await waitForList(p1);
		await p1.locator('#activity-list:not([hidden])').waitFor();
		await noHorizontalScroll(p1);
		const btn = revokeButton(p1, s.ids[1]);
		const box = await btn.boundingBox();
		assert.ok(box.x >= 0 && box.x + box.width <= PHONE.width, 'button on screen');
		assert.ok(box.height >= 40, 'touch-sized button');
		await shot(p1, 'sessions-phone');
		await checkA11y(p1, 'sessions page at phone width');
		await btn.click();
		await dialog(p1).waitFor();
		const dbox = await dialog(p1).boundingBox();
		assert.ok(dbox.x >= 0 && dbox.x + dbox.width <= PHONE.width, 'dialog fits');
		await shot(p1, 'sessions-phone-dialog', { fullPage: false });
		await p1.keyboard.press('Escape');

		// 200% zoom of a 1280x900 window is a 640x450 CSS viewport.
		await p1.setViewportSize({ width: DESKTOP.width / 2, height: DESKTOP.height / 2 });
		await noHorizontalScroll(p1);
		assert.ok(await revokeButton(p1, s.ids[2]).isVisible());
		await shot(p1, 'sessions-zoom-200');

		const login = await newPage(await newContext(browser, { viewport: PHONE }));
		await login.goto('/login');
		await noHorizontalScroll(login);
		await shot(login, 'login-phone');
		await login.context().close();
		p1.assertClean();
		await s.close();
	});

	test('the pages carry the security headers', async () => {
		const scripts = ['api', 'dom', 'format', 'login', 'sessions']
		    .map((n) => `/assets/js/${n}.js`);
		for (const p of ['/login', SESSIONS_PATH, '/assets/app.css', ...scripts]) {
			const res = await fetch(`${BASE}${p}`);
			assert.equal(res.status, 200, p);
			const csp = res.headers.get('content-security-policy');
			assert.ok(csp, `${p}: CSP`);
			assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
			assert.match(csp, /frame-ancestors 'none'/);
			assert.match(csp, /script-src 'self'/);
			assert.equal(res.headers.get('referrer-policy'), 'same-origin');
			assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
			const body = await res.text();
			if (p.endsWith('.js'))
				assert.doesNotMatch(body, /innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
			if (p === '/login' || p === SESSIONS_PATH) {
				assert.doesNotMatch(body, /<script(?![^>]*\bsrc=)[^>]*>/i, 'no inline script');
				assert.doesNotMatch(body, /<style|\sstyle=|\son[a-z]+=/i, 'no inline style or handlers');
			}
		}
	});
});
