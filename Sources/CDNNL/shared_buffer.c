#include "shared_buffer.h"
#include <stdlib.h>

void *shared_buffer_take(shared_buffer_t *b, size_t bytes) {
    pthread_mutex_lock(&b->lock);
    if (bytes > b->capacity) {
        void *d = aligned_alloc(64, (bytes + 63) / 64 * 64);
        if (!d) { pthread_mutex_unlock(&b->lock); return NULL; }
        free(b->data);
        b->data = d;
        b->capacity = bytes;
    }
    return b->data;
}

void shared_buffer_release(shared_buffer_t *b) { pthread_mutex_unlock(&b->lock); }
