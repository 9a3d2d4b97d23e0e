// A pipeline's load into files (issue #8): the staged rows of a step become
// one date's partition of a directory tree, Hive style:
//
//   TARGET/dt=2026-10-31/...             other dates: never touched
//   TARGET/dt=2026-11-01/part-00000.jsonl  one file per staged file, in the
//                        part-00001.jsonl  order given
//                        _SUCCESS          names the run that loaded it
//
// The partition directory is replaced as a whole, atomically, by
// StagedDirectory (common/staged_directory.h): the new files are written
// (and synced) in TARGET/.dt=2026-11-01.load.staging, which then takes the
// partition's place in one renameat2(RENAME_EXCHANGE). A reader, or a
// process killed at any point, finds the old partition or the complete new
// one, never a mix; a rerun replaces whatever is there (and removes a
// staging directory a killed run left), so running the load twice leaves
// the same bytes. Two loads of one partition at once are the caller's to
// prevent (the pipeline runner runs one step of a run at a time).
//
// Formats:
//   jsonl  each staged line as it is (it was checked to be one JSON
//          object), with '\n'
//   csv    RFC 4180, a header row and then one record per row, '\n' line
//          ends; the columns are those of the load's first row, in its
//          order, and every row must have exactly those columns (in any
//          order). Values: strings as they are (quoted when they must be;
//          an empty string as ""), numbers as written, true/false, null as
//          an empty field, nested JSON as its text. Every file has the
//          header (none when the load has no rows at all).
// Rows keep the partition column if they have it (and must then hold the
// partition's date); rows without it are written as they are: the
// directory name carries the date.
//
// An empty input is a valid load: the partition then holds empty part
// files (and _SUCCESS), replacing what it held; see postgres_load.h for
// why a date whose data vanished must end up empty.
//
// Thread-safety: LoadIntoFiles() may run on several threads at once, for
// different partitions.
#ifndef MR_MASTER_PIPELINE_FILE_LOAD_H_
#define MR_MASTER_PIPELINE_FILE_LOAD_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace mr {
namespace pipeline {

struct FileLoad {
  // The staged part files (JSON Lines), in order.
  std::vector<std::string> files;
  // The directory holding the partitions (created when missing).
  std::string target_root;
  std::string format;  // "jsonl" or "csv"
  // Only "overwrite_partition" (appending to a directory of files cannot be
  // made idempotent without naming every run's files; not needed yet).
  std::string mode;
  std::string partition_column;  // "dt"
  std::string dt;                // YYYY-MM-DD
  std::string run_id;            // written into _SUCCESS
};

struct FileLoadStats {
  int64_t rows = 0;
  std::string partition_dir;       // TARGET/COLUMN=DT, absolute
  std::vector<std::string> files;  // the part files written, absolute
};

// Writes the partition; see the file comment. Errors (the partition is
// unchanged after any of them):
//   InvalidArgument  a bad request (format, mode, partition column, date);
//                    a row whose partition column holds another date, or
//                    (csv) whose columns differ from the header's
//                    ("FILE:LINE: ...")
//   DataLoss         a staged line that is not one JSON object
//                    ("FILE:LINE: ...")
//   NotFound         a staged file is missing
//   Internal         the partition cannot be written
absl::StatusOr<FileLoadStats> LoadIntoFiles(const FileLoad& load);

}  // namespace pipeline
}  // namespace mr

#endif  // MR_MASTER_PIPELINE_FILE_LOAD_H_
