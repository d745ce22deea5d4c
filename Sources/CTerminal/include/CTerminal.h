// Shim over ncursesw. SwiftPM drops -D_XOPEN_SOURCE=600 from pkg-config, so the wide-character
// API must be switched on here; macros and C globals Swift cannot import get inline accessors.
#ifndef CTERMINAL_H
#define CTERMINAL_H
#define NCURSES_WIDECHAR 1
#include <ncursesw/curses.h>
#include <stdint.h>

// Starts curses on the controlling terminal (stdin/stdout): locale, signal flags, raw keys, mouse
// with drag reporting, colours. Returns 0, or -1 when stdin/stdout is not a terminal or terminfo
// has no entry for TERM (newterm fails instead of exiting like initscr would).
int ct_start(void);
// Undoes the mouse modes we asked for and ends curses. Safe to call twice.
void ct_stop(void);
// Set by SIGINT/SIGTERM/SIGHUP; the main loop polls it (a handler must not touch curses).
int ct_signal_received(void);

int ct_lines(void);
int ct_cols(void);
int ct_colors(void);
int ct_color_pairs(void);
// terminfo's RGB capability (ncurses' direct-colour flag), as a boolean or a number.
int ct_has_rgb(void);
// Colour pair 0 becomes the terminal's own colours instead of white on black (NO_COLOR chrome).
void ct_use_default_colors(void);
// Writes bytes straight to the terminal after curses' output (the canvas in colours terminfo lacks).
void ct_write_raw(const char *bytes);
// Where curses believes the terminal's cursor is (its next output moves relative to this).
void ct_cursor(int *row, int *col);
// init_extended_pair, so direct-colour values and pair numbers above 32767 work.
int ct_init_pair(int pair, int fg, int bg);

enum { CT_BOLD = 1, CT_REVERSE = 2, CT_UNDERLINE = 4 };
// Writes one character cell with attributes (CT_*) and colour pair.
int ct_put(int row, int col, uint32_t ch, int attributes, int pair);
void ct_refresh(void);
// Reads what the terminal sent within timeout_ms straight from stdin, past curses (the answers to
// a query must not reach the key input): bytes read, 0 on a timeout or a signal, -1 on an error.
int ct_read_raw(unsigned char *buffer, int capacity, int timeout_ms);
// Gives a byte back to curses' input queue (ungetch: the last given back is read first).
int ct_unget(int byte);
// The next refresh repaints the whole screen (after pair tables were rebuilt).
void ct_invalidate(void);

enum { CT_NONE = 0, CT_CHAR = 1, CT_KEY = 2, CT_MOUSE = 3, CT_RESIZE = 4 };
enum { CT_KEY_UP = 1, CT_KEY_DOWN, CT_KEY_LEFT, CT_KEY_RIGHT, CT_KEY_OTHER };
enum {
    CT_MOUSE_PRESS_LEFT = 1, CT_MOUSE_PRESS_MIDDLE, CT_MOUSE_PRESS_RIGHT,
    CT_MOUSE_RELEASE, CT_MOUSE_MOTION, CT_MOUSE_WHEEL_UP, CT_MOUSE_WHEEL_DOWN, CT_MOUSE_CLICK_LEFT,
    CT_MOUSE_OTHER
};
typedef struct {
    int kind;    // CT_*
    int value;   // the character, CT_KEY_* or CT_MOUSE_*
    int code;    // raw curses key code for CT_KEY_OTHER
    int x, y;    // mouse cell
} ct_event;

// Waits up to timeout_ms for input: 0 with out->kind set (CT_NONE for input curses consumed but
// reports nothing for, e.g. an unknown mouse report), -1 when nothing arrived (timeout, signal, end
// of input).
int ct_read(int timeout_ms, ct_event *out);

// A screen that decodes the bytes read from input_fd (a pipe, a file) as a terminal of type `term`
// would send them, with review's input modes, and draws nowhere: the fuzz harness of the input
// decoding (fuzz/harness/input.swift) reads its events with ct_read. Not while ct_start is active.
// Takes input_fd: closed by ct_stop_decoder, or before returning -1 when the decoder cannot start.
int ct_start_decoder(int input_fd, const char *term);
// Ends the decoder screen and closes input_fd.
void ct_stop_decoder(void);

#endif
