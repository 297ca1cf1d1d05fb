/*
 * test_arena.c: alignment, the cap, zeroed memory, strndup and cleanups.
 *
 * The sanitizer build links the ARENA_MALLOC variant (one malloc per
 * allocation); the release build uses the bump allocator over one block.
 * Both must keep the contract, so fcgi/arena.c is compiled here a second
 * time without ARENA_MALLOC under bump_* names, and every test runs
 * against both.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "arena.h"
#include "testlib.h"

#undef ARENA_MALLOC
#define arena	      bump
#define arena_new     bump_new
#define arena_free    bump_free
#define arena_alloc   bump_alloc
#define arena_strndup bump_strndup
#define arena_cleanup bump_cleanup
#define arena_reset   bump_reset
struct bump *bump_new(size_t);
void bump_free(struct bump *);
void *bump_alloc(struct bump *, size_t);
char *bump_strndup(struct bump *, const char *, size_t);
int bump_cleanup(struct bump *, void (*)(void *), void *);
void bump_reset(struct bump *);
#include "../../fcgi/arena.c"
#undef arena
#undef arena_new
#undef arena_free
#undef arena_alloc
#undef arena_strndup
#undef arena_cleanup
#undef arena_reset

/* One implementation: the linked module or the bump copy. */
struct impl {
	const char *name;
	void *(*new)(size_t);
	void (*free)(void *);
	void *(*alloc)(void *, size_t);
	char *(*strndup)(void *, const char *, size_t);
	int (*cleanup)(void *, void (*)(void *), void *);
	void (*reset)(void *);
};

/* Thin wrappers so that both fit one table of function pointers. */
#define WRAP(pfx, t)                                                     \
	static void *pfx##_w_new(size_t cap)                             \
	{                                                                \
		return pfx##_new(cap);                                   \
	}                                                                \
	static void pfx##_w_free(void *a)                                \
	{                                                                \
		pfx##_free(a);                                           \
	}                                                                \
	static void *pfx##_w_alloc(void *a, size_t n)                    \
	{                                                                \
		return pfx##_alloc((t *)a, n);                           \
	}                                                                \
	static char *pfx##_w_strndup(void *a, const char *s, size_t n)   \
	{                                                                \
		return pfx##_strndup((t *)a, s, n);                      \
	}                                                                \
	static int pfx##_w_cleanup(void *a, void (*fn)(void *), void *p) \
	{                                                                \
		return pfx##_cleanup((t *)a, fn, p);                     \
	}                                                                \
	static void pfx##_w_reset(void *a)                               \
	{                                                                \
		pfx##_reset((t *)a);                                     \
	}

WRAP(arena, struct arena)
WRAP(bump, struct bump)

static struct impl impls[] = {
	{ "linked", arena_w_new, arena_w_free, arena_w_alloc, arena_w_strndup,
	    arena_w_cleanup, arena_w_reset },
	{ "bump", bump_w_new, bump_w_free, bump_w_alloc, bump_w_strndup,
	    bump_w_cleanup, bump_w_reset },
};

static void
test_alignment(void **state)
{
	static const size_t sizes[] = { 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 100 };
	const struct impl *im = *state;
	void *a, *p;
	size_t i, round;

	assert_non_null(a = im->new (4096));
	for (round = 0; round < 2; round++) {
		for (i = 0; i < nitems(sizes); i++) {
			assert_non_null(p = im->alloc(a, sizes[i]));
			if ((uintptr_t)p % _Alignof(max_align_t) != 0)
				fail_msg("%s: %zu bytes at %p", im->name,
				    sizes[i], p);
			/* Writing all n bytes is fine (ASan checks). */
			memset(p, 0xff, sizes[i]);
		}
		im->reset(a);
	}
	im->free(a);
}

static void
test_cap(void **state)
{
	const struct impl *im = *state;
	void *a, *p[8];
	size_t i;

	assert_non_null(a = im->new (64));
	/* Each allocation takes at least one 16-byte slot of the cap. */
	for (i = 0; i < 4; i++)
		assert_non_null(p[i] = im->alloc(a, 1));
	assert_null(im->alloc(a, 1));
	assert_null(im->alloc(a, 0));
	im->reset(a);

	/* After a reset the whole cap is there again. */
	assert_non_null(im->alloc(a, 64));
	assert_null(im->alloc(a, 1));
	im->reset(a);
	assert_null(im->alloc(a, 65));
	assert_non_null(im->alloc(a, 48));
	assert_non_null(im->alloc(a, 16));
	assert_null(im->alloc(a, 16));
	im->reset(a);

	/* Sizes near SIZE_MAX do not wrap around the cap check. */
	assert_null(im->alloc(a, SIZE_MAX));
	assert_null(im->alloc(a, SIZE_MAX - 15));
	assert_null(im->alloc(a, SIZE_MAX / 2 + 1));
	assert_non_null(im->alloc(a, 1));
	im->free(a);
}

static void
test_zeroed(void **state)
{
	const struct impl *im = *state;
	unsigned char *p, zero[256];
	void *a;
	int round;

	memset(zero, 0, sizeof(zero));
	assert_non_null(a = im->new (1024));
	/* Dirty memory, then reuse it: what comes back is zero again. */
	for (round = 0; round < 3; round++) {
		assert_non_null(p = im->alloc(a, sizeof(zero)));
		assert_memory_equal(p, zero, sizeof(zero));
		memset(p, 0xa5, sizeof(zero));
		assert_non_null(p = im->alloc(a, 100));
		assert_memory_equal(p, zero, 100);
		memset(p, 0x5a, 100);
		im->reset(a);
	}
	im->free(a);
}

struct dup_case {
	const char *s;
	size_t n;
	const char *want;
};

static const struct dup_case dup_cases[] = {
	{ "hello", 5, "hello" },
	{ "hello", 3, "hel" },
	{ "hello", 0, "" },
	{ "", 0, "" },
	{ "a\0b", 3, "a" },
};

static void
test_strndup(void **state)
{
	const struct impl *im = *state;
	void *a;
	char *p;
	size_t i;

	assert_non_null(a = im->new (256));
	for (i = 0; i < nitems(dup_cases); i++) {
		assert_non_null(
		    p = im->strndup(a, dup_cases[i].s, dup_cases[i].n));
		assert_string_equal(p, dup_cases[i].want);
		assert_memory_equal(p, dup_cases[i].s, dup_cases[i].n);
		assert_int_equal(p[dup_cases[i].n], '\0');
	}
	assert_null(im->strndup(a, "x", SIZE_MAX));
	/* n + 1 over the cap. */
	im->reset(a);
	assert_null(im->strndup(a, "x", 256));
	im->free(a);
}

/* Cleanups write their argument to a log, in the order they run. */
static int ran[256];
static size_t nran;

static void
note(void *p)
{
	assert_true(nran < nitems(ran));
	ran[nran++] = *(int *)p;
}

static void
test_cleanup_order(void **state)
{
	static int ids[] = { 1, 2, 3, 4, 5 };
	const struct impl *im = *state;
	void *a;
	size_t i;

	assert_non_null(a = im->new (256));
	nran = 0;
	for (i = 0; i < nitems(ids); i++)
		assert_int_equal(im->cleanup(a, note, &ids[i]), 0);
	assert_int_equal(nran, 0);
	im->reset(a);
	/* Newest first, each once. */
	assert_int_equal(nran, nitems(ids));
	for (i = 0; i < nitems(ids); i++)
		assert_int_equal(ran[i], ids[nitems(ids) - 1 - i]);
	im->reset(a);
	assert_int_equal(nran, nitems(ids));

	/* arena_free runs pending cleanups too. */
	assert_int_equal(im->cleanup(a, note, &ids[0]), 0);
	im->free(a);
	assert_int_equal(nran, nitems(ids) + 1);
	assert_int_equal(ran[nitems(ids)], ids[0]);
}

static void
test_cleanup_full(void **state)
{
	static int ids[200];
	const struct impl *im = *state;
	void *a;
	size_t i, n;

	assert_non_null(a = im->new (256));
	for (i = 0; i < nitems(ids); i++)
		ids[i] = (int)i;
	nran = 0;
	for (n = 0; n < nitems(ids); n++)
		if (im->cleanup(a, note, &ids[n]) != 0)
			break;
	/* The table is finite, and not uselessly small. */
	assert_true(n < nitems(ids));
	assert_true(n >= 16);
	/* The one that did not fit ran at once, so the caller may just fail. */
	assert_int_equal(nran, 1);
	assert_int_equal(ran[0], (int)n);
	assert_int_equal(im->cleanup(a, note, &ids[n + 1]), -1);
	assert_int_equal(nran, 2);
	assert_int_equal(ran[1], (int)n + 1);

	/* The registered ones still run at reset, newest first. */
	im->reset(a);
	assert_int_equal(nran, 2 + n);
	for (i = 0; i < n; i++)
		assert_int_equal(ran[2 + i], (int)(n - 1 - i));
	/* And the table is free again. */
	assert_int_equal(im->cleanup(a, note, &ids[0]), 0);
	im->free(a);
	assert_int_equal(nran, 3 + n);
}

/* free(NULL) is a no-op: it runs no cleanup and frees no live arena. */
static void
test_free_null(void **state)
{
	const struct impl *im = *state;
	int id = 42;
	void *a;

	nran = 0;
	assert_non_null(a = im->new (4096));
	assert_int_equal(im->cleanup(a, note, &id), 0);
	im->free(NULL);
	assert_int_equal(nran, 0);
	im->free(a);
	assert_int_equal(nran, 1);
	assert_int_equal(ran[0], 42);
}

#define BOTH(f)                                        \
	{ #f " (linked)", f, NULL, NULL, &impls[0] },  \
	{                                              \
#f " (bump)", f, NULL, NULL, &impls[1] \
	}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH(test_alignment),
		BOTH(test_cap),
		BOTH(test_zeroed),
		BOTH(test_strndup),
		BOTH(test_cleanup_order),
		BOTH(test_cleanup_full),
		BOTH(test_free_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
