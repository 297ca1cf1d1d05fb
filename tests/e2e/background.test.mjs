// A tab left in the background while its session is revoked elsewhere
// notices when it comes back, and goes to /login instead of showing a
// stale list.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
	SESSIONS_PATH, UA, createUser, currentSessionId, dialog, eventually,
	launch, newContext, newPage, sessionRowById, sessionRow, signIn,
	waitForList,
} from './lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

async function twoBrowsers() {
	const user = await createUser();
	const ctx1 = await newContext(browser);
	const p1 = await newPage(ctx1);
	await signIn(p1, user);
	const ctx2 = await newContext(browser, { userAgent: UA.firefoxWindows });
	const p2 = await newPage(ctx2);
	await signIn(p2, user);
	await waitForList(p2);
	return { user, ctx1, p1, ctx2, p2, id2: await currentSessionId(p2) };
}

async function revokeThroughPage(p1, id) {
	await p1.reload();
	await waitForList(p1);
	await sessionRowById(p1, id).getByRole('button', { name: /^Revoke/ }).click();
	const dlg = dialog(p1);
	await dlg.getByRole('button', { name: 'Confirm' }).click();
	await dlg.waitFor({ state: 'hidden' });
	await eventually(async () => assert.ok(
	    (await sessionRow(id)).revoked_at !== null));
}

describe('background tab', () => {
	test('a background tab whose session is revoked goes to /login when focused', async () => {
		const { ctx1, p1, ctx2, p2, id2 } = await twoBrowsers();
		// Playwright normally tells every page it has focus; switch that
		// off for this one so that real focus and blur events reach it.
		const cdp = await ctx2.newCDPSession(p2);
		await cdp.send('Emulation.setFocusEmulationEnabled', { enabled: false });
		// Another tab comes to the front: p2 loses focus.
		const [front] = await Promise.all([
			ctx2.waitForEvent('page'),
			p2.evaluate(() => { window.open('/login', '_blank'); }),
		]);
		await front.waitForLoadState();
		await front.bringToFront();
		await eventually(async () => assert.equal(
		    await p2.evaluate(() => document.hasFocus()), false));

		// Meanwhile the session is revoked from the other browser.
		await revokeThroughPage(p1, id2);
		await p2.waitForTimeout(500);
		assert.equal(new URL(p2.url()).pathname, SESSIONS_PATH,
		    'nothing happens while the tab is in the background');

		// Back to the tab: it re-checks and leaves for the sign-in page.
		await p2.bringToFront();
		await p2.waitForURL((u) => u.pathname === '/login');
		const u = new URL(p2.url());
		assert.equal(u.searchParams.get('reason'), 'ended');
		assert.equal(u.searchParams.get('next'), SESSIONS_PATH);
		await p2.getByText('Your session has ended. Sign in again to continue.').waitFor();
		p1.assertClean();
		p2.assertClean();
		await ctx1.close();
		await ctx2.close();
	});

	test('a hidden tab re-checks when it becomes visible again', async () => {
		// Headless Chromium never hides a tab, so the test plays the
		// browser's part: report "hidden", then "visible" again, and fire
		// visibilitychange each time, as a real tab switch does.
		const { ctx1, p1, ctx2, p2, id2 } = await twoBrowsers();
		await p2.evaluate(() => {
			window.__visibility = 'hidden';
			Object.defineProperty(document, 'visibilityState', {
				configurable: true,
				get: () => window.__visibility,
			});
			document.dispatchEvent(new Event('visibilitychange'));
		});
		await revokeThroughPage(p1, id2);
		await p2.waitForTimeout(300);
		assert.equal(new URL(p2.url()).pathname, SESSIONS_PATH);
		await p2.evaluate(() => {
			window.__visibility = 'visible';
			document.dispatchEvent(new Event('visibilitychange'));
		});
		await p2.waitForURL((u) => u.pathname === '/login');
		assert.equal(new URL(p2.url()).searchParams.get('reason'), 'ended');
		p2.assertClean();
		await ctx1.close();
		await ctx2.close();
	});

	test('a tab that is still signed in refreshes its list when focused', async () => {
		const { user, ctx1, p1, ctx2, p2 } = await twoBrowsers();
		await p1.reload();
		await waitForList(p1);
		const before = await p1.locator('#sessions-list > li').count();
		// A third sign-in happens while p1 sits there.
		const ctx3 = await newContext(browser, { userAgent: UA.safariIphone });
		const p3 = await newPage(ctx3);
		await signIn(p3, user);
		await p1.waitForTimeout(2100);	// past the re-check gap
		await p1.evaluate(() => window.dispatchEvent(new FocusEvent('focus')));
		await eventually(async () => assert.equal(
		    await p1.locator('#sessions-list > li').count(), before + 1));
		assert.equal(new URL(p1.url()).pathname, SESSIONS_PATH);
		p1.assertClean();
		await ctx1.close();
		await ctx2.close();
		await ctx3.close();
	});
});
