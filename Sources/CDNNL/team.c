// Runs a caller's loop on the OpenMP team that oneDNN and the Winograd kernel use, so the engine's own
// loops (BatchNorm, pooling, the optimizer) use both cores without a second thread pool competing
// with libgomp's for them.
#include "CDNNL.h"

extern void GOMP_parallel(void (*fn)(void *), void *data, unsigned num_threads, unsigned flags);
extern int omp_get_thread_num(void);
extern int omp_get_max_threads(void);
extern int omp_get_num_threads(void);

typedef struct {
    long count;
    void *context;
    void (*body)(void *context, long begin, long end);
} shares_job_t;

static void run_share(void *arg) {
    const shares_job_t *job = arg;
    const long threads = omp_get_num_threads(), me = omp_get_thread_num();
    const long begin = job->count * me / threads, end = job->count * (me + 1) / threads;
    if (end > begin) job->body(job->context, begin, end);
}

void cdnnl_parallel_shares(long count, void *context, void (*body)(void *context, long begin, long end)) {
    if (count <= 0) return;
    const long threads = omp_get_max_threads();
    if (threads <= 1 || count == 1) { body(context, 0, count); return; }
    shares_job_t job = {count, context, body};
    GOMP_parallel(run_share, &job, (unsigned)(count < threads ? count : threads), 0);
}

int cdnnl_team_size(void) { return omp_get_max_threads(); }
