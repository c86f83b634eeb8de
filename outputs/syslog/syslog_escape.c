/* Escaping of field values for syslog headers, RFC 5424 structured data,
 * CEF and LEEF: the table is in syslog_format.h. */
#include <string.h>

#include "outputs/syslog/syslog_format.h"

#define REPLACEMENT_CHARACTER "\xEF\xBF\xBD"

/* Characters each context escapes with a backslash. */
static const char *const backslashed[] = {
	[AX_ESC_SD_VALUE] = "\"\\]",
	[AX_ESC_CEF_HEADER] = "|\\",
	[AX_ESC_CEF_VALUE] = "=\\",
	[AX_ESC_LEEF_HEADER] = "|\\",
	[AX_ESC_LEEF_VALUE] = "",
};

/* Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF), 0 when there is none. */
static size_t utf8_sequence(const unsigned char *s, size_t left)
{
	if (s[0] < 0x80)
		return 1;
	size_t n = s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC2 ? 2 : 0;
	if (n == 0 || s[0] > 0xF4 || n > left)
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	if ((s[0] == 0xE0 && s[1] < 0xA0) || (s[0] == 0xED && s[1] >= 0xA0) ||
	    (s[0] == 0xF0 && s[1] < 0x90) || (s[0] == 0xF4 && s[1] >= 0x90))
		return 0;
	return n;
}

static ax_err add_ascii(struct ax_buf *out, unsigned char c, enum ax_syslog_escape how)
{
	if ((c == '\n' || c == '\r') && how == AX_ESC_CEF_VALUE)
		return ax_buf_adds(out, c == '\n' ? "\\n" : "\\r");
	if (c < 0x20 || c == 0x7F)
		return ax_buf_addc(out, ' ');
	if (strchr(backslashed[how], c)) {
		ax_err err = ax_buf_addc(out, '\\');
		if (err)
			return err;
	}
	return ax_buf_addc(out, (char)c);
}

/* Printable ASCII that the context takes as it is (backslashed[] aside). */
static bool plain(unsigned char c, enum ax_syslog_escape how)
{
	if (c < 0x20 || c >= 0x7F)
		return false;
	switch (how) {
	case AX_ESC_SD_VALUE:
		return c != '"' && c != '\\' && c != ']';
	case AX_ESC_CEF_HEADER:
	case AX_ESC_LEEF_HEADER:
		return c != '|' && c != '\\';
	case AX_ESC_CEF_VALUE:
		return c != '=' && c != '\\';
	default:
		return true;
	}
}

ax_err ax_syslog_escape(struct ax_buf *out, const char *text, enum ax_syslog_escape how)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t len = strlen(text);
	ax_err err = AX_OK;
	for (size_t i = 0; i < len && !err;) {
		size_t run = i; /* most values are plain: copied at once */
		while (run < len && plain(s[run], how))
			run++;
		if (run > i) {
			err = ax_buf_add(out, s + i, run - i);
			i = run;
			continue;
		}
		size_t n = utf8_sequence(s + i, len - i);
		if (n == 0)
			err = ax_buf_adds(out, REPLACEMENT_CHARACTER);
		else if (n == 1)
			err = add_ascii(out, s[i], how);
		else if (n == 2 && s[i] == 0xC2 && s[i + 1] < 0xA0) /* C1 control */
			err = ax_buf_addc(out, ' ');
		else
			err = ax_buf_add(out, s + i, n);
		i += n ? n : 1;
	}
	return err;
}

ax_err ax_syslog_header_field(struct ax_buf *out, const char *text, size_t max)
{
	size_t len = strnlen(text, max);
	if (len == 0)
		return ax_buf_addc(out, '-');
	size_t start = out->len;
	ax_err err = ax_buf_add(out, text, len);
	for (size_t i = start; !err && i < out->len; i++)
		if (out->data[i] < 33 || out->data[i] > 126)
			out->data[i] = '_';
	return err;
}

size_t ax_syslog_utf8_cut(const char *text, size_t len, size_t max)
{
	if (len <= max)
		return len;
	size_t cut = max;
	while (cut > 0 && ((unsigned char)text[cut] & 0xC0) == 0x80)
		cut--;
	return cut;
}
