// SPDX-License-Identifier: BSD-2-Clause
/* Protocol buffers wire format, read field by field (see protobuf_reader.h). */
#include "user/lib/protobuf_reader.h"

#include <stddef.h>

#include "user/lib/protobuf_writer.h"

static bool get_varint(struct pb_reader *r, uint64_t *v)
{
	*v = 0;
	for (int shift = 0; shift < 64; shift += 7) {
		uint8_t c;

		if (r->p >= r->end)
			return false;
		c = *r->p++;
		*v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80))
			return true;
	}
	return false;
}

bool pb__next_field(struct pb_reader *r, unsigned *field, unsigned *wt, uint64_t *v,
		    struct pb_reader *sub)
{
	uint64_t tag;

	if (!get_varint(r, &tag))
		return false;
	*field = (unsigned)(tag >> 3);
	*wt = tag & 7;
	switch (*wt) {
	case PB_VARINT:
		return get_varint(r, v);
	case PB_I64:
	case PB_I32: {
		size_t k = *wt == PB_I64 ? 8 : 4;

		if ((size_t)(r->end - r->p) < k)
			return false;
		r->p += k;
		return true;
	}
	case PB_LEN:
		if (!get_varint(r, v) || *v > (uint64_t)(r->end - r->p))
			return false;
		sub->p = r->p;
		sub->end = r->p + *v;
		r->p += *v;
		return true;
	}
	return false;
}
