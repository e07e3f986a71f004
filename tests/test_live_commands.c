/* The live command language on the golden models (and the shipped separation model,
 * for a label it was not trained for): each command updates the state and
 * yields the right absolute engine command; wrong commands, values and model kinds are
 * refused with a reason; OSC messages become the same lines. */
#include "live_commands.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
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
/* The shipped separation model, trained for speech only (earflow info). */
static int load_shipped_separate(void **state)
{
    return load(state, "../../models/separate.safetensors");
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

static void test_binaural_commands(void **state)
{
    fixture *f = *state;
    ef_live_command c;
    char reply[512];
    assert_int_equal(run(f, "azimuth 30", &c, reply), EF_LIVE_SEND);
    assert_int_equal(c.op, EF_LIVE_POSITION);
    assert_true(c.v[0] == 30 && c.v[1] == 0 && c.v[2] == 1);
    assert_int_equal(run(f, "  position -45 10 2.5  # comment", &c, reply), EF_LIVE_SEND);
    assert_true(c.v[0] == -45 && c.v[1] == 10 && c.v[2] == 2.5);
    assert_int_equal(run(f, "elevation 20", &c, reply), EF_LIVE_SEND);
    assert_true(c.v[0] == -45 && c.v[1] == 20 && c.v[2] == 2.5); /* the rest kept */
    assert_int_equal(run(f, "head 10 5 -3", &c, reply), EF_LIVE_SEND);
    assert_int_equal(c.op, EF_LIVE_HEAD);
    assert_true(c.v[0] == 10 && c.v[1] == 5 && c.v[2] == -3);
    assert_int_equal(run(f, "room large", &c, reply), EF_LIVE_SEND);
    assert_int_equal(c.i, 2);
    assert_int_equal(run(f, "steps 3", &c, reply), EF_LIVE_SEND);
    assert_int_equal(c.op, EF_LIVE_SCHEDULE);
    assert_int_equal(c.i, 3);
    assert_int_equal(run(f, "bypass on", &c, reply), EF_LIVE_SEND);
    assert_int_equal(c.i, 1);
    assert_int_equal(run(f, "bypass toggle", &c, reply), EF_LIVE_SEND);
    assert_int_equal(c.i, 0);
    assert_int_equal(run(f, "mix 0.25", &c, reply), EF_LIVE_SEND);
    assert_true(c.op == EF_LIVE_MIX && c.v[0] == 0.25);
    assert_int_equal(run(f, "gain -6", &c, reply), EF_LIVE_SEND);
    assert_true(c.op == EF_LIVE_GAIN && c.v[0] == -6);
    assert_int_equal(run(f, "status", &c, reply), EF_LIVE_REPLY);
    assert_non_null(strstr(reply, "az -45 el 20 dist 2.50"));
    assert_non_null(strstr(reply, "steps 3"));
    assert_int_equal(run(f, "", &c, reply), EF_LIVE_NOTHING);
    assert_int_equal(run(f, "quit", &c, reply), EF_LIVE_QUIT);
    /* Applying each command is allowed on the engine (real-time setters). */
    ef_live_command_apply(f->engine, &c);
}

static void test_refusals(void **state)
{
    fixture *f = *state;
    ef_live_command c;
    char reply[512];
    const char *bad[] = {"azimuth", "azimuth 400", "azimuth x", "distance 0", "steps 0",
                         "steps 2.5", "steps 9", "mix 2", "gain 30", "bypass maybe",
                         "room kitchen", "target speech", "remove on", "frobnicate",
                         "position 1 2 3 4", "head a"};
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
    assert_int_equal(run(f, "target music", &c, reply), EF_LIVE_SEND);
    assert_true(c.op == EF_LIVE_LABEL && c.i == 1);
    assert_int_equal(run(f, "remove on", &c, reply), EF_LIVE_SEND);
    assert_true(c.op == EF_LIVE_REMOVE && c.i == 1);
    assert_int_equal(run(f, "limit 12", &c, reply), EF_LIVE_SEND);
    assert_true(c.op == EF_LIVE_LIMIT && c.v[0] == 12);
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
    assert_int_equal(f->st.label, 0);
    ef_live_state before = f->st;
    assert_int_equal(run(f, "target music", &c, reply), EF_LIVE_ERROR);
    assert_non_null(strstr(reply, "not trained"));
    assert_memory_equal(&before, &f->st, sizeof before);
    assert_int_equal(run(f, "target speech", &c, reply), EF_LIVE_SEND);
    assert_true(c.op == EF_LIVE_LABEL && c.i == 0);
}

static void test_osc_messages(void **state)
{
    (void)state;
    char line[256];
    /* "/earflow/head" ",fff" 10 -5.5 0 */
    const unsigned char head[] = {'/', 'e', 'a', 'r', 'f', 'l', 'o', 'w', '/', 'h', 'e', 'a',
                                  'd', 0, 0, 0, ',', 'f', 'f', 'f', 0, 0, 0, 0,
                                  0x41, 0x20, 0, 0, 0xc0, 0xb0, 0, 0, 0, 0, 0, 0};
    assert_int_equal(ef_live_osc_to_line(head, sizeof head, line, sizeof line), 0);
    assert_string_equal(line, "head 10 -5.5 0");
    const unsigned char target[] = {'/', 'e', 'a', 'r', 'f', 'l', 'o', 'w', '/', 't', 'a', 'r',
                                    'g', 'e', 't', 0, ',', 's', 0, 0, 's', 'p', 'e', 'e',
                                    'c', 'h', 0, 0};
    assert_int_equal(ef_live_osc_to_line(target, sizeof target, line, sizeof line), 0);
    assert_string_equal(line, "target speech");
    const unsigned char steps[] = {'/', 'e', 'a', 'r', 'f', 'l', 'o', 'w', '/', 's', 't', 'e',
                                   'p', 's', 0, 0, ',', 'i', 0, 0, 0, 0, 0, 2};
    assert_int_equal(ef_live_osc_to_line(steps, sizeof steps, line, sizeof line), 0);
    assert_string_equal(line, "steps 2");
    /* Truncated argument, foreign address, missing terminator: refused. */
    assert_int_equal(ef_live_osc_to_line(head, sizeof head - 2, line, sizeof line), -1);
    const unsigned char other[] = {'/', 'x', 0, 0, ',', 0, 0, 0};
    assert_int_equal(ef_live_osc_to_line(other, sizeof other, line, sizeof line), -1);
    assert_int_equal(ef_live_osc_to_line(head, 5, line, sizeof line), -1);
}

int main(int argc, char **argv)
{
    golden_dir = argc > 1 ? argv[1] : "tests/golden";
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_binaural_commands, load_binaural, unload),
        cmocka_unit_test_setup_teardown(test_refusals, load_binaural, unload),
        cmocka_unit_test_setup_teardown(test_separation_commands, load_separate, unload),
        cmocka_unit_test_setup_teardown(test_untrained_target, load_shipped_separate, unload),
        cmocka_unit_test(test_osc_messages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
