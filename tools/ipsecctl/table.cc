#include "tools/ipsecctl/table.h"

#include <algorithm>

namespace ikeless::ipsecctl {

Table::Table(std::vector<std::string> header) : columns_(header.size()) {
  if (!header.empty()) lines_.push_back(std::move(header));
}

void Table::AddRow(std::vector<std::string> cells) {
  columns_ = std::max(columns_, cells.size());
  for (std::string& cell : cells) cell = cell.empty() ? "-" : SanitizeCell(cell);
  lines_.push_back(std::move(cells));
}

std::string Table::Render() const {
  std::vector<size_t> widths(columns_, 1);
  for (const auto& line : lines_) {
    for (size_t c = 0; c < line.size(); ++c) {
      widths[c] = std::max(widths[c], DisplayWidth(line[c]));
    }
  }
  std::string out;
  for (const auto& line : lines_) {
    for (size_t c = 0; c < columns_; ++c) {
      const std::string& cell = c < line.size() ? line[c] : std::string("-");
      out += cell;
      if (c + 1 < columns_) out.append(widths[c] - DisplayWidth(cell) + 2, ' ');
    }
    out += '\n';
  }
  return out;
}

std::string SanitizeCell(const std::string& text) {
  std::string out = text;
  for (char& c : out) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) c = '?';
  }
  return out;
}

size_t DisplayWidth(const std::string& text) {
  // Continuation bytes (10xxxxxx) do not start a character.
  return static_cast<size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xc0) != 0x80;
  }));
}

}  // namespace ikeless::ipsecctl
