/* cfi: an x86_64 unwinder over the loaded modules' .eh_frame, safe on the allocation path. */

/*
 * One step of the unwind turns the registers of a frame (pc, rsp, rbp) into
 * those of its caller, by the call frame information the compiler emits for
 * every function (DWARF 5 section 6.4, as carried in .eh_frame: LSB 5.0
 * "Exception Frames"). The rule for a pc says where the caller's frame
 * starts (the CFA: a register plus an offset, or a DWARF expression), where
 * the return address is saved (CFA - 8 on x86_64) and where rbp is saved.
 *
 * Outside the hot path (at start, after dlopen and dlclose) dl_iterate_phdr
 * builds a table of the loaded modules sorted by text address, each with its
 * .eh_frame_hdr search table (PT_GNU_EH_FRAME: FDE initial locations sorted
 * for a binary search). It is built aside, then copied into the published
 * table under a sequence lock (walkers copy a module out and retry, or give
 * up, when the lock moved). Only a table too small is replaced, by an atomic
 * pointer swap, and the old one is never freed: a walker in another thread
 * or in a signal handler may still be reading it. Capacities double, so the
 * memory left behind stays below the live table's; a dlopen/dlclose loop
 * costs none.
 *
 * On the hot path: the module by binary search, the FDE by binary search of
 * its search table, then the CIE's and the FDE's instructions are run up to
 * the pc. The result is cached per pc in a global direct-mapped cache whose
 * entries hold a check word (a hash of pc and the two rule words) so that a
 * reader never takes a half-written entry for a whole one. No lock, no
 * system call, no malloc. Every read of the stack is bounded by the thread's
 * stack: [the walker's own frame, the top of the stack], the top being the
 * thread descriptor for threads glibc started (it sits right above their
 * stack) and __libc_stack_end for the main thread; a signal handler on an
 * alternate stack asks sigaltstack(2) for that stack's bounds (the only
 * system call, and only there).
 *
 * Special frames: the rt_sigreturn trampoline (glibc's __restore_rt, found
 * by its code "mov $15, %rax; syscall") holds a ucontext at its rsp, from
 * which the interrupted frame's rip, rsp and rbp are read; that rip is exact,
 * not a return address, so its rule is looked up at rip and not rip - 1.
 * PLT stubs have a CFA expression that depends on rip (binutils: rsp + 8,
 * plus 8 past the stub's push); CFA expressions are evaluated by a small
 * bounded stack machine. A pc in no module (JIT code) or without an FDE ends
 * the walk; so does an undefined return address (the outermost frame).
 */
#include "internal.h"

#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

extern void *__libc_stack_end; /* ld.so: the main thread's stack pointer at _start */

/* ---- the module table ---- */

struct cfi_module {
	uint64_t lo, hi;       /* executable segments: [lo, hi) */
	const uint8_t *ehdr;   /* .eh_frame_hdr, mapped */
	const int32_t *search; /* its table: (initial location, FDE) pairs, ehdr-relative */
	uint64_t nsearch;      /* pairs in search */
};

struct cfi_table {
	uint64_t seq;	     /* odd while rewritten (a sequence lock) */
	uint64_t gen;	     /* dl_gen when built */
	uint64_t adds, subs; /* dl_iterate_phdr's load and unload counts when built */
	uint32_t n, cap;
	struct cfi_module mods[]; /* sorted by lo */
};

static struct cfi_table *table;	  /* the published table, read under its seq */
static struct cfi_table *scratch; /* where the rebuilder builds: its own */
static int rebuilding;
static uint64_t dl_gen; /* dlopen calls so far */

/* pc ^ table: a pc that was in no module of that table (JIT code), cached */
#define UNKNOWN_BITS 8
static uint64_t unknown[1U << UNKNOWN_BITS];

#define DW_EH_PE_omit	  0xff
#define DW_EH_PE_uleb128  0x01
#define DW_EH_PE_udata2	  0x02
#define DW_EH_PE_udata4	  0x03
#define DW_EH_PE_udata8	  0x04
#define DW_EH_PE_sleb128  0x09
#define DW_EH_PE_sdata2	  0x0a
#define DW_EH_PE_sdata4	  0x0b
#define DW_EH_PE_sdata8	  0x0c
#define DW_EH_PE_pcrel	  0x10
#define DW_EH_PE_datarel  0x30
#define DW_EH_PE_indirect 0x80

static uint64_t uleb(const uint8_t **p, const uint8_t *end)
{
	uint64_t v = 0;
	unsigned shift = 0;

	while (*p < end) {
		uint8_t b = *(*p)++;

		if (shift < 64)
			v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
		if (!(b & 0x80))
			break;
	}
	return v;
}

static int64_t sleb(const uint8_t **p, const uint8_t *end)
{
	int64_t v = 0;
	unsigned shift = 0;
	uint8_t b = 0;

	while (*p < end) {
		b = *(*p)++;
		if (shift < 64)
			v |= (int64_t)((uint64_t)(b & 0x7f) << shift);
		shift += 7;
		if (!(b & 0x80))
			break;
	}
	if (shift < 64 && (b & 0x40))
		v |= -((int64_t)1 << shift);
	return v;
}

/*
 * Reads a pointer in encoding enc at *p (datarel relative to base); false
 * for an encoding we do not read (indirect: the value is behind a pointer).
 */
static bool read_enc(const uint8_t **p, const uint8_t *end, uint8_t enc, uint64_t base,
		     uint64_t *out)
{
	const uint8_t *at = *p;
	uint64_t v;

	if (enc == DW_EH_PE_omit || (enc & DW_EH_PE_indirect))
		return false;
	switch (enc & 0x0f) {
	case 0x00:
	case DW_EH_PE_udata8:
	case DW_EH_PE_sdata8:
		if (end - at < 8)
			return false;
		memcpy(&v, at, 8);
		*p += 8;
		break;
	case DW_EH_PE_udata4: {
		uint32_t u;

		if (end - at < 4)
			return false;
		memcpy(&u, at, 4);
		v = u;
		*p += 4;
		break;
	}
	case DW_EH_PE_sdata4: {
		int32_t s;

		if (end - at < 4)
			return false;
		memcpy(&s, at, 4);
		v = (uint64_t)(int64_t)s;
		*p += 4;
		break;
	}
	case DW_EH_PE_udata2: {
		uint16_t u;

		if (end - at < 2)
			return false;
		memcpy(&u, at, 2);
		v = u;
		*p += 2;
		break;
	}
	case DW_EH_PE_sdata2: {
		int16_t s;

		if (end - at < 2)
			return false;
		memcpy(&s, at, 2);
		v = (uint64_t)(int64_t)s;
		*p += 2;
		break;
	}
	case DW_EH_PE_uleb128:
		v = uleb(p, end);
		break;
	case DW_EH_PE_sleb128:
		v = (uint64_t)sleb(p, end);
		break;
	default:
		return false;
	}
	switch (enc & 0x70) {
	case 0:
		break;
	case DW_EH_PE_pcrel:
		v += (uint64_t)(uintptr_t)at;
		break;
	case DW_EH_PE_datarel:
		v += base;
		break;
	default:
		return false;
	}
	*out = v;
	return true;
}

static void *sys_map(size_t len)
{
	long r = syscall(SYS_mmap, NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);

	return r < 0 && r > -4096 ? NULL : (void *)r;
}

static int count_module(struct dl_phdr_info *info, size_t size, void *arg)
{
	(*(uint32_t *)arg)++;
	return 0;
}

static int add_module(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct cfi_table *t = arg;
	struct cfi_module m = {.lo = UINT64_MAX};
	const uint8_t *p, *end;
	uint64_t eh_frame, count;

	t->adds = info->dlpi_adds;
	t->subs = info->dlpi_subs;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uint64_t a = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
			if (a < m.lo)
				m.lo = a;
			if (a + ph->p_memsz > m.hi)
				m.hi = a + ph->p_memsz;
		} else if (ph->p_type == PT_GNU_EH_FRAME) {
			m.ehdr = (const uint8_t *)(uintptr_t)a;
		}
	}
	if (!m.ehdr || m.lo >= m.hi || t->n == t->cap)
		return 0;
	/* version 1, then the encodings of eh_frame_ptr, fde_count and the table */
	p = m.ehdr + 4;
	end = p + 16;
	if (m.ehdr[0] != 1 || m.ehdr[3] != (DW_EH_PE_datarel | DW_EH_PE_sdata4) ||
	    !read_enc(&p, end, m.ehdr[1], (uintptr_t)m.ehdr, &eh_frame) ||
	    !read_enc(&p, end, m.ehdr[2], (uintptr_t)m.ehdr, &count))
		return 0;
	m.search = (const int32_t *)(const void *)p;
	m.nsearch = count;
	t->mods[t->n++] = m;
	return 0;
}

static size_t table_bytes(uint32_t cap)
{
	return sizeof(struct cfi_table) + cap * sizeof(struct cfi_module);
}

static struct cfi_table *table_new(uint32_t cap)
{
	struct cfi_table *t = sys_map(table_bytes(cap));

	if (t)
		t->cap = cap;
	return t;
}

void cfi_refresh(void)
{
	struct cfi_table *t, *b;
	uint32_t n = 0;
	uint64_t seq;

	if (__atomic_exchange_n(&rebuilding, 1, __ATOMIC_ACQUIRE))
		return; /* another thread is at it; a later miss retries */
	dl_iterate_phdr(count_module, &n);
	n += 16; /* modules loaded between the two walks */
	if (!scratch || scratch->cap < n) {
		if (scratch)
			syscall(SYS_munmap, scratch, table_bytes(scratch->cap));
		scratch = table_new(2 * n);
		if (!scratch)
			goto out;
	}
	b = scratch;
	b->n = 0;
	b->gen = __atomic_load_n(&dl_gen, __ATOMIC_ACQUIRE);
	dl_iterate_phdr(add_module, b);
	/* insertion sort: tens of modules, and no qsort (it may malloc) */
	for (uint32_t i = 1; i < b->n; i++) {
		struct cfi_module m = b->mods[i];
		uint32_t j = i;

		for (; j > 0 && b->mods[j - 1].lo > m.lo; j--)
			b->mods[j] = b->mods[j - 1];
		b->mods[j] = m;
	}
	t = __atomic_load_n(&table, __ATOMIC_ACQUIRE);
	if (!t || t->cap < b->n) {
		/*
		 * A bigger table, published by a pointer swap. The old one
		 * stays mapped: a walker in another thread or in a signal
		 * handler may be reading it. Capacities double, so what is
		 * left behind is bounded.
		 */
		struct cfi_table *nt = table_new(2 * b->n);

		if (!nt)
			goto out;
		memcpy(nt, b, table_bytes(b->n));
		nt->seq = 0;
		nt->cap = 2 * b->n;
		__atomic_store_n(&table, nt, __ATOMIC_RELEASE);
		goto out;
	}
	/* rewritten in place under its sequence lock: a dlopen/dlclose loop costs no memory */
	seq = t->seq;
	__atomic_store_n(&t->seq, seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	t->gen = b->gen;
	t->adds = b->adds;
	t->subs = b->subs;
	memcpy(t->mods, b->mods, b->n * sizeof(b->mods[0]));
	__atomic_store_n(&t->n, b->n, __ATOMIC_RELAXED);
	__atomic_store_n(&t->seq, seq + 2, __ATOMIC_RELEASE);
out:
	__atomic_store_n(&rebuilding, 0, __ATOMIC_RELEASE);
}

void cfi_dlopen(void)
{
	__atomic_fetch_add(&dl_gen, 1, __ATOMIC_RELEASE);
}

void cfi_sync(void)
{
	struct cfi_table *t = __atomic_load_n(&table, __ATOMIC_ACQUIRE);

	if (!t || t->gen != __atomic_load_n(&dl_gen, __ATOMIC_ACQUIRE))
		cfi_refresh();
}

__attribute__((constructor)) static void cfi_ctor(void)
{
	if (!__atomic_load_n(&table, __ATOMIC_ACQUIRE))
		cfi_refresh();
}

static int stop_at_first(struct dl_phdr_info *info, size_t size, void *arg)
{
	uint64_t *c = arg;

	c[0] = info->dlpi_adds;
	c[1] = info->dlpi_subs;
	return 1;
}

/* The table lists other modules than are loaded now (dl_iterate_phdr's counts differ). */
static bool table_stale(const struct cfi_table *t)
{
	uint64_t c[2] = {0, 0};

	dl_iterate_phdr(stop_at_first, c);
	return !t || c[0] != t->adds || c[1] != t->subs;
}

/*
 * The module holding pc, copied out of table t under its sequence lock.
 * 1: found; 0: in no module (*version names the table's state); -1: the
 * table is being rewritten (perhaps by the thread this handler interrupted).
 */
static int find_module(const struct cfi_table *t, uint64_t pc, struct cfi_module *out,
		       uint64_t *version)
{
	for (int tries = 0; t && tries < 4; tries++) {
		uint64_t seq = __atomic_load_n(&t->seq, __ATOMIC_ACQUIRE);
		uint32_t lo = 0, hi = __atomic_load_n(&t->n, __ATOMIC_RELAXED);
		int found = 0;

		if (seq & 1)
			continue;
		if (hi > t->cap)
			hi = t->cap;
		while (lo < hi) {
			uint32_t mid = lo + (hi - lo) / 2;
			uint64_t mlo = __atomic_load_n(&t->mods[mid].lo, __ATOMIC_RELAXED);
			uint64_t mhi = __atomic_load_n(&t->mods[mid].hi, __ATOMIC_RELAXED);

			if (pc < mlo) {
				hi = mid;
			} else if (pc >= mhi) {
				lo = mid + 1;
			} else {
				memcpy(out, &t->mods[mid], sizeof(*out));
				found = 1;
				break;
			}
		}
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&t->seq, __ATOMIC_RELAXED) == seq) {
			*version = (uint64_t)(uintptr_t)t ^ seq << 47;
			return found;
		}
	}
	return -1;
}

/* ---- rules ---- */

/*
 * A rule is two words. cfa: the kind in the top byte; CFA_REG: the register
 * in bits 32..39 and the offset (int32) below; CFA_EXPR: the expression's
 * address (ULEB length first). bp: the kind in the top byte; BP_OFFSET: the
 * offset from the CFA of rbp's slot (int32) below; BP_EXPR: the expression's
 * address.
 */
enum { CFA_NONE, CFA_REG, CFA_EXPR, CFA_SIGNAL, CFA_OUTERMOST };
enum { BP_SAME, BP_OFFSET, BP_EXPR, BP_UNKNOWN };

#define KIND(w)	   ((unsigned)((w) >> 56))
#define PAYLOAD(w) ((w) & ((1ULL << 56) - 1))
#define MK(k, v)   ((uint64_t)(k) << 56 | ((v) & ((1ULL << 56) - 1)))

#define DW_RBP 6
#define DW_RSP 7
#define DW_RA  16

struct rule {
	uint64_t cfa, bp;
};

#define RULE_BITS 14
struct rule_slot {
	uint64_t check, cfa, bp;
};
static struct rule_slot rules[1U << RULE_BITS];

/* Never 0 (an empty slot); a torn entry mixes words of two rules and fails it. */
static inline uint64_t rule_check(uint64_t pc, uint64_t cfa, uint64_t bp)
{
	return (pc ^ cfa ^ (bp * 0x9e3779b97f4a7c15ULL)) | 1ULL << 63;
}

static inline struct rule_slot *rule_slot(uint64_t pc)
{
	return &rules[(pc * 0x9e3779b97f4a7c15ULL) >> (64 - RULE_BITS)];
}

static bool rule_get(uint64_t pc, struct rule *r)
{
	struct rule_slot *s = rule_slot(pc);
	uint64_t check = __atomic_load_n(&s->check, __ATOMIC_ACQUIRE);

	r->cfa = __atomic_load_n(&s->cfa, __ATOMIC_RELAXED);
	r->bp = __atomic_load_n(&s->bp, __ATOMIC_RELAXED);
	return check && check == rule_check(pc, r->cfa, r->bp);
}

static void rule_put(uint64_t pc, const struct rule *r)
{
	struct rule_slot *s = rule_slot(pc);

	__atomic_store_n(&s->check, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&s->cfa, r->cfa, __ATOMIC_RELAXED);
	__atomic_store_n(&s->bp, r->bp, __ATOMIC_RELAXED);
	__atomic_store_n(&s->check, rule_check(pc, r->cfa, r->bp), __ATOMIC_RELEASE);
}

void cfi_forget(void)
{
	memset(rules, 0, sizeof(rules));
}

struct cie {
	const uint8_t *insn, *end; /* initial instructions */
	uint64_t code_align;
	int64_t data_align;
	uint8_t fde_enc;
	bool has_aug; /* 'z': FDEs have augmentation data */
	bool signal;  /* 'S' */
};

/* Reads the entry at p: its body [*body, *end); false when malformed. */
static bool entry(const uint8_t *p, const uint8_t **body, const uint8_t **end)
{
	uint32_t len32;
	uint64_t len;

	memcpy(&len32, p, 4);
	p += 4;
	len = len32;
	if (len32 == 0xffffffffU) {
		memcpy(&len, p, 8);
		p += 8;
	}
	if (!len || len > (1U << 24))
		return false;
	*body = p;
	*end = p + len;
	return true;
}

static bool parse_cie(const uint8_t *p, struct cie *c)
{
	const uint8_t *end, *aug;
	uint32_t id;
	uint8_t version;

	memset(c, 0, sizeof(*c));
	if (!entry(p, &p, &end) || end - p < 8)
		return false;
	memcpy(&id, p, 4);
	p += 4;
	version = *p++;
	if (id != 0 || (version != 1 && version != 3))
		return false;
	aug = p;
	while (p < end && *p)
		p++;
	if (p == end)
		return false;
	p++;
	c->code_align = uleb(&p, end);
	c->data_align = sleb(&p, end);
	if (version == 1)
		p++;
	else
		uleb(&p, end);
	for (; *aug && p <= end; aug++) {
		uint64_t v;

		switch (*aug) {
		case 'z':
			c->has_aug = true;
			uleb(&p, end);
			break;
		case 'R':
			c->fde_enc = *p++;
			break;
		case 'L':
			p++;
			break;
		case 'P': {
			uint8_t enc = *p++;

			if (!read_enc(&p, end, enc & 0x7f, 0, &v))
				return false;
			break;
		}
		case 'S':
			c->signal = true;
			break;
		default:
			return false; /* 'z' said how to skip it, but not what it means */
		}
	}
	if (p > end)
		return false;
	c->insn = p;
	c->end = end;
	return true;
}

struct cfa_state {
	uint64_t cfa, bp;
	bool ra_ok;	   /* return address at CFA - 8 */
	bool ra_undefined; /* the outermost frame */
};

#define STATE_STACK 8

/*
 * Runs the instructions [p, end) while the location is at most pc; init is
 * the state after the CIE's (for DW_CFA_restore). False on an instruction we
 * cannot follow.
 */
static bool run(const uint8_t *p, const uint8_t *end, const struct cie *c, uint64_t *loc,
		uint64_t pc, struct cfa_state *s, const struct cfa_state *init)
{
	struct cfa_state stack[STATE_STACK];
	int sp = 0;

	while (p < end) {
		uint8_t op = *p++, low = op & 0x3f;
		uint64_t reg, delta = 0, skip;
		int64_t off;

		switch (op >> 6) {
		case 1: /* DW_CFA_advance_loc */
			delta = low;
			goto advance;
		case 2: /* DW_CFA_offset */
			off = (int64_t)uleb(&p, end) * c->data_align;
			reg = low;
			goto offset;
		case 3: /* DW_CFA_restore */
			reg = low;
			goto restore;
		}
		switch (op) {
		case 0x00: /* nop */
			break;
		case 0x01: /* set_loc */
			if (!read_enc(&p, end, c->fde_enc, 0, loc))
				return false;
			if (*loc > pc)
				return true;
			break;
		case 0x02:
			delta = *p++;
			goto advance;
		case 0x03: {
			uint16_t d;

			memcpy(&d, p, 2);
			p += 2;
			delta = d;
			goto advance;
		}
		case 0x04: {
			uint32_t d;

			memcpy(&d, p, 4);
			p += 4;
			delta = d;
			goto advance;
		}
		case 0x05: /* offset_extended */
			reg = uleb(&p, end);
			off = (int64_t)uleb(&p, end) * c->data_align;
			goto offset;
		case 0x06: /* restore_extended */
			reg = uleb(&p, end);
			goto restore;
		case 0x07: /* undefined */
			reg = uleb(&p, end);
			if (reg == DW_RA)
				s->ra_undefined = true;
			else if (reg == DW_RBP)
				s->bp = MK(BP_UNKNOWN, 0);
			break;
		case 0x08: /* same_value */
			reg = uleb(&p, end);
			if (reg == DW_RBP)
				s->bp = MK(BP_SAME, 0);
			else if (reg == DW_RA)
				return false;
			break;
		case 0x09: /* register */
			reg = uleb(&p, end);
			uleb(&p, end);
			if (reg == DW_RA)
				return false;
			if (reg == DW_RBP)
				s->bp = MK(BP_UNKNOWN, 0);
			break;
		case 0x0a: /* remember_state */
			if (sp == STATE_STACK)
				return false;
			stack[sp++] = *s;
			break;
		case 0x0b: /* restore_state */
			if (!sp)
				return false;
			*s = stack[--sp];
			break;
		case 0x0c: /* def_cfa */
			reg = uleb(&p, end);
			off = (int64_t)uleb(&p, end);
			goto def_cfa;
		case 0x0d: /* def_cfa_register */
			reg = uleb(&p, end);
			if (KIND(s->cfa) != CFA_REG)
				return false;
			off = (int32_t)(uint32_t)s->cfa;
			goto def_cfa;
		case 0x0e: /* def_cfa_offset */
			off = (int64_t)uleb(&p, end);
			if (KIND(s->cfa) != CFA_REG)
				return false;
			reg = (s->cfa >> 32) & 0xff;
			goto def_cfa;
		case 0x0f: /* def_cfa_expression */
			s->cfa = MK(CFA_EXPR, (uintptr_t)p);
			skip = uleb(&p, end);
			p += skip;
			break;
		case 0x10: /* expression */
			reg = uleb(&p, end);
			if (reg == DW_RBP)
				s->bp = MK(BP_EXPR, (uintptr_t)p);
			else if (reg == DW_RA)
				s->ra_ok = false;
			skip = uleb(&p, end);
			p += skip;
			break;
		case 0x11: /* offset_extended_sf */
			reg = uleb(&p, end);
			off = sleb(&p, end) * c->data_align;
			goto offset;
		case 0x12: /* def_cfa_sf */
			reg = uleb(&p, end);
			off = sleb(&p, end) * c->data_align;
			goto def_cfa;
		case 0x13: /* def_cfa_offset_sf */
			off = sleb(&p, end) * c->data_align;
			if (KIND(s->cfa) != CFA_REG)
				return false;
			reg = (s->cfa >> 32) & 0xff;
			goto def_cfa;
		case 0x14: /* val_offset */
		case 0x15: /* val_offset_sf */
			reg = uleb(&p, end);
			if (op == 0x14)
				uleb(&p, end);
			else
				sleb(&p, end);
			if (reg == DW_RA)
				return false;
			if (reg == DW_RBP)
				s->bp = MK(BP_UNKNOWN, 0);
			break;
		case 0x16: /* val_expression */
			reg = uleb(&p, end);
			if (reg == DW_RA)
				return false;
			if (reg == DW_RBP)
				s->bp = MK(BP_UNKNOWN, 0);
			skip = uleb(&p, end);
			p += skip;
			break;
		case 0x2e: /* GNU_args_size */
			uleb(&p, end);
			break;
		case 0x2f: /* GNU_negative_offset_extended */
			reg = uleb(&p, end);
			off = -(int64_t)uleb(&p, end) * c->data_align;
			goto offset;
		default:
			return false;
		}
		continue;
	advance:
		*loc += delta * c->code_align;
		if (*loc > pc)
			return true;
		continue;
	offset:
		if (reg == DW_RBP) {
			if (off < INT32_MIN || off > INT32_MAX)
				return false;
			s->bp = MK(BP_OFFSET, (uint32_t)(int32_t)off);
		} else if (reg == DW_RA) {
			s->ra_ok = off == -8;
			s->ra_undefined = false;
		}
		continue;
	restore:
		if (reg == DW_RBP)
			s->bp = init ? init->bp : MK(BP_SAME, 0);
		else if (reg == DW_RA && init) {
			s->ra_ok = init->ra_ok;
			s->ra_undefined = init->ra_undefined;
		}
		continue;
	def_cfa:
		/* any register is kept; a step can only use rsp and rbp */
		if (reg > 255 || off < INT32_MIN || off > INT32_MAX)
			return false;
		s->cfa = MK(CFA_REG, reg << 32 | (uint32_t)(int32_t)off);
		continue;
	}
	return true;
}

/* The sigreturn trampoline: mov $15, %rax; syscall. */
static bool is_sigreturn(uint64_t pc)
{
	static const uint8_t code[] = {0x48, 0xc7, 0xc0, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05};

	return !memcmp((const void *)(uintptr_t)pc, code, sizeof(code));
}

/* The rule at pc (the address looked up: a return address minus 1, or an exact pc). */
static void compute_rule(const struct cfi_module *m, uint64_t pc, uint64_t code_pc, struct rule *r)
{
	const int32_t *tab = m->search;
	uint64_t lo = 0, hi = m->nsearch, loc, range;
	const uint8_t *fde, *p, *end, *cie_at;
	struct cfa_state s, init;
	struct cie c;
	uint32_t cie_off;

	r->cfa = MK(CFA_NONE, 0);
	r->bp = MK(BP_UNKNOWN, 0);
	if (code_pc + 9 <= m->hi && is_sigreturn(code_pc)) {
		r->cfa = MK(CFA_SIGNAL, 0);
		return;
	}
	while (lo < hi) { /* the last entry whose location is <= pc */
		uint64_t mid = lo + (hi - lo) / 2;

		if ((uint64_t)((uintptr_t)m->ehdr + (int64_t)tab[2 * mid]) <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return;
	fde = m->ehdr + tab[2 * (lo - 1) + 1];
	if (!entry(fde, &p, &end) || end - p < 4)
		return;
	memcpy(&cie_off, p, 4);
	cie_at = p - cie_off;
	p += 4;
	if (!cie_off || !parse_cie(cie_at, &c))
		return;
	if (!read_enc(&p, end, c.fde_enc, 0, &loc) ||
	    !read_enc(&p, end, c.fde_enc & 0x0f, 0, &range))
		return;
	if (pc < loc || pc >= loc + range)
		return;
	if (c.has_aug) {
		uint64_t skip = uleb(&p, end);

		p += skip;
	}
	memset(&s, 0, sizeof(s));
	s.cfa = MK(CFA_NONE, 0);
	s.bp = MK(BP_SAME, 0);
	{
		uint64_t l0 = 0;

		if (!run(c.insn, c.end, &c, &l0, UINT64_MAX, &s, NULL))
			return;
	}
	init = s;
	if (!run(p, end, &c, &loc, pc, &s, &init))
		return;
	if (s.ra_undefined) {
		r->cfa = MK(CFA_OUTERMOST, 0);
		return;
	}
	if (!s.ra_ok || KIND(s.cfa) == CFA_NONE)
		return;
	r->cfa = s.cfa;
	r->bp = s.bp;
}

/* ---- the walk ---- */

static inline bool readable(const struct cfi_bounds *b, uint64_t a)
{
	return a >= b->lo && a <= b->hi - 8 && !(a & 7);
}

/*
 * The stack holding sp: [sp, top). The top of a glibc thread's stack is its
 * descriptor; the main thread's is __libc_stack_end's page; on an alternate
 * signal stack, that stack's end. False when sp is on none of them.
 */
static bool stack_of(uint64_t sp, struct cfi_bounds *b)
{
	uint64_t self = (uint64_t)pthread_self(), end = (uint64_t)(uintptr_t)__libc_stack_end;
	stack_t ss;

	b->lo = sp;
	if (self > sp && self - sp < (1ULL << 30)) {
		b->hi = self;
		return true;
	}
	end = (end | 4095) + 1;
	if (end > sp && end - sp < (1ULL << 32)) {
		b->hi = end;
		return true;
	}
	if (!syscall(SYS_sigaltstack, NULL, &ss) && !(ss.ss_flags & SS_DISABLE) &&
	    sp >= (uint64_t)(uintptr_t)ss.ss_sp &&
	    sp < (uint64_t)(uintptr_t)ss.ss_sp + ss.ss_size) {
		b->hi = ((uint64_t)(uintptr_t)ss.ss_sp + ss.ss_size) & ~7ULL;
		return true;
	}
	return false;
}

/* Evaluates a DWARF expression (ULEB length first) with rsp, rbp and rip known. */
static __attribute__((noinline)) bool eval(uint64_t at, const struct cfi_frame *f,
					   const struct cfi_bounds *b, uint64_t *out)
{
	const uint8_t *p = (const uint8_t *)(uintptr_t)at, *end;
	uint64_t st[16], len;
	int n = 0, ops = 0;

	len = uleb(&p, p + 10);
	end = p + len;
	while (p < end) {
		uint8_t op = *p++;
		uint64_t x;

		if (++ops > 64)
			return false;
		if (op >= 0x30 && op <= 0x4f) { /* lit0..31 */
			x = op - 0x30;
			goto push;
		}
		if (op >= 0x70 && op <= 0x8f) { /* breg0..31 */
			unsigned reg = op - 0x70;
			int64_t off = sleb(&p, end);

			if (reg == DW_RSP)
				x = f->sp;
			else if (reg == DW_RBP && f->bp_ok)
				x = f->bp;
			else if (reg == DW_RA)
				x = f->pc;
			else
				return false;
			x += (uint64_t)off;
			goto push;
		}
		switch (op) {
		case 0x08: /* const1u */
			x = *p++;
			goto push;
		case 0x09:
			x = (uint64_t)(int64_t)(int8_t)*p++;
			goto push;
		case 0x10: /* constu */
			x = uleb(&p, end);
			goto push;
		case 0x11: /* consts */
			x = (uint64_t)sleb(&p, end);
			goto push;
		case 0x92: { /* bregx */
			uint64_t reg = uleb(&p, end);
			int64_t off = sleb(&p, end);

			if (reg == DW_RSP)
				x = f->sp;
			else if (reg == DW_RBP && f->bp_ok)
				x = f->bp;
			else
				return false;
			x += (uint64_t)off;
			goto push;
		}
		case 0x06: /* deref */
			if (n < 1 || !readable(b, st[n - 1]))
				return false;
			st[n - 1] = *(const uint64_t *)(uintptr_t)st[n - 1];
			continue;
		case 0x12: /* dup */
			if (n < 1)
				return false;
			x = st[n - 1];
			goto push;
		case 0x13: /* drop */
			if (n < 1)
				return false;
			n--;
			continue;
		case 0x16: /* swap */
			if (n < 2)
				return false;
			x = st[n - 1];
			st[n - 1] = st[n - 2];
			st[n - 2] = x;
			continue;
		case 0x23: /* plus_uconst */
			if (n < 1)
				return false;
			st[n - 1] += uleb(&p, end);
			continue;
		}
		if (n < 2)
			return false;
		x = st[n - 1];
		n--;
		switch (op) {
		case 0x1a:
			st[n - 1] &= x;
			break;
		case 0x1c:
			st[n - 1] -= x;
			break;
		case 0x1e:
			st[n - 1] *= x;
			break;
		case 0x21:
			st[n - 1] |= x;
			break;
		case 0x22:
			st[n - 1] += x;
			break;
		case 0x24:
			st[n - 1] = x < 64 ? st[n - 1] << x : 0;
			break;
		case 0x25:
			st[n - 1] = x < 64 ? st[n - 1] >> x : 0;
			break;
		case 0x27:
			st[n - 1] ^= x;
			break;
		case 0x29:
			st[n - 1] = st[n - 1] == x;
			break;
		case 0x2a:
			st[n - 1] = (int64_t)st[n - 1] >= (int64_t)x;
			break;
		case 0x2b:
			st[n - 1] = (int64_t)st[n - 1] > (int64_t)x;
			break;
		case 0x2c:
			st[n - 1] = (int64_t)st[n - 1] <= (int64_t)x;
			break;
		case 0x2d:
			st[n - 1] = (int64_t)st[n - 1] < (int64_t)x;
			break;
		case 0x2e:
			st[n - 1] = st[n - 1] != x;
			break;
		default:
			return false;
		}
		continue;
	push:
		if (n == 16)
			return false;
		st[n++] = x;
	}
	if (n < 1)
		return false;
	*out = st[n - 1];
	return true;
}

/* ucontext_t: uc_flags, uc_link, uc_stack (24 bytes), then mcontext's gregs */
#define UC_GREG(i) (40 + 8 * (i))
#define UC_RBP	   UC_GREG(10)
#define UC_RSP	   UC_GREG(15)
#define UC_RIP	   UC_GREG(16)

/* The rule for pc, not in the cache: found, cached and returned; false: pc is in no module. */
static __attribute__((noinline)) bool rule_miss(const struct cfi_frame *f, uint64_t pc,
						bool may_refresh, struct rule *r)
{
	const struct cfi_table *t = __atomic_load_n(&table, __ATOMIC_ACQUIRE);
	struct cfi_module m;
	uint64_t version = 0;
	int found = find_module(t, pc, &m, &version);

	if (found < 0)
		return false;
	if (!found) {
		/*
		 * A module loaded behind dlopen's back (glibc's own NSS and
		 * iconv loads), or JIT code: ask the loader once per pc and
		 * table state.
		 */
		uint64_t *u = &unknown[(pc * 0x9e3779b97f4a7c15ULL) >> (64 - UNKNOWN_BITS)];

		if (!may_refresh || __atomic_load_n(u, __ATOMIC_RELAXED) == (pc ^ version))
			return false;
		if (table_stale(t)) {
			cfi_refresh();
			t = __atomic_load_n(&table, __ATOMIC_ACQUIRE);
			found = find_module(t, pc, &m, &version);
		}
		if (found <= 0) {
			if (!found)
				__atomic_store_n(u, pc ^ version, __ATOMIC_RELAXED);
			return false;
		}
	}
	compute_rule(&m, pc, f->pc, r);
	rule_put(pc, r);
#ifdef OFFHEAP_CHECK_WALK
	if (check_poison) {
		r->cfa = MK(CFA_REG, (uint64_t)DW_RBP << 32 | 16);
		r->bp = MK(BP_OFFSET, (uint32_t)-16);
	}
#endif
	/* the frame-pointer walk may take this return address from now on */
	if (!f->exact && r->cfa == MK(CFA_REG, (uint64_t)DW_RBP << 32 | 16) &&
	    r->bp == MK(BP_OFFSET, (uint32_t)-16))
		__atomic_store_n(verdict_slot(f->pc), f->pc << 1 | 1, __ATOMIC_RELAXED);
	return true;
}

/* The caller of the rt_sigreturn trampoline's frame f: the interrupted one, from the ucontext. */
static __attribute__((noinline)) int signal_step(struct cfi_frame *f, struct cfi_bounds *b)
{
	uint64_t uc = f->sp;

	if (!readable(b, uc + UC_RBP) || !readable(b, uc + UC_RIP))
		return -1;
	f->pc = *(const uint64_t *)(uintptr_t)(uc + UC_RIP);
	f->sp = *(const uint64_t *)(uintptr_t)(uc + UC_RSP);
	f->bp = *(const uint64_t *)(uintptr_t)(uc + UC_RBP);
	f->bp_ok = true;
	f->exact = true;
	if (!f->pc)
		return 0;
	/* the interrupted code may run on another stack (sigaltstack) */
	if (f->sp < b->lo || f->sp >= b->hi) {
		if (!stack_of(f->sp, b))
			return -1;
	} else {
		b->lo = f->sp;
	}
	return 1;
}

int cfi_step(struct cfi_frame *f, struct cfi_bounds *b, bool may_refresh)
{
	uint64_t pc = f->exact ? f->pc : f->pc - 1, cfa, ra;
	struct rule r;

	if (!rule_get(pc, &r) && !rule_miss(f, pc, may_refresh, &r))
		return -1; /* JIT or unknown code */
	switch (KIND(r.cfa)) {
	case CFA_OUTERMOST:
		return 0;
	case CFA_SIGNAL:
		return signal_step(f, b);
	case CFA_REG: {
		uint64_t base;

		unsigned reg = (unsigned)(r.cfa >> 32) & 0xff;

		if (reg == DW_RSP)
			base = f->sp;
		else if (reg == DW_RBP && f->bp_ok)
			base = f->bp;
		else
			return -1; /* the other registers are not tracked */
		cfa = base + (uint64_t)(int64_t)(int32_t)(uint32_t)r.cfa;
		break;
	}
	case CFA_EXPR:
		if (!eval(PAYLOAD(r.cfa), f, b, &cfa))
			return -1;
		break;
	default:
		return -1;
	}
	if (cfa <= f->sp || !readable(b, cfa - 8))
		return -1;
	ra = *(const uint64_t *)(uintptr_t)(cfa - 8);
	switch (KIND(r.bp)) {
	case BP_SAME:
		break;
	case BP_OFFSET: {
		uint64_t at = cfa + (uint64_t)(int64_t)(int32_t)(uint32_t)r.bp;

		if (!readable(b, at))
			return -1;
		f->bp = *(const uint64_t *)(uintptr_t)at;
		f->bp_ok = true;
		break;
	}
	case BP_EXPR: {
		uint64_t at;

		if (!eval(PAYLOAD(r.bp), f, b, &at) || !readable(b, at))
			f->bp_ok = false;
		else
			f->bp = *(const uint64_t *)(uintptr_t)at;
		break;
	}
	default:
		f->bp_ok = false;
	}
	f->pc = ra;
	f->sp = cfa;
	f->exact = false;
	b->lo = cfa;
	return ra ? 1 : 0;
}

int cfi_module_range(uint64_t pc, uint64_t *lo, uint64_t *hi)
{
	struct cfi_module m;
	uint64_t version;
	int r = find_module(__atomic_load_n(&table, __ATOMIC_ACQUIRE), pc, &m, &version);

	if (r == 1) {
		*lo = m.lo;
		*hi = m.hi;
	}
	return r;
}

bool cfi_stack(uint64_t sp, struct cfi_bounds *b)
{
	return stack_of(sp, b);
}
