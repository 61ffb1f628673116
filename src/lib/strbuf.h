/* strbuf: a growable string buffer. */
#ifndef OFFHEAP_STRBUF_H
#define OFFHEAP_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

/*
 * Invariants: buf is never NULL and always NUL-terminated at buf[len];
 * after strbuf_init it points at a static empty string until something is
 * added. strbuf_release frees and re-initialises; strbuf_detach hands the
 * buffer to the caller (who frees it) and re-initialises.
 * Growth dies on out-of-memory (xalloc).
 */
struct strbuf {
	size_t alloc;	/* bytes allocated for buf, 0 while buf is the static "" */
	size_t len;	/* bytes used, not counting the NUL */
	char *buf;	/* the string */
};

extern char strbuf_slopbuf[];
#define STRBUF_INIT { 0, 0, strbuf_slopbuf }

void strbuf_init(struct strbuf *sb, size_t hint);
void strbuf_release(struct strbuf *sb);
char *strbuf_detach(struct strbuf *sb, size_t *len);
void strbuf_grow(struct strbuf *sb, size_t extra);
void strbuf_reset(struct strbuf *sb);
void strbuf_setlen(struct strbuf *sb, size_t len);
void strbuf_add(struct strbuf *sb, const void *data, size_t len);
void strbuf_addstr(struct strbuf *sb, const char *s);
void strbuf_addch(struct strbuf *sb, int c);
__attribute__((format(printf, 2, 3))) void strbuf_addf(struct strbuf *sb, const char *fmt, ...);
void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap);
/* Remove trailing white space. */
void strbuf_rtrim(struct strbuf *sb);

#endif
