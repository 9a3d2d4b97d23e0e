// A plain-text table for terminals: a header row and data rows, columns
// separated by two spaces, each column as wide as its widest cell. The last
// column is not padded, so no line ends in spaces.
//
//   TextTable t({{"ID"}, {"SLOTS", TextTable::kRight}});
//   t.AddRow({"w-1", "4"});
//   std::cout << t.Render();
//
// Thread-compatible.
#ifndef MR_CLIENT_INTERNAL_TEXT_TABLE_H_
#define MR_CLIENT_INTERNAL_TEXT_TABLE_H_

#include <string>
#include <vector>

namespace mr {
namespace client_internal {

class TextTable {
 public:
  enum Align { kLeft, kRight };
  struct Column {
    std::string title;
    Align align = kLeft;
  };

  explicit TextTable(std::vector<Column> columns);

  // REQUIRES: cells.size() == number of columns.
  void AddRow(std::vector<std::string> cells);

  // The header and every row, each line ending in '\n'.
  std::string Render() const;

 private:
  const std::vector<Column> columns_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace client_internal
}  // namespace mr

#endif  // MR_CLIENT_INTERNAL_TEXT_TABLE_H_
