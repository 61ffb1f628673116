/* cmd: the subcommands, one file each in src/cmd/, dispatched from offheap.c's table. */
#ifndef OFFHEAP_CMD_H
#define OFFHEAP_CMD_H

/*
 * Each takes argv with argv[0] the command's name and returns the exit code
 * (see usage.h). Options are parsed with getopt_long and an optstring
 * beginning with '+'; -h/--help prints the command's help to stdout.
 */
int cmd_ps(int argc, char **argv);
int cmd_maps(int argc, char **argv);
int cmd_snap(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_watch(int argc, char **argv);
int cmd_jstat(int argc, char **argv);
int cmd_jcmd(int argc, char **argv);
int cmd_nmt(int argc, char **argv);
int cmd_jvm(int argc, char **argv);
int cmd_trace(int argc, char **argv);
int cmd_dump(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_record(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_doctor(int argc, char **argv);
int cmd_serve(int argc, char **argv);

/* The version string printed by -V/--version. */
extern const char offheap_version[];

#endif
