// Turning API values into words. Everything here returns plain strings;
// the callers write them with textContent or setAttribute only.

const rtf = new Intl.RelativeTimeFormat('en', { numeric: 'always' });
const exact = new Intl.DateTimeFormat('en', {
	dateStyle: 'full',
	timeStyle: 'long',
});

const UNITS = [
	['year', 365 * 24 * 3600],
	['month', 30 * 24 * 3600],
	['week', 7 * 24 * 3600],
	['day', 24 * 3600],
	['hour', 3600],
	['minute', 60],
];

export function parseTime(iso) {
	if (typeof iso !== 'string') return null;
	const t = Date.parse(iso);
	return Number.isNaN(t) ? null : new Date(t);
}

// "just now", "5 minutes ago", "in 3 hours".
export function relativeTime(date, now = Date.now()) {
	const diff = Math.round((date.getTime() - now) / 1000);
	const abs = Math.abs(diff);
	if (abs < 45) return diff <= 0 ? 'just now' : 'in a few seconds';
	for (const [unit, secs] of UNITS) {
		if (abs >= secs)
			return rtf.format(Math.round(diff / secs) || Math.sign(diff), unit);
	}
	return rtf.format(Math.sign(diff) || -1, 'minute');
}

export function exactTime(date) {
	return exact.format(date);
}

// Fill a <time> element: relative text, machine-readable datetime, and
// the exact local time as its title (kept fresh by refreshTimes).
export function setTime(el, iso, fallback = 'Unknown') {
	const date = parseTime(iso);
	if (date === null) {
		el.removeAttribute('datetime');
		el.removeAttribute('title');
		el.textContent = fallback;
		return;
	}
	el.setAttribute('datetime', date.toISOString().replace(/\.000Z$/, 'Z'));
	el.setAttribute('title', exactTime(date));
	el.dataset.relative = '';
	el.textContent = relativeTime(date);
}

export function refreshTimes(root = document) {
	const now = Date.now();
	for (const el of root.querySelectorAll('time[data-relative]')) {
		const date = parseTime(el.getAttribute('datetime'));
		if (date !== null) el.textContent = relativeTime(date, now);
	}
}

function known(v) {
	return typeof v === 'string' && v !== '' && v !== 'Unknown';
}

// "Firefox 133 on Windows", "Chrome on Android", "Unknown browser".
export function deviceName(o) {
	const browser = known(o.browser) ? o.browser : null;
	const os = known(o.os) ? o.os : null;
	if (browser && os) return `${browser} on ${os}`;
	if (browser) return browser;
	if (os) return `Unknown browser on ${os}`;
	return 'Unknown browser';
}

export function deviceKind(o) {
	return known(o.device) ? o.device : 'Unknown device';
}

// Which icon: desktop, phone, tablet, or unknown.
export function deviceIcon(o) {
	const d = typeof o.device === 'string' ? o.device.toLowerCase() : '';
	if (d.includes('phone') || d.includes('mobile')) return 'phone';
	if (d.includes('tablet')) return 'tablet';
	if (d.includes('desktop') || d.includes('computer')) return 'desktop';
	return 'unknown';
}

// Show the raw user agent when the parsed names do not say enough.
export function needsRawAgent(o) {
	return !known(o.browser) || !known(o.os);
}

export function ipText(ip) {
	return typeof ip === 'string' && ip !== '' ? ip : 'Unknown';
}

// The IP with its approximate place, where the server knows one:
// "192.0.2.10 · Berlin, Germany".
export function addressText(s) {
	const place = typeof s.location === 'string' && s.location !== '' ?
	    ` · ${s.location}` : '';
	return ipText(s.ip) + place;
}
