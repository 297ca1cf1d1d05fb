/*
 * password.c: the rules for new passwords (password.h). The only
 * libpwquality user.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include <pwquality.h>

#include "bounds.h"
#include "log.h"
#include "password.h"

/*
 * The common-password list, built in: one lower-case password per line,
 * sorted bytewise (LC_ALL=C sort -u), NUL-terminated.
 */
__asm__(".section .rodata\n"
	".global sessiond_common_pw\n"
	"sessiond_common_pw:\n"
	".incbin \"fcgi/common-passwords.txt\"\n"
	".byte 0\n"
	".previous\n");
extern const char sessiond_common_pw[];

/* Bytewise comparison of the line at p with key (klen bytes). */
static int
line_cmp(const char *p, const char *key, size_t klen)
{
	size_t i;

	for (i = 0; i < klen && p[i] != '\n' && p[i] != '\0'; i++)
		if (p[i] != key[i])
			return (unsigned char)p[i] < (unsigned char)key[i] ? -1
									   : 1;
	if (i < klen)
		return -1; /* the line is a prefix of key */
	return p[i] == '\n' || p[i] == '\0' ? 0 : 1;
}

/* Binary search over the sorted lines, without an index. */
static int
listed(const char *key, size_t klen)
{
	const char *base = sessiond_common_pw;
	size_t lo = 0, hi = strlen(base), mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		while (mid > lo && base[mid - 1] != '\n')
			mid--;
		c = line_cmp(base + mid, key, klen);
		if (c == 0)
			return 1;
		if (c < 0) {
			while (base[mid] != '\n' && base[mid] != '\0')
				mid++;
			lo = mid + 1;
		} else
			hi = mid;
	}
	return 0;
}

int
password_common(const char *pw)
{
	char low[PASSWORD_MAX + 1];
	size_t n = strlen(pw), i;

	if (n > PASSWORD_MAX)
		return 0;
	for (i = 0; i < n; i++)
		low[i] = (char)tolower((unsigned char)pw[i]);
	low[n] = '\0';
	if (listed(low, n))
		return 1;
	/* "password1234", "dragon!!": the list's word with an ending. */
	while (n > 0 && !isalpha((unsigned char)low[n - 1]) &&
	    (unsigned char)low[n - 1] < 0x80)
		n--;
	return n > 0 && n < strlen(pw) && listed(low, n);
}

static size_t
code_points(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/* Case-insensitive (ASCII) substring test. */
static int
contains_ci(const char *hay, const char *needle)
{
	size_t n = strlen(needle), i, j;

	for (i = 0; hay[i] != '\0'; i++) {
		for (j = 0; j < n && hay[i + j] != '\0' &&
		     tolower((unsigned char)hay[i + j]) ==
			 tolower((unsigned char)needle[j]);
		     j++)
			;
		if (j == n)
			return 1;
	}
	return 0;
}

/* More than 5 of one character in a row ("aaaaaa"), in code points. */
static int
repeats(const char *s)
{
	const char *prev = NULL, *p = s, *q;
	size_t plen = 0, len;
	int run = 0;

	for (; *p != '\0'; p = q) {
		for (q = p + 1; ((unsigned char)*q & 0xc0) == 0x80; q++)
			;
		len = (size_t)(q - p);
		if (prev != NULL && len == plen && memcmp(p, prev, len) == 0) {
			if (++run > 5)
				return 1;
		} else
			run = 1;
		prev = p;
		plen = len;
	}
	return 0;
}

/* libpwquality with our settings: no composition, no config file. */
static enum app_err
pwquality(const char *pw)
{
	static const struct {
		int setting, value;
	} set[] = {
		{ PWQ_SETTING_MIN_LENGTH, 6 }, /* ours is stricter */
		{ PWQ_SETTING_DIG_CREDIT, 0 },
		{ PWQ_SETTING_UP_CREDIT, 0 },
		{ PWQ_SETTING_LOW_CREDIT, 0 },
		{ PWQ_SETTING_OTH_CREDIT, 0 },
		{ PWQ_SETTING_MIN_CLASS, 0 },
		{ PWQ_SETTING_MAX_CLASS_REPEAT, 0 },
		/* MAX_REPEAT reads uninitialised memory in 1.4.5: ours. */
		{ PWQ_SETTING_MAX_REPEAT, 0 },
		{ PWQ_SETTING_MAX_SEQUENCE, 5 }, /* "abcdef", "123456" */
		{ PWQ_SETTING_DICT_CHECK, 1 },
		{ PWQ_SETTING_USER_CHECK, 0 }, /* ours, above */
		{ PWQ_SETTING_GECOS_CHECK, 0 },
	};
	pwquality_settings_t *pwq;
	void *aux = NULL; /* a static string for CRACKLIB_CHECK; not ours */
	size_t i;
	int rc;

	if ((pwq = pwquality_default_settings()) == NULL) {
		log_err("msg=\"pwquality: out of memory\"");
		return APP_EINTERNAL;
	}
	for (i = 0; i < sizeof(set) / sizeof(set[0]); i++)
		pwquality_set_int_value(pwq, set[i].setting, set[i].value);
	rc = pwquality_check(pwq, pw, NULL, NULL, &aux);
	pwquality_free_settings(pwq);
	if (rc >= 0)
		return APP_OK;
	switch (rc) {
	case PWQ_ERROR_CRACKLIB_CHECK:
		/* No dictionary (cracklib-runtime missing): not the user's fault. */
		if (aux != NULL && strstr(aux, "error loading") != NULL) {
			log_err("msg=\"cracklib dictionary missing\" error=%s",
			    log_q(aux));
			return APP_OK;
		}
		return APP_EPWDICT;
	case PWQ_ERROR_PALINDROME:
	case PWQ_ERROR_MAX_SEQUENCE:
	case PWQ_ERROR_MAX_CONSECUTIVE:
	case PWQ_ERROR_ROTATED:
	case PWQ_ERROR_CASE_CHANGES_ONLY:
		return APP_EPWSIMPLE;
	case PWQ_ERROR_MEM_ALLOC:
	case PWQ_ERROR_FATAL_FAILURE:
		log_err("msg=\"pwquality failed\" rc=%d", rc);
		return APP_EINTERNAL;
	default:
		return APP_EPWSIMPLE;
	}
}

enum app_err
password_rules(const char *pw, const char *username, const char *current)
{
	size_t n = code_points(pw);

	if (n < PASSWORD_MIN_CHARS)
		return APP_EPWSHORT;
	if (n > PASSWORD_MAX_CHARS)
		return APP_EPWLONG;
	/* A one- or two-letter name would rule out most passwords. */
	if (strcasecmp(pw, username) == 0 ||
	    (strlen(username) >= 3 && contains_ci(pw, username)))
		return APP_EPWNAME;
	if (current != NULL && strcmp(pw, current) == 0)
		return APP_EPWSAME;
	if (password_common(pw))
		return APP_EPWCOMMON;
	if (repeats(pw))
		return APP_EPWSIMPLE;
	return pwquality(pw);
}
