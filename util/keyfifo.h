/* A first-in first-out list of owned string keys on a growing ring: the work queue's lanes, and the line of builds
 * waiting for a slot. Not thread-safe. */
#ifndef MAC_UTIL_KEYFIFO_H
#define MAC_UTIL_KEYFIFO_H

#include <stdbool.h>
#include <stddef.h>

/* Invariants: keys is NULL or cap entries; the len keys from head (wrapping) are owned copies. Zeroed is empty. */
struct key_fifo {
	char **keys;
	size_t head, len, cap;
};

/* Frees every key and the ring; the fifo is empty afterwards. */
void key_fifo_free(struct key_fifo *f);

/* Appends a copy of key. False when out of memory (the fifo is unchanged). */
bool key_fifo_push(struct key_fifo *f, const char *key) __attribute__((warn_unused_result));

/* Appends key itself, which the fifo now owns. False when out of memory (key stays the caller's). */
bool key_fifo_push_owned(struct key_fifo *f, char *key) __attribute__((warn_unused_result));

/* Takes the oldest key out: the caller's to free(). NULL when empty. */
char *key_fifo_pop(struct key_fifo *f);

#endif
