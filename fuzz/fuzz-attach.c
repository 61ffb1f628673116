/*
 * fuzz-attach: a JVM's reply on the attach socket. read_reply (attach.c)
 * calls attach_parse_reply on the bytes received so far after every recv,
 * then on the whole; the text after the status line of a "getversion"
 * probe goes to attach_parse_version. This replays that on a buffer, with
 * every prefix standing for a short read.
 */
#include "fuzz.h"

#include "attach.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = fuzz_dup(data, size);
	int status = 0;
	size_t off = 0;
	bool streaming;

	for (size_t n = 0; n < size; n++) {
		int ret = attach_parse_reply(buf, n, &status, &off);

		if (ret == -EPROTO)
			break;
		if (!ret && off > n)
			abort();
	}
	if (!attach_parse_reply(buf, size, &status, &off)) {
		char *text;

		if (off > size)
			abort();
		text = fuzz_strdup(data + off, size - off);
		attach_parse_version(status, text, &streaming);
		attach_parse_version(0, text, &streaming);
		free(text);
	}
	free(buf);
	return 0;
}
