/*
 * geoip.h: the approximate place of a client address, from a
 * MaxMind-format database (GeoLite2-City or -Country, DB-IP lite) read
 * with libmaxminddb; the only libmaxminddb user.
 *
 * One database per process: a worker opens it once after the fork (a
 * reload forks new workers, so SIGHUP re-opens it) and looks an address up
 * only when a session is created or its IP changes.
 */
#ifndef GEOIP_H
#define GEOIP_H

#include <stddef.h>

/* Longest place we return: "City, Country" in bytes, without the NUL. */
#define GEOIP_PLACE_MAX 120

/*
 * Open path ("" closes and means no database). Returns 0, or -1 with a
 * one-line message in err (the previous database, if any, stays open).
 */
int geoip_open(const char *path, char *err, size_t errlen);
void geoip_close(void);

/*
 * Write "City, Country" (English names), or the country alone, into out
 * (GEOIP_PLACE_MAX + 1 bytes) and return 1; return 0 (out empty) without
 * a database, for a malformed, private, loopback or link-local address,
 * and for an address the database does not know.
 */
int geoip_lookup(const char *ip, char out[GEOIP_PLACE_MAX + 1]);

/* 1 when ip is not a public address: private, loopback, link-local, ... */
int geoip_private(const char *ip);

#endif /* GEOIP_H */
