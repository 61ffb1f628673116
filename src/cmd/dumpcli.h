/* dumpcli: what 'offheap dump' and 'offheap inspect' share on the command line. */
#ifndef OFFHEAP_DUMPCLI_H
#define OFFHEAP_DUMPCLI_H

#include "../dump.h"

/*
 * Sets sel from a REGION operand ("START-END", "START+LEN") for command
 * cmd; dies with a usage error when it does not parse.
 */
void dumpcli_range(const char *cmd, const char *arg, struct dump_sel *sel);
/* --map N and --class NAME. */
void dumpcli_map(const char *cmd, const char *arg, struct dump_sel *sel);
void dumpcli_class(const char *cmd, const char *arg, struct dump_sel *sel);

#endif
