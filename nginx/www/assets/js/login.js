// /login: the sign-in form.
import { api, ApiError, describeFailure, formatDuration, safeNextPath } from './api.js';
import { setNotice } from './dom.js';

const DEFAULT_NEXT = '/settings/sessions';

// Fixed sentences chosen by ?reason=; nothing from the URL is shown.
const NOTICES = {
	signed_out: 'You have signed out.',
	ended: 'Your session has ended. Sign in again to continue.',
};

const form = document.getElementById('login-form');
const username = document.getElementById('username');
const password = document.getElementById('password');
const submit = document.getElementById('login-submit');
const notice = document.getElementById('login-notice');
const errorBox = document.getElementById('login-error');
const fieldErrors = {
	username: document.getElementById('username-error'),
	password: document.getElementById('password-error'),
};

const params = new URLSearchParams(window.location.search);
const next = safeNextPath(params.get('next')) ?? DEFAULT_NEXT;
const reason = params.get('reason');
if (reason !== null && Object.hasOwn(NOTICES, reason))
	setNotice(notice, NOTICES[reason], 'info');
else if (params.has('next'))
	setNotice(notice, 'Sign in to continue.', 'info');

let busy = false;

function setFieldError(input, message) {
	const el = fieldErrors[input.id];
	if (message) {
		el.textContent = message;
		el.hidden = false;
		input.setAttribute('aria-invalid', 'true');
	} else {
		el.textContent = '';
		el.hidden = true;
		input.removeAttribute('aria-invalid');
	}
}

function showError(message, focusTarget = errorBox) {
	setNotice(notice, '');
	setNotice(errorBox, message, 'error');
	focusTarget.focus();
}

function clearErrors() {
	setNotice(errorBox, '');
	setFieldError(username, '');
	setFieldError(password, '');
}

function setBusy(on) {
	busy = on;
	submit.setAttribute('aria-disabled', on ? 'true' : 'false');
	submit.textContent = on ? 'Signing in…' : 'Sign in';
	form.setAttribute('aria-busy', on ? 'true' : 'false');
}

form.addEventListener('submit', async (ev) => {
	ev.preventDefault();
	if (busy) return;
	clearErrors();

	const name = username.value.trim();
	let firstInvalid = null;
	if (name === '') {
		setFieldError(username, 'Enter your username.');
		firstInvalid = username;
	}
	if (password.value === '') {
		setFieldError(password, 'Enter your password.');
		firstInvalid ??= password;
	}
	if (firstInvalid !== null) {
		firstInvalid.focus();
		return;
	}

	setBusy(true);
	try {
		await api('/api/auth/login/', {
			method: 'POST',
			body: { username: name, password: password.value },
		});
	} catch (err) {
		setBusy(false);
		if (err instanceof ApiError && err.code === 'invalid_credentials') {
			password.value = '';
			showError('The username or password is not correct.', password);
			password.setAttribute('aria-invalid', 'true');
		} else if (err instanceof ApiError && err.status === 429) {
			let wait = ' Try again later.';
			if (err.retryAfter !== null) {
				const at = new Date(Date.now() + err.retryAfter * 1000);
				const clock = at.toLocaleTimeString(undefined,
				    { hour: '2-digit', minute: '2-digit' });
				wait = ` Try again in ${formatDuration(err.retryAfter)} ` +
				    `(after ${clock}).`;
			}
			showError('Too many sign-in attempts.' + wait);
		} else if (err instanceof ApiError && err.code === 'account_disabled') {
			showError('This account is disabled. Contact your administrator.');
		} else {
			showError(describeFailure(err));
		}
		return;
	}
	// Signed in: the cookie is set. Keep the button busy while leaving.
	password.value = '';
	window.location.assign(next);
});

for (const input of [username, password]) {
	input.addEventListener('input', () => {
		if (input.getAttribute('aria-invalid') === 'true')
			setFieldError(input, '');
	});
}

username.focus();
