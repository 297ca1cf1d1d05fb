/*
 * geoip.c: client address to "City, Country" with libmaxminddb.
 *
 * The names come from a file the operator downloaded: they are shown to
 * the user and put in mail, so they pass through text_clean (no control
 * bytes, valid UTF-8, bounded) like any other value we did not choose.
 */
#include <arpa/inet.h>
#include <maxminddb.h>
#include <stdio.h>
#include <string.h>

#include "geoip.h"
#include "log.h"
#include "util.h"

/* "City, Country" fits GEOIP_PLACE_MAX. */
#define COUNTRY_MAX (GEOIP_PLACE_MAX / 2)
#define CITY_MAX    (GEOIP_PLACE_MAX - COUNTRY_MAX - 2)

static MMDB_s mmdb;
static int have_db;

int
geoip_open(const char *path, char *err, size_t errlen)
{
	MMDB_s next;
	int rc;

	if (path == NULL || *path == '\0') {
		geoip_close();
		return 0;
	}
	if ((rc = MMDB_open(path, MMDB_MODE_MMAP, &next)) != MMDB_SUCCESS) {
		snprintf(err, errlen, "geoip_database \"%.200s\": %s", path,
		    MMDB_strerror(rc));
		return -1;
	}
	geoip_close();
	mmdb = next;
	have_db = 1;
	return 0;
}

void
geoip_close(void)
{
	if (have_db)
		MMDB_close(&mmdb);
	have_db = 0;
}

/* Is the address inside prefix/bits (both in network order, len bytes)? */
static int
in_prefix(const unsigned char *a, const unsigned char *prefix, int bits)
{
	int i;

	for (i = 0; bits >= 8; i++, bits -= 8)
		if (a[i] != prefix[i])
			return 0;
	return bits == 0 || (a[i] >> (8 - bits)) == (prefix[i] >> (8 - bits));
}

int
geoip_private(const char *ip)
{
	/* The ranges no database places: RFC 1918, loopback, link-local,
	 * shared (CGNAT), "this network"; IPv6 loopback, ULA, link-local. */
	static const struct {
		unsigned char p[4];
		int bits;
	} v4[] = {
		{ { 10, 0, 0, 0 }, 8 },
		{ { 172, 16, 0, 0 }, 12 },
		{ { 192, 168, 0, 0 }, 16 },
		{ { 127, 0, 0, 0 }, 8 },
		{ { 169, 254, 0, 0 }, 16 },
		{ { 100, 64, 0, 0 }, 10 },
		{ { 0, 0, 0, 0 }, 8 },
	};
	static const struct {
		unsigned char p[16];
		int bits;
	} v6[] = {
		{ { 0xfc }, 7 }, { { 0xfe, 0x80 }, 10 },
		{ { 0 }, 127 }, /* :: and ::1 */
	};
	static const unsigned char mapped[12] = { [10] = 0xff, [11] = 0xff };
	unsigned char a[16];
	const unsigned char *a4 = a;
	size_t i;

	if (ip == NULL)
		return 1;
	if (inet_pton(AF_INET6, ip, a) == 1) {
		if (memcmp(a, mapped, sizeof(mapped)) != 0) {
			for (i = 0; i < sizeof(v6) / sizeof(v6[0]); i++)
				if (in_prefix(a, v6[i].p, v6[i].bits))
					return 1;
			return 0;
		}
		a4 = a + 12;
	} else if (inet_pton(AF_INET, ip, a) != 1)
		return 1;
	for (i = 0; i < sizeof(v4) / sizeof(v4[0]); i++)
		if (in_prefix(a4, v4[i].p, v4[i].bits))
			return 1;
	return 0;
}

/*
 * The English name at path (NULL-terminated) of the entry, cleaned and cut
 * to at most max bytes on a character boundary.
 */
static int
name(MMDB_entry_s *entry, char *out, size_t max, const char *const *path)
{
	MMDB_entry_data_s d;
	char raw[GEOIP_PLACE_MAX + 1];
	size_t n;

	if (MMDB_aget_value(entry, &d, path) != MMDB_SUCCESS || !d.has_data ||
	    d.type != MMDB_DATA_TYPE_UTF8_STRING || d.data_size == 0)
		return 0;
	n = d.data_size < GEOIP_PLACE_MAX ? d.data_size : GEOIP_PLACE_MAX;
	memcpy(raw, d.utf8_string, n);
	raw[n] = '\0';
	text_clean(out, raw, max);
	return 1;
}

int
geoip_lookup(const char *ip, char out[GEOIP_PLACE_MAX + 1])
{
	static const char *const city_path[] = { "city", "names", "en", NULL };
	static const char *const country_path[] = { "country", "names", "en",
		NULL };
	MMDB_lookup_result_s res;
	char city[CITY_MAX + 1], country[COUNTRY_MAX + 1];
	int gai, rc;

	out[0] = '\0';
	if (!have_db || geoip_private(ip))
		return 0;
	res = MMDB_lookup_string(&mmdb, ip, &gai, &rc);
	if (gai != 0 || rc != MMDB_SUCCESS) {
		log_warn("msg=\"geoip lookup failed\" error=\"%s\"",
		    gai != 0 ? gai_strerror(gai) : MMDB_strerror(rc));
		return 0;
	}
	if (!res.found_entry ||
	    !name(&res.entry, country, COUNTRY_MAX, country_path))
		return 0;
	if (name(&res.entry, city, CITY_MAX, city_path))
		snprintf(out, GEOIP_PLACE_MAX + 1, "%s, %s", city, country);
	else
		snprintf(out, GEOIP_PLACE_MAX + 1, "%s", country);
	return 1;
}
