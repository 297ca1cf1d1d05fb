// Helpers shared by the integration and end-to-end tests. They run on the
// Node.js that Debian 12 ships (18.20), so nothing here may rely on a newer
// API.

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
