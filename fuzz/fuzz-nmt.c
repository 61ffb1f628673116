/*
 * fuzz-nmt: Native Memory Tracking text (nmt_parse: summary, detail, diffs,
 * control messages). An input holding a NUL is also split there into two
 * texts, parsed and diffed (nmt_diff), as offheap nmt --diff does with a
 * baseline and a later summary.
 */
#include "fuzz.h"

#include "nmt.h"
#include "strbuf.h"

static void parse_and_diff(const char *a, size_t alen, const char *b, size_t blen)
{
	struct nmt_report base, now, out;
	struct strbuf err = STRBUF_INIT;

	nmt_report_init(&base);
	nmt_report_init(&now);
	nmt_report_init(&out);
	if (!nmt_parse(a, alen, &base, &err) && !nmt_parse(b, blen, &now, &err))
		nmt_diff(&base, &now, &out, &err);
	nmt_report_release(&base);
	nmt_report_release(&now);
	nmt_report_release(&out);
	strbuf_release(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_dup(data, size);
	const char *nul = memchr(text, '\0', size);
	struct nmt_report r, d;
	struct strbuf err = STRBUF_INIT;

	nmt_report_init(&r);
	nmt_report_init(&d);
	if (!nmt_parse(text, size, &r, &err)) {
		nmt_category_find(&r, "Java Heap");
		/* a report against itself: every delta 0 */
		nmt_diff(&r, &r, &d, &err);
	}
	nmt_report_release(&r);
	nmt_report_release(&d);
	strbuf_release(&err);
	if (nul) {
		size_t alen = (size_t)(nul - text);
		char *a = fuzz_dup(data, alen), *b = fuzz_dup(data + alen + 1, size - alen - 1);

		parse_and_diff(a, alen, b, size - alen - 1);
		free(a);
		free(b);
	}
	free(text);
	return 0;
}
