// /settings/sessions: the Active Sessions page.
//
// Every value that comes from the API is written with textContent or
// setAttribute; nothing here builds HTML from strings.
import {
	api, ApiError, describeFailure, formatDuration, goToLogin, isSignedOut,
	setCsrfToken,
} from './api.js';
import { setNotice } from './dom.js';
import { setupPasswordForm } from './password.js';
import {
	addressText, deviceIcon, deviceKind, deviceName, ipText, needsRawAgent,
	refreshTimes, setTime,
} from './format.js';

const PAGE_SIZE = 100;		// sessions per request (the API's maximum)
const ACTIVITY_PAGE = 20;	// audit events per request
const RECHECK_GAP_MS = 2000;	// at most one focus/visibility re-check per gap
const THROTTLE_WINDOW_S = 15 * 60;	// the server's default login_window
const THROTTLE_SHOWN_AT = 10;	// failed sign-ins in it that get a notice

const $ = (id) => document.getElementById(id);
const el = {
	account: $('account'),
	accountName: $('account-name'),
	signOut: $('sign-out'),
	announcer: $('announcer'),
	card: $('sessions-card'),
	heading: $('sessions-heading'),
	count: $('sessions-count'),
	revokeOthers: $('revoke-others'),
	loading: $('sessions-loading'),
	error: $('sessions-error'),
	errorText: $('sessions-error-text'),
	retry: $('sessions-retry'),
	list: $('sessions-list'),
	empty: $('sessions-empty'),
	template: $('session-template'),
	activityCard: $('activity-card'),
	activityHeading: $('activity-heading'),
	activityLoading: $('activity-loading'),
	activityError: $('activity-error'),
	activityErrorText: $('activity-error-text'),
	activityRetry: $('activity-retry'),
	activityEmpty: $('activity-empty'),
	activityThrottled: $('activity-throttled'),
	activityList: $('activity-list'),
	activityMoreWrap: $('activity-more-wrap'),
	activityMore: $('activity-more'),
	dialog: $('revoke-dialog'),
	dialogForm: $('dialog-form'),
	dialogTitle: $('dialog-title'),
	dialogDesc: $('dialog-desc'),
	dialogTarget: $('dialog-target'),
	dialogDevice: $('dialog-device'),
	dialogIp: $('dialog-ip'),
	dialogSeen: $('dialog-seen'),
	dialogMessage: $('dialog-message'),
	reauth: $('dialog-reauth'),
	reauthUsername: $('reauth-username'),
	reauthPassword: $('reauth-password'),
	reauthError: $('reauth-error'),
	cancel: $('dialog-cancel'),
	confirm: $('dialog-confirm'),
};

const state = {
	me: null,		// { user, session } from current-session
	sessions: [],
	phase: 'loading',	// loading | ready | error
	loadSeq: 0,
	leaving: false,
	events: [],
	activityCursor: null,
	activitySeq: 0,
	activityBusy: false,
};

// ---- Small helpers ---------------------------------------------------

function leave(reason) {
	if (state.leaving) return;
	state.leaving = true;
	if (el.dialog.open) el.dialog.close();
	goToLogin({ reason });
}

// A signed-out answer ends the page; true when it did.
function leftOn(err) {
	if (!isSignedOut(err)) return false;
	// Had we been showing this account, the session ended under us.
	leave(state.me !== null ? 'ended' : null);
	return true;
}

function applyCurrent(cur) {
	if (cur === null || typeof cur !== 'object' || cur.session === null ||
	    typeof cur.session !== 'object')
		throw new ApiError(200, 'bad_response',
		    'The server sent an answer this page cannot read.');
	setCsrfToken(cur.csrf_token);
	state.me = { user: cur.user ?? {}, session: cur.session };
	const name = typeof cur.user?.username === 'string' ? cur.user.username : '';
	el.accountName.textContent = name;
	el.accountName.setAttribute('title', name);
	el.reauthUsername.value = name;
	el.account.hidden = name === '';
}

async function fetchCurrent() {
	applyCurrent(await api('/api/users/me/current-session/'));
}

// POST/DELETE; a stale CSRF token is refreshed once and the call retried.
async function unsafe(path, opts) {
	try {
		return await api(path, opts);
	} catch (err) {
		if (!(err instanceof ApiError) || err.status !== 403 ||
		    err.code !== 'csrf_failed')
			throw err;
		await fetchCurrent();
		return api(path, opts);
	}
}

function isCurrent(s) {
	return s.current === true ||
	    (state.me !== null && s.id === state.me.session.id);
}

function plural(n, word) {
	return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function setBusyButton(btn, busy, busyText = null) {
	if (busy) {
		btn.dataset.idleText ??= btn.textContent;
		if (busyText !== null) btn.textContent = busyText;
		btn.setAttribute('aria-disabled', 'true');
	} else {
		if (btn.dataset.idleText !== undefined) {
			btn.textContent = btn.dataset.idleText;
			delete btn.dataset.idleText;
		}
		btn.removeAttribute('aria-disabled');
	}
}

function isBusy(btn) {
	return btn.getAttribute('aria-disabled') === 'true';
}

// The polite live region: a fresh child each time, so that the same
// sentence twice is still announced twice.
let announceTimer = 0;
function announce(message, kind = 'success') {
	setNotice(el.announcer, '');
	window.clearTimeout(announceTimer);
	announceTimer = window.setTimeout(
	    () => setNotice(el.announcer, message, kind), 50);
}

// ---- The session list ------------------------------------------------

async function fetchAllSessions() {
	const all = [];
	const seen = new Set();
	let cursor = null;
	for (let pages = 0; pages < 1000; pages++) {
		const q = new URLSearchParams({ limit: String(PAGE_SIZE) });
		if (cursor !== null) q.set('cursor', cursor);
		const page = await api(`/api/auth/sessions/?${q}`);
		if (!Array.isArray(page.sessions))
			throw new ApiError(200, 'bad_response',
			    'The server sent an answer this page cannot read.');
		for (const s of page.sessions) {
			if (s === null || typeof s !== 'object' ||
			    typeof s.id !== 'string' || seen.has(s.id))
				continue;
			seen.add(s.id);
			all.push(s);
		}
		cursor = typeof page.next_cursor === 'string' &&
		    page.next_cursor !== '' ? page.next_cursor : null;
		if (cursor === null) break;
	}
	// Newest first (the API's order; sort is stable for equal times).
	const t = (s) => Date.parse(s.created_at) || 0;
	return all.sort((a, b) => t(b) - t(a));
}

function showSessions(which) {
	el.loading.hidden = which !== 'loading';
	el.error.hidden = which !== 'error';
	el.list.hidden = which !== 'list';
	el.card.setAttribute('aria-busy', which === 'loading' ? 'true' : 'false');
	if (which !== 'list') {
		el.empty.hidden = true;
		el.revokeOthers.hidden = true;
		el.count.textContent = '';
	}
}

function sessionItem(s) {
	const li = el.template.content.firstElementChild.cloneNode(true);
	const current = isCurrent(s);
	const name = deviceName(s);
	li.dataset.sessionId = s.id;
	li.classList.toggle('is-current', current);
	li.querySelector('use').setAttribute('href', `#i-${deviceIcon(s)}`);

	const nameEl = li.querySelector('.session-name');
	nameEl.textContent = name;
	if (typeof s.user_agent === 'string' && s.user_agent !== '')
		nameEl.setAttribute('title', s.user_agent);
	if (current) {
		const badge = document.createElement('span');
		badge.className = 'badge badge-current';
		badge.textContent = 'This device';
		li.querySelector('.session-title').append(badge);
	}
	li.querySelector('.f-device').textContent = deviceKind(s);
	li.querySelector('.f-ip').textContent = addressText(s);
	setTime(li.querySelector('.f-created'), s.created_at);
	setTime(li.querySelector('.f-seen'), s.last_seen_at);
	if (needsRawAgent(s)) {
		li.querySelector('.session-ua').hidden = false;
		li.querySelector('.f-ua').textContent =
		    typeof s.user_agent === 'string' && s.user_agent !== '' ?
		    s.user_agent : '(none sent)';
	}
	const btn = li.querySelector('.btn-revoke');
	li.querySelector('.f-revoke-label').textContent = current ?
	    ` this device (${name})` : ` ${name}, ${ipText(s.ip)}`;
	btn.addEventListener('click', () => openRevoke(s, btn));
	return li;
}

function renderSessions() {
	// Keep focus on the same session's button across a re-render.
	const active = document.activeElement;
	const focusedId = active instanceof Element && el.list.contains(active) ?
	    active.closest('[data-session-id]')?.dataset.sessionId : undefined;

	el.list.replaceChildren(...state.sessions.map(sessionItem));
	showSessions('list');
	const others = state.sessions.filter((s) => !isCurrent(s)).length;
	el.count.textContent = `${plural(state.sessions.length, 'active session')}`;
	el.empty.hidden = others !== 0;
	el.revokeOthers.hidden = others === 0;

	if (focusedId !== undefined) {
		const again = [...el.list.querySelectorAll('[data-session-id]')]
		    .find((li) => li.dataset.sessionId === focusedId);
		(again?.querySelector('.btn-revoke') ?? el.heading).focus();
	}
}

function showSessionsError(err) {
	el.errorText.textContent = describeFailure(err);
	showSessions('error');
}

// mode: initial | retry | reload (after an action) | refresh (quiet, on
// focus or visibility; a failure leaves the list as it was).
async function loadSessions(mode) {
	const seq = ++state.loadSeq;
	if (mode === 'initial') showSessions('loading');
	if (mode === 'retry') setBusyButton(el.retry, true, 'Retrying…');
	try {
		await fetchCurrent();
		// A quiet refresh keeps extra activity pages the person opened.
		if (mode !== 'refresh' || state.events.length <= ACTIVITY_PAGE)
			loadActivity();
		const sessions = await fetchAllSessions();
		if (seq !== state.loadSeq || state.leaving) return;
		state.sessions = sessions;
		state.phase = 'ready';
		const hadFocus = el.error.contains(document.activeElement);
		setBusyButton(el.retry, false);
		renderSessions();
		if (hadFocus) el.heading.focus();
	} catch (err) {
		if (seq !== state.loadSeq || leftOn(err)) return;
		setBusyButton(el.retry, false);
		if (mode === 'refresh') return;
		if (!(err instanceof ApiError)) console.error(err);
		state.phase = 'error';
		const hadFocus = el.error.contains(document.activeElement);
		showSessionsError(err);
		el.activityCard.hidden = true;
		if (hadFocus || mode === 'retry') el.retry.focus();
		if (mode === 'retry') announce('Still unable to load your sessions.', 'error');
		return;
	}
	el.activityCard.hidden = false;
}

// ---- Recent security activity ---------------------------------------

const REVOKE_TEXT = {
	user: 'Session revoked',
	logout: 'Signed out',
	others: 'Signed out of other sessions',
	evicted: 'Session ended: too many sessions',
	admin: 'Session revoked by an administrator',
	expired: 'Session expired',
	password_changed: 'Signed out by a password change',
};

function eventTitle(e, count) {
	const me = state.me?.session.id;
	switch (e.event) {
	case 'session.created':
		return e.target_session_id === me ? 'Signed in on this device' : 'Signed in';
	case 'session.revoked':
		if (e.reason === 'others')
			return `Signed out of ${plural(count, 'other session')}`;
		if (e.reason === 'password_changed')
			return `Password change signed out ${plural(count, 'other session')}`;
		if (e.reason === 'user' && e.session_id !== null &&
		    e.session_id === e.target_session_id)
			return 'Signed out';
		if (e.reason === 'user' && e.session_id === me)
			return 'Revoked a session from this device';
		return REVOKE_TEXT[e.reason] ?? 'Session ended';
	case 'login.failed':
		if (e.reason === 'reauth')
			return 'Wrong password when confirming it was you';
		if (e.reason === 'password')
			return 'Wrong current password when changing it';
		return 'Failed sign-in attempt';
	case 'session.reauthenticated':
		return 'Confirmed your password';
	case 'password.changed':
		return e.reason === 'admin' ? 'Password set by an administrator' :
		    'Password changed';
	default:
		return typeof e.event === 'string' ? e.event : 'Security event';
	}
}

function eventKind(e) {
	if (e.event === 'session.created' ||
	    e.event === 'session.reauthenticated' ||
	    e.event === 'password.changed') return 'is-signin';
	if (e.event === 'login.failed') return 'is-failed';
	return 'is-revoke';
}

// "Sign out all other sessions" and a password change write one event
// per session: show one.
function groupEvents(events) {
	const out = [];
	for (const e of events) {
		const last = out[out.length - 1];
		if (last !== undefined && e.event === 'session.revoked' &&
		    (e.reason === 'others' || e.reason === 'password_changed') &&
		    last.e.event === e.event &&
		    last.e.reason === e.reason && last.e.session_id === e.session_id) {
			last.count++;
			continue;
		}
		out.push({ e, count: 1 });
	}
	return out;
}

function activityItem({ e, count }) {
	const li = document.createElement('li');
	li.className = 'activity';
	const dot = document.createElement('span');
	dot.className = `activity-dot ${eventKind(e)}`;
	dot.setAttribute('aria-hidden', 'true');
	const main = document.createElement('div');
	main.className = 'activity-main';
	const title = document.createElement('span');
	title.className = 'activity-title';
	title.textContent = eventTitle(e, count);

	const meta = document.createElement('span');
	meta.className = 'activity-meta';
	const parts = [];
	const time = document.createElement('time');
	setTime(time, e.at);
	parts.push(time);
	const hasAgent = typeof e.user_agent === 'string' && e.user_agent !== '';
	if (hasAgent) {
		const dev = document.createElement('span');
		const kind = deviceKind(e);
		dev.textContent = deviceName(e) +
		    (kind !== 'Unknown device' ? ` (${kind})` : '');
		dev.setAttribute('title', e.user_agent);
		parts.push(dev);
	}
	if (typeof e.ip === 'string' && e.ip !== '') {
		const ip = document.createElement('span');
		ip.textContent = `IP ${addressText(e)}`;
		parts.push(ip);
	}
	parts.forEach((node, i) => {
		if (i > 0) {
			const sep = document.createElement('span');
			sep.className = 'sep';
			sep.setAttribute('aria-hidden', 'true');
			sep.textContent = '·';
			meta.append(sep);
		}
		meta.append(node);
	});
	main.append(title, meta);
	li.append(dot, main);
	return li;
}

// Recent failed sign-ins (the server counts them the same way): past the
// per-user-name limit, new browsers are being held back.
function throttled(events) {
	const since = Date.now() / 1000 - THROTTLE_WINDOW_S;
	return events.filter((e) => e.event === 'login.failed' &&
	    Date.parse(e.at) / 1000 > since).length >= THROTTLE_SHOWN_AT;
}

function renderActivity() {
	const groups = groupEvents(state.events);
	el.activityThrottled.hidden = !throttled(state.events);
	el.activityList.replaceChildren(...groups.map(activityItem));
	el.activityLoading.hidden = true;
	el.activityError.hidden = true;
	el.activityList.hidden = groups.length === 0;
	el.activityEmpty.hidden = groups.length !== 0;
	el.activityMoreWrap.hidden = state.activityCursor === null;
	el.activityCard.setAttribute('aria-busy', 'false');
}

async function loadActivity({ more = false } = {}) {
	const seq = ++state.activitySeq;
	const retrying = !el.activityError.hidden;
	if (more) setBusyButton(el.activityMore, true, 'Loading…');
	else if (retrying) setBusyButton(el.activityRetry, true, 'Retrying…');
	else if (state.events.length === 0) {
		el.activityLoading.hidden = false;
		el.activityCard.setAttribute('aria-busy', 'true');
	}
	try {
		const q = new URLSearchParams({ limit: String(ACTIVITY_PAGE) });
		if (more && state.activityCursor !== null)
			q.set('cursor', state.activityCursor);
		const page = await api(`/api/auth/audit/?${q}`);
		if (seq !== state.activitySeq) return;
		const events = Array.isArray(page.events) ?
		    page.events.filter((e) => e !== null && typeof e === 'object') : [];
		state.events = more ? state.events.concat(events) : events;
		state.activityCursor = typeof page.next_cursor === 'string' &&
		    page.next_cursor !== '' ? page.next_cursor : null;
		const hadFocus = el.activityError.contains(document.activeElement) ||
		    el.activityMoreWrap.contains(document.activeElement);
		setBusyButton(el.activityMore, false);
		setBusyButton(el.activityRetry, false);
		renderActivity();
		if (hadFocus && el.activityMoreWrap.hidden) el.activityHeading.focus();
	} catch (err) {
		if (seq !== state.activitySeq || leftOn(err)) return;
		setBusyButton(el.activityMore, false);
		setBusyButton(el.activityRetry, false);
		if (more) {
			announce(`More activity could not be loaded. ${describeFailure(err)}`, 'error');
			return;
		}
		el.activityErrorText.textContent =
		    `Activity could not be loaded. ${describeFailure(err)}`;
		el.activityLoading.hidden = true;
		el.activityList.hidden = true;
		el.activityEmpty.hidden = true;
		el.activityMoreWrap.hidden = true;
		el.activityError.hidden = false;
		el.activityCard.setAttribute('aria-busy', 'false');
	}
}

// ---- The confirmation dialog ----------------------------------------

const dlg = {
	mode: null,		// 'one' | 'others'
	target: null,		// the session object, mode 'one'
	opener: null,		// the button to give focus back to
	returnFocus: null,	// overrides opener (the opener is going away)
	phase: 'confirm',	// confirm | reauth | done
	busy: false,
	reloadOnClose: false,
	statusSeq: 0,
};

function setDialogMessage(text, kind = 'info') {
	setNotice(el.dialogMessage, text, kind);
}

function setReauthError(text) {
	el.reauthError.textContent = text;
	el.reauthError.hidden = text === '';
	if (text === '') el.reauthPassword.removeAttribute('aria-invalid');
	else el.reauthPassword.setAttribute('aria-invalid', 'true');
}

function setDialogBusy(busy, text = null) {
	dlg.busy = busy;
	el.dialogForm.setAttribute('aria-busy', busy ? 'true' : 'false');
	setBusyButton(el.confirm, busy, text);
	setBusyButton(el.cancel, busy);
}

function resetDialog() {
	dlg.phase = 'confirm';
	dlg.busy = false;
	dlg.returnFocus = null;
	dlg.reloadOnClose = false;
	dlg.statusSeq++;
	setBusyButton(el.confirm, false);
	setBusyButton(el.cancel, false);
	el.dialogForm.removeAttribute('aria-busy');
	setDialogMessage('');
	el.reauth.hidden = true;
	el.reauthPassword.value = '';
	setReauthError('');
	el.confirm.hidden = false;
	el.cancel.textContent = 'Cancel';
}

function openRevoke(session, opener) {
	if (el.dialog.open || state.leaving) return;
	resetDialog();
	dlg.mode = 'one';
	dlg.target = session;
	dlg.opener = opener;
	const name = deviceName(session);
	if (isCurrent(session)) {
		el.dialogTitle.textContent = `Sign out ${name} (this device)?`;
		el.dialogDesc.textContent = 'This is the device you are using now. ' +
		    'Revoking it signs you out here and takes you to the sign-in page.';
	} else {
		el.dialogTitle.textContent = `Revoke ${name}?`;
		el.dialogDesc.textContent = 'This session will be signed out at once. ' +
		    'Whoever uses it will have to sign in again.';
	}
	el.dialogDevice.textContent = `${name} · ${deviceKind(session)}`;
	el.dialogIp.textContent = addressText(session);
	setTime(el.dialogSeen, session.last_seen_at);
	el.dialogTarget.hidden = false;
	el.dialog.showModal();
	el.cancel.focus();
	if (!isCurrent(session)) checkStatus(session);
}

function openRevokeOthers(opener) {
	if (el.dialog.open || state.leaving) return;
	resetDialog();
	dlg.mode = 'others';
	dlg.target = null;
	dlg.opener = opener;
	const n = state.sessions.filter((s) => !isCurrent(s)).length;
	el.dialogTitle.textContent = 'Sign out all other sessions?';
	el.dialogDesc.textContent = `Every session except this device will be ` +
	    `signed out (${plural(n, 'session')} now). You stay signed in here.`;
	el.dialogTarget.hidden = true;
	el.dialog.showModal();
	el.cancel.focus();
}

// Nothing left to do: say why, offer Close only, reload the list after.
function showEnded(text) {
	dlg.phase = 'done';
	dlg.reloadOnClose = true;
	const hadConfirmFocus = document.activeElement === el.confirm;
	setDialogMessage(text, 'info');
	el.reauth.hidden = true;
	el.confirm.hidden = true;
	el.cancel.textContent = 'Close';
	if (hadConfirmFocus || !el.dialog.contains(document.activeElement))
		el.cancel.focus();
}

// Before confirming: has this session ended meanwhile?
async function checkStatus(session) {
	const seq = ++dlg.statusSeq;
	let st;
	try {
		st = await api(`/api/auth/sessions/${encodeURIComponent(session.id)}/status/`);
	} catch (err) {
		if (seq !== dlg.statusSeq || leftOn(err)) return;
		if (err instanceof ApiError && err.status === 404 && !dlg.busy)
			showEnded('This session has already ended. There is nothing to revoke.');
		return;		// otherwise Confirm will tell
	}
	if (seq !== dlg.statusSeq || dlg.busy || !el.dialog.open) return;
	if (st.status === 'revoked')
		showEnded('This session was already signed out. There is nothing to revoke.');
	else if (st.status === 'expired')
		showEnded('This session has already expired. There is nothing to revoke.');
}

function showReauth() {
	dlg.phase = 'reauth';
	setDialogMessage('');
	el.reauth.hidden = false;
	setReauthError('');
	el.reauthPassword.focus();
}

async function reauthenticate() {
	const password = el.reauthPassword.value;
	if (password === '') {
		setReauthError('Enter your password.');
		el.reauthPassword.focus();
		return false;
	}
	setReauthError('');
	setDialogBusy(true, 'Checking…');
	try {
		await unsafe('/api/auth/reauth/', {
			method: 'POST',
			body: { password },
		});
	} catch (err) {
		setDialogBusy(false);
		if (leftOn(err)) return false;
		if (err instanceof ApiError && err.code === 'invalid_credentials') {
			el.reauthPassword.value = '';
			setReauthError('That password is not correct. Try again.');
		} else if (err instanceof ApiError && err.status === 429) {
			setReauthError(err.retryAfter !== null ?
			    `Too many attempts. Try again in ${formatDuration(err.retryAfter)}.` :
			    'Too many attempts. Try again later.');
		} else {
			setReauthError(describeFailure(err));
		}
		el.reauthPassword.focus();
		return false;
	}
	el.reauthPassword.value = '';
	el.reauth.hidden = true;
	dlg.phase = 'confirm';
	return true;
}

async function revoke() {
	const one = dlg.mode === 'one';
	const target = dlg.target;
	const self = one && isCurrent(target);
	setDialogBusy(true, self ? 'Signing out…' : 'Revoking…');
	setDialogMessage('');
	let result;
	try {
		result = one ?
		    await unsafe(`/api/auth/sessions/${encodeURIComponent(target.id)}/`,
			{ method: 'DELETE' }) :
		    await unsafe('/api/auth/sessions/', { method: 'DELETE' });
	} catch (err) {
		setDialogBusy(false);
		if (leftOn(err)) return;
		if (err instanceof ApiError && err.status === 403 &&
		    err.code === 'reauth_required') {
			showReauth();
			return;
		}
		if (one && err instanceof ApiError && err.status === 404 &&
		    err.code === 'session_not_found') {
			showEnded('This session was already signed out. Nothing was changed.');
			announce('That session was already signed out.', 'info');
			return;
		}
		setDialogMessage(`Nothing was revoked. ${describeFailure(err)}`, 'error');
		return;
	}

	if (self) {
		state.leaving = true;
		window.location.replace('/login?reason=signed_out');
		return;
	}
	let message;
	if (one) {
		message = `Signed out ${deviceName(target)} (${ipText(target.ip)}).`;
	} else {
		const n = typeof result?.revoked === 'number' ? result.revoked : 0;
		message = n === 0 ? 'There were no other sessions to sign out.' :
		    `Signed out ${plural(n, 'other session')}. Only this device is still signed in.`;
	}
	dlg.busy = false;
	dlg.returnFocus = el.heading;
	el.dialog.close();
	announce(message);
	await loadSessions('reload');
}

el.dialogForm.addEventListener('submit', async (ev) => {
	ev.preventDefault();
	if (dlg.busy || dlg.phase === 'done') return;
	if (dlg.phase === 'reauth' && !(await reauthenticate())) return;
	await revoke();
});

el.cancel.addEventListener('click', () => {
	if (!dlg.busy) el.dialog.close();
});

// Escape: cancel, unless a request is under way.
el.dialog.addEventListener('cancel', (ev) => {
	if (dlg.busy) ev.preventDefault();
});

el.dialog.addEventListener('close', () => {
	dlg.statusSeq++;
	const back = dlg.returnFocus ?? dlg.opener;
	const reload = dlg.reloadOnClose;
	el.reauthPassword.value = '';
	dlg.opener = null;
	dlg.returnFocus = null;
	dlg.reloadOnClose = false;
	if (state.leaving) return;
	if (back !== null && back.isConnected && back.getClientRects().length > 0)
		back.focus();
	else
		el.heading.focus();
	if (reload) loadSessions('reload');
});

// ---- Staying current ------------------------------------------------

// A tab left in the background may have had its session revoked from
// elsewhere: check again when it comes back, before anyone acts on it.
let lastRecheck = 0;
let recheckRunning = false;

async function recheck() {
	if (state.leaving || state.phase === 'loading' ||
	    document.visibilityState !== 'visible')
		return;
	const now = Date.now();
	if (recheckRunning || now - lastRecheck < RECHECK_GAP_MS) return;
	lastRecheck = now;
	recheckRunning = true;
	try {
		if (state.phase === 'ready' && !el.dialog.open) {
			await loadSessions('refresh');
		} else {
			try {
				await fetchCurrent();
			} catch (err) {
				leftOn(err);
			}
		}
	} finally {
		recheckRunning = false;
	}
}

document.addEventListener('visibilitychange', recheck);
window.addEventListener('focus', recheck);
window.addEventListener('pageshow', (ev) => {
	if (ev.persisted) {
		lastRecheck = 0;
		recheck();
	}
});

window.setInterval(() => refreshTimes(), 30 * 1000);

// ---- Buttons --------------------------------------------------------

el.retry.addEventListener('click', () => {
	if (!isBusy(el.retry)) loadSessions('retry');
});
el.activityRetry.addEventListener('click', () => {
	if (!isBusy(el.activityRetry)) loadActivity();
});
el.activityMore.addEventListener('click', () => {
	if (!isBusy(el.activityMore)) loadActivity({ more: true });
});
el.revokeOthers.addEventListener('click', () => openRevokeOthers(el.revokeOthers));

el.signOut.addEventListener('click', async () => {
	if (isBusy(el.signOut)) return;
	setBusyButton(el.signOut, true, 'Signing out…');
	try {
		await unsafe('/api/auth/logout/', { method: 'POST' });
	} catch (err) {
		setBusyButton(el.signOut, false);
		if (leftOn(err)) return;
		announce(`You are still signed in. ${describeFailure(err)}`, 'error');
		return;
	}
	state.leaving = true;
	window.location.replace('/login?reason=signed_out');
});

setupPasswordForm({
	unsafe,
	announce,
	leftOn,
	reload: () => loadSessions('reload'),
	username: () => state.me?.user?.username ?? '',
});

loadSessions('initial');
