/* A small real LV2 host on lilv for the plugin tests: urid map, log (captured),
 * options (maxBlockLength), a worker whose work() runs between run() calls, patch:Set
 * of a path on the control port, and lilv state save/restore. run() and
 * work_response() can be wrapped in an rt_guard region. */
#ifndef LV2_TEST_HOST_H
#define LV2_TEST_HOST_H

#include "rt_guard.h"

#include <lilv/lilv.h>

typedef struct lv2_host lv2_host;

enum {
    LV2_HOST_MAP = 1,     /* urid:map + unmap */
    LV2_HOST_WORKER = 2,  /* work:schedule */
    LV2_HOST_OPTIONS = 4, /* options with bufsz:maxBlockLength */
    LV2_HOST_LOG = 8,     /* log:log, captured */
    LV2_HOST_ALL = 15,
};

/* Loads the world from $LV2_PATH; NULL (and a message) on failure. */
lv2_host *lv2_host_new(const char *uri, double rate, int max_block, int features);
void lv2_host_free(lv2_host *h);
/* The guard wraps each run() and work_response() (NULL: none). */
void lv2_host_guard(lv2_host *h, const rt_guard_api *guard);

void lv2_host_set(lv2_host *h, const char *symbol, float value);
float lv2_host_get(lv2_host *h, const char *symbol);
/* patch:Set of the model path, delivered with the next run. */
void lv2_host_send_path(lv2_host *h, const char *path);
/* Delivers pending worker responses, runs n frames (n may be 0), then runs the
 * worker on what the plugin scheduled. in/out: the plugin's audio ports in order. */
void lv2_host_run(lv2_host *h, const float *const *in, float *const *out, int n);
/* Runs the plugin over a whole signal in blocks (sizes: a cycle of block sizes,
 * 0-terminated). */
void lv2_host_process(lv2_host *h, const float *const *in, float *const *out, long n,
                      const int *sizes);
int lv2_host_inputs(const lv2_host *h);
/* The control input ports: their symbols (valid while h lives) and ranges, at most
 * cap; returns how many. */
int lv2_host_control_inputs(lv2_host *h, const char **symbols, float *min, float *max, int cap);
int lv2_host_outputs(const lv2_host *h);
/* Everything the plugin logged so far. */
const char *lv2_host_log(const lv2_host *h);

/* Saves the state into dir (a new folder); restores it into h. */
int lv2_host_save(lv2_host *h, const char *dir);
int lv2_host_restore(lv2_host *h, const char *dir);

#endif
