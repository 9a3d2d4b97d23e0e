// Converts between the wire messages (job.proto) and the master's disk
// format (state.proto). The two are separate on purpose: a change to the
// protocol is a change here too, where it is seen, never a silent change of
// what the master has stored.
#ifndef MR_MASTER_STATE_CODEC_H_
#define MR_MASTER_STATE_CODEC_H_

#include "proto/job.pb.h"
#include "proto/state.pb.h"

namespace mr {

mrstate::JobSpec ToStored(const mrpb::JobSpec& spec);
mrpb::JobSpec FromStored(const mrstate::JobSpec& spec);

mrstate::InputSplit ToStored(const mrpb::InputSplit& split);
mrpb::InputSplit FromStored(const mrstate::InputSplit& split);

mrstate::JobState ToStored(mrpb::JobState state);
mrpb::JobState FromStored(mrstate::JobState state);

mrstate::TaskKind ToStored(mrpb::TaskKind kind);
mrpb::TaskKind FromStored(mrstate::TaskKind kind);

}  // namespace mr

#endif  // MR_MASTER_STATE_CODEC_H_
