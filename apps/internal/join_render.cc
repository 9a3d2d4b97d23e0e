#include "apps/internal/join_render.h"

#include <utility>

#include "common/csv.h"
#include "common/names.h"

namespace mr {
namespace apps {
namespace internal {

JoinRenderer::JoinRenderer(Format format, std::vector<std::string> key_names)
    : format_(format), key_names_(std::move(key_names)) {}

void JoinRenderer::SetSchema(const JoinRow& row) {
  Schema& s = schema_[row.side];
  s.width = row.columns.size() - row.num_keys;
  s.names.clear();
  for (size_t i = row.num_keys; i < row.columns.size(); ++i) {
    s.names.emplace_back(row.columns[i].name);
  }
}

void JoinRenderer::Render(const JoinRow* left, const JoinRow* right,
                          std::string* out) {
  out->clear();
  if (format_ == Format::kCsv) {
    RenderCsv(left, right, out);
  } else {
    RenderJson(left, right, out);
  }
}

void JoinRenderer::RenderCsv(const JoinRow* left, const JoinRow* right,
                             std::string* out) {
  const JoinRow* keyed = left != nullptr ? left : right;
  bool first = true;
  auto field = [&](std::string_view text) {
    if (!first) out->push_back(',');
    first = false;
    AppendCsvField(text, out);
  };
  for (size_t i = 0; i < keyed->num_keys; ++i) field(keyed->columns[i].text);
  const JoinRow* rows[2] = {left, right};
  for (int side = 0; side < 2; ++side) {
    const JoinRow* row = rows[side];
    if (row == nullptr) {
      for (size_t i = 0; i < schema_[side].width; ++i) field({});
      continue;
    }
    for (size_t i = row->num_keys; i < row->columns.size(); ++i) {
      field(row->columns[i].text);
    }
  }
}

bool JoinRenderer::Clashes(std::string_view name, int side,
                           const JoinRow* other) const {
  for (const std::string& k : key_names_) {
    if (k == name) return true;
  }
  for (const std::string& n : schema_[1 - side].names) {
    if (n == name) return true;
  }
  if (other != nullptr) {
    for (size_t i = other->num_keys; i < other->columns.size(); ++i) {
      if (other->columns[i].name == name) return true;
    }
  }
  return false;
}

void JoinRenderer::RenderJson(const JoinRow* left, const JoinRow* right,
                              std::string* out) {
  const JoinRow* keyed = left != nullptr ? left : right;
  bool first = true;
  auto member = [&](std::string_view prefix, std::string_view name,
                    const JoinColumn& c) {
    out->push_back(first ? '{' : ',');
    first = false;
    if (prefix.empty()) {
      out->append(JsonString(name));
    } else {
      std::string full(prefix);
      full.append(name.data(), name.size());
      out->append(JsonString(full));
    }
    out->push_back(':');
    switch (c.kind) {
      case JoinColumn::kString: out->append(JsonString(c.text)); break;
      case JoinColumn::kJson: out->append(c.text.data(), c.text.size()); break;
      case JoinColumn::kNull: out->append("null"); break;
    }
  };
  for (size_t i = 0; i < keyed->num_keys && i < key_names_.size(); ++i) {
    member({}, key_names_[i], keyed->columns[i]);
  }
  const JoinRow* rows[2] = {left, right};
  static constexpr std::string_view kPrefix[2] = {"left.", "right."};
  for (int side = 0; side < 2; ++side) {
    const JoinRow* row = rows[side];
    if (row == nullptr) continue;
    for (size_t i = row->num_keys; i < row->columns.size(); ++i) {
      const std::string_view name = row->columns[i].name;
      const bool clash = Clashes(name, side, rows[1 - side]);
      member(clash ? kPrefix[side] : std::string_view(), name, row->columns[i]);
    }
  }
  if (first) out->push_back('{');
  out->push_back('}');
}

}  // namespace internal
}  // namespace apps
}  // namespace mr
