/* Safe output files: written to a temporary file beside the target and moved into
 * place only when complete, so an interrupted render leaves nothing half-written
 * and an existing file is never replaced unless asked. */
#ifndef EF_OUTPUT_FILE_H
#define EF_OUTPUT_FILE_H

#include <sndfile.h>
#include <stdbool.h>

#include "earflow.h"

typedef struct ef_output_file ef_output_file;

/* Major format from the path's extension (none: WAV). 0 with err when unknown. */
int ef_output_format_for_path(const char *path, ef_error *err);

/* Refuses when `path` names the same file as `input_path`, or exists and !force.
 * subtype: SF_FORMAT_PCM_16 etc., or 0 for the container's natural choice. */
ef_output_file *ef_output_file_open(const char *path, const char *input_path, bool force,
                                    int sample_rate, int channels, int subtype,
                                    ef_error *err);
SNDFILE *ef_output_file_sndfile(ef_output_file *f);
/* Closes and moves the file into place. Returns 0 or -1 with err. Frees f. */
int ef_output_file_commit(ef_output_file *f, ef_error *err);
/* Closes and deletes the temporary file. Frees f. */
void ef_output_file_abort(ef_output_file *f);

#endif
