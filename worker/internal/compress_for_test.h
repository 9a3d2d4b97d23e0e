// Compressed test inputs, made in memory: a gzip member (zlib) and an LZ4
// frame (the frame API), as the input readers expect them
// (worker/internal/input_stream.h). For tests only (worker_test,
// tests/formats_test); failures are gtest failures.
#ifndef MR_WORKER_INTERNAL_COMPRESS_FOR_TEST_H_
#define MR_WORKER_INTERNAL_COMPRESS_FOR_TEST_H_

#include <lz4frame.h>
#include <zlib.h>

#include <string>

#include "gtest/gtest.h"

namespace mr {
namespace testing_compress {

// `data` as one gzip member.
inline std::string Gzip(const std::string& data) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8,
                         Z_DEFAULT_STRATEGY),
            Z_OK);
  std::string out(deflateBound(&z, data.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = data.size();
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = out.size();
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

// `data` as one LZ4 frame.
inline std::string Lz4(const std::string& data) {
  std::string out(LZ4F_compressFrameBound(data.size(), nullptr), '\0');
  const size_t n = LZ4F_compressFrame(out.data(), out.size(), data.data(),
                                      data.size(), nullptr);
  EXPECT_FALSE(LZ4F_isError(n));
  out.resize(n);
  return out;
}

}  // namespace testing_compress
}  // namespace mr

#endif  // MR_WORKER_INTERNAL_COMPRESS_FOR_TEST_H_
