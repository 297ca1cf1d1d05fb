/*
 * ua.h: user agent to browser, OS and device class; a pure function.
 *
 * The User-Agent string gives the families; User-Agent Client Hints, when
 * the browser sends them, refine them (browsers freeze the OS part of the
 * UA string, and Sec-CH-UA names the real brand and major version).
 */
#ifndef UA_H
#define UA_H

#define UA_FIELD_MAX 48

struct ua_info {
	char browser[UA_FIELD_MAX]; /* "Firefox 133", "Unknown" */
	char os[UA_FIELD_MAX];	    /* "Windows", "macOS", "Linux", ... */
	char device[UA_FIELD_MAX];  /* "Desktop", "Phone", "Tablet" */
};

/*
 * Fill out from the User-Agent and the three client hint headers, any of
 * which may be NULL or empty. Never fails: what is not recognised is
 * "Unknown". Reads at most a bounded prefix of each input.
 */
void ua_parse(const char *ua, const char *ch_ua, const char *ch_platform,
    const char *ch_mobile, struct ua_info *out);

/*
 * The same, remembering recent results in this process: for callers that
 * see the same agents again and again (every session list).
 */
void ua_parse_cached(const char *ua, const char *ch_ua, const char *ch_platform,
    const char *ch_mobile, struct ua_info *out);

#endif /* UA_H */
