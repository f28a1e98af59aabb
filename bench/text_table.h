#ifndef IKELESS_BENCH_TEXT_TABLE_H_
#define IKELESS_BENCH_TEXT_TABLE_H_

// A plain-text table with aligned columns for the benchmarks' results:
// first column left-aligned (labels), the others right-aligned (numbers).

#include <string>
#include <vector>

namespace ikeless::bench {

class TextTable {
 public:
  explicit TextTable(std::vector<std::string> header) { rows_.push_back(std::move(header)); }
  void AddRow(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  // The header, a rule, then the rows; every line ends in '\n'.
  std::string Render() const;
  // The same rows as tab-separated values (header first), for plotting.
  std::string RenderTsv() const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

// "%.1f"-style helpers for table cells.
std::string Fixed(double value, int decimals);

// Writes `text` to `path` (replacing it); false with errno set on failure.
bool WriteTextFile(const std::string& path, const std::string& text);

}  // namespace ikeless::bench

#endif  // IKELESS_BENCH_TEXT_TABLE_H_
