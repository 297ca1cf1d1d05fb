/*
 * test_view.c: the contract's session object and audit event: every
 * member, null where there is nothing, and hostile text kept as text.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "db.h"
#include "json.h"
#include "ua.h"
#include "view.h"
#include "testlib.h"

#define FIREFOX                                                     \
	"Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 " \
	"Firefox/133.0"

static void
test_session(void **state)
{
	static const char *const keys[] = { "id", "current", "created_at",
		"last_seen_at", "expires_at", "authenticated_at", "ip",
		"user_agent", "browser", "os", "device", "location" };
	struct session s;
	struct ua_info ua;
	struct jw w;
	json_object *o, *v;

	memset(&s, 0, sizeof(s));
	s.id = "0b6c3f4e-2a1d-4c8b-9e7f-1234567890ab";
	s.user_id = 7;
	s.created_at = 1795884624;
	s.last_seen_at = 1795884684;
	s.expires_at = 1795971084;
	s.authenticated_at = 1795884624;
	s.ip = "203.0.113.7";
	s.ua = FIREFOX;
	s.ch_ua = s.ch_platform = s.ch_mobile = "";
	s.location = "Berlin, Germany";

	jw_init(&w, *state);
	view_session(&w, NULL, &s, 1);
	o = parse_out(&w);
	assert_members(o, keys, nitems(keys));
	assert_string_equal(member(o, "id"), s.id);
	assert_true(json_object_object_get_ex(o, "current", &v));
	assert_true(json_object_is_type(v, json_type_boolean));
	assert_true(json_object_get_boolean(v));
	assert_string_equal(member(o, "created_at"), "2026-11-28T16:50:24Z");
	assert_string_equal(member(o, "last_seen_at"), "2026-11-28T16:51:24Z");
	assert_string_equal(member(o, "expires_at"), "2026-11-29T16:51:24Z");
	assert_string_equal(
	    member(o, "authenticated_at"), "2026-11-28T16:50:24Z");
	assert_string_equal(member(o, "ip"), "203.0.113.7");
	assert_string_equal(member(o, "user_agent"), s.ua);
	ua_parse(s.ua, s.ch_ua, s.ch_platform, s.ch_mobile, &ua);
	assert_string_equal(member(o, "browser"), ua.browser);
	assert_string_equal(member(o, "os"), ua.os);
	assert_string_equal(member(o, "device"), ua.device);
	assert_string_equal(ua.browser, "Firefox 133");
	assert_string_equal(ua.os, "Linux");
	assert_string_equal(member(o, "location"), "Berlin, Germany");
	json_object_put(o);

	/* No address or place: null, not "". Not current: false. Hostile
	 * UA: text. */
	s.ip = "";
	s.location = "";
	s.ua = "<img src=x onerror=alert(1)>";
	jw_init(&w, *state);
	view_session(&w, NULL, &s, 0);
	o = parse_out(&w);
	assert_true(json_object_object_get_ex(o, "ip", &v));
	assert_null(v);
	assert_true(json_object_object_get_ex(o, "location", &v));
	assert_null(v);
	assert_true(json_object_object_get_ex(o, "current", &v));
	assert_false(json_object_get_boolean(v));
	assert_string_equal(member(o, "user_agent"), s.ua);
	assert_string_equal(member(o, "browser"), "Unknown");
	json_object_put(o);
}

static void
test_event(void **state)
{
	static const char *const keys[] = { "id", "at", "event", "reason",
		"session_id", "target_session_id", "ip", "user_agent",
		"browser", "os", "device", "location" };
	struct audit_event e = {
		.id = 1234567890123LL,
		.at = 1795884624,
		.event = "session.revoked",
		.reason = "user",
		.session_id = "0b6c3f4e-2a1d-4c8b-9e7f-1234567890ab",
		.target_session_id = "1b6c3f4e-2a1d-4c8b-9e7f-1234567890ab",
		.ip = "203.0.113.7",
		.ua = FIREFOX,
		.ch_ua = "",
		.ch_platform = "",
		.ch_mobile = "",
		.location = "Berlin, Germany",
	};
	struct jw w;
	json_object *o, *v;
	size_t i;

	jw_init(&w, *state);
	view_event(&w, &e);
	o = parse_out(&w);
	assert_members(o, keys, nitems(keys));
	/* The id is a string: JavaScript's numbers stop at 2^53. */
	assert_true(json_object_object_get_ex(o, "id", &v));
	assert_true(json_object_is_type(v, json_type_string));
	assert_string_equal(member(o, "id"), "1234567890123");
	assert_string_equal(member(o, "at"), "2026-11-28T16:50:24Z");
	assert_string_equal(member(o, "event"), "session.revoked");
	assert_string_equal(member(o, "reason"), "user");
	assert_string_equal(member(o, "session_id"), e.session_id);
	assert_string_equal(
	    member(o, "target_session_id"), e.target_session_id);
	assert_string_equal(member(o, "browser"), "Firefox 133");
	assert_string_equal(member(o, "location"), "Berlin, Germany");
	json_object_put(o);

	/* Nothing to say: null, not "". */
	e.reason = e.session_id = e.target_session_id = e.ip = e.location = "";
	e.ua = "<img src=x onerror=alert(1)>";
	jw_init(&w, *state);
	view_event(&w, &e);
	o = parse_out(&w);
	for (i = 3; i < 7; i++) {
		assert_true(json_object_object_get_ex(o, keys[i], &v));
		assert_null(v);
	}
	assert_true(json_object_object_get_ex(o, "location", &v));
	assert_null(v);
	assert_string_equal(member(o, "user_agent"), e.ua);
	json_object_put(o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_session),
		T(test_event),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
