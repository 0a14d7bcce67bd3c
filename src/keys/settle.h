/* settle.h -- the rule that makes a parallel run leave what the serial
 * original leaves: for every key, the last line of the newest file that
 * has it. No I/O: the supervisor tells it when each file's load and repair
 * start and end, and asks which file is to repair next, from which older
 * activities' keys, and which files are settled (may be renamed).
 *
 * Files are numbered in name order, 0 the oldest. An activity is a load
 * (every record of the file) or a repair (the file read again, and only
 * the records whose key is in a repair set re-sent). Its writes happen
 * between its start and its end. A write of an older file's activity A can
 * land after a write of file F to the same key only if A ends after F's
 * activity starts: those are the activities F "overlapped".
 *
 * F is settled once its load ended well, every older file is settled, and,
 * when it overlapped older activities, it repaired: re-sent, after all of
 * them ended, its records whose key any of them wrote. The repair set is
 * the keys F stored that those activities stored (a repair's keys are its
 * own repair set). Repairs therefore run one at a time, in file order,
 * each once every older file is settled; loads of newer files go on beside
 * them, and treat a repair they overlapped as an older activity too.
 *
 * A server that restarted lost what its old process held: the file whose
 * records went there re-sends every one of them to it (settle_lost). A
 * file not settled yet does so in its repair; a settled one in a "mend",
 * a repair of a settled file, run oldest first and before any newer file
 * settles. Every newer file that a mend or such a repair overlapped
 * re-sends its own records to that server too, so that the newest line of
 * each key still lands there last.
 *
 * A file whose load or repair fails never settles, and neither does any
 * newer file: they load again next run, in order, as today. A mend that
 * fails leaves its (renamed) file's records on the server lost. */
#ifndef MEMC_LOAD_SETTLE_H
#define MEMC_LOAD_SETTLE_H

#include <stddef.h>

#include "report.h"

enum settle_kind { SETTLE_LOAD, SETTLE_REPAIR };

/* An activity whose keys a repair set is taken from. */
struct settle_source {
	size_t file;
	enum settle_kind kind;
};

struct settle;

/* The rule for a run of NFILES files. NULL when out of memory. */
struct settle *settle_new(size_t nfiles);
void settle_free(struct settle *s);

/* FILE's activity of KIND started, or ended (OK: every record it was to
 * store was acknowledged). A repair only after settle_next_repair named
 * the file; a load at most once per file. */
void settle_started(struct settle *s, size_t file, enum settle_kind kind);
void settle_ended(struct settle *s, size_t file, enum settle_kind kind, int ok);

/* The file that is to repair (or mend) now, or -1 when none is (yet). Its
 * repair set is its own keys that the activities in SRC (room for
 * settle_max_sources) stored; *NSRC says how many (0 for a mend, whose
 * keys stay as they were). Besides those, it re-sends every record it has
 * for the servers in *RESEND. One at a time; the repair is started at once
 * or not at all (settle_ended with ok 0 without a start fails it). */
long settle_next_repair(struct settle *s, struct settle_source *src, size_t *nsrc,
			struct server_set *resend);

/* FILE's load stored its records but could not write its keys (the
 * digest's disk is full): every newer file that overlapped it, and the
 * file's own repair, re-send all their records instead of the shared
 * ones. Before its settle_ended. */
void settle_keys_unknown(struct settle *s, size_t file);

/* FILE's records on SERVER are gone: the server restarted during or after
 * its load or repair. Ignored for a file that failed or was set aside. */
void settle_lost(struct settle *s, size_t file, int server);

/* Whether settled FILE still has records to re-send to a server that
 * lost them (the run stopped, or its mend failed), into *LOST. */
int settle_unmended(const struct settle *s, size_t file, struct server_set *lost);

/* Most sources a repair can have: two per older file. */
size_t settle_max_sources(const struct settle *s);

/* FILE's load ended well but the file was set aside (its bytes are bad):
 * its writes count as an older activity for newer files, but it repairs
 * nothing itself and blocks nothing. Instead of settle_ended. */
void settle_set_aside(struct settle *s, size_t file);

/* Whether the keys FILE's activities stored (its digests) may still be
 * asked for: by its own repair, or as a source of a newer file's. Once
 * not, they never are again. */
int settle_keys_needed(const struct settle *s, size_t file);

/* Whether FILE is settled: its records (or newer ones for the same keys)
 * are what the serial original would have left. */
int settle_done(const struct settle *s, size_t file);

/* Whether FILE needs no more of the supervisor: settled, or never to be
 * (it or an older file failed). */
int settle_final(const struct settle *s, size_t file);

#endif
