// Job parameters and counters cross the wire as repeated (bytes, value)
// pairs (job.proto's Param and Counter): a map<string, ...> in proto3 would
// refuse a name that is not UTF-8. These convert them to and from the
// std::map the job API and the engine use.
#ifndef MR_COMMON_PROTO_MAPS_H_
#define MR_COMMON_PROTO_MAPS_H_

#include <cstdint>
#include <map>
#include <string>

#include <google/protobuf/repeated_field.h>

#include "proto/job.pb.h"

namespace mr {

using ParamMap = std::map<std::string, std::string>;
using CounterMap = std::map<std::string, int64_t>;

// A key given twice: the last value wins (as on mrctl's command line).
ParamMap ParamsFromProto(
    const google::protobuf::RepeatedPtrField<mrpb::Param>& params);
// Sets `key` to `value` in `spec`'s params, replacing an earlier value.
void SetParam(mrpb::JobSpec* spec, const std::string& key,
              const std::string& value);

// Counter values add modulo 2^64: values from outside (a worker's report, a
// restored record) may be anything, and make a wrong total at worst, never
// undefined behaviour. Subtracting what was added restores the total
// (SubtractCounter()).
inline int64_t AddCounter(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) +
                              static_cast<uint64_t>(b));
}
inline int64_t SubtractCounter(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) -
                              static_cast<uint64_t>(b));
}

// For mrpb::Counter and the master state's mrstate::Counter alike (any
// message with a `bytes name` and an `int64 value`).
// A name given twice: its values are summed (AddCounter()).
template <typename CounterMessage>
CounterMap CountersFromProto(
    const google::protobuf::RepeatedPtrField<CounterMessage>& counters) {
  CounterMap out;
  for (const CounterMessage& c : counters) {
    int64_t& total = out[c.name()];
    total = AddCounter(total, c.value());
  }
  return out;
}

// Replaces `*out` with `counters`, in name order.
template <typename CounterMessage>
void CountersToProto(const CounterMap& counters,
                     google::protobuf::RepeatedPtrField<CounterMessage>* out) {
  out->Clear();
  out->Reserve(counters.size());
  for (const auto& [name, value] : counters) {
    CounterMessage* c = out->Add();
    c->set_name(name);
    c->set_value(value);
  }
}

}  // namespace mr

#endif  // MR_COMMON_PROTO_MAPS_H_
