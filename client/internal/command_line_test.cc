#include "client/internal/command_line.h"
#include "common/proto_maps.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace mr {
namespace client_internal {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

constexpr char kCwd[] = "/home/u/work";

absl::StatusOr<CommandLine> Parse(const std::vector<std::string>& args,
                                  const char* env = nullptr) {
  return ParseCommandLine(args, env, kCwd);
}

// The usage error's message, or "OK".
std::string Error(const std::vector<std::string>& args,
                  const char* env = nullptr) {
  absl::StatusOr<CommandLine> cl = Parse(args, env);
  if (cl.ok()) return "OK";
  EXPECT_EQ(cl.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(cl.status().message());
}

TEST(CommandLineTest, SubmitWithShellExpandedGlobAndRepeatedInput) {
  absl::StatusOr<CommandLine> cl = Parse(
      {"--master", "127.0.0.1:7000", "submit", "--app", "wordcount",
       "--input", "/data/a.txt", "/data/b.txt", "/data/c.txt", "--output",
       "out", "--input", "more/*.txt", "../x.txt", "--reduces", "3",
       "--split-size", "1048576", "--param", "pattern=ab=c", "--param",
       "mode=", "--overwrite", "--name", "my job", "--wait", "--json"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_EQ(cl->command, Command::kSubmit);
  EXPECT_EQ(cl->master, "127.0.0.1:7000");
  EXPECT_EQ(cl->spec.app(), "wordcount");
  EXPECT_EQ(cl->plugin_path, "");
  EXPECT_THAT(cl->spec.inputs(),
              ElementsAre("/data/a.txt", "/data/b.txt", "/data/c.txt",
                          "/home/u/work/more/*.txt", "/home/u/x.txt"));
  EXPECT_EQ(cl->spec.output_dir(), "/home/u/work/out");
  EXPECT_EQ(cl->spec.num_reduces(), 3u);
  EXPECT_EQ(cl->spec.split_size(), 1048576u);
  EXPECT_THAT(ParamsFromProto(cl->spec.params()),
              UnorderedElementsAre(Pair("pattern", "ab=c"), Pair("mode", "")));
  EXPECT_TRUE(cl->spec.overwrite());
  EXPECT_EQ(cl->spec.name(), "my job");
  EXPECT_TRUE(cl->wait);
  EXPECT_TRUE(cl->json);
}

TEST(CommandLineTest, SubmitDefaultsAndEqualsForms) {
  absl::StatusOr<CommandLine> cl =
      Parse({"--master=h:1", "submit", "--plugin=lib/libjob.so",
             "--input=a.txt", "b.txt", "--output=/abs/out/"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_EQ(cl->master, "h:1");
  EXPECT_EQ(cl->spec.app(), "");
  EXPECT_EQ(cl->plugin_path, "/home/u/work/lib/libjob.so");
  EXPECT_EQ(cl->spec.plugin_name(), "");
  EXPECT_THAT(cl->spec.inputs(),
              ElementsAre("/home/u/work/a.txt", "/home/u/work/b.txt"));
  EXPECT_EQ(cl->spec.output_dir(), "/abs/out");
  EXPECT_EQ(cl->spec.num_reduces(), 0u);
  EXPECT_EQ(cl->spec.split_size(), 0u);
  EXPECT_TRUE(cl->spec.params().empty());
  EXPECT_FALSE(cl->spec.overwrite());
  EXPECT_FALSE(cl->wait);
  EXPECT_FALSE(cl->json);
}

TEST(CommandLineTest, MasterFromEnvironmentAndAfterCommand) {
  absl::StatusOr<CommandLine> cl = Parse({"list"}, "envhost:9");
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_EQ(cl->master, "envhost:9");

  cl = Parse({"--master", "flag:1", "list"}, "envhost:9");
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_EQ(cl->master, "flag:1");

  cl = Parse({"status", "job-000001", "--master", "late:2", "--json"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_EQ(cl->master, "late:2");
  EXPECT_EQ(cl->command, Command::kStatus);
  EXPECT_EQ(cl->job_id, "job-000001");
  EXPECT_TRUE(cl->json);
}

TEST(CommandLineTest, TlsCaAndTokenFileAnywhereMadeAbsolute) {
  absl::StatusOr<CommandLine> cl =
      Parse({"--tls_ca", "certs/ca.crt", "--master", "h:1", "list",
             "--token_file=/etc/mr/token", "--all"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_EQ(cl->command, Command::kList);
  EXPECT_EQ(cl->tls_ca, "/home/u/work/certs/ca.crt");
  EXPECT_EQ(cl->token_file, "/etc/mr/token");
  EXPECT_TRUE(cl->all);

  // The dashed spellings, after a submit's --input list (which they end).
  cl = Parse({"--master", "h:1", "submit", "--app", "wordcount", "--input",
              "a.txt", "b.txt", "--tls-ca=/ca.pem", "--output", "out",
              "--token-file", "tok"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_THAT(cl->spec.inputs(),
              ElementsAre("/home/u/work/a.txt", "/home/u/work/b.txt"));
  EXPECT_EQ(cl->tls_ca, "/ca.pem");
  EXPECT_EQ(cl->token_file, "/home/u/work/tok");

  cl = Parse({"--master", "h:1", "workers"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_EQ(cl->tls_ca, "");
  EXPECT_EQ(cl->token_file, "");

  EXPECT_EQ(Error({"--master", "h:1", "list", "--tls_ca"}),
            "--tls_ca needs FILE");
  EXPECT_EQ(Error({"--master", "h:1", "--token_file=", "list"}),
            "--token_file needs FILE");
  EXPECT_EQ(Error({"--master", "h:1", "--token-file", "--json", "list"}),
            "--token-file needs FILE");
}

TEST(CommandLineTest, MissingMaster) {
  EXPECT_EQ(Error({"list"}),
            "no master given: use --master HOST:PORT or set MR_MASTER");
  EXPECT_EQ(Error({"list"}, ""),
            "no master given: use --master HOST:PORT or set MR_MASTER");
  EXPECT_EQ(Error({"--master"}), "--master needs HOST:PORT");
  EXPECT_EQ(Error({"--master", "list"}), "no command given (try 'mrctl help')");
  EXPECT_EQ(Error({"--master=", "list"}), "--master needs HOST:PORT");
  EXPECT_EQ(Error({"--master", "--json", "list"}), "--master needs HOST:PORT");
}

TEST(CommandLineTest, PipelineCheckNeedsAFileAndNoMaster) {
  absl::StatusOr<CommandLine> cl = Parse({"pipeline", "check", "p.yaml"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_EQ(cl->command, Command::kPipelineCheck);
  EXPECT_EQ(cl->pipeline_file, std::string(kCwd) + "/p.yaml");
  EXPECT_EQ(Parse({"pipeline", "check", "/etc/p.yaml"})->pipeline_file,
            "/etc/p.yaml");
  EXPECT_EQ(Error({"pipeline", "check"}), "pipeline check needs one FILE");
  EXPECT_EQ(Error({"pipeline", "check", "a", "b"}),
            "pipeline check needs one FILE");
  EXPECT_EQ(Error({"pipeline", "check", "--json"}),
            "pipeline check needs one FILE");
  EXPECT_EQ(Error({"pipeline"}),
            "unknown pipeline command '' (check, run, status or list)");
  EXPECT_EQ(Error({"pipeline", "run\x1b"}),
            "unknown pipeline command 'run\\x1b' (check, run, status or list)");
}

TEST(CommandLineTest, PipelineRunStatusAndList) {
  absl::StatusOr<CommandLine> cl = Parse(
      {"--master", "h:1", "pipeline", "run", "p.yaml", "--date", "2026-11-01", "--wait"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_EQ(cl->command, Command::kPipelineRun);
  EXPECT_EQ(cl->pipeline_file, std::string(kCwd) + "/p.yaml");
  EXPECT_EQ(cl->date, "2026-11-01");
  EXPECT_TRUE(cl->wait);
  EXPECT_FALSE(cl->json);
  cl = Parse({"--master", "h:1", "pipeline", "run", "--date=2026-11-01", "/p.yaml", "--json"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_EQ(cl->pipeline_file, "/p.yaml");
  EXPECT_TRUE(cl->json);
  EXPECT_EQ(Error({"--master", "h:1", "pipeline", "run", "p.yaml"}),
            "pipeline run needs --date YYYY-MM-DD (the logical date to run)");
  EXPECT_EQ(Error({"--master", "h:1", "pipeline", "run", "--date", "2026-11-01"}),
            "pipeline run needs a FILE");
  EXPECT_EQ(Error({"--master", "h:1", "pipeline", "run", "p", "--date", "11/01/2026"}),
            "--date must be YYYY-MM-DD, got '11/01/2026'");
  EXPECT_EQ(Error({"--master", "h:1", "pipeline", "run", "p", "--date"}),
            "--date needs YYYY-MM-DD");
  EXPECT_EQ(Error({"--master", "h:1", "pipeline", "run", "p", "q", "--date", "2026-11-01"}),
            "unexpected argument 'q' for pipeline run");
  EXPECT_EQ(Error({"pipeline", "run", "p", "--date", "2026-11-01"}),
            "no master given: use --master HOST:PORT or set MR_MASTER");

  cl = Parse({"--master", "h:1", "pipeline", "status", "run-000003", "--json"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_EQ(cl->command, Command::kPipelineStatus);
  EXPECT_EQ(cl->run_id, "run-000003");
  EXPECT_TRUE(cl->json);
  EXPECT_EQ(Error({"--master", "h:1", "pipeline", "status"}), "pipeline status needs a RUN id");
  cl = Parse({"--master", "h:1", "pipeline", "list"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_EQ(cl->command, Command::kPipelineList);
  EXPECT_EQ(Error({"--master", "h:1", "pipeline", "list", "x"}),
            "unexpected argument 'x' for pipeline list");
}

TEST(CommandLineTest, Help) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"help"}, {"--help"}, {"-h"}, {"submit", "--help"}}) {
    absl::StatusOr<CommandLine> cl = Parse(args);
    ASSERT_TRUE(cl.ok()) << cl.status();
    EXPECT_EQ(cl->command, Command::kHelp);
  }
}

TEST(CommandLineTest, BadNumbers) {
  const std::vector<std::string> base = {"--master", "h:1",  "submit",
                                         "--app",    "wc",   "--input",
                                         "a",        "--output", "o"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = base;
    args.insert(args.end(), extra.begin(), extra.end());
    return Error(args);
  };
  EXPECT_EQ(with({"--reduces", "abc"}),
            "--reduces must be a positive integer, got 'abc'");
  EXPECT_EQ(with({"--reduces", "00"}),
            "--reduces must be a positive integer, got '00'");
  EXPECT_EQ(with({"--maps", "2"}),
            "--maps is for apps that generate their input; not with --input");
  EXPECT_EQ(with({"--reduces", "0", "--total-order"}),
            "--total-order needs reduces; not with --reduces 0");
  EXPECT_EQ(with({"--input-format", "csv:x"}),
            "--input-format csv: unknown option 'x' (header, delimiter=C)");
  EXPECT_EQ(with({"--input-format", "xml"}),
            "--input-format must be text, csv[:header][:delimiter=C], "
            "tsv[:header], jsonl or fixed:BYTES, got 'xml'");
  EXPECT_EQ(with({"--input-format", "fixed:0"}),
            "--input-format fixed:BYTES must be a positive integer, got '0'");
  EXPECT_EQ(with({"--output-format", "xml"}),
            "--output-format must be text, tsv, csv, jsonl or binary, got "
            "'xml'");
  EXPECT_EQ(with({"--reduces=-3"}),
            "--reduces must be a positive integer, got '-3'");
  EXPECT_EQ(with({"--reduces", "+3"}),
            "--reduces must be a positive integer, got '+3'");
  EXPECT_EQ(with({"--reduces", "2.5"}),
            "--reduces must be a positive integer, got '2.5'");
  EXPECT_EQ(with({"--reduces", "4294967296"}),
            "--reduces must be at most 4294967295, got '4294967296'");
  EXPECT_EQ(with({"--reduces"}), "--reduces needs a value");
  EXPECT_EQ(with({"--split-size", "64M"}),
            "--split-size must be a positive integer, got '64M'");
  EXPECT_EQ(with({"--split-size", "99999999999999999999"}),
            "--split-size must be at most 18446744073709551615, got "
            "'99999999999999999999'");
  EXPECT_EQ(with({"--reduces", "4294967295"}), "OK");
}

TEST(CommandLineTest, SubmitUsageErrors) {
  auto submit = [](std::vector<std::string> extra) {
    std::vector<std::string> args = {"--master", "h:1", "submit"};
    args.insert(args.end(), extra.begin(), extra.end());
    return Error(args);
  };
  EXPECT_EQ(submit({"--app", "wc", "--input", "a", "--output", "o", "--x"}),
            "unknown flag --x for submit");
  EXPECT_EQ(submit({"--app", "wc", "--input", "a", "--output", "o",
                    "--param", "novalue"}),
            "--param needs KEY=VALUE, got 'novalue'");
  EXPECT_EQ(submit({"--app", "wc", "--input", "a", "--output", "o",
                    "--param", "=v"}),
            "--param needs KEY=VALUE, got '=v'");
  EXPECT_EQ(submit({"--app", "wc", "--input", "--output", "o"}),
            "--input needs at least one PATH");
  EXPECT_EQ(submit({"--app", "wc", "--output", "o"}),
            "submit needs --input PATH... (or --maps M for an app that "
            "generates its input)");
  EXPECT_EQ(submit({"--app", "teragen", "--maps", "0", "--output", "o"}),
            "--maps must be a positive integer, got '0'");
  EXPECT_EQ(submit({"--app", "wc", "--input", "a"}),
            "submit needs --output DIR");
  EXPECT_EQ(submit({"--input", "a", "--output", "o"}),
            "submit needs --app NAME or --plugin FILE");
  EXPECT_EQ(submit({"--app", "wc", "--plugin", "p.so", "--input", "a",
                    "--output", "o"}),
            "--app and --plugin are mutually exclusive");
  EXPECT_EQ(submit({"--app", "wc", "--app", "grep", "--input", "a",
                    "--output", "o"}),
            "--app given twice");
  EXPECT_EQ(submit({"--app", "--input", "a", "--output", "o"}),
            "--app needs a value");
  EXPECT_EQ(submit({"--app", "wc", "--input", "a", "--output", "o",
                    "--wait=yes"}),
            "--wait takes no value");
  EXPECT_EQ(submit({"stray", "--app", "wc"}),
            "unexpected argument 'stray' for submit");
}

TEST(CommandLineTest, OtherCommands) {
  absl::StatusOr<CommandLine> cl = Parse({"--master", "h:1", "kill", "job-7"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_EQ(cl->command, Command::kKill);
  EXPECT_EQ(cl->job_id, "job-7");

  cl = Parse({"--master", "h:1", "workers", "--json"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_EQ(cl->command, Command::kWorkers);
  EXPECT_TRUE(cl->json);

  EXPECT_EQ(Error({"--master", "h:1", "status"}), "status needs a JOB id");
  EXPECT_EQ(Error({"--master", "h:1", "status", "a", "b"}),
            "unexpected argument 'b' for status");
  EXPECT_EQ(Error({"--master", "h:1", "kill", "j", "--json"}),
            "unknown flag --json for kill");
  EXPECT_EQ(Error({"--master", "h:1", "status", "job-\xe9"}),
            "a JOB id is UTF-8");
  EXPECT_EQ(Error({"--master", "h:1", "submit", "--app", "wc\xe9", "--input",
                   "/a", "--output", "/o"}),
            "--app must be UTF-8");
  EXPECT_EQ(Error({"--master", "h:1", "submit", "--app", "wordcount",
                   "--input", "/a", "--output", "/o", "--request-id", "r\xe9"}),
            "--request-id must be UTF-8");
  EXPECT_EQ(Error({"--master", "h:1", "list", "--everything"}),
            "unknown flag --everything for list");
  EXPECT_EQ(Error({"--master", "h:1", "workers", "--all"}),
            "unknown flag --all for workers");
  cl = Parse({"--master", "h:1", "list", "--all", "--json"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_TRUE(cl->all);
  EXPECT_TRUE(cl->json);
  EXPECT_EQ(Error({"--master", "h:1", "list", "x"}),
            "unexpected argument 'x' for list");
  EXPECT_EQ(Error({"--master", "h:1", "frobnicate"}),
            "unknown command 'frobnicate' (try 'mrctl help')");
  EXPECT_EQ(Error({"--verbose", "list"}), "unknown flag --verbose");
}

TEST(CommandLineTest, AnErrorQuotesArgumentsEscapedOnOneLine) {
  // Found by tests/fuzz/command_line_fuzzer: the message quoted the
  // argument as it was, newline and terminal escape included.
  EXPECT_EQ(Error({"--master", "h:1", "submit", "--bad\nflag"}),
            "unknown flag --bad\\nflag for submit");
  EXPECT_EQ(Error({"--master", "h:1", "status", "a", "\x1b[2Jb"}),
            "unexpected argument '\\x1b[2Jb' for status");
  EXPECT_EQ(Error({"--master", "h:1", "submit", "--app", "x", "--input", "/a",
                   "--output", "/o", "--reduces", "caf\xe9\r"}),
            "--reduces must be a positive integer, got 'caf\\xe9\\r'");
}

TEST(CommandLineTest, AnEmptyJobIdIsRefused) {
  // Found by tests/fuzz/command_line_fuzzer: `mrctl status ""` asked the
  // master for job "".
  EXPECT_EQ(Error({"--master", "h:1", "status", ""}),
            "a JOB id cannot be empty");
  EXPECT_EQ(Error({"--master", "h:1", "kill", ""}), "a JOB id cannot be empty");
}

TEST(CommandLineTest, SubmitMaxAttempts) {
  const std::vector<std::string> base = {"--master", "h:1",  "submit",
                                         "--app",    "wc",   "--input",
                                         "a",        "--output", "o"};
  auto parse = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = base;
    args.insert(args.end(), extra.begin(), extra.end());
    return Parse(args);
  };
  absl::StatusOr<CommandLine> cl = parse({});
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_EQ(cl->spec.max_task_attempts(), 0u);  // the master's default
  EXPECT_EQ(cl->spec.max_skipped_records(), 0u);  // never skip
  EXPECT_FALSE(cl->spec.disable_speculation());
  cl = parse({"--max-attempts", "30", "--max-skipped-records", "5",
              "--no-speculation"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_EQ(cl->spec.max_task_attempts(), 30u);
  EXPECT_EQ(cl->spec.max_skipped_records(), 5u);
  EXPECT_TRUE(cl->spec.disable_speculation());
  cl = parse({"--max-attempts=1"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_EQ(cl->spec.max_task_attempts(), 1u);

  auto error = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = base;
    args.insert(args.end(), extra.begin(), extra.end());
    return Error(args);
  };
  EXPECT_EQ(error({"--max-attempts", "0"}),
            "--max-attempts must be a positive integer, got '0'");
  EXPECT_EQ(error({"--max-attempts", "-2"}),
            "--max-attempts must be a positive integer, got '-2'");
  EXPECT_EQ(error({"--max-attempts", "x"}),
            "--max-attempts must be a positive integer, got 'x'");
  EXPECT_EQ(error({"--max-attempts", "4294967296"}),
            "--max-attempts must be at most 4294967295, got '4294967296'");
  EXPECT_EQ(error({"--max-attempts"}), "--max-attempts needs a value");
  EXPECT_EQ(error({"--max-attempts", "3", "--max-attempts", "4"}),
            "--max-attempts given twice");
}

TEST(CommandLineTest, SubmitJobShapesAndFormats) {
  absl::StatusOr<CommandLine> cl =
      Parse({"--master", "h:1", "submit", "--app", "teragen", "--maps", "4",
             "--reduces", "0", "--output", "o", "--param", "records=10",
             "--output-format", "binary"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_EQ(cl->spec.inputs_size(), 0);
  EXPECT_EQ(cl->spec.num_maps(), 4u);
  EXPECT_TRUE(cl->spec.map_only());
  EXPECT_EQ(cl->spec.num_reduces(), 0u);
  EXPECT_EQ(cl->spec.output_format(), mrpb::OUTPUT_BINARY);

  cl = Parse({"--master", "h:1", "submit", "--app", "terasort", "--input",
              "a", "--output", "o", "--reduces", "3", "--total-order",
              "--input-format=fixed:100", "--output-format", "tsv"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_FALSE(cl->spec.map_only());
  EXPECT_TRUE(cl->spec.total_order());
  EXPECT_EQ(cl->spec.num_reduces(), 3u);
  ASSERT_EQ(cl->spec.input_formats_size(), 1);
  EXPECT_EQ(cl->spec.input_formats(0).kind(), mrpb::InputFormat::FIXED);
  EXPECT_EQ(cl->spec.input_formats(0).record_bytes(), 100u);
  EXPECT_EQ(cl->spec.output_format(), mrpb::OUTPUT_TSV);
}

TEST(CommandLineTest, InputFormatSyntax) {
  auto format = [](const std::string& f) {
    absl::StatusOr<CommandLine> cl =
        Parse({"--master", "h:1", "submit", "--app", "wc", "--input", "a",
               "--output", "o", "--input-format", f});
    EXPECT_TRUE(cl.ok()) << f << ": " << cl.status();
    EXPECT_EQ(cl.ok() ? cl->spec.input_formats_size() : 0, 1) << f;
    return cl.ok() && cl->spec.input_formats_size() == 1
               ? cl->spec.input_formats(0)
               : mrpb::InputFormat();
  };
  mrpb::InputFormat f = format("csv");
  EXPECT_EQ(f.kind(), mrpb::InputFormat::CSV);
  EXPECT_FALSE(f.header());
  EXPECT_EQ(f.delimiter(), "");
  f = format("csv:header:delimiter=;");
  EXPECT_EQ(f.kind(), mrpb::InputFormat::CSV);
  EXPECT_TRUE(f.header());
  EXPECT_EQ(f.delimiter(), ";");
  f = format("csv:delimiter=tab");
  EXPECT_FALSE(f.header());
  EXPECT_EQ(f.delimiter(), "\t");
  f = format("tsv:header");
  EXPECT_EQ(f.kind(), mrpb::InputFormat::CSV);
  EXPECT_TRUE(f.header());
  EXPECT_EQ(f.delimiter(), "\t");
  EXPECT_EQ(format("jsonl").kind(), mrpb::InputFormat::JSONL);
  EXPECT_EQ(format("text").kind(), mrpb::InputFormat::TEXT);

  const std::vector<std::string> base = {"--master", "h:1", "submit", "--app",
                                         "wc", "--input", "a", "--output", "o"};
  auto error = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = base;
    args.insert(args.end(), extra.begin(), extra.end());
    return Error(args);
  };
  EXPECT_EQ(error({"--input-format", "csv:delimiter=ab"}),
            "--input-format csv: the delimiter must be one byte (or tab), not "
            "a quote or a line end, got 'ab'");
  EXPECT_EQ(error({"--input-format", "csv:delimiter=\""}),
            "--input-format csv: the delimiter must be one byte (or tab), not "
            "a quote or a line end, got '\"'");
  EXPECT_EQ(error({"--input-format", "tsv:delimiter=;"}),
            "--input-format tsv: unknown option 'delimiter=;' (header)");
  EXPECT_EQ(error({"--input-format"}), "--input-format needs a value");
}

TEST(CommandLineTest, InputFormatPerInput) {
  // Each of several --input-format flags applies to the inputs after it.
  absl::StatusOr<CommandLine> cl = Parse(
      {"--master", "h:1", "submit", "--app", "fields", "--input", "t.txt",
       "--input-format", "csv:header", "--input", "a.csv", "b.csv",
       "--input-format=jsonl", "--input", "c.jsonl", "--output", "/o"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  ASSERT_EQ(cl->spec.inputs_size(), 4);
  ASSERT_EQ(cl->spec.input_formats_size(), 4);
  EXPECT_EQ(cl->spec.input_formats(0).kind(), mrpb::InputFormat::TEXT);
  EXPECT_EQ(cl->spec.input_formats(1).kind(), mrpb::InputFormat::CSV);
  EXPECT_TRUE(cl->spec.input_formats(1).header());
  EXPECT_EQ(cl->spec.input_formats(2).kind(), mrpb::InputFormat::CSV);
  EXPECT_EQ(cl->spec.input_formats(3).kind(), mrpb::InputFormat::JSONL);

  // One flag, before or after the inputs, applies to all of them.
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{
           {"--master", "h:1", "submit", "--app", "wc", "--input-format",
            "jsonl", "--input", "a", "--input", "b", "--output", "/o"},
           {"--master", "h:1", "submit", "--app", "wc", "--input", "a",
            "--input", "b", "--output", "/o", "--input-format", "jsonl"}}) {
    cl = Parse(args);
    ASSERT_TRUE(cl.ok()) << cl.status();
    ASSERT_EQ(cl->spec.inputs_size(), 2);
    ASSERT_EQ(cl->spec.input_formats_size(), 1);
    EXPECT_EQ(cl->spec.input_formats(0).kind(), mrpb::InputFormat::JSONL);
  }

  // Several flags that come to the same format for every input: one.
  cl = Parse({"--master", "h:1", "submit", "--app", "wc", "--input-format",
              "csv", "--input", "a", "--input-format", "csv", "--input", "b",
              "--output", "/o"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_EQ(cl->spec.input_formats_size(), 1);

  EXPECT_EQ(Error({"--master", "h:1", "submit", "--app", "wc",
                   "--input-format", "csv", "--input", "a", "--input-format",
                   "jsonl", "--output", "/o"}),
            "--input-format jsonl is followed by no --input (with several "
            "--input-format flags, each applies to the inputs after it)");
}

TEST(CommandLineTest, OutputFormatJsonl) {
  absl::StatusOr<CommandLine> cl =
      Parse({"--master", "h:1", "submit", "--app", "wc", "--input", "a",
             "--output", "o", "--output-format", "jsonl"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_EQ(cl->spec.output_format(), mrpb::OUTPUT_JSONL);
}

TEST(CommandLineTest, SubmitDataPathLimits) {
  const std::vector<std::string> base = {"--master", "h:1",  "submit",
                                         "--app",    "wc",   "--input",
                                         "a",        "--output", "o"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = base;
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  };
  absl::StatusOr<CommandLine> cl = Parse(with({}));
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_EQ(cl->spec.sort_buffer_bytes(), 0u);  // the master's defaults
  EXPECT_EQ(cl->spec.merge_factor(), 0u);
  EXPECT_EQ(cl->spec.max_record_bytes(), 0u);

  cl = Parse(with({"--sort-buffer-mb", "16", "--merge-factor", "8",
                   "--max-record-bytes", "1048576"}));
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_EQ(cl->spec.sort_buffer_bytes(), 16ull << 20);
  EXPECT_EQ(cl->spec.merge_factor(), 8u);
  EXPECT_EQ(cl->spec.max_record_bytes(), 1048576u);

  cl = Parse(with({"--sort-buffer-mb=1", "--merge-factor=2",
                   "--max-record-bytes=1073741824"}));
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_EQ(cl->spec.sort_buffer_bytes(), 1ull << 20);
  EXPECT_EQ(cl->spec.merge_factor(), 2u);
  EXPECT_EQ(cl->spec.max_record_bytes(), 1ull << 30);

  EXPECT_EQ(Error(with({"--sort-buffer-mb", "0"})),
            "--sort-buffer-mb must be a positive integer, got '0'");
  EXPECT_EQ(Error(with({"--sort-buffer-mb", "1.5"})),
            "--sort-buffer-mb must be a positive integer, got '1.5'");
  EXPECT_EQ(Error(with({"--sort-buffer-mb", "64M"})),
            "--sort-buffer-mb must be a positive integer, got '64M'");
  EXPECT_EQ(Error(with({"--sort-buffer-mb", "17592186044416"})),
            "--sort-buffer-mb must be at most 17592186044415, got "
            "'17592186044416'");
  EXPECT_EQ(Error(with({"--sort-buffer-mb"})), "--sort-buffer-mb needs a value");
  EXPECT_EQ(Error(with({"--merge-factor", "1"})),
            "--merge-factor must be at least 2, got '1'");
  EXPECT_EQ(Error(with({"--merge-factor", "0"})),
            "--merge-factor must be a positive integer, got '0'");
  EXPECT_EQ(Error(with({"--merge-factor", "1001"})),
            "--merge-factor must be at most 1000, got '1001'");
  EXPECT_EQ(Error(with({"--merge-factor", "-4"})),
            "--merge-factor must be a positive integer, got '-4'");
  EXPECT_EQ(Error(with({"--merge-factor", "4", "--merge-factor", "8"})),
            "--merge-factor given twice");
  EXPECT_EQ(Error(with({"--max-record-bytes", "0"})),
            "--max-record-bytes must be a positive integer, got '0'");
  EXPECT_EQ(Error(with({"--max-record-bytes", "1073741825"})),
            "--max-record-bytes must be at most 1073741824, got '1073741825'");
  EXPECT_EQ(Error(with({"--max-record-bytes", "1k"})),
            "--max-record-bytes must be a positive integer, got '1k'");
}

TEST(CommandLineTest, UsageListsTheDataPathFlagsWithDefaults) {
  const std::string usage = UsageText();
  EXPECT_NE(usage.find("[--sort-buffer-mb N] [--merge-factor F] "
                       "[--max-record-bytes BYTES]"),
            std::string::npos)
      << usage;
  EXPECT_NE(usage.find("spills a run (default 64, at least 1)."),
            std::string::npos)
      << usage;
  EXPECT_NE(usage.find("in passes (default 64, 2 to 1000)."), std::string::npos)
      << usage;
  EXPECT_NE(usage.find("(default 64 MiB, at most 1 GiB)."),
            std::string::npos)
      << usage;
}

TEST(CommandLineTest, StreamingFlagsSetTheStreamingAppAndItsParams) {
  const std::vector<std::string> base = {"--master", "m:1", "submit",
                                         "--input", "in", "--output", "out"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = base;
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  };
  absl::StatusOr<CommandLine> cl =
      Parse(with({"--mapper", "python3 m.py", "--reducer=python3 r.py",
                  "--combiner", "sort | uniq -c", "--file", "m.py",
                  "--param", "limit=3"}));
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_EQ(cl->spec.app(), "streaming");
  EXPECT_EQ(cl->plugin_path, "");
  EXPECT_THAT(ParamsFromProto(cl->spec.params()),
              UnorderedElementsAre(Pair("mapper", "python3 m.py"),
                                   Pair("reducer", "python3 r.py"),
                                   Pair("combiner", "sort | uniq -c"),
                                   Pair("limit", "3")));
  EXPECT_THAT(cl->side_files, ElementsAre("/home/u/work/m.py"));

  // The mapper alone; --app streaming is allowed alongside.
  cl = Parse(with({"--app", "streaming", "--mapper", "cat"}));
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_EQ(cl->spec.app(), "streaming");
  EXPECT_THAT(ParamsFromProto(cl->spec.params()),
              ElementsAre(Pair("mapper", "cat")));

  EXPECT_EQ(Error(with({"--reducer", "cat"})),
            "--reducer and --combiner need --mapper CMD");
  EXPECT_EQ(Error(with({"--combiner", "cat"})),
            "--reducer and --combiner need --mapper CMD");
  EXPECT_EQ(Error(with({"--mapper", "cat", "--app", "wordcount"})),
            "--mapper runs the streaming app: not with --plugin or another "
            "--app");
  EXPECT_EQ(Error(with({"--plugin", "x.so", "--mapper", "cat"})),
            "--mapper runs the streaming app: not with --plugin or another "
            "--app");
  EXPECT_EQ(Error(with({"--mapper", "cat", "--param", "mapper=tr a b"})),
            "--mapper and --param mapper= both given");
  EXPECT_EQ(Error(with({"--mapper", "cat", "--mapper", "tac"})),
            "--mapper given twice");
  EXPECT_EQ(Error(with({"--mapper"})), "--mapper needs a value");
  EXPECT_NE(std::string(UsageText()).find("--mapper CMD [--reducer CMD]"),
            std::string::npos);
}

}  // namespace
}  // namespace client_internal
}  // namespace mr
