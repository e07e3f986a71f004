#include "live_backend.h"

#include <stdlib.h>

ef_live_backend *ef_live_backend_wrap(const ef_live_backend_ops *ops, void *impl, ef_error *err)
{
    ef_live_backend *b = malloc(sizeof *b);
    if (!b) {
        ops->close(impl);
        ef_error_set(err, "out of memory");
        return NULL;
    }
    b->ops = ops;
    b->impl = impl;
    return b;
}

int ef_live_backend_start(ef_live_backend *b, ef_error *err) { return b->ops->start(b->impl, err); }

void ef_live_backend_latency_changed(ef_live_backend *b)
{
    if (b->ops->latency_changed)
        b->ops->latency_changed(b->impl);
}

bool ef_live_backend_failed(ef_live_backend *b, char *why, size_t len)
{
    return b->ops->failed(b->impl, why, len);
}

void ef_live_backend_describe(ef_live_backend *b, char *buf, size_t len)
{
    b->ops->describe(b->impl, buf, len);
}

const char *ef_live_backend_name(const ef_live_backend *b) { return b->ops->name; }

void ef_live_backend_close(ef_live_backend *b)
{
    if (!b)
        return;
    b->ops->close(b->impl);
    free(b);
}
