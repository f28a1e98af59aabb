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

 private:
  std::vector<std::vector<std::string>> rows_;
};

// "%.1f"-style helpers for table cells.
std::string Fixed(double value, int decimals);

}  // namespace ikeless::bench

#endif  // IKELESS_BENCH_TEXT_TABLE_H_
