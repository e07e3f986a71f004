/* number: the one parser of numbers a user types (command-line options, live commands,
 * UDP/OSC text, device indices). The caller words the error: these only say whether
 * the whole text is a number within range. */
#ifndef EF_NUMBER_H
#define EF_NUMBER_H

/* 0 when text is a finite decimal number (strtod's syntax, nothing after it) within
 * lo..hi, written to *out; -1 otherwise, *out untouched. */
int ef_number_parse(const char *text, double lo, double hi, double *out);
/* The same for a whole number (decimal digits, an optional sign). */
int ef_number_parse_whole(const char *text, long lo, long hi, long *out);

#endif
