/* cli.h -- command-line options to struct config; no I/O but the help text. */
#ifndef MEMC_LOAD_CLI_H
#define MEMC_LOAD_CLI_H

#include <stdio.h>

#include "config.h"

enum cli_action { CLI_RUN, CLI_HELP, CLI_VERSION, CLI_LIST_OPTIONS, CLI_ERROR };

/* Fill CFG from ARGV. On CLI_ERROR, ERR holds a one-line reason. */
enum cli_action cli_parse(int argc, char **argv, struct config *cfg, char *err, size_t errlen);

/* The two-line synopsis printed after a usage error. */
void cli_usage(FILE *out);
/* The full --help text, every option. */
void cli_help(FILE *out);

#endif
