#!/usr/bin/env python3
"""Renders a terminal capture with colours (`tmux capture-pane -e -p`) to a PNG, for the docs.

    python=$(bash tools/torch-env.sh)     # any Python with Pillow
    tmux capture-pane -e -p -t review > screen.ans
    "$python" tools/screenshot.py screen.ans docs/images/review.png [--columns 120 --rows 40]
    "$python" tools/screenshot.py --self-test

Understands the SGR sequences tmux writes: reset, bold, dim, reverse, the 8/16 ANSI colours,
256-colour (38;5;n / 48;5;n) and truecolour (38;2;r;g;b / 48;2;r;g;b). Half blocks (▀ ▄) and the
full block are painted as exact rectangles, not font glyphs, so the canvas's pixels come out as
the terminal showed them; other characters are drawn with DejaVu Sans Mono.
"""
import re
import sys

from PIL import Image, ImageDraw, ImageFont

CELL_W, CELL_H = 8, 16          # two display pixels of the canvas per cell: square at 8×8
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"
BOLD_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf"
DEFAULT_FG, DEFAULT_BG = (220, 220, 220), (0, 0, 0)   # review's Theme.text on black

# xterm's 16 colours.
ANSI = [(0, 0, 0), (205, 0, 0), (0, 205, 0), (205, 205, 0), (0, 0, 238), (205, 0, 205), (0, 205, 205), (229, 229, 229),
        (127, 127, 127), (255, 0, 0), (0, 255, 0), (255, 255, 0), (92, 92, 255), (255, 0, 255), (0, 255, 255), (255, 255, 255)]


def palette256(n):
    """xterm's 256-colour palette: 16 ANSI, a 6×6×6 cube, 24 greys."""
    if n < 16:
        return ANSI[n]
    if n < 232:
        n -= 16
        level = [0, 95, 135, 175, 215, 255]
        return (level[n // 36], level[(n // 6) % 6], level[n % 6])
    g = 8 + 10 * (n - 232)
    return (g, g, g)


class Style:
    def __init__(self):
        self.reset()

    def reset(self):
        self.fg = None
        self.bg = None
        self.bold = self.dim = self.reverse = False

    def apply(self, params):
        """One SGR sequence's parameters (colons, as some terminals write them, count as semicolons)."""
        p = [int(x) if x else 0 for x in params.replace(":", ";").split(";")] if params else [0]
        i = 0
        while i < len(p):
            code = p[i]
            if code == 0:
                self.reset()
            elif code == 1:
                self.bold = True
            elif code == 2:
                self.dim = True
            elif code == 22:
                self.bold = self.dim = False
            elif code == 7:
                self.reverse = True
            elif code == 27:
                self.reverse = False
            elif 30 <= code <= 37:
                self.fg = ANSI[code - 30]
            elif 90 <= code <= 97:
                self.fg = ANSI[code - 90 + 8]
            elif 40 <= code <= 47:
                self.bg = ANSI[code - 40]
            elif 100 <= code <= 107:
                self.bg = ANSI[code - 100 + 8]
            elif code == 39:
                self.fg = None
            elif code == 49:
                self.bg = None
            elif code in (38, 48) and i + 1 < len(p):
                if p[i + 1] == 5 and i + 2 < len(p):
                    colour, i = palette256(p[i + 2]), i + 2
                elif p[i + 1] == 2 and i + 4 < len(p):
                    colour, i = tuple(p[i + 2:i + 5]), i + 4
                else:
                    colour = None
                if code == 38:
                    self.fg = colour
                else:
                    self.bg = colour
            i += 1

    def colours(self):
        fg, bg = self.fg or DEFAULT_FG, self.bg or DEFAULT_BG
        if self.reverse:
            fg, bg = bg, fg
        if self.dim:
            fg = tuple(c * 2 // 3 for c in fg)
        return fg, bg


SEQUENCE = re.compile(r"\x1b\[([0-9;:?]*)([A-Za-z])|\x1b[()][0-9A-Za-z]|\x1b.")


def cells(text):
    """The capture as rows of (character, fg, bg, bold)."""
    style = Style()
    rows = []
    for line in text.split("\n"):
        row, pos = [], 0
        for m in SEQUENCE.finditer(line):
            for ch in line[pos:m.start()]:
                row.append((ch, *style.colours(), style.bold))
            if m.group(2) == "m":
                style.apply(m.group(1))
            pos = m.end()
        for ch in line[pos:]:
            row.append((ch, *style.colours(), style.bold))
        rows.append(row)
    while rows and not rows[-1]:
        rows.pop()
    return rows


def render(text, columns=None, rows=None):
    grid = cells(text)
    columns = columns or max((len(r) for r in grid), default=1)
    rows = rows or len(grid)
    image = Image.new("RGB", (columns * CELL_W, rows * CELL_H), DEFAULT_BG)
    draw = ImageDraw.Draw(image)
    font, bold = ImageFont.truetype(FONT, 13), ImageFont.truetype(BOLD_FONT, 13)
    for y, row in enumerate(grid[:rows]):
        for x, (ch, fg, bg, is_bold) in enumerate(row[:columns]):
            left, top = x * CELL_W, y * CELL_H
            box = (left, top, left + CELL_W - 1, top + CELL_H - 1)
            if ch == "▀":
                draw.rectangle(box, fill=bg)
                draw.rectangle((left, top, left + CELL_W - 1, top + CELL_H // 2 - 1), fill=fg)
            elif ch == "▄":
                draw.rectangle(box, fill=bg)
                draw.rectangle((left, top + CELL_H // 2, left + CELL_W - 1, top + CELL_H - 1), fill=fg)
            elif ch == "█":
                draw.rectangle(box, fill=fg)
            else:
                draw.rectangle(box, fill=bg)
                if ch != " ":
                    draw.text((left, top + 1), ch, fill=fg, font=bold if is_bold else font)
    return image


def self_test():
    # A truecolour-over-256 half block, a 16-colour reverse cell, a reset: the pixels are known by hand.
    img = render("\x1b[38;2;255;0;0;48;5;21m▀\x1b[0m\x1b[7;31m \x1b[0mA")
    assert img.size == (3 * CELL_W, CELL_H), img.size
    assert img.getpixel((1, 1)) == (255, 0, 0)             # upper half: 38;2;255;0;0
    assert img.getpixel((1, CELL_H - 2)) == (0, 0, 255)    # lower half: 256-colour 21 = cube (0, 0, 5)
    assert img.getpixel((CELL_W + 1, 1)) == (205, 0, 0)    # reverse: the red foreground is the background
    assert img.getpixel((2 * CELL_W, 0)) == DEFAULT_BG     # after the reset: default colours
    assert palette256(232) == (8, 8, 8) and palette256(255) == (238, 238, 238)
    print("screenshot.py: self-test passed")


def main(argv):
    if argv[1:] == ["--self-test"]:
        return self_test()
    args, columns, rows = [], None, None
    it = iter(argv[1:])
    for a in it:
        if a == "--columns":
            columns = int(next(it))
        elif a == "--rows":
            rows = int(next(it))
        else:
            args.append(a)
    if len(args) != 2:
        sys.exit("usage: screenshot.py CAPTURE.ans OUT.png [--columns N --rows N] | --self-test")
    with open(args[0], encoding="utf-8") as f:
        text = f.read()
    render(text, columns, rows).save(args[1], optimize=True)


if __name__ == "__main__":
    main(sys.argv)
