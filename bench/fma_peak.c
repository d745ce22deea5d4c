/* The machine's FP32 multiply-add peak, to read a kernel's GFLOP/s (bench --kernels, ONEDNN_VERBOSE)
 * as a share of what the cores can do: each thread runs 12 independent vector FMA chains (enough to
 * cover the FMA latency on both pipes) for a fixed count, with nothing loaded or stored.
 *   gcc -O3 -funroll-loops -march=native -fopenmp bench/fma_peak.c -o /tmp/fma_peak && /tmp/fma_peak [threads]
 * Uses 512-bit vectors where the compiler targets AVX-512, else 256-bit (AVX2 + FMA). */
#include <immintrin.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

#if defined(__AVX512F__)
typedef __m512 vec;
#define LANES 16
#define SET1 _mm512_set1_ps
#define FMA _mm512_fmadd_ps
#define FIRST(v) _mm512_cvtss_f32(v)
#define WIDTH "512-bit"
#elif defined(__FMA__)
typedef __m256 vec;
#define LANES 8
#define SET1 _mm256_set1_ps
#define FMA _mm256_fmadd_ps
#define FIRST(v) _mm256_cvtss_f32(v)
#define WIDTH "256-bit"
#else
#error "needs FMA: build with -march=native on an AVX2 or AVX-512 machine"
#endif

enum { CHAINS = 12 };

int main(int argc, char **argv) {
    const int threads = argc > 1 ? atoi(argv[1]) : 2;
    if (threads < 1) {
        fprintf(stderr, "fma_peak: threads must be a positive number, got '%s'\n", argv[1]);
        return 2;
    }
    const long iterations = 400000000L;
    float keep = 0;  // the chains' results are used, so the compiler keeps every FMA
    const double start = omp_get_wtime();
#pragma omp parallel num_threads(threads) reduction(+ : keep)
    {
        vec a[CHAINS];
        const vec scale = SET1(0.999999f), offset = SET1(1e-7f);
        for (int i = 0; i < CHAINS; i++) a[i] = SET1((float)i);
        for (long n = 0; n < iterations; n++)
            for (int i = 0; i < CHAINS; i++) a[i] = FMA(a[i], scale, offset);
        for (int i = 0; i < CHAINS; i++) keep += FIRST(a[i]);
    }
    const double seconds = omp_get_wtime() - start;
    const double flop = 2.0 * LANES * CHAINS * (double)iterations * threads;
    printf("%.1f GFLOP/s FP32 FMA peak on %d threads (%s vectors, %.2f s; %g)\n", flop / seconds / 1e9, threads, WIDTH,
           seconds, keep);
    return 0;
}
