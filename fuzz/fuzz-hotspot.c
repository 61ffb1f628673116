/* fuzz-hotspot: what the trace reads out of a JVM's memory: line tables, scope headers, signatures. */
#include "fuzz.h"

#include "hotspot.h"
#include "strbuf.h"

/*
 * The first byte picks the encoding (JDK 17's or UNSIGNED5), the next two
 * the bci looked up; the rest is a line-number table, a scope's header (its
 * first 16 bytes, what nm_scopes reads) and, as text, a method signature.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf sb = STRBUF_INIT;
	char *sig;
	int bci, line;
	uint32_t hdr[3];

	if (size < 3)
		return 0;
	bci = data[1] | data[2] << 8;
	line = hotspot_line_of(data + 3, size - 3, bci, data[0] & 1);
	if (line < -1)
		abort();
	/* past the end of the code: the last entry's line, or none */
	hotspot_line_of(data + 3, size - 3, 65535, data[0] & 1);
	hotspot_scope_header(data + 3, size - 3 < 16 ? size - 3 : 16, data[0] & 1, hdr);
	sig = malloc(size - 2);
	if (!sig)
		abort();
	memcpy(sig, data + 3, size - 3);
	sig[size - 3] = '\0'; /* a Symbol's text, NUL-terminated as symbol_text leaves it */
	hotspot_signature_args(&sb, sig);
	if (sb.len > 9 * (size - 3))
		abort(); /* a byte grows to ", boolean" at most ("[Z": ", boolean[]") */
	strbuf_release(&sb);
	free(sig);
	return 0;
}
