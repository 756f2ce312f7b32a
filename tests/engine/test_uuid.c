/* Tests for engine/src/uuid.c: UUIDv7 layout and ordering. */
#include <string.h>

#include "support.h"

static void layout_is_version_7_variant_10(void **state)
{
    (void)state;
    qk_uuid_gen g = {0, 0};
    uint8_t rnd[10] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0};
    char s[QK_UUID_STRLEN + 1];
    qk_uuid_v7(&g, 0x0123456789abULL, rnd, s);
    assert_int_equal(strlen(s), 36);
    assert_memory_equal(s, "01234567-89ab-7", 15); /* 48-bit ms timestamp, then version */
    assert_true(qk_uuid_is_v7(s));
    assert_true(s[19] == 'b'); /* variant bits 10 with the rest of the byte set */
}

static void ids_sort_in_creation_order_within_a_millisecond(void **state)
{
    (void)state;
    qk_uuid_gen g = {0, 0};
    uint8_t rnd[10];
    char prev[QK_UUID_STRLEN + 1] = "", cur[QK_UUID_STRLEN + 1];
    for (int i = 0; i < 5000; i++) {
        for (int k = 0; k < 10; k++)
            rnd[k] = (uint8_t)(i * 31 + k * 17);
        qk_uuid_v7(&g, 1700000000000ULL, rnd, cur); /* same millisecond every time */
        assert_true(strcmp(prev, cur) < 0);
        memcpy(prev, cur, sizeof cur);
    }
}

static void clock_going_back_keeps_order(void **state)
{
    (void)state;
    qk_uuid_gen g = {0, 0};
    uint8_t rnd[10] = {0};
    char a[QK_UUID_STRLEN + 1], b[QK_UUID_STRLEN + 1];
    qk_uuid_v7(&g, 2000000, rnd, a);
    qk_uuid_v7(&g, 1000000, rnd, b);
    assert_true(strcmp(a, b) < 0);
}

static void validator_rejects_other_shapes(void **state)
{
    (void)state;
    assert_false(qk_uuid_is_v7("not-a-uuid"));
    assert_false(qk_uuid_is_v7("01234567-89ab-4def-8123-456789abcdef")); /* v4 */
    assert_false(qk_uuid_is_v7("01234567-89ab-7def-c123-456789abcdef")); /* wrong variant */
    assert_true(qk_uuid_is_v7("01234567-89ab-7def-8123-456789abcdef"));
    assert_false(qk_uuid_is_v7(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(layout_is_version_7_variant_10),
        cmocka_unit_test(ids_sort_in_creation_order_within_a_millisecond),
        cmocka_unit_test(clock_going_back_keeps_order),
        cmocka_unit_test(validator_rejects_other_shapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
