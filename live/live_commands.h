/* The live control language: text lines ("azimuth 30", "head 10 0 0", "enabled off")
 * from the keyboard, stdin or UDP, and the same as OSC messages (live_osc.h turns
 * them into these lines). The control thread interprets a line against its copy of
 * the controls (ef_live_state) and gets an absolute ef_live_command, which crosses
 * to the audio thread by value and is applied there with the engine's real-time
 * safe setters. */
#ifndef EF_LIVE_COMMANDS_H
#define EF_LIVE_COMMANDS_H

#include "controls.h"
#include "earflow.h"

#include <stdbool.h>
#include <stddef.h>

/* Up to three controls set in one period (position and head move as one). */
#define EF_LIVE_COMMAND_MAX 3
typedef struct ef_live_command {
    int n;
    ef_control control[EF_LIVE_COMMAND_MAX];
    double value[EF_LIVE_COMMAND_MAX];
} ef_live_command;

/* What the control thread knows the engine is set to: every control of the table,
 * and the program options a fresh engine needs (after a sample-rate change). */
typedef struct ef_live_state {
    ef_kind kind;
    double value[EF_CONTROL_COUNT]; /* steps: the steps in use, never 0 */
    ef_solver solver;
    float t0;
    unsigned long long seed;
} ef_live_state;

typedef enum ef_live_result {
    EF_LIVE_SEND,    /* *cmd is filled: send it to the audio thread */
    EF_LIVE_NOTHING, /* empty line or comment */
    EF_LIVE_REPLY,   /* a query (status, help): reply holds the answer */
    EF_LIVE_ERROR,   /* reply holds why */
    EF_LIVE_QUIT,
} ef_live_result;

/* The state an engine has after ef_controls_apply(c, ...) (schedule from `e`). */
void ef_live_state_init(ef_live_state *st, const ef_controls *c, const ef_model *m,
                        const ef_engine *e);
/* Not real-time safe: sets every control of a fresh engine (after a sample-rate
 * change) from the state, then resets it. */
void ef_live_state_apply(const ef_live_state *st, ef_engine *e);
/* The controls as command words ("azimuth 30 room small steps 2"): with `all`, every
 * control of the model's kind (the status command); else, for the status line, the
 * steps, the target and what differs from its default. */
void ef_live_state_describe(const ef_live_state *st, const ef_model *m, bool all, char *buf,
                            size_t n);

/* Interprets one text line and updates st. Never touches an engine. */
ef_live_result ef_live_interpret(ef_live_state *st, const ef_model *m, const char *line,
                                 ef_live_command *cmd, char *reply, size_t reply_len);
/* Real-time safe: applies one command to an engine. */
void ef_live_command_apply(ef_engine *e, const ef_live_command *c);

/* The help of the command language, made from the control table. */
void ef_live_commands_help(char *buf, size_t n);

#endif
