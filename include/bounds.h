/*
 * bounds.h: limits on untrusted input, each with its reason. nginx's
 * limits (nginx/sessiond-api.conf) must not be looser.
 */
#ifndef BOUNDS_H
#define BOUNDS_H

#define BODY_MAX       (16 * 1024) /* contract: 413 above this */
#define COOKIE_MAX     512	   /* ours is about 110 bytes */
#define COOKIE_HDR_MAX 4096	   /* whole Cookie header we scan */
#define JSON_DEPTH_MAX 4	   /* our bodies nest 1 deep */
#define USERNAME_MAX   64	   /* users.username CHECK */
#define PASSWORD_MAX   1024	   /* KDF input; longer is abuse */
#define UA_STORE_MAX   512	   /* stored user agent; NOTIFY < 8000 B */
#define HINT_STORE_MAX 256	   /* each stored client hint */
#define PATH_MAX_LEN   256	   /* longest API path we route */
#define KEPT_MAX       128	   /* kept FastCGI connections a worker polls */
#define QUERY_MAX      512	   /* query string */
#define CURSOR_MAX     128	   /* opaque pagination cursor */
#define PAGE_MAX       100	   /* contract: limit 1..100 */
#define PAGE_DEFAULT   50
#define KEYS_MAX       16	    /* cookie keys accepted at once */
#define KID_MAX	       16	    /* key id length */
#define ARENA_SIZE     (256 * 1024) /* per-request memory cap */
#define LOGIN_WAIT_MAX_MS \
	8000 /* nginx gives up at 10 s: do not
					   hash for a client already gone */

#endif /* BOUNDS_H */
