#include "svg_plot.h"

#include <algorithm>
#include <array>
#include <cmath>

#include <fmt/format.h>

namespace vaultaire::tiering::bench {
namespace {

std::string escape(std::string_view text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// A "nice" tick step (1, 2 or 5 times a power of ten) giving about `count` ticks up to `max`.
double tick_step(double max, int count) {
  if (max <= 0) {
    return 1;
  }
  const double raw = max / count;
  const double power = std::pow(10.0, std::floor(std::log10(raw)));
  for (const double m : {1.0, 2.0, 5.0, 10.0}) {
    if (raw <= m * power) {
      return m * power;
    }
  }
  return 10 * power;
}

std::string tick_label(double value, double step) {
  const int decimals = step >= 1 ? 0 : static_cast<int>(std::ceil(-std::log10(step)));
  return fmt::format("{:.{}f}", value, decimals);
}

}  // namespace

std::string line_chart_svg(std::string_view title, std::string_view x_label,
                           std::string_view y_label, const std::vector<Series>& series) {
  constexpr double kWidth = 960;
  constexpr double kHeight = 540;
  constexpr double kLeft = 90;
  constexpr double kRight = 30;
  constexpr double kTop = 50;
  constexpr double kBottom = 60;
  constexpr std::array<std::string_view, 8> kColors = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728",
                                                       "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"};

  size_t points = 0;
  double y_max = 0;
  for (const Series& s : series) {
    points = std::max(points, s.values.size());
    for (const double v : s.values) {
      y_max = std::max(y_max, v);
    }
  }
  const double x_max = points > 1 ? static_cast<double>(points - 1) : 1.0;
  const double y_step = tick_step(y_max, 6);
  const double y_top = std::max(y_step, std::ceil(y_max / y_step) * y_step);
  const double x_step = tick_step(x_max, 8);
  const double plot_w = kWidth - kLeft - kRight;
  const double plot_h = kHeight - kTop - kBottom;
  const auto px = [&](double x) { return kLeft + x / x_max * plot_w; };
  const auto py = [&](double y) { return kTop + plot_h - y / y_top * plot_h; };

  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" "
      "viewBox=\"0 0 {0} {1}\" font-family=\"sans-serif\" font-size=\"12\">\n"
      "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      "<text x=\"{2}\" y=\"28\" text-anchor=\"middle\" font-size=\"16\">{3}</text>\n",
      kWidth, kHeight, kWidth / 2, escape(title));
  for (double y = 0; y <= y_top + y_step / 2; y += y_step) {
    svg += fmt::format(
        "<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{2:.1f}\" y2=\"{1:.1f}\" stroke=\"#e0e0e0\"/>\n"
        "<text x=\"{3:.1f}\" y=\"{4:.1f}\" text-anchor=\"end\">{5}</text>\n",
        kLeft, py(y), kLeft + plot_w, kLeft - 6, py(y) + 4, tick_label(y, y_step));
  }
  for (double x = 0; x <= x_max + x_step / 2; x += x_step) {
    svg += fmt::format(
        "<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" stroke=\"#e0e0e0\"/>\n"
        "<text x=\"{0:.1f}\" y=\"{3:.1f}\" text-anchor=\"middle\">{4}</text>\n",
        px(x), kTop, kTop + plot_h, kTop + plot_h + 18, tick_label(x, x_step));
  }
  svg += fmt::format(
      "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"black\"/>\n"
      "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n"
      "<text transform=\"translate({},{}) rotate(-90)\" text-anchor=\"middle\">{}</text>\n",
      kLeft, kTop, plot_w, plot_h, kLeft + plot_w / 2, kHeight - 18, escape(x_label), 24,
      kTop + plot_h / 2, escape(y_label));
  for (size_t i = 0; i < series.size(); ++i) {
    const Series& s = series[i];
    const std::string_view color = kColors[i % kColors.size()];
    std::string path;
    for (size_t x = 0; x < s.values.size(); ++x) {
      path += fmt::format("{}{:.1f},{:.1f}", x == 0 ? "M" : " L", px(static_cast<double>(x)),
                          py(s.values[x]));
    }
    svg += fmt::format("<path d=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"/>\n", path,
                       color);
    const double ly = kTop + 16 + 18 * static_cast<double>(i);
    svg += fmt::format(
        "<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" stroke=\"{3}\" stroke-width=\"3\"/>\n"
        "<text x=\"{4}\" y=\"{5}\">{6}</text>\n",
        kLeft + 14, ly, kLeft + 38, color, kLeft + 44, ly + 4, escape(s.name));
  }
  svg += "</svg>\n";
  return svg;
}

}  // namespace vaultaire::tiering::bench
