// The sign-in page: the form, its errors, where it goes afterwards.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
	BASE, SESSIONS_PATH, checkA11y, createUser, focused, launch, newContext,
	newPage, shot, signIn, waitForList,
} from './lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

async function fresh() {
	const ctx = await newContext(browser);
	return { ctx, page: await newPage(ctx) };
}

describe('sign-in page', () => {
	test('the form is labelled and accessible', async () => {
		const { ctx, page } = await fresh();
		await page.goto('/login');
		assert.equal(await page.title(), 'Sign in · Account');
		assert.equal(await page.getByLabel('Username').getAttribute('autocomplete'), 'username');
		assert.equal(await page.getByLabel('Password').getAttribute('type'), 'password');
		assert.equal(await page.getByLabel('Password').getAttribute('autocomplete'),
		    'current-password');
		assert.equal(await page.locator('form').getAttribute('method'), 'post',
		    'never a GET that would put the password in the address');
		assert.equal((await focused(page)).id, 'username');
		await shot(page, 'login');
		await checkA11y(page, 'login page');
		page.assertClean();
		await ctx.close();
	});

	test('without a session the sessions page sends you to /login and back', async () => {
		const user = await createUser();
		const { ctx, page } = await fresh();
		await page.goto(SESSIONS_PATH);
		await page.waitForURL((u) => u.pathname === '/login');
		assert.equal(new URL(page.url()).searchParams.get('next'), SESSIONS_PATH);
		await page.getByText('Sign in to continue.').waitFor();
		await page.getByLabel('Username').fill(user.name);
		await page.getByLabel('Password').fill(user.password);
		await Promise.all([
			page.waitForURL((u) => u.pathname === SESSIONS_PATH),
			page.getByRole('button', { name: 'Sign in' }).click(),
		]);
		await waitForList(page);
		page.assertClean();
		await ctx.close();
	});

	test('empty fields and a wrong password show errors', async () => {
		const user = await createUser();
		const { ctx, page } = await fresh();
		await page.goto('/login');
		await page.getByRole('button', { name: 'Sign in' }).click();
		await page.getByText('Enter your username.').waitFor();
		await page.getByText('Enter your password.').waitFor();
		assert.equal(await page.getByLabel('Username').getAttribute('aria-invalid'), 'true');
		assert.equal((await focused(page)).id, 'username');

		// One wrong password (the per-IP throttle is shared: keep it at one).
		await page.getByLabel('Username').fill(user.name);
		await page.getByLabel('Password').fill('not-the-password');
		const answer = page.waitForResponse((r) => r.url().includes('/api/auth/login/'));
		await page.getByRole('button', { name: 'Sign in' }).click();
		assert.equal((await answer).status(), 401);
		const alert = page.getByRole('alert');
		await alert.getByText('The username or password is not correct.').waitFor();
		assert.equal(new URL(page.url()).pathname, '/login');
		assert.equal(await page.getByLabel('Password').inputValue(), '');
		assert.equal((await focused(page)).id, 'password');
		await shot(page, 'login-error');
		await checkA11y(page, 'login page, wrong password');

		await page.getByLabel('Password').fill(user.password);
		await Promise.all([
			page.waitForURL((u) => u.pathname === SESSIONS_PATH),
			page.getByRole('button', { name: 'Sign in' }).click(),
		]);
		page.assertClean();
		await ctx.close();
	});

	test('too many attempts: 429 with Retry-After is shown', async () => {
		// The real limit is 10 failures per user name; reaching it costs
		// as many failures against the shared per-IP budget, so this test
		// answers the one request itself, the way the API does.
		const { ctx, page } = await fresh();
		await page.route('**/api/auth/login/', (route) => route.fulfill({
			status: 429,
			headers: { 'Retry-After': '600', 'Cache-Control': 'no-store' },
			contentType: 'application/json',
			body: JSON.stringify({ error: { code: 'too_many_requests',
			    message: 'Too many failed attempts; try again later.' } }),
		}));
		await page.goto('/login');
		await page.getByLabel('Username').fill('someone');
		await page.getByLabel('Password').fill('whatever-password');
		await page.getByRole('button', { name: 'Sign in' }).click();
		await page.getByRole('alert').getByText(
		    /^Too many sign-in attempts\. Try again in 10 minutes \(after \d\d:\d\d\)\.$/)
		    .waitFor();
		assert.equal(new URL(page.url()).pathname, '/login');
		await shot(page, 'login-too-many-attempts');
		await checkA11y(page, 'login page, too many attempts');
		page.assertClean();
		await ctx.close();
	});

	test('next: only same-site paths are followed', async () => {
		const user = await createUser();
		const { ctx, page } = await fresh();
		// Two real sign-ins: a same-site path is followed, a
		// protocol-relative one is not.
		for (const [next, want] of [
			['/settings/sessions?tab=1#top', '/settings/sessions?tab=1#top'],
			['//evil.example/x', SESSIONS_PATH],
		]) {
			await signIn(page, user, { next });
			const u = new URL(page.url());
			assert.equal(u.origin, new URL(BASE).origin);
			assert.equal(u.pathname + u.search + u.hash, want, `next=${JSON.stringify(next)}`);
		}
		// The rest through the very check the form uses (each sign-in
		// costs a password hash; the check is what decides).
		const cases = {
			'/settings/sessions': '/settings/sessions',
			'/a/b?c=d#e': '/a/b?c=d#e',
			'//evil.example/x': null,
			'/\\evil.example/x': null,
			'/\tevil': null,
			'/\t/evil.example': null,
			'/\n/evil.example': null,
			'https://evil.example/': null,
			'http:evil.example': null,
			'javascript:alert(1)': null,
			'evil.example': null,
			'': null,
			'/login': null,
			'/login?next=/x': null,
		};
		const got = await page.evaluate(async (inputs) => {
			const m = await import('/assets/js/api.js');
			return inputs.map((v) => m.safeNextPath(v));
		}, Object.keys(cases));
		assert.deepEqual(Object.fromEntries(Object.keys(cases).map((k, i) => [k, got[i]])), cases);

		// And an unsafe next on the form itself never leaves the site.
		await page.goto(`/login?next=${encodeURIComponent('/\\evil.example/x')}`);
		await page.getByLabel('Username').fill(user.name);
		await page.getByLabel('Password').fill(user.password);
		await Promise.all([
			page.waitForURL((u) => u.pathname !== '/login'),
			page.getByRole('button', { name: 'Sign in' }).click(),
		]);
		assert.equal(new URL(page.url()).origin, new URL(BASE).origin);
		assert.equal(new URL(page.url()).pathname, SESSIONS_PATH);
		page.assertClean();
		await ctx.close();
	});
});
