#include "CTerminal.h"
#include <errno.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <term.h>

static volatile sig_atomic_t signal_flag = 0;
static int started = 0;
static int sgr_mouse = 0;
static SCREEN *screen = NULL;
static struct sigaction previous_int, previous_term, previous_hup;

// Gives SIGINT/SIGTERM/SIGHUP back to whoever had them before ct_start.
static void restore_signals(void) {
    sigaction(SIGINT, &previous_int, NULL);
    sigaction(SIGTERM, &previous_term, NULL);
    sigaction(SIGHUP, &previous_hup, NULL);
}

static void on_signal(int sig) { signal_flag = sig; }

int ct_signal_received(void) { return signal_flag; }

// Escape sequences we send ourselves go straight to the terminal, after curses' own output.
static void raw_out(const char *s) {
    fflush(stdout);
    size_t n = strlen(s);
    while (n > 0) {
        ssize_t w = write(STDOUT_FILENO, s, n);
        if (w <= 0) break;
        s += w;
        n -= (size_t)w;
    }
}

// How review reads the keyboard and mouse, on the current screen; one copy for the terminal and
// for the decoder the fuzz harness drives.
static void set_input_modes(void) {
    raw();               // Ctrl-Z / Ctrl-C / Ctrl-Y reach us as keys (undo, quit, redo)
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    set_escdelay(25);
    mousemask(ALL_MOUSE_EVENTS | REPORT_MOUSE_POSITION, NULL);
    mouseinterval(0);    // else a press and its release collapse into one click
}

static void use_utf8_locale(void) {
    // Wide characters need a UTF-8 LC_CTYPE; fall back to C.UTF-8 when the environment's is not.
    setlocale(LC_ALL, "");
    if (MB_CUR_MAX == 1) setlocale(LC_CTYPE, "C.UTF-8");
}

int ct_start(void) {
    if (started) return 0;
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) return -1;
    use_utf8_locale();
    // Installed before curses starts, so curses leaves SIGINT/SIGTERM to us and the main loop can
    // restore the terminal on its normal path.
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &previous_int);
    sigaction(SIGTERM, &sa, &previous_term);
    sigaction(SIGHUP, &sa, &previous_hup);
    signal_flag = 0;
    screen = newterm(NULL, stdout, stdin);
    if (screen == NULL) { restore_signals(); return -1; }
    set_term(screen);
    started = 1;
    set_input_modes();
    curs_set(0);
    if (has_colors()) start_color();
    // Curses asks for clicks only: add button-motion reporting (drags), and SGR coordinates where
    // terminfo's kmous says the terminal reports them (so curses parses what arrives).
    const char *kmous = tigetstr("kmous");
    sgr_mouse = kmous != NULL && kmous != (char *)-1 && strcmp(kmous, "\033[<") == 0;
    raw_out(sgr_mouse ? "\033[?1002h\033[?1006h" : "\033[?1002h");
    return 0;
}

void ct_stop(void) {
    if (!started) return;
    started = 0;
    raw_out(sgr_mouse ? "\033[?1006l\033[?1002l\033[?1000l" : "\033[?1002l\033[?1000l");
    mousemask(0, NULL);
    curs_set(1);
    endwin();
    if (screen != NULL) { delscreen(screen); screen = NULL; }
    fflush(stdout);
    restore_signals();
}

int ct_lines(void) { int y, x; getmaxyx(stdscr, y, x); (void)x; return y; }
int ct_cols(void) { int y, x; getmaxyx(stdscr, y, x); (void)y; return x; }
int ct_colors(void) { return has_colors() ? COLORS : 0; }
int ct_color_pairs(void) { return has_colors() ? COLOR_PAIRS : 0; }
int ct_has_rgb(void) { return tigetflag("RGB") == 1 || tigetnum("RGB") > 0; }
void ct_use_default_colors(void) { if (has_colors()) use_default_colors(); }
void ct_write_raw(const char *bytes) { raw_out(bytes); }
void ct_cursor(int *row, int *col) { int y, x; getyx(curscr, y, x); *row = y; *col = x; }
int ct_init_pair(int pair, int fg, int bg) { return init_extended_pair(pair, fg, bg); }

int ct_put(int row, int col, uint32_t ch, int attributes, int pair) {
    wchar_t text[2] = {(wchar_t)ch, 0};
    attr_t attrs = A_NORMAL;
    if (attributes & CT_BOLD) attrs |= A_BOLD;
    if (attributes & CT_REVERSE) attrs |= A_REVERSE;
    if (attributes & CT_UNDERLINE) attrs |= A_UNDERLINE;
    cchar_t cell;
    // The pair goes through the opts pointer: the short argument cannot hold extended pairs.
    if (setcchar(&cell, text, attrs, 0, &pair) != OK) return -1;
    return mvwadd_wch(stdscr, row, col, &cell);
}

int ct_read_raw(unsigned char *buffer, int capacity, int timeout_ms) {
    struct pollfd fd = {STDIN_FILENO, POLLIN, 0};
    int ready = poll(&fd, 1, timeout_ms);
    // A signal (a resize, say) cuts the wait short: nothing read yet, the caller waits on.
    if (ready < 0) return errno == EINTR ? 0 : -1;
    if (ready == 0) return 0;
    if (!(fd.revents & POLLIN)) return -1;   // hung up or an error: nothing will come
    ssize_t n = read(STDIN_FILENO, buffer, (size_t)capacity);
    return n < 0 ? -1 : (int)n;
}

int ct_unget(int byte) { return ungetch(byte); }

void ct_refresh(void) { wnoutrefresh(stdscr); doupdate(); }
void ct_invalidate(void) { clearok(curscr, TRUE); }

int ct_read(int timeout_ms, ct_event *out) {
    memset(out, 0, sizeof *out);
    wtimeout(stdscr, timeout_ms);
    wint_t ch = 0;
    int r = wget_wch(stdscr, &ch);
    if (r == ERR) return -1;
    if (r == OK) { out->kind = CT_CHAR; out->value = (int)ch; return 0; }
    switch (ch) {
    case KEY_RESIZE: out->kind = CT_RESIZE; return 0;
    case KEY_UP: out->kind = CT_KEY; out->value = CT_KEY_UP; return 0;
    case KEY_DOWN: out->kind = CT_KEY; out->value = CT_KEY_DOWN; return 0;
    case KEY_LEFT: out->kind = CT_KEY; out->value = CT_KEY_LEFT; return 0;
    case KEY_RIGHT: out->kind = CT_KEY; out->value = CT_KEY_RIGHT; return 0;
    case KEY_MOUSE: {
        MEVENT ev;
        if (getmouse(&ev) != OK) return 0;
        out->kind = CT_MOUSE;
        out->x = ev.x;
        out->y = ev.y;
        mmask_t b = ev.bstate;
        if (b & BUTTON4_PRESSED) out->value = CT_MOUSE_WHEEL_UP;
        else if (b & BUTTON5_PRESSED) out->value = CT_MOUSE_WHEEL_DOWN;
        else if (b & BUTTON1_PRESSED) out->value = CT_MOUSE_PRESS_LEFT;
        else if (b & BUTTON2_PRESSED) out->value = CT_MOUSE_PRESS_MIDDLE;
        else if (b & BUTTON3_PRESSED) out->value = CT_MOUSE_PRESS_RIGHT;
        else if (b & (BUTTON1_RELEASED | BUTTON2_RELEASED | BUTTON3_RELEASED)) out->value = CT_MOUSE_RELEASE;
        else if (b & REPORT_MOUSE_POSITION) out->value = CT_MOUSE_MOTION;
        // Clicks can still arrive if a terminal ignores mouseinterval(0): a click is press+release.
        else if (b & BUTTON1_CLICKED) out->value = CT_MOUSE_CLICK_LEFT;
        else out->value = CT_MOUSE_OTHER;
        return 0;
    }
    default: out->kind = CT_KEY; out->value = CT_KEY_OTHER; out->code = (int)ch; return 0;
    }
}

static FILE *decoder_input = NULL, *decoder_output = NULL;

int ct_start_decoder(int input_fd, const char *term) {
    // input_fd is ours whatever happens: a caller that closed it again after a failed start could
    // close a descriptor opened meanwhile by someone else.
    if (started || screen != NULL) { close(input_fd); return -1; }
    use_utf8_locale();
    decoder_input = fdopen(input_fd, "r");
    if (decoder_input == NULL) close(input_fd);
    decoder_output = fopen("/dev/null", "w");
    if (decoder_input != NULL && decoder_output != NULL) screen = newterm(term, decoder_output, decoder_input);
    if (screen == NULL) { ct_stop_decoder(); return -1; }
    set_term(screen);
    set_input_modes();
    return 0;
}

void ct_stop_decoder(void) {
    if (screen != NULL) {
        endwin();
        delscreen(screen);
        screen = NULL;
    }
    if (decoder_input != NULL) fclose(decoder_input);
    if (decoder_output != NULL) fclose(decoder_output);
    decoder_input = decoder_output = NULL;
}
