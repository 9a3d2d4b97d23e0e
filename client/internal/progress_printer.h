// Shows a running job's progress while `mrctl submit --wait` waits.
//
// Live mode (stderr is a terminal): one line redrawn in place with '\r',
//   [#######.................] maps 5/8  reduces 0/4
// the bar filled by finished tasks (maps and reduces together) over all.
// Plain mode (a pipe or file): one line per change,
//   maps 5/8 reduces 0/4
// Nothing is written while the numbers stay the same.
//
// Thread-compatible: call from one thread.
#ifndef MR_CLIENT_INTERNAL_PROGRESS_PRINTER_H_
#define MR_CLIENT_INTERNAL_PROGRESS_PRINTER_H_

#include <ostream>
#include <string>

#include "proto/client.pb.h"

namespace mr {
namespace client_internal {

class ProgressPrinter {
 public:
  // `out` must outlive this printer.
  ProgressPrinter(std::ostream* out, bool live, int bar_width = 24);

  // Shows `status` when its numbers differ from the last shown.
  void Update(const mrpb::JobStatus& status);

  // Live mode: ends the redrawn line with '\n' if one was drawn. Call once
  // before printing anything else to the same stream.
  void Finish();

 private:
  std::ostream* const out_;
  const bool live_;
  const int bar_width_;
  std::string last_;        // the numbers last shown, e.g. "maps 5/8 ..."
  size_t last_width_ = 0;   // live: length of the line on screen
};

}  // namespace client_internal
}  // namespace mr

#endif  // MR_CLIENT_INTERNAL_PROGRESS_PRINTER_H_
