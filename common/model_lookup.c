#include "model_lookup.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int exists(const char *path) { return access(path, R_OK) == 0; }

ef_model *ef_host_load_model(const char *cmd, const char *name)
{
    ef_error err = {{0}};
    ef_model *m = NULL;
    if (strcmp(name, "identity") == 0) {
        m = ef_model_identity(&err);
    } else if (strchr(name, '/') || strstr(name, ".safetensors") || exists(name)) {
        m = ef_model_load(name, &err);
    } else {
        const char *dirs[] = {EF_MODELS_INSTALL_DIR, EF_MODELS_SOURCE_DIR};
        char path[4096];
        for (int i = 0; i < 2 && !m; i++) {
            snprintf(path, sizeof path, "%s/%s.safetensors", dirs[i], name);
            if (exists(path)) {
                m = ef_model_load(path, &err);
                if (!m)
                    break;
            }
        }
        if (!m && !err.message[0])
            snprintf(err.message, sizeof err.message,
                     "model '%s' not found (looked for %s.safetensors in %s and %s); "
                     "give a file path or 'identity'",
                     name, name, dirs[0], dirs[1]);
    }
    if (!m)
        fprintf(stderr, "earflow %s: %s\n", cmd, err.message);
    return m;
}
