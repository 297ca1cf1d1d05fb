/*
 * password.h: the rules a new password must meet (ASVS V2.1, no
 * composition rules): 12 to 128 Unicode code points, any characters; not
 * the user name nor containing it; not the current password; not a
 * common password (fcgi/common-passwords.txt, zxcvbn's frequency list,
 * matched case-insensitively, also with trailing digits and symbols
 * removed); and libpwquality's checks (cracklib's dictionary,
 * palindromes, simple sequences and repetitions).
 */
#ifndef PASSWORD_H
#define PASSWORD_H

#include "app.h"

#define PASSWORD_MIN_CHARS 12  /* code points */
#define PASSWORD_MAX_CHARS 128 /* code points */

/*
 * Check pw (valid UTF-8, NUL-terminated) as the new password of username,
 * whose current password is current (NULL: unknown, not compared).
 * Returns APP_OK or the APP_EPW* error naming the rule broken.
 */
enum app_err password_rules(
    const char *pw, const char *username, const char *current);

/* 1 when pw (any case, trailing digits and symbols too) is common. */
int password_common(const char *pw);

#endif /* PASSWORD_H */
