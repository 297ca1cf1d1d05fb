// States the person sees when things are slow or broken: loading, the
// API down (the FastCGI workers stopped) with Retry, a failed revoke.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import {
	BASE, SESSIONS_PATH, UA, checkA11y, createUser, currentSessionId, dialog,
	eventually, focused, launch, liveRegion, newContext, newPage,
	sessionRowById, sessionRows, sessionRow, shell, shot, signIn, waitForList,
} from './lib.mjs';

let browser;
let stopped = false;
before(async () => { browser = await launch(); });
after(async () => {
	await startApi();
	await browser?.close();
});
afterEach(async () => { await startApi(); });

async function stopApi() {
	stopped = true;
	await shell(process.env.SESSIOND_STOP_CMD);
	await eventually(async () => {
		const r = await fetch(`${BASE}/healthz`);
		assert.notEqual(r.status, 200);
	});
}

async function startApi() {
	if (!stopped) return;
	await shell(process.env.SESSIOND_START_CMD);
	await eventually(async () => {
		const r = await fetch(`${BASE}/healthz`);
		assert.equal(r.status, 200);
	}, { timeout: 20000 });
	stopped = false;
}

describe('error and loading states', () => {
	test('loading is shown while the list is on its way', async () => {
		const user = await createUser();
		const ctx = await newContext(browser);
		const page = await newPage(ctx);
		await signIn(page, user);
		let release;
		const gate = new Promise((r) => { release = r; });
		await page.route('**/api/auth/sessions/?*', async (route) => {
			await gate;
			await route.continue();
		});
		await page.reload();
		await page.getByText('Loading your sessions…').waitFor();
		assert.equal(await page.locator('#sessions-card').getAttribute('aria-busy'), 'true');
		await shot(page, 'sessions-loading', { fullPage: false });
		release();
		await waitForList(page);
		assert.ok(await page.locator('#sessions-loading').isHidden());
		page.assertClean();
		await ctx.close();
	});

	test('API down: the error state and Retry work', async () => {
		const user = await createUser();
		const ctx = await newContext(browser);
		const page = await newPage(ctx);
		await signIn(page, user);
		await waitForList(page);

		await stopApi();
		await page.reload();
		const error = page.locator('#sessions-error');
		await error.waitFor();
		assert.match(await error.textContent(), /Your sessions could not be loaded/);
		assert.match(await error.textContent(), /not answering|could not be reached/);
		assert.ok(await page.locator('#sessions-list').isHidden(), 'no stale list');
		assert.ok(await page.locator('#activity-card').isHidden());
		assert.equal(new URL(page.url()).pathname, SESSIONS_PATH, 'a server error is not "signed out"');
		const retry = page.getByRole('button', { name: 'Retry' });
		await shot(page, 'sessions-error');
		await checkA11y(page, 'sessions page, error state');

		// Retry while still down: still the error, said out loud.
		await retry.click();
		await eventually(async () => assert.match(await liveRegion(page).textContent(),
		    /Still unable to load your sessions/));
		assert.ok(await error.isVisible());
		assert.equal((await focused(page)).id, 'sessions-retry');

		// Back up: Retry brings the list.
		await startApi();
		await page.getByRole('button', { name: 'Retry' }).click();
		await waitForList(page);
		assert.equal(await sessionRows(page).count(), 1);
		assert.ok(await error.isHidden());
		assert.ok(await page.locator('#activity-card').isVisible());
		assert.equal((await focused(page)).id, 'sessions-heading');
		page.assertClean();
		await ctx.close();
	});

	test('a revoke that fails on the server says so and can be tried again', async () => {
		const user = await createUser();
		const ctx1 = await newContext(browser);
		const p1 = await newPage(ctx1);
		await signIn(p1, user);
		const ctx2 = await newContext(browser, { userAgent: UA.firefoxWindows });
		const p2 = await newPage(ctx2);
		await signIn(p2, user);
		const id2 = await currentSessionId(p2);
		await p1.reload();
		await waitForList(p1);

		await sessionRowById(p1, id2).getByRole('button', { name: /^Revoke/ }).click();
		const dlg = dialog(p1);
		await dlg.waitFor();
		await stopApi();
		await dlg.getByRole('button', { name: 'Confirm' }).click();
		await dlg.getByText(/Nothing was revoked\./).waitFor();
		assert.ok(await dlg.isVisible(), 'dialog stays open');
		assert.equal(new URL(p1.url()).pathname, SESSIONS_PATH);
		await shot(p1, 'sessions-dialog-error', { fullPage: false });
		await checkA11y(p1, 'dialog, revoke failed');

		await startApi();
		await dlg.getByRole('button', { name: 'Confirm' }).click();
		await dlg.waitFor({ state: 'hidden' });
		await eventually(async () => assert.equal(await sessionRows(p1).count(), 1));
		assert.equal((await sessionRow(id2)).revoke_reason, 'user');
		p1.assertClean();
		await ctx1.close();
		await ctx2.close();
	});

	test('the sign-in page says when the service is down', async () => {
		const user = await createUser();
		const ctx = await newContext(browser);
		const page = await newPage(ctx);
		await page.goto('/login');
		await stopApi();
		await page.getByLabel('Username').fill(user.name);
		await page.getByLabel('Password').fill(user.password);
		await page.getByRole('button', { name: 'Sign in' }).click();
		await page.getByRole('alert').getByText(/not answering right now/).waitFor();
		assert.equal(new URL(page.url()).pathname, '/login');
		await shot(page, 'login-service-down');
		await startApi();
		await Promise.all([
			page.waitForURL((u) => u.pathname === SESSIONS_PATH),
			page.getByRole('button', { name: 'Sign in' }).click(),
		]);
		page.assertClean();
		await ctx.close();
	});
});
