#include "CDNNL.h"
#include "winograd.h"
#include "shared_buffer.h"
#include <oneapi/dnnl/dnnl.h>
#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "team.h"
extern void omp_set_num_threads(int);

static __thread char last_error[256];
const char *cdnnl_last_error(void) { return last_error; }

static dnnl_engine_t engine;
static dnnl_stream_t stream;

static int ensure_engine(void) {
    if (engine) return 0;
    if (dnnl_engine_create(&engine, dnnl_cpu, 0) != dnnl_success) {
        snprintf(last_error, sizeof last_error, "oneDNN: cannot create the CPU engine");
        return -1;
    }
    if (dnnl_stream_create(&stream, engine, dnnl_stream_default_flags) != dnnl_success) {
        snprintf(last_error, sizeof last_error, "oneDNN: cannot create a stream");
        return -1;
    }
    return 0;
}

void cdnnl_set_threads(int n) { omp_set_num_threads(n > 0 ? n : 1); }

void cdnnl_keep_freed_blocks(void) {
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, INT_MAX);
}

#define CHECK(call, what)                                                                  \
    do {                                                                                   \
        dnnl_status_t s_ = (call);                                                         \
        if (s_ != dnnl_success) {                                                          \
            snprintf(last_error, sizeof last_error, "oneDNN: %s failed (status %d)", what, (int)s_); \
            goto fail;                                                                     \
        }                                                                                  \
    } while (0)

/// A tensor argument in two layouts: the caller's plain one and the primitive's chosen one.
/// When they differ, a reorder moves data through an owned buffer.
typedef struct {
    dnnl_memory_desc_t user_md, prim_md;
    dnnl_memory_t user_mem, prim_mem;
    dnnl_primitive_t to_prim, to_user;  /* reorders, NULL when the layouts agree */
    int serial;                         /* small: reorder on the calling thread only */
    shared_buffer_t *lent;              /* the primitive's copy lives there during a call (NULL: in buffer) */
    size_t size;                        /* bytes of the primitive's copy */
    void *buffer;
} arg_t;

/* Training convolutions' weights in oneDNN's layouts (forward, backward data) and their gradient
 * in its layout change at every step and are used only within one call, so one process-wide buffer
 * serves every convolution in turn instead of each keeping three weight-sized copies (about 450 MB
 * in ResNet-50-ABN, where PyTorch keeps none). The same holds for training's copies of activations
 * and their gradients in the primitive's layout or type (bfloat16: about 1 GB more peak memory in the
 * ResNet-50-ABN fine-tune when each convolution kept its own). A call borrows them with
 * arg_borrow_all. */
static shared_buffer_t lent_sources = SHARED_BUFFER_INITIALIZER;
static shared_buffer_t lent_gradients = SHARED_BUFFER_INITIALIZER;
static shared_buffer_t lent_weights = SHARED_BUFFER_INITIALIZER;

/* Below this size a reorder costs less than waking the OpenMP team (and, with the other core
 * busy, waiting for it), e.g. every weight tensor of a CIFAR ResNet. */
#define SERIAL_REORDER_BYTES (1u << 20)

static int arg_init(arg_t *a, const dnnl_memory_desc_t *user_md, const dnnl_memory_desc_t *prim_md,
                    int need_to_prim, int need_to_user, shared_buffer_t *lent) {
    memset(a, 0, sizeof *a);
    a->user_md = *user_md;
    a->prim_md = *prim_md;
    CHECK(dnnl_memory_create(&a->user_mem, &a->user_md, engine, DNNL_MEMORY_NONE), "memory_create");
    if (dnnl_memory_desc_equal(&a->user_md, &a->prim_md)) {
        a->prim_mem = a->user_mem;
        return 0;
    }
    a->size = dnnl_memory_desc_get_size(&a->prim_md);
    a->serial = a->size <= SERIAL_REORDER_BYTES;
    a->lent = lent;
    if (!lent) {
        a->buffer = aligned_alloc(64, (a->size + 63) / 64 * 64);
        if (!a->buffer) { snprintf(last_error, sizeof last_error, "out of memory"); goto fail; }
    }
    CHECK(dnnl_memory_create(&a->prim_mem, &a->prim_md, engine, lent ? DNNL_MEMORY_NONE : a->buffer), "memory_create");
    if (need_to_prim) {
        dnnl_primitive_desc_t pd;
        CHECK(dnnl_reorder_primitive_desc_create(&pd, &a->user_md, engine, &a->prim_md, engine, NULL), "reorder");
        CHECK(dnnl_primitive_create(&a->to_prim, pd), "reorder");
        dnnl_primitive_desc_destroy(pd);
    }
    if (need_to_user) {
        dnnl_primitive_desc_t pd;
        CHECK(dnnl_reorder_primitive_desc_create(&pd, &a->prim_md, engine, &a->user_md, engine, NULL), "reorder");
        CHECK(dnnl_primitive_create(&a->to_user, pd), "reorder");
        dnnl_primitive_desc_destroy(pd);
    }
    return 0;
fail:
    return -1;
}

static void arg_free(arg_t *a) {
    if (a->to_prim) dnnl_primitive_destroy(a->to_prim);
    if (a->to_user) dnnl_primitive_destroy(a->to_user);
    if (a->prim_mem && a->prim_mem != a->user_mem) dnnl_memory_destroy(a->prim_mem);
    if (a->user_mem) dnnl_memory_destroy(a->user_mem);
    free(a->buffer);
    memset(a, 0, sizeof *a);
}

static int run_reorder(dnnl_primitive_t r, dnnl_memory_t from, dnnl_memory_t to, int serial) {
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}};
    /* oneDNN sizes its parallel regions by the calling thread's OpenMP setting at execution. */
    int threads = omp_get_max_threads();
    if (serial) omp_set_num_threads(1);
    dnnl_status_t status = dnnl_primitive_execute(r, stream, 2, args);
    if (serial) omp_set_num_threads(threads);
    if (status != dnnl_success) {
        snprintf(last_error, sizeof last_error, "oneDNN: reorder failed");
        return -1;
    }
    return 0;
}

/// Points the argument at the caller's buffer and, for inputs, brings it into the primitive's layout.
static int arg_in(arg_t *a, const void *ptr) {
    if (dnnl_memory_set_data_handle(a->user_mem, (void *)ptr) != dnnl_success) return -1;
    if (a->to_prim) return run_reorder(a->to_prim, a->user_mem, a->prim_mem, a->serial);
    return 0;
}

/* Like arg_in, but keeps the primitive's copy when the caller says the values did not change. */
static int arg_in_cached(arg_t *a, const void *ptr, int changed) {
    if (changed || !a->to_prim) return arg_in(a, ptr);
    return dnnl_memory_set_data_handle(a->user_mem, (void *)ptr) == dnnl_success ? 0 : -1;
}

/* For a lent argument: points the primitive's copy at its shared buffer, locked until arg_return. */
static int arg_borrow(arg_t *a) {
    if (!a->lent) return 0;
    void *p = shared_buffer_take(a->lent, a->size);
    if (!p) { snprintf(last_error, sizeof last_error, "out of memory"); return -1; }
    if (dnnl_memory_set_data_handle(a->prim_mem, p) != dnnl_success) {
        shared_buffer_release(a->lent);
        snprintf(last_error, sizeof last_error, "oneDNN: cannot set a buffer");
        return -1;
    }
    return 0;
}

static void arg_return(arg_t *a) {
    if (a->lent) shared_buffer_release(a->lent);
}

/* Borrows the lent copies of a call's arguments in the order given (sources, gradients, weights, so
 * two threads never wait on each other); on failure returns the ones taken. */
static int arg_borrow_all(arg_t **args, int n) {
    for (int i = 0; i < n; i++) {
        if (arg_borrow(args[i])) {
            while (i > 0) arg_return(args[--i]);
            return -1;
        }
    }
    return 0;
}

static void arg_return_all(arg_t **args, int n) {
    while (n > 0) arg_return(args[--n]);
}

static int arg_out_finish(arg_t *a) {
    if (a->to_user) return run_reorder(a->to_user, a->prim_mem, a->user_mem, a->serial);
    return 0;
}

struct cdnnl_conv {
    int oh, ow, training, with_bias, post_relu;
    /* How the forward pass adds a residual: none; in place (the Winograd kernel, or oneDNN's binary
     * post-op reading it through f_res); or by oneDNN's sum post-op, which adds what dst holds, so the
     * residual is copied there first. */
    enum { NO_RESIDUAL, RESIDUAL_IN_PLACE, RESIDUAL_BY_SUM } residual;
    dnnl_primitive_desc_t fwd_pd, bwd_data_pd, bwd_weights_pd;
    dnnl_primitive_t fwd, bwd_data, bwd_weights;
    arg_t f_src, f_wei, f_bias, f_dst, f_res;
    arg_t d_diff_dst, d_wei, d_diff_src;
    arg_t w_src, w_diff_dst, w_diff_wei;
    cwino *wino;     /* forward on the AVX2 Winograd kernel (winograd.h): inference, or training's forward */
    cwino *wino_bwd; /* training's backward data: the same kernel with flipped, transposed weights */
};

int cdnnl_conv_out_h(const cdnnl_conv *c) { return c->oh; }
int cdnnl_conv_out_w(const cdnnl_conv *c) { return c->ow; }
int cdnnl_conv_is_winograd(const cdnnl_conv *c) { return c->wino != NULL; }
int cdnnl_conv_reads_residual_where_it_lies(const cdnnl_conv *c) { return c->residual == RESIDUAL_IN_PLACE; }
int cdnnl_conv_backward_weights_is_winograd(const cdnnl_conv *c) { return c->training && c->wino && !c->bwd_weights; }
int cdnnl_conv_keeps_weights(const cdnnl_conv *c) {
    return c->wino ? cwino_keeps_weights(c->wino) : c->f_wei.to_prim != NULL && !c->f_wei.lent;
}

static const dnnl_memory_desc_t *query(dnnl_primitive_desc_t pd, dnnl_query_t what) {
    return dnnl_primitive_desc_query_md(pd, what, 0);
}

int cdnnl_bf16_available(void) {
    return (dnnl_get_effective_cpu_isa() & dnnl_cpu_isa_avx512_core_bf16) == dnnl_cpu_isa_avx512_core_bf16;
}

int cdnnl_preferred_block(void) {
    return (dnnl_get_effective_cpu_isa() & dnnl_cpu_isa_avx512_core) == dnnl_cpu_isa_avx512_core ? 16 : 8;
}

static dnnl_format_tag_t activation_tag(int block) {
    return block == 16 ? dnnl_nChw16c : block == 8 ? dnnl_nChw8c : dnnl_nchw;
}

/* 3×3 stride-1 convolutions in nChw8c or nChw16c run on our Winograd kernel (oneDNN 2.6 has none
 * for AVX2, and none for training at all) where it measured faster than oneDNN's direct one
 * (`abn-hitl bench --kernels`, AVX2): 16+ channels in and out (1.1× at 16, 1.9-2.7× at 32-64, 1.8-2.5× at
 * 128-256), and enough tiles that every thread gets a chunk (a 7×7 or 14×14 map at batch 1 ran
 * 0.4-1× the direct kernel on one thread). Up to 512×512 channels: inference keeps each layer's
 * transformed weights (4× its 3×3 weights, 37.7 MB at 512×512; training makes them anew at each call
 * in one shared buffer); past 256×256 the kernel multiplies the batch's tiles by output-channel
 * shares (winograd.c). There it matched oneDNN's AVX-512 Winograd in speed with less memory
 * (ResNet-18-ABN inference 48.7 against 49.1 img/s, peak RSS 903 against 1183 MB) and on AVX2, where
 * oneDNN has none, ran ResNet-50-ABN inference 1.12× and ResNet-18-ABN's 1.41× faster than the
 * direct kernel. ABN_WINOGRAD=0 keeps oneDNN's kernels. */
#define WINOGRAD_MIN_CHANNELS 16
#define WINOGRAD_MAX_WEIGHTS (512 * 512)

int cdnnl_winograd_enabled(void) {
    static int enabled = -1;
    if (enabled < 0) {
        const char *env = getenv("ABN_WINOGRAD");
        enabled = !(env && strcmp(env, "0") == 0) && cwino_available();
    }
    return enabled;
}

static int winograd_wanted(const cdnnl_conv_params *p) {
    return cdnnl_winograd_enabled() && !p->direct_only && !(p->bf16 && !p->training) && p->groups <= 1 && (p->src_block == 8 || p->src_block == 16) &&
           p->dst_block == p->src_block && p->r == 3 &&
           p->stride == 1 && p->pad == 1 && p->c >= WINOGRAD_MIN_CHANNELS && p->k >= WINOGRAD_MIN_CHANNELS &&
           (long)p->c * p->k <= WINOGRAD_MAX_WEIGHTS &&
           cwino_chunks(p->n, p->h, p->w) >= omp_get_max_threads();
}

/* Winograd's backward weights transform every tile of the input and of the gradient, and at few
 * channels that work is not repaid by cheaper products. On AVX-512 oneDNN's direct kernel was faster
 * at 16 channels (`abn-hitl bench --kernels`: Zen 4 0.83× ours; Zen 5, whose FMAs are twice as wide,
 * 0.67× with the transforms on 16 lanes; from 32 channels ours won, 1.05× at 32→32, 1.29× at 32→64), so
 * those layers keep Winograd for the forward pass and backward data only. On AVX2 ours was as fast at
 * 16 channels and faster from 32 (0.98×, 1.60×). */
#define WINOGRAD_WGRAD_MIN_CHANNELS_AVX512 32
static int wgrad_min_channels = -1; /* set on first use, or by the test switch */

int cdnnl_winograd_backward_weights_min_channels(int channels) {
    if (wgrad_min_channels < 0) wgrad_min_channels = cdnnl_preferred_block() == 16 ? WINOGRAD_WGRAD_MIN_CHANNELS_AVX512 : 0;
    int previous = wgrad_min_channels;
    if (channels >= 0) wgrad_min_channels = channels;
    return previous;
}

int cdnnl_winograd_backward_weights_wanted(int c, int k) {
    int min = cdnnl_winograd_backward_weights_min_channels(-1);
    return c >= min && k >= min;
}

static int add_direct_backward_weights(cdnnl_conv *cv, const cdnnl_conv_params *p);
static int make_backward_weights(cdnnl_conv *cv, const dnnl_memory_desc_t *src_user, const dnnl_memory_desc_t *src_prim,
                                 const dnnl_memory_desc_t *wei_user, const dnnl_memory_desc_t *wei_any,
                                 const dnnl_memory_desc_t *dst_user, const dnnl_memory_desc_t *dst_prim, const dnnl_dims_t strides,
                                 const dnnl_dims_t padding, const_dnnl_primitive_desc_t hint);

/* The residual of a block's last convolution, added before its ReLU. oneDNN's sum post-op adds what
 * dst holds, so the residual had to be copied into dst first: a pass over every block's output, about
 * 2% of ResNet-50-ABN inference. A binary add post-op reads it where it lies. It replaces the sum where
 * oneDNN runs the same implementation with it and the same dst layout (the jit kernels do; where it
 * would fall back to another, the sum stays). */
static void take_binary_residual(cdnnl_conv *cv, const dnnl_convolution_desc_t *desc, const dnnl_memory_desc_t *dst_user, int relu) {
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t ops = NULL;
    dnnl_primitive_desc_t pd = NULL;
    if (dnnl_primitive_attr_create(&attr) == dnnl_success && dnnl_post_ops_create(&ops) == dnnl_success &&
        dnnl_post_ops_append_binary(ops, dnnl_binary_add, dst_user) == dnnl_success &&
        (!relu || dnnl_post_ops_append_eltwise(ops, 1.0f, dnnl_eltwise_relu, 0.0f, 0.0f) == dnnl_success) &&
        dnnl_primitive_attr_set_post_ops(attr, ops) == dnnl_success &&
        dnnl_primitive_desc_create(&pd, desc, attr, engine, NULL) == dnnl_success) {
        const char *with_sum = NULL, *with_binary = NULL;
        dnnl_primitive_desc_query(cv->fwd_pd, dnnl_query_impl_info_str, 0, &with_sum);
        dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &with_binary);
        if (with_sum && with_binary && strcmp(with_sum, with_binary) == 0 &&
            dnnl_memory_desc_equal(query(pd, dnnl_query_dst_md), query(cv->fwd_pd, dnnl_query_dst_md))) {
            dnnl_primitive_desc_destroy(cv->fwd_pd);
            cv->fwd_pd = pd;
            pd = NULL;
            cv->residual = RESIDUAL_IN_PLACE;
        }
    }
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (ops) dnnl_post_ops_destroy(ops);
    if (attr) dnnl_primitive_attr_destroy(attr);
}

cdnnl_conv *cdnnl_conv_create(const cdnnl_conv_params *p) {
    if (ensure_engine()) return NULL;
    if (p->bf16 && !cdnnl_bf16_available()) {
        snprintf(last_error, sizeof last_error, "bfloat16 convolutions need a CPU with AVX512_BF16");
        return NULL;
    }
    cdnnl_conv *cv = calloc(1, sizeof *cv);
    if (!cv) return NULL;
    cv->oh = (p->h + 2 * p->pad - p->r) / p->stride + 1;
    cv->ow = (p->w + 2 * p->pad - p->r) / p->stride + 1;
    cv->training = p->training;
    cv->with_bias = p->with_bias;
    /* oneDNN's primitives start with its sum post-op (take_binary_residual may replace it). */
    cv->residual = p->post_residual ? RESIDUAL_BY_SUM : NO_RESIDUAL;
    cv->post_relu = p->post_relu;
    /* On the Winograd kernel a convolution needs nothing from oneDNN. Training runs all three passes
     * on it: backward data of a 3×3 stride-1 padding-1 convolution is one with the weights flipped and
     * transposed, backward weights is cwino_backward_weights. Only where a kernel cannot be had
     * (memory) do oneDNN's primitives serve instead; building them beside it cost memory for nothing
     * (their reordered weights). */
    if (winograd_wanted(p)) {
        if (!p->training) {
            cv->wino = cwino_create(p->n, p->c, p->h, p->w, p->k, p->src_block);
            if (cv->wino) {
                if (p->post_residual) cv->residual = RESIDUAL_IN_PLACE; /* its output transform reads it */
                return cv;
            }
        } else {
            cv->wino = cwino_create_for_training(p->n, p->c, p->h, p->w, p->k, p->src_block);
            cv->wino_bwd = cwino_create_for_training(p->n, p->k, p->h, p->w, p->c, p->src_block);
            if (cv->wino && cv->wino_bwd) {
                if (cdnnl_winograd_backward_weights_wanted(p->c, p->k) || add_direct_backward_weights(cv, p) == 0) return cv;
                cdnnl_conv_destroy(cv);
                return NULL;
            }
            cwino_destroy(cv->wino);
            cwino_destroy(cv->wino_bwd);
            cv->wino = cv->wino_bwd = NULL;
        }
    }
    int g = p->groups > 1 ? p->groups : 1;
    if (p->c % g || p->k % g) {
        snprintf(last_error, sizeof last_error, "grouped convolution: %d and %d channels do not divide into %d groups", p->c, p->k, g);
        free(cv);
        return NULL;
    }
    /* Grouped weights are 5-D for oneDNN: [g, k/g, c/g, r, r], the bytes of PyTorch's [k, c/g, r, r]. */
    int wei_ndims = g > 1 ? 5 : 4;
    dnnl_dims_t src_dims = {p->n, p->c, p->h, p->w}, wei_dims = {p->k, p->c, p->r, p->r};
    if (g > 1) { wei_dims[0] = g; wei_dims[1] = p->k / g; wei_dims[2] = p->c / g; wei_dims[3] = p->r; wei_dims[4] = p->r; }
    dnnl_dims_t dst_dims = {p->n, p->k, cv->oh, cv->ow}, bias_dims = {p->k};
    dnnl_dims_t strides = {p->stride, p->stride}, padding = {p->pad, p->pad};
    dnnl_memory_desc_t src_user, wei_user, dst_user, bias_user, src_prim, wei_any, dst_prim, bias_any;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t ops = NULL;
    /* When source and destination share a blocked layout, ask for exactly it, so no reorders run
     * between layers; otherwise (network edges, odd channel counts) let oneDNN choose and reorder. */
    int keep = p->src_block == p->dst_block && p->src_block > 1;
    /* bfloat16: the primitive reads src and weights as bf16 (reordered from the caller's floats at
     * the edge, the weights once per version) and writes float, so everything around it stays float. */
    const dnnl_data_type_t compute_type = p->bf16 ? dnnl_bf16 : dnnl_f32;
    CHECK(dnnl_memory_desc_init_by_tag(&src_user, 4, src_dims, dnnl_f32, activation_tag(p->src_block)), "md");
    CHECK(dnnl_memory_desc_init_by_tag(&wei_user, wei_ndims, wei_dims, dnnl_f32, g > 1 ? dnnl_goihw : dnnl_oihw), "md");
    CHECK(dnnl_memory_desc_init_by_tag(&dst_user, 4, dst_dims, dnnl_f32, activation_tag(p->dst_block)), "md");
    CHECK(dnnl_memory_desc_init_by_tag(&bias_user, 1, bias_dims, dnnl_f32, dnnl_x), "md");
    CHECK(dnnl_memory_desc_init_by_tag(&src_prim, 4, src_dims, compute_type, keep ? activation_tag(p->src_block) : dnnl_format_tag_any), "md");
    CHECK(dnnl_memory_desc_init_by_tag(&wei_any, wei_ndims, wei_dims, compute_type, dnnl_format_tag_any), "md");
    CHECK(dnnl_memory_desc_init_by_tag(&dst_prim, 4, dst_dims, dnnl_f32, keep ? activation_tag(p->dst_block) : dnnl_format_tag_any), "md");
    CHECK(dnnl_memory_desc_init_by_tag(&bias_any, 1, bias_dims, dnnl_f32, dnnl_x), "md");

    dnnl_prop_kind_t prop = p->training ? dnnl_forward_training : dnnl_forward_inference;
    dnnl_convolution_desc_t fd;
    CHECK(dnnl_convolution_forward_desc_init(&fd, prop, dnnl_convolution_direct, &src_prim, &wei_any,
                                             p->with_bias ? &bias_any : NULL, &dst_prim, strides, padding, padding),
          "convolution_forward_desc_init");
    CHECK(dnnl_primitive_attr_create(&attr), "attr");
    if (p->post_residual || p->post_relu) {
        CHECK(dnnl_post_ops_create(&ops), "post_ops");
        if (p->post_residual) CHECK(dnnl_post_ops_append_sum(ops, 1.0f), "post_ops");
        if (p->post_relu) CHECK(dnnl_post_ops_append_eltwise(ops, 1.0f, dnnl_eltwise_relu, 0.0f, 0.0f), "post_ops");
        CHECK(dnnl_primitive_attr_set_post_ops(attr, ops), "post_ops");
    }
    /* Inference 3×3 stride-1 convolutions with 32+ channels in nChw16c that ours does not take (over
     * 512×512 channels, too few tiles, ABN_WINOGRAD=0): oneDNN's Winograd F(4×4, 3×3) kernel (AVX-512)
     * measured 1.35-2× the direct one here (1.2 vs 1.6 ms at 32 channels, 16², 3.2 vs 6.4 ms at 64);
     * at 16 channels it was slower. Where it is unavailable, stay direct. */
    dnnl_convolution_desc_t wd;
    if (!p->training && !p->bf16 && keep && g == 1 && p->src_block == 16 && p->r == 3 && p->stride == 1 && p->c >= 32 && p->k >= 32) {
        if (dnnl_convolution_forward_desc_init(&wd, prop, dnnl_convolution_winograd, &src_prim, &wei_any,
                                               p->with_bias ? &bias_any : NULL, &dst_prim, strides, padding, padding) == dnnl_success &&
            dnnl_primitive_desc_create(&cv->fwd_pd, &wd, attr, engine, NULL) != dnnl_success)
            cv->fwd_pd = NULL;
    }
    const int winograd = cv->fwd_pd != NULL;
    if (!winograd) CHECK(dnnl_primitive_desc_create(&cv->fwd_pd, &fd, attr, engine, NULL), "convolution forward");
    if (p->post_residual) take_binary_residual(cv, winograd ? &wd : &fd, &dst_user, p->post_relu);
    CHECK(dnnl_primitive_create(&cv->fwd, cv->fwd_pd), "convolution forward");
    shared_buffer_t *lend_sources = p->training ? &lent_sources : NULL, *lend_weights = p->training ? &lent_weights : NULL;
    if (arg_init(&cv->f_src, &src_user, query(cv->fwd_pd, dnnl_query_src_md), 1, 0, lend_sources)) goto fail;
    if (arg_init(&cv->f_wei, &wei_user, query(cv->fwd_pd, dnnl_query_weights_md), 1, 0, lend_weights)) goto fail;
    if (p->with_bias && arg_init(&cv->f_bias, &bias_user, dnnl_primitive_desc_query_md(cv->fwd_pd, dnnl_query_weights_md, 1), 1, 0, NULL)) goto fail;
    /* With the sum post-op dst is an input too. */
    if (arg_init(&cv->f_dst, &dst_user, query(cv->fwd_pd, dnnl_query_dst_md), cv->residual == RESIDUAL_BY_SUM, 1, NULL)) goto fail;
    if (cv->residual == RESIDUAL_IN_PLACE && arg_init(&cv->f_res, &dst_user, &dst_user, 0, 0, NULL)) goto fail;

    if (p->training) {
        /* In bfloat16 the gradients flowing in are rounded as the activations are; what flows out (the
         * input's and the weights' gradients) stays float. */
        dnnl_memory_desc_t diff_src_prim, diff_dst_prim;
        CHECK(dnnl_memory_desc_init_by_tag(&diff_src_prim, 4, src_dims, dnnl_f32, keep ? activation_tag(p->src_block) : dnnl_format_tag_any), "md");
        CHECK(dnnl_memory_desc_init_by_tag(&diff_dst_prim, 4, dst_dims, compute_type, keep ? activation_tag(p->dst_block) : dnnl_format_tag_any), "md");
        dnnl_convolution_desc_t bd;
        CHECK(dnnl_convolution_backward_data_desc_init(&bd, dnnl_convolution_direct, &diff_src_prim, &wei_any, &diff_dst_prim,
                                                       strides, padding, padding), "convolution_backward_data_desc_init");
        CHECK(dnnl_primitive_desc_create(&cv->bwd_data_pd, &bd, NULL, engine, cv->fwd_pd), "convolution backward data");
        CHECK(dnnl_primitive_create(&cv->bwd_data, cv->bwd_data_pd), "convolution backward data");
        if (arg_init(&cv->d_diff_dst, &dst_user, query(cv->bwd_data_pd, dnnl_query_diff_dst_md), 1, 0, &lent_gradients)) goto fail;
        if (arg_init(&cv->d_wei, &wei_user, query(cv->bwd_data_pd, dnnl_query_weights_md), 1, 0, &lent_weights)) goto fail;
        if (arg_init(&cv->d_diff_src, &src_user, query(cv->bwd_data_pd, dnnl_query_diff_src_md), 0, 1, NULL)) goto fail;

        dnnl_memory_desc_t diff_wei_any;
        CHECK(dnnl_memory_desc_init_by_tag(&diff_wei_any, wei_ndims, wei_dims, dnnl_f32, dnnl_format_tag_any), "md");
        if (make_backward_weights(cv, &src_user, &src_prim, &wei_user, &diff_wei_any, &dst_user, &diff_dst_prim, strides, padding, cv->fwd_pd))
            goto fail;
    }
    if (ops) dnnl_post_ops_destroy(ops);
    dnnl_primitive_attr_destroy(attr);
    return cv;
fail:
    if (ops) dnnl_post_ops_destroy(ops);
    if (attr) dnnl_primitive_attr_destroy(attr);
    cdnnl_conv_destroy(cv);
    return NULL;
}

/* oneDNN's backward weights (direct), its arguments in the caller's layouts (`*_user`) and the
 * primitive's (`*_prim`, weights `wei_any`); `hint` is the forward primitive descriptor oneDNN asks for. */
static int make_backward_weights(cdnnl_conv *cv, const dnnl_memory_desc_t *src_user, const dnnl_memory_desc_t *src_prim,
                                 const dnnl_memory_desc_t *wei_user, const dnnl_memory_desc_t *wei_any,
                                 const dnnl_memory_desc_t *dst_user, const dnnl_memory_desc_t *dst_prim, const dnnl_dims_t strides,
                                 const dnnl_dims_t padding, const_dnnl_primitive_desc_t hint) {
    dnnl_convolution_desc_t wd;
    CHECK(dnnl_convolution_backward_weights_desc_init(&wd, dnnl_convolution_direct, src_prim, wei_any, NULL, dst_prim, strides,
                                                      padding, padding), "convolution_backward_weights_desc_init");
    CHECK(dnnl_primitive_desc_create(&cv->bwd_weights_pd, &wd, NULL, engine, hint), "convolution backward weights");
    CHECK(dnnl_primitive_create(&cv->bwd_weights, cv->bwd_weights_pd), "convolution backward weights");
    if (arg_init(&cv->w_src, src_user, query(cv->bwd_weights_pd, dnnl_query_src_md), 1, 0, &lent_sources)) goto fail;
    if (arg_init(&cv->w_diff_dst, dst_user, query(cv->bwd_weights_pd, dnnl_query_diff_dst_md), 1, 0, &lent_gradients)) goto fail;
    if (arg_init(&cv->w_diff_wei, wei_user, query(cv->bwd_weights_pd, dnnl_query_diff_weights_md), 0, 1, &lent_weights)) goto fail;
    return 0;
fail:
    return -1;
}

/* oneDNN's backward weights for a convolution whose other passes run on the Winograd kernel (the
 * activations already in oneDNN's blocked layout): the forward descriptor is only the hint, then dropped. */
static int add_direct_backward_weights(cdnnl_conv *cv, const cdnnl_conv_params *p) {
    dnnl_dims_t src_dims = {p->n, p->c, p->h, p->w}, wei_dims = {p->k, p->c, p->r, p->r}, dst_dims = {p->n, p->k, cv->oh, cv->ow};
    dnnl_dims_t strides = {p->stride, p->stride}, padding = {p->pad, p->pad};
    dnnl_memory_desc_t src_md, dst_md, wei_user, wei_any;
    dnnl_convolution_desc_t fd;
    dnnl_primitive_desc_t hint = NULL;
    int status = -1;
    CHECK(dnnl_memory_desc_init_by_tag(&src_md, 4, src_dims, dnnl_f32, activation_tag(p->src_block)), "md");
    CHECK(dnnl_memory_desc_init_by_tag(&dst_md, 4, dst_dims, dnnl_f32, activation_tag(p->dst_block)), "md");
    CHECK(dnnl_memory_desc_init_by_tag(&wei_user, 4, wei_dims, dnnl_f32, dnnl_oihw), "md");
    CHECK(dnnl_memory_desc_init_by_tag(&wei_any, 4, wei_dims, dnnl_f32, dnnl_format_tag_any), "md");
    CHECK(dnnl_convolution_forward_desc_init(&fd, dnnl_forward_training, dnnl_convolution_direct, &src_md, &wei_any, NULL,
                                             &dst_md, strides, padding, padding), "convolution_forward_desc_init");
    CHECK(dnnl_primitive_desc_create(&hint, &fd, NULL, engine, NULL), "convolution forward");
    status = make_backward_weights(cv, &src_md, &src_md, &wei_user, &wei_any, &dst_md, &dst_md, strides, padding, hint);
fail:
    if (hint) dnnl_primitive_desc_destroy(hint);
    return status;
}

void cdnnl_conv_destroy(cdnnl_conv *cv) {
    if (!cv) return;
    cwino_destroy(cv->wino);
    cwino_destroy(cv->wino_bwd);
    arg_t *args[] = {&cv->f_src, &cv->f_wei, &cv->f_bias, &cv->f_dst, &cv->f_res, &cv->d_diff_dst, &cv->d_wei, &cv->d_diff_src,
                     &cv->w_src, &cv->w_diff_dst, &cv->w_diff_wei};
    for (size_t i = 0; i < sizeof args / sizeof *args; i++) arg_free(args[i]);
    if (cv->fwd) dnnl_primitive_destroy(cv->fwd);
    if (cv->bwd_data) dnnl_primitive_destroy(cv->bwd_data);
    if (cv->bwd_weights) dnnl_primitive_destroy(cv->bwd_weights);
    if (cv->fwd_pd) dnnl_primitive_desc_destroy(cv->fwd_pd);
    if (cv->bwd_data_pd) dnnl_primitive_desc_destroy(cv->bwd_data_pd);
    if (cv->bwd_weights_pd) dnnl_primitive_desc_destroy(cv->bwd_weights_pd);
    free(cv);
}

static int execute(dnnl_primitive_t p, int nargs, dnnl_exec_arg_t *args, const char *what) {
    dnnl_status_t status = dnnl_primitive_execute(p, stream, nargs, args);
    if (status != dnnl_success) {
        snprintf(last_error, sizeof last_error, "oneDNN: %s failed (status %d)", what, (int)status);
        return -1;
    }
    return 0;
}

/* oneDNN's forward; lent copies (input, weights) are borrowed by the caller. */
static int forward_direct(cdnnl_conv *cv, const float *src, const float *weights, int weights_changed, const float *bias,
                          const float *residual, float *dst) {
    if (arg_in(&cv->f_src, src) || arg_in_cached(&cv->f_wei, weights, weights_changed)) return -1;
    if (cv->with_bias && arg_in(&cv->f_bias, bias)) return -1;
    dnnl_exec_arg_t args[5] = {{DNNL_ARG_SRC, cv->f_src.prim_mem}, {DNNL_ARG_WEIGHTS, cv->f_wei.prim_mem},
                               {DNNL_ARG_DST, cv->f_dst.prim_mem}};
    int count = 3;
    if (cv->with_bias) args[count++] = (dnnl_exec_arg_t){DNNL_ARG_BIAS, cv->f_bias.prim_mem};
    if (cv->residual == RESIDUAL_BY_SUM) {
        /* The sum post-op adds what dst holds (only where oneDNN had no binary one: rare, so copied here). */
        memcpy(dst, residual, dnnl_memory_desc_get_size(&cv->f_dst.user_md));
        if (arg_in(&cv->f_dst, dst)) return -1;
    } else if (dnnl_memory_set_data_handle(cv->f_dst.user_mem, dst) != dnnl_success) return -1;
    if (cv->residual == RESIDUAL_IN_PLACE) {
        if (dnnl_memory_set_data_handle(cv->f_res.user_mem, (void *)residual) != dnnl_success) return -1;
        args[count++] = (dnnl_exec_arg_t){DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1, cv->f_res.prim_mem};
    }
    if (execute(cv->fwd, count, args, "convolution forward")) return -1;
    if (arg_out_finish(&cv->f_dst)) return -1;
    return dnnl_stream_wait(stream) == dnnl_success ? 0 : -1;
}

int cdnnl_conv_forward(cdnnl_conv *cv, const float *src, const float *weights, int weights_changed, const float *bias,
                       const float *residual, float *dst) {
    if ((cv->residual == NO_RESIDUAL) != !residual) {
        snprintf(last_error, sizeof last_error, residual ? "a residual given to a convolution made without one"
                                                         : "a convolution made to add a residual called without one");
        return -1;
    }
    if (cv->wino) {
        /* Training convolutions have no bias or post-ops; their transformed weights are made anew. */
        int status;
        if (cv->training) status = cwino_forward_with_weights(cv->wino, weights, 0, src, dst);
        else {
            if (weights_changed) cwino_set_weights(cv->wino, weights, bias, 0);
            else cwino_set_bias(cv->wino, bias);
            status = cwino_forward(cv->wino, src, dst, residual, cv->post_relu);
        }
        if (status == 0) return 0;
        snprintf(last_error, sizeof last_error, "Winograd convolution: out of memory");
        return -1;
    }
    arg_t *lent[2] = {&cv->f_src, &cv->f_wei};
    if (arg_borrow_all(lent, 2)) return -1;
    int status = forward_direct(cv, src, weights, weights_changed || cv->f_wei.lent, bias, residual, dst);
    arg_return_all(lent, 2);
    return status;
}

/* One of oneDNN's backward passes: inputs a and b in, out back to the caller's layout; lent copies
 * borrowed for the call in the order a, b, out (sources, gradients, weights). */
static int run_backward(dnnl_primitive_t prim, const char *what, int id_a, arg_t *a, const void *pa, int id_b,
                        arg_t *b, const void *pb, int id_out, arg_t *out, void *pout) {
    arg_t *lent[3] = {a, b, out};
    if (arg_borrow_all(lent, 3)) return -1;
    int status = -1;
    if (!arg_in(a, pa) && !arg_in(b, pb) && dnnl_memory_set_data_handle(out->user_mem, pout) == dnnl_success) {
        dnnl_exec_arg_t args[3] = {{id_a, a->prim_mem}, {id_b, b->prim_mem}, {id_out, out->prim_mem}};
        if (!execute(prim, 3, args, what) && !arg_out_finish(out) && dnnl_stream_wait(stream) == dnnl_success) status = 0;
    }
    arg_return_all(lent, 3);
    return status;
}

int cdnnl_conv_backward_data(cdnnl_conv *cv, const float *diff_dst, const float *weights, float *diff_src) {
    if (!cv->training) { snprintf(last_error, sizeof last_error, "convolution built for inference"); return -1; }
    if (cv->wino_bwd) {
        /* diff_src[c, y, x] = Σ diff_dst[k, y − 1 + a, x − 1 + b] · W[k, c, 2 − a, 2 − b] */
        if (cwino_forward_with_weights(cv->wino_bwd, weights, 1, diff_dst, diff_src) == 0) return 0;
        snprintf(last_error, sizeof last_error, "Winograd convolution: out of memory");
        return -1;
    }
    return run_backward(cv->bwd_data, "convolution backward data", DNNL_ARG_DIFF_DST, &cv->d_diff_dst, diff_dst,
                        DNNL_ARG_WEIGHTS, &cv->d_wei, weights, DNNL_ARG_DIFF_SRC, &cv->d_diff_src, diff_src);
}

int cdnnl_conv_backward_weights(cdnnl_conv *cv, const float *src, const float *diff_dst, float *diff_weights) {
    if (!cv->training) { snprintf(last_error, sizeof last_error, "convolution built for inference"); return -1; }
    if (cv->wino && !cv->bwd_weights) {
        if (cwino_backward_weights(cv->wino, src, diff_dst, diff_weights) == 0) return 0;
        snprintf(last_error, sizeof last_error, "Winograd convolution: out of memory");
        return -1;
    }
    return run_backward(cv->bwd_weights, "convolution backward weights", DNNL_ARG_SRC, &cv->w_src, src,
                        DNNL_ARG_DIFF_DST, &cv->w_diff_dst, diff_dst, DNNL_ARG_DIFF_WEIGHTS, &cv->w_diff_wei, diff_weights);
}

int cdnnl_sgemm(char transa, char transb, long m, long n, long k, float alpha, const float *a, long lda,
                const float *b, long ldb, float beta, float *c, long ldc) {
    return dnnl_sgemm(transa, transb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) == dnnl_success ? 0 : -1;
}

/* ---- Average pooling, concatenation and channel slices: primitives that read and write the
 * caller's layout directly (no reorders), memory objects re-pointed at each call. ---- */

struct cdnnl_pool {
    dnnl_primitive_desc_t fwd_pd, bwd_pd;
    dnnl_primitive_t fwd, bwd;
    dnnl_memory_t src, dst;
};

void cdnnl_pool_destroy(cdnnl_pool *p) {
    if (!p) return;
    if (p->fwd) dnnl_primitive_destroy(p->fwd);
    if (p->bwd) dnnl_primitive_destroy(p->bwd);
    if (p->fwd_pd) dnnl_primitive_desc_destroy(p->fwd_pd);
    if (p->bwd_pd) dnnl_primitive_desc_destroy(p->bwd_pd);
    if (p->src) dnnl_memory_destroy(p->src);
    if (p->dst) dnnl_memory_destroy(p->dst);
    free(p);
}

cdnnl_pool *cdnnl_pool_create(int n, int c, int h, int w, int kh, int kw, int sh, int sw, int block, int training) {
    if (ensure_engine()) return NULL;
    if (kh < 1 || kw < 1 || sh < 1 || sw < 1 || kh > h || kw > w) {
        snprintf(last_error, sizeof last_error, "average pooling: a %dx%d window does not fit a %dx%d map", kh, kw, h, w);
        return NULL;
    }
    cdnnl_pool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    int oh = (h - kh) / sh + 1, ow = (w - kw) / sw + 1;
    dnnl_dims_t src_dims = {n, c, h, w}, dst_dims = {n, c, oh, ow};
    dnnl_dims_t strides = {sh, sw}, kernel = {kh, kw}, padding = {0, 0};
    dnnl_memory_desc_t src_md, dst_md;
    dnnl_pooling_desc_t fd, bd;
    CHECK(dnnl_memory_desc_init_by_tag(&src_md, 4, src_dims, dnnl_f32, activation_tag(block)), "md");
    CHECK(dnnl_memory_desc_init_by_tag(&dst_md, 4, dst_dims, dnnl_f32, activation_tag(block)), "md");
    CHECK(dnnl_pooling_forward_desc_init(&fd, training ? dnnl_forward_training : dnnl_forward_inference,
                                         dnnl_pooling_avg_exclude_padding, &src_md, &dst_md, strides, kernel, padding, padding),
          "pooling_forward_desc_init");
    CHECK(dnnl_primitive_desc_create(&p->fwd_pd, &fd, NULL, engine, NULL), "pooling forward");
    CHECK(dnnl_primitive_create(&p->fwd, p->fwd_pd), "pooling forward");
    if (training) {
        CHECK(dnnl_pooling_backward_desc_init(&bd, dnnl_pooling_avg_exclude_padding, &src_md, &dst_md, strides, kernel,
                                              padding, padding), "pooling_backward_desc_init");
        CHECK(dnnl_primitive_desc_create(&p->bwd_pd, &bd, NULL, engine, p->fwd_pd), "pooling backward");
        CHECK(dnnl_primitive_create(&p->bwd, p->bwd_pd), "pooling backward");
    }
    CHECK(dnnl_memory_create(&p->src, &src_md, engine, DNNL_MEMORY_NONE), "memory_create");
    CHECK(dnnl_memory_create(&p->dst, &dst_md, engine, DNNL_MEMORY_NONE), "memory_create");
    return p;
fail:
    cdnnl_pool_destroy(p);
    return NULL;
}

/* Executes on the calling thread alone when the data is small (see SERIAL_REORDER_BYTES). */
static int execute_sized(dnnl_primitive_t prim, int nargs, dnnl_exec_arg_t *args, size_t bytes, const char *what) {
    int threads = omp_get_max_threads(), serial = bytes <= SERIAL_REORDER_BYTES;
    if (serial) omp_set_num_threads(1);
    int status = execute(prim, nargs, args, what);
    if (status == 0 && dnnl_stream_wait(stream) != dnnl_success) status = -1;
    if (serial) omp_set_num_threads(threads);
    return status;
}

static size_t memory_bytes(dnnl_memory_t m) {
    const dnnl_memory_desc_t *md;
    return dnnl_memory_get_memory_desc(m, &md) == dnnl_success ? dnnl_memory_desc_get_size(md) : 0;
}

static int run_two(dnnl_primitive_t prim, int arg_a, dnnl_memory_t a, const void *pa, int arg_b, dnnl_memory_t b, void *pb,
                   const char *what) {
    if (dnnl_memory_set_data_handle(a, (void *)pa) != dnnl_success || dnnl_memory_set_data_handle(b, pb) != dnnl_success) {
        snprintf(last_error, sizeof last_error, "oneDNN: %s: cannot set the buffers", what);
        return -1;
    }
    dnnl_exec_arg_t args[2] = {{arg_a, a}, {arg_b, b}};
    return execute_sized(prim, 2, args, memory_bytes(a) + memory_bytes(b), what);
}

int cdnnl_pool_forward(cdnnl_pool *p, const float *src, float *dst) {
    return run_two(p->fwd, DNNL_ARG_SRC, p->src, src, DNNL_ARG_DST, p->dst, dst, "average pooling forward");
}

int cdnnl_pool_backward(cdnnl_pool *p, const float *diff_dst, float *diff_src) {
    if (!p->bwd) { snprintf(last_error, sizeof last_error, "average pooling built for inference"); return -1; }
    return run_two(p->bwd, DNNL_ARG_DIFF_DST, p->dst, diff_dst, DNNL_ARG_DIFF_SRC, p->src, diff_src, "average pooling backward");
}

struct cdnnl_concat {
    dnnl_primitive_desc_t pd;
    dnnl_primitive_t prim;
    dnnl_memory_t a, b, dst;
};

void cdnnl_concat_destroy(cdnnl_concat *c) {
    if (!c) return;
    if (c->prim) dnnl_primitive_destroy(c->prim);
    if (c->pd) dnnl_primitive_desc_destroy(c->pd);
    if (c->a) dnnl_memory_destroy(c->a);
    if (c->b) dnnl_memory_destroy(c->b);
    if (c->dst) dnnl_memory_destroy(c->dst);
    free(c);
}

cdnnl_concat *cdnnl_concat_create(int n, int ca, int cb, int h, int w, int block_a, int block_b, int block_dst) {
    if (ensure_engine()) return NULL;
    cdnnl_concat *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    dnnl_dims_t a_dims = {n, ca, h, w}, b_dims = {n, cb, h, w}, dst_dims = {n, ca + cb, h, w};
    dnnl_memory_desc_t srcs[2], dst_md;
    CHECK(dnnl_memory_desc_init_by_tag(&srcs[0], 4, a_dims, dnnl_f32, activation_tag(block_a)), "md");
    CHECK(dnnl_memory_desc_init_by_tag(&srcs[1], 4, b_dims, dnnl_f32, activation_tag(block_b)), "md");
    CHECK(dnnl_memory_desc_init_by_tag(&dst_md, 4, dst_dims, dnnl_f32, activation_tag(block_dst)), "md");
    CHECK(dnnl_concat_primitive_desc_create(&c->pd, &dst_md, 2, 1, srcs, NULL, engine), "concat");
    CHECK(dnnl_primitive_create(&c->prim, c->pd), "concat");
    CHECK(dnnl_memory_create(&c->a, &srcs[0], engine, DNNL_MEMORY_NONE), "memory_create");
    CHECK(dnnl_memory_create(&c->b, &srcs[1], engine, DNNL_MEMORY_NONE), "memory_create");
    CHECK(dnnl_memory_create(&c->dst, &dst_md, engine, DNNL_MEMORY_NONE), "memory_create");
    return c;
fail:
    cdnnl_concat_destroy(c);
    return NULL;
}

int cdnnl_concat_run(cdnnl_concat *c, const float *a, const float *b, float *dst) {
    if (dnnl_memory_set_data_handle(c->a, (void *)a) != dnnl_success || dnnl_memory_set_data_handle(c->b, (void *)b) != dnnl_success ||
        dnnl_memory_set_data_handle(c->dst, dst) != dnnl_success) {
        snprintf(last_error, sizeof last_error, "oneDNN: concat: cannot set the buffers");
        return -1;
    }
    dnnl_exec_arg_t args[3] = {{DNNL_ARG_MULTIPLE_SRC, c->a}, {DNNL_ARG_MULTIPLE_SRC + 1, c->b}, {DNNL_ARG_DST, c->dst}};
    return execute_sized(c->prim, 3, args, 2 * memory_bytes(c->dst), "concat");
}

/* A channel slice is a reorder from a sub-memory view of the source (oneDNN's way to split). */
struct cdnnl_slice {
    dnnl_primitive_t prim;
    dnnl_memory_t src, dst;
};

void cdnnl_slice_destroy(cdnnl_slice *s) {
    if (!s) return;
    if (s->prim) dnnl_primitive_destroy(s->prim);
    if (s->src) dnnl_memory_destroy(s->src);
    if (s->dst) dnnl_memory_destroy(s->dst);
    free(s);
}

cdnnl_slice *cdnnl_slice_create(int n, int c, int h, int w, int block_src, int first, int count, int block_dst) {
    if (ensure_engine()) return NULL;
    if (first < 0 || count < 1 || first + count > c) {
        snprintf(last_error, sizeof last_error, "channel slice %d..<%d outside %d channels", first, first + count, c);
        return NULL;
    }
    cdnnl_slice *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    dnnl_dims_t src_dims = {n, c, h, w}, part_dims = {n, count, h, w}, offsets = {0, first, 0, 0};
    dnnl_memory_desc_t src_md, part_md, dst_md;
    dnnl_primitive_desc_t pd = NULL;
    CHECK(dnnl_memory_desc_init_by_tag(&src_md, 4, src_dims, dnnl_f32, activation_tag(block_src)), "md");
    CHECK(dnnl_memory_desc_init_submemory(&part_md, &src_md, part_dims, offsets), "submemory");
    CHECK(dnnl_memory_desc_init_by_tag(&dst_md, 4, part_dims, dnnl_f32, activation_tag(block_dst)), "md");
    CHECK(dnnl_reorder_primitive_desc_create(&pd, &part_md, engine, &dst_md, engine, NULL), "slice reorder");
    CHECK(dnnl_primitive_create(&s->prim, pd), "slice reorder");
    dnnl_primitive_desc_destroy(pd);
    pd = NULL;
    CHECK(dnnl_memory_create(&s->src, &part_md, engine, DNNL_MEMORY_NONE), "memory_create");
    CHECK(dnnl_memory_create(&s->dst, &dst_md, engine, DNNL_MEMORY_NONE), "memory_create");
    return s;
fail:
    if (pd) dnnl_primitive_desc_destroy(pd);
    cdnnl_slice_destroy(s);
    return NULL;
}

int cdnnl_slice_run(cdnnl_slice *s, const float *src, float *dst) {
    return run_two(s->prim, DNNL_ARG_FROM, s->src, src, DNNL_ARG_TO, s->dst, dst, "channel slice");
}
