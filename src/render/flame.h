/*
 * flame: a flame graph of live bytes by call stack, as inline SVG for the
 * HTML report.
 *
 * The root is at the bottom, one rectangle per merged frame, width = live
 * bytes at the end; frames under a pixel are merged into one "other"
 * rectangle per parent, and the pixel floor rises until HTML_MAX_FLAME_NODES
 * fit. Colour is a hue per module, a shade per function. Every name reaches
 * the page through html_escape.
 */
#ifndef OFFHEAP_FLAME_H
#define OFFHEAP_FLAME_H

#include <stddef.h>

struct alloc_site;
struct strbuf;

/*
 * Appends a heading, a one-line legend and the graph of the nv sites at v
 * (src/analysis/allocrank.h) to o; a line saying so when no bytes are live.
 * Cannot fail (dies on out-of-memory).
 */
void flame_graph(struct strbuf *o, const struct alloc_site *v, size_t nv);

#endif
