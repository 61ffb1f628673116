/* Unit tests for hotspot: HotSpot's compressed line tables and scope headers, well formed and hostile. */
#include "tap.h"
#include "hotspot.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/*
 * A table as javac's code leaves it: (bci 0, line 10), (bci 4, line 12),
 * (bci 9, line 11: a step back, escaped), (bci 300, line 40: escaped, a
 * bci delta past one digit), end.
 */
static size_t table(unsigned char *t, bool unsigned5)
{
	size_t n = 0;
	unsigned x = unsigned5 ? 1 : 0;

	/* zig-zag: 10 -> 20, -1 -> 1, 291 -> 582, 29 -> 58 */
	t[n++] = 0xFF; /* (0, 10): line delta 10 needs the escape */
	t[n++] = 0 + x;
	t[n++] = 20 + x;
	t[n++] = (4 << 3) | 2; /* (4, 12) */
	t[n++] = 0xFF; /* (9, 11) */
	t[n++] = 10 + x;
	t[n++] = 1 + x;
	t[n++] = 0xFF; /* (300, 40): 582 = digit 582 - L beyond one byte */
	if (unsigned5) {
		/* L = 191: first byte b0 >= 191 -> b0 + (b1 << 6); 582 = 198 + (6 << 6) */
		t[n++] = 198 + x;
		t[n++] = 6 + x;
	} else {
		/* L = 192: 582 = 198 + (6 << 6) as well, stored as is */
		t[n++] = 198;
		t[n++] = 6;
	}
	t[n++] = 58 + x;
	t[n++] = 0;
	return n;
}

int main(void)
{
	unsigned char t[32];

	for (int u = 0; u < 2; u++) {
		size_t n = table(t, u);

		is_int(hotspot_line_of(t, n, 0, u), 10, u ? "UNSIGNED5: bci 0" : "JDK 17: bci 0");
		is_int(hotspot_line_of(t, n, 3, u), 10, "bci between entries: the one before");
		is_int(hotspot_line_of(t, n, 4, u), 12, "bci 4: line 12");
		is_int(hotspot_line_of(t, n, 9, u), 11, "a line step backwards");
		is_int(hotspot_line_of(t, n, 299, u), 11, "bci 299: still line 11");
		is_int(hotspot_line_of(t, n, 300, u), 40, "a two-byte bci delta");
		is_int(hotspot_line_of(t, n, 5000, u), 40, "past the last entry: its line");
		is_int(hotspot_line_of(t, n - 1, 299, u), -1, "no end mark within the bytes: no line");
		is_int(hotspot_line_of(t, 6, 9, u), -1, "cut inside an escape: no line");
	}
	/* hostile: five continuation bytes, a bci that runs negative */
	{
		unsigned char h[] = { 0xFF, 0xFE, 0xFE, 0xFE, 0xFE, 0xFE, 0xFE, 2, 0 };
		unsigned char neg[] = { 0xFF, 3, 2, 0 }; /* bci -2 */

		ok(hotspot_line_of(h, sizeof(h), 1, false) >= -1, "endless digits stop at five");
		is_int(hotspot_line_of(neg, sizeof(neg), 0, false), -1, "a negative bci: no line");
	}
	is_int(hotspot_line_of((const unsigned char *)"", 1, 0, false), -1, "an empty table");

	/*
	 * A scope's header: sender offset 1234 (two digits, 1234 = 210 + 16 * 64:
	 * a first digit of 192 or more goes on in JDK 17's encoding, of 191 or
	 * more in UNSIGNED5, which stores each digit plus one), metadata index 3,
	 * bci + 1 = 18.
	 */
	{
		unsigned char jdk17[] = { 210, 16, 3, 18, 0xAA };
		unsigned char u5[] = { 210 + 1, 16 + 1, 3 + 1, 18 + 1 };
		unsigned char zero[] = { 1, 1, 1 }; /* UNSIGNED5 never stores a 0 byte */
		uint32_t h[3] = { 0 };

		ok(hotspot_scope_header(jdk17, sizeof(jdk17), false, h) == 0 && h[0] == 1234 &&
			   h[1] == 3 && h[2] == 18,
		   "JDK 17: sender 1234, method 3, bci 17");
		ok(hotspot_scope_header(u5, sizeof(u5), true, h) == 0 && h[0] == 1234 && h[1] == 3 &&
			   h[2] == 18,
		   "UNSIGNED5: the same header");
		ok(hotspot_scope_header(zero, sizeof(zero), true, h) == 0 && !h[0] && !h[1] && !h[2],
		   "UNSIGNED5 zeros: the outermost scope's sender");
		is_int(hotspot_scope_header(jdk17, 3, false, h), -EINVAL, "cut before the bci");
		is_int(hotspot_scope_header(jdk17, 1, false, h), -EINVAL, "cut inside a number");
		u5[2] = 0;
		is_int(hotspot_scope_header(u5, sizeof(u5), true, h), -EINVAL,
		       "a 0 byte is no UNSIGNED5 digit");
	}
	return done_testing();
}
