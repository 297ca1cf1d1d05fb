// Section 4: the security-alert mail. A real SMTP server (aiosmtpd, in
// tests/integration/smtpd.py) with STARTTLS on a certificate made here and
// AUTH required after it; a notifier of the sanitizer build pointed at it,
// beside the stack (the stack's own settings are not touched). Each test
// uses its own users and addresses, so that the per-user limit of one
// test does not reach another.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync }
    from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ROOT } from '../common.mjs';
import {
	api, as, assertStatus, clearIpFailures, closeDb, createUser,
	eventually, login, sessionctl, sleep, sql, uniq,
} from './lib.mjs';

const BUILD = process.env.BUILD ?? path.join(ROOT, 'build/asan');
const SITE = 'https://sessions.example.test';
const FROM = 'alerts@sessiond.test';
const LIMIT = 2, WINDOW_S = 6;
const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) ' +
    'Gecko/20100101 Firefox/133.0';
const BERLIN = '192.0.2.44'; // the test GeoIP database's Berlin range

let dir, box, port, smtpd, notifier, notifierLog = '';

function startSmtpd() {
	return new Promise((resolve, reject) => {
		const p = spawn('/usr/bin/python3', [
		    path.join(ROOT, 'tests/integration/smtpd.py'), String(port),
		    `${dir}/cert.pem`, `${dir}/key.pem`, box], {
			stdio: ['ignore', 'pipe', 'pipe'],
			env: { ...process.env, TEST_SMTP_USER: 'sessiond',
			    TEST_SMTP_PASSWORD: 'relay secret' },
		});
		let err = '';
		p.stderr.on('data', (d) => { err += d; });
		p.stdout.on('data', (d) => {
			if (String(d).includes('ready'))
				resolve(p);
		});
		p.on('exit', (code) => reject(new Error(
		    `smtpd exited ${code}: ${err}`)));
	});
}

function stopProcess(p) {
	return new Promise((resolve) => {
		if (p.exitCode !== null || p.signalCode !== null)
			return resolve();
		p.on('exit', () => resolve());
		p.kill('SIGTERM');
	});
}

// The messages in the box to addr, parsed: { envelope, headers, body }.
function mailsTo(addr) {
	const out = [];
	for (const f of readdirSync(box).filter((n) => n.endsWith('.eml'))
	    .sort()) {
		const text = readFileSync(path.join(box, f), 'utf8');
		const [first, ...rest] = text.split('\r\n');
		const envelope = first.replace(/^X-Envelope: /, '');
		const raw = rest.join('\r\n');
		const split = raw.indexOf('\r\n\r\n');
		const headers = raw.slice(0, split).split('\r\n');
		const body = raw.slice(split + 4);
		if (envelope.split(' -> ')[1].split(',').includes(addr))
			out.push({ envelope, headers, body, raw });
	}
	return out;
}

const header = (m, name) => m.headers.find((h) => h.toLowerCase()
    .startsWith(`${name.toLowerCase()}: `))?.slice(name.length + 2);

// Exactly n mails to addr, after waiting for them and a little more.
async function expectMails(addr, n, what) {
	if (n > 0)
		await eventually(() => assert.ok(mailsTo(addr).length >= n,
		    `${what}: ${n} mail(s) to ${addr}`), { timeout: 20000 });
	await sleep(1500); // a duplicate would have come by now
	const got = mailsTo(addr);
	assert.equal(got.length, n, `${what}: exactly ${n} mail(s)`);
	return got;
}

// A user with an alert address set by `sessionctl user email`.
async function userWithMail() {
	const u = await createUser();
	u.email = `${u.name}@example.test`;
	const r = await sessionctl(['user', 'email', u.name, u.email]);
	assert.equal(r.code, 0, r.stderr);
	return u;
}

function assertHeaders(m, addr, subject) {
	assert.equal(m.envelope, `${FROM} -> ${addr}`, 'envelope');
	assert.equal(header(m, 'To'), addr);
	assert.equal(header(m, 'From'), FROM);
	assert.equal(header(m, 'Subject'), subject);
	assert.match(header(m, 'Date'), /^\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d \+0000$/);
	assert.equal(header(m, 'Content-Type'), 'text/plain; charset=utf-8');
	const names = m.headers.map((h) => h.split(':')[0]).sort();
	assert.deepEqual(names, ['Auto-Submitted', 'Content-Transfer-Encoding',
	    'Content-Type', 'Date', 'From', 'MIME-Version', 'Message-ID',
	    'Subject', 'To'], 'only the headers we write');
	assert.ok(m.body.includes(`${SITE}/settings/sessions\r\n`),
	    'the link to the sessions page');
}

// An audit row written as sessiond would, straight into the table.
async function insertEvent(uid, event, extra = {}) {
	await sql('INSERT INTO audit_log (event, reason, user_id, ' +
	    'target_session_id, ip, user_agent, new_device) VALUES ($1, $2, ' +
	    '$3, gen_random_uuid(), $4, $5, $6)', [event, extra.reason ?? null,
	    uid, extra.ip ?? '203.0.113.9', extra.ua ?? FIREFOX,
	    extra.newDevice ?? null]);
}

before(async () => {
	await clearIpFailures();
	dir = mkdtempSync(path.join(tmpdir(), 'sessiond-mail-'));
	box = path.join(dir, 'box');
	execFileSync('mkdir', ['-p', box]);
	execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048',
	    '-nodes', '-keyout', `${dir}/key.pem`, '-out', `${dir}/cert.pem`,
	    '-days', '2', '-subj', '/CN=127.0.0.1',
	    '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
	port = 20000 + Math.floor(Math.random() * 20000);
	smtpd = await startSmtpd();
	writeFileSync(`${dir}/smtp-password`, 'relay secret\n', { mode: 0o600 });
	writeFileSync(`${dir}/notifier.conf`, [
		`smtp_url = smtp://127.0.0.1:${port}`,
		'smtp_user = sessiond',
		`smtp_password_file = ${dir}/smtp-password`,
		`smtp_ca_file = ${dir}/cert.pem`,
		`mail_from = ${FROM}`,
		`site_url = ${SITE}`,
		`mail_limit = ${LIMIT}`,
		`mail_limit_window = ${WINDOW_S}`,
		`notify_state_file = ${dir}/state`,
		'',
	].join('\n'));
	const env = { ...process.env };
	for (const k of Object.keys(env))
		if (k.startsWith('SESSIOND_'))
			delete env[k];
	notifier = spawn(`${BUILD}/sessiond-notifier`,
	    ['-c', `${dir}/notifier.conf`], { stdio: ['ignore', 'ignore', 'pipe'],
	    env });
	notifier.stderr.on('data', (d) => { notifierLog += d; });
	await eventually(() => assert.match(notifierLog, /msg=listening/),
	    { timeout: 15000 });
	assert.match(notifierLog, /mail=on/);
});

after(async () => {
	if (notifier)
		await stopProcess(notifier);
	if (smtpd)
		await stopProcess(smtpd);
	await closeDb();
	assert.doesNotMatch(notifierLog, /relay secret/, 'no secret in the log');
	assert.doesNotMatch(notifierLog, /ERROR: (Address|Undefined|Leak)Sanitizer|runtime error/);
	if (dir)
		rmSync(dir, { recursive: true, force: true });
});

test('a sign-in from a new browser mails the owner once; the same browser again, none', async () => {
	const u = await userWithMail();
	const first = await api('POST', '/api/auth/login/', {
		json: { username: u.name, password: u.password },
		headers: { 'User-Agent': FIREFOX,
		    'X-Test-Client-Address': BERLIN },
	});
	assertStatus(first, 200, 'login from a new browser');
	const [m] = await expectMails(u.email, 1, 'new device');
	assertHeaders(m, u.email, 'New sign-in to your account');
	for (const want of [`Hello ${u.name},`, 'Browser:  Firefox 133',
	    'OS:       Linux', 'Device:   Desktop', `IP:       ${BERLIN}`,
	    'Location: Berlin, Germany', '(UTC)'])
		assert.ok(m.body.includes(want), `body has ${want}:\n${m.body}`);

	// The same browser (its device cookie) signs in again: no mail.
	const again = await api('POST', '/api/auth/login/', {
		json: { username: u.name, password: u.password },
		headers: { 'User-Agent': FIREFOX }, device: first.device,
	});
	assertStatus(again, 200, 'login from the known browser');
	await expectMails(u.email, 1, 'known device');
	const { rows } = await sql("SELECT new_device FROM audit_log WHERE " +
	    "user_id = $1 AND event = 'session.created' ORDER BY id", [u.id]);
	assert.deepEqual(rows.map((r) => r.new_device), [true, false]);
});

test('a user without an address gets no mail, and a user add --email sets one', async () => {
	const name = uniq();
	const r = await sessionctl(['user', 'add', name, '--email',
	    `${name}@example.test`], 'correct horse battery staple\n');
	assert.equal(r.code, 0, r.stderr);
	const { rows } = await sql('SELECT email FROM users WHERE username = $1',
	    [name]);
	assert.equal(rows[0].email, `${name}@example.test`);

	const plain = await createUser();
	await login(plain);
	await sleep(1500);
	assert.equal(readdirSync(box).filter((f) => readFileSync(
	    path.join(box, f), 'utf8').includes(plain.name)).length, 0);
});

test('sessionctl refuses an address that could break a header, and changes nothing', async () => {
	const u = await userWithMail();
	for (const bad of ['a@b.co\r\nBcc: victim@example.test', 'no-at-sign',
	    '"quoted"@example.test', 'a@b', 'x'.repeat(250) + '@b.co',
	    'sp ace@example.test', 'a@b.co>']) {
		const r = await sessionctl(['user', 'email', u.name, bad]);
		assert.notEqual(r.code, 0, `refused: ${JSON.stringify(bad)}`);
		assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
		assert.match(r.stderr, /not a mail address/);
		const name = uniq();
		const add = await sessionctl(['user', 'add', name, '--email',
		    bad], 'correct horse battery staple\n');
		assert.notEqual(add.code, 0);
		assert.match(add.stderr, /not a mail address/);
		const { rows } = await sql('SELECT 1 FROM users WHERE ' +
		    'username = $1', [name]);
		assert.equal(rows.length, 0, 'no user made');
	}
	const { rows } = await sql('SELECT email FROM users WHERE id = $1',
	    [u.id]);
	assert.equal(rows[0].email, u.email, 'the address is unchanged');
	// The table refuses one too, whoever writes it.
	await assert.rejects(sql("UPDATE users SET email = 'a@b.co' || " +
	    "chr(13) || chr(10) || 'Bcc: x@y.zz' WHERE id = $1", [u.id]));
	// And "" takes the address away.
	const r = await sessionctl(['user', 'email', u.name, '']);
	assert.equal(r.code, 0, r.stderr);
	const after2 = await sql('SELECT email FROM users WHERE id = $1', [u.id]);
	assert.equal(after2.rows[0].email, null);
});

test('signing out all others from another session: one mail for all of them', async () => {
	const u = await userWithMail();
	const a = await login(u, { headers: { 'User-Agent': FIREFOX } });
	await expectMails(u.email, 1, 'the first sign-in');
	for (let i = 0; i < 2; i++) {
		const r = await api('POST', '/api/auth/login/', {
			json: { username: u.name, password: u.password },
			device: a.res.device,
		});
		assertStatus(r, 200);
	}
	const r = await as(a).del('/api/auth/sessions/',
	    { headers: { 'User-Agent': FIREFOX } });
	assertStatus(r, 200, 'revoke others');
	assert.deepEqual(r.body, { revoked: 2 });
	const mails = await expectMails(u.email, 2, 'ended sessions');
	assertHeaders(mails[1], u.email,
	    'Sessions of your account were signed out');
	assert.match(mails[1].body, /2 sessions of your account were signed out at \S+ \(UTC\) from Firefox 133 on Linux \(Desktop\) at 127\.0\.0\.1\.\r\n/);
});

test('a password change by an administrator: one mail naming the sessions it ended', async () => {
	const u = await userWithMail();
	await insertSessions2(u.id, 2);
	const r = await sessionctl(['user', 'passwd', u.name],
	    'a brand new passphrase 42\n');
	assert.equal(r.code, 0, r.stderr);
	const [m] = await expectMails(u.email, 1, 'password changed');
	assertHeaders(m, u.email, 'Your password was changed');
	assert.match(m.body, /by an administrator\.\r\n2 other sessions were signed out with it\./);
});

// Two active sessions inserted directly (no sign-in mail).
async function insertSessions2(uid, n) {
	for (let i = 0; i < n; i++)
		await sql('INSERT INTO sessions (user_id, token_hash, ' +
		    'absolute_expires_at) VALUES ($1, sha256(random()::text::bytea), ' +
		    "now() + interval '1 day')", [uid]);
}

test('hostile user agents stay in the body, cleaned; the envelope and headers are ours', async () => {
	const u = await userWithMail();
	await insertEvent(u.id, 'session.created', { newDevice: true,
	    ua: 'Evil\r\nBcc: victim@example.test\r\n\r\n.\r\nRCPT TO:<x@y.zz>',
	    ip: '198.51.100.9' });
	const [m] = await expectMails(u.email, 1, 'hostile agent');
	assertHeaders(m, u.email, 'New sign-in to your account');
	assert.ok(!m.raw.includes('\nBcc:'));
	assert.ok(!m.raw.includes('\nRCPT TO'));
	assert.equal(mailsTo('victim@example.test').length, 0);
	assert.equal(mailsTo('x@y.zz').length, 0);
	// Every line ends in CRLF.
	assert.doesNotMatch(m.raw, /[^\r]\n|\r[^\n]/);
});

test('a refused address does not hold up the others', async () => {
	const bad = await createUser();
	const email = `refused-${bad.name}@example.test`;
	assert.equal((await sessionctl(['user', 'email', bad.name, email]))
	    .code, 0);
	const good = await userWithMail();
	await insertEvent(bad.id, 'session.created', { newDevice: true });
	await insertEvent(good.id, 'session.created', { newDevice: true });
	await expectMails(good.email, 1, 'the next user still gets theirs');
	assert.equal(mailsTo(email).length, 0);
	await eventually(() => assert.match(notifierLog,
	    new RegExp(`alert mail refused" user_id=${bad.id} `)));
});

test('a flood for one user: mail_limit mails, then one summary when the window has room', async () => {
	const u = await userWithMail();
	for (let i = 0; i < LIMIT + 3; i++)
		await insertEvent(u.id, 'session.created', { newDevice: true,
		    ip: `203.0.113.${i + 1}` });
	await expectMails(u.email, LIMIT, 'up to the limit');
	await eventually(() => assert.match(notifierLog, new RegExp(
	    `alert held back for a summary" user_id=${u.id} held=3`)));
	const mails = await expectMails(u.email, LIMIT + 1, 'the summary');
	const s = mails[LIMIT];
	assertHeaders(s, u.email, 'Security alerts for your account');
	assert.match(s.body, /These 3 were held back/);
	for (let i = LIMIT; i < LIMIT + 3; i++)
		assert.ok(s.body.includes(`203.0.113.${i + 1}`), s.body);
});

test('the mail server away: the alert is retried and arrives once', async () => {
	const u = await userWithMail();
	await stopProcess(smtpd);
	const r = await api('POST', '/api/auth/login/', {
		json: { username: u.name, password: u.password },
		headers: { 'User-Agent': FIREFOX },
	});
	assertStatus(r, 200, 'sign-in does not wait for mail');
	await eventually(() => assert.match(notifierLog,
	    /mail server unavailable; retrying/));
	assert.equal(mailsTo(u.email).length, 0);
	smtpd = await startSmtpd();
	const [m] = await expectMails(u.email, 1, 'after the server is back');
	assertHeaders(m, u.email, 'New sign-in to your account');
	await eventually(() => assert.match(notifierLog, /mail server back/));
});
