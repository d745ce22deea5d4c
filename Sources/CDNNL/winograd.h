// Winograd F(4×4, 3×3) convolution (forward and backward weights) for nChw8c or nChw16c activations on
// AVX2 + FMA (also on AVX-512 machines: on AMD Zen 4, whose 512-bit units are two 256-bit halves, AVX2
// code reaches the same peak).
// oneDNN 2.6 has Winograd only for AVX-512; on AVX2 its direct kernel already runs near peak
// (~86% here), so the remaining speed for 3×3 stride-1 layers has to come from doing fewer
// multiplications: 36 per 4×4 output tile and channel pair instead of 144.
#ifndef CDNNL_WINOGRAD_H
#define CDNNL_WINOGRAD_H

typedef struct cwino cwino;

/// 1 when this CPU can run the kernel (AVX2 and FMA).
int cwino_available(void);

/// How many independent chunks of output tiles a forward pass splits into (the unit of threading).
long cwino_chunks(int n, int h, int w);

/// A 3×3, stride 1, padding 1 convolution of src [n, c, h, w] into dst [n, k, h, w], both blocked by
/// `block` channels (8: nChw8c, 16: nChw16c); c and k multiples of `block`. NULL when the shape is
/// unsupported or memory is short.
cwino *cwino_create(int n, int c, int h, int w, int k, int block);
/// The same for training: it keeps no transformed weights between calls, and runs only through
/// cwino_forward_with_weights (and cwino_backward_weights, which needs no weights).
cwino *cwino_create_for_training(int n, int c, int h, int w, int k, int block);
void cwino_destroy(cwino *cw);
/// 1 for a kernel from cwino_create: it keeps the transformed weights between calls.
int cwino_keeps_weights(const cwino *cw);

/// Transforms weights [k, c, 3, 3] (OIHW) into the Winograd domain; bias [k] (NULL: zero). With
/// `transposed_flipped`, `weights` are [c, k, 3, 3] of the convolution whose input gradient this one
/// computes, used as W'[k, c, a, b] = W[c, k, 2 − a, 2 − b].
void cwino_set_weights(cwino *cw, const float *weights, const float *bias, int transposed_flipped);
/// Only the bias (the transformed weights are kept).
void cwino_set_bias(cwino *cw, const float *bias);

/// dst = conv(src) + bias (+ residual, laid out as dst, unless NULL) (then ReLU when post_relu), on the calling
/// thread's OpenMP team. Returns 0, or -1 when scratch memory cannot be had.
int cwino_forward(cwino *cw, const float *src, float *dst, const float *residual, int post_relu);

/// cwino_set_weights (no bias) and cwino_forward (no post-ops) in one call; for a kernel made by
/// cwino_create_for_training the transformed weights live in a process-wide buffer during the call.
int cwino_forward_with_weights(cwino *cw, const float *weights, int transposed_flipped, const float *src, float *dst);

/// diff_weights [k, c, 3, 3] (OIHW, overwritten) of this convolution, from its input src and the
/// gradient of its output diff_dst [n, k, h, w] (blocked as src), on the calling thread's OpenMP team; the
/// result does not depend on the thread count. Returns 0, or -1 when memory cannot be had.
int cwino_backward_weights(const cwino *cw, const float *src, const float *diff_dst, float *diff_weights);

#endif
