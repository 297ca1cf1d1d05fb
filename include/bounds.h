/*
 * bounds.h: limits on untrusted input, each with its reason, and on what
 * we send back. nginx's limits (nginx/sessiond-api.conf) must not be
 * looser. No other file sizes a buffer for input with a bare number.
 */
#ifndef BOUNDS_H
#define BOUNDS_H

#define BODY_MAX	  (16 * 1024) /* contract: 413 above this */
#define COOKIE_MAX	  512	      /* ours is about 110 bytes */
#define COOKIE_HDR_MAX	  4096	      /* whole Cookie header we scan */
#define JSON_DEPTH_MAX	  4	      /* our bodies nest 1 deep */
#define USERNAME_MAX	  64	      /* users.username CHECK */
#define PASSWORD_MAX	  1024	      /* KDF input; longer is abuse */
#define UA_STORE_MAX	  512	      /* stored user agent; NOTIFY < 8000 B */
#define HINT_STORE_MAX	  256	      /* each stored client hint */
#define PATH_MAX_LEN	  256	      /* longest API path we route */
#define KEPT_MAX	  128 /* kept FastCGI connections a worker polls */
#define QUERY_MAX	  512 /* query string */
#define CURSOR_MAX	  128 /* opaque pagination cursor */
#define PAGE_MAX	  100 /* contract: limit 1..100 */
#define PAGE_DEFAULT	  50
#define KEYS_MAX	  16	       /* cookie keys accepted at once */
#define KID_MAX		  16	       /* key id length */
#define ARENA_SIZE	  (256 * 1024) /* per-request memory cap */
/*
 * A login is answered within 2 s (the brief), done or refused: one whose
 * hash would end later than this after nginx handed it over is refused
 * unhashed. The rest of the 2 s is the database work, the way back, and a
 * hash slower than the recent ones (beside a busy main pool, at
 * login_nice, they vary by a few hundred ms; at 1.8 s make bench's storm
 * came within 0.11 s of the 2 s).
 */
#define LOGIN_ANSWER_MS	  1500
/*
 * Re-auth and the password form come from a signed-in owner (throttled
 * per session): they wait behind a stranger's flood of logins, at most
 * the budget above of them, rather than be refused by it. Only one nginx
 * has given up on (at 10 s) is skipped.
 */
#define OWNER_WAIT_MAX_MS 8000

/*
 * Scanning limits: past these the bytes are padding or an attack, and the
 * cost of reading must not follow the length an attacker chooses.
 */
/* Real user agents are under 400 bytes, client hints under 200. */
#define UA_SCAN_MAX	   1024
/* ua.c's cache key: the four inputs; longer ones are parsed every time. */
#define UA_CACHE_KEY_MAX   1024
/* A Host with its port: a DNS name is 253 bytes, "[v6]:65535" less. */
#define HOST_PORT_MAX	   300
/* "https://" and a Host with its port: the Origin we expect. */
#define ORIGIN_MAX	   (8 + HOST_PORT_MAX)
/* A scrape's request line and headers (metrics_listen): Prometheus sends
 * about 300 bytes. */
#define SCRAPE_REQUEST_MAX 4096
/* Digits of a number we parse (parse_ll): 2^63 has 19. */
#define NUM_DIGITS_MAX	   20

/* What we send: headers per response and one header line. */
#define RESP_HEADERS_MAX     8
#define RESP_HEADER_LINE_MAX 512
/* A mail address: RFC 5321's path limit; users.email CHECK too. */
#define EMAIL_MAX	     254
/* A server's (PostgreSQL's) message kept for one log line. */
#define SERVER_MSG_MAX	     512

#endif /* BOUNDS_H */
