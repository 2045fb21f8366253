/* --fail-if expressions and size texts: refused with a message, or
 * accepted; never a crash. */
#include <string.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	snap_gate *gate;
	if (snap_gate_new(&gate, NULL) == 0) {
		snap_error err = { 0 };
		size_t before = snap_gate_size(gate);
		int rc = snap_gate_add(gate, text, &err);
		FUZZ_ASSERT(rc == 0 ? snap_gate_size(gate) == before + 1
				    : err.message[0] != '\0');
		snap_gate_free(gate);
	}
	int64_t bytes;
	(void)snap_parse_size(text, size && data[0] & 1, &bytes, NULL);
	free(text);
	return 0;
}
