/* SSIMULACRA2's per-pixel work at one scale: the 9-tap Gaussian blurs and the SSIM and edge
 * maps with their 1- and 4-norm sums (see ssimulacra2.py for the metric and
 * ssimulacra2_native.py for why this is C).
 *
 * Planes are (3, h, w) C-contiguous float32. The blur is separable and zero outside the
 * image, as scipy.ndimage.correlate1d(mode="constant") in the numpy path: every row is blurred
 * horizontally once into a ring of the 9 rows the current output row reads, then the vertical
 * pass combines them, so a row's working set stays in the cache. */

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define RADIUS 4
#define TAPS (2 * RADIUS + 1)

typedef struct {
    int w;
    float *pad;   /* one source row with RADIUS zeros on each side */
    float *zero;  /* a row of zeros: the rows above and below the image */
    float *ring;  /* quantities x TAPS rows x w */
} Work;

static int work_open(Work *work, int w, int quantities) {
    work->w = w;
    work->pad = calloc((size_t)w + 2 * RADIUS, sizeof(float));
    work->zero = calloc((size_t)w, sizeof(float));
    work->ring = malloc(sizeof(float) * (size_t)quantities * TAPS * (size_t)w);
    return work->pad && work->zero && work->ring ? 0 : -1;
}

static void work_close(Work *work) {
    free(work->pad);
    free(work->zero);
    free(work->ring);
}

static float *slot(const Work *work, int quantity, int row) {
    return work->ring + ((size_t)quantity * TAPS + (size_t)(row % TAPS)) * (size_t)work->w;
}

/* The horizontal blur of one row into its ring slot (the kernel is symmetric). */
__attribute__((noinline)) static void blur_row(Work *work, const float *restrict src, float *restrict dst,
                     const float *restrict k) {
    const int w = work->w;
    float *restrict pad = work->pad;
    memcpy(pad + RADIUS, src, sizeof(float) * (size_t)w);
    for (int x = 0; x < w; x++) {
        const float *p = pad + x;
        dst[x] = k[0] * (p[0] + p[8]) + k[1] * (p[1] + p[7]) + k[2] * (p[2] + p[6])
                 + k[3] * (p[3] + p[5]) + k[4] * p[4];
    }
}

/* The vertical blur of output row y from the ring of one quantity. */
__attribute__((noinline)) static void blur_column(const Work *work, int quantity, int y, int h, float *restrict out,
                        const float *restrict k) {
    const float *r[TAPS];
    for (int j = 0; j < TAPS; j++) {
        const int row = y + j - RADIUS;
        r[j] = row >= 0 && row < h ? slot(work, quantity, row) : work->zero;
    }
    for (int x = 0; x < work->w; x++) {
        out[x] = k[0] * (r[0][x] + r[8][x]) + k[1] * (r[1][x] + r[7][x])
                 + k[2] * (r[2][x] + r[6][x]) + k[3] * (r[3][x] + r[5][x]) + k[4] * r[4][x];
    }
}

/* The reference's side of a scale: mu = blur(xyb), sigma = blur(xyb^2) - mu^2.
 * Returns 0, or -1 when out of memory. */
int io_ssim2_reference(const float *xyb, float *restrict mu, float *restrict sigma, int h,
                       int w, const float *k) {
    Work work;
    float *square = malloc(sizeof(float) * (size_t)w);
    float *b11 = malloc(sizeof(float) * (size_t)w);
    if (work_open(&work, w, 2) || !square || !b11) {
        work_close(&work);
        free(square);
        free(b11);
        return -1;
    }
    const size_t plane = (size_t)h * (size_t)w;
    for (int c = 0; c < 3; c++) {
        const float *img = xyb + c * plane;
        for (int y = 0; y < h + RADIUS; y++) {
            if (y < h) {
                const float *row = img + (size_t)y * w;
                for (int x = 0; x < w; x++) square[x] = row[x] * row[x];
                blur_row(&work, row, slot(&work, 0, y), k);
                blur_row(&work, square, slot(&work, 1, y), k);
            }
            const int out = y - RADIUS;
            if (out < 0) continue;
            const size_t at = c * plane + (size_t)out * w;
            blur_column(&work, 0, out, h, mu + at, k);
            blur_column(&work, 1, out, h, b11, k);
            const float *m = mu + at;
            float *s = sigma + at;
            for (int x = 0; x < w; x++) s[x] = b11[x] - m[x] * m[x];
        }
    }
    work_close(&work);
    free(square);
    free(b11);
    return 0;
}

/* The row's sums of the SSIM map and of the edge map's positive (ringing) and negative
 * (blurring) parts, and of their fourth powers. The maps themselves are computed without
 * reassociation, so identical images give exact zeros; only these sums are vectorised. */
static void sum_row(const float *restrict ssim, const float *restrict edges, int w,
                    double *total, double *fourth) {
    double t0 = 0, t1 = 0, t2 = 0, f0 = 0, f1 = 0, f2 = 0;
#pragma omp simd reduction(+ : t0, t1, t2, f0, f1, f2)
    for (int x = 0; x < w; x++) {
        const float s = ssim[x];
        const float ringing = edges[x] > 0.0f ? edges[x] : 0.0f;
        const float blurring = edges[x] < 0.0f ? -edges[x] : 0.0f;
        const float s2 = s * s, r2 = ringing * ringing, l2 = blurring * blurring;
        t0 += s;
        f0 += s2 * s2;
        t1 += ringing;
        f1 += r2 * r2;
        t2 += blurring;
        f2 += l2 * l2;
    }
    total[0] = t0, total[1] = t1, total[2] = t2;
    fourth[0] = f0, fourth[1] = f1, fourth[2] = f2;
}

/* The sums of one scale: sums[channel][norm][map], norm 0 the sum of the map's values, 1 of
 * their fourth powers; map 0 is 1 - SSIM' (no luminance denominator), 1 ringing, 2 blurring.
 * Returns 0, or -1 when out of memory. */
int io_ssim2_sums(const float *img1, const float *mu1, const float *sigma11,
                  const float *img2, int h, int w, const float *k, double *sums) {
    const float c2 = 0.0009f;
    Work work;
    float *rows = malloc(sizeof(float) * 7 * (size_t)w);
    if (work_open(&work, w, 3) || !rows) {
        work_close(&work);
        free(rows);
        return -1;
    }
    float *square = rows, *cross = rows + w, *mu2 = rows + 2 * w, *b22 = rows + 3 * w,
          *b12 = rows + 4 * w, *ssim = rows + 5 * w, *edges = rows + 6 * w;
    const size_t plane = (size_t)h * (size_t)w;
    memset(sums, 0, sizeof(double) * 18);
    for (int c = 0; c < 3; c++) {
        const float *a = img1 + c * plane, *b = img2 + c * plane;
        double total[3] = {0, 0, 0}, fourth[3] = {0, 0, 0};
        for (int y = 0; y < h + RADIUS; y++) {
            if (y < h) {
                const float *ra = a + (size_t)y * w, *rb = b + (size_t)y * w;
                for (int x = 0; x < w; x++) {
                    square[x] = rb[x] * rb[x];
                    cross[x] = ra[x] * rb[x];
                }
                blur_row(&work, rb, slot(&work, 0, y), k);
                blur_row(&work, square, slot(&work, 1, y), k);
                blur_row(&work, cross, slot(&work, 2, y), k);
            }
            const int out = y - RADIUS;
            if (out < 0) continue;
            blur_column(&work, 0, out, h, mu2, k);
            blur_column(&work, 1, out, h, b22, k);
            blur_column(&work, 2, out, h, b12, k);
            const size_t at = c * plane + (size_t)out * w;
            const float *m1 = mu1 + at, *s11 = sigma11 + at, *r = img1 + at, *d = img2 + at;
            for (int x = 0; x < w; x++) {
                const float m2 = mu2[x];
                const float s22 = b22[x] - m2 * m2;
                const float s12 = b12[x] - m1[x] * m2;
                const float diff = m1[x] - m2;
                const float num_m = 1.0f - diff * diff;
                const float num_s = s12 * 2.0f + c2;
                const float den_s = s11[x] + s22 + c2;
                const float error = 1.0f - num_m * num_s / den_s;
                ssim[x] = error > 0.0f ? error : 0.0f;
                /* > 0: an edge where the original is smooth (ringing, banding, blocking);
                 * < 0: the original's edge is gone (blurring, smearing). */
                edges[x] = (fabsf(d[x] - m2) + 1.0f) / (fabsf(r[x] - m1[x]) + 1.0f) - 1.0f;
            }
            double row_total[3] = {0, 0, 0}, row_fourth[3] = {0, 0, 0};
            sum_row(ssim, edges, w, row_total, row_fourth);
            for (int m = 0; m < 3; m++) {
                total[m] += row_total[m];
                fourth[m] += row_fourth[m];
            }
        }
        for (int m = 0; m < 3; m++) {
            sums[c * 6 + m] = total[m];
            sums[c * 6 + 3 + m] = fourth[m];
        }
    }
    work_close(&work);
    free(rows);
    return 0;
}

/* x^(1/3) for x >= 0 to about one float ulp: a bit-level first guess, three Newton steps
 * (written out, so the loops calling it vectorise, unlike libm's cbrtf). */
static inline float cube_root(float x) {
    unsigned int bits;
    memcpy(&bits, &x, sizeof bits);
    bits = bits / 3u + 0x2a5137a0u;
    float y;
    memcpy(&y, &bits, sizeof y);
    const float third = 1.0f / 3.0f;
    y = (2.0f * y + x / (y * y)) * third;
    y = (2.0f * y + x / (y * y)) * third;
    y = (2.0f * y + x / (y * y)) * third;
    return x > 0.0f ? y : 0.0f;
}

static inline float positive(float v) { return v > 0.0f ? v : 0.0f; }

/* libjxl's XYB of linear sRGB (3, n) planes, shifted into about 0..1 ("MakePositiveXYB"):
 * the opsin absorbance matrix, its bias, a cube root, then the opponent mix. */
void io_ssim2_xyb(const float *restrict linear, float *restrict out, long n,
                  const float *restrict m, float bias, float neg_bias_cbrt) {
    const float *r = linear, *g = linear + n, *b = linear + 2 * n;
    float *o0 = out, *o1 = out + n, *o2 = out + 2 * n;
    for (long i = 0; i < n; i++) {
        const float l = cube_root(positive(m[0] * r[i] + m[1] * g[i] + m[2] * b[i] + bias))
                        + neg_bias_cbrt;
        const float mm = cube_root(positive(m[3] * r[i] + m[4] * g[i] + m[5] * b[i] + bias))
                         + neg_bias_cbrt;
        const float s = cube_root(positive(m[6] * r[i] + m[7] * g[i] + m[8] * b[i] + bias))
                        + neg_bias_cbrt;
        const float y = (l + mm) * 0.5f;
        o0[i] = (l - mm) * 7.0f + 0.42f;
        o1[i] = y + 0.01f;
        o2[i] = s - y + 0.55f;
    }
}

/* 2x2 box average of (3, h, w) planes into (3, (h+1)/2, (w+1)/2), an odd side's last row or
 * column repeated. */
void io_ssim2_downsample(const float *restrict in, float *restrict out, int h, int w) {
    const int oh = (h + 1) / 2, ow = (w + 1) / 2, pairs = w / 2;
    for (int c = 0; c < 3; c++) {
        const float *plane = in + (size_t)c * h * w;
        float *dst = out + (size_t)c * oh * ow;
        for (int y = 0; y < oh; y++) {
            const float *top = plane + (size_t)(2 * y) * w;
            const float *bottom = 2 * y + 1 < h ? top + w : top;
            float *restrict row = dst + (size_t)y * ow;
            for (int x = 0; x < pairs; x++) {
                row[x] = ((top[2 * x] + bottom[2 * x]) + (top[2 * x + 1] + bottom[2 * x + 1]))
                         * 0.25f;
            }
            if (w % 2) row[ow - 1] = ((top[w - 1] + bottom[w - 1]) * 2.0f) * 0.25f;
        }
    }
}

/* Linear RGB (3, n) planes of n interleaved 8-bit RGB or RGBA pixels. Without a background
 * (or without alpha) each value goes through the 256-entry table; with one, the pixel is first
 * composited on it in gamma-encoded values (libjxl's AlphaBlend), then linearised by
 * interpolating a table of `fine_size` + 1 steps of the sRGB curve. */
void io_ssim2_linear(const unsigned char *restrict px, int channels, long n,
                     float *restrict out, const float *restrict table,
                     const float *restrict fine, int fine_size, float background) {
    float *r = out, *g = out + n, *b = out + 2 * n;
    if (channels == 3 || background < 0.0f) {
        for (long i = 0; i < n; i++) {
            const unsigned char *p = px + i * channels;
            r[i] = table[p[0]];
            g[i] = table[p[1]];
            b[i] = table[p[2]];
        }
        return;
    }
    const float scale = 1.0f / 255.0f, steps = (float)fine_size;
    for (long i = 0; i < n; i++) {
        const unsigned char *p = px + i * 4;
        const float alpha = p[3] * scale, behind = (1.0f - alpha) * background;
        float *dst[3] = {r + i, g + i, b + i};
        for (int c = 0; c < 3; c++) {
            const float at = (alpha * (p[c] * scale) + behind) * steps;
            int step = (int)at;
            step = step < 0 ? 0 : step >= fine_size ? fine_size - 1 : step;
            const float t = at - (float)step;
            *dst[c] = fine[step] + t * (fine[step + 1] - fine[step]);
        }
    }
}
