// Runs a caller's loop on the OpenMP team that oneDNN and the Winograd kernel use, so the engine's own
// loops (BatchNorm, pooling, the optimizer) use both cores without a second thread pool competing
// with libgomp's for them.
#include "CDNNL.h"
#include "team.h"

typedef struct {
    long count;
    void *context;
    void (*body)(void *context, long begin, long end);
} shares_job_t;

static void run_share(void *arg) {
    const shares_job_t *job = arg;
    long begin, end;
    team_share(job->count, &begin, &end);
    if (end > begin) job->body(job->context, begin, end);
}

void cdnnl_parallel_shares(long count, void *context, void (*body)(void *context, long begin, long end)) {
    if (count <= 0) return;
    shares_job_t job = {count, context, body};
    team_run(run_share, &job, count, omp_get_max_threads()); /* on one thread: the share is [0, count) */
}

int cdnnl_team_size(void) { return omp_get_max_threads(); }
