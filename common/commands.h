/* The earflow program's subcommands; each returns an exit code (exit_codes.h).
 * render, info and bench are in cli/; live and devices in live/ (linked in, and
 * offered by main.c, only when live/ is built: EF_HAVE_LIVE). */
#ifndef EF_COMMANDS_H
#define EF_COMMANDS_H

int ef_cmd_render(int argc, char **argv);
int ef_cmd_info(int argc, char **argv);
int ef_cmd_bench(int argc, char **argv);
int ef_cmd_live(int argc, char **argv);
int ef_cmd_devices(int argc, char **argv);

#endif
