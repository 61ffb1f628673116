/* xalloc: allocation for the command line — dies on out-of-memory instead of returning NULL. */
#ifndef OFFHEAP_XALLOC_H
#define OFFHEAP_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
/* Grows *arr (of *alloc elements of elem bytes) to hold at least need elements. */
void *xgrow(void *arr, size_t *alloc, size_t need, size_t elem);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* Grow an array: ALLOC_GROW(regions, nr + 1, alloc). */
#define ALLOC_GROW(arr, need, alloc) ((arr) = xgrow((arr), &(alloc), (need), sizeof(*(arr))))

#endif
