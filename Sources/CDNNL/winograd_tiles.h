/* The tile transforms and the product micro-kernels of winograd.c, written once over a vector of LANES
 * channels and included there once per width: 8 channels (AVX2, either layout) and 16 (AVX-512). Lane by
 * lane both do the same operations in the same order, so they give the same bits; the wider one runs
 * half the instructions, which on Zen 5 (full-width 512-bit units) is what the code was bound by, and
 * with 32 registers holds twice the accumulators.
 *
 * The includer defines:
 *   LANES           8 or 16
 *   VEC             the vector type; VTARGET the functions' target attribute
 *   WIDE(name)      the name with this width's suffix
 *   V_LOAD, V_STORE, V_ADD, V_SUB, V_MUL, V_FMADD (a·b + c), V_FNMADD (c − a·b), V_SET1, V_ZERO, V_MAX,
 *   V_KEEP_IF(v, condition)   v, or zeros when the condition is 0 */

/* Bᵀ applied to six vectors (one column or row of a tile). */
VTARGET static inline void WIDE(input_1d)(const VEC d[6], VEC t[6]) {
    const VEC four = V_SET1(4), five = V_SET1(5), two = V_SET1(2);
    t[0] = V_FMADD(four, d[0], V_FNMADD(five, d[2], d[4]));
    VEC a = V_FNMADD(four, d[2], d[4]);      /* d4 − 4 d2 */
    VEC b = V_FNMADD(four, d[1], d[3]);      /* d3 − 4 d1 */
    t[1] = V_ADD(a, b);                      /* −4 d1 − 4 d2 + d3 + d4 */
    t[2] = V_SUB(a, b);                      /*  4 d1 − 4 d2 − d3 + d4 */
    VEC e = V_SUB(d[4], d[2]);               /* d4 − d2 */
    VEC f = V_MUL(two, V_SUB(d[3], d[1]));   /* 2 d3 − 2 d1 */
    t[3] = V_ADD(e, f);
    t[4] = V_SUB(e, f);
    t[5] = V_FMADD(four, d[1], V_FNMADD(five, d[3], d[5]));
}

/* Aᵀ applied to six vectors. */
VTARGET static inline void WIDE(output_1d)(const VEC m[6], VEC o[4]) {
    const VEC two = V_SET1(2), four = V_SET1(4), eight = V_SET1(8);
    VEC s12 = V_ADD(m[1], m[2]), d12 = V_SUB(m[1], m[2]);
    VEC s34 = V_ADD(m[3], m[4]), d34 = V_SUB(m[3], m[4]);
    o[0] = V_ADD(V_ADD(m[0], s12), s34);
    o[1] = V_FMADD(two, d34, d12);
    o[2] = V_FMADD(four, s34, s12);
    o[3] = V_ADD(V_FMADD(eight, d34, d12), m[5]);
}

/* A applied to four vectors (the transpose of output_1d): m = A e. */
VTARGET static inline void WIDE(grad_1d)(const VEC e[4], VEC m[6]) {
    const VEC two = V_SET1(2), four = V_SET1(4), eight = V_SET1(8);
    VEC s = V_ADD(e[0], e[2]), t = V_ADD(e[1], e[3]);                          /* e0 + e2, e1 + e3 */
    VEC u = V_FMADD(four, e[2], e[0]), w = V_FMADD(eight, e[3], V_MUL(two, e[1])); /* e0 + 4e2, 2e1 + 8e3 */
    m[0] = e[0];
    m[1] = V_ADD(s, t);
    m[2] = V_SUB(s, t);
    m[3] = V_ADD(u, w);
    m[4] = V_SUB(u, w);
    m[5] = e[3];
}

/* Where channels LANES·g .. LANES·g + LANES − 1 of image n start in a blocked activation
 * [n][C/block][H][W][block]: pixels then follow `block` floats apart. */
static inline const float *WIDE(channels_at)(const float *act, int block, int channels, int n, int g, int H, int W) {
    const int per_block = block / LANES;
    return act + (((size_t)n * (channels / block) + g / per_block) * H * W) * block + (size_t)(g % per_block) * LANES;
}

/* The channels at (y, x) of an H × W plane (pixels `px` floats apart), or zeros outside it, without a
 * branch: the load is clamped into the plane and masked (border tiles' patterns vary tile by tile, and
 * branches on them mispredicted; a zero-padded copy cost more in memset and memcpy than it saved). */
VTARGET static inline VEC WIDE(load_or_zero)(const float *plane, int y, int x, int H, int W, int px) {
    const int yc = y < 0 ? 0 : y >= H ? H - 1 : y, xc = x < 0 ? 0 : x >= W ? W - 1 : x;
    return V_KEEP_IF(V_LOAD(plane + ((size_t)yc * W + xc) * px), y == yc && x == xc);
}

/* V[pos][row][c] for `count` tiles from `first`, `pos_stride` floats between positions. Tiles inside
 * the image (most of them) load without bounds checks; those on the border read zeros outside. */
VTARGET static void WIDE(transform_input)(const cwino *cw, const float *src, long first, int count, float *V, size_t pos_stride) {
    const int C = cw->c, H = cw->h, W = cw->w, CB = C / LANES, px = cw->block;
    for (int r = 0; r < count; r++) {
        tile_t t = tile_at(cw, first + r);
        const int y0 = t.y0 - 1, x0 = t.x0 - 1;
        const int inside = y0 >= 0 && x0 >= 0 && y0 + 6 <= H && x0 + 6 <= W;
        for (int cb = 0; cb < CB; cb++) {
            const float *plane = WIDE(channels_at)(src, px, C, t.n, cb, H, W);
            VEC col[6], tc[6], rows[6][6]; /* rows = Bᵀ d, built column by column */
            for (int j = 0; j < 6; j++) {
                if (inside) {
                    const float *p = plane + ((size_t)y0 * W + x0 + j) * px;
                    for (int i = 0; i < 6; i++) col[i] = V_LOAD(p + (size_t)i * W * px);
                } else {
                    for (int i = 0; i < 6; i++) col[i] = WIDE(load_or_zero)(plane, y0 + i, x0 + j, H, W, px);
                }
                WIDE(input_1d)(col, tc);
                for (int i = 0; i < 6; i++) rows[i][j] = tc[i];
            }
            float *v = V + (size_t)r * C + cb * LANES;
            for (int i = 0; i < 6; i++) { /* (Bᵀ d) B, row by row */
                WIDE(input_1d)(rows[i], tc);
                for (int j = 0; j < 6; j++) V_STORE(v + (size_t)(i * 6 + j) * pos_stride, tc[j]);
            }
        }
    }
}

/* Aᵀ m A for one tile and LANES output channels, plus the bias: out[4][4]. */
VTARGET static inline void WIDE(tile_output)(const float *M, size_t pos_stride, VEC bias, VEC out[4][4]) {
    VEC m[6], o[4], mid[4][6];
    for (int j = 0; j < 6; j++) { /* Aᵀ m, column by column */
        for (int i = 0; i < 6; i++) m[i] = V_LOAD(M + (size_t)(i * 6 + j) * pos_stride);
        WIDE(output_1d)(m, o);
        for (int i = 0; i < 4; i++) mid[i][j] = o[i];
    }
    for (int i = 0; i < 4; i++) { /* (Aᵀ m) A */
        WIDE(output_1d)(mid[i], out[i]);
        for (int j = 0; j < 4; j++) out[i][j] = V_ADD(out[i][j], bias);
    }
}

VTARGET static inline __attribute__((always_inline)) void WIDE(store_with)(float *q, const float *r, VEC v, const int sum,
                                                                           const int relu) {
    if (sum) v = V_ADD(v, V_LOAD(r));
    if (relu) v = V_MAX(v, V_ZERO());
    V_STORE(q, v);
}

/* Output tiles first..first+count from M (row r of position p at (p·stride + r)·K), output channels
 * [k_begin, k_end) (multiples of LANES), with the epilogue: `sum` adds the residual (laid out as dst), then `relu`.
 * Always inlined into the four variants below, where both are constants, so each store loop has no
 * branches. */
VTARGET static inline __attribute__((always_inline)) void WIDE(transform_output_with)(
    const cwino *cw, const float *M, size_t stride, long first, int count, int k_begin, int k_end, float *dst,
    const float *residual, const int sum, const int relu) {
    const int K = cw->k, H = cw->h, W = cw->w, px = cw->block;
    const size_t pos_stride = stride * K;
    for (int r = 0; r < count; r++) {
        tile_t t = tile_at(cw, first + r);
        const int rows = H - t.y0 < 4 ? H - t.y0 : 4, cols = W - t.x0 < 4 ? W - t.x0 : 4;
        for (int kb = k_begin / LANES; kb < k_end / LANES; kb++) {
            VEC out[4][4];
            WIDE(tile_output)(M + (size_t)r * K + kb * LANES, pos_stride, V_LOAD(cw->bias + kb * LANES), out);
            const size_t at = (size_t)(WIDE(channels_at)(dst, px, K, t.n, kb, H, W) - dst) + ((size_t)t.y0 * W + t.x0) * px;
            float *p = dst + at;
            const float *rp = sum ? residual + at : NULL;
            if (rows == 4 && cols == 4) { /* most tiles: constant bounds, unrolled */
                for (int i = 0; i < 4; i++)
                    for (int j = 0; j < 4; j++) {
                        const size_t o = ((size_t)i * W + j) * px;
                        WIDE(store_with)(p + o, sum ? rp + o : NULL, out[i][j], sum, relu);
                    }
            } else {
                for (int i = 0; i < rows; i++)
                    for (int j = 0; j < cols; j++) {
                        const size_t o = ((size_t)i * W + j) * px;
                        WIDE(store_with)(p + o, sum ? rp + o : NULL, out[i][j], sum, relu);
                    }
            }
        }
    }
}

VTARGET static void WIDE(transform_output_plain)(const cwino *cw, const float *M, size_t stride, long first, int count, int k_begin,
                                                 int k_end, float *dst, const float *residual) {
    WIDE(transform_output_with)(cw, M, stride, first, count, k_begin, k_end, dst, residual, 0, 0);
}
VTARGET static void WIDE(transform_output_relu)(const cwino *cw, const float *M, size_t stride, long first, int count, int k_begin,
                                                int k_end, float *dst, const float *residual) {
    WIDE(transform_output_with)(cw, M, stride, first, count, k_begin, k_end, dst, residual, 0, 1);
}
VTARGET static void WIDE(transform_output_sum)(const cwino *cw, const float *M, size_t stride, long first, int count, int k_begin,
                                               int k_end, float *dst, const float *residual) {
    WIDE(transform_output_with)(cw, M, stride, first, count, k_begin, k_end, dst, residual, 1, 0);
}
VTARGET static void WIDE(transform_output_sum_relu)(const cwino *cw, const float *M, size_t stride, long first, int count,
                                                    int k_begin, int k_end, float *dst, const float *residual) {
    WIDE(transform_output_with)(cw, M, stride, first, count, k_begin, k_end, dst, residual, 1, 1);
}

/* D[pos][row][k] = (A dy Aᵀ) for `count` tiles from `first`; dy outside the image counts as 0. */
VTARGET static void WIDE(transform_grad)(const cwino *cw, const float *dy, long first, int count, float *D, size_t pos_stride) {
    const int K = cw->k, H = cw->h, W = cw->w, KB = K / LANES, px = cw->block;
    for (int r = 0; r < count; r++) {
        tile_t t = tile_at(cw, first + r);
        const int whole = t.y0 + 4 <= H && t.x0 + 4 <= W;
        for (int kb = 0; kb < KB; kb++) {
            const float *plane = WIDE(channels_at)(dy, px, K, t.n, kb, H, W);
            VEC e[4], m[6], mid[6][4]; /* mid = A dy, built column by column */
            for (int j = 0; j < 4; j++) {
                for (int i = 0; i < 4; i++)
                    e[i] = whole ? V_LOAD(plane + ((size_t)(t.y0 + i) * W + t.x0 + j) * px)
                                 : WIDE(load_or_zero)(plane, t.y0 + i, t.x0 + j, H, W, px);
                WIDE(grad_1d)(e, m);
                for (int i = 0; i < 6; i++) mid[i][j] = m[i];
            }
            float *d = D + (size_t)r * K + kb * LANES;
            for (int i = 0; i < 6; i++) { /* (A dy) Aᵀ, row by row */
                WIDE(grad_1d)(mid[i], m);
                for (int j = 0; j < 6; j++) V_STORE(d + (size_t)(i * 6 + j) * pos_stride, m[j]);
            }
        }
    }
}

/* M[pos][rows r0..r0+5][k0..) = V[pos][rows][:] · U[pos][:, k0..) for `vectors` vectors of LANES output
 * channels (up to 64 channels: AVX2 takes 16, 24 accumulators' worth on AVX-512 64). U holds its
 * channels in blocks of 16 (block b at U + 16·b·C, input channel c's at + 16·c). Each output is summed
 * over c in order by one FMA chain, so the width does not change the bits. */
VTARGET static inline __attribute__((always_inline)) void WIDE(kernel_6xn)(const float *V, const float *U, float *M, int C, int K,
                                                                           const int vectors) {
    VEC a[ROWS][64 / LANES];
    for (int r = 0; r < ROWS; r++)
        for (int j = 0; j < vectors; j++) a[r][j] = V_ZERO();
    for (int c = 0; c < C; c++) {
        VEC u[64 / LANES];
        for (int j = 0; j < vectors; j++) u[j] = V_LOAD(U + (size_t)(j * LANES / 16) * 16 * C + (size_t)c * 16 + j * LANES % 16);
        for (int r = 0; r < ROWS; r++) {
            const VEC v = V_SET1(V[(size_t)r * C + c]);
            for (int j = 0; j < vectors; j++) a[r][j] = V_FMADD(v, u[j], a[r][j]);
        }
    }
    for (int r = 0; r < ROWS; r++)
        for (int j = 0; j < vectors; j++) V_STORE(M + (size_t)r * K + j * LANES, a[r][j]);
}

/* dU[c0..c0+LANES/2)[k0..k0+2·LANES) (+)= Σ_rows V[row][c] · D[row][k] at one position (row strides C
 * and K); `add`: onto what dU holds. AVX2 takes 4 input × 16 output channels (8 accumulators, just enough
 * to cover the FMA latency; winograd.c's 6 × 16 kernel (wgrad_kernel_avx2) takes three such blocks at a time where it can,
 * and this one the rest); AVX-512 8 × 32 (16 accumulators: each row's 10 loads feed 16 FMAs instead of
 * 6 loads 8). Every dU element is summed over the rows in order by one accumulator at either width. */
VTARGET static inline void WIDE(wgrad_kernel)(const float *V, const float *D, float *dU, int C, int K, long rows, int add) {
    VEC a[LANES / 2][2];
    for (int i = 0; i < LANES / 2; i++) a[i][0] = a[i][1] = V_ZERO();
    for (long r = 0; r < rows; r++) {
        const VEC d0 = V_LOAD(D + r * K), d1 = V_LOAD(D + r * K + LANES);
        for (int i = 0; i < LANES / 2; i++) {
            const VEC v = V_SET1(V[r * C + i]);
            a[i][0] = V_FMADD(v, d0, a[i][0]);
            a[i][1] = V_FMADD(v, d1, a[i][1]);
        }
    }
    for (int i = 0; i < LANES / 2; i++)
        for (int j = 0; j < 2; j++) {
            float *out = dU + (size_t)i * K + j * LANES;
            V_STORE(out, add ? V_ADD(a[i][j], V_LOAD(out)) : a[i][j]);
        }
}
