/*
 * Episteme's one native part: the CRC32C of a run of records in one call,
 * checked for a read (verifyRun) or written for an append (fillRecordCrcs).
 * checksum/recordRun.ts loads it; without it each record's CRC32C is one
 * call into @node-rs/crc32, with the same results.
 *
 * Why native: a sequential reader of 4 KiB records spent a fifth of its time
 * in one CRC32C call per record, each a single stream of the CRC
 * instruction (~12 GB/s in cache here). The instruction's latency is three
 * cycles and its throughput one a cycle, so three records checked side by
 * side run ~3x faster (119 against 337 ns per 4 KiB record, in cache), and
 * a run of records costs one call instead of one per record.
 *
 * A record is [len:u32][crc32c:u32][blake3:32][payload:len]; its CRC32C
 * covers len, blake3 and payload (docs/FORMAT.md). Only x86-64 with SSE4.2
 * is built (checked at load: the module exports nothing on a CPU without it).
 */
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#if !defined(__x86_64__)
#error "recordRun.c is built for x86-64 only (scripts/build-native.mjs skips other machines)"
#endif

#include <nmmintrin.h>

#define RECORD_OVERHEAD 40
#define CRC_AT 4
#define COVERED_FROM 8

static inline uint32_t read_u32(const uint8_t *p) {
  uint32_t v;
  memcpy(&v, p, 4); /* little-endian, as the format and x86-64 are */
  return v;
}

__attribute__((target("sse4.2")))
static uint64_t crc_tail(uint64_t c, const uint8_t *p, size_t n) {
  while (n >= 8) {
    uint64_t v;
    memcpy(&v, p, 8);
    c = _mm_crc32_u64(c, v);
    p += 8;
    n -= 8;
  }
  while (n--) c = _mm_crc32_u8((uint32_t)c, *p++);
  return c;
}

/* CRC32C of each record's covered bytes, for `count` (1-3) records at `at`. */
__attribute__((target("sse4.2")))
static void record_crcs(const uint8_t *base, const size_t *at, const size_t *len, int count, uint32_t *out) {
  uint64_t c[3];
  const uint8_t *p[3];
  size_t n[3];
  for (int k = 0; k < count; k++) {
    const uint8_t *r = base + at[k];
    c[k] = _mm_crc32_u32(0xffffffffu, read_u32(r));
    p[k] = r + COVERED_FROM;
    n[k] = RECORD_OVERHEAD - COVERED_FROM + len[k];
  }
  if (count == 3) {
    size_t common = n[0] < n[1] ? n[0] : n[1];
    if (n[2] < common) common = n[2];
    common &= ~(size_t)7;
    uint64_t c0 = c[0], c1 = c[1], c2 = c[2];
    for (size_t i = 0; i < common; i += 8) {
      uint64_t v0, v1, v2;
      memcpy(&v0, p[0] + i, 8);
      memcpy(&v1, p[1] + i, 8);
      memcpy(&v2, p[2] + i, 8);
      c0 = _mm_crc32_u64(c0, v0);
      c1 = _mm_crc32_u64(c1, v1);
      c2 = _mm_crc32_u64(c2, v2);
    }
    c[0] = c0;
    c[1] = c1;
    c[2] = c2;
    for (int k = 0; k < 3; k++) {
      p[k] += common;
      n[k] -= common;
    }
  }
  for (int k = 0; k < count; k++) out[k] = ~(uint32_t)crc_tail(c[k], p[k], n[k]);
}

/*
 * Walks records from bytes[from], each starting below `startBefore`, whole
 * below `end`, with a length of at most `maxPayload`, at most `maxRecords` of
 * them, and checks each one's CRC32C. Returns the index where the walk
 * stopped: every record from `from` up to it is whole and its CRC32C
 * matches. The record there (if any) is the caller's to classify.
 */
static size_t verify_run(const uint8_t *bytes, size_t from, size_t end, size_t start_before, uint64_t max_payload, uint64_t max_records) {
  size_t pos = from;
  uint64_t taken = 0;
  for (;;) {
    size_t at[3], len[3];
    int count = 0;
    size_t scan = pos;
    while (count < 3 && taken + (uint64_t)count < max_records && scan < start_before && end - scan >= RECORD_OVERHEAD) {
      uint32_t n = read_u32(bytes + scan);
      if (n > max_payload || end - scan - RECORD_OVERHEAD < n) break;
      at[count] = scan;
      len[count] = n;
      count++;
      scan += RECORD_OVERHEAD + (size_t)n;
    }
    if (count == 0) return pos;
    uint32_t crc[3];
    record_crcs(bytes, at, len, count, crc);
    for (int k = 0; k < count; k++) {
      if (crc[k] != read_u32(bytes + at[k] + CRC_AT)) return at[k];
      pos = at[k] + RECORD_OVERHEAD + len[k];
    }
    taken += (uint64_t)count;
  }
}

/* A number >= 0 (NaN and negatives refused), as a size_t; `*clamped` is it capped at `limit`. */
/*
 * Writes each record's CRC32C into its crc field, for the records laid out
 * back to back from bytes[from] (as the writer just encoded them, lengths
 * included), three at a time. Returns the index after the last record
 * filled: `end` when every record lay whole below it.
 */
static size_t fill_crcs(uint8_t *bytes, size_t from, size_t end) {
  size_t pos = from;
  for (;;) {
    size_t at[3], len[3];
    int count = 0;
    size_t scan = pos;
    while (count < 3 && end - scan >= RECORD_OVERHEAD) {
      uint32_t n = read_u32(bytes + scan);
      if (end - scan - RECORD_OVERHEAD < n) break;
      at[count] = scan;
      len[count] = n;
      count++;
      scan += RECORD_OVERHEAD + (size_t)n;
    }
    if (count == 0) return pos;
    uint32_t crc[3];
    record_crcs(bytes, at, len, count, crc);
    for (int k = 0; k < count; k++) {
      memcpy(bytes + at[k] + CRC_AT, &crc[k], 4); /* little-endian, as the format */
      pos = at[k] + RECORD_OVERHEAD + len[k];
    }
  }
}

static int index_arg(napi_env env, napi_value v, size_t limit, size_t *clamped, double *raw) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok || !(d >= 0)) return 0;
  *clamped = d >= (double)limit ? limit : (size_t)d;
  if (raw != NULL) *raw = d;
  return 1;
}

/* The arguments both functions open with: (bytes: Uint8Array, from, end, ...), `count` in all. */
struct run_args {
  napi_value argv[6];
  uint8_t *data;
  size_t from, end;
  double from_raw;
};

/* Reads them into `a`; on a bad one throws a TypeError naming `fn` and returns 0. */
static int run_args(napi_env env, napi_callback_info info, const char *fn, size_t count, struct run_args *a) {
  char message[96];
  size_t argc = count;
  if (napi_get_cb_info(env, info, &argc, a->argv, NULL, NULL) != napi_ok || argc < count) {
    snprintf(message, sizeof message, "%s takes %zu arguments", fn, count);
    napi_throw_type_error(env, NULL, message);
    return 0;
  }
  napi_typedarray_type type;
  size_t length;
  void *data;
  if (napi_get_typedarray_info(env, a->argv[0], &type, &length, &data, NULL, NULL) != napi_ok || type != napi_uint8_array) {
    snprintf(message, sizeof message, "%s: bytes must be a Uint8Array", fn);
    napi_throw_type_error(env, NULL, message);
    return 0;
  }
  a->data = (uint8_t *)data;
  if (!index_arg(env, a->argv[1], length, &a->from, &a->from_raw) || !index_arg(env, a->argv[2], length, &a->end, NULL)) {
    snprintf(message, sizeof message, "%s: positions must be numbers >= 0", fn);
    napi_throw_type_error(env, NULL, message);
    return 0;
  }
  return 1;
}

/* A walk's stopping index as the number returned to JavaScript. */
static napi_value stop_at(napi_env env, double stop) {
  napi_value result;
  napi_create_double(env, stop, &result);
  return result;
}

/* verifyRun(bytes: Uint8Array, from, end, startBefore, maxPayload, maxRecords): number */
static napi_value verify_run_js(napi_env env, napi_callback_info info) {
  struct run_args a;
  if (!run_args(env, info, "verifyRun", 6, &a)) return NULL;
  size_t start_before, max_payload, max_records;
  if (!index_arg(env, a.argv[3], SIZE_MAX, &start_before, NULL) || !index_arg(env, a.argv[4], SIZE_MAX, &max_payload, NULL) || !index_arg(env, a.argv[5], SIZE_MAX, &max_records, NULL)) {
    napi_throw_type_error(env, NULL, "verifyRun: positions must be numbers >= 0");
    return NULL;
  }
  if (a.from_raw >= (double)a.end) return stop_at(env, a.from_raw);
  return stop_at(env, (double)verify_run(a.data, a.from, a.end, start_before, max_payload, max_records));
}

/* What the loader (src/checksum/recordRun.ts) expects: raised whenever a function's arguments or meaning change (2: fillRecordCrcs), so that a module left from another version is not used. */
#define RECORD_RUN_ABI 2

/* fillRecordCrcs(bytes: Uint8Array, from, end): number */
static napi_value fill_crcs_js(napi_env env, napi_callback_info info) {
  struct run_args a;
  if (!run_args(env, info, "fillRecordCrcs", 3, &a)) return NULL;
  if (a.from_raw >= (double)a.end) return stop_at(env, a.from_raw);
  return stop_at(env, (double)fill_crcs(a.data, a.from, a.end));
}

NAPI_MODULE_INIT() {
  napi_value abi;
  if (napi_create_uint32(env, RECORD_RUN_ABI, &abi) == napi_ok) napi_set_named_property(env, exports, "abi", abi);
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("sse4.2")) return exports;
  napi_value fn;
  if (napi_create_function(env, "verifyRun", NAPI_AUTO_LENGTH, verify_run_js, NULL, &fn) == napi_ok) {
    napi_set_named_property(env, exports, "verifyRun", fn);
  }
  if (napi_create_function(env, "fillRecordCrcs", NAPI_AUTO_LENGTH, fill_crcs_js, NULL, &fn) == napi_ok) {
    napi_set_named_property(env, exports, "fillRecordCrcs", fn);
  }
  return exports;
}
