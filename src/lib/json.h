/* json: a small streaming JSON writer with indentation. */
#ifndef OFFHEAP_JSON_H
#define OFFHEAP_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 32

/*
 * Writes to a FILE as values are added. Inside an object every value takes a
 * key; inside an array (or at the top level) the key must be NULL. Nesting
 * deeper than JSON_MAX_DEPTH is a bug. Strings are escaped as RFC 8259 wants;
 * bytes that are not valid UTF-8 are written as U+FFFD so the output always
 * parses. NaN and infinities are written as null.
 */
struct json {
	FILE *out;			/* where the text goes */
	int depth;			/* open objects/arrays */
	bool first[JSON_MAX_DEPTH];	/* no member written yet at this depth */
};

void json_init(struct json *j, FILE *out);
void json_obj_begin(struct json *j, const char *key);
void json_obj_end(struct json *j);
void json_arr_begin(struct json *j, const char *key);
void json_arr_end(struct json *j);
void json_str(struct json *j, const char *key, const char *val);	/* NULL → null */
void json_strn(struct json *j, const char *key, const char *val, size_t len);
void json_u64(struct json *j, const char *key, uint64_t val);
void json_i64(struct json *j, const char *key, int64_t val);
void json_double(struct json *j, const char *key, double val);
void json_bool(struct json *j, const char *key, bool val);
void json_null(struct json *j, const char *key);
/* Ends the document with a newline; all containers must be closed. */
void json_finish(struct json *j);

#endif
