/* mapsnap watch: the full-screen view, with ncurses. It draws the text
 * of fmt_watch_text line by line (cut at the screen's width and height)
 * and a status line; section titles are bold, objects born since the
 * baseline stand out. The terminal is restored by watch_screen_end(),
 * which every way out calls (and atexit, for the rest). */
#include <curses.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "watch.h"

static bool active;

int watch_screen_start(void)
{
	if (!initscr())
		return -1;
	active = true;
	atexit(watch_screen_end);
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	curs_set(0);
	return 0;
}

void watch_screen_end(void)
{
	if (!active)
		return;
	active = false;
	curs_set(1);
	endwin();
}

int watch_screen_key(void)
{
	int c = getch();
	if (c == ERR)
		return -1;
	return c == KEY_RESIZE ? 'R' : c;
}

int watch_screen_lines(void)
{
	return LINES;
}

/* Bytes of the first `cols` characters of a UTF-8 line (each one cell:
 * the text is escaped, sparkline blocks are narrow). */
static size_t fit(const char *s, size_t len, int cols)
{
	size_t at = 0;
	for (int c = 0; at < len && c < cols; c++) {
		at++;
		while (at < len && ((unsigned char)s[at] & 0xc0) == 0x80)
			at++;
	}
	return at;
}

static bool title(const char *line, size_t len)
{
	return len > 2 && line[0] >= 'A' && line[0] <= 'Z' && line[1] >= 'A' &&
	       line[1] <= 'Z';
}

void watch_screen_draw(const char *text, size_t len, const char *status)
{
	erase();
	int row = 0;
	for (const char *line = text; line < text + len && row < LINES - 1; row++) {
		const char *nl = memchr(line, '\n', (size_t)(text + len - line));
		size_t n = nl ? (size_t)(nl - line) : (size_t)(text + len - line);
		attr_t attr = row == 0 || title(line, n) ? A_BOLD
			      : line[0] == '+' ? A_BOLD : A_NORMAL;
		attrset(attr);
		mvaddnstr(row, 0, line, (int)fit(line, n, COLS - 1));
		line += n + 1;
	}
	attrset(A_REVERSE);
	mvaddnstr(LINES - 1, 0, status, (int)fit(status, strlen(status), COLS - 1));
	attrset(A_NORMAL);
	refresh();
}
