/* One call into jpegli's libjpeg-style C API, with an error handler that returns.
 *
 * pyjpegli's wheel exports jpegli's whole C API (jpegli_*), but its Python API offers only
 * RGB at a quality number: no 4:4:4, no progressive scans, no optimized Huffman tables, no
 * grayscale or CMYK. This file is compiled once into a small shared library (see
 * jpegli_build.py) whose jpegli_* symbols resolve against that wheel's extension module.
 *
 * libjpeg's default error_exit calls exit(); here it formats the message and longjmps back to
 * io_jpegli_encode, which destroys the encoder, frees the buffer and returns -1 with the message,
 * so a bad call is an error for one image, never the end of the worker. Warnings are dropped
 * (output_message would print them to stderr).
 *
 * The structs come from the system's jpeglib.h (libjpeg-turbo, JPEG_LIB_VERSION 62), the same
 * ABI jpegli is built for; jpegli_CreateCompress checks the struct size it is given ("has
 * wrong size" comes back as an error, tests/test_jpegli.py), so a mismatched header cannot
 * silently corrupt memory.
 */
#include <setjmp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

void jpegli_CreateCompress(j_compress_ptr cinfo, int version, size_t structsize);
void jpegli_destroy_compress(j_compress_ptr cinfo);
void jpegli_set_defaults(j_compress_ptr cinfo);
void jpegli_set_colorspace(j_compress_ptr cinfo, J_COLOR_SPACE colorspace);
void jpegli_set_distance(j_compress_ptr cinfo, float distance, boolean force_baseline);
void jpegli_set_quality(j_compress_ptr cinfo, int quality, boolean force_baseline);
void jpegli_set_progressive_level(j_compress_ptr cinfo, int level);
void jpegli_enable_adaptive_quantization(j_compress_ptr cinfo, boolean value);
void jpegli_mem_dest(j_compress_ptr cinfo, unsigned char **outbuffer, unsigned long *outsize);
void jpegli_start_compress(j_compress_ptr cinfo, boolean write_all_tables);
JDIMENSION jpegli_write_scanlines(j_compress_ptr cinfo, JSAMPARRAY scanlines,
                                  JDIMENSION num_lines);
void jpegli_finish_compress(j_compress_ptr cinfo);
void jpegli_write_marker(j_compress_ptr cinfo, int marker, const JOCTET *dataptr,
                         unsigned int datalen);
void jpegli_write_icc_profile(j_compress_ptr cinfo, const JOCTET *icc_data_ptr,
                              unsigned int icc_data_len);
struct jpeg_error_mgr *jpegli_std_error(struct jpeg_error_mgr *err);

typedef struct {
  struct jpeg_error_mgr pub;
  jmp_buf jump;
  char *message;
  size_t message_size;
} shim_error;

static void shim_error_exit(j_common_ptr cinfo) {
  shim_error *err = (shim_error *)cinfo->err;
  char text[JMSG_LENGTH_MAX];
  (*cinfo->err->format_message)(cinfo, text);
  snprintf(err->message, err->message_size, "%s", text);
  longjmp(err->jump, 1);
}

static void shim_output_message(j_common_ptr cinfo) { (void)cinfo; }

void io_jpegli_free(unsigned char *buffer) { free(buffer); }

/* Encodes ``height`` rows of ``width`` pixels of ``components`` bytes (1 grey, 3 RGB).
 * ``distance`` > 0 sets jpegli's butteraugli distance, else ``quality`` its quality number.
 * ``subsample`` 1 halves chroma both ways (4:2:0), 0 keeps it (4:4:4). ``segments`` are
 * ``count`` (marker, length, bytes) triples written after the header, as they are. */
int io_jpegli_encode(const unsigned char *pixels, unsigned int width, unsigned int height,
                     int components, float distance, int quality, int subsample,
                     int progressive_level, int adaptive, const unsigned char *icc,
                     unsigned int icc_size, const int *markers, const unsigned int *lengths,
                     const unsigned char *const *payloads, int count, unsigned char **out,
                     unsigned long *out_size, char *message, size_t message_size) {
  struct jpeg_compress_struct cinfo;
  shim_error err;
  unsigned char *volatile buffer = NULL;
  unsigned long size = 0;
  memset(&cinfo, 0, sizeof(cinfo));
  cinfo.err = jpegli_std_error(&err.pub);
  err.pub.error_exit = shim_error_exit;
  err.pub.output_message = shim_output_message;
  err.message = message;
  err.message_size = message_size;
  if (setjmp(err.jump)) {
    jpegli_destroy_compress(&cinfo);
    free(buffer);
    return -1;
  }
  jpegli_CreateCompress(&cinfo, JPEG_LIB_VERSION, sizeof(cinfo));
  jpegli_mem_dest(&cinfo, (unsigned char **)&buffer, &size);
  cinfo.image_width = width;
  cinfo.image_height = height;
  cinfo.input_components = components;
  cinfo.in_color_space = components == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpegli_set_defaults(&cinfo);
  if (distance > 0) {
    jpegli_set_distance(&cinfo, distance, TRUE);
  } else {
    jpegli_set_quality(&cinfo, quality, TRUE);
  }
  if (components == 3) {
    cinfo.comp_info[0].h_samp_factor = subsample ? 2 : 1;
    cinfo.comp_info[0].v_samp_factor = subsample ? 2 : 1;
    for (int c = 1; c < 3; c++) {
      cinfo.comp_info[c].h_samp_factor = 1;
      cinfo.comp_info[c].v_samp_factor = 1;
    }
  }
  jpegli_set_progressive_level(&cinfo, progressive_level);
  jpegli_enable_adaptive_quantization(&cinfo, adaptive ? TRUE : FALSE);
  cinfo.optimize_coding = TRUE;
  jpegli_start_compress(&cinfo, TRUE);
  for (int i = 0; i < count; i++) {
    jpegli_write_marker(&cinfo, markers[i], payloads[i], lengths[i]);
  }
  if (icc_size > 0) jpegli_write_icc_profile(&cinfo, icc, icc_size);
  size_t stride = (size_t)width * (size_t)components;
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = (JSAMPROW)(pixels + (size_t)cinfo.next_scanline * stride);
    jpegli_write_scanlines(&cinfo, &row, 1);
  }
  jpegli_finish_compress(&cinfo);
  jpegli_destroy_compress(&cinfo);
  *out = buffer;
  *out_size = size;
  return 0;
}
