// Each session's approximate place next to its IP, on the page and in the
// revoke dialog. The test stack's GeoIP database knows the documentation
// ranges (tests/geoip/make-test-db.pl); its nginx takes a browser's
// address from X-Test-Client-Address (scripts/stack).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
	UA, checkA11y, createUser, currentSessionId, dialog, launch, newContext,
	newPage, sessionRowById, shot, signIn, waitForList,
} from './lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const from = (ip) => ({ extraHTTPHeaders: { 'X-Test-Client-Address': ip } });

describe('Locations', () => {
	test('the list and the dialog show where each session is', async () => {
		const user = await createUser();
		const here = await newContext(browser);
		const berlin = await newContext(browser,
		    { userAgent: UA.firefoxWindows, ...from('192.0.2.10') });
		const odd = await newContext(browser, from('203.0.113.5'));
		try {
			const pages = [];
			for (const ctx of [berlin, odd, here]) {
				const p = await newPage(ctx);
				await signIn(p, user);
				pages.push(p);
			}
			const [pB, pOdd, page] = pages;
			const idB = await currentSessionId(pB);
			const idOdd = await currentSessionId(pOdd);
			await page.reload();
			await waitForList(page);

			const rowB = sessionRowById(page, idB);
			assert.equal(await rowB.locator('.f-ip').textContent(),
			    '192.0.2.10 · Berlin, Germany');
			// A place is text, never markup.
			const rowOdd = sessionRowById(page, idOdd);
			assert.match(await rowOdd.locator('.f-ip').textContent(),
			    /^203\.0\.113\.5 · <img src=x onerror=alert\(1\)>\?\?Bcc/);
			assert.equal(await rowOdd.locator('img').count(), 0);
			// Loopback has no place: the IP alone.
			const self = sessionRowById(page, await currentSessionId(page));
			assert.equal(await self.locator('.f-ip').textContent(),
			    '127.0.0.1');
			await shot(page, 'sessions-locations');
			await checkA11y(page, 'sessions page with locations');

			await rowB.getByRole('button', { name: /^Revoke/ }).click();
			const dlg = dialog(page);
			await dlg.waitFor();
			assert.equal(await dlg.locator('#dialog-ip').textContent(),
			    '192.0.2.10 · Berlin, Germany');
			await page.keyboard.press('Escape');
			page.assertClean();
		} finally {
			await Promise.all([here, berlin, odd].map((c) => c.close()));
		}
	});
});
