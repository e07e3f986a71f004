/* The model controls shared by the program's subcommands (render, live):
 * parsed from the command line, checked against the model, applied to engines. */
#ifndef EF_CONTROLS_H
#define EF_CONTROLS_H

#include "earflow.h"
#include "trajectory.h"

#include <stdbool.h>
#include <getopt.h>

typedef struct ef_controls {
    double azimuth, elevation, distance;
    const char *room, *target, *solver, *trajectory_path;
    bool remove;
    bool position_given; /* any of --azimuth/--elevation/--distance */
    int steps;          /* 0: the model's default */
    double t0;          /* < 0: the model's default */
    unsigned long long seed;
    double mix, attenuation_limit, gain_db;
    bool limit_given;
    /* resolved by ef_controls_resolve */
    int room_index, label_index;
    ef_trajectory *trajectory;
} ef_controls;

/* getopt_long entries for the controls (codes 1000..1099) and their help text. */
extern const struct option ef_control_options[];
#define EF_CONTROLS_HELP                                                                 \
    "binaural models:\n"                                                                 \
    "      --azimuth DEG      0 front, +90 left, -90 right (default 0)\n"               \
    "      --elevation DEG    +90 above, -90 below (default 0)\n"                       \
    "      --distance M       metres (default 1; clamped to the model's range)\n"       \
    "      --room NAME        a room of the model (earflow info MODEL lists them)\n"    \
    "      --trajectory FILE  rows of 'seconds azimuth elevation distance'\n"            \
    "separation models:\n"                                                               \
    "      --target LABEL     what to keep (earflow info MODEL lists the labels)\n"     \
    "      --remove           remove the target instead of keeping it\n"                \
    "      --attenuation-limit DB  push the unwanted part down by at most DB\n"          \
    "                         (0 = unchanged; 100 = no limit, the default)\n"          \
    "all models:\n"                                                                      \
    "      --steps N          solver steps, 1..8 (default: the model's)\n"              \
    "      --solver S         euler or midpoint (default: the model's)\n"               \
    "      --t0 T             early-skip start time, 0..0.99 (default: the model's)\n"  \
    "      --seed N           noise seed (default 0)\n"                                \
    "      --mix M            0..1 share of the processed signal (default 1)\n"        \
    "      --gain DB          output gain, -90..+24 dB (default 0)\n"

void ef_controls_init(ef_controls *c);
/* Handles one option code; returns 0 if handled, 1 if not ours, -1 on a bad value
 * (message printed). */
int ef_controls_option(ef_controls *c, const char *cmd, int code, const char *arg);
/* A subcommand's getopt_long table: its own n entries, then the controls', then the
 * zero entry. out holds n + EF_CONTROL_OPTIONS_MAX entries. */
#define EF_CONTROL_OPTIONS_MAX 16
void ef_controls_options(const struct option *own, size_t n, struct option *out);
/* The default branch of a subcommand's getopt_long loop: a control option (code
 * 1000..1099) is handled; anything else ('?', an unknown code) is reported with `seen`
 * (the argument getopt stopped at). 0 when handled, -1 with a message. */
int ef_controls_getopt(ef_controls *c, const char *cmd, int opt, const char *arg,
                       const char *seen);
/* After getopt_long: -1 with a message when an operand is left (argv[optind]). */
int ef_controls_no_operands(const char *cmd, int argc, char **argv);
/* Checks the controls against the model, loads the trajectory. -1 with a message. */
int ef_controls_resolve(ef_controls *c, const char *cmd, const ef_model *m);
/* Applies everything to an engine (position at time 0), then resets it. */
void ef_controls_apply(const ef_controls *c, ef_engine *e);
/* Sets the trajectory's position at `seconds` (no-op without a trajectory). */
void ef_controls_follow(const ef_controls *c, ef_engine *e, double seconds);
void ef_controls_free(ef_controls *c);

#endif
