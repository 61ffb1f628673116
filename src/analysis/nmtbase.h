/*
 * nmtbase: offheap's own NMT baseline ('offheap nmt PID baseline -o FILE'):
 * a header line "offheap-nmt-baseline 1 pid=P start=T time=S kind=K bytes=N"
 * then the JVM's text as received. T is the process start time (/proc/PID/stat
 * field 22), so a baseline is never compared with another process that reused
 * the PID; N is the length of the text, so a cut-off file is told apart.
 * This module formats and parses it; the file is written and read by the command.
 */
#ifndef OFFHEAP_NMTBASE_H
#define OFFHEAP_NMTBASE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct strbuf;

/* The header of a baseline, from nmtbase_parse. */
struct nmtbase {
	uint64_t pid;		/* the JVM the baseline was taken of */
	uint64_t start;		/* its start time, in clock ticks after boot */
	uint64_t time;		/* when it was taken, seconds since the epoch */
	uint64_t bytes;		/* the length of the NMT text, as the header says */
	size_t have;		/* the length of the NMT text in the file */
	size_t text;		/* offset of the header's newline: the text parses from there
				   with the file's line numbers */
};

/* Appends the header line (with its newline) for a text of bytes bytes to out. */
void nmtbase_format_header(struct strbuf *out, pid_t pid, uint64_t start, int64_t time,
			   const char *kind, size_t bytes);

/*
 * Parses the header of the baseline file content buf (len bytes) into b.
 * Returns 0; -ENOMSG when buf is not a baseline (no magic, no header line);
 * -EBADMSG when the header is damaged; -EMSGSIZE when the text is not as
 * long as the header says (b->bytes and b->have tell by how much).
 */
int nmtbase_parse(const char *buf, size_t len, struct nmtbase *b);

#endif
