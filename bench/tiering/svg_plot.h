#pragma once

// A line chart as a standalone SVG document, written by hand (no plotting dependency).

#include <string>
#include <string_view>
#include <vector>

namespace vaultaire::tiering::bench {

struct Series {
  std::string name;
  std::vector<double> values;  // one per x = 0, 1, ...
};

// One line per series over x = 0 .. n-1, with axes, ticks, a legend and a title.
std::string line_chart_svg(std::string_view title, std::string_view x_label,
                           std::string_view y_label, const std::vector<Series>& series);

}  // namespace vaultaire::tiering::bench
