// Convolutions on oneDNN (Debian libdnnl-dev 2.6) behind a small C API.
// Activations are NCHW or channel-blocked (nChw8c / nChw16c, the layouts oneDNN's fast kernels
// use), weights OIHW. Where the caller's layout is not the kernel's, this shim reorders at the
// edges. dnnl_dims_t and pointer-valued macros are awkward from Swift, so all oneDNN calls live here.
#ifndef CDNNL_H
#define CDNNL_H
#include <stddef.h>

typedef struct cdnnl_conv cdnnl_conv;

/// Sets the OpenMP thread count of the calling thread (the one that runs every oneDNN call).
void cdnnl_set_threads(int n);

/// Calls body(context, begin, end) once per thread of the OpenMP team (oneDNN's threads) with that
/// thread's contiguous share of [0, count), in order, and returns when all have returned; on one thread
/// (or count 1) it is a plain call with [0, count). Calls from inside the team run on the caller alone.
void cdnnl_parallel_shares(long count, void *context, void (*body)(void *context, long begin, long end));
/// Threads in the OpenMP team a parallel call uses.
int cdnnl_team_size(void);

/// The channel block oneDNN's kernels want on this CPU: 16 with AVX-512, else 8.
int cdnnl_preferred_block(void);
/// For tests: 0 keeps the Winograd backward weights on its AVX2 kernels on an AVX-512 CPU (default 1).
void cdnnl_winograd_allow_avx512(int allowed);

/// One convolution: src [n, c, h, w] in layout `src_block` (1 = NCHW, 8 / 16 = nChw8c / nChw16c),
/// weights [k, c/groups, r, r] (OIHW; for groups > 1 the same bytes as oneDNN's GOIHW, as PyTorch
/// stores grouped weights), dst in layout `dst_block`, stride, symmetric padding. Inference-only
/// post-ops: `post_residual` adds a residual (given to each forward call), then `post_relu`.
/// 3×3 stride-1 convolutions in nChw8c or nChw16c run on a Winograd F(4×4, 3×3) kernel (winograd.c)
/// unless `direct_only` or `bf16`: inference, and in training all three passes.
/// `bf16` (inference only, where cdnnl_bf16_available()): oneDNN computes with src and weights
/// rounded to bfloat16, accumulating in float; the caller's buffers stay float.
typedef struct {
    int n, c, h, w, k, r, stride, pad;
    int groups; /* 1 for an ordinary convolution; c and k must both divide by it */
    int src_block, dst_block;
    int with_bias, training;
    int post_residual, post_relu;
    int direct_only; /* 1: never the Winograd kernel (tests compare the two) */
    int bf16;        /* 1: bfloat16 src and weights (inference) */
} cdnnl_conv_params;

/// Builds forward (and, when `training`, backward-data and backward-weights) primitives for one
/// shape. Returns NULL on failure; cdnnl_last_error() says why.
cdnnl_conv *cdnnl_conv_create(const cdnnl_conv_params *params);
void cdnnl_conv_destroy(cdnnl_conv *conv);
/// Output height/width of the convolution.
int cdnnl_conv_out_h(const cdnnl_conv *conv);
int cdnnl_conv_out_w(const cdnnl_conv *conv);
/// 1 when this CPU has the Winograd kernel's instructions (AVX2, FMA) and ABN_WINOGRAD is not 0.
int cdnnl_winograd_enabled(void);
/// 1 when oneDNN has bfloat16 convolutions for this CPU (AVX512_BF16: avx512_core_bf16 or newer).
int cdnnl_bf16_available(void);
/// 1 when the forward pass runs on the Winograd kernel.
int cdnnl_conv_is_winograd(const cdnnl_conv *conv);
/// 1 when it adds a residual reading it where it lies (the Winograd kernel, or oneDNN's binary
/// post-op); 0 without a residual, or where oneDNN offered only its sum post-op (the residual is then
/// copied into dst first).
int cdnnl_conv_reads_residual_where_it_lies(const cdnnl_conv *conv);
/// 1 when training's backward weights run on it too (see cdnnl_winograd_backward_weights_min_channels).
int cdnnl_conv_backward_weights_is_winograd(const cdnnl_conv *conv);
/// The fewest input and output channels at which training's backward weights run on the Winograd
/// kernel (the forward pass and backward data run on it from 16): 32 on AVX-512, where oneDNN's direct
/// kernel was faster below, 0 (every Winograd layer) on AVX2. Applies to convolutions made after the
/// call. `channels` >= 0 sets it (tests, `bench --kernels`); returns the value before the call.
int cdnnl_winograd_backward_weights_min_channels(int channels);
/// Whether a Winograd training convolution with c input and k output channels made now takes its
/// backward weights on the Winograd kernel (by the minimum above).
int cdnnl_winograd_backward_weights_wanted(int c, int k);
/// 1 when the forward pass keeps its own copy of the weights (reordered or transformed) once given,
/// so a call with `weights_changed` 0 does not read the caller's weights.
int cdnnl_conv_keeps_weights(const cdnnl_conv *conv);

/// dst = conv(src, weights) (+ bias) (+ residual) (then ReLU), in the layouts given at creation;
/// `residual` (laid out as dst, not overlapping it) exactly when made with `post_residual`, else NULL.
/// `weights_changed` 0 reuses the weights prepared by the previous call (inference).
int cdnnl_conv_forward(cdnnl_conv *conv, const float *src, const float *weights, int weights_changed, const float *bias,
                       const float *residual, float *dst);
/// diff_src = conv_transpose(diff_dst, weights).
int cdnnl_conv_backward_data(cdnnl_conv *conv, const float *diff_dst, const float *weights, float *diff_src);
/// diff_weights = correlation of src and diff_dst (overwritten, not accumulated).
int cdnnl_conv_backward_weights(cdnnl_conv *conv, const float *src, const float *diff_dst, float *diff_weights);

/// Keeps freed blocks up to glibc's mmap maximum (32 MB) in the heap instead of returning them
/// to the kernel, so per-step activations reuse memory (see Allocator.swift).
void cdnnl_keep_freed_blocks(void);

/// The last error message of this thread ("" if none).
const char *cdnnl_last_error(void);

/// C = alpha * op(A) * op(B) + beta * C, row-major, through dnnl_sgemm.
int cdnnl_sgemm(char transa, char transb, long m, long n, long k, float alpha, const float *a, long lda,
                const float *b, long ldb, float beta, float *c, long ldc);
/// Average pooling without padding: windows kh×kw at stride sh×sw over src [n, c, h, w], the output
/// side floored (F.avg_pool2d); src and dst in layout `block` (1, 8 or 16), no reorders. `training`
/// builds the backward too. Global pooling is kh = h, kw = w: its dst [n, c, 1, 1] is [n, c]
/// row-major in every layout.
typedef struct cdnnl_pool cdnnl_pool;
cdnnl_pool *cdnnl_pool_create(int n, int c, int h, int w, int kh, int kw, int sh, int sw, int block, int training);
void cdnnl_pool_destroy(cdnnl_pool *pool);
int cdnnl_pool_forward(cdnnl_pool *pool, const float *src, float *dst);
/// diff_src (overwritten) from diff_dst.
int cdnnl_pool_backward(cdnnl_pool *pool, const float *diff_dst, float *diff_src);

/// [a, b] along the channels: a [n, ca, h, w] in layout block_a, b [n, cb, h, w] in block_b, dst in block_dst.
typedef struct cdnnl_concat cdnnl_concat;
cdnnl_concat *cdnnl_concat_create(int n, int ca, int cb, int h, int w, int block_a, int block_b, int block_dst);
void cdnnl_concat_destroy(cdnnl_concat *concat);
int cdnnl_concat_run(cdnnl_concat *concat, const float *a, const float *b, float *dst);

/// Channels first..<first+count of src [n, c, h, w] (layout block_src) into dst (layout block_dst):
/// the backward of a concatenation. Creation fails where a blocked source is cut inside a block.
typedef struct cdnnl_slice cdnnl_slice;
cdnnl_slice *cdnnl_slice_create(int n, int c, int h, int w, int block_src, int first, int count, int block_dst);
void cdnnl_slice_destroy(cdnnl_slice *slice);
int cdnnl_slice_run(cdnnl_slice *slice, const float *src, float *dst);
#endif
