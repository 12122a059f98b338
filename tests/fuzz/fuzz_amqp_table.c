/*
 * fuzz_amqp_table.c: libFuzzer target for AMQP field tables and arrays and
 * the content header that carries them.
 *
 * Input: one flags byte, the rest a table body (bit 0: read it as a field
 * array). The table goes through every reader the pipeline has: full
 * validation, the iterator, key lookup (`compression`, as the oslo stage asks),
 * the --amqp JSON view, and, as a content header payload, the property
 * parser. The invariants checked beyond "no crash": a table the validator
 * accepts must be walkable to its end by the iterator without an error, and
 * the JSON written without jansson is byte for byte jansson's dump.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "dissect/amqp_props.h"
#include "dissect/amqp_table.h"
#include "common/json_buf.h"
#include "dissect/inflate.h"
#include "ui/amqp_view.h"

/* Walks one level and recurses into nested tables, like a consumer would. */
static int walk(const uint8_t *p, size_t len, bool array, unsigned depth)
{
    if (depth > AMQP_TABLE_MAX_DEPTH)
        return 0;
    struct amqp_table_iter it;
    struct amqp_bytes key;
    struct amqp_table_value v;
    int rc;
    amqp_table_iter_init(&it, p, len, array);
    while ((rc = amqp_table_next(&it, &key, &v)) == 1) {
        if (v.kind == AMQP_VAL_TABLE || v.kind == AMQP_VAL_ARRAY) {
            if (walk(v.bytes.p, v.bytes.len, v.kind == AMQP_VAL_ARRAY, depth + 1) < 0)
                return -1;
        }
    }
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    bool array = data[0] & 1;
    const uint8_t *p = data + 1;
    size_t len = size - 1;

    enum amqp_err e = amqp_table_validate(p, len, array, AMQP_TABLE_MAX_DEPTH);
    int walked = walk(p, len, array, 0);
    if (e == AMQP_OK && walked != 0)
        abort(); /* validated, yet the iterator failed on it */

    json_t *j = amqp_view_table_json(p, len, array);
    if (j) {
        char *s = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(17));
        struct jbuf b = {0};
        amqp_view_table_json_write(&b, p, len, array);
        jb_put(&b, "", 1);
        if (s && !b.failed && strcmp(s, b.p) != 0)
            abort(); /* the writer and jansson disagree */
        free(b.p);
        free(s);
        json_decref(j);
    }
    if (!array) {
        struct amqp_table_value v;
        char buf[32];
        (void)amqp_table_find(p, len, "compression", &v);
        (void)amqp_table_find_str(p, len, "compression", buf, sizeof buf);
        (void)amqp_table_find_str(p, len, "x", buf, 1);
        (void)inflate_codec_from_headers(p, len);
    }

    struct amqp_content_header hdr;
    (void)amqp_content_header_parse(data, size, &hdr);
    return 0;
}
