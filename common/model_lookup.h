/* Resolves a --model argument: "identity", a file path, or the name of a shipped
 * model found by the library's rule (ef_model_find_file: $EARFLOW_MODEL_DIR alone when
 * set, else the source tree's models/, then the installed models folder). */
#ifndef EF_MODEL_LOOKUP_H
#define EF_MODEL_LOOKUP_H

#include "earflow.h"

/* Loads the model; on failure prints "earflow CMD: ..." and returns NULL. */
ef_model *ef_load_model_argument(const char *cmd, const char *name);

#endif
