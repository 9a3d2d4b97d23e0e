#include "client/internal/text_table.h"

#include <algorithm>
#include <cassert>
#include <utility>

namespace mr {
namespace client_internal {

TextTable::TextTable(std::vector<Column> columns)
    : columns_(std::move(columns)) {}

void TextTable::AddRow(std::vector<std::string> cells) {
  assert(cells.size() == columns_.size());
  cells.resize(columns_.size());
  rows_.push_back(std::move(cells));
}

std::string TextTable::Render() const {
  std::vector<size_t> width(columns_.size());
  for (size_t c = 0; c < columns_.size(); ++c) {
    width[c] = columns_[c].title.size();
    for (const auto& row : rows_) width[c] = std::max(width[c], row[c].size());
  }
  std::string out;
  auto render_line = [&](auto cell_at) {
    std::string line;
    for (size_t c = 0; c < columns_.size(); ++c) {
      const std::string& cell = cell_at(c);
      const std::string pad(width[c] - cell.size(), ' ');
      if (c > 0) line += "  ";
      if (columns_[c].align == kRight) {
        line += pad + cell;
      } else {
        line += cell;
        if (c + 1 < columns_.size()) line += pad;
      }
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line;
    out += '\n';
  };
  render_line([&](size_t c) -> const std::string& { return columns_[c].title; });
  for (const auto& row : rows_) {
    render_line([&](size_t c) -> const std::string& { return row[c]; });
  }
  return out;
}

}  // namespace client_internal
}  // namespace mr
