// The password change form on /settings/sessions. The rules are shown
// before typing; each refusal is written next to its field; success is
// announced in the page's polite live region and the list reloads (the
// other sessions are gone when "Sign out all other sessions" is ticked).
//
// Every value from the API is written with textContent.
import { ApiError, describeFailure } from './api.js';

const $ = (id) => document.getElementById(id);

// The same count the server makes: Unicode code points.
function codePoints(s) {
	return [...s].length;
}

/*
 * Wire the form. deps: unsafe(path, opts) for the POST (CSRF handled),
 * announce(message, kind), reload() after a change, leftOn(err) (true
 * when the session ended and the page is leaving), username() for the
 * hidden username field that password managers read.
 */
export function setupPasswordForm(deps) {
	const f = {
		form: $('password-form'),
		username: $('password-username'),
		current: $('current-password'),
		currentError: $('current-password-error'),
		next: $('new-password'),
		nextError: $('new-password-error'),
		others: $('sign-out-others'),
		submit: $('password-submit'),
		message: $('password-message'),
	};
	let busy = false;

	function fieldError(input, out, text) {
		out.textContent = text;
		out.hidden = text === '';
		if (text === '') input.removeAttribute('aria-invalid');
		else input.setAttribute('aria-invalid', 'true');
	}

	function clearErrors() {
		fieldError(f.current, f.currentError, '');
		fieldError(f.next, f.nextError, '');
		f.message.textContent = '';
		f.message.hidden = true;
	}

	function formError(text) {
		f.message.textContent = text;
		f.message.hidden = false;
	}

	// Checks the page can make before asking: the rest is the server's.
	function localCheck() {
		let first = null;
		if (f.current.value === '') {
			fieldError(f.current, f.currentError,
			    'Enter your current password.');
			first ??= f.current;
		}
		const n = codePoints(f.next.value);
		if (n < 12) {
			fieldError(f.next, f.nextError,
			    'The new password must be at least 12 characters long.');
			first ??= f.next;
		} else if (n > 128) {
			fieldError(f.next, f.nextError,
			    'The new password must be at most 128 characters long.');
			first ??= f.next;
		}
		return first;
	}

	async function submit(ev) {
		ev.preventDefault();
		if (busy) return;
		clearErrors();
		f.username.value = deps.username();
		const bad = localCheck();
		if (bad !== null) {
			bad.focus();
			return;
		}
		busy = true;
		f.submit.setAttribute('aria-disabled', 'true');
		f.submit.dataset.idleText ??= f.submit.textContent;
		f.submit.textContent = 'Changing…';
		const others = f.others.checked;
		try {
			await deps.unsafe('/api/auth/password/', { method: 'POST',
			    body: { current_password: f.current.value,
			    new_password: f.next.value, sign_out_others: others } });
		} catch (err) {
			if (deps.leftOn(err)) return;
			if (err instanceof ApiError && err.code === 'weak_password') {
				fieldError(f.next, f.nextError, err.message);
				f.next.focus();
			} else if (err instanceof ApiError &&
			    err.code === 'invalid_credentials') {
				fieldError(f.current, f.currentError,
				    'That is not your current password.');
				f.current.focus();
			} else if (err instanceof ApiError &&
			    err.code === 'too_many_requests') {
				fieldError(f.current, f.currentError,
				    describeFailure(err));
				f.current.focus();
			} else {
				formError(`Your password was not changed. ${describeFailure(err)}`);
			}
			return;
		} finally {
			busy = false;
			f.submit.removeAttribute('aria-disabled');
			f.submit.textContent = f.submit.dataset.idleText;
			delete f.submit.dataset.idleText;
		}
		f.form.reset();
		f.others.checked = true;
		deps.announce(others ?
		    'Your password was changed and every other session was signed out.' :
		    'Your password was changed. Your other sessions stay signed in.');
		deps.reload();
	}

	f.form.addEventListener('submit', submit);
	for (const [input, out] of [[f.current, f.currentError],
	    [f.next, f.nextError]])
		input.addEventListener('input', () => {
			if (!out.hidden) fieldError(input, out, '');
		});
}
