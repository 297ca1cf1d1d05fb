/*
 * arena.h: per-request memory. Each worker owns one capped arena; request
 * memory comes from it and is released by one arena_reset() after the
 * answer. Objects with their own free function are registered with
 * arena_cleanup() the moment they exist, so early returns cannot leak.
 *
 * Built with -DARENA_MALLOC (the sanitizer build), every allocation is its
 * own malloc so that AddressSanitizer sees exact bounds.
 */
#ifndef ARENA_H
#define ARENA_H

#include <stddef.h>

struct arena;

/* A new arena of cap bytes, or NULL. */
struct arena *arena_new(size_t cap);
void arena_free(struct arena *);

/* n zeroed bytes, aligned for any type; NULL when the cap is reached. */
void *arena_alloc(struct arena *, size_t n);

/* A copy of s (n bytes plus a NUL) in the arena, or NULL. */
char *arena_strndup(struct arena *, const char *s, size_t n);

/*
 * Call fn(p) at the next reset. Returns 0, or -1 (then fn(p) has already
 * been called, so the caller may simply fail).
 */
int arena_cleanup(struct arena *, void (*fn)(void *), void *p);

/* Run the cleanups (newest first) and release all memory. */
void arena_reset(struct arena *);

#endif /* ARENA_H */
