/* summary.h -- what the log says of each file as it ends, and of the run
 * as a whole: a formatter of the run report (runreport.h). */
#ifndef MEMC_LOAD_SUMMARY_H
#define MEMC_LOAD_SUMMARY_H

#include "report.h"
#include "runreport.h"

/* Log the "Finished PATH: lines=... processed=..." line of one file. */
void summary_log_file(const char *path, const struct file_stats *st);

/* Log the error rate of PATH, read to its end with counts ST, against
 * LIMIT, as the original did; COMPLETE when every record was stored.
 * Returns 1 when the rate is over LIMIT. */
int summary_log_rate(const char *path, const struct file_stats *st, int complete, double limit);

/* Log the end of the run R: the files held back, a stop by a signal, and
 * the summary line. */
void summary_log_run(const struct run_report *r);

#endif
