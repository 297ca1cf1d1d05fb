// Helpers shared by the integration and end-to-end tests. They run on the
// Node.js that Debian 12 ships (18.20), so nothing here may rely on a newer
// API.

import { readFileSync } from 'node:fs';

/*
 * The Set-Cookie lines of a fetch() response, one string each. Node 20's
 * Headers has getSetCookie(); Node 18's joins them with ", " in get(). A
 * comma starts a new cookie only where "name=" follows it: the comma inside
 * an Expires date ("Thu, 01 Jan 1970") is followed by a digit and a space.
 */
export function setCookies(res) {
	if (typeof res.headers.getSetCookie === 'function')
		return res.headers.getSetCookie();
	const joined = res.headers.get('set-cookie');
	if (joined === null)
		return [];
	return joined.split(/,\s*(?=[^;,=\s]+=)/);
}

/*
 * Options for a pg Client or Pool: the connection comes from the PG*
 * variables of the stack's env file; the password from its PGPASSFILE,
 * read here (pg's own reading of it is deprecated and warns).
 */
export function pgOptions(extra = {}) {
	const file = process.env.PGPASSFILE;
	let password;
	if (file) {
		try {
			const user = process.env.PGUSER ?? '';
			for (const line of readFileSync(file, 'utf8').split('\n')) {
				const f = line.split(':');
				if (f.length >= 5 && (f[3] === '*' || f[3] === user)) {
					password = f.slice(4).join(':');
					break;
				}
			}
		} catch {
			// No file: a stack run as an ordinary user may need none.
		}
	}
	return password === undefined ? { ...extra } : { password, ...extra };
}
