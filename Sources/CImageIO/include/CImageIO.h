// Image decoding and encoding through libpng and libjpeg. libjpeg reports errors by longjmp,
// so every libjpeg call stays inside these C functions, which own the jmp_buf and return a status.
#ifndef CIMAGEIO_H
#define CIMAGEIO_H
#include <stddef.h>
#include <stdint.h>

// Status codes returned by every function below.
#define CIMG_OK 0
#define CIMG_ERROR 1        // the data is malformed or unsupported; `message` says why
#define CIMG_TOO_LARGE 2    // width*height exceeds max_pixels; nothing was decoded
#define CIMG_NO_MEMORY 3

#define CIMG_MESSAGE_SIZE 200

// A decoded image: 8-bit channels, interleaved, rows top to bottom, no padding.
// `pixels` is malloc'ed by the decoder; release it with cimg_free.
typedef struct {
    int width;
    int height;
    int channels;   // 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA
    uint8_t *pixels;
} cimg_image;

// Reads only the header: fills width, height, channels (pixels stays NULL).
int cimg_png_info(const uint8_t *data, size_t size, cimg_image *out, char *message);
int cimg_jpeg_info(const uint8_t *data, size_t size, cimg_image *out, char *message);

// Decodes to 8 bits per channel. The header is checked against max_pixels before any pixel is
// decoded. PNG keeps its colour type (palette becomes RGB or RGBA, 16-bit is scaled to 8-bit);
// JPEG gives 1 channel for grayscale files and 3 (RGB) otherwise.
int cimg_png_decode(const uint8_t *data, size_t size, long long max_pixels, cimg_image *out,
                    char *message);
int cimg_jpeg_decode(const uint8_t *data, size_t size, long long max_pixels, cimg_image *out,
                     char *message);

// Encodes 8-bit gray (1), RGB (3) or RGBA (4) pixels as PNG. On success *out_data is malloc'ed
// (release with cimg_free) and *out_size is its length.
int cimg_png_encode(const uint8_t *pixels, int width, int height, int channels,
                    uint8_t **out_data, size_t *out_size, char *message);

void cimg_free(void *pointer);

#endif
