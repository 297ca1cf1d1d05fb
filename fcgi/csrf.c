/*
 * csrf.c: the session's CSRF token.
 */
#include <string.h>

#include "crypto.h"
#include "csrf.h"
#include "util.h"

void
csrf_token(char out[CSRF_LEN + 1], const unsigned char token[TOKEN_LEN])
{
	unsigned char mac[SHA256_LEN];

	crypto_hmac(mac, token, TOKEN_LEN, "csrf", 4);
	b64url_encode(out, mac, sizeof(mac));
}

int
csrf_check(const char *header, const unsigned char token[TOKEN_LEN])
{
	char want[CSRF_LEN + 1];

	if (header == NULL || strlen(header) != CSRF_LEN)
		return 0;
	csrf_token(want, token);
	return crypto_equal(header, want, CSRF_LEN);
}
