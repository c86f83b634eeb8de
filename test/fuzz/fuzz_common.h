/* fuzz_common.h - what the fuzz targets share: a check that aborts (so both
 * libFuzzer and the replay program report it), the input as a file for the
 * loaders that read paths, and every output formatter run over one record
 * with the properties each format promises checked. */
#ifndef AX_TEST_FUZZ_FUZZ_COMMON_H
#define AX_TEST_FUZZ_FUZZ_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "outputs/output.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts with the failed property when cond is false. */
#define FUZZ_CHECK(cond) fuzz_check((cond), #cond, __FILE__, __LINE__)
void fuzz_check(bool ok, const char *what, const char *file, int line);

/* data as an anonymous file: fills path ("/proc/self/fd/N"); returns the
 * descriptor to close, -1 on failure. */
int fuzz_memfile(const uint8_t *data, size_t size, char path[64]);

/* Every syslog format (RFC 5424, RFC 3164) with every payload (JSON, CEF,
 * LEEF) and both stream framings, then the HEC event envelope. json_valid:
 * r->json is valid JSON, so the HEC event must be too. */
void fuzz_format_all(const struct ax_record *r, bool json_valid);

#endif
