/* key.c -- a record's key. */
#include <string.h>

#include "key.h"

size_t key_build(const struct record *rec, char *key)
{
	memcpy(key, dev_type_name(rec->type), DEV_TYPE_LEN);
	key[DEV_TYPE_LEN] = ':';
	memcpy(key + DEV_TYPE_LEN + 1, rec->dev_id, rec->dev_id_len);
	key[DEV_TYPE_LEN + 1 + rec->dev_id_len] = '\0';
	return DEV_TYPE_LEN + 1 + rec->dev_id_len;
}
