/* errkind.h -- the one list of error kinds a record can be counted under.
 *
 * The line rules (record.h) report the first five, delivery (sink.h) the
 * last three; the report and the logs name them all. Both enums below are
 * generated from these lists, so a new kind cannot be added to one and
 * forgotten in the other. */
#ifndef MEMC_LOAD_ERRKIND_H
#define MEMC_LOAD_ERRKIND_H

/* X(NAME, "log name"): kinds found in a line by the line rules. */
#define LINE_ERROR_KINDS(X)                                                            \
	X(FIELDS, "fields")     /* not exactly five tab-separated fields */            \
	X(DEV_TYPE, "dev_type") /* not idfa, gaid, adid or dvid */                     \
	X(DEV_ID, "dev_id")     /* empty dev_id */                                     \
	X(KEY, "key")           /* key over 250 bytes, or with whitespace or controls */ \
	X(TOO_LONG, "too_long") /* line over RECORD_MAX_LINE bytes */

/* Kinds found while delivering a record. */
#define DELIVERY_ERROR_KINDS(X)                                                   \
	X(REJECTED, "rejected")       /* a server answered but did not store it */ \
	X(TOO_LARGE, "too_large")     /* over the server's item size: never storable */ \
	X(UNDELIVERED, "undelivered") /* no answer after every attempt */

#define ERRKIND_ENUM(name, text) ERR_##name,
enum err_kind {
	LINE_ERROR_KINDS(ERRKIND_ENUM)
	DELIVERY_ERROR_KINDS(ERRKIND_ENUM)
	ERR_KINDS
};
#undef ERRKIND_ENUM

/* Short name of an error kind for logs and reports: "fields", ... */
const char *err_kind_name(enum err_kind kind);

#endif
