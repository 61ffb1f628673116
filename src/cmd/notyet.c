/*
 * notyet: weak stand-ins for subcommands that are not built yet. A command's
 * own file in src/cmd/ defines the strong symbol and replaces its stand-in at
 * link time, so adding a command never touches this file.
 */
#include "cmd.h"
#include "../usage.h"

#define NOT_YET(fn, name)                                                                  \
	__attribute__((weak)) int fn(int argc, char **argv)                                \
	{                                                                                  \
		(void)argc;                                                                \
		(void)argv;                                                                \
		error("'%s' is not available in this build yet", name);                   \
		hint("see 'offheap help' for the commands this build has");                \
		return EXIT_RUNTIME;                                                       \
	}

NOT_YET(cmd_ps, "ps")
NOT_YET(cmd_maps, "maps")
NOT_YET(cmd_snap, "snap")
NOT_YET(cmd_diff, "diff")
NOT_YET(cmd_watch, "watch")
NOT_YET(cmd_jstat, "jstat")
NOT_YET(cmd_jcmd, "jcmd")
NOT_YET(cmd_nmt, "nmt")
NOT_YET(cmd_jvm, "jvm")
NOT_YET(cmd_trace, "trace")
NOT_YET(cmd_dump, "dump")
NOT_YET(cmd_inspect, "inspect")
NOT_YET(cmd_record, "record")
NOT_YET(cmd_report, "report")
NOT_YET(cmd_doctor, "doctor")
