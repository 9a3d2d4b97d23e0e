// What `mrctl pipeline status` and `mrctl pipeline list` print: plain text
// for people (the --json forms print the protos through json_writer.h).
//
//   run-000003  orders_daily  2026-11-01  FAILED  (orders.yaml)
//   error: step 'orders_ok' failed: quality gate failed: 3 of 1000 rows ...
//
//   STEP         KIND      STATE      TRIES  TIME   DETAIL
//   orders       extract   SUCCEEDED      1  0.0 s  2 files
//   orders_ok    validate  FAILED         1  1.2 s  quality gate failed: ...
//   load_orders  load      SKIPPED        0         not run: ...
//
//   rules of orders_ok (1000 rows, 3 failed, dead letters: DIR/dead_letter-*)
//   RULE                 FAILED  DETAIL
//   schema                    1
//   not_null(order_id)        2
//     {"file":"...","line":7,"record":"...","rules":["not_null(order_id)"]}
//
// Every name from the run (steps, errors, samples) is escaped to printable
// text (EscapeName()).
#ifndef MR_CLIENT_INTERNAL_PIPELINE_REPORT_H_
#define MR_CLIENT_INTERNAL_PIPELINE_REPORT_H_

#include <cstdint>
#include <string>

#include "proto/client.pb.h"

namespace mr {
namespace client_internal {

const char* PipelineStateName(mrpb::PipelineState state);

// `now_ms`: the wall clock, for the elapsed time of running steps.
std::string FormatPipelineRun(const mrpb::PipelineRun& run, int64_t now_ms);
std::string FormatPipelineRunTable(const mrpb::ListPipelineRunsResponse& runs);

}  // namespace client_internal
}  // namespace mr

#endif  // MR_CLIENT_INTERNAL_PIPELINE_REPORT_H_
