// Compressed input files: which ones are, by name. Shared by the master
// (a compressed file is never cut: master/input_splitter.h) and the worker
// (which decompresses it: worker/internal/input_stream.h).
#ifndef MR_COMMON_INPUT_CODEC_H_
#define MR_COMMON_INPUT_CODEC_H_

#include <string_view>

namespace mr {

enum class InputCodec {
  kNone,
  kGzip,  // ".gz": gzip (RFC 1952), one member or several concatenated
  kLz4,   // ".lz4": LZ4 frame format, one frame or several concatenated
};

// The codec a file's name says it is in.
inline InputCodec InputCodecOf(std::string_view path) {
  auto ends_with = [&](std::string_view suffix) {
    return path.size() >= suffix.size() &&
           path.substr(path.size() - suffix.size()) == suffix;
  };
  if (ends_with(".gz")) return InputCodec::kGzip;
  if (ends_with(".lz4")) return InputCodec::kLz4;
  return InputCodec::kNone;
}

}  // namespace mr

#endif  // MR_COMMON_INPUT_CODEC_H_
