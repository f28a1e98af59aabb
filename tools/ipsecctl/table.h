#ifndef IKELESS_TOOLS_IPSECCTL_TABLE_H_
#define IKELESS_TOOLS_IPSECCTL_TABLE_H_

// Text in aligned columns: the table output of ipsecctl. Cells come from the
// controller, and some of their text from agents (node names, event
// details), so control characters are replaced: a row stays one line and a
// cell cannot send escape sequences to the operator's terminal.

#include <string>
#include <vector>

namespace ikeless::ipsecctl {

// Collects rows, then renders them with every column as wide as its widest
// cell, columns separated by two spaces, no trailing spaces, one '\n' per
// line. An empty cell is shown as "-" so that every column has a word and
// `awk '{print $3}'` keeps working; missing cells at the end of a row too.
class Table {
 public:
  // An empty header renders no header line (a key/value listing).
  explicit Table(std::vector<std::string> header);

  void AddRow(std::vector<std::string> cells);
  std::string Render() const;

 private:
  size_t columns_;
  std::vector<std::vector<std::string>> lines_;  // header first, if any
};

// `text` with control characters (and DEL) replaced by '?'.
std::string SanitizeCell(const std::string& text);

// Width of `text` on a terminal, counting UTF-8 code points.
size_t DisplayWidth(const std::string& text);

}  // namespace ikeless::ipsecctl

#endif  // IKELESS_TOOLS_IPSECCTL_TABLE_H_
