#include "model_lookup.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

ef_model *ef_load_model_argument(const char *cmd, const char *name)
{
    ef_error err = {{0}};
    ef_model *m = NULL;
    char path[4096];
    if (strcmp(name, "identity") == 0)
        m = ef_model_identity(&err);
    else if (strchr(name, '/') || strstr(name, ".safetensors") || access(name, R_OK) == 0)
        m = ef_model_load(name, &err);
    /* A shipped model's name: the library's one rule, the source tree's models/ being
     * this program's own folder (the build's; absent on another machine). */
    else if (ef_model_find_file(name, EF_MODELS_SOURCE_DIR, path, sizeof path, &err) == 0)
        m = ef_model_load(path, &err);
    else
        snprintf(err.message + strlen(err.message), sizeof err.message - strlen(err.message),
                 "; give a file path, a shipped model's name or 'identity'");
    if (!m)
        fprintf(stderr, "earflow %s: %s\n", cmd, err.message);
    return m;
}
