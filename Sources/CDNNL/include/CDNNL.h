// Convolutions on oneDNN (Debian libdnnl-dev 2.6) behind a small C API. The caller keeps plain
// NCHW activations and OIHW weights; inside, oneDNN picks its fastest (blocked) layouts and this
// shim reorders at the edges, the way PyTorch uses it. dnnl_dims_t and pointer-valued macros are
// awkward from Swift, so all oneDNN calls live here.
#ifndef CDNNL_H
#define CDNNL_H
#include <stddef.h>

typedef struct cdnnl_conv cdnnl_conv;

/// Sets the OpenMP thread count of the calling thread (the one that runs every oneDNN call).
void cdnnl_set_threads(int n);

/// Builds forward (and, when `training`, backward-data and backward-weights) primitives for one
/// shape: src [n, c, h, w], weights [k, c, r, r], stride, symmetric padding, optional bias and a
/// fused ReLU (inference only). Returns NULL on failure; cdnnl_last_error() says why.
cdnnl_conv *cdnnl_conv_create(int n, int c, int h, int w, int k, int r, int stride, int pad,
                              int with_bias, int fuse_relu, int training);
void cdnnl_conv_destroy(cdnnl_conv *conv);
/// Output height/width of the convolution.
int cdnnl_conv_out_h(const cdnnl_conv *conv);
int cdnnl_conv_out_w(const cdnnl_conv *conv);

/// dst = conv(src, weights) (+ bias) (then ReLU if fused). All buffers plain NCHW / OIHW.
int cdnnl_conv_forward(cdnnl_conv *conv, const float *src, const float *weights, const float *bias, float *dst);
/// diff_src = conv_transpose(diff_dst, weights).
int cdnnl_conv_backward_data(cdnnl_conv *conv, const float *diff_dst, const float *weights, float *diff_src);
/// diff_weights = correlation of src and diff_dst (overwritten, not accumulated).
int cdnnl_conv_backward_weights(cdnnl_conv *conv, const float *src, const float *diff_dst, float *diff_weights);

typedef struct cdnnl_bn cdnnl_bn;
/// Batch normalization in training mode over plain NCHW [n, c, h, w]: forward with batch statistics
/// (biased variance, as PyTorch normalises) and backward to data, scale and shift.
cdnnl_bn *cdnnl_bn_create(int n, int c, int h, int w, float eps);
void cdnnl_bn_destroy(cdnnl_bn *bn);
int cdnnl_bn_forward_training(cdnnl_bn *bn, const float *src, const float *scale, const float *shift, float *dst,
                              float *mean, float *variance);
int cdnnl_bn_backward(cdnnl_bn *bn, const float *src, const float *diff_dst, const float *mean, const float *variance,
                      const float *scale, float *diff_src, float *diff_scale, float *diff_shift);

/// The last error message of this thread ("" if none).
const char *cdnnl_last_error(void);

/// C = alpha * op(A) * op(B) + beta * C, row-major, through dnnl_sgemm.
int cdnnl_sgemm(char transa, char transb, long m, long n, long k, float alpha, const float *a, long lda,
                const float *b, long ldb, float beta, float *c, long ldc);
#endif
