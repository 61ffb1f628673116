/*
 * hotspot: a live HotSpot JVM's Java frames, read from outside through its vmStructs.
 *
 * A thread stopped in a system call made from Java code interpreted by the
 * JVM has, above the JDK's native function, one template-interpreter frame
 * per Java method. Those frames keep rbp as a frame pointer, so an unwinder
 * walks through them, but their return addresses all lie in the
 * interpreter's code and name no method. The frame itself holds it: on
 * x86_64 (frame_x86.hpp, unchanged from JDK 9 to 25) the Method* sits at
 * fp - 3 words and the bytecode pointer at fp - 8 words; a native method's
 * frame keeps 0 there.
 *
 * What a Method* leads to is read at the offsets the JVM exports for its
 * serviceability agent: gHotSpotVMStructs (type, field, offset, or the
 * address of a static) and gHotSpotVMTypes (sizes), whose own layout is
 * given by gHotSpotVMStructEntry*Offset and friends. They are read once, the
 * array from the target's memory (it holds relocated pointers) and the
 * strings it points to from libjvm.so's file (they are in its read-only
 * data, so one mapping replaces thousands of reads). Then:
 *
 *   Method::_constMethod -> ConstMethod: _constants, _name_index,
 *     _signature_index, _code_size, _flags; the bytecodes follow the
 *     ConstMethod header, and the compressed line-number table follows them
 *     when flag bit 0 (has_linenumber_table, the same bit in 17 and 25) is set
 *   ConstantPool: _pool_holder (the class), _source_file_name_index; its
 *     slots follow its header, one Symbol* per symbol entry
 *   Klass::_name, Symbol::_length and _body
 *
 * The line-number table is a byte per (bci, line) step when both are small,
 * else 0xFF and two signed ints, ending at 0 (linenumber.hpp). The ints are
 * zig-zag coded in base-64 digits: up to JDK 20 a byte below 192 ends a
 * number; from JDK 21 (UNSIGNED5) every byte is stored plus one and 191
 * ends. The JDK that changed that also made ConstMethod's flags a
 * ConstMethodFlags ("_flags._flags" in vmStructs), which tells them apart.
 *
 * Compiled code keeps no frame pointer and has no unwind tables: its frame
 * is as large as its code blob says (CodeBlob::_frame_size), and the blob
 * holding a pc is found through the code cache's segment maps
 * (CodeCache::_heaps, CodeHeap::_segmap). A blob named "nmethod" (or
 * "native nmethod", a native method's wrapper) holds its Method*
 * (nmethod::_method; CompiledMethod::_method in JDK 17). What it stands
 * for at a call is in its debug information: the PcDesc of the call's
 * return address (sorted by offset from the code's start) gives a scope,
 * a chain of (method, bci) from the innermost method the compiler inlined
 * out to the compiled one; the methods are indexes into the nmethod's
 * metadata. JDK 17 keeps all of it after the nmethod's header; JDK 25 keeps
 * the metadata in the blob's mutable data and the rest in its immutable
 * data, both on the C heap (nm_layout). The outermost scope's method must
 * be the nmethod's own, or nothing decoded is used.
 *
 * Every read goes through process_vm_readv and is checked: the target's
 * memory is not ours to trust, a method may be freed while we look.
 */
#include "hotspot.h"

#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "inject.h"
#include "procfs.h"
#include "region.h"
#include "smaps.h"
#include "strbuf.h"
#include "xalloc.h"

/* x86_64 interpreter frame slots, in words from fp (frame_x86.hpp). */
#define FRAME_METHOD (-3)
#define FRAME_BCP    (-8)

/* Bounds on what is read: vmStructs entries, a name, a line table. */
#define MAX_ENTRIES  20000
#define MAX_SYMBOL   512
#define MAX_LINETAB  8192

/* The vmStructs entries read, named in fields[]. */
enum field {
	F_INTERP_CODE, F_STUB_BUFFER, F_BUFFER_LIMIT, F_METHOD_CONST, F_CM_CONSTANTS, F_CM_NAME,
	F_CM_SIG, F_CM_CODE_SIZE, F_CM_FLAGS, F_CM_FLAGS2, F_CM_SIZE, F_CP_HOLDER, F_CP_SOURCE,
	F_KLASS_NAME, F_SYM_LENGTH, F_SYM_BODY, F_SYM_BODY0, F_HEAPS, F_GA_LEN, F_GA_DATA,
	F_HEAP_MEMORY, F_HEAP_SEGMAP, F_HEAP_LOG2, F_VS_LOW_B, F_VS_HIGH_B, F_BLOB_SIZE,
	F_BLOB_FRAME, F_BLOB_NAME, F_NM_METHOD, F_CMP_METHOD, F_BLOB_CODE_BEGIN, F_BLOB_CODE_OFF,
	F_BLOB_MUTABLE, F_BLOB_MUTABLE_SIZE, F_BLOB_RELOC_SIZE, F_CMP_SCOPES, F_NM_METADATA,
	F_NM_PCS, F_NM_DEPS, F_NM_SCOPES, F_NM_IMMUTABLE, F_NM_IMMUTABLE_SIZE, F_PC_OFFSET,
	F_PC_SCOPE, NFIELDS
};

struct hotspot {
	pid_t pid;
	uint64_t interp_lo, interp_hi;	/* the interpreter's code */
	/* field offsets */
	uint64_t method_const;		/* Method::_constMethod */
	uint64_t cm_constants, cm_name, cm_sig, cm_code_size, cm_flags, cm_size;
	unsigned cm_flags_width;	/* 2 (u2, JDK ≤ 20) or 4 (ConstMethodFlags) */
	uint64_t cp_holder, cp_source;	/* ConstantPool::_pool_holder, _source_file_name_index */
	bool have_cp_source;
	uint64_t klass_name;		/* Klass::_name */
	uint64_t sym_length, sym_body;	/* Symbol::_length, _body */
	uint64_t sizeof_cm, sizeof_cp;	/* sizeof(ConstMethod), sizeof(ConstantPool) */
	bool unsigned5;			/* line tables in JDK 21's UNSIGNED5 */
	/* the code cache, for compiled frames (nheaps 0: not walked) */
	struct code_heap {
		uint64_t lo, hi;	/* its reserved code */
		uint64_t segmap;	/* one byte per segment */
		unsigned log2_seg;
	} heaps[8];
	unsigned nheaps;
	uint64_t sizeof_block;		/* sizeof(HeapBlock): a blob follows its block header */
	uint64_t blob_size, blob_frame;	/* CodeBlob::_size, _frame_size */
	uint64_t blob_name, nm_method;	/* CodeBlob::_name, nmethod::_method */
	bool have_nm;			/* both known: compiled frames are named */
	/*
	 * Where an nmethod keeps what names the methods inlined at a call
	 * and their bcis (see nm_debug): NM_NONE, not known (a compiled frame
	 * is its method alone); NM_IN_BLOB (JDK 17 to 21), all of it after
	 * the nmethod's header in the code cache; NM_SPLIT (JDK 25), the
	 * metadata in the blob's mutable data, PcDescs and scopes in its
	 * immutable data, both on the C heap.
	 */
	enum { NM_NONE, NM_IN_BLOB, NM_SPLIT } nm_layout;
	uint64_t off[NFIELDS];		/* the offsets of fields[] */
	uint64_t sizeof_pcdesc;
};

static int rd(const struct hotspot *hs, uint64_t addr, void *buf, size_t n)
{
	struct iovec local = { buf, n }, remote = { (void *)(uintptr_t)addr, n };

	if (!addr)
		return -EFAULT;
	return process_vm_readv(hs->pid, &local, 1, &remote, 1, 0) == (ssize_t)n ? 0 : -EFAULT;
}

static int rd64(const struct hotspot *hs, uint64_t addr, uint64_t *v)
{
	return rd(hs, addr, v, sizeof(*v));
}

static int rd16(const struct hotspot *hs, uint64_t addr, unsigned *v)
{
	uint16_t x;

	if (rd(hs, addr, &x, sizeof(x)))
		return -EFAULT;
	*v = x;
	return 0;
}

/* ---- libjvm.so's file: symbols and the strings vmStructs points to ---- */

struct image {
	const unsigned char *data;
	size_t len;
	uint64_t bias;			/* load address minus link-time address */
};

/* A NUL-terminated string at target address addr, when it lies in the file's loaded part. */
static const char *image_str(const struct image *im, uint64_t addr)
{
	Elf64_Ehdr eh;
	uint64_t va = addr - im->bias;

	memcpy(&eh, im->data, sizeof(eh));
	for (size_t i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		uint64_t off;

		if (eh.e_phoff > im->len || (im->len - eh.e_phoff) / sizeof(ph) <= i)
			return NULL;
		memcpy(&ph, im->data + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_LOAD || va < ph.p_vaddr || va - ph.p_vaddr >= ph.p_filesz)
			continue;
		off = ph.p_offset + (va - ph.p_vaddr);
		if (off >= im->len || !memchr(im->data + off, 0, im->len - off))
			return NULL;
		return (const char *)im->data + off;
	}
	return NULL;
}

/* The value of the exported uint64 (or pointer) variable name in the target. */
static int image_var(const struct hotspot *hs, const struct image *im, const char *name,
		     uint64_t *v)
{
	uint64_t at, size;

	if (inject_elf_symbol(im->data, im->len, name, &at, &size))
		return -ENOENT;
	return rd64(hs, im->bias + at, v);
}

/* ---- vmStructs ---- */


static const struct {
	const char *type, *field;
	bool needed;
} fields[NFIELDS] = {
	[F_INTERP_CODE] = { "AbstractInterpreter", "_code", true },
	[F_STUB_BUFFER] = { "StubQueue", "_stub_buffer", true },
	[F_BUFFER_LIMIT] = { "StubQueue", "_buffer_limit", true },
	[F_METHOD_CONST] = { "Method", "_constMethod", true },
	[F_CM_CONSTANTS] = { "ConstMethod", "_constants", true },
	[F_CM_NAME] = { "ConstMethod", "_name_index", true },
	[F_CM_SIG] = { "ConstMethod", "_signature_index", true },
	[F_CM_CODE_SIZE] = { "ConstMethod", "_code_size", true },
	[F_CM_FLAGS] = { "ConstMethod", "_flags", false },
	[F_CM_FLAGS2] = { "ConstMethod", "_flags._flags", false },
	[F_CM_SIZE] = { "ConstMethod", "_constMethod_size", false },
	[F_CP_HOLDER] = { "ConstantPool", "_pool_holder", true },
	[F_CP_SOURCE] = { "ConstantPool", "_source_file_name_index", false },
	[F_KLASS_NAME] = { "Klass", "_name", true },
	[F_SYM_LENGTH] = { "Symbol", "_length", true },
	[F_SYM_BODY] = { "Symbol", "_body", false },
	[F_SYM_BODY0] = { "Symbol", "_body[0]", false },
	[F_HEAPS] = { "CodeCache", "_heaps", false },
	[F_GA_LEN] = { "GrowableArrayBase", "_len", false },
	[F_GA_DATA] = { "GrowableArray<int>", "_data", false },
	[F_HEAP_MEMORY] = { "CodeHeap", "_memory", false },
	[F_HEAP_SEGMAP] = { "CodeHeap", "_segmap", false },
	[F_HEAP_LOG2] = { "CodeHeap", "_log2_segment_size", false },
	[F_VS_LOW_B] = { "VirtualSpace", "_low_boundary", false },
	[F_VS_HIGH_B] = { "VirtualSpace", "_high_boundary", false },
	[F_BLOB_SIZE] = { "CodeBlob", "_size", false },
	[F_BLOB_FRAME] = { "CodeBlob", "_frame_size", false },
	[F_BLOB_NAME] = { "CodeBlob", "_name", false },
	[F_NM_METHOD] = { "nmethod", "_method", false },
	[F_CMP_METHOD] = { "CompiledMethod", "_method", false }, /* JDK 17: nmethod's base */
	/* where an nmethod keeps its debug information (see nm_layout) */
	[F_BLOB_CODE_BEGIN] = { "CodeBlob", "_code_begin", false },
	[F_BLOB_CODE_OFF] = { "CodeBlob", "_code_offset", false },
	[F_BLOB_MUTABLE] = { "CodeBlob", "_mutable_data", false },
	[F_BLOB_MUTABLE_SIZE] = { "CodeBlob", "_mutable_data_size", false },
	[F_BLOB_RELOC_SIZE] = { "CodeBlob", "_relocation_size", false },
	[F_CMP_SCOPES] = { "CompiledMethod", "_scopes_data_begin", false },
	[F_NM_METADATA] = { "nmethod", "_metadata_offset", false },
	[F_NM_PCS] = { "nmethod", "_scopes_pcs_offset", false },
	[F_NM_DEPS] = { "nmethod", "_dependencies_offset", false },
	[F_NM_SCOPES] = { "nmethod", "_scopes_data_offset", false },
	[F_NM_IMMUTABLE] = { "nmethod", "_immutable_data", false },
	[F_NM_IMMUTABLE_SIZE] = { "nmethod", "_immutable_data_size", false },
	[F_PC_OFFSET] = { "PcDesc", "_pc_offset", false },
	[F_PC_SCOPE] = { "PcDesc", "_scope_decode_offset", false },
};

struct found {
	bool have[NFIELDS];
	uint64_t value[NFIELDS];	/* the offset, or a static's address */
	uint64_t sizeof_cm, sizeof_cp, sizeof_block, sizeof_pcdesc;
};

/* Reads the entries of gHotSpotVMStructs that fields[] names. */
static int read_structs(const struct hotspot *hs, const struct image *im, struct found *f)
{
	uint64_t base, o_type, o_field, o_static, o_off, o_addr, stride;
	unsigned char *arr = NULL;
	size_t got = 0;
	int ret = -ENOENT;

	if (image_var(hs, im, "gHotSpotVMStructs", &base) ||
	    image_var(hs, im, "gHotSpotVMStructEntryTypeNameOffset", &o_type) ||
	    image_var(hs, im, "gHotSpotVMStructEntryFieldNameOffset", &o_field) ||
	    image_var(hs, im, "gHotSpotVMStructEntryIsStaticOffset", &o_static) ||
	    image_var(hs, im, "gHotSpotVMStructEntryOffsetOffset", &o_off) ||
	    image_var(hs, im, "gHotSpotVMStructEntryAddressOffset", &o_addr) ||
	    image_var(hs, im, "gHotSpotVMStructEntryArrayStride", &stride))
		return -ENOENT;
	if (stride < 8 || stride > 256 || o_type > stride - 8 || o_field > stride - 8 ||
	    o_static > stride - 4 || o_off > stride - 8 || o_addr > stride - 8)
		return -EINVAL;
	/* read in chunks until the entry whose type name is NULL */
	for (size_t chunk = 256; got < MAX_ENTRIES; got += chunk) {
		arr = xrealloc(arr, (got + chunk) * stride);
		if (rd(hs, base + got * stride, arr + got * stride, chunk * stride))
			goto out;
		for (size_t i = got; i < got + chunk; i++) {
			const unsigned char *e = arr + i * stride;
			uint64_t tn, fn, off, addr;
			int32_t st;
			const char *type, *field;

			memcpy(&tn, e + o_type, 8);
			if (!tn) {
				ret = 0;
				goto out;
			}
			memcpy(&fn, e + o_field, 8);
			memcpy(&st, e + o_static, 4);
			memcpy(&off, e + o_off, 8);
			memcpy(&addr, e + o_addr, 8);
			if (!(type = image_str(im, tn)) || !(field = image_str(im, fn)))
				continue;
			for (int k = 0; k < NFIELDS; k++)
				if (!f->have[k] && !strcmp(type, fields[k].type) &&
				    !strcmp(field, fields[k].field)) {
					f->have[k] = true;
					f->value[k] = st ? addr : off;
				}
		}
	}
out:
	free(arr);
	return ret;
}

/* The sizes of ConstMethod, ConstantPool, HeapBlock and PcDesc from gHotSpotVMTypes. */
static int read_types(const struct hotspot *hs, const struct image *im, struct found *f)
{
	uint64_t base, o_type, o_size, stride;
	unsigned char e[256];

	if (image_var(hs, im, "gHotSpotVMTypes", &base) ||
	    image_var(hs, im, "gHotSpotVMTypeEntryTypeNameOffset", &o_type) ||
	    image_var(hs, im, "gHotSpotVMTypeEntrySizeOffset", &o_size) ||
	    image_var(hs, im, "gHotSpotVMTypeEntryArrayStride", &stride))
		return -ENOENT;
	if (stride < 8 || stride > sizeof(e) || o_type > stride - 8 || o_size > stride - 8)
		return -EINVAL;
	for (size_t i = 0; i < MAX_ENTRIES && !(f->sizeof_cm && f->sizeof_cp && f->sizeof_block &&
						f->sizeof_pcdesc);
	     i++) {
		uint64_t tn, size;
		const char *type;

		if (rd(hs, base + i * stride, e, stride))
			return -EFAULT;
		memcpy(&tn, e + o_type, 8);
		if (!tn)
			break;
		memcpy(&size, e + o_size, 8);
		if (!(type = image_str(im, tn)))
			continue;
		if (!strcmp(type, "ConstMethod"))
			f->sizeof_cm = size;
		else if (!strcmp(type, "HeapBlock"))
			f->sizeof_block = size;
		else if (!strcmp(type, "ConstantPool"))
			f->sizeof_cp = size;
		else if (!strcmp(type, "PcDesc"))
			f->sizeof_pcdesc = size;
	}
	return f->sizeof_cm && f->sizeof_cp ? 0 : -ENOENT;
}

/* The libjvm.so region of pid (the mapping at file offset 0), in *r (path owned). */
static int find_libjvm(pid_t pid, struct region *out)
{
	struct strbuf maps = STRBUF_INIT, perr = STRBUF_INIT;
	struct region *regs = NULL;
	size_t n = 0, alloc = 0;
	int ret = procfs_read_pid(pid, "maps", &maps, 64u << 20);

	if (!ret)
		ret = smaps_parse(maps.buf, maps.len, &regs, &n, &alloc, &perr);
	if (!ret)
		ret = -ENOENT;
	for (size_t i = 0; i < n; i++) {
		if (ret == -ENOENT && regs[i].offset == 0 && regs[i].path[0] == '/' &&
		    region_path_is_libjvm(regs[i].path, strlen(regs[i].path))) {
			*out = regs[i];
			regs[i].path = NULL;
			ret = 0;
		}
		free(regs[i].path);
	}
	free(regs);
	strbuf_release(&maps);
	strbuf_release(&perr);
	return ret;
}

/* Whether f has every field of need[], n of them. */
static bool have_all(const struct found *f, const enum field *need, size_t n)
{
	for (size_t k = 0; k < n; k++)
		if (!f->have[need[k]])
			return false;
	return true;
}

/*
 * Which of the layouts of an nmethod's debug information f describes. A
 * JVM that matches neither (JDK 22 to 24 moved it piece by piece) gets
 * NM_NONE rather than a guess: the scopes are checked against the
 * nmethod's own method (nm_debug), but a wrong layout would name nothing.
 */
static void read_nm_layout(struct hotspot *hs, const struct found *f)
{
	static const enum field in_blob[] = { F_BLOB_CODE_BEGIN, F_CMP_SCOPES, F_NM_METADATA,
					      F_NM_PCS, F_NM_DEPS, F_PC_OFFSET, F_PC_SCOPE };
	static const enum field split[] = { F_BLOB_CODE_OFF, F_BLOB_MUTABLE, F_BLOB_MUTABLE_SIZE,
					    F_BLOB_RELOC_SIZE, F_NM_PCS, F_NM_SCOPES,
					    F_NM_IMMUTABLE, F_NM_IMMUTABLE_SIZE, F_PC_OFFSET,
					    F_PC_SCOPE };

	if (!hs->have_nm || f->sizeof_pcdesc < 8 || f->sizeof_pcdesc > 64)
		return;
	if (have_all(f, in_blob, sizeof(in_blob) / sizeof(in_blob[0])))
		hs->nm_layout = NM_IN_BLOB;
	else if (!f->have[F_NM_METADATA] && have_all(f, split, sizeof(split) / sizeof(split[0])))
		hs->nm_layout = NM_SPLIT;
	else
		return;
	memcpy(hs->off, f->value, sizeof(hs->off));
	hs->sizeof_pcdesc = f->sizeof_pcdesc;
}

/*
 * The code cache's heaps (CodeCache::_heaps, a GrowableArray<CodeHeap*>):
 * where compiled code lies and its segment maps. Without every field used,
 * none: compiled frames are then not walked, interpreted ones still are.
 */
static void read_heaps(struct hotspot *hs, const struct found *f)
{
	static const enum field need[] = { F_HEAPS, F_GA_LEN, F_GA_DATA, F_HEAP_MEMORY,
					   F_HEAP_SEGMAP, F_HEAP_LOG2, F_VS_LOW_B, F_VS_HIGH_B,
					   F_BLOB_SIZE, F_BLOB_FRAME };
	uint64_t arr, data, heap[8];
	int32_t len;

	if (!have_all(f, need, sizeof(need) / sizeof(need[0])) || !f->sizeof_block || rd64(hs, f->value[F_HEAPS], &arr) || !arr ||
	    rd(hs, arr + f->value[F_GA_LEN], &len, sizeof(len)) || len <= 0 ||
	    rd64(hs, arr + f->value[F_GA_DATA], &data) ||
	    rd(hs, data, heap, (size_t)(len < 8 ? len : 8) * 8))
		return;
	for (int i = 0; i < len && i < 8; i++) {
		struct code_heap *h = &hs->heaps[hs->nheaps];
		int32_t log2;

		if (rd64(hs, heap[i] + f->value[F_HEAP_MEMORY] + f->value[F_VS_LOW_B], &h->lo) ||
		    rd64(hs, heap[i] + f->value[F_HEAP_MEMORY] + f->value[F_VS_HIGH_B], &h->hi) ||
		    rd64(hs, heap[i] + f->value[F_HEAP_SEGMAP] + f->value[F_VS_LOW_B], &h->segmap) ||
		    rd(hs, heap[i] + f->value[F_HEAP_LOG2], &log2, sizeof(log2)) || log2 < 4 ||
		    log2 > 16 || h->lo >= h->hi || !h->segmap)
			continue;
		h->log2_seg = (unsigned)log2;
		hs->nheaps++;
	}
	hs->sizeof_block = f->sizeof_block;
	hs->blob_size = f->value[F_BLOB_SIZE];
	hs->blob_frame = f->value[F_BLOB_FRAME];
	hs->have_nm = f->have[F_BLOB_NAME] && (f->have[F_NM_METHOD] || f->have[F_CMP_METHOD]);
	hs->blob_name = f->value[F_BLOB_NAME];
	hs->nm_method = f->have[F_NM_METHOD] ? f->value[F_NM_METHOD] : f->value[F_CMP_METHOD];
	read_nm_layout(hs, f);
}

static int setup(struct hotspot *hs, const struct image *im)
{
	struct found f = { 0 };
	uint64_t code, buffer;
	int32_t limit;

	if (read_structs(hs, im, &f) || read_types(hs, im, &f))
		return -ENOENT;
	for (int k = 0; k < NFIELDS; k++)
		if (fields[k].needed && !f.have[k])
			return -ENOENT;
	if (!f.have[F_SYM_BODY] && !f.have[F_SYM_BODY0])
		return -ENOENT;
	/* the interpreter's code: generated early in the JVM's start */
	if (rd64(hs, f.value[F_INTERP_CODE], &code) || !code ||
	    rd64(hs, code + f.value[F_STUB_BUFFER], &buffer) ||
	    rd(hs, code + f.value[F_BUFFER_LIMIT], &limit, sizeof(limit)) || !buffer || limit <= 0)
		return -EAGAIN;
	hs->interp_lo = buffer;
	hs->interp_hi = buffer + (uint64_t)limit;
	hs->method_const = f.value[F_METHOD_CONST];
	hs->cm_constants = f.value[F_CM_CONSTANTS];
	hs->cm_name = f.value[F_CM_NAME];
	hs->cm_sig = f.value[F_CM_SIG];
	hs->cm_code_size = f.value[F_CM_CODE_SIZE];
	hs->cm_size = f.have[F_CM_SIZE] ? f.value[F_CM_SIZE] : 0;
	hs->unsigned5 = f.have[F_CM_FLAGS2];
	hs->cm_flags_width = f.have[F_CM_FLAGS2] ? 4 : f.have[F_CM_FLAGS] ? 2 : 0;
	hs->cm_flags = f.have[F_CM_FLAGS2] ? f.value[F_CM_FLAGS2] : f.value[F_CM_FLAGS];
	hs->cp_holder = f.value[F_CP_HOLDER];
	hs->have_cp_source = f.have[F_CP_SOURCE];
	hs->cp_source = f.value[F_CP_SOURCE];
	hs->klass_name = f.value[F_KLASS_NAME];
	hs->sym_length = f.value[F_SYM_LENGTH];
	hs->sym_body = f.have[F_SYM_BODY] ? f.value[F_SYM_BODY] : f.value[F_SYM_BODY0];
	hs->sizeof_cm = f.sizeof_cm;
	hs->sizeof_cp = f.sizeof_cp;
	read_heaps(hs, &f);
	return 0;
}

struct hotspot *hotspot_open(pid_t pid)
{
	struct hotspot *hs = xcalloc(1, sizeof(*hs));
	struct region r = { 0 };
	struct image im = { 0 };
	void *data = NULL;
	uint64_t vaddr;
	int ret;

	hs->pid = pid;
	ret = find_libjvm(pid, &r);
	if (!ret)
		ret = inject_map_module(pid, &r, &data, &im.len);
	if (!ret) {
		im.data = data;
		ret = inject_elf_first_load(data, im.len, &vaddr);
		im.bias = r.start - (vaddr & ~(uint64_t)4095);
		if (!ret)
			ret = setup(hs, &im);
		munmap(data, im.len);
	}
	free(r.path);
	if (ret) {
		free(hs);
		return NULL;
	}
	return hs;
}

void hotspot_close(struct hotspot *hs)
{
	free(hs);
}

bool hotspot_in_interpreter(const struct hotspot *hs, uint64_t pc)
{
	return hs && pc >= hs->interp_lo && pc < hs->interp_hi;
}

/* Hops back through a segment map before giving up on a block's start. */
#define MAX_HOPS 64

/*
 * The code blob holding pc: its address and frame size in bytes (0 for a
 * stub that keeps no frame size). The segment map holds, per segment of a
 * heap, 0 where a block starts, else how many segments to go back towards
 * its start, 0xFF where the segment is free (heap.hpp).
 */
static int blob_of(struct hotspot *hs, uint64_t pc, uint64_t *blob, uint64_t *frame)
{
	for (unsigned i = 0; i < hs->nheaps; i++) {
		const struct code_heap *h = &hs->heaps[i];
		uint64_t seg, b;
		int32_t size, fs;
		unsigned char hop;

		if (pc < h->lo || pc >= h->hi)
			continue;
		seg = (pc - h->lo) >> h->log2_seg;
		for (int k = 0;; k++) {
			if (k == MAX_HOPS || rd(hs, h->segmap + seg, &hop, 1) || hop == 0xFF ||
			    hop > seg)
				return -EFAULT;
			if (!hop)
				break;
			seg -= hop;
		}
		b = h->lo + (seg << h->log2_seg) + hs->sizeof_block;
		if (rd(hs, b + hs->blob_size, &size, sizeof(size)) || size <= 0 ||
		    pc >= b + (uint64_t)size || rd(hs, b + hs->blob_frame, &fs, sizeof(fs)) ||
		    fs < 0 || fs > (1 << 20))
			return -EFAULT;
		*blob = b;
		*frame = (uint64_t)fs * 8;
		return 0;
	}
	return -ENOENT;
}

bool hotspot_in_code(const struct hotspot *hs, uint64_t pc)
{
	for (unsigned i = 0; hs && i < hs->nheaps; i++)
		if (pc >= hs->heaps[i].lo && pc < hs->heaps[i].hi)
			return true;
	return hotspot_in_interpreter(hs, pc);
}

/* The nmethod (a compiled Java method, or a native method's wrapper: *native) whose code holds pc. */
static int nmethod_of(struct hotspot *hs, uint64_t pc, uint64_t *nm, uint64_t *method,
		      bool *native)
{
	uint64_t blob, frame, name, m;
	char text[16];

	/* a compiled Java method's blob is named "nmethod", a native method's wrapper "native nmethod" */
	if (!hs || !hs->have_nm || blob_of(hs, pc, &blob, &frame) ||
	    rd64(hs, blob + hs->blob_name, &name) || rd(hs, name, text, 8))
		return -ENOENT;
	*native = !memcmp(text, "native n", 8);
	if (*native ? rd(hs, name + 8, text + 8, 7) || memcmp(text, "native nmethod", 15)
		    : memcmp(text, "nmethod", 8))
		return -ENOENT;
	if (rd64(hs, blob + hs->nm_method, &m) || !m || (m & 7))
		return -ENOENT;
	*nm = blob;
	*method = m;
	return 0;
}

static int rd32(const struct hotspot *hs, uint64_t addr, int32_t *v)
{
	return rd(hs, addr, v, sizeof(*v));
}

/* Bounds on an nmethod's debug information, and on the methods inlined at one call. */
#define MAX_DEBUG  (64u << 20)
#define MAX_SCOPES 64

/* Where an nmethod's debug information lies: [lo, hi) of each part. */
struct nm_debug {
	uint64_t code;			/* PcDesc offsets count from here */
	uint64_t pcs_lo, pcs_hi;	/* PcDescs, sorted by pc offset */
	uint64_t sd_lo, sd_hi;		/* scopes: compressed ints */
	uint64_t md_lo, md_hi;		/* metadata: Method* and Klass*, index 1 first */
};

static int nm_debug(struct hotspot *hs, uint64_t nm, struct nm_debug *d)
{
	const uint64_t *o = hs->off;
	int32_t pcs, end, md, code, size, mut_size;
	uint64_t imm, mut;

	if (hs->nm_layout == NM_IN_BLOB) {
		if (rd64(hs, nm + o[F_BLOB_CODE_BEGIN], &d->code) || rd32(hs, nm + o[F_NM_PCS], &pcs) ||
		    rd32(hs, nm + o[F_NM_DEPS], &end) || rd32(hs, nm + o[F_NM_METADATA], &md) ||
		    rd64(hs, nm + o[F_CMP_SCOPES], &d->sd_lo) || pcs < 0 || end < 0 || md < 0)
			return -EFAULT;
		d->pcs_lo = nm + (uint64_t)pcs;
		d->pcs_hi = nm + (uint64_t)end;
		d->sd_hi = d->pcs_lo;
		d->md_lo = nm + (uint64_t)md;
		d->md_hi = d->sd_lo;
	} else if (hs->nm_layout == NM_SPLIT) {
		if (rd32(hs, nm + o[F_BLOB_CODE_OFF], &code) || rd64(hs, nm + o[F_NM_IMMUTABLE], &imm) ||
		    rd32(hs, nm + o[F_NM_IMMUTABLE_SIZE], &size) || rd32(hs, nm + o[F_NM_PCS], &pcs) ||
		    rd32(hs, nm + o[F_NM_SCOPES], &end) || rd64(hs, nm + o[F_BLOB_MUTABLE], &mut) ||
		    rd32(hs, nm + o[F_BLOB_RELOC_SIZE], &md) ||
		    rd32(hs, nm + o[F_BLOB_MUTABLE_SIZE], &mut_size) || code < 0 || size < 0 ||
		    pcs < 0 || end < 0 || md < 0 || mut_size < 0 || !imm || !mut)
			return -EFAULT;
		d->code = nm + (uint64_t)code;
		d->pcs_lo = imm + (uint64_t)pcs;
		d->pcs_hi = imm + (uint64_t)end;
		d->sd_lo = d->pcs_hi;
		d->sd_hi = imm + (uint64_t)size;
		d->md_lo = mut + (uint64_t)md;
		d->md_hi = mut + (uint64_t)mut_size;
	} else {
		return -ENOENT;
	}
	if (d->pcs_lo > d->pcs_hi || d->pcs_hi - d->pcs_lo > MAX_DEBUG || d->sd_lo > d->sd_hi ||
	    d->sd_hi - d->sd_lo > MAX_DEBUG || d->md_lo > d->md_hi ||
	    d->md_hi - d->md_lo > MAX_DEBUG || (d->md_lo & 7) || (d->pcs_lo & 3))
		return -EFAULT;
	return 0;
}

/* The scope offset of the PcDesc for return address pc: a call's debug information. */
static int pc_scope(struct hotspot *hs, const struct nm_debug *d, uint64_t pc, int32_t *scope)
{
	uint64_t lo = 0, hi = (d->pcs_hi - d->pcs_lo) / hs->sizeof_pcdesc;
	int32_t want, at;

	if (pc <= d->code || pc - d->code > INT32_MAX)
		return -ENOENT;
	want = (int32_t)(pc - d->code);
	for (int k = 0; lo < hi && k < 64; k++) {
		uint64_t mid = lo + (hi - lo) / 2, e = d->pcs_lo + mid * hs->sizeof_pcdesc;

		if (rd32(hs, e + hs->off[F_PC_OFFSET], &at))
			return -EFAULT;
		if (at == want)
			return rd32(hs, e + hs->off[F_PC_SCOPE], scope);
		if (at < want)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -ENOENT;
}

/*
 * The scopes of the call whose return address is pc in nm, innermost
 * first, in out (up to max): a scope's header is its sender's offset (0
 * for none: the outermost), its method's index in the metadata (from 1)
 * and its bci + 1 (debugInfoRec.cpp, scopeDesc.cpp). The outermost scope
 * is nm's own method, which checks the layout and the reads.
 */
static int nm_scopes(struct hotspot *hs, uint64_t nm, uint64_t method, uint64_t pc,
		     struct hotspot_scope *out, int max)
{
	struct nm_debug d;
	int32_t dec;
	int n = 0;

	if (nm_debug(hs, nm, &d) || pc_scope(hs, &d, pc, &dec) || dec <= 0)
		return -ENOENT;
	while (n < max && n < MAX_SCOPES) {
		unsigned char buf[16];
		uint32_t hdr[3];
		uint64_t m;
		size_t len;

		if ((uint64_t)dec >= d.sd_hi - d.sd_lo)
			return -EFAULT;
		len = d.sd_hi - d.sd_lo - (uint64_t)dec;
		if (len > sizeof(buf))
			len = sizeof(buf);
		if (rd(hs, d.sd_lo + (uint64_t)dec, buf, len) ||
		    hotspot_scope_header(buf, len, hs->unsigned5, hdr) || !hdr[1] ||
		    (uint64_t)hdr[1] > (d.md_hi - d.md_lo) / 8 ||
		    rd64(hs, d.md_lo + (uint64_t)(hdr[1] - 1) * 8, &m) || !m || (m & 7))
			return -EFAULT;
		out[n].method = m;
		out[n].bci = hdr[2] >= 1 && hdr[2] <= 65536 ? (int)hdr[2] - 1 : HOTSPOT_BCI_COMPILED;
		n++;
		if (!hdr[0])
			return m == method ? n : -EFAULT;
		if (hdr[0] > INT32_MAX)
			return -EFAULT;
		dec = (int32_t)hdr[0];
	}
	return -E2BIG;
}

int hotspot_compiled_frames(struct hotspot *hs, uint64_t pc, struct hotspot_scope *out, int max)
{
	uint64_t nm, method;
	bool native;
	int n;

	if (max < 1 || nmethod_of(hs, pc, &nm, &method, &native))
		return -ENOENT;
	if (!native && (n = nm_scopes(hs, nm, method, pc, out, max)) > 0)
		return n;
	out[0].method = method;
	out[0].bci = native ? HOTSPOT_BCI_NATIVE : HOTSPOT_BCI_COMPILED;
	return 1;
}

/* Frames beyond this size are none a JVM makes: the walk has gone astray. */
#define MAX_FRAME (1u << 20)

int hotspot_step(struct hotspot *hs, struct hotspot_regs *r)
{
	uint64_t blob, frame, sp, pc, fp, usp;

	if (!hs || (r->sp & 7))
		return -EFAULT;
	if (hotspot_in_interpreter(hs, r->pc) || blob_of(hs, r->pc, &blob, &frame) ||
	    !frame) {
		/*
		 * The interpreter, and stubs such as the call stub, keep rbp as a
		 * frame pointer: the caller's pc above the saved rbp. An
		 * interpreted frame also keeps its caller's sp (fp - 1 word),
		 * which is where a compiled caller's frame starts (a native
		 * method's is above fp + 2 words, past its arguments).
		 */
		if (r->fp < r->sp || r->fp - r->sp > MAX_FRAME || (r->fp & 7) ||
		    rd64(hs, r->fp + 8, &pc) || rd64(hs, r->fp, &fp))
			return -EFAULT;
		sp = r->fp + 16;
		usp = sp;
		if (hotspot_in_interpreter(hs, r->pc) &&
		    (rd64(hs, r->fp - 8, &usp) || (usp & 7) ||
		     (usp > sp ? usp - sp : sp - usp) > MAX_FRAME))
			return -EFAULT;
	} else {
		/* compiled code: a fixed frame above its unextended sp, saved rbp and pc on top */
		sp = r->usp + frame;
		if (sp <= r->sp || rd64(hs, sp - 8, &pc) || rd64(hs, sp - 16, &fp))
			return -EFAULT;
		usp = sp;
	}
	if (pc < 4096)
		return -EFAULT;
	r->pc = pc;
	r->sp = sp;
	r->fp = fp;
	r->usp = usp;
	return 0;
}

/* Where method's bytecodes start and how many there are. */
static int code_of(struct hotspot *hs, uint64_t cm, uint64_t *start, unsigned *size)
{
	if (rd16(hs, cm + hs->cm_code_size, size))
		return -EFAULT;
	*start = cm + hs->sizeof_cm;
	return 0;
}

int hotspot_frame(struct hotspot *hs, uint64_t fp, uint64_t *method, int *bci)
{
	uint64_t m, bcp, cm, start;
	unsigned size;

	if (!hs || fp < 64 || (fp & 7) || rd64(hs, fp + FRAME_METHOD * 8, &m) || !m || (m & 7) ||
	    rd64(hs, fp + FRAME_BCP * 8, &bcp) || rd64(hs, m + hs->method_const, &cm) || !cm ||
	    code_of(hs, cm, &start, &size))
		return -EFAULT;
	*method = m;
	/* a native method's frame has no bcp; a bcp outside the code is none we can use */
	*bci = bcp >= start && bcp < start + size ? (int)(bcp - start) : HOTSPOT_BCI_NATIVE;
	return 0;
}

/* A Symbol's text in buf (at most n - 1 bytes). */
static int symbol_text(struct hotspot *hs, uint64_t sym, char *buf, size_t n)
{
	unsigned len;

	if (!sym || (sym & 3) || rd16(hs, sym + hs->sym_length, &len) || len >= n ||
	    len >= MAX_SYMBOL || rd(hs, sym + hs->sym_body, buf, len) || memchr(buf, '\0', len))
		return -EFAULT;
	buf[len] = '\0';
	return 0;
}

/* The Symbol at cp's slot idx, as text. */
static int cp_symbol(struct hotspot *hs, uint64_t cp, unsigned idx, char *buf, size_t n)
{
	uint64_t sym;

	if (!idx || rd64(hs, cp + hs->sizeof_cp + (uint64_t)idx * 8, &sym))
		return -EFAULT;
	return symbol_text(hs, sym, buf, n);
}

void hotspot_signature_args(struct strbuf *sb, const char *sig)
{
	static const char *const prim[] = { ['B'] = "byte", ['C'] = "char", ['D'] = "double",
					    ['F'] = "float", ['I'] = "int", ['J'] = "long",
					    ['S'] = "short", ['Z'] = "boolean" };
	const char *p = sig + (*sig == '(');
	bool first = true;

	while (*p && *p != ')') {
		int dims = 0;

		while (*p == '[') {
			dims++;
			p++;
		}
		strbuf_addstr(sb, first ? "" : ", ");
		first = false;
		if (*p == 'L') {
			const char *end = strchr(p, ';');

			if (!end)
				return;
			for (p++; p < end; p++)
				strbuf_addch(sb, *p == '/' ? '.' : *p);
			p++;
		} else if ((unsigned char)*p < sizeof(prim) / sizeof(prim[0]) &&
			   prim[(unsigned char)*p]) {
			strbuf_addstr(sb, prim[(unsigned char)*p]);
			p++;
		} else {
			return;
		}
		while (dims-- > 0)
			strbuf_addstr(sb, "[]");
	}
}

/*
 * Reads one compressed int (base-64 digits, a byte below 192 ends it;
 * UNSIGNED5 stores each byte plus one); false past the end.
 */
static bool read_uint(const unsigned char *tab, size_t len, size_t *pos, bool unsigned5,
		      uint32_t *out)
{
	const unsigned x = unsigned5 ? 1 : 0, l = 256 - 64 - x;
	uint64_t sum = 0;

	for (unsigned i = 0, shift = 0; i < 5; i++, shift += 6) {
		unsigned b;

		if (*pos >= len || tab[*pos] < x)
			return false;
		b = tab[(*pos)++] - x;
		sum += (uint64_t)b << shift;
		if (b < l)
			break;
	}
	*out = (uint32_t)sum;
	return true;
}

/* Reads one zig-zag coded int of a line table; false past the end. */
static bool read_signed(const unsigned char *tab, size_t len, size_t *pos, bool unsigned5,
			int64_t *out)
{
	uint32_t v;

	if (!read_uint(tab, len, pos, unsigned5, &v))
		return false;
	*out = (int32_t)((v >> 1) ^ (uint32_t) - (int32_t)(v & 1));
	return true;
}

int hotspot_scope_header(const unsigned char *buf, size_t len, bool unsigned5, uint32_t hdr[3])
{
	size_t pos = 0;

	for (int i = 0; i < 3; i++)
		if (!read_uint(buf, len, &pos, unsigned5, &hdr[i]))
			return -EINVAL;
	return 0;
}

int hotspot_line_of(const unsigned char *tab, size_t len, int bci, bool unsigned5)
{
	int64_t at = 0, line = 0;
	int best = -1;
	int64_t best_at = -1;

	for (size_t pos = 0; pos < len;) {
		unsigned char b = tab[pos++];

		if (!b)
			return best;
		if (b != 0xFF) {
			at += b >> 3;
			line += b & 7;
		} else {
			int64_t db, dl;

			if (!read_signed(tab, len, &pos, unsigned5, &db) ||
			    !read_signed(tab, len, &pos, unsigned5, &dl))
				return -1;
			at += db;
			line += dl;
		}
		if (at < 0 || at > 65535 || line < 0 || line > 0x7fffffff)
			return -1;
		if (at == bci)
			return (int)line;
		if (at < bci && at >= best_at) {
			best_at = at;
			best = (int)line;
		}
	}
	return -1; /* no end within len */
}

/* The line of bci in the method whose ConstMethod is cm, or -1. */
static int line_of(struct hotspot *hs, uint64_t cm, int bci)
{
	unsigned char tab[MAX_LINETAB];
	uint64_t start, flags = 0;
	unsigned size;
	size_t len = sizeof(tab);
	int32_t words;

	if (bci < 0 || !hs->cm_flags_width || code_of(hs, cm, &start, &size) ||
	    rd(hs, cm + hs->cm_flags, &flags, hs->cm_flags_width) || !(flags & 1))
		return -1;
	/* the table lies within the ConstMethod, whose size (in words) bounds the read */
	if (hs->cm_size && !rd(hs, cm + hs->cm_size, &words, sizeof(words)) && words > 0 &&
	    (uint64_t)words * 8 > hs->sizeof_cm + size &&
	    (uint64_t)words * 8 - hs->sizeof_cm - size < len)
		len = (size_t)((uint64_t)words * 8 - hs->sizeof_cm - size);
	/* a read that crosses into an unmapped page: try the part up to it */
	while (len && rd(hs, start + size, tab, len)) {
		uint64_t end = (start + size + len - 1) & ~(uint64_t)4095;

		len = end > start + size ? (size_t)(end - start - size) : 0;
	}
	return len ? hotspot_line_of(tab, len, bci, hs->unsigned5) : -1;
}

int hotspot_method_name(struct hotspot *hs, uint64_t method, int bci, struct hotspot_name *out)
{
	struct strbuf sb = STRBUF_INIT;
	char cls[MAX_SYMBOL], name[MAX_SYMBOL], sig[MAX_SYMBOL];
	uint64_t cm, cp, holder, ksym;
	unsigned name_idx, sig_idx, file_idx;

	memset(out, 0, sizeof(*out));
	if (!hs || rd64(hs, method + hs->method_const, &cm) || !cm ||
	    rd64(hs, cm + hs->cm_constants, &cp) || !cp ||
	    rd64(hs, cp + hs->cp_holder, &holder) || !holder ||
	    rd64(hs, holder + hs->klass_name, &ksym) || symbol_text(hs, ksym, cls, sizeof(cls)) ||
	    rd16(hs, cm + hs->cm_name, &name_idx) || rd16(hs, cm + hs->cm_sig, &sig_idx) ||
	    cp_symbol(hs, cp, name_idx, name, sizeof(name)) ||
	    cp_symbol(hs, cp, sig_idx, sig, sizeof(sig)))
		return -EFAULT;
	for (char *c = cls; *c; c++)
		if (*c == '/')
			*c = '.';
	strbuf_addf(&sb, "%s.%s(", cls, name);
	hotspot_signature_args(&sb, sig);
	strbuf_addch(&sb, ')');
	snprintf(out->method, sizeof(out->method), "%s", sb.buf);
	strbuf_release(&sb);
	out->native = bci == HOTSPOT_BCI_NATIVE;
	if (bci >= 0) {
		out->line = line_of(hs, cm, bci);
		if (out->line < 0)
			out->line = 0;
		if (!hs->have_cp_source || rd16(hs, cp + hs->cp_source, &file_idx) ||
		    cp_symbol(hs, cp, file_idx, out->file, sizeof(out->file)))
			*out->file = '\0';
	}
	return 0;
}

char *hotspot_name_format(const struct hotspot_name *nm, char *buf, size_t n)
{
	if (nm->native)
		snprintf(buf, n, "%s (Native Method)", nm->method);
	else if (*nm->file && nm->line > 0)
		snprintf(buf, n, "%s (%s:%d)", nm->method, nm->file, nm->line);
	else if (nm->line > 0)
		snprintf(buf, n, "%s (line %d)", nm->method, nm->line);
	else if (*nm->file)
		snprintf(buf, n, "%s (%s)", nm->method, nm->file);
	else
		snprintf(buf, n, "%s", nm->method);
	return buf;
}
