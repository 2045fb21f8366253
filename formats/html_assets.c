/* Embeds the HTML report's page sources (formats/html/) into the binary
 * with the assembler's .incbin, so they stay real files that editors and
 * linters see as HTML, CSS and JavaScript, and no generator tool is
 * needed. Paths are relative to the repository root, the build's working
 * directory; the GNUmakefile makes this object depend on every file in
 * formats/html/.
 * A NUL follows each asset (outside its _end) for tools that want one. */
#include "html_assets.h"

#define EMBED(symbol, path)                                   \
	__asm__(".pushsection .rodata\n"                      \
		".global " symbol "\n"                         \
		".type " symbol ", @object\n"                  \
		symbol ":\n"                                   \
		".incbin \"" path "\"\n"                       \
		".global " symbol "_end\n"                     \
		".type " symbol "_end, @object\n"              \
		symbol "_end:\n"                               \
		".byte 0\n"                                    \
		".size " symbol ", " symbol "_end - " symbol "\n" \
		".popsection\n")

EMBED("fmt_html_report_html", "formats/html/report.html");
EMBED("fmt_html_report_css", "formats/html/report.css");
EMBED("fmt_html_report_js", "formats/html/report.js");
