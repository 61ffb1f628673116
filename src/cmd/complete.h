/* complete: the command line as data, for the shell completions (contrib/completion). */
#ifndef OFFHEAP_COMPLETE_H
#define OFFHEAP_COMPLETE_H

#include <getopt.h>

/*
 * Prints the options of one command, one line each, read from the command's
 * own getopt_long table, so that a completion cannot miss an option:
 *   LONG<TAB>SHORT<TAB>ARG
 * LONG is "--name" or empty (a short option alone), SHORT "-x" or empty, ARG
 * "arg" (required), "opt" (optional) or empty. fn is run with argv {name}
 * only up to its first getopt_long call, which prints and exits with 0: the
 * build links the binary with -Wl,--wrap=getopt_long. Returns EXIT_RUNTIME
 * when fn returned without asking getopt_long anything.
 */
int complete_list_options(int (*fn)(int argc, char **argv), const char *name);

/* The wrapper --wrap=getopt_long puts in front of every call in the binary. */
int __wrap_getopt_long(int argc, char *const argv[], const char *optstring,
		       const struct option *longopts, int *longindex);

#endif
