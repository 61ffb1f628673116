#!/usr/bin/env python3
"""pngcheck: what a screenshot shows, for the HTML report test (stdlib only).

    pngcheck.py FILE.png [COLOUR...]

Prints "size W H", "colours N" (distinct RGB values), "nonwhite F" (share of
pixels that are not white), then per COLOUR (#rrggbb or hsl(h,s%,l%)) a line
"COLOUR pixels N left L right R width W": its pixels, and how many of them fall
in the left and the right half of the columns where it fills at least 20 pixels
(legend swatches are smaller), so a growing area has right > left, and the
width of those columns from the first to the last (how wide a chart is drawn).
Decodes 8-bit RGB/RGBA non-interlaced PNGs, which is what Chromium writes.
"""
import colorsys
import re
import struct
import sys
import zlib


def decode(path):
    data = open(path, 'rb').read()
    if data[:8] != b'\x89PNG\r\n\x1a\n':
        sys.exit('%s: not a PNG' % path)
    pos, idat, hdr = 8, [], None
    while pos + 8 <= len(data):
        n, kind = struct.unpack('>I4s', data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b'IHDR':
            hdr = struct.unpack('>IIBBBBB', body)
        elif kind == b'IDAT':
            idat.append(body)
        pos += 12 + n
    if not hdr:
        sys.exit('%s: no IHDR' % path)
    w, h, depth, ctype, _, _, interlace = hdr
    if depth != 8 or ctype not in (2, 6) or interlace:
        sys.exit('%s: unsupported PNG %r' % (path, hdr))
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(b''.join(idat))
    stride = w * bpp
    prev = bytearray(stride)
    rows = []
    for y in range(h):
        base = y * (stride + 1)
        f = raw[base]
        line = bytearray(raw[base + 1:base + 1 + stride])
        if f == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif f == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, prev))
        elif f == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 255
        elif f == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b = prev[i]
                c = prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + pred) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, bpp, rows


def parse_colour(s):
    m = re.fullmatch(r'#([0-9a-fA-F]{6})', s)
    if m:
        return bytes.fromhex(m.group(1))
    m = re.fullmatch(r'hsl\((\d+),(\d+)%,(\d+)%\)', s)
    if m:
        h, sat, lig = (int(x) for x in m.groups())
        r, g, b = colorsys.hls_to_rgb(h / 360, lig / 100, sat / 100)
        return bytes(int(round(v * 255)) for v in (r, g, b))
    sys.exit('bad colour %s' % s)


def near(a, b):
    return all(abs(x - y) <= 2 for x, y in zip(a, b))


def main():
    w, h, bpp, rows = decode(sys.argv[1])
    want = [(s, parse_colour(s)) for s in sys.argv[2:]]
    colours, nonwhite = set(), 0
    cols = [[0] * w for _ in want]
    for r in rows:
        for x in range(w):
            px = r[x * bpp:x * bpp + 3]
            colours.add(px)
            if px != b'\xff\xff\xff':
                nonwhite += 1
                for k, (_, c) in enumerate(want):
                    if near(px, c):
                        cols[k][x] += 1
    print('size', w, h)
    print('colours', len(colours))
    print('nonwhite %.3f' % (nonwhite / (w * h)))
    for k, (name, _) in enumerate(want):
        filled = [x for x in range(w) if cols[k][x] >= 20]
        left = right = 0
        if filled:
            mid = (filled[0] + filled[-1]) / 2
            left = sum(cols[k][x] for x in filled if x < mid)
            right = sum(cols[k][x] for x in filled if x > mid)
        width = filled[-1] - filled[0] + 1 if filled else 0
        print(name, 'pixels', sum(cols[k]), 'left', left, 'right', right, 'width', width)


main()
