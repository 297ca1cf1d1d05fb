/*
 * app.c: the table from error to HTTP status line and JSON error body.
 */
#include <stddef.h>

#include "app.h"

static const struct app_err_info errs[APP_ERR__MAX] = {
	[APP_OK] = { 200, "OK", "ok", "OK." },
	[APP_EINVAL] = { 400, "Bad Request", "bad_request",
	    "The request is not valid." },
	[APP_EJSON] = { 400, "Bad Request", "invalid_json",
	    "The request body is not the JSON this endpoint expects." },
	[APP_ELIMIT] = { 400, "Bad Request", "invalid_limit",
	    "limit must be a whole number from 1 to 100." },
	[APP_ECURSOR] = { 400, "Bad Request", "invalid_cursor",
	    "The cursor is not one this service issued." },
	[APP_ESESSID] = { 400, "Bad Request", "invalid_session_id",
	    "The session id is not a valid id." },
	[APP_EPWSHORT] = { 400, "Bad Request", "weak_password",
	    "The new password must be at least 12 characters long." },
	[APP_EPWLONG] = { 400, "Bad Request", "weak_password",
	    "The new password must be at most 128 characters long." },
	[APP_EPWNAME] = { 400, "Bad Request", "weak_password",
	    "The new password must not be or contain your user name." },
	[APP_EPWSAME] = { 400, "Bad Request", "weak_password",
	    "The new password must differ from the current one." },
	[APP_EPWCOMMON] = { 400, "Bad Request", "weak_password",
	    "The new password is a commonly used password; choose another." },
	[APP_EPWDICT] = { 400, "Bad Request", "weak_password",
	    "The new password is based on a dictionary word; choose "
	    "another." },
	[APP_EPWSIMPLE] = { 400, "Bad Request", "weak_password",
	    "The new password is too simple: a palindrome, a long sequence "
	    "(abcdef, 123456) or a repeated character." },
	[APP_EAUTH] = { 401, "Unauthorized", "not_authenticated",
	    "Sign in to continue." },
	[APP_ECREDS] = { 401, "Unauthorized", "invalid_credentials",
	    "The user name or password is not correct." },
	[APP_ECSRF] = { 403, "Forbidden", "csrf_failed",
	    "The request failed the cross-site request check." },
	[APP_EREAUTH] = { 403, "Forbidden", "reauth_required",
	    "Confirm your password to continue." },
	[APP_EDISABLED] = { 403, "Forbidden", "account_disabled",
	    "This account is disabled." },
	[APP_ENOTFOUND] = { 404, "Not Found", "not_found",
	    "There is nothing at this address." },
	[APP_ENOSESS] = { 404, "Not Found", "session_not_found",
	    "No such active session." },
	[APP_EMETHOD] = { 405, "Method Not Allowed", "method_not_allowed",
	    "This method is not allowed here." },
	[APP_ETOOBIG] = { 413, "Content Too Large", "payload_too_large",
	    "The request body is larger than 16384 bytes." },
	[APP_ETYPE] = { 415, "Unsupported Media Type", "unsupported_media_type",
	    "The request body must be application/json." },
	[APP_ETHROTTLE] = { 429, "Too Many Requests", "too_many_requests",
	    "Too many failed attempts; try again later." },
	[APP_EINTERNAL] = { 500, "Internal Server Error", "internal_error",
	    "Something went wrong on our side." },
	[APP_EDBDOWN] = { 503, "Service Unavailable", "database_unavailable",
	    "The session database is not available; try again shortly." },
	[APP_EBUSY] = { 503, "Service Unavailable", "server_busy",
	    "Too many sign-ins at once; try again in a moment." },
};

const char *
app_status_reason(int status)
{
	size_t i;

	/* The one answer that is neither an error nor 200 has no row. */
	if (status == 204)
		return "No Content";
	for (i = 0; i < APP_ERR__MAX; i++)
		if (errs[i].status == status)
			return errs[i].reason;
	return errs[APP_EINTERNAL].reason;
}

const struct app_err_info *
app_err_info(enum app_err e)
{
	if (e < 0 || e >= APP_ERR__MAX)
		e = APP_EINTERNAL;
	return &errs[e];
}
