/*
 * util.h: small pure helpers for untrusted text.
 */
#ifndef UTIL_H
#define UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/*
 * Parse all of s as an integer in base (8 or 10) within [min, max], like
 * OpenBSD's strtonum: no sign games, no trailing bytes, no overflow.
 * Returns 0 and sets *out, or -1.
 */
int parse_ll(
    const char *s, int base, long long min, long long max, long long *out);

/* Unpadded base64url of n bytes into dst (b64url_len(n) + 1 bytes). */
#define b64url_len(n) (((n)*4 + 2) / 3)
void b64url_encode(char *dst, const unsigned char *src, size_t n);

/*
 * Decode exactly len characters of unpadded base64url into dst (room for
 * dstmax bytes). Rejects any other character and non-canonical trailing
 * bits. Returns the byte count, or -1.
 */
long b64url_decode(
    unsigned char *dst, size_t dstmax, const char *src, size_t len);

/* 1 when s[0..len) is well-formed UTF-8 (no overlongs, surrogates). */
int utf8_valid(const char *s, size_t len);

/*
 * Copy at most max bytes of src into dst (max + 1 bytes of room), ending
 * on a character boundary, replacing malformed UTF-8 and control bytes by
 * '?'. For values we store but did not choose, such as a user agent.
 */
void text_clean(char *dst, const char *src, size_t max);

/* RFC 3339 UTC with second precision: 2026-11-28T16:50:24Z (21 bytes). */
#define RFC3339_LEN 20
#define RFC3339_MAX 253402300799LL /* 9999-12-31T23:59:59Z */
void rfc3339(char dst[RFC3339_LEN + 1], time_t t);

/* 8-4-4-4-12 hexadecimal UUID text (either case). */
#define UUID_LEN 36
int uuid_valid(const char *s);

/* UUID text to 16 bytes (0, or -1 if not valid), and back (lower case). */
int uuid_to_bytes(const char *s, unsigned char out[16]);
void uuid_from_bytes(char out[UUID_LEN + 1], const unsigned char in[16]);

/*
 * The signals of a process the master forks (a worker, the scrape
 * server): SIGTERM and SIGINT call stop (no SA_RESTART, so a blocking
 * call returns), SIGHUP and SIGPIPE are ignored, and the master's death,
 * even by SIGKILL, sends SIGTERM. Returns -1 when the master is already
 * gone (the child should end), else 0.
 */
int child_signals(void (*stop)(int));

/* The one clock: monotonic milliseconds, for timeouts and back-off. */
long long now_ms(void);

/* Sleep ms milliseconds, or less when a signal arrives. */
void sleep_ms(long long ms);

#endif /* UTIL_H */
