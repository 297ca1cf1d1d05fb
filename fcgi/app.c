/*
 * app.c: the table from error to HTTP status and JSON error body.
 */
#include "app.h"

static const struct app_err_info errs[APP_ERR__MAX] = {
	[APP_OK] = { 200, "ok", "OK." },
	[APP_EINVAL] = { 400, "bad_request", "The request is not valid." },
	[APP_EJSON] = { 400, "invalid_json",
	    "The request body is not the JSON this endpoint expects." },
	[APP_ELIMIT] = { 400, "invalid_limit",
	    "limit must be a whole number from 1 to 100." },
	[APP_ECURSOR] = { 400, "invalid_cursor",
	    "The cursor is not one this service issued." },
	[APP_ESESSID] = { 400, "invalid_session_id",
	    "The session id is not a valid id." },
	[APP_EPWSHORT] = { 400, "weak_password",
	    "The new password must be at least 12 characters long." },
	[APP_EPWLONG] = { 400, "weak_password",
	    "The new password must be at most 128 characters long." },
	[APP_EPWNAME] = { 400, "weak_password",
	    "The new password must not be or contain your user name." },
	[APP_EPWSAME] = { 400, "weak_password",
	    "The new password must differ from the current one." },
	[APP_EPWCOMMON] = { 400, "weak_password",
	    "The new password is a commonly used password; choose another." },
	[APP_EPWDICT] = { 400, "weak_password",
	    "The new password is based on a dictionary word; choose "
	    "another." },
	[APP_EPWSIMPLE] = { 400, "weak_password",
	    "The new password is too simple: a palindrome, a long sequence "
	    "(abcdef, 123456) or a repeated character." },
	[APP_EAUTH] = { 401, "not_authenticated", "Sign in to continue." },
	[APP_ECREDS] = { 401, "invalid_credentials",
	    "The user name or password is not correct." },
	[APP_ECSRF] = { 403, "csrf_failed",
	    "The request failed the cross-site request check." },
	[APP_EREAUTH] = { 403, "reauth_required",
	    "Confirm your password to continue." },
	[APP_EDISABLED] = { 403, "account_disabled",
	    "This account is disabled." },
	[APP_ENOTFOUND] = { 404, "not_found",
	    "There is nothing at this address." },
	[APP_ENOSESS] = { 404, "session_not_found", "No such active session." },
	[APP_EMETHOD] = { 405, "method_not_allowed",
	    "This method is not allowed here." },
	[APP_ETOOBIG] = { 413, "payload_too_large",
	    "The request body is larger than 16384 bytes." },
	[APP_ETYPE] = { 415, "unsupported_media_type",
	    "The request body must be application/json." },
	[APP_ETHROTTLE] = { 429, "too_many_requests",
	    "Too many failed attempts; try again later." },
	[APP_EINTERNAL] = { 500, "internal_error",
	    "Something went wrong on our side." },
	[APP_EDBDOWN] = { 503, "database_unavailable",
	    "The session database is not available; try again shortly." },
	[APP_EBUSY] = { 503, "server_busy",
	    "Too many sign-ins at once; try again in a moment." },
};

const struct app_err_info *
app_err_info(enum app_err e)
{
	if (e < 0 || e >= APP_ERR__MAX)
		e = APP_EINTERNAL;
	return &errs[e];
}
