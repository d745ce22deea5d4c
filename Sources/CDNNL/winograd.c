// Winograd F(4×4, 3×3) (Lavin & Gray 2016), nChw8c or nChw16c in and out, AVX2 + FMA (AVX-512 where the CPU
// has it: the same arithmetic, winograd_tiles.h): the forward pass (inference,
// training, and training's backward data as a forward pass with flipped, transposed weights) and
// training's backward weights (at the end of this file).
//
//   y(tile) = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A      d: a 6×6 input tile, g: a 3×3 filter (correlation)
//
// Per chunk of output tiles (or, past 256×256 channels, per group of tiles with output channels shared
// out): transform the input tiles (V, 36 positions × tiles × C), multiply at each of the 36 positions
// by the transformed weights (U, C × K) with a 6-tile register-blocked kernel, then transform back with
// the bias, residual and ReLU fused. Every output is the same arithmetic however the tiles are split,
// so the result does not depend on how many threads run them.
#include "winograd.h"
#include "CDNNL.h"
#include "shared_buffer.h"
#include "team.h"
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#define NPOS 36              /* 6 × 6 transformed positions */
#define ROWS 6               /* tiles per micro-kernel call */
#define TILES_PER_CHUNK 18   /* a chunk's V and M fit in L2 at 64 channels (2 × 166 KB) */
#define TARGET __attribute__((target("avx2,fma")))
#define STREAM_U_BYTES (4u << 20) /* transformed weights larger than this bypass the cache when made */

/* G (6×3) of F(4, 3) at the points 0, ±1, ±2, ∞: U = G g Gᵀ, and backward weights' dg = Gᵀ dU G. */
static const double G[6][3] = {
    {1.0 / 4, 0, 0}, {-1.0 / 6, -1.0 / 6, -1.0 / 6}, {-1.0 / 6, 1.0 / 6, -1.0 / 6},
    {1.0 / 24, 1.0 / 12, 1.0 / 6}, {1.0 / 24, -1.0 / 12, 1.0 / 6}, {0, 0, 1}};

struct cwino {
    int c, h, w, k;
    int block;      /* activation layout: nChw8c or nChw16c (8 or 16 channels per pixel) */
    int tiles_h, tiles_w;
    long tiles;
    float *u;       /* [36][K] blocks of 16 (last may be 8) output channels: [pos][k0·C + c·width + j] */
    int owns_u;     /* 0: u is lent by cwino_forward_with_weights for one call (training) */
    float *bias;    /* [K] */
};

int cwino_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

long cwino_chunks(int n, int h, int w) {
    long tiles = (long)n * ((h + 3) / 4) * ((w + 3) / 4);
    return (tiles + TILES_PER_CHUNK - 1) / TILES_PER_CHUNK;
}

static cwino *create(int n, int c, int h, int w, int k, int block, int owns_u) {
    if ((block != 8 && block != 16) || n < 1 || c < block || k < block || c % block || k % block || h < 1 || w < 1) return NULL;
    cwino *cw = calloc(1, sizeof *cw);
    if (!cw) return NULL;
    cw->c = c; cw->h = h; cw->w = w; cw->k = k;
    cw->block = block;
    cw->tiles_h = (h + 3) / 4;
    cw->tiles_w = (w + 3) / 4;
    cw->tiles = (long)n * cw->tiles_h * cw->tiles_w;
    cw->owns_u = owns_u;
    if (owns_u) cw->u = aligned_alloc(64, ((size_t)NPOS * c * k * sizeof(float) + 63) / 64 * 64);
    cw->bias = aligned_alloc(64, ((size_t)k * sizeof(float) + 63) / 64 * 64);
    if ((owns_u && !cw->u) || !cw->bias) { cwino_destroy(cw); return NULL; }
    memset(cw->bias, 0, (size_t)k * sizeof(float));
    return cw;
}

cwino *cwino_create(int n, int c, int h, int w, int k, int block) { return create(n, c, h, w, k, block, 1); }

cwino *cwino_create_for_training(int n, int c, int h, int w, int k, int block) { return create(n, c, h, w, k, block, 0); }

int cwino_keeps_weights(const cwino *cw) { return cw->owns_u; }

void cwino_destroy(cwino *cw) {
    if (!cw) return;
    if (cw->owns_u) free(cw->u);
    free(cw->bias);
    free(cw);
}

void cwino_set_bias(cwino *cw, const float *bias) {
    if (bias) memcpy(cw->bias, bias, (size_t)cw->k * sizeof(float));
    else memset(cw->bias, 0, (size_t)cw->k * sizeof(float));
}

/* Width of the output-channel block starting at k0: 16, or 8 for the last one when K % 16 = 8. */
static inline int block_width(int k, int k0) { return k - k0 >= 16 ? 16 : 8; }

/* U = G g Gᵀ for four output channels o0..o0+3 at input channel c (adjacent in U's blocks), in
 * Double and without fused multiply-adds, so U is rounded once to float, exactly as a scalar Double
 * loop would (a float transform moved ResNet-18's PyTorch parity gradients by 1e-2: BatchNorm over
 * 2×2 maps there amplifies one-ulp changes), into `out` (position p at out + p·out_stride). */
TARGET static void transform_filters(const cwino *cw, const float *weights, int transposed_flipped, int o0, int c, float *out,
                                     int out_stride) {
    const int C = cw->c, K = cw->k;
    /* The four channels' filters, tap by tap, gathered in registers (built in a stack array, each
     * vector load waited on four scalar stores it could not forward from). */
    const float *w[4];
    for (int l = 0; l < 4; l++)
        w[l] = weights + (transposed_flipped ? ((size_t)c * K + o0 + l) * 9 : ((size_t)(o0 + l) * C + c) * 9);
    __m256d g[9];
    for (int i = 0; i < 9; i++) {
        const int e = transposed_flipped ? 8 - i : i;
        g[i] = _mm256_cvtps_pd(_mm_setr_ps(w[0][e], w[1][e], w[2][e], w[3][e]));
    }
#define WEIGHTED3(a0, x0, a1, x1, a2, x2) \
    _mm256_add_pd(_mm256_add_pd(_mm256_mul_pd(a0, x0), _mm256_mul_pd(a1, x1)), _mm256_mul_pd(a2, x2))
    __m256d t[6][3];
    for (int i = 0; i < 6; i++) /* G g */
        for (int b = 0; b < 3; b++)
            t[i][b] = WEIGHTED3(_mm256_set1_pd(G[i][0]), g[b], _mm256_set1_pd(G[i][1]), g[3 + b], _mm256_set1_pd(G[i][2]), g[6 + b]);
    for (int i = 0; i < 6; i++) /* (G g) Gᵀ */
        for (int a = 0; a < 6; a++) {
            __m256d v = WEIGHTED3(t[i][0], _mm256_set1_pd(G[a][0]), t[i][1], _mm256_set1_pd(G[a][1]), t[i][2], _mm256_set1_pd(G[a][2]));
            _mm_storeu_ps(out + (i * 6 + a) * out_stride, _mm256_cvtpd_ps(v));
        }
#undef WEIGHTED3
}

typedef struct {
    cwino *cw;
    const float *weights;
    int transposed_flipped;
} filters_job_t;

#define FILTER_CHANNELS 4 /* input channels a staged piece of U holds */

/* This thread's share of the output-channel blocks, made FILTER_CHANNELS input channels at a time in
 * a staging buffer [36][FILTER_CHANNELS · width] (in L1), then copied out as whole contiguous lines per
 * position. Writing each 16-byte result straight into U hit 36 lines a power of two apart (C·K floats),
 * which share one cache set, so every store missed. Past the cache U is written around it
 * (non-temporal), not read in first only to be overwritten. */
TARGET static void transform_filters_share(void *arg) {
    const filters_job_t *job = arg;
    const cwino *cw = job->cw;
    const int C = cw->c, K = cw->k;
    long begin, end;
    team_share((K + 15) / 16, &begin, &end);
    const int streaming = (size_t)NPOS * C * K * sizeof(float) > STREAM_U_BYTES;
    float staged[NPOS * FILTER_CHANNELS * 16] __attribute__((aligned(64)));
    for (long kb = begin; kb < end; kb++) {
        const int k0 = (int)kb * 16, width = block_width(K, k0), piece = FILTER_CHANNELS * width;
        for (int c0 = 0; c0 < C; c0 += FILTER_CHANNELS) {
            for (int cc = 0; cc < FILTER_CHANNELS; cc++)
                for (int j = 0; j < width; j += 4)
                    transform_filters(cw, job->weights, job->transposed_flipped, k0 + j, c0 + cc, staged + cc * width + j, piece);
            for (int pos = 0; pos < NPOS; pos++) {
                float *to = cw->u + (size_t)pos * C * K + (size_t)k0 * C + (size_t)c0 * width; /* 64-byte aligned */
                const float *from = staged + pos * piece;
                for (int e = 0; e < piece; e += 8) {
                    if (streaming) _mm256_stream_ps(to + e, _mm256_load_ps(from + e));
                    else _mm256_store_ps(to + e, _mm256_load_ps(from + e));
                }
            }
        }
    }
    if (streaming) _mm_sfence();
}

/* Training transforms its weights at every step (forward and backward data): on one thread that was
 * ~9% of a ResNet-18 step with the other core idle, so the team shares it. */
void cwino_set_weights(cwino *cw, const float *weights, const float *bias, int transposed_flipped) {
    filters_job_t job = {cw, weights, transposed_flipped};
    team_run(transform_filters_share, &job, (cw->k + 15) / 16, omp_get_max_threads());
    cwino_set_bias(cw, bias);
}

typedef struct {
    int n, y0, x0;
} tile_t;

static inline tile_t tile_at(const cwino *cw, long t) {
    int per_image = cw->tiles_h * cw->tiles_w;
    int in_image = (int)(t % per_image);
    tile_t r = {(int)(t / per_image), in_image / cw->tiles_w * 4, in_image % cw->tiles_w * 4};
    return r;
}

#define TARGET512 __attribute__((target("avx512f,fma")))

/* Whether the AVX-512 kernels run: on a CPU with it, in the layout oneDNN uses there (so that
 * DNNL_MAX_CPU_ISA=AVX2 tests the AVX2 kernels on such a CPU). */
static int wide_allowed = 1;

void cdnnl_winograd_allow_avx512(int allowed) { wide_allowed = allowed; }

static int avx512_kernels(void) {
    static int available = -1;
    if (available < 0) available = __builtin_cpu_supports("avx512f") && cdnnl_preferred_block() == 16;
    return available && wide_allowed;
}

/* The tile transforms, 8 channels at a time (AVX2) ... */
#define LANES 8
#define VEC __m256
#define VTARGET TARGET
#define WIDE(name) name##_8
#define V_LOAD _mm256_loadu_ps
#define V_STORE _mm256_storeu_ps
#define V_ADD _mm256_add_ps
#define V_SUB _mm256_sub_ps
#define V_MUL _mm256_mul_ps
#define V_FMADD _mm256_fmadd_ps
#define V_FNMADD _mm256_fnmadd_ps
#define V_SET1 _mm256_set1_ps
#define V_ZERO _mm256_setzero_ps
#define V_MAX _mm256_max_ps
#define V_KEEP_IF(v, condition) _mm256_and_ps((v), _mm256_castsi256_ps(_mm256_set1_epi32(-(int)(condition))))
#include "winograd_tiles.h"
#undef LANES
#undef VEC
#undef VTARGET
#undef WIDE
#undef V_LOAD
#undef V_STORE
#undef V_ADD
#undef V_SUB
#undef V_MUL
#undef V_FMADD
#undef V_FNMADD
#undef V_SET1
#undef V_ZERO
#undef V_MAX
#undef V_KEEP_IF

/* ... and 16 at a time (AVX-512, nChw16c). */
#define LANES 16
#define VEC __m512
#define VTARGET TARGET512
#define WIDE(name) name##_16
#define V_LOAD _mm512_loadu_ps
#define V_STORE _mm512_storeu_ps
#define V_ADD _mm512_add_ps
#define V_SUB _mm512_sub_ps
#define V_MUL _mm512_mul_ps
#define V_FMADD _mm512_fmadd_ps
#define V_FNMADD _mm512_fnmadd_ps
#define V_SET1 _mm512_set1_ps
#define V_ZERO _mm512_setzero_ps
#define V_MAX _mm512_max_ps
#define V_KEEP_IF(v, condition) _mm512_maskz_mov_ps((__mmask16)-(int)(condition), (v))
#include "winograd_tiles.h"

/* Whether a tile transform takes 16 channels at a time: AVX-512 kernels, nChw16c. */
static inline int sixteen_lanes(const cwino *cw) { return cw->block == 16 && avx512_kernels(); }

static void transform_input(const cwino *cw, const float *src, long first, int count, float *V, size_t pos_stride) {
    (sixteen_lanes(cw) ? transform_input_16 : transform_input_8)(cw, src, first, count, V, pos_stride);
}

static void transform_grad(const cwino *cw, const float *dy, long first, int count, float *D, size_t pos_stride) {
    (sixteen_lanes(cw) ? transform_grad_16 : transform_grad_8)(cw, dy, first, count, D, pos_stride);
}

/* Output tiles first..first+count from M (row r of position p at (p·stride + r)·K), for the output
 * channels [k_begin, k_end) (multiples of 16 in nChw16c), with the epilogue. */
static void transform_output(const cwino *cw, const float *M, size_t stride, long first, int count, int k_begin, int k_end,
                             float *dst, const float *residual, int post_relu) {
    typedef void (*variant_t)(const cwino *, const float *, size_t, long, int, int, int, float *, const float *);
    static const variant_t variants[2][4] = {
        {transform_output_plain_8, transform_output_relu_8, transform_output_sum_8, transform_output_sum_relu_8},
        {transform_output_plain_16, transform_output_relu_16, transform_output_sum_16, transform_output_sum_relu_16}};
    variants[sixteen_lanes(cw)][2 * !!residual + !!post_relu](cw, M, stride, first, count, k_begin, k_end, dst, residual);
}

/* The micro-kernels at each width (winograd_tiles.h), and the AVX2 one for a last block of 8 channels. */
TARGET static void kernel_6x16(const float *V, const float *U, float *M, int C, int K) { kernel_6xn_8(V, U, M, C, K, 2); }
TARGET512 static void kernel_6x32(const float *V, const float *U, float *M, int C, int K) { kernel_6xn_16(V, U, M, C, K, 2); }
TARGET512 static void kernel_6x64(const float *V, const float *U, float *M, int C, int K) { kernel_6xn_16(V, U, M, C, K, 4); }

TARGET static inline void kernel_6x8(const float *V, const float *U, float *M, int C, int K) {
    __m256 a[ROWS];
    for (int r = 0; r < ROWS; r++) a[r] = _mm256_setzero_ps();
    for (int c = 0; c < C; c++) {
        __m256 u0 = _mm256_loadu_ps(U + (size_t)c * 8);
        for (int r = 0; r < ROWS; r++) a[r] = _mm256_fmadd_ps(_mm256_broadcast_ss(V + (size_t)r * C + c), u0, a[r]);
    }
    for (int r = 0; r < ROWS; r++) _mm256_storeu_ps(M + (size_t)r * K, a[r]);
}

/* M = V · U at every position for `rows` rows (`stride` rows between positions in V and M) and
 * output channels [k_begin, k_end) (multiples of 16, or K): 64 or 32 channels a call on AVX-512,
 * else (and for the last 16 or 8) 16 or 8. */
TARGET static void multiply(const cwino *cw, const float *V, float *M, int rows, size_t stride, int k_begin, int k_end) {
    const int C = cw->c, K = cw->k, wide = avx512_kernels();
    for (int pos = 0; pos < NPOS; pos++) {
        const float *Vp = V + (size_t)pos * stride * C;
        const float *Up = cw->u + (size_t)pos * C * K;
        float *Mp = M + (size_t)pos * stride * K;
        for (int k0 = k_begin, width; k0 < k_end; k0 += width) {
            width = wide && k_end - k0 >= 64 ? 64 : wide && k_end - k0 >= 32 ? 32 : block_width(K, k0);
            void (*kernel)(const float *, const float *, float *, int, int) =
                width == 64 ? kernel_6x64 : width == 32 ? kernel_6x32 : width == 16 ? kernel_6x16 : kernel_6x8;
            for (int r0 = 0; r0 < rows; r0 += ROWS) kernel(Vp + (size_t)r0 * C, Up + (size_t)k0 * C, Mp + (size_t)r0 * K + k0, C, K);
        }
    }
}

typedef struct {
    cwino *cw;
    const float *src;
    float *dst;
    float *scratch; /* by chunks, per thread: V [36][TILES_PER_CHUNK][C], M [36][TILES_PER_CHUNK][K];
                     * by groups: V [36][rows][C], M [36][rows][K] */
    const float *residual; /* added before the ReLU, laid out as dst; NULL for none */
    int post_relu;
    long chunks;
    long next; /* the next chunk to take (atomic) */
    int rows;  /* by groups: a group's tiles rounded up to whole groups of six */
    long first; /* by groups: the group's first tile and its number of tiles */
    int count;
} job_t;

TARGET static void run_chunks(void *arg) {
    job_t *job = arg;
    cwino *cw = job->cw;
    const size_t v_size = (size_t)NPOS * TILES_PER_CHUNK * cw->c, m_size = (size_t)NPOS * TILES_PER_CHUNK * cw->k;
    float *V = job->scratch + (size_t)omp_get_thread_num() * (v_size + m_size), *M = V + v_size;
    for (;;) {
        long chunk = __atomic_fetch_add(&job->next, 1, __ATOMIC_RELAXED);
        if (chunk >= job->chunks) break;
        long first = chunk * TILES_PER_CHUNK;
        int count = cw->tiles - first < TILES_PER_CHUNK ? (int)(cw->tiles - first) : TILES_PER_CHUNK;
        int rows = (count + ROWS - 1) / ROWS * ROWS;
        if (rows > count) /* the micro-kernel runs whole groups of six: zero the rows past the end */
            for (int pos = 0; pos < NPOS; pos++)
                memset(V + ((size_t)pos * TILES_PER_CHUNK + count) * cw->c, 0, (size_t)(rows - count) * cw->c * sizeof(float));
        transform_input(cw, job->src, first, count, V, (size_t)TILES_PER_CHUNK * cw->c);
        multiply(cw, V, M, rows, TILES_PER_CHUNK, 0, cw->k);
        transform_output(cw, M, TILES_PER_CHUNK, first, count, 0, cw->k, job->dst, job->residual, job->post_relu);
    }
}

/* Large layers (C·K past 256×256): U (37.7 MB at 512×512) does not fit in cache, and with chunks of
 * tiles every chunk reads all of it, so ResNet's 7×7 and 14×14 layers waited on memory (slower than
 * oneDNN's AVX-512 Winograd). Here the tiles are taken in a few large groups: a group's tiles are
 * transformed first, then each thread multiplies all of them by its own output channels' share of U
 * (so U is read once per group) and transforms those channels back. At batch 32 (fine-tuning
 * ResNet-50-ABN's branches: 512 tiles at 14×14) chunks read U 29 times a call, three groups 3 times.
 * Every output is the same arithmetic as in a chunk. */
#define GROUP_MAX_TILES 192 /* a position's V (tiles × C at 512 channels: 384 KB) stays in L2 */

TARGET static void group_transform(void *arg) {
    job_t *job = arg;
    long begin, end;
    team_share(job->count, &begin, &end);
    if (end > begin) transform_input(job->cw, job->src, job->first + begin, (int)(end - begin),
                                     job->scratch + (size_t)begin * job->cw->c, (size_t)job->rows * job->cw->c);
}

TARGET static void group_multiply(void *arg) {
    job_t *job = arg;
    const cwino *cw = job->cw;
    long begin, end;
    team_share((cw->k + 15) / 16, &begin, &end); /* blocks of 16 output channels */
    const int k_begin = (int)begin * 16, k_end = end * 16 < cw->k ? (int)end * 16 : cw->k;
    if (k_end <= k_begin) return;
    float *V = job->scratch, *M = V + (size_t)NPOS * job->rows * cw->c;
    multiply(cw, V, M, job->rows, (size_t)job->rows, k_begin, k_end);
    transform_output(cw, M, (size_t)job->rows, job->first, job->count, k_begin, k_end, job->dst, job->residual,
                     job->post_relu);
}

/* The chunks' scratch is needed only during a call, so every kernel borrows the same one. */
static shared_buffer_t lent_scratch = SHARED_BUFFER_INITIALIZER;

static int forward_by_groups(cwino *cw, const float *src, float *dst, const float *residual, int post_relu, int threads) {
    const long groups = (cw->tiles + GROUP_MAX_TILES - 1) / GROUP_MAX_TILES;
    const long per_group = (cw->tiles + groups - 1) / groups; /* as even as the tiles allow */
    const int rows = (int)(per_group + ROWS - 1) / ROWS * ROWS;
    float *V = shared_buffer_take(&lent_scratch, (size_t)NPOS * rows * (cw->c + cw->k) * sizeof(float));
    if (!V) return -1;
    job_t job = {cw, src, dst, V, residual, post_relu, 0, 0, rows, 0, 0};
    for (job.first = 0; job.first < cw->tiles; job.first += per_group) {
        job.count = (int)(cw->tiles - job.first < per_group ? cw->tiles - job.first : per_group);
        for (int pos = 0; pos < NPOS; pos++) /* the micro-kernel runs whole groups of six: zero the rows past the end */
            memset(V + ((size_t)pos * rows + job.count) * cw->c, 0, (size_t)(rows - job.count) * cw->c * sizeof(float));
        team_run(group_transform, &job, job.count, threads);
        team_run(group_multiply, &job, (cw->k + 15) / 16, threads);
    }
    shared_buffer_release(&lent_scratch);
    return 0;
}

static int forward_by_chunks(cwino *cw, const float *src, float *dst, const float *residual, int post_relu, int threads) {
    float *scratch = shared_buffer_take(&lent_scratch, (size_t)NPOS * TILES_PER_CHUNK * (cw->c + cw->k) * sizeof(float) * threads);
    if (!scratch) return -1;
    job_t job = {cw, src, dst, scratch, residual, post_relu, (cw->tiles + TILES_PER_CHUNK - 1) / TILES_PER_CHUNK, 0};
    team_run(run_chunks, &job, job.chunks, threads);
    shared_buffer_release(&lent_scratch);
    return 0;
}

int cwino_forward(cwino *cw, const float *src, float *dst, const float *residual, int post_relu) {
    int threads = omp_get_max_threads();
    if (threads < 1) threads = 1;
    return (long)cw->c * cw->k > 256L * 256 ? forward_by_groups(cw, src, dst, residual, post_relu, threads)
                                            : forward_by_chunks(cw, src, dst, residual, post_relu, threads);
}

/* Training's transformed weights change at every step and are read once, right after they are
 * made, so one process-wide buffer serves every convolution's calls in turn instead of each
 * convolution keeping 4× its 3×3 weights twice (forward and backward data): 0.7 GB in ResNet-152. */
static shared_buffer_t lent_u = SHARED_BUFFER_INITIALIZER;

int cwino_forward_with_weights(cwino *cw, const float *weights, int transposed_flipped, const float *src, float *dst) {
    if (cw->owns_u) {
        cwino_set_weights(cw, weights, NULL, transposed_flipped);
        return cwino_forward(cw, src, dst, NULL, 0);
    }
    cw->u = shared_buffer_take(&lent_u, (size_t)NPOS * cw->c * cw->k * sizeof(float));
    if (!cw->u) return -1;
    cwino_set_weights(cw, weights, NULL, transposed_flipped);
    int status = cwino_forward(cw, src, dst, NULL, 0);
    cw->u = NULL;
    shared_buffer_release(&lent_u);
    return status;
}

/* ---- Backward weights ----
 * y = Aᵀ M A with M = Σ_c U_c ⊙ V_c and U = G g Gᵀ is linear in U, so for one tile
 * dL/dU_c = (A dy Aᵀ) ⊙ V_c, and dL/dg = Gᵀ (Σ_tiles dL/dU) G: the forward pass's input transform,
 * the transpose of its output transform applied to dy, at each of the 36 positions a C × K product
 * summed over tiles, and one filter transform per channel pair at the end. Output positions past the
 * image's edge have dy = 0 and contribute nothing; input outside the image reads zeros.
 *
 * Tiles are summed in groups of WGRAD_GROUP: a group's sum in registers, the groups' sums added in
 * group order. That order depends on the shape alone, so the result does not depend on the thread
 * count or on which of the two ways of sharing the work below runs (they do the same arithmetic),
 * and the rounding error grows with WGRAD_GROUP + groups rather than with the tile count.
 *   by groups (many groups): a thread transforms a group's tiles into its own scratch, which stays in
 *     cache, and writes the group's partial dU [36][C][K]; then threads split the input channels, add
 *     the partials up and transform. Small layers are memory-bound otherwise (16 channels at 32²,
 *     batch 64: 19 MB of transformed tiles written and read again).
 *   by channels (few groups, or partials too large): every tile is transformed first into whole-batch
 *     buffers; then threads split the input channels, each summing its dU over all groups.
 * The buffers are large and one convolution's backward runs at a time, so the process keeps one set. */
#define WGRAD_GROUP 128
#define WGRAD_MAX_PARTIALS (4L << 20) /* floats (16 MB) */

static shared_buffer_t wgrad_buffers = SHARED_BUFFER_INITIALIZER;

typedef struct {
    const cwino *cw;
    const float *src, *dy;
    float *V, *D; /* transformed tiles: the whole batch [36][tiles][·], or per thread [36][WGRAD_GROUP][·] */
    float *dU;    /* [groups][36][C][K] partial sums by groups; [36][C][K] by channels */
    float *dw;
    long groups;
    long next; /* the next group to take (atomic) */
} wgrad_job_t;

/* Beside wgrad_kernel_8 and _16 (winograd_tiles.h), AVX2: `inputs` input × 8·`vectors` output channels,
 * constants at every call so each use compiles to its own unrolled kernel. 6 × 16 (`inputs` 6, `vectors`
 * 2) is the main one: 12 accumulators in 15 of the 16 registers, so the FMA latency has slack that the 8
 * of wgrad_kernel_8 (4 × 16) lack, and each row's 8 loads feed 12 FMAs instead of 6 feeding 8 (a 4 × 24
 * kernel spilled an accumulator every row). 4 × 8 takes a last block of 8 output channels. Every dU
 * element is summed over the rows in order by one accumulator, as in wgrad_kernel_8: the same bits. */
TARGET static inline __attribute__((always_inline)) void wgrad_kernel_avx2(const float *V, const float *D, float *dU, int C, int K,
                                                                          long rows, int add, const int inputs, const int vectors) {
    __m256 a[6][2];
    for (int i = 0; i < inputs; i++)
        for (int j = 0; j < vectors; j++) a[i][j] = _mm256_setzero_ps();
    for (long r = 0; r < rows; r++) {
        __m256 d[2];
        for (int j = 0; j < vectors; j++) d[j] = _mm256_loadu_ps(D + r * K + j * 8);
        for (int i = 0; i < inputs; i++) {
            const __m256 v = _mm256_broadcast_ss(V + r * C + i);
            for (int j = 0; j < vectors; j++) a[i][j] = _mm256_fmadd_ps(v, d[j], a[i][j]);
        }
    }
    for (int i = 0; i < inputs; i++)
        for (int j = 0; j < vectors; j++) {
            float *out = dU + (size_t)i * K + j * 8;
            _mm256_storeu_ps(out, add ? _mm256_add_ps(a[i][j], _mm256_loadu_ps(out)) : a[i][j]);
        }
}

/* dw[k][c][3][3] = Gᵀ (Σ_partials dU[p][·][c][k]) G for c in [c_begin, c_end), eight output
 * channels at a time; the partials are added in order. */
TARGET static void wgrad_filters(const cwino *cw, const float *dU, long partials, float *dw, int c_begin, int c_end) {
    const int C = cw->c, K = cw->k;
    const size_t partial_size = (size_t)NPOS * C * K;
    for (int c = c_begin; c < c_end; c++)
        for (int k0 = 0; k0 < K; k0 += 8) {
            __m256 x[NPOS], t[3][6];
            for (int pos = 0; pos < NPOS; pos++) {
                const float *p = dU + ((size_t)pos * C + c) * K + k0;
                x[pos] = _mm256_loadu_ps(p);
                for (long g = 1; g < partials; g++) x[pos] = _mm256_add_ps(x[pos], _mm256_loadu_ps(p + g * partial_size));
            }
            for (int m = 0; m < 3; m++) /* t = Gᵀ dU */
                for (int a = 0; a < 6; a++) {
                    __m256 s = _mm256_setzero_ps();
                    for (int i = 0; i < 6; i++)
                        if (G[i][m] != 0) s = _mm256_fmadd_ps(_mm256_set1_ps((float)G[i][m]), x[i * 6 + a], s);
                    t[m][a] = s;
                }
            float out[9][8];
            for (int m = 0; m < 3; m++) /* (Gᵀ dU) G */
                for (int b = 0; b < 3; b++) {
                    __m256 s = _mm256_setzero_ps();
                    for (int a = 0; a < 6; a++)
                        if (G[a][b] != 0) s = _mm256_fmadd_ps(_mm256_set1_ps((float)G[a][b]), t[m][a], s);
                    _mm256_storeu_ps(out[m * 3 + b], s);
                }
            for (int j = 0; j < 8; j++)
                for (int i = 0; i < 9; i++) dw[((size_t)(k0 + j) * C + c) * 9 + i] = out[i][j];
        }
}

/* Pairs of blocks of four input channels, output channels in 32s, on the AVX-512 kernel. */
TARGET512 static void wgrad_products_wide(const cwino *cw, const float *Vp, const float *Dp, long rows, float *dUp, int b,
                                          int add) {
    const int C = cw->c, K = cw->k;
    for (int k0 = 0; k0 < K; k0 += 32) wgrad_kernel_16(Vp + b * 4, Dp + k0, dUp + (size_t)b * 4 * K + k0, C, K, rows, add);
}

/* Whether the AVX-512 backward-weights kernel runs: output channels in 32s. */
static int wide_kernel(const cwino *cw) { return avx512_kernels() && cw->k % 32 == 0; }

/* dU[pos][c][k] at one position for input channels in blocks [b_begin, b_end) of four and every
 * output channel, over `rows` tiles of V and D (the position's rows); `add`: onto dU. */
TARGET static void wgrad_products_at(const cwino *cw, const float *Vp, const float *Dp, long rows, float *dUp, int b_begin,
                                     int b_end, int add) {
    const int C = cw->c, K = cw->k, wide = wide_kernel(cw);
    for (int b = b_begin; b < b_end; b++) {
        if (wide && b + 1 < b_end) {
            wgrad_products_wide(cw, Vp, Dp, rows, dUp, b++, add);
            continue;
        }
        /* Three blocks of four input channels as two of six where three are left, else one of four;
         * a last 8 output channels four input channels at a time. */
        const int channels = b + 2 < b_end ? 12 : 4;
        for (int k0 = 0; k0 < K; k0 += 16) {
            const int sixteen = block_width(K, k0) == 16, inputs = sixteen && channels == 12 ? 6 : 4;
            for (int c0 = b * 4; c0 < b * 4 + channels; c0 += inputs) {
                const float *V = Vp + c0, *D = Dp + k0;
                float *dU = dUp + (size_t)c0 * K + k0;
                if (!sixteen) wgrad_kernel_avx2(V, D, dU, C, K, rows, add, 4, 1);
                else if (inputs == 6) wgrad_kernel_avx2(V, D, dU, C, K, rows, add, 6, 2);
                else wgrad_kernel_8(V, D, dU, C, K, rows, add);
            }
        }
        b += channels / 4 - 1;
    }
}

/* wgrad_products_at at every position (position strides v_stride and d_stride in V and D). */
TARGET static void wgrad_products(const cwino *cw, const float *V, size_t v_stride, const float *D, size_t d_stride, long rows,
                                  float *dU, int b_begin, int b_end, int add) {
    for (int pos = 0; pos < NPOS; pos++)
        wgrad_products_at(cw, V + pos * v_stride, D + pos * d_stride, rows, dU + (size_t)pos * cw->c * cw->k, b_begin, b_end, add);
}

static inline int group_rows(const cwino *cw, long g) {
    long first = g * WGRAD_GROUP;
    return cw->tiles - first < WGRAD_GROUP ? (int)(cw->tiles - first) : WGRAD_GROUP;
}


/* By groups, step 1: each group's partial dU from tiles transformed into this thread's scratch. */
TARGET static void wgrad_group_partials(void *arg) {
    wgrad_job_t *job = arg;
    const cwino *cw = job->cw;
    const size_t v_stride = (size_t)WGRAD_GROUP * cw->c, d_stride = (size_t)WGRAD_GROUP * cw->k;
    float *V = job->V + (size_t)omp_get_thread_num() * NPOS * (v_stride + d_stride), *D = V + NPOS * v_stride;
    for (;;) {
        long g = __atomic_fetch_add(&job->next, 1, __ATOMIC_RELAXED);
        if (g >= job->groups) break;
        int rows = group_rows(cw, g);
        transform_input(cw, job->src, g * WGRAD_GROUP, rows, V, v_stride);
        transform_grad(cw, job->dy, g * WGRAD_GROUP, rows, D, d_stride);
        wgrad_products(cw, V, v_stride, D, d_stride, rows, job->dU + (size_t)g * NPOS * cw->c * cw->k, 0, cw->c / 4, 0);
    }
}

/* By groups, step 2: the partials added up and transformed, for this thread's input channels. */
TARGET static void wgrad_group_filters(void *arg) {
    wgrad_job_t *job = arg;
    long begin, end;
    team_share(job->cw->c, &begin, &end);
    wgrad_filters(job->cw, job->dU, job->groups, job->dw, (int)begin, (int)end);
}

/* By channels, step 1: every tile of the batch transformed. */
TARGET static void wgrad_transform_all(void *arg) {
    wgrad_job_t *job = arg;
    const cwino *cw = job->cw;
    for (;;) {
        long g = __atomic_fetch_add(&job->next, 1, __ATOMIC_RELAXED);
        if (g >= job->groups) break;
        long first = g * WGRAD_GROUP;
        transform_input(cw, job->src, first, group_rows(cw, g), job->V + (size_t)first * cw->c, (size_t)cw->tiles * cw->c);
        transform_grad(cw, job->dy, first, group_rows(cw, g), job->D + (size_t)first * cw->k, (size_t)cw->tiles * cw->k);
    }
}

/* By channels, step 2: dU for this thread's blocks of input channels, group after group, then the
 * filters. Position by position, so a position's share of dU (512 KB at 512×512 on two threads)
 * stays in cache while the groups are added onto it, instead of all of dU (37.7 MB) going to memory
 * and back once a group. */
TARGET static void wgrad_channel_sums(void *arg) {
    wgrad_job_t *job = arg;
    const cwino *cw = job->cw;
    long begin, end;
    team_share(cw->c / 4, &begin, &end);
    const size_t v_stride = (size_t)cw->tiles * cw->c, d_stride = (size_t)cw->tiles * cw->k;
    for (int pos = 0; pos < NPOS; pos++)
        for (long g = 0; g < job->groups; g++) {
            const size_t first = (size_t)g * WGRAD_GROUP;
            wgrad_products_at(cw, job->V + pos * v_stride + first * cw->c, job->D + pos * d_stride + first * cw->k,
                              group_rows(cw, g), job->dU + (size_t)pos * cw->c * cw->k, (int)begin, (int)end, g > 0);
        }
    wgrad_filters(cw, job->dU, 1, job->dw, (int)begin * 4, (int)end * 4);
}


int cwino_backward_weights(const cwino *cw, const float *src, const float *diff_dst, float *diff_weights) {
    int threads = omp_get_max_threads();
    if (threads < 1) threads = 1;
    const long groups = (cw->tiles + WGRAD_GROUP - 1) / WGRAD_GROUP;
    const size_t partial = (size_t)NPOS * cw->c * cw->k;
    const int by_groups = groups >= 4L * threads && groups * (long)partial <= WGRAD_MAX_PARTIALS;
    const size_t transformed = by_groups ? (size_t)threads * NPOS * WGRAD_GROUP * (cw->c + cw->k) : (size_t)NPOS * cw->tiles * (cw->c + cw->k);
    const size_t need = transformed + (by_groups ? (size_t)groups : 1) * partial;
    float *buffer = shared_buffer_take(&wgrad_buffers, need * sizeof(float));
    if (!buffer) return -1;
    wgrad_job_t job = {cw, src, diff_dst, buffer, buffer + (size_t)NPOS * cw->tiles * cw->c, buffer + transformed, diff_weights, groups, 0};
    if (by_groups) {
        team_run(wgrad_group_partials, &job, groups, threads);
        team_run(wgrad_group_filters, &job, cw->c, threads);
    } else {
        team_run(wgrad_transform_all, &job, groups, threads);
        team_run(wgrad_channel_sums, &job, cw->c / 4, threads);
    }
    shared_buffer_release(&wgrad_buffers);
    return 0;
}
