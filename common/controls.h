/* The controls on the program's command line (render, live), made from the library's
 * control table (include/earflow.h): --NAME VALUE for every row, their help, the one
 * parser of control values (also used by the live command language), and the
 * program options that are not controls (solver, t0, seed, trajectory). */
#ifndef EF_CONTROLS_H
#define EF_CONTROLS_H

#include "earflow.h"
#include "trajectory.h"

#include <stdbool.h>
#include <stdio.h>
#include <getopt.h>

typedef struct ef_controls {
    const char *text[EF_CONTROL_COUNT]; /* as given on the command line; NULL: not given */
    double value[EF_CONTROL_COUNT];     /* set by ef_controls_resolve */
    /* Program options, not controls: how the network is solved, where a source moves. */
    const char *solver, *trajectory_path;
    double t0; /* < 0: the model's */
    unsigned long long seed;
    ef_trajectory *trajectory;
} ef_controls;

void ef_controls_init(ef_controls *c);
/* The help of every control and program option, grouped by model kind. */
void ef_controls_help(FILE *to);
/* A subcommand's getopt_long table: its own n entries, then the controls' (codes
 * 1000..1099), then the zero entry. out holds n + EF_CONTROL_OPTIONS_MAX entries. */
#define EF_CONTROL_OPTIONS_MAX (EF_CONTROL_COUNT + 5)
void ef_controls_options(const struct option *own, size_t n, struct option *out);
/* The default branch of a subcommand's getopt_long loop: a control option is handled;
 * anything else ('?', an unknown code) is reported with `seen` (the argument getopt
 * stopped at). 0 when handled, -1 with a message. */
int ef_controls_getopt(ef_controls *c, const char *cmd, int opt, const char *arg,
                       const char *seen);
/* After getopt_long: -1 with a message when an operand is left (argv[optind]). */
int ef_controls_no_operands(const char *cmd, int argc, char **argv);
/* Checks the controls against the model (kind, rooms, trained labels), fills value[],
 * loads the trajectory. -1 with a message. */
int ef_controls_resolve(ef_controls *c, const char *cmd, const ef_model *m);
/* Applies everything to an engine (position at time 0), then resets it. */
void ef_controls_apply(const ef_controls *c, ef_engine *e);
/* Sets the trajectory's position at `seconds` (no-op without a trajectory). */
void ef_controls_follow(const ef_controls *c, ef_engine *e, double seconds);
void ef_controls_free(ef_controls *c);

/* The one parser of a control's value, for options, live commands and OSC: a number
 * in the row's range (wrapped for angles), on/off/1/0/true/false/toggle for a toggle,
 * a choice's name or index, a room or a trained label of `m` by name or index (with
 * m NULL, names are accepted and checked later). `current` is what toggle flips.
 * 0, or -1 with the reason in `why`. */
int ef_control_parse(int control, const char *text, const ef_model *m, double current,
                     double *value, char *why, size_t why_len);
/* A value as a user writes it: "remove", "large", "30". */
void ef_control_format(int control, double value, const ef_model *m, char *buf, size_t n);

#endif
