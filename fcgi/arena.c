/*
 * arena.c: a bump allocator over one block, capped, with cleanups.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"

#define ALIGN	     16
#define CLEANUPS_MAX 64

struct cleanup {
	void (*fn)(void *);
	void *p;
};

struct arena {
	size_t cap;
	size_t used;
	size_t ncleanup;
	struct cleanup cleanups[CLEANUPS_MAX];
#ifdef ARENA_MALLOC
	void **ptrs;
	size_t nptrs, maxptrs;
#else
	unsigned char *base;
#endif
};

struct arena *
arena_new(size_t cap)
{
	struct arena *a;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	a->cap = cap;
#ifdef ARENA_MALLOC
	a->maxptrs = 1024;
	if ((a->ptrs = calloc(a->maxptrs, sizeof(void *))) == NULL) {
		free(a);
		return NULL;
	}
#else
	if ((a->base = malloc(cap)) == NULL) {
		free(a);
		return NULL;
	}
#endif
	return a;
}

void
arena_free(struct arena *a)
{
	if (a == NULL)
		return;
	arena_reset(a);
#ifdef ARENA_MALLOC
	free(a->ptrs);
#else
	free(a->base);
#endif
	free(a);
}

void *
arena_alloc(struct arena *a, size_t n)
{
	size_t need;
	void *p;

	if (n == 0)
		n = 1;
	if (n > SIZE_MAX - ALIGN)
		return NULL;
	need = (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
	if (need > a->cap - a->used)
		return NULL;
#ifdef ARENA_MALLOC
	if (a->nptrs == a->maxptrs)
		return NULL;
	if ((p = calloc(1, n)) == NULL)
		return NULL;
	a->ptrs[a->nptrs++] = p;
#else
	p = a->base + a->used;
	memset(p, 0, n);
#endif
	a->used += need;
	return p;
}

char *
arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p;

	if (n == SIZE_MAX || (p = arena_alloc(a, n + 1)) == NULL)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

int
arena_cleanup(struct arena *a, void (*fn)(void *), void *p)
{
	if (a->ncleanup == CLEANUPS_MAX) {
		fn(p);
		return -1;
	}
	a->cleanups[a->ncleanup].fn = fn;
	a->cleanups[a->ncleanup].p = p;
	a->ncleanup++;
	return 0;
}

void
arena_reset(struct arena *a)
{
	while (a->ncleanup > 0) {
		a->ncleanup--;
		a->cleanups[a->ncleanup].fn(a->cleanups[a->ncleanup].p);
	}
#ifdef ARENA_MALLOC
	while (a->nptrs > 0)
		free(a->ptrs[--a->nptrs]);
#endif
	a->used = 0;
}
