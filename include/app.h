/*
 * app.h: what every handler is given besides the request (struct app),
 * and the one error type. Every failure is logged where it is found and
 * passed up as an enum app_err; the worker maps it to a status and JSON
 * body from one table (app.c), nowhere else.
 */
#ifndef APP_H
#define APP_H

#include "config.h"
#include "keyring.h"

struct db;

/* Everything a handler may use besides the request. */
struct app {
	struct config cfg;
	struct keyring keys;
	struct db *db;
	long long hash_ms; /* what this worker's password hashes take lately */
};

enum app_err {
	APP_OK = 0,
	APP_EINVAL,    /* 400 bad_request */
	APP_EJSON,     /* 400 invalid_json */
	APP_ELIMIT,    /* 400 invalid_limit */
	APP_ECURSOR,   /* 400 invalid_cursor */
	APP_ESESSID,   /* 400 invalid_session_id */
	APP_EPWSHORT,  /* 400 weak_password: under 12 characters */
	APP_EPWLONG,   /* 400 weak_password: over 128 characters */
	APP_EPWNAME,   /* 400 weak_password: the user name */
	APP_EPWSAME,   /* 400 weak_password: the current password */
	APP_EPWCOMMON, /* 400 weak_password: a common password */
	APP_EPWDICT,   /* 400 weak_password: a dictionary word */
	APP_EPWSIMPLE, /* 400 weak_password: palindrome, sequence */
	APP_EAUTH,     /* 401 not_authenticated */
	APP_ECREDS,    /* 401 invalid_credentials */
	APP_ECSRF,     /* 403 csrf_failed */
	APP_EREAUTH,   /* 403 reauth_required */
	APP_EDISABLED, /* 403 account_disabled */
	APP_ENOTFOUND, /* 404 not_found */
	APP_ENOSESS,   /* 404 session_not_found */
	APP_EMETHOD,   /* 405 method_not_allowed */
	APP_ETOOBIG,   /* 413 payload_too_large */
	APP_ETYPE,     /* 415 unsupported_media_type */
	APP_ETHROTTLE, /* 429 too_many_requests */
	APP_EINTERNAL, /* 500 internal_error, already logged */
	APP_EDBDOWN,   /* 503 database_unavailable */
	APP_EBUSY,     /* 503 server_busy */
	APP_ERR__MAX
};

struct app_err_info {
	int status;
	const char *reason; /* the status line's reason phrase (RFC 9110) */
	const char *code;
	const char *message;
};

/* Status, reason, code and message of an error; the table is app.c's. */
const struct app_err_info *app_err_info(enum app_err);

/*
 * The reason phrase of an HTTP status the service answers with (the
 * table's, or 204's); an unknown status is answered as a 500.
 */
const char *app_status_reason(int status);

#endif /* APP_H */
