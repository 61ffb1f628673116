/*
 * flame: the flame graph of live bytes (see flame.h).
 *
 * Stacks are merged into a tree of frames by name, outermost first, at most
 * FLAME_MAX_DEPTH deep. The drawing counts the rectangles a floor would give
 * (each parent's merged "smaller frames" counts as one) and doubles the floor
 * until they fit the cap, so the page stays small whatever the recording.
 */
#include "flame.h"

#include "allocdb.h"
#include "allocrank.h"
#include "html.h"
#include "parse.h"
#include "strbuf.h"
#include "xalloc.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FLAME_W		1200
#define FLAME_ROW	17
#define FLAME_MAX_DEPTH 128

#define NONE SIZE_MAX

/*
 * Zoom and search, the page's only script. Every frame's <g> carries its
 * unzoomed place (data-x, data-w), its depth (data-d) and its whole name
 * (data-n); the script moves rectangles and relabels them, nothing else.
 * Labels are cut as flame_label cuts them. The page's address can ask for a
 * search or a zoom ("#search=TEXT", "#zoom=NAME": the first frame whose name
 * starts so), which the tests use.
 */
static const char flame_script[] =
	"(function () {\n"
	"var svg = document.getElementById('flame');\n"
	"if (!svg) return;\n"
	"var W = +svg.getAttribute('data-w');\n"
	"var gs = Array.prototype.slice.call(svg.querySelectorAll('g[data-w]'));\n"
	"var info = document.getElementById('flame-info');\n"
	"var input = document.getElementById('flame-search');\n"
	"function num(g, a) { return +g.getAttribute(a); }\n"
	"function place(g, x, w) {\n"
	"  var r = g.querySelector('rect'), t = g.querySelector('text');\n"
	"  var n = g.getAttribute('data-n'), fit = Math.floor((w - 6) / 6.7);\n"
	"  r.setAttribute('x', x.toFixed(1));\n"
	"  r.setAttribute('width', Math.max(w, 0).toFixed(1));\n"
	"  t.setAttribute('x', (x + 3).toFixed(1));\n"
	"  t.textContent = w <= 26 || fit < 3 ? '' : n.length <= fit ? n : n.slice(0, fit - 2) + '..';\n"
	"}\n"
	"function zoom(z) {\n"
	"  var zx = num(z, 'data-x'), zw = num(z, 'data-w'), zd = num(z, 'data-d'), k = W / zw;\n"
	"  gs.forEach(function (g) {\n"
	"    var x = num(g, 'data-x'), w = num(g, 'data-w'), d = num(g, 'data-d'), e = 0.001;\n"
	"    var inside = x >= zx - e && x + w <= zx + zw + e;\n"
	"    var above = d < zd && x <= zx + e && x + w >= zx + zw - e;\n"
	"    g.style.display = inside && d >= zd || above ? '' : 'none';\n"
	"    if (above) place(g, 0, W);\n"
	"    else if (inside) place(g, (x - zx) * k, w * k);\n"
	"  });\n"
	"  svg.setAttribute('data-zoom', z.getAttribute('data-n'));\n"
	"}\n"
	"function reset() {\n"
	"  gs.forEach(function (g) { g.style.display = ''; place(g, num(g, 'data-x'), num(g, 'data-w')); });\n"
	"  svg.removeAttribute('data-zoom');\n"
	"}\n"
	"function search(q) {\n"
	"  var spans = [], total = 0, end = -1, n = 0;\n"
	"  q = q.toLowerCase();\n"
	"  gs.forEach(function (g) {\n"
	"    var text = (g.getAttribute('data-n') + ' ' + g.querySelector('title').textContent).toLowerCase();\n"
	"    var hit = q !== '' && text.indexOf(q) >= 0;\n"
	"    g.classList.toggle('match', hit);\n"
	"    if (hit) { n++; spans.push([num(g, 'data-x'), num(g, 'data-w')]); }\n"
	"  });\n"
	"  /* A frame inside a matched frame adds nothing: the share is of the union. */\n"
	"  spans.sort(function (a, b) { return a[0] - b[0]; });\n"
	"  spans.forEach(function (s) {\n"
	"    var a = Math.max(s[0], end), b = s[0] + s[1];\n"
	"    if (b > a) { total += b - a; end = b; }\n"
	"  });\n"
	"  info.textContent = q === '' ? '' : n + ' frames match, ' + (100 * total / W).toFixed(1) + '% of the live bytes';\n"
	"}\n"
	"svg.addEventListener('click', function (e) {\n"
	"  var g = e.target.closest('g[data-w]');\n"
	"  if (!g) return;\n"
	"  if (num(g, 'data-d') === 0) reset(); else zoom(g);\n"
	"});\n"
	"document.getElementById('flame-reset').addEventListener('click', reset);\n"
	"input.addEventListener('input', function () { search(input.value); });\n"
	"var h = decodeURIComponent(location.hash.slice(1));\n"
	"if (h.indexOf('search=') === 0) { input.value = h.slice(7); search(input.value); }\n"
	"if (h.indexOf('zoom=') === 0) {\n"
	"  var z = gs.filter(function (g) { return g.getAttribute('data-n').indexOf(h.slice(5)) === 0; })[0];\n"
	"  if (z) zoom(z);\n"
	"}\n"
	"})();\n";

struct fnode {
	char *name;		     /* owned */
	const struct alloc_frame *f; /* the first frame merged here; NULL for the root */
	uint64_t bytes;
	size_t child, next; /* first child, next sibling */
	int depth;
};

struct flame {
	struct fnode *n;
	size_t nr, alloc;
	uint64_t total, floor; /* bytes of the root; narrower nodes are merged */
	int maxdepth;
	size_t rendered;
};

static size_t flame_child(struct flame *fl, size_t parent, const char *name,
			  const struct alloc_frame *f)
{
	size_t *link = &fl->n[parent].child;
	struct fnode *n;

	for (size_t c = *link; c != NONE; c = fl->n[c].next) {
		if (!strcmp(fl->n[c].name, name))
			return c;
		link = &fl->n[c].next;
	}
	ALLOC_GROW(fl->n, fl->nr + 1, fl->alloc);
	n = &fl->n[fl->nr];
	n->name = xstrdup(name);
	n->f = f;
	n->bytes = 0;
	n->child = n->next = NONE;
	n->depth = fl->n[parent].depth + 1;
	/* link may have moved with the array: find the last sibling again */
	link = &fl->n[parent].child;
	while (*link != NONE)
		link = &fl->n[*link].next;
	*link = fl->nr;
	return fl->nr++;
}

static void flame_build(struct flame *fl, const struct alloc_site *v, size_t nv)
{
	char buf[512];

	memset(fl, 0, sizeof(*fl));
	ALLOC_GROW(fl->n, 1, fl->alloc);
	fl->n[0] = (struct fnode){.name = xstrdup("all"), .child = NONE, .next = NONE};
	fl->nr = 1;
	for (size_t i = 0; i < nv; i++) {
		const struct alloc_stack *s = v[i].s;
		size_t cur = 0;

		if (v[i].live <= 0)
			continue;
		fl->n[0].bytes += (uint64_t)v[i].live;
		if (!s->nframes) {
			cur = flame_child(fl, cur, "(other stacks)", NULL);
			fl->n[cur].bytes += (uint64_t)v[i].live;
			continue;
		}
		for (size_t k = s->nframes; k-- > 0;) {
			const struct alloc_frame *f = &s->frames[k];

			if (fl->n[cur].depth >= FLAME_MAX_DEPTH)
				break;
			cur = flame_child(fl, cur, allocrank_frame_name(f, buf, sizeof(buf)), f);
			fl->n[cur].bytes += (uint64_t)v[i].live;
		}
	}
	fl->total = fl->n[0].bytes;
}

static void flame_release(struct flame *fl)
{
	for (size_t i = 0; i < fl->nr; i++)
		free(fl->n[i].name);
	free(fl->n);
}

/* Nodes drawn at this floor (each "other" counts as one). */
static size_t flame_count(const struct flame *fl, size_t node, uint64_t floor, int *maxdepth)
{
	size_t cnt = 1;
	uint64_t small = 0;

	if (fl->n[node].depth > *maxdepth)
		*maxdepth = fl->n[node].depth;
	for (size_t c = fl->n[node].child; c != NONE; c = fl->n[c].next) {
		if (fl->n[c].bytes >= floor)
			cnt += flame_count(fl, c, floor, maxdepth);
		else
			small += fl->n[c].bytes;
	}
	if (small && small >= floor) {
		cnt++;
		if (fl->n[node].depth + 1 > *maxdepth)
			*maxdepth = fl->n[node].depth + 1;
	}
	return cnt;
}

/* A colour per module (hue from its name), a little lighter or darker per function. */
static void flame_color(char *buf, size_t n, const struct fnode *node)
{
	const char *mod = node->f && node->f->module ? node->f->module : NULL;
	uint32_t h = 2166136261u, hf = 2166136261u;

	if (!node->f) {
		snprintf(buf, n, "hsl(0,0%%,%d%%)", node->depth ? 80 : 70);
		return;
	}
	if (node->f->jit || node->f->java) {
		mod = "[java]";
	} else if (!mod) {
		snprintf(buf, n, "hsl(30,10%%,72%%)");
		return;
	}
	if (strrchr(mod, '/'))
		mod = strrchr(mod, '/') + 1;
	for (const char *p = mod; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	for (const char *p = node->name; *p; p++)
		hf = (hf ^ (unsigned char)*p) * 16777619u;
	snprintf(buf, n, "hsl(%u,%u%%,%u%%)", h % 360, 50 + (h >> 9) % 25, 60 + hf % 16);
}

/* The part of name that fits in width pixels (11px monospace), cut on a UTF-8 boundary. */
static void flame_label(struct strbuf *o, const char *name, double width)
{
	size_t fit = width > 8 ? (size_t)((width - 6) / 6.7) : 0, len = strlen(name), cut;
	char *tmp;

	if (fit < 3)
		return;
	if (len <= fit) {
		html_escape(o, name);
		return;
	}
	cut = fit - 2;
	while (cut && ((unsigned char)name[cut] & 0xc0) == 0x80)
		cut--;
	tmp = xstrndup(name, cut);
	html_escape(o, tmp);
	strbuf_addstr(o, "..");
	free(tmp);
}

static void flame_rect(struct strbuf *o, const struct flame *fl, double x, double w, int depth,
		       const char *name, const struct fnode *node, uint64_t bytes, int height)
{
	double y = height - (double)(depth + 1) * FLAME_ROW;
	char color[48], a[32];

	if (node)
		flame_color(color, sizeof(color), node);
	else
		snprintf(color, sizeof(color), "hsl(0,0%%,85%%)");
	/* Unrounded place and the whole name: the page's script zooms and searches with them. */
	strbuf_addf(o, "<g data-x=\"%.3f\" data-w=\"%.3f\" data-d=\"%d\" data-n=\"", x, w, depth);
	html_escape(o, name);
	strbuf_addstr(o, "\"><title>");
	html_escape(o, name);
	if (node && node->f) {
		const char *mod = node->f->module ? strrchr(node->f->module, '/') : NULL;

		if (node->f->file) {
			strbuf_addstr(o, " (");
			html_escape(o, node->f->file);
			if (node->f->line > 0)
				strbuf_addf(o, ":%d", node->f->line);
			strbuf_addch(o, ')');
		}
		if (mod) {
			strbuf_addstr(o, " in ");
			html_escape(o, mod + 1);
		}
	}
	strbuf_addf(o, " %" PRIu64 " bytes (%s, %.1f%%)</title>", bytes,
		    format_size(a, sizeof(a), bytes),
		    fl->total ? 100.0 * (double)bytes / (double)fl->total : 0);
	strbuf_addf(o, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%d\" fill=\"%s\"/>", x,
		    y, w, FLAME_ROW - 1, color);
	strbuf_addf(o, "<text x=\"%.1f\" y=\"%.1f\">", x + 3, y + FLAME_ROW - 5);
	if (w > 26)
		flame_label(o, name, w);
	strbuf_addstr(o, "</text></g>\n");
}

static int cmp_fchild(const void *a, const void *b, void *ctx)
{
	const struct flame *fl = ctx;
	const struct fnode *x = &fl->n[*(const size_t *)a], *y = &fl->n[*(const size_t *)b];

	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	return strcmp(x->name, y->name);
}

static void flame_draw(struct strbuf *o, struct flame *fl, size_t node, double x, int height)
{
	const struct fnode *nd = &fl->n[node];
	double scale = (double)FLAME_W / (double)fl->total;
	size_t *kids = NULL, nk = 0, ak = 0;
	uint64_t small = 0;

	flame_rect(o, fl, x, (double)nd->bytes * scale, nd->depth, nd->name, nd, nd->bytes, height);
	fl->rendered++;
	for (size_t c = nd->child; c != NONE; c = fl->n[c].next) {
		if (fl->n[c].bytes >= fl->floor) {
			ALLOC_GROW(kids, nk + 1, ak);
			kids[nk++] = c;
		} else {
			small += fl->n[c].bytes;
		}
	}
	if (nk > 1)
		qsort_r(kids, nk, sizeof(*kids), cmp_fchild, fl);
	for (size_t i = 0; i < nk; i++) {
		flame_draw(o, fl, kids[i], x, height);
		x += (double)fl->n[kids[i]].bytes * scale;
	}
	if (small && small >= fl->floor) {
		flame_rect(o, fl, x, (double)small * scale, nd->depth + 1, "(smaller frames)", NULL,
			   small, height);
		fl->rendered++;
	}
	free(kids);
}

void flame_graph(struct strbuf *o, const struct alloc_site *v, size_t nv)
{
	struct flame fl;
	int height;

	flame_build(&fl, v, nv);
	strbuf_addstr(o, "<h3>Flame graph of live bytes at the end</h3>\n");
	if (!fl.total) {
		strbuf_addstr(
		    o, "<p class=\"absent\">no live bytes at the end: nothing to draw</p>\n");
		goto out;
	}
	/* one pixel at least, raised until the rectangles fit the cap */
	fl.floor = fl.total / FLAME_W ? fl.total / FLAME_W : 1;
	for (;;) {
		int maxdepth = 0;
		size_t cnt = flame_count(&fl, 0, fl.floor, &maxdepth);

		fl.maxdepth = maxdepth;
		if (cnt <= HTML_MAX_FLAME_NODES || fl.floor > fl.total)
			break;
		fl.floor *= 2;
	}
	height = (fl.maxdepth + 1) * FLAME_ROW + 2;
	strbuf_addf(o,
		    "<p>Root at the bottom, callers below callees; width = live bytes. Hover a"
		    " frame for its name, place and bytes; click it to zoom in, click the root to"
		    " zoom out. Frames narrower than %.1f%% are merged.</p>\n",
		    100.0 * (double)fl.floor / (double)fl.total);
	strbuf_addstr(o, "<p class=\"fgbar\"><label>search <input id=\"flame-search\" "
			 "type=\"search\" placeholder=\"function, file or module\"></label> "
			 "<button id=\"flame-reset\" type=\"button\">reset zoom</button> "
			 "<span id=\"flame-info\"></span></p>\n");
	strbuf_addf(o,
		    "<svg class=\"fg\" id=\"flame\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d"
		    " %d\" data-w=\"%d\" role=\"img\" aria-label=\"flame graph of live bytes\">\n",
		    FLAME_W, height, FLAME_W, height, FLAME_W);
	flame_draw(o, &fl, 0, 0, height);
	strbuf_addstr(o, "</svg>\n");
	strbuf_addf(o, "<script>\n%s</script>\n", flame_script);
out:
	flame_release(&fl);
}
