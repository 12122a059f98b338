/*
 * metrics_http.h: the /metrics endpoint (libmicrohttpd, one thread of its own).
 *
 * The capture thread publishes finished expositions; the HTTP thread only
 * takes a reference to the newest one and sends it. The two share one mutex,
 * held for a pointer swap or a reference count, never while rendering or
 * sending, so a slow or stuck scraper cannot stall the capture.
 */
#ifndef OSLOTRACE_UI_METRICS_HTTP_H
#define OSLOTRACE_UI_METRICS_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct metrics_http;

/* Listens on "HOST:PORT", "[V6ADDR]:PORT" or ":PORT" (every IPv4 address);
 * port 0 picks a free one (see metrics_http_address). NULL with a one-line
 * message in err when it cannot. */
struct metrics_http *metrics_http_start(const char *spec, char *err, size_t errlen);
/* The address actually bound, as "HOST:PORT" ("[::1]:9464"). */
const char *metrics_http_address(const struct metrics_http *h);
/* Hands over the newest exposition in both formats (malloc'd, NUL-terminated;
 * owned by h from now on, freed when the last scrape of it is sent). */
void metrics_http_publish(struct metrics_http *h, char *text, size_t text_len, char *om,
                          size_t om_len);
/* Scrapes answered with an exposition (any thread). */
uint64_t metrics_http_scrapes(const struct metrics_http *h);
void metrics_http_stop(struct metrics_http *h);

#endif
