/* serial.c -- --serial: every file loaded in the supervisor itself, one
 * after another, as the original script did (the benchmark baseline). */
#include "log.h"
#include "run.h"
#include "signals.h"
#include "worker.h"

static int serial_progress(const struct file_stats *so_far, void *ctx)
{
	struct run *run = ctx;

	if (so_far != NULL) {
		run->fr[run->next - 1].st = *so_far;
		run_show_progress(run, 0);
	}
	return signals_stop_requested();
}

void serial_run(struct run *run)
{
	while (run->next < run->n && !signals_stop_requested()) {
		size_t i = run->next++;
		struct file_stats st;

		run->fr[i].running = 1;
		run->running = 1;
		if (run->settle != NULL)
			settle_started(run->settle, i, SETTLE_LOAD);
		log_info("Started %s", run->files[i]);
		/* Not into fr[i].st: serial_progress writes there meanwhile. */
		worker_run(run->cfg, run->files[i], NULL, &st, run->fr[i].servers, serial_progress,
			   run);
		run->fr[i].st = st;
		run->running = 0;
		run_finish_file(run, i, 1);
		run_show_progress(run, 1);
	}
}
