// A process-wide buffer lent to one caller at a time: for data that is made anew at every call and
// read only during it (training's transformed and reordered weights, backward-weights scratch), so
// one buffer serves every layer in turn instead of each layer keeping its own copy.
#ifndef CDNNL_SHARED_BUFFER_H
#define CDNNL_SHARED_BUFFER_H

#include <pthread.h>
#include <stddef.h>

typedef struct {
    pthread_mutex_t lock;
    void *data;
    size_t capacity; /* bytes */
} shared_buffer_t;

#define SHARED_BUFFER_INITIALIZER {PTHREAD_MUTEX_INITIALIZER, NULL, 0}

/// Locks `b` and returns at least `bytes` of it (64-byte aligned, grown if needed), or NULL
/// (unlocked) when the memory cannot be had.
void *shared_buffer_take(shared_buffer_t *b, size_t bytes);
/// Unlocks `b`; its memory stays for the next caller.
void shared_buffer_release(shared_buffer_t *b);

#endif
