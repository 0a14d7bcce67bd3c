/* errkind.c -- the names of the error kinds errkind.h lists. */
#include "errkind.h"

const char *err_kind_name(enum err_kind kind)
{
#define ERRKIND_NAME(name, text) text,
	static const char *const names[ERR_KINDS] = {
		LINE_ERROR_KINDS(ERRKIND_NAME) DELIVERY_ERROR_KINDS(ERRKIND_NAME)
	};
#undef ERRKIND_NAME
	return (unsigned)kind < ERR_KINDS ? names[kind] : "?";
}
