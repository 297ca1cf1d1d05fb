/*
 * util.c: pure helpers for bounded, checked parsing of untrusted text.
 */
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "bounds.h"
#include "util.h"

int
parse_ll(const char *s, int base, long long min, long long max, long long *out)
{
	char *end;
	long long v;

	/* strtoll would accept spaces, signs and "0x"; we accept digits. */
	if (s == NULL || *s == '\0' || strlen(s) > NUM_DIGITS_MAX)
		return -1;
	if (!isdigit((unsigned char)s[0]) &&
	    !(s[0] == '-' && min < 0 && isdigit((unsigned char)s[1])))
		return -1;
	errno = 0;
	/* banned-ok(strtoll): the one bounded wrapper the rest calls */
	v = strtoll(s, &end, base);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static const char b64chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void
b64url_encode(char *dst, const unsigned char *src, size_t n)
{
	size_t i;
	unsigned long v;

	for (i = 0; i + 2 < n; i += 3) {
		v = (unsigned long)src[i] << 16 |
		    (unsigned long)src[i + 1] << 8 | src[i + 2];
		*dst++ = b64chars[(v >> 18) & 63];
		*dst++ = b64chars[(v >> 12) & 63];
		*dst++ = b64chars[(v >> 6) & 63];
		*dst++ = b64chars[v & 63];
	}
	if (n - i == 1) {
		v = (unsigned long)src[i] << 16;
		*dst++ = b64chars[(v >> 18) & 63];
		*dst++ = b64chars[(v >> 12) & 63];
	} else if (n - i == 2) {
		v = (unsigned long)src[i] << 16 |
		    (unsigned long)src[i + 1] << 8;
		*dst++ = b64chars[(v >> 18) & 63];
		*dst++ = b64chars[(v >> 12) & 63];
		*dst++ = b64chars[(v >> 6) & 63];
	}
	*dst = '\0';
}

static int
b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

long
b64url_decode(unsigned char *dst, size_t dstmax, const char *src, size_t len)
{
	unsigned long acc = 0;
	size_t i, out = 0;
	int bits = 0, v;

	if (len % 4 == 1)
		return -1;
	if (len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0) > dstmax)
		return -1;
	for (i = 0; i < len; i++) {
		if ((v = b64val((unsigned char)src[i])) < 0)
			return -1;
		acc = (acc << 6 | (unsigned long)v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			dst[out++] = (unsigned char)(acc >> bits);
		}
	}
	/* Leftover bits must be zero: one encoding per value. */
	if (bits > 0 && (acc & ((1UL << bits) - 1)) != 0)
		return -1;
	return (long)out;
}

/* Length of the UTF-8 sequence at s (n bytes left), or 0 if malformed. */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
	unsigned int c = s[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return n >= 2 && (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if (n < 3 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
			return 0;
		if (c == 0xe0 && s[1] < 0xa0)
			return 0; /* overlong */
		if (c == 0xed && s[1] >= 0xa0)
			return 0; /* surrogate */
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (n < 4 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 ||
		    (s[3] & 0xc0) != 0x80)
			return 0;
		if (c == 0xf0 && s[1] < 0x90)
			return 0; /* overlong */
		if (c == 0xf4 && s[1] >= 0x90)
			return 0; /* above U+10FFFF */
		return 4;
	}
	return 0;
}

int
utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k;

	while (i < len) {
		if ((k = utf8_seq(p + i, len - i)) == 0)
			return 0;
		i += k;
	}
	return 1;
}

void
text_clean(char *dst, const char *src, size_t max)
{
	const unsigned char *p = (const unsigned char *)src;
	size_t n = strlen(src), i = 0, o = 0, k;

	while (i < n) {
		k = utf8_seq(p + i, n - i);
		if (k == 0 || (k == 1 && (p[i] < 0x20 || p[i] == 0x7f))) {
			if (o + 1 > max)
				break;
			dst[o++] = '?';
			i++;
			continue;
		}
		if (k > max - o)
			break;
		memcpy(dst + o, p + i, k);
		o += k;
		i += k;
	}
	dst[o] = '\0';
}

static void
put_digits(char *dst, long long v, int n)
{
	while (n-- > 0) {
		dst[n] = (char)('0' + v % 10);
		v /= 10;
	}
}

/*
 * Without gmtime_r and strftime (a fifth of a list answer's time went to
 * them): days to a civil date as in Howard Hinnant's "chrono-Compatible
 * Low-Level Date Algorithms" (days_from_civil's inverse), for the years
 * 1970..9999; other times take the libc path.
 */
void
rfc3339(char dst[RFC3339_LEN + 1], time_t t)
{
	long long days, secs, era, doe, yoe, y, doy, mp, d, m;
	struct tm tm;

	if (t < 0 || (long long)t > RFC3339_MAX) {
		gmtime_r(&t, &tm);
		strftime(dst, RFC3339_LEN + 1, "%Y-%m-%dT%H:%M:%SZ", &tm);
		return;
	}
	days = (long long)t / 86400 + 719468; /* from 0000-03-01 */
	secs = (long long)t % 86400;
	era = days / 146097;
	doe = days - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y = yoe + era * 400 + (m <= 2);
	put_digits(dst, y, 4);
	dst[4] = '-';
	put_digits(dst + 5, m, 2);
	dst[7] = '-';
	put_digits(dst + 8, d, 2);
	dst[10] = 'T';
	put_digits(dst + 11, secs / 3600, 2);
	dst[13] = ':';
	put_digits(dst + 14, secs / 60 % 60, 2);
	dst[16] = ':';
	put_digits(dst + 17, secs % 60, 2);
	dst[19] = 'Z';
	dst[20] = '\0';
}

int
uuid_valid(const char *s)
{
	static const char dash[] = { 8, 13, 18, 23 };
	size_t i, d = 0;

	if (strlen(s) != UUID_LEN)
		return 0;
	for (i = 0; i < UUID_LEN; i++) {
		if (d < sizeof(dash) && (size_t)dash[d] == i) {
			if (s[i] != '-')
				return 0;
			d++;
		} else if (!isdigit((unsigned char)s[i]) &&
		    !(s[i] >= 'a' && s[i] <= 'f') &&
		    !(s[i] >= 'A' && s[i] <= 'F'))
			return 0;
	}
	return 1;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
uuid_to_bytes(const char *s, unsigned char out[16])
{
	size_t i, o = 0;

	if (!uuid_valid(s))
		return -1;
	for (i = 0; i < UUID_LEN; i++) {
		if (s[i] == '-')
			continue;
		/* uuid_valid() above: hexval() is never -1 here. */
		out[o++] = (unsigned char)((unsigned)hexval(s[i]) << 4 |
		    (unsigned)hexval(s[i + 1]));
		i++;
	}
	return 0;
}

void
uuid_from_bytes(char out[UUID_LEN + 1], const unsigned char in[16])
{
	static const char digits[] = "0123456789abcdef";
	size_t i, o = 0;

	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = digits[in[i] >> 4];
		out[o++] = digits[in[i] & 15];
	}
	out[o] = '\0';
}

int
child_signals(void (*stop)(int))
{
	struct sigaction sa;
	pid_t parent = getppid();

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	return getppid() == parent ? 0 : -1;
}

long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
sleep_ms(long long ms)
{
	struct timespec ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000;
	(void)nanosleep(&ts, NULL);
}
