/* Whole numbers read from JSON without undefined behaviour: range-checked before any conversion. */
#ifndef MAC_UTIL_JSONNUM_H
#define MAC_UTIL_JSONNUM_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#define JSON_WHOLE_MAX 9007199254740992L /* 2^53: the largest range where every whole double is exact */

/* True when v is a JSON number with no fractional part within [lo, hi]; then *out holds it. Anything else (not a
 * number, a fraction, out of range, NaN) leaves *out untouched and returns false. lo and hi must lie within
 * +-2^53 so that every value between them is exact as a double. */
bool json_whole_number(const cJSON *v, long lo, long hi, long *out);

/* json_whole_number, or fallback when v is not such a number. */
long json_whole_number_or(const cJSON *v, long lo, long hi, long fallback);

#endif
