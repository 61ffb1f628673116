/* dump: copy a range of another process's memory without stopping it. */
#ifndef OFFHEAP_DUMP_H
#define OFFHEAP_DUMP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct strbuf;

#define DUMP_PAGE 4096ULL

struct dump_hole {
	uint64_t start, end; /* [start, end) in the target's address space */
};

/* Where the bytes come from; one per process. */
struct dump_reader {
	pid_t pid;
	int memfd;		 /* /proc/PID/mem once process_vm_readv was refused, else -1 */
	int mapfd;		 /* /proc/PID/pagemap once dump_present opened it, else -1 */
	bool use_mem;		 /* process_vm_readv not permitted: pread /proc/PID/mem */
	struct dump_hole *holes; /* owned, ascending */
	size_t nholes, alloc_holes;
	uint64_t bytes_read; /* bytes actually copied (holes excluded) */
	bool exited;	     /* the process went away: what follows was not read */
};

void dump_reader_init(struct dump_reader *r, pid_t pid);
void dump_reader_release(struct dump_reader *r);

/*
 * Copies [addr, addr + len) of the target into buf. Pages that cannot be
 * read (PROT_NONE, unmapped) are zero-filled and recorded as holes, page by
 * page. Returns 0; -ESRCH when the process exited (r->exited is set, buf is
 * zero from the first byte not read, and that byte's offset is in *done);
 * another -errno with the reason in err when neither way of reading works.
 * *done is the number of bytes of buf filled (read or hole).
 */
int dump_read(struct dump_reader *r, uint64_t addr, void *buf, size_t len, size_t *done,
	      struct strbuf *err);

/*
 * Which of the npages pages from addr (page-aligned) are in RAM, from
 * /proc/PID/pagemap: present[i] is false for a page never touched or swapped
 * out. Reading such a page with process_vm_readv faults it in and grows the
 * target (an anonymous page never touched gets a page of its own), so a
 * reader that must not change the target skips it. Returns 0, or -errno
 * when pagemap cannot be read (present is then left all true).
 */
int dump_present(struct dump_reader *r, uint64_t addr, size_t npages, bool *present);

/*
 * Reads the n 8-byte words at addrs[i] into vals[i], many per system call;
 * ok[i] says which could be read (an unmapped or unreadable word is false,
 * its value 0). Returns 0, or -ESRCH when the process exited (r->exited is
 * set), or another -errno when neither way of reading works.
 */
int dump_read_words(struct dump_reader *r, const uint64_t *addrs, uint64_t *vals, bool *ok,
		    size_t n);

/*
 * Parses a REGION argument: "START-END" or "START+LEN" (hexadecimal with or
 * without 0x; LEN may also be a size such as 4M). Returns 0 or -EINVAL.
 */
int dump_parse_range(const char *arg, uint64_t *start, uint64_t *end);

#endif

#include "region.h"

/* What to read: an address range, the N-th mapping, or all mappings of a class. */
enum dump_sel_kind { DUMP_SEL_RANGE, DUMP_SEL_MAP, DUMP_SEL_CLASS };
struct dump_sel {
	enum dump_sel_kind kind;
	uint64_t start, end; /* DUMP_SEL_RANGE */
	long map;	     /* DUMP_SEL_MAP: 0-based, in address order */
	int cls;	     /* DUMP_SEL_CLASS: enum region_class */
};

struct dump_range {
	uint64_t start, end;
	const struct region *r; /* the mapping holding start (points into the snapshot) */
};

/*
 * The ranges sel names in the mappings regions[0..nregions) of process pid
 * (ascending by start, as a snapshot holds them), ascending. A range that touches no mapping,
 * a map index out of bounds, or a class without mappings is -ENOENT with
 * the reason in err. Guard pages (---p) of a class are left out.
 */
int dump_select(const struct region *regions, size_t nregions, pid_t pid,
		const struct dump_sel *sel, struct dump_range **out, size_t *n, struct strbuf *err);

/* One range of a dump file, as its sidecar FILE.json describes it. */
struct dump_file_range {
	uint64_t start, end, file_offset;
	uint64_t map_start, map_end; /* the mapping holding it; 0 when not known */
	int cls;		     /* enum region_class, -1 when not known */
};

struct dump_sidecar {
	long pid;
	bool partial;
	uint64_t bytes;			/* bytes in the dump file */
	struct dump_file_range *ranges; /* owned, ascending, contiguous in the file */
	size_t nranges;
	uint64_t nholes;
};

/*
 * Parses the text of a sidecar written by 'offheap dump'. Input is hostile:
 * anything unexpected is -EINVAL with the reason in err.
 */
int dump_sidecar_parse(const char *text, size_t len, struct dump_sidecar *sc, struct strbuf *err);
void dump_sidecar_release(struct dump_sidecar *sc);
