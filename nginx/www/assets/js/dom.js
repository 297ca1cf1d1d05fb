// Messages in live regions. The region element itself always stays in
// the page (hidden regions are not announced reliably); the message is a
// child written with textContent.

export function setNotice(region, text, kind = 'info') {
	if (text === '' || text === null) {
		region.replaceChildren();
		return;
	}
	const p = document.createElement('p');
	p.className = `notice notice-${kind}`;
	p.textContent = text;
	region.replaceChildren(p);
}
