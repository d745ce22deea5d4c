#include "CImageIO.h"
// Image decoding and encoding through libpng and libjpeg. libjpeg reports errors by longjmp,
// so every libjpeg call stays inside these C functions, which own the jmp_buf and return a status.
// libpng is used through its simplified png_image_* API, which handles its own longjmp internally.

#include <limits.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>
#include <jpeglib.h>
#include <jerror.h>

static void set_message(char *message, const char *text) {
    if (message == NULL) return;
    snprintf(message, CIMG_MESSAGE_SIZE, "%s", text);
}

void cimg_free(void *pointer) { free(pointer); }

// Refuses sizes whose pixel count exceeds the limit, or whose byte count would overflow size_t.
static int check_size(unsigned long long width, unsigned long long height, int channels,
                      long long max_pixels, char *message) {
    if (width == 0 || height == 0) {
        set_message(message, "image has zero width or height");
        return CIMG_ERROR;
    }
    unsigned long long pixels = width * height;   // both < 2^32, so no overflow in 64 bits
    if (max_pixels >= 0 && pixels > (unsigned long long)max_pixels) {
        snprintf(message, CIMG_MESSAGE_SIZE, "image is %llux%llu (%llu pixels), over the limit of %lld pixels",
                 width, height, pixels, max_pixels);
        return CIMG_TOO_LARGE;
    }
    if (pixels > (unsigned long long)(SIZE_MAX / 8) / (unsigned long long)channels) {
        set_message(message, "image dimensions overflow memory size");
        return CIMG_TOO_LARGE;
    }
    return CIMG_OK;
}

// ---------------------------------------------------------------------------------------------
// PNG

// The simplified API's messages are terse ("Read Error"); name the common case plainly.
static void png_message(char *message, const png_image *image, const char *fallback) {
    const char *text = image->message[0] ? image->message : fallback;
    if (strstr(text, "Read Error") != NULL || strstr(text, "Not enough image data") != NULL ||
        strstr(text, "beyond end of data") != NULL) {
        snprintf(message, CIMG_MESSAGE_SIZE, "truncated or corrupt PNG data (libpng: %s)", text);
    } else {
        snprintf(message, CIMG_MESSAGE_SIZE, "invalid PNG data (libpng: %s)", text);
    }
}

static int channels_of_format(png_uint_32 format) {
    int color = (format & PNG_FORMAT_FLAG_COLOR) != 0;
    int alpha = (format & PNG_FORMAT_FLAG_ALPHA) != 0;
    return (color ? 3 : 1) + (alpha ? 1 : 0);
}

// Reads the header into `image` (freed again on failure), clearing `out` first.
static int png_begin(png_image *image, const uint8_t *data, size_t size, cimg_image *out, char *message) {
    memset(image, 0, sizeof *image);
    image->version = PNG_IMAGE_VERSION;
    memset(out, 0, sizeof *out);
    if (!png_image_begin_read_from_memory(image, data, size)) {
        png_message(message, image, "cannot read PNG header");
        png_image_free(image);
        return CIMG_ERROR;
    }
    return CIMG_OK;
}

int cimg_png_info(const uint8_t *data, size_t size, cimg_image *out, char *message) {
    png_image image;
    if (png_begin(&image, data, size, out, message) != CIMG_OK) return CIMG_ERROR;
    out->width = (int)image.width;
    out->height = (int)image.height;
    out->channels = channels_of_format(image.format);
    png_image_free(&image);
    return CIMG_OK;
}

int cimg_png_decode(const uint8_t *data, size_t size, long long max_pixels, cimg_image *out,
                    char *message) {
    png_image image;
    if (png_begin(&image, data, size, out, message) != CIMG_OK) return CIMG_ERROR;
    int channels = channels_of_format(image.format);
    int status = check_size(image.width, image.height, channels, max_pixels, message);
    if (status != CIMG_OK) {
        png_image_free(&image);
        return status;
    }
    // 8-bit output in the file's colour model; a palette expands to RGB(A). Without the 16BIT_sRGB
    // flag libpng would treat 16-bit samples as linear light and gamma-encode them; with it they
    // are scaled to 8 bits like any other viewer does.
    image.format = ((channels >= 3) ? PNG_FORMAT_FLAG_COLOR : 0) |
                   ((channels == 2 || channels == 4) ? PNG_FORMAT_FLAG_ALPHA : 0);
    image.flags |= PNG_IMAGE_FLAG_16BIT_sRGB;
    size_t bytes = PNG_IMAGE_SIZE(image);
    uint8_t *pixels = malloc(bytes);
    if (pixels == NULL) {
        set_message(message, "out of memory");
        png_image_free(&image);
        return CIMG_NO_MEMORY;
    }
    if (!png_image_finish_read(&image, NULL, pixels, 0, NULL)) {
        png_message(message, &image, "cannot decode PNG");
        png_image_free(&image);
        free(pixels);
        return CIMG_ERROR;
    }
    out->width = (int)image.width;
    out->height = (int)image.height;
    out->channels = channels;
    out->pixels = pixels;
    png_image_free(&image);
    return CIMG_OK;
}

int cimg_png_encode(const uint8_t *pixels, int width, int height, int channels,
                    uint8_t **out_data, size_t *out_size, char *message) {
    *out_data = NULL;
    *out_size = 0;
    png_image image;
    memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    image.width = (png_uint_32)width;
    image.height = (png_uint_32)height;
    switch (channels) {
    case 1: image.format = PNG_FORMAT_GRAY; break;
    case 3: image.format = PNG_FORMAT_RGB; break;
    case 4: image.format = PNG_FORMAT_RGBA; break;
    default: set_message(message, "PNG output needs 1, 3 or 4 channels"); return CIMG_ERROR;
    }
    if (width <= 0 || height <= 0) {
        set_message(message, "image has zero width or height");
        return CIMG_ERROR;
    }
    // First call measures, second call writes.
    png_alloc_size_t needed = 0;
    if (!png_image_write_to_memory(&image, NULL, &needed, 0, pixels, 0, NULL)) {
        png_message(message, &image, "cannot encode PNG");
        png_image_free(&image);
        return CIMG_ERROR;
    }
    uint8_t *buffer = malloc(needed);
    if (buffer == NULL) {
        set_message(message, "out of memory");
        return CIMG_NO_MEMORY;
    }
    png_alloc_size_t written = needed;
    if (!png_image_write_to_memory(&image, buffer, &written, 0, pixels, 0, NULL)) {
        png_message(message, &image, "cannot encode PNG");
        png_image_free(&image);
        free(buffer);
        return CIMG_ERROR;
    }
    *out_data = buffer;
    *out_size = written;
    return CIMG_OK;
}

// ---------------------------------------------------------------------------------------------
// JPEG

typedef struct {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    char *message;
    int hit_end_of_file;   // libjpeg only warns on premature end of data; we treat it as an error
} jpeg_error_state;

static void jpeg_on_error_exit(j_common_ptr cinfo) {
    jpeg_error_state *state = (jpeg_error_state *)cinfo->err;
    char text[JMSG_LENGTH_MAX];
    (*cinfo->err->format_message)(cinfo, text);
    // Running out of data shows up as a warning first, then as whatever error the fake EOI causes.
    if (state->message)
        snprintf(state->message, CIMG_MESSAGE_SIZE, "%s (libjpeg: %s)",
                 state->hit_end_of_file ? "truncated JPEG data" : "invalid JPEG data", text);
    longjmp(state->jump, 1);
}

static void jpeg_on_emit_message(j_common_ptr cinfo, int level) {
    jpeg_error_state *state = (jpeg_error_state *)cinfo->err;
    if (level < 0) {
        if (cinfo->err->msg_code == JWRN_JPEG_EOF) state->hit_end_of_file = 1;
        cinfo->err->num_warnings++;
    }
    // Trace and warning text is not printed: errors reach the caller through the status.
}

static void jpeg_on_output_message(j_common_ptr cinfo) { (void)cinfo; }

// Everything that must survive a longjmp lives here, behind a pointer, rather than in locals.
typedef struct {
    struct jpeg_decompress_struct cinfo;
    jpeg_error_state err;
    uint8_t *pixels;
    uint8_t *cmyk_row;
} jpeg_job;

static void jpeg_job_init(jpeg_job *job, char *message) {
    memset(job, 0, sizeof *job);
    job->cinfo.err = jpeg_std_error(&job->err.pub);
    job->err.pub.error_exit = jpeg_on_error_exit;
    job->err.pub.emit_message = jpeg_on_emit_message;
    job->err.pub.output_message = jpeg_on_output_message;
    job->err.message = message;
}

/* Ends a job on any path: libjpeg's state, the buffers (pixels handed to the caller are NULL here), the job. */
static void jpeg_job_free(jpeg_job *job) {
    jpeg_destroy_decompress(&job->cinfo);
    free(job->pixels);
    free(job->cmyk_row);
    free(job);
}

static int jpeg_output_channels(J_COLOR_SPACE space) {
    switch (space) {
    case JCS_GRAYSCALE: return 1;
    default: return 3;
    }
}

int cimg_jpeg_info(const uint8_t *data, size_t size, cimg_image *out, char *message) {
    jpeg_job *job = malloc(sizeof *job);
    if (job == NULL) { set_message(message, "out of memory"); return CIMG_NO_MEMORY; }
    jpeg_job_init(job, message);
    memset(out, 0, sizeof *out);
    if (setjmp(job->err.jump)) {
        jpeg_job_free(job);
        return CIMG_ERROR;
    }
    jpeg_create_decompress(&job->cinfo);
    jpeg_mem_src(&job->cinfo, data, (unsigned long)size);
    jpeg_read_header(&job->cinfo, TRUE);
    out->width = (int)job->cinfo.image_width;
    out->height = (int)job->cinfo.image_height;
    out->channels = jpeg_output_channels(job->cinfo.jpeg_color_space);
    jpeg_job_free(job);
    return CIMG_OK;
}

int cimg_jpeg_decode(const uint8_t *data, size_t size, long long max_pixels, cimg_image *out,
                     char *message) {
    jpeg_job *job = malloc(sizeof *job);
    if (job == NULL) { set_message(message, "out of memory"); return CIMG_NO_MEMORY; }
    jpeg_job_init(job, message);
    memset(out, 0, sizeof *out);
    if (setjmp(job->err.jump)) {
        jpeg_job_free(job);
        return CIMG_ERROR;
    }
    jpeg_create_decompress(&job->cinfo);
    jpeg_mem_src(&job->cinfo, data, (unsigned long)size);
    jpeg_read_header(&job->cinfo, TRUE);

    J_COLOR_SPACE source = job->cinfo.jpeg_color_space;
    int cmyk = (source == JCS_CMYK || source == JCS_YCCK);
    int channels = jpeg_output_channels(source);
    int status = check_size(job->cinfo.image_width, job->cinfo.image_height, channels, max_pixels, message);
    if (status != CIMG_OK) {
        jpeg_job_free(job);
        return status;
    }
    job->cinfo.out_color_space = (channels == 1) ? JCS_GRAYSCALE : (cmyk ? JCS_CMYK : JCS_RGB);
    jpeg_start_decompress(&job->cinfo);

    size_t width = job->cinfo.output_width, height = job->cinfo.output_height;
    size_t row_bytes = width * (size_t)channels;
    job->pixels = malloc(row_bytes * height);
    if (cmyk) job->cmyk_row = malloc(width * 4);
    if (job->pixels == NULL || (cmyk && job->cmyk_row == NULL)) {
        set_message(message, "out of memory");
        jpeg_job_free(job);
        return CIMG_NO_MEMORY;
    }
    // Adobe writes CMYK inverted (255 = no ink); plain CMYK files store ink amounts.
    int inverted = job->cinfo.saw_Adobe_marker;
    while (job->cinfo.output_scanline < height) {
        size_t y = job->cinfo.output_scanline;
        JSAMPROW row = cmyk ? job->cmyk_row : job->pixels + y * row_bytes;
        if (jpeg_read_scanlines(&job->cinfo, &row, 1) != 1) break;
        if (cmyk) {
            uint8_t *dst = job->pixels + y * row_bytes;
            for (size_t x = 0; x < width; x++) {
                unsigned c = row[4 * x], m = row[4 * x + 1], yy = row[4 * x + 2], k = row[4 * x + 3];
                if (!inverted) { c = 255 - c; m = 255 - m; yy = 255 - yy; k = 255 - k; }
                dst[3 * x] = (uint8_t)((c * k + 127) / 255);
                dst[3 * x + 1] = (uint8_t)((m * k + 127) / 255);
                dst[3 * x + 2] = (uint8_t)((yy * k + 127) / 255);
            }
        }
        if (job->err.hit_end_of_file) break;
    }
    if (job->err.hit_end_of_file || job->cinfo.output_scanline < height) {
        set_message(message, "truncated JPEG data (premature end of file)");
        jpeg_job_free(job);
        return CIMG_ERROR;
    }
    jpeg_finish_decompress(&job->cinfo);
    out->width = (int)width;
    out->height = (int)height;
    out->channels = channels;
    out->pixels = job->pixels;
    job->pixels = NULL;
    jpeg_job_free(job);
    return CIMG_OK;
}
