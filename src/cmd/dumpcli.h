/* dumpcli: what 'offheap dump' and 'offheap inspect' share on the command line. */
#ifndef OFFHEAP_DUMPCLI_H
#define OFFHEAP_DUMPCLI_H

#include "dump.h"

#include <stdbool.h>

/*
 * Sets sel from a REGION operand ("START-END", "START+LEN") for command
 * cmd; dies with a usage error when it does not parse, or when --map or
 * --class already chose the region (*have_sel), which it then sets.
 */
void dumpcli_range(const char *cmd, const char *arg, struct dump_sel *sel, bool *have_sel);
/* --map N and --class NAME; set *have_sel. */
void dumpcli_map(const char *cmd, const char *arg, struct dump_sel *sel, bool *have_sel);
void dumpcli_class(const char *cmd, const char *arg, struct dump_sel *sel, bool *have_sel);

#endif
