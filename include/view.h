/*
 * view.h: the contract's objects rendered as JSON (section 3's session
 * object, section 4's audit event) with json.h's writer. The handlers
 * call it; the body parser knows nothing of sessions.
 */
#ifndef VIEW_H
#define VIEW_H

struct audit_event;
struct jw;
struct session;

/*
 * The session object s as member key of w (NULL: an array element);
 * current marks the acting session. browser, os and device come from
 * its user agent and client hints.
 */
void view_session(
    struct jw *w, const char *key, const struct session *s, int current);

/* The audit event e as an array element of w. */
void view_event(struct jw *w, const struct audit_event *e);

#endif /* VIEW_H */
