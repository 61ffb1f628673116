/* Unit tests for strbuf: invariants and growth. */
#include "strbuf.h"
#include "tap.h"

#include <stdlib.h>

int main(void)
{
	struct strbuf sb = STRBUF_INIT;
	char *s;
	size_t len;

	ok(sb.buf && sb.buf[0] == '\0' && sb.len == 0, "init is an empty string");
	strbuf_addstr(&sb, "abc");
	strbuf_addch(&sb, 'd');
	strbuf_addf(&sb, "%d-%s", 42, "x");
	is_str(sb.buf, "abcd42-x", "add, addch, addf");
	for (int i = 0; i < 10000; i++)
		strbuf_addf(&sb, "%04d", i % 10000);
	is_u64(sb.len, 8 + 40000, "grows across many appends");
	ok(sb.buf[sb.len] == '\0', "stays NUL-terminated");
	strbuf_reset(&sb);
	strbuf_addstr(&sb, "trail  \n\t");
	strbuf_rtrim(&sb);
	is_str(sb.buf, "trail", "rtrim");
	s = strbuf_detach(&sb, &len);
	is_str(s, "trail", "detach hands over the string");
	ok(sb.len == 0 && sb.buf[0] == '\0', "detach re-initialises");
	free(s);
	strbuf_addstr(&sb, "held");
	strbuf_release(&sb);
	ok(sb.buf == strbuf_slopbuf && sb.alloc == 0 && sb.len == 0 && sb.buf[0] == '\0',
	   "release frees and re-initialises");
	strbuf_release(&sb);
	ok(sb.buf == strbuf_slopbuf && sb.alloc == 0 && sb.len == 0 && sb.buf[0] == '\0',
	   "a second release leaves it initialised");
	strbuf_addstr(&sb, "again");
	is_str(sb.buf, "again", "usable after a double release");
	strbuf_release(&sb);
	return done_testing();
}
