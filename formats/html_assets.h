/* The HTML report's page sources (formats/html/), embedded into the
 * binary at build time by html_assets.c. Private to formats/. Each asset
 * runs from its symbol to its _end symbol (no NUL counted). */
#ifndef MAPSNAP_HTML_ASSETS_H
#define MAPSNAP_HTML_ASSETS_H

extern const char fmt_html_report_html[], fmt_html_report_html_end[];
extern const char fmt_html_report_css[], fmt_html_report_css_end[];
extern const char fmt_html_report_js[], fmt_html_report_js_end[];

#endif
