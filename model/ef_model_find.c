/* The one rule by which every front end (the program, the plugin, an embedding
 * program) finds a shipped model by name. */
#include "earflow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef EF_MODELS_INSTALL_DIR
#error "EF_MODELS_INSTALL_DIR must be defined by the build"
#endif

int ef_model_find_file(const char *name, const char *local_dir, char *path, size_t path_len,
                       ef_error *err)
{
    const char *env = getenv("EARFLOW_MODEL_DIR");
    const int override = env && env[0];
    const char *dirs[3] = {override ? env : NULL, override ? NULL : local_dir,
                           override ? NULL : EF_MODELS_INSTALL_DIR};
    char searched[3 * 1024] = "";
    for (int i = 0; i < 3; i++) {
        if (!dirs[i] || !dirs[i][0])
            continue;
        size_t len = strlen(dirs[i]);
        const char *sep = dirs[i][len - 1] == '/' ? "" : "/";
        int w = snprintf(path, path_len, "%s%s%s.safetensors", dirs[i], sep, name);
        if (w > 0 && (size_t)w < path_len && access(path, R_OK) == 0)
            return 0;
        size_t used = strlen(searched);
        snprintf(searched + used, sizeof searched - used, "%s%s", used ? ", " : "", dirs[i]);
    }
    if (path_len)
        path[0] = 0;
    ef_error_set(err, "no %s.safetensors found (looked in %s%s)", name, searched,
                 override ? ": EARFLOW_MODEL_DIR is set, so nowhere else" : "");
    return -1;
}
