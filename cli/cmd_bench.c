/* earflow bench: real-time factor on one thread at the model's rate, per steps
 * setting, with per-hop timing percentiles, memory and load time. */
#include "clock.h"
#include "commands.h"

#include "earflow.h"
#include "exit_codes.h"
#include "model_lookup.h"
#include "number.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct bench_result {
    double rtf, p50_ms, p99_ms, max_ms;
} bench_result;

/* Streams `seconds` of noise in hop-sized blocks, timing each block. */
static int bench_one(const ef_model *m, ef_solver solver, int steps, float t0, double seconds,
                     bench_result *r)
{
    ef_error err = {{0}};
    const int rate = ef_model_sample_rate(m), hop = ef_model_hop(m);
    ef_engine *e = ef_engine_new(m, rate, hop, &err);
    if (!e) {
        fprintf(stderr, "earflow bench: %s\n", err.message);
        return -1;
    }
    ef_engine_set_schedule(e, solver, steps, t0);
    ef_engine_reset(e);
    const long hops = (long)(seconds * rate / hop) + 1, warm = 50;
    float *in = malloc(sizeof(float) * (size_t)hop), *o0 = malloc(sizeof(float) * (size_t)hop),
          *o1 = malloc(sizeof(float) * (size_t)hop);
    double *times = malloc(sizeof(double) * (size_t)hops);
    if (!in || !o0 || !o1 || !times) {
        fprintf(stderr, "earflow bench: out of memory\n");
        return -1;
    }
    unsigned state = 12345;
    double total = 0;
    for (long k = -warm; k < hops; k++) {
        for (int i = 0; i < hop; i++) {
            state = state * 1664525u + 1013904223u;
            in[i] = (float)((double)state / 4294967296.0 - 0.5) * 0.2f;
        }
        const float *ins[1] = {in};
        float *outs[2] = {o0, o1};
        double t = ef_clock_seconds();
        ef_engine_process(e, ins, outs, hop);
        t = ef_clock_seconds() - t;
        if (k >= 0) {
            times[k] = t;
            total += t;
        }
    }
    r->rtf = total / ((double)hops * hop / rate);
    qsort(times, (size_t)hops, sizeof *times, cmp_double);
    r->p50_ms = 1000.0 * times[hops / 2];
    r->p99_ms = 1000.0 * times[(long)(0.99 * (double)(hops - 1))];
    r->max_ms = 1000.0 * times[hops - 1];
    free(in);
    free(o0);
    free(o1);
    free(times);
    ef_engine_free(e);
    return 0;
}

static int cmp_result(const void *a, const void *b)
{
    const bench_result *x = a, *y = b;
    return x->rtf < y->rtf ? -1 : x->rtf > y->rtf;
}

/* metrics.md: the median of several runs, so one disturbed run does not decide. */
static int bench_median(const ef_model *m, ef_solver solver, int steps, float t0, double seconds,
                        int runs, bench_result *r)
{
    bench_result all[9];
    for (int i = 0; i < runs; i++)
        if (bench_one(m, solver, steps, t0, seconds, &all[i]))
            return -1;
    qsort(all, (size_t)runs, sizeof all[0], cmp_result);
    *r = all[runs / 2];
    return 0;
}

static int bad_number(const char *option, const char *text, double lo, double hi)
{
    fprintf(stderr, "earflow bench: --%s %s: expected a number in %g..%g\n", option, text, lo, hi);
    return EF_EXIT_USAGE;
}

int ef_cmd_bench(int argc, char **argv)
{
    long whole;
    const char *name = NULL;
    double seconds = 20.0;
    int json = 0, runs = 3, only_steps = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
            if (ef_number_parse(argv[++i], 0.1, 3600, &seconds))
                return bad_number("seconds", argv[i], 0.1, 3600);
        } else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
            if (ef_number_parse_whole(argv[++i], 1, 9, &whole))
                return bad_number("runs", argv[i], 1, 9);
            runs = (int)whole;
        } else if (strcmp(argv[i], "--steps") == 0 && i + 1 < argc) {
            if (ef_number_parse_whole(argv[++i], 1, EF_MAX_STEPS, &whole))
                return bad_number("steps", argv[i], 1, EF_MAX_STEPS);
            only_steps = (int)whole;
        }
        else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: earflow bench [--json] [--seconds S] [--runs N] [--steps N] MODEL\n\n"
                   "Real-time factor (processing time / audio time) on one thread at the\n"
                   "model's rate for steps 1..%d of the model's solver (and its default),\n"
                   "per-hop time percentiles, achieved GFLOP/s of the network, memory per\n"
                   "instance, load time, the kernels' instruction set. Each row is the\n"
                   "median (by RTF) of the runs.\n"
                   "\n"
                   "      --seconds S        seconds of audio per run (default 20)\n"
                   "      --runs N           runs per row, the median kept (default 3)\n"
                   "      --steps N          measure this setting only\n"
                   "      --json             one object for the default setting: model,\n"
                   "                         default_steps, rtf_default, latency_ms,\n"
                   "                         hop_p99_ms, ...\n"
                   "  -h, --help             this help\n",
                   EF_MAX_STEPS);
            return EF_EXIT_OK;
        } else if (argv[i][0] != '-' && !name)
            name = argv[i];
        else {
            fprintf(stderr, "earflow bench: unexpected argument '%s'\n", argv[i]);
            return EF_EXIT_USAGE;
        }
    }
    if (!name) {
        fprintf(stderr, "earflow bench: give a MODEL (earflow bench --help)\n");
        return EF_EXIT_USAGE;
    }
    double t = ef_clock_seconds();
    ef_model *m = ef_load_model_argument("bench", name);
    if (!m)
        return EF_EXIT_MODEL;
    ef_error err = {{0}};
    ef_engine *probe = ef_engine_new(m, ef_model_sample_rate(m), 1024, &err);
    const double load_ms = 1000.0 * (ef_clock_seconds() - t);
    const size_t memory = probe ? ef_engine_memory_bytes(probe) : 0;
    ef_engine_free(probe);
    ef_solver solver;
    int def_steps;
    float t0;
    ef_model_default_schedule(m, &solver, &def_steps, &t0);
    const int rate = ef_model_sample_rate(m), hop = ef_model_hop(m);
    const double latency_ms = 1000.0 * ef_model_latency(m) / rate, hop_ms = 1000.0 * hop / rate;
    const long macs = ef_model_macs_per_evaluation(m);
    bench_result def = {0};
    int rc = EF_EXIT_OK;
    if (!json) {
        printf("model %s (%s): %d Hz, hop %d (%.2f ms), latency %.2f ms, %.3f MMAC/evaluation\n",
               name, ef_kind_name(ef_model_kind(m)), rate, hop, hop_ms, latency_ms, macs / 1e6);
        printf("memory per instance %.2f MB, load + engine create %.1f ms, %.0f s of audio per row, "
               "%s kernels\n\n",
               memory / 1e6, load_ms, seconds, ef_model_kernel_name(m));
        printf("| solver | steps | t0 | evals/frame | MMAC/s | RTF | GFLOP/s | hop p50 ms | hop p99 ms | hop max ms |\n");
        printf("|---|---|---|---|---|---|---|---|---|---|\n");
    }
    int last = ef_model_kind(m) == EF_KIND_IDENTITY ? 1 : EF_MAX_STEPS;
    if (json && ef_model_kind(m) != EF_KIND_IDENTITY)
        only_steps = def_steps; /* scripts want the default setting */
    for (int steps = 1; steps <= last && rc == EF_EXIT_OK; steps++) {
        bench_result r;
        if (only_steps && steps != only_steps)
            continue;
        if (bench_median(m, solver, steps, t0, seconds, runs, &r)) {
            rc = EF_EXIT_FAILURE;
            break;
        }
        if (steps == def_steps || (def_steps == 0 && steps == 1))
            def = r;
        int evals = ef_solver_evaluations(solver, steps);
        if (!json)
            printf("| %s | %d%s | %.2f | %d | %.1f | %.4f | %.1f | %.3f | %.3f | %.3f |\n",
                   ef_solver_name(solver), steps, steps == def_steps ? " (default)" : "", t0,
                   evals, macs * (double)evals * rate / hop / 1e6, r.rtf,
                   2.0 * macs * (double)evals * rate / hop / r.rtf / 1e9, r.p50_ms, r.p99_ms,
                   r.max_ms);
    }
    if (json && rc == EF_EXIT_OK)
        printf("{\"model\": \"%s\", \"kind\": \"%s\", \"default_steps\": %d, \"solver\": \"%s\", "
               "\"rtf_default\": %.5f, \"latency_ms\": %.3f, \"hop_ms\": %.3f, "
               "\"hop_p50_ms\": %.4f, \"hop_p99_ms\": %.4f, \"hop_max_ms\": %.4f, "
               "\"mmac_per_eval\": %.4f, \"memory_mb\": %.3f, \"load_ms\": %.2f, "
               "\"kernel\": \"%s\", \"gflops_default\": %.2f, \"runs\": %d}\n",
               name, ef_kind_name(ef_model_kind(m)), def_steps, ef_solver_name(solver), def.rtf,
               latency_ms, hop_ms, def.p50_ms, def.p99_ms, def.max_ms, macs / 1e6,
               memory / 1e6, load_ms, ef_model_kernel_name(m),
               def.rtf > 0 ? 2.0 * macs * (double)ef_solver_evaluations(solver, def_steps) * rate /
                                 hop / def.rtf / 1e9
                           : 0.0,
               runs);
    ef_model_free(m);
    return rc;
}
