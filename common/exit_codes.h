/* Exit codes of the earflow program (documented in README.md and --help). */
#ifndef EF_EXIT_CODES_H
#define EF_EXIT_CODES_H

enum {
    EF_EXIT_OK = 0,
    EF_EXIT_FAILURE = 1,     /* processing failed */
    EF_EXIT_USAGE = 2,       /* bad command line */
    EF_EXIT_INPUT = 3,       /* input file missing, unreadable or unsupported */
    EF_EXIT_OUTPUT = 4,      /* output exists, equals the input, or cannot be written */
    EF_EXIT_MODEL = 5,       /* model missing or invalid */
    EF_EXIT_INTERRUPTED = 130,
};

#endif
