// Re-authentication: when the acting session signed in longer ago than
// the re-auth window (15 minutes by default), the API answers 403
// reauth_required and the dialog asks for the password, then goes on.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
	SESSIONS_PATH, UA, checkA11y, createUser, currentSessionId, dialog,
	eventually, focused, launch, liveRegion, makeAuthOld, newContext, newPage,
	sessionRowById, sessionRows, sessionRow, shot, signIn, waitForList,
} from './lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

describe('re-authentication', () => {
	test('revoke asks for the password; a wrong one errors, the right one completes', async () => {
		const user = await createUser();
		const ctx1 = await newContext(browser);
		const p1 = await newPage(ctx1);
		await signIn(p1, user);
		const ctx2 = await newContext(browser, { userAgent: UA.firefoxWindows });
		const p2 = await newPage(ctx2);
		await signIn(p2, user);
		const id1 = await currentSessionId(p1);
		const id2 = await currentSessionId(p2);
		await makeAuthOld(id1);

		await p1.reload();
		await waitForList(p1);
		await sessionRowById(p1, id2).getByRole('button', { name: /^Revoke/ }).click();
		const dlg = dialog(p1);
		await dlg.waitFor();
		let answer = p1.waitForResponse((r) => r.request().method() === 'DELETE');
		await dlg.getByRole('button', { name: 'Confirm' }).click();
		const first = await answer;
		assert.equal(first.status(), 403);
		assert.equal((await first.json()).error.code, 'reauth_required');

		const pw = dlg.getByLabel('Your password');
		await pw.waitFor();
		assert.equal((await focused(p1)).id, 'reauth-password', 'password field has focus');
		assert.equal(await pw.getAttribute('type'), 'password');
		await shot(p1, 'sessions-dialog-reauth', { fullPage: false });
		await checkA11y(p1, 'dialog asking for the password');

		// A wrong password: 401 invalid_credentials, which is not "signed out".
		await pw.fill('definitely-wrong');
		answer = p1.waitForResponse((r) => r.url().includes('/api/auth/reauth/'));
		await dlg.getByRole('button', { name: 'Confirm' }).click();
		const wrong = await answer;
		assert.equal(wrong.status(), 401);
		assert.equal((await wrong.json()).error.code, 'invalid_credentials');
		await dlg.getByText('That password is not correct. Try again.').waitFor();
		assert.equal(await pw.getAttribute('aria-invalid'), 'true');
		assert.ok(await dlg.isVisible(), 'dialog still open');
		assert.equal(new URL(p1.url()).pathname, SESSIONS_PATH, 'not sent to /login');
		assert.equal((await sessionRow(id2)).revoked_at, null);
		await shot(p1, 'sessions-dialog-reauth-error', { fullPage: false });
		await checkA11y(p1, 'dialog, wrong password');

		// The right one: re-auth, then the revoke goes through.
		await pw.fill(user.password);
		await pw.press('Enter');
		await dlg.waitFor({ state: 'hidden' });
		await eventually(async () => assert.equal(await sessionRows(p1).count(), 1));
		await eventually(async () => assert.match(await liveRegion(p1).textContent(),
		    /Signed out Firefox 133 on Windows/));
		assert.equal((await sessionRow(id2)).revoke_reason, 'user');
		await eventually(async () => assert.match(
		    await p1.locator('#activity-list').textContent(),
		    /Wrong password when confirming it was you/));
		await shot(p1, 'sessions-after-reauth');

		await p2.reload();
		await p2.waitForURL((u) => u.pathname === '/login');
		p1.assertClean();
		await ctx1.close();
		await ctx2.close();
	});

	test('"Sign out all other sessions" asks for the password too', async () => {
		const user = await createUser();
		const ctx1 = await newContext(browser);
		const p1 = await newPage(ctx1);
		await signIn(p1, user);
		const ctx2 = await newContext(browser, { userAgent: UA.safariIphone });
		const p2 = await newPage(ctx2);
		await signIn(p2, user);
		const id2 = await currentSessionId(p2);
		await makeAuthOld(await currentSessionId(p1));

		await p1.reload();
		await waitForList(p1);
		await p1.getByRole('button', { name: 'Sign out all other sessions' }).click();
		const dlg = dialog(p1);
		await dlg.getByRole('button', { name: 'Confirm' }).click();
		const pw = dlg.getByLabel('Your password');
		await pw.waitFor();
		await pw.fill(user.password);
		await dlg.getByRole('button', { name: 'Confirm' }).click();
		await dlg.waitFor({ state: 'hidden' });
		await eventually(async () => assert.match(await liveRegion(p1).textContent(),
		    /Signed out 1 other session\./));
		assert.equal((await sessionRow(id2)).revoke_reason, 'others');
		p1.assertClean();
		await ctx1.close();
		await ctx2.close();
	});
});
