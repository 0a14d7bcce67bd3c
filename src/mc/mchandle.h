/* mchandle.h -- a libmemcached handle over one device type's pool, set up
 * the one way readers must set theirs up to find the keys: ketama over the
 * servers in the order given, nothing else changed (README, Pools). */
#ifndef MEMC_LOAD_MCHANDLE_H
#define MEMC_LOAD_MCHANDLE_H

#include <stddef.h>

#include <libmemcached/memcached.h>

#include "addr.h"

/* A new handle over POOL with TIMEOUT_MS for every step, or NULL with the
 * reason in ERR. The caller frees it with memcached_free. */
memcached_st *mchandle_new(const struct server_pool *pool, int timeout_ms, char *err,
			   size_t errlen);

/* The position in POOL of KEY's server, by MC's ketama continuum. */
int mchandle_position(memcached_st *mc, const struct server_pool *pool, const char *key,
		      size_t keylen);

#endif
