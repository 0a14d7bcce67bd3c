/* mchandle.c -- libmemcached handles that hash keys as readers do. */
#include <stdio.h>

#include "mchandle.h"

static int set_behaviors(memcached_st *mc, int timeout_ms)
{
	uint64_t ms = (uint64_t)timeout_ms;

	if (memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_CONNECT_TIMEOUT, ms) != MEMCACHED_SUCCESS ||
	    memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_POLL_TIMEOUT, ms) != MEMCACHED_SUCCESS ||
	    memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_SND_TIMEOUT, ms * 1000) != MEMCACHED_SUCCESS ||
	    memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_RCV_TIMEOUT, ms * 1000) != MEMCACHED_SUCCESS ||
	    memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_TCP_NODELAY, 1) != MEMCACHED_SUCCESS ||
	    /* The pool's key distribution, which readers must configure alike. */
	    memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_KETAMA, 1) != MEMCACHED_SUCCESS)
		return -1;
	return 0;
}

memcached_st *mchandle_new(const struct server_pool *pool, int timeout_ms, char *err,
			   size_t errlen)
{
	memcached_st *mc = memcached_create(NULL);

	if (mc == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (set_behaviors(mc, timeout_ms) < 0)
		goto fail;
	for (int i = 0; i < pool->n; i++) {
		const struct server_addr *a = &pool->addr[i];
		memcached_return_t rc = a->is_unix
						? memcached_server_add_unix_socket(mc, a->host)
						: memcached_server_add(mc, a->host, (in_port_t)a->port);
		if (rc != MEMCACHED_SUCCESS)
			goto fail;
	}
	return mc;
fail:
	snprintf(err, errlen, "%s: %s", pool->spec, memcached_last_error_message(mc));
	memcached_free(mc);
	return NULL;
}

int mchandle_position(memcached_st *mc, const struct server_pool *pool, const char *key,
		      size_t keylen)
{
	int pos = pool->n > 1 ? (int)memcached_generate_hash(mc, key, keylen) : 0;

	return pos >= 0 && pos < pool->n ? pos : 0; /* the continuum holds the pool */
}
