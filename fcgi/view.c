/*
 * view.c: the session object and the audit event as JSON.
 */
#include <stdio.h>

#include "db.h"
#include "json.h"
#include "ua.h"
#include "view.h"

void
view_session(
    struct jw *w, const char *key, const struct session *s, int current)
{
	struct ua_info ua;

	ua_parse_cached(s->ua, s->ch_ua, s->ch_platform, s->ch_mobile, &ua);
	jw_open(w, key, '{');
	jw_str(w, "id", s->id);
	jw_bool(w, "current", current);
	jw_time(w, "created_at", s->created_at);
	jw_time(w, "last_seen_at", s->last_seen_at);
	jw_time(w, "expires_at", s->expires_at);
	jw_time(w, "authenticated_at", s->authenticated_at);
	jw_str(w, "ip", *s->ip != '\0' ? s->ip : NULL);
	jw_str(w, "user_agent", s->ua);
	jw_str(w, "browser", ua.browser);
	jw_str(w, "os", ua.os);
	jw_str(w, "device", ua.device);
	jw_str(w, "location", *s->location != '\0' ? s->location : NULL);
	jw_close(w, '}');
}

void
view_event(struct jw *w, const struct audit_event *e)
{
	struct ua_info ua;
	char id[24];

	snprintf(id, sizeof(id), "%lld", e->id);
	ua_parse_cached(e->ua, e->ch_ua, e->ch_platform, e->ch_mobile, &ua);
	jw_open(w, NULL, '{');
	jw_str(w, "id", id);
	jw_time(w, "at", e->at);
	jw_str(w, "event", e->event);
	jw_str(w, "reason", *e->reason ? e->reason : NULL);
	jw_str(w, "session_id", *e->session_id ? e->session_id : NULL);
	jw_str(w, "target_session_id",
	    *e->target_session_id ? e->target_session_id : NULL);
	jw_str(w, "ip", *e->ip ? e->ip : NULL);
	jw_str(w, "user_agent", e->ua);
	jw_str(w, "browser", ua.browser);
	jw_str(w, "os", ua.os);
	jw_str(w, "device", ua.device);
	jw_str(w, "location", *e->location ? e->location : NULL);
	jw_close(w, '}');
}
