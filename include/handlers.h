/*
 * handlers.h: one function per endpoint. Each runs after the worker's
 * checks (route, body, session, CSRF, recent auth) have passed, fills
 * r->resp on success and returns an enum app_err otherwise.
 */
#ifndef HANDLERS_H
#define HANDLERS_H

#include "app.h"

struct app;
struct req;

enum app_err h_health(struct app *, struct req *);
enum app_err h_login(struct app *, struct req *);
enum app_err h_logout(struct app *, struct req *);
enum app_err h_reauth(struct app *, struct req *);
enum app_err h_password(struct app *, struct req *);
enum app_err h_current(struct app *, struct req *);
enum app_err h_list(struct app *, struct req *);
enum app_err h_status(struct app *, struct req *);
enum app_err h_revoke(struct app *, struct req *);
enum app_err h_revoke_others(struct app *, struct req *);
enum app_err h_audit(struct app *, struct req *);

/* Prepare steps (see route.h): parse parameters, queue the read. */
enum app_err p_list(struct app *, struct req *);
enum app_err p_status(struct app *, struct req *);
enum app_err p_audit(struct app *, struct req *);
enum app_err p_revoke(struct app *, struct req *);
enum app_err p_revoke_others(struct app *, struct req *);
enum app_err p_logout(struct app *, struct req *);

#endif /* HANDLERS_H */
