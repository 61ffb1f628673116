/* Unit tests for nmtbase: the header of offheap's NMT baseline, written and read back. */
#include "tap.h"
#include "nmtbase.h"
#include "strbuf.h"

#include <errno.h>
#include <string.h>

static const char text[] = "\nNative Memory Tracking:\n\nTotal: reserved=100KB, committed=50KB\n";

int main(void)
{
	struct strbuf sb = STRBUF_INIT;
	struct nmtbase b;
	size_t tlen = sizeof(text) - 1;

	nmtbase_format_header(&sb, 4242, 987654, 1700000000, "summary", tlen);
	is_str(sb.buf,
	       "offheap-nmt-baseline 1 pid=4242 start=987654 time=1700000000 kind=summary "
	       "bytes=64\n",
	       "the header line");
	strbuf_add(&sb, text, tlen);
	is_int(nmtbase_parse(sb.buf, sb.len, &b), 0, "a whole baseline parses");
	is_u64(b.pid, 4242, "pid");
	is_u64(b.start, 987654, "start");
	is_u64(b.time, 1700000000, "time");
	is_u64(b.bytes, tlen, "bytes");
	ok(b.text == (size_t)(strchr(sb.buf, '\n') - sb.buf), "the text from the header's newline");
	is_int(nmtbase_parse(sb.buf, sb.len - 5, &b), -EMSGSIZE, "a cut-off text");
	is_u64(b.have, tlen - 5, "the bytes there are");

	is_int(nmtbase_parse("", 0, &b), -ENOMSG, "empty: not a baseline");
	is_int(nmtbase_parse(text, tlen, &b), -ENOMSG, "the JVM's text alone: not a baseline");
	strbuf_reset(&sb);
	strbuf_addstr(&sb, "offheap-nmt-baseline 1 pid=1 start=2");
	is_int(nmtbase_parse(sb.buf, sb.len, &b), -ENOMSG, "no header line: not a baseline");
	strbuf_addstr(&sb, " time=3 kind=summary\n");
	is_int(nmtbase_parse(sb.buf, sb.len, &b), -EBADMSG, "no bytes=: a damaged header");
	strbuf_reset(&sb);
	strbuf_addstr(&sb, "offheap-nmt-baseline 1 xpid=1 start=2 time=3 bytes=0\n");
	is_int(nmtbase_parse(sb.buf, sb.len, &b), -EBADMSG, "xpid= is not pid=");
	strbuf_reset(&sb);
	strbuf_addstr(&sb, "offheap-nmt-baseline 1 ");
	for (int i = 0; i < 600; i++)
		strbuf_addch(&sb, 'x');
	strbuf_addstr(&sb, " pid=1 start=2 time=3 bytes=0\n");
	is_int(nmtbase_parse(sb.buf, sb.len, &b), -ENOMSG, "a header line too long");
	strbuf_release(&sb);
	return done_testing();
}
