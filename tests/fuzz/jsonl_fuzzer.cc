// Fuzzes the JSON Lines input format (ForEachInputRecord over RecordScanner
// and JsonLineParser): a file of the fuzzer's bytes, sometimes with a small
// max_record_bytes, read whole and cut into chunks.
//
// Input: an options byte [small max:2], a max byte when it asks for one, up
// to 4 cut points (a count byte, then two bytes each), then the file.
//
// Properties:
//  - every event's offset lies inside its chunk, and the chunks' events, in
//    order, are those of the file read as one chunk;
//  - which are the file's lines (split at '\n', less a '\r' before it):
//    a line longer than max_record_bytes (its line end not counted) is
//    malformed, a whitespace-only line is no record, a line that a JSON
//    checker written here (RFC 8259 grammar and UTF-8, independent of
//    simdjson) rejects is malformed with a "not JSON: " reason, and one it
//    accepts is a record, unless simdjson refuses it for one of the limits
//    RFC 8259 lets a parser set (nesting depth, number range) or for a lone
//    surrogate escape (whose meaning RFC 8259 leaves open);
//  - a record's fields are what json_line_parser.h promises, as that checker
//    reads the line: an object's members in order (names unescaped, string
//    values unescaped, null as "", other values as written), or one field
//    named "" for any other value.
#include <simdjson.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/fuzz/fuzz_util.h"
#include "tests/fuzz/input_format_fuzz.h"

namespace mr {
namespace fuzz {
namespace {

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// A JSON text checked and read by RFC 8259's grammar, apart from simdjson.
class JsonChecker {
 public:
  explicit JsonChecker(std::string_view text) : s_(text) {}

  // Whether the text is one JSON value with whitespace around; on success,
  // the fields json_line_parser.h describes in *fields.
  bool Check(std::vector<std::pair<std::string, std::string>>* fields) {
    fields->clear();
    SkipSpace();
    if (Peek() == '{') {
      ++i_;
      ++depth_;
      max_depth_ = std::max(max_depth_, depth_);
      SkipSpace();
      if (Peek() == '}') {
        ++i_;
      } else {
        while (true) {
          std::string name, value;
          SkipSpace();
          if (!String(&name)) return false;
          SkipSpace();
          if (Peek() != ':') return false;
          ++i_;
          SkipSpace();
          if (!Rendered(&value)) return false;
          fields->emplace_back(std::move(name), std::move(value));
          SkipSpace();
          if (Peek() == ',') {
            ++i_;
            continue;
          }
          if (Peek() != '}') return false;
          ++i_;
          break;
        }
      }
      --depth_;
    } else {
      std::string value;
      if (!Rendered(&value)) return false;
      fields->emplace_back("", std::move(value));
    }
    SkipSpace();
    return i_ == s_.size();
  }

  int max_depth() const { return max_depth_; }
  bool lone_surrogate() const { return lone_surrogate_; }
  // A number simdjson may find out of range (an exponent, or more digits
  // than a 64-bit integer holds).
  bool large_number() const { return large_number_; }

 private:
  char Peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  bool AtEnd() const { return i_ >= s_.size(); }
  void SkipSpace() {
    while (!AtEnd() && IsSpace(s_[i_])) ++i_;
  }

  // One value, rendered: a string unescaped, null as "", anything else as
  // written.
  bool Rendered(std::string* out) {
    if (Peek() == '"') return String(out);
    const size_t begin = i_;
    if (!Value(nullptr)) return false;
    if (s_.substr(begin, i_ - begin) != "null") {
      *out = std::string(s_.substr(begin, i_ - begin));
    }
    return true;
  }

  bool Value(std::string* unescaped) {
    if (AtEnd()) return false;
    switch (s_[i_]) {
      case '{':
      case '[': {
        const char close = s_[i_] == '{' ? '}' : ']';
        const bool object = close == '}';
        ++i_;
        if (++depth_ > kMaxDepth) return false;
        max_depth_ = std::max(max_depth_, depth_);
        SkipSpace();
        if (Peek() == close) {
          ++i_;
          --depth_;
          return true;
        }
        while (true) {
          SkipSpace();
          if (object) {
            std::string ignored;
            if (!String(&ignored)) return false;
            SkipSpace();
            if (Peek() != ':') return false;
            ++i_;
            SkipSpace();
          }
          if (!Value(nullptr)) return false;
          SkipSpace();
          if (Peek() == ',') {
            ++i_;
            continue;
          }
          if (Peek() != close) return false;
          ++i_;
          --depth_;
          return true;
        }
      }
      case '"': {
        std::string ignored;
        return String(unescaped != nullptr ? unescaped : &ignored);
      }
      case 't':
        return Literal("true");
      case 'f':
        return Literal("false");
      case 'n':
        return Literal("null");
      default:
        return Number();
    }
  }

  bool Literal(std::string_view word) {
    if (s_.substr(i_, word.size()) != word) return false;
    i_ += word.size();
    return true;
  }

  bool Digits(size_t* n) {
    *n = 0;
    while (!AtEnd() && s_[i_] >= '0' && s_[i_] <= '9') {
      ++i_;
      ++*n;
    }
    return *n > 0;
  }

  bool Number() {
    if (Peek() == '-') ++i_;
    size_t n;
    if (Peek() == '0') {
      ++i_;
      n = 1;
    } else if (!Digits(&n)) {
      return false;
    }
    if (n > 18) large_number_ = true;
    if (Peek() == '.') {
      ++i_;
      if (!Digits(&n)) return false;
    }
    if (Peek() == 'e' || Peek() == 'E') {
      large_number_ = true;
      ++i_;
      if (Peek() == '+' || Peek() == '-') ++i_;
      if (!Digits(&n)) return false;
    }
    return true;
  }

  static void AppendUtf8(uint32_t cp, std::string* out) {
    if (cp < 0x80) {
      out->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out->push_back(static_cast<char>(0xc0 | (cp >> 6)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
      out->push_back(static_cast<char>(0xe0 | (cp >> 12)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else {
      out->push_back(static_cast<char>(0xf0 | (cp >> 18)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    }
  }

  bool Hex4(uint32_t* v) {
    if (s_.size() - i_ < 4) return false;
    *v = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = s_[i_++];
      uint32_t d;
      if (c >= '0' && c <= '9') {
        d = c - '0';
      } else if (c >= 'a' && c <= 'f') {
        d = c - 'a' + 10;
      } else if (c >= 'A' && c <= 'F') {
        d = c - 'A' + 10;
      } else {
        return false;
      }
      *v = *v << 4 | d;
    }
    return true;
  }

  // One UTF-8 sequence starting at s_[i_] (a byte >= 0x80): well formed,
  // shortest form, no surrogate, at most U+10FFFF.
  bool Utf8(std::string* out) {
    const auto b = [&](size_t k) {
      return static_cast<uint8_t>(i_ + k < s_.size() ? s_[i_ + k] : 0);
    };
    const uint8_t c = b(0);
    size_t len;
    uint32_t cp;
    if (c >= 0xc2 && c <= 0xdf) {
      len = 2;
      cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
      len = 3;
      cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    for (size_t k = 1; k < len; ++k) {
      if ((b(k) & 0xc0) != 0x80) return false;
      cp = cp << 6 | (b(k) & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      return false;
    }
    out->append(s_.substr(i_, len));
    i_ += len;
    return true;
  }

  bool String(std::string* out) {
    out->clear();
    if (Peek() != '"') return false;
    ++i_;
    while (true) {
      if (AtEnd()) return false;
      const uint8_t c = static_cast<uint8_t>(s_[i_]);
      if (c == '"') {
        ++i_;
        return true;
      }
      if (c < 0x20) return false;
      if (c >= 0x80) {
        if (!Utf8(out)) return false;
        continue;
      }
      if (c != '\\') {
        out->push_back(static_cast<char>(c));
        ++i_;
        continue;
      }
      ++i_;
      if (AtEnd()) return false;
      const char e = s_[i_++];
      switch (e) {
        case '"': out->push_back('"'); break;
        case '\\': out->push_back('\\'); break;
        case '/': out->push_back('/'); break;
        case 'b': out->push_back('\b'); break;
        case 'f': out->push_back('\f'); break;
        case 'n': out->push_back('\n'); break;
        case 'r': out->push_back('\r'); break;
        case 't': out->push_back('\t'); break;
        case 'u': {
          uint32_t cp;
          if (!Hex4(&cp)) return false;
          if (cp >= 0xd800 && cp <= 0xdbff && s_.substr(i_, 2) == "\\u") {
            const size_t save = i_;
            i_ += 2;
            uint32_t low;
            if (!Hex4(&low)) return false;
            if (low >= 0xdc00 && low <= 0xdfff) {
              AppendUtf8(0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00), out);
              break;
            }
            i_ = save;
          }
          if (cp >= 0xd800 && cp <= 0xdfff) {
            lone_surrogate_ = true;
            break;  // what it means is open: the caller does not compare
          }
          AppendUtf8(cp, out);
          break;
        }
        default:
          return false;
      }
    }
  }

  // Deeper than simdjson's default limit (1024) is left unchecked.
  static constexpr int kMaxDepth = 2000;

  std::string_view s_;
  size_t i_ = 0;
  int depth_ = 0;
  int max_depth_ = 0;
  bool lone_surrogate_ = false;
  bool large_number_ = false;
};

std::string Reason(simdjson::error_code e) {
  return absl::StrCat("not JSON: ", simdjson::error_message(e));
}

// Checks the reader's events of `file` (read whole) against its lines as
// the JsonChecker reads them.
void CheckAgainstModel(std::string_view file, uint64_t max_record_bytes,
                       const std::vector<InputEvent>& events) {
  const std::string too_long =
      absl::StrCat("longer than ", max_record_bytes, " bytes");
  size_t next = 0;  // the next event to match
  uint64_t offset = 0;
  auto fail = [&](const char* what) {
    return absl::StrCat(what, " at line ", offset, ", event ", next, "; ",
                        Describe(events));
  };
  while (offset < file.size()) {
    const size_t nl = file.find('\n', offset);
    const size_t end = nl == std::string_view::npos ? file.size() : nl;
    std::string_view line = file.substr(offset, end - offset);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const InputEvent* e = next < events.size() ? &events[next] : nullptr;
    if (line.size() > max_record_bytes) {
      FUZZ_CHECK(e != nullptr && e->offset == offset && e->malformed &&
                 e->line == too_long)
          << fail("a long line is not reported too long");
      ++next;
    } else if (std::all_of(line.begin(), line.end(), IsSpace)) {
      // No record.
    } else {
      JsonChecker checker(line);
      std::vector<std::pair<std::string, std::string>> fields;
      const bool valid = checker.Check(&fields);
      FUZZ_CHECK(e != nullptr && e->offset == offset) << fail("a line missing");
      if (!valid) {
        FUZZ_CHECK(e->malformed) << fail("invalid JSON handed on");
        FUZZ_CHECK(e->line.rfind("not JSON: ", 0) == 0 &&
                   e->line.size() > 10)
            << fail("a reason that does not say why");
      } else if (e->malformed) {
        const bool allowed =
            (checker.max_depth() >= 1024 &&
             e->line == Reason(simdjson::DEPTH_ERROR)) ||
            (checker.large_number() &&
             e->line == Reason(simdjson::NUMBER_ERROR)) ||
            checker.lone_surrogate();
        FUZZ_CHECK(allowed) << fail("valid JSON reported malformed");
      } else {
        FUZZ_CHECK(e->line == line) << fail("a record's bytes differ");
        if (!checker.lone_surrogate()) {
          FUZZ_CHECK(e->fields == fields)
              << fail("fields differ from the checker's")
              << "\nchecker's: "
              << Describe(InputEvent{0, false, "", 0, fields});
        }
      }
      ++next;
    }
    if (nl == std::string_view::npos) break;
    offset = nl + 1;
  }
  FUZZ_CHECK(next == events.size()) << fail("events past the last line");
}

}  // namespace
}  // namespace fuzz
}  // namespace mr

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace mr::fuzz;
  FuzzInput in(data, size);
  const uint8_t bits = in.Byte();
  mr::SplitReaderOptions options;
  options.max_record_bytes = 1 << 20;
  if ((bits & 3) == 1) options.max_record_bytes = 1 + in.Byte() % 64;
  const std::vector<uint32_t> raw_cuts = ConsumeCuts(in, 4);
  const std::string_view bytes = in.Rest();
  FreshFile file(".jsonl", bytes);

  mrpb::InputFormat format;
  format.set_kind(mrpb::InputFormat::JSONL);
  const std::vector<InputEvent> whole =
      ReadWholeFile(file.path(), bytes.size(), format, options);
  CheckAgainstModel(bytes, options.max_record_bytes, whole);
  const std::vector<uint64_t> cuts = CutsIn(raw_cuts, bytes.size());
  if (!cuts.empty()) {
    const std::vector<InputEvent> chunked =
        ReadCutFile(file.path(), bytes.size(), cuts, format, options);
    FUZZ_CHECK(chunked == whole)
        << "chunks read other records than the whole file; "
        << FirstDifference(chunked, whole);
  }
  return 0;
}
