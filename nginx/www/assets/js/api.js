// The sessiond API as the pages use it: JSON in and out, the CSRF token
// on every unsafe request, errors as ApiError with the contract's code.

let csrfToken = null;

export function setCsrfToken(token) {
	csrfToken = typeof token === 'string' && token !== '' ? token : null;
}

export class ApiError extends Error {
	constructor(status, code, message, retryAfter = null) {
		super(message);
		this.name = 'ApiError';
		this.status = status;		// 0: the request never got an answer
		this.code = code;
		this.retryAfter = retryAfter;	// seconds, from Retry-After
	}

	// The network failed, or the server (or nginx in front of it) did.
	get unavailable() {
		return this.status === 0 || this.status >= 500;
	}
}

// Seconds from a Retry-After header (delta-seconds or an HTTP date).
export function parseRetryAfter(value) {
	if (value == null || value === '') return null;
	if (/^\d+$/.test(value.trim())) return Number(value.trim());
	const when = Date.parse(value);
	if (Number.isNaN(when)) return null;
	return Math.max(0, Math.ceil((when - Date.now()) / 1000));
}

export async function api(path, { method = 'GET', body } = {}) {
	const headers = { Accept: 'application/json' };
	if (body !== undefined) headers['Content-Type'] = 'application/json';
	if (method !== 'GET' && method !== 'HEAD' && csrfToken !== null)
		headers['X-CSRF-Token'] = csrfToken;

	let res;
	try {
		res = await fetch(path, {
			method,
			headers,
			body: body === undefined ? undefined : JSON.stringify(body),
			credentials: 'same-origin',
			cache: 'no-store',
			redirect: 'error',
		});
	} catch {
		throw new ApiError(0, 'network_error',
		    'The server could not be reached.');
	}

	if (res.status === 204) return null;
	let data = null;
	const type = res.headers.get('Content-Type') || '';
	if (type.includes('application/json')) {
		try {
			data = await res.json();
		} catch {
			data = null;
		}
	}
	if (res.ok) {
		if (data === null || typeof data !== 'object')
			throw new ApiError(res.status, 'bad_response',
			    'The server sent an answer this page cannot read.');
		return data;
	}
	const e = data !== null && typeof data === 'object' &&
	    data.error !== null && typeof data.error === 'object' ? data.error : {};
	throw new ApiError(res.status,
	    typeof e.code === 'string' ? e.code : `http_${res.status}`,
	    typeof e.message === 'string' ? e.message :
	    `The server answered with status ${res.status}.`,
	    parseRetryAfter(res.headers.get('Retry-After')));
}

// Only this answer means "you are not signed in". A 401 with any other
// code (a wrong password on re-auth is 401 invalid_credentials) does not.
export function isSignedOut(err) {
	return err instanceof ApiError && err.status === 401 &&
	    err.code === 'not_authenticated';
}

// Where /login?next=... may send the browser: a path on this site only.
// It must start with exactly one '/', and neither '//' nor '/\' (which
// browsers read as another host); control characters and backslashes are
// refused anywhere, since URL parsing drops or rewrites them.
export function safeNextPath(raw) {
	if (typeof raw !== 'string' || raw.length === 0 || raw.length > 2048)
		return null;
	if (raw[0] !== '/' || raw[1] === '/' || raw[1] === '\\') return null;
	// eslint-disable-next-line no-control-regex
	if (/[\u0000-\u001f\u007f\\]/.test(raw)) return null;
	let url;
	try {
		url = new URL(raw, window.location.origin);
	} catch {
		return null;
	}
	if (url.origin !== window.location.origin) return null;
	// Back to the sign-in page would be a loop.
	if (url.pathname === '/login' || url.pathname === '/login.html' ||
	    url.pathname === '/login/')
		return null;
	return url.pathname + url.search + url.hash;
}

// Send a signed-out visitor to the sign-in page, to come back here after.
export function goToLogin({ returnHere = true, reason = null } = {}) {
	const params = new URLSearchParams();
	if (returnHere) {
		const here = window.location.pathname + window.location.search +
		    window.location.hash;
		if (safeNextPath(here) !== null) params.set('next', here);
	}
	if (reason !== null) params.set('reason', reason);
	const q = params.toString();
	window.location.replace('/login' + (q ? '?' + q : ''));
}

// "15 minutes", "30 seconds", "2 hours".
export function formatDuration(seconds) {
	const s = Math.max(1, Math.ceil(seconds));
	const unit = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;
	if (s < 60) return unit(s, 'second');
	if (s < 3600) return unit(Math.ceil(s / 60), 'minute');
	return unit(Math.ceil(s / 3600), 'hour');
}

// A sentence for an error the person cannot fix by changing their input.
export function describeFailure(err) {
	if (!(err instanceof ApiError))
		return 'Something went wrong in this page. Reload it and try again.';
	if (err.status === 0)
		return 'The server could not be reached. Check your connection and try again.';
	if (err.status === 429) {
		return err.retryAfter !== null ?
		    `Too many attempts. Try again in ${formatDuration(err.retryAfter)}.` :
		    'Too many attempts. Try again later.';
	}
	if (err.status >= 500)
		return 'The service is not answering right now. Try again in a moment.';
	return err.message;
}
