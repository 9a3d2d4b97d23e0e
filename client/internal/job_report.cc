#include "client/internal/job_report.h"

#include <algorithm>
#include <map>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/internal/text_table.h"
#include "common/names.h"
#include "common/proto_maps.h"
#include "mr/mapreduce.h"

namespace mr {
namespace client_internal {
namespace {

std::string Seconds(int64_t ms) {
  return absl::StrFormat("%.1f s", std::max<int64_t>(ms, 0) / 1000.0);
}

std::string Fraction(uint32_t done, uint32_t total) {
  return absl::StrCat(done, "/", total);
}

std::string FormatCounters(
    const google::protobuf::RepeatedPtrField<mrpb::Counter>& counters) {
  if (counters.empty()) return "counters: none\n";
  std::map<std::string, int64_t> sorted;  // by escaped name
  for (const auto& [name, value] : CountersFromProto(counters)) {
    sorted[EscapeName(name)] += value;
  }
  size_t name_width = 0, value_width = 0;
  for (const auto& [name, value] : sorted) {
    name_width = std::max(name_width, name.size());
    value_width = std::max(value_width, absl::StrCat(value).size());
  }
  std::string out = "counters:\n";
  for (const auto& [name, value] : sorted) {
    absl::StrAppendFormat(&out, "  %-*s  %*d\n", static_cast<int>(name_width),
                          name, static_cast<int>(value_width), value);
  }
  return out;
}

// "malformed records: N; first: FILE:OFFSET (REASON)\n", or nothing when
// there are none.
std::string FormatMalformed(const mrpb::JobStatus& s) {
  const CounterMap counters = CountersFromProto(s.counters());
  auto counter = counters.find("malformed records");
  const int64_t count = counter != counters.end() ? counter->second
                                                  : s.malformed_records_size();
  if (count <= 0) return "";
  std::string out = absl::StrCat("malformed records: ", count);
  if (s.malformed_records_size() > 0) {
    const mrpb::RecordLocation& first = s.malformed_records(0);
    absl::StrAppend(&out, "; first: ", EscapeName(first.path()), ":",
                    first.offset());
    if (!first.reason().empty()) {
      absl::StrAppend(&out, " (", EscapeName(first.reason()), ")");
    }
  }
  return out + "\n";
}

}  // namespace

std::string JobStateName(mrpb::JobState state) {
  switch (state) {
    case mrpb::JOB_RUNNING: return "running";
    case mrpb::JOB_SUCCEEDED: return "succeeded";
    case mrpb::JOB_FAILED: return "failed";
    case mrpb::JOB_KILLED: return "killed";
    default: return "unknown";
  }
}

std::string FormatCheckFailures(const mrpb::JobStatus& s) {
  const int64_t failures = CheckFailures(s);
  if (failures <= 0) return {};
  return absl::StrCat("checks failed: ", failures,
                      " (see the job's output)\n");
}

std::string FormatPartitions(const mrpb::JobStatus& s) {
  const int n = s.partitions_size();
  if (n == 0 || s.spec().map_only()) return {};
  std::string out = "map output per reduce partition:\n";
  std::vector<std::string> records, bytes;
  size_t rw = 7, bw = 5;  // "records", "bytes"
  for (const mrpb::PartitionSize& p : s.partitions()) {
    records.push_back(absl::StrCat(p.records()));
    bytes.push_back(absl::StrCat(p.bytes()));
    rw = std::max(rw, records.back().size());
    bw = std::max(bw, bytes.back().size());
  }
  const int shown = std::min(n, kMaxPartitionsShown);
  absl::StrAppendFormat(&out, "  partition  %*s  %*s\n", static_cast<int>(rw),
                        "records", static_cast<int>(bw), "bytes");
  for (int p = 0; p < shown; ++p) {
    absl::StrAppendFormat(&out, "  %9d  %*s  %*s\n", p, static_cast<int>(rw),
                          records[p], static_cast<int>(bw), bytes[p]);
  }
  if (shown < n) absl::StrAppend(&out, "  ... ", n - shown, " more\n");
  double ratio = 0;
  const int skewed = SkewedPartition(s, &ratio);
  if (skewed >= 0) {
    absl::StrAppend(
        &out, "skew: partition ", skewed, " holds ",
        ratio == 0 ? absl::StrCat(s.partitions(skewed).bytes(),
                                  " bytes while the median is 0")
                   : absl::StrFormat("%.1fx the median bytes", ratio),
        "\n");
  }
  return out;
}

std::string FormatJobReport(const mrpb::JobStatus& s, int64_t now_ms) {
  const std::string& id = s.job_id();
  const int64_t end_ms = s.finish_time_ms() > 0 ? s.finish_time_ms() : now_ms;
  std::string out;
  switch (s.state()) {
    case mrpb::JOB_SUCCEEDED:
      out = absl::StrCat("job ", id, " succeeded in ",
                         Seconds(end_ms - s.submit_time_ms()), "\n");
      break;
    case mrpb::JOB_FAILED:
      out = absl::StrCat("job ", id, " failed",
                         s.error().empty() ? "" : ": ", EscapeName(s.error()),
                         "\n");
      break;
    case mrpb::JOB_KILLED:
      out = absl::StrCat("job ", id, " killed",
                         s.error().empty() ? "" : ": ", EscapeName(s.error()),
                         "\n");
      break;
    case mrpb::JOB_RUNNING:
      out = absl::StrCat("job ", id, " running for ",
                         Seconds(now_ms - s.submit_time_ms()), "\n");
      break;
    default:
      out = absl::StrCat("job ", id, " in state ",
                         mrpb::JobState_Name(s.state()), "\n");
      break;
  }
  if (s.state() == mrpb::JOB_SUCCEEDED) {
    const uint32_t parts =
        s.spec().map_only() ? s.maps_total() : s.reduces_total();
    absl::StrAppend(&out, "output: ", EscapeName(s.spec().output_dir()), " (",
                    parts,
                    parts == 1 ? " part file)\n" : " part files)\n");
  } else {
    absl::StrAppend(&out, "progress: maps ",
                    Fraction(s.maps_done(), s.maps_total()), "  reduces ",
                    Fraction(s.reduces_done(), s.reduces_total()));
    const uint32_t running = s.maps_running() + s.reduces_running();
    if (running > 0) {
      absl::StrAppend(&out, "  (", running,
                      running == 1 ? " task running)" : " tasks running)");
    }
    absl::StrAppend(&out, "\noutput: ", EscapeName(s.spec().output_dir()),
                    "\n");
  }
  if (!s.owner().empty()) {
    absl::StrAppend(&out, "owner: ", EscapeName(s.owner()), "\n");
  }
  for (const mrpb::RecordLocation& r : s.skipped_records()) {
    if (r.key().empty()) {
      absl::StrAppend(&out, "skipped record: ", EscapeName(r.path()), ":",
                      r.offset(), "\n");
    } else {
      absl::StrAppend(&out, "skipped record: key group ", r.offset(), " of ",
                      EscapeName(r.path()), " (key '", EscapeName(r.key()),
                      "')\n");
    }
  }
  absl::StrAppend(&out, FormatMalformed(s));
  absl::StrAppend(&out, FormatCheckFailures(s));
  absl::StrAppend(&out, FormatPartitions(s));
  absl::StrAppend(&out, FormatCounters(s.counters()));
  return out;
}

int64_t CheckFailures(const mrpb::JobStatus& s) {
  const CounterMap counters = CountersFromProto(s.counters());
  auto it = counters.find(kCheckFailuresCounter);
  return it == counters.end() ? 0 : it->second;
}

int SkewedPartition(const mrpb::JobStatus& s, double* ratio) {
  const int n = s.partitions_size();
  if (n < 2) return -1;
  std::vector<uint64_t> bytes;
  int largest = 0;
  for (int p = 0; p < n; ++p) {
    bytes.push_back(s.partitions(p).bytes());
    if (bytes[p] > bytes[largest]) largest = p;
  }
  const uint64_t max = bytes[largest];
  std::nth_element(bytes.begin(), bytes.begin() + n / 2, bytes.end());
  const uint64_t median = bytes[n / 2];
  if (max <= kSkewFactor * median) return -1;
  *ratio = median == 0 ? 0 : static_cast<double>(max) / median;
  return largest;
}

std::string FormatJobTable(const mrpb::ListJobsResponse& jobs) {
  TextTable table({{"JOB ID"},
                   {"STATE"},
                   {"MAPS", TextTable::kRight},
                   {"REDUCES", TextTable::kRight},
                   {"APP"},
                   {"OWNER"},
                   {"OUTPUT"}});
  for (const mrpb::JobStatus& j : jobs.jobs()) {
    const std::string app =
        j.spec().app().empty() ? j.spec().plugin_name() : j.spec().app();
    table.AddRow({j.job_id(), JobStateName(j.state()),
                  Fraction(j.maps_done(), j.maps_total()),
                  Fraction(j.reduces_done(), j.reduces_total()),
                  EscapeName(app), EscapeName(j.owner()),
                  EscapeName(j.spec().output_dir())});
  }
  return table.Render();
}

std::string FormatWorkerTable(const mrpb::ListWorkersResponse& workers) {
  TextTable table({{"ID"},
                   {"ADDRESS"},
                   {"SLOTS", TextTable::kRight},
                   {"RUNNING", TextTable::kRight},
                   {"LAST HEARTBEAT", TextTable::kRight}});
  for (const mrpb::WorkerInfo& w : workers.workers()) {
    table.AddRow({w.worker_id(), w.address(), absl::StrCat(w.slots()),
                  absl::StrCat(w.running_tasks()),
                  absl::StrCat(w.last_heartbeat_ms_ago(), " ms ago")});
  }
  return table.Render();
}

}  // namespace client_internal
}  // namespace mr
