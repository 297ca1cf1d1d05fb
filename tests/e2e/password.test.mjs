// The password form on /settings/sessions: rules shown before typing,
// each refusal next to its field, "Sign out all other sessions" ticked by
// default, success announced in the polite live region and the list
// reloaded; keyboard only, labelled, axe clean.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
	UA, checkA11y, createUser, currentSessionId, eventually, focused, launch,
	liveRegion, newContext, newPage, sessionRow, sessionRows, shot, signIn,
	sql, uniq, waitForList,
} from './lib.mjs';

const NEW_PASSWORD = 'zebra quill morning tea';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

describe('password change', () => {
	test('rules up front, refusals next to the field, then the change signs out the others', async () => {
		const user = await createUser(uniq('e2epw'));
		const ctx1 = await newContext(browser);
		const p1 = await newPage(ctx1);
		await signIn(p1, user);
		const ctx2 = await newContext(browser, { userAgent: UA.firefoxWindows });
		const p2 = await newPage(ctx2);
		await signIn(p2, user);
		const id2 = await currentSessionId(p2);
		await p1.reload();
		await waitForList(p1);
		assert.equal(await sessionRows(p1).count(), 2);

		const current = p1.getByLabel('Current password');
		const next = p1.getByLabel('New password');
		const others = p1.getByLabel('Sign out all other sessions');
		assert.equal(await current.getAttribute('type'), 'password');
		assert.equal(await current.getAttribute('autocomplete'), 'current-password');
		assert.equal(await next.getAttribute('autocomplete'), 'new-password');
		assert.ok(await others.isChecked(), 'ticked by default');
		// The rules are on the page before anything is typed.
		const rules = await p1.locator('#password-rules').textContent();
		assert.match(rules, /12 to 128 characters/);
		assert.match(rules, /user name/);
		assert.match(rules, /commonly used/);
		await checkA11y(p1, 'sessions page with the password form');

		// Keyboard only: type, Tab, type, Enter.
		await current.focus();
		await p1.keyboard.type(user.password);
		await p1.keyboard.press('Tab');
		assert.equal((await focused(p1)).id, 'new-password');
		await p1.keyboard.type('short');
		await p1.keyboard.press('Enter');
		const nextError = p1.locator('#new-password-error');
		await eventually(async () => assert.match(await nextError.textContent(),
		    /at least 12 characters/));
		assert.equal(await next.getAttribute('aria-invalid'), 'true');
		assert.equal((await focused(p1)).id, 'new-password');

		// A refusal from the server: a common password.
		await next.fill('password1234');
		let answer = p1.waitForResponse((r) => r.url().includes('/api/auth/password/'));
		await p1.getByRole('button', { name: 'Change password' }).click();
		let res = await answer;
		assert.equal(res.status(), 400);
		assert.equal((await res.json()).error.code, 'weak_password');
		await eventually(async () => assert.match(await nextError.textContent(),
		    /commonly used/));
		await shot(p1, 'password-form-refused');
		await checkA11y(p1, 'password form with a refusal');

		// A wrong current password: the error is next to that field.
		await current.fill('not my password at all');
		await next.fill(NEW_PASSWORD);
		answer = p1.waitForResponse((r) => r.url().includes('/api/auth/password/'));
		await p1.getByRole('button', { name: 'Change password' }).click();
		res = await answer;
		assert.equal(res.status(), 401);
		const currentError = p1.locator('#current-password-error');
		await eventually(async () => assert.match(await currentError.textContent(),
		    /not your current password/));
		assert.equal(await current.getAttribute('aria-invalid'), 'true');
		assert.ok(await nextError.isHidden(), 'the other field is clear');
		assert.equal((await sessionRow(id2)).revoked_at, null);

		// The right one: 204, announced, the list reloads without the other.
		await current.fill(user.password);
		await current.press('Enter');
		await eventually(async () => assert.match(await liveRegion(p1).textContent(),
		    /password was changed and every other session was signed out/));
		await eventually(async () => assert.equal(await sessionRows(p1).count(), 1));
		assert.equal((await sessionRow(id2)).revoke_reason, 'password_changed');
		assert.equal(await current.inputValue(), '', 'the form is cleared');
		await eventually(async () => assert.match(
		    await p1.locator('#activity-list').textContent(), /Password changed/));
		await shot(p1, 'password-changed');
		await checkA11y(p1, 'after the change');

		// The other browser is signed out; the new password works there.
		await p2.reload();
		await p2.waitForURL((u) => u.pathname === '/login');
		await signIn(p2, { name: user.name, password: NEW_PASSWORD });
		p1.assertClean();
		await ctx1.close();
		await ctx2.close();
	});

	test('unticking "Sign out all other sessions" keeps them', async () => {
		const user = await createUser(uniq('e2epwkeep'));
		const ctx1 = await newContext(browser);
		const p1 = await newPage(ctx1);
		await signIn(p1, user);
		const ctx2 = await newContext(browser, { userAgent: UA.safariIphone });
		const p2 = await newPage(ctx2);
		await signIn(p2, user);
		const id2 = await currentSessionId(p2);
		await p1.reload();
		await waitForList(p1);
		await p1.getByLabel('Current password').fill(user.password);
		await p1.getByLabel('New password').fill(NEW_PASSWORD);
		await p1.getByLabel('Sign out all other sessions').uncheck();
		await p1.getByRole('button', { name: 'Change password' }).click();
		await eventually(async () => assert.match(await liveRegion(p1).textContent(),
		    /Your other sessions stay signed in/));
		assert.equal((await sessionRow(id2)).revoked_at, null);
		assert.equal(await sessionRows(p1).count(), 2);
		assert.ok(await p1.getByLabel('Sign out all other sessions').isChecked(),
		    'ticked again for next time');
		p1.assertClean();
		await ctx1.close();
		await ctx2.close();
	});

	test('the activity says when sign-ins are being throttled', async () => {
		const user = await createUser(uniq('e2ethrottled'));
		const ctx = await newContext(browser);
		const p = await newPage(ctx);
		await signIn(p, user);
		await waitForList(p);
		const notice = p.locator('#activity-throttled');
		assert.ok(await notice.isHidden(), 'no notice without failures');
		// Ten failed sign-ins, as the server audits them.
		await sql("INSERT INTO audit_log (event, reason, user_id, username, " +
		    "ip, user_agent) SELECT 'login.failed', 'login', u.id, " +
		    "u.username, '203.0.113.9', 'curl/8' FROM users u, " +
		    'generate_series(1, 10) WHERE u.username = $1', [user.name]);
		await p.reload();
		await waitForList(p);
		await notice.waitFor();
		assert.match(await notice.textContent(), /wrong passwords/);
		await shot(p, 'activity-throttled');
		await checkA11y(p, 'throttled notice');
		p.assertClean();
		await ctx.close();
	});
});
