/*
 * nmtbase: formats and parses the header of offheap's own NMT baseline
 * (see nmtbase.h for the format). The header is one line of at most 512
 * bytes of "key=VALUE" words; the keys may come in any order.
 */
#include "nmtbase.h"
#include "parse.h"
#include "strbuf.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define NMTBASE_MAGIC "offheap-nmt-baseline 1 "
#define NMTBASE_MAX_HEADER 512

void nmtbase_format_header(struct strbuf *out, pid_t pid, uint64_t start, int64_t time,
			   const char *kind, size_t bytes)
{
	strbuf_addf(out, NMTBASE_MAGIC "pid=%d start=%" PRIu64 " time=%lld kind=%s bytes=%zu\n",
		    (int)pid, start, (long long)time, kind, bytes);
}

/* Reads "key=VALUE" from the header line into *v. */
static bool header_u64(const char *head, const char *key, uint64_t *v)
{
	const char *p = strstr(head, key);
	char num[24];
	size_t n;

	if (!p || (p != head && p[-1] != ' '))
		return false;
	p += strlen(key);
	n = strspn(p, "0123456789");
	if (!n || n >= sizeof(num))
		return false;
	memcpy(num, p, n);
	num[n] = '\0';
	return !parse_u64(num, v);
}

int nmtbase_parse(const char *buf, size_t len, struct nmtbase *b)
{
	const char *nl = memchr(buf, '\n', len);
	char head[NMTBASE_MAX_HEADER + 8];
	size_t hlen;

	memset(b, 0, sizeof(*b));
	if (len < strlen(NMTBASE_MAGIC) || strncmp(buf, NMTBASE_MAGIC, strlen(NMTBASE_MAGIC)) ||
	    !nl || nl - buf > NMTBASE_MAX_HEADER)
		return -ENOMSG;
	hlen = nl - buf + 1;
	snprintf(head, sizeof(head), "%.*s", (int)(hlen - 1), buf);
	if (!header_u64(head, "pid=", &b->pid) || !header_u64(head, "start=", &b->start) ||
	    !header_u64(head, "bytes=", &b->bytes) || !header_u64(head, "time=", &b->time))
		return -EBADMSG;
	b->have = len - hlen;
	b->text = hlen - 1;
	return b->have != b->bytes ? -EMSGSIZE : 0;
}
