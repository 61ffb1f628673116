/*
 * fuzz-trackfile: the file liboffheap.so shares with offheap record
 * (preload/trackshm.h), as the recorder reads it (trackfile_read, the Java
 * frames' names and the generation and exit handshake fields). The tracker runs in the target, so
 * the file is as hostile as the target.
 */
#include "fuzz.h"

#include "strbuf.h"
#include "trackfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_write_file(data, size, "track");
	struct strbuf err = STRBUF_INIT;
	struct trackfile *tf = NULL;
	struct track_view v;

	memset(&v, 0, sizeof(v));
	if (trackfile_open(path, &tf, &err))
		abort();
	trackfile_generation(tf);
	/* twice: the second read reuses the view's site array */
	for (int k = 0; k < 2; k++) {
		if (trackfile_read(tf, &v, &err))
			break;
		for (size_t i = 0; i < v.nr; i++)
			if (v.sites[i].depth > TRACK_MAX_DEPTH)
				abort();
	}
	/* the Java frames' names: a few indices, and those the stacks hold */
	for (uint64_t i = 0; i < 4; i++) {
		struct track_java j;

		if (!trackfile_java(tf, TRACK_JAVA_TAG | i, &j) &&
		    (strlen(j.cls) >= sizeof(j.cls) || strlen(j.file) >= sizeof(j.file) || j.line < 0))
			abort();
	}
	for (size_t i = 0; i < v.nr; i++)
		for (uint32_t k = 0; k < v.sites[i].depth; k++) {
			struct track_java j;

			trackfile_java(tf, v.sites[i].frames[k], &j);
		}
	trackfile_exiting(tf);
	trackfile_ack(tf, 1);
	trackfile_ack_exit(tf, 1);
	track_view_release(&v);
	trackfile_close(tf);
	strbuf_release(&err);
	return 0;
}
