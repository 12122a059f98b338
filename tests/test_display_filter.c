/*
 * test_display_filter.c: the display filter language (engine/display_filter.c)
 * and the op_filter around it (engine/filter.c): every field kind, the
 * operators and their precedence, units, the timed-out call's latency, the
 * text fields as the text lines show them, every parse error with its
 * column, the bounds, and that a bad expression leaves the filter as it was.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "engine/display_filter.h"
#include "engine/filter.h"

static struct op call_op(void)
{
    struct op op;
    memset(&op, 0, sizeof op);
    op.type = OP_CALL;
    op.status = OP_OK;
    op.topic = "compute";
    op.server = "host-a";
    op.method = "build_and_run_instance";
    op.msg_id = "775339337feb4689acd43f054dd4b441";
    op.request_id = "req-1";
    op.global_request_id = "req-g";
    op.exchange = "nova";
    op.has_latency = true;
    op.latency_ms = 250;
    op.queue_wait_ms = 2;
    op.server_ms = 240;
    op.reply_ms = -1;
    op.timeout_s = 60;
    op.replies = 1;
    op.verdict = OP_VERDICT_OK;
    op.slow_in = OP_SLOW_SERVER;
    op.client.known = true;
    op.client.addr.family = 4;
    op.client.addr.ip[0] = 127, op.client.addr.ip[3] = 1;
    op.client.addr.port = 40000;
    op.client.connection_name = "nova-compute:4242:abcd";
    return op;
}

static struct op notif_op(void)
{
    struct op op;
    memset(&op, 0, sizeof op);
    op.type = OP_NOTIFICATION;
    op.status = OP_OK;
    op.topic = "notifications";
    op.event_type = "compute.instance.create.end";
    op.priority = "INFO";
    op.queue_wait_ms = op.server_ms = op.reply_ms = -1;
    return op;
}

static bool m(const char *expr, const struct op *op)
{
    struct dfilter df;
    char err[256] = "";
    dfilter_init(&df);
    if (!dfilter_compile(&df, expr, err, sizeof err))
        fail_msg("'%s' did not parse: %s", expr, err);
    return dfilter_match(&df, op);
}

/* The expression fails with a message containing want. */
static void bad(const char *expr, const char *want)
{
    struct dfilter df;
    char err[256] = "";
    dfilter_init(&df);
    assert_true(dfilter_compile(&df, "topic==keep", err, sizeof err));
    if (dfilter_compile(&df, expr, err, sizeof err))
        fail_msg("'%s' parsed", expr);
    if (!strstr(err, want))
        fail_msg("'%s': error '%s' lacks '%s'", expr, err, want);
    assert_string_equal(df.text, "topic==keep"); /* untouched */
}

static void test_strings(void **state)
{
    (void)state;
    struct op op = call_op();
    assert_true(m("topic==compute", &op));
    assert_true(m("topic==compute.host-a", &op)); /* as the text lines show it */
    assert_true(m("topic=comp*", &op));
    assert_false(m("topic==comp", &op));
    assert_true(m("topic!=network", &op));
    assert_false(m("topic!=compute", &op));
    assert_true(m("method~\"build_*\"", &op));
    assert_true(m("method~run", &op));
    assert_false(m("method!~run", &op));
    assert_true(m("request_id==req-g and req==req-1", &op));
    assert_true(m("client==127.0.0.1:40000", &op));
    assert_true(m("client_process==nova-compute:4242", &op));
    assert_true(m("process~nova-compute", &op));
    assert_false(m("server_peer", &op)); /* unknown peer: absent */
    assert_true(m("msg_id~7753 exchange==nova", &op));
    assert_false(m("error", &op));
    assert_true(m("not error", &op));
    op.status = OP_ERROR;
    op.error_class = "NoValidHost";
    op.error_message = "No valid host was found. There are not enough hosts";
    assert_true(m("error==NoValidHost and error_message~\"not enough\"", &op));
}

static void test_notifications(void **state)
{
    (void)state;
    struct op op = notif_op();
    assert_true(m("method==compute.instance.*", &op)); /* the METHOD column */
    assert_true(m("event_type==compute.instance.create.end", &op));
    assert_true(m("priority==INFO and type==notification", &op));
    assert_false(m("priority==WARN", &op));
    assert_false(m("latency", &op));
    assert_false(m("verdict", &op));
    assert_false(m("replies>=0", &op)); /* not a call */
}

static void test_enums_and_bools(void **state)
{
    (void)state;
    struct op op = call_op();
    assert_true(m("status==ok", &op));
    assert_true(m("status==error,ok,timeout", &op));
    assert_false(m("status==error,timeout", &op));
    assert_true(m("status!=error,timeout", &op));
    assert_true(m("verdict==ok and slow_in==server and dialect==oslo and type==call", &op));
    assert_true(m("verdict", &op));
    assert_false(m("late_reply", &op));
    assert_true(m("late_reply==false", &op));
    assert_false(m("late_reply==yes", &op));
    op.late_reply = true;
    assert_true(m("late_reply", &op));
    assert_true(m("late_reply!=0", &op));
    op.verdict = OP_VERDICT_NONE;
    assert_false(m("verdict", &op));
    assert_false(m("verdict==ok", &op));
}

static void test_numbers_and_units(void **state)
{
    (void)state;
    struct op op = call_op();
    assert_true(m("latency>100", &op)); /* bare numbers are milliseconds */
    assert_true(m("latency>0.2s", &op));
    assert_false(m("latency>0.5s", &op));
    assert_true(m("latency>=250ms and latency<=250 and latency==250", &op));
    assert_true(m("latency<250001us", &op));
    assert_true(m("latency<1min", &op));
    assert_true(m("queue_wait<5 and server_time>200", &op));
    assert_false(m("reply_time<1000", &op)); /* not seen */
    assert_true(m("reply_time!=3", &op));
    assert_true(m("timeout==60 and timeout==60s and timeout_s==60000ms", &op));
    assert_true(m("replies==1 and heartbeats==0", &op));
}

static void test_timed_out_latency(void **state)
{
    (void)state;
    struct op op = call_op();
    op.status = OP_TIMEOUT;
    op.has_latency = false;
    op.timeout_s = 1;
    assert_true(m("latency>500", &op)); /* it lasted at least its 1 s timeout */
    assert_true(m("latency>=1s", &op));
    assert_false(m("latency>1s", &op));
    assert_false(m("latency<2s", &op)); /* cannot be told */
    assert_false(m("latency==1s", &op));
    assert_true(m("latency", &op));

    struct op_filter f;
    op_filter_init(&f);
    f.min_latency_ms = 800;
    assert_true(op_filter_match(&f, &op));
    f.min_latency_ms = 1500;
    assert_false(op_filter_match(&f, &op));
}

static void test_precedence(void **state)
{
    (void)state;
    struct op op = call_op();
    /* and binds tighter than or; juxtaposition is and */
    assert_true(m("topic==x and status==error or latency>100", &op));
    assert_false(m("topic==x and (status==error or latency>100)", &op));
    assert_false(m("topic==x status==ok or topic==y", &op));
    assert_true(m("not topic==x and not (status==error || latency<1)", &op));
    assert_true(m("!topic==x && topic==compute", &op));
    assert_true(m("  ((topic==compute))  ", &op));
    assert_true(m("", &op)); /* empty: everything */
    assert_true(m("   ", &op));
}

static void test_quoting(void **state)
{
    (void)state;
    struct op op = call_op();
    op.error_message = "a \"quoted\" (word) and more";
    assert_true(m("error_message==\"a \\\"quoted\\\" (word) and more\"", &op));
    /* values are globs: a backslash escapes the next character, as in fnmatch(3) */
    op.error_message = "1*2";
    assert_true(m("error_message==\"1\\\\*2\"", &op));
    assert_false(m("error_message==\"1\\\\*3\"", &op));
    op.error_message = "1x2";
    assert_false(m("error_message==\"1\\\\*2\"", &op));
    assert_true(m("error_message==1*2", &op));
    op.error_message = "(word)";
    assert_true(m("error_message~\"(word)\"", &op));
    assert_true(m("topic==\"compute\"", &op));
}

static void test_errors(void **state)
{
    (void)state;
    bad("compute", "unknown field 'compute' (a topic glob is topic==compute) at column 1");
    bad("topic==", "expected a value at column 8");
    bad("topic==x and", "expression ends too soon at column 13");
    bad("(topic==x", "unclosed '(' at column 1");
    bad("topic==x)", "unexpected ')' at column 9");
    bad("topic<3", "'<' compares numbers; topic is not a number at column 6");
    bad("latency~3", "'~' matches text; latency is not text at column 8");
    bad("status~ok", "is not text");
    bad("status==ok,bogus", "unknown status 'bogus' (ok, error, timeout, open, unroutable, "
                            "evicted, unknown) at column 12");
    bad("latency>3parsecs", "unknown unit 'parsecs' (us, ms, s, min) at column 10");
    bad("latency>fast", "'fast' is not a number (latency) at column 9");
    bad("latency>nan", "is not a number");
    bad("replies>1s", "is not a number");
    bad("late_reply==maybe", "'maybe' is not true or false at column 13");
    bad("error_message==\"open", "unterminated string at column 16");
    bad("== 3", "'==' needs a field before it at column 1");
    bad("or topic==x", "'or' needs a term before it at column 1");
    bad("\"x\"", "a value needs a field");
    bad("topic==x $", "unexpected character at column 10");
    bad("topic==x \"y\"", "expected 'and', 'or' or the end at column 10");
}

static void test_bounds(void **state)
{
    (void)state;
    char expr[DFILTER_TEXT_MAX + 8];
    /* nesting */
    size_t o = 0;
    for (int i = 0; i < DFILTER_MAX_DEPTH + 1; i++)
        expr[o++] = '(';
    strcpy(expr + o, "topic==x");
    bad(expr, "nested too deep");
    o = 0;
    for (int i = 0; i < DFILTER_MAX_DEPTH + 1; i++)
        o += (size_t)sprintf(expr + o, "not ");
    strcpy(expr + o, "topic==x");
    bad(expr, "nested too deep");
    /* nodes */
    o = 0;
    for (int i = 0; i < DFILTER_MAX_NODES / 2 + 1; i++) /* n terms, n - 1 ors */
        o += (size_t)sprintf(expr + o, "%slatency>1", i ? " or " : "");
    bad(expr, "too many terms");
    /* the longest text, all of it values (the pool holds them whatever they are) */
    o = (size_t)sprintf(expr, "topic~");
    memset(expr + o, 'a', DFILTER_TEXT_MAX - 1 - o);
    expr[DFILTER_TEXT_MAX - 1] = '\0';
    struct dfilter df;
    char err[256];
    dfilter_init(&df);
    assert_true(dfilter_compile(&df, expr, err, sizeof err));
    assert_int_equal(strlen(df.text), DFILTER_TEXT_MAX - 1);
    /* text */
    memset(expr, 'x', sizeof expr - 1);
    expr[sizeof expr - 1] = '\0';
    bad(expr, "expression too long");
}

static void test_op_filter(void **state)
{
    (void)state;
    struct op op = call_op();
    struct op nop = notif_op();
    struct op_filter f;
    char err[256];
    op_filter_init(&f);
    assert_true(op_filter_is_empty(&f));
    assert_true(op_filter_set_glob(f.topic, "compute.host-a", err, sizeof err));
    assert_true(op_filter_match(&f, &op));
    assert_false(op_filter_set_glob(f.topic, "", err, sizeof err));
    assert_string_equal(err, "empty pattern ('*' matches any)");
    op_filter_init(&f);
    assert_true(op_filter_set_glob(f.method, "compute.instance.*", err, sizeof err));
    assert_true(op_filter_match(&f, &nop));
    assert_false(op_filter_match(&f, &op));
    op_filter_init(&f);
    assert_true(op_filter_set_glob(f.priority, "WARN", err, sizeof err));
    assert_false(op_filter_match(&f, &nop));
    assert_true(op_filter_set_glob(f.priority, "INFO", err, sizeof err));
    assert_true(op_filter_set_glob(f.event_type, "*.end", err, sizeof err));
    assert_true(op_filter_match(&f, &nop));
    assert_false(op_filter_is_empty(&f));

    /* The TUI's line: replaces the whole filter, or nothing. */
    assert_true(
        op_filter_parse_expr(&f, "topic=compute status=ok,error latency>100", err, sizeof err));
    assert_true(op_filter_match(&f, &op));
    assert_false(op_filter_match(&f, &nop));
    assert_false(op_filter_parse_expr(&f, "latency<<2", err, sizeof err));
    assert_string_equal(f.expr.text, "topic=compute status=ok,error latency>100");
    assert_true(op_filter_parse_expr(&f, "", err, sizeof err));
    assert_true(op_filter_is_empty(&f));

    /* describe parses back to the same filter */
    op_filter_init(&f);
    assert_true(op_filter_set_glob(f.topic, "com pute(1)", err, sizeof err));
    f.status_mask = 1u << OP_OK;
    f.min_latency_ms = 100;
    assert_true(dfilter_compile(&f.expr, "verdict or latency>1s", err, sizeof err));
    char desc[512];
    op_filter_describe(&f, desc, sizeof desc);
    assert_string_equal(desc,
                        "topic=\"com pute(1)\" status=ok latency>=100ms (verdict or latency>1s)");
    struct op_filter g;
    op_filter_init(&g);
    assert_true(op_filter_parse_expr(&g, desc, err, sizeof err));
    op.topic = "com pute(1)";
    op.server = NULL;
    assert_true(op_filter_match(&f, &op));
    assert_true(op_filter_match(&g, &op));
    op.latency_ms = 50;
    assert_false(op_filter_match(&f, &op));
    assert_false(op_filter_match(&g, &op));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_notifications),
        cmocka_unit_test(test_enums_and_bools),
        cmocka_unit_test(test_numbers_and_units),
        cmocka_unit_test(test_timed_out_latency),
        cmocka_unit_test(test_precedence),
        cmocka_unit_test(test_quoting),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_op_filter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
