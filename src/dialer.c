/* dialer.c -- a connection to a memcached server, and who answers it. */
#include <unistd.h>

#include "dialer.h"

int dialer_probe(struct dialer *d, int fd, struct server_watch *w, char *err, size_t errlen)
{
	struct server_id id;

	switch (serverid_probe(fd, d->timeout_ms, &id, err, errlen)) {
	case 0:
		serverid_note(w, &id, d->addr->spec);
		return 0;
	case 1:
		serverid_log_unknown(d->addr->spec);
		d->identify = 0;
		return DIALER_NO_STATS;
	default:
		return DIALER_FAILED;
	}
}

int dialer_connect(struct dialer *d, struct server_watch *w, char *err, size_t errlen)
{
	int fd = d->dial != NULL ? d->dial(d->addr, d->timeout_ms, err, errlen, d->ctx)
				 : addr_dial(d->addr, d->timeout_ms, err, errlen);

	if (fd < 0)
		return DIALER_FAILED;
	if (!d->identify)
		return fd;
	int rc = dialer_probe(d, fd, w, err, errlen);
	if (rc == 0)
		return fd;
	close(fd);
	return rc;
}
