/*
 * ua.c: user agent and client hints to browser, OS and device class.
 *
 * A handful of substring tests in a fixed order, not a grammar of the
 * User-Agent header. The order is the whole trick: every Chromium browser
 * also says "Chrome/", Chrome and every iOS browser also say "Safari/",
 * Android says "Linux" and the iPhone "like Mac OS X", so the specific
 * tokens are tried before the general ones.
 *
 * The answer is only shown to the user ("Firefox 133, Linux, Desktop"): a
 * wrong guess is cosmetic, a crash or an over-read is not. So every input
 * is hostile bytes, read through a length that never passes UA_SCAN_MAX,
 * and the output is built only from our own names and a number.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "bounds.h"
#include "ua.h"

/* "Chrome/131": a major version has at most this many digits. */
#define UA_MAJOR_DIGITS 5

#define nitems(a) (sizeof(a) / sizeof((a)[0]))

enum ua_br {
	BR_UNKNOWN = 0,
	BR_CHROME,
	BR_FIREFOX,
	BR_SAFARI,
	BR_EDGE,
	BR_OPERA,
	BR_SAMSUNG,
	BR_BRAVE,
	BR_VIVALDI,
	BR_YANDEX,
	BR__MAX
};

static const char *const br_names[BR__MAX] = {
	[BR_UNKNOWN] = "Unknown",
	[BR_CHROME] = "Chrome",
	[BR_FIREFOX] = "Firefox",
	[BR_SAFARI] = "Safari",
	[BR_EDGE] = "Edge",
	[BR_OPERA] = "Opera",
	[BR_SAMSUNG] = "Samsung Internet",
	[BR_BRAVE] = "Brave",
	[BR_VIVALDI] = "Vivaldi",
	[BR_YANDEX] = "Yandex",
};

enum ua_os {
	OS_UNKNOWN = 0,
	OS_WINDOWS,
	OS_MACOS,
	OS_LINUX,
	OS_ANDROID,
	OS_IOS,
	OS_IPADOS,
	OS_CHROMEOS,
	OS__MAX
};

static const char *const os_names[OS__MAX] = {
	[OS_UNKNOWN] = "Unknown",
	[OS_WINDOWS] = "Windows",
	[OS_MACOS] = "macOS",
	[OS_LINUX] = "Linux",
	[OS_ANDROID] = "Android",
	[OS_IOS] = "iOS",
	[OS_IPADOS] = "iPadOS",
	[OS_CHROMEOS] = "ChromeOS",
};

enum ua_dev {
	DEV_UNKNOWN = 0,
	DEV_DESKTOP,
	DEV_PHONE,
	DEV_TABLET,
	DEV__MAX
};

static const char *const dev_names[DEV__MAX] = {
	[DEV_UNKNOWN] = "Unknown",
	[DEV_DESKTOP] = "Desktop",
	[DEV_PHONE] = "Phone",
	[DEV_TABLET] = "Tablet",
};

/* Bytes p[0..len) of an input; never NUL-terminated where we look. */
struct span {
	const char *p;
	size_t len;
};

struct guess {
	enum ua_br br;
	int major; /* -1: none */
	enum ua_os os;
	enum ua_dev dev;
};

/*
 * Tools and crawlers: their browser is "Unknown", and so is the rest, since
 * what they claim (Googlebot says Android and Chrome) is a costume.
 * Prefixes start the UA; marks may be anywhere. Both are matched without
 * case. Plain "bot" would also catch the Cubot phone, hence "bot/" and
 * friends; "+http" is the crawlers' "see my info page" convention.
 */
static const char *const tool_prefixes[] = {
	"curl/",
	"wget/",
	"python-",
	"python/",
	"go-http-client/",
	"okhttp/",
	"java/",
	"apache-httpclient/",
	"libwww-perl/",
	"postmanruntime/",
	"axios/",
	"node-fetch/",
	"node/",
	"undici",
	"httpie/",
	"dalvik/",
	"guzzlehttp/",
	"ruby",
	"php/",
	"scrapy/",
	"facebookexternalhit/",
};

static const char *const bot_marks[] = {
	"bot/",
	"bot-",
	"bot;",
	"bot)",
	"bot.htm",
	"spider",
	"crawl",
	"slurp",
	"mediapartners-google",
	"phantomjs",
	"+http",
};

/*
 * Browser tokens, most specific first. The version follows the token,
 * except where vtoken says: Safari/605 is the WebKit build, the Safari
 * version is in Version/17.6 (vonly: nowhere else); Presto Opera froze
 * "Opera/9.80" and moved its version to Version/ too.
 */
static const struct br_token {
	const char *token;
	const char *vtoken;
	enum ua_br br;
	int vonly;
} br_tokens[] = {
	/* Chromium derivatives: they also say Chrome/ and Safari/. */
	{ "Edg/", NULL, BR_EDGE, 0 },
	{ "EdgA/", NULL, BR_EDGE, 0 },
	{ "EdgiOS/", NULL, BR_EDGE, 0 },
	{ "Edge/", NULL, BR_EDGE, 0 }, /* EdgeHTML, until 2020 */
	{ "OPR/", NULL, BR_OPERA, 0 },
	{ "OPiOS/", NULL, BR_OPERA, 0 },
	{ "OPT/", NULL, BR_OPERA, 0 }, /* Opera Touch, iOS */
	{ "SamsungBrowser/", NULL, BR_SAMSUNG, 0 },
	{ "YaBrowser/", NULL, BR_YANDEX, 0 },
	{ "Vivaldi/", NULL, BR_VIVALDI, 0 },
	{ "Opera/", "Version/", BR_OPERA, 0 }, /* Presto */
	{ "Firefox/", NULL, BR_FIREFOX, 0 },
	{ "FxiOS/", NULL, BR_FIREFOX, 0 },
	{ "CriOS/", NULL, BR_CHROME, 0 },
	{ "HeadlessChrome/", NULL, BR_CHROME, 0 },
	{ "Chrome/", NULL, BR_CHROME, 0 },
	{ "Chromium/", NULL, BR_CHROME, 0 },
	/* Last, and only on Apple systems: see guess_browser(). */
	{ "Safari/", "Version/", BR_SAFARI, 1 },
};

/*
 * OS tokens, most specific first. dev is the device class the token
 * implies; Android's is left to "Mobi" (see guess_os()).
 */
static const struct os_token {
	const char *token;
	enum ua_os os;
	enum ua_dev dev;
} os_tokens[] = {
	{ "Windows Phone", OS_WINDOWS, DEV_PHONE }, /* also says Android */
	{ "iPad", OS_IPADOS, DEV_TABLET },
	{ "iPhone", OS_IOS, DEV_PHONE },
	{ "iPod", OS_IOS, DEV_PHONE },
	{ "CrOS", OS_CHROMEOS, DEV_DESKTOP },	/* also says Linux */
	{ "Android", OS_ANDROID, DEV_UNKNOWN }, /* also says Linux */
	{ "Windows", OS_WINDOWS, DEV_DESKTOP },
	{ "Macintosh", OS_MACOS, DEV_DESKTOP },
	{ "Mac OS X", OS_MACOS, DEV_DESKTOP },
	{ "Linux", OS_LINUX, DEV_DESKTOP },
};

/*
 * Sec-CH-UA brands we name. "Chromium" is not here: every Chromium browser
 * sends it, so it only counts when nothing better is in the list (see
 * hint_brand()). GREASE brands ("Not_A Brand") are skipped by not being
 * here either; they are random by design and cannot be listed.
 */
static const struct {
	const char *brand;
	enum ua_br br;
} ch_brands[] = {
	{ "Google Chrome", BR_CHROME },
	{ "HeadlessChrome", BR_CHROME },
	{ "Microsoft Edge", BR_EDGE },
	{ "Opera", BR_OPERA },
	{ "Opera GX", BR_OPERA },
	{ "Brave", BR_BRAVE },
	{ "Samsung Internet", BR_SAMSUNG },
	{ "Vivaldi", BR_VIVALDI },
	{ "YaBrowser", BR_YANDEX },
	{ "Yandex", BR_YANDEX },
};

static const struct {
	const char *name;
	enum ua_os os;
} ch_platforms[] = {
	{ "Windows", OS_WINDOWS },
	{ "macOS", OS_MACOS },
	{ "Linux", OS_LINUX },
	{ "Android", OS_ANDROID },
	{ "Chrome OS", OS_CHROMEOS },
	{ "Chromium OS", OS_CHROMEOS },
	{ "iOS", OS_IOS },
};

/* Ranks of a Sec-CH-UA brand. */
#define RANK_NONE     0
#define RANK_CHROMIUM 1
#define RANK_NAMED    2

#define F_WORD	 0x01 /* only at a token start */
#define F_NOCASE 0x02 /* ASCII letters match either case */
#define F_PREFIX 0x04 /* only at offset 0 */

/* Our own ASCII classes: <ctype.h> would follow the locale. */
static int
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static int
is_alnum(unsigned char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static unsigned char
to_lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

/* The bytes of s up to its NUL or UA_SCAN_MAX; NULL is empty. */
static struct span
span_of(const char *s)
{
	struct span sp = { "", 0 };

	if (s == NULL)
		return sp;
	sp.p = s;
	while (sp.len < UA_SCAN_MAX && s[sp.len] != '\0')
		sp.len++;
	return sp;
}

static int
span_eq(struct span s, const char *lit)
{
	return strlen(lit) == s.len && memcmp(s.p, lit, s.len) == 0;
}

/*
 * First place in s where needle starts, or NULL. With F_WORD the byte
 * before must not be a letter or digit, so "Chrome/" does not match inside
 * "HeadlessChrome/" and "Edg/" not inside some "FooEdg/". Naive search:
 * s is at most UA_SCAN_MAX bytes and the needles are short.
 */
static const char *
find(struct span s, const char *needle, int flags)
{
	size_t n, i, j, last;
	unsigned char a, b;

	n = strlen(needle);
	if (n == 0 || n > s.len)
		return NULL;
	last = (flags & F_PREFIX) ? 0 : s.len - n;
	for (i = 0; i <= last; i++) {
		if ((flags & F_WORD) && i > 0 &&
		    is_alnum((unsigned char)s.p[i - 1]))
			continue;
		for (j = 0; j < n; j++) {
			a = (unsigned char)s.p[i + j];
			b = (unsigned char)needle[j];
			if (flags & F_NOCASE) {
				a = to_lower(a);
				b = to_lower(b);
			}
			if (a != b)
				break;
		}
		if (j == n)
			return s.p + i;
	}
	return NULL;
}

/*
 * The major version in the digits at p (before end): "131" of "131.0.1".
 * Returns -1 when there are none or too many to be a version.
 */
static int
major_of(const char *p, const char *end)
{
	int v = 0, n = 0;

	for (; p < end && is_digit((unsigned char)*p); p++) {
		if (++n > UA_MAJOR_DIGITS)
			return -1;
		v = v * 10 + (*p - '0');
	}
	return n > 0 ? v : -1;
}

static int
is_bot(struct span s)
{
	size_t i;

	for (i = 0; i < nitems(tool_prefixes); i++)
		if (find(s, tool_prefixes[i], F_PREFIX | F_NOCASE) != NULL)
			return 1;
	for (i = 0; i < nitems(bot_marks); i++)
		if (find(s, bot_marks[i], F_NOCASE) != NULL)
			return 1;
	return 0;
}

static void
guess_os(struct span s, struct guess *g)
{
	const struct os_token *t;
	size_t i;

	for (i = 0; i < nitems(os_tokens); i++) {
		t = &os_tokens[i];
		if (find(s, t->token, F_WORD) == NULL)
			continue;
		g->os = t->os;
		g->dev = t->dev;
		break;
	}

	/*
	 * Android phones say "Mobile" and tablets do not; Firefox says
	 * "Mobile" or "Tablet" outright. With no OS, "Mobi" still tells a
	 * phone (Opera Mini on a feature phone).
	 */
	if (g->dev == DEV_UNKNOWN) {
		if (find(s, "Mobi", 0) != NULL)
			g->dev = DEV_PHONE;
		else if (g->os == OS_ANDROID)
			g->dev = DEV_TABLET;
	}
}

static void
guess_browser(struct span s, struct guess *g)
{
	const struct br_token *t;
	const char *at, *v;
	size_t i;

	for (i = 0; i < nitems(br_tokens); i++) {
		t = &br_tokens[i];
		if ((at = find(s, t->token, F_WORD)) == NULL)
			continue;
		/*
		 * Android's old stock browser and many webviews also say
		 * "Version/4.0 ... Safari/": that is not Safari.
		 */
		if (t->br == BR_SAFARI && g->os != OS_MACOS &&
		    g->os != OS_IOS && g->os != OS_IPADOS)
			continue;
		g->br = t->br;
		if (t->vtoken != NULL &&
		    (v = find(s, t->vtoken, F_WORD)) != NULL)
			g->major = major_of(v + strlen(t->vtoken), s.p + s.len);
		else if (!t->vonly)
			g->major = major_of(at + strlen(t->token), s.p + s.len);
		return;
	}
}

/*
 * A minimal reader of RFC 8941 structured fields: enough for the three
 * client hints, strict enough that garbage is refused, not guessed at.
 */
struct cur {
	const char *p;
	const char *end;
};

/*
 * Start reading header h. A hint cut at UA_SCAN_MAX is refused: the
 * prefix of a list is not the list, and real hints are far shorter.
 */
static int
cur_init(struct cur *c, const char *h)
{
	struct span s;

	s = span_of(h);
	if (s.len == UA_SCAN_MAX)
		return -1;
	c->p = s.p;
	c->end = s.p + s.len;
	return 0;
}

static void
sf_ows(struct cur *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t'))
		c->p++;
}

static int
sf_at(struct cur *c, char ch)
{
	return c->p < c->end && *c->p == ch;
}

/*
 * An sf-string: printable ASCII in quotes, with \" and \\ escapes. *out is
 * what is between the quotes, escapes left as sent: no brand we know has
 * one, so an escaped brand simply matches nothing.
 */
static int
sf_string(struct cur *c, struct span *out)
{
	unsigned char ch;

	if (!sf_at(c, '"'))
		return -1;
	c->p++;
	out->p = c->p;
	while (c->p < c->end) {
		ch = (unsigned char)*c->p;
		if (ch == '"') {
			out->len = (size_t)(c->p - out->p);
			c->p++;
			return 0;
		}
		if (ch == '\\') {
			if (c->end - c->p < 2 ||
			    (c->p[1] != '"' && c->p[1] != '\\'))
				return -1;
			c->p += 2;
			continue;
		}
		if (ch < 0x20 || ch > 0x7e)
			return -1;
		c->p++;
	}
	return -1; /* unterminated */
}

/* A parameter key: lcalpha or "*", then lcalpha, digits, "_-.*". */
static int
sf_key(struct cur *c, struct span *out)
{
	unsigned char ch;

	out->p = c->p;
	while (c->p < c->end) {
		ch = (unsigned char)*c->p;
		if (!((ch >= 'a' && ch <= 'z') || ch == '*' ||
			(c->p > out->p &&
			    (is_digit(ch) || ch == '_' || ch == '-' ||
				ch == '.'))))
			break;
		c->p++;
	}
	out->len = (size_t)(c->p - out->p);
	return out->len > 0 ? 0 : -1;
}

/*
 * A parameter value: a string, or a run of token, number and boolean
 * bytes (v=131 unquoted is still a version; which of the three it is does
 * not matter to us).
 */
static int
sf_value(struct cur *c, struct span *out)
{
	unsigned char ch;

	if (sf_at(c, '"'))
		return sf_string(c, out);
	out->p = c->p;
	while (c->p < c->end) {
		ch = (unsigned char)*c->p;
		if (!is_alnum(ch) && strchr("!#$%&'*+-.^_`|~:/?", ch) == NULL)
			break;
		c->p++;
	}
	out->len = (size_t)(c->p - out->p);
	return out->len > 0 ? 0 : -1;
}

static int
brand_rank(struct span brand, enum ua_br *br)
{
	size_t i;

	for (i = 0; i < nitems(ch_brands); i++)
		if (span_eq(brand, ch_brands[i].brand)) {
			*br = ch_brands[i].br;
			return RANK_NAMED;
		}
	if (span_eq(brand, "Chromium")) {
		*br = BR_CHROME;
		return RANK_CHROMIUM;
	}
	return RANK_NONE;
}

/*
 * Sec-CH-UA, a list of brands with versions:
 *	"Chromium";v="131", "Not_A Brand";v="24", "Google Chrome";v="131"
 * Sets the best brand and its major version and returns its rank; the
 * first of equal rank wins. A list that does not parse is refused whole
 * (-1): half of a malformed header is no more trustworthy than the rest.
 */
static int
hint_brand(const char *h, enum ua_br *br, int *major)
{
	struct cur c;
	struct span brand, key, val, ver;
	enum ua_br b, best_br = BR_UNKNOWN;
	int rank, best = RANK_NONE, best_major = -1;

	if (cur_init(&c, h) == -1)
		return -1;
	sf_ows(&c);
	while (c.p < c.end) {
		if (sf_string(&c, &brand) == -1)
			return -1;
		ver.p = "";
		ver.len = 0;
		while (sf_at(&c, ';')) {
			c.p++;
			while (sf_at(&c, ' '))
				c.p++;
			if (sf_key(&c, &key) == -1)
				return -1;
			if (!sf_at(&c, '='))
				continue; /* a boolean parameter */
			c.p++;
			if (sf_value(&c, &val) == -1)
				return -1;
			if (span_eq(key, "v"))
				ver = val;
		}
		rank = brand_rank(brand, &b);
		if (rank > best) {
			best = rank;
			best_br = b;
			best_major = major_of(ver.p, ver.p + ver.len);
		}
		sf_ows(&c);
		if (c.p == c.end)
			break;
		if (*c.p != ',')
			return -1;
		c.p++;
		sf_ows(&c);
		if (c.p == c.end)
			return -1; /* a trailing comma */
	}
	*br = best_br;
	*major = best_major;
	return best;
}

/* Sec-CH-UA-Platform, one string: "Windows". */
static enum ua_os
hint_platform(const char *h)
{
	struct cur c;
	struct span name;
	size_t i;

	if (cur_init(&c, h) == -1)
		return OS_UNKNOWN;
	sf_ows(&c);
	if (sf_string(&c, &name) == -1)
		return OS_UNKNOWN;
	sf_ows(&c);
	if (c.p != c.end)
		return OS_UNKNOWN;
	for (i = 0; i < nitems(ch_platforms); i++)
		if (span_eq(name, ch_platforms[i].name))
			return ch_platforms[i].os;
	return OS_UNKNOWN;
}

/* Sec-CH-UA-Mobile, a boolean: 1 for "?1", 0 for "?0", else -1. */
static int
hint_mobile(const char *h)
{
	struct cur c;
	int v;

	if (cur_init(&c, h) == -1)
		return -1;
	sf_ows(&c);
	if (c.end - c.p < 2 || c.p[0] != '?' ||
	    (c.p[1] != '0' && c.p[1] != '1'))
		return -1;
	v = c.p[1] - '0';
	c.p += 2;
	sf_ows(&c);
	return c.p == c.end ? v : -1;
}

/*
 * Refine the UA's guess with the hints. The hints are as untrusted as the
 * UA, but more precise: Chromium froze the UA's OS part and never puts
 * "Brave" in it. A named brand replaces the UA's browser; "Chromium" only
 * supplies Chrome where the UA said nothing better.
 */
static void
apply_hints(const char *ch_ua, const char *ch_platform, const char *ch_mobile,
    struct guess *g)
{
	enum ua_br br = BR_UNKNOWN;
	enum ua_os os;
	int rank, major = -1, mobile;

	rank = hint_brand(ch_ua, &br, &major);
	if (rank == RANK_NAMED ||
	    (rank == RANK_CHROMIUM &&
		(g->br == BR_UNKNOWN || g->br == BR_CHROME))) {
		if (major == -1 && br == g->br)
			major = g->major;
		g->br = br;
		g->major = major;
	}

	/* An iPad's hint would say iOS; the UA knew better. */
	os = hint_platform(ch_platform);
	if (os != OS_UNKNOWN && !(os == OS_IOS && g->os == OS_IPADOS))
		g->os = os;

	/*
	 * The mobile hint tells phone from not-phone; only the UA can say
	 * tablet, so a tablet stays one. A non-mobile Android is a tablet
	 * (or a phone asking for desktop sites, which we cannot tell).
	 */
	mobile = hint_mobile(ch_mobile);
	if (g->dev == DEV_TABLET)
		return;
	if (mobile == 1)
		g->dev = DEV_PHONE;
	else if (mobile == 0)
		g->dev = (g->os == OS_ANDROID || g->os == OS_IPADOS)
		    ? DEV_TABLET
		    : DEV_DESKTOP;
	else if (g->dev == DEV_UNKNOWN &&
	    (g->os == OS_WINDOWS || g->os == OS_MACOS || g->os == OS_LINUX ||
		g->os == OS_CHROMEOS))
		g->dev = DEV_DESKTOP; /* a platform hint and no UA */
}

void
ua_parse(const char *ua, const char *ch_ua, const char *ch_platform,
    const char *ch_mobile, struct ua_info *out)
{
	struct guess g = { BR_UNKNOWN, -1, OS_UNKNOWN, DEV_UNKNOWN };
	struct span s;

	if (out == NULL)
		return;
	s = span_of(ua);
	if (!is_bot(s)) {
		/* The OS first: whether "Safari/" is Safari depends on it. */
		guess_os(s, &g);
		guess_browser(s, &g);
		apply_hints(ch_ua, ch_platform, ch_mobile, &g);
	}

	if (g.br == BR_UNKNOWN || g.major < 0)
		snprintf(
		    out->browser, sizeof(out->browser), "%s", br_names[g.br]);
	else
		snprintf(out->browser, sizeof(out->browser), "%s %d",
		    br_names[g.br], g.major);
	snprintf(out->os, sizeof(out->os), "%s", os_names[g.os]);
	snprintf(out->device, sizeof(out->device), "%s", dev_names[g.dev]);
}

/*
 * The same few agents come back on every list request: keep the last
 * results per process, keyed by the whole input (inputs too long to keep
 * whole are parsed every time).
 */
#define CACHE_SLOTS 64

struct cache_entry {
	size_t len;
	char key[UA_CACHE_KEY_MAX];
	struct ua_info info;
};

static struct cache_entry cache[CACHE_SLOTS];

void
ua_parse_cached(const char *ua, const char *ch_ua, const char *ch_platform,
    const char *ch_mobile, struct ua_info *out)
{
	const char *const parts[4] = { ua, ch_ua, ch_platform, ch_mobile };
	char key[UA_CACHE_KEY_MAX];
	struct cache_entry *e;
	size_t len = 0, n, i;
	uint32_t h = 2166136261U;

	if (out == NULL) /* as ua_parse: nothing to fill, nothing to keep */
		return;
	for (i = 0; i < 4; i++) {
		n = parts[i] != NULL ? strlen(parts[i]) : 0;
		if (n + 1 > sizeof(key) - len) {
			ua_parse(ua, ch_ua, ch_platform, ch_mobile, out);
			return;
		}
		memcpy(key + len, parts[i] != NULL ? parts[i] : "", n);
		len += n;
		key[len++] = '\x1f'; /* a byte no cleaned header holds */
	}
	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)key[i]) * 16777619U;
	e = &cache[h % CACHE_SLOTS];
	if (e->len == len && memcmp(e->key, key, len) == 0) {
		*out = e->info;
		return;
	}
	ua_parse(ua, ch_ua, ch_platform, ch_mobile, out);
	memcpy(e->key, key, len);
	e->len = len;
	e->info = *out;
}
