/* serial.c -- --serial: every file loaded in the supervisor itself, one
 * after another, as the original script did (the benchmark baseline). */
#include <string.h>
#include <unistd.h>

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

/* The repairs the rule asks for, here too: with one load at a time, only
 * those that re-send what a restarted server lost. */
static void serial_repairs(struct run *run)
{
	long task;

	while ((task = run_next_repair(run)) >= 0) {
		size_t idx = (size_t)task - run->n;
		struct report_counts msg;

		memset(&msg, 0, sizeof(msg));
		run_repair_started(run, task, (long)getpid());
		repair_run(run, idx, &msg.stats, run->fr[idx].repair_servers);
		run_repair_message(run, &run->fr[idx], &msg, REPORT_RESULT);
		run_repair_finished(run, idx, getpid(), 0);
	}
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
		run_load_file(run, i, &st, run->fr[i].servers, serial_progress, run);
		run->fr[i].st = st;
		run->running = 0;
		run_finish_file(run, i, 1);
		serial_repairs(run);
		run_show_progress(run, 1);
	}
	while (!signals_stop_requested() && run_probe_servers(run))
		serial_repairs(run);
}
