/* An audio backend of `earflow live` (JACK or PortAudio): opens the audio system,
 * calls ef_live_session_process from its callback, and reports the sample rate,
 * xruns and failures to the session. Opaque; one implementation per file. */
#ifndef EF_LIVE_BACKEND_H
#define EF_LIVE_BACKEND_H

#include "earflow.h"
#include "live_session.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define EF_LIVE_MAX_CONNECT 8

typedef struct ef_live_backend_options {
    const char *client_name;                      /* JACK client name */
    const char *connect_in[EF_LIVE_MAX_CONNECT];  /* JACK port patterns for our inputs */
    int n_connect_in;
    const char *connect_out[EF_LIVE_MAX_CONNECT]; /* ... and our outputs */
    int n_connect_out;
    const char *input_device, *output_device;     /* PortAudio: name or index */
    int buffer_frames;                            /* PortAudio frames per buffer */
    int sample_rate;                              /* PortAudio stream rate */
    const char *in_port_names[EF_LIVE_MAX_CHANNELS];
    const char *out_port_names[EF_LIVE_MAX_CHANNELS];
} ef_live_backend_options;

typedef struct ef_live_backend ef_live_backend;

/* The interface each backend fills (live_jack.c, live_portaudio.c). */
typedef struct ef_live_backend_ops {
    const char *name;
    int (*start)(void *impl, ef_error *err);
    /* Called by main after a new engine changed the latency. */
    void (*latency_changed)(void *impl);
    /* True once the audio system has gone (server shut down, device lost). */
    bool (*failed)(void *impl, char *why, size_t len);
    /* e.g. "JACK client earflow, 256 frames" */
    void (*describe)(void *impl, char *buf, size_t len);
    void (*close)(void *impl);
} ef_live_backend_ops;

struct ef_live_backend {
    const ef_live_backend_ops *ops;
    void *impl;
};

#ifdef EF_HAVE_JACK
/* True when a JACK server is running (a client can connect without starting one). */
bool ef_live_jack_available(void);
ef_live_backend *ef_live_jack_open(ef_live_session *s, const ef_live_backend_options *o,
                                   ef_error *err);
#endif
#ifdef EF_HAVE_PORTAUDIO
ef_live_backend *ef_live_portaudio_open(ef_live_session *s, const ef_live_backend_options *o,
                                        ef_error *err);
/* Prints the devices of every host API; -1 with err when PortAudio cannot start. */
int ef_live_portaudio_list(FILE *to, ef_error *err);
#endif

/* For a backend's open function, last: the handle around its set-up implementation.
 * Without memory it closes impl (ops->close) and returns NULL with err. */
ef_live_backend *ef_live_backend_wrap(const ef_live_backend_ops *ops, void *impl, ef_error *err);

/* Dispatch to the implementation. */
int ef_live_backend_start(ef_live_backend *b, ef_error *err);
void ef_live_backend_latency_changed(ef_live_backend *b);
bool ef_live_backend_failed(ef_live_backend *b, char *why, size_t len);
void ef_live_backend_describe(ef_live_backend *b, char *buf, size_t len);
const char *ef_live_backend_name(const ef_live_backend *b);
/* Stops the callbacks (none runs after it returns) and frees b. NULL is fine. */
void ef_live_backend_close(ef_live_backend *b);

#endif
