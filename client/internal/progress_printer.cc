#include "client/internal/progress_printer.h"

#include "absl/strings/str_cat.h"

namespace mr {
namespace client_internal {

ProgressPrinter::ProgressPrinter(std::ostream* out, bool live, int bar_width)
    : out_(out), live_(live), bar_width_(bar_width) {}

void ProgressPrinter::Update(const mrpb::JobStatus& s) {
  const std::string maps = absl::StrCat("maps ", s.maps_done(), "/", s.maps_total());
  const std::string reduces =
      absl::StrCat("reduces ", s.reduces_done(), "/", s.reduces_total());
  const std::string key = absl::StrCat(maps, " ", reduces);
  if (key == last_) return;
  last_ = key;
  if (!live_) {
    *out_ << key << "\n" << std::flush;
    return;
  }
  const uint64_t total = uint64_t{s.maps_total()} + s.reduces_total();
  const uint64_t done = uint64_t{s.maps_done()} + s.reduces_done();
  int filled = total == 0 ? 0 : static_cast<int>(done * bar_width_ / total);
  if (filled > bar_width_) filled = bar_width_;
  std::string line = absl::StrCat("[", std::string(filled, '#'),
                                  std::string(bar_width_ - filled, '.'), "] ",
                                  maps, "  ", reduces);
  const size_t width = line.size();
  // Blank what is left of a longer previous line.
  if (width < last_width_) line.append(last_width_ - width, ' ');
  last_width_ = width;
  *out_ << "\r" << line << std::flush;
}

void ProgressPrinter::Finish() {
  if (live_ && last_width_ > 0) *out_ << "\n" << std::flush;
  last_width_ = 0;
}

}  // namespace client_internal
}  // namespace mr
