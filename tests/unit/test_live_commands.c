/* The live command language on the golden models (and a real speech-only separation
 * model, for a label it was not trained for): each command updates the state and
 * yields the right absolute engine command; wrong commands, values and model kinds are
 * refused with a reason; OSC messages become the same lines. */
#include "live_commands.h"
#include "live_osc.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

static const char *golden_dir;

typedef struct fixture {
    ef_model *model;
    ef_engine *engine;
    ef_controls controls;
    ef_live_state st;
} fixture;

static int load(void **state, const char *name)
{
    static fixture f;
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", golden_dir, name);
    ef_error err = {{0}};
    f.model = ef_model_load(path, &err);
    assert_non_null(f.model);
    f.engine = ef_engine_new(f.model, 48000, 256, &err);
    assert_non_null(f.engine);
    ef_controls_init(&f.controls);
    ef_controls_apply(&f.controls, f.engine);
    ef_live_state_init(&f.st, &f.controls, f.model, f.engine);
    *state = &f;
    return 0;
}

static int load_binaural(void **state) { return load(state, "binaural_tiny.safetensors"); }
static int load_separate(void **state) { return load(state, "separate_tiny.safetensors"); }
/* A real separation model trained for speech only (earflow info; the model shipped
 * until a model trained for every label replaces it), so that refusal stays tested
 * whatever ships. */
static int load_speech_only_separate(void **state)
{
    return load(state, "../../train/stages/separate1-speech-only.safetensors");
}

static int unload(void **state)
{
    fixture *f = *state;
    ef_engine_free(f->engine);
    ef_model_free(f->model);
    return 0;
}

static ef_live_result run(fixture *f, const char *line, ef_live_command *c, char *reply)
{
    return ef_live_interpret(&f->st, f->model, line, c, reply, 512);
}

/* The command sets exactly these controls to these values. */
static void expect_set(const ef_live_command *c, int n, const ef_control *controls,
                       const double *values)
{
    assert_int_equal(c->n, n);
    for (int k = 0; k < n; k++) {
        assert_int_equal(c->control[k], controls[k]);
        assert_true(c->value[k] == values[k]);
    }
}

static void expect_one(const ef_live_command *c, ef_control control, double value)
{
    expect_set(c, 1, &control, &value);
}

/* The line yields a command that sets exactly this one control to this value. */
static void sends_one(fixture *f, const char *line, ef_control control, double value)
{
    ef_live_command c;
    char reply[512];
    if (run(f, line, &c, reply) != EF_LIVE_SEND)
        fail_msg("'%s' refused: %s", line, reply);
    expect_one(&c, control, value);
}

static void test_binaural_commands(void **state)
{
    fixture *f = *state;
    ef_live_command c;
    char reply[512];
    const ef_control pos[] = {EF_CONTROL_AZIMUTH, EF_CONTROL_ELEVATION, EF_CONTROL_DISTANCE};
    const ef_control head[] = {EF_CONTROL_YAW, EF_CONTROL_PITCH, EF_CONTROL_ROLL};
    sends_one(f, "azimuth 30", EF_CONTROL_AZIMUTH, 30);
    sends_one(f, "azimuth 270", EF_CONTROL_AZIMUTH, -90); /* angles wrap */
    assert_int_equal(run(f, "  position -45 10 2.5  # comment", &c, reply), EF_LIVE_SEND);
    expect_set(&c, 3, pos, (const double[]){-45, 10, 2.5});
    assert_int_equal(run(f, "position 20", &c, reply), EF_LIVE_SEND); /* the rest kept */
    expect_set(&c, 1, pos, (const double[]){20});
    sends_one(f, "elevation 20", EF_CONTROL_ELEVATION, 20);
    assert_int_equal(run(f, "head 10 5 -3", &c, reply), EF_LIVE_SEND);
    expect_set(&c, 3, head, (const double[]){10, 5, -3});
    assert_int_equal(run(f, "head 15", &c, reply), EF_LIVE_SEND); /* a pose: level */
    expect_set(&c, 3, head, (const double[]){15, 0, 0});
    sends_one(f, "roll 4", EF_CONTROL_ROLL, 4);
    sends_one(f, "room large", EF_CONTROL_ROOM, 2);
    sends_one(f, "room 1", EF_CONTROL_ROOM, 1); /* or by index */
    sends_one(f, "steps 3", EF_CONTROL_STEPS, 3);
    sends_one(f, "enabled off", EF_CONTROL_ENABLED, 0);
    sends_one(f, "enabled toggle", EF_CONTROL_ENABLED, 1);
    sends_one(f, "enabled", EF_CONTROL_ENABLED, 0); /* alone: toggles */
    sends_one(f, "mix 0.25", EF_CONTROL_MIX, 0.25);
    sends_one(f, "gain -6", EF_CONTROL_GAIN, -6);
    assert_int_equal(run(f, "status", &c, reply), EF_LIVE_REPLY);
    assert_non_null(strstr(reply, "azimuth 20 elevation 20 distance 2.5 room small"));
    assert_non_null(strstr(reply, "steps 3"));
    assert_non_null(strstr(reply, "enabled off"));
    assert_null(strstr(reply, "target")); /* only this kind's controls */
    sends_one(f, "steps 0", EF_CONTROL_STEPS, 0); /* the model's default */
    assert_true(f->st.value[EF_CONTROL_STEPS] >= 1);
    assert_int_equal(run(f, "", &c, reply), EF_LIVE_NOTHING);
    assert_int_equal(run(f, "help", &c, reply), EF_LIVE_REPLY);
    assert_non_null(strstr(reply, "azimuth"));
    assert_int_equal(run(f, "quit", &c, reply), EF_LIVE_QUIT);
    /* Applying each command is allowed on the engine (real-time setters). */
    ef_live_command_apply(f->engine, &c);
}

static void test_refusals(void **state)
{
    fixture *f = *state;
    ef_live_command c;
    char reply[512];
    const char *bad[] = {"azimuth", "azimuth x", "distance 0", "steps -1", "elevation 91",
                         "steps 2.5", "steps 9", "mix 2", "gain 30", "enabled maybe",
                         "room kitchen", "room 4", "target speech", "mode remove", "frobnicate",
                         "position 1 2 3 4", "position 1 x", "head a", "pitch 100"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        ef_live_state before = f->st;
        assert_int_equal(run(f, bad[i], &c, reply), EF_LIVE_ERROR);
        assert_true(reply[0] != 0);
        assert_memory_equal(&before, &f->st, sizeof before); /* a refusal changes nothing */
    }
}

static void test_separation_commands(void **state)
{
    fixture *f = *state;
    ef_live_command c;
    char reply[512];
    sends_one(f, "target music", EF_CONTROL_TARGET, 1);
    sends_one(f, "mode remove", EF_CONTROL_MODE, 1);
    sends_one(f, "mode toggle", EF_CONTROL_MODE, 0);
    sends_one(f, "limit 12", EF_CONTROL_LIMIT, 12);
    assert_int_equal(run(f, "azimuth 30", &c, reply), EF_LIVE_ERROR);
    assert_non_null(strstr(reply, "binaural"));
    assert_int_equal(run(f, "target opera", &c, reply), EF_LIVE_ERROR);
}

/* A label the model was not trained for is refused and changes nothing. */
static void test_untrained_target(void **state)
{
    fixture *f = *state;
    ef_live_command c;
    char reply[512];
    assert_false(ef_model_label_trained(f->model, 1));
    assert_true(f->st.value[EF_CONTROL_TARGET] == 0);
    ef_live_state before = f->st;
    assert_int_equal(run(f, "target music", &c, reply), EF_LIVE_ERROR);
    assert_non_null(strstr(reply, "not trained"));
    assert_memory_equal(&before, &f->st, sizeof before);
    sends_one(f, "target speech", EF_CONTROL_TARGET, 0);
}

static void test_osc_messages(void **state)
{
    (void)state;
    char line[256];
    /* "/earflow/head" ",fff" 10 -5.5 0 */
    const unsigned char head[] = {'/', 'e', 'a', 'r', 'f', 'l', 'o', 'w', '/', 'h', 'e', 'a',
                                  'd', 0, 0, 0, ',', 'f', 'f', 'f', 0, 0, 0, 0,
                                  0x41, 0x20, 0, 0, 0xc0, 0xb0, 0, 0, 0, 0, 0, 0};
    assert_int_equal(ef_live_osc_to_line(head, sizeof head, 0, line, sizeof line), 0);
    assert_string_equal(line, "head 10 -5.5 0");
    const unsigned char target[] = {'/', 'e', 'a', 'r', 'f', 'l', 'o', 'w', '/', 't', 'a', 'r',
                                    'g', 'e', 't', 0, ',', 's', 0, 0, 's', 'p', 'e', 'e',
                                    'c', 'h', 0, 0};
    assert_int_equal(ef_live_osc_to_line(target, sizeof target, 0, line, sizeof line), 0);
    assert_string_equal(line, "target speech");
    const unsigned char steps[] = {'/', 'e', 'a', 'r', 'f', 'l', 'o', 'w', '/', 's', 't', 'e',
                                   'p', 's', 0, 0, ',', 'i', 0, 0, 0, 0, 0, 2};
    assert_int_equal(ef_live_osc_to_line(steps, sizeof steps, 0, line, sizeof line), 0);
    assert_string_equal(line, "steps 2");
    /* Truncated argument, foreign address, missing terminator: refused. */
    assert_int_equal(ef_live_osc_to_line(head, sizeof head - 2, 0, line, sizeof line), -1);
    const unsigned char other[] = {'/', 'x', 0, 0, ',', 0, 0, 0};
    assert_int_equal(ef_live_osc_to_line(other, sizeof other, 0, line, sizeof line), -1);
    assert_int_equal(ef_live_osc_to_line(head, 5, 0, line, sizeof line), -1);
}

/* An OSC message with n float arguments. */
static size_t osc_floats(unsigned char *buf, const char *address, int n, const double *v)
{
    size_t at = (size_t)snprintf((char *)buf, 64, "%s", address) + 1;
    while (at % 4)
        buf[at++] = 0;
    buf[at++] = ',';
    for (int k = 0; k < n; k++)
        buf[at++] = 'f';
    buf[at++] = 0;
    while (at % 4)
        buf[at++] = 0;
    for (int k = 0; k < n; k++) {
        const float f = (float)v[k];
        uint32_t bits;
        memcpy(&bits, &f, 4);
        for (int b = 0; b < 4; b++)
            buf[at++] = (unsigned char)(bits >> (24 - 8 * b));
    }
    return at;
}

/* The quaternion (w x y z) of yaw about z, then pitch about y, then roll about x. */
static void ypr_to_quaternion(double yaw, double pitch, double roll, double q[4])
{
    const double d = M_PI / 360.0; /* half angles, radians */
    const double cy = cos(yaw * d), sy = sin(yaw * d), cp = cos(pitch * d), sp = sin(pitch * d);
    const double cr = cos(roll * d), sr = sin(roll * d);
    q[0] = cr * cp * cy + sr * sp * sy;
    q[1] = sr * cp * cy - cr * sp * sy;
    q[2] = cr * sp * cy + sr * cp * sy;
    q[3] = cr * cp * sy - sr * sp * cy;
}

/* A tracker message through the whole path: OSC -> line -> command -> engine; the
 * engine's head pose is then yaw, pitch, roll (within float precision). */
static void tracker_sets_head(fixture *f, const char *address, int n, const double *v,
                              unsigned flips, double yaw, double pitch, double roll)
{
    unsigned char packet[128];
    char line[256], reply[512];
    ef_live_command c;
    const size_t len = osc_floats(packet, address, n, v);
    if (ef_live_osc_to_line(packet, len, flips, line, sizeof line) != 0)
        fail_msg("%s not read", address);
    if (run(f, line, &c, reply) != EF_LIVE_SEND)
        fail_msg("%s -> '%s' refused: %s", address, line, reply);
    ef_live_command_apply(f->engine, &c);
    const double got[3] = {ef_engine_get_control(f->engine, EF_CONTROL_YAW),
                           ef_engine_get_control(f->engine, EF_CONTROL_PITCH),
                           ef_engine_get_control(f->engine, EF_CONTROL_ROLL)};
    if (fabs(got[0] - yaw) > 1e-3 || fabs(got[1] - pitch) > 1e-3 || fabs(got[2] - roll) > 1e-3)
        fail_msg("%s (flips %u) -> '%s': head %g %g %g, want %g %g %g", address, flips, line,
                 got[0], got[1], got[2], yaw, pitch, roll);
}

/* SPARTA's and IEM SceneRotator's head-tracker messages set the engine's head pose;
 * --osc-flip negates axes; other shapes are not read. */
static void test_tracker_messages(void **state)
{
    fixture *f = *state;
    const double ypr[3] = {30, 10, 5}, one[1] = {-20};
    double q[4];
    tracker_sets_head(f, "/ypr", 3, ypr, 0, 30, 10, 5);
    tracker_sets_head(f, "/yaw", 1, one, 0, -20, 10, 5);
    tracker_sets_head(f, "/pitch", 1, one, 0, -20, -20, 5);
    tracker_sets_head(f, "/roll", 1, one, 0, -20, -20, -20);
    tracker_sets_head(f, "/SceneRotator/ypr", 3, ypr, 0, 30, 10, 5);
    tracker_sets_head(f, "/SceneRotator/roll", 1, one, 0, 30, 10, -20);
    ypr_to_quaternion(-45, 20, -10, q);
    tracker_sets_head(f, "/SceneRotator/quaternions", 4, q, 0, -45, 20, -10);
    tracker_sets_head(f, "/ypr", 3, ypr, EF_OSC_FLIP_YAW | EF_OSC_FLIP_ROLL, -30, 10, -5);
    ypr_to_quaternion(60, -30, 15, q);
    tracker_sets_head(f, "/SceneRotator/quaternions", 4, q, EF_OSC_FLIP_PITCH, 60, 30, 15);
    tracker_sets_head(f, "/yaw", 1, one, EF_OSC_FLIP_YAW, 20, 30, 15);
    /* Not ours: a wrong count, a bare /quaternions, another address. */
    unsigned char packet[128];
    char line[256];
    assert_int_equal(ef_live_osc_to_line(packet, osc_floats(packet, "/ypr", 2, ypr), 0, line,
                                         sizeof line), -1);
    assert_int_equal(ef_live_osc_to_line(packet, osc_floats(packet, "/quaternions", 4, q), 0,
                                         line, sizeof line), -1);
    assert_int_equal(ef_live_osc_to_line(packet, osc_floats(packet, "/volume", 1, one), 0, line,
                                         sizeof line), -1);
    unsigned flips;
    assert_int_equal(ef_live_osc_flips_parse("yaw,roll", &flips), 0);
    assert_int_equal(flips, EF_OSC_FLIP_YAW | EF_OSC_FLIP_ROLL);
    assert_int_equal(ef_live_osc_flips_parse("pitch", &flips), 0);
    assert_int_equal(flips, EF_OSC_FLIP_PITCH);
    assert_int_equal(ef_live_osc_flips_parse("yaw,up", &flips), -1);
}

int main(int argc, char **argv)
{
    golden_dir = argc > 1 ? argv[1] : "tests/golden";
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_binaural_commands, load_binaural, unload),
        cmocka_unit_test_setup_teardown(test_refusals, load_binaural, unload),
        cmocka_unit_test_setup_teardown(test_separation_commands, load_separate, unload),
        cmocka_unit_test_setup_teardown(test_untrained_target, load_speech_only_separate, unload),
        cmocka_unit_test(test_osc_messages),
        cmocka_unit_test_setup_teardown(test_tracker_messages, load_binaural, unload),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
