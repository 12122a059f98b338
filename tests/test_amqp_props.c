/*
 * test_amqp_props.c: content headers: every one of basic's 14 properties,
 * property flag continuation words, the 64-bit body size and bad headers.
 */
/* cmocka needs these first, in this order */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
/* clang-format on */

#include <string.h>

#include "amqp_test_util.h"
#include "dissect/amqp_props.h"

static void w_all_props(struct wbuf *b, uint16_t first_flags_extra, int continuation_words)
{
    w_be16(b, 60);
    w_be16(b, 0);
    w_be64(b, 0x0123456789abcdefull);
    w_be16(b, (uint16_t)(0xFFFC | first_flags_extra | (continuation_words ? 1 : 0)));
    for (int i = 0; i < continuation_words; i++)
        w_be16(b, i + 1 < continuation_words ? 1 : 0); /* no properties, maybe more words */
    w_sstr(b, "application/json");
    w_sstr(b, "utf-8");
    static const uint8_t hdr[] = {1, 'h', 'S', 0, 0, 0, 1, 'v'};
    w_lstr(b, hdr, sizeof hdr);
    w_u8(b, 2);
    w_u8(b, 7);
    w_sstr(b, "corr");
    w_sstr(b, "reply_abc");
    w_sstr(b, "60000");
    w_sstr(b, "mid");
    w_be64(b, 1700000000);
    w_sstr(b, "type");
    w_sstr(b, "guest");
    w_sstr(b, "app");
    w_sstr(b, "cluster");
}

static void check_all(const struct amqp_content_header *h)
{
    assert_int_equal(h->class_id, 60);
    assert_int_equal(h->body_size, 0x0123456789abcdefull);
    assert_int_equal(h->props.present, (1u << 14) - 1);
    assert_memory_equal(h->props.content_type.p, "application/json", 16);
    assert_memory_equal(h->props.content_encoding.p, "utf-8", 5);
    assert_int_equal(h->props.headers.len, 8);
    assert_int_equal(h->props.delivery_mode, 2);
    assert_int_equal(h->props.priority, 7);
    assert_memory_equal(h->props.correlation_id.p, "corr", 4);
    assert_memory_equal(h->props.reply_to.p, "reply_abc", 9);
    assert_memory_equal(h->props.expiration.p, "60000", 5);
    assert_memory_equal(h->props.message_id.p, "mid", 3);
    assert_int_equal(h->props.timestamp, 1700000000);
    assert_memory_equal(h->props.type.p, "type", 4);
    assert_memory_equal(h->props.user_id.p, "guest", 5);
    assert_memory_equal(h->props.app_id.p, "app", 3);
    assert_memory_equal(h->props.cluster_id.p, "cluster", 7);
}

static void test_every_property(void **state)
{
    (void)state;
    struct wbuf b = {0};
    w_all_props(&b, 0, 0);
    struct amqp_content_header h;
    assert_int_equal(amqp_content_header_parse(b.p, b.len, &h), AMQP_OK);
    assert_int_equal(h.flag_words, 1);
    check_all(&h);
    /* every truncation fails cleanly */
    for (size_t cut = 0; cut < b.len; cut++) {
        uint8_t *c = malloc(cut ? cut : 1);
        memcpy(c, b.p, cut);
        assert_int_not_equal(amqp_content_header_parse(c, cut, &h), AMQP_OK);
        free(c);
    }
    w_free(&b);
}

static void test_each_property_alone(void **state)
{
    (void)state;
    size_t n;
    const struct amqp_prop_def *defs = amqp_props_table(&n);
    assert_int_equal(n, 14);
    for (size_t i = 0; i < n; i++) {
        struct wbuf b = {0};
        w_be16(&b, 60);
        w_be16(&b, 0);
        w_be64(&b, 5);
        w_be16(&b, (uint16_t)(1u << (15 - i)));
        switch (defs[i].type) {
        case AMQP_ARG_SHORTSTR:
            w_sstr(&b, "x");
            break;
        case AMQP_ARG_OCTET:
            w_u8(&b, 1);
            break;
        case AMQP_ARG_TIMESTAMP:
            w_be64(&b, 1);
            break;
        case AMQP_ARG_TABLE:
            w_be32(&b, 0);
            break;
        default:
            fail();
        }
        struct amqp_content_header h;
        assert_int_equal(amqp_content_header_parse(b.p, b.len, &h), AMQP_OK);
        assert_int_equal(h.props.present, defs[i].present_bit);
        assert_int_equal(h.body_size, 5);
        w_free(&b);
    }
}

static void test_continuation(void **state)
{
    (void)state;
    for (int words = 1; words <= 3; words++) {
        struct wbuf b = {0};
        w_all_props(&b, 0, words);
        struct amqp_content_header h;
        assert_int_equal(amqp_content_header_parse(b.p, b.len, &h), AMQP_OK);
        assert_int_equal(h.flag_words, 1 + (unsigned)words);
        check_all(&h);
        w_free(&b);
    }
    /* a continuation bit on the last word available: cut short */
    static const uint8_t bad[] = {0, 60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x00, 0x01};
    struct amqp_content_header h;
    assert_int_equal(amqp_content_header_parse(bad, sizeof bad, &h), AMQP_ERR_BAD_CONTENT_HEADER);
    /* endless continuation words are refused */
    uint8_t many[12 + 2 * 20];
    memset(many, 0, sizeof many);
    many[1] = 60;
    for (int i = 0; i < 20; i++)
        many[12 + 2 * i + 1] = 1;
    assert_int_equal(amqp_content_header_parse(many, sizeof many, &h), AMQP_ERR_BAD_CONTENT_HEADER);
}

static void test_unknown_flag_bit(void **state)
{
    (void)state;
    /* bit 1 of the first word names a property basic does not have: the known ones are kept */
    struct wbuf b = {0};
    w_all_props(&b, 0x0002, 0);
    w_raw(&b, "\x05zzzzz", 6);
    struct amqp_content_header h;
    assert_int_equal(amqp_content_header_parse(b.p, b.len, &h), AMQP_OK);
    check_all(&h);
    w_free(&b);
}

static void test_huge_body_size_and_bad_table(void **state)
{
    (void)state;
    static const uint8_t p[] = {0, 60, 0, 0, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    struct amqp_content_header h;
    assert_int_equal(amqp_content_header_parse(p, sizeof p, &h), AMQP_OK);
    assert_int_equal(h.body_size, 1ull << 63);
    /* headers table running past its length */
    static const uint8_t t[] = {0, 60,   0,    0, 0, 0, 0, 0, 0,   0,   0,
                                1, 0x20, 0x00, 0, 0, 0, 4, 1, 'k', 'S', 0};
    assert_int_equal(amqp_content_header_parse(t, sizeof t, &h), AMQP_ERR_BAD_TABLE);
}

static struct amqp_bytes bytes(const char *s, size_t len)
{
    return (struct amqp_bytes){(const uint8_t *)s, len};
}

static void test_accessors(void **state)
{
    (void)state;
    struct amqp_basic_props p;
    memset(&p, 0, sizeof p);
    char buf[8];
    uint64_t ms = 7;
    assert_false(amqp_props_cstr(&p, AMQP_PROP_CORRELATION_ID, buf, sizeof buf));
    assert_string_equal(buf, "");
    assert_false(amqp_props_expiration_ms(&p, &ms));
    p.present = AMQP_PROP_CORRELATION_ID | AMQP_PROP_REPLY_TO | AMQP_PROP_EXPIRATION;
    p.correlation_id = bytes("abc", 3);
    p.reply_to = bytes("amq.rabbitmq.reply-to", 21);
    p.expiration = bytes("30000", 5);
    assert_true(amqp_props_cstr(&p, AMQP_PROP_CORRELATION_ID, buf, sizeof buf));
    assert_string_equal(buf, "abc");
    assert_true(amqp_props_cstr(&p, AMQP_PROP_REPLY_TO, buf, sizeof buf));
    assert_string_equal(buf, "amq.rab"); /* cut to the buffer */
    assert_false(amqp_props_cstr(&p, AMQP_PROP_MESSAGE_ID, buf, sizeof buf)); /* absent */
    assert_false(amqp_props_cstr(&p, AMQP_PROP_HEADERS, buf, sizeof buf));    /* not a string */
    p.correlation_id = bytes("a\0b", 3);
    assert_true(amqp_props_cstr(&p, AMQP_PROP_CORRELATION_ID, buf, sizeof buf));
    assert_string_equal(buf, "a"); /* cut at an embedded NUL */
    p.correlation_id = bytes("", 0);
    assert_false(amqp_props_cstr(&p, AMQP_PROP_CORRELATION_ID, buf, sizeof buf));
    assert_true(amqp_props_expiration_ms(&p, &ms));
    assert_int_equal(ms, 30000);
    p.expiration = bytes("30s", 3);
    assert_false(amqp_props_expiration_ms(&p, &ms));
    p.expiration = bytes("1234567890123456", 16);
    assert_false(amqp_props_expiration_ms(&p, &ms));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_property),
        cmocka_unit_test(test_accessors),
        cmocka_unit_test(test_each_property_alone),
        cmocka_unit_test(test_continuation),
        cmocka_unit_test(test_unknown_flag_bit),
        cmocka_unit_test(test_huge_body_size_and_bad_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
