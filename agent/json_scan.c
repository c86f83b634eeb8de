#include "json_scan.h"

static bool hex4(const unsigned char *s)
{
	for (int k = 0; k < 4; k++) {
		unsigned char c = s[k];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
			return false;
	}
	return true;
}

size_t ax_jscan_skip_string(const unsigned char *s, size_t i, size_t len)
{
	for (;;) {
		i = ax_jscan_string_stop(s, i, len);
		if (i >= len || s[i] < 0x20)
			return AX_JSCAN_FAIL; /* unterminated, or a control character */
		if (s[i] == '"')
			return i + 1;
		if (len - i < 2)
			return AX_JSCAN_FAIL;
		switch (s[i + 1]) {
		case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
			i += 2;
			break;
		case 'u':
			if (len - i < 6 || !hex4(s + i + 2))
				return AX_JSCAN_FAIL;
			i += 6;
			break;
		default:
			return AX_JSCAN_FAIL;
		}
	}
}

static size_t skip_container(const unsigned char *s, size_t i, size_t len, unsigned depth)
{
	if (depth >= AX_JSCAN_MAX_DEPTH)
		return AX_JSCAN_FAIL;
	bool object = s[i] == '{';
	unsigned char close = object ? '}' : ']';
	if ((i = ax_jscan_blanks(s, i + 1, len)) >= len)
		return AX_JSCAN_FAIL;
	if (s[i] == close)
		return i + 1;
	for (;;) {
		if (object) {
			if (i >= len || s[i] != '"' || (i = ax_jscan_skip_string(s, i + 1, len)) == AX_JSCAN_FAIL)
				return AX_JSCAN_FAIL;
			if ((i = ax_jscan_blanks(s, i, len)) >= len || s[i] != ':')
				return AX_JSCAN_FAIL;
			i = ax_jscan_blanks(s, i + 1, len);
		}
		if ((i = ax_jscan_skip_value(s, i, len, depth + 1)) == AX_JSCAN_FAIL)
			return AX_JSCAN_FAIL;
		if ((i = ax_jscan_blanks(s, i, len)) >= len)
			return AX_JSCAN_FAIL;
		if (s[i] == close)
			return i + 1;
		if (s[i] != ',')
			return AX_JSCAN_FAIL;
		i = ax_jscan_blanks(s, i + 1, len);
	}
}

size_t ax_jscan_skip_value(const unsigned char *s, size_t i, size_t len, unsigned depth)
{
	if (i >= len)
		return AX_JSCAN_FAIL;
	switch (s[i]) {
	case '{':
	case '[':
		return skip_container(s, i, len, depth);
	case '"':
		return ax_jscan_skip_string(s, i + 1, len);
	case 't':
		return ax_jscan_word(s, i, len, "true", 4) ? i + 4 : AX_JSCAN_FAIL;
	case 'f':
		return ax_jscan_word(s, i, len, "false", 5) ? i + 5 : AX_JSCAN_FAIL;
	case 'n':
		return ax_jscan_word(s, i, len, "null", 4) ? i + 4 : AX_JSCAN_FAIL;
	default:
		return ax_jscan_number(s, i, len);
	}
}
