/* parse: numbers, sizes and durations from the command line, and sizes back to text. */
#ifndef OFFHEAP_PARSE_H
#define OFFHEAP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Each returns 0, or -EINVAL for text that is not wholly a value in range. */
int parse_u64(const char *s, uint64_t *out);
int parse_int(const char *s, int min, int max, int *out);
/* "512k", "4M", "1g", "1024" (bytes; k/m/g/t are powers of 1024, "KiB"/"KB" accepted). */
int parse_size(const char *s, uint64_t *out);
/* "3s", "500ms", "2m", "1h", "1.5" (seconds) → milliseconds. */
int parse_duration_ms(const char *s, uint64_t *out_ms);

/*
 * Scanners for hand-written parsers of hostile text: read the digits at *p
 * (not past end; no sign, no spaces, at most 19 decimal / 16 hex digits so
 * nothing overflows), advance *p past them and return true; false when there
 * is no digit or too many.
 */
bool scan_dec(const char **p, const char *end, uint64_t *out);
bool scan_hex(const char **p, const char *end, uint64_t *out);

/* "12.3 MiB": a human size into buf, 1024-based, one decimal under 100. */
const char *format_size(char *buf, size_t n, uint64_t bytes);

/*
 * A double as an integer, saturated: rates and fits computed from hostile
 * or extreme input can exceed the range, where a plain cast is undefined.
 * NaN is 0.
 */
int64_t sat_i64(double v);
uint64_t sat_u64(double v);
/*
 * A figure read from a file or from another process (bytes, counts), held
 * within +-2^52 (4 PiB, beyond any machine's memory): the rules subtract
 * and sum such figures in int64, which 2048 of them cannot overflow.
 * ufigure_clamp is for an unsigned field: a negative figure is 0.
 */
#define FIGURE_MAX (INT64_C(1) << 52)
int64_t figure_clamp(int64_t v);
uint64_t ufigure_clamp(int64_t v);
/* As format_size with a sign: "+12.3 MiB", "-4.0 KiB", "0 B". */
const char *format_dsize(char *buf, size_t n, int64_t bytes);

#endif
